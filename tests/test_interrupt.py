"""An interrupted build leaves no half-written file; the next build picks up where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_notebook

pytestmark = pytest.mark.slow
PAIRS = ["pasig-taipei", "haiphong-kitakyushu", "bangkok-san-diego"]


def start_build(ws):
    args = [
        sys.executable,
        "-m",
        "c3lib",
        "build",
        "--params",
        str(ws["params"]),
        "--out",
        str(ws["out"]),
        "--action",
        "emissions-inventory",
        "--jobs",
        "1",
    ]
    for p in PAIRS:
        args += ["--pair", p]
    env = {**os.environ, "C3_NOTEBOOKS": str(ws["nbs"])}
    return subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_first_target(ws, proc, limit=120):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if list(ws["out"].glob("*/emissions-inventory.json")):
            return
        if proc.poll() is not None:
            pytest.fail(f"build ended early: {proc.stdout.read()}")
        time.sleep(0.2)
    pytest.fail("no target finished in time")


def kill_orphan_kernels(parent_pid: int) -> None:
    """SIGKILL gives the build no chance to stop its kernel: stop any it left behind."""
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"JPY_PARENT_PID={parent_pid}".encode() in env.read_bytes().split(b"\0"):
                os.kill(int(env.parent.name), signal.SIGKILL)
        except OSError:
            continue


def assert_no_partial_files(out):
    for path in out.rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))  # complete JSON
        if path.suffix == ".html":
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")


@pytest.fixture
def ws(tmp_path, params_dir):
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / "emissions_inventory.ipynb", "import time\ntime.sleep(2)")
    return {"params": params_dir, "out": tmp_path / "out", "nbs": nbs}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_build_interrupted_then_resumed(ws, sig):
    proc = start_build(ws)
    wait_for_first_target(ws, proc)
    time.sleep(0.5)  # the next run is now mid-flight
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)
    proc.stdout.close()
    kill_orphan_kernels(proc.pid)
    assert proc.returncode != 0
    assert_no_partial_files(ws["out"])
    built = {p.parent.name for p in ws["out"].glob("*/emissions-inventory.json")}
    assert 1 <= len(built) < len(PAIRS)

    proc = start_build(ws)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert f"{len(built)} up to date" in out
    assert {p.parent.name for p in ws["out"].glob("*/emissions-inventory.json")} == set(PAIRS)
    leftovers = [p.name for p in ws["out"].rglob(".*")]
    assert leftovers == []
