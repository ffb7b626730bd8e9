"""Run workbooks for city pairs: papermill → executed notebook, HTML case study and JSON record.

Each target (pair × action) writes, under ``<out>/<pair>/``:

- ``<action>.ipynb``: the executed notebook;
- ``<action>.html``: the case study (nbconvert with the ``c3`` template);
- ``<action>.json``: ``pair``, ``action``, ``metrics``, ``assumptions``, ``sources`` and
  ``provenance``, read from the record the notebook publishes.

Every file is written under a temporary name and moved into place, so an interrupted
build leaves no half-written file. A failed run writes ``<action>.failed.ipynb`` and
``<action>.error.json`` and leaves the last good ``.html`` and ``.json`` untouched. A
target whose inputs have not changed since its last good run is skipped (its cache key
covers the notebook's code, the pair's and cities' params, the reference data, c3lib and
the template).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import c3lib
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors
from c3lib.params import Catalog
from c3lib.reference import data_hash

if TYPE_CHECKING:  # nbformat is slow to import; the no-op rebuild never needs it
    from nbformat import NotebookNode

__all__ = [
    "NOTEBOOKS_DIR",
    "RunSpec",
    "RunResult",
    "Artifacts",
    "plan",
    "produce",
    "commit",
    "run",
    "build",
    "target_paths",
    "read_status",
    "atomic_write",
]

log = logging.getLogger("c3lib")

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT_CELL_TIMEOUT = 300
DEFAULT_RUN_TIMEOUT = 900
KERNEL_START_TRIES = 3


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs; picklable, so it can go to another process or machine."""

    pair: str
    action: str
    notebook: str
    params_dir: str
    out_dir: str
    parameters: dict = field(default_factory=dict)
    params_hash: str = ""
    cache_key: str = ""
    git_commit: str | None = None
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    run_timeout: float = DEFAULT_RUN_TIMEOUT
    force: bool = False


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


def _sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


@cache
def _code_hash() -> str:
    """Hash of c3lib's source and the export template (what shapes every output)."""
    pkg = Path(c3lib.__file__).parent
    templates = pkg.parent / "templates"
    files = sorted(pkg.glob("*.py")) + sorted(templates.rglob("*") if templates.is_dir() else [])
    return _sha(c3lib.__version__, data_hash(), *[p.read_bytes() for p in files if p.is_file()])


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = (
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c["cell_type"] == "code"
    )
    return "\n\0".join(sources)


def git_commit(repo: Path | None = None) -> str | None:
    """The current commit of the repository holding c3lib, or None outside git."""
    repo = repo or Path(c3lib.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _check_overrides(catalog: Catalog, pair: str, action: str, notebook: Path) -> dict:
    overrides = dict(catalog.pairs[pair].parameters.get(action, {}))
    if not overrides:
        return overrides
    import papermill

    label = str(catalog.params_dir / "pairs" / f"{pair}.yaml")
    declared = papermill.inspect_notebook(str(notebook))
    kinds = {"float": (int, float), "int": (int,), "str": (str,), "bool": (bool,)}
    errors = []
    for name, v in overrides.items():
        where = f"parameters.{action}.{name}"
        if name not in declared:
            errors.append(
                ParamsError(
                    label,
                    where,
                    f"the {action} notebook has no such parameter; known: {', '.join(declared)}",
                )
            )
            continue
        kind = kinds.get(declared[name]["inferred_type_name"])
        if kind and (not isinstance(v, kind) or (bool not in kind and isinstance(v, bool))):
            errors.append(
                ParamsError(
                    label, where, f"expected {declared[name]['inferred_type_name']}, got {v!r}"
                )
            )
    if errors:
        raise ParamsErrors(errors)
    return overrides


def plan(
    catalog: Catalog,
    out_dir: str | Path,
    pairs: Iterable[str] | None = None,
    actions: Iterable[str] | None = None,
    notebooks_dir: Path | None = None,
    force: bool = False,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    run_timeout: float = DEFAULT_RUN_TIMEOUT,
) -> list[RunSpec]:
    """The runs a build makes: every selected action that has a notebook, for every selected pair.

    Raises
    ------
    C3Error
        A selected pair or action id is unknown.
    ParamsErrors
        A pair overrides a parameter its notebook does not declare, or with the wrong type.
    """
    notebooks_dir = Path(notebooks_dir or os.environ.get("C3_NOTEBOOKS") or NOTEBOOKS_DIR)
    pairs = list(pairs or catalog.pairs)
    actions = list(actions or catalog.actions)
    for p in pairs:
        if p not in catalog.pairs:
            raise C3Error(f"unknown pair {p!r}; known: {', '.join(catalog.pairs)}")
    for a in actions:
        if a not in catalog.actions:
            raise C3Error(f"unknown action {a!r}; known: {', '.join(catalog.actions)}")
    commit = git_commit()
    specs = []
    for p in pairs:
        params_hash = catalog.pair_hash(p)
        for a in actions:
            nb_path = notebooks_dir / catalog.actions[a].notebook
            if not nb_path.is_file():
                continue
            overrides = _check_overrides(catalog, p, a, nb_path)
            key = _sha(
                _notebook_code(nb_path),
                params_hash,
                _code_hash(),
                json.dumps(overrides, sort_keys=True, default=str),
                p,
                a,
            )
            specs.append(
                RunSpec(
                    pair=p,
                    action=a,
                    notebook=str(nb_path),
                    params_dir=str(catalog.params_dir),
                    out_dir=str(out_dir),
                    parameters=overrides,
                    params_hash=params_hash,
                    cache_key=key,
                    git_commit=commit,
                    cell_timeout=cell_timeout,
                    run_timeout=run_timeout,
                    force=force,
                )
            )
    return specs


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


def _cell_seconds(nb: NotebookNode) -> float:
    total = 0.0
    for cell in nb.cells:
        pm = cell.get("metadata", {}).get("papermill", {})
        if pm.get("duration") is not None:
            total += float(pm["duration"])
    return total


_INSERTED_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


def _failed_cell(nb: NotebookNode) -> int | None:
    """Index, in the source notebook, of the cell that failed (papermill's cells not counted)."""
    i = 0
    for cell in nb.cells:
        if _INSERTED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.get("metadata", {}).get("papermill", {}).get("exception") or any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            return i
        i += 1
    return None


def _kernel_manager_class(ipc_dir: str):
    """A kernel manager whose kernels listen on Unix sockets in ``ipc_dir``, not on TCP.

    IPC keeps kernels unreachable from other hosts and spares the TCP port search; a
    private folder per run means sockets never land in the notebook's folder and two
    kernels never race for the same socket names.
    """
    from jupyter_client.manager import AsyncKernelManager

    if os.name != "posix":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(ipc_dir, "k"))
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # The kernel's own console chatter (e.g. "KeyboardInterrupt caught in kernel" at
            # shutdown) is not the build's output; cell output lands in the notebook.
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


