"""Run targets: papermill in a fresh kernel per run, on local worker processes.

Each worker process imports papermill and nbconvert once, reuses one HTML exporter and is
replaced after :data:`WORKER_RUNS` runs. Every run gets a kernel of its own
(:mod:`c3lib.build.kernels`: forked from a warm template, ready before the run needs it)
and reads a private copy of exactly the params files its cache key covers, in a private
run folder (``c3-run-<pid>-*`` in the temporary folder) that is also the kernel's working
folder: a file a notebook writes by a relative name lands there and is removed with it,
never beside the sources or among the outputs. A run returns its files as
:class:`~c3lib.build.store.Artifacts` and writes nothing: only the build process writes
outputs (:func:`c3lib.build.store.commit`), so its memory does not grow with the number
of runs. :mod:`c3lib.build.cluster` runs the same :func:`produce` on Dask
workers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import c3lib
from c3lib.build.kernels import (
    Template,
    c3lib_modules,
    close_thread_loop,
    template_main,
    thread_kernels,
)
from c3lib.build.plan import RunSpec, params_files
from c3lib.build.store import RUN_FOLDER_PREFIX, Artifacts, RunResult, target_paths
from c3lib.exceptions import C3Error

if TYPE_CHECKING:  # nbformat is slow to import; the no-op rebuild never needs it
    from nbformat import NotebookNode

__all__ = ["produce", "produce_in_workers", "failure", "crashed", "WARM_KERNELS"]

log = logging.getLogger("c3lib")

KERNEL_START_TRIES = 3
WORKER_RUNS = 20  # runs per worker process before it is replaced (keeps memory flat)
# Modules a worker needs, imported once in the fork server so every worker starts warm.
WORKER_PRELOAD = [
    "c3lib.build.run",
    "c3lib.build.export",
    "papermill",
    "nbconvert",
    "jupyter_client",
    "ipykernel.kernelapp",  # for the kernel templates, which start from the same server
]
# Fork kernels from a warm template process (c3lib.kernels): on Linux by default (macOS
# frameworks are not fork-safe once loaded); C3_WARM_KERNELS=0 or 1 overrides.
WARM_KERNELS = os.environ.get("C3_WARM_KERNELS", "1" if sys.platform == "linux" else "0") != "0"


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
    """Index, in ``nb`` (the executed notebook, papermill's cells included), of the failed cell."""
    for i, cell in enumerate(nb.cells):
        if _INSERTED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.get("metadata", {}).get("papermill", {}).get("exception") or any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            return i
    return None


_run_folders = threading.local()  # the folder made ahead for this thread's next run


def _new_run_folder() -> Path:
    """A private folder for one run: ``params/`` (its copy), ``work/`` (the kernel's cwd)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{RUN_FOLDER_PREFIX}{os.getpid()}-"))
    (folder / "work").mkdir()
    return folder


def _take_run_folder() -> Path:
    """The folder for this thread's run: the one its booted-ahead kernel works in, or new."""
    folder = getattr(_run_folders, "next", None)
    _run_folders.next = None
    if folder is not None and folder.is_dir():
        return folder
    return _new_run_folder()


def _drop_next_run_folder() -> None:
    folder = getattr(_run_folders, "next", None)
    _run_folders.next = None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


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
    # the run's own folder (see _execute_spec), never the notebooks or the outputs folder
    cwd = str(output_path.parent / "work")
    kernels = thread_kernels()
    kernel = kernels.take(cwd)
    if kernels.boot_next and getattr(_run_folders, "next", None) is None:
        _run_folders.next = _new_run_folder()
        kernels.boot(str(_run_folders.next / "work"))
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
            _drop_next_run_folder()
            close_thread_loop()


@dataclass
class _Executed:
    """A run executed but not yet exported: the notebook, or why there is none."""

    spec: RunSpec
    nb: NotebookNode | None
    error: str | None
    started: float
    params_source: tuple[str, str] = ("", "")  # file and field, for an error from params


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
    workdir = _take_run_folder()
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
        error, source = _params_error(_error_text(exc, spec), exc, ran.params_dir, spec)
        return _Executed(spec, nb, error, started, source)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


_PARAMS_ERRORS = {"ParamsError", "ParamsErrors"}
_FIELD = re.compile(r"([A-Za-z_][\w.\[\]-]*): ")


def _params_error(
    error: str, exc: BaseException, ran_params: str, spec: RunSpec
) -> tuple[str, tuple[str, str]]:
    """An error text naming the user's params files, and, if it came from params, where.

    A run reads a private copy of its params files: a :class:`~c3lib.exceptions.ParamsError`
    raised in the notebook names the copy, which the text here replaces by the params
    folder the user knows. Its message is ``<file>: <field>: <what>`` (or ``<file>:
    <what>``), from which the file and the field are read back.
    """
    from papermill.exceptions import PapermillExecutionError

    copies = {ran_params, str(Path(ran_params).resolve())}
    for copy in sorted(copies, key=len, reverse=True):
        error = error.replace(copy, str(spec.params_dir))
    if not (isinstance(exc, PapermillExecutionError) and exc.ename in _PARAMS_ERRORS):
        return error, ("", "")
    value = error.split(": ", 1)[1] if ": " in error else ""
    if exc.ename == "ParamsErrors":  # "N error(s) in params:\n  - <file>: ...": the first
        first = [ln.strip()[2:] for ln in value.splitlines() if ln.strip().startswith("- ")]
        value = first[0] if first else ""
    root = str(spec.params_dir).rstrip("/\\")
    if not value.startswith(root):
        return error, ("", "")
    file, sep, rest = value.partition(": ")
    m = _FIELD.match(rest) if sep else None
    return error, (file, m.group(1) if m else "")


_export_lock = threading.Lock()  # one exporter per process; Dask may run threads side by side


def _finish(run: _Executed) -> Artifacts:
    """The artifacts of an executed run: notebook, HTML and record, or the failure record."""
    import nbformat

    from c3lib.build.export import export_html, find_record

    spec, nb = run.spec, run.nb
    if run.error is not None:
        return failure(spec, nb, run.error, run.started, run.params_source)
    record = find_record(nb)
    if record is None:
        msg = "the notebook did not publish a record (c3lib.casestudy.publish)"
        return failure(spec, nb, msg, run.started)
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


def failure(
    spec: RunSpec,
    nb,
    error: str,
    started: float,
    params_source: tuple[str, str] = ("", ""),
) -> Artifacts:
    """The artifacts of a failed run: the error record and, if it ran, the failed notebook.

    The failing cell is given as the failed notebook shows it: its position (from 1, the
    cells papermill added included) and its execution count (``In [N]``). ``params_source``
    is the params file and field the error comes from, if it does.
    """
    import nbformat

    index = _failed_cell(nb) if nb is not None else None
    position = execution_count = None
    source = ""
    if index is not None:
        position = index + 1
        execution_count = nb.cells[index].get("execution_count")
        source = nb.cells[index].source[:2000]
    failed_path = str(target_paths(spec.out_dir, spec.pair, spec.action)["failed"])
    params_file, params_field = params_source
    files = {
        "error": json.dumps(
            {
                "pair": spec.pair,
                "action": spec.action,
                "status": "failed",
                "error": error,
                "failed_cell": position,
                "execution_count": execution_count,
                "cell_source": source,
                "params_file": params_file or None,
                "params_field": params_field or None,
                "failed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "executed_notebook": f"{spec.action}.failed.ipynb" if nb is not None else None,
            },
            indent=1,
            ensure_ascii=False,
        )
    }
    if nb is not None:
        files["failed"] = nbformat.writes(nb)
    seconds = time.monotonic() - started
    cell_seconds = _cell_seconds(nb) if nb is not None else 0.0
    result = RunResult(
        spec.pair,
        spec.action,
        "failed",
        seconds,
        cell_seconds,
        error,
        position,
        execution_count,
        failed_path if nb is not None else "",
        params_file,
        params_field,
    )
    return Artifacts(result, files)


def crashed(spec: RunSpec, exc: BaseException | str) -> Artifacts:
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


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _worker_main(conn, runs: int, template_conn=None) -> None:
    """A worker process: execute the specs the build sends, at most ``runs``, then exit.

    The main thread executes notebooks; a second thread exports each executed notebook
    (the CPU-heavy part of a run in this process) while the next one executes. Messages
    to the build: ``("executed", None)`` when a notebook has run (send the next spec) and
    ``("done", Artifacts)`` when its files are ready. With ``template_conn``, kernels are
    forked from that template process (:class:`c3lib.build.kernels.Template`). SIGTERM (the
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
        gone = False
        while (item := executed.get()) is not None:
            if gone:
                continue  # keep taking runs, so the main thread never blocks on the queue
            try:
                send(("done", _finish(item)))
            except OSError:
                gone = True  # the build is gone

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
        _drop_next_run_folder()
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


def produce_in_workers(todo: list[RunSpec], jobs: int) -> Iterator[tuple[RunSpec, Artifacts]]:
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
                            yield spec, crashed(spec, why)
                        else:
                            retried.add((spec.pair, spec.action))
                            pending.appendleft(spec)
                    if running is not None:
                        yield running, crashed(running, why)
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
