"""Workbooks in real JupyterLab: run them in headless Chromium as a learner would.

Every workbook runs at 1280 × 900 with the file browser open and is checked: no explorer
output wider than its cell, only the parameters and answer cells show code, and moving
each explorer control redraws the chart. Each workbook's learner edition runs too: the
exercise's answer (asked from the kernel) is printed in no output a learner reads above
the exercise (its text, not the base64 of a chart), and no solution or mentor-note text
appears at all.

Starts ``jupyter lab`` on 127.0.0.1 (free port, token set here, no browser) with a
temporary copy of the notebooks folder as its root, and drives Debian's ``/usr/bin/chromium``
with Playwright (never a downloaded browser). Skipped without Chromium or Playwright,
unless ``C3_REQUIRE_BROWSER=1``, which turns the skip into a failure (as in CI).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, NOTEBOOKS, browser_or_skip, make_notebook
from tests.test_editions import answer_shown, visible_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The first of these that exists is opened; a small fixture explorer while none does.
WORKBOOKS = (
    "emissions_inventory.ipynb",
    "bike_sharing.ipynb",
    "port_operations.ipynb",
    "commercial_cooking.ipynb",
    "low_emission_development.ipynb",
)
SERVER_START_S = 60
RUN_ALL_S = 120

FIXTURE_EXPLORER = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from c3lib.kit.explore import explorer


def update(share: float):
    after = 100 * (1 - share)  # t/yr left after a measure taken up by `share` of the fleet
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["before", "after"], [100, after])
    return fig, pd.DataFrame({"emissions [t/yr]": [100, after]}, index=["before", "after"])


explorer(update, caption="Emissions", share=widgets.FloatSlider(
    value=0.2, min=0, max=1, step=0.1, description="share"))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workbook(root: Path) -> Path:
    """A copy of the notebooks folder in ``root`` and the workbook to open in it.

    The first of :data:`WORKBOOKS` that exists; while none does, a fixture explorer.
    """
    for name in WORKBOOKS:
        if (NOTEBOOKS / name).is_file():
            shutil.copytree(NOTEBOOKS, root, dirs_exist_ok=True)
            return root / name
    return make_notebook(root / "explorer_fixture.ipynb", FIXTURE_EXPLORER, publish=False)


@contextmanager
def lab_server(root: Path, home: Path) -> Iterator[tuple[str, str]]:
    """``jupyter lab`` serving ``root`` on loopback; yields (base URL, token); always stops it."""
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("IPYTHONDIR", "ipython"),
    ]:
        env[var] = str(home / sub)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited ({proc.returncode}):\n{_tail(home)}")
            try:
                req = urllib.request.Request(
                    f"{base}/api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    json.load(resp)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {SERVER_START_S} s:\n{_tail(home)}")
                time.sleep(0.3)
        yield base, token
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server (it shuts its kernels down), then SIGKILL its process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the server's own session: leftover kernels
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _tail(home: Path, lines: int = 40) -> str:
    text = (home / "server.log").read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "jupyterlab"
EXPLORER = ".jp-OutputArea-output:has(.widget-slider):has(.widget-html-content)"
KERNEL_IDLE = """() => {
    const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = nb && nb.sessionContext && nb.sessionContext.session
        && nb.sessionContext.session.kernel;
    return kernel && kernel.status === 'idle';
}"""
# Done when the kernel is idle and every code cell has run, or one has failed.
RUN_STATE = """() => {
    const nb = window.jupyterapp.shell.currentWidget;
    const cells = nb.content.widgets.filter(c => c.model.type === 'code');
    const errors = cells.flatMap(c => c.model.outputs.toJSON())
        .filter(o => o.output_type === 'error')
        .map(o => `${o.ename}: ${o.evalue}`);
    const ran = cells.every(c => c.model.executionCount !== null);
    const idle = nb.sessionContext.session.kernel.status === 'idle';
    return idle && (ran || errors.length) ? {errors} : null;
}"""


def _run_and_move_slider(page, base: str, token: str, workbook: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/lab/tree/{workbook.name}?token={token}")
    page.wait_for_function(KERNEL_IDLE)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    state = page.wait_for_function(RUN_STATE, timeout=RUN_ALL_S * 1000).json_value()
    assert state["errors"] == [], f"{workbook.name} failed in JupyterLab: {state['errors']}"

    explorer = page.locator(EXPLORER).first
    explorer.scroll_into_view_if_needed()
    chart = explorer.locator(".widget-html-content").first
    readout = explorer.locator(".widget-slider .widget-readout").first
    before, setting = chart.inner_html(), readout.inner_text()
    assert "<img" in before and "<table" in before  # chart and table drawn live
    handle = explorer.locator(".widget-slider .noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")  # one step of the first lever
    expect(readout).not_to_have_text(setting)
    page.wait_for_function(
        "([el, old]) => el.innerHTML !== old", arg=[chart.element_handle(), before]
    )
    page.wait_for_function(KERNEL_IDLE)
    after = chart.inner_html()
    assert after != before and "<img" in after and "<table" in after


VIEWPORT = {"width": 1280, "height": 900}
# Code cells whose input shows, with their tags, and explorer parts wider than their cell.
LAYOUT = """() => {
    const nb = window.jupyterapp.shell.currentWidget;
    const visible = nb.content.widgets
        .filter(c => c.model.type === 'code' && !c.inputHidden)
        .map(c => ({tags: c.model.getMetadata('tags') || [],
                    head: c.model.sharedModel.getSource().slice(0, 40)}));
    const overflow = [];
    for (const out of document.querySelectorAll('.jp-Cell .widget-html-content')) {
        const cell = out.closest('.jp-Cell-outputWrapper') || out.closest('.jp-Cell');
        const right = cell.getBoundingClientRect().right + 1;
        for (const el of out.querySelectorAll('img, figure, .c3-explorer-table')) {
            const box = el.getBoundingClientRect();
            const over = Math.round(box.right - right);
            if (box.width && over > 0) overflow.push(`${el.tagName} +${over}px`);
        }
    }
    return {visible, overflow};
}"""
# Outputs of the cells above the first exercise cell, and the whole notebook's text.
TEXT = """() => {
    const nb = window.jupyterapp.shell.currentWidget;
    const cells = nb.content.widgets;
    const first = cells.findIndex(c => (c.model.getMetadata('tags') || []).includes('exercise'));
    const outputs = c => c.model.type === 'code' ? JSON.stringify(c.model.outputs.toJSON()) : '';
    return {
        before: cells.slice(0, first).filter(c => c.model.type === 'code')
            .flatMap(c => c.model.outputs.toJSON()),
        all: cells.map(c => c.model.sharedModel.getSource() + outputs(c)).join('\\n'),
        check: (cells.map(c => c.model.sharedModel.getSource())
            .find(s => s.startsWith('check(')) || ''),
    };
}"""
KERNEL_PRINT = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    let out = '';
    const future = kernel.requestExecute({code, store_history: false});
    future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
    await future.done;
    return out;
}"""