def _execute(spec: RunSpec, output_path: Path) -> NotebookNode:
    import papermill

    deadline = time.monotonic() + spec.run_timeout

    def timeout_for(cell) -> float:
        return max(1.0, min(spec.cell_timeout, deadline - time.monotonic()))

    params = {"pair": spec.pair, "params_dir": spec.params_dir, **spec.parameters}
    ipc_dir = tempfile.mkdtemp(prefix="c3-kernel-")
    try:
        return papermill.execute_notebook(
            spec.notebook,
            str(output_path),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(Path(spec.notebook).parent),
            timeout_func=timeout_for,
            kernel_manager_class=_kernel_manager_class(ipc_dir),
        )
    finally:
        shutil.rmtree(ipc_dir, ignore_errors=True)


def _execute_with_retry(spec: RunSpec, output_path: Path) -> NotebookNode:
    from papermill.exceptions import PapermillExecutionError

    for attempt in range(1, KERNEL_START_TRIES + 1):
        try:
            return _execute(spec, output_path)
        except PapermillExecutionError:
            raise
        except (RuntimeError, TimeoutError) as exc:
            import nbformat

            started = output_path.exists() and _cell_seconds(nbformat.read(output_path, 4)) > 0
            if started or attempt == KERNEL_START_TRIES:
                raise
            log.warning(
                "kernel start failed for %s/%s (try %d): %s", spec.pair, spec.action, attempt, exc
            )
    raise AssertionError("unreachable")


def _error_text(exc: BaseException, spec: RunSpec) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue}"
    name = type(exc).__name__
    if name == "CellTimeoutError":
        return (
            f"CellTimeoutError: a cell ran past the timeout (cell {spec.cell_timeout:g} s, "
            f"run {spec.run_timeout:g} s)"
        )
    return f"{name}: {exc}"


@dataclass(frozen=True)
class Artifacts:
    """What one run produced, before anything is written: file contents by target-path key.

    ``files`` maps keys of :func:`target_paths` (``ipynb``, ``html``, ``json`` on success;
    ``failed``, ``error`` on failure) to text. Being plain data, artifacts travel back from
    another process or a Dask worker, and :func:`commit` writes them on the client.
    """

    result: RunResult
    files: dict[str, str]


