"""Tests for c3lib.topics.ports against hand-worked examples (numbers in comments)."""

from __future__ import annotations

import math
from dataclasses import replace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from c3lib.exceptions import C3Error, ReferenceDataError
from c3lib.params import Measure
from c3lib.reference import field_table
from c3lib.topics.ports import model as ports
from c3lib.topics.ports import views as port_views

matplotlib.use("Agg")

FACTORS = ports.load_factors()
LEVERS = ports.Levers(
    vsr_speed_kn=12.0,
    vsr_zone_nm=20.0,
    vsr_compliance=0.9,
    shore_power_uptake=0.5,
    switch_sulphur_pct=0.1,
    che_electric_share=0.5,
)


def make_port(calls=(("container-intermediate", 1.0),), teu=0.0, **changes) -> ports.Port:
    """A port with the field-table defaults: 40 nm domain, 20 nm zone, 19.1 h at berth."""
    base = ports.Port(
        city="testport",
        name="Test port",
        status="ok",
        calls=tuple(calls),
        teu_per_yr=teu,
        domain_nm=40.0,
        rsz_nm=20.0,
        maneuvering_h=2.0,
        maneuvering_speed_kn=5.0,
        berth_h=19.1,
        anchorage_h=6.0,
        sulphur_pct=0.5,
        tier_shares=((2, 1.0),),
        grid_ef=0.5,
    )
    return replace(base, **changes)


def inputs_frame(city: str = "testport", role: str = "learning", **own) -> pd.DataFrame:
    """The long inputs table casestudy.inputs builds: own values, else field defaults."""
    table = field_table("port-operations")
    return pd.DataFrame(
        [
            {"role": role, "city": city, "field": f, "value": own.get(f, spec["default"])}
            for f, spec in table.iterrows()
        ]
    )


# --- reference tables ------------------------------------------------------------------


def test_load_factors_every_assumed_row_says_unsourced():
    for df in FACTORS.frames():
        assumed = df[df["quality"] == "assumed"]
        assert assumed["source"].str.contains("unsourced estimate").all()


def test_field_table_defaults_cover_every_operating_input():
    table = field_table("port-operations")
    no_default = set(table.index[table["default"].isna()])
    assert no_default == {"has_seaport", "container_teu_per_yr", "container_calls_per_yr"}


# --- propeller law, BSFC, LLAF -----------------------------------------------------------


def test_propeller_load_factor_transit():
    # 3,000–5,000 TEU class: MS 25.1 kn, transit at 0.74 × 25.1 = 18.574 kn.
    # LF = 0.74^3 × 1.10 = 0.405224 × 1.10 = 0.4457464
    assert ports.propeller_load_factor(18.574, 25.1, 10) == pytest.approx(0.4457464, rel=1e-6)


def test_propeller_load_factor_clips_and_stops():
    # 5 kn: (5/25.1)^3 × 1.1 = 0.0087 → clipped to 0.02; 30 kn → 1.0; stopped → 0
    lf = ports.propeller_load_factor([5.0, 30.0, 0.0], 25.1, 10)
    assert lf == pytest.approx([0.02, 1.0, 0.0])


def test_bsfc_at_load_half_load():
    # 195 × (0.455 × 0.25 − 0.71 × 0.5 + 1.28) = 195 × 1.03875 = 202.55625
    assert ports.bsfc_at_load(195, 0.5) == pytest.approx(202.55625)


def test_low_load_adjustment_nox_two_percent():
    # (0.1255 × 0.02^-1.5 + 10.4496) / (0.1255 × 0.2^-1.5 + 10.4496)
    # = (44.37095 + 10.4496) / (1.403133 + 10.4496) = 54.82055 / 11.852733 = 4.62514
    # methods_factors §2.6 prints 4.63
    assert ports.low_load_adjustment("NOx", 0.02) == pytest.approx(4.62514, rel=1e-5)


def test_low_load_adjustment_so2_two_percent():
    # ShipEF calcLLAF.r, a = 2.3735, b = -0.4792, fuel use 14.1205/LF + 205.7169 g/kWh:
    # 0.5 % S: (2.3735 × 911.7419 × 0.5 − 0.4792) / (2.3735 × 276.3194 × 0.5 − 0.4792)
    #        = (1082.0018 − 0.4792) / (327.9220 − 0.4792) = 1081.5226 / 327.4428 = 3.302935
    # 0.1 % S: (216.4004 − 0.4792) / (65.5844 − 0.4792) = 215.9212 / 65.1052 = 3.316497
    assert ports.low_load_adjustment("SO2", 0.02, sulphur_pct=0.5) == pytest.approx(
        3.302935, rel=1e-5
    )
    assert ports.low_load_adjustment("SO2", 0.02, sulphur_pct=0.1) == pytest.approx(
        3.316497, rel=1e-5
    )


