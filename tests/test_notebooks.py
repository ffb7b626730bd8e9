"""Source notebooks: committed without outputs, one typed parameters cell, the fixed skeleton."""

from __future__ import annotations

import re

import nbformat
import pytest

from c3lib.params import load_catalog
from tests.conftest import NOTEBOOKS, PARAMS

CATALOG = load_catalog(PARAMS)
NOTEBOOK_ACTIONS = [a for a in CATALOG.actions.values() if (NOTEBOOKS / a.notebook).is_file()]
SKELETON = [
    "## Overview",
    "## Context",
    "## Method and data",
    "## Results",
    "## Explore",
    "## Exercise",
    "## Assumptions and data gaps",
    "## Lessons",
    "## Sources",
]


def read(action):
    return nbformat.read(NOTEBOOKS / action.notebook, as_version=4)


@pytest.fixture(params=NOTEBOOK_ACTIONS, ids=lambda a: a.id)
def action(request):
    return request.param


def test_notebooks_exist_for_every_action():
    assert [a.id for a in NOTEBOOK_ACTIONS] == list(CATALOG.actions)


def test_notebook_has_no_outputs(action):
    for cell in read(action).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_notebook_parameters_cell_typed_and_commented(action):
    tagged = [c for c in read(action).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [ln for ln in tagged[0].source.splitlines() if ln.strip()]
    assert lines[0].startswith("pair: str = ") and lines[1].startswith("params_dir: str = ")
    for line in lines:
        assert re.match(r"^\w+: [\w\[\], ]+ = .+  # \S", line), line
        assert line.count("=") == 1, f"papermill cannot parse a second '=': {line}"


def test_notebook_follows_skeleton(action):
    md = "\n".join(c.source for c in read(action).cells if c.cell_type == "markdown")
    positions = [md.find(h) for h in SKELETON]
    assert all(p >= 0 for p in positions), dict(zip(SKELETON, positions, strict=True))
    assert positions == sorted(positions)
    for n, step in enumerate(action.steps, start=1):
        assert f"## Step {n}: {step.title}" in md


def test_notebook_exercise_cells_tagged(action):
    tags = [t for c in read(action).cells for t in c.metadata.get("tags", [])]
    for tag in ("exercise", "solution", "mentor-note"):
        assert tag in tags


def test_notebook_publishes_last(action):
    code = [c for c in read(action).cells if c.cell_type == "code"]
    assert "cs.publish(" in code[-1].source


def test_notebook_code_hidden_but_parameters_and_answer(action):
    for cell in read(action).cells:
        if cell.cell_type != "code":
            continue
        typed = {"parameters", "exercise"} & set(cell.metadata.get("tags", []))
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        assert hidden != bool(typed), cell.source[:60]


def test_notebook_opens_with_how_to_box(action):
    cells = read(action).cells
    box = [c for c in cells[:3] if "how-to" in c.metadata.get("tags", [])]
    assert len(box) == 1 and "without commas" in box[0].source
    assert "remove-cell" in box[0].metadata["tags"]  # not in the case-study HTML


def test_notebook_check_names_its_exercise(action):
    from c3lib.kit.answers import EXERCISES

    checks = [c.source for c in read(action).cells if c.source.startswith("check(")]
    assert len(checks) == 1
    exercise_id = re.match(r'check\("([^"]+)", answer, case', checks[0]).group(1)
    assert exercise_id in EXERCISES and exercise_id.startswith(f"{action.id}/")
