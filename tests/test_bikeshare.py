"""Bike-sharing: sizing, demand, avoided emissions, HEAT and the layout sketch, checked by hand."""

from __future__ import annotations

import math

import matplotlib.figure
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from c3lib.reference import field_table, reference_table
from c3lib.topics.bikeshare import model as bs
from c3lib.topics.bikeshare import views as bs_views
from c3lib.topics.transport import model as transport
from c3lib.topics.transport import views as transport_views

FIELDS = field_table("bike-sharing")
TAIPEI = bs.ExistingSystem(stations=1338, bikes=16562, daily_trips=144000)


@pytest.mark.parametrize(
    "name",
    ["bikeshare_benchmarks", "bikeshare_systems", "bikeshare_heat", "bikeshare_substitution"],
)
def test_reference_tables_unsourced_rows_flagged_assumed(name):
    df = reference_table(name)
    unsourced = df["source"].str.startswith("unsourced estimate")
    assert (df.loc[unsourced, "quality"] == "assumed").all()
    assert df.loc[df["quality"] == "assumed", "source"].str.startswith("unsourced").all()


def test_field_defaults_trip_minutes_is_fishman_mean():
    # (22.0 + 16.2 + 15.8 + 17.5) / 4 = 17.875 → 17.9 min
    obs = bs.observed_systems()
    mean = obs.loc[obs["metric"] == "trip_minutes", "value"].mean()
    assert mean == pytest.approx(17.875)
    assert FIELDS.loc["trip_minutes", "default"] == pytest.approx(mean, abs=0.05)


def test_field_defaults_car_substitution_is_fishman_mean():
    # (0.19 + 0.21 + 0.07 + 0.02) / 4 = 0.1225 → 0.12 (Minneapolis, unsourced, left out)
    obs = bs.observed_systems()
    car = obs[(obs["metric"] == "car_substitution") & (obs["year"] == 2012)]
    mean = car.loc[car["quality"] != "assumed", "value"].mean()
    assert mean == pytest.approx(0.1225)
    assert FIELDS.loc["substitution_car", "default"] == pytest.approx(mean, abs=0.005)


def test_field_defaults_substitution_shares_leave_room():
    # 0.12 + 0.05 + 0.10 + 0.30 + 0.25 = 0.82 ≤ 1
    total = sum(FIELDS.loc[f"substitution_{m}", "default"] for m in bs.SUBSTITUTED_MODES)
    assert total == pytest.approx(0.82)


def test_station_spacing_m_itdp_range():
    # 1000 / √10 = 316.2 m; 1000 / √16 = 250 m: ITDP's "about 300 m apart"
    assert bs.station_spacing_m(10) == pytest.approx(316.228, rel=1e-5)
    assert bs.station_spacing_m(16) == pytest.approx(250.0)


def test_station_spacing_m_zero_density_raises():
    with pytest.raises(ValueError, match="positive"):
        bs.station_spacing_m(0)


def test_size_system_hand_worked():
    # 10 km² at 10,000 persons/km² = 100,000 residents; 13 stations/km² → 130 stations;
    # 20 bikes per 1,000 → 2,000 bikes; 2.25 docks/bike → 4,500 docks; 1000/√13 = 277.35 m
    s = bs.size_system(10, 10_000, 13, 20, 2.25)
    assert s.residents == pytest.approx(100_000)
    assert s.stations == pytest.approx(130)
    assert s.bikes == pytest.approx(2_000)
    assert s.docks == pytest.approx(4_500)
    assert s.station_spacing_m == pytest.approx(277.350, rel=1e-5)


def test_size_system_negative_area_raises():
    with pytest.raises(ValueError, match="coverage_area_km2"):
        bs.size_system(-1, 10_000, 13, 20, 2.25)


def test_sizing_table_itdp_low_and_high():
    # low: 10/km² × 10 = 100 stations; 10/1000 × 100,000 = 1,000 bikes; × 2 = 2,000 docks
    # high: 16/km² × 10 = 160 stations; 30/1000 × 100,000 = 3,000 bikes; × 2.5 = 7,500 docks
    t = bs.sizing_table(10, 10_000, 13, 20, 2.25)
    assert t.loc["stations", ["ITDP low", "plan", "ITDP high"]].tolist() == pytest.approx(
        [100, 130, 160]
    )
    assert t.loc["bikes", ["ITDP low", "ITDP high"]].tolist() == pytest.approx([1000, 3000])
    assert t.loc["docks", ["ITDP low", "ITDP high"]].tolist() == pytest.approx([2000, 7500])
    assert t.loc["station spacing", "unit"] == "m"


