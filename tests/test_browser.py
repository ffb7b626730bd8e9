"""The built site in headless Chromium, from file://, as a reviewer opens it offline.

Builds one pair with the real workbooks in ``notebooks/`` (a fixture workbook while none
exists) and a second pair whose city and pair names are ``<script>`` tags (with a small
fixture workbook), then opens the index, every case study and every comparison page and
checks: no console error; no request to anything but ``file:`` and ``data:`` URLs; every
image loads and has alt text; every contents link lands on a heading; no serious or
critical axe-core violation; names from params show as text and run nothing. Saves
screenshots to ``tests/artifacts/screenshots/``; with ``C3_UPDATE_SCREENSHOTS=1``, to
``tests/screenshots/`` (the ones the README shows, committed), so that a test run leaves the
working tree as it found it.

Uses Debian's ``/usr/bin/chromium`` through Playwright (never a downloaded browser) and
axe-core from npm (``npm install --no-save axe-core``, or ``C3_AXE_JS=/path/axe.min.js``).
Skipped when either is missing, unless ``C3_REQUIRE_BROWSER=1`` (as in CI), which fails.
"""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from c3lib.build.batch import build
from c3lib.build.plan import plan
from c3lib.build.site import write_index
from c3lib.params import load_catalog
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NOTEBOOKS,
    PARAMS,
    REPO,
    browser_or_skip,
    edit_yaml,
    make_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parent / (
    "screenshots" if os.environ.get("C3_UPDATE_SCREENSHOTS") == "1" else "artifacts/screenshots"
)
VIEWPORT = {"width": 1280, "height": 900}
PAIR = "pasig-taipei"  # built with the real workbooks
EVIL_PAIR = "philadelphia-kaohsiung"  # built with a fixture workbook, hostile names
EVIL_CITY = "philadelphia"
EVIL_NAME = "<script>alert(1)</script>"
EVIL_PAIR_NAME = '<img src=x onerror="alert(2)">'
MAX_PAGE_BYTES = 1_500_000
# issue 16: the report body, before the appendix, at most 15 screens at 1280 × 800
SCREEN = {"width": 1280, "height": 800}
MAX_BODY_SCREENS = 15
# the case study to photograph: the first of these that was built
SCREENSHOT_ORDER = ("bike-sharing", "emissions-inventory", "port-operations")
BLOCKING = ("serious", "critical")

EVIL_WORKBOOK = """\
import matplotlib.pyplot as plt
from c3lib.kit import casestudy as cs
case = cs.load_case(pair, "emissions-inventory", params_dir)
cs.show_context(case)
cs.show_steps(case)
fig, ax = plt.subplots(figsize=(3, 2))
ax.bar([case.mentor.name, case.learning.name], [1, 2])
"""

IMAGES_JS = """() => Array.from(document.images).map(img => ({
    src: img.currentSrc.slice(0, 40), loaded: img.complete && img.naturalWidth > 0,
    alt: (img.getAttribute('alt') || '').trim()}))"""
TOC_JS = """() => Array.from(document.querySelectorAll('nav.c3-toc a[href^="#"]')).map(a => {
    const target = document.getElementById(decodeURIComponent(a.hash.slice(1)));
    return {href: a.getAttribute('href'), text: a.textContent.trim(),
            tag: target ? target.tagName : null,
            targetText: target ? target.textContent.trim() : null};
})"""
AXE_JS = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def axe_path() -> Path | None:
    """axe.min.js from ``C3_AXE_JS`` or ``./node_modules/axe-core/``, if there."""
    env = os.environ.get("C3_AXE_JS")
    path = Path(env) if env else REPO / "node_modules" / "axe-core" / "axe.min.js"
    return path if path.is_file() else None


