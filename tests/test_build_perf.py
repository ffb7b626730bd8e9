"""The mechanisms behind a fast build: cache keys, cheap no-op, worker processes, retries.

These check behaviour, not timings; bench/bench.py measures the timings.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import weakref

import nbformat
import pytest

import c3lib
import c3lib.build.batch as batch
import c3lib.build.kernels as kernels
import c3lib.build.plan as planning
import c3lib.build.run as running
from c3lib.build.batch import build, run
from c3lib.build.plan import plan
from c3lib.build.store import LOCK_NAME, target_paths
from c3lib.cli import main
from c3lib.params import load_catalog
from tests.conftest import edit_yaml, make_notebook

ACTION = "emissions-inventory"
NB_NAME = "emissions_inventory.ipynb"
PAIRS = ["pasig-taipei", "haiphong-kitakyushu", "bangkok-san-diego"]


@pytest.fixture
def ws(tmp_path, params_dir):
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / NB_NAME, "x = 1")
    return {"params": params_dir, "out": tmp_path / "out", "nbs": nbs}


def specs_for(ws, pairs=("pasig-taipei",)):
    return plan(load_catalog(ws["params"]), ws["out"], list(pairs), [ACTION], ws["nbs"])


def key(ws):
    (spec,) = specs_for(ws)
    return spec.cache_key


def edit_notebook(ws, change):
    path = ws["nbs"] / NB_NAME
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))


def bump_population(city):
    city["profile"]["population"]["value"] += 1


CHANGES = {
    "code cell": lambda ws: edit_notebook(ws, lambda nb: setattr(nb.cells[2], "source", "x = 2")),
    "markdown cell": lambda ws: edit_notebook(
        ws, lambda nb: setattr(nb.cells[0], "source", "# Renamed")
    ),
    "cell tags": lambda ws: edit_notebook(
        ws, lambda nb: nb.cells[2].metadata.update(tags=["remove-input"])
    ),
    "learning city": lambda ws: edit_yaml(ws["params"] / "cities/pasig.yaml", bump_population),
    "mentor city": lambda ws: edit_yaml(ws["params"] / "cities/taipei.yaml", bump_population),
    "pair": lambda ws: edit_yaml(
        ws["params"] / "pairs/pasig-taipei.yaml", lambda d: d.update(parameters={ACTION: {}})
    ),
    "actions": lambda ws: edit_yaml(
        ws["params"] / "actions.yaml",
        lambda d: d["actions"][0].update(title=d["actions"][0]["title"] + "!"),
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_plan_cache_key_covers_input(ws, change):
    before = key(ws)
    CHANGES[change](ws)
    assert key(ws) != before


@pytest.mark.parametrize("what", ["reference data", "c3lib version"])
def test_plan_cache_key_covers_code(ws, monkeypatch, what):
    before = key(ws)
    planning.code_hash.cache_clear()
    if what == "reference data":
        monkeypatch.setattr(planning, "data_hash", lambda: "another table")
    else:
        monkeypatch.setattr(c3lib, "__version__", "99.0")
    try:
        assert key(ws) != before
    finally:
        planning.code_hash.cache_clear()


def test_plan_cache_key_ignores_outputs_and_other_pairs(ws):
    before = key(ws)

    def executed_look(nb):
        nb.cells[2].execution_count = 7
        nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
        nb.metadata["papermill"] = {"duration": 1.0}

    edit_notebook(ws, executed_look)
    edit_yaml(ws["params"] / "cities/bangkok.yaml", bump_population)
    assert key(ws) == before


@pytest.mark.slow
def test_run_reads_only_the_params_its_key_covers(ws):
    listing = (
        "import os\n"
        "print(sorted(os.path.relpath(os.path.join(d, f), params_dir)"
        " for d, _, fs in os.walk(params_dir) for f in fs))"
    )
    make_notebook(ws["nbs"] / NB_NAME, listing)
    (spec,) = specs_for(ws)
    assert run(spec).status == "ok"
    nb = nbformat.read(target_paths(ws["out"], "pasig-taipei", ACTION)["ipynb"], as_version=4)
    cell = [c for c in nb.cells if c.source == listing][0]
    # the actions file, the pair's, its two cities' and their countries' files, no other
    expected = sorted(load_catalog(ws["params"]).pair_files("pasig-taipei"))
    assert {"actions.yaml", "pairs/pasig-taipei.yaml", "cities/pasig.yaml"} <= set(expected)
    assert cell.outputs[0].text.strip() == str(expected)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])][0]
    assert f'params_dir = "{ws["params"]}"' in injected.source  # the folder the user knows


@pytest.mark.slow
def test_main_build_noop_then_force(ws, monkeypatch, capsys):
    monkeypatch.setenv("C3_NOTEBOOKS", str(ws["nbs"]))
    args = ["build", "--params", str(ws["params"]), "--out", str(ws["out"]), "--action", ACTION]
    args += ["--pair", "pasig-taipei", "--jobs", "1"]
    assert main(args) == 0
    assert "1 built" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 built, 1 up to date" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    assert "1 built, 0 up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_main_build_checks_reference_data_before_any_run(ws, monkeypatch, capsys):
    """Broken reference data stops a build that would run; up-to-date outputs need no check."""
    from c3lib import reference

    monkeypatch.setenv("C3_NOTEBOOKS", str(ws["nbs"]))
    args = ["build", "--params", str(ws["params"]), "--out", str(ws["out"]), "--action", ACTION]
    args += ["--pair", "pasig-taipei", "--jobs", "1"]
    with monkeypatch.context() as m:
        m.setattr(reference, "check_reference", lambda: ["ship_fuel_ef.csv: no row for MGO"])
        assert main(args) == 2
        assert "ship_fuel_ef.csv: no row for MGO" in capsys.readouterr().err
        assert not target_paths(ws["out"], "pasig-taipei", ACTION)["json"].exists()
    assert main(args) == 0
    with monkeypatch.context() as m:
        m.setattr(reference, "check_reference", lambda: ["ship_fuel_ef.csv: no row for MGO"])
        assert main(args) == 0  # nothing to run: the outputs were built with checked data
        assert "0 built, 1 up to date" in capsys.readouterr().out
        assert main([*args, "--force"]) == 2


@pytest.mark.slow
def test_main_noop_build_leaves_notebook_machinery_unimported(ws):
    """An up-to-date build reads records and hashes; it never imports papermill or nbconvert."""
    assert [r.status for r in build(specs_for(ws))] == ["ok"]
    heavy = ["papermill", "nbconvert", "nbformat", "nbclient", "jupyter_client", "zmq"]
    code = (
        "import sys\n"
        "from c3lib.cli import main\n"
        f"code = main(['build', '--params', {str(ws['params'])!r}, '--out', "
        f"{str(ws['out'])!r}, '--pair', 'pasig-taipei', '--action', {ACTION!r}])\n"
        f"print(code, [m for m in {heavy!r} if m in sys.modules])\n"
    )
    env = {**os.environ, "C3_NOTEBOOKS": str(ws["nbs"])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "1 up to date" in out
    assert out.splitlines()[-1] == "0 []"


PIDS = "import os\nprint(os.getpid(), os.getppid())"


def pids(out, pair):
    nb = nbformat.read(target_paths(out, pair, ACTION)["ipynb"], as_version=4)
    text = [o.text for c in nb.cells if c.source == PIDS for o in c.outputs][0]
    kernel, parent = text.split()
    return int(kernel), int(parent)


@pytest.mark.slow
@pytest.mark.parametrize("warm", [True, False], ids=["forked-kernels", "started-kernels"])
def test_build_fresh_kernel_per_run_recycled_workers(ws, monkeypatch, warm):
    """Each run gets its own kernel; workers are replaced; the build holds one run at a time."""
    make_notebook(ws["nbs"] / NB_NAME, PIDS)
    monkeypatch.setattr(running, "WORKER_RUNS", 2)
    monkeypatch.setattr(running, "WARM_KERNELS", warm)
    alive, most_alive = [], 0
    real_commit = batch.commit

    def commit(spec, artifacts):
        nonlocal most_alive
        alive.append(weakref.ref(artifacts))
        gc.collect()
        most_alive = max(most_alive, sum(r() is not None for r in alive))
        return real_commit(spec, artifacts)

    monkeypatch.setattr(batch, "commit", commit)
    pairs = [*PAIRS, "taichung-san-jose", "philadelphia-kaohsiung"]
    results = build(specs_for(ws, pairs), jobs=2)
    assert [r.status for r in results] == ["ok"] * 5
    kernel_pids, parents = zip(*(pids(ws["out"], p) for p in pairs), strict=True)
    assert len(set(kernel_pids)) == 5  # never a kernel shared between runs
    assert len(set(parents)) >= 3  # 5 runs at 2 per worker: at least 3 workers (or templates)
    assert os.getpid() not in parents
    assert most_alive == 1  # artifacts are written and dropped one run at a time


@pytest.mark.slow
def test_build_forked_kernel_is_like_a_started_one(ws, monkeypatch):
    """A kernel forked from the template: inline figures, own RNG state, IPC, its cwd, quiet."""
    probe = (
        "import os, sys\n"
        "import matplotlib\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "from ipykernel.connect import get_connection_info\n"
        "print(matplotlib.get_backend())\n"
        "print(os.getcwd() == sys.path[0], get_connection_info(unpack=True)['transport'])\n"
        "print(np.random.random())\n"
        "plt.plot([1, 2, 3])"
    )
    make_notebook(ws["nbs"] / NB_NAME, probe)
    monkeypatch.setattr(running, "WARM_KERNELS", True)
    results = build(specs_for(ws, PAIRS[:2]), jobs=1)
    assert [r.status for r in results] == ["ok", "ok"]
    seen = []
    for pair in PAIRS[:2]:
        nb = nbformat.read(target_paths(ws["out"], pair, ACTION)["ipynb"], as_version=4)
        cell = [c for c in nb.cells if c.source == probe][0]
        lines = "".join(o.get("text", "") for o in cell.outputs).splitlines()
        assert lines[0] == kernels.INLINE_BACKEND
        assert lines[1] == "True ipc"
        seen.append(lines[2])
        assert any("image/png" in o.get("data", {}) for o in cell.outputs)  # inline figure
    assert seen[0] != seen[1]  # the global RNG is reseeded in every kernel


@pytest.mark.slow
def test_build_worker_crash_fails_only_its_run(ws, monkeypatch):
    monkeypatch.setattr(running, "WARM_KERNELS", False)  # so the kernel's parent is the worker
    make_notebook(
        ws["nbs"] / NB_NAME,
        "import os, signal\nif pair == 'haiphong-kitakyushu':\n"
        "    os.kill(os.getppid(), signal.SIGKILL)  # the worker, mid-run",
    )
    results = {r.pair: r for r in build(specs_for(ws, PAIRS), jobs=1)}
    assert results["haiphong-kitakyushu"].status == "failed"
    assert "worker process ended" in results["haiphong-kitakyushu"].error
    # pasig-taipei may have been exporting when the worker died: it is run again
    assert [results[p].status for p in ("pasig-taipei", "bangkok-san-diego")] == ["ok", "ok"]
    error = target_paths(ws["out"], "haiphong-kitakyushu", ACTION)["error"]
    assert "worker process ended" in json.loads(error.read_text(encoding="utf-8"))["error"]
    assert no_kernels_left_in(ws["nbs"])  # the dead worker's kernels ended with it


@pytest.mark.slow
def test_build_template_crash_falls_back_to_started_kernels(ws, monkeypatch):
    monkeypatch.setattr(running, "WARM_KERNELS", True)
    make_notebook(
        ws["nbs"] / NB_NAME,
        "import os, signal\nif pair == 'haiphong-kitakyushu':\n"
        "    os.kill(os.getppid(), signal.SIGKILL)  # the template this kernel was forked from",
    )
    results = {r.pair: r.status for r in build(specs_for(ws, PAIRS), jobs=1)}
    assert results["pasig-taipei"] == results["bangkok-san-diego"] == "ok"
    assert no_kernels_left_in(ws["nbs"])


def no_kernels_left_in(folder, wait=10.0) -> bool:
    """Whether, within ``wait`` seconds, no process works in ``folder`` (kernels run there)."""
    psutil = pytest.importorskip("psutil")
    deadline = time.monotonic() + wait
    while True:
        left = []
        for p in psutil.process_iter():
            try:
                if p.cwd() == str(folder):
                    left.append(p)
            except psutil.Error:
                continue
        if not left or time.monotonic() > deadline:
            return not left
        time.sleep(0.2)


@pytest.mark.slow
def test_run_retries_kernel_that_dies_at_start(ws, monkeypatch, caplog):
    """A kernel process that exits before replying is replaced by a new one; the run succeeds."""
    real = kernels.kernel_manager_class
    launches = []

    def flaky_class(folder, template=None):
        class Flaky(real(folder, template)):
            async def _async_launch_kernel(self, kernel_cmd, **kw):
                launches.append(kernel_cmd)
                if len(launches) == 1:
                    kernel_cmd = [sys.executable, "-c", "raise SystemExit(3)"]
                return await super()._async_launch_kernel(kernel_cmd, **kw)

        return Flaky

    monkeypatch.setattr(kernels, "kernel_manager_class", flaky_class)
    (spec,) = specs_for(ws)
    result = run(spec)
    assert result.status == "ok", result.error
    assert len(launches) == 2
    assert "kernel start failed for pasig-taipei/emissions-inventory (try 1)" in caplog.text


@pytest.mark.slow
def test_main_build_sigterm_stops_workers_and_kernels(ws):
    psutil = pytest.importorskip("psutil")
    make_notebook(ws["nbs"] / NB_NAME, "import time\ntime.sleep(3)")
    args = [sys.executable, "-m", "c3lib", "build", "--params", str(ws["params"])]
    args += ["--out", str(ws["out"]), "--action", ACTION, "--jobs", "2"]
    for p in [*PAIRS, "taichung-san-jose"]:
        args += ["--pair", p]
    env = {**os.environ, "C3_NOTEBOOKS": str(ws["nbs"])}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(ws["out"].glob("*/*.json")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1)  # the next runs are mid-flight
    # fork server, workers, their kernel templates and kernels (children of the templates)
    descendants = psutil.Process(proc.pid).children(recursive=True)
    assert len(descendants) >= 5
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    proc.stderr.close()
    gone, alive = psutil.wait_procs(descendants, timeout=20)
    assert alive == []
    # nothing half-written is left; the folder's build lock stays by design (flock, released
    # by the kernel when its holder ends)
    assert [p.name for p in ws["out"].rglob(".*")] == [LOCK_NAME]