def test_system_indicators_taipei():
    # Taipei (YouBike Feb 2024; population 2,488,043; 271.8 km²):
    # 1,338 / 271.8 = 4.9227 stations/km²; 16,562 / 2,488,043 × 1000 = 6.6566 bikes per 1,000;
    # 144,000 / 16,562 = 8.6946 trips/bike/day; 144,000 / 2,488,043 × 1000 = 57.877 per 1,000
    t = bs.system_indicators(TAIPEI, 2_488_043, 271.8)
    assert t.loc["stations per km2", "value"] == pytest.approx(4.9227, rel=1e-4)
    assert t.loc["bikes per 1,000 residents", "value"] == pytest.approx(6.6566, rel=1e-4)
    assert t.loc["trips per bike per day", "value"] == pytest.approx(8.6946, rel=1e-4)
    assert t.loc["trips per 1,000 residents per day", "value"] == pytest.approx(57.877, rel=1e-4)
    assert t.loc["trips per bike per day", ["ITDP low", "ITDP high"]].tolist() == [4, 8]


def test_system_indicators_undocumented_is_nan():
    t = bs.system_indicators(bs.ExistingSystem(stations=50, bikes=500), 5_588_222, 1568.737)
    assert math.isnan(t.loc["trips per bike per day", "value"])
    assert t.loc["bikes per 1,000 residents", "value"] == pytest.approx(500 / 5588.222)


def test_equivalent_coverage_km2_taipei():
    # 1,338 / 16 = 83.625 km²; 1,338 / 10 = 133.8 km²
    assert bs.equivalent_coverage_km2(1338) == pytest.approx((83.625, 133.8))


def test_existing_system_reads_inputs_and_nan_when_absent():
    inputs = pd.DataFrame(
        [
            {"role": "mentor", "field": "existing_stations", "value": 1338.0},
            {"role": "mentor", "field": "existing_bikes", "value": 16562.0},
            {"role": "mentor", "field": "existing_daily_trips", "value": float("nan")},
        ]
    )
    s = bs.existing_system(inputs, "mentor")
    assert s.stations == 1338 and s.documented
    assert math.isnan(s.trips_per_bike_day)
    assert not bs.existing_system(inputs, "learning").documented


def test_trip_length_km_fishman_melbourne():
    # Fishman et al. estimate km per trip at 12 km/h: 22.0 min × 12 / 60 = 4.4 km
    assert bs.trip_length_km(22.0, 12.0) == pytest.approx(4.4)


def test_annual_trips_hand_worked():
    # Taipei: 144,000 trips/day × 365 = 52,560,000 trips/yr (cities.md's extrapolation)
    assert bs.annual_trips(16562, 144000 / 16562) == pytest.approx(52_560_000)


def test_trip_rate_scenarios_sourced_values():
    # low = Melbourne 2012 (0.6); central and high = ITDP 4 and 8 trips/bike/day
    assert bs.trip_rate_scenarios().to_dict() == {"low": 0.6, "central": 4.0, "high": 8.0}


def test_demand_scenarios_hand_worked():
    # 2,000 bikes × 4 trips/day × 365 = 2,920,000 trips/yr; × 3.58 km = 10,453,600 bike-km/yr
    d = bs.demand_scenarios(2000, {"central": 4.0}, 3.58)
    assert d.loc["central", "daily_trips"] == pytest.approx(8000)
    assert d.loc["central", "annual_trips"] == pytest.approx(2_920_000)
    assert d.loc["central", "bike_km"] == pytest.approx(10_453_600)


def test_substitution_shares_remainder_is_new_or_other():
    # 1 − (0.12 + 0.05 + 0.10 + 0.30 + 0.25) = 0.18
    s = bs.substitution_shares(0.12, 0.05, 0.10, 0.30, 0.25)
    assert s["new_or_other"] == pytest.approx(0.18)
    assert s.sum() == pytest.approx(1.0)


