"""The site: index (status, filters, progress grid) and the per-action comparison pages."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re

import pytest
from bs4 import BeautifulSoup

from c3lib.build.export import (
    PLACEHOLDER_SHARE,
    PLACEHOLDER_SOURCE,
    export_html,
    placeholder_inputs,
    summary_context,
)
from c3lib.build.site import (
    FILTER_SCRIPT,
    collect_states,
    compare_html,
    index_html,
    progress_grid,
    write_index,
)
from c3lib.params import load_catalog
from c3lib.scaffold import PLACEHOLDER
from tests.conftest import edit_yaml
from tests.test_export import EVIL, EVIL_TEXT, case_notebook, make_record


def picked(catalog) -> tuple[str, str, str]:
    """Three pairs of the catalog, in its order: A built (and failed), B failed over a good
    run, C not built. Derived from the catalog, so the tests hold for any params folder."""
    ids = list(catalog.pairs)
    if len(ids) < 3:
        pytest.skip("the params folder has fewer than three pairs")
    return ids[0], ids[1], ids[2]


def record_for(catalog, pair_id: str, scale: float = 1.0, **changes) -> dict:
    """:func:`make_record` re-pointed at a catalog pair's cities, its values times ``scale``."""
    pair = catalog.pairs[pair_id]
    ids = {"taipei": pair.mentor, "pasig": pair.learning}
    cities = {
        role: {"id": c.id, "name": c.name, "country": c.country}
        for role, c in catalog.roles(pair_id).items()
    }
    rec = make_record(**{"pair_name": pair.name, "cities": cities, **changes})
    for m in rec["metrics"]:
        m["city"] = ids.get(m["city"], m["city"])
        m["value"] *= scale
    return rec


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
    a, _, _ = picked(load_catalog(params_dir))
    steps = load_catalog(params_dir).actions["bike-sharing"].steps

    def progress(data):
        data["progress"]["bike-sharing"] = {
            steps[0].id: {"status": "done", "date": dt.date(2016, 1, 1), "note": "set"},
            steps[1].id: {"status": "in-progress"},
        }
        data["focus"] = [
            f for f in data["focus"] if f["action"] not in ("bike-sharing", "port-operations")
        ] + [{"action": "bike-sharing", "basis": "assumed", "source": "test fixture"}]

    edit_yaml(params_dir / "pairs" / f"{a}.yaml", progress)
    return load_catalog(params_dir)


@pytest.fixture
def out(tmp_path, catalog):
    """Outputs of a partial build: two good runs, a failure, a failure over a good run."""
    a, b, _ = picked(catalog)
    out = tmp_path / "out"
    write_run(out, a, "bike-sharing", record_for(catalog, a))
    write_run(out, a, "port-operations", error="ValueError: boom in a cell")
    other = record_for(catalog, b, scale=10, focus=False)
    write_run(out, b, "bike-sharing", other, error="KeyError: 'x'")
    return out


def n_targets(catalog) -> int:
    return len(catalog.pairs) * len(catalog.actions)


def test_progress_grid_counts_steps(catalog):
    a, _, _ = picked(catalog)
    grid = {(r["pair"], r["action"]): r for r in progress_grid(catalog)}
    assert len(grid) == n_targets(catalog)
    # the fixture marks the first step done and the second in progress
    assert grid[(a, "bike-sharing")] == {
        "pair": a,
        "action": "bike-sharing",
        "steps": len(catalog.actions["bike-sharing"].steps),
        "done": 1,
        "in_progress": 1,
        "focus": True,
    }
    assert grid[(a, "port-operations")]["focus"] is False


def test_collect_states_reads_every_target(catalog, out):
    a, b, _ = picked(catalog)
    states = collect_states(catalog, out)
    assert len(states) == n_targets(catalog)
    assert states[(a, "bike-sharing")]["status"] == "ok"
    assert states[(a, "port-operations")]["status"] == "failed"
    assert states[(b, "bike-sharing")]["record"] is not None


def test_index_html_lists_every_case_study_with_status(catalog, out):
    a, b, c = picked(catalog)
    soup = soup_of(index_html(catalog, out))
    rows = soup.select("tr.c3-run")
    assert len(rows) == n_targets(catalog)
    by = {(r["data-pair"], r["data-action"]): r for r in rows}
    ok = by[(a, "bike-sharing")]
    assert ok["data-status"] == "ok" and ok.find("a")["href"] == f"{a}/bike-sharing.html"
    assert "built" in text_of(ok) and "focus" in text_of(ok)
    n_steps = len(catalog.actions["bike-sharing"].steps)
    assert f"1 of {n_steps} steps done, 1 in progress" in text_of(ok)
    failed = by[(a, "port-operations")]
    assert failed["data-status"] == "failed" and "boom in a cell (cell 3)" in text_of(failed)
    assert failed.find("a", href=f"{a}/port-operations.failed.ipynb")
    assert "last good build" not in text_of(failed)
    stale = by[(b, "bike-sharing")]
    assert "last good build" in text_of(stale)
    assert stale.find("a", href=f"{b}/bike-sharing.html")
    assert by[(c, "bike-sharing")]["data-status"] == "missing"
    n = n_targets(catalog)
    assert f"{n} case studies: 1 built, 2 failed, {n - 3} not built." in text_of(soup)
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
    assert len(rows) == len(catalog.pairs)
    a, _, _ = picked(catalog)
    n_steps = len(catalog.actions["bike-sharing"].steps)
    assert rows[catalog.pairs[a].name][list(catalog.actions).index("bike-sharing")] == (
        f"1 of {n_steps} steps done, 1 in progress focus"
    )


