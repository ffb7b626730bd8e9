"""Plan a build: the targets (pair × action), their cache keys and the files each run reads.

A target's cache key covers the notebook's cells (:func:`notebook_hash`, not outputs), the
actions file, the pair's file and both its cities' files, any parameter overrides, and
c3lib's version, source, reference data and template (:func:`code_hash`). A
:class:`RunSpec` carries everything one run needs and travels to a worker process or a
Dask worker as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import c3lib
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors
from c3lib.params import Catalog
from c3lib.reference import data_hash

__all__ = [
    "NOTEBOOKS_DIR",
    "RunSpec",
    "plan",
    "code_hash",
    "notebook_hash",
    "git_commit",
    "params_files",
]

NOTEBOOKS_DIR = Path(c3lib.__file__).resolve().parent.parent / "notebooks"
DEFAULT_CELL_TIMEOUT = 300
DEFAULT_RUN_TIMEOUT = 900


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


def _sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


@cache
def code_hash() -> str:
    """Hash of c3lib's version and source, the reference data and the export template."""
    pkg = Path(c3lib.__file__).parent
    templates = pkg.parent / "templates"
    files = sorted(pkg.rglob("*.py")) + sorted(templates.rglob("*") if templates.is_dir() else [])
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
    code = code_hash()
    specs = []
    for p in pairs:
        params_hash = catalog.pair_hash(p)
        files = catalog.pair_files(p)
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


def params_files(spec: RunSpec) -> dict[str, str]:
    """The params files a run reads, by path relative to its params folder, with their text.

    They are the files its cache key covers (:meth:`c3lib.params.Catalog.pair_files`):
    the actions file, the pair's file, the pair's two cities' files and their
    countries' files.
    """
    root = Path(spec.params_dir)
    names = spec.params_files
    if not names:  # a spec made by hand: find the files the pair reads
        from c3lib.params import load_catalog

        names = load_catalog(root).pair_files(spec.pair)
    return {name: (root / name).read_text(encoding="utf-8") for name in names}
