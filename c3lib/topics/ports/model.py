"""Port operations: an activity-based inventory of a port's emissions and what measures buy.

Ocean-going vessels (OGV) are inventoried call by call, by operating mode (transit in the
port domain, reduced-speed zone, the river or channel up to a river port, maneuvering,
hotelling at berth, anchorage) and engine
(main, auxiliary, boiler), with the US EPA Ports Emissions Inventory Guidance method:
``E = P × LF × hours × EF × LLAF``. Cargo-handling equipment (CHE) and harbour craft are
simpler lines, ``population × power × load factor × hours × EF``. Four measures (vessel
speed reduction, shore power at berth, a low-sulphur fuel switch and cleaner cargo-handling
equipment) and their combination are applied as changes to a :class:`Port` and the
inventory is computed again.

Reference factors are the CSV tables ``ship_*.csv`` and ``port_*.csv`` under
``c3lib/data`` (every row has a source and a quality flag); :func:`load_factors` reads
them once. Every other function is pure: it takes a :class:`Port` (and the factors) and
returns numbers or DataFrames. Reader tables, charts and the explorer view are in
:mod:`c3lib.topics.ports.views`.

Units: power [kW], energy [kWh], speed [kn], distance [nm], time [h], emission factors
[g/kWh], emissions [t/yr]. Pollutants: ``NOx`` (as NO2), ``PM10``, ``PM2.5``, ``SO2``,
``CO`` and ``CO2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache

import numpy as np
import pandas as pd

from c3lib.exceptions import C3Error, ReferenceDataError
from c3lib.reference import reference_table

__all__ = [
    "POLLUTANTS",
    "MODES",
    "ENGINES",
    "MEASURES",
    "EMISSION_COLUMNS",
    "NON_CONTAINER_CALL_FIELDS",
    "ShipFactors",
    "load_factors",
    "Port",
    "Levers",
    "port_from_inputs",
    "used_inputs",
    "grid_factor",
    "InPlace",
    "with_measures_in_place",
    "propeller_load_factor",
    "bsfc_at_load",
    "low_load_adjustment",
    "fuel_for_sulphur",
    "engine_emission_factors",
    "reference_row",
    "container_calls",
    "berth_hours",
    "call_activity",
    "ogv_emissions",
    "che_emissions",
    "harbour_craft_emissions",
    "port_emissions",
    "vessel_speed_reduction",
    "shore_power",
    "fuel_switch",
    "cleaner_che",
    "measure_scenarios",
    "measure_reductions",
    "berth_aux_per_call",
]

POLLUTANTS = ("NOx", "PM10", "PM2.5", "SO2", "CO", "CO2")
MODES = (
    "transit",
    "reduced-speed zone",
    "river or channel",
    "maneuvering",
    "hotelling",
    "anchorage",
)
ENGINES = ("main", "aux", "boiler", "shore-power")
MEASURES = {
    "vessel-speed-reduction": "Vessel speed reduction",
    "shore-power": "Shore power at berth",
    "fuel-switch": "Low-sulphur fuel switch",
    "cleaner-che": "Cleaner cargo-handling equipment",
    "combined": "Combined",
}
EMISSION_COLUMNS = [
    "city",
    "sector",
    "ship_class",
    "mode",
    "engine",
    "pollutant",
    "t_per_yr",
]
#: Port-operations input fields of non-container calls [calls/yr] and the ship class each counts.
NON_CONTAINER_CALL_FIELDS = {
    "bulk_calls_per_yr": "bulk-panamax",
    "tanker_calls_per_yr": "tanker-aframax",
    "general_cargo_calls_per_yr": "general-cargo",
    "roro_calls_per_yr": "roro",
    "cruise_calls_per_yr": "cruise",
}
_NO_LOW_LOAD = ("MSD-ED", "GT-ED")  # electric drive: engines are switched off, not run light


# ----------------------------------------------------------------------------------------
# Reference factors
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ShipFactors:
    """The reference tables the port inventory reads (treat as read-only).

    Attributes
    ----------
    classes : pandas.DataFrame
        ``ship_classes.csv`` indexed by ``ship_class``: engine type, installed power [kW],
        maximum speed [kn], transit speed ratio [-], auxiliary and boiler load by mode [kW].
    call_defaults : pandas.DataFrame
        ``ship_call_defaults.csv``: capacity [TEU] of container classes, berth hours [h]
        of other classes.
    nox, fuel_ef, fuels, constants, llaf : pandas.DataFrame
        ``ship_nox_ef.csv``, ``ship_fuel_ef.csv``, ``ship_fuels.csv``,
        ``ship_constants.csv``, ``ship_llaf.csv``.
    equipment, nonroad_ef, shore_power, port_constants : pandas.DataFrame
        ``port_equipment.csv``, ``port_nonroad_ef.csv``, ``port_shore_power.csv``,
        ``port_constants.csv``.
    """

    classes: pd.DataFrame
    call_defaults: pd.DataFrame
    nox: pd.DataFrame
    fuel_ef: pd.DataFrame
    fuels: pd.DataFrame
    constants: pd.DataFrame
    llaf: pd.DataFrame
    equipment: pd.DataFrame
    nonroad_ef: pd.DataFrame
    shore_power: pd.DataFrame
    port_constants: pd.DataFrame

    def constant(self, name: str) -> float:
        """A named constant from ``ship_constants.csv`` or ``port_constants.csv``."""
        try:
            return self._constants[name]
        except KeyError:
            msg = f"ship_constants.csv/port_constants.csv: no constant {name!r}"
            raise ReferenceDataError(msg) from None

    @cached_property
    def _constants(self) -> dict[str, float]:
        # the first row of a name wins, and ship_constants.csv before port_constants.csv
        named: dict[str, float] = {}
        for table in (self.constants, self.port_constants):
            for name, value in zip(table["name"], table["value"], strict=True):
                named.setdefault(name, float(value))
        return named

    def call_default(self, ship_class: str, parameter: str) -> float:
        """A per-class default from ``ship_call_defaults.csv``."""
        try:
            return self._call_defaults[ship_class, parameter]
        except KeyError:
            raise ReferenceDataError(
                f"ship_call_defaults.csv: no {parameter!r} for ship class {ship_class!r}"
            ) from None

    @cached_property
    def _call_defaults(self) -> dict[tuple[str, str], float]:
        t = self.call_defaults
        named: dict[tuple[str, str], float] = {}
        for key in zip(t["ship_class"], t["parameter"], t["value"], strict=True):
            named.setdefault((key[0], key[1]), float(key[2]))  # the first row wins
        return named

    @cached_property
    def _ships(self) -> dict[str, dict]:
        # each ship class's row as plain Python values (the inventory reads them per call)
        return {
            str(c): {k: (v if isinstance(v, str) else float(v)) for k, v in row.items()}
            for c, row in self.classes.to_dict("index").items()
        }

    def cited(self) -> list[pd.DataFrame]:
        """The tables without their ``assumed`` rows: what a source list should cite."""
        return [f[f["quality"] != "assumed"] for f in self.frames()]

    def frames(self) -> list[pd.DataFrame]:
        """All tables."""
        return [
            self.classes.reset_index(),
            self.call_defaults,
            self.nox,
            self.fuel_ef,
            self.fuels,
            self.constants,
            self.llaf.reset_index(),
            self.equipment,
            self.nonroad_ef,
            self.shore_power,
            self.port_constants,
        ]


@cache
def load_factors() -> ShipFactors:
    """Read the port reference tables once (cached)."""
    return ShipFactors(
        classes=reference_table("ship_classes").set_index("ship_class"),
        call_defaults=reference_table("ship_call_defaults"),
        nox=reference_table("ship_nox_ef"),
        fuel_ef=reference_table("ship_fuel_ef"),
        fuels=reference_table("ship_fuels").set_index("fuel"),
        constants=reference_table("ship_constants"),
        llaf=reference_table("ship_llaf").set_index("pollutant"),
        equipment=reference_table("port_equipment"),
        nonroad_ef=reference_table("port_nonroad_ef"),
        shore_power=reference_table("port_shore_power").set_index("pollutant"),
        port_constants=reference_table("port_constants"),
    )


# ----------------------------------------------------------------------------------------
# The port
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Port:
    """A city's port: its traffic, how ships operate in its domain, and the measures in force.

    Attributes
    ----------
    city : str
        City id.
    name : str
        Name used in tables and charts.
    status : str
        ``ok``; ``no-seaport`` (the city has none); or ``no-data`` (a port, but no
        throughput or call figures).
    calls : tuple of (str, float)
        Calls per year by ship class. [calls/yr]
    teu_per_yr : float
        Container throughput (drives cargo-handling equipment). [TEU/yr]
    domain_nm : float
        One-way length of the open-water inventory domain, from its boundary to the
        breakwater (sea port) or to the river or channel entrance (river port). [nm]
    rsz_nm : float
        One-way length of the reduced-speed zone inside the domain. [nm]
    maneuvering_h : float
        Maneuvering time per call, in and out. [h]
    maneuvering_speed_kn : float
        Average maneuvering speed. [kn]
    berth_h : float
        Container-ship hotelling time per call. [h]
    anchorage_h : float
        Average time at anchor per call. [h]
    sulphur_pct : float
        Fuel sulphur burnt in the domain. [% m/m]
    tier_shares : tuple of (int, float)
        Share of calls by IMO NOx tier. [-]
    grid_ef : float
        Grid CO2 factor (NaN when unknown). [kg CO2/kWh]
    has_seaport : float
        1 or 0 as the city's params say; NaN when not given. [flag]
    calls_basis : str
        How the calls were obtained (derived from throughput, or the city's own count).
    rsz_speed_kn : float or None
        Speed limit in the reduced-speed zone (None: ships keep transit speed). [kn]
    rsz_compliance : float
        Share of transits that keep to the limit. [-]
    shore_power_share : float
        Share of berth hours on shore power. [-]
    che_electric_share : float
        Share of diesel cargo-handling equipment replaced by battery-electric units. [-]
    fairway_nm : float
        One-way length of the river or dredged channel between the open-water domain
        and the harbour, 0 for a sea port. [nm]
    fairway_speed_kn : float
        Speed through the river or channel (ships slower at sea keep their speed). [kn]
    """

    city: str
    name: str
    status: str
    calls: tuple[tuple[str, float], ...]
    teu_per_yr: float
    domain_nm: float
    rsz_nm: float
    maneuvering_h: float
    maneuvering_speed_kn: float
    berth_h: float
    anchorage_h: float
    sulphur_pct: float
    tier_shares: tuple[tuple[int, float], ...]
    grid_ef: float = math.nan
    has_seaport: float = math.nan
    calls_basis: str = ""
    rsz_speed_kn: float | None = None
    rsz_compliance: float = 1.0
    shore_power_share: float = 0.0
    che_electric_share: float = 0.0
    fairway_nm: float = 0.0
    fairway_speed_kn: float = 10.0

    @property
    def has_port(self) -> bool:
        """Whether there is a port with traffic to inventory."""
        return self.status == "ok"

    @property
    def calls_per_yr(self) -> pd.Series:
        """Calls per year by ship class (classes with calls only). [calls/yr]"""
        s = pd.Series(dict(self.calls), dtype=float, name="calls_per_yr")
        s.index.name = "ship_class"
        return s[s > 0]


@dataclass(frozen=True)
class Levers:
    """Settings of the measures.

    Attributes
    ----------
    vsr_speed_kn : float
        Speed limit in the reduced-speed zone. [kn]
    vsr_zone_nm : float
        One-way length of the zone. [nm]
    vsr_compliance : float
        Share of transits that keep to the limit. [-]
    shore_power_uptake : float
        Share of berth hours on shore power. [-]
    switch_sulphur_pct : float
        Fuel sulphur after the switch. [% m/m]
    che_electric_share : float
        Share of diesel cargo-handling equipment electrified. [-]
    """

    vsr_speed_kn: float
    vsr_zone_nm: float
    vsr_compliance: float
    shore_power_uptake: float
    switch_sulphur_pct: float
    che_electric_share: float


def grid_factor(profile: Mapping[str, float]) -> float:
    """A city's grid CO2 factor from its resolved profile, NaN when it has none.

    Parameters
    ----------
    profile : mapping
        Profile values by field, each resolved at its level (city, region or country;
        :func:`c3lib.kit.casestudy.profiles`).

    Returns
    -------
    float
        [kg CO2/kWh]
    """
    value = profile.get("grid_ef")
    return float(value) if value is not None else math.nan


def used_inputs(inputs: pd.DataFrame) -> pd.DataFrame:
    """The port inputs the model reads: for a city with no seaport only ``has_seaport``.

    Parameters
    ----------
    inputs : pandas.DataFrame
        Port-operations inputs in long form (columns ``city``, ``field``, ``value`` …).

    Returns
    -------
    pandas.DataFrame
        The same rows less those of a city whose ``has_seaport`` is 0: its port settings
        are moot (:func:`port_from_inputs` makes no port of them).
    """
    moot = inputs["city"].isin(
        inputs.loc[(inputs["field"] == "has_seaport") & (inputs["value"] == 0), "city"]
    )
    return inputs[~moot | (inputs["field"] == "has_seaport")].reset_index(drop=True)


def _role_values(inputs: pd.DataFrame, role: str) -> dict[str, float]:
    rows = inputs[inputs["role"] == role]
    return {str(f): float(v) for f, v in zip(rows["field"], rows["value"], strict=True)}


def port_from_inputs(
    inputs: pd.DataFrame,
    role: str,
    name: str,
    rsz_nm: float,
    grid_ef: float = math.nan,
    factors: ShipFactors | None = None,
) -> Port:
    """Build a city's :class:`Port` from its declared port-operations inputs.

    Parameters
    ----------
    inputs : pandas.DataFrame
        Long table of inputs with columns ``role``, ``city``, ``field``, ``value``
        (as :func:`c3lib.kit.casestudy.inputs` returns).
    role : str
        ``mentor`` or ``learning``.
    name : str
        City name for tables and charts.
    rsz_nm : float
        One-way length of the reduced-speed zone; clipped to the domain. [nm]
    grid_ef : float, optional
        Grid CO2 factor of the city's country. [kg CO2/kWh]
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    Port
        ``status`` is ``no-seaport`` when ``has_seaport`` is 0, ``no-data`` when neither
        throughput nor calls are known, otherwise ``ok``.
    """
    factors = factors or load_factors()
    v = _role_values(inputs, role)
    if not v:
        raise C3Error(f"no port-operations inputs for the {role} city")
    city = str(inputs.loc[inputs["role"] == role, "city"].iloc[0])
    has_seaport = v.get("has_seaport", math.nan)
    calls: dict[str, float] = {}
    teu = v.get("container_teu_per_yr", math.nan)
    container_total = v.get("container_calls_per_yr", math.nan)
    basis = ""
    if not math.isnan(teu) or not math.isnan(container_total):
        table = container_calls(
            teu_per_yr=0.0 if math.isnan(teu) else teu,
            share_feeder=v["teu_share_feeder"],
            share_mainline=v["teu_share_mainline"],
            exchange_ratio=v["teu_exchange_ratio"],
            calls_per_yr=container_total,
            factors=factors,
        )
        calls.update(table["calls_per_yr"].to_dict())
        basis = (
            "container calls: city's count, split by size from throughput"
            if not math.isnan(container_total)
            else "container calls derived: TEU/yr ÷ TEU exchanged per call"
        )
        if math.isnan(teu):
            teu = float((table["calls_per_yr"] * table["teu_per_call"]).sum())
    for fname, ship_class in NON_CONTAINER_CALL_FIELDS.items():
        n = v.get(fname, 0.0)
        if not math.isnan(n) and n > 0:
            calls[ship_class] = n
    if has_seaport == 0:
        status, calls, teu = "no-seaport", {}, 0.0
    elif sum(calls.values()) > 0:
        status = "ok"
    else:
        status, teu = "no-data", 0.0
    tier2, tier3 = v["tier2_share"], v["tier3_share"]
    if tier2 + tier3 > 1 + 1e-9:
        raise C3Error(
            f"{city}: port-operations tier2_share + tier3_share = {tier2 + tier3:g}; "
            "expected at most 1"
        )
    tiers = tuple((t, s) for t, s in ((1, 1 - tier2 - tier3), (2, tier2), (3, tier3)) if s > 0)
    return Port(
        city=city,
        name=name,
        status=status,
        calls=tuple(calls.items()),
        teu_per_yr=0.0 if math.isnan(teu) else teu,
        domain_nm=v["domain_nm"],
        rsz_nm=min(rsz_nm, v["domain_nm"]),
        maneuvering_h=v["maneuvering_h_per_call"],
        maneuvering_speed_kn=v["maneuvering_speed_kn"],
        berth_h=v["berth_h_per_call"],
        anchorage_h=v["anchorage_h_per_call"],
        sulphur_pct=v["fuel_sulphur_pct"],
        tier_shares=tiers,
        grid_ef=grid_ef,
        has_seaport=has_seaport,
        calls_basis=basis,
        fairway_nm=v.get("fairway_nm", 0.0),
        fairway_speed_kn=v.get("fairway_speed_kn", 10.0),
    )


# ----------------------------------------------------------------------------------------
# Engine load and emission factors
# ----------------------------------------------------------------------------------------


def propeller_load_factor(
    speed_kn, max_speed_kn, sea_margin_pct: float = 10.0, min_load: float = 0.02
) -> np.ndarray:
    """Main-engine load factor from the propeller law.

    Parameters
    ----------
    speed_kn : array_like
        Actual speed over ground. [kn]
    max_speed_kn : array_like
        Maximum speed of the ship. [kn]
    sea_margin_pct : float, optional
        Added resistance for weather and sea state: 10 coastal, 15 at sea. [%]
    min_load : float, optional
        Lower clip of the load factor. [-]

    Returns
    -------
    numpy.ndarray
        Load factor, 0 where the ship is stopped. [-]

    Notes
    -----
    .. math:: LF = \\min\\left(1, \\max\\left(LF_{min},
              \\left(\\frac{AS}{MS}\\right)^3 \\left(1 + \\frac{SM}{100}\\right)\\right)\\right)

    with AS the actual and MS the maximum speed [1]_ [2]_.

    References
    ----------
    .. [1] US EPA (2009) Regulatory Impact Analysis: Control of Emissions of Air Pollution
       from Category 3 Marine Diesel Engines, EPA-420-R-09-019.
    .. [2] USEPA/Marine_Emissions_Tools, ShipPowerModel ``calcPropPwr.r``.
    """
    v = np.asarray(speed_kn, dtype=float)
    ms = np.asarray(max_speed_kn, dtype=float)
    lf = np.clip((v / ms) ** 3 * (1 + sea_margin_pct / 100), min_load, 1.0)
    return np.where(v > 0, lf, 0.0)


def bsfc_at_load(bsfc_base, load_factor) -> np.ndarray:
    """Brake-specific fuel consumption at a given engine load.

    Parameters
    ----------
    bsfc_base : array_like
        Baseline (optimum-load) fuel consumption. [g/kWh]
    load_factor : array_like
        Engine load as a share of rated power. [-]

    Returns
    -------
    numpy.ndarray
        Fuel consumption at that load. [g/kWh]

    Notes
    -----
    .. math:: BSFC(LF) = BSFC_{base}\\,(0.455\\,LF^2 - 0.71\\,LF + 1.28)

    (Jalkanen et al. 2012, as used in the Third IMO GHG Study) [1]_. The curve is lowest
    near 78 % load. ShipEF's option ``loadBasedBSFC = "Y"``; the inventory keeps the
    baseline BSFC, ShipEF's default (:func:`engine_emission_factors`).

    References
    ----------
    .. [1] Jalkanen J.-P. et al. (2012) Atmos. Chem. Phys. 12:2641–2659,
       doi:10.5194/acp-12-2641-2012; coded in USEPA/Marine_Emissions_Tools ShipEF
       ``calcLoadBSFC.r``.
    """
    lf = np.asarray(load_factor, dtype=float)
    return np.asarray(bsfc_base, dtype=float) * (0.455 * lf**2 - 0.71 * lf + 1.28)


def low_load_adjustment(
    pollutant: str,
    load_factor,
    factors: ShipFactors | None = None,
    sulphur_pct: float | None = None,
) -> np.ndarray:
    """Low-load adjustment multiplier (LLAF) for a main engine below 20 % load.

    Parameters
    ----------
    pollutant : str
        One of :data:`POLLUTANTS`.
    load_factor : array_like
        Main-engine load factor. [-]
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).
    sulphur_pct : float, optional
        Fuel sulphur content; required for ``SO2``. [% m/m]

    Returns
    -------
    numpy.ndarray
        Multiplier on the emission factor; 1 at or above the threshold and at zero load. [-]

    Notes
    -----
    .. math:: LLAF(LF) = \\frac{a\\,LF^{-x} + b}{a\\,0.2^{-x} + b}, \\quad 0 < LF < 0.2

    with the EPA (2009) C3 RIA Eq. 3-26 coefficients in ``ship_llaf.csv`` [1]_. For SO2
    the curve is that of fuel sulphur burnt, as ShipEF ``calcLLAF.r`` codes it [2]_:

    .. math:: LLAF_{SO_2}(LF) = \\frac{a\\,(14.1205/LF + 205.7169)\\,S + b}
              {a\\,(14.1205/0.2 + 205.7169)\\,S + b}

    with ``a = 2.3735``, ``b = -0.4792`` and S the fuel sulphur [% m/m] (1 where the
    sulphur term does not exceed ``-b``: a sulphur-free fuel). Not applied to auxiliary
    engines or boilers, nor to electric-drive engines [2]_.

    References
    ----------
    .. [1] US EPA (2009) Regulatory Impact Analysis: Control of Emissions of Air Pollution
       from Category 3 Marine Diesel Engines, EPA-420-R-09-019, Eq. 3-26.
    .. [2] USEPA/Marine_Emissions_Tools, ShipEF ``calcLLAF.r`` and ``LLAFCoeff``.
    """
    factors = factors or load_factors()
    if pollutant not in factors.llaf.index:
        raise ReferenceDataError(f"ship_llaf.csv: no coefficients for pollutant {pollutant!r}")
    row = factors.llaf.loc[pollutant]
    threshold = factors.constant("low_load_threshold")
    lf = np.asarray(load_factor, dtype=float)
    low = (lf > 0) & (lf < threshold)
    safe = np.where(low, lf, threshold)
    if pollutant == "SO2":
        if sulphur_pct is None:
            raise C3Error("low_load_adjustment: SO2 needs the fuel sulphur (sulphur_pct)")
        per_load = factors.constant("llaf_so2_fuel_per_load")
        base = factors.constant("llaf_so2_fuel_base")
        curve = row["a"] * (per_load / safe + base) * sulphur_pct + row["b"]
        ref = row["a"] * (per_load / threshold + base) * sulphur_pct + row["b"]
        if ref <= 0:
            return np.ones_like(lf)
    else:
        curve = row["a"] * safe ** (-row["x"]) + row["b"]
        ref = row["a"] * threshold ** (-row["x"]) + row["b"]
    return np.where(low, curve / ref, 1.0)


def fuel_for_sulphur(sulphur_pct: float, factors: ShipFactors | None = None) -> str:
    """The fuel class burnt at a given sulphur level: ``MGO`` (distillate) or ``HFO``.

    Parameters
    ----------
    sulphur_pct : float
        Fuel sulphur content. [% m/m]

    Returns
    -------
    str
        ``MGO`` up to the distillate limit of ``ship_fuels.csv`` (0.10 %), else ``HFO``
        (residual fuel, including 0.50 % VLSFO).
    """
    factors = factors or load_factors()
    if not 0 <= sulphur_pct <= factors.fuels.loc["HFO", "max_sulphur_pct"]:
        raise C3Error(f"fuel sulphur {sulphur_pct:g} % is outside 0–3.5 % m/m")
    return "MGO" if sulphur_pct <= factors.fuels.loc["MGO", "max_sulphur_pct"] + 1e-9 else "HFO"


def reference_row(table: pd.DataFrame, name: str, **keys) -> pd.Series:
    """The first row of a reference table whose columns equal ``keys``.

    Parameters
    ----------
    table : pandas.DataFrame
        A reference table of :class:`ShipFactors`.
    name : str
        Its file name, for the error message.
    **keys
        Column name to the value the row must hold.

    Raises
    ------
    ReferenceDataError
        When no row matches.
    """
    mask = np.ones(len(table), dtype=bool)
    for col, val in keys.items():
        mask &= table[col].to_numpy() == val
    hit = np.flatnonzero(mask)
    if not hit.size:
        where = ", ".join(f"{k}={v}" for k, v in keys.items())
        raise ReferenceDataError(f"{name}: no row for {where}")
    return table.iloc[hit[0]]


def engine_emission_factors(
    engine: str,
    engine_type: str,
    sulphur_pct: float,
    load_factor: float | None = None,
    tier_shares: Sequence[tuple[int, float]] = ((2, 1.0),),
    factors: ShipFactors | None = None,
) -> pd.Series:
    """Emission factors of one ship engine, including the low-load adjustment.

    Parameters
    ----------
    engine : str
        ``main``, ``aux`` or ``boiler``.
    engine_type : str
        ``SSD``, ``MSD`` or ``MSD-ED`` (main); ``MSD`` or ``HSD`` (aux); ignored for boilers.
    sulphur_pct : float
        Fuel sulphur content; sets the fuel class (:func:`fuel_for_sulphur`). [% m/m]
    load_factor : float, optional
        Main-engine load; enables the LLAF and the Tier III SCR threshold. [-]
    tier_shares : sequence of (int, float), optional
        IMO NOx tiers and their shares of activity (default all Tier II). [-]
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.Series
        Emission factor by pollutant (index :data:`POLLUTANTS`). [g/kWh]

    Notes
    -----
    Fuel-based factors follow ShipEF [1]_:

    .. math::

        PM_{10} &= PM_{nom} + S \\cdot BSFC \\cdot FSC \\cdot MWR \\cdot 10^{-4},
        \\quad PM_{2.5} = 0.92\\,PM_{10} \\\\
        SO_2 &= BSFC \\cdot 2 \\cdot 0.97753 \\cdot S / 100 \\\\
        CO_2 &= BSFC \\cdot C_f

    NOx comes from the tier table and is weighted by ``tier_shares``; CO from the
    engine table. The method choices, each after the US EPA (2022) guidance and its
    ShipEF code [1]_ (documented in the workbook's method section):

    * BSFC is the baseline (optimum-load) value at every load, ShipEF's default
      ``loadBasedBSFC = "N"`` and the basis of the guidance's fuel-based factors; the
      load curve :func:`bsfc_at_load` is not applied, neither above 20 % load nor below
      it, where the LLAF of CO2 and SO2 already is the rise in fuel use.
    * For a main engine with a known load below 20 %, every factor is multiplied by
      :func:`low_load_adjustment` (SO2 with ShipEF's sulphur form). Electric-drive
      engines (``MSD-ED``) use the MSD factors without LLAF.
    * A Tier III main engine below 25 % load (``scr_load_threshold``) emits at Tier II:
      its SCR is taken as off (guidance §3.5.1, after Table 3.5; ``calcEF_NOx.r``).

    References
    ----------
    .. [1] USEPA/Marine_Emissions_Tools, ShipEF ``calcEF_PM.r``, ``calcEF_SO2.r``,
       ``calcEF_CO2.r``, ``calcEF_NOx.r``; US EPA (2022) EPA-420-B-22-011 §3.5.
    """
    factors = factors or load_factors()
    shares = tuple((t, float(s)) for t, s in tier_shares)
    lf = None if load_factor is None else float(load_factor)
    return _engine_emission_factors(factors, engine, engine_type, sulphur_pct, lf, shares).copy()


@lru_cache(maxsize=4096)
def _engine_emission_factors(
    factors: ShipFactors,
    engine: str,
    engine_type: str,
    sulphur_pct: float,
    load_factor: float | None,
    tier_shares: tuple[tuple[int, float], ...],
) -> pd.Series:
    # computed once per engine, fuel, load and tier mix (an inventory asks for the same
    # few thousands of times); the caller gets a copy
    if engine not in ("main", "aux", "boiler"):
        raise C3Error(f"engine {engine!r}: expected main, aux or boiler")
    etype = "Boiler" if engine == "boiler" else engine_type.removesuffix("-ED")
    fuel = fuel_for_sulphur(sulphur_pct, factors)
    row = reference_row(
        factors.fuel_ef, "ship_fuel_ef.csv", engine=engine, engine_type=etype, fuel=fuel
    )
    bsfc = float(row["bsfc_g_kwh"])  # baseline at every load (ShipEF loadBasedBSFC = "N")
    use_load = engine == "main" and load_factor is not None and load_factor > 0
    if use_load and load_factor < factors.constant("scr_load_threshold"):
        tier_shares = tuple((2 if t == 3 else t, s) for t, s in tier_shares)
    fuel_row = factors.fuels.loc[fuel]
    pm10 = (
        float(fuel_row["pm_nominal_g_kwh"])
        + sulphur_pct
        * bsfc
        * factors.constant("sulphate_conversion_pct")
        * factors.constant("sulphate_mass_ratio")
        * 1e-4
    )
    if engine == "boiler":
        nox = float(
            reference_row(factors.nox, "ship_nox_ef.csv", engine="boiler", fuel=fuel)["nox_g_kwh"]
        )
    else:
        total = sum(s for _, s in tier_shares)
        if total <= 0:
            raise C3Error("tier_shares must add up to a positive number")
        nox = (
            sum(
                s
                * float(
                    reference_row(
                        factors.nox,
                        "ship_nox_ef.csv",
                        engine=engine,
                        engine_type=etype,
                        fuel=fuel,
                        tier=float(t),
                    )["nox_g_kwh"]
                )
                for t, s in tier_shares
            )
            / total
        )
    ef = pd.Series(
        {
            "NOx": nox,
            "PM10": pm10,
            "PM2.5": pm10 * factors.constant("pm25_share_of_pm10"),
            "SO2": bsfc * factors.constant("so2_per_sulphur") * sulphur_pct / 100,
            "CO": float(row["co_g_kwh"]),
            "CO2": bsfc * float(fuel_row["co2_g_per_g_fuel"]),
        },
        name="g_kwh",
    )
    if use_load and engine_type not in _NO_LOW_LOAD:
        for p in POLLUTANTS:
            ef[p] *= float(low_load_adjustment(p, load_factor, factors, sulphur_pct))
    return ef


# ----------------------------------------------------------------------------------------
# Activity
# ----------------------------------------------------------------------------------------


def container_calls(
    teu_per_yr: float,
    share_feeder: float,
    share_mainline: float,
    exchange_ratio: float,
    calls_per_yr: float = math.nan,
    factors: ShipFactors | None = None,
) -> pd.DataFrame:
    """Container-ship calls by size class, derived from annual throughput.

    Parameters
    ----------
    teu_per_yr : float
        Container throughput of the port. [TEU/yr]
    share_feeder, share_mainline : float
        Shares of the throughput moved by feeder (1,000–2,000 TEU) and mainline
        (8,000–12,000 TEU) ships; the rest moves on 3,000–5,000 TEU ships. [-]
    exchange_ratio : float
        TEU discharged plus loaded per call, as a share of nominal capacity. [-]
    calls_per_yr : float, optional
        Known total container calls; when given, the derived calls are scaled to it.
        [calls/yr]
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ship class: ``teu_share`` [-], ``capacity_teu`` [TEU],
        ``teu_per_call`` [TEU], ``calls_per_yr`` [calls/yr], ``quality``.

    Notes
    -----
    .. math:: calls_c = \\frac{TEU \\cdot share_c}{r \\cdot capacity_c}

    The calls are ``derived``; the shares and the exchange ratio ``r`` are assumptions
    unless the city gives them.
    """
    factors = factors or load_factors()
    if share_feeder < 0 or share_mainline < 0 or share_feeder + share_mainline > 1 + 1e-9:
        raise C3Error(
            f"teu_share_feeder ({share_feeder:g}) + teu_share_mainline ({share_mainline:g}) "
            "must be non-negative and add up to at most 1"
        )
    if exchange_ratio <= 0:
        raise C3Error(f"teu_exchange_ratio must be positive, got {exchange_ratio:g}")
    shares = {
        "container-feeder": share_feeder,
        "container-intermediate": 1 - share_feeder - share_mainline,
        "container-mainline": share_mainline,
    }
    rows = []
    for ship_class, share in shares.items():
        cap = factors.call_default(ship_class, "capacity_teu")
        per_call = exchange_ratio * cap
        rows.append(
            {
                "ship_class": ship_class,
                "teu_share": share,
                "capacity_teu": cap,
                "teu_per_call": per_call,
                "calls_per_yr": teu_per_yr * share / per_call,
            }
        )
    out = pd.DataFrame(rows).set_index("ship_class")
    quality = "derived"
    if not math.isnan(calls_per_yr):
        derived_total = out["calls_per_yr"].sum()
        if derived_total > 0:
            out["calls_per_yr"] *= calls_per_yr / derived_total
        else:
            weight = out["teu_share"] / out["teu_per_call"]
            out["calls_per_yr"] = calls_per_yr * weight / weight.sum()
        quality = "derived (scaled to the given total)"
    out["quality"] = quality
    return out


def berth_hours(port: Port, ship_class: str, factors: ShipFactors | None = None) -> float:
    """Hotelling time per call of a ship class at a port. [h]

    Parameters
    ----------
    port : Port
        Its ``berth_h`` applies to container ships.
    ship_class : str
        A ship class of ``ship_classes.csv``; other than container ships take the
        ``berth_h_per_call`` default of ``ship_call_defaults.csv``.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).
    """
    factors = factors or load_factors()
    if _ship(factors, ship_class)["ship_type"] == "container":
        return port.berth_h
    return factors.call_default(ship_class, "berth_h_per_call")


def _ship(factors: ShipFactors, ship_class: str) -> dict:
    try:
        return factors._ships[ship_class]
    except KeyError:
        raise ReferenceDataError(f"ship_classes.csv: no ship class {ship_class!r}") from None


_AUX_COLUMN = {
    "transit": "transit",
    "reduced-speed zone": "transit",
    "river or channel": "transit",  # "maneuvering" at LF <= 20 %, see _call_rows
    "maneuvering": "maneuvering",
    "hotelling": "hotelling",
    "anchorage": "anchorage",
}
_ACTIVITY_COLUMNS = ["engine", "mode", "share", "speed_kn", "hours", "load_factor", "load_kw"]


def call_activity(port: Port, ship_class: str, factors: ShipFactors | None = None) -> pd.DataFrame:
    """Engine activity of one call of one ship class, by mode and engine.

    Parameters
    ----------
    port : Port
        The port (domain, times, speeds and measures in force).
    ship_class : str
        A ship class of ``ship_classes.csv``.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.DataFrame
        One row per mode × engine (× speed, where a share of transits keeps to the
        reduced-speed limit): ``mode``, ``engine``, ``share`` (of calls) [-], ``speed_kn``
        [kn], ``hours`` [h], ``load_factor`` (main engines) [-], ``load_kw`` [kW] and
        ``kwh`` (= share × load × hours, per call) [kWh].

    Notes
    -----
    Transit: ``2 (D − Z)`` nm at the transit speed ``ratio × MS``; reduced-speed zone:
    ``2 Z`` nm, at the limit for the complying share of calls; river or channel (a river
    port's fairway, 0 for a sea port): ``2 F`` nm at the fairway speed (at most the
    transit speed), with the auxiliary and boiler loads of maneuvering where the main
    engine runs at 20 % load or less and of transit above (the mode rule of ShipPowerModel
    ``calcOperatingMode.r``); maneuvering, hotelling and anchorage for the given hours.
    The main engine load follows :func:`propeller_load_factor` (coastal margin);
    auxiliary and boiler loads are the EPA defaults by mode (kW). At berth the main
    engine is off and the shore-powered share of the auxiliary load is drawn from the
    grid (engine ``shore-power``).
    """
    factors = factors or load_factors()
    rows = _call_rows(port, ship_class, factors)
    out = pd.DataFrame([r[:-1] for r in rows], columns=_ACTIVITY_COLUMNS)
    out["kwh"] = out["share"] * out["load_kw"] * out["hours"]
    return out[["mode", "engine", "share", "speed_kn", "hours", "load_factor", "load_kw", "kwh"]]


@lru_cache(maxsize=4096)
def _load_factor(speed: float, ms: float, margin: float, min_load: float) -> float:
    return float(propeller_load_factor(speed, ms, margin, min_load))


def _call_rows(port: Port, ship_class: str, factors: ShipFactors) -> list[tuple]:
    """:func:`call_activity`'s rows as tuples (its columns in ``_ACTIVITY_COLUMNS`` order,
    then ``kwh``), without a DataFrame: the inventory reads them for every class."""
    ship = _ship(factors, ship_class)
    ms = ship["max_speed_kn"]
    margin = factors.constant("sea_margin_coastal_pct")
    min_load = factors.constant("min_load_factor")
    v_transit = ship["transit_speed_ratio"] * ms
    zone = min(port.rsz_nm, port.domain_nm)
    segments = [("transit", 1.0, v_transit, 2 * (port.domain_nm - zone) / v_transit)]
    if port.rsz_speed_kn is None or port.rsz_compliance <= 0:
        segments.append(("reduced-speed zone", 1.0, v_transit, 2 * zone / v_transit))
    else:
        v_limit = min(port.rsz_speed_kn, v_transit)
        segments.append(("reduced-speed zone", port.rsz_compliance, v_limit, 2 * zone / v_limit))
        if port.rsz_compliance < 1:
            segments.append(
                ("reduced-speed zone", 1 - port.rsz_compliance, v_transit, 2 * zone / v_transit)
            )
    if port.fairway_nm > 0:
        v_fairway = min(port.fairway_speed_kn, v_transit)
        segments.append(("river or channel", 1.0, v_fairway, 2 * port.fairway_nm / v_fairway))
    segments.append(("maneuvering", 1.0, port.maneuvering_speed_kn, port.maneuvering_h))
    segments.append(("hotelling", 1.0, 0.0, berth_hours(port, ship_class, factors)))
    segments.append(("anchorage", 1.0, 0.0, port.anchorage_h))
    rows = []
    for mode, share, speed, hours in segments:
        column = _AUX_COLUMN[mode]
        if speed > 0:
            lf = _load_factor(speed, ms, margin, min_load)
            rows.append(("main", mode, share, speed, hours, lf, lf * ship["installed_kw"]))
            if mode == "river or channel" and lf <= factors.constant("low_load_threshold"):
                column = "maneuvering"
        aux = ship[f"aux_kw_{column}"]
        boiler = ship[f"boiler_kw_{column}"]
        if mode == "hotelling" and port.shore_power_share > 0:
            rows.append(
                ("aux", mode, share, speed, hours, np.nan, aux * (1 - port.shore_power_share))
            )
            rows.append(
                ("shore-power", mode, share, speed, hours, np.nan, aux * port.shore_power_share)
            )
        else:
            rows.append(("aux", mode, share, speed, hours, np.nan, aux))
        rows.append(("boiler", mode, share, speed, hours, np.nan, boiler))
    return [(*r, r[2] * r[6] * r[4]) for r in rows]  # kwh = share × load × hours


def _empty_emissions() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=float if c == "t_per_yr" else object) for c in EMISSION_COLUMNS}
    )


def _shore_power_ef(onboard: np.ndarray, grid_ef: float, factors: ShipFactors) -> np.ndarray:
    """Grid-side factors of shore power [g/kWh] by :data:`POLLUTANTS`, from the on-board
    auxiliary factors (in that order)."""
    ef = onboard * _shore_power_remaining(factors)
    if not math.isnan(grid_ef):
        ef[_CO2] = grid_ef * 1000.0
    return ef


_CO2 = POLLUTANTS.index("CO2")


@lru_cache(maxsize=64)
def _shore_power_remaining(factors: ShipFactors) -> np.ndarray:
    net = factors.shore_power["net_reduction"].reindex(list(POLLUTANTS)).astype(float)
    return _frozen((1 - net).to_numpy())


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


@lru_cache(maxsize=4096)
def _ef_array(
    factors: ShipFactors,
    engine: str,
    engine_type: str,
    sulphur_pct: float,
    load_factor: float | None,
    tier_shares: tuple[tuple[int, float], ...],
) -> np.ndarray:
    """:func:`engine_emission_factors` as a read-only array in :data:`POLLUTANTS` order."""
    shares = tuple((t, float(s)) for t, s in tier_shares)
    lf = None if load_factor is None else float(load_factor)
    ef = _engine_emission_factors(factors, engine, engine_type, sulphur_pct, lf, shares)
    return _frozen(ef.reindex(list(POLLUTANTS)).to_numpy())


@lru_cache(maxsize=1024)
def _calls(port: Port) -> tuple[tuple[tuple[str, float], ...], float]:
    """The port's classes with calls, and their total (as ``calls_per_yr`` and its sum)."""
    s = port.calls_per_yr
    return tuple(zip(s.index, s.to_numpy(), strict=True)), float(s.sum())