def _open_and_run(page, base: str, token: str, path: str, workspace: str = "") -> None:
    """Open ``path`` (in a fresh ``workspace`` of its own when named) and run all its cells."""
    where = f"workspaces/{workspace}/tree/{path}?reset&" if workspace else f"tree/{path}?"
    page.goto(f"{base}/lab/{where}token={token}")
    page.wait_for_function(  # the workspace may restore another tab first
        "(path) => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return nb && nb.context && nb.context.path === path; }",
        arg=path,
    )
    page.wait_for_function(KERNEL_IDLE)
    page.evaluate("window.jupyterapp.commands.execute('filebrowser:activate')")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    state = page.wait_for_function(RUN_STATE, timeout=RUN_ALL_S * 1000).json_value()
    assert state["errors"] == [], f"{path} failed in JupyterLab: {state['errors']}"


def _move_every_control(page) -> int:
    """Step each slider and dropdown of every explorer; the chart must redraw each time."""
    moved = 0
    for explorer in page.locator(EXPLORER).all():
        explorer.scroll_into_view_if_needed()
        chart = explorer.locator(".widget-html-content").first
        for i in range(explorer.locator(".widget-slider, .widget-dropdown").count()):
            control = explorer.locator(".widget-slider, .widget-dropdown").nth(i)
            before = chart.inner_html()
            select = control.locator("select")
            if select.count():
                options = select.locator("option").all_inner_texts()
                current = select.evaluate("s => s.options[s.selectedIndex].text")
                select.select_option(label=next(o for o in options if o != current))
            else:
                handle = control.locator(".noUi-handle").first
                at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute(
                    "aria-valuemax"
                )
                handle.focus()
                handle.press("ArrowLeft" if at_max else "ArrowRight")
            page.wait_for_function(
                "([el, old]) => el.innerHTML !== old", arg=[chart.element_handle(), before]
            )
            page.wait_for_function(KERNEL_IDLE)
            assert "<img" in chart.inner_html(), "the chart is gone after a move"
            moved += 1
    return moved