def test_substitution_shares_over_one_raises():
    with pytest.raises(ValueError, match="add up to 1.100"):
        bs.substitution_shares(0.5, 0.1, 0.2, 0.2, 0.1)


def test_with_car_share_rescales_other_modes():
    # car 0.5 leaves 0.5 for the others, which held 0.70: each is scaled by 0.5 / 0.70;
    # taxi 0.05 × 0.714286 = 0.0357143; nothing is left for new trips
    s = bs.with_car_share(bs.substitution_shares(0.12, 0.05, 0.10, 0.30, 0.25), 0.5)
    assert s["car"] == 0.5
    assert s["taxi"] == pytest.approx(0.0357143, rel=1e-5)
    assert s["new_or_other"] == pytest.approx(0.0, abs=1e-12)


def test_with_car_share_keeps_others_when_room():
    s = bs.with_car_share(bs.substitution_shares(0.12, 0.05, 0.10, 0.30, 0.25), 0.2)
    assert s["bus"] == pytest.approx(0.30) and s["new_or_other"] == pytest.approx(0.10)


def _factors() -> pd.DataFrame:
    """Per vehicle-km factors by mode [g/km] (made-up, round numbers)."""
    return pd.DataFrame(
        {
            "PM2.5": [0.003, 0.003, 0.08, 0.05, 0.0],
            "NOx": [0.5, 0.5, 0.25, 6.8, 0.0],
            "CO2": [176.0, 176.0, 114.0, 1045.0, 0.0],
        },
        index=list(bs.SUBSTITUTED_MODES),
    )


# car, taxi, motorcycle, bus, walk: effective persons per vehicle-km (taxi 1.4 × (1 − 0.3))
OCCUPANCY = pd.Series([1.4, 0.98, 1.3, 35.0, 1.0], index=list(bs.SUBSTITUTED_MODES))
VKM_PER_PKM = pd.Series([1.0, 1 / 0.98, 1.0, 0.0, 0.0], index=list(bs.SUBSTITUTED_MODES))


def test_substitution_credit_car_is_one_trip_bus_none():
    # Fishman et al. (2014) count a replaced car trip as one car trip and no bus-km;
    # both decisions carry that publication as their source.
    c = bs.substitution_credit()
    assert list(c.index) == list(bs.SUBSTITUTED_MODES)
    assert c.loc["car", "credit"] == "vehicle_trip" and c.loc["bus", "credit"] == "none"
    for mode in ("car", "bus"):
        assert "Fishman" in c.loc[mode, "source"] and c.loc[mode, "quality"] == "secondary"


def test_vehicle_km_per_pkm_car_one_taxi_occupancy_bus_zero():
    # car 1 (not 1 / 1.4 = 0.714); taxi 1 / 0.98 = 1.0204; motorcycle 1; bus 0; walk 0
    got = bs.vehicle_km_per_pkm(OCCUPANCY)
    assert got.to_numpy() == pytest.approx([1.0, 1.0204082, 1.0, 0.0, 0.0], rel=1e-6)


def test_avoided_emissions_hand_worked():
    # 1,000,000 bike-km; 10 % replace car trips → 100,000 car pkm = 100,000 car-km (one car
    # trip per replaced trip); CO2 = 100,000 km × 176 g/km = 17.6 t; NOx = × 0.5 g = 0.05 t
    # rebalancing: 10,000 van-km × 230 g = 2.3 t CO2; × 1.07 g = 0.0107 t NOx
    # net CO2 = 17.6 − 2.3 = 15.3 t/yr
    shares = bs.substitution_shares(0.10, 0, 0, 0, 0)
    van = pd.Series({"PM2.5": 0.11, "NOx": 1.07, "CO2": 230.0})
    out = bs.avoided_emissions(1_000_000, shares, _factors(), 10_000, van, VKM_PER_PKM)
    assert out.loc["car", "vehicle_km"] == pytest.approx(100_000)
    assert out.loc["car", "CO2"] == pytest.approx(17.6)
    assert out.loc["car", "NOx"] == pytest.approx(0.05)
    assert out.loc["rebalancing", "CO2"] == pytest.approx(-2.3)
    assert out.loc["net", "CO2"] == pytest.approx(15.3)
    assert out.loc["net", "NOx"] == pytest.approx(0.05 - 0.0107)


