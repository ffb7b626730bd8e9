"""Emissions inventory: hand-worked lines, dust equation, QA and ranking."""

from __future__ import annotations

import pandas as pd
import pytest

from c3lib import inventory as inv
from c3lib.exceptions import ReferenceDataError
from c3lib.reference import reference_table

VALUES = {
    "cars": 1000,
    "motorcycles": 2000,
    "light_trucks": 0,
    "buses": 10,
    "car_km_per_yr": 10000,
    "motorcycle_km_per_yr": 5000,
    "light_truck_km_per_yr": 0,
    "bus_km_per_yr": 50000,
    "car_fuel_kg_per_km": 0.06,
    "motorcycle_fuel_kg_per_km": 0.02,
    "light_truck_fuel_kg_per_km": 0.08,
    "bus_fuel_kg_per_km": 0.33,
    "road_silt_loading": 0.06,
    "fleet_weight_short_tons": 1.5,
    "road_dust_control": 0.0,
    "residential_gas_gj": 1000.0,
    "residential_coal_gj": 0.0,
    "residential_biomass_gj": 0.0,
    "industry_gas_gj": 0.0,
    "industry_diesel_gj": 0.0,
    "rice_straw_burned_t": 100.0,
    "construction_acre_months": 0.0,
}


def lines():
    return inv.city_lines(VALUES)


def test_vehicle_activity_fuel():
    # cars: 1000 × 10,000 km × 0.06 kg/km = 600,000 kg; buses: 10 × 50,000 × 0.33 = 165,000 kg
    act = inv.vehicle_activity(VALUES)
    assert act.loc["car-gasoline", "fuel_kg"] == pytest.approx(600_000)
    assert act.loc["bus-diesel", "fuel_kg"] == pytest.approx(165_000)
    assert inv.vehicle_km(VALUES) == pytest.approx(1e7 + 1e7 + 0 + 5e5)


def test_calculate_road_transport_pm25():
    # car 600,000 kg × 0.03 g/kg + motorcycle 200,000 kg × 2.20 g/kg + bus 165,000 × 0.94
    # = 18,000 + 440,000 + 155,100 g = 0.6131 t
    ln = lines()
    pm = ln.query("sector == 'road-transport' and pollutant == 'PM2.5'")["emissions"].sum()
    assert pm == pytest.approx(0.6131)


def test_calculate_co2_from_fuel():
    # car CO2: 600,000 kg × 3070 g/kg = 1,842 t
    ln = lines().query("subsector == 'car-gasoline' and pollutant == 'CO2'")
    assert ln["emissions"].iloc[0] == pytest.approx(1842.0)


def test_road_dust_factor_ap42():
    # k 0.15 × 0.06^0.91 × 1.5^1.02 = 0.15 × 0.077274 × 1.51222 = 0.017528 g/VKT
    assert inv.road_dust_factor(0.06, 1.5, "PM2.5") == pytest.approx(0.017528, rel=1e-3)


def test_road_dust_control_applied():
    # 20.5 M VKT × 0.017528 g/VKT × (1 − 0.5) = 179.7 kg = 0.1797 t
    ln = inv.city_lines(VALUES, dust_control=0.5)
    dust = ln.query("sector == 'road-dust' and pollutant == 'PM2.5'")["emissions"].iloc[0]
    assert dust == pytest.approx(0.1797, rel=1e-3)


def test_open_burning_rice_straw():
    # 100 t straw = 100,000 kg × 34.0 g/kg = 3.4 t PM2.5
    ln = lines().query("sector == 'open-burning' and pollutant == 'PM2.5'")
    assert ln["emissions"].iloc[0] == pytest.approx(3.4)


def test_city_lines_road_scale_halves_road():
    base = lines().query("sector == 'road-transport'")["emissions"].sum()
    half = inv.city_lines(VALUES, road_scale=0.5).query("sector == 'road-transport'")
    assert half["emissions"].sum() == pytest.approx(base / 2)


def test_factor_missing_raises():
    with pytest.raises(ReferenceDataError, match="no factor for sector 'industry-power'"):
        inv.factor(inv.emission_factors(), "industry-power", "natural-gas", "PM2.5")


def test_key_sources_shares_sum_to_one():
    rank = inv.key_sources(lines(), "PM2.5", n=20)
    assert rank["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert rank["emissions"].is_monotonic_decreasing


def test_qa_checks_gap_and_range():
    qa = inv.qa_checks(lines(), 10_000, reference_table("qa_ranges"), vehicle_share=0.5)
    res = qa.set_index("check")["result"]
    assert res["completeness: residential"] == "pass"  # gas: all eight pollutants
    assert res["completeness: industry-power"] == "gap"  # no activity
    assert res["completeness: construction-dust"] == "gap"
    assert "cross-check: vehicles' share of PM2.5" in res.index


def test_external_lines_rename():
    ext = inv.external_lines(
        "commercial-cooking",
        {"PM2.5": 2.0, "VOC": 1.0, "XYZ": 5.0},
        "s",
        "derived",
        rename={"VOC": "NMVOC"},
    )
    assert dict(zip(ext["pollutant"], ext["emissions"], strict=True)) == {
        "PM2.5": 2.0,
        "NMVOC": 1.0,
    }


def test_check_factors_clean():
    assert inv.check_factors() == []


def test_metrics_headline_totals():
    ln = lines()
    mc = pd.DataFrame(
        [
            {"pollutant": p, "sector": "total", "central": 1, "low": 0.5, "high": 2}
            for p in inv.POLLUTANTS
        ]
    )
    m = inv.metrics({"x": ln}, {"x": mc}, {"x": 10_000})
    heads = m[m["headline"]]
    assert set(heads["pollutant"]) == {"PM2.5", "NOx", "CO2"}
    assert set(heads["metric"]) == {"total_emissions"}