def test_low_load_adjustment_so2_needs_sulphur():
    with pytest.raises(C3Error, match="sulphur"):
        ports.low_load_adjustment("SO2", 0.02)


@pytest.mark.parametrize(
    ("pollutant", "table"),
    [
        ("NOx", [4.63, 1.83, 1.22, 1.06]),
        ("CO", [9.68, 3.89, 1.96, 1.32]),
        ("PM10", [7.29, 2.44, 1.38, 1.11]),
        ("CO2", [3.28, 1.76, 1.25, 1.08]),
        ("SO2", [3.30, 1.77, 1.26, 1.09]),
    ],
)
def test_low_load_adjustment_matches_methods_table(pollutant, table):
    # methods_factors §2.6 at 2, 5, 10 and 15 % load, printed to 3 significant figures
    got = ports.low_load_adjustment(pollutant, [0.02, 0.05, 0.10, 0.15], sulphur_pct=0.5)
    assert got == pytest.approx(table, abs=0.006)


def test_low_load_adjustment_is_one_at_and_above_threshold_and_at_zero():
    assert ports.low_load_adjustment("PM2.5", [0.0, 0.2, 0.5, 1.0]) == pytest.approx([1, 1, 1, 1])


def test_low_load_adjustment_unknown_pollutant():
    with pytest.raises(ReferenceDataError, match="ship_llaf.csv"):
        ports.low_load_adjustment("NH3", 0.1)


# --- emission factors --------------------------------------------------------------------


def test_fuel_for_sulphur_classes():
    assert ports.fuel_for_sulphur(0.1) == "MGO"
    assert ports.fuel_for_sulphur(0.5) == "HFO"
    with pytest.raises(C3Error, match="outside"):
        ports.fuel_for_sulphur(5.0)


def test_engine_emission_factors_aux_hfo():
    # Aux MSD on 0.5 % S residual fuel, Tier II (methods_factors §2.4 row "Aux HFO (0.5)"):
    # PM10 = 0.5761 + 0.5 × 227 × 2.247 × 7 × 1e-4 = 0.5761 + 0.178524 = 0.754624
    # PM2.5 = 0.92 × 0.754624 = 0.694254
    # SO2 = 227 × 2 × 0.97753 × 0.5/100 = 2.218993
    # CO2 = 227 × 3.114 = 706.878; NOx (Tier II) 11.2; CO 1.1
    ef = ports.engine_emission_factors("aux", "MSD", 0.5)
    assert ef["PM10"] == pytest.approx(0.754624, rel=1e-5)
    assert ef["PM2.5"] == pytest.approx(0.694254, rel=1e-5)
    assert ef["SO2"] == pytest.approx(2.218993, rel=1e-5)
    assert ef["CO2"] == pytest.approx(706.878, rel=1e-6)
    assert ef["NOx"] == pytest.approx(11.2)
    assert ef["CO"] == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("engine", "etype", "sulphur", "pm10", "so2", "co2"),
    [
        ("main", "SSD", 0.1, 0.184, 0.362, 593.1),
        ("main", "SSD", 0.5, 0.729, 1.906, 607.2),
        ("main", "MSD", 0.1, 0.187, 0.401, 657.2),
        ("main", "MSD", 0.5, 0.745, 2.102, 669.5),
        ("aux", "MSD", 0.1, 0.189, 0.424, 695.7),
        ("boiler", "", 0.1, 0.202, 0.587, 961.8),
        ("boiler", "", 0.5, 0.816, 2.981, 949.8),
    ],
)
def test_engine_emission_factors_match_methods_table(engine, etype, sulphur, pm10, so2, co2):
    # methods_factors §2.4 at baseline BSFC (no load given)
    ef = ports.engine_emission_factors(engine, etype, sulphur)
    assert ef["PM10"] == pytest.approx(pm10, abs=6e-4)
    assert ef["SO2"] == pytest.approx(so2, abs=6e-4)
    assert ef["CO2"] == pytest.approx(co2, abs=0.06)