# emission lines: their (sector, ship class, mode, engine) and t/yr by POLLUTANTS, one row each
_Lines = tuple[list[tuple[str, str, str, str]], np.ndarray]


def _no_lines() -> _Lines:
    return [], np.zeros((0, len(POLLUTANTS)))


def _table(city: str, lines: _Lines) -> pd.DataFrame:
    """The long :data:`EMISSION_COLUMNS` table of emission lines (6 pollutants each)."""
    keys, tonnes = lines
    if not keys:
        return _empty_emissions()
    n = len(POLLUTANTS)
    return pd.DataFrame(
        {
            "city": city,
            **{c: np.repeat([k[i] for k in keys], n) for i, c in enumerate(EMISSION_COLUMNS[1:5])},
            "pollutant": list(POLLUTANTS) * len(keys),
            "t_per_yr": tonnes.ravel(),
        }
    )


_OGV_KEYS = ("ship_class", "mode", "engine")


def ogv_emissions(port: Port, factors: ShipFactors | None = None) -> pd.DataFrame:
    """Annual emissions of ocean-going vessels by ship class, mode, engine and pollutant.

    Parameters
    ----------
    port : Port
        The port.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.DataFrame
        Long table with :data:`EMISSION_COLUMNS` (``sector`` = ``ogv``), emissions in
        ``t_per_yr`` [t/yr]; empty when the port has no traffic.

    Notes
    -----
    .. math:: E = \\sum_{class} calls \\sum_{mode, engine} P \\cdot LF \\cdot h
              \\cdot EF \\cdot LLAF

    per the US EPA Ports Emissions Inventory Guidance [1]_. Shore power: the grid
    supplies the auxiliary load; its air-pollutant emissions are the on-board ones times
    ``1 − net reduction`` of Kim et al. (2019) [2]_ and its CO2 the city's grid factor
    (transfer losses not counted). Without a grid factor, the CO2 net reduction of the
    same study is used.

    References
    ----------
    .. [1] US EPA (2022) Ports Emissions Inventory Guidance, EPA-420-B-22-011, §3.
    .. [2] Kim, Roh and Chun (2019) J. Korean Soc. Mar. Environ. Saf. 25(3):381.
    """
    factors = factors or load_factors()
    if not port.has_port:
        return _empty_emissions()
    return _table(port.city, _ogv_lines(port, factors))


