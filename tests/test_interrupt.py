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


def start_build(ws, no_wait=False):
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
    if no_wait:
        args.append("--no-wait")
    env = {**os.environ, "C3_NOTEBOOKS": str(ws["nbs"]), "TMPDIR": str(ws["tmp"])}
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


def run_folders(tmp: Path) -> list[str]:
    """The run and kernel folders builds keep in the temporary folder."""
    return sorted(p.name for p in tmp.glob("c3-*") if p.is_dir())


@pytest.fixture
def ws(tmp_path, params_dir):
    import shutil
    import tempfile

    nbs = tmp_path / "notebooks"
    make_notebook(nbs / "emissions_inventory.ipynb", "import time\ntime.sleep(2)")
    tmp = Path(tempfile.mkdtemp(prefix="c3t-", dir="/tmp"))  # short: kernels' socket paths
    yield {"params": params_dir, "out": tmp_path / "out", "nbs": nbs, "tmp": tmp}
    shutil.rmtree(tmp, ignore_errors=True)


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

    if sig == signal.SIGKILL:
        # nothing ran to clean up: the killed build's run folder (and kernel folders, with
        # their connection keys) are left; as if it had died a while ago, so that a kernel
        # folder is past the age at which it might be one still starting
        assert any(n.startswith("c3-run-") for n in run_folders(ws["tmp"]))
        old = time.time() - 3600
        for folder in ws["tmp"].glob("c3-kernel-*"):
            os.utime(folder, (old, old))

    proc = start_build(ws)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert f"{len(built)} up to date" in out
    assert {p.parent.name for p in ws["out"].glob("*/emissions-inventory.json")} == set(PAIRS)
    leftovers = [p.name for p in ws["out"].rglob(".*")]
    assert leftovers == [".c3-build.lock"]  # the lock file stays; no temporary does
    # the killed build's ones too: its workers are dead (zombies, where nothing reaps
    # orphans), so the next build removes their run folders
    assert run_folders(ws["tmp"]) == []


def test_build_second_build_into_same_folder(ws):
    """A second build waits for the first (or, with --no-wait, refuses); neither loses a
    file of the other, and both report every target."""
    first = start_build(ws)
    wait_for_first_target(ws, first)
    refused = start_build(ws, no_wait=True)
    out, _ = refused.communicate(timeout=120)
    assert refused.returncode == 2, out
    assert "another build" in out and out.count("\n") == 1
    second = start_build(ws)
    out2, _ = second.communicate(timeout=300)
    out1, _ = first.communicate(timeout=300)
    assert first.returncode == 0, out1
    assert second.returncode == 0, out2
    assert "waiting for it to finish" in out2  # it ran after the first, not beside it
    assert_no_partial_files(ws["out"])
    assert [p.name for p in ws["out"].rglob(".*")] == [".c3-build.lock"]
