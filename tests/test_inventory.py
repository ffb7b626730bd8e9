"""Emissions inventory: hand-worked lines, dust equation, gaps, QA, ranking and metrics."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest
from conftest import edit_yaml

from c3lib.exceptions import C3Error, ParamsErrors, ReferenceDataError
from c3lib.params import load_catalog
from c3lib.reference import field_table, reference_table
from c3lib.topics.inventory import model as inv
from c3lib.topics.inventory import views as inv_views

matplotlib.use("Agg")

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
# Hand-worked PM2.5 of VALUES [t/yr], with the Tier 1 factors of the EMEP/EEA Guidebook 2023,
# 1.A.3.b.i-iv Road transport, Table 3-6 (exhaust PM, g/kg fuel: passenger car petrol 0.02,
# L-category petrol 0.51, heavy-duty diesel 0.55) and 1.A.4 Table 3-4 (gaseous fuels 1.2 g/GJ):
#   road transport: car 600,000 kg × 0.02 + motorcycle 200,000 kg × 0.51 + bus 165,000 kg × 0.55
#                   = 12,000 + 102,000 + 90,750 g = 0.20475 t
#   road dust:      20.5 M VKT × 0.0175316 g/VKT = 359,398 g = 0.35940 t
#   residential:    1000 GJ gas × 1.2 g/GJ = 1,200 g = 0.0012 t
#   open burning:   100 t = 100,000 kg straw × 34.0 g/kg = 3.4 t
#   total:          3.96535 t
ROAD_PM25 = 0.20475
PM25_TOTAL = ROAD_PM25 + 0.35940 + 0.0012 + 3.4


def lines():
    return inv.city_lines(VALUES)


def pick(ln, sector, pollutant):
    sub = ln[(ln["sector"] == sector) & (ln["pollutant"] == pollutant)]
    return float(sub["emissions"].sum())


def test_vehicle_activity_fuel():
    # cars: 1000 × 10,000 km × 0.06 kg/km = 600,000 kg; buses: 10 × 50,000 × 0.33 = 165,000 kg
    act = inv.vehicle_activity(VALUES)
    assert act.loc["car-gasoline", "fuel_kg"] == pytest.approx(600_000)
    assert act.loc["bus-diesel", "fuel_kg"] == pytest.approx(165_000)
    # VKT: 1e7 (cars) + 1e7 (motorcycles) + 0 + 5e5 (buses)
    assert inv.vehicle_km(VALUES) == pytest.approx(2.05e7)


def test_calculate_road_transport_pm25():
    assert pick(lines(), "road-transport", "PM2.5") == pytest.approx(ROAD_PM25)


def test_calculate_road_transport_nox():
    # Guidebook 2023 Table 3-6 NOx [g/kg]: car petrol 3.98, L-category 7.23, HDV diesel 25.95
    # car 600,000 × 3.98 + motorcycle 200,000 × 7.23 + bus 165,000 × 25.95
    # = 2,388,000 + 1,446,000 + 4,281,750 g = 8.11575 t
    assert pick(lines(), "road-transport", "NOx") == pytest.approx(8.11575)


def test_calculate_co2_from_fuel():
    # car CO2: 600,000 kg × 3,168 g/kg (Guidebook 2023 Table 3-12, petrol) = 1,900.8 t
    ln = lines().query("subsector == 'car-gasoline' and pollutant == 'CO2'")
    assert ln["emissions"].iloc[0] == pytest.approx(1900.8)


def test_calculate_residential_gas_bc_and_co2():
    # BC: 1000 GJ × (1.2 g/GJ × 5.4 %) = 64.8 g = 6.48e-5 t; CO2: 1000 GJ × 56,100 g/GJ = 56.1 t
    ln = lines()
    assert pick(ln, "residential", "BC") == pytest.approx(6.48e-5)
    assert pick(ln, "residential", "CO2") == pytest.approx(56.1)


def test_calculate_skips_declared_gaps():
    # the Tier 1 road tables give no BC and SO2 depends on the fuel: declared gaps (blank ef)
    road = lines().query("sector == 'road-transport'")
    assert not {"BC", "SO2"} & set(road["pollutant"])


def test_calculate_industry_coal_guidebook_tier1():
    # EMEP/EEA Guidebook 2023, 1.A.2 Tier 1 solid fuels: PM2.5 108 g/GJ, NOx 173 g/GJ;
    # IPCC 2006 Vol. 2 Ch. 2 Table 2.3 other bituminous coal CO2 94,600 kg/TJ.
    # 10,000 GJ → PM2.5 1.08 t, NOx 1.73 t, CO2 946 t
    ln = inv.city_lines({**VALUES, "industry_coal_gj": 10_000.0})
    coal = ln.query("subsector == 'hard-coal' and sector == 'industry-power'")
    got = coal.set_index("pollutant")["emissions"]
    assert got["PM2.5"] == pytest.approx(1.08)
    assert got["NOx"] == pytest.approx(1.73)
    assert got["CO2"] == pytest.approx(946.0)


def test_activity_missing_input_is_not_estimated():
    values = {**VALUES, "rice_straw_burned_t": float("nan")}
    for name in ("residential_gas_gj", "residential_coal_gj", "residential_biomass_gj"):
        values.pop(name)
    ln = inv.city_lines(values)
    assert "open-burning" in inv.not_estimated(ln)
    assert "residential" in inv.not_estimated(ln)
    table = inv_views.sector_table(ln)
    assert pd.isna(table.loc["open-burning", "PM2.5"])  # shown "—", never 0
    assert table.loc["open-burning", "status"] == "not estimated"
    assert "partial total" in table.index


def test_road_dust_factor_ap42():
    # k 0.15 × 0.06^0.91 × 1.5^1.02 = 0.15 × 0.077274 × 1.51250 = 0.017532 g/VKT
    assert inv.road_dust_factor(0.06, 1.5, "PM2.5") == pytest.approx(0.017532, rel=1e-3)


def test_road_dust_factor_unknown_pollutant_raises():
    with pytest.raises(ReferenceDataError, match="road_dust.csv.*'NOx'"):
        inv.road_dust_factor(0.06, 1.5, "NOx")


def test_calculate_road_dust_control_from_inputs():
    # 20.5 M VKT × 0.0175316 g/VKT × (1 − 0.5) = 179,699 g = 0.17970 t
    ln = inv.city_lines({**VALUES, "road_dust_control": 0.5})
    assert pick(ln, "road-dust", "PM2.5") == pytest.approx(0.17970, rel=1e-3)


def test_city_lines_controls_by_sector():
    # road-transport PM2.5 0.20475 t × (1 − 0.3) = 0.143325 t; other sectors unchanged
    ln = inv.city_lines(VALUES, controls={"road-transport": 0.3})
    assert pick(ln, "road-transport", "PM2.5") == pytest.approx(0.143325)
    assert pick(ln, "open-burning", "PM2.5") == pytest.approx(3.4)


def test_city_lines_exhaust_control_spares_co2_and_nox():
    # an exhaust particulate control cuts particulates, not the fuel's CO2
    base, ctl = lines(), inv.city_lines(VALUES, controls={"road-transport": 0.5})
    for pol in ("CO2", "CO", "NOx"):
        assert pick(ctl, "road-transport", pol) == pytest.approx(pick(base, "road-transport", pol))
    assert pick(ctl, "road-transport", "PM10") == pytest.approx(
        0.5 * pick(base, "road-transport", "PM10")
    )


def test_control_table_per_pollutant_mapping():
    table = inv.control_table({"residential": {"PM2.5": 0.4}, "industry-power": 0.2})
    assert table[("residential", "PM2.5")] == 0.4
    assert ("residential", "NOx") not in table.index
    assert table[("industry-power", "SO2")] == 0.2
    assert ("industry-power", "CO2") not in table.index


def test_calculate_open_burning_rice_straw():
    assert pick(lines(), "open-burning", "PM2.5") == pytest.approx(3.4)


def test_city_lines_road_scale_halves_road():
    base = lines().query("sector == 'road-transport'")["emissions"].sum()
    half = inv.city_lines(VALUES, road_scale=0.5).query("sector == 'road-transport'")
    assert half["emissions"].sum() == pytest.approx(base / 2)


def test_activity_inputs_list_every_field():
    act = inv.activity(VALUES).set_index("subsector")
    assert act.loc["car-gasoline", "inputs"] == "cars;car_km_per_yr;car_fuel_kg_per_km"
    assert "road_silt_loading" in act.loc["paved-roads", "inputs"]
    assert "cars" in act.loc["paved-roads", "inputs"]


def test_factor_missing_raises():
    with pytest.raises(ReferenceDataError, match="no factor for sector 'road-transport'"):
        inv.factor(inv.emission_factors(), "road-transport", "car-lpg", "NOx")


def test_factor_declared_gap_raises():
    with pytest.raises(ReferenceDataError, match="'road-transport'.*'BC'.*data gap"):
        inv.factor(inv.emission_factors(), "road-transport", "car-gasoline", "BC")


def test_factor_row():
    row = inv.factor(inv.emission_factors(), "open-burning", "rice-straw", "PM2.5")
    assert row["ef"] == pytest.approx(34.0)
    assert row["ef_unit"] == "g/kg"
    assert row["quality"] == "secondary"


def test_sector_shares_hand_worked():
    # open burning 3.4 / 3.96535 = 0.85743; road transport 0.20475 / 3.96535 = 0.05163
    sh = inv.sector_shares(lines(), "PM2.5")
    assert sh["open-burning"] == pytest.approx(3.4 / PM25_TOTAL, rel=1e-4)
    assert sh["road-transport"] == pytest.approx(ROAD_PM25 / PM25_TOTAL, rel=1e-4)
    assert sh.sum() == pytest.approx(1.0)


def test_per_capita_hand_worked():
    # 3.4 t/yr × 1000 kg/t ÷ 10,000 residents = 0.34 kg/yr per capita
    assert inv.per_capita(3.4, 10_000) == pytest.approx(0.34)


def test_key_sources_ranking():
    rank = inv.key_sources(lines(), "PM2.5", n=20)
    assert rank["source_category"].iloc[0] == "open-burning / rice-straw"
    assert rank["share"].iloc[0] == pytest.approx(3.4 / PM25_TOTAL, rel=1e-4)
    assert rank["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert rank["emissions"].is_monotonic_decreasing


def test_completeness_statuses():
    st = inv.completeness(lines())
    assert st.loc["residential", "PM2.5"] == "estimated"
    assert st.loc["industry-power", "PM2.5"] == "no activity data"
    assert st.loc["industry-power", "CO2"] == "no activity data"
    assert st.loc["construction-dust", "PM2.5"] == "no activity data"
    assert st.loc["road-dust", "NOx"] == "not applicable"
    assert st.loc["road-transport", "BC"] == "data gap: no factor"
    assert st.loc["ports-shipping", "NOx"] == "no activity data"  # no finished lines given


def test_qa_checks_gap_review_and_range():
    qa = inv.qa_checks(lines(), 10_000, reference_table("qa_ranges"))
    res = qa.set_index("check")["result"]
    assert res["completeness: residential"] == "pass"  # gas: all eight pollutants
    assert res["completeness: industry-power"] == "gap"  # no activity
    assert res["completeness: open-burning"] == "review"  # PM10, CO, NMVOC, BC missing
    # a partial total (industry, ports, cooking not estimated) never passes the screening:
    # PM2.5 per capita 3.96535 t × 1000 ÷ 10,000 = 0.397 kg is inside 0.3–30, yet "review"
    assert res["per capita: PM2.5"] == "review"
    detail = qa.set_index("check")["detail"]["per capita: PM2.5"]
    assert "0.397" in detail and "partial total" in detail and "industry-power" in detail


def test_qa_checks_cross_check_shares():
    # ours: road transport 5 % vs 51 % reported → review; open burning 86 % vs 80 % → pass
    qa = inv.qa_checks(
        lines(),
        10_000,
        reference_table("qa_ranges"),
        reported_shares={"road-transport": 0.51, "open-burning": 0.80, "industry-power": 0.1},
    ).set_index("check")["result"]
    assert qa["cross-check: road-transport share of PM2.5"] == "review"
    assert qa["cross-check: open-burning share of PM2.5"] == "pass"
    # industry not estimated here (0 %) while the city reports 10 %: a gap, not a pass
    assert qa["cross-check: industry-power share of PM2.5"] == "gap"


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
    assert list(ext.columns) == inv.LINE_COLUMNS


def test_check_factors_clean():
    assert inv.check_factors() == []


def test_check_factors_missing_row(monkeypatch):
    table = inv.emission_factors()
    drop = (table["subsector"] == "bus-diesel") & (table["pollutant"] == "NOx")
    monkeypatch.setattr(inv, "emission_factors", lambda: table[~drop])
    problems = inv.check_factors()
    assert len(problems) == 1
    assert "'road-transport'" in problems[0] and "'bus-diesel'" in problems[0]
    assert "'NOx'" in problems[0]


def test_check_factors_bad_uncertainty(monkeypatch):
    table = inv.emission_factors()
    table.loc[table["subsector"] == "rice-straw", "uncertainty"] = "Q"
    monkeypatch.setattr(inv, "emission_factors", lambda: table)
    assert any("'rice-straw'" in p and "'Q'" in p for p in inv.check_factors())


def test_assumption_rows_list_factors_and_gaps():
    rows = pd.DataFrame(inv_views.assumption_rows(lines(), "x"))
    # the road factors are the Guidebook's own (quality secondary): not an assumption
    assert "emission factors road-transport / car-gasoline" not in set(rows["input"])
    assert "sector industry-power" in set(rows["input"])
    assert "sector construction-dust" in set(rows["input"])
    gap = rows.set_index("input").loc["emission factors open-burning", "value"]
    assert gap == "no factor for PM10, CO, NMVOC, BC"


def test_metrics_headline_totals():
    ln = lines()
    mc = pd.DataFrame(
        [
            {"pollutant": p, "sector": "total", "central": 1, "low": 0.5, "high": 2}
            for p in inv.POLLUTANTS
        ]
    )
    m = inv_views.metrics({"x": ln}, {"x": mc}, {"x": 10_000})
    heads = m[m["headline"]]
    assert set(heads["pollutant"]) == {"PM2.5", "NOx", "CO2"}
    assert set(heads["metric"]) == {"total_emissions", "per_capita_emissions"}
    pm = m.query("metric == 'total_emissions' and pollutant == 'PM2.5'")["value"].iloc[0]
    assert pm == pytest.approx(PM25_TOTAL, rel=1e-4)


def test_plot_functions_return_figures():
    import matplotlib.pyplot as plt

    ln = lines()
    totals = {"A": inv.sector_totals(ln), "B": inv.sector_totals(ln)}
    per_cap = pd.DataFrame({"A": ln.groupby("pollutant")["emissions"].sum()})
    figs = [
        inv_views.plot_sector_shares(totals),
        inv_views.plot_per_capita(per_cap),
        inv_views.plot_key_sources(inv.key_sources(ln, "PM2.5"), "t"),
    ]
    assert all(isinstance(f, plt.Figure) for f in figs)
    for f in figs:
        plt.close(f)


def test_reported_shares_maps_fields_and_drops_blanks():
    got = inv.reported_shares({"pm25_share_vehicles": 0.51, "pm25_share_industry": float("nan")})
    assert got == {"road-transport": 0.51}


# --- power-plant abatement (FGD on SO2, SCR/SNCR on NOx) ---------------------------------
# A synthetic city with one coal power plant burning 1,000,000 GJ/yr, EMEP/EEA 2023 1.A.1.a
# Tier 1 hard coal: SO2 820 g/GJ → 820 t, NOx 209 g/GJ → 209 t; IPCC CO2 94,600 g/GJ → 94,600 t
POWER = {**VALUES, "power_coal_gj": 1.0e6}


def test_calculate_power_coal_so2_control_cuts_so2_only():
    base = inv.city_lines(POWER)
    ln = inv.city_lines({**POWER, "power_coal_so2_control": 0.9})

    def coal(frame, pol):
        sub = frame[(frame["subsector"] == "power-hard-coal") & (frame["pollutant"] == pol)]
        return float(sub["emissions"].sum())

    assert coal(base, "SO2") == pytest.approx(820.0)
    # 820 t × (1 − 0.9) = 82 t
    assert coal(ln, "SO2") == pytest.approx(82.0)
    for pol in ("NOx", "CO2", "CO", "PM2.5", "PM10", "BC"):
        assert coal(ln, pol) == pytest.approx(coal(base, pol))
    # no other line moves
    rest = ln["subsector"] != "power-hard-coal"
    assert ln.loc[rest, "emissions"].to_numpy() == pytest.approx(
        base.loc[base["subsector"] != "power-hard-coal", "emissions"].to_numpy()
    )


def test_calculate_power_coal_nox_control_and_sector_control_in_series():
    # NOx 209 t × (1 − 0.5) SCR × (1 − 0.2) sector control = 83.6 t; CO2 untouched
    ln = inv.city_lines({**POWER, "power_coal_nox_control": 0.5}, controls={"industry-power": 0.2})
    nox = ln[(ln["subsector"] == "power-hard-coal") & (ln["pollutant"] == "NOx")].iloc[0]
    assert nox["emissions"] == pytest.approx(83.6)
    assert nox["control"] == pytest.approx(0.6)
    co2 = ln[(ln["subsector"] == "power-hard-coal") & (ln["pollutant"] == "CO2")].iloc[0]
    assert co2["emissions"] == pytest.approx(94600.0)


def test_calculate_power_coal_control_default_changes_nothing():
    base = inv.city_lines(POWER)
    zero = inv.city_lines({**POWER, "power_coal_so2_control": 0.0, "power_coal_nox_control": 0.0})
    pd.testing.assert_frame_equal(base, zero)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_abatement_outside_zero_one_raises(bad):
    with pytest.raises(C3Error, match="power_coal_so2_control"):
        inv.city_lines({**POWER, "power_coal_so2_control": bad})


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_load_catalog_rejects_power_control_outside_zero_one(params_dir, bad):
    path = params_dir / "cities" / "taichung.yaml"

    def change(d):
        d["activity"]["emissions-inventory"]["power_coal_so2_control"]["value"] = bad

    edit_yaml(path, change)
    with pytest.raises(ParamsErrors) as err:
        load_catalog(params_dir)
    (e,) = {(e.file, e.field, e.message) for e in err.value.errors}
    assert e[0].endswith("taichung.yaml")
    assert e[1] == "activity.emissions-inventory.power_coal_so2_control.value"
    assert ("maximum 1" if bad > 1 else "minimum 0") in e[2]


def test_power_controls_are_fractions_with_sources():
    fields = field_table("emissions-inventory")
    for name in inv.ABATEMENT_FIELDS.values():
        row = fields.loc[name]
        assert row["unit"] == "fraction"
        assert (float(row["minimum"]), float(row["maximum"])) == (0.0, 1.0)
        assert float(row["default"]) == 0.0
        assert row["default_note"].startswith("assumed")