def produce(spec: RunSpec) -> Artifacts:
    """Execute one target in a private temporary folder and return its artifacts.

    Never raises for a failure inside the notebook: that becomes a ``failed`` result
    with the executed notebook and an error record among the artifacts.
    """
    import nbformat

    from c3lib.export import export_html, find_record

    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="c3-run-")
    tmp_nb = Path(workdir) / "executed.ipynb"
    try:
        try:
            nb = _execute_with_retry(spec, tmp_nb)
        except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, not raised
            nb = nbformat.read(tmp_nb, as_version=4) if tmp_nb.exists() else None
            return _failure(spec, nb, _error_text(exc, spec), started)
        record = find_record(nb)
        if record is None:
            msg = "the notebook did not publish a record (c3lib.casestudy.publish)"
            return _failure(spec, nb, msg, started)
        record["provenance"] = {
            "c3lib_version": c3lib.__version__,
            "git_commit": spec.git_commit,
            "params_hash": spec.params_hash,
            "cache_key": spec.cache_key,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "parameters": {"pair": spec.pair, **spec.parameters},
        }
        record["status"] = "ok"
        files = {
            "ipynb": nbformat.writes(nb),
            "html": export_html(nb, record["provenance"]),
            "json": json.dumps(record, indent=1, ensure_ascii=False, default=str),
        }
        result = RunResult(
            spec.pair, spec.action, "ok", time.monotonic() - started, _cell_seconds(nb)
        )
        return Artifacts(result, files)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _failure(spec: RunSpec, nb, error: str, started: float) -> Artifacts:
    import nbformat

    cell = _failed_cell(nb) if nb is not None else None
    source = ""
    if nb is not None and cell is not None:
        kept = [c for c in nb.cells if not _INSERTED_TAGS & set(c.metadata.get("tags", []))]
        source = kept[cell].source[:2000]
    failed_name = f"{spec.action}.failed.ipynb"
    files = {
        "error": json.dumps(
            {
                "pair": spec.pair,
                "action": spec.action,
                "status": "failed",
                "error": error,
                "failed_cell": cell,
                "cell_source": source,
                "failed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "executed_notebook": failed_name if nb is not None else None,
            },
            indent=1,
            ensure_ascii=False,
        )
    }
    if nb is not None:
        files["failed"] = nbformat.writes(nb)
    seconds = time.monotonic() - started
    cell_seconds = _cell_seconds(nb) if nb is not None else 0.0
    result = RunResult(spec.pair, spec.action, "failed", seconds, cell_seconds, error, cell)
    return Artifacts(result, files)


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


def run(spec: RunSpec) -> RunResult:
    """Execute one target and write its outputs, unless they are up to date."""
    if _is_current(spec, target_paths(spec.out_dir, spec.pair, spec.action)):
        return RunResult(spec.pair, spec.action, "cached")
    return commit(spec, produce(spec))


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


def build(
    specs: list[RunSpec],
    jobs: int = 1,
    on_result: Callable[[RunResult], None] | None = None,
    scheduler: str | None = None,
) -> list[RunResult]:
    """Run every spec, each in a fresh kernel; failures do not stop the batch.

    Parameters
    ----------
    specs : list of RunSpec
        From :func:`plan`.
    jobs : int
        Worker processes on this machine. 1 runs in this process.
    on_result : callable, optional
        Called with each :class:`RunResult` as it completes (for progress display).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``). The runs go to its
        workers, which return their artifacts; this process writes them.

    Notes
    -----
    Workers only execute (:func:`produce`); every file is written here (:func:`commit`),
    so one process writes the outputs and a worker never needs the output folder.
    """
    for out_dir in {s.out_dir for s in specs}:
        clean_temporaries(out_dir)
    results = []
    todo = []
    for s in specs:
        if _is_current(s, target_paths(s.out_dir, s.pair, s.action)):
            results.append(RunResult(s.pair, s.action, "cached"))
            if on_result:
                on_result(results[-1])
        else:
            todo.append(s)
    for spec, artifacts in _produce_all(todo, jobs, scheduler):
        results.append(commit(spec, artifacts))
        if on_result:
            on_result(results[-1])
    return results


def _crashed(spec: RunSpec, exc: BaseException) -> Artifacts:
    result = RunResult(spec.pair, spec.action, "failed", error=f"worker crashed: {exc!r}")
    error = {
        "pair": spec.pair,
        "action": spec.action,
        "status": "failed",
        "error": result.error,
        "failed_cell": None,
        "executed_notebook": None,
    }
    return Artifacts(result, {"error": json.dumps(error, indent=1)})


def _produce_all(
    todo: list[RunSpec], jobs: int, scheduler: str | None
) -> Iterator[tuple[RunSpec, Artifacts]]:
    if scheduler:
        from c3lib.distributed import produce_on_cluster

        yield from produce_on_cluster(todo, scheduler)
        return
    if jobs <= 1 or len(todo) <= 1:
        for s in todo:
            yield s, produce(s)
        return
    # Fresh worker processes (forkserver): each run starts its own kernel, and the executed
    # notebook travels back as text, so a worker holds one run's data at a time.
    # (max_tasks_per_child is avoided: CPython 3.11's executor can hang replacing workers.)
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(todo)), mp_context=get_context("forkserver")
    ) as pool:
        futures = {pool.submit(produce, s): s for s in todo}
        for fut in as_completed(futures):
            s = futures[fut]
            try:
                yield s, fut.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails one run only
                yield s, _crashed(s, exc)


def results_json(results: list[RunResult]) -> str:
    """The results of a build as JSON (for ``outputs/build.json``)."""
    return json.dumps([asdict(r) for r in results], indent=1)