def test_index_html_links_comparison_pages(catalog, out):
    soup = soup_of(index_html(catalog, out))
    links = soup.select("#compare a")
    assert [a["href"] for a in links] == [f"compare/{a}.html" for a in catalog.actions]
    item = soup.select("#compare li")[list(catalog.actions).index("bike-sharing")]
    assert f"(2 of {len(catalog.pairs)} pairs built)" in text_of(item)


def test_index_html_escapes_params(params_dir, catalog, out):
    a, _, _ = picked(catalog)
    learning = catalog.pairs[a].learning
    edit_yaml(
        params_dir / "cities" / f"{learning}.yaml", lambda d: d.update(name=EVIL, country=EVIL)
    )

    def evil_pair(d):
        d.update(name=EVIL, roles_note=EVIL, roles_basis="assumed")

    edit_yaml(params_dir / "pairs" / f"{a}.yaml", evil_pair)
    write_run(out, a, "port-operations", error=EVIL)
    page = index_html(load_catalog(params_dir), out)
    assert EVIL not in page
    assert page.count(EVIL_TEXT) >= 6  # pair heading, filter option, city, country, note, error
    assert len(soup_of(page).find_all("script")) == 1


def test_compare_html_sets_pairs_side_by_side(catalog, out):
    a, b, c = picked(catalog)
    soup = soup_of(compare_html(catalog, "bike-sharing", collect_states(catalog, out)))
    table = soup.find("table", class_="c3-compare")
    head = [text_of(th) for th in table.thead.find_all("th")]
    assert head == ["Pair", "Mentor city", "Mentor", "Learning city", "Learning", "Pair"]
    names = {p: catalog.roles(p) for p in (a, b)}
    # pairs in rows (catalog order), one group of rows per result
    groups = {
        text_of(tb.find("tr").th): [[text_of(c) for c in tr.find_all(["th", "td"])]
                                    for tr in tb.find_all("tr")[1:]]
        for tb in table.find_all("tbody")
    }  # fmt: skip
    city = {p: (names[p]["mentor"].name, names[p]["learning"].name) for p in (a, b)}
    pa, pb = catalog.pairs[a].name, catalog.pairs[b].name
    # pair A: stations 130 / 45; pair B recorded ten times those values
    assert groups["Stations needed [stations]"] == [
        [pa, city[a][0], "130", city[a][1], "45", "—"],
        [pb, city[b][0], "1,300", city[b][1], "450", "—"],
    ]
    assert groups["Avoided emissions, PM2.5 (planned) [t/yr]"][1] == [
        pb, city[b][0], "15", city[b][1], "2.5", "—",
    ]  # fmt: skip
    assert groups["Cities compared [cities]"][0][-1] == "2"
    assert groups["Cities compared [cities]"][1][-1] == "20"
    page = text_of(soup)
    assert "latest run failed; this is the last good build" in page
    assert f"Not built for this action: {catalog.pairs[c].name}" in page


def test_compare_html_without_builds(catalog, out):
    page = text_of(
        soup_of(compare_html(catalog, "commercial-cooking", collect_states(catalog, out)))
    )
    assert "No pair has a built case study for this action yet." in page


def test_compare_html_escapes_record_values(catalog, tmp_path):
    a, _, _ = picked(catalog)
    out = tmp_path / "out"
    rec = record_for(catalog, a, pair_name=EVIL)
    rec["cities"]["learning"]["name"] = EVIL
    rec["metrics"][1]["unit"] = EVIL
    write_run(out, a, "bike-sharing", rec)
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


def inputs_for(city: str, own: int, scaffold: int, defaults: int) -> list[dict]:
    """A record's ``inputs`` rows for one city: own sourced values, scaffold placeholders
    (level city, source ``placeholder: …``) and global defaults."""
    row = {"city": city, "section": "profile", "unit": "x", "year": None, "value": 1.0}
    rows = [
        {**row, "field": f"own{i}", "level": "city", "quality": "official", "source": "Census"}
        for i in range(own)
    ]
    rows += [
        {**row, "field": f"ph{i}", "level": "city", "quality": "assumed",
         "source": "placeholder: no value given to c3 new-pair"}
        for i in range(scaffold)
    ]  # fmt: skip
    rows += [
        {**row, "field": f"def{i}", "level": "global", "quality": "assumed", "source": "default"}
        for i in range(defaults)
    ]
    return rows


