"""Shared fixtures: a scratch copy of the params folder, and tiny notebooks for pipeline tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
PARAMS = REPO / "params"
NOTEBOOKS = REPO / "notebooks"

# Debian's Chromium, driven by Playwright (never a browser Playwright downloads itself)
CHROMIUM = Path(os.environ.get("C3_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_or_skip(also_missing: str | None = None):
    """Playwright's sync API, or skip with the reason (fail under ``C3_REQUIRE_BROWSER=1``).

    ``also_missing`` is a further reason the caller found (e.g. axe-core not installed).
    """
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright's Python package is not installed (pip install playwright)"
    if reason is None and not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} not found: apt-get install chromium (Debian's package)"
    reason = reason or also_missing
    if reason:
        if os.environ.get("C3_REQUIRE_BROWSER") == "1":
            pytest.fail(f"C3_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture
def params_dir(tmp_path: Path) -> Path:
    """A writable copy of the repository's params folder."""
    dst = tmp_path / "params"
    shutil.copytree(PARAMS, dst)
    return dst


def edit_yaml(path: Path, change) -> None:
    """Load a YAML file, let ``change(data)`` modify it, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def make_notebook(path: Path, *code: str, publish: bool = True) -> Path:
    """A minimal workbook: a tagged parameters cell, the given code cells, and a publish cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(
        'pair: str = "pasig-taipei"  # city-pair id\n'
        'params_dir: str = ""  # params folder (empty: the repository params folder)'
    )
    params.metadata["tags"] = ["parameters"]
    cells = [nbformat.v4.new_markdown_cell("# Test workbook"), params]
    cells += [nbformat.v4.new_code_cell(src) for src in code]
    if publish:
        cells.append(
            nbformat.v4.new_code_cell(
                "import pandas as pd\n"
                "from c3lib.kit import casestudy as cs\n"
                "case = cs.load_case(pair, 'emissions-inventory', params_dir)\n"
                "metrics = pd.DataFrame([{'city': case.learning.id, 'metric': 'answer', "
                "'value': 42.0, 'unit': 't/yr', 'pollutant': 'PM2.5'}])\n"
                "cs.publish(case, metrics, cs.assumptions(cs.inputs(case)), ['test source'])"
            )
        )
    nb.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def run_artifacts(spec, tag: str, html_kb: int = 0):
    """What a successful run of ``spec`` returns, tagged, with ``html_kb`` KiB of HTML padding."""
    import json

    from c3lib.build.store import Artifacts, RunResult

    record = {"pair": spec.pair, "action": spec.action, "metrics": [], "tag": tag}
    record["provenance"] = {"cache_key": spec.cache_key}
    files = {
        "ipynb": json.dumps({"cells": [], "tag": tag}),
        "html": f"<!DOCTYPE html><!-- {tag} -->" + "x" * (html_kb * 1024),
        "json": json.dumps(record),
    }
    return Artifacts(RunResult(spec.pair, spec.action, "ok"), files)
