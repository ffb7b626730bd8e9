"""Export an executed workbook to a self-contained HTML case study (nbconvert, in-process)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import nbformat

__all__ = [
    "TEMPLATES_DIR",
    "TEMPLATE_NAME",
    "WIDGET_MIME",
    "html_exporter",
    "prepare",
    "export_html",
]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAME = "c3"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@cache
def html_exporter():
    """One configured ``HTMLExporter`` per process (template lookup is the slow part)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        embed_images=True,
    )


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` ready for a static page.

    Widget views are dropped from outputs (each explorer carries a static HTML
    rendering in the same output) and the saved widget state is removed, so the page
    needs no widget scripts.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and WIDGET_MIME in data:
                del data[WIDGET_MIME]
    return nb


def export_html(nb: nbformat.NotebookNode, provenance: dict | None = None) -> str:
    """Render an executed notebook as one HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    provenance : dict, optional
        Shown in the page footer (c3lib version, commit, params hash, build time).
    """
    body, _ = html_exporter().from_notebook_node(
        prepare(nb), resources={"c3_provenance": provenance or {}}
    )
    return body
