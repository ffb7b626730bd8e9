"""PDF case studies: Chromium and Playwright found or named, page counts, one small page printed."""

from __future__ import annotations

import sys

import nbformat
import pandas as pd
import pytest

from c3lib.build import pdf
from c3lib.build.export import export_html
from c3lib.cli import main
from c3lib.kit.casestudy import table_html
from c3lib.params import load_catalog
from tests.conftest import browser_or_skip


def test_pdf_pages_counts_page_objects_not_the_tree():
    data = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n"
    data += b"3 0 obj <</Type/Page/Parent 1 0 R>>\n"
    assert pdf.pdf_pages(data) == 2


def test_print_width_is_a4_less_margins():
    # (210 mm - 2 × 14 mm) / 25.4 mm per inch × 96 px per inch = 687.9 px
    assert pdf.PRINT_WIDTH_PX == 688


def test_find_chromium_missing_names_the_package(monkeypatch):
    monkeypatch.setenv("C3_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pdf.PdfUnavailable, match=r"apt-get install chromium"):
        pdf.find_chromium()


def test_check_pdf_tools_without_playwright(monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails
    with pytest.raises(pdf.PdfUnavailable, match=r"pip install playwright"):
        pdf.check_pdf_tools()


def test_cli_build_pdf_without_chromium_exits_2_in_one_line(monkeypatch, tmp_path, capsys):
    from tests.conftest import PARAMS

    monkeypatch.setenv("C3_CHROMIUM", "/nonexistent/chromium")
    out = tmp_path / "out"
    pair = next(iter(load_catalog(PARAMS).pairs))
    code = main(["build", "--pdf", "--pair", pair, "--action", "bike-sharing", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--pdf needs Chromium" in err
    assert not list(out.rglob("*.html"))  # refused before anything ran


def small_case_study(tmp_path):
    """A one-page case study with a table of 14 wide columns (wider than A4 at body size)."""
    wide = pd.DataFrame(
        [[123_456_789.0 + i for i in range(14)]], columns=[f"emissions_{i}_t" for i in range(14)]
    )
    cell = nbformat.v4.new_code_cell("cs.show_table(wide)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": table_html(wide, "Wide"), "text/plain": "Wide"}
        )
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A small case study\n\n## Results"), cell]
    path = tmp_path / "small.html"
    path.write_text(export_html(nb), encoding="utf-8")
    return path


@pytest.mark.browser
def test_write_pdfs_prints_a4_without_cutting_tables(tmp_path):
    browser_or_skip()
    html = small_case_study(tmp_path)
    (result,) = pdf.write_pdfs([html])
    assert result.pdf == tmp_path / "small.pdf" and result.pdf.read_bytes().startswith(b"%PDF")
    assert result.pages == 1
    assert result.overflow == ()  # the 14-column table fits the printed width
    stamp = result.pdf.stat().st_mtime_ns
    (again,) = pdf.write_pdfs([html])  # up to date: kept as it is
    assert again.pages == 1 and again.pdf.stat().st_mtime_ns == stamp