def test_engine_emission_factors_main_low_load():
    # SSD on HFO 0.5 %, Tier II, LF 0.10, baseline BSFC 195 g/kWh (ShipEF default):
    # NOx = 15.3 × LLAF_NOx(0.1) = 15.3 × (0.1255 × 31.6228 + 10.4496) / 11.852733
    #     = 15.3 × 14.41826 / 11.852733 = 15.3 × 1.216451 = 18.61170
    # CO2 = 195 × 3.114 × (441 + 648.6) / (220.5 + 648.6) = 607.23 × 1.253711 = 761.291
    ef = ports.engine_emission_factors("main", "SSD", 0.5, load_factor=0.1)
    assert ef["NOx"] == pytest.approx(18.61170, rel=1e-5)
    assert ef["CO2"] == pytest.approx(761.291, rel=1e-5)


def test_engine_emission_factors_tier3_below_scr_threshold_is_tier2():
    # SSD HFO Tier III at 24 % load: SCR off, Tier II 15.3 g/kWh (no LLAF above 20 %);
    # at 25 % load the Tier III factor 3.6 applies.
    tier3 = ((3, 1.0),)
    below = ports.engine_emission_factors("main", "SSD", 0.5, 0.24, tier3)
    at = ports.engine_emission_factors("main", "SSD", 0.5, 0.25, tier3)
    assert below["NOx"] == pytest.approx(15.3)
    assert at["NOx"] == pytest.approx(3.6)


def test_engine_emission_factors_electric_drive_has_no_low_load_adjustment():
    # Cruise MSD-ED: MSD factors, no LLAF; at LF 0.1 only the BSFC at 20 % applies:
    # NOx stays at the MSD HFO Tier II value 11.2
    ef = ports.engine_emission_factors("main", "MSD-ED", 0.5, load_factor=0.1)
    assert ef["NOx"] == pytest.approx(11.2)


def test_engine_emission_factors_tier_mix():
    # Aux MSD HFO: 40 % Tier I (13.0) + 60 % Tier II (11.2) = 5.2 + 6.72 = 11.92
    ef = ports.engine_emission_factors("aux", "MSD", 0.5, tier_shares=((1, 0.4), (2, 0.6)))
    assert ef["NOx"] == pytest.approx(11.92)


def test_engine_emission_factors_unknown_engine():
    with pytest.raises(C3Error, match="engine"):
        ports.engine_emission_factors("propeller", "SSD", 0.5)


# --- activity ----------------------------------------------------------------------------


def test_container_calls_from_throughput():
    # 1,000,000 TEU/yr, 30 % feeder, 30 % mainline, exchange 0.5 × capacity:
    # feeder 300,000 / (0.5 × 1,500) = 400; intermediate 400,000 / 2,000 = 200;
    # mainline 300,000 / 5,000 = 60
    calls = ports.container_calls(1e6, 0.3, 0.3, 0.5)
    assert calls["calls_per_yr"].to_dict() == pytest.approx(
        {"container-feeder": 400, "container-intermediate": 200, "container-mainline": 60}
    )
    assert (calls["quality"] == "derived").all()


def test_container_calls_scaled_to_known_total():
    # derived 660 calls scaled to a given 1,320: every class doubles
    calls = ports.container_calls(1e6, 0.3, 0.3, 0.5, calls_per_yr=1320)
    assert calls["calls_per_yr"].tolist() == pytest.approx([800, 400, 120])


def test_container_calls_rejects_shares_above_one():
    with pytest.raises(C3Error, match="teu_share_feeder"):
        ports.container_calls(1e6, 0.7, 0.5, 0.5)


def test_call_activity_hotelling_and_transit():
    # 3,000–5,000 TEU ship, 19.1 h at berth: aux 940 kW × 19.1 h = 17,954 kWh,
    # boiler 450 kW × 19.1 h = 8,595 kWh.
    # Transit outside the zone: 2 × (40 − 20) = 40 nm at 18.574 kn = 2.153548 h;
    # main 0.4457464 × 37,000 kW = 16,492.62 kW → 35,517.64 kWh
    act = ports.call_activity(make_port(), "container-intermediate").set_index(["mode", "engine"])
    assert act.loc[("hotelling", "aux"), "kwh"] == pytest.approx(17954)
    assert act.loc[("hotelling", "boiler"), "kwh"] == pytest.approx(8595)
    assert act.loc[("transit", "main"), "hours"] == pytest.approx(2.153548, rel=1e-6)
    assert act.loc[("transit", "main"), "kwh"] == pytest.approx(35517.64, rel=1e-6)
    assert ("hotelling", "main") not in act.index


