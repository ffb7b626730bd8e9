"""Low-emission urban development: ASIF baseline, levers, trajectories and Shapley wedges."""

from __future__ import annotations

import matplotlib.figure
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from c3lib.reference import field_table, reference_table
from c3lib.topics.transport.model import MODES
from c3lib.topics.urban import model as urban
from c3lib.topics.urban import views as urban_views

FIELDS = field_table("low-emission-development")
ONLY_CAR = {"car": 1, "taxi": 0, "motorcycle": 0, "public_transport": 0, "bicycle": 0, "walk": 0}
DEFAULT_SHARES = {k: FIELDS.loc[f"share_{k}", "default"] for k in ONLY_CAR}


def city(shares=ONLY_CAR, growth=0.0, grid=0.5, population=1_000_000, pkm=5_000, bus_pt=0.6):
    s = urban.mode_shares(shares, fixed=list(shares), bus_share_of_public_transport=bus_pt)
    return urban.CityTransport(population, pkm, s, growth, grid, 4)


def total(df: pd.DataFrame, year: int, pollutant: str) -> float:
    return float(df.loc[df["year"] == year, pollutant].sum())


def test_lez_effects_table_says_what_each_row_measures():
    df = urban.lez_effects()
    assert set(df["measure"]) == {"emissions", "concentration"}
    conc = df[df["measure"] == "concentration"]
    assert conc["applies_to"].str.contains("concentration").all()
    assert df[df["measure"] == "emissions"]["applies_to"].str.contains("emissions").all()
    assert reference_table("urban_lez_effects")["source"].str.len().gt(0).all()


def test_lez_emission_effect_london_ulez():
    # GLA (2019) central London ULEZ six-month report: road-transport NOx −31 %, CO2 −4 %
    # against the no-ULEZ counterfactual; GLA (2024) London-wide ULEZ six-month report:
    # PM2.5 of cars and vans in outer London −20 %. No concentration row is used.
    assert urban.lez_emission_effect() == {
        "PM2.5": pytest.approx(0.20),
        "NOx": pytest.approx(0.31),
        "CO2": pytest.approx(0.04),
    }


def test_lez_indicative_change_hand_worked():
    # 20 µg/m³ × −13.0 % = −2.6 µg/m³ (traffic site); × −4.5 % = −0.9 µg/m³ (background)
    df = urban.lez_indicative_change(20.0).set_index(["site", "period"])
    assert df.loc[("traffic", "annual"), "indicative_change"] == pytest.approx(-2.6)
    assert df.loc[("urban background", "annual"), "indicative_change"] == pytest.approx(-0.9)


def test_field_default_shares_add_to_one():
    # 0.40 + 0.05 + 0.20 + 0.30 + 0.02 + 0.03 = 1.00
    assert sum(DEFAULT_SHARES.values()) == pytest.approx(1.0)


# shares of passenger-km (car 40, taxi 5, motorcycle 20, public transport 30, bicycle 2, walk 3 %)
SHARES = {
    "car": 0.40,
    "taxi": 0.05,
    "motorcycle": 0.20,
    "public_transport": 0.30,
    "bicycle": 0.02,
    "walk": 0.03,
}


def test_mode_shares_rescales_defaults_around_city_value():
    # Kaohsiung: public transport 6.6 % is the city's own; the other shares (0.70 in
    # all) fill 1 − 0.066 = 0.934, each × 0.934/0.70 = 1.334286: car 0.40 → 0.533714.
    # Public transport splits 60/40: bus 0.0396, rail 0.0264; BRT 0.
    given = {**SHARES, "public_transport": 0.066}
    s = urban.mode_shares(given, fixed=["public_transport"])
    assert s["car"] == pytest.approx(0.533714, rel=1e-5)
    assert s["bus"] == pytest.approx(0.0396)
    assert s["rail"] == pytest.approx(0.0264)
    assert s["brt"] == 0
    assert s.sum() == pytest.approx(1.0)
    assert list(s.index) == list(MODES)