def test_avoided_emissions_bus_rides_earn_no_credit():
    # 30 % of 1,000,000 bike-km replace bus rides: 300,000 pkm, but the buses keep running:
    # 0 bus-km and 0 t avoided (before the decision: 300,000 / 35 × 1,045 g = 8.96 t CO2).
    shares = bs.substitution_shares(0, 0, 0, 0.30, 0)
    van = pd.Series({"PM2.5": 0.0, "NOx": 0.0, "CO2": 0.0})
    out = bs.avoided_emissions(1_000_000, shares, _factors(), 0, van, VKM_PER_PKM)
    assert out.loc["bus", "pkm"] == pytest.approx(300_000)
    assert out.loc["bus", "vehicle_km"] == 0
    assert out.loc["net", ["PM2.5", "NOx", "CO2"]].eq(0).all()


def test_avoided_emissions_taxi_at_effective_occupancy():
    # 5 % of 1,000,000 bike-km replace taxi rides: 50,000 pkm / 0.98 = 51,020.4 taxi-km;
    # × 176 g/km = 8.9796 t CO2
    shares = bs.substitution_shares(0, 0.05, 0, 0, 0)
    van = pd.Series({"PM2.5": 0.0, "NOx": 0.0, "CO2": 0.0})
    out = bs.avoided_emissions(1_000_000, shares, _factors(), 0, van, VKM_PER_PKM)
    assert out.loc["taxi", "vehicle_km"] == pytest.approx(51_020.41, rel=1e-6)
    assert out.loc["taxi", "CO2"] == pytest.approx(8.979592, rel=1e-6)


def test_avoided_emissions_walk_avoids_nothing():
    shares = bs.substitution_shares(0, 0, 0, 0, 1.0)
    van = pd.Series({"PM2.5": 0.0, "NOx": 0.0, "CO2": 0.0})
    out = bs.avoided_emissions(1_000_000, shares, _factors(), 0, van, VKM_PER_PKM)
    assert out.loc["walk", "vehicle_km"] == 0
    assert out.loc["net", ["PM2.5", "NOx", "CO2"]].eq(0).all()


def test_avoided_emissions_low_car_share_heavy_rebalancing_is_net_increase():
    # Fishman et al.'s London case: 2 % car substitution and heavy rebalancing raise
    # motor-vehicle km. 1,000,000 bike-km × 2 % = 20,000 car-km < 100,000 van-km.
    shares = bs.substitution_shares(0.02, 0, 0, 0, 0)
    vkm_factors, vkm_per_pkm, van = bs.replaced_trip_factors(0.5)
    out = bs.avoided_emissions(1_000_000, shares, vkm_factors, 100_000, van, vkm_per_pkm)
    assert out.loc["car", "vehicle_km"] == pytest.approx(20_000)
    assert out.loc["net", "vehicle_km"] == pytest.approx(-80_000)
    assert out.loc["net", "CO2"] < 0


def test_mode_vehicle_factors_are_the_default_vehicles():
    f = bs.mode_vehicle_factors(0.5)
    vkm = transport.vehicle_factors(0.5)
    for mode in bs.SUBSTITUTED_MODES:
        vehicle = transport.DEFAULT_VEHICLES[mode]
        assert f.loc[mode, "vehicle"] == vehicle
        assert f.loc[mode, "CO2"] == pytest.approx(vkm.loc[vehicle, "CO2"])


def test_heat_parameters_cycling():
    assert bs.heat_parameters() == {
        "relative_risk": 0.90,
        "reference_minutes_per_week": 100.0,
        "risk_reduction_cap": 0.45,
    }


def test_heat_cycling_hand_worked_taipei():
    # 52,560,000 trips/yr ÷ (365/7 weeks × 4 trips/week) = 252,000 users;
    # 4 × 17.9 = 71.6 min/week → risk reduction 0.10 × 71.6/100 = 0.0716 (below the cap);
    # deaths = 252,000 × 272/100,000 × 0.0716 = 49.0775/yr; × EUR 2,891,447 = EUR 141.905 M/yr
    h = bs.heat_cycling(52_560_000, 17.9, 4, 272, 2_891_447)
    assert h.users == pytest.approx(252_000)
    assert h.minutes_per_user_week == pytest.approx(71.6)
    assert h.risk_reduction == pytest.approx(0.0716)
    assert h.deaths_avoided == pytest.approx(49.0775, rel=1e-5)
    assert h.value == pytest.approx(141_905_002, rel=1e-6)
    assert not h.capped


