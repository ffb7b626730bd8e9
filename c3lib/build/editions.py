"""Hand-out notebooks for a pair: the learner edition and the mentor edition (``c3 edition``).

Both start from the workbook with the pair written into its one ``parameters`` cell
(:func:`set_parameters`; papermill's injected-parameters cell is for executed copies, and a
hand-out with two parameters cells would silently override the learner's edit of the
first), and are written to ``<out>/<pair>/editions/<action>-<edition>.ipynb``. Cell
metadata is kept, so code cells stay folded (``jupyter.source_hidden``) as in the source.

- **learner**: cells tagged ``solution`` and ``mentor-note`` removed, outputs cleared;
  the ``exercise`` cells are left to do.
- **mentor**: every cell kept, and a lesson plan at the top (:func:`lesson_plan`). When
  ``c3 build`` has an up-to-date run of the pair (its cache key matches what a build
  would run now), the edition is that executed notebook, with its outputs, so the mentor
  sees the pair's results before the session; each explorer then shows its static
  rendering until the cells are run again. Otherwise it is the source workbook with the
  pair set and no outputs.

Cell tags do all the work: there is no course database.
"""

from __future__ import annotations

import ast
import copy
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from c3lib.build.plan import RunSpec, plan
from c3lib.build.store import atomic_write, read_status, target_paths
from c3lib.exceptions import C3Error
from c3lib.params import load_catalog

__all__ = [
    "EDITIONS",
    "HIDDEN_FROM_LEARNERS",
    "EXERCISE_TAG",
    "Edition",
    "edition_path",
    "inject",
    "learner_edition",
    "lesson_plan",
    "mentor_edition",
    "set_parameters",
    "write_editions",
]

log = logging.getLogger("c3lib")

EDITIONS = ("learner", "mentor")
HIDDEN_FROM_LEARNERS = ("solution", "mentor-note")
EXERCISE_TAG = "exercise"
EDITION_NOTE_TAG = "edition-note"
LESSON_PLAN_TAG = "lesson-plan"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


@dataclass(frozen=True)
class Edition:
    """One hand-out notebook written by :func:`write_editions`.

    Attributes
    ----------
    pair, action, edition : str
        What it is.
    path : Path
        Where it was written.
    origin : str
        ``source`` (the workbook, no outputs) or ``executed`` (the build's run, with outputs).
    """

    pair: str
    action: str
    edition: str
    path: Path
    origin: str


def edition_path(out_dir: str | Path, pair: str, action: str, edition: str) -> Path:
    """``<out>/<pair>/editions/<action>-<edition>.ipynb``, checked to stay inside ``out_dir``."""
    if edition not in EDITIONS:
        raise C3Error(f"unknown edition {edition!r}; choose one of {', '.join(EDITIONS)}")
    folder = target_paths(out_dir, pair, action)["ipynb"].parent / "editions"
    return folder / f"{action}-{edition}.ipynb"


