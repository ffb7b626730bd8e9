"""Learner and mentor editions: what each keeps and what each drops."""

from __future__ import annotations

import ast
import json
import re
import shutil
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from c3lib.build.editions import (
    EDITION_NOTE_TAG,
    EXERCISE_TAG,
    LESSON_PLAN_TAG,
    edition_path,
    inject,
    learner_edition,
    lesson_plan,
    mentor_edition,
    set_parameters,
    write_editions,
)
from c3lib.build.export import WIDGET_MIME
from c3lib.build.plan import plan
from c3lib.cli import main
from c3lib.exceptions import C3Error
from c3lib.params import load_catalog
from tests.conftest import NOTEBOOKS, PARAMS, edit_yaml, make_notebook

CITY = """\
id: {id}
name: {name}
country: {country}
profile:
  population: {{value: {population}, unit: persons, source: fixture, quality: official}}
  area_km2: {{value: {area}, unit: km2, source: fixture, quality: official}}
  latitude: {{value: {lat}, unit: degrees, source: fixture, quality: secondary}}
  longitude: {{value: {lon}, unit: degrees, source: fixture, quality: secondary}}
  grid_ef: {{value: 0.6, unit: kg CO2/kWh, source: fixture, quality: assumed}}
"""

SOLUTION = "answer = 4.2 * 1000  # SOLUTION-MARKER"
MENTOR_NOTE = "MENTOR-NOTE-MARKER: let the learner try twice before hinting."


@pytest.fixture
def params(tmp_path: Path) -> Path:
    """The repository's actions and pasig-taipei pair, with two minimal city files."""
    root = tmp_path / "params"
    (root / "cities").mkdir(parents=True)
    (root / "pairs").mkdir()
    shutil.copy(PARAMS / "actions.yaml", root / "actions.yaml")
    shutil.copy(PARAMS / "pairs/pasig-taipei.yaml", root / "pairs/pasig-taipei.yaml")
    for kw in (
        dict(id="pasig", name="Pasig", country="Philippines", population=803159, area=48.46,
             lat=14.5605, lon=121.0765),
        dict(id="taipei", name="Taipei", country="Taiwan", population=2602418, area=271.8,
             lat=25.0375, lon=121.5625),
    ):  # fmt: skip
        (root / "cities" / f"{kw['id']}.yaml").write_text(CITY.format(**kw), encoding="utf-8")
    load_catalog(root)
    return root


def tagged(source: str, tag: str, kind: str = "code") -> nbformat.NotebookNode:
    new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = new(source)
    cell.metadata["tags"] = [tag]
    return cell


def workbook(path: Path) -> Path:
    """A workbook with the skeleton's exercise block, an explorer output and saved outputs."""
    make_notebook(path, "x = 1", publish=False)
    nb = nbformat.read(path, as_version=4)
    nb.cells += [
        nbformat.v4.new_markdown_cell("## Exercise"),
        tagged("How many tonnes per year does the learning city emit?", "exercise", "markdown"),
        tagged("answer = None  # your answer [t/yr]", "exercise"),
        tagged(SOLUTION, "solution"),
        nbformat.v4.new_code_cell("check(answer, expected, unit='t/yr')"),
        tagged(MENTOR_NOTE, "mentor-note", "markdown"),
        nbformat.v4.new_markdown_cell("## Sources"),
    ]
    explorer_cell = nb.cells[2]  # the "x = 1" cell, given an explorer-like output
    explorer_cell.execution_count = 3
    explorer_cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/plain": "Explorer(...)",
                "text/html": '<div class="c3-explorer-static"><figure>chart</figure></div>',
                WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0},
            },
        )
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    """Fixture workbooks for two actions (the others have none)."""
    folder = tmp_path / "notebooks"
    workbook(folder / "bike_sharing.ipynb")
    workbook(folder / "emissions_inventory.ipynb")
    return folder