def _ogv_lines(port: Port, factors: ShipFactors) -> _Lines:
    # One line per class, mode and engine: a mode split in two speeds (partial compliance
    # in the reduced-speed zone) adds up, skipping NaN, as a pandas group sum would.
    keys: list[tuple[str, str, str, str]] = []
    blocks = []
    tiers = port.tier_shares
    aux_ef = _ef_array(factors, "aux", "MSD", port.sulphur_pct, None, tiers)
    shore_ef = None
    for ship_class, calls in _calls(port)[0]:
        etype = str(_ship(factors, ship_class)["engine_type"])
        efs, kwhs = [], []
        for engine, mode, *_, lf, _load, kwh in _call_rows(port, ship_class, factors):
            if kwh <= 0:
                continue
            if engine == "shore-power":
                if shore_ef is None:
                    shore_ef = _shore_power_ef(aux_ef, port.grid_ef, factors)
                ef = shore_ef
            elif engine == "aux":
                ef = aux_ef
            else:
                load = lf if engine == "main" else None
                ef = _ef_array(factors, engine, etype, port.sulphur_pct, load, tiers)
            keys.append(("ogv", ship_class, mode, engine))
            efs.append(ef)
            kwhs.append(kwh)
        if efs:
            blocks.append(np.stack(efs) * np.array(kwhs)[:, None] * calls / 1e6)
    if not keys:
        return _no_lines()
    tonnes = np.concatenate(blocks)
    tonnes[np.isnan(tonnes)] = 0.0
    if len(set(keys)) == len(keys):
        return keys, tonnes
    merged: dict[tuple[str, str, str, str], np.ndarray] = {}
    for key, t in zip(keys, tonnes, strict=True):
        merged[key] = merged[key] + t if key in merged else t
    return list(merged), np.array(list(merged.values()))


