"""Tests for c3lib.topics.cooking against hand-worked examples (numbers in comments).

Constants used below:
  1 lb = 0.45359237 kg; 1 short ton = 2,000 lb = 907.18474 kg; 52.142857 weeks a year.
  Food per device-year (short tons): under-fired 7.0 hamburger + 4.7 steak + 8.4 poultry
  + 3.8 pork + 3.7 seafood + 1.1 other = 28.7; chain-driven 20.7 + 6.1 + 10.7 + 1.5 + 3.1
  = 42.1.
  PM2.5 of one average under-fired device ("other" meat takes the steak factor):
    31.9×7.0 + 16.8×4.7 + 9.9×8.4 + 9.9×3.8 + 3.2×3.7 + 16.8×1.1
    = 223.3 + 78.96 + 83.16 + 37.62 + 11.84 + 18.48 = 453.36 g/kg × short ton
    → 453.36 × 907.18474 kg × g/kg = 411,281 g = 0.411281 t/yr.
  PM2.5 of one average chain-driven device:
    7.3×20.7 + 7.3×6.1 + 9.9×10.7 + 9.9×1.5 + 3.2×3.1
    = 151.11 + 44.53 + 105.93 + 14.85 + 9.92 = 326.34 → 0.296051 t/yr.
"""

from __future__ import annotations

import math
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from c3lib.exceptions import C3Error
from c3lib.reference import field_table, reference_table
from c3lib.topics.cooking import model as ck
from c3lib.topics.cooking import views as cooking_views

matplotlib.use("Agg")

UNDERFIRED_PM25_T = 453.36 * 907.18474 / 1e6  # 0.411281 t per device-year
CHAIN_PM25_T = 326.34 * 907.18474 / 1e6  # 0.296051 t per device-year
CRF_7_10 = 0.07 * 1.07**10 / (1.07**10 - 1)  # 0.142378


def city_frame(
    fast_food=0.0,
    ethnic=0.0,
    steak_bbq=0.0,
    family=0.0,
    seafood=0.0,
    stalls=0.0,
    kg=10.0,
    days=300.0,
):
    return pd.DataFrame(
        {
            "value": {
                "fast_food_restaurants": fast_food,
                "ethnic_restaurants": ethnic,
                "family_restaurants": family,
                "seafood_restaurants": seafood,
                "steak_bbq_restaurants": steak_bbq,
                "street_grill_stalls": stalls,
                "street_grill_kg_per_stall_day": kg,
                "street_grill_days_per_yr": days,
            }
        }
    )


# --- reference data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        "cooking_ef",
        "cooking_meat",
        "cooking_devices",
        "cooking_controls",
        "cooking_costs",
        "cooking_rules",
        "cooking_street_food",
        "cooking_national",
    ],
)
def test_reference_table_assumed_rows_say_unsourced(table):
    df = reference_table(table)
    assert df["source"].str.strip().ne("").all()
    assumed = df[df["quality"] == "assumed"]
    # every assumed row tells the reader the value has no source (or is a proxy)
    assert assumed["source"].str.contains("unsourced").all()


def test_emission_factors_co_rows_carry_unit_caveat():
    ef = ck.emission_factors()
    co = ef[ef["pollutant"] == "CO"]
    assert len(co) > 0 and co["note"].str.contains("unit uncertain").all()


def test_emission_factors_underfired_hamburger():
    # methods_factors §3.2: under-fired hamburger PM10 32.67, PM2.5 31.9, VOC 3.94 g/kg
    ef = ck.emission_factors().set_index(["device", "food", "pollutant"])["value"]
    assert ef[("underfired", "hamburger", "PM10")] == 32.67
    assert ef[("underfired", "hamburger", "PM2.5")] == 31.9
    assert ef[("underfired", "hamburger", "VOC")] == 3.94


def test_food_per_device_short_tons_to_kg():
    # chain-driven hamburger 20.7 short ton × 907.18474 = 18,778.72 kg
    m = ck.food_per_device()
    assert m[("chain_driven", "hamburger")] == pytest.approx(18778.724, rel=1e-6)


def test_control_efficiencies_catalytic_and_esp():
    eff = ck.control_efficiencies()
    assert eff.loc["catalytic_oxidiser", "PM10"] == 0.83
    assert eff.loc["catalytic_oxidiser", "VOC"] == 0.86
    assert eff.loc["esp", "PM2.5"] == 0.90
    assert eff.loc["esp", "VOC"] == 0.0  # no VOC figure: not credited
    assert eff.loc["esp", "device"] == "underfired"