def sources(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


def tags(nb) -> list[str]:
    return [t for c in nb.cells for t in c.metadata.get("tags", [])]


def write(params, notebooks, out, edition, actions=("bike-sharing",)):
    written = write_editions(edition, "pasig-taipei", actions, params, out, notebooks)
    return [nbformat.read(e.path, as_version=4) for e in written], written


def test_edition_path_layout(tmp_path):
    path = edition_path(tmp_path / "out", "pasig-taipei", "bike-sharing", "learner")
    assert path == (tmp_path / "out/pasig-taipei/editions/bike-sharing-learner.ipynb").resolve()


def test_edition_path_unknown_edition():
    with pytest.raises(C3Error, match="unknown edition 'teacher'"):
        edition_path("outputs", "pasig-taipei", "bike-sharing", "teacher")


def test_edition_path_stays_inside_out(tmp_path):
    with pytest.raises(C3Error, match="leaves the output folder"):
        edition_path(tmp_path, "..", "bike-sharing", "learner")


def test_inject_adds_cell_after_parameters(notebooks):
    nb = nbformat.read(notebooks / "bike_sharing.ipynb", as_version=4)
    out = inject(nb, {"pair": "bangkok-san-diego"})
    assert "parameters" in out.cells[1].metadata["tags"]
    assert out.cells[2].metadata["tags"] == ["injected-parameters"]
    assert 'pair = "bangkok-san-diego"' in out.cells[2].source
    assert len(nb.cells) == len(out.cells) - 1  # the input is not modified


def parameters_cells(nb) -> list:
    return [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]


def without_plan(nb):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells = [c for c in nb.cells if LESSON_PLAN_TAG not in c.metadata.get("tags", [])]
    return nb


def test_set_parameters_writes_into_parameters_cell(notebooks):
    nb = nbformat.read(notebooks / "bike_sharing.ipynb", as_version=4)
    out = set_parameters(nb, {"pair": "bangkok-san-diego", "extra": 2.5})
    (cell,) = parameters_cells(out)
    lines = cell.source.splitlines()
    assert lines[0] == 'pair: str = "bangkok-san-diego"  # city-pair id'  # type and comment kept
    assert lines[-1] == "extra = 2.5  # set for this edition"
    assert len(out.cells) == len(nb.cells) and "injected-parameters" not in tags(out)
    assert 'pair: str = "pasig-taipei"' in parameters_cells(nb)[0].source  # input untouched


def test_set_parameters_folds_papermill_injected_cell(notebooks):
    nb = nbformat.read(notebooks / "bike_sharing.ipynb", as_version=4)
    executed = inject(nb, {"pair": "bangkok-san-diego", "params_dir": "/p"})
    out = set_parameters(executed, {})
    assert "injected-parameters" not in tags(out) and len(out.cells) == len(nb.cells)
    source = parameters_cells(out)[0].source
    assert 'pair: str = "bangkok-san-diego"' in source and 'params_dir: str = "/p"' in source


def test_set_parameters_without_parameters_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(C3Error, match="no cell tagged 'parameters'"):
        set_parameters(nb, {"pair": "p"})


def test_lesson_plan_has_both_meetings_and_the_mentor_questions(notebooks):
    nb = nbformat.read(notebooks / "bike_sharing.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_markdown_cell("## Step 1: Set goals\n\nText."))
    nb.cells.append(
        tagged("**Mentor note.** Ask which input is weakest. Then rest.", "mentor-note", "markdown")
    )
    plan_text = lesson_plan(nb)
    assert "*60 minutes*" in plan_text and "*90 minutes*" in plan_text
    assert "Step 1: Set goals" in plan_text
    assert "  - Ask which input is weakest." in plan_text and "Then rest" not in plan_text


def test_learner_edition_drops_solutions_notes_and_outputs(notebooks):
    nb = nbformat.read(notebooks / "bike_sharing.ipynb", as_version=4)
    out = learner_edition(nb)
    assert "solution" not in tags(out) and "mentor-note" not in tags(out)
    assert SOLUTION not in sources(out) and MENTOR_NOTE not in sources(out)
    assert tags(out).count("exercise") == 2  # the question and the answer cell stay
    assert "answer = None  # your answer [t/yr]" in sources(out)
    assert "check(answer, expected, unit='t/yr')" in sources(out)
    code = [c for c in out.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "widgets" not in out.metadata
    assert len(out.cells) == len(nb.cells) - 2


def test_mentor_edition_keeps_everything(notebooks):
    nb = nbformat.read(notebooks / "bike_sharing.ipynb", as_version=4)
    out = mentor_edition(nb)
    assert out.cells[1].metadata["tags"] == [LESSON_PLAN_TAG, "mentor-note"]
    assert "Lesson plan" in out.cells[1].source
    kept = without_plan(out)
    assert sources(kept) == sources(nb) and tags(kept) == tags(nb)
    data = out.cells[3].outputs[0].data
    assert "c3-explorer-static" in data["text/html"]  # the explorer's static rendering stays
    assert WIDGET_MIME not in data and "widgets" not in out.metadata


def test_write_editions_learner(params, notebooks, tmp_path):
    (nb,), (ed,) = write(params, notebooks, tmp_path / "out", "learner")
    assert ed.path == edition_path(tmp_path / "out", "pasig-taipei", "bike-sharing", "learner")
    assert ed.origin == "source"
    assert SOLUTION not in sources(nb) and MENTOR_NOTE not in sources(nb)
    assert "injected-parameters" not in tags(nb)  # one parameters cell, holding the pair
    (cell,) = parameters_cells(nb)
    assert 'pair: str = "pasig-taipei"' in cell.source
    assert f'params_dir: str = "{params.resolve()}"' in cell.source
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert nb.cells[1].metadata["tags"] == [EDITION_NOTE_TAG]
    assert "Learner edition: Pasig–Taipei" in nb.cells[1].source
    assert nb.metadata["c3"] == {
        "edition": "learner",
        "pair": "pasig-taipei",
        "action": "bike-sharing",
    }
    nbformat.validate(nb)
    assert [p.name for p in ed.path.parent.iterdir()] == ["bike-sharing-learner.ipynb"]


def test_write_editions_mentor_from_source(params, notebooks, tmp_path):
    (nb,), (ed,) = write(params, notebooks, tmp_path / "out", "mentor")
    assert ed.origin == "source"
    assert SOLUTION in sources(nb) and MENTOR_NOTE in sources(nb)
    assert tags(nb).count("exercise") == 2
    assert "Mentor edition: Pasig–Taipei" in nb.cells[1].source
    assert "do not hand it to learners" in nb.cells[1].source


def test_write_editions_every_action_with_a_workbook(params, notebooks, tmp_path):
    written = write_editions("learner", "pasig-taipei", None, params, tmp_path / "out", notebooks)
    assert [e.action for e in written] == ["emissions-inventory", "bike-sharing"]


def fake_build(params: Path, notebooks: Path, out: Path, cache_key: str | None = None) -> Path:
    """What `c3 build` leaves for pasig-taipei/bike-sharing: executed notebook and record."""
    cat = load_catalog(params)
    (spec,) = plan(cat, out, ["pasig-taipei"], ["bike-sharing"], notebooks_dir=notebooks)
    nb = inject(nbformat.read(spec.notebook, as_version=4), {"pair": "pasig-taipei"})
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.outputs:
            cell.outputs = [nbformat.v4.new_output("stream", text="EXECUTED-OUTPUT\n")]
    folder = out / "pasig-taipei"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "bike-sharing.ipynb")
    record = {"pair": "pasig-taipei", "provenance": {"cache_key": cache_key or spec.cache_key}}
    (folder / "bike-sharing.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def test_write_editions_mentor_keeps_current_build_outputs(params, notebooks, tmp_path):
    fake_build(params, notebooks, tmp_path / "out")
    (nb,), (ed,) = write(params, notebooks, tmp_path / "out", "mentor")
    assert ed.origin == "executed"
    assert "EXECUTED-OUTPUT" in json.dumps(nb.cells)
    assert SOLUTION in sources(nb) and MENTOR_NOTE in sources(nb)
    assert "outputs are from the last build" in nb.cells[1].source
    assert WIDGET_MIME not in json.dumps(nb.cells) and "widgets" not in nb.metadata


def test_write_editions_mentor_ignores_stale_build(params, notebooks, tmp_path):
    fake_build(params, notebooks, tmp_path / "out", cache_key="from-an-older-notebook")
    (nb,), (ed,) = write(params, notebooks, tmp_path / "out", "mentor")
    assert ed.origin == "source" and "EXECUTED-OUTPUT" not in json.dumps(nb.cells)


def test_write_editions_mentor_ignores_failed_build(params, notebooks, tmp_path):
    folder = fake_build(params, notebooks, tmp_path / "out")
    (folder / "bike-sharing.error.json").write_text("{}", encoding="utf-8")
    (_,), (ed,) = write(params, notebooks, tmp_path / "out", "mentor")
    assert ed.origin == "source"


def test_write_editions_learner_never_uses_build_outputs(params, notebooks, tmp_path):
    fake_build(params, notebooks, tmp_path / "out")
    (nb,), (ed,) = write(params, notebooks, tmp_path / "out", "learner")
    assert ed.origin == "source" and "EXECUTED-OUTPUT" not in json.dumps(nb.cells)


def test_write_editions_pair_overrides_injected(params, notebooks, tmp_path):
    path = notebooks / "bike_sharing.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\nfleet_size: int = 100  # bikes [-]"
    nbformat.write(nb, path)
    edit_yaml(
        params / "pairs/pasig-taipei.yaml",
        lambda d: d.update(parameters={"bike-sharing": {"fleet_size": 250}}),
    )
    (out,), _ = write(params, notebooks, tmp_path / "out", "learner")
    assert "fleet_size: int = 250  # bikes [-]" in parameters_cells(out)[0].source
    assert "injected-parameters" not in tags(out)


def test_write_editions_unknown_pair(params, notebooks, tmp_path):
    with pytest.raises(C3Error, match="unknown pair 'atlantis'"):
        write_editions("learner", "atlantis", None, params, tmp_path / "out", notebooks)


def test_write_editions_unknown_action(params, notebooks, tmp_path):
    with pytest.raises(C3Error, match="unknown action 'bikes'"):
        write(params, notebooks, tmp_path / "out", "learner", actions=["bikes"])


def test_write_editions_action_without_workbook(params, notebooks, tmp_path):
    with pytest.raises(C3Error, match=r"no workbook yet for port-operations"):
        write(params, notebooks, tmp_path / "out", "learner", actions=["port-operations"])
    assert not (tmp_path / "out").exists()


def test_main_edition_writes_files(params, notebooks, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("C3_NOTEBOOKS", str(notebooks))
    out = tmp_path / "out"
    args = ["edition", "learner", "--pair", "pasig-taipei", "--params", str(params)]
    assert main([*args, "--out", str(out), "--action", "bike-sharing"]) == 0
    path = out / "pasig-taipei/editions/bike-sharing-learner.ipynb"
    assert f"wrote {path.resolve()} (no outputs)" in capsys.readouterr().out
    assert main(["edition", "mentor", "--pair", "nope", "--params", str(params)]) == 2


REAL = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.skipif(not REAL, reason="no workbooks in notebooks/ yet")
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_learner_edition_real_workbooks(path):
    nb = nbformat.read(path, as_version=4)
    assert {"exercise", "solution", "mentor-note"} <= set(tags(nb)), "skeleton tags missing"
    learner, mentor = learner_edition(nb), mentor_edition(nb)
    assert "solution" not in tags(learner) and "mentor-note" not in tags(learner)
    assert "exercise" in tags(learner)
    for cell in nb.cells:
        cell_tags = cell.metadata.get("tags", [])
        hidden = "solution" in cell_tags or "mentor-note" in cell_tags
        assert (cell.source in sources(learner)) != hidden or not cell.source.strip()
    assert sources(without_plan(mentor)) == sources(nb)
    # code stays folded in both editions, except the cells a learner types in
    for edition in (learner, mentor):
        for cell in edition.cells:
            if cell.cell_type != "code":
                continue
            typed = {"parameters", "exercise"} & set(cell.metadata.get("tags", []))
            hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
            assert hidden != bool(typed), cell.source[:60]


@pytest.mark.skipif(not REAL, reason="no workbooks in notebooks/ yet")
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_lesson_plan_real_workbooks(path):
    text = lesson_plan(nbformat.read(path, as_version=4))
    assert "*60 minutes*" in text and "*90 minutes*" in text and "Step 1:" in text
    questions = [ln for ln in text.splitlines() if ln.startswith("  - ")]
    assert questions and all(len(q) > 20 for q in questions)


def assigned_names(source: str) -> set[str]:
    """Names a cell binds (assignments, imports, defs), ignoring IPython magics."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    names = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def loaded_names(source: str) -> set[str]:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@pytest.mark.skipif(not REAL, reason="no workbooks in notebooks/ yet")
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_learner_edition_needs_nothing_from_solutions(path):
    # the check cell must still run when the solution cells are gone: no name it reads
    # may be bound only in a solution cell
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    hidden = [c for c in code if "solution" in c.metadata.get("tags", [])]
    kept = [c for c in learner_edition(nb).cells if c.cell_type == "code"]
    bound_kept = set().union(*(assigned_names(c.source) for c in kept))
    only_in_solution = set().union(*(assigned_names(c.source) for c in hidden)) - bound_kept
    used = set().union(*(loaded_names(c.source) for c in kept))
    assert not used & only_in_solution, f"learner edition reads {used & only_in_solution}"


def repo_params_valid() -> bool:
    try:
        load_catalog(PARAMS)
    except C3Error:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not REAL, reason="no workbooks in notebooks/ yet")
def test_learner_edition_runs_and_checks_no_answer(tmp_path):
    # the hand-out runs top to bottom as the learner gets it; the check says "no answer yet"
    import papermill

    if not repo_params_valid():
        pytest.skip("the repository's params do not validate yet")
    path = REAL[0]
    action = next(a for a in load_catalog(PARAMS).actions.values() if a.notebook == path.name)
    pair = next(iter(load_catalog(PARAMS).pairs))
    (ed,) = write_editions("learner", pair, [action.id], None, tmp_path / "out", NOTEBOOKS)
    nb = papermill.execute_notebook(
        str(ed.path),
        str(tmp_path / "run.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "c3-feedback-missing" in outputs
    assert "c3-feedback-right" not in outputs


# --- no answer above the exercise (issue 17) ---------------------------------------------


def answer_forms(value: float) -> set[str]:
    """How a table or caption could print the answer (with at least 3 significant digits)."""
    forms = {f"{value:,.0f}", f"{value:.4g}", f"{value:.3g}", f"{value:,.1f}", f"{value:,.2f}"}
    return {f for f in forms if sum(ch.isdigit() for ch in f.lstrip("0.,")) >= 3}


class _ReadableText(HTMLParser):
    """The text a reader sees or hears in HTML: text nodes and alt, title and aria-label."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [v for k, v in attrs if k in ("alt", "title", "aria-label") and v]


def visible_text(outputs: Iterable[dict]) -> str:
    """What a learner can read in notebook outputs: stream and error text, each display's
    HTML as text (else its Markdown or plain text); never image payloads, which are base64
    and hold any digit string by chance."""
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind == "error":
            parts.append("\n".join(out.get("traceback", [])))
        else:
            data = out.get("data", {})
            if "text/html" in data:
                html = data["text/html"]
                reader = _ReadableText()
                reader.feed("".join(html) if isinstance(html, list) else html)
                parts.append(" ".join(reader.parts))
            else:
                text = data.get("text/markdown", data.get("text/plain", ""))
                parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def answer_shown(text: str, value: float) -> list[str]:
    """The forms of ``value`` that ``text`` prints as a number of their own: "215" in
    "about 215 kg", not in "2,215 km2", "9,342" or "0.2153"."""
    return sorted(
        f
        for f in answer_forms(value)
        if re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d]|[.,]\d)", text)
    )


def test_answer_shown_whole_numbers_only():
    # 214.7712 kg prints as 215, 214.8 or 214.77; other numbers that contain those digits
    # (an area of 2,215 km2, 9,342 t/yr, 0.2153, a base64 "w0215W9") are not the answer
    assert answer_shown("about 215 kg at berth", 214.7712) == ["215"]
    assert answer_shown("NOx 214.8 (kg); 214.77", 214.7712) == ["214.77", "214.8"]
    assert answer_shown("2,215 km2, 9,342 t/yr, 0.2153, 215.3, 1215", 214.7712) == []
    assert answer_shown("215,000 t", 214.7712) == []
    assert answer_shown("215.", 214.7712) == ["215"]  # at the end of a sentence


def test_visible_text_skips_image_payloads():
    outputs = [
        {"output_type": "display_data", "data": {"image/png": "fPgw0215W970", "text/plain": "x"}},
        {
            "output_type": "display_data",
            "data": {
                "text/html": '<figure><img src="data:image/png;base64,fPgw0215W970" '
                'alt="bars of 215 kg"><figcaption>NOx [kg]</figcaption></figure>',
                "text/plain": "<Figure>",
            },
        },
        {"output_type": "stream", "name": "stdout", "text": ["one ", "214.8\n"]},
    ]
    text = visible_text(outputs)
    assert "fPgw0215W970" not in text
    assert "bars of 215 kg" in text and "NOx [kg]" in text and "one 214.8" in text


PORT_WORKBOOK = NOTEBOOKS / "port_operations.ipynb"
EXPECTED_CELL = "from c3lib.kit.answers import work as _c3_work\nprint(repr({ask}[1].expected))"


def above_exercise_and_answer(ed_path: Path, tmp_path: Path) -> tuple[str, float]:
    """Run a learner edition's cells above its first exercise, then ask the kernel for the
    exercise's answer (the check cell's call, as :func:`c3lib.kit.answers.work`); the
    learner-visible text of those outputs and the answer."""
    import papermill

    nb = nbformat.read(ed_path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if EXERCISE_TAG in c.metadata.get("tags", []))
    (check,) = [c.source for c in nb.cells if c.source.startswith('check("')]
    ask = check.replace("check(", "_c3_work(", 1).replace(", answer,", ",", 1)
    nb.cells = [*nb.cells[:first], nbformat.v4.new_code_cell(EXPECTED_CELL.format(ask=ask))]
    cut = tmp_path / "above-exercise.ipynb"
    nbformat.write(nb, cut)
    ran = papermill.execute_notebook(
        str(cut), str(tmp_path / "ran.ipynb"), kernel_name="python3", progress_bar=False,
        cwd=str(tmp_path),
    )  # fmt: skip
    *above, asked = ran.cells
    outputs = [o for c in above if c.cell_type == "code" for o in c.outputs]
    return visible_text(outputs), float(visible_text(asked.outputs).strip())


def repo_pairs() -> list[str]:
    return list(load_catalog(PARAMS).pairs) if repo_params_valid() else []


@pytest.mark.slow
@pytest.mark.skipif(not PORT_WORKBOOK.is_file(), reason="no port-operations workbook yet")
@pytest.mark.parametrize("pair", repo_pairs())
def test_learner_edition_port_answer_not_shown_above_exercise(pair, tmp_path):
    # issue 17: nothing a learner reads above the exercise (tables, captions, sentences,
    # the givens) prints the berth auxiliary NOx the exercise asks for, for every pair
    (ed,) = write_editions("learner", pair, ["port-operations"], None, tmp_path / "out", NOTEBOOKS)
    text, expected = above_exercise_and_answer(ed.path, tmp_path)
    assert expected > 0 and "Exercise data" in text  # the givens ran and were shown
    shown = answer_shown(text, expected)
    assert not shown, f"{pair}: the answer {expected} shows above the exercise as {shown}"
