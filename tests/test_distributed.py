"""`c3 build --scheduler`: the same runs on a Dask LocalCluster, outputs written by the client."""

from __future__ import annotations

import json

import pytest

from c3lib.cli import main
from c3lib.pipeline import target_paths
from tests.conftest import make_notebook

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow
ACTION = "emissions-inventory"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c


def test_main_build_on_local_cluster(cluster, tmp_path, params_dir, monkeypatch, capsys):
    nbs = tmp_path / "notebooks"
    make_notebook(
        nbs / "emissions_inventory.ipynb",
        "if pair == 'bangkok-san-diego':\n    raise RuntimeError('only this pair')",
    )
    monkeypatch.setenv("C3_NOTEBOOKS", str(nbs))
    out = tmp_path / "out"
    args = [
        "build",
        "--params",
        str(params_dir),
        "--out",
        str(out),
        "--action",
        ACTION,
        "--pair",
        "pasig-taipei",
        "--pair",
        "bangkok-san-diego",
        "--scheduler",
        cluster.scheduler_address,
    ]
    assert main(args) == 1  # one run fails, the other completes
    text = capsys.readouterr().out
    assert f"on {cluster.scheduler_address}" in text
    ok = target_paths(out, "pasig-taipei", ACTION)
    record = json.loads(ok["json"].read_text(encoding="utf-8"))
    assert record["pair"] == "pasig-taipei" and ok["html"].exists() and ok["ipynb"].exists()
    bad = target_paths(out, "bangkok-san-diego", ACTION)
    assert "only this pair" in json.loads(bad["error"].read_text(encoding="utf-8"))["error"]
    assert bad["failed"].exists() and not bad["json"].exists()
    # a second build finds the good run up to date and retries only the failure
    assert main(args) == 1
    assert "1 up to date" in capsys.readouterr().out


def test_main_build_unreachable_scheduler(tmp_path, params_dir, monkeypatch, capsys):
    make_notebook(tmp_path / "nbs" / "emissions_inventory.ipynb", "x = 1")
    monkeypatch.setenv("C3_NOTEBOOKS", str(tmp_path / "nbs"))
    code = main(
        [
            "build",
            "--params",
            str(params_dir),
            "--out",
            str(tmp_path / "o"),
            "--pair",
            "pasig-taipei",
            "--action",
            ACTION,
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    assert code == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