def test_field_table_restaurant_defaults_per_capita_and_sourced():
    # US rate: 700,000 restaurants ÷ 331,449,281 residents = 0.0021119 per person;
    # 36 % fast food = 0.00076030; the other 64 % split over four types = 0.00033791 each
    ft = field_table("commercial-cooking")
    nat = ck.national_activity()
    per_person = nat["restaurants_us"] / nat["population_us"]
    assert per_person == pytest.approx(0.0021119, rel=1e-4)
    assert ft.loc["fast_food_restaurants", "default"] == pytest.approx(0.00076030, rel=1e-3)
    assert "assumption" in ft.loc["fast_food_restaurants", "default_source"]
    for t in ck.RESTAURANT_TYPES:
        f = f"{t}_restaurants"
        assert ft.loc[f, "scale"] == "per_capita"
        if t != "fast_food":
            assert ft.loc[f, "default"] == pytest.approx(0.00033791, rel=1e-3)
            assert "unsourced estimate" in ft.loc[f, "default_source"]


def test_device_profile_five_types_sourced():
    # NEMO Table 3 via USEPA/commcooking: ethnic under-fired 1.54, steak/BBQ 1.63 devices
    prof = ck.device_profile()
    assert set(prof.index.get_level_values("restaurant_type")) == set(ck.RESTAURANT_TYPES)
    assert prof.loc[("ethnic", "underfired"), "devices_per_restaurant"] == 1.54
    assert prof.loc[("steak_bbq", "underfired"), "devices_per_restaurant"] == 1.63
    assert (reference_table("cooking_devices")["quality"] == "official").all()


def test_potatoes_per_restaurant_hand_worked():
    # fast food: 2,988,500 × 0.74 / (700,000 × 0.36) = 2,211,490 / 252,000 = 8.775754 short t
    #            × 907.18474 = 7,961.23 kg
    # others:    2,988,500 × 0.26 / (700,000 × 0.64) = 777,010 / 448,000 = 1.734397 short t
    #            × 907.18474 = 1,573.42 kg
    p = ck.potatoes_per_restaurant()
    assert p["fast_food"] == pytest.approx(7961.23, rel=1e-6)
    assert p["family"] == pytest.approx(1573.42, rel=1e-5)


# --- inventory --------------------------------------------------------------------------


def test_lb_to_kg_rule_thresholds():
    # 875 lb × 0.45359237 = 396.893 kg; 400 lb = 181.437 kg
    assert ck.lb_to_kg(875) == pytest.approx(396.893, rel=1e-5)
    assert ck.lb_to_kg(400) == pytest.approx(181.437, rel=1e-5)


def test_device_counts_fast_food_underfired():
    # 1,000 fast-food restaurants × 0.308 with one × 1.58 per restaurant = 486.64 devices;
    # types not given count as none
    d = ck.device_counts(pd.Series({"fast_food": 1000.0, "ethnic": 0.0}))
    assert d[("fast_food", "underfired")] == pytest.approx(486.64)
    assert d[("ethnic", "underfired")] == 0.0
    assert d[("family", "underfired")] == 0.0


def test_device_counts_ethnic_underfired():
    # 1,000 ethnic restaurants × 0.475 × 1.54 = 731.5 devices
    d = ck.device_counts(pd.Series({"ethnic": 1000.0}))
    assert d[("ethnic", "underfired")] == pytest.approx(731.5)


def test_emissions_one_underfired_device_hamburger():
    # 7.0 short ton = 6,350.29 kg × 31.9 g/kg = 202,574 g = 0.202574 t
    # other meat: 1.1 short ton = 997.903 kg × 16.8 g/kg = 16,764.8 g = 0.0167648 t
    idx = pd.MultiIndex.from_tuples([("x", "underfired")], names=["restaurant_type", "device"])
    e = ck.emissions(ck.food_cooked(pd.Series([1.0], idx, name="devices")))
    row = e[(e["food"] == "hamburger") & (e["pollutant"] == "PM2.5")]
    assert row["emissions"].iloc[0] == pytest.approx(0.202574, rel=1e-5)
    other = e[(e["food"] == "other") & (e["pollutant"] == "PM2.5")]
    assert other["emissions"].iloc[0] == pytest.approx(0.0167648, rel=1e-5)
    pm = e[e["pollutant"] == "PM2.5"]["emissions"].sum()
    assert pm == pytest.approx(UNDERFIRED_PM25_T, rel=1e-9)  # 0.411281 t


