"""One-at-a-time sensitivity: ranges, candidates, the ranking, the workbook evaluators."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from c3lib.params import city_inputs, load_catalog
from c3lib.topics import sensitivity as sens

TOY = sens.Headline("toy", "PM2.5", "total", "t/yr")


def _rows(*rows):
    cols = ["city", "section", "field", "value", "unit", "quality", "level"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], columns=cols)


def test_plausible_range_factor_of_two():
    # assumed: half-width 1.0, so v / 2 and 2 v
    assert sens.plausible_range(20.4, 1.0) == pytest.approx((10.2, 40.8))


def test_plausible_range_clipped_to_bounds():
    # a share of 0.6 doubled is 1.2, above the field maximum 1
    assert sens.plausible_range(0.6, 1.0, 0.0, 1.0) == pytest.approx((0.3, 1.0))
    assert sens.plausible_range(8.0, 1.0, 5.0, math.nan) == pytest.approx((5.0, 16.0))


def test_plausible_range_zero_moves_nothing():
    assert sens.plausible_range(0.0, 1.0, 0.0, 1.0) == (0.0, 0.0)


def test_candidates_keeps_assumed_and_global_quantities():
    rows = _rows(
        ("x", "port-operations", "berth_h_per_call", 20.4, "h", "assumed", "global"),
        ("x", "port-operations", "container_teu_per_yr", 1e6, "TEU/yr", "official", "city"),
        ("x", "port-operations", "has_seaport", 1.0, "flag", "assumed", "global"),
        ("x", "port-operations", "container_calls_per_yr", math.nan, "calls/yr", "assumed", "-"),
        ("x", "port-operations", "tier2_share", 0.6, "fraction", "secondary", "global"),
    )
    got = sens.candidates(rows)
    assert list(got["field"]) == ["berth_h_per_call", "tier2_share"]
    assert got[["low", "high"]].to_numpy().ravel().tolist() == pytest.approx([10.2, 40.8, 0.3, 1.0])


def test_candidates_share_stays_within_its_rule():
    # TEU shares add up to at most 1 (field_rules.csv): with mainline at 0.5 the feeder
    # share (0.3) may rise to 0.5, not to 0.6; mainline (0.5) to 0.7, not to 1.0
    rows = _rows(
        ("x", "port-operations", "teu_share_feeder", 0.3, "fraction", "assumed", "global"),
        ("x", "port-operations", "teu_share_mainline", 0.5, "fraction", "assumed", "global"),
    )
    got = sens.candidates(rows).set_index("field")
    assert got.loc["teu_share_feeder", ["low", "high"]].tolist() == pytest.approx([0.15, 0.5])
    assert got.loc["teu_share_mainline", ["low", "high"]].tolist() == pytest.approx([0.25, 0.7])


def test_one_at_a_time_toy_model_exact_swings():
    # headline = a × b + c with a = 2 on [1, 4], b = 3 on [1.5, 4], c = 10 on [5, 20];
    # base 16. a: 1×3+10 = 13 → 4×3+10 = 22, swing 9; b: 2×1.5+10 = 13 → 2×4+10 = 18,
    # swing 5; c: 2×3+5 = 11 → 2×3+20 = 26, swing 15. Ranked c, a, b.
    start = {"a": 2.0, "b": 3.0, "c": 10.0}
    moves = _rows(
        ("x", "toy", "a", 2.0, "-", "assumed", "global"),
        ("x", "toy", "b", 3.0, "-", "assumed", "global"),
        ("x", "toy", "c", 10.0, "-", "assumed", "global"),
    ).assign(low=[1.0, 1.5, 5.0], high=[4.0, 4.0, 20.0])

    def evaluate(replace):
        v = {**start, **{f: x for (_, f), x in replace.items()}}
        return v["a"] * v["b"] + v["c"]

    got = sens.one_at_a_time(evaluate, moves, TOY)
    assert list(got["field"]) == ["c", "a", "b"]
    assert got["swing"].tolist() == pytest.approx([15.0, 9.0, 5.0])
    assert got["share"].tolist() == pytest.approx([15 / 16, 9 / 16, 5 / 16])
    assert got.loc[0, ["at_low", "at_high", "base"]].tolist() == pytest.approx([11, 26, 16])
    assert list(got.columns) == sens.RESULT_COLUMNS


def test_one_at_a_time_both_ends_one_way():
    # headline = (a − 2)² with a = 2 on [1, 4]: 0 now, 1 at the low end, 4 at the high
    # end; the span 0…4 is the swing (4), not |4 − 1| = 3
    moves = _rows(("x", "toy", "a", 2.0, "-", "assumed", "global")).assign(low=[1.0], high=[4.0])
    got = sens.one_at_a_time(lambda r: (r.get(("toy", "a"), 2.0) - 2.0) ** 2, moves, TOY)
    assert got.loc[0, ["at_low", "at_high", "swing"]].tolist() == pytest.approx([1, 4, 4])
    assert math.isnan(got.loc[0, "share"])  # base 0


def test_one_at_a_time_no_input_moves():
    got = sens.one_at_a_time(lambda replace: 5.0, _rows().assign(low=[], high=[]), TOY)
    assert got.empty and list(got.columns) == sens.RESULT_COLUMNS


@pytest.fixture(scope="module")
def learning_sections():
    """The first pair's learning city: its resolved inputs by section, for each workbook."""
    catalog = load_catalog()
    pair = next(iter(catalog.pairs.values()))
    city = catalog.cities[pair.learning]
    country = catalog.country_of(city)

    def sections(action: str) -> dict[str, pd.DataFrame]:
        reads = ["profile", action, *catalog.actions[action].reads]
        return {s: city_inputs(city, s, country) for s in dict.fromkeys(reads)}

    return sections


