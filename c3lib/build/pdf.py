"""Print case studies to PDF: headless Chromium (Debian's ``chromium``) driven by Playwright.

``c3 build --pdf`` writes ``<pair>/<action>.pdf`` beside each case study's HTML: A4, the
page's own print stylesheet (contents and folded code left out, every ``<details>`` printed
open, wide tables set small and wrapped so none is cut at the margin). Playwright only
drives the browser: it never downloads one. Chromium is ``$C3_CHROMIUM`` or the first of
:data:`CHROMIUM_CANDIDATES` that exists.

The page is loaded from ``file://`` under its own Content-Security-Policy, as a reviewer
opens it: no script of the page runs and nothing is fetched.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from c3lib.build.store import atomic_write
from c3lib.exceptions import C3Error

__all__ = [
    "CHROMIUM_CANDIDATES",
    "CHROMIUM_ARGS",
    "PAGE_FORMAT",
    "PAGE_MARGINS",
    "PRINT_WIDTH_PX",
    "PdfUnavailable",
    "PdfResult",
    "find_chromium",
    "check_pdf_tools",
    "pdf_pages",
    "print_overflow",
    "write_pdfs",
]

log = logging.getLogger("c3lib")

#: Where Debian and Ubuntu install Chromium (``apt-get install chromium``).
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
PAGE_FORMAT = "A4"
#: As the case studies' ``@page`` rule (templates/c3/static/base.css) sets them.
PAGE_MARGINS = {"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
# page numbers in the bottom margin (Chromium fills the two spans)
_FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
#: The printable width of A4 under the case studies' ``@page`` margins (210 − 2 × 14 mm) at
#: 96 px per inch. [px]
PRINT_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)
# what a PDF page object looks like (not the /Pages tree node)
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")

_OVERFLOW_JS = """(width) => {
  const out = [];
  for (const el of document.querySelectorAll('main table, main img, main pre, main math')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    const cap = el.querySelector && el.querySelector('caption');
    out.push(`${el.tagName.toLowerCase()} ${Math.round(box.right - width)} px too wide` +
             (cap ? `: ${cap.textContent.trim().slice(0, 80)}` : ''));
  }
  return out;
}"""


class PdfUnavailable(C3Error):
    """Chromium or Playwright is missing, so no PDF can be printed."""


@dataclass(frozen=True)
class PdfResult:
    """One printed case study."""

    html: Path
    pdf: Path
    pages: int
    #: tables or images wider than the printed column (none when the stylesheet does its job)
    overflow: tuple[str, ...] = ()


def find_chromium() -> Path:
    """Debian's Chromium: ``$C3_CHROMIUM``, else the first of :data:`CHROMIUM_CANDIDATES`.

    Raises
    ------
    PdfUnavailable
        None of them is an executable file.
    """
    env = os.environ.get("C3_CHROMIUM")
    found = [env] if env else [*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""]
    for path in filter(None, found):
        if Path(path).is_file() and os.access(path, os.X_OK):
            return Path(path)
    where = f"C3_CHROMIUM={env}" if env else " or ".join(CHROMIUM_CANDIDATES)
    raise PdfUnavailable(
        f"--pdf needs Chromium: {where} not found; install Debian's package "
        "(apt-get install chromium) or set C3_CHROMIUM to its path"
    )


def check_pdf_tools():
    """Playwright's sync API and Chromium's path, or :class:`PdfUnavailable` saying which is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PdfUnavailable(
            "--pdf needs Playwright's Python package: python -m pip install playwright "
            "(it drives Debian's chromium; no browser is downloaded)"
        ) from None
    return sync_playwright, find_chromium()


def pdf_pages(data: bytes) -> int:
    """The number of pages of a PDF Chromium wrote (its page objects). [pages]"""
    return len(_PAGE_OBJECT.findall(data))


def print_overflow(page, width: int = PRINT_WIDTH_PX) -> list[str]:
    """What sticks out of the printed column of a Playwright ``page`` set for print.

    The viewport is set to the printable width and the print stylesheet applied; each
    table, image, formula or preformatted block wider than the column is named.
    """
    page.set_viewport_size({"width": width, "height": 1100})
    page.emulate_media(media="print")
    return page.evaluate(_OVERFLOW_JS, width)


def _launch_args() -> list[str]:
    # Chromium refuses to start its sandbox as root (containers, CI)
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [*CHROMIUM_ARGS, *(["--no-sandbox"] if root else [])]


def write_pdfs(html_paths: list[Path]) -> list[PdfResult]:
    """Print each case study to ``<same name>.pdf`` beside it, with one headless Chromium.

    A PDF newer than its HTML is kept as it is. Each file is written atomically.

    Raises
    ------
    PdfUnavailable
        Playwright or Chromium is missing (checked before anything is printed).
    """
    sync_playwright, chromium = check_pdf_tools()
    todo = []
    results = []
    for html in map(Path, html_paths):
        pdf = html.with_suffix(".pdf")
        if pdf.is_file() and pdf.stat().st_mtime >= html.stat().st_mtime:
            results.append(PdfResult(html, pdf, pdf_pages(pdf.read_bytes())))
        else:
            todo.append((html, pdf))
    if not todo:
        return results
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=_launch_args())
        try:
            context = browser.new_context(offline=True)
            for html, pdf in todo:
                page = context.new_page()
                page.goto(html.resolve().as_uri(), wait_until="load")
                overflow = tuple(print_overflow(page))
                data = page.pdf(
                    format=PAGE_FORMAT,
                    print_background=True,
                    margin=PAGE_MARGINS,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=_FOOTER,
                )
                page.close()
                atomic_write(pdf, data)
                for item in overflow:
                    log.warning("%s: in print, %s", pdf.name, item)
                results.append(PdfResult(html, pdf, pdf_pages(data), overflow))
        finally:
            browser.close()
    return results