def test_emissions_fryer_has_voc_only():
    # the fryer has factors only for VOC: poultry 0.12, pork 0.12, seafood 0.14 (hamburger,
    # steak and other meat have none; potatoes come per restaurant, not per device)
    idx = pd.MultiIndex.from_tuples([("x", "fryer")], names=["restaurant_type", "device"])
    e = ck.emissions(ck.food_cooked(pd.Series([1.0], idx, name="devices")))
    assert set(e["pollutant"]) == {"VOC"}
    # 14.9 × 0.12 + 1.5 × 0.12 + 4.1 × 0.14 = 1.788 + 0.18 + 0.574 = 2.542
    # → × 907.18474 / 1e6 = 0.0023061 t
    assert e["emissions"].sum() == pytest.approx(2.542 * 907.18474 / 1e6, rel=1e-9)


def test_inventory_includes_potato_voc():
    # 100 fast-food restaurants × 7,961.23 kg potatoes × 0.21 g/kg = 167,186 g = 0.167186 t
    inv = ck.inventory(pd.Series({"fast_food": 100.0}))
    pot = inv[inv["food"] == "potatoes"]
    assert set(pot["pollutant"]) == {"VOC"}
    assert pot["emissions"].sum() == pytest.approx(0.167186, rel=1e-5)


def test_inventory_steak_bbq_underfired_pm25():
    # 100 steak/BBQ × 0.552 × 1.63 = 89.976 devices × 0.411281 t = 37.0054 t PM2.5;
    # no chain-driven: the source gives 0 devices per steak/BBQ restaurant
    inv = ck.inventory(pd.Series({"steak_bbq": 100.0}))
    sub = inv[(inv["device"] == "underfired") & (inv["pollutant"] == "PM2.5")]
    assert sub["emissions"].sum() == pytest.approx(89.976 * UNDERFIRED_PM25_T, rel=1e-9)
    assert sub["emissions"].sum() == pytest.approx(37.0054, rel=1e-5)
    assert inv[inv["device"] == "chain_driven"]["emissions"].sum() == 0.0
    table = cooking_views.by_device_food(inv)
    assert table["total"].sum() == pytest.approx(ck.totals(inv)["PM2.5"])


def test_by_device_total_row_matches_totals():
    inv = ck.inventory(pd.Series({"fast_food": 10.0, "family": 5.0}))
    table = cooking_views.by_device(inv)
    assert list(table.columns) == list(ck.POLLUTANTS)
    assert table.loc["total"].to_numpy() == pytest.approx(ck.totals(inv).to_numpy())
    assert table.loc["deep-fat fryer", "PM2.5"] == 0.0


def test_inventory_scales_with_restaurants():
    one = ck.totals(ck.inventory(pd.Series({"fast_food": 10.0, "family": 5.0, "seafood": 1.0})))
    two = ck.totals(ck.inventory(pd.Series({"fast_food": 20.0, "family": 10.0, "seafood": 2.0})))
    assert np.allclose(two, 2 * one)


# --- controls and costs -----------------------------------------------------------------


def test_capital_recovery_factor_hand_worked():
    # 0.07 × 1.07^10 / (1.07^10 − 1) = 0.07 × 1.967151 / 0.967151 = 0.142378
    assert ck.capital_recovery_factor(0.07, 10) == pytest.approx(0.142378, rel=1e-5)
    assert ck.capital_recovery_factor(0.0, 10) == pytest.approx(0.1)


def test_capital_recovery_factor_bad_lifetime_raises():
    with pytest.raises(ValueError):
        ck.capital_recovery_factor(0.07, 0)


def test_annualised_cost_esp_mid():
    # mid capital (37,000 + 104,000) / 2 = 70,500 × 0.142378 = 10,037.6 + O&M 26,000 = 36,037.6
    assert ck.annualised_cost(70500, 26000, 0.07, 10) == pytest.approx(36037.6, rel=1e-5)


def test_removal_per_device_esp():
    # 0.90 × 0.411281 = 0.370153 t PM2.5 per device-year; no VOC credit
    r = ck.removal_per_device("esp")
    assert r["PM2.5"] == pytest.approx(0.9 * UNDERFIRED_PM25_T, rel=1e-9)
    assert r["VOC"] == 0.0


def test_control_options_cost_per_tonne_esp():
    # 36,037.6 USD/yr ÷ 0.370153 t = 97,359 USD 2009/t; low end: 37,000 × 0.142378 + 26,000
    # = 31,268.0 ÷ 0.370153 = 84,473 USD 2009/t
    devices = ck.device_counts(pd.Series({"fast_food": 100.0}))
    opts = ck.control_options(devices, 0.07, 10)
    removed = 0.9 * UNDERFIRED_PM25_T
    assert opts.loc["esp", "cost_per_t_PM2.5"] == pytest.approx(
        (70500 * CRF_7_10 + 26000) / removed, rel=1e-9
    )
    assert opts.loc["esp", "cost_per_t_PM2.5"] == pytest.approx(97359, rel=1e-4)
    assert opts.loc["esp", "cost_per_t_PM2.5_low"] == pytest.approx(84473, rel=1e-4)
    # 100 × 0.308 × 1.58 = 48.664 devices × 0.370153 t = 18.013 t removed at full uptake
    assert opts.loc["esp", "removed_PM2.5"] == pytest.approx(48.664 * removed, rel=1e-9)
    assert math.isnan(opts.loc["esp", "cost_per_t_VOC"])