def test_cooking_evaluator_gives_the_assessment_total(learning_sections):
    # the evaluator's short path (counts, meat balance, inventory) gives what the
    # workbook's full assessment records, as it is and with a count halved
    from c3lib.topics.cooking import model as cooking

    sections = learning_sections("commercial-cooking")
    evaluate = sens.cooking_evaluator(sections)
    own = sections["commercial-cooking"]
    settings = cooking.Settings(0.07, 10.0, "esp", 1.0, 0.7, 400.0, "both")
    want = cooking.assess_city(own, "", settings).totals["PM2.5"]
    assert evaluate({}) == pytest.approx(want)
    half = own.copy()
    half.loc["fast_food_restaurants", "value"] = own.loc["fast_food_restaurants", "value"] / 2
    want = cooking.assess_city(half, "", settings).totals["PM2.5"]
    assert evaluate(
        {
            ("commercial-cooking", "fast_food_restaurants"): float(
                half.loc["fast_food_restaurants", "value"]
            )
        }
    ) == pytest.approx(want)


def test_urban_evaluator_proportional_input_has_share_one_and_a_half(learning_sections):
    # base-year CO2 = population × pkm per person × mode shares × factors: proportional to
    # pkm per person, so its range [v/2, 2v] swings the headline by 2 − 1/2 = 1.5 of it
    sections = learning_sections("low-emission-development")
    v = float(sections["low-emission-development"].loc["pkm_per_capita_yr", "value"])
    row = ("x", "low-emission-development", "pkm_per_capita_yr", v, "pkm/yr", "assumed", "global")
    moves = _rows(row).assign(low=[v / 2], high=[2 * v])
    got = sens.one_at_a_time(
        sens.urban_evaluator(sections), moves, sens.HEADLINES["low-emission-development"]
    )
    assert got.loc[0, "share"] == pytest.approx(1.5)


def test_inventory_evaluator_parts_add_up_to_the_whole(learning_sections):
    # the evaluator adds the city's own lines and the port and cooking lines separately;
    # with one input of each part replaced it must give the inventory's whole total
    from c3lib.topics.inventory import model as inv

    sections = learning_sections("emissions-inventory")
    own = sections["emissions-inventory"]["value"].astype(float).to_dict()
    field = next(f for f, v in own.items() if v > 0)
    cook = sections["commercial-cooking"]["value"].astype(float)
    counts = next(f for f in cook.index if f.endswith("_restaurants") and cook[f] > 0)
    replace = {("emissions-inventory", field): 2 * own[field], ("commercial-cooking", counts): 0.0}
    evaluate = sens.inventory_evaluator(sections, "x", "X")

    def long(section, values):
        df = sections[section].assign(value=values).reset_index()
        return df.assign(role="learning", city="x")

    cook_new = cook.copy()
    cook_new[counts] = 0.0
    extras = inv.module_lines(
        long("port-operations", sections["port-operations"]["value"]),
        long("commercial-cooking", cook_new),
        "learning",
        "X",
        float(sections["profile"]["value"].get("grid_ef", math.nan)),
    )
    lines, _ = inv.split_indicative(inv.city_lines({**own, field: 2 * own[field]}, extras))
    want = float(lines.loc[lines["pollutant"] == "PM2.5", "emissions"].sum())
    assert evaluate(replace) == pytest.approx(want)


def test_evaluators_give_the_workbooks_headline(learning_sections):
    # each evaluator with nothing replaced is the headline the workbook records, computed
    # here the way the workbooks compute it (models, then the metrics of the views)
    from c3lib.kit import casestudy as cs
    from c3lib.topics.ports import model as ports
    from c3lib.topics.ports import views as port_views
    from c3lib.topics.urban import model as urban

    catalog = load_catalog()
    pair = next(iter(catalog.pairs))

    case = cs.load_case(pair, "low-emission-development")
    rows = cs.inputs(case).query("role == 'learning'").set_index("field")
    road = cs.inputs(case, "emissions-inventory").query("role == 'learning'").set_index("field")
    p = cs.profiles(case)["learning"]
    want = urban.asif(urban.city_transport(rows, p["population"], p["grid_ef"], road))["CO2"]
    sections = learning_sections("low-emission-development")
    sections["emissions-inventory"] = learning_sections("emissions-inventory")[
        "emissions-inventory"
    ].loc[
        lambda df: df.index.isin(sens.borrowed("low-emission-development")["emissions-inventory"])
    ]
    assert sens.urban_evaluator(sections)({}) == pytest.approx(want.sum())

    case = cs.load_case(pair, "port-operations")
    inputs = cs.inputs(case)
    port = ports.port_from_inputs(
        inputs,
        "learning",
        case.learning.name,
        20.0,
        ports.grid_factor(cs.profiles(case)["learning"]),
    )
    port, _ = ports.with_measures_in_place(port, case.measures("learning"), 2024, 0.9)
    em = {"learning": ports.port_emissions(port)}
    red = {"learning": ports.measure_reductions(port, ports.Levers(12, 20, 0.9, 0.5, 0.1, 0.5))}
    m = port_views.port_metrics({"learning": port}, em, red)
    got = sens.ports_evaluator(
        learning_sections("port-operations"),
        case.learning.id,
        case.learning.name,
        case.measures("learning"),
    )({})
    nox = m.query("metric == 'total_emissions' and pollutant == 'NOx'")["value"]
    assert got == pytest.approx(float(nox.sum()) if port.has_port else 0.0)