def inject(nb: nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``parameters`` in an ``injected-parameters`` cell (papermill)."""
    from papermill.parameterize import parameterize_notebook

    nb = copy.deepcopy(nb)
    nb.metadata.setdefault("papermill", {})
    untagged = []
    for cell in nb.cells:  # papermill expects every cell to carry a tags list
        if "tags" not in cell.metadata:
            cell.metadata["tags"] = []
            untagged.append(cell)
    nb = parameterize_notebook(nb, parameters, kernel_name="python3", language="python")
    for cell in untagged:
        del cell.metadata["tags"]
    return nb


def _literal(value) -> str:
    from papermill.translators import PythonTranslator

    return PythonTranslator.translate(value)


def _set_lines(source: str, parameters: dict) -> str:
    """``source`` with each ``name[: type] = value  # comment`` line given its new value."""
    lines, seen = source.splitlines(), set()
    for i, line in enumerate(lines):
        try:
            tree = ast.parse(line)
        except SyntaxError:
            continue
        node = tree.body[0] if len(tree.body) == 1 else None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
        else:
            continue
        if name not in parameters or node.value is None:
            continue
        start, end = node.value.col_offset, node.value.end_col_offset
        lines[i] = line[:start] + _literal(parameters[name]) + line[end:]
        seen.add(name)
    lines += [
        f"{k} = {_literal(v)}  # set for this edition"
        for k, v in parameters.items()
        if k not in seen
    ]
    return "\n".join(lines)


def set_parameters(nb: nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``parameters`` written into its ``parameters`` cell.

    Each value replaces the default on its line, keeping the type and the comment; a
    parameter the cell does not declare is added at its end. A notebook papermill has
    executed has its ``injected-parameters`` cell folded into the parameters cell the
    same way, so an edition has one parameters cell.

    Raises
    ------
    C3Error
        The notebook has no cell tagged ``parameters``.
    """
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if PARAMETERS_TAG in c.metadata.get("tags", [])]
    if not cells:
        raise C3Error("the workbook has no cell tagged 'parameters'")
    injected = {}
    for cell in [c for c in nb.cells if INJECTED_TAG in c.metadata.get("tags", [])]:
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                injected[node.targets[0].id] = ast.literal_eval(node.value)
        nb.cells.remove(cell)
    cells[0].source = _set_lines(cells[0].source, {**injected, **parameters})
    return nb


def lesson_plan(nb: nbformat.NotebookNode) -> str:
    """A lesson plan for a mentor meeting over ``nb``: steps for 60 and 90 minutes.

    Built from the workbook itself: its ``## Step`` headings, its explorer and exercise,
    and the discussion questions of its ``mentor-note`` cells (the sentences that ask or
    discuss something).
    """
    import re

    steps, questions = [], []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        steps += re.findall(r"^## (Step \d+: .+)$", cell.source, flags=re.M)
        if "mentor-note" in cell.metadata.get("tags", []):
            text = re.sub(r"\*\*Mentor note\.\*\*\s*", "", cell.source.replace("\n", " "))
            for sentence in re.split(r"(?<=[.?!])\s+(?=[A-Z])", text):
                if re.search(r"\b(ask|discuss|compare)\w*\b|\?$", sentence, flags=re.I):
                    questions.append(sentence.strip())
    step_list = "; ".join(steps) if steps else "the workbook's sections"
    asks = (
        "\n".join(f"  - {q}" for q in questions)
        or "  - What would the learning city measure first?"
    )
    return (
        "**Lesson plan (mentor only).**\n\n"
        "*60 minutes*\n\n"
        "1. 5 min: the pair and what each city has already done (*Context*, *What each city "
        "has already done*).\n"
        f"2. 20 min: walk through the steps, stopping at the results tables: {step_list}.\n"
        "3. 10 min: *Explore*: let the learner move each control and say what changed.\n"
        "4. 15 min: *Exercise*: the learner works it by hand and runs the check; hint "
        "before you tell.\n"
        "5. 10 min: discussion (questions below).\n\n"
        "*90 minutes*\n\n"
        "1. 10 min: context and the cities' own measures.\n"
        "2. 30 min: the steps one by one, each with the learning city's own numbers.\n"
        "3. 15 min: *Explore*.\n"
        "4. 20 min: *Exercise*, then compare it with the tables above it.\n"
        "5. 15 min: discussion, then *Assumptions and data gaps* as the learning city's "
        "data-collection list: who collects which value, by when.\n\n"
        f"*Discussion questions* (from the mentor notes)\n\n{asks}"
    )


def _drop_widgets(nb: nbformat.NotebookNode) -> None:
    """Remove saved widget state and widget views (explorers keep their static HTML)."""
    from c3lib.build.export import WIDGET_MIME

    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if WIDGET_MIME in out.get("data", {}):
                del out["data"][WIDGET_MIME]


def learner_edition(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions, mentor notes and outputs.

    Cells tagged ``solution`` or ``mentor-note`` are removed (nbconvert's
    ``TagRemovePreprocessor``) and every output and execution count is cleared
    (``ClearOutputPreprocessor``).
    """
    from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

    nb = copy.deepcopy(nb)
    remove = TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_FROM_LEARNERS), enabled=True)
    nb, _ = remove.preprocess(nb, {})
    nb, _ = ClearOutputPreprocessor(enabled=True).preprocess(nb, {})
    _drop_widgets(nb)
    return nb