def test_mode_shares_all_fixed_must_add_to_one():
    with pytest.raises(ValueError, match="add up to 0.900"):
        urban.mode_shares({**ONLY_CAR, "car": 0.9}, fixed=list(ONLY_CAR))


def test_mode_shares_fixed_over_one_raises():
    with pytest.raises(ValueError, match="own mode shares add up to 1.200"):
        urban.mode_shares({**DEFAULT_SHARES, "car": 0.7, "motorcycle": 0.5}, ["car", "motorcycle"])


def test_mode_shares_out_of_range_raises():
    with pytest.raises(ValueError, match="within 0–1"):
        urban.mode_shares({**DEFAULT_SHARES, "car": -0.1})


def test_asif_car_only_hand_worked():
    # A = 1,000,000 × 5,000 = 5e9 pkm; car-km = 5e9 / 1.4 = 3.5714e9;
    # CO2 = 3.5714e9 × 176 g / 1e6 = 628,571 t; NOx = 3.5714e9 × 0.500484 g / 1e6 = 1,787.44 t
    b = urban.asif(city())
    assert b.loc["car", "pkm"] == pytest.approx(5e9)
    assert b.loc["car", "vehicle_km"] == pytest.approx(3.5714286e9)
    assert b.loc["car", "CO2"] == pytest.approx(628_571.4, rel=1e-6)
    assert b.loc["car", "NOx"] == pytest.approx(1_787.44, rel=1e-5)


def test_asif_bus_hand_worked():
    # half car, half bus (public transport all bus): bus 2.5e9 pkm / 35 = 71.43e6 bus-km;
    # CO2 = 71.43e6 × 1,044.81 g / 1e6 = 74,629.3 t; NOx = 71.43e6 × 6.77 / 1e6 = 483.571 t
    b = urban.asif(city({**ONLY_CAR, "car": 0.5, "public_transport": 0.5}, bus_pt=1.0))
    assert b.loc["bus", "CO2"] == pytest.approx(74_629.29, rel=1e-6)
    assert b.loc["bus", "NOx"] == pytest.approx(483.571, rel=1e-5)
    assert b.loc["rail", "pkm"] == 0


def test_asif_rail_uses_grid():
    # all rail, 1e9 pkm: 1e9 / 250 = 4e6 train-km × 25 kWh × 0.5 kg/kWh = 50,000 t CO2
    # (0.1 kWh/pkm × 0.5 kg/kWh = 50 g/pkm); no exhaust
    c = city({**ONLY_CAR, "car": 0, "public_transport": 1}, pkm=1_000, bus_pt=0.0)
    b = urban.asif(c)
    assert b.loc["rail", "CO2"] == pytest.approx(50_000)
    assert b[["PM2.5", "NOx"]].sum().sum() == 0


def test_ramp_linear_and_clipped():
    assert urban.ramp(2030, 2025, 2035) == pytest.approx(0.5)
    assert urban.ramp(2040, 2025, 2035) == 1.0
    assert urban.ramp(2020, 2025, 2035) == 0.0


def test_ramp_target_before_base_raises():
    with pytest.raises(ValueError, match="after base year"):
        urban.ramp(2030, 2035, 2025)


def test_emissions_bau_growth():
    # 2 % a year for 5 years: × 1.02^5 = 1.104081
    df = urban.emissions(city(growth=0.02), urban.Levers(), [2025, 2030], 2025, 2035)
    assert total(df, 2030, "CO2") / total(df, 2025, "CO2") == pytest.approx(1.104081, rel=1e-6)


def test_emissions_avoid_lever():
    # avoid 10 % at the target year, 2 % growth: × 1.02^10 × 0.9 = 1.097096
    df = urban.emissions(city(growth=0.02), urban.Levers(avoid=0.1), [2025, 2035], 2025, 2035)
    assert total(df, 2035, "CO2") / total(df, 2025, "CO2") == pytest.approx(1.097096, rel=1e-6)


