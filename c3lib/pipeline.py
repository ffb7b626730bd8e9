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
covers the notebook's cells, the pair's and cities' params, the reference data, c3lib and
the template).

Runs execute in worker processes (:func:`build`), each of which imports papermill and
nbconvert once, reuses one HTML exporter and is replaced after :data:`WORKER_RUNS` runs.
Every run gets a kernel of its own (:mod:`c3lib.kernels`: forked from a warm template,
ready before the run needs it) and reads a private copy of exactly the params files its
cache key covers. Workers return a run's files as :class:`Artifacts`; only the build
process writes outputs, so its memory does not grow with the number of runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import c3lib
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors
from c3lib.kernels import (
    Template,
    c3lib_modules,
    close_thread_loop,
    template_main,
    thread_kernels,
)
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
WORKER_RUNS = 20  # runs per worker process before it is replaced (keeps memory flat)
# Modules a worker needs, imported once in the fork server so every worker starts warm.
WORKER_PRELOAD = [
    "c3lib.pipeline",
    "c3lib.export",
    "papermill",
    "nbconvert",
    "jupyter_client",
    "ipykernel.kernelapp",  # for the kernel templates, which start from the same server
]
# Fork kernels from a warm template process (c3lib.kernels): on Linux by default (macOS
# frameworks are not fork-safe once loaded); C3_WARM_KERNELS=0 or 1 overrides.
WARM_KERNELS = os.environ.get("C3_WARM_KERNELS", "1" if sys.platform == "linux" else "0") != "0"


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
    params_files: tuple[str, ...] = ()  # what the run reads, relative to params_dir
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
    """Hash of c3lib's version and source, the reference data and the export template."""
    pkg = Path(c3lib.__file__).parent
    templates = pkg.parent / "templates"
    files = sorted(pkg.glob("*.py")) + sorted(templates.rglob("*") if templates.is_dir() else [])
    return _sha(c3lib.__version__, data_hash(), *[p.read_bytes() for p in files if p.is_file()])


@cache
def _notebook_hash(path: Path, mtime_ns: int, size: int) -> str:
    """Hash of what a notebook runs and shows: every cell's type, source and tags.

    Outputs, execution counts and other metadata do not count, so opening and saving a
    notebook in JupyterLab does not invalidate its case studies. Markdown counts: it is
    part of the HTML.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = [json.dumps(nb.get("metadata", {}).get("kernelspec", {}).get("name", ""))]
    for c in nb["cells"]:
        source = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        tags = sorted(c.get("metadata", {}).get("tags", []))
        parts.append(json.dumps([c["cell_type"], source, tags]))
    return _sha(*parts)


def notebook_hash(path: Path) -> str:
    """:func:`_notebook_hash` of ``path``, computed once per version of the file."""
    st = path.stat()
    return _notebook_hash(path, st.st_mtime_ns, st.st_size)


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
                    label,
                    where,
                    f"expected {declared[name]['inferred_type_name']}, got {v!r}",
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

    Each run's cache key covers the notebook's cells (:func:`notebook_hash`), the actions
    file, the pair's file and both its cities' files, any parameter overrides, and c3lib's
    version, source, reference data and template.

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
    code = _code_hash()
    specs = []
    for p in pairs:
        params_hash = catalog.pair_hash(p)
        pair = catalog.pairs[p]
        files = ("actions.yaml", f"pairs/{p}.yaml")
        files += (f"cities/{pair.mentor}.yaml", f"cities/{pair.learning}.yaml")
        for a in actions:
            nb_path = notebooks_dir / catalog.actions[a].notebook
            if not nb_path.is_file():
                continue
            overrides = _check_overrides(catalog, p, a, nb_path)
            key = _sha(
                notebook_hash(nb_path),
                params_hash,
                code,
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
                    params_files=files,
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


def _cell_seconds(nb: NotebookNode) -> float:
    total = 0.0
    for cell in nb.cells:
        pm = cell.get("metadata", {}).get("papermill", {})
        if pm.get("duration") is not None:
            total += float(pm["duration"])
    return total


def _started(nb: NotebookNode) -> bool:
    """Whether any cell began executing (papermill stamps a start time on each it starts)."""
    return any(c.get("metadata", {}).get("papermill", {}).get("start_time") for c in nb.cells)


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


@cache
def _engine_name() -> str:
    """Register (once per process) and name the papermill engine runs use.

    It is papermill's nbclient engine, given a kernel this module started (so the kernel's
    transport, folder and boot-ahead are ours) and owning it (so nbclient shuts it down
    and closes its channels after the run), and it hands back the notebook it executes so
    a failed run's notebook is kept without papermill saving it to disk after every cell.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class C3Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs.pop("c3_sink").append(nb_man.nb)
            for name in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(name, None)
            client = PapermillNotebookClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                shutdown_kernel="immediate",  # the kernel served this run only
                **kwargs,
            )
            client.owns_km = True
            return client.execute()

    papermill_engines.register("c3", C3Engine)
    return "c3"