def mentor_edition(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with every cell and output kept, ready to open without a kernel.

    Widget views are dropped (each explorer output carries a static rendering of its
    chart and table), so the saved outputs show the pair's results, not a widget
    placeholder; running the cells brings the explorers back to life. A lesson plan
    (:func:`lesson_plan`) opens the notebook, after the title.
    """
    nb = copy.deepcopy(nb)
    _drop_widgets(nb)
    if not any(LESSON_PLAN_TAG in c.metadata.get("tags", []) for c in nb.cells):
        cell = nbformat.v4.new_markdown_cell(lesson_plan(nb))
        cell.metadata["tags"] = [LESSON_PLAN_TAG, "mentor-note"]
        at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
        nb.cells.insert(at, cell)
    return nb


def _note(edition: str, pair_name: str, origin: str) -> str:
    if edition == "learner":
        return (
            f"**Learner edition: {pair_name}.** Run the cells from the top "
            "(*Run ▸ Run All Cells*). The exercise near the end is yours: set `answer` in "
            "its cell and run the check below it for feedback."
        )
    outputs = (
        "The outputs are from the last build of this pair; run all cells to use the explorer."
        if origin == "executed"
        else "Run all cells to see the results and use the explorer."
    )
    return (
        f"**Mentor edition: {pair_name}.** Includes the solutions (cells tagged `solution`) "
        f"and facilitation notes (`mentor-note`): do not hand it to learners. {outputs}"
    )


def _add_note(nb: nbformat.NotebookNode, text: str) -> None:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [EDITION_NOTE_TAG]
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0  # after the title
    nb.cells.insert(at, cell)


def _executed_run(spec: RunSpec) -> nbformat.NotebookNode | None:
    """The build's executed notebook for ``spec`` if it is current, else None."""
    state = read_status(spec.out_dir, spec.pair, spec.action)
    record = state["record"] or {}
    path = target_paths(spec.out_dir, spec.pair, spec.action)["ipynb"]
    current = record.get("provenance", {}).get("cache_key") == spec.cache_key
    if state["status"] != "ok" or not current or not path.is_file():
        return None
    return nbformat.read(path, as_version=4)


def write_editions(
    edition: str,
    pair: str,
    actions: Iterable[str] | None = None,
    params_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike = "outputs",
    notebooks_dir: str | os.PathLike | None = None,
) -> list[Edition]:
    """Write one edition of the pair's workbooks.

    Parameters
    ----------
    edition : str
        ``learner`` or ``mentor``.
    pair : str
        Pair id (validated against the params folder before it is injected).
    actions : iterable of str, optional
        Action ids (default: every action that has a workbook).
    params_dir : path-like, optional
        Params folder; when given, its absolute path is injected as ``params_dir``
        too, so the hand-out runs against it.
    out_dir : path-like, optional
        Output folder (default ``outputs``).
    notebooks_dir : path-like, optional
        Folder of the source workbooks (default as for ``c3 build``).

    Returns
    -------
    list of Edition

    Raises
    ------
    C3Error
        Unknown edition, pair or action, or a requested action has no workbook.
    ParamsErrors
        The params folder does not validate.
    """
    if edition not in EDITIONS:
        raise C3Error(f"unknown edition {edition!r}; choose one of {', '.join(EDITIONS)}")
    catalog = load_catalog(params_dir or None)
    actions = list(dict.fromkeys(actions or []))
    specs = plan(
        catalog,
        out_dir,
        [pair],
        actions or None,
        notebooks_dir=Path(notebooks_dir) if notebooks_dir else None,
    )
    missing = [a for a in actions if a not in {s.action for s in specs}]
    if missing:
        names = ", ".join(f"{a} ({catalog.actions[a].notebook})" for a in missing)
        raise C3Error(f"no workbook yet for {names}")
    if not specs:
        raise C3Error("no workbook exists yet: nothing to hand out")
    injected = {"pair": pair}
    if params_dir:
        injected["params_dir"] = str(Path(params_dir).resolve())
    written = []
    for spec in specs:
        executed = _executed_run(spec) if edition == "mentor" else None
        origin = "executed" if executed is not None else "source"
        if executed is not None:
            nb = mentor_edition(set_parameters(executed, {}))
        else:
            source = nbformat.read(spec.notebook, as_version=4)
            nb = set_parameters(source, {**injected, **spec.parameters})
            nb = learner_edition(nb) if edition == "learner" else mentor_edition(nb)
        if edition == "learner" and not any(
            EXERCISE_TAG in c.metadata.get("tags", []) for c in nb.cells
        ):
            log.warning("%s has no cell tagged %r", spec.notebook, EXERCISE_TAG)
        _add_note(nb, _note(edition, catalog.pairs[pair].name, origin))
        nb.metadata["c3"] = {"edition": edition, "pair": pair, "action": spec.action}
        nbformat.validate(nb)
        path = edition_path(out_dir, pair, spec.action, edition)
        atomic_write(path, nbformat.writes(nb) + "\n")
        log.info("wrote %s (%s)", path, origin)
        written.append(Edition(pair, spec.action, edition, path, origin))
    return written