def test_call_activity_speed_reduction_energy_scales_with_speed_squared():
    # In the zone at 12 kn instead of 18.574 kn, main-engine energy per nm falls by
    # (12 / 18.574)^2 = 0.417397 (LF 0.1202028 × 3.3333 h vs 0.4457464 × 2.153548 h)
    base = ports.call_activity(make_port(), "container-intermediate")
    slow = ports.call_activity(
        ports.vessel_speed_reduction(make_port(), 12.0, 20.0, 1.0), "container-intermediate"
    )

    def zone_main(a):
        return a[(a["mode"] == "reduced-speed zone") & (a["engine"] == "main")]["kwh"].sum()

    assert zone_main(slow) / zone_main(base) == pytest.approx((12 / 18.574) ** 2, rel=1e-4)


def test_call_activity_speed_reduction_splits_by_compliance():
    # 90 % comply: LF = (12/25.1)^3 × 1.1 = 0.1092753 × 1.1 = 0.1202028;
    # 0.9 × 0.1202028 × 37,000 kW × 40/12 h = 0.9 × 4,447.50 × 3.3333 = 13,342.5 kWh;
    # the other 10 % keep transit speed
    port = ports.vessel_speed_reduction(make_port(), 12.0, 20.0, 0.9)
    act = ports.call_activity(port, "container-intermediate")
    zone = act[(act["mode"] == "reduced-speed zone") & (act["engine"] == "main")]
    assert sorted(zone["share"]) == pytest.approx([0.1, 0.9])
    slow = zone[zone["speed_kn"] == 12.0].iloc[0]
    assert slow["kwh"] == pytest.approx(13342.5, rel=1e-5)


def test_call_activity_shore_power_splits_aux_load():
    # half the berth hours on shore power: 17,954 / 2 = 8,977 kWh each side
    act = ports.call_activity(ports.shore_power(make_port(), 0.5), "container-intermediate")
    berth = act[act["mode"] == "hotelling"].set_index("engine")["kwh"]
    assert berth["aux"] == pytest.approx(8977)
    assert berth["shore-power"] == pytest.approx(8977)


def test_call_activity_unknown_class():
    with pytest.raises(ReferenceDataError, match="ship_classes.csv"):
        ports.call_activity(make_port(), "submarine")


# --- emissions ---------------------------------------------------------------------------


def _pick(em, **keys):
    mask = np.ones(len(em), dtype=bool)
    for k, v in keys.items():
        mask &= (em[k] == v).to_numpy()
    return float(em.loc[mask, "t_per_yr"].sum())


def test_ogv_emissions_hotelling_aux_nox_one_call():
    # One call of a 3,000–5,000 TEU ship: 940 kW × 19.1 h × 11.2 g/kWh = 201,084.8 g
    em = ports.ogv_emissions(make_port())
    got = _pick(em, mode="hotelling", engine="aux", pollutant="NOx")
    assert got == pytest.approx(0.2010848, rel=1e-6)


def test_ogv_emissions_scale_with_calls():
    one = ports.ogv_emissions(make_port())
    ten = ports.ogv_emissions(make_port(calls=(("container-intermediate", 10.0),)))
    assert ten["t_per_yr"].sum() == pytest.approx(10 * one["t_per_yr"].sum())


def test_ogv_emissions_shore_power_grid_side():
    # All berth hours on shore power, grid 0.5 kg CO2/kWh: 17,954 kWh × 500 g = 8.977 t CO2;
    # NOx net of the grid: 17,954 × 11.2 × (1 − 0.901) = 19,907.4 g
    em = ports.ogv_emissions(ports.shore_power(make_port(), 1.0))
    assert _pick(em, engine="shore-power", pollutant="CO2") == pytest.approx(8.977)
    assert _pick(em, engine="shore-power", pollutant="NOx") == pytest.approx(0.0199074, rel=1e-5)
    assert _pick(em, mode="hotelling", engine="aux", pollutant="NOx") == 0.0


def test_ogv_emissions_shore_power_without_grid_factor_uses_study_ratio():
    # no grid factor: CO2 = 17,954 × 706.878 × (1 − 0.183) = 10,368,829 g
    em = ports.ogv_emissions(ports.shore_power(make_port(grid_ef=math.nan), 1.0))
    assert _pick(em, engine="shore-power", pollutant="CO2") == pytest.approx(10.368829, rel=1e-5)


