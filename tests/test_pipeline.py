"""The pipeline on tiny workbooks: outputs, failure isolation, caching, timeouts, injection."""

from __future__ import annotations

import json

import nbformat
import pytest

from c3lib.build.batch import build, run
from c3lib.build.plan import plan
from c3lib.build.site import write_index
from c3lib.build.store import read_status, target_paths
from c3lib.cli import main
from c3lib.exceptions import C3Error
from c3lib.params import load_catalog
from tests.conftest import edit_yaml, make_notebook

pytestmark = pytest.mark.slow
ACTION = "emissions-inventory"
NB_NAME = "emissions_inventory.ipynb"


@pytest.fixture
def workspace(tmp_path, params_dir):
    """Params copy, an output folder and a notebooks folder holding one passing workbook."""
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / NB_NAME, "x = 1")
    return {"params": params_dir, "out": tmp_path / "out", "nbs": nbs}


def specs_for(ws, pairs=("pasig-taipei",), **kw):
    cat = load_catalog(ws["params"])
    return plan(cat, ws["out"], pairs=list(pairs), actions=[ACTION], notebooks_dir=ws["nbs"], **kw)


def test_run_writes_ipynb_html_json(workspace):
    (spec,) = specs_for(workspace)
    result = run(spec)
    assert result.status == "ok", result.error
    paths = target_paths(workspace["out"], "pasig-taipei", ACTION)
    assert nbformat.read(paths["ipynb"], as_version=4).cells[-1].outputs
    record = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert {"pair", "action", "metrics", "assumptions", "sources", "provenance"} <= set(record)
    assert record["pair"] == "pasig-taipei" and record["action"] == ACTION
    assert record["metrics"] == [
        {"city": "pasig", "metric": "answer", "value": 42.0, "unit": "t/yr", "pollutant": "PM2.5"}
    ]
    assert {"c3lib_version", "git_commit", "params_hash", "built_at"} <= set(record["provenance"])
    assert any(a["input"] == "roles" for a in record["assumptions"])  # roles are assumed
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script src=" not in html and "cdn" not in html.lower()
    assert record["provenance"]["params_hash"][:12] in html
    assert not list(workspace["out"].rglob(".*tmp*"))


def test_build_second_run_is_cached(workspace):
    assert [r.status for r in build(specs_for(workspace))] == ["ok"]
    assert [r.status for r in build(specs_for(workspace))] == ["cached"]
    assert [r.status for r in build(specs_for(workspace, force=True))] == ["ok"]


def test_build_params_change_invalidates_cache(workspace):
    build(specs_for(workspace))
    edit_yaml(
        workspace["params"] / "cities/pasig.yaml",
        lambda d: d["profile"]["population"].update(value=803160),
    )
    assert [r.status for r in build(specs_for(workspace))] == ["ok"]