def _execute(spec: RunSpec, output_path: Path) -> NotebookNode:
    """Execute ``spec``'s notebook in a fresh kernel and return it.

    The executed notebook is also at ``output_path`` afterwards, whether the run succeeded
    or failed, as far as it got.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    deadline = time.monotonic() + spec.run_timeout

    def timeout_for(cell) -> float:
        return max(1.0, min(spec.cell_timeout, deadline - time.monotonic()))

    params = {"pair": spec.pair, "params_dir": spec.params_dir, **spec.parameters}
    cwd = str(Path(spec.notebook).parent)
    kernels = thread_kernels()
    kernel = kernels.take(cwd)
    if kernels.boot_next:
        kernels.boot(cwd)
    sink: list = []
    try:
        return papermill.execute_notebook(
            spec.notebook,
            str(output_path),
            parameters=params,
            engine_name=_engine_name(),
            request_save_on_cell_execute=False,  # one write at the end, not one per cell
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            timeout_func=timeout_for,
            km=kernel.km,
            c3_sink=sink,
        )
    except BaseException as exc:
        # papermill saved the notebook of a cell error itself; keep it for any other failure
        if sink and not isinstance(exc, PapermillExecutionError):
            import nbformat

            nbformat.write(sink[0], str(output_path))
        raise
    finally:
        kernels.done(kernel)


def _execute_with_retry(spec: RunSpec, output_path: Path) -> NotebookNode:
    """:func:`_execute`, retried with a new kernel when a kernel fails to start."""
    from papermill.exceptions import PapermillExecutionError

    for attempt in range(1, KERNEL_START_TRIES + 1):
        try:
            return _execute(spec, output_path)
        except PapermillExecutionError:
            raise
        except (RuntimeError, TimeoutError) as exc:
            import nbformat

            started = output_path.exists() and _started(nbformat.read(output_path, 4))
            if started or attempt == KERNEL_START_TRIES:
                raise
            log.warning(
                "kernel start failed for %s/%s (try %d): %s",
                spec.pair,
                spec.action,
                attempt,
                exc,
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


def produce(
    spec: RunSpec, boot_next: bool = False, params: dict[str, str] | None = None
) -> Artifacts:
    """Execute one target in a fresh kernel and return its artifacts; write nothing.

    Never raises for a failure inside the notebook: that becomes a ``failed`` result
    with the executed notebook and an error record among the artifacts. With
    ``boot_next``, the kernel for this thread's next run boots while this one executes.
    ``params`` gives the run's params files (:func:`params_files`) when they are not
    readable at ``spec.params_dir`` (on a Dask worker).
    """
    kernels = thread_kernels()
    kernels.boot_next = boot_next
    try:
        return _finish(_execute_spec(spec, params))
    finally:
        if not boot_next:  # nothing kept for a next run: leave no kernel and no loop behind
            kernels.close()
            close_thread_loop()


@dataclass
class _Executed:
    """A run executed but not yet exported: the notebook, or why there is none."""

    spec: RunSpec
    nb: NotebookNode | None
    error: str | None
    started: float


def params_files(spec: RunSpec) -> dict[str, str]:
    """The params files a run reads, by path relative to its params folder, with their text.

    They are the files its cache key covers: the actions file, the pair's file and the
    files of the pair's two cities.
    """
    root = Path(spec.params_dir)
    names = spec.params_files
    if not names:  # a spec made by hand: find the pair's cities
        import yaml

        pair = yaml.safe_load((root / "pairs" / f"{spec.pair}.yaml").read_text(encoding="utf-8"))
        names = ("actions.yaml", f"pairs/{spec.pair}.yaml")
        names += tuple(f"cities/{pair[role]}.yaml" for role in ("mentor", "learning"))
    return {name: (root / name).read_text(encoding="utf-8") for name in names}


def _write_params(files: dict[str, str], folder: Path) -> None:
    for name, text in files.items():
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise C3Error(f"params file {name!r} leaves the params folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _show_params_dir(nb: NotebookNode, ran: RunSpec, spec: RunSpec) -> None:
    """Make the injected parameters cell name the params folder the user knows.

    A run reads a private copy of its params files (``ran.params_dir``); the executed
    notebook, its HTML and any edition made from it show ``spec.params_dir``, where the
    same files are, so a mentor can run the notebook again as it stands.
    """
    from papermill.translators import translate_parameters

    def injected(params_dir: str) -> str:
        values = {"pair": spec.pair, "params_dir": params_dir, **spec.parameters}
        return translate_parameters("python3", "python", values, "Parameters")

    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            if cell.source == injected(ran.params_dir):
                cell.source = injected(spec.params_dir)
            return


def _execute_spec(spec: RunSpec, params: dict[str, str] | None = None) -> _Executed:
    """Execute ``spec`` against a private copy of its params files (``params``, or read).

    A run thus reads only the files its cache key covers, and a notebook that loads its
    whole params folder reads four files, not every pair's and city's.
    """
    import nbformat

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="c3-run-"))
    tmp_nb = workdir / "executed.ipynb"
    ran = replace(spec, params_dir=str(workdir / "params"))
    try:
        _write_params(params if params is not None else params_files(spec), workdir / "params")
        nb = _execute_with_retry(ran, tmp_nb)
        _show_params_dir(nb, ran, spec)
        return _Executed(spec, nb, None, started)
    except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, not raised
        nb = nbformat.read(tmp_nb, as_version=4) if tmp_nb.exists() else None
        if nb is not None:
            _show_params_dir(nb, ran, spec)
        return _Executed(spec, nb, _error_text(exc, spec), started)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


_export_lock = threading.Lock()  # one exporter per process; Dask may run threads side by side


def _finish(run: _Executed) -> Artifacts:
    """The artifacts of an executed run: notebook, HTML and record, or the failure record."""
    import nbformat

    from c3lib.export import export_html, find_record

    spec, nb = run.spec, run.nb
    if run.error is not None:
        return _failure(spec, nb, run.error, run.started)
    record = find_record(nb)
    if record is None:
        msg = "the notebook did not publish a record (c3lib.casestudy.publish)"
        return _failure(spec, nb, msg, run.started)
    record["provenance"] = {
        "c3lib_version": c3lib.__version__,
        "git_commit": spec.git_commit,
        "params_hash": spec.params_hash,
        "cache_key": spec.cache_key,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": {"pair": spec.pair, **spec.parameters},
    }
    record["status"] = "ok"
    with _export_lock:
        html = export_html(nb, record["provenance"])
    files = {
        "ipynb": nbformat.writes(nb),
        "html": html,
        "json": json.dumps(record, indent=1, ensure_ascii=False, default=str),
    }
    seconds = time.monotonic() - run.started
    result = RunResult(spec.pair, spec.action, "ok", seconds, _cell_seconds(nb))
    return Artifacts(result, files)


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
    """Execute one target in this process and write its outputs, unless they are up to date."""
    if up_to_date(spec):
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
    """Run every spec that is not up to date, each in a fresh kernel; failures do not stop it.

    Parameters
    ----------
    specs : list of RunSpec
        From :func:`plan`.
    jobs : int
        Worker processes on this machine (each runs one notebook at a time).
    on_result : callable, optional
        Called with each :class:`RunResult` as it completes (for progress display).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``). The runs go to its
        workers, which return their artifacts; this process writes them.

    Notes
    -----
    Workers only execute (:func:`produce`); every file is written here (:func:`commit`)
    as each run finishes, so one process writes the outputs, a worker never needs the
    output folder, and this process holds at most one run's files at a time: its memory
    does not grow with the number of runs. Up-to-date targets start no worker at all.
    """
    for out_dir in {s.out_dir for s in specs}:
        clean_temporaries(out_dir)
    results = []
    todo = []
    for s in specs:
        if up_to_date(s):
            results.append(RunResult(s.pair, s.action, "cached"))
            if on_result:
                on_result(results[-1])
        else:
            todo.append(s)
    if not todo:
        return results
    with closing(_produce_all(todo, jobs, scheduler)) as produced:
        for spec, artifacts in produced:
            results.append(commit(spec, artifacts))
            del artifacts
            if on_result:
                on_result(results[-1])
    return results


def _crashed(spec: RunSpec, exc: BaseException | str) -> Artifacts:
    result = RunResult(spec.pair, spec.action, "failed", error=f"worker crashed: {exc}")
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
    else:
        yield from _produce_in_workers(todo, max(1, jobs))


# --- local worker processes -------------------------------------------------------------


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _worker_main(conn, runs: int, template_conn=None) -> None:
    """A worker process: execute the specs the build sends, at most ``runs``, then exit.

    The main thread executes notebooks; a second thread exports each executed notebook
    (the CPU-heavy part of a run in this process) while the next one executes. Messages
    to the build: ``("executed", None)`` when a notebook has run (send the next spec) and
    ``("done", Artifacts)`` when its files are ready. With ``template_conn``, kernels are
    forked from that template process (:class:`c3lib.kernels.Template`). SIGTERM (the
    build stopping) interrupts a run like Ctrl-C, so papermill shuts its kernel down; a
    worker whose build died finds its pipe closed and exits.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    send_lock = threading.Lock()
    executed: queue.Queue = queue.Queue(maxsize=1)  # at most one run waits for export

    def send(message) -> None:
        with send_lock:
            conn.send(message)

    def exporter() -> None:
        while (item := executed.get()) is not None:
            try:
                send(("done", _finish(item)))
            except OSError:
                return  # the build is gone

    thread = threading.Thread(target=exporter, name="c3-export", daemon=True)
    thread.start()
    kernels = thread_kernels()
    kernels.template = Template(template_conn) if template_conn is not None else None
    try:
        for _ in range(runs):
            signal.signal(signal.SIGTERM, _raise_interrupt)  # nbclient may reset it
            task = conn.recv()
            if task is None:
                break
            spec, kernels.boot_next = task
            item = _execute_spec(spec)
            send(("executed", None))
            executed.put(item)
            del item
        executed.put(None)
        thread.join()
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        kernels.close()
        if kernels.template is not None:
            kernels.template.close()
        close_thread_loop()
        conn.close()