def che_emissions(port: Port, factors: ShipFactors | None = None) -> pd.DataFrame:
    """Annual emissions of cargo-handling equipment, scaled from container throughput.

    Parameters
    ----------
    port : Port
        The port; ``che_electric_share`` of each diesel fleet is battery-electric.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.DataFrame
        :data:`EMISSION_COLUMNS` with ``sector`` = ``che``, ``mode`` = ``cargo handling``
        and ``engine`` = the equipment type. [t/yr]

    Notes
    -----
    .. math:: E = N \\cdot P \\cdot LF \\cdot h \\cdot EF, \\quad
              N = units\\ per\\ million\\ TEU \\times TEU / 10^6

    The electric share emits no exhaust; its grid CO2 is ``kWh / η × grid EF``. Fleet,
    power, load factors, hours and factors are unsourced estimates (``port_equipment.csv``,
    ``port_nonroad_ef.csv``): the EPA guidance uses NONROAD/MOVES for CHE, whose load
    factors were not retrieved.
    """
    factors = factors or load_factors()
    if not port.has_port or port.teu_per_yr <= 0:
        return _empty_emissions()
    return _table(port.city, _che_lines(port, factors))


@lru_cache(maxsize=64)
def _equipment(factors: ShipFactors, category: str) -> tuple[tuple, ...]:
    eq = factors.equipment[factors.equipment["category"] == category]
    return tuple(eq.itertuples(index=False))