def _learner_edition(root: Path, workbook: Path) -> str:
    """Write the workbook's learner edition under ``root``; its path relative to ``root``."""
    from c3lib.build.editions import write_editions
    from c3lib.params import load_catalog

    catalog = load_catalog()
    action = next(a.id for a in catalog.actions.values() if a.notebook == workbook.name)
    pair = next(iter(catalog.pairs))
    (edition,) = write_editions("learner", pair, [action], None, root / "out", NOTEBOOKS)
    return edition.path.relative_to(root).as_posix()


def _check_learner_edition(page, base: str, token: str, path: str) -> None:
    _open_and_run(page, base, token, path, workspace=Path(path).stem.replace("_", "-"))
    text = page.evaluate(TEXT)
    assert "Mentor note" not in text["all"] and "Lesson plan" not in text["all"]
    assert "c3-feedback-missing" in text["all"]  # the check ran: no answer yet
    assert text["check"].startswith('check("'), "the check names its exercise"
    ask = text["check"].replace("check(", "_c3_work(", 1).replace(", answer,", ",", 1)
    printed = page.evaluate(
        KERNEL_PRINT,
        f"from c3lib.kit.answers import work as _c3_work\nprint(repr({ask}[1].expected))",
    )
    expected = float(printed.strip())
    # what the learner reads (never the base64 of a chart), a number of its own (not the
    # "215" of "2,215 km2")
    shown = answer_shown(visible_text(text["before"]), expected)
    assert not shown, f"{path}: the answer {expected} shows above the exercise as {shown}"


def _shipped_workbooks() -> list[str]:
    return [name for name in WORKBOOKS if (NOTEBOOKS / name).is_file()]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server over a copy of the notebooks (with each workbook's learner
    edition), and one headless Chromium, shared by every workbook's test."""
    sync_playwright = browser_or_skip()
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, root)
    learners = {name: _learner_edition(root, root / name) for name in _shipped_workbooks()}
    home = tmp / "jupyter"
    home.mkdir()
    with lab_server(root, home) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser, base, token, learners, home
        finally:
            browser.close()


@pytest.mark.skipif(not _shipped_workbooks(), reason="no workbooks in notebooks/ yet")
@pytest.mark.parametrize("name", _shipped_workbooks())
def test_jupyterlab_workbook_as_a_learner(lab, name):
    browser, base, token, learners, home = lab
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    try:
        _open_and_run(page, base, token, name, workspace=Path(name).stem.replace("_", "-"))
        layout = page.evaluate(LAYOUT)
        kinds = sorted({t for c in layout["visible"] for t in c["tags"]})
        assert all(c["tags"] for c in layout["visible"]), layout["visible"]
        assert set(kinds) <= {"parameters", "exercise"}, layout["visible"]
        assert len(layout["visible"]) == 2, layout["visible"]
        assert layout["overflow"] == [], f"explorer wider than its cell: {layout['overflow']}"
        assert _move_every_control(page) >= 2
        _check_learner_edition(page, base, token, learners[name])
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a failed CI run
        page.screenshot(path=str(ARTIFACTS / f"failure-{name}.png"), full_page=True)
        shutil.copy(home / "server.log", ARTIFACTS / "server.log")
        raise
    finally:
        page.close()


@pytest.mark.skipif(bool(_shipped_workbooks()), reason="the workbooks' own test covers it")
def test_jupyterlab_explorer_redraws_on_slider(tmp_path):
    sync_playwright = browser_or_skip()
    root = tmp_path / "notebooks"
    root.mkdir()
    workbook = _workbook(root)
    home = tmp_path / "jupyter"
    home.mkdir()
    with lab_server(root, home) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        try:
            _run_and_move_slider(page, base, token, workbook)
        except Exception:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a failed CI run
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            shutil.copy(home / "server.log", ARTIFACTS / "server.log")
            raise
        finally:
            browser.close()