def test_control_options_uptake_scales_removal_not_cost_per_tonne():
    devices = ck.device_counts(pd.Series({"fast_food": 100.0, "ethnic": 50.0}))
    full = ck.control_options(devices, 0.07, 10, uptake=1.0)
    half = ck.control_options(devices, 0.07, 10, uptake=0.5)
    assert half.loc["hepa_filter", "removed_PM2.5"] == pytest.approx(
        0.5 * full.loc["hepa_filter", "removed_PM2.5"]
    )
    assert half["cost_per_t_PM2.5"].equals(full["cost_per_t_PM2.5"])


# --- rule thresholds --------------------------------------------------------------------


def test_restaurant_groups_fast_food_both_charbroilers():
    # P(both) = 0.186 × 0.308 = 0.057288 → 57.288 of 1,000 restaurants.
    # kg/week = (1.07 × 42.1 + 1.58 × 28.7) short ton × 907.18474 / 52.142857
    #         = (45.047 + 45.346) × 907.18474 / 52.142857 = 82,003.6 / 52.142857 = 1,572.66
    groups, _ = ck.restaurant_groups(pd.Series({"fast_food": 1000.0}))
    both = groups[groups["devices"].str.contains("chain") & groups["devices"].str.contains("under")]
    both = both[both["restaurant_type"] == "fast_food"].iloc[0]
    assert both["restaurants"] == pytest.approx(57.288)
    assert both["kg_week"] == pytest.approx((45.047 + 45.346) * 907.18474 / (365 / 7), rel=1e-6)
    assert both["kg_week"] == pytest.approx(1572.66, rel=1e-5)


def test_restaurant_groups_zero_device_share_is_absent():
    # steak/BBQ: share 0.069 chain-driven but 0 devices per restaurant → only the under-fired
    # set exists: 100 × 0.552 = 55.2 restaurants
    groups, em = ck.restaurant_groups(pd.Series({"steak_bbq": 100.0}))
    steak = groups[groups["restaurant_type"] == "steak_bbq"]
    assert list(steak["devices"]) == ["under-fired charbroiler"]
    assert steak["restaurants"].iloc[0] == pytest.approx(55.2)
    assert groups["restaurants"].sum() == pytest.approx(55.2)
    assert em[("chain_driven", "PM2.5")].sum() == 0.0


def test_restaurant_groups_chain_driven_only():
    # a Rule 1138-style rule: only chain-driven meat counts; fast food P = 0.186 → 186 of 1,000
    # at 1.07 × 42.1 = 45.047 short t/yr = 40,865.9 kg / 52.142857 = 783.73 kg/week
    groups, em = ck.restaurant_groups(pd.Series({"fast_food": 1000.0}), ("chain_driven",))
    assert groups["restaurants"].sum() == pytest.approx(186.0)
    assert groups["kg_week"].iloc[0] == pytest.approx(783.73, rel=1e-5)
    assert {d for d, _ in em.columns} == {"chain_driven"}


def test_restaurant_groups_sum_to_inventory():
    # summed over the device sets, devices and emissions equal the inventory's
    restaurants = pd.Series(
        {"fast_food": 300.0, "ethnic": 200.0, "family": 150.0, "seafood": 20.0, "steak_bbq": 40.0}
    )
    groups, em = ck.restaurant_groups(restaurants)
    inv = ck.inventory(restaurants)
    devices = ck.device_counts(restaurants)
    for d in ("chain_driven", "underfired"):
        assert groups[f"n_{d}"].sum() == pytest.approx(devices.xs(d, level="device").sum())
        e = inv[(inv["device"] == d) & (inv["pollutant"] == "PM2.5")]["emissions"].sum()
        assert em[(d, "PM2.5")].sum() == pytest.approx(e)


def _two_groups():
    # A: 10 restaurants at 100 kg/week emitting 1 t; B: 30 restaurants at 400 kg/week, 12 t
    groups = pd.DataFrame(
        {"restaurants": [10.0, 30.0], "kg_week": [100.0, 400.0], "n_underfired": [10.0, 30.0]}
    )
    em = pd.DataFrame({("underfired", "PM2.5"): [1.0, 12.0]})
    em.columns = pd.MultiIndex.from_tuples(em.columns, names=["device", "pollutant"])
    return groups, em