@lru_cache(maxsize=64)
def _nonroad_ef(factors: ShipFactors) -> dict[str, np.ndarray]:
    ef = factors.nonroad_ef.pivot_table(index="pollutant", columns="engine", values="g_kwh")
    return {str(e): _frozen(ef[e].reindex(list(POLLUTANTS)).to_numpy()) for e in ef.columns}


def _che_lines(port: Port, factors: ShipFactors) -> _Lines:
    if not port.has_port or port.teu_per_yr <= 0:
        return _no_lines()
    ef = _nonroad_ef(factors)
    eta = factors.constant("che_charging_efficiency")
    share = port.che_electric_share
    keys, tonnes = [], []
    for r in _equipment(factors, "che"):
        units = r.units_per_basis * port.teu_per_yr / 1e6
        kwh = units * r.kw * r.load_factor * r.hours_per_unit
        if r.engine not in ef:
            raise KeyError(r.engine)  # as the pivot table's column lookup
        diesel = ef[r.engine] * kwh * (1 - share)
        electric = ef["electric"] * kwh * share
        if not math.isnan(port.grid_ef):
            electric[_CO2] += kwh * share / eta * port.grid_ef * 1000.0
        keys.append(("che", "", "cargo handling", r.equipment))
        tonnes.append((diesel + electric) / 1e6)
    return (keys, np.array(tonnes)) if keys else _no_lines()


