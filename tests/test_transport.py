"""Transport factors: per vehicle-km, occupancy and per passenger-km, checked by hand."""

from __future__ import annotations

import math

import pytest

from c3lib.exceptions import ReferenceDataError
from c3lib.topics.transport import model as transport


def test_mode_table_unsourced_rows_flagged_assumed():
    df = transport.mode_table()
    unsourced = df["source"].str.startswith("unsourced estimate")
    assert (df.loc[unsourced, "quality"] == "assumed").all()
    assert df.loc[df["quality"] == "assumed", "source"].str.startswith("unsourced estimate").all()


def test_vehicle_factors_car_petrol():
    # energy = 176 g CO2/km / 69.3 g CO2/MJ = 2.53968 MJ/km
    # fuel   = 2.53968 MJ/km / 44.3 MJ/kg = 0.0573292 kg/km
    # NOx    = 8.73 g/kg × 0.0573292 kg/km = 0.500484 g/km
    # PM2.5  = 0.03 g/kg × 0.0573292 kg/km = 0.00171988 g/km
    f = transport.vehicle_factors(0.5).loc["car_petrol"]
    assert f["CO2"] == pytest.approx(176.0)
    assert f["energy_mj_per_km"] == pytest.approx(2.539683, rel=1e-6)
    assert f["fuel_kg_per_km"] == pytest.approx(0.0573292, rel=1e-6)
    assert f["NOx"] == pytest.approx(0.500484, rel=1e-6)
    assert f["PM2.5"] == pytest.approx(0.00171988, rel=1e-5)


def test_vehicle_factors_motorcycle_petrol():
    # fuel = 114 / 69.3 / 44.3 = 0.0371337 kg/km; NOx = 6.64 × that = 0.246568 g/km;
    # PM2.5 = 2.20 × that = 0.0816941 g/km
    f = transport.vehicle_factors(0.5).loc["motorcycle_petrol"]
    assert f["NOx"] == pytest.approx(0.246568, rel=1e-5)
    assert f["PM2.5"] == pytest.approx(0.0816941, rel=1e-5)


def test_vehicle_factors_bus_euro4_co2_from_energy():
    # CO2 = 14.1 MJ/km × 74.1 g/MJ = 1044.81 g/km (methods_factors §1.3: about 1.0–1.4 kg/km)
    f = transport.vehicle_factors(0.5).loc["bus_euro4"]
    assert f["CO2"] == pytest.approx(1044.81)
    assert f["NOx"] == pytest.approx(6.77)
    assert f["PM2.5"] == pytest.approx(0.055)


def test_vehicle_factors_van_diesel():
    # CO2 = 3.1 MJ/km × 74.1 = 229.71 g/km; fuel = 3.1 / 43.0 = 0.0720930 kg/km;
    # NOx = 14.91 × 0.0720930 = 1.074907 g/km; PM2.5 = 1.52 × 0.0720930 = 0.109581 g/km
    f = transport.vehicle_factors(0.5).loc["van_diesel"]
    assert f["CO2"] == pytest.approx(229.71)
    assert f["NOx"] == pytest.approx(1.074907, rel=1e-6)
    assert f["PM2.5"] == pytest.approx(0.109581, rel=1e-5)


def test_vehicle_factors_electric_uses_grid():
    # electric car: 0.18 kWh/km × 0.494 kg/kWh × 1000 g/kg = 88.92 g/km; no exhaust
    f = transport.vehicle_factors(0.494)
    assert f.loc["car_electric", "CO2"] == pytest.approx(88.92)
    assert f.loc["car_electric", "PM2.5"] == 0 and f.loc["car_electric", "NOx"] == 0
    # metro train: 25 kWh/train-km × 0.494 × 1000 = 12,350 g/train-km
    assert f.loc["metro_train", "CO2"] == pytest.approx(12350.0)


def test_vehicle_factors_zero_grid_zero_electric_co2():
    f = transport.vehicle_factors(0.0)
    assert f.loc[["car_electric", "bus_electric", "metro_train"], "CO2"].eq(0).all()


def test_vehicle_factors_negative_grid_raises():
    with pytest.raises(ValueError, match="grid_ef"):
        transport.vehicle_factors(-0.1)