def test_coverage_no_spread_is_a_step():
    # threshold 200 kg/week, no spread: only B is covered: 30/40 = 0.75 of restaurants,
    # 12/13 = 0.923 of emissions
    groups, em = _two_groups()
    c = ck.coverage(groups, em, 200.0, 0.0)
    assert c["restaurant_share"] == pytest.approx(0.75)
    assert c["emission_share_PM2.5"] == pytest.approx(12 / 13)
    assert c["restaurants"] == pytest.approx(30.0)


def test_coverage_lognormal_at_the_mean():
    # one group at its mean m = T = 200, σ = 0.5:
    # restaurants Φ(−σ/2) = Φ(−0.25) = 0.401294, emissions Φ(+0.25) = 0.598706
    groups = pd.DataFrame({"restaurants": [50.0], "kg_week": [200.0], "n_underfired": [50.0]})
    em = pd.DataFrame({("underfired", "PM2.5"): [5.0]})
    em.columns = pd.MultiIndex.from_tuples(em.columns, names=["device", "pollutant"])
    c = ck.coverage(groups, em, 200.0, 0.5)
    assert c["restaurant_share"] == pytest.approx(0.401294, rel=1e-5)
    assert c["emission_share_PM2.5"] == pytest.approx(0.598706, rel=1e-5)


def test_coverage_curve_falls_with_threshold():
    restaurants = pd.Series({"fast_food": 300.0, "ethnic": 200.0, "steak_bbq": 40.0})
    groups, em = ck.restaurant_groups(restaurants)
    curve = ck.coverage_curve(groups, em, np.linspace(0, 2000, 21), 0.7)
    assert curve["restaurant_share"].iloc[0] == pytest.approx(1.0)
    assert (np.diff(curve["restaurant_share"]) <= 1e-12).all()
    # emissions are concentrated in big kitchens: always covered more than restaurants
    assert (curve["emission_share_PM2.5"] >= curve["restaurant_share"] - 1e-12).all()
    assert curve["threshold_lb_week"].iloc[1] == pytest.approx(100 / 0.45359237)


def test_rule_outcome_fast_food_threshold_zero():
    # 100 fast-food restaurants, threshold 0 (all covered), uptake 0.5:
    # chain-driven 100 × 0.186 × 1.07 = 19.902 devices × 0.296051 t = 5.89200 t PM2.5
    # under-fired 100 × 0.308 × 1.58 = 48.664 devices × 0.411281 t = 20.0146 t PM2.5
    # reduction = 0.5 × (5.89200 × 0.83 + 20.0146 × 0.90) = 0.5 × (4.89036 + 18.0131) = 11.4517
    # cost = 0.5 × (19.902 + 48.664) devices × 36,037.6 USD = 34.283 × 36,037.6 = 1,235,478
    groups, em = ck.restaurant_groups(pd.Series({"fast_food": 100.0}))
    out = ck.rule_outcome(
        groups, em, 0.0, 0.0, {"chain_driven": "catalytic_oxidiser", "underfired": "esp"}, 0.5
    )
    chain = 19.902 * CHAIN_PM25_T
    under = 48.664 * UNDERFIRED_PM25_T
    assert out.loc["PM2.5", "reduction"] == pytest.approx(0.5 * (0.83 * chain + 0.9 * under))
    assert out.loc["PM2.5", "reduction"] == pytest.approx(11.4517, rel=1e-4)
    assert out.loc["PM2.5", "uncontrolled"] == pytest.approx(chain + under)
    assert out.attrs["devices_controlled"] == pytest.approx(34.283)
    assert out.attrs["annual_cost"] == pytest.approx(1235478, rel=1e-5)


def test_rule_outcome_lower_threshold_buys_more():
    restaurants = pd.Series({"fast_food": 300.0, "ethnic": 200.0, "family": 100.0})
    groups, em = ck.restaurant_groups(restaurants)
    controls = {"chain_driven": "catalytic_oxidiser", "underfired": "esp"}
    r875 = ck.rule_outcome(groups, em, ck.lb_to_kg(875), 0.7, controls)
    r400 = ck.rule_outcome(groups, em, ck.lb_to_kg(400), 0.7, controls)
    assert r400.loc["PM2.5", "reduction"] > r875.loc["PM2.5", "reduction"]
    assert r400.attrs["annual_cost"] > r875.attrs["annual_cost"]


def test_rule_outcome_wrong_control_raises():
    groups, em = _two_groups()
    with pytest.raises(C3Error, match="does not fit"):
        ck.rule_outcome(groups, em, 0.0, 0.0, {"underfired": "catalytic_oxidiser"})


# --- street food ------------------------------------------------------------------------