@cache
def _worker_context():
    import multiprocessing

    if sys.platform != "linux":  # no fork after loading macOS frameworks; Windows cannot
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Takes effect when the fork server starts (once per build process): each worker then
    # begins with papermill, nbconvert and c3lib already imported.
    # The kernel templates, forked from the same server, then only add matplotlib.
    ctx.set_forkserver_preload(WORKER_PRELOAD + c3lib_modules())
    return ctx


@dataclass
class _Worker:
    process: object
    conn: object
    template: object | None = None  # its kernel template process, if any
    runs: int = 0
    executing: RunSpec | None = None
    exporting: deque = field(default_factory=deque)

    @property
    def idle(self) -> bool:
        return self.executing is None and not self.exporting

    def lost(self) -> tuple[RunSpec | None, list[RunSpec]]:
        """When the process has died: the run it was executing and those it was exporting."""
        lost = self.executing, list(self.exporting)
        self.executing, self.exporting, self.runs = None, deque(), WORKER_RUNS
        return lost


def _produce_in_workers(todo: list[RunSpec], jobs: int) -> Iterator[tuple[RunSpec, Artifacts]]:
    """Execute ``todo`` on up to ``jobs`` worker processes, yielding artifacts as runs finish.

    A worker gets its next spec as soon as its current notebook has executed (it exports
    the last one meanwhile). Workers are replaced after :data:`WORKER_RUNS` runs. When one
    dies, the run it was executing fails and any it was still exporting run again. When
    the caller stops early (an interrupt), busy workers get SIGTERM, which stops their
    kernels, and idle ones are told to exit.
    """
    from multiprocessing.connection import wait

    ctx = _worker_context()
    pending = deque(todo)
    workers: list[_Worker] = []
    retried: set[tuple[str, str]] = set()

    def start() -> _Worker:
        template = to_template = None
        if WARM_KERNELS and os.name == "posix":
            to_template, for_template = ctx.Pipe()
            template = ctx.Process(target=template_main, args=(for_template,), daemon=True)
            template.start()
            for_template.close()
        ours, theirs = ctx.Pipe()
        args = (theirs, WORKER_RUNS, to_template)
        p = ctx.Process(target=_worker_main, args=args, daemon=True)
        p.start()
        theirs.close()
        if to_template is not None:
            to_template.close()  # the worker holds it now; the template ends with the worker
        return _Worker(p, ours, template)

    try:
        while pending or not all(w.idle for w in workers):
            # a worker counts until its last run has executed (it may still be exporting),
            # so no more than ``jobs`` notebooks ever execute at once
            while (
                pending
                and sum(w.runs < WORKER_RUNS or w.executing is not None for w in workers) < jobs
            ):
                workers.append(start())
            for w in workers:
                if pending and w.executing is None and w.runs < WORKER_RUNS:
                    w.executing = pending.popleft()
                    w.runs += 1
                    try:
                        w.conn.send((w.executing, w.runs < WORKER_RUNS and bool(pending)))
                    except OSError:
                        pass  # the worker died: its sentinel reports it below
            active = [w for w in workers if not w.idle]
            wait([w.conn for w in active] + [w.process.sentinel for w in active])
            for w in active:
                try:
                    while not w.idle and w.conn.poll():
                        kind, artifacts = w.conn.recv()
                        if kind == "executed":
                            w.exporting.append(w.executing)
                            w.executing = None
                        else:
                            yield w.exporting.popleft(), artifacts
                        del artifacts
                except (EOFError, OSError):
                    w.process.join(5)  # the pipe closed: the process is ending
                if not w.idle and not w.process.is_alive():
                    why = f"worker process ended (exit code {w.process.exitcode})"
                    running, exported = w.lost()
                    # Runs that had executed were not at fault: run them again, once.
                    for spec in reversed(exported):
                        if (spec.pair, spec.action) in retried:
                            yield spec, _crashed(spec, why)
                        else:
                            retried.add((spec.pair, spec.action))
                            pending.appendleft(spec)
                    if running is not None:
                        yield running, _crashed(running, why)
            for w in [w for w in workers if w.idle and w.runs >= WORKER_RUNS]:
                _stop_workers([w])
                workers.remove(w)
    finally:
        _stop_workers(workers)


def _stop_workers(workers: list[_Worker]) -> None:
    for w in workers:
        if not w.process.is_alive():
            continue
        if not w.idle:
            w.process.terminate()
        else:
            try:
                w.conn.send(None)
            except OSError:
                w.process.terminate()
    deadline = time.monotonic() + 15
    for w in workers:
        for p in (w.process, w.template):
            if p is None:
                continue
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        w.conn.close()


def results_json(results: list[RunResult]) -> str:
    """The results of a build as JSON (for ``outputs/build.json``)."""
    return json.dumps([asdict(r) for r in results], indent=1)