def test_emissions_shift_moves_private_pkm():
    # car-only city, shift 20 % to rail by 2035, half of it by 2030: car 0.9, rail 0.1
    lev = urban.Levers(shift=0.2, shift_to={"rail": 1.0})
    df = urban.emissions(city(), lev, [2030, 2035], 2025, 2035).set_index(["year", "mode"])
    assert df.loc[(2030, "car"), "pkm"] == pytest.approx(0.9 * 5e9)
    assert df.loc[(2035, "rail"), "pkm"] == pytest.approx(0.2 * 5e9)
    assert df.xs(2035)["pkm"].sum() == pytest.approx(5e9)


def test_emissions_ev_car_hand_worked():
    # 50 % electric cars: NOx halves; CO2 per car-km = 0.5 × 176 + 0.5 × 0.18 × 0.5 × 1000 = 133
    df = urban.emissions(city(), urban.Levers(ev_car=0.5), [2025, 2035], 2025, 2035)
    assert total(df, 2035, "NOx") == pytest.approx(0.5 * total(df, 2025, "NOx"))
    assert total(df, 2035, "CO2") == pytest.approx(5e9 / 1.4 * 133 / 1e6)


def test_emissions_bus_euro6_upgrade():
    # all-bus city at Euro IV, every bus upgraded to Euro VI by the target:
    # NOx per bus-km 6.77 → 0.55 g
    c = city({**ONLY_CAR, "car": 0, "public_transport": 1}, bus_pt=1.0)
    df = urban.emissions(c, urban.Levers(bus_euro6=1.0), [2025, 2035], 2025, 2035)
    assert total(df, 2035, "NOx") / total(df, 2025, "NOx") == pytest.approx(0.55 / 6.77)


def test_emissions_lez_hand_worked():
    # half the vehicle-km in the zone: PM2.5 × (1 − 0.5 × 0.20) = 0.90,
    # NOx × (1 − 0.5 × 0.31) = 0.845, CO2 × (1 − 0.5 × 0.04) = 0.98
    df = urban.emissions(city(), urban.Levers(lez_vkm_share=0.5), [2025, 2035], 2025, 2035)
    assert total(df, 2035, "PM2.5") / total(df, 2025, "PM2.5") == pytest.approx(0.90)
    assert total(df, 2035, "NOx") / total(df, 2025, "NOx") == pytest.approx(0.845)
    assert total(df, 2035, "CO2") / total(df, 2025, "CO2") == pytest.approx(0.98)


def test_levers_out_of_range_raises():
    with pytest.raises(ValueError, match="avoid"):
        urban.Levers(avoid=1.5)


def test_levers_unknown_shift_target_raises():
    with pytest.raises(ValueError, match="ferry"):
        urban.Levers(shift_to={"ferry": 1.0})


def test_levers_only_zeroes_other_groups():
    lev = urban.Levers(avoid=0.1, shift=0.2, ev_car=0.3, bus_euro6=1.0, lez_vkm_share=0.1)
    only = lev.only(["improve"])
    assert (only.avoid, only.shift, only.lez_vkm_share) == (0, 0, 0)
    assert (only.ev_car, only.bus_euro6) == (0.3, 1.0)


def test_scenario_set_names():
    assert list(urban.scenario_set(urban.Levers())) == [
        "BAU",
        "Avoid",
        "Shift",
        "Improve",
        "LEZ",
        "Combined",
    ]


def test_wedges_two_interacting_levers_shapley_hand_worked():
    # Car-only city, no growth, NOx N in the target year.
    # Shift 50 % to cycling alone: 0.5 N left; 50 % electric cars alone: 0.5 N left;
    # both: 0.25 N left. Shapley: shift = ½[(N − 0.5N) + (0.5N − 0.25N)] = 0.375 N;
    # improve likewise 0.375 N; together 0.75 N = N − 0.25 N.
    lev = urban.Levers(shift=0.5, shift_to={"bicycle": 1.0}, ev_car=0.5)
    c = city()
    w = urban.wedges(c, lev, 2025, 2035)
    w = w[(w["year"] == 2035) & (w["pollutant"] == "NOx")].set_index("lever")["reduction"]
    n = urban.asif(c)["NOx"].sum()
    assert w["shift"] == pytest.approx(0.375 * n)
    assert w["improve"] == pytest.approx(0.375 * n)
    assert w["avoid"] == 0 and w["lez"] == 0


