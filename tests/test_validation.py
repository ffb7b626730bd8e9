"""One validation for everything a run reads, and one clear line for every bad input.

Covers :func:`c3lib.params.read_yaml` (files that are not regular files, bounded reads,
values that parse but do not exist, aliases), the parameter ranges and field rules
(:func:`c3lib.params.load_catalog`, :func:`c3lib.build.plan.plan`), the type checks of
reference tables, and the checks ``c3 build`` makes before anything runs.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import edit_yaml, make_notebook

from c3lib import cli, reference
from c3lib.build import plan as plan_mod
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors, ReferenceDataError
from c3lib.params import load_catalog, read_bounded, read_yaml


def _fields(exc: ParamsErrors) -> dict[str, str]:
    return {e.field: e.file for e in exc.errors}


def _a_pair(params_dir: Path) -> str:
    return next(iter(load_catalog(params_dir).pairs))


# --- files ------------------------------------------------------------------------------
def test_read_yaml_fifo_is_an_error(tmp_path):
    fifo = tmp_path / "pair.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ParamsError, match="not a regular file"):
        read_yaml(fifo)


def test_read_yaml_folder_is_an_error(tmp_path):
    (tmp_path / "pair.yaml").mkdir()
    with pytest.raises(ParamsError, match="is a folder"):
        read_yaml(tmp_path / "pair.yaml")


def test_read_yaml_device_is_an_error():
    with pytest.raises(ParamsError, match="not a regular file"):
        read_yaml(Path("/dev/zero"))


def test_read_bounded_reads_past_the_limit_only_by_one(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" * 100)
    assert read_bounded(path, "big.yaml", limit=500) == b"a: 1\n" * 100
    with pytest.raises(ParamsError, match="the limit is 499"):
        read_bounded(path, "big.yaml", limit=499)


def test_read_yaml_impossible_date_names_field(tmp_path):
    path = tmp_path / "pair.yaml"
    path.write_text("progress:\n  a:\n    b:\n      date: 2015-02-30\n", encoding="utf-8")
    with pytest.raises(ParamsError) as err:
        read_yaml(path)
    assert err.value.field == "progress.a.b.date"
    assert "out of range" in err.value.message


def test_read_yaml_unhashable_key(tmp_path):
    path = tmp_path / "pair.yaml"
    path.write_text("? [1, 2]\n: x\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="key must be a plain value"):
        read_yaml(path)


def test_read_yaml_alias_bomb_rejected(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    path = tmp_path / "pair.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="anchor or alias"):
        read_yaml(path)


def test_load_catalog_folder_as_pair_file(params_dir):
    (params_dir / "pairs" / "ghost-pair.yaml").mkdir()
    with pytest.raises(ParamsErrors) as err:
        load_catalog(params_dir)
    assert any(
        e.file.endswith("ghost-pair.yaml") and "folder" in e.message for e in err.value.errors
    )


def test_load_catalog_progress_date_out_of_range(params_dir):
    cat = load_catalog(params_dir)
    pair = next(iter(cat.pairs))
    action = next(iter(cat.actions))
    step = cat.actions[action].steps[0].id
    record = {"status": "done", "date": dt.date(1815, 6, 18)}
    edit_yaml(
        params_dir / "pairs" / f"{pair}.yaml",
        lambda d: d.setdefault("progress", {}).setdefault(action, {}).update({step: record}),
    )
    with pytest.raises(ParamsErrors) as err:
        load_catalog(params_dir)
    assert f"progress.{action}.{step}.date" in _fields(err.value)


# --- parameter ranges -------------------------------------------------------------------
BAD_OVERRIDES = [
    ("bike-sharing", "stations_per_km2", float("nan"), "finite"),
    ("bike-sharing", "docks_per_bike", float("inf"), "finite"),
    ("bike-sharing", "trips_per_bike_day", -4.0, "too small"),
    ("port-operations", "vsr_compliance", 1.5, "implausible"),
    ("low-emission-development", "base_year", 3025, "implausible"),
    ("commercial-cooking", "underfired_control", "magic", "expected one of"),
    ("emissions-inventory", "n_draws", [1, 2], "expected a number or text"),
]


def test_load_catalog_override_out_of_range(params_dir):
    pair = _a_pair(params_dir)
    path = params_dir / "pairs" / f"{pair}.yaml"
    overrides: dict = {}
    for action, name, value, _ in BAD_OVERRIDES:
        overrides.setdefault(action, {})[name] = value
    edit_yaml(path, lambda d: d.setdefault("parameters", {}).update(overrides))
    with pytest.raises(ParamsErrors) as err:
        load_catalog(params_dir)
    for action, name, _, expected in BAD_OVERRIDES:
        (e,) = [e for e in err.value.errors if e.field == f"parameters.{action}.{name}"]
        assert e.file.endswith(f"{pair}.yaml")
        assert expected in e.message


def test_parameter_ranges_cover_every_overridable_parameter():
    import papermill

    ranges = reference.parameter_ranges()
    cat = load_catalog()
    for aid, action in cat.actions.items():
        nb = plan_mod.NOTEBOOKS_DIR / action.notebook
        if not nb.is_file():
            continue
        for name in papermill.inspect_notebook(str(nb)):
            if name not in ("pair", "params_dir"):
                assert (aid, name) in ranges.index, (aid, name)


# --- field rules over inputs ------------------------------------------------------------
def _a_city(params_dir: Path) -> str:
    return next(iter(load_catalog(params_dir).cities))


SHARES_OVER_ONE = [
    ("bike-sharing", {f"substitution_{m}": 0.3 for m in ("car", "taxi", "bus")}, "substitution"),
    ("port-operations", {"tier2_share": 0.7, "tier3_share": 0.5}, "engine tier"),
    ("port-operations", {"teu_share_feeder": 0.8, "teu_share_mainline": 0.8}, "TEU"),
    ("low-emission-development", {"share_car": 0.7, "share_walk": 0.6}, "mode shares"),
    ("emissions-inventory", {"pm25_share_vehicles": 0.6, "pm25_share_industry": 0.6}, "PM2.5"),
]


def test_load_catalog_shares_over_one(params_dir):
    load_catalog(params_dir)  # valid before
    cid = _a_city(params_dir)

    def add(d):
        for section, values, _ in SHARES_OVER_ONE:
            units = reference.field_table(section)["unit"]
            q = {
                n: {"value": v, "unit": units[n], "source": "test", "quality": "assumed"}
                for n, v in values.items()
            }
            d.setdefault("activity", {}).setdefault(section, {}).update(q)

    edit_yaml(params_dir / "cities" / f"{cid}.yaml", add)
    with pytest.raises(ParamsErrors) as err:
        load_catalog(params_dir)
    for section, _, rule in SHARES_OVER_ONE:
        (e,) = [e for e in err.value.errors if e.message.startswith(rule)]
        assert e.file.endswith(f"{cid}.yaml")
        assert e.field.startswith(f"activity.{section}.")
        assert "expected at most 1" in e.message


def test_load_catalog_mode_shares_with_defaults_pass(params_dir):
    # the workbook rescales defaulted mode shares: only the city's own must fit in 1
    cid = _a_city(params_dir)
    q = {"value": 0.9, "unit": "fraction", "source": "test", "quality": "assumed"}

    def only_car(d):
        own = d.setdefault("activity", {}).setdefault("low-emission-development", {})
        for k in [k for k in own if k.startswith("share_")]:
            del own[k]
        own["share_car"] = q

    edit_yaml(params_dir / "cities" / f"{cid}.yaml", only_car)
    load_catalog(params_dir)


# --- field rules over parameters, and planning ------------------------------------------
def test_plan_years_out_of_order(params_dir, tmp_path):
    pair = _a_pair(params_dir)
    path = params_dir / "pairs" / f"{pair}.yaml"
    action = "low-emission-development"
    edit_yaml(path, lambda d: d.setdefault("parameters", {}).update({action: {"base_year": 2040}}))
    cat = load_catalog(params_dir)
    with pytest.raises(ParamsErrors) as err:
        plan_mod.plan(cat, tmp_path / "out", [pair], [action])
    (e,) = err.value.errors
    assert (e.field, Path(e.file).name) == (f"parameters.{action}.base_year", f"{pair}.yaml")
    assert "scenario years" in e.message
    assert [f.field for f in plan_mod.check_parameters(cat)] == [e.field]


def test_check_parameters_unknown_name(params_dir):
    pair = _a_pair(params_dir)
    path = params_dir / "pairs" / f"{pair}.yaml"
    edit_yaml(path, lambda d: d.setdefault("parameters", {}).update({"bike-sharing": {"nope": 1}}))
    (e,) = plan_mod.check_parameters(load_catalog(params_dir))
    assert e.field == "parameters.bike-sharing.nope"
    assert "no such parameter" in e.message


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), 0, -5])
def test_plan_bad_timeout(tmp_path, seconds):
    with pytest.raises(C3Error, match="finite number of seconds"):
        plan_mod.plan(load_catalog(), tmp_path, run_timeout=seconds)


def test_plan_repeated_pair_collapses(params_dir, tmp_path):
    cat = load_catalog(params_dir)
    pair = next(iter(cat.pairs))
    action = next(iter(cat.actions))
    specs = plan_mod.plan(cat, tmp_path, [pair, pair], [action, action])
    assert [(s.pair, s.action) for s in specs] == [(pair, action)]


@pytest.mark.parametrize("content", [b"", b'{"cells": [{"source": 3}]}'])
def test_plan_broken_notebook_fails_only_its_targets(params_dir, tmp_path, content):
    cat = load_catalog(params_dir)
    first, second = list(cat.actions.values())[:2]
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / first.notebook).write_bytes(content)
    make_notebook(nbs / second.notebook)
    specs = plan_mod.plan(cat, tmp_path / "out", notebooks_dir=nbs)
    assert {s.action for s in specs} == {first.id, second.id}
    assert len({s.cache_key for s in specs}) == len(specs) == 2 * len(cat.pairs)


# --- reference tables -------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["abc", "inf", "1,5"])
def test_reference_table_non_numeric_value(tmp_path, monkeypatch, bad):
    data = tmp_path / "data"
    shutil.copytree(reference.DATA_DIR, data)
    path = data / "qa_ranges.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("pollutant,"))
    cells = lines[header + 1].split(",")
    cells[1] = f'"{bad}"'
    lines[header + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(reference, "DATA_DIR", data)
    with pytest.raises(ReferenceDataError, match="column 'low'.*not finite numbers"):
        reference.reference_table("qa_ranges")
    assert any("qa_ranges.csv" in p for p in reference.check_reference())


def test_reference_table_unreadable(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(reference.DATA_DIR, data)
    (data / "qa_ranges.csv").write_bytes(b"\xff\xfe\x00garbage")
    monkeypatch.setattr(reference, "DATA_DIR", data)
    with pytest.raises(ReferenceDataError, match="qa_ranges.csv"):
        reference.reference_table("qa_ranges")


def test_check_reference_shipped_tables_pass():
    assert reference.check_reference() == []


# --- the command ------------------------------------------------------------------------
def _no_runs(monkeypatch) -> list:
    """Replace the batch, index and data requests: record what would run, run nothing."""
    calls = []

    def build(specs, jobs=1, on_result=None, scheduler=None):
        calls.append((list(specs), jobs))
        return []

    monkeypatch.setattr("c3lib.build.batch.build", build)
    monkeypatch.setattr("c3lib.build.site.write_index", lambda cat, out: Path(out) / "index.html")
    monkeypatch.setattr("c3lib.datasheet.write_pair_requests", lambda *a, **k: None)
    return calls


@pytest.mark.parametrize(
    "option",
    [
        ["--run-timeout", "nan"],
        ["--run-timeout", "-1"],
        ["--cell-timeout", "inf"],
        ["--cell-timeout", "0"],
        ["--jobs", "-3"],
        ["--jobs", "0"],
        ["--jobs", "two"],
    ],
)
def test_main_bad_number(option, tmp_path, monkeypatch, capsys):
    calls = _no_runs(monkeypatch)  # were the value accepted, nothing would run
    with pytest.raises(SystemExit) as exit_:
        cli.main(["build", "--out", str(tmp_path / "out"), *option])
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err
    assert calls == []


def test_main_jobs_capped_and_repeats_collapse(params_dir, tmp_path, monkeypatch):
    calls = _no_runs(monkeypatch)
    cat = load_catalog(params_dir)
    pair, action = next(iter(cat.pairs)), next(iter(cat.actions))
    args = ["build", "--params", str(params_dir), "--out", str(tmp_path / "out"), "--jobs", "8"]
    rc = cli.main(args + ["--pair", pair, "--pair", pair, "--action", action, "--action", action])
    assert rc == 0
    ((specs, jobs),) = calls
    assert [(s.pair, s.action) for s in specs] == [(pair, action)]
    assert jobs == 1


def test_main_out_is_a_file(params_dir, tmp_path, monkeypatch, capsys):
    calls = _no_runs(monkeypatch)
    out = tmp_path / "out"
    out.write_text("not a folder", encoding="utf-8")
    assert cli.main(["build", "--params", str(params_dir), "--out", str(out)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert calls == []
    assert out.read_text(encoding="utf-8") == "not a folder"


def test_main_out_cannot_be_made(params_dir, tmp_path, monkeypatch, capsys):
    calls = _no_runs(monkeypatch)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert (
        cli.main(["build", "--params", str(params_dir), "--out", str(tmp_path / "file" / "o")]) == 2
    )
    assert "cannot write in it" in capsys.readouterr().err
    assert calls == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_main_out_read_only(params_dir, tmp_path, monkeypatch, capsys):
    calls = _no_runs(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert cli.main(["build", "--params", str(params_dir), "--out", str(out)]) == 2
    finally:
        out.chmod(0o700)
    assert "cannot write in it" in capsys.readouterr().err
    assert calls == []


def test_main_bad_scheduler(params_dir, tmp_path, monkeypatch, capsys):
    calls = _no_runs(monkeypatch)
    args = ["build", "--params", str(params_dir), "--out", str(tmp_path / "o")]
    assert cli.main(args + ["--scheduler", "http://x y"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    assert calls == []


def test_main_long_tmpdir(params_dir, tmp_path, monkeypatch, capsys):
    calls = _no_runs(monkeypatch)
    long = tmp_path / ("t" * 100)
    long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    assert cli.main(["build", "--params", str(params_dir), "--out", str(tmp_path / "o")]) == 2
    assert "TMPDIR" in capsys.readouterr().err
    assert calls == []


@pytest.mark.parametrize("record", ["[]", '{"provenance": "a string"}'])
def test_main_record_not_a_record(params_dir, tmp_path, monkeypatch, capsys, record):
    calls = _no_runs(monkeypatch)
    cat = load_catalog(params_dir)
    pair, action = next(iter(cat.pairs)), next(iter(cat.actions))
    out = tmp_path / "out"
    (out / pair).mkdir(parents=True)
    (out / pair / f"{action}.json").write_text(record, encoding="utf-8")
    assert cli.main(["build", "--params", str(params_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"{action}.json: not a run record" in err[0]
    assert calls == []


def test_main_validate_reports_parameter_rules(params_dir, capsys):
    pair = _a_pair(params_dir)
    path = params_dir / "pairs" / f"{pair}.yaml"
    params = {"base_year": 2030, "target_year": 2030}
    edit_yaml(
        path, lambda d: d.setdefault("parameters", {}).update({"low-emission-development": params})
    )
    assert cli.main(["validate", "--params", str(params_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{pair}.yaml: parameters.low-emission-development.base_year: scenario years" in err


def test_main_unexpected_error_is_one_line(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setitem(cli.COMMANDS, "validate", broken)
    monkeypatch.delenv("C3_DEBUG", raising=False)
    assert cli.main(["validate"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "c3: unexpected error: RuntimeError: something broke (C3_DEBUG=1 shows the traceback)"
    ]


def test_main_disk_fault_is_one_line(monkeypatch, capsys):
    def full(args):
        raise OSError(28, "No space left on device", "outputs/index.html")

    monkeypatch.setitem(cli.COMMANDS, "validate", full)
    assert cli.main(["validate"]) == 1
    assert (
        capsys.readouterr().err.strip() == "c3: error: outputs/index.html: No space left on device"
    )


def test_field_rules_hold_for_global_defaults():
    # a city that gives none of a rule's fields runs on the defaults, checked here once
    for _, rule in reference.field_rules().iterrows():
        if rule["applies_to"] != "inputs" or rule["over"] != "resolved":
            continue
        defaults = reference.field_table(rule["section"]).loc[list(rule["fields"]), "default"]
        assert defaults.fillna(0).sum() <= rule["limit"], rule["rule"]