def test_heat_cycling_cap_binds():
    # 30 trips × 20 min = 600 min/week → 0.10 × 6 = 0.60 > cap 0.45
    h = bs.heat_cycling(1_000_000, 20, 30, 272, 1.0)
    assert h.capped and h.risk_reduction == pytest.approx(0.45)


def test_heat_cycling_uncapped_depends_only_on_total_minutes():
    # linear dose-response: N × m × 0.001 × x = m × 0.001 × total minutes/week
    a = bs.heat_cycling(1_000_000, 20, 2, 272, 1.0)
    b = bs.heat_cycling(1_000_000, 20, 8, 272, 1.0)
    assert a.deaths_avoided == pytest.approx(b.deaths_avoided)


def test_heat_cycling_zero_trips_per_user_raises():
    with pytest.raises(ValueError, match="trips_per_user_week"):
        bs.heat_cycling(1_000, 20, 0, 272, 1.0)


def test_heat_input_table_flags_sourced_and_assumed():
    city = pd.DataFrame(
        {
            "value": [17.9, 4.0, 272.0, 4_623_094.0],
            "unit": ["min", "trips/week", "deaths per 100000 per yr", "EUR"],
            "quality": ["assumed", "assumed", "assumed", "secondary"],
            "source": ["Fishman", "unsourced estimate: x", "HEAT", "HEAT USA"],
        },
        index=["trip_minutes", "trips_per_user_week", "mortality_rate_per_100k", "vsl"],
    )
    t = bs_views.heat_input_table(city)
    assert t.loc["relative_risk", "basis"] == "sourced"
    assert t.loc["risk_reduction_cap", "basis"] == "assumed"
    assert t.loc["vsl", "basis"] == "sourced"
    assert t.loc["mortality_rate_per_100k", "basis"] == "assumed"


def test_station_layout_grid():
    # 10 km² square: side √10 = 3.1623 km; 16/km² → 250 m spacing; 3162.3/250 = 12.65 → 13
    # per side, 169 stations (≈ 160 = 10 × 16); catchment 250/√2 = 176.78 m
    lay = bs.station_layout(10, 16)
    assert lay.side_km == pytest.approx(3.16228, rel=1e-5)
    assert len(lay.stations) == 169
    assert lay.catchment_m == pytest.approx(176.777, rel=1e-5)
    assert lay.stations["x_km"].between(0, lay.side_km).all()


def test_station_layout_tiny_area_one_station():
    assert len(bs.station_layout(0.01, 10).stations) == 1