def test_wedges_add_up_to_bau_minus_combined():
    c = city({**DEFAULT_SHARES}, growth=0.02)
    lev = urban.Levers(
        avoid=0.1,
        shift=0.2,
        ev_car=0.3,
        ev_motorcycle=0.5,
        ev_bus=0.5,
        bus_euro6=1.0,
        lez_vkm_share=0.1,
    )
    traj = urban.trajectories(c, urban.scenario_set(lev), 2025, 2035)
    w = urban.wedges(c, lev, 2025, 2035)
    gap = traj.pivot_table(index=["year", "pollutant"], columns="scenario", values="emissions")
    gap = gap["BAU"] - gap["Combined"]
    summed = w.groupby(["year", "pollutant"])["reduction"].sum()
    assert summed.to_numpy() == pytest.approx(gap.reindex(summed.index).to_numpy())
    assert summed.xs(2025, level="year").abs().max() == pytest.approx(0)


def test_wedges_single_lever_is_its_own_effect():
    c = city({**DEFAULT_SHARES})
    lev = urban.Levers(avoid=0.2)
    w = urban.wedges(c, lev, 2025, 2030)
    w = w[(w["year"] == 2030) & (w["pollutant"] == "CO2")].set_index("lever")["reduction"]
    # avoid 20 %, no growth: 0.2 × baseline CO2
    assert w["avoid"] == pytest.approx(0.2 * urban.asif(c)["CO2"].sum())
    assert w.drop("avoid").abs().sum() == pytest.approx(0)


def test_target_check_hand_worked():
    traj = pd.DataFrame(
        {
            "scenario": ["BAU", "Combined", "BAU", "Combined"],
            "year": [2035] * 4,
            "pollutant": ["CO2", "CO2", "NOx", "NOx"],
            "emissions": [100.0, 65.0, 10.0, 8.0],
        }
    )
    # CO2: 1 − 65/100 = 35 % ≥ 30 % target (70); NOx: 20 % < 30 % (target 7)
    t = urban.target_check(traj, 2035, 0.30)
    assert t.loc["CO2", "reduction"] == pytest.approx(0.35)
    assert t.loc["CO2", "met"] and not t.loc["NOx", "met"]
    assert t.loc["NOx", "target"] == pytest.approx(7.0)


def test_indicators_shift_and_ev():
    # car-only, shift 20 % to rail by the target: public-transport share 0.2, private 0.8
    lev = urban.Levers(shift=0.2, shift_to={"rail": 1.0}, ev_car=0.4)
    ind = urban.indicators(city(), lev, 2035, 2025, 2035)
    assert ind["public_transport_share"] == pytest.approx(0.2)
    assert ind["private_share"] == pytest.approx(0.8)
    assert ind["ev_share_car"] == pytest.approx(0.4)
    assert ind["pkm_per_capita"] == pytest.approx(5000)


