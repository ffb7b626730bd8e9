"""Params strings are escaped where the page is built, not only sanitised at export.

A city name and a measure carrying HTML and Markdown payloads go through the kit's
builders (context, measures with their chart, sentences, the port status Markdown) and
the real export (``nh3`` still on): each payload reads as literal text on the page, and
none becomes an element, a link, bold text or a table.
"""

from __future__ import annotations

import types

import nbformat
import pytest
from bs4 import BeautifulSoup

from c3lib.build.export import export_html
from c3lib.kit import casestudy as cs
from c3lib.kit import world
from c3lib.params import load_catalog
from c3lib.topics.ports import views as port_views
from tests.conftest import edit_yaml
from tests.test_export import case_notebook, make_record

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "**bold**",
    "| pipe |",
    "$x^$",  # a formula that does not parse: a chart would fail to draw
    "<https://example.org>",
    "# heading",
]
NAME = "Payload City " + " ".join(PAYLOADS)


def captured(show, *args) -> list[dict]:
    """What ``show(*args)`` displays, as notebook outputs (mime bundles)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    out: list[dict] = []
    real = shell.display_pub.publish
    shell.display_pub.publish = lambda data, **kw: out.append(data)
    try:
        show(*args)
    finally:
        shell.display_pub.publish = real
    return out


def exported(*bundles: dict) -> BeautifulSoup:
    cell = nbformat.v4.new_code_cell("shown()")
    cell.outputs = [nbformat.v4.new_output("display_data", data=b) for b in bundles]
    return BeautifulSoup(export_html(case_notebook(make_record(), [cell])), "html.parser")


def assert_literal(soup: BeautifulSoup, text: str = NAME) -> None:
    """Every payload of ``text`` reads as written, and none became markup."""
    page = " ".join(soup.get_text().split())
    assert " ".join(text.split()) in page
    assert not soup.find_all(attrs={"onerror": True})
    assert all(img["src"].startswith("data:image/") for img in soup.find_all("img"))
    assert not [a for a in soup.find_all("a") if "javascript" in a.get("href", "")]
    assert not [a for a in soup.find_all("a") if "example.org" in a.get("href", "")]
    assert "bold" not in [b.get_text() for b in soup.find_all(["strong", "b"])]
    assert "heading" not in " ".join(h.get_text() for h in soup.find_all(["h1", "h2", "h3"]))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_escape_reads_as_written(payload):
    soup = exported({"text/markdown": f"City: {cs.md_escape(payload)}.", "text/plain": ""})
    assert f"City: {payload}." in " ".join(soup.get_text().split())
    assert_literal(soup, payload)
    assert not soup.select("table:not(.c3-table) td")  # no table made of the pipes


def test_md_escape_collapses_lines():
    assert cs.md_escape("a\n\n# b\n- c") == "a \\# b \\- c"
    assert cs.md_escape("<b>&") == "&lt;b&gt;&amp;"


def test_status_text_escapes_port_names_as_md_escape():
    """The ports view builds its Markdown from names escaped as the kit does."""
    port = types.SimpleNamespace(name=NAME, status="no-seaport", has_port=False, has_seaport=0)
    text = port_views.status_text({"learning": port})
    assert f"- **{cs.md_escape(NAME)}** (learning)" in text
    soup = exported({"text/markdown": text, "text/plain": ""})
    assert_literal(soup)
    assert NAME in [b.get_text() for b in soup.find_all("strong")]  # bold as the view made it
    for payload in PAYLOADS:
        assert port_views._md_literal(payload) == cs.md_escape(payload)


@pytest.fixture
def hostile_case(params_dir):
    """Any pair's case with the learning city named with payloads and a measure of the
    mentor carrying them (written into the params copy)."""
    cat = load_catalog(params_dir)
    pair = sorted(cat.pairs)[0]
    action = sorted(cat.actions)[0]
    learning, mentor = cat.pairs[pair].learning, cat.pairs[pair].mentor
    edit_yaml(
        params_dir / f"cities/{learning}.yaml",
        lambda d: d.update(name=NAME, measures=[], measures_note=NAME),
    )
    measure = {
        "action": action,
        "measure": f"Measure {NAME}",
        "lever": "other",
        "start_year": 2015,
        "end_year": None,
        "where": NAME,
        "source": f"Source {NAME}",
    }
    edit_yaml(params_dir / f"cities/{mentor}.yaml", lambda d: d.update(measures=[measure]))
    return cs.load_case(pair, action, str(params_dir))


def test_kit_builders_escape_params_strings(hostile_case):
    bundles = [
        *captured(cs.show_context, hostile_case),
        *captured(world.show_measures, hostile_case),  # timeline, table and paragraph
        *captured(cs.show_text, f"{hostile_case.learning.name}: nothing recorded."),
    ]
    assert any("image/png" in b or "<img" in b.get("text/html", "") for b in bundles)
    for b in bundles:
        assert "<img src=x" not in b.get("text/html", "")
    soup = exported(*bundles)
    assert_literal(soup)
    assert f"{NAME}: nothing recorded." in " ".join(soup.get_text().split())
    assert f"Measure {NAME}" in " ".join(soup.get_text().split())


def test_site_pages_escape_params_strings(hostile_case, params_dir, tmp_path):
    """The index and the compare pages show the names, notes and measures as written."""
    from c3lib.build.site import write_index

    catalog = load_catalog(params_dir)
    index = write_index(catalog, tmp_path / "out")
    pages = [index, *sorted((tmp_path / "out" / "compare").glob("*.html"))]
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert_literal(soup)
        assert len(soup.find_all("script")) <= 1  # the index's own filter script only
        assert not soup.find_all("meta", attrs={"http-equiv": "refresh"})
    compare = tmp_path / "out" / "compare" / f"{hostile_case.action.id}.html"
    text = " ".join(BeautifulSoup(compare.read_text(encoding="utf-8"), "html.parser").text.split())
    assert f"Measure {NAME}" in text  # the mentor's measure, among the measures in place
