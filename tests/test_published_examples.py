"""The topic models against worked examples published by the methods' own authors.

Each test quotes its source (publisher, title, year, and table, page or repository
path and commit) and asserts the published number with the tolerance its printed
precision allows. Where the project's method differs from the published one, the test
keeps the published number and is marked ``xfail(strict=True)`` with the difference
spelled out: those are findings, not bugs in the test. A method choice the project has
decided instead is tested as decided, with the reason and its source in the test.

Sources read for these tests (stored public copies):

* US EPA, Marine_Emissions_Tools (ShipEF and ShipPowerModel R packages), Beta 0.2,
  github.com/USEPA/Marine_Emissions_Tools, commit 752696e43a5e23fb42b0065747c256c46a4e449a
  (2022-04-27): ``ShipEF/tests/testthat/*.r``, ``ShipEF/R/calcLLAF.r``,
  ``ShipEF/R/calcEF.r``, ``ShipEF/R/calcEF_NOx.r``, ``ShipEF/data/LLAFCoeff.rda``,
  ``ShipPowerModel/tests/testthat/testPropellerLaw.r``.
* US EPA, commcooking (2020 NEI commercial cooking), github.com/USEPA/commcooking,
  commit 12998d8c42acb78c2420a807eee42364ec37a34d: ``src/commcooking/cooking.py``,
  ``src/commcooking/data/nemo_efs_table.csv`` and the example output
  ``src/commcooking/examples/ri_food_emissions.csv`` (made without a meat balance, so the
  tests below run the project's inventory with the balance off); and commit
  7ff10b56c71706319a43048fc549e6d8fed3846d of ``src/commcooking/cooking.py``, whose
  ``get_meat_tons`` scales each meat by a commercial-meat scalar (2023 NEI).
* Fishman E., Washington S., Haworth N. (2014) Bike share's impact on car use: evidence
  from the United States, Great Britain, and Australia. Transportation Research Part D
  31:13-20, doi:10.1016/j.trd.2014.05.013, the table of estimated distance and car travel
  reduction per system (2012 data), as shown by the first author in "Global Bike Share
  Webinar", Institute for Sensible Transport, July 2015, slide "Impact methodology".
* Kelly P. et al. (2014) IJBNPA 11:132 and WHO/Europe HEAT, heatwalkingcycling.org,
  "Relative risk estimate in HEAT for cycling" (index.php?pg=cycling&act=more1).
* NACTO / Global Designing Cities Initiative (2016) Global Street Design Guide,
  "Cycle Share" (globaldesigningcities.org/publication/global-street-design-guide/
  designing-streets-people/designing-for-cyclists/cycle-share/).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from c3lib.topics.bikeshare import model as bikeshare
from c3lib.topics.cooking import model as cooking
from c3lib.topics.ports import model as ports

FACTORS = ports.load_factors()

# ShipEF locations: "ECA" and "GreatLakes" burn 0.1 % S distillate, "OutsideECA" 0.5 % S
# residual (calcEF.r defaults ECAfuelSulfurPercentage = 0.1, GlobalfuelSulfurPercentage = 0.5).
ECA_S = 0.1
GLOBAL_S = 0.5

# ShipEF/data/LLAFCoeff.rda (EPA 2009 C3 RIA Eq. 3-26), decoded at the commit above:
#   pollutant  a        x    b
#   nox        0.1255   1.5  10.4496
#   pm10       0.0059   1.5   0.2551
#   pm2.5      0.0059   1.5   0.2551
#   co         0.8378   1.0   0.1548
#   co2        44.1     1.0 648.6
#   so2        2.3735   NA   -0.4792   (used with the fuel term of calcLLAF.r)
SHIPEF_LLAF = {
    "NOx": (0.1255, 1.5, 10.4496),
    "PM10": (0.0059, 1.5, 0.2551),
    "PM2.5": (0.0059, 1.5, 0.2551),
    "CO": (0.8378, 1.0, 0.1548),
    "CO2": (44.1, 1.0, 648.6),
}
SHIPEF_SO2 = (2.3735, -0.4792)


def shipef_llaf(pollutant: str, load_factor: float) -> float:
    """ShipEF calcLLAF.r for one pollutant other than SO2 (1 at or above 20 % load)."""
    if load_factor > 0.2 or load_factor == 0:
        return 1.0
    a, x, b = SHIPEF_LLAF[pollutant]
    return (a * load_factor**-x + b) / (a * 0.2**-x + b)


def shipef_llaf_so2(load_factor: float, sulphur_pct: float) -> float:
    """ShipEF calcLLAF.r for SO2: a·((14.1205/LF + 205.7169)·S) + b, normalised at 20 %."""
    if load_factor > 0.2 or load_factor == 0:
        return 1.0
    a, b = SHIPEF_SO2
    num = a * ((14.1205 / load_factor + 205.7169) * sulphur_pct) + b
    den = a * ((14.1205 / 0.2 + 205.7169) * sulphur_pct) + b
    return num / den


def main_ef(engine_type: str, sulphur_pct: float, load_factor: float | None, tier: int = 2):
    return ports.engine_emission_factors(
        "main", engine_type, sulphur_pct, load_factor, ((tier, 1.0),), FACTORS
    )


# ----------------------------------------------------------------------------------------
# US EPA ShipEF / ShipPowerModel (Marine_Emissions_Tools, commit 752696e)
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load_factor", "bsfc_base", "expected"),
    [(0.5, 195.0, 202.5563), (0.7, 300.0, 301.785)],
)
def test_bsfc_at_load_shipef_benchmark(load_factor, bsfc_base, expected):
    # ShipEF/tests/testthat/testEmissionFactorAssignments.r, "calcLoadBSFC works":
    #   loadFactor = c(NA, 0.5, 0.7), BSFC_Baseline = c(185, 195, 300),
    #   loadBSFC = c(185, 202.5563, 301.785), expect_equal(..., tolerance = 1e-5)
    assert float(ports.bsfc_at_load(bsfc_base, load_factor)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("engine", "engine_type", "sulphur_pct", "expected"),
    [
        # "calcEF_CO2 Baseline works for Main engines": co2 = c(593.11, 607.23, 593.11,
        # 657.23, 669.51, 657.23, ...) for SSD then MSD at ECA, OutsideECA, GreatLakes
        ("main", "SSD", ECA_S, 593.11),
        ("main", "SSD", GLOBAL_S, 607.23),
        ("main", "MSD", ECA_S, 657.23),
        ("main", "MSD", GLOBAL_S, 669.51),
        # "calcEF_CO2 Auxiliary works": AuxCO2 = c(695.702, 706.878, 695.702, ...) for MSD
        # and the same for HSD
        ("aux", "MSD", ECA_S, 695.702),
        ("aux", "MSD", GLOBAL_S, 706.878),
        ("aux", "HSD", ECA_S, 695.702),
        ("aux", "HSD", GLOBAL_S, 706.878),
        # "calcEF_CO2 Boiler works": BoilerCO2 = c(961.8, 949.77, 961.8, ...)
        ("boiler", "MSD", ECA_S, 961.8),
        ("boiler", "MSD", GLOBAL_S, 949.77),
    ],
)
def test_engine_emission_factors_shipef_co2_baseline(engine, engine_type, sulphur_pct, expected):
    # ShipEF/tests/testthat/testEmissionFactorAssignments.r (tolerance = 1e-04 for main)
    ef = ports.engine_emission_factors(engine, engine_type, sulphur_pct, None, factors=FACTORS)
    assert ef["CO2"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("bsfc_base", "co2_per_fuel", "load_factor", "expected"),
    [
        # "calcEF_CO2 Baseline works for Main engines", loadCO2 (load-based BSFC, the
        # option loadBasedBSFC = "Y"): SSD OutsideECA at 0.54 -> 625.0085, SSD GreatLakes
        # at 0.79 -> 594.9282, MSD OutsideECA at 0.54 -> 689.1119, MSD GreatLakes at 0.79
        # -> 659.2447 (BSFC 195, 185, 215, 205 g/kWh; 3.114 HFO, 3.206 MGO g CO2/g)
        (195.0, 3.114, 0.54, 625.0085),
        (185.0, 3.206, 0.79, 594.9282),
        (215.0, 3.114, 0.54, 689.1119),
        (205.0, 3.206, 0.79, 659.2447),
    ],
)
def test_bsfc_at_load_shipef_co2_load_based(bsfc_base, co2_per_fuel, load_factor, expected):
    # The load curve as ShipEF's option "Y" uses it; the inventory keeps the baseline BSFC
    # (test_engine_emission_factors_shipef_default_wrapper).
    got = float(ports.bsfc_at_load(bsfc_base, load_factor)) * co2_per_fuel
    assert got == pytest.approx(expected, rel=1e-4)


def test_engine_emission_factors_shipef_co2_low_load_baseline_bsfc():
    # Decided: below 20 % load the BSFC stays at the baseline and only the LLAF applies,
    # as ShipEF's calcEF with its default loadBasedBSFC = "N" and output "EF_LLAF"
    # (testWrapperFunction.r "calcEF EF Load LLAF works": EF_LLAF = EF x calcLLAF).
    # ShipEF's option "Y" would also take calcLoadBSFC(0.06) = 1.239 x baseline
    # (testEmissionFactorAssignments.r: calcEF_CO2(SSD, ECA, 0.06) = 734.8858) and then
    # the LLAF; but the CO2 LLAF of EPA (2009) C3 RIA Eq. 3-26, (44.1/LF + 648.6), is
    # itself the low-load rise in fuel use (3.12 x the RIA fuel curve 14.1205/LF +
    # 205.7169 g/kWh), so "Y" counts that rise twice: 1169.9 g/kWh at 6 % load, 24 % above.
    # SSD MGO: 185 x 3.206 = 593.11; LLAF_CO2(0.06) = (735 + 648.6) / (220.5 + 648.6)
    # = 1383.6 / 869.1 = 1.591992; 593.11 x 1.591992 = 944.2254
    got = main_ef("SSD", ECA_S, 0.06)["CO2"]
    assert got == pytest.approx(593.11 * shipef_llaf("CO2", 0.06), rel=1e-6)
    assert got == pytest.approx(944.2254, rel=1e-5)
    assert got < 734.8858 * shipef_llaf("CO2", 0.06) * 0.85


def test_engine_emission_factors_shipef_default_wrapper():
    # Adopted: ShipEF's default loadBasedBSFC = "N" (the call in its vignette
    # OverviewOfShipEF.Rmd; the guidance's fuel-based factors are at the baseline BSFC).
    # testWrapperFunction.r, "calcEF EF Baseline works for Main Engines": SSD, OutsideECA,
    # Tier 2, loadFactor 0.3, loadBasedBSFC = "N": co2 = calcEF_CO2 baseline = 195 x 3.114.
    assert main_ef("SSD", GLOBAL_S, 0.3)["CO2"] == pytest.approx(607.23, rel=1e-4)


@pytest.mark.parametrize(
    ("engine", "engine_type", "sulphur_pct", "bsfc", "pm_nominal"),
    [
        # "calcEF_PM works for Main engines": EF = PM_base + S_act*BSFC*FSC*MWR*0.0001,
        # SSD_ECA <- 0.1545 + (0.1*185*2.247*7*0.0001), SSD_HFO <- 0.5761 + (0.5*195*...),
        # MSD_ECA <- 0.1545 + (0.1*205*...), MSD_HFO <- 0.5761 + (0.5*215*...)
        ("main", "SSD", ECA_S, 185.0, 0.1545),
        ("main", "SSD", GLOBAL_S, 195.0, 0.5761),
        ("main", "MSD", ECA_S, 205.0, 0.1545),
        ("main", "MSD", GLOBAL_S, 215.0, 0.5761),
        # "calcEF_PM works for Aux engines": MSD_ECA <- 0.1545 + (0.1*217*...), HFO 227
        ("aux", "MSD", ECA_S, 217.0, 0.1545),
        ("aux", "HSD", GLOBAL_S, 227.0, 0.5761),
        # "calcEF_PM works for Boilers": ECA <- 0.1545 + (0.1*300*...), HFO 305
        ("boiler", "MSD", ECA_S, 300.0, 0.1545),
        ("boiler", "MSD", GLOBAL_S, 305.0, 0.5761),
    ],
)
def test_engine_emission_factors_shipef_pm_and_so2(
    engine, engine_type, sulphur_pct, bsfc, pm_nominal
):
    # PM10 as the ShipEF test writes it (tolerance 1e-07); PM2.5 = 0.92 x PM10
    # (calcEF_PM.r: pm2.5 = weighted.mean(0.92*pm10, ...)); SO2 as "calcEF_SO2 works":
    # so2 = BSFC*2*0.97753*(fuelSulfurLevel/100).
    ef = ports.engine_emission_factors(engine, engine_type, sulphur_pct, None, factors=FACTORS)
    pm10 = pm_nominal + sulphur_pct * bsfc * 2.247 * 7 * 0.0001
    assert ef["PM10"] == pytest.approx(pm10, rel=1e-7)
    assert ef["PM2.5"] == pytest.approx(0.92 * pm10, rel=1e-7)
    assert ef["SO2"] == pytest.approx(bsfc * 2 * 0.97753 * sulphur_pct / 100, rel=1e-7)


@pytest.mark.parametrize(
    ("engine_type", "sulphur_pct", "tier", "load_factor", "expected"),
    [
        # testEmissionFactorAssignments.r, "calcEF_NOx works for Main engines": rows with
        # load >= 20 % (where ShipEF's LLAF is 1); locations ECA, OutsideECA, GreatLakes
        # cycle; loadFactor = c(0.22, 0.9, 0.83, 0.63, 0.1, 0.48, 0.96, 0.34, 0.27, 0.45,
        # 0.93, 0.03); nox SSD = 17, 18.1, 17, 16, 17, 16, 14.4, 15.3, 14.4, 3.4, 3.6, 14.4
        # and MSD = 13.2, 14, 13.2, 12.2, 13, 12.2, 10.5, 11.2, 10.5, 2.6, 2.8, 10.5.
        ("SSD", ECA_S, 0, 0.22, 17.0),
        ("SSD", GLOBAL_S, 0, 0.9, 18.1),
        ("SSD", ECA_S, 1, 0.63, 16.0),
        ("SSD", ECA_S, 1, 0.48, 16.0),
        ("SSD", ECA_S, 2, 0.96, 14.4),
        ("SSD", GLOBAL_S, 2, 0.34, 15.3),
        ("SSD", ECA_S, 3, 0.45, 3.4),
        ("SSD", GLOBAL_S, 3, 0.93, 3.6),
        ("MSD", ECA_S, 0, 0.22, 13.2),
        ("MSD", GLOBAL_S, 0, 0.9, 14.0),
        ("MSD", ECA_S, 1, 0.63, 12.2),
        ("MSD", ECA_S, 2, 0.96, 10.5),
        ("MSD", GLOBAL_S, 2, 0.34, 11.2),
        ("MSD", ECA_S, 3, 0.45, 2.6),
        ("MSD", GLOBAL_S, 3, 0.93, 2.8),
    ],
)
def test_engine_emission_factors_shipef_nox_main(
    engine_type, sulphur_pct, tier, load_factor, expected
):
    ef = main_ef(engine_type, sulphur_pct, load_factor, tier)
    assert ef["NOx"] == pytest.approx(expected, abs=1e-9)


def test_engine_emission_factors_shipef_nox_tier3_low_load():
    # Adopted: EPA (2022) EPA-420-B-22-011 §3.5.1, after Table 3.5, and ShipEF
    # calcEF_NOx.r (scrThreshold = 0.25): a Tier III main engine below 25 % load emits
    # at Tier II. "calcEF_NOx works for Main engines", SSD GreatLakes Tier 3 at 0.03:
    # nox = 14.4 ("last number is under low load, so reverts to T2"); calcEF multiplies
    # by calcLLAF for NOx.
    expected = 14.4 * shipef_llaf("NOx", 0.03)
    assert main_ef("SSD", ECA_S, 0.03, tier=3)["NOx"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("engine", "engine_type", "expected"),
    [
        # "calcEF_CO works for Main engine": SSD 1.4, MSD 1.1, MSD-ED 1.1; "for Aux
        # engine": MSD 1.1, HSD 0.9; "for boilers": 0.2
        ("main", "SSD", 1.4),
        ("main", "MSD", 1.1),
        ("aux", "MSD", 1.1),
        ("aux", "HSD", 0.9),
        ("boiler", "MSD", 0.2),
    ],
)
def test_engine_emission_factors_shipef_co(engine, engine_type, expected):
    ef = ports.engine_emission_factors(engine, engine_type, ECA_S, None, factors=FACTORS)
    assert ef["CO"] == pytest.approx(expected, abs=1e-9)


# testEngineLoadCalculations.r, "calcLLAF LLAF works": engineType SSD, MSD, ST, GT, LNG at
# OutsideECA, ECA, GreatLakes, ECA, OutsideECA with loadFactor = c(0.0284596685,
# 0.0521665062, 0.1766855145, 0.078203076, 0.708915957249701); the benchmark is the
# Eq. 3-26 ratio with LLAFCoeff, computed in the test (expect_equal, tolerance 1.5e-8).
SHIPEF_LLAF_LOADS = (0.0284596685, 0.0521665062, 0.1766855145, 0.078203076, 0.708915957249701)


@pytest.mark.parametrize("pollutant", ["NOx", "PM10", "PM2.5", "CO", "CO2"])
@pytest.mark.parametrize("load_factor", SHIPEF_LLAF_LOADS)
def test_low_load_adjustment_shipef_benchmark(pollutant, load_factor):
    got = float(ports.low_load_adjustment(pollutant, load_factor, FACTORS))
    assert got == pytest.approx(shipef_llaf(pollutant, load_factor), rel=1e-8)


@pytest.mark.parametrize(
    ("load_factor", "sulphur_pct"),
    [(0.0284596685, GLOBAL_S), (0.0521665062, ECA_S)],
)
def test_low_load_adjustment_shipef_so2(load_factor, sulphur_pct):
    # Adopted: ShipEF's LLAFCoeff so2 row with the fuel sulphur (calcLLAF.r), not the
    # 9.54 at 2 % load that EPA (2022) Table 3.10 prints, which no form of the RIA Eq.
    # 3-26 coefficients gives (ShipEF: 3.30 at 0.5 % S, 3.32 at 0.1 % S).
    got = float(ports.low_load_adjustment("SO2", load_factor, FACTORS, sulphur_pct))
    assert got == pytest.approx(shipef_llaf_so2(load_factor, sulphur_pct), rel=1e-4)


def test_engine_emission_factors_shipef_electric_drive_no_llaf():
    # testEngineLoadCalculations.r, "calcLLAF LLAF works for input LLAF tables": the
    # LLAF of MSD-ED and GT-ED engines is 1 ("electric drive engines"); NOx does not
    # depend on BSFC, so the MSD-ED factor at 10 % load is the MSD Tier 2 MGO 10.5 g/kWh
    # of "calcEF_NOx works for Main engines".
    assert main_ef("MSD-ED", ECA_S, 0.1)["NOx"] == pytest.approx(10.5, abs=1e-9)


@pytest.mark.parametrize(
    ("speed_kn", "max_speed_kn", "sea_margin_pct", "expected"),
    [
        # "calcPropPwr works for shipSpeed == serviceSpeed": speed 10, service speed 10
        # (max = 10/0.94), margin 0 -> 100*0.94^3 of 100 kW
        (10.0, 10.0 / 0.94, 0.0, 0.94**3),
        # "calcPropPwr works for shipSpeed == maxSpeed": 100 % load
        (10.0, 10.0, 0.0, 1.0),
        # "serviceMargin has the intended effect": 9 kn at max 10 kn, margin 15 ->
        # 100*(0.9^3)*1.15
        (9.0, 10.0, 15.0, 0.9**3 * 1.15),
        # "maximum power output is 100% load": 20 kn, service speed 10 kn, margin 15
        (20.0, 10.0 / 0.94, 15.0, 1.0),
        # "minimum non-zero power is 2% load": 0.2 kn, service speed 10 kn, margin 0
        (0.2, 10.0 / 0.94, 0.0, 0.02),
    ],
)
def test_propeller_load_factor_shippowermodel_benchmark(
    speed_kn, max_speed_kn, sea_margin_pct, expected
):
    # ShipPowerModel/tests/testthat/testPropellerLaw.r (totalInstalledPwr = 100, n = 3);
    # calcPropPwr.r converts a service speed to a maximum speed as refSpeed / 0.94.
    got = float(ports.propeller_load_factor(speed_kn, max_speed_kn, sea_margin_pct, 0.02))
    assert got == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------------------------------------
# US EPA commcooking example output (2020 NEI commercial cooking, commit 12998d8)
# ----------------------------------------------------------------------------------------

# src/commcooking/examples/ri_food_emissions.csv, ann_value [short tons/yr] of one
# restaurant by device (ccb conveyorized = chain-driven, ucb under-fired, fg flat griddle,
# cg clamshell griddle, dff deep-fat fryer) and pollutant: "Prime Time Café" (family,
# region 09011) and "The Commons" (fast_food, region 44001).
EPA_COOKING_EXAMPLE = {
    "family": {
        ("chain_driven", "PM2.5"): 0.0563621814,
        ("chain_driven", "PM10"): 0.058050335295000005,
        ("chain_driven", "CO"): 0.048569506199999994,
        ("chain_driven", "VOC"): 0.014578969229999999,
        ("underfired", "PM2.5"): 0.35616414960000004,
        ("underfired", "PM10"): 0.36779785528500003,
        ("underfired", "CO"): 0.14448467754,
        ("underfired", "VOC"): 0.04418663445,
        ("flat_griddle", "PM2.5"): 0.09720257119999999,
        ("flat_griddle", "PM10"): 0.12789811999999998,
        ("flat_griddle", "CO"): 0.01585431827,
        ("flat_griddle", "VOC"): 0.007598999485,
    },
    "fast_food": {
        ("chain_driven", "PM2.5"): 0.0649481868,
        ("chain_driven", "PM10"): 0.06689350779,
        ("chain_driven", "CO"): 0.05596840439999999,
        ("chain_driven", "VOC"): 0.01679987526,
        ("underfired", "PM2.5"): 0.22062311040000002,
        ("underfired", "PM10"): 0.22782951884,
        ("underfired", "CO"): 0.08949990896000001,
        ("underfired", "VOC"): 0.027371066800000003,
        ("flat_griddle", "PM2.5"): 0.0428677392,
        ("flat_griddle", "PM10"): 0.056404920000000004,
        ("flat_griddle", "CO"): 0.0069919835700000006,
        ("flat_griddle", "VOC"): 0.003351268635,
        ("clamshell_griddle", "PM2.5"): 0.00809612496,
        ("clamshell_griddle", "PM10"): 0.0095579253,
    },
}
# EPA multiplies tons of food by the ``ef`` column of nemo_efs_table.csv [lbs./ton], which
# is 2 x the printed ``ef_orig`` [lb./1000 lb.] rounded to 0.01 (PM10 poultry 10.47 ->
# 20.93, VOC conveyorized hamburger 2.27 -> 4.55, VOC flat-griddle poultry 0.4 -> 0.79);
# the project uses ``ef_orig`` in g/kg. PM2.5 and CO doubles are exact; the tolerances
# below are what that rounding allows for each pollutant's mix of foods.
COOKING_TOLERANCE = {"PM2.5": 1e-9, "CO": 1e-9, "PM10": 1e-3, "VOC": 5e-3}


def _one_restaurant(restaurant_type: str) -> pd.Series:
    # a bare Series carries no meat-balance factor: the survey meat as EPA's example uses it
    inv = cooking.inventory(pd.Series({restaurant_type: 1.0}))
    inv = inv[inv["restaurant_type"] == restaurant_type]
    return inv.groupby(["device", "pollutant"])["emissions"].sum() / cooking.KG_PER_SHORT_TON * 1000


@pytest.mark.parametrize("restaurant_type", list(EPA_COOKING_EXAMPLE))
def test_inventory_epa_commcooking_example(restaurant_type):
    got = _one_restaurant(restaurant_type)  # short tons/yr, as EPA reports
    for (device, pollutant), expected in EPA_COOKING_EXAMPLE[restaurant_type].items():
        rel = COOKING_TOLERANCE[pollutant]
        if device == "flat_griddle" and pollutant == "VOC":
            rel = 2e-2  # 0.79 vs 0.80 and 0.21 vs 0.22 lbs./ton on the griddle's foods
        assert got[(device, pollutant)] == pytest.approx(expected, rel=rel), (device, pollutant)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "EPA's example fryer VOC counts the fryer potato line 3.5 times per restaurant: "
        "family 0.0068869 short t = meat on fryers 0.0056121 (EPA's lbs./ton factors) + "
        "3.5 x potatoes 0.00036422 (fast food 0.0143243 = 0.0078741 + 3.5 x 0.0018429, "
        "seafood likewise); cooking.py calc_potato and potatoes_cooked give each "
        "restaurant the potato amount once, so the project's family fryer VOC is "
        "0.0058011 short t (-15.8 %)"
    ),
)
@pytest.mark.parametrize(
    ("restaurant_type", "expected"),
    [("family", 0.00688688827125), ("fast_food", 0.014324278366666667)],
)
def test_inventory_epa_commcooking_example_fryer_voc(restaurant_type, expected):
    got = _one_restaurant(restaurant_type)
    assert got[("fryer", "VOC")] == pytest.approx(expected, rel=1e-2)


# USEPA/commcooking commit 7ff10b5, src/commcooking/cooking.py: "Scale factors for
# commercial/retail meat consumption based on USDA food consumption data (table 23.7 of
# 2023NEI TSD)" comm_meat_scalars, and get_meat_tons: food_tpy = dev_cnt × meat_tons × scalar
NEI_2023_MEAT_SCALARS = {
    "steak": 0.2,
    "hamburger": 0.09,
    "poultry": 0.3,
    "pork": 0.74,
    "seafood": 0.08,
    "other": 0.01,
}


def test_inventory_epa_commcooking_2023_meat_scalars():
    # one fast-food restaurant, short tons a year as get_meat_tons gives them:
    #   conveyorized hamburger 0.186 × 1.07 × 20.7 × 0.09 = 0.37077426
    #   under-fired pork       0.308 × 1.58 × 3.8 × 0.74 = 1.36843168
    #   deep-fat fryer other   0.968 × 3.10 × 7.1 × 0.01 = 0.21305680
    # and the potatoes of calc_potato, which the scalars leave alone:
    #   2,988,500 × 0.74 / (700,000 × 0.36) = 8.7757540 short tons
    inv = cooking.inventory(pd.Series({"fast_food": 1.0}), NEI_2023_MEAT_SCALARS)
    inv = inv[inv["restaurant_type"] == "fast_food"]
    food = inv.drop_duplicates(["device", "food"]).set_index(["device", "food"])["food_kg"]
    tons = food / cooking.KG_PER_SHORT_TON
    assert tons[("chain_driven", "hamburger")] == pytest.approx(0.37077426, rel=1e-9)
    assert tons[("underfired", "pork")] == pytest.approx(1.36843168, rel=1e-9)
    assert tons[("fryer", "potatoes")] == pytest.approx(8.7757540, rel=1e-7)
    pm = inv[(inv["device"] == "chain_driven") & (inv["pollutant"] == "PM2.5")]
    # PM2.5 7.3 g/kg hamburger and steak, 9.9 poultry and pork, 3.2 seafood (nemo_efs_table):
    # 0.19902 × (7.3 × (20.7 × 0.09 + 6.1 × 0.2) + 9.9 × (10.7 × 0.3 + 1.5 × 0.74)
    #   + 3.2 × 3.1 × 0.08) = 0.19902 × 66.06750 = 13.14875 lb/1000 lb × short ton
    expected_t = 0.19902 * 66.06750 * cooking.KG_PER_SHORT_TON / 1e6
    assert pm["emissions"].sum() == pytest.approx(expected_t, rel=1e-6)


# ----------------------------------------------------------------------------------------
# Bike share: Fishman et al. (2014) trip-to-km and car-km avoided; HEAT; station spacing
# ----------------------------------------------------------------------------------------

# Fishman, Washington & Haworth (2014) TR-D 31:13-20, 2012 figures: bikes, trips, trips per
# bike per day, mean trip duration [min], assumed speed 12 km/h, distance per trip [km],
# distance per system [km], car substitution, car travel reduction [km] and per bike [km].
FISHMAN_2014 = {
    "Melbourne": (600, 138_548, 0.6, 22.0, 4.4, 609_611, 0.19, 115_826, 193),
    "Brisbane": (1800, 209_232, 0.3, 16.2, 3.2, 677_912, 0.21, 142_361, 79),
    "Washington, D.C.": (1800, 2_008_079, 3.0, 15.8, 3.1, 6_345_530, 0.07, 444_187, 247),
    "London": (8000, 9_040_580, 3.1, 17.5, 3.5, 31_642_029, 0.02, 632_841, 79),
}
FISHMAN_SPEED_KMH = 12.0


@pytest.mark.parametrize("city", list(FISHMAN_2014))
def test_trip_length_km_fishman_2014(city):
    bikes, trips, _, minutes, km_per_trip, system_km, *_ = FISHMAN_2014[city]
    km = bikeshare.trip_length_km(minutes, FISHMAN_SPEED_KMH)
    # The per-trip figure is printed to 0.1 km (Washington's 3.16 km shows as 3.1); the
    # system total, to the km, is trips x the unrounded distance.
    assert km == pytest.approx(km_per_trip, abs=0.1)
    assert trips * km == pytest.approx(system_km, abs=1.0)


@pytest.mark.parametrize("city", list(FISHMAN_2014))
def test_avoided_activity_fishman_2014_car_km(city):
    bikes, trips, _, minutes, _, system_km, car_share, car_km, per_bike = FISHMAN_2014[city]
    # Fishman et al. equate one bike-km that replaces a car trip with one car-km (no
    # occupancy correction), the credit the project uses: its car row gives 1 car-km per km.
    from c3lib.topics.transport.model import occupancy

    shares = bikeshare.substitution_shares(car_share, 0.0, 0.0, 0.0, 0.0)
    vkm_per_pkm = bikeshare.vehicle_km_per_pkm(occupancy())
    assert vkm_per_pkm["car"] == 1.0
    bike_km = trips * bikeshare.trip_length_km(minutes, FISHMAN_SPEED_KMH)
    act = bikeshare.avoided_activity(bike_km, shares, vkm_per_pkm)
    assert act.loc["car", "vehicle_km"] == pytest.approx(car_km, abs=1.0)
    assert act.loc["car", "vehicle_km"] / bikes == pytest.approx(per_bike, abs=0.5)


@pytest.mark.parametrize("city", list(FISHMAN_2014))
def test_existing_system_trips_per_bike_day_fishman_2014(city):
    bikes, trips, per_bike_day, *_ = FISHMAN_2014[city]
    # 2012 is a leap year: with 366 days every printed rate follows (Washington's
    # 2,008,079 trips give 3.05 trips/bike/day over 366 days, printed 3.0; over 365 days
    # 3.06 would print 3.1).
    system = bikeshare.ExistingSystem(bikes=bikes, daily_trips=trips / 366)
    assert system.trips_per_bike_day == pytest.approx(per_bike_day, abs=0.05)


def test_heat_cycling_heat_reference_volume():
    # Kelly et al. (2014) IJBNPA 11:132 and the HEAT page "Relative risk estimate in HEAT
    # for cycling": RR 0.90 at the common exposure of 11.25 MET-hours per week, cycling
    # exposures converted "assuming a linear dose-response relationship and an average
    # intensity of 6.8 METs". 11.25 MET-h / 6.8 MET = 99.26 min a week; the project's
    # 100 min reference is that figure rounded, within 1 %.
    minutes = 11.25 / 6.8 * 60
    res = bikeshare.heat_cycling(
        annual_trips=1e6,
        trip_minutes=minutes,
        trips_per_user_week=1.0,
        mortality_rate_per_100k=300.0,
        vsl=1.0,
    )
    assert res.risk_reduction == pytest.approx(0.10, rel=0.01)
    assert not res.capped


def test_heat_cycling_linear_dose_response():
    # The same page: exposures are scaled with "a linear dose-response relationship", so
    # half the reference volume gives half the risk reduction.
    full = bikeshare.heat_cycling(1e6, 100.0, 1.0, 300.0, 1.0)
    half = bikeshare.heat_cycling(1e6, 50.0, 1.0, 300.0, 1.0)
    assert half.risk_reduction == pytest.approx(full.risk_reduction / 2, rel=1e-12)
    assert full.risk_reduction == pytest.approx(1 - 0.90, rel=1e-12)


def test_station_spacing_m_global_street_design_guide():
    # NACTO/GDCI (2016) Global Street Design Guide, "Cycle Share": "stations are spaced no
    # more than 300 m apart ... This translates to an overall density of 11 stations per
    # square kilometer." 1/0.3² = 11.1 rounds to 11, so the spacing agrees within 1 %.
    assert bikeshare.station_spacing_m(11.0) == pytest.approx(300.0, rel=0.01)
    assert 1e6 / 300.0**2 == pytest.approx(11.0, abs=0.5)
    assert math.isclose(bikeshare.station_spacing_m(1e6 / 300.0**2), 300.0)
