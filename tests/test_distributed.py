"""`c3 build --scheduler`: the same runs on a Dask cluster, outputs written by the client."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from c3lib.build.cluster import produce_shipped
from c3lib.build.plan import code_hash, params_files, plan
from c3lib.build.store import target_paths
from c3lib.cli import main
from c3lib.params import load_catalog
from tests.conftest import make_notebook

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow
ACTION = "emissions-inventory"
NB_NAME = "emissions_inventory.ipynb"


@pytest.fixture(scope="module")
def cluster():
    """One worker with two threads, in this process, on loopback TCP."""
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as c:
        yield c


def build_args(params_dir, out, address, pairs):
    args = ["build", "--params", str(params_dir), "--out", str(out), "--action", ACTION]
    for p in pairs:
        args += ["--pair", p]
    return [*args, "--scheduler", address]


def spec_for(params_dir, nbs, out):
    (spec,) = plan(load_catalog(params_dir), out, ["pasig-taipei"], [ACTION], notebooks_dir=nbs)
    return spec


def test_main_build_on_local_cluster(cluster, tmp_path, params_dir, monkeypatch, capsys):
    nbs = tmp_path / "notebooks"
    make_notebook(
        nbs / NB_NAME,
        "if pair == 'bangkok-san-diego':\n    raise RuntimeError('only this pair')",
    )
    monkeypatch.setenv("C3_NOTEBOOKS", str(nbs))
    out = tmp_path / "out"
    pairs = ["pasig-taipei", "bangkok-san-diego"]
    args = build_args(params_dir, out, cluster.scheduler_address, pairs)
    assert main(args) == 1  # one run fails, the other completes
    assert f"on {cluster.scheduler_address}" in capsys.readouterr().out
    ok = target_paths(out, "pasig-taipei", ACTION)
    record = json.loads(ok["json"].read_text(encoding="utf-8"))
    assert record["pair"] == "pasig-taipei" and ok["html"].exists() and ok["ipynb"].exists()
    bad = target_paths(out, "bangkok-san-diego", ACTION)
    assert "only this pair" in json.loads(bad["error"].read_text(encoding="utf-8"))["error"]
    assert bad["failed"].exists() and not bad["json"].exists()
    assert not list(out.rglob(".*tmp*"))
    # a second build finds the good run up to date and sends only the failed one again
    assert main(args) == 1
    assert "1 up to date" in capsys.readouterr().out


def test_produce_shipped_without_the_client_files(tmp_path, params_dir):
    """A worker needs only what the spec ships: the client's params and notebooks may be gone."""
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / NB_NAME, "import os\nprint(os.getcwd())")
    spec = spec_for(params_dir, nbs, tmp_path / "out")
    files = params_files(spec)
    assert sorted(files) == sorted(load_catalog(params_dir).pair_files("pasig-taipei"))
    assert {"actions.yaml", "pairs/pasig-taipei.yaml", "cities/pasig.yaml"} <= set(files)
    notebook = Path(spec.notebook).read_text(encoding="utf-8")
    shutil.rmtree(params_dir)
    shutil.rmtree(nbs)
    artifacts = produce_shipped(spec, notebook, files, code_hash())
    assert artifacts.result.status == "ok", artifacts.result.error
    record = json.loads(artifacts.files["json"])
    assert record["pair"] == "pasig-taipei"
    assert record["provenance"]["cache_key"] == spec.cache_key
    nb = nbformat.reads(artifacts.files["ipynb"], as_version=4)
    ran_in = nb.cells[-2].outputs[0].text
    assert "c3-run-" in ran_in and str(nbs) not in ran_in  # a private working folder
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata["tags"]][0]
    assert f'params_dir = "{params_dir}"' in injected.source  # shown as on the client
    assert not (tmp_path / "out").exists()  # a worker writes no output


def test_produce_shipped_rejects_another_c3lib(tmp_path, params_dir):
    make_notebook(tmp_path / "nbs" / NB_NAME, "x = 1")
    spec = spec_for(params_dir, tmp_path / "nbs", tmp_path / "out")
    artifacts = produce_shipped(spec, "{}", params_files(spec), "0" * 64)
    assert artifacts.result.status == "failed"
    assert "differs from the client's" in artifacts.result.error
    assert set(artifacts.files) == {"error"}


def test_produce_shipped_keeps_files_inside_its_folder(tmp_path, params_dir):
    make_notebook(tmp_path / "nbs" / NB_NAME, "x = 1")
    spec = spec_for(params_dir, tmp_path / "nbs", tmp_path / "out")
    files = {**params_files(spec), "../../escape.yaml": "x: 1"}
    artifacts = produce_shipped(spec, "{}", files, code_hash())
    assert artifacts.result.status == "failed"
    assert "leaves the params folder" in artifacts.result.error


def test_main_build_unreachable_scheduler(tmp_path, params_dir, monkeypatch, capsys):
    make_notebook(tmp_path / "nbs" / NB_NAME, "x = 1")
    monkeypatch.setenv("C3_NOTEBOOKS", str(tmp_path / "nbs"))
    args = build_args(params_dir, tmp_path / "o", "tcp://127.0.0.1:9", ["pasig-taipei"])
    assert main(args) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
