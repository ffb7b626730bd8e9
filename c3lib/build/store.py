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
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
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
    "clean_temporaries",
    "results_json",
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
    failed_cell: int | None = None


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
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(tmp, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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


def commit(spec: RunSpec, artifacts: Artifacts) -> RunResult:
    """Write a run's artifacts into the output folder, each file atomically.

    On success the executed notebook, the HTML and (last, as the mark of a complete
    target) the JSON replace the old ones, and any earlier failure record is removed. On
    failure only the failed notebook and the error record are written: the last good
    ``.html`` and ``.json`` stay as they were.
    """
    paths = target_paths(spec.out_dir, spec.pair, spec.action)
    for key in ("ipynb", "html", "json", "failed", "error"):
        if key in artifacts.files:
            atomic_write(paths[key], artifacts.files[key])
    if artifacts.result.status == "ok":
        for key in ("failed", "error"):
            paths[key].unlink(missing_ok=True)
    else:
        log.error("%s/%s failed: %s", spec.pair, spec.action, artifacts.result.error)
    return artifacts.result


def clean_temporaries(out_dir: str | Path) -> int:
    """Remove temporary files an interrupted build left behind; return how many."""
    root = Path(out_dir)
    if not root.is_dir():
        return 0
    n = 0
    for pattern in (".*.tmp-*", ".*.run-*.ipynb"):
        for p in root.rglob(pattern):
            p.unlink(missing_ok=True)
            n += 1
    return n


def results_json(results: list[RunResult]) -> str:
    """The results of a build as JSON (for ``outputs/build.json``)."""
    return json.dumps([asdict(r) for r in results], indent=1)
