"""The output store: where a target's files go, how they are written and what they say.

Under ``<out>/<pair>/`` each target (pair × action) has:

- ``<action>.ipynb``: the executed notebook;
- ``<action>.html``: the case study (nbconvert with the ``c3`` template);
- ``<action>.json``: ``pair``, ``action``, ``metrics``, ``assumptions``, ``sources`` and
  ``provenance``, read from the record the notebook publishes.

Every file is written under a temporary name and moved into place (:func:`atomic_write`),
so an interrupted build leaves no half-written file. A failed run writes
``<action>.failed.ipynb`` and ``<action>.error.json`` and leaves the last good ``.html``
and ``.json`` untouched (:func:`commit`).

One build at a time writes into an output folder: it holds ``<out>/.c3-build.lock``
(:func:`output_lock`). A temporary file's name carries the process that made it
(``.<name>.tmp-<pid>-<token>``); only that process removes it, unless the process is
gone, in which case the next build does (:func:`clean_temporaries`), together with the
run and kernel folders a killed build left in the temporary folder
(:func:`clean_stale_run_folders`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from c3lib.build.plan import RunSpec
from c3lib.exceptions import C3Error

__all__ = [
    "RunResult",
    "Artifacts",
    "target_paths",
    "request_path",
    "atomic_write",
    "read_status",
    "up_to_date",
    "commit",
    "GUARDED",
    "file_digests",
    "artifact_digests",
    "discard",
    "clean_temporaries",
    "clean_stale_run_folders",
    "output_lock",
    "OutputLocked",
    "results_json",
    "LOCK_NAME",
    "RUN_FOLDER_PREFIX",
]

log = logging.getLogger("c3lib")


@dataclass(frozen=True)
class RunResult:
    """What became of one run."""

    pair: str
    action: str
    status: str  # "ok", "cached" or "failed"
    seconds: float = 0.0
    cell_seconds: float = 0.0
    error: str = ""
    failed_cell: int | None = None  # position (from 1) in the failed notebook
    execution_count: int | None = None  # the failing cell's ``In [N]``
    failed_notebook: str = ""  # the ``.failed.ipynb`` written for it
    params_file: str = ""  # where the error comes from params: the file ...
    params_field: str = ""  # ... and the field


@dataclass(frozen=True)
class Artifacts:
    """What one run produced, before anything is written: file contents by target-path key.

    ``files`` maps keys of :func:`target_paths` (``ipynb``, ``html``, ``json`` on success;
    ``failed``, ``error`` on failure) to text. Being plain data, artifacts travel back from
    another process or a Dask worker, and :func:`commit` writes them on the client.
    """

    result: RunResult
    files: dict[str, str]


def target_paths(out_dir: str | Path, pair: str, action: str) -> dict[str, Path]:
    """Where a target's files go, checked to stay inside ``out_dir``."""
    root = Path(out_dir).resolve()
    folder = (root / pair).resolve()
    if folder.parent != root:
        raise C3Error(f"output path for pair {pair!r} leaves the output folder {root}")
    names = {
        "ipynb": ".ipynb",
        "html": ".html",
        "json": ".json",
        "failed": ".failed.ipynb",
        "error": ".error.json",
    }
    return {k: folder / f"{action}{suffix}" for k, suffix in names.items()}


def request_path(out_dir: str | Path, pair: str, city: str) -> Path:
    """Where a pair's data request for one city goes: ``<out>/<pair>/data-request-<city>.xlsx``."""
    return Path(out_dir) / pair / f"data-request-{city}.xlsx"


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it into place.

    If anything fails (a full disk: ``ENOSPC``, ``EDQUOT``, ``EFBIG``) the temporary file is
    removed, ``path`` is as it was, and the :class:`OSError` is raised.
    """
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _stage(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a new temporary file beside ``path``, fsynced; return its path.

    On any failure the temporary file is removed and the error raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # ours: nobody else removes a live process's temporary
        raise
    return tmp


def read_status(out_dir: str | Path, pair: str, action: str) -> dict:
    """The recorded state of a target: its last good record and any newer failure."""
    paths = target_paths(out_dir, pair, action)
    state: dict = {
        "pair": pair,
        "action": action,
        "status": "missing",
        "record": None,
        "error": None,
    }
    for key in ("json", "error"):
        try:
            data = json.loads(paths[key].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if key == "json":
            state["record"], state["status"] = data, "ok"
        else:
            state["error"], state["status"] = data, "failed"
    return state


def up_to_date(spec: RunSpec) -> bool:
    """Whether ``spec``'s outputs were built, successfully, with its current cache key."""
    return _is_current(spec, target_paths(spec.out_dir, spec.pair, spec.action))


