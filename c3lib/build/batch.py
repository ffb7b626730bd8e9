"""Build a batch of targets: skip what is up to date, run the rest, write each result.

Runs execute on local worker processes (:func:`c3lib.build.run.produce_in_workers`) or on
a Dask cluster (:func:`c3lib.build.cluster.produce_on_cluster`); either way they return
artifacts and only this process writes them (:func:`c3lib.build.store.commit`), holding
each output folder's lock (:func:`c3lib.build.store.output_lock`) meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing

from c3lib.build.plan import RunSpec
from c3lib.build.run import produce, produce_in_workers
from c3lib.build.store import (
    Artifacts,
    RunResult,
    artifact_digests,
    clean_stale_run_folders,
    clean_temporaries,
    commit,
    discard,
    file_digests,
    output_lock,
    up_to_date,
)

__all__ = ["run", "build", "TAMPERED"]

log = logging.getLogger("c3lib")

TAMPERED = (
    "its files were changed during the build by another process (a notebook writing "
    "outside its folder?)"
)


def run(spec: RunSpec) -> RunResult:
    """Execute one target in this process and write its outputs, unless they are up to date.

    Waits while another build holds the output folder (:func:`output_lock`).
    """
    with output_lock(spec.out_dir):
        if up_to_date(spec):
            return RunResult(spec.pair, spec.action, "cached")
        return commit(spec, produce(spec))


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
    Each output folder is locked for the whole build (:func:`output_lock`: a second
    build into it waits), and what dead builds left is removed first: their temporary
    files in the folder and their run and kernel folders in the temporary folder. A
    build never removes another live process's files.

    Workers only execute (:func:`produce`); every file is written here (:func:`commit`)
    as each run finishes, so one process writes the outputs, a worker never needs the
    output folder, and this process holds at most one run's files at a time: its memory
    does not grow with the number of runs. Up-to-date targets start no worker at all.

    Kernels cannot write outside their private folders where Linux offers Landlock
    (:mod:`c3lib.build.confine`). Wherever it does not, the build still checks its work:
    it notes the hash of every target's notebook, page and record as it finds them and
    as it writes them, and after the last run compares them with the files. A target
    whose files another process changed meanwhile is made again, once, with nothing else
    running; if its files still differ they are removed (the target then reads as failed
    and is made by the next build). Results are returned in the order of ``specs``.
    """
    with ExitStack() as locks:
        for out_dir in sorted({str(s.out_dir) for s in specs}):  # one order: no deadlock
            locks.enter_context(output_lock(out_dir))
            clean_temporaries(out_dir)
        clean_stale_run_folders()
        return _build(specs, jobs, on_result, scheduler)


def _build(
    specs: list[RunSpec],
    jobs: int,
    on_result: Callable[[RunResult], None] | None,
    scheduler: str | None,
) -> list[RunResult]:
    results: dict[tuple[str, str], RunResult] = {}
    # each target's good files as this build leaves them, by hash: as found, then as written
    expected = {(s.pair, s.action): file_digests(s.out_dir, s.pair, s.action) for s in specs}
    todo = []
    for s in specs:
        if up_to_date(s):
            results[s.pair, s.action] = RunResult(s.pair, s.action, "cached")
            if on_result:
                on_result(results[s.pair, s.action])
        else:
            todo.append(s)
    if todo:
        for spec, result in _run_all(todo, jobs, scheduler, expected):
            results[spec.pair, spec.action] = result
            if on_result:
                on_result(result)
    changed = _changed(specs, expected)
    if changed:  # made again, once, with nothing else running: then they are as written
        for spec in changed:
            log.warning("%s/%s: %s; making it again", spec.pair, spec.action, TAMPERED)
        for spec, result in _run_all(changed, jobs, scheduler, expected):
            results[spec.pair, spec.action] = result
        for spec in _changed(changed, expected):
            results[spec.pair, spec.action] = discard(spec, f"{TAMPERED}; its files are removed")
    return [results[s.pair, s.action] for s in specs]


def _run_all(
    todo: list[RunSpec], jobs: int, scheduler: str | None, expected: dict
) -> Iterator[tuple[RunSpec, RunResult]]:
    """Produce and commit ``todo``, noting in ``expected`` the hashes of what is written."""
    with closing(_produce_all(todo, jobs, scheduler)) as produced:
        for spec, artifacts in produced:
            result = commit(spec, artifacts)
            if result.status == "ok":
                expected[spec.pair, spec.action] = artifact_digests(artifacts)
            del artifacts
            yield spec, result


def _changed(specs: list[RunSpec], expected: dict) -> list[RunSpec]:
    """The targets whose good files are not what this build found or wrote."""
    return [
        s for s in specs if file_digests(s.out_dir, s.pair, s.action) != expected[s.pair, s.action]
    ]


def _produce_all(
    todo: list[RunSpec], jobs: int, scheduler: str | None
) -> Iterator[tuple[RunSpec, Artifacts]]:
    if scheduler:
        from c3lib.build.cluster import produce_on_cluster

        yield from produce_on_cluster(todo, scheduler)
    else:
        yield from produce_in_workers(todo, max(1, jobs))


# --- local worker processes -------------------------------------------------------------
