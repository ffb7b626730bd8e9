"""Registered exercises: the givens worked by hand give the expected value the check uses."""

from __future__ import annotations

import pytest

from c3lib.kit import casestudy as cs
from c3lib.kit.answers import (
    CAR_SHIFT,
    EXERCISES,
    FILTER_CUT,
    FOOD_STREET_DEVICES,
    work,
)
from c3lib.kit.exercises import check
from c3lib.params import load_catalog

KG_PER_SHORT_TON = 907.18474


def case_for(params_dir, action: str) -> cs.Case:
    """The first pair of the catalog, on ``action``."""
    pair = next(iter(load_catalog(params_dir).pairs))
    return cs.load_case(pair, action, str(params_dir))


def settings_for(action: str, case: cs.Case) -> dict:
    """What the workbook's parameters cell hands the exercise, at the workbook defaults."""
    if action == "bike-sharing":
        from c3lib.topics.bikeshare.model import Plan

        return {"plan": Plan()}
    if action == "commercial-cooking":
        from c3lib.topics.cooking.model import Settings

        return {"settings": Settings(0.07, 10.0, "esp", 1.0, 0.7, 400.0, "both")}
    if action == "port-operations":
        from c3lib.topics.ports import model as ports

        inputs, profile = cs.inputs(case), cs.profiles(case)
        port = {
            r: ports.port_from_inputs(inputs, r, c.name, 20.0, ports.grid_factor(profile[r]))
            for r, c in case.cities.items()
        }
        return {"port": port, "factors": ports.load_factors()}
    return {}


def by_hand(exercise_id: str, g) -> float:
    """The chain the exercise's question spells out, from the givens table."""
    if exercise_id == "bike-sharing/car-km-first-phase":
        v = g["value"]
        trips = v["bikes"] * v["trips_per_bike_day"] * 365  # [trips/yr]
        return trips * v["trip_km"] * v["car_share"] / v["car_occupancy"]  # [km/yr]
    if exercise_id == "emissions-inventory/road-pm25-with-filters":
        return (g["fuel_kg"] * g["pm25_ef_g_kg"]).sum() / 1e6 * (1 - FILTER_CUT)  # [t/yr]
    if exercise_id == "commercial-cooking/food-street-pm25":
        grams = (g["food_short_ton_yr"] * KG_PER_SHORT_TON * g["pm25_g_kg"]).sum()
        return FOOD_STREET_DEVICES * grams / 1e6  # [t/yr]
    if exercise_id == "low-emission-development/car-co2-after-shift":
        v = g["value"]
        pkm = v["population"] * v["pkm_per_capita_yr"] * v["share_car"] * (1 - v["car_shift"])
        return pkm * v["car_co2_g_pkm"] / 1e6  # [t/yr]
    v = g["value"]
    return v["aux_kw_hotelling"] * v["berth_h"] * v["nox_g_kwh"] / 1000  # [kg]


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_work_givens_by_hand_give_expected(params_dir, exercise_id):
    action = exercise_id.split("/")[0]
    case = case_for(params_dir, action)
    settings = settings_for(action, case)
    _, worked = work(exercise_id, case, **settings)
    assert by_hand(exercise_id, worked.givens) == pytest.approx(worked.expected, rel=1e-9)
    assert worked.expected > 0 and worked.caption and worked.note
    assert check(exercise_id, worked.expected, case, **settings).status == "right"
    assert check(exercise_id, 3 * worked.expected, case, **settings).status == "off"
    assert check(exercise_id, None, case, **settings).status == "missing"


def test_work_car_shift_variant_is_not_the_baseline(params_dir):
    from c3lib.topics.urban import model as urban

    case = case_for(params_dir, "low-emission-development")
    _, worked = work("low-emission-development/car-co2-after-shift", case)
    p = cs.profiles(case)["learning"]
    rows = cs.inputs(case).query("role == 'learning'").set_index("field")
    baseline = urban.asif(urban.city_transport(rows, p["population"], p["grid_ef"]))
    # the exercise asks for what no table above shows: (1 − 25 %) of the baseline car CO2
    assert worked.expected == pytest.approx((1 - CAR_SHIFT) * baseline.loc["car", "CO2"])
    assert worked.expected != pytest.approx(baseline.loc["car", "CO2"])