def test_street_grilling_hand_worked():
    # 100 stalls × 10 kg/day × 300 days = 300,000 kg = 300 t of meat
    # central 300,000 × 9.9 / 1e6 = 2.97 t; low × 3.2 = 0.96 t; high × 31.9 = 9.57 t
    # drips low: 9.9 × 8 = 79.2 g/kg → 23.76 t
    s = ck.street_grilling(100, 10, 300)
    assert s.attrs["food_t"] == pytest.approx(300.0)
    assert s.loc["central", "PM2.5"] == pytest.approx(2.97)
    assert s.loc["low", "PM2.5"] == pytest.approx(0.96)
    assert s.loc["high", "PM2.5"] == pytest.approx(9.57)
    assert s.loc["drips low", "PM2.5"] == pytest.approx(23.76)


def test_street_sensitivity_share():
    # restaurants 10 t + street 2.97 t: share 2.97 / 12.97 = 0.22899
    s = ck.street_sensitivity(10.0, ck.street_grilling(100, 10, 300))
    assert s.loc["central", "street_share"] == pytest.approx(0.22899, rel=1e-4)


def test_street_food_assessed_asian_only():
    assert ck.street_food_assessed("Taiwan") and ck.street_food_assessed("Viet Nam")
    assert not ck.street_food_assessed("United States")


# --- assessment, metrics, explorer, charts ----------------------------------------------


def test_settings_rejects_unknown_levers():
    with pytest.raises(C3Error, match="rule_devices"):
        ck.Settings(rule_devices="griddles")
    with pytest.raises(C3Error, match="underfired_control"):
        ck.Settings(underfired_control="catalytic_oxidiser")


def test_assess_city_chain_driven_rule_covers_less():
    city = city_frame(500, 300, 50, family=200)
    both = ck.assess_city(city, "United States", ck.Settings())
    chain = ck.assess_city(city, "United States", ck.Settings(rule_devices="chain_driven"))
    r_both = both.rules["400 lb/week"].loc["PM2.5", "reduction"]
    r_chain = chain.rules["400 lb/week"].loc["PM2.5", "reduction"]
    assert 0 < r_chain < r_both


def test_assess_city_us_city_has_no_street_line():
    a = ck.assess_city(city_frame(500, 300, 50, stalls=100), "United States", ck.Settings())
    assert a.street is None
    assert set(a.rules) == {"875 lb/week", "400 lb/week"}
    assert a.totals["PM2.5"] > 0


def test_metrics_names_snake_case_with_headlines():
    st = ck.Settings()
    assessments = {
        "taipei": ck.assess_city(city_frame(500, 300, 50, stalls=100), "Taiwan", st),
        "san-jose": ck.assess_city(city_frame(800, 400, 80), "United States", st),
    }
    m = cooking_views.metrics(assessments, st)
    assert m["metric"].map(lambda s: bool(re.fullmatch(r"[a-z][a-z0-9_]*", s))).all()
    assert {"cooking_emissions", "control_reduction", "cost_per_tonne", "rule_reduction"} <= set(
        m["metric"]
    )
    assert 3 <= m["headline"].sum() <= 8
    assert "street_grilling_emissions" not in set(m[m["city"] == "san-jose"]["metric"])
    table = cooking_views.results_table(assessments, st)
    assert "unit" in table.columns


def test_what_if_returns_figure_and_table():
    import matplotlib.pyplot as plt

    fig, table = cooking_views.what_if(
        city_frame(500, 300, 50), ck.Settings(), 400.0, 0.8, "hepa_filter"
    )
    assert table.loc["PM2.5 reduction", "value"] > 0
    plt.close(fig)


