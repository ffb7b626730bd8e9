"""The site: index (status, filters, progress grid) and the per-action comparison pages."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re

import pytest
from bs4 import BeautifulSoup

from c3lib.build.site import (
    FILTER_SCRIPT,
    collect_states,
    compare_html,
    index_html,
    progress_grid,
    write_index,
)
from c3lib.params import load_catalog
from tests.conftest import edit_yaml
from tests.test_export import EVIL, EVIL_TEXT, make_record

N_PAIRS, N_ACTIONS = 5, 5


def write_run(out, pair: str, action: str, record: dict | None = None, error: str | None = None):
    """The files a build leaves for one target: ``<action>.json`` and/or ``.error.json``."""
    folder = out / pair
    folder.mkdir(parents=True, exist_ok=True)
    if record is not None:
        record = {**record, "pair": pair, "action": action, "status": "ok"}
        record.setdefault("provenance", {"built_at": "2024-05-01T10:00:00+00:00"})
        (folder / f"{action}.json").write_text(json.dumps(record), encoding="utf-8")
    if error is not None:
        (folder / f"{action}.error.json").write_text(
            json.dumps(
                {
                    "pair": pair,
                    "action": action,
                    "status": "failed",
                    "error": error,
                    "failed_cell": 3,
                    "executed_notebook": f"{action}.failed.ipynb",
                }
            ),
            encoding="utf-8",
        )


def soup_of(page: str) -> BeautifulSoup:
    return BeautifulSoup(page, "html.parser")


def text_of(tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


@pytest.fixture
def catalog(params_dir):
    def progress(data):
        data["progress"]["bike-sharing"] = {
            "goals": {"status": "done", "date": dt.date(2016, 1, 1), "note": "set"},
            "sizing": {"status": "in-progress"},
        }

    edit_yaml(params_dir / "pairs" / "pasig-taipei.yaml", progress)
    return load_catalog(params_dir)


@pytest.fixture
def out(tmp_path):
    """Outputs of a partial build: two good runs, a failure, a failure over a good run."""
    out = tmp_path / "out"
    write_run(out, "pasig-taipei", "bike-sharing", make_record())
    write_run(out, "pasig-taipei", "port-operations", error="ValueError: boom in a cell")
    other = make_record(
        pair_name="Haiphong–Kitakyushu",
        cities={
            "mentor": {"id": "kitakyushu", "name": "Kitakyushu", "country": "Japan"},
            "learning": {"id": "haiphong", "name": "Haiphong", "country": "Viet Nam"},
        },
        focus=False,
    )
    for m in other["metrics"]:
        m["city"] = {"taipei": "kitakyushu", "pasig": "haiphong"}.get(m["city"], m["city"])
        m["value"] *= 10
    write_run(out, "haiphong-kitakyushu", "bike-sharing", other, error="KeyError: 'x'")
    return out


def test_progress_grid_counts_steps(catalog):
    grid = {(r["pair"], r["action"]): r for r in progress_grid(catalog)}
    assert len(grid) == N_PAIRS * N_ACTIONS
    # bike-sharing has 6 steps; the fixture marks goals done and sizing in progress
    assert grid[("pasig-taipei", "bike-sharing")] == {
        "pair": "pasig-taipei",
        "action": "bike-sharing",
        "steps": 6,
        "done": 1,
        "in_progress": 1,
        "focus": True,
    }
    assert grid[("pasig-taipei", "port-operations")]["focus"] is False


def test_collect_states_reads_every_target(catalog, out):
    states = collect_states(catalog, out)
    assert len(states) == N_PAIRS * N_ACTIONS
    assert states[("pasig-taipei", "bike-sharing")]["status"] == "ok"
    assert states[("pasig-taipei", "port-operations")]["status"] == "failed"
    assert states[("haiphong-kitakyushu", "bike-sharing")]["record"] is not None


def test_index_html_lists_every_case_study_with_status(catalog, out):
    soup = soup_of(index_html(catalog, out))
    rows = soup.select("tr.c3-run")
    assert len(rows) == N_PAIRS * N_ACTIONS
    by = {(r["data-pair"], r["data-action"]): r for r in rows}
    ok = by[("pasig-taipei", "bike-sharing")]
    assert ok["data-status"] == "ok" and ok.find("a")["href"] == "pasig-taipei/bike-sharing.html"
    assert "built" in text_of(ok) and "focus" in text_of(ok)
    assert "1 of 6 steps done, 1 in progress" in text_of(ok)
    failed = by[("pasig-taipei", "port-operations")]
    assert failed["data-status"] == "failed" and "boom in a cell (cell 3)" in text_of(failed)
    assert failed.find("a", href="pasig-taipei/port-operations.failed.ipynb")
    assert "last good build" not in text_of(failed)
    stale = by[("haiphong-kitakyushu", "bike-sharing")]
    assert "last good build" in text_of(stale)
    assert stale.find("a", href="haiphong-kitakyushu/bike-sharing.html")
    assert by[("bangkok-san-diego", "bike-sharing")]["data-status"] == "missing"
    assert "25 case studies: 1 built, 2 failed, 22 not built." in text_of(soup)
    sections = soup.select("section.c3-pair")
    assert [s.h3.get_text() for s in sections] == [p.name for p in catalog.pairs.values()]


def test_index_html_filters_by_pair_action_and_status(catalog, out):
    soup = soup_of(index_html(catalog, out))
    form = soup.find("form", id="c3-filters")
    assert form.has_attr("hidden")  # shown by the script; without script every row shows
    options = {
        s["name"]: [o["value"] for o in s.find_all("option")] for s in form.find_all("select")
    }
    assert options == {
        "pair": ["", *catalog.pairs],
        "action": ["", *catalog.actions],
        "status": ["", "ok", "failed", "missing"],
    }
    assert all(s.find_parent("label") for s in form.find_all("select"))  # each has a label
    (script,) = soup.find_all("script")
    assert script.string == FILTER_SCRIPT and not script.has_attr("src")
    digest = base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode()).digest()).decode()
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_index_html_progress_grid(catalog, out):
    grid = soup_of(index_html(catalog, out)).find("table", class_="c3-grid")
    head = [th.get_text() for th in grid.thead.find_all("th")]
    assert head == ["Pair", *[a.title for a in catalog.actions.values()]]
    rows = {tr.th.get_text(): [text_of(td) for td in tr.find_all("td")] for tr in grid.tbody}
    assert len(rows) == N_PAIRS
    pasig = rows[catalog.pairs["pasig-taipei"].name]
    assert pasig[list(catalog.actions).index("bike-sharing")] == (
        "1 of 6 steps done, 1 in progress focus"
    )


def test_index_html_links_comparison_pages(catalog, out):
    soup = soup_of(index_html(catalog, out))
    links = soup.select("#compare a")
    assert [a["href"] for a in links] == [f"compare/{a}.html" for a in catalog.actions]
    assert "(2 of 5 pairs built)" in text_of(soup.select("#compare li")[3])


def test_index_html_escapes_params(params_dir, out):
    edit_yaml(params_dir / "cities" / "pasig.yaml", lambda d: d.update(name=EVIL, country=EVIL))

    def evil_pair(d):
        d.update(name=EVIL, roles_note=EVIL)

    edit_yaml(params_dir / "pairs" / "pasig-taipei.yaml", evil_pair)
    write_run(out, "pasig-taipei", "port-operations", error=EVIL)
    page = index_html(load_catalog(params_dir), out)
    assert EVIL not in page
    assert page.count(EVIL_TEXT) >= 6  # pair heading, filter option, city, country, note, error
    assert len(soup_of(page).find_all("script")) == 1


def test_compare_html_sets_pairs_side_by_side(catalog, out):
    soup = soup_of(compare_html(catalog, "bike-sharing", collect_states(catalog, out)))
    table = soup.find("table", class_="c3-compare")
    top = [text_of(th) for th in table.thead.find_all("tr")[0].find_all("th")]
    assert top == ["Result", "Unit", "Haiphong–Kitakyushu", "Pasig–Taipei"]  # catalog order
    sub = [text_of(th) for th in table.thead.find_all("tr")[1].find_all("th")]
    assert sub == [
        "Kitakyushu mentor", "Haiphong learning", "Pair",
        "Taipei mentor", "Pasig learning", "Pair",
    ]  # fmt: skip
    rows = {tr.th.get_text(): [td.get_text() for td in tr.find_all("td")] for tr in table.tbody}
    # pasig-taipei: stations 130 / 45; haiphong-kitakyushu recorded ten times those values
    assert rows["Stations needed"] == ["stations", "1,300", "450", "—", "130", "45", "—"]
    assert rows["Avoided emissions, PM2.5 (planned)"] == [
        "t/yr", "15", "2.5", "—", "1.5", "0.25", "—",
    ]  # fmt: skip
    assert rows["Cities compared"] == ["cities", "—", "—", "20", "—", "—", "2"]
    page = text_of(soup)
    assert "latest run failed; this is the last good build" in page
    assert "Not built for this action: Bangkok" in page


def test_compare_html_without_builds(catalog, out):
    page = text_of(
        soup_of(compare_html(catalog, "commercial-cooking", collect_states(catalog, out)))
    )
    assert "No pair has a built case study for this action yet." in page


def test_compare_html_escapes_record_values(catalog, tmp_path):
    out = tmp_path / "out"
    rec = make_record(pair_name=EVIL)
    rec["cities"]["learning"]["name"] = EVIL
    rec["metrics"][1]["unit"] = EVIL
    write_run(out, "pasig-taipei", "bike-sharing", rec)
    page = compare_html(catalog, "bike-sharing", collect_states(catalog, out))
    assert EVIL not in page and "<script" not in page
    assert page.count(EVIL_TEXT) >= 3


def test_write_index_writes_index_and_comparison_pages(catalog, out):
    path = write_index(catalog, out)
    assert path == out / "index.html" and path.is_file()
    for action in catalog.actions:
        page = (out / "compare" / f"{action}.html").read_text(encoding="utf-8")
        assert soup_of(page).find("a", href="../index.html")
    assert not list(out.rglob(".*tmp*"))


def test_site_pages_load_nothing(catalog, out):
    write_index(catalog, out)
    for path in [out / "index.html", *sorted((out / "compare").glob("*.html"))]:
        soup = soup_of(path.read_text(encoding="utf-8"))
        assert [link["href"] for link in soup.find_all("link")] == ["data:,"], path
        assert not soup.find_all(src=True), path
        css = "".join(s.get_text() for s in soup.find_all("style"))
        assert not re.search(r"url\(|@import", css), path