def test_che_emissions_yard_tractor():
    # 1 M TEU/yr: 60 yard tractors × 150 kW × 0.39 × 3,000 h = 10,530,000 kWh × 4.0 g NOx
    # = 42.12 t. Half electrified, grid 0.5 kg/kWh, η 0.9:
    # CO2 = 5,265,000 × 695.7 g + 5,265,000 / 0.9 × 500 g = 3,662.86 t + 2,925.0 t = 6,587.86 t
    em = ports.che_emissions(make_port(teu=1e6))
    assert _pick(em, engine="yard-tractor", pollutant="NOx") == pytest.approx(42.12)
    half = ports.che_emissions(ports.cleaner_che(make_port(teu=1e6), 0.5))
    assert _pick(half, engine="yard-tractor", pollutant="NOx") == pytest.approx(21.06)
    assert _pick(half, engine="yard-tractor", pollutant="CO2") == pytest.approx(6587.8605)


def test_harbour_craft_emissions_per_call():
    # 4 tug jobs × 1 h × 2,400 kW × 0.31 = 2,976 kWh per call; aux HSD on MGO, Tier II
    # 7.7 g NOx/kWh → 22,915.2 g per call
    em = ports.harbour_craft_emissions(make_port())
    assert _pick(em, pollutant="NOx") == pytest.approx(0.0229152)


def test_port_emissions_sectors_and_columns():
    em = ports.port_emissions(make_port(teu=1e6))
    assert list(em.columns) == ports.EMISSION_COLUMNS
    assert set(em["sector"]) == {"ogv", "che", "harbour-craft"}
    assert set(em["pollutant"]) == set(ports.POLLUTANTS)
    assert (em["t_per_yr"] >= 0).all()


def test_port_emissions_empty_without_port():
    em = ports.port_emissions(make_port(status="no-seaport", calls=()))
    assert em.empty and list(em.columns) == ports.EMISSION_COLUMNS


# --- measures ----------------------------------------------------------------------------


def test_measures_that_change_nothing():
    port = make_port(teu=1e6)
    base = ports.port_emissions(port)["t_per_yr"].sum()
    unchanged = [
        ports.vessel_speed_reduction(port, 30.0, 20.0),  # limit above transit speed
        ports.shore_power(port, 0.0),
        ports.fuel_switch(port, 0.5),
        ports.cleaner_che(port, 0.0),
    ]
    for p in unchanged:
        assert ports.port_emissions(p)["t_per_yr"].sum() == pytest.approx(base)


def test_fuel_switch_cuts_so2_of_hotelling_aux():
    # aux SO2: 2.218993 g/kWh (HFO 0.5 %) → 217 × 1.95506 × 0.001 = 0.424248 g/kWh (MGO 0.1 %)
    before = ports.ogv_emissions(make_port())
    after = ports.ogv_emissions(ports.fuel_switch(make_port(), 0.1))
    ratio = _pick(after, mode="hotelling", engine="aux", pollutant="SO2") / _pick(
        before, mode="hotelling", engine="aux", pollutant="SO2"
    )
    assert ratio == pytest.approx(0.424248 / 2.218993, rel=1e-5)


def test_vessel_speed_reduction_validates():
    with pytest.raises(C3Error, match="positive"):
        ports.vessel_speed_reduction(make_port(), 0.0, 20.0)
    with pytest.raises(C3Error, match="compliance"):
        ports.vessel_speed_reduction(make_port(), 12.0, 20.0, 1.5)
    assert ports.vessel_speed_reduction(make_port(), 12.0, 80.0).rsz_nm == 40.0


def test_measure_reductions_table():
    red = ports.measure_reductions(make_port(teu=1e6), LEVERS)
    assert set(red["measure"]) == set(ports.MEASURES)
    assert len(red) == len(ports.MEASURES) * len(ports.POLLUTANTS)
    so2 = red[red["pollutant"] == "SO2"].set_index("measure")["reduction_pct"]
    assert so2["fuel-switch"] > 50
    assert so2["combined"] >= so2["fuel-switch"]
    nox = red[red["pollutant"] == "NOx"].set_index("measure")["reduction_t_per_yr"]
    assert (nox > 0).all()


def test_measure_reductions_empty_without_port():
    red = ports.measure_reductions(make_port(status="no-data", calls=()), LEVERS)
    assert red.empty


def test_measure_scenarios_unknown_measure():
    with pytest.raises(C3Error, match="unknown measure"):
        ports.measure_scenarios(make_port(), LEVERS, ["scrubbers"])


# --- inputs, tables, metrics, charts ---------------------------------------------------


def field_default(name: str) -> float:
    from c3lib.reference import field_table

    return float(field_table("port-operations").loc[name, "default"])