def test_plot_functions_return_figures():
    c = city({**DEFAULT_SHARES}, growth=0.02)
    lev = urban.Levers(avoid=0.1, shift=0.2, ev_car=0.3, lez_vkm_share=0.1)
    traj = urban.trajectories(c, urban.scenario_set(lev), 2025, 2030)
    w = urban.wedges(c, lev, 2025, 2030)
    base = urban.asif(c)
    figs = [
        urban_views.plot_baseline({"a": base, "b": base}),
        urban_views.plot_trajectories({"a": traj, "b": traj}),
        urban_views.plot_wedges({"a": (traj, w), "b": (traj, w)}, "PM2.5"),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        plt.close(fig)


def _inputs(**own) -> pd.DataFrame:
    values = FIELDS["default"].astype(float).copy()
    is_own = pd.Series(False, index=FIELDS.index)
    for k, v in own.items():
        values[k] = v
        is_own[k] = True
    return pd.DataFrame({"value": values, "own": is_own})


def test_city_transport_keeps_own_share():
    # Kaohsiung's own 6.6 % public transport is kept; the defaulted shares are rescaled to
    # fill 1 − 0.066 = 0.934 in their own proportions (whatever the field table's defaults)
    c = urban.city_transport(_inputs(share_public_transport=0.066), 2_737_660, 0.494)
    assert c.shares[["bus", "rail"]].sum() == pytest.approx(0.066)
    others = {k: v for k, v in DEFAULT_SHARES.items() if k != "public_transport"}
    expected_car = DEFAULT_SHARES["car"] * 0.934 / sum(others.values())
    assert c.shares["car"] == pytest.approx(expected_car, rel=1e-5)
    assert c.pkm == pytest.approx(2_737_660 * 5000)
    assert c.bus_euro_stage == 4


def test_results_table_and_metrics():
    c = urban.city_transport(_inputs(), 1_000_000, 0.5)
    lev = urban.Levers(avoid=0.1, shift=0.2, ev_car=0.3)
    traj = urban.trajectories(c, urban.scenario_set(lev), 2025, 2030)
    chk = urban.target_check(traj, 2030, 0.3)
    w = urban.wedges(c, lev, 2025, 2030)
    base = urban.asif(c)
    t = urban_views.results_table({"x": base}, {"x": chk}, {"x": w}, 2030)
    assert t.loc[("CO2", "base year"), "x"] == pytest.approx(base["CO2"].sum())
    wedge_sum = sum(t.loc[("CO2", f"wedge: {g}"), "x"] for g in urban.LEVER_GROUPS)
    assert wedge_sum == pytest.approx(chk.loc["CO2", "BAU"] - chk.loc["CO2", "Combined"])
    m = urban_views.metrics({"x": base}, {"x": chk}, {"x": w}, 2030)
    assert m["metric"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert set(m["pollutant"].dropna()) == {"PM2.5", "NOx", "CO2"}
    shares = m[m["metric"] == "mode_share"].set_index("scope")["value"]
    assert shares[["private-vehicles", "taxi", "public-transport", "bicycle", "walk"]].sum() == (
        pytest.approx(1.0)
    )
    assert set(m.loc[m["metric"] == "lever_reduction", "scope"]) == set(urban.LEVER_GROUPS)


def test_lever_table_normalises_shift_weights():
    t = urban_views.lever_table(urban.Levers(shift_to={"bus": 2.0, "rail": 2.0})).set_index("lever")
    assert t.loc["shift_to_bus", "value"] == pytest.approx(0.5)
    assert t.loc["shift_to_walk", "value"] == 0


def test_what_if_returns_chart_and_table():
    c = urban.city_transport(_inputs(), 1_000_000, 0.5)
    fig, table = urban_views.what_if(c, urban.Levers(), 2025, 2030, 0.2, 0.3, 0.5, 0.5)
    assert (table["reduction (fraction)"] > 0).all()
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)


def test_assumption_rows_name_the_lez_emission_effects():
    rows = urban_views.assumption_rows(urban.Levers(lez_vkm_share=0.1), 2025, 2035)
    nox = next(r for r in rows if r["input"] == "LEZ effect on in-zone NOx emissions")
    assert nox["value"] == pytest.approx(0.31)
    assert "Greater London Authority" in nox["source"]
    assert not any("PM10" in r["input"] for r in rows)
    assert any(r["input"] == "fleet turnover" for r in rows)


# --- fleet turnover ---------------------------------------------------------------------


def test_stage_in_force_steps_with_the_schedule():
    # Viet Nam: Euro 4 from 2017, Euro 5 from 2022, no Euro 6; before 2017 taken as Euro 3
    years = (2017, 2022, None)
    assert [urban.stage_in_force(y, years) for y in (2016, 2017, 2021, 2022, 2040)] == [
        3,
        4,
        4,
        5,
        5,
    ]


def test_car_nox_limits_from_eu_law():
    # Directive 98/69/EC: Euro 3 0.15, Euro 4 0.08 g/km; Regulation 715/2007: 0.060 g/km
    assert urban.car_nox_limits() == {3: 0.15, 4: 0.08, 5: 0.06, 6: 0.06}


def test_fleet_factors_car_hand_worked():
    # renewal 4 years, Euro 4 from 2024, Euro 5 from 2026, base year 2025.
    # 2025 fleet: cohorts 2022–2025 at Euro 3, 3, 4, 4 → mean limit (0.15+0.15+0.08+0.08)/4
    # = 0.115 g/km; 2027: cohorts 2024–2027 at 4, 4, 5, 5 → 0.07 → ×0.07/0.115 = 0.608696;
    # 2030: all Euro 5 → 0.06/0.115 = 0.521739. PM2.5 and CO2 unchanged.
    t = urban.FleetTurnover(car_stage_years=(2024, 2026, None), renewal_yr=4)
    car, _ = urban.fleet_factors(t, 4, 2025, [2025, 2027, 2030])
    assert car[:, 1] == pytest.approx([1.0, 0.608696, 0.521739], rel=1e-5)
    assert car[:, [0, 2]] == pytest.approx(1.0)


def test_fleet_factors_bus_hand_worked():
    # renewal 10 years, Euro IV from 2010, V from 2015, VI from 2026, base year 2025 with the
    # city's buses at Euro IV (NOx 6.77 g/km). Cohort means of the EMEP/EEA urban-bus NOx
    # (Euro V 8.67, VI 0.55 g/km): 2025, cohorts 2016–2025 all Euro V → 8.67; 2027, eight
    # Euro V and two Euro VI → (8 × 8.67 + 2 × 0.55)/10 = 7.046 → 6.77 × 7.046/8.67 = 5.50185;
    # 2040: all Euro VI → 6.77 × 0.55/8.67 = 0.429470
    t = urban.FleetTurnover(bus_stage_years=(2010, 2015, 2026), renewal_yr=10)
    _, bus = urban.fleet_factors(t, 4, 2025, [2025, 2027, 2040])
    assert bus[:, 1] == pytest.approx([6.77, 5.50185, 0.429470], rel=1e-5)


def test_fleet_factors_no_schedule_frozen():
    # no stage known: every cohort at Euro 3, so nothing moves
    car, bus = urban.fleet_factors(urban.FleetTurnover(), 5, 2025, [2025, 2035])
    assert car == pytest.approx(1.0)
    assert bus[1] == pytest.approx(bus[0])


def test_emissions_bau_fleet_turnover_car_nox():
    # car-only city, no growth, renewal 4 years as above: BAU NOx 2027 = 0.608696 × 2025;
    # CO2 unchanged (fuel economy not modelled)
    t = urban.FleetTurnover(car_stage_years=(2024, 2026, None), renewal_yr=4)
    c = urban.CityTransport(1_000_000, 5_000, city().shares, 0.0, 0.5, 4, t)
    traj = urban.trajectories(c, {"BAU": urban.Levers()}, 2025, 2030).set_index(
        ["year", "pollutant"]
    )["emissions"]
    assert traj[(2027, "NOx")] / traj[(2025, "NOx")] == pytest.approx(0.608696, rel=1e-5)
    assert traj[(2030, "CO2")] == pytest.approx(traj[(2025, "CO2")])


# --- one baseline with the inventory ------------------------------------------------------


def test_anchor_to_road_hand_worked():
    # car-km 1e9 (taxis included), motorcycle-km 5e8, bus-km 1e7; shares car .40, taxi .05,
    # motorcycle .20, bus .18, rail .12, bicycle .02, walk .03; occupancy car 1.4, taxi
    # 1.4 × 0.7 = 0.98, motorcycle 1.3, bus 35.
    # taxi part of car-km τ = (.05/.98) / (.40/1.4 + .05/.98) = 0.0510204 / 0.3367347
    # = 0.151515; car pkm = 1e9 × 0.848485 × 1.4 = 1.187879e9; taxi 1e9 × 0.151515 × 0.98
    # = 1.484848e8; motorcycle 6.5e8; bus 3.5e8; road 2.336364e9 over a road share of
    # 0.83 → rail 2.336364e9 × .12/.83 = 3.377875e8; total 2.336364e9 / 0.83 = 2.814896e9
    s = urban.mode_shares(SHARES, fixed=list(SHARES))
    total_pkm, shares = urban.anchor_to_road({"car": 1e9, "motorcycle": 5e8, "bus": 1e7}, s)
    assert total_pkm == pytest.approx(2.814896e9, rel=1e-6)
    assert shares["car"] * total_pkm == pytest.approx(1.187879e9, rel=1e-6)
    assert shares["rail"] * total_pkm == pytest.approx(3.377875e8, rel=1e-6)
    c = urban.CityTransport(1, total_pkm, shares, 0.0, 0.5)
    b = urban.asif(c)
    assert b.loc[["car", "taxi"], "vehicle_km"].sum() == pytest.approx(1e9)
    assert b.loc["motorcycle", "vehicle_km"] == pytest.approx(5e8)
    assert b.loc["bus", "vehicle_km"] == pytest.approx(1e7)


def test_anchor_to_road_missing_activity_raises():
    s = urban.mode_shares(SHARES, fixed=list(SHARES))
    with pytest.raises(ValueError, match="finite"):
        urban.anchor_to_road({"car": float("nan"), "motorcycle": 1.0, "bus": 1.0}, s)


def test_city_transport_road_activity_sets_pkm():
    # 100,000 cars × 10,000 km = 1e9 car-km etc. as in the hand-worked anchor above;
    # passenger-km per resident = 2.814896e9 / 1,000,000 = 2,814.896
    road = {"cars": 1e5, "car_km_per_yr": 1e4, "motorcycles": 1e5, "motorcycle_km_per_yr": 5e3}
    road |= {"buses": 200, "bus_km_per_yr": 5e4}
    own = {f"share_{k}": v for k, v in SHARES.items()}
    c = urban.city_transport(_inputs(**own, bus_share_of_public_transport=0.6), 1e6, 0.5, road)
    assert c.pkm_per_capita == pytest.approx(2814.896, rel=1e-6)
    assert c.turnover == urban.FleetTurnover(renewal_yr=15.0)


def test_metrics_activity_hand_worked():
    # the car-only city: 5e9 pkm, car-km 5e9 / 1.4 = 3.5714e9, 5,000 pkm per resident
    c = city()
    lev = urban.Levers()
    traj = urban.trajectories(c, urban.scenario_set(lev), 2025, 2030)
    chk = urban.target_check(traj, 2030, 0.3)
    w = urban.wedges(c, lev, 2025, 2030)
    m = urban_views.metrics({"x": urban.asif(c)}, {"x": chk}, {"x": w}, 2030, {"x": 1e6})
    m = m.set_index(["metric", "scope"])["value"]
    assert m[("vehicle_km", "car")] == pytest.approx(3.5714286e9)
    assert m[("mode_share", "private-vehicles")] == pytest.approx(1.0)
    assert m[("pkm_per_capita", "passenger-transport")] == pytest.approx(5000)


def test_turnover_table_car_nox_hand_worked():
    # the car schedule of test_fleet_factors_car_hand_worked, 2025 → 2030: car NOx
    # 0.500484 g/km × 0.521739 = 0.261122 g/km
    t = urban.FleetTurnover(car_stage_years=(2024, 2026, None), renewal_yr=4)
    c = urban.CityTransport(1, 1, city().shares, 0.0, 0.5, 4, t)
    tab = urban_views.turnover_table({"x": c}, 2025, 2030)
    assert tab.loc[("x", "petrol car"), "NOx target year"] == pytest.approx(0.261122, rel=1e-5)
    assert tab.loc[("x", "petrol car"), "renewal"] == 4