def harbour_craft_emissions(port: Port, factors: ShipFactors | None = None) -> pd.DataFrame:
    """Annual emissions of harbour tugs assisting the port's calls.

    Parameters
    ----------
    port : Port
        The port.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.DataFrame
        :data:`EMISSION_COLUMNS` with ``sector`` = ``harbour-craft`` and ``mode`` =
        ``harbour craft``. [t/yr]

    Notes
    -----
    .. math:: E = calls \\cdot jobs \\cdot h \\cdot P \\cdot LF \\cdot EF

    with the ShipEF auxiliary high-speed-diesel factors on distillate
    (``harbour_craft_sulphur_pct``) and the port's tier mix. Activity per call is an
    unsourced estimate (``port_equipment.csv``).
    """
    factors = factors or load_factors()
    if not port.has_port:
        return _empty_emissions()
    return _table(port.city, _harbour_craft_lines(port, factors))


def _harbour_craft_lines(port: Port, factors: ShipFactors) -> _Lines:
    if not port.has_port:
        return _no_lines()
    calls = _calls(port)[1]
    sulphur = factors.constant("harbour_craft_sulphur_pct")
    ef = _ef_array(factors, "aux", "HSD", sulphur, None, port.tier_shares)
    keys, tonnes = [], []
    for r in _equipment(factors, "harbour-craft"):
        kwh = calls * r.units_per_basis * r.hours_per_unit * r.kw * r.load_factor
        keys.append(("harbour-craft", "", "harbour craft", r.equipment))
        tonnes.append(ef * kwh / 1e6)
    return (keys, np.array(tonnes)) if keys else _no_lines()