def test_plots_return_figures():
    import matplotlib.pyplot as plt

    a = ck.assess_city(city_frame(500, 300, 50, stalls=100), "Taiwan", ck.Settings())
    figs = [
        cooking_views.plot_emissions({"A": a.inventory, "B": a.inventory}),
        cooking_views.plot_control_costs(a.controls),
        cooking_views.plot_threshold_curve({"A": a.curve}, {"875 lb/week": 875.0}),
        cooking_views.plot_street_sensitivity(
            {"A": ck.street_sensitivity(a.totals["PM2.5"], a.street)}
        ),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        plt.close(fig)


def test_check_factors_clean():
    assert ck.check_factors() == []


def test_check_factors_missing_profile_row(monkeypatch):
    prof = ck.device_profile()
    monkeypatch.setattr(ck, "device_profile", lambda: prof.drop(("family", "fryer")))
    assert any("family × fryer" in m for m in ck.check_factors())


def test_assumption_rows_list_unsourced_controls():
    rows = cooking_views.assumption_rows(
        ck.Settings(), {"taipei": "Taiwan", "san-jose": "United States"}
    )
    inputs = [r["input"] for r in rows]
    assert any("catalytic_oxidiser" in i for i in inputs)
    assert any(r["city"] == "san-jose" and "street" in r["input"] for r in rows)


def test_restaurant_counts_total_split_by_default_mix():
    # 1,000 restaurants in all, the five type counts global defaults 2:1:1:1:1 → 333.3, 166.7 …
    rows = pd.DataFrame(
        {
            "value": [2.0, 1.0, 1.0, 1.0, 1.0, 1000.0],
            "level": ["global"] * 5 + ["country"],
        },
        index=[f"{t}_restaurants" for t in ck.RESTAURANT_TYPES] + ["restaurants_total"],
    )
    counts = ck.restaurant_counts(rows)
    assert counts.sum() == pytest.approx(1000.0)
    assert counts.iloc[0] == pytest.approx(1000.0 / 3)
    # a city count is kept; the four defaults share what it leaves of the total (998)
    own = rows.assign(level=["city"] + ["global"] * 4 + ["country"])
    counts = ck.restaurant_counts(own)
    assert counts.iloc[0] == 2.0
    assert counts.iloc[1:].tolist() == pytest.approx([998.0 / 4] * 4)
    # sourced counts above the total: kept, and the defaults get none
    over = own.assign(value=[1500.0, 1.0, 1.0, 1.0, 1.0, 1000.0])
    assert ck.restaurant_counts(over).tolist() == [1500.0, 0.0, 0.0, 0.0, 0.0]
    # a global total changes nothing
    assert ck.restaurant_counts(rows.assign(level=["global"] * 6)).sum() == pytest.approx(6.0)


# --- meat balance -----------------------------------------------------------------------
# Survey meat of one fast-food restaurant (short tons a year; devices = share × devices per
# restaurant that has one; meat per device = the six meats of cooking_meat.csv):
#   chain-driven 0.186 × 1.07 = 0.19902 × 42.1 = 8.378742
#   under-fired  0.308 × 1.58 = 0.48664 × 28.7 = 13.966568
#   fryer        0.968 × 3.10 = 3.0008  × 39.4 = 118.23152
#   flat griddle 0.519 × 1.43 = 0.74217 × 25.7 = 19.073769
#   clamshell    0.147 × 2.09 = 0.30723 × 61.8 = 18.986814
#   total 178.637413 short tons = 178.637413 × 907.18474 = 162,057.135 kg
FAST_FOOD_SURVEY_KG = 178.637413 * 907.18474


def balance_frame(fast_food=100.0, population=1_000_000.0, meat=27.3, share=0.39):
    city = city_frame(fast_food)
    extra = pd.DataFrame(
        {"value": [population, meat, share]},
        index=["population", "meat_kg_per_capita_yr", "food_service_meat_share"],
    )
    return pd.concat([city, extra])


def test_survey_meat_per_restaurant_fast_food_hand_worked():
    per = ck.survey_meat_per_restaurant()
    assert per["fast_food"] == pytest.approx(FAST_FOOD_SURVEY_KG, rel=1e-9)
    assert set(per.index) == set(ck.RESTAURANT_TYPES)


def test_meat_balance_hand_worked():
    # Thailand's 27.3 kg per person (National Food Institute) × 1,000,000 residents × 39 %
    # eaten out = 10,647,000 kg; 100 fast-food restaurants cook 16,205,713.5 kg by the
    # survey, so k = 10,647,000 / 16,205,713.5 = 0.656991
    b = ck.meat_balance(pd.Series({"fast_food": 100.0}), 1_000_000, 27.3, 0.39)
    assert b.applied
    assert b.commercial_meat_kg == pytest.approx(10_647_000.0)
    assert b.survey_meat_kg == pytest.approx(16_205_713.5, rel=1e-8)
    assert b.scale == pytest.approx(0.656991, rel=1e-5)
    assert b.survey_kg_per_capita == pytest.approx(16.2057135, rel=1e-7)
    assert b.balanced_kg_per_capita == pytest.approx(27.3 * 0.39)  # 10.647 kg


def test_meat_balance_scaled_survey_total_equals_meat_eaten_out():
    city = balance_frame()
    restaurants = ck.restaurant_counts(city)
    assert restaurants.attrs["meat_scale"] == pytest.approx(0.656991, rel=1e-5)
    inv = ck.inventory(restaurants)
    food = inv.drop_duplicates(["restaurant_type", "device", "food"])
    meat = food[food["food"] != "potatoes"]["food_kg"].sum()
    # every meat row with a factor: the survey total less rows no factor covers, × k
    raw = ck.inventory(restaurants, 1.0).drop_duplicates(["restaurant_type", "device", "food"])
    raw_meat = raw[raw["food"] != "potatoes"]["food_kg"].sum()
    assert meat == pytest.approx(raw_meat * 0.656991, rel=1e-5)
    # potatoes keep their own national total: one fast-food restaurant's share × 100
    potatoes = food[food["food"] == "potatoes"]["food_kg"].sum()
    assert potatoes == pytest.approx(100 * ck.potatoes_per_restaurant()["fast_food"])
    pm = ck.totals(inv)["PM2.5"]
    assert pm == pytest.approx(ck.totals(ck.inventory(restaurants, 1.0))["PM2.5"] * 0.656991, 1e-5)


def test_city_meat_balance_without_its_fields_is_not_applied():
    city = city_frame(100)
    b = ck.city_meat_balance(city, ck.restaurant_counts(city))
    assert not b.applied and b.scale == 1.0
    assert ck.restaurant_counts(city).attrs["meat_scale"] == 1.0
    no_restaurants = ck.meat_balance(pd.Series(dtype=float), 1e6, 27.3, 0.39)
    assert not no_restaurants.applied and no_restaurants.scale == 1.0


def test_inventory_meat_scale_rejects_unknown_food_and_negative():
    r = pd.Series({"fast_food": 1.0})
    with pytest.raises(C3Error, match="unknown food"):
        ck.inventory(r, {"tofu": 0.5})
    with pytest.raises(C3Error, match="finite factor"):
        ck.inventory(r, -1.0)


def test_assess_city_balance_scales_controls_and_rule_throughput():
    city = balance_frame(fast_food=100.0)
    a = ck.assess_city(city, "Thailand", ck.Settings())
    raw = ck.assess_city(city_frame(100), "Thailand", ck.Settings())
    k = a.balance.scale
    assert k == pytest.approx(0.656991, rel=1e-5)
    assert a.totals["PM2.5"] == pytest.approx(raw.totals["PM2.5"] * k)
    # a control removes k times as much, so its cost per tonne is 1/k times higher
    esp, esp_raw = a.controls.loc["esp"], raw.controls.loc["esp"]
    assert esp["removed_PM2.5"] == pytest.approx(esp_raw["removed_PM2.5"] * k)
    assert esp["cost_per_t_PM2.5"] == pytest.approx(esp_raw["cost_per_t_PM2.5"] / k)
    assert list(a.groups["kg_week"]) == pytest.approx(list(raw.groups["kg_week"] * k))


def test_meat_balance_views_table_and_metrics():
    st = ck.Settings()
    a = ck.assess_city(balance_frame(), "Thailand", st)
    table = cooking_views.meat_balance_table({"A": a})
    assert table.loc["factor on the survey meat per device", "A"] == pytest.approx(0.656991, 1e-5)
    assert table.loc["meat eaten away from home (supply × share × residents)", "A"] == (
        pytest.approx(10_647.0)
    )
    m = cooking_views.metrics({"bkk": a}, st).set_index(["metric", "scope"])["value"]
    assert m[("meat_balance_factor", "survey meat per device")] == pytest.approx(0.656991, 1e-5)
    assert m[("meat_per_capita", "restaurants, balanced")] == pytest.approx(10.647)


def test_city_inputs_population_from_profile():
    # the meat balance's head count is the city profile's population, at its own level
    from c3lib.params import city_inputs, load_catalog

    catalog = load_catalog()
    for city in list(catalog.cities.values())[:3]:
        rows = city_inputs(city, "commercial-cooking", catalog.country_of(city))
        q = city.profile["population"]
        assert rows.loc["population", "value"] == q.value
        assert rows.loc["population", "level"] == q.level
        assert rows.loc["population", "source"] == q.source


def test_meat_per_capita_within_national_supply_every_city():
    # every city of the params folder: the meat its restaurants cook per resident after
    # the balance is the supply per person × the away-from-home share, never more than
    # the country's published (or the documented world) supply per person
    from c3lib.params import city_inputs, load_catalog

    catalog = load_catalog()
    for city in catalog.cities.values():
        own = city_inputs(city, "commercial-cooking", catalog.country_of(city))
        supply = float(own.loc["meat_kg_per_capita_yr", "value"])
        share = float(own.loc["food_service_meat_share", "value"])
        restaurants = ck.restaurant_counts(own)
        b = ck.city_meat_balance(own, restaurants)
        if restaurants.sum() == 0:
            continue
        assert b.applied, city.id
        assert b.balanced_kg_per_capita == pytest.approx(supply * share), city.id
        assert b.balanced_kg_per_capita <= supply, city.id
        assert ck.totals(ck.inventory(restaurants))["PM2.5"] == pytest.approx(
            ck.totals(ck.inventory(restaurants, 1.0))["PM2.5"] * b.scale
        ), city.id
    assert catalog.cities