def test_run_failure_keeps_last_good_outputs(workspace):
    (spec,) = specs_for(workspace)
    assert run(spec).status == "ok"
    paths = target_paths(workspace["out"], "pasig-taipei", ACTION)
    good_html, good_json = paths["html"].read_bytes(), paths["json"].read_bytes()

    make_notebook(workspace["nbs"] / NB_NAME, "x = 1", "raise ValueError('boom in a cell')")
    (spec,) = specs_for(workspace)
    result = run(spec)
    assert result.status == "failed"
    assert "ValueError: boom in a cell" in result.error
    assert paths["html"].read_bytes() == good_html
    assert paths["json"].read_bytes() == good_json
    failed = nbformat.read(paths["failed"], as_version=4)
    errors = [o for c in failed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors[0].ename == "ValueError"
    # the failing cell as the failed notebook shows it: its position and its In [N]
    assert result.failed_notebook == str(paths["failed"].resolve())
    shown = failed.cells[result.failed_cell - 1]
    assert "boom in a cell" in shown.source
    assert [o.ename for o in shown.outputs if o.output_type == "error"] == ["ValueError"]
    assert result.execution_count == shown.execution_count is not None
    record = json.loads(paths["error"].read_text(encoding="utf-8"))
    assert record["failed_cell"] == result.failed_cell
    assert record["execution_count"] == shown.execution_count
    state = read_status(workspace["out"], "pasig-taipei", ACTION)
    assert state["status"] == "failed" and state["record"] is not None
    index = write_index(load_catalog(workspace["params"]), workspace["out"]).read_text()
    assert "boom in a cell" in index and "last good build" in index

    make_notebook(workspace["nbs"] / NB_NAME, "x = 2")
    (spec,) = specs_for(workspace)
    assert run(spec).status == "ok"
    assert not paths["error"].exists() and not paths["failed"].exists()


def test_build_one_failure_does_not_stop_batch(workspace, capsys):
    make_notebook(
        workspace["nbs"] / NB_NAME,
        "if pair == 'bangkok-san-diego':\n    raise RuntimeError('only this pair')",
    )
    results = build(specs_for(workspace, pairs=["bangkok-san-diego", "pasig-taipei"]), jobs=2)
    status = {r.pair: r.status for r in results}
    assert status == {"bangkok-san-diego": "failed", "pasig-taipei": "ok"}


def test_run_cell_timeout(workspace):
    make_notebook(workspace["nbs"] / NB_NAME, "import time\ntime.sleep(60)")
    (spec,) = specs_for(workspace, cell_timeout=3)
    result = run(spec)
    assert result.status == "failed"
    assert "timeout" in result.error.lower()
    assert result.seconds < 40


def test_run_dead_kernel(workspace):
    make_notebook(workspace["nbs"] / NB_NAME, "import os\nos._exit(1)")
    (spec,) = specs_for(workspace)
    result = run(spec)
    assert result.status == "failed"
    assert "DeadKernel" in result.error or "died" in result.error.lower()


def test_run_string_parameter_injected_as_data(workspace):
    nasty = 'a"b\'c\\d\nimport os; os._exit(3)\n"""é'
    make_notebook(workspace["nbs"] / NB_NAME, "label: str = ''\nprint(repr(label))")
    nb = nbformat.read(workspace["nbs"] / NB_NAME, as_version=4)
    nb.cells[1].source += '\nlabel: str = ""  # a free-text label'
    nb.cells[2].source = "print(repr(label))"
    nbformat.write(nb, workspace["nbs"] / NB_NAME)
    edit_yaml(
        workspace["params"] / "pairs/pasig-taipei.yaml",
        lambda d: d.update(parameters={ACTION: {"label": nasty}}),
    )
    (spec,) = specs_for(workspace)
    result = run(spec)
    assert result.status == "ok", result.error
    out = nbformat.read(target_paths(workspace["out"], "pasig-taipei", ACTION)["ipynb"], 4)
    printed = [c for c in out.cells if c.source == "print(repr(label))"][0].outputs[0].text
    assert printed.strip() == repr(nasty)


def test_plan_rejects_unknown_notebook_parameter(workspace):
    edit_yaml(
        workspace["params"] / "pairs/pasig-taipei.yaml",
        lambda d: d.update(parameters={ACTION: {"n_drawz": 10}}),
    )
    with pytest.raises(
        Exception,
        match=r"pasig-taipei.yaml: parameters.emissions-inventory."
        r"n_drawz: the emissions-inventory notebook has no",
    ):
        specs_for(workspace)


def test_plan_unknown_pair(workspace):
    with pytest.raises(C3Error, match="unknown pair 'nowhere'"):
        specs_for(workspace, pairs=["nowhere"])


def test_target_paths_stay_inside_output(tmp_path):
    with pytest.raises(C3Error, match="leaves the output folder"):
        target_paths(tmp_path, "..", ACTION)


def test_main_build_exit_code_on_failure(workspace, monkeypatch, capsys):
    make_notebook(workspace["nbs"] / NB_NAME, "raise KeyError('x')")
    monkeypatch.setattr("c3lib.build.plan.NOTEBOOKS_DIR", workspace["nbs"])
    code = main(
        [
            "build",
            "--params",
            str(workspace["params"]),
            "--out",
            str(workspace["out"]),
            "--pair",
            "pasig-taipei",
            "--action",
            ACTION,
            "--jobs",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "failed pasig-taipei/emissions-inventory" in out
    assert (workspace["out"] / "index.html").exists()


def test_build_real_pair(tmp_path):
    """Every real workbook for one pair: .ipynb, .html and .json, and the index."""
    from tests.conftest import NOTEBOOKS, PARAMS

    cat = load_catalog(PARAMS)
    specs = plan(cat, tmp_path, pairs=["haiphong-kitakyushu"], notebooks_dir=NOTEBOOKS)
    assert specs, "no workbook in notebooks/"
    results = build(specs, jobs=2)
    assert [r.error for r in results if r.status != "ok"] == []
    for spec in specs:
        paths = target_paths(tmp_path, spec.pair, spec.action)
        nb = nbformat.read(paths["ipynb"], as_version=4)
        assert all(o.output_type != "error" for c in nb.cells for o in c.get("outputs", []))
        record = json.loads(paths["json"].read_text(encoding="utf-8"))
        assert record["pair"] == "haiphong-kitakyushu" and record["action"] == spec.action
        assert record["metrics"] and record["sources"]
        for m in record["metrics"]:
            assert {"city", "metric", "value", "unit"} <= set(m)
        html = paths["html"].read_text(encoding="utf-8")
        assert "Kitakyushu" in html and "http://" not in html.split("<body")[0]
    index = write_index(cat, tmp_path).read_text(encoding="utf-8")
    assert index.count('href="haiphong-kitakyushu/') >= len(specs)


def test_run_whole_run_timeout(workspace):
    # three cells of 2 s each against a 3 s budget for the whole run
    make_notebook(workspace["nbs"] / NB_NAME, *["import time\ntime.sleep(2)"] * 3)
    (spec,) = specs_for(workspace, cell_timeout=100, run_timeout=3)
    result = run(spec)
    assert result.status == "failed" and "timeout" in result.error.lower()


def test_run_kernel_listens_on_ipc_only(workspace):
    make_notebook(
        workspace["nbs"] / NB_NAME,
        "from ipykernel.connect import get_connection_info\n"
        "print(get_connection_info(unpack=True)['transport'])",
    )
    (spec,) = specs_for(workspace)
    assert run(spec).status == "ok"
    nb = nbformat.read(target_paths(workspace["out"], "pasig-taipei", ACTION)["ipynb"], 4)
    printed = [o.text for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout"]
    assert printed == ["ipc\n"]


def test_run_retries_failed_kernel_start(workspace, monkeypatch):
    import c3lib.build.run as running

    real = running._execute
    calls = []

    def flaky(spec, output_path):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(spec, output_path)

    monkeypatch.setattr(running, "_execute", flaky)
    (spec,) = specs_for(workspace)
    assert run(spec).status == "ok"
    assert len(calls) == 2


def test_main_build_failure_names_params_cell_and_notebook_once(
    workspace, monkeypatch, capsys, caplog
):
    """A ParamsError raised in a notebook: the user's params file and field, the failing
    cell as the failed notebook numbers it, and that notebook's path, printed once."""
    cat = load_catalog(workspace["params"])
    pair = sorted(cat.pairs)[0]
    city = cat.pairs[pair].learning
    make_notebook(
        workspace["nbs"] / NB_NAME,
        "x = 1",
        "from pathlib import Path\n"
        "from c3lib.exceptions import ParamsError\n"
        f"raise ParamsError(str(Path(params_dir) / 'cities' / '{city}.yaml'), "
        "'profile.grid_ef', 'missing: a number is needed [kg CO2/kWh]')",
    )
    monkeypatch.setattr("c3lib.build.plan.NOTEBOOKS_DIR", workspace["nbs"])
    argv = ["build", "--params", str(workspace["params"]), "--out", str(workspace["out"])]
    code = main([*argv, "--pair", pair, "--action", ACTION, "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == 1
    user_file = str(workspace["params"] / "cities" / f"{city}.yaml")
    paths = target_paths(workspace["out"], pair, ACTION)
    failed = nbformat.read(paths["failed"], as_version=4)
    position, cell = next(
        (i, c)
        for i, c in enumerate(failed.cells, 1)
        if any(o.output_type == "error" for o in c.get("outputs", []))
    )
    out = captured.out
    assert f"from params: {user_file}, field profile.grid_ef" in out
    assert f"cell {position} (In [{cell.execution_count}]) of {paths['failed'].resolve()}" in out
    assert "c3-run-" not in out  # the private copy is never what the user is shown
    text = out + captured.err + caplog.text
    assert text.count("missing: a number is needed") == 1
    record = json.loads(paths["error"].read_text(encoding="utf-8"))
    assert record["params_file"] == user_file and record["params_field"] == "profile.grid_ef"


def test_build_notebook_cannot_overwrite_other_outputs(workspace):
    """A notebook writing by relative names (into outputs/, beside the sources) or by
    absolute path (over another target's good HTML and JSON, the index, the notebooks
    folder, its own outputs; itself or through a shell) changes no target's files: its
    kernel works in a private folder and may write nowhere else (Landlock), and only the
    build writes outputs, from the artifacts a run returns."""
    from c3lib.build.confine import landlock_abi
    from c3lib.build.store import Artifacts, RunResult, commit

    cat = load_catalog(workspace["params"])
    good, bad = sorted(cat.pairs)[:2]
    (good_spec,) = specs_for(workspace, pairs=[good])
    record = {"pair": good, "action": ACTION, "provenance": {"cache_key": good_spec.cache_key}}
    files = {"ipynb": nbformat.writes(nbformat.v4.new_notebook()), "json": json.dumps(record)}
    files["html"] = "<!DOCTYPE html><title>good</title>"
    assert commit(good_spec, Artifacts(RunResult(good, ACTION, "ok"), files)).status == "ok"
    victim = target_paths(workspace["out"], good, ACTION)
    before = {k: victim[k].read_bytes() for k in ("ipynb", "html", "json")}
    out_rel = workspace["out"].name  # the outputs folder, seen from the notebooks folder
    absolute = [str(victim[k].resolve()) for k in ("html", "json", "ipynb")] + [
        str((workspace["nbs"] / "planted.py").resolve()),
        str((workspace["out"] / "index.html").resolve()),
        str(target_paths(workspace["out"], bad, ACTION)["html"].resolve()),
    ]
    make_notebook(
        workspace["nbs"] / NB_NAME,
        "import subprocess, tempfile\n"
        "from pathlib import Path\n"
        f"for folder in ['{out_rel}/{good}', '../{out_rel}/{good}', '{good}']:\n"
        "    try:  # '..' is the run folder, which a confined kernel cannot write\n"
        "        Path(folder).mkdir(parents=True, exist_ok=True)\n"
        "    except PermissionError:\n"
        "        continue\n"
        "    for ext in ['html', 'json', 'ipynb']:\n"
        f"        (Path(folder) / ('{ACTION}.' + ext)).write_text('hijacked')\n"
        "Path('left-beside-the-sources.txt').write_text('x')\n"
        "with tempfile.NamedTemporaryFile() as fh:  # temporary files still work\n"
        "    fh.write(b'x')\n"
        "denied = []\n"
        f"for path in {absolute!r}:\n"
        "    try:\n"
        "        Path(path).write_text('hijacked')\n"
        "    except OSError:  # PermissionError, or no such folder (it may not be made)\n"
        "        denied.append(path)\n"
        "    for cmd in (['rm', '-f', path], ['sh', '-c', 'echo hijacked > ' + path]):\n"
        "        subprocess.run(cmd, stderr=subprocess.DEVNULL)\n"
        "print(len(denied))",
    )
    (result,) = build(specs_for(workspace, pairs=[bad]))
    assert result.status == "ok", result.error
    if landlock_abi() < 1:
        pytest.skip("no Landlock here: relative writes checked; absolute ones are not confined")
    assert {k: victim[k].read_bytes() for k in ("ipynb", "html", "json")} == before
    assert read_status(workspace["out"], good, ACTION)["status"] == "ok"
    assert sorted(p.name for p in workspace["nbs"].iterdir()) == [NB_NAME]
    assert not (workspace["out"] / out_rel).exists()
    assert not (workspace["out"] / good / good).exists()
    assert not (workspace["out"] / "index.html").exists()
    own = target_paths(workspace["out"], bad, ACTION)
    assert own["html"].read_bytes().startswith(b"<!DOCTYPE html")
    outputs = [o for c in nbformat.read(own["ipynb"], 4).cells for o in c.get("outputs", [])]
    printed = [o.text for o in outputs if o.get("name") == "stdout"]
    assert printed == [f"{len(absolute)}\n"]
