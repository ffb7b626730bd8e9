"""Plan a build: the targets (pair × action), their cache keys and the files each run reads.

A target's cache key covers the notebook's cells (:func:`notebook_hash`, not outputs), the
actions file, the pair's file and both its cities' files, any parameter overrides, and
c3lib's version, source, reference data and template (:func:`code_hash`). A
:class:`RunSpec` carries everything one run needs and travels to a worker process or a
Dask worker as it is.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import c3lib
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors
from c3lib.params import Catalog, check_parameter_rules, check_parameter_values, read_bounded
from c3lib.reference import data_hash

__all__ = [
    "NOTEBOOKS_DIR",
    "RunSpec",
    "plan",
    "code_hash",
    "notebook_hash",
    "git_commit",
    "params_files",
    "check_parameters",
]

NOTEBOOKS_DIR = Path(c3lib.__file__).resolve().parent.parent / "notebooks"
DEFAULT_CELL_TIMEOUT = 300
DEFAULT_RUN_TIMEOUT = 900
MAX_NOTEBOOK_BYTES = 50_000_000


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
    nb = _read_notebook(path)
    if nb is None:  # hashed as it is: the run fails and says why, the other targets run
        try:
            return _sha("unreadable notebook", read_bounded(path, str(path), MAX_NOTEBOOK_BYTES))
        except C3Error:
            return _sha("unreadable notebook", str(mtime_ns), str(size))
    parts = [json.dumps(nb.get("metadata", {}).get("kernelspec", {}).get("name", ""))]
    for c in nb["cells"]:
        source = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        tags = sorted(c.get("metadata", {}).get("tags", []))
        parts.append(json.dumps([c["cell_type"], source, tags]))
    return _sha(*parts)


def _read_notebook(path: Path) -> dict | None:
    """A notebook's JSON with the cell fields a hash reads, or None when it is not one."""
    try:
        nb = json.loads(read_bounded(path, str(path), MAX_NOTEBOOK_BYTES).decode("utf-8"))
    except (C3Error, ValueError, RecursionError):
        return None
    ok = (
        isinstance(nb, dict)
        and isinstance(nb.get("metadata", {}), dict)
        and isinstance(nb.get("metadata", {}).get("kernelspec", {}), dict)
        and isinstance(nb.get("cells"), list)
        and all(
            isinstance(c, dict)
            and isinstance(c.get("cell_type"), str)
            and isinstance(c.get("source"), str | list)
            and all(isinstance(x, str) for x in c["source"])
            and isinstance(c.get("metadata", {}), dict)
            and isinstance(c.get("metadata", {}).get("tags", []), list)
            and all(isinstance(t, str) for t in c.get("metadata", {}).get("tags", []))
            for c in nb["cells"]
        )
    )
    return nb if ok else None


def notebook_hash(path: Path) -> str:
    """:func:`_notebook_hash` of ``path``, computed once per version of the file.

    A file that is not a notebook gets a hash of its bytes, so that its targets run and
    fail with their own error while the others build.
    """
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


@cache
def _declared(path: Path, mtime_ns: int, size: int) -> dict | None:
    """The parameters a notebook declares (papermill's inspection), or None if it has none."""
    if _read_notebook(path) is None:
        return None
    import papermill

    try:
        return papermill.inspect_notebook(str(path))
    except Exception:  # noqa: BLE001 - a broken notebook fails its own runs, not the plan
        return None


def _default(spec: dict):
    """A declared parameter's default value, or None when it is not a literal."""
    try:
        return ast.literal_eval(spec.get("default", ""))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _check_overrides(catalog: Catalog, pair: str, action: str, notebook: Path) -> dict:
    """A pair's overrides of one notebook's parameters, checked against what it declares.

    Each must be declared, of the declared type, finite and within its range
    (:func:`c3lib.params.check_parameter_values`), and the parameters with the overrides
    must keep the field rules (:func:`c3lib.params.check_parameter_rules`). A notebook
    that cannot be read is not checked here: its runs fail with their own error.

    Raises
    ------
    ParamsErrors
        Every problem, naming the pair file (or the notebook) and the field.
    """
    overrides = dict(catalog.pairs[pair].parameters.get(action, {}))
    errors = check_overrides(catalog, pair, action, notebook)
    if errors:
        raise ParamsErrors(errors)
    return overrides


def check_overrides(catalog: Catalog, pair: str, action: str, notebook: Path) -> list[ParamsError]:
    """Every problem with a pair's overrides of one notebook's parameters, as a list.

    See :func:`_check_overrides`; a pair with no overrides keeps the notebook's defaults
    and has nothing to check.
    """
    overrides = dict(catalog.pairs[pair].parameters.get(action, {}))
    if not overrides:
        return []
    label = _pair_label(catalog, pair)
    try:
        st = notebook.stat()
    except OSError:
        return []
    declared = _declared(notebook, st.st_mtime_ns, st.st_size)
    if declared is None:
        return []
    kinds = {"float": (int, float), "int": (int,), "str": (str,), "bool": (bool,)}
    errors = check_parameter_values(label, action, overrides)
    if errors:
        return errors
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
        return errors
    values = {n: _default(d) for n, d in declared.items()} | overrides

    def source_of(names: list[str]) -> tuple[str, str]:
        given = [n for n in names if n in overrides]
        if given:
            return label, f"parameters.{action}.{given[0]}"
        return str(notebook), f"parameters cell: {names[0]}"

    return check_parameter_rules(action, values, source_of)


def _pair_label(catalog: Catalog, pair: str) -> str:
    path = catalog.params_dir / "pairs" / f"{pair}.yaml"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_parameters(catalog: Catalog, notebooks_dir: Path | None = None) -> list[ParamsError]:
    """Every problem with the workbook parameters of every pair (for ``c3 validate``).

    The pairs' overrides against what each notebook declares, and every pair's parameters
    (defaults and overrides) against the field rules.
    """
    notebooks_dir = Path(notebooks_dir or os.environ.get("C3_NOTEBOOKS") or NOTEBOOKS_DIR)
    errors: list[ParamsError] = []
    for p in catalog.pairs:
        for a, action in catalog.actions.items():
            nb_path = notebooks_dir / action.notebook
            if nb_path.is_file():
                errors += check_overrides(catalog, p, a, nb_path)
    return errors


def _check_timeout(name: str, seconds: float) -> None:
    if (
        not (
            isinstance(seconds, int | float)
            and not isinstance(seconds, bool)
            and math.isfinite(seconds)
        )
        or seconds <= 0
    ):
        raise C3Error(f"{name}: expected a finite number of seconds above 0, got {seconds!r}")


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
        A pair overrides a parameter its notebook does not declare, with the wrong type,
        out of its range, or breaking a field rule.
    C3Error
        A timeout is not a finite number of seconds above 0.
    """
    notebooks_dir = Path(notebooks_dir or os.environ.get("C3_NOTEBOOKS") or NOTEBOOKS_DIR)
    pairs = list(dict.fromkeys(pairs or catalog.pairs))  # a pair given twice runs once
    actions = list(dict.fromkeys(actions or catalog.actions))
    _check_timeout("cell timeout", cell_timeout)
    _check_timeout("run timeout", run_timeout)
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