def test_port_from_inputs_derives_calls():
    inp = inputs_frame(has_seaport=1.0, container_teu_per_yr=1e6)
    port = ports.port_from_inputs(inp, "learning", "Test", rsz_nm=20.0, grid_ef=0.5)
    assert port.status == "ok"
    assert port.calls_per_yr.sum() == pytest.approx(660)
    assert dict(port.tier_shares) == pytest.approx({1: 0.4, 2: 0.6})
    assert port.sulphur_pct == 0.5
    assert port.berth_h == field_default("berth_h_per_call")  # the field table's default


def test_port_from_inputs_no_seaport():
    inp = inputs_frame(has_seaport=0.0)
    port = ports.port_from_inputs(inp, "learning", "Inland", rsz_nm=20.0)
    assert port.status == "no-seaport" and not port.has_port


def test_port_from_inputs_port_without_data():
    inp = inputs_frame(has_seaport=1.0)
    assert ports.port_from_inputs(inp, "learning", "X", rsz_nm=20.0).status == "no-data"


def test_port_from_inputs_counts_other_ship_types():
    inp = inputs_frame(cruise_calls_per_yr=50.0)
    port = ports.port_from_inputs(inp, "learning", "X", rsz_nm=20.0)
    assert port.status == "ok" and port.calls_per_yr.to_dict() == {"cruise": 50.0}


def test_port_from_inputs_rejects_tier_shares_above_one():
    inp = inputs_frame(container_teu_per_yr=1e6, tier2_share=0.8, tier3_share=0.3)
    with pytest.raises(C3Error, match="tier2_share"):
        ports.port_from_inputs(inp, "learning", "X", rsz_nm=20.0)


def test_emissions_table_totals():
    em = ports.port_emissions(make_port(teu=1e6))
    by_mode = port_views.emissions_table(em)
    assert by_mode.loc["total", "NOx"] == pytest.approx(_pick(em, pollutant="NOx"))
    by_class = port_views.emissions_table(em, ("ship_class", "mode"))
    assert by_class.loc[("total", ""), "CO2"] == pytest.approx(_pick(em, pollutant="CO2"))


