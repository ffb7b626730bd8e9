"""Run a build's targets on a Dask distributed cluster (``c3 build --scheduler ADDRESS``).

The client sends every run to the cluster with one ``Client.map`` over the run specs. Each
run travels with what it reads: the notebook (scattered to the workers once per notebook)
and the params files of its pair (``actions.yaml``, the pair's file and both cities'
files). A worker executes the run with :func:`c3lib.build.run.produce` against a private
copy of those files, as a local worker does, and returns the artifacts: the executed
notebook, the HTML and the record, or the failure record. The client writes them into the
output folder with :func:`c3lib.build.store.commit`, with the same atomic writes and failure
rules as a local build.

So a worker shares no filesystem with the client. It needs c3lib installed from the same
checkout as the client (checked: a worker whose c3lib, templates or reference data differ
returns a failure instead of a case study built with other code), its dependencies
(papermill, nbconvert, ipykernel with the ``python3`` kernel, pandas, matplotlib, …) and
``dask[distributed]`` matching the client's version.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from c3lib.build.plan import RunSpec, params_files
from c3lib.build.plan import code_hash as local_code_hash
from c3lib.build.run import crashed, failure, produce
from c3lib.build.store import Artifacts
from c3lib.exceptions import C3Error

__all__ = ["produce_on_cluster", "produce_shipped"]


def produce_shipped(
    spec: RunSpec, notebook: str, files: dict[str, str], code_hash: str
) -> Artifacts:
    """On a worker: execute a run from shipped files and return its artifacts.

    Parameters
    ----------
    spec : RunSpec
        The run, as planned on the client (its paths are the client's).
    notebook : str
        The notebook's JSON text.
    files : dict of str to str
        Params files by path relative to the params folder (:func:`params_files`).
    code_hash : str
        The client's hash of c3lib, its templates and reference data.
    """
    if code_hash != local_code_hash():
        msg = (
            "this Dask worker's c3lib (code, templates or reference data) differs from the "
            "client's: install the same c3lib checkout on every worker"
        )
        return failure(spec, None, msg, time.monotonic())
    folder = Path(tempfile.mkdtemp(prefix="c3-shipped-"))
    try:
        nb_path = folder / Path(spec.notebook).name
        nb_path.write_text(notebook, encoding="utf-8")
        return produce(replace(spec, notebook=str(nb_path)), params=files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def produce_on_cluster(specs: list[RunSpec], address: str) -> Iterator[tuple[RunSpec, Artifacts]]:
    """Execute ``specs`` on the cluster at ``address``, yielding artifacts as runs finish.

    Each result is released on the cluster as soon as it has been handed on, so neither
    the workers nor this client hold more than the runs in flight.

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
        texts = {nb: Path(nb).read_text(encoding="utf-8") for nb in {s.notebook for s in specs}}
        scattered = {nb: client.scatter(text, broadcast=True) for nb, text in texts.items()}
        futures = client.map(
            produce_shipped,
            specs,
            [scattered[s.notebook] for s in specs],
            [params_files(s) for s in specs],
            code_hash=local_code_hash(),
            pure=False,
        )
        spec_of = {f.key: s for f, s in zip(futures, specs, strict=True)}
        finished = as_completed(futures)
        del futures, texts, scattered
        for fut in finished:
            spec = spec_of.pop(fut.key)
            try:
                artifacts = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails one run only
                artifacts = crashed(spec, repr(exc))
            fut.release()
            yield spec, artifacts
            del artifacts
