"""Property-based fuzzing of everything a user hands the ``c3`` command.

Malformed YAML, CSV and notebook files and arbitrary option values: each ends in success
or in a clear error (a :class:`~c3lib.exceptions.C3Error` from the library, one line and
exit code 1 or 2 from the command), never a traceback, never a lost good output.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c3lib import cli, reference
from c3lib.build import plan as plan_mod
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors, ReferenceDataError
from c3lib.params import load_catalog, read_yaml

FAST = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.dates(min_value=dt.date(1, 1, 1))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
yaml_snippets = st.sampled_from(
    [
        "date: 2015-02-30\n",
        "? [1, 2]\n: x\n",
        "a: &x [1]\nb: *x\n",
        "a: !!python/object:os.system x\n",
        "a: 1\na: 2\n",
        "- just\n- a list\n",
        "a: .nan\n",
        "a: [\n",
        "\ufeffid: x\n",
        "a: 1e999\n",
    ]
)


@pytest.fixture(scope="module")
def small_params(tmp_path_factory) -> tuple[Path, str]:
    """A params folder with one pair and what it reads (fast to load), and the pair's id."""
    cat = load_catalog()
    pair = next(iter(cat.pairs))
    root = tmp_path_factory.mktemp("fuzz") / "params"
    for name in cat.pair_files(pair):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cat.params_dir / name, root / name)
    for sub in ("cities", "pairs", "countries"):
        (root / sub).mkdir(exist_ok=True)
    return root, pair


def _clear(exc: C3Error) -> None:
    """A clear error names a file; a params error names its file and says what is wrong."""
    errors = exc.errors if isinstance(exc, ParamsErrors) else [exc]
    assert errors
    for e in errors:
        if isinstance(e, ParamsError):
            assert e.file and e.message


@FAST
@given(text=st.text(max_size=200) | yaml_snippets | st.binary(max_size=200))
def test_read_yaml_fuzz(tmp_path, text):
    path = tmp_path / "f.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    try:
        data, digest = read_yaml(path)
    except ParamsError as exc:
        _clear(exc)
    else:
        assert isinstance(data, dict) and len(digest) == 64


@FAST
@given(path=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3), value=values)
def test_load_catalog_fuzz_pair_file(small_params, path, value):
    root, pair = small_params
    pair_file = root / "pairs" / f"{pair}.yaml"
    good = pair_file.read_text(encoding="utf-8")
    data = yaml.safe_load(good)
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else node
    node[path[-1]] = value
    try:
        pair_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        load_catalog(root)
    except (ParamsError, ParamsErrors) as exc:
        _clear(exc)
    finally:
        pair_file.write_text(good, encoding="utf-8")


@FAST
@given(snippet=yaml_snippets)
def test_main_validate_fuzz(small_params, capsys, snippet):
    root, pair = small_params
    pair_file = root / "pairs" / f"{pair}.yaml"
    good = pair_file.read_text(encoding="utf-8")
    try:
        pair_file.write_text(good + snippet, encoding="utf-8")
        rc = cli.main(["validate", "--params", str(root)])
    finally:
        pair_file.write_text(good, encoding="utf-8")
    err = capsys.readouterr().err
    assert rc in (0, 2)
    assert "Traceback" not in err
    if rc:
        assert err.startswith("c3: ")


@FAST
@given(
    cell=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
    | st.sampled_from(["", "nan", "inf", "-1", "1e400", "1,5", '"x"', "\n"]),
    row=st.integers(min_value=0, max_value=2),
    column=st.integers(min_value=0, max_value=6),
)
def test_reference_table_fuzz_csv(tmp_path, monkeypatch, cell, row, column):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    lines = (reference.DATA_DIR / "qa_ranges.csv").read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("pollutant,"))
    cells = lines[first + 1 + row].split(",")
    cells[min(column, len(cells) - 1)] = cell
    lines[first + 1 + row] = ",".join(cells)
    (data / "qa_ranges.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(reference, "DATA_DIR", data)
    reference._read.cache_clear()
    try:
        df = reference.reference_table("qa_ranges")
    except ReferenceDataError as exc:
        assert "qa_ranges.csv" in str(exc)
    else:
        assert len(df) >= 1
    finally:
        reference._read.cache_clear()


notebooks = (
    st.binary(max_size=64)
    | values.map(lambda v: json.dumps(v, default=str).encode())
    | st.fixed_dictionaries({"cells": values, "metadata": values}).map(
        lambda v: json.dumps(v, default=str).encode()
    )
)


@FAST
@given(content=notebooks)
def test_plan_fuzz_notebook(small_params, tmp_path, content):
    root, pair = small_params
    cat = load_catalog(root)
    action = next(iter(cat.actions.values()))
    nbs = tmp_path / "notebooks"
    nbs.mkdir(exist_ok=True)
    (nbs / action.notebook).write_bytes(content)
    specs = plan_mod.plan(cat, tmp_path / "out", notebooks_dir=nbs)
    assert [(s.pair, s.action) for s in specs] == [(pair, action.id)]


option_values = st.text(max_size=10) | st.sampled_from(
    ["nan", "-inf", "0", "-3", "1", "8", "1e309", "tcp://h:1", "x y", "", "--force"]
)


@FAST
@given(
    option=st.sampled_from(
        ["--jobs", "--run-timeout", "--cell-timeout", "--pair", "--action", "--scheduler"]
    ),
    value=option_values,
)
def test_main_build_fuzz_options(small_params, tmp_path, monkeypatch, capsys, option, value):
    root, pair = small_params
    calls = []
    monkeypatch.setattr(
        "c3lib.build.batch.build", lambda specs, **kw: calls.append((len(specs), kw)) or []
    )
    monkeypatch.setattr("c3lib.build.site.write_index", lambda cat, out: Path(out) / "index.html")
    monkeypatch.setattr("c3lib.datasheet.write_pair_requests", lambda *a, **k: None)
    out = tmp_path / "out"
    good = out / pair / "kept.html"
    good.parent.mkdir(parents=True, exist_ok=True)
    good.write_text("<p>last good output</p>", encoding="utf-8")
    try:
        rc = cli.main(["build", "--params", str(root), "--out", str(out), f"{option}={value}"])
    except SystemExit as exc:  # argparse: usage and one error line
        rc = exc.code
    err = capsys.readouterr().err
    assert rc in (0, 1, 2)
    assert "Traceback" not in err
    assert good.read_text(encoding="utf-8") == "<p>last good output</p>"
    for targets, kw in calls:
        assert 1 <= kw["jobs"] <= targets  # never more workers than runs
