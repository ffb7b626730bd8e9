"""A disk that fills up, for real: a small tmpfs as the output folder, or a file-size limit.

Each failed write must fail the run it hits with one clear message, leave no temporary file
and keep the last good outputs; the batch goes on and the next build, with room again,
succeeds.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import uuid

import pytest

import c3lib.build.batch as batch
from c3lib.build.plan import plan
from c3lib.build.run import failure
from c3lib.build.store import atomic_write, commit, read_status, target_paths
from c3lib.params import load_catalog
from tests.conftest import make_notebook, run_artifacts

ACTION = "emissions-inventory"
SIZE_KB = 512  # [KiB] the small disk


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a 512 KiB tmpfs (needs the right to mount: root, CAP_SYS_ADMIN)."""
    if sys.platform != "linux":
        pytest.skip("tmpfs is Linux's")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_KB}k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'not permitted'}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder) -> os.PathLike:
    """Fill the disk that holds ``folder`` to the last byte; return the filler file."""
    filler = folder / f"filler-{uuid.uuid4().hex[:6]}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    for i in range(1000):  # small files take inodes and the last partial blocks
        try:
            (folder / f".inode-{i}").write_bytes(b"x" * 512)
        except OSError:
            break
    return filler


def temporaries(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp-*"))


@pytest.fixture
def specs_on(params_dir, tmp_path):
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / "emissions_inventory.ipynb", "x = 1")
    cat = load_catalog(params_dir)

    def specs(out, force=False):
        pairs = sorted(cat.pairs)[:2]
        return plan(cat, out, pairs=pairs, actions=[ACTION], notebooks_dir=nbs, force=force)

    return specs


def test_commit_full_disk_fails_run_keeps_last_good(small_disk, specs_on):
    (spec, _) = specs_on(small_disk)
    assert commit(spec, run_artifacts(spec, "good", 20)).status == "ok"
    paths = target_paths(small_disk, spec.pair, spec.action)
    good = {k: paths[k].read_bytes() for k in ("ipynb", "html", "json")}
    filler = fill(small_disk)

    result = commit(spec, run_artifacts(spec, "new", 100))

    assert result.status == "failed"
    assert result.error.startswith("could not write ") and "No space left on device" in result.error
    assert "the last good outputs are kept" in result.error
    assert {k: paths[k].read_bytes() for k in good} == good
    assert temporaries(small_disk) == []
    os.unlink(filler)
    assert commit(spec, run_artifacts(spec, "new", 100)).status == "ok"
    assert b"<!-- new -->" in paths["html"].read_bytes() and not paths["error"].exists()


def test_commit_failure_record_on_full_disk_keeps_last_good(small_disk, specs_on):
    (spec, _) = specs_on(small_disk)
    assert commit(spec, run_artifacts(spec, "good", 10)).status == "ok"
    paths = target_paths(small_disk, spec.pair, spec.action)
    good = paths["html"].read_bytes(), paths["json"].read_bytes()
    fill(small_disk)
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    import nbformat

    failed = failure(spec, nbformat.from_dict(nb), "ValueError: boom", 0.0)
    failed.files["failed"] += " " * 200_000  # a failed notebook too big for what is left
    result = commit(spec, failed)
    assert result.status == "failed" and result.error.startswith("ValueError: boom (and could")
    assert (paths["html"].read_bytes(), paths["json"].read_bytes()) == good
    assert not paths["failed"].exists() and temporaries(small_disk) == []


def test_build_full_disk_fails_each_run_it_hits(small_disk, specs_on, monkeypatch):
    """The batch through a disk that fills up: the runs that do not fit fail, each with
    one message, the others are written, nothing temporary is left, nothing good is lost;
    with room again the next build writes them all."""
    sizes = {}

    def produce_all(todo, jobs, scheduler):
        for spec in todo:
            yield spec, run_artifacts(spec, f"{sizes[spec.pair]}", sizes[spec.pair])

    monkeypatch.setattr(batch, "_produce_all", produce_all)
    small, big = specs_on(small_disk)
    sizes.update({small.pair: 8, big.pair: 8})
    assert [r.status for r in batch.build(specs_on(small_disk))] == ["ok", "ok"]
    before = {
        s.pair: target_paths(small_disk, s.pair, ACTION)["html"].read_bytes() for s in (small, big)
    }
    filler = fill(small_disk)
    os.unlink(sorted(small_disk.glob(".inode-*"))[0])  # room for about one small file
    with open(filler, "r+b") as fh:
        fh.truncate(os.path.getsize(filler) - 48 * 1024)  # 48 KiB free: the small one fits
    sizes.update({small.pair: 4, big.pair: 200})
    results = {r.pair: r for r in batch.build(specs_on(small_disk, force=True))}

    assert results[small.pair].status == "ok"
    assert results[big.pair].status == "failed"
    assert "No space left on device" in results[big.pair].error
    assert results[big.pair].error.count("could not write") == 1
    assert target_paths(small_disk, big.pair, ACTION)["html"].read_bytes() == before[big.pair]
    assert b"<!-- 4 -->" in target_paths(small_disk, small.pair, ACTION)["html"].read_bytes()
    assert read_status(small_disk, big.pair, ACTION)["record"]["tag"] == "8"
    assert temporaries(small_disk) == []

    os.unlink(filler)
    results = batch.build(specs_on(small_disk))
    assert {r.pair: r.status for r in results} == {small.pair: "cached", big.pair: "ok"}
    assert read_status(small_disk, big.pair, ACTION)["status"] == "ok"


LIMITED = """
import os, resource, signal, sys
from pathlib import Path
from c3lib.build.store import atomic_write
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    atomic_write(Path(sys.argv[1]), "y" * 100_000)
except OSError as exc:
    print(exc.errno)
else:
    print("written")
"""


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")
def test_atomic_write_file_size_limit_keeps_old_file(tmp_path):
    """Where no disk can be made full, a file-size limit makes the same writes fail."""
    path = tmp_path / "case.html"
    atomic_write(path, "good")
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED, str(path)], capture_output=True, text=True, timeout=30
    )
    assert proc.stdout.strip() == str(errno.EFBIG), proc.stderr
    assert path.read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.html"]