def _requirements_or_skip():
    """Playwright's sync API, Chromium and axe-core, or skip (fail under C3_REQUIRE_BROWSER=1)."""
    missing_axe = None
    if axe_path() is None:
        missing_axe = (
            "axe-core not found: run `npm install --no-save axe-core` in the repository, "
            "or set C3_AXE_JS to axe.min.js"
        )
    return browser_or_skip(missing_axe)


def _evil_workbook(folder: Path) -> Path:
    path = make_notebook(folder / "emissions_inventory.ipynb", EVIL_WORKBOOK)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "# Emissions inventory: a fixture workbook"
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("## Context"))
    nb.cells.insert(-1, nbformat.v4.new_markdown_cell("## Sources\n\nNone: a fixture."))
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A built site: PAIR with the real workbooks, EVIL_PAIR with hostile names."""
    sync_playwright = _requirements_or_skip()
    root = tmp_path_factory.mktemp("site")
    params = root / "params"
    shutil.copytree(PARAMS, params)
    edit_yaml(params / "cities" / f"{EVIL_CITY}.yaml", lambda d: d.update(name=EVIL_NAME))

    def evil_pair(d):
        d.update(name=EVIL_PAIR_NAME, roles_note=EVIL_NAME)

    edit_yaml(params / "pairs" / f"{EVIL_PAIR}.yaml", evil_pair)
    catalog = load_catalog(params)
    out = root / "out"
    real = NOTEBOOKS
    if not any((NOTEBOOKS / a.notebook).is_file() for a in catalog.actions.values()):
        real = root / "fixture-notebooks"
        make_notebook(real / "emissions_inventory.ipynb", "x = 1")
    specs = plan(catalog, out, pairs=[PAIR], notebooks_dir=real)
    fixture = _evil_workbook(root / "evil-notebooks")
    specs += plan(
        catalog,
        out,
        pairs=[EVIL_PAIR],
        actions=["emissions-inventory"],
        notebooks_dir=fixture.parent,
    )
    results = build(specs, jobs=2)
    failed = [f"{r.pair}/{r.action}: {r.error}" for r in results if r.status != "ok"]
    assert not failed, failed
    write_index(catalog, out)
    built = [a for a in catalog.actions if (out / PAIR / f"{a}.html").is_file()]
    return SimpleNamespace(
        out=out,
        catalog=catalog,
        case_studies=[out / PAIR / f"{a}.html" for a in built]
        + [out / EVIL_PAIR / "emissions-inventory.html"],
        compare=sorted((out / "compare").glob("*.html")),
        showcase=next((a for a in SCREENSHOT_ORDER if a in built), built[0]),
        sync_playwright=sync_playwright,
    )


@pytest.fixture(scope="module")
def browser(site):
    """One Chromium for every page: a plain context, and one without CSP for injecting axe."""
    with site.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield SimpleNamespace(
                plain=chromium.new_context(viewport=VIEWPORT),
                axe=chromium.new_context(viewport=VIEWPORT, bypass_csp=True),
                noscript=chromium.new_context(viewport=VIEWPORT, java_script_enabled=False),
            )
        finally:
            chromium.close()


def open_page(browser, path: Path):
    """Open ``path`` as a reviewer would; return (page, record of what happened)."""
    page = browser.plain.new_page()
    seen = SimpleNamespace(errors=[], requests=[], dialogs=[])

    def on_console(msg):
        if msg.type == "error":
            seen.errors.append(msg.text)

    def on_dialog(dialog):
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on("request", lambda req: seen.requests.append(req.url))
    page.on("dialog", on_dialog)
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


def page_problems(browser, path: Path, toc: bool) -> list[str]:
    """Everything wrong with one page (an empty list when it passes every check)."""
    page, seen = open_page(browser, path)
    problems = [f"console error: {e}" for e in seen.errors]
    problems += [f"dialog opened: {d}" for d in seen.dialogs]
    problems += [
        f"request leaves the page: {u[:100]}"
        for u in seen.requests
        if not u.startswith(("file:", "data:"))
    ]
    for img in page.evaluate(IMAGES_JS):
        if not img["loaded"]:
            problems.append(f"image does not load: {img['src']}")
        if not img["alt"]:
            problems.append(f"image without alt text: {img['src']}")
    if toc:
        links = page.evaluate(TOC_JS)
        if not links:
            problems.append("no table of contents")
        for link in links:
            if link["tag"] not in ("H1", "H2", "H3", "H4"):
                problems.append(f"contents link {link['href']} lands on {link['tag']}")
            elif link["targetText"] != link["text"]:
                problems.append(f"contents link {link['text']!r} lands on {link['targetText']!r}")
    problems += _broken_local_links(page, path)
    page.close()
    for v in axe(browser, path):
        if v["impact"] in BLOCKING:
            problems.append(f"axe {v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}")
    return [f"{path.name}: {p}" for p in problems]


def _broken_local_links(page, path: Path) -> list[str]:
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    broken = []
    for href in hrefs:
        url = urlsplit(href)
        if url.scheme == "file" and not Path(unquote(url.path)).exists():
            broken.append(f"link to a missing file: {href}")
    return broken


def axe(browser, path: Path) -> list[dict]:
    """axe-core's violations on ``path`` (axe is injected, so CSP is bypassed here only)."""
    page = browser.axe.new_page()
    page.goto(path.as_uri(), wait_until="load")
    page.add_script_tag(path=str(axe_path()))
    violations = page.evaluate(AXE_JS)
    page.close()
    return violations


