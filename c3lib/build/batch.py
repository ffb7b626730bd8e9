"""Build a batch of targets: skip what is up to date, run the rest, write each result.

Runs execute on local worker processes (:func:`c3lib.build.run.produce_in_workers`) or on
a Dask cluster (:func:`c3lib.build.cluster.produce_on_cluster`); either way they return
artifacts and only this process writes them (:func:`c3lib.build.store.commit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing

from c3lib.build.plan import RunSpec
from c3lib.build.run import produce, produce_in_workers
from c3lib.build.store import Artifacts, RunResult, clean_temporaries, commit, up_to_date

__all__ = ["run", "build"]


def run(spec: RunSpec) -> RunResult:
    """Execute one target in this process and write its outputs, unless they are up to date."""
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


def _produce_all(
    todo: list[RunSpec], jobs: int, scheduler: str | None
) -> Iterator[tuple[RunSpec, Artifacts]]:
    if scheduler:
        from c3lib.build.cluster import produce_on_cluster

        yield from produce_on_cluster(todo, scheduler)
    else:
        yield from produce_in_workers(todo, max(1, jobs))


# --- local worker processes -------------------------------------------------------------