def _is_current(spec: RunSpec, paths: dict[str, Path]) -> bool:
    if spec.force or paths["error"].exists():
        return False
    if not (paths["ipynb"].exists() and paths["html"].exists()):
        return False
    try:
        rec = json.loads(paths["json"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return rec.get("provenance", {}).get("cache_key") == spec.cache_key


# the order a target's files are moved into place: the record last, as the mark of a
# complete target (a failure's error record last among its two)
_COMMIT_ORDER = ("ipynb", "html", "failed", "error", "json")


def commit(spec: RunSpec, artifacts: Artifacts) -> RunResult:
    """Write a run's artifacts into the output folder: all of them, or none.

    On success the executed notebook, the HTML and (last, as the mark of a complete
    target) the JSON replace the old ones, and any earlier failure record is removed. On
    failure only the failed notebook and the error record are written: the last good
    ``.html`` and ``.json`` stay as they were.

    Every file is first written in full under a temporary name and fsynced; only then are
    they renamed into place. A write that fails (a full disk, a folder gone read-only)
    removes the temporaries, leaves every file of the target as it was and turns the
    result into a ``failed`` one saying what could not be written; an error record is
    then written if it still fits, so the index shows the failure beside the last good
    build.
    """
    paths = target_paths(spec.out_dir, spec.pair, spec.action)
    keys = [k for k in _COMMIT_ORDER if k in artifacts.files]
    staged: list[tuple[Path, Path]] = []
    path = None
    try:
        for key in keys:
            path = paths[key]
            staged.append((_stage(path, artifacts.files[key]), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)  # those already moved are gone: nothing to unlink
        return _unwritten(spec, artifacts, path, exc)
    if artifacts.result.status == "ok":
        for key in ("failed", "error"):
            paths[key].unlink(missing_ok=True)
    else:
        # the caller reports failures (the CLI prints each once): only a debug trace here
        log.debug("%s/%s failed: %s", spec.pair, spec.action, artifacts.result.error)
    return artifacts.result


def _unwritten(spec: RunSpec, artifacts: Artifacts, path: Path, exc: OSError) -> RunResult:
    """The result of a run whose files could not be written (``path`` the first that failed)."""
    why = exc.strerror or str(exc)
    error = f"could not write {path}: {why}; the last good outputs are kept"
    if artifacts.result.status != "ok":
        error = f"{artifacts.result.error} (and {error})"
    result = replace(artifacts.result, status="failed", error=error, failed_notebook="")
    record = {
        "pair": spec.pair,
        "action": spec.action,
        "status": "failed",
        "error": error,
        "failed_cell": None,
        "executed_notebook": None,
    }
    try:
        atomic_write(
            target_paths(spec.out_dir, spec.pair, spec.action)["error"],
            json.dumps(record, indent=1, ensure_ascii=False),
        )
    except OSError:
        log.debug("%s/%s: no room for the error record either", spec.pair, spec.action)
    return result


# --- what a build wrote, by hash: a target whose files changed behind its back ------------

GUARDED = ("ipynb", "html", "json")  # a target's good files, checked after a build


def _digest(data: str | bytes) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def file_digests(out_dir: str | Path, pair: str, action: str) -> dict[str, str | None]:
    """The sha256 of a target's notebook, page and record as they are (None: missing)."""
    paths = target_paths(out_dir, pair, action)
    out: dict[str, str | None] = {}
    for key in GUARDED:
        try:
            out[key] = _digest(paths[key].read_bytes())
        except OSError:
            out[key] = None
    return out


def artifact_digests(artifacts: Artifacts) -> dict[str, str | None]:
    """The sha256 of the good files a successful run's artifacts put in place."""
    return {key: _digest(artifacts.files[key]) for key in GUARDED}


def discard(spec: RunSpec, why: str) -> RunResult:
    """Remove a target's files that cannot be trusted (record first) and record why.

    The target then reads as failed with ``why``, and the next build makes it again.
    """
    paths = target_paths(spec.out_dir, spec.pair, spec.action)
    for key in ("json", "html", "ipynb"):
        try:
            paths[key].unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove %s: %s", paths[key], exc)
    record = {
        "pair": spec.pair,
        "action": spec.action,
        "status": "failed",
        "error": why,
        "failed_cell": None,
        "executed_notebook": None,
    }
    try:
        atomic_write(paths["error"], json.dumps(record, indent=1, ensure_ascii=False))
    except OSError as exc:
        log.warning("could not write %s: %s", paths["error"], exc)
    return RunResult(spec.pair, spec.action, "failed", error=why)


# --- one build per output folder, and what a dead build left behind ---------------------

LOCK_NAME = ".c3-build.lock"
RUN_FOLDER_PREFIX = "c3-run-"  # + "<pid>-": a run's private folder (params copy, cwd)
KERNEL_FOLDER_PREFIX = "c3-kernel-"  # c3lib.build.kernels: sockets and connection file
BUILD_MARK_PREFIX = "c3-build-"  # + "<pid>.lock" in the temporary folder: a live build
KERNEL_START_GRACE = 120.0  # [s] a kernel folder this young may be one still starting
LEGACY_AGE = 86400.0  # [s] age after which a run folder without an owner pid is stale
_TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)(?:-[0-9a-f]+)?$")
_RUN_FOLDER = re.compile(rf"^{RUN_FOLDER_PREFIX}(\d+)-")


class OutputLocked(C3Error):
    """Another build holds the output folder's lock (and the caller would not wait)."""


_held: dict[Path, int] = {}  # output folders this process has locked: how many times


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running: a zombie (dead, not yet reaped) is not.

    A killed build's workers stay zombies where nothing reaps orphans (a container whose
    first process is not an init); ``kill(pid, 0)`` alone would call them alive.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive unless /proc says it is a zombie
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True  # no /proc (not Linux): as kill said
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


def _lock_owner(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


@contextmanager
def output_lock(
    out_dir: str | Path,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold ``out_dir``'s build lock for the ``with`` block; one build writes at a time.

    Parameters
    ----------
    out_dir : str or Path
        The output folder (made if missing).
    wait : bool
        Wait for another build to finish; if false, raise :class:`OutputLocked` instead.
    on_wait : callable, optional
        Called once, with a sentence naming the other build, before waiting.

    Notes
    -----
    The lock is an ``flock`` on ``<out>/.c3-build.lock``, which the kernel drops when
    the holder dies however it ends, so a killed build never leaves the folder locked.
    Within one process the lock is re-entrant (``c3 build`` holds it around
    :func:`c3lib.build.batch.build`, which takes it too). While it is held, the process
    also marks itself as a live build in the temporary folder (see
    :func:`clean_stale_run_folders`). Raises :class:`C3Error` if the folder cannot hold
    a lock file (not a folder, not writable).
    """
    root = Path(out_dir).resolve()
    if root in _held:
        _held[root] += 1
        try:
            yield root / LOCK_NAME
        finally:
            _held[root] -= 1
        return
    import fcntl

    path = root / LOCK_NAME
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise C3Error(
            f"output folder {out_dir}: cannot hold its lock file {LOCK_NAME}: {exc.strerror or exc}"
        ) from None
    mark = None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = f"another build{_lock_owner(path)} is writing into {out_dir}"
            if not wait:
                raise OutputLocked(f"{who}; not waiting (--no-wait)") from None
            if on_wait is not None:
                on_wait(f"{who}; waiting for it to finish…")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        mark = _mark_live_build()
        _held[root] = 1
        try:
            yield path
        finally:
            del _held[root]
    finally:
        if mark is not None:
            mark_path, mark_fd = mark
            mark_path.unlink(missing_ok=True)
            os.close(mark_fd)
        os.close(fd)  # releases the lock


def _mark_live_build() -> tuple[Path, int] | None:
    """Hold ``<tmp>/c3-build-<pid>.lock`` locked: this process is a live build since now."""
    import fcntl

    path = Path(tempfile.gettempdir()) / f"{BUILD_MARK_PREFIX}{os.getpid()}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.utime(fd)
    except OSError as exc:  # no mark: other builds then clean only by age and liveness
        log.warning("could not mark this build in %s: %s", path.parent, exc)
        return None
    return path, fd


def _live_builds_since(tmp: Path) -> float:
    """When the oldest live build began (now if none); removes the marks of dead ones."""
    import fcntl

    oldest = time.time()
    for mark in tmp.glob(f"{BUILD_MARK_PREFIX}*.lock"):
        try:
            fd = os.open(mark, os.O_RDWR)
        except OSError:
            continue
        try:
            if mark.name == f"{BUILD_MARK_PREFIX}{os.getpid()}.lock":
                oldest = min(oldest, os.fstat(fd).st_mtime)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                oldest = min(oldest, os.fstat(fd).st_mtime)  # held: a live build
            else:
                mark.unlink(missing_ok=True)  # nobody holds it: its build is gone
        finally:
            os.close(fd)
    return oldest


def _bound_unix_sockets() -> set[str] | None:
    """Paths of the Unix sockets some live process has bound (Linux), or None if unknown."""
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return None
    return {parts[7] for line in lines if len(parts := line.split()) >= 8}


def _kernel_in_use(folder: Path, bound: set[str] | None) -> bool:
    import socket

    for sock in folder.glob("k-*"):
        if bound is not None:
            if str(sock) in bound:
                return True
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(str(sock))
            except OSError:
                continue
            return True
    return False


def clean_temporaries(out_dir: str | Path) -> int:
    """Remove the temporary files dead processes left in ``out_dir``; return how many.

    A temporary (``.<name>.tmp-<pid>[-<token>]``) of a live process is that process's to
    remove: a concurrent writer (another build, ``c3 edition``) keeps its files.
    """
    root = Path(out_dir)
    if not root.is_dir():
        return 0
    n = 0
    for p in root.rglob(".*.tmp-*"):
        m = _TEMPORARY.match(p.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove %s: %s", p, exc)
            continue
        n += 1
    return n


def clean_stale_run_folders(tmp: str | Path | None = None) -> int:
    """Remove the run and kernel folders killed builds left in the temporary folder.

    A run folder (``c3-run-<pid>-*``) is stale when its process is gone. A kernel folder
    (``c3-kernel-*``, holding a kernel's sockets and its connection key) is stale when
    no live process has bound a socket in it and it is older than every live build
    (each marks itself: :func:`output_lock`) and than a kernel's start time. Returns how
    many folders were removed.
    """
    root = Path(tmp or tempfile.gettempdir())
    since = _live_builds_since(root)
    now = time.time()
    bound = _bound_unix_sockets()
    n = 0
    for folder in root.glob("c3-*"):
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            age_mtime = folder.stat().st_mtime
        except OSError:
            continue
        if folder.name.startswith(RUN_FOLDER_PREFIX):
            m = _RUN_FOLDER.match(folder.name)
            if m is not None:
                stale = not _pid_alive(int(m.group(1)))
            else:
                stale = age_mtime < min(since, now - LEGACY_AGE)
        elif folder.name.startswith(KERNEL_FOLDER_PREFIX):
            stale = age_mtime < min(since, now - KERNEL_START_GRACE) and not _kernel_in_use(
                folder, bound
            )
        else:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            n += not folder.exists()
    return n


def results_json(results: list[RunResult]) -> str:
    """The results of a build as JSON (for ``outputs/build.json``)."""
    return json.dumps([asdict(r) for r in results], indent=1)