def placeholder_record(catalog, pair_id: str) -> dict:
    """Learning city: 1 own, 1 placeholder, 8 defaults (flagged: a placeholder, 9 of 10);
    mentor: 2 own, 8 defaults (0.8 < 0.9 and no placeholder: not flagged)."""
    pair = catalog.pairs[pair_id]
    rec = record_for(catalog, pair_id)
    rec["inputs"] = inputs_for(pair.learning, 1, 1, 8) + inputs_for(pair.mentor, 2, 0, 8)
    return rec


def test_placeholder_inputs_counts_each_city(catalog):
    a, _, _ = picked(catalog)
    pair = catalog.pairs[a]
    got = placeholder_inputs(placeholder_record(catalog, a))
    assert [(p["role"], p["city"], p["placeholders"], p["inputs"], p["scaffold"], p["flagged"])
            for p in got] == [
        ("learning", pair.learning, 9, 10, 1, True),
        ("mentor", pair.mentor, 8, 10, 0, False),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("own", "defaults", "flagged"),
    [(1, 9, True), (2, 8, False), (0, 10, True), (10, 0, False)],  # share 0.9 and up flags
)
def test_placeholder_inputs_share_threshold(own, defaults, flagged):
    assert PLACEHOLDER_SHARE == 0.9
    rec = {
        "cities": {"learning": {"id": "x", "name": "X"}},
        "inputs": inputs_for("x", own, 0, defaults),
    }
    (got,) = placeholder_inputs(rec)
    assert (got["placeholders"], got["flagged"]) == (defaults, flagged)


def test_placeholder_inputs_old_record_without_inputs():
    assert placeholder_inputs({"cities": {"learning": {"id": "x"}}}) == []
    assert summary_context({"cities": {}})["placeholder"] == []


def test_placeholder_source_matches_scaffold():
    assert PLACEHOLDER_SOURCE == PLACEHOLDER


def test_export_html_placeholder_banner_and_marked_values(catalog):
    a, _, _ = picked(catalog)
    learning = catalog.cities[catalog.pairs[a].learning]
    soup = soup_of(export_html(case_notebook(placeholder_record(catalog, a))))
    banner = soup.find(class_="c3-placeholder-banner")
    assert banner is not None and banner.find_parent("main")
    assert f"Built on placeholder data for {learning.name}: 9 of 10 inputs" in text_of(banner)
    assert text_of(banner).count("Built on placeholder data for") == 1  # not the mentor
    headline = soup.find("table", class_="c3-headline")
    learning_col = [text_of(th) for th in headline.thead.find_all("th")].index(
        f"{learning.name} learning"
    )
    for tr in headline.tbody.find_all("tr"):
        cells = tr.find_all(["th", "td"])
        if cells[learning_col].get_text() != "—":
            assert "c3-placeholder-value" in cells[learning_col]["class"]
        assert "c3-placeholder-value" not in cells[learning_col - 1].get("class", [])


def test_export_html_no_banner_for_own_data(catalog):
    a, _, _ = picked(catalog)
    rec = record_for(catalog, a)
    rec["inputs"] = inputs_for(catalog.pairs[a].learning, 5, 0, 1)
    page = export_html(case_notebook(rec))
    assert "Built on placeholder data" not in page and "c3-placeholder-value" not in page


def test_index_and_compare_mark_placeholder_runs(catalog, tmp_path):
    a, b, _ = picked(catalog)
    out = tmp_path / "out"
    write_run(out, a, "bike-sharing", placeholder_record(catalog, a))
    write_run(out, b, "bike-sharing", record_for(catalog, b))
    states = collect_states(catalog, out)
    learning = catalog.cities[catalog.pairs[a].learning].name
    note = f"built on placeholder data for {learning}: 9 of 10 inputs"
    rows = {r["data-pair"]: r for r in soup_of(index_html(catalog, out, states)).select(
        'tr.c3-run[data-action="bike-sharing"]'
    )}  # fmt: skip
    assert note in text_of(rows[a]) and "placeholder data" not in text_of(rows[b])
    soup = soup_of(compare_html(catalog, "bike-sharing", states))
    assert (
        f"Built on placeholder data for {learning}: 9 of 10 inputs".lower()
        in text_of(soup.find(class_="c3-placeholder-banner")).lower()
    )
    stations = next(
        tb
        for tb in soup.find("table", class_="c3-compare").find_all("tbody")
        if "Stations" in tb.th.text
    )
    marked = [td for td in stations.find_all("td") if "c3-placeholder-value" in td.get("class", [])]
    assert [td.get_text(" ", strip=True) for td in marked] == ["45 placeholder"]  # A's learning
