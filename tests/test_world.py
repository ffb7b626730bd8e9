"""What each city has already done (measures) and published figures, in case studies and site."""

from __future__ import annotations

import json

import matplotlib
import pytest

from c3lib.build.batch import build
from c3lib.build.plan import plan
from c3lib.build.site import compare_html, index_html, partner_measures
from c3lib.build.store import target_paths
from c3lib.kit import casestudy as cs
from c3lib.kit import world
from c3lib.params import load_catalog
from tests.conftest import NOTEBOOKS, edit_yaml

matplotlib.use("Agg")

SOURCE = "Port measures report. Test Port Authority, 2013. https://example.org/report"
ACTION = "port-operations"


def add_measures(params_dir, city_id: str) -> list[dict]:
    measures = [
        {
            "action": ACTION,
            "measure": "Vessel speed reduction <b>programme</b>",
            "lever": "vessel-speed-reduction",
            "setting": {"value": 12.0, "unit": "kn"},
            "start_year": 2009,
            "where": "within 20 nm",
            "effect": {
                "quantity": "diesel PM",
                "change": -0.75,
                "before_year": 2006,
                "after_year": 2012,
                "source": SOURCE,
            },
            "source": SOURCE,
        },
        {"action": ACTION, "measure": "Shore power", "start_year": 2010, "source": SOURCE},
        {"action": "bike-sharing", "measure": "Bike share", "start_year": 2015, "source": SOURCE},
    ]
    edit_yaml(params_dir / f"cities/{city_id}.yaml", lambda d: d.update(measures=measures))
    return measures


@pytest.fixture
def pair_with_measures(params_dir):
    cat = load_catalog(params_dir)
    pair = next(iter(cat.pairs.values()))
    add_measures(params_dir, pair.mentor)
    return params_dir, pair.id


def test_measures_table_and_records_for_both_cities(pair_with_measures):
    params_dir, pair = pair_with_measures
    case = cs.load_case(pair, ACTION, str(params_dir))
    table = world.measures_table(case)
    assert list(table["Measure"]) == ["Vessel speed reduction <b>programme</b>", "Shore power"]
    assert table["Years"].iloc[0] == "since 2009"
    assert table["Measured effect"].iloc[0] == "diesel PM -75% (2006–2012)"
    records = cs.measure_records(case)
    assert [r["measure"] for r in records] == list(table["Measure"])  # this action's only
    assert records[0]["role"] == "mentor" and records[0]["setting"] == {"value": 12.0, "unit": "kn"}
    text = world.measures_paragraph(case)
    assert case.mentor.name in text and "diesel PM -75%" in text
    assert "not this workbook's estimates" in text


def test_plot_timeline_one_bar_per_measure(pair_with_measures):
    params_dir, pair = pair_with_measures
    case = cs.load_case(pair, ACTION, str(params_dir))
    fig = world.plot_timeline(case)
    ax = fig.axes[0]
    assert len(ax.patches) == 2  # a bar per measure
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [case.mentor.name, case.learning.name, "measured effect"]
    matplotlib.pyplot.close(fig)


def test_plot_timeline_draws_names_in_other_scripts_without_missing_glyphs(params_dir):
    # A measure named as the city wrote it (Taipei's 清新空氣行動): the chart font has no
    # CJK glyphs, so the chart keeps the Latin part; a name with none becomes "measure N".
    cat = load_catalog(params_dir)
    pair = next(iter(cat.pairs.values()))
    measures = [
        {
            "action": ACTION,
            "measure": "清新空氣行動 (Clean Air Action)",
            "start_year": 2015,
            "source": SOURCE,
        },
        {
            "action": ACTION,
            "measure": "北九州市が「気候非常事態宣言」を表明",
            "start_year": 2021,
            "source": SOURCE,
        },
    ]
    edit_yaml(params_dir / f"cities/{pair.mentor}.yaml", lambda d: d.update(measures=measures))
    case = cs.load_case(pair.id, ACTION, str(params_dir))
    fig = world.plot_timeline(case)  # filterwarnings = error: a missing glyph fails here
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == [f"{case.mentor.name}: (Clean Air Action)", f"{case.mentor.name}: measure 2"]
    matplotlib.pyplot.close(fig)
    assert world.measures_table(case)["Measure"].iloc[0] == "清新空氣行動 (Clean Air Action)"


@pytest.mark.slow
def test_build_shows_measures_and_records_them(pair_with_measures, tmp_path):
    """A built case study shows both cities' timeline and table; the record carries them."""
    params_dir, pair = pair_with_measures
    cat = load_catalog(params_dir)
    specs = plan(cat, tmp_path, pairs=[pair], actions=[ACTION], notebooks_dir=NOTEBOOKS)
    (result,) = build(specs, jobs=1)
    assert result.status == "ok", result.error
    paths = target_paths(tmp_path, pair, ACTION)
    record = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [m["measure"] for m in record["measures"]][:2] == [
        "Vessel speed reduction <b>programme</b>",
        "Shore power",
    ]
    assert "comparisons" in record and "inputs" in record
    assert {i["level"] for i in record["inputs"]} <= {"city", "region", "country", "global"}
    html = paths["html"].read_text(encoding="utf-8")
    assert "What each city has already done" in html
    assert "measures by year" in html  # the timeline's caption
    assert "Vessel speed reduction &lt;b&gt;programme&lt;/b&gt;" in html  # escaped, in the table
    assert "How this compares with published figures" in html
    # the baseline counts the speed limit in force (the port's own status table says so)
    assert "In the baseline" in html


def test_site_lists_partner_measures_and_compare_shows_who_has_what(pair_with_measures):
    params_dir, pair_id = pair_with_measures
    cat = load_catalog(params_dir)
    pair = cat.pairs[pair_id]
    found = dict(partner_measures(cat, pair))
    for f in pair.focus:
        assert cat.actions[f.action].title in found
    states = {
        (p, a): {"status": "missing", "record": None, "error": None}
        for p in cat.pairs
        for a in cat.actions
    }
    page = compare_html(cat, ACTION, states)
    assert "Measures in place" in page
    assert "Vessel speed reduction &lt;b&gt;programme&lt;/b&gt; (since 2009)" in page
    assert "vessel speed reduction" in page  # its lever
    index = index_html(cat, "unused", states)
    mentor = cat.cities[pair.mentor].name
    assert f"What {mentor} has already done" in index