def test_vehicle_factors_missing_row_raises(monkeypatch):
    table = transport.mode_table()
    trimmed = table[~((table["item"] == "bus_euro5") & (table["quantity"] == "NOx"))]
    monkeypatch.setattr(transport, "mode_table", lambda: trimmed)
    with pytest.raises(ReferenceDataError, match="bus_euro5 has no NOx"):
        transport.vehicle_factors(0.5)


def test_occupancy_taxi_empty_running():
    # taxi: 1.4 passengers while hired × (1 − 0.3 empty share) = 0.98 per taxi-km
    occ = transport.occupancy()
    assert occ["taxi"] == pytest.approx(0.98)
    assert occ["car"] == pytest.approx(1.4)
    assert occ["bus"] == pytest.approx(35.0)


def test_passenger_factors_bus_matches_reference_example():
    # methods_factors §5.3: Euro IV bus at 40 passengers gives 6.77 / 40 = 0.169 ≈ 0.17 g NOx/pkm
    vkm = transport.vehicle_factors(0.5)
    assert vkm.loc["bus_euro4", "NOx"] / 40 == pytest.approx(0.17, abs=0.005)
    # with the table's 35 passengers: 6.77 / 35 = 0.193429 g/pkm
    pkm = transport.passenger_factors(0.5)
    assert pkm.loc["bus", "NOx"] == pytest.approx(0.193429, rel=1e-5)


def test_passenger_factors_car_co2():
    # 176 g/vkm / 1.4 persons = 125.714 g/pkm
    assert transport.passenger_factors(0.5).loc["car", "CO2"] == pytest.approx(125.714, rel=1e-5)


def test_passenger_factors_vehicle_override():
    # Euro VI bus: 0.55 g NOx/km / 35 = 0.0157143 g/pkm
    pkm = transport.passenger_factors(0.5, {"bus": "bus_euro6"})
    assert pkm.loc["bus", "NOx"] == pytest.approx(0.0157143, rel=1e-5)
    assert pkm.loc["bus", "vehicle"] == "bus_euro6"


def test_passenger_factors_unknown_mode_raises():
    with pytest.raises(KeyError, match="ferry"):
        transport.passenger_factors(0.5, {"ferry": "bus_euro4"})


def test_passenger_factors_walk_and_cycle_zero():
    pkm = transport.passenger_factors(0.5)
    assert pkm.loc[["bicycle", "walk"], list(transport.POLLUTANTS)].eq(0).all().all()


@pytest.mark.parametrize(
    ("stage", "vehicle"), [(0, "bus_conventional"), (2, "bus_conventional"), (4, "bus_euro4")]
)
def test_bus_vehicle_stages(stage, vehicle):
    assert transport.bus_vehicle(stage) == vehicle


def test_bus_vehicle_out_of_range_raises():
    with pytest.raises(ValueError, match="0–6"):
        transport.bus_vehicle(7)


def test_road_vehicle_km_hand_worked():
    # 691,100 cars × 9,700 km = 6.70367e9 car-km; no bus distance → NaN (not estimated)
    vkm = transport.road_vehicle_km({"cars": 691_100, "car_km_per_yr": 9_700, "buses": 10})
    assert vkm["car"] == pytest.approx(6.70367e9)
    assert math.isnan(vkm["bus"]) and math.isnan(vkm["motorcycle"])


def test_one_road_baseline_for_every_city(params_dir):
    # the low-emission baseline drives the inventory's car-km (taxis included),
    # motorcycle-km and bus-km for every city of the catalog, whatever its params
    from c3lib.params import city_inputs, load_catalog
    from c3lib.topics.inventory import model as inventory
    from c3lib.topics.urban import model as urban

    catalog = load_catalog(params_dir)
    assert catalog.cities
    for city in catalog.cities.values():
        country = catalog.country_of(city)
        road = city_inputs(city, "emissions-inventory", country)
        low = city_inputs(city, "low-emission-development", country)
        p = city_inputs(city, "profile", country)["value"]
        base = urban.asif(urban.city_transport(low, p["population"], p["grid_ef"], road))
        vkt = inventory.vehicle_activity(road["value"])["vkt"]
        assert base.loc[["car", "taxi"], "vehicle_km"].sum() == pytest.approx(
            vkt["car-gasoline"], rel=1e-9
        ), city.id
        assert base.loc["motorcycle", "vehicle_km"] == pytest.approx(
            vkt["motorcycle-gasoline"], rel=1e-9
        ), city.id
        assert base.loc["bus", "vehicle_km"] == pytest.approx(vkt["bus-diesel"], rel=1e-9)