def port_emissions(port: Port, factors: ShipFactors | None = None) -> pd.DataFrame:
    """All port emissions: vessels, cargo-handling equipment and harbour craft. [t/yr]

    Returns an empty table (with :data:`EMISSION_COLUMNS`) for a city without a port or
    without traffic data.
    """
    factors = factors or load_factors()
    if not port.has_port:
        return _empty_emissions()
    return _table(port.city, _port_lines(port, factors))


def _port_lines(port: Port, factors: ShipFactors) -> _Lines:
    keys, tonnes = [], []
    for part in (_ogv_lines, _che_lines, _harbour_craft_lines):
        k, t = part(port, factors)
        keys += k
        tonnes.append(t)
    return keys, np.concatenate(tonnes)


def _port_totals(port: Port, factors: ShipFactors) -> np.ndarray:
    """Port emissions by :data:`POLLUTANTS` [t/yr], summed as a pandas group sum does
    (in row order, compensated, skipping NaN), without building the table."""
    totals = []
    for column in _port_lines(port, factors)[1].T.tolist():
        total = carry = 0.0
        for v in column:
            if v != v:  # NaN
                continue
            y = v - carry
            t = total + y
            carry = (t - total) - y
            if carry != carry:
                carry = 0.0
            total = t
        totals.append(total)
    return np.array(totals)


# ----------------------------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------------------------


def vessel_speed_reduction(
    port: Port, speed_kn: float, zone_nm: float, compliance: float = 1.0
) -> Port:
    """The port with a vessel speed reduction programme.

    Parameters
    ----------
    port : Port
        The port before the measure.
    speed_kn : float
        Speed limit in the zone (ships already slower keep their speed). [kn]
    zone_nm : float
        One-way zone length, clipped to the domain. [nm]
    compliance : float, optional
        Share of transits that keep to the limit. [-]

    Notes
    -----
    Per nautical mile, main-engine energy scales with ``(v_new / v_old)^2`` before the
    load-based corrections; auxiliary engines and boilers run longer. Long Beach's Green
    Flag programme asks for 12 kn within 20 or 40 nm, with 90 % compliance for the
    dockage discount (Port of Long Beach Green Flag Incentive Program).
    """
    if speed_kn <= 0:
        raise C3Error(f"speed limit must be positive, got {speed_kn:g} kn")
    if not 0 <= compliance <= 1:
        raise C3Error(f"compliance must be in [0, 1], got {compliance:g}")
    return replace(
        port,
        rsz_nm=min(zone_nm, port.domain_nm),
        rsz_speed_kn=speed_kn,
        rsz_compliance=compliance,
    )


def shore_power(port: Port, uptake: float) -> Port:
    """The port with ``uptake`` of berth hours on shore power (auxiliary engines off).

    Parameters
    ----------
    uptake : float
        Share of berth hours connected. [-]
    """
    if not 0 <= uptake <= 1:
        raise C3Error(f"shore-power uptake must be in [0, 1], got {uptake:g}")
    return replace(port, shore_power_share=uptake)


def fuel_switch(port: Port, sulphur_pct: float) -> Port:
    """The port with all ships burning fuel of at most ``sulphur_pct`` in the domain.

    Parameters
    ----------
    sulphur_pct : float
        Fuel sulphur required; at 0.10 % or less ships switch to distillate (MGO), which
        also changes BSFC, PM, NOx and CO2 factors. [% m/m]
    """
    return replace(port, sulphur_pct=min(port.sulphur_pct, sulphur_pct))


