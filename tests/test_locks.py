"""One build per output folder; what a dead build left is removed, a live one's never."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from c3lib.build.store import (
    LOCK_NAME,
    OutputLocked,
    clean_stale_run_folders,
    clean_temporaries,
    output_lock,
)
from c3lib.cli import main

HOLD = (
    "import sys, time\n"
    "from c3lib.build.store import output_lock\n"
    "with output_lock(sys.argv[1]):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(float(sys.argv[2]))\n"
)


def hold_lock(out: Path, seconds: float) -> subprocess.Popen:
    """Another build: a process holding ``out``'s lock for ``seconds``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline() == "locked\n"
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def sleeper():
    """A live process that is not a build."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_output_lock_waits_for_other_build(tmp_path):
    other = hold_lock(tmp_path / "out", 1.5)
    said = []
    started = time.monotonic()
    with output_lock(tmp_path / "out", on_wait=said.append) as lock:
        waited = time.monotonic() - started
        assert lock == (tmp_path / "out" / LOCK_NAME).resolve()
    other.wait(timeout=10)
    stop(other)
    assert waited > 0.5
    assert len(said) == 1 and f"pid {other.pid}" in said[0] and "waiting" in said[0]


def test_output_lock_no_wait_refuses(tmp_path):
    other = hold_lock(tmp_path / "out", 30)
    try:
        with pytest.raises(OutputLocked, match="another build"):
            with output_lock(tmp_path / "out", wait=False):
                pass
    finally:
        stop(other)
    with output_lock(tmp_path / "out", wait=False):  # a killed holder leaves no lock
        pass


def test_output_lock_reentrant_in_one_process(tmp_path):
    try_lock = "import sys\nfrom c3lib.build.store import output_lock\n"
    try_lock += "with output_lock(sys.argv[1], wait=False):\n    pass\n"
    with output_lock(tmp_path / "out", wait=False):
        with output_lock(tmp_path / "out", wait=False):
            pass
        # still held after the inner block: another process is refused
        other = subprocess.run(
            [sys.executable, "-c", try_lock, str(tmp_path / "out")], capture_output=True, text=True
        )
        assert other.returncode != 0 and "OutputLocked" in other.stderr


def test_main_build_no_wait_exits_2_with_one_line(tmp_path, params_dir, capsys):
    other = hold_lock(tmp_path / "out", 30)
    try:
        argv = ["build", "--params", str(params_dir), "--out", str(tmp_path / "out")]
        code = main([*argv, "--no-wait", "--jobs", "1"])
    finally:
        stop(other)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "another build" in lines[0] and "--no-wait" in lines[0]
    assert str(tmp_path / "out") in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_main_build_out_is_a_file_exits_2(tmp_path, params_dir, capsys):
    out = tmp_path / "out"
    out.write_text("not a folder")
    code = main(["build", "--params", str(params_dir), "--out", str(out), "--jobs", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(out) in err[0]


def test_clean_temporaries_removes_only_dead_processes_files(tmp_path, sleeper):
    folder = tmp_path / "out" / "some-pair"
    folder.mkdir(parents=True)
    live = folder / f".a.html.tmp-{sleeper}-0a1b2c3d"
    mine = folder / f".b.json.tmp-{os.getpid()}-0a1b2c3d"
    dead = folder / f".c.html.tmp-{dead_pid()}-0a1b2c3d"
    old_style = folder / f".d.json.tmp-{dead_pid()}"
    good = folder / "a.html"
    for p in (live, mine, dead, old_style, good):
        p.write_text("x")
    assert clean_temporaries(tmp_path / "out") == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, mine.name, good.name])


def test_clean_stale_run_folders(tmp_path, sleeper):
    tmp = Path("/tmp") / f"c3t-{os.getpid()}"  # short: a Unix socket's path is short
    tmp.mkdir()
    try:
        old = time.time() - 3600
        dead_run = tmp / f"c3-run-{dead_pid()}-abc"
        live_run = tmp / f"c3-run-{sleeper}-abc"
        dead_kernel = tmp / "c3-kernel-dead"
        live_kernel = tmp / "c3-kernel-live"
        young_kernel = tmp / "c3-kernel-young"
        other = tmp / "c3-shipped-keep"
        for d in (dead_run, live_run, dead_kernel, live_kernel, young_kernel, other):
            d.mkdir()
            (d / "kernel.json").write_text('{"key": "secret"}')
        (dead_kernel / "k-1").write_text("")  # a socket file nobody listens on any more
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(live_kernel / "k-2"))
        listener.listen()
        for d in (dead_kernel, live_kernel, dead_run, live_run, other):
            os.utime(d, (old, old))
        try:
            assert clean_stale_run_folders(tmp) == 2
        finally:
            listener.close()
        left = sorted(p.name for p in tmp.iterdir())
        assert left == sorted(p.name for p in (live_run, live_kernel, young_kernel, other))
    finally:
        import shutil

        shutil.rmtree(tmp)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
def test_clean_stale_run_folders_removes_a_zombie_workers_folder(tmp_path):
    """A killed build's worker stays a zombie where nothing reaps orphans (a container whose
    first process is no init): its pid still answers ``kill(pid, 0)``, but it is dead, and
    its run folder goes."""
    tmp = Path("/tmp") / f"c3t-{os.getpid()}-z"
    tmp.mkdir()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30  # exited, not reaped: state Z
        stat = Path(f"/proc/{zombie.pid}/stat")
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(zombie.pid, 0)  # the pid still answers
        (tmp / f"c3-run-{zombie.pid}-abc").mkdir()
        assert clean_stale_run_folders(tmp) == 1
        assert not list(tmp.iterdir())
    finally:
        zombie.wait()
        tmp.rmdir()


def test_clean_stale_run_folders_keeps_kernels_of_live_builds(tmp_path):
    """A kernel folder younger than a live build (which marks itself) may be that build's."""
    tmp = Path("/tmp") / f"c3t-{os.getpid()}-b"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "out"), "30"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout.readline() == "locked\n"
        (mark,) = tmp.glob("c3-build-*.lock")
        t = time.time()
        os.utime(mark, (t - 1000, t - 1000))  # the other build began 1000 s ago
        kept, removed = tmp / "c3-kernel-during", tmp / "c3-kernel-before"
        for d, age in ((kept, 500), (removed, 2000)):
            d.mkdir()
            os.utime(d, (t - age, t - age))
        assert clean_stale_run_folders(tmp) == 1
        assert kept.exists() and not removed.exists()
    finally:
        stop(proc)
    assert clean_stale_run_folders(tmp) == 1  # its build is gone: its mark and kernel too
    assert not list(tmp.iterdir())
    tmp.rmdir()
