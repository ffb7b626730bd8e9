"""The report kit: the sensitivity in the record, the takeaway, the tornado, the ordering."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from c3lib.build.export import summary_context
from c3lib.build.site import top_gap
from c3lib.kit import casestudy as cs
from c3lib.kit import report
from c3lib.params import load_catalog
from c3lib.topics.sensitivity import RESULT_COLUMNS


def _ranked(*rows) -> pd.DataFrame:
    """Rows of (field, label, swing, base) for city hp, NOx of the port."""
    out = []
    for field, label, swing, base in rows:
        out.append(
            {
                **dict.fromkeys(RESULT_COLUMNS, ""),
                "city": "hp",
                "section": "port-operations",
                "field": field,
                "value": 10.0,
                "input_unit": "h",
                "quality": "assumed",
                "level": "global",
                "low": 5.0,
                "high": 20.0,
                "metric": "total_emissions",
                "pollutant": "NOx",
                "scope": "port",
                "unit": "t/yr",
                "base": base,
                "at_low": base - swing / 2,
                "at_high": base + swing / 2,
                "swing": swing,
                "share": swing / base,
                "name": "Haiphong",
                "label": label,
                "where": "the port's call list",
            }
        )
    return pd.DataFrame(out)


RANKED = _ranked(
    ("teu_share_feeder", "Container-size split [%]", 2000.0, 6320.0),
    ("berth_h_per_call", "Hours at berth [h]", 900.0, 6320.0),
    ("tier2_share", "Tier II share [%]", 0.0, 6320.0),
)


def _port_record(sensitivity: list[dict]) -> dict:
    def m(city, metric, value, pollutant="NOx", scope="port"):
        return {
            "city": city,
            "metric": metric,
            "value": value,
            "unit": "t/yr",
            "pollutant": pollutant,
            "scope": scope,
        }

    return {
        "action": "port-operations",
        "cities": {
            "mentor": {"id": "kk", "name": "Kitakyushu"},
            "learning": {"id": "hp", "name": "Haiphong"},
        },
        "metrics": [
            m("hp", "total_emissions", 6320.0),
            m("hp", "ogv_emissions", 5900.0, scope="ogv"),
            m("hp", "che_emissions", 400.0, scope="che"),
            m("hp", "harbour_craft_emissions", 20.0, scope="harbour-craft"),
            m("hp", "measure_reduction", 1580.0, scope="shore-power"),
            m("hp", "measure_reduction", 900.0, scope="vessel-speed-reduction"),
            m("hp", "measure_reduction", 2100.0, scope="combined"),
            m("kk", "total_emissions", 1000.0),
            m("kk", "ogv_emissions", 700.0, scope="ogv"),
            m("kk", "che_emissions", 300.0, scope="che"),
        ],
        "inputs": [
            {"city": "kk", "field": "berth_h_per_call", "value": 20.4, "quality": "assumed"},
            {"city": "kk", "field": "domain_nm", "value": 40.0, "level": "global"},
            {"city": "kk", "field": "container_teu_per_yr", "value": 5e5, "quality": "official"},
            {"city": "kk", "field": "container_calls_per_yr", "value": None, "level": "global"},
        ],
        "sensitivity": sensitivity,
    }


def test_sensitivity_records_keys_and_order():
    recs = report.sensitivity_records(RANKED)
    assert [r["field"] for r in recs] == ["teu_share_feeder", "berth_h_per_call", "tier2_share"]
    assert set(recs[0]) == {
        "city",
        "field",
        "label",
        "low",
        "high",
        "input_unit",
        "metric",
        "pollutant",
        "scope",
        "swing",
        "share",
        "unit",
    }
    assert recs[0]["swing"] == 2000.0 and recs[0]["unit"] == "t/yr"
    assert recs[1]["share"] == pytest.approx(900 / 6320)
    assert report.sensitivity_records(None) == []


def test_top_gaps_leaves_out_inputs_that_move_nothing():
    assert list(report.top_gaps(RANKED)["field"]) == ["teu_share_feeder", "berth_h_per_call"]


def test_record_carries_the_sensitivity_key():
    catalog = load_catalog()
    pair = next(iter(catalog.pairs))
    action = next(iter(catalog.actions))
    case = cs.load_case(pair, action)
    metrics = pd.DataFrame([{"city": case.learning.id, "metric": "x", "value": 1.0, "unit": "t"}])
    empty = cs.assumptions(pd.DataFrame(columns=["field", "quality"]))
    recs = report.sensitivity_records(RANKED)
    assert cs.record(case, metrics, empty, [], sensitivity=recs)["sensitivity"] == recs
    assert cs.record(case, metrics, empty, [])["sensitivity"] == []


def test_takeaway_constructed_port_record():
    # Haiphong: 5,900 of 6,320 t/yr from ships = 93 %; shore power 1,580 t/yr = 25 %
    # (the largest single measure; combined is not a measure); the top two swings.
    # Kitakyushu: no sensitivity, so its count of assumed inputs with a value (2).
    got = report.takeaway(_port_record(report.sensitivity_records(RANKED)))
    assert list(got) == ["learning", "mentor"]
    assert got["learning"] == [
        "The largest part of Haiphong's NOx comes from ocean-going vessels: 5,900 of "
        "6,320 t/yr, 93 %.",
        "Shore power at berth would cut Haiphong's port NOx by 1,580 t/yr, 25 % of the total.",
        "The result rests most on container-size split and hours at berth, both assumed.",
    ]
    assert got["mentor"][0] == (
        "The largest part of Kitakyushu's NOx comes from ocean-going vessels: 700 of "
        "1,000 t/yr, 70 %."
    )
    assert got["mentor"][-1] == "It rests on 2 assumed inputs."
    assert len(got["mentor"]) == 2  # no measure recorded for Kitakyushu


def test_takeaway_without_headline_is_empty():
    assert report.takeaway({"action": "port-operations", "cities": {}, "metrics": []}) == {}
    assert report.takeaway({"action": "unknown", "metrics": []}) == {}


def test_rests_on_line_counts_moving_inputs():
    got = report.rests_on_line(_port_record(report.sensitivity_records(RANKED)))
    assert got == {
        "learning": "Haiphong: rests on 2 assumed inputs; see Data to collect first.",
        "mentor": "Kitakyushu: rests on 2 assumed inputs; see Data to collect first.",
    }


def test_summary_context_has_takeaway_and_rests_on():
    record = {
        **_port_record(report.sensitivity_records(RANKED)),
        "title": "Port operations",
        "pair": "hp-kk",
    }
    ctx = summary_context(record, {})
    assert ctx["takeaway"][0][0] == "learning"
    assert ctx["rests_on"][0][0] == "learning"


def test_by_swing_learning_then_mentor_then_reference():
    case = SimpleNamespace(learning=SimpleNamespace(id="hp"), mentor=SimpleNamespace(id="kk"))
    assumptions = pd.DataFrame(
        {
            "city": ["kk", "reference", "hp", "hp", "pair", "hp"],
            "input": ["berth_h_per_call", "ef", "tier2_share", "berth_h_per_call", "roles", "x"],
        }
    )
    got = report.by_swing(assumptions, RANKED, case)
    assert list(zip(got["city"], got["input"], strict=True)) == [
        ("hp", "berth_h_per_call"),  # swing 900
        ("hp", "tier2_share"),  # swing 0
        ("hp", "x"),  # not ranked
        ("kk", "berth_h_per_call"),
        ("reference", "ef"),
        ("pair", "roles"),
    ]
    col = "moves the headline by [t/yr]"
    assert got[col].iloc[0] == 900.0 and pd.isna(got[col].iloc[3])


def test_plot_tornado_legend_lists_every_series():
    import matplotlib.pyplot as plt

    fig = report.plot_tornado(RANKED, "Haiphong")
    ax = fig.axes[0]
    drawn = {c.get_label() for c in ax.containers} | {ln.get_label() for ln in ax.lines}
    handles, labels = ax.get_legend_handles_labels()
    assert (
        set(labels)
        == drawn
        == {
            "input at its low end",
            "input at its high end",
            "as assumed now",
        }
    )
    assert len(ax.patches) == 4  # two inputs move the headline, two bars each
    plt.close(fig)


def test_top_gap_largest_share_of_the_learning_city():
    catalog = load_catalog()
    pair = next(iter(catalog.pairs.values()))
    actions = list(catalog.actions.values())
    row = {"city": pair.learning, "field": "f", "label": "F", "pollutant": "NOx"}
    states = {
        (pair.id, actions[0].id): {"record": {"sensitivity": [{**row, "share": 0.2}]}},
        (pair.id, actions[1].id): {
            "record": {
                "sensitivity": [
                    {**row, "field": "g", "share": 0.5},
                    {**row, "city": pair.mentor, "field": "h", "share": 0.9},
                ]
            }
        },
    }
    got = top_gap(catalog, pair, states)
    assert (got["field"], got["action"]) == ("g", actions[1].title)
    assert top_gap(catalog, pair, {}) is None


def test_takeaway_bike_sharing_counts_in_whole_numbers():
    # 0.95 deaths a year rounds to "about 1 death"; 698.4 bikes to 698
    def m(metric, value, unit, pollutant=None):
        return {
            "city": "bk",
            "metric": metric,
            "value": value,
            "unit": unit,
            "pollutant": pollutant,
            "scope": "planned",
        }

    record = {
        "action": "bike-sharing",
        "cities": {"learning": {"id": "bk", "name": "Bangkok"}},
        "metrics": [
            m("avoided_emissions", 136.3, "t/yr", "CO2"),
            m("bikes_needed", 698.4, "bikes"),
            m("deaths_avoided", 0.95, "deaths/yr"),
        ],
        "inputs": [],
        "sensitivity": [],
    }
    assert report.takeaway(record)["learning"] == [
        "Bangkok's planned bike-share system would avoid 136 t/yr of CO2, net of the vans "
        "that rebalance it.",
        "It needs 698 bikes, and the cycling it adds would avoid about 1 death a year.",
        "Every input it rests on is the city's own or a sourced figure.",
    ]