def cleaner_che(port: Port, electric_share: float) -> Port:
    """The port with ``electric_share`` of its diesel cargo-handling equipment electrified.

    Parameters
    ----------
    electric_share : float
        Share of diesel equipment replaced by battery-electric units. [-]
    """
    if not 0 <= electric_share <= 1:
        raise C3Error(f"electric share must be in [0, 1], got {electric_share:g}")
    return replace(port, che_electric_share=electric_share)


@dataclass(frozen=True)
class InPlace:
    """A measure a city has taken, and whether the baseline counts it.

    Attributes
    ----------
    measure : str
        What the city calls it.
    lever : str
        The workbook lever it maps to.
    counted : bool
        Whether the baseline includes it.
    how : str
        The setting the baseline uses, or why it is not counted.
    """

    measure: str
    lever: str
    counted: bool
    how: str


def with_measures_in_place(
    port: Port, measures: Sequence, year: int, vsr_compliance: float = 1.0
) -> tuple[Port, list[InPlace]]:
    """The port with the measures in force in ``year``, as its baseline.

    A measure counts when it maps to a lever this workbook models
    (``vessel-speed-reduction``: ``setting`` in kn, applied in the port's reduced-speed
    zone; ``shore-power`` and ``equipment-electrification``: ``setting`` as a fraction;
    ``fuel-sulphur``: ``setting`` in % m/m), is in force in ``year`` (started, not
    ended) and records its setting. Scenarios built on this baseline then show what a
    measure would add to what is already done.

    Parameters
    ----------
    port : Port
        The port from its inputs (no measure in force).
    measures : sequence of c3lib.params.Measure
        The city's recorded measures for port operations.
    year : int
        The year the baseline describes.
    vsr_compliance : float, optional
        Share of transits that keep to a speed limit in force. [-]

    Returns
    -------
    port : Port
    in_place : list of InPlace
        Every measure with a lever, counted or not, and why.
    """
    out = []
    for m in measures:
        if m.lever is None or m.lever == "other":
            continue
        in_force = m.start_year <= year and (m.end_year is None or m.end_year >= year)
        unit = m.setting.unit if m.setting else ""
        value = m.setting.value if m.setting else math.nan
        why = ""
        if not in_force:
            why = f"not in force in {year} ({m.start_year}–{m.end_year or ''})"
        elif m.setting is None:
            why = "no setting recorded, so not modelled"
        elif not port.has_port:
            why = "no port inventory to apply it to"
        elif m.lever == "vessel-speed-reduction" and unit == "kn":
            port = vessel_speed_reduction(port, value, port.rsz_nm, vsr_compliance)
            how = f"{value:g} kn in the {port.rsz_nm:g} nm zone, {vsr_compliance:.0%} compliance"
        elif m.lever == "shore-power" and unit == "fraction":
            port = shore_power(port, value)
            how = f"{value:.0%} of berth hours"
        elif m.lever == "fuel-sulphur" and unit == "% m/m":
            port = fuel_switch(port, value)
            how = f"fuel sulphur at most {value:g} % m/m"
        elif m.lever in ("equipment-electrification", "cleaner-che") and unit == "fraction":
            port = cleaner_che(port, value)
            how = f"{value:.0%} of diesel equipment electrified"
        else:
            why = f"lever {m.lever} with a setting in {unit!r} is not modelled here"
        out.append(InPlace(m.measure, m.lever, not why, why or how))
    return port, out


def measure_scenarios(
    port: Port, levers: Levers, measures: Sequence[str] = tuple(MEASURES)
) -> dict[str, Port]:
    """The port under each measure alone and under all of them (``combined``).

    Parameters
    ----------
    port : Port
        The baseline.
    levers : Levers
        Settings of the measures.
    measures : sequence of str, optional
        Ids from :data:`MEASURES`.
    """
    single = {
        "vessel-speed-reduction": lambda p: vessel_speed_reduction(
            p, levers.vsr_speed_kn, levers.vsr_zone_nm, levers.vsr_compliance
        ),
        "shore-power": lambda p: shore_power(p, levers.shore_power_uptake),
        "fuel-switch": lambda p: fuel_switch(p, levers.switch_sulphur_pct),
        "cleaner-che": lambda p: cleaner_che(p, levers.che_electric_share),
    }
    out = {}
    for m in measures:
        if m == "combined":
            p = port
            for apply in single.values():
                p = apply(p)
            out[m] = p
        elif m in single:
            out[m] = single[m](port)
        else:
            raise C3Error(f"unknown measure {m!r}; known: {', '.join(MEASURES)}")
    return out


def measure_reductions(
    port: Port,
    levers: Levers,
    measures: Sequence[str] = tuple(MEASURES),
    factors: ShipFactors | None = None,
) -> pd.DataFrame:
    """Emission reductions of each measure, by pollutant, for the whole port.

    Parameters
    ----------
    port : Port
        The baseline. Its reduced-speed zone should have the length the measure uses, so
        that the baseline and the scenario split the domain alike.
    levers : Levers
        Settings of the measures.
    measures : sequence of str, optional
        Ids from :data:`MEASURES`.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``measure``, ``pollutant``, ``baseline_t_per_yr``,
        ``scenario_t_per_yr``, ``reduction_t_per_yr`` [t/yr] and ``reduction_pct`` [%]
        (negative when the measure increases a pollutant, e.g. CO2 from a
        carbon-intensive grid). Empty for a city without a port.
    """
    factors = factors or load_factors()
    cols = [
        "city",
        "measure",
        "pollutant",
        "baseline_t_per_yr",
        "scenario_t_per_yr",
        "reduction_t_per_yr",
        "reduction_pct",
    ]
    if not port.has_port:
        return pd.DataFrame(columns=cols)
    base = _port_totals(port, factors)
    rows = []
    for m, scen in measure_scenarios(port, levers, measures).items():
        after = _port_totals(scen, factors)
        for i, p in enumerate(POLLUTANTS):
            b, a = float(base[i]), float(after[i])
            rows.append(
                {
                    "city": port.city,
                    "measure": m,
                    "pollutant": p,
                    "baseline_t_per_yr": b,
                    "scenario_t_per_yr": a,
                    "reduction_t_per_yr": b - a,
                    "reduction_pct": 100 * (b - a) / b if b > 0 else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------------------
# One call at berth (the exercise)
# ----------------------------------------------------------------------------------------


def berth_aux_per_call(
    port: Port,
    ship_class: str = "container-intermediate",
    pollutant: str = "NOx",
    tier: int = 2,
    factors: ShipFactors | None = None,
) -> float:
    """Emissions of a ship's auxiliary engines during one call at berth, no shore power. [kg]

    Parameters
    ----------
    port : Port
        Sets the berth time and the fuel.
    ship_class : str, optional
        A ship class of ``ship_classes.csv``.
    pollutant : str, optional
        One of :data:`POLLUTANTS`.
    tier : int, optional
        IMO NOx tier of the auxiliary engines.

    Notes
    -----
    .. math:: E = P_{aux,berth} \\cdot h_{berth} \\cdot EF_{aux} / 1000
    """
    factors = factors or load_factors()
    act = call_activity(shore_power(port, 0.0), ship_class, factors)
    kwh = float(act.loc[(act["mode"] == "hotelling") & (act["engine"] == "aux"), "kwh"].sum())
    ef = engine_emission_factors("aux", "MSD", port.sulphur_pct, None, ((tier, 1.0),), factors)
    return kwh * float(ef[pollutant]) / 1000