def screenshot(browser, path: Path, name: str, before=None) -> Path:
    page, _ = open_page(browser, path)
    if before:
        before(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / name
    page.screenshot(path=str(shot))
    page.close()
    return shot


def test_index_in_browser(site, browser):
    assert page_problems(browser, site.out / "index.html", toc=False) == []
    page, _ = open_page(browser, site.out / "index.html")
    runs = page.locator("tr.c3-run")
    n_actions = len(site.catalog.actions)
    assert runs.count() == len(site.catalog.pairs) * n_actions
    page.select_option("select[name=pair]", PAIR)
    assert page.locator("tr.c3-run:visible").count() == n_actions
    assert page.locator("section.c3-pair:visible").count() == 1
    page.select_option("select[name=status]", "ok")
    built = page.locator("tr.c3-run:visible")
    assert built.count() == len(site.case_studies) - 1
    assert {built.nth(i).get_attribute("data-status") for i in range(built.count())} == {"ok"}
    page.select_option("select[name=action]", "port-operations")
    assert page.locator("tr.c3-run:visible").count() in (0, 1)
    page.click("button[type=reset]")
    page.wait_for_function(
        f"document.querySelectorAll('tr.c3-run:not([hidden])').length == {runs.count()}"
    )
    assert "Showing" in page.locator("#c3-filter-count").inner_text()
    page.close()
    screenshot(
        browser,
        site.out / "index.html",
        "index.png",
        lambda p: p.select_option("select[name=pair]", PAIR),
    )


def test_case_studies_in_browser(site, browser):
    problems = []
    for path in site.case_studies:
        problems += page_problems(browser, path, toc=True)
    assert problems == []
    showcase = site.out / PAIR / f"{site.showcase}.html"
    screenshot(browser, showcase, "case-study.png")
    gaps = "#data-to-collect-first"
    if 'id="data-to-collect-first"' in showcase.read_text("utf-8"):
        screenshot(
            browser,
            showcase,
            "data-to-collect.png",
            lambda p: p.locator(gaps).scroll_into_view_if_needed(),
        )


def test_comparison_pages_in_browser(site, browser):
    problems = []
    for path in site.compare:
        problems += page_problems(browser, path, toc=False)
    assert problems == []
    assert len(site.compare) == len(site.catalog.actions)


def test_case_study_toc_link_scrolls_to_heading(site, browser):
    page, _ = open_page(browser, site.out / PAIR / f"{site.showcase}.html")
    links = page.locator("nav.c3-toc a")
    # a section in the body's second half: the folded appendix leaves too little page below
    # its own headings to scroll them to the top
    link = links.nth(links.count() // 2)
    target = link.get_attribute("href")
    link.click()
    page.wait_for_function(f"location.hash === {target!r}")
    top = page.evaluate(f"document.getElementById({target[1:]!r}).getBoundingClientRect().top")
    assert 0 <= top < VIEWPORT["height"] / 2
    page.close()


def test_params_names_show_as_text(site, browser):
    pages = [
        site.out / "index.html",
        site.out / EVIL_PAIR / "emissions-inventory.html",
        site.out / "compare" / "emissions-inventory.html",
    ]
    for path in pages:
        page, seen = open_page(browser, path)
        text = page.inner_text("body")
        assert EVIL_NAME in text, path.name  # shown, as text
        assert EVIL_PAIR_NAME in text, path.name
        assert page.locator("img[src=x]").count() == 0, path.name
        assert seen.dialogs == [], path.name
        page.close()


def test_case_study_prints_without_code(site, browser):
    page, _ = open_page(browser, site.out / PAIR / f"{site.showcase}.html")
    page.emulate_media(media="print")
    shown = page.evaluate(
        """() => ({
        code: Array.from(document.querySelectorAll('details.c3-code'))
            .filter(d => getComputedStyle(d).display !== 'none').length,
        summary: getComputedStyle(document.querySelector('.c3-summary')).display,
        toc: getComputedStyle(document.querySelector('nav.c3-toc')).display,
    })"""
    )
    assert shown == {"code": 0, "summary": "block", "toc": "none"}
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.close()


def test_case_study_pages_are_small(site):
    sizes = {p.name: p.stat().st_size for p in site.case_studies}
    assert max(sizes.values()) < MAX_PAGE_BYTES, sizes


BODY_JS = """() => {
    const appendix = document.querySelector('.c3-appendix');
    const end = appendix ? appendix.getBoundingClientRect().top + window.scrollY
                         : document.documentElement.scrollHeight;
    return end / window.innerHeight;
}"""
UNCONTAINED_JS = """() => {
    const main = document.querySelector('main').getBoundingClientRect();
    return Array.from(document.querySelectorAll('main table, main img')).filter(el => {
        if (!el.checkVisibility()) return false;
        const box = el.getBoundingClientRect();
        const scroller = el.closest('.c3-table-scroll, .c3-scroll, .c3-explorer-table');
        return box.right > main.right + 1 && !scroller;
    }).map(el => (el.querySelector('caption') || el).textContent.trim().slice(0, 60) || el.tagName);
}"""


def test_case_study_body_fits_fifteen_screens(site, browser):
    page = browser.plain.new_page()
    page.set_viewport_size(SCREEN)
    screens = {}
    for path in site.case_studies:
        page.goto(path.as_uri(), wait_until="load")
        screens[path.parent.name + "/" + path.stem] = round(page.evaluate(BODY_JS), 1)
    page.close()
    assert all(v <= MAX_BODY_SCREENS for v in screens.values()), screens


def test_case_study_tables_fit_screen_and_print(site, browser):
    from c3lib.build.pdf import print_overflow

    problems = []
    for path in site.case_studies + site.compare:
        page = browser.plain.new_page()
        page.set_viewport_size(SCREEN)
        page.goto(path.as_uri(), wait_until="load")
        problems += [f"{path.name} at 1280 px: {t}" for t in page.evaluate(UNCONTAINED_JS)]
        problems += [f"{path.name} in print: {t}" for t in print_overflow(page)]
        page.close()
    assert problems == []


def test_appendix_folded_on_screen_printed_open(site, browser):
    # the appendix is folded on screen and printed open; an explorer prints the setting shown
    page, _ = open_page(browser, site.out / PAIR / f"{site.showcase}.html")
    shown = (
        "() => Array.from(document.querySelectorAll('.c3-appendix-item table'))"
        ".filter(t => !t.closest('.c3-x-panel')).map(t => t.checkVisibility())"
    )
    panels = (
        "() => Array.from(document.querySelectorAll('.c3-explorer-sets')).map("
        "g => Array.from(g.querySelectorAll('.c3-x-panel'))"
        ".filter(p => p.checkVisibility()).length)"
    )
    on_screen = page.evaluate(shown)
    assert on_screen and not any(on_screen)
    page.emulate_media(media="print")
    assert all(page.evaluate(shown))
    assert all(n == 1 for n in page.evaluate(panels))
    page.close()


# --- Explorers without a kernel (issue 16 item 5) -------------------------------------------

# the settings an explorer shows at a time: its checked input, its visible panel's chart
# and table (locators run in Playwright's own world, so they work with JavaScript off)
EXPLORER = ".c3-explorer-sets"


AXE_EXPLORERS_JS = """async () => {
    const result = await axe.run({include: [['.c3-explorer-sets']]}, {resultTypes: ['violations']});
    return result.violations.map(v => `${v.impact}: ${v.id} (${v.help}) at ` +
        v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


@pytest.fixture(scope="module")
def explorer_pages(site):
    """The built case studies that hold an explorer's precomputed settings."""
    pages = [p for p in site.case_studies if "c3-explorer-sets" in p.read_text("utf-8")]
    real = [p for p in site.case_studies if p.parent.name == PAIR]
    notebooks = [NOTEBOOKS / site.catalog.actions[p.stem].notebook for p in real]
    drawn = [
        p for p, nb in zip(real, notebooks, strict=True) if "explorer(" in nb.read_text("utf-8")
    ]
    moot = [p for p in real if "c3-explorer-moot" in p.read_text("utf-8")]
    assert set(drawn) <= set(pages) | set(moot), "a workbook draws an explorer its page lacks"
    if not pages:
        pytest.skip("no workbook in notebooks/ draws an explorer")
    return pages


def _open(page, group) -> None:
    """Unfold what holds ``group`` (the appendix item of the learner's Explore section)."""
    folded = page.locator(f"details:not([open]):has({EXPLORER})")
    while folded.count():  # the outermost first: an inner summary shows once it is open
        folded.first.locator(":scope > summary").click()


def _explorers(page):
    """Each explorer of the page with its number, unfolded."""
    groups = page.locator(EXPLORER)
    for g in range(groups.count()):
        _open(page, groups.nth(g))
        yield g, groups.nth(g)


def _shown(group) -> dict:
    """What an explorer shows: the checked setting, its chart and its table."""
    panel = group.locator(".c3-x-panel")
    visible = [panel.nth(i) for i in range(panel.count()) if panel.nth(i).is_visible()]
    assert len(visible) == 1, f"{len(visible)} panels shown"
    table = visible[0].locator("table")
    return {
        "checked": group.locator("input.c3-x-in:checked").get_attribute("id"),
        "image": visible[0].locator("img").get_attribute("src"),
        "table": table.first.inner_html() if table.count() else None,
        "caption": visible[0].locator("figcaption").inner_text(),
    }


class _NoScript(HTMLParser):
    """Anything in a page that could run script: elements, handlers, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "form"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}>")
        if tag == "input" and dict(attrs).get("type") != "radio":
            self.found.append(f"<input type={dict(attrs).get('type')}>")


def test_explorer_settings_switch_without_script(explorer_pages, browser):
    # JavaScript off: a setting clicked shows its own chart and table, from the page alone
    switched = 0
    context = browser.noscript
    for path in explorer_pages:
        parser = _NoScript()
        parser.feed(path.read_text(encoding="utf-8"))
        assert parser.found == [], path.name
        page = context.new_page()
        requests = []
        page.on("request", lambda req, seen=requests: seen.append(req.url))
        page.goto(path.as_uri(), wait_until="load")
        for g, group in _explorers(page):
            before = _shown(group)
            labels_ = group.locator(".c3-x-controls label:not(.c3-x-as-set)")
            assert labels_.count() >= 1, path.name
            for k in (0, labels_.count() - 1):  # the first setting and the last
                label = labels_.nth(k)
                target = label.get_attribute("for")
                label.click()
                after = _shown(group)
                assert after["checked"] == target, path.name
                assert after["image"] != before["image"], (path.name, target)
                assert after["caption"] != before["caption"], (path.name, target)
                if before["table"] is not None:
                    assert after["table"] is not None, (path.name, target)
                switched += 1
            if path.stem == SCREENSHOT_ORDER[0] and g == 0:  # a setting other than as set
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                group.screenshot(path=str(SCREENSHOTS / "explorer.png"))
            group.locator("label.c3-x-as-set").first.click()
            assert _shown(group) == before, path.name  # and back as set
        loaded = [u for u in requests if not u.startswith("data:")]
        assert loaded == [path.as_uri()], path.name  # the page itself, nothing else
        page.close()
    assert switched >= 2  # at least one explorer, switched to two settings


def test_explorer_settings_table_changes(explorer_pages, browser):
    # at least one explorer's table follows its setting (a lever that moves the numbers)
    page = browser.noscript.new_page()
    changed = []
    for path in explorer_pages:
        page.goto(path.as_uri(), wait_until="load")
        for _, group in _explorers(page):
            before = _shown(group)
            group.locator(".c3-x-controls label:not(.c3-x-as-set)").last.click()
            after = _shown(group)
            if before["table"] is not None:
                changed.append((path.name, after["table"] != before["table"]))
    page.close()
    assert changed and all(c for _, c in changed), changed


def test_explorer_settings_accessible(explorer_pages, browser):
    # every radio input labelled; one tab stop per explorer, arrow keys move the setting and
    # show where focus is; axe-core finds nothing in an explorer and nothing serious elsewhere
    context = browser.axe
    problems = []
    for path in explorer_pages:
        page = context.new_page()
        page.goto(path.as_uri(), wait_until="load")
        unlabelled = page.evaluate(
            "() => Array.from(document.querySelectorAll('input')).filter("
            "i => i.labels.length === 0 || !i.labels[0].textContent.trim()).length"
        )
        problems += [f"{path.name}: {unlabelled} inputs without a label"] * bool(unlabelled)
        for _, group in _explorers(page):
            # focus starts here, after the inputs, or on the output area that holds them
            group.locator(".c3-x-intro").click()
            holds = group.evaluate("g => document.activeElement.contains(g)")
            page.keyboard.press("Tab" if holds else "Shift+Tab")
            focused = page.evaluate(
                "() => [document.activeElement.className, document.activeElement.checked]"
            )
            assert focused == ["c3-x-in c3-x-0", True], path.name
            before = _shown(group)
            page.keyboard.press("ArrowRight")
            after = _shown(group)
            assert after["checked"] != before["checked"], path.name
            assert after["image"] != before["image"], path.name
            outline = group.locator(f"label[for={after['checked']!r}]").first.evaluate(
                "l => getComputedStyle(l).outlineStyle"
            )
            assert outline == "solid", path.name  # focus shows on the setting's label
            page.keyboard.press("Tab")  # on past the explorer, not through its inputs
            assert not page.evaluate(
                "() => document.activeElement.classList.contains('c3-x-in')"
            ), path.name
        page.add_script_tag(path=str(axe_path()))
        for v in page.evaluate(AXE_JS):
            if v["impact"] in BLOCKING:
                problems.append(f"{path.name}: axe {v['impact']}: {v['id']} at {v['nodes']}")
        if page.locator(EXPLORER).count():
            for v in page.evaluate(AXE_EXPLORERS_JS):
                problems.append(f"{path.name}: axe in an explorer: {v}")
        page.close()
    assert problems == []