def test_plot_functions_return_figures():
    table = bs.sizing_table(10, 10_000, 13, 20, 2.25)
    d = bs.demand_scenarios(2000, bs.trip_rate_scenarios(), 3.58)
    shares = bs.substitution_shares(0.12, 0.05, 0.10, 0.30, 0.25)
    vkm_factors, vkm_per_pkm, van = bs.replaced_trip_factors(0.5)
    avoided = bs.avoided_emissions(1e7, shares, vkm_factors, 2e5, van, vkm_per_pkm)
    figs = [
        bs_views.plot_station_layouts({"a": bs.station_layout(10, 13)}),
        bs_views.plot_sizing({"a": table, "b": table}, {"a": TAIPEI, "b": bs.ExistingSystem()}),
        bs_views.plot_demand({"a": d}),
        bs_views.plot_avoided_emissions({"a": avoided, "b": avoided}),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        plt.close(fig)


def _city(**own) -> pd.DataFrame:
    """One city's bike-sharing inputs: the field-table defaults, overridden by ``own``."""
    f = FIELDS
    values = f["default"].astype(float).copy()
    for k, v in own.items():
        values[k] = v
    return pd.DataFrame({"value": values, "unit": f["unit"], "quality": "assumed", "source": "t"})


def test_assess_city_taipei_hand_worked():
    # density 2,488,043 / 271.8 = 9,153.95 /km²; 10 km² × 9,153.95 × 20/1000 = 1,830.79 bikes;
    # calibrated central rate 144,000 / 16,562 = 8.6946 trips/bike/day (not ITDP's 4):
    # 1,830.79 × 8.6946 × 365 = 5,810,065 trips/yr.
    # documented: 144,000 × 365 = 52,560,000 trips/yr on 16,562 documented bikes;
    # HEAT 49.0775 deaths/yr (see test_heat_cycling_hand_worked_taipei)
    city = _city(existing_stations=1338, existing_bikes=16562, existing_daily_trips=144000)
    a = bs.assess_city(city, 2_488_043, 271.8, 0.494, bs.Plan())
    assert a.plan.fleet == pytest.approx(1830.79, rel=1e-5)
    assert a.trips_per_bike_day == pytest.approx(8.694602, rel=1e-6)
    assert a.rate_basis.startswith("observed")
    assert a.demand.loc["central", "trips_per_bike_day"] == pytest.approx(8.694602, rel=1e-6)
    assert a.plan.annual_trips == pytest.approx(5_810_065, rel=1e-6)
    assert a.observed.annual_trips == pytest.approx(52_560_000)
    assert a.observed.fleet == 16562 and a.observed.fleet_basis == "documented"
    assert a.observed.heat.deaths_avoided == pytest.approx(49.0775, rel=1e-5)
    # rebalancing 16,562 bikes × 100 van-km = 1,656,200 van-km/yr
    assert a.observed.avoided.loc["rebalancing", "vehicle_km"] == pytest.approx(-1_656_200)
    assert list(a.demand.index) == ["low", "central", "high"]


def test_assess_city_without_calibration_uses_the_benchmark():
    # Plan(calibrate=False): 1,830.79 bikes × 4 × 365 = 2,672,953 trips/yr
    city = _city(existing_stations=1338, existing_bikes=16562, existing_daily_trips=144000)
    plan = bs.Plan(calibrate=False)
    a = bs.assess_city(city, 2_488_043, 271.8, 0.494, plan)
    assert a.trips_per_bike_day == 4.0 and a.rate_basis.startswith("scenario")
    assert a.plan.annual_trips == pytest.approx(2_672_953, rel=1e-6)


def test_central_trip_rate_needs_trips_and_fleet():
    # trips without a fleet (or a fleet without trips) give no observed rate: the plan's 4
    assert bs.central_trip_rate(bs.ExistingSystem(daily_trips=37500), bs.Plan())[0] == 4.0
    assert bs.central_trip_rate(bs.ExistingSystem(bikes=500), bs.Plan())[0] == 4.0
    # Kaohsiung 2025: 59,200 trips a day on 13,000 bikes = 4.5538 trips/bike/day
    rate, basis = bs.central_trip_rate(bs.ExistingSystem(bikes=13000, daily_trips=59200), bs.Plan())
    assert rate == pytest.approx(4.553846, rel=1e-6) and basis.startswith("observed")


def test_assess_city_coverage_density_input_sizes_the_core():
    # a 10 km² core at 25,000 persons/km² (given) instead of the city-wide 9,153.95:
    # 10 × 25,000 × 20 / 1000 = 5,000 bikes; 5,000 × 4 × 365 = 7,300,000 trips/yr
    city = _city(coverage_density_per_km2=25_000)
    a = bs.assess_city(city, 2_488_043, 271.8, 0.494, bs.Plan())
    assert a.density == 25_000 and a.density_basis.startswith("city input")
    assert a.sizing.loc["residents covered", "plan"] == pytest.approx(250_000)
    assert a.plan.fleet == pytest.approx(5_000)
    assert a.plan.annual_trips == pytest.approx(7_300_000)
    rows = bs_views.assumption_rows(bs.Plan(), {"taipei": a})
    assert not any(r["input"] == "population density of the coverage area" for r in rows)


def test_assess_city_density_falls_back_to_city_average():
    a = bs.assess_city(_city(), 935_084, 492.5, 0.453, bs.Plan())
    assert a.density == pytest.approx(935_084 / 492.5)
    assert a.density_basis.startswith("city-wide")
    rows = bs_views.assumption_rows(bs.Plan(), {"kitakyushu": a})
    row = next(r for r in rows if r["input"] == "population density of the coverage area")
    assert row["city"] == "kitakyushu" and row["value"] == pytest.approx(1898.65, rel=1e-5)


def test_assess_city_bus_share_changes_health_not_emissions():
    # the bus decision: moving 30 % of trips from "new or other" to "bus" leaves the
    # emissions avoided unchanged and the health benefit (all trips) unchanged too
    no_bus = bs.assess_city(_city(substitution_bus=0.0), 935_084, 492.5, 0.453, bs.Plan())
    bus = bs.assess_city(_city(substitution_bus=0.30), 935_084, 492.5, 0.453, bs.Plan())
    cols = ["vehicle_km", "PM2.5", "NOx", "CO2"]
    net = [a.plan.avoided.loc["net", cols] for a in (no_bus, bus)]
    pd.testing.assert_series_equal(*net)
    assert bus.plan.heat.deaths_avoided == no_bus.plan.heat.deaths_avoided
    assert bus.plan.avoided.loc["bus", "pkm"] > 0


def test_assess_city_fleet_estimated_from_trips():
    # Kaohsiung: 37,500 trips/day, no documented fleet → 37,500 / 4 = 9,375 bikes estimated
    city = _city(existing_stations=1200, existing_daily_trips=37500)
    a = bs.assess_city(city, 2_737_660, 2951.85, 0.494, bs.Plan())
    assert a.observed.fleet == pytest.approx(9375)
    assert a.observed.fleet_basis.startswith("estimated")
    rows = bs_views.assumption_rows(bs.Plan(), {"kaohsiung": a})
    assert any(r["input"] == "documented system fleet" and r["value"] == 9375 for r in rows)


def test_assess_city_undocumented_has_no_observed():
    a = bs.assess_city(_city(), 935_084, 492.5, 0.453, bs.Plan())
    assert a.observed is None and not a.existing.documented


def test_results_table_and_metrics():
    taipei = bs.assess_city(
        _city(existing_stations=1338, existing_bikes=16562, existing_daily_trips=144000),
        2_488_043,
        271.8,
        0.494,
        bs.Plan(),
    )
    kitakyushu = bs.assess_city(_city(), 935_084, 492.5, 0.453, bs.Plan())
    table = bs_views.results_table({"Taipei": taipei, "Kitakyushu": kitakyushu})
    assert table.loc[("documented system", "annual trips"), "Taipei"] == pytest.approx(52_560_000)
    assert math.isnan(table.loc[("documented system", "annual trips"), "Kitakyushu"])
    m = bs_views.metrics({"taipei": taipei, "kitakyushu": kitakyushu})
    assert m["metric"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    co2 = m[(m["metric"] == "avoided_emissions") & (m["pollutant"] == "CO2")]
    assert set(co2["scope"]) == {"planned", "documented"}
    assert not ((m["city"] == "kitakyushu") & (m["scope"] == "documented")).any()


def test_health_table_observed_nan_when_undocumented():
    a = bs.assess_city(_city(), 935_084, 492.5, 0.453, bs.Plan())
    t = bs_views.health_table({"x": a}, "observed")
    assert t["x"].isna().all()
    assert bs_views.health_table({"x": a}).loc["deaths avoided", "x"] > 0


def test_compare_side_by_side():
    t = bs.sizing_table(10, 10_000, 13, 20, 2.25)
    out = bs_views.compare({"a": t, "b": t}, "plan", keep=("unit",))
    assert list(out.columns) == ["a", "b", "unit"]
    assert out.loc["stations", "b"] == pytest.approx(130)


def test_what_if_returns_chart_and_table():
    # 1,000 bikes × 4 × 365 = 1,460,000 trips; × 3.58 km = 5,226,800 bike-km;
    # car share 0.2 → 1,045,360 car pkm = 1,045,360 car-km (one car trip per replaced trip)
    fig, table = bs_views.what_if(_city(), 0.5, 1000, 4.0, 0.2)
    assert table.loc["annual trips", "value"] == pytest.approx(1_460_000)
    assert table.loc["car-km avoided", "value"] == pytest.approx(1_045_360, rel=1e-6)
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)


def test_assumption_rows_transport_all_unsourced():
    rows = transport_views.assumption_rows(("car", "taxi"))
    assert {r["input"] for r in rows} == {"car occupancy", "taxi occupancy", "taxi empty_share"}
    assert all(r["source"].startswith("unsourced estimate") for r in rows)