def test_port_metrics_names_and_no_port_city():
    port = make_port(teu=1e6)
    inland = make_port(city="inland", status="no-seaport", calls=(), has_seaport=0.0)
    em = {"mentor": ports.port_emissions(port), "learning": ports.port_emissions(inland)}
    red = {
        "mentor": ports.measure_reductions(port, LEVERS),
        "learning": ports.measure_reductions(inland, LEVERS),
    }
    m = port_views.port_metrics({"mentor": port, "learning": inland}, em, red)
    assert m["metric"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert np.isfinite(m["value"]).all()
    inland_rows = m[m["city"] == "inland"]
    assert inland_rows["metric"].tolist() == ["has_seaport"] and inland_rows["value"].iloc[0] == 0
    assert {"total_emissions", "ogv_emissions", "measure_reduction"} <= set(m["metric"])


def test_headline_and_status_tables():
    port = make_port(teu=1e6)
    inland = make_port(status="no-seaport", calls=())
    ps = {"mentor": port, "learning": inland}
    status = port_views.status_table(ps)
    assert status.loc["learning", "status"] == "no seaport in the city"
    em = {r: ports.port_emissions(p) for r, p in ps.items()}
    red = {r: ports.measure_reductions(p, LEVERS) for r, p in ps.items()}
    head = port_views.headline_table(em, red, {"mentor": "A", "learning": "B"})
    assert head.loc["NOx", "A: port total [t/yr]"] > 0
    assert head["B: port total [t/yr]"].isna().all()


def test_plots_return_figures_even_without_ports():
    import matplotlib.pyplot as plt

    port = make_port(teu=1e6)
    inland = make_port(status="no-seaport", calls=())
    figs = [
        port_views.plot_inventory(
            {"A": ports.port_emissions(port), "B": ports.port_emissions(inland)}
        ),
        port_views.plot_inventory({"B": ports.port_emissions(inland)}),
        port_views.plot_reductions({"A": ports.measure_reductions(port, LEVERS)}),
        port_views.plot_reductions({"B": ports.measure_reductions(inland, LEVERS)}),
    ]
    fig, table = port_views.lever_view({"A": port, "B": inland}, LEVERS)
    figs.append(fig)
    assert list(table.index.get_level_values("measure").unique()) == [
        "Vessel speed reduction",
        "Shore power at berth",
    ]
    for f in figs:
        assert isinstance(f, matplotlib.figure.Figure)
        plt.close(f)


def test_status_text_and_tables_for_a_pair_without_ports():
    a = make_port(name="A", status="no-seaport", calls=(), has_seaport=0.0)
    b = make_port(name="B", status="no-data", calls=(), has_seaport=1.0)
    ps = {"mentor": a, "learning": b}
    text = port_views.status_text(ps)
    assert "A** (mentor): has no seaport, so it has no port inventory." in text
    assert "no throughput or call figure" in text and "Neither city" in text
    assert port_views.calls_table(ps)["calls/yr"].isna().all()
    em = {"A": ports.port_emissions(a), "B": ports.port_emissions(b)}
    assert port_views.share_table(em).isna().all().all()
    red = {"A": ports.measure_reductions(a, LEVERS)}
    assert port_views.reductions_table(red).isna().all().all()
    assert port_views.monitoring_table(ps, LEVERS).isna().all().all()
    assert port_views.reductions_table({}).empty
    assert port_views.port_label(a).startswith("a typical port")


def test_monitoring_table_shore_power_energy():
    # one call of a 3,000–5,000 TEU ship: 940 kW × 19.1 h = 17,954 kWh; at 50 % uptake 8.977 MWh
    t = port_views.monitoring_table({"learning": make_port()}, LEVERS)
    assert t.loc["shore-power energy at the target uptake [MWh/yr]", "Test port"] == pytest.approx(
        8.977
    )


def test_berth_aux_per_call_matches_exercise_givens():
    # 940 kW × 19.1 h × 11.2 g/kWh / 1000 = 201.0848 kg
    port = make_port()
    g = port_views.exercise_givens(port)["value"]
    by_hand = g["aux_kw_hotelling"] * g["berth_h"] * g["nox_g_kwh"] / 1000
    assert by_hand == pytest.approx(201.0848)
    assert ports.berth_aux_per_call(ports.shore_power(port, 0.5)) == pytest.approx(201.0848)


def test_assumption_inputs_drops_moot_rows_and_adds_settings():
    inp = pd.concat(
        [
            inputs_frame("inland", "mentor", has_seaport=0.0),
            inputs_frame("harbour", "learning", container_teu_per_yr=1e6),
        ]
    ).assign(own=False)
    gaps, extra = port_views.assumption_inputs(inp, LEVERS)
    assert gaps.loc[gaps["city"] == "inland", "field"].tolist() == ["has_seaport"]
    assert "bulk_calls_per_yr" not in set(gaps["field"])
    inputs_named = {r["input"] for r in extra}
    assert {"non-container ship calls", "shore_power_uptake", "vsr_speed_kn"} <= inputs_named
    assert all(r["source"] for r in extra)


def test_grid_factor_from_profile():
    assert ports.grid_factor({"grid_ef": 0.494}) == pytest.approx(0.494)
    assert math.isnan(ports.grid_factor({}))


# --- measures already in place -----------------------------------------------------------


def measure(**kw) -> Measure:
    base = {"action": "port-operations", "measure": "m", "start_year": 2009, "source": "s"}
    return Measure(**{**base, **kw})


def test_with_measures_in_place_counts_speed_limit_in_force():
    vsr = measure(lever="vessel-speed-reduction", setting={"value": 12.0, "unit": "kn"})
    port, counted = ports.with_measures_in_place(make_port(), [vsr], 2024, 0.9)
    assert port.rsz_speed_kn == 12.0 and port.rsz_compliance == 0.9
    assert [c.counted for c in counted] == [True]


def test_with_measures_in_place_skips_ended_unset_and_unmodelled():
    ended = measure(lever="shore-power", setting={"value": 0.5, "unit": "fraction"}, end_year=2015)
    unset = measure(lever="shore-power")
    other = measure(lever="fuel-sulphur", setting={"value": 12.0, "unit": "kn"})
    port, counted = ports.with_measures_in_place(make_port(), [ended, unset, other], 2024)
    assert port == make_port()
    assert [c.counted for c in counted] == [False, False, False]
    assert "not in force" in counted[0].how and "no setting" in counted[1].how


def test_measure_saving_smaller_on_baseline_with_measure_in_place():
    # A speed limit already in force leaves the same "new" limit little or nothing to save
    vsr = measure(lever="vessel-speed-reduction", setting={"value": 12.0, "unit": "kn"})
    zero = make_port()
    done, _ = ports.with_measures_in_place(zero, [vsr], 2024, LEVERS.vsr_compliance)
    cut = {
        name: ports.measure_reductions(p, LEVERS, ["vessel-speed-reduction"])
        .query("pollutant == 'NOx'")["reduction_t_per_yr"]
        .iloc[0]
        for name, p in (("zero", zero), ("done", done))
    }
    assert cut["zero"] > 0
    assert cut["done"] < cut["zero"]


def test_san_diego_port_baseline_includes_speed_reduction():
    """Shipped data: San Diego's vessel speed reduction (since 2009) is in its baseline."""
    from c3lib.kit import casestudy as cs

    case = cs.load_case("bangkok-san-diego", "port-operations")
    city = case.cities["mentor"]
    assert city.id == "san-diego"
    built = ports.port_from_inputs(cs.inputs(case), "mentor", city.name, 20.0)
    mine = [m for m in city.measures if m.action == "port-operations"]
    done, counted = ports.with_measures_in_place(built, mine, 2024, LEVERS.vsr_compliance)
    assert any(c.counted and c.lever == "vessel-speed-reduction" for c in counted)

    def vsr_cut(p):
        red = ports.measure_reductions(p, LEVERS, ["vessel-speed-reduction"])
        return red.query("pollutant == 'NOx'")["reduction_t_per_yr"].iloc[0]

    assert vsr_cut(done) < vsr_cut(built)


# --- river and channel ports -----------------------------------------------------------


def test_call_activity_river_leg_low_load_takes_maneuvering_aux_load():
    # Feeder (MS 21.3 kn, 14,700 kW) through a 25 nm river at 8 kn, in and out:
    # hours = 2 × 25 / 8 = 6.25 h; LF = (8/21.3)^3 × 1.1 = 0.0582806 (≤ 20 %), so the
    # auxiliary and boiler loads are those of maneuvering, 1,320 and 290 kW
    # (ShipPowerModel calcOperatingMode.r: > 1 kn and LF ≤ 20 % is maneuvering).
    port = make_port(fairway_nm=25.0, fairway_speed_kn=8.0)
    act = ports.call_activity(port, "container-feeder")
    river = act[act["mode"] == "river or channel"].set_index("engine")
    assert river.loc["main", "hours"] == pytest.approx(6.25)
    assert river.loc["main", "load_factor"] == pytest.approx(0.0582806, rel=1e-6)
    assert river.loc["main", "kwh"] == pytest.approx(856.72447 * 6.25, rel=1e-6)
    assert river.loc["aux", "load_kw"] == pytest.approx(1320)
    assert river.loc["boiler", "load_kw"] == pytest.approx(290)


def test_call_activity_river_leg_above_twenty_percent_is_transit_load():
    # Panamax bulk (MS 15.4 kn) at 10 kn: LF = (10/15.4)^3 × 1.1 = 0.301183 > 20 %,
    # transit auxiliary load 420 kW; a sea port (fairway 0) has no river rows.
    port = make_port(calls=(("bulk-panamax", 1.0),), fairway_nm=89.0, fairway_speed_kn=10.0)
    river = ports.call_activity(port, "bulk-panamax").query("mode == 'river or channel'")
    main = river[river["engine"] == "main"].iloc[0]
    assert main["load_factor"] == pytest.approx(0.301183, rel=1e-5)
    assert main["hours"] == pytest.approx(17.8)
    assert river.loc[river["engine"] == "aux", "load_kw"].iloc[0] == pytest.approx(420)
    assert "river or channel" not in set(ports.call_activity(make_port(), "bulk-panamax")["mode"])


def test_call_activity_river_leg_never_faster_than_transit():
    # a fairway speed above the transit speed (0.74 × 21.3 = 15.762 kn) is capped
    port = make_port(fairway_nm=10.0, fairway_speed_kn=20.0)
    act = ports.call_activity(port, "container-feeder")
    river = act[(act["mode"] == "river or channel") & (act["engine"] == "main")].iloc[0]
    assert river["speed_kn"] == pytest.approx(15.762)
    assert river["hours"] == pytest.approx(20.0 / 15.762)


def test_port_from_inputs_reads_the_fairway():
    df = inputs_frame(container_teu_per_yr=1e5, fairway_nm=24.8, fairway_speed_kn=7.0)
    port = ports.port_from_inputs(df, "learning", "Test", 20.0)
    assert (port.fairway_nm, port.fairway_speed_kn) == (24.8, 7.0)
    sea = ports.port_from_inputs(inputs_frame(container_teu_per_yr=1e5), "learning", "T", 20.0)
    assert sea.fairway_nm == 0
