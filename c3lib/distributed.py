"""Run a build's targets on a Dask distributed cluster.

The client sends each :class:`~c3lib.pipeline.RunSpec` to the cluster with
``Client.map``; a worker executes it with :func:`c3lib.pipeline.produce` and returns the
artifacts (notebook, HTML and record as text), and the client writes them with
:func:`c3lib.pipeline.commit`. Workers therefore need c3lib and its dependencies
installed and the notebooks and params at the paths the specs name (the client's
absolute paths: a shared or identically laid-out checkout), but never the output folder.
"""

from __future__ import annotations

from collections.abc import Iterator

from c3lib.exceptions import C3Error
from c3lib.pipeline import Artifacts, RunSpec, _crashed, produce

__all__ = ["produce_on_cluster"]


def produce_on_cluster(specs: list[RunSpec], address: str) -> Iterator[tuple[RunSpec, Artifacts]]:
    """Execute ``specs`` on the cluster at ``address``, yielding artifacts as runs finish.

    Raises
    ------
    C3Error
        dask.distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise C3Error("--scheduler needs dask.distributed: pip install 'c3lib[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise C3Error(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(produce, specs, pure=False)
        spec_of = {f.key: s for f, s in zip(futures, specs, strict=True)}
        for fut in as_completed(futures):
            spec = spec_of[fut.key]
            try:
                yield spec, fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails one run only
                yield spec, _crashed(spec, exc)
