"""City-scale emissions inventory: E = A × EF × (1 − control), by sector and pollutant.

Sectors: road transport by vehicle class (fuel-based Tier 1), paved-road dust (AP-42),
residential fuel use, industrial and power fuel combustion, open burning, construction
dust; the ports-and-shipping and commercial-cooking lines come from
:mod:`c3lib.topics.ports.model` and :mod:`c3lib.topics.cooking.model` as finished lines.
Every line keeps the factor's source, quality flag and uncertainty (rating or ±% range),
so a case study shows what is sourced and what is assumed. A factor the reference could
not give is a declared data gap in ``emission_factors.csv`` (blank ``ef``): it yields no
line, and :func:`completeness`, :func:`qa_checks` and
:func:`c3lib.topics.inventory.views.assumption_rows` report it instead of a made-up
number. Figures, assumption records and the run record's metrics are in
:mod:`c3lib.topics.inventory.views`.

References
----------
.. [1] US EPA, AP-42 Compilation of Air Pollutant Emission Factors, Introduction, and
   Section 13.2.1 Paved Roads (2011).
.. [2] EEA (2019) EMEP/EEA air pollutant emission inventory guidebook 2019.
.. [3] Wilton E. (2001) Good Practice Guide for Preparing Emission Inventories, NZ MfE.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from c3lib.exceptions import C3Error, ReferenceDataError
from c3lib.reference import reference_table
from c3lib.topics.transport.model import ROAD_FLEET, road_vehicle_km

__all__ = [
    "SECTORS",
    "POLLUTANTS",
    "VEHICLE_CLASSES",
    "LINE_COLUMNS",
    "emission_factors",
    "factor",
    "vehicle_activity",
    "vehicle_km",
    "road_dust_factor",
    "activity",
    "calculate",
    "control_table",
    "abatement",
    "not_estimated",
    "split_indicative",
    "CONTROLLED",
    "ABATEMENT_FIELDS",
    "INDICATIVE",
    "external_lines",
    "sector_totals",
    "per_capita",
    "key_sources",
    "completeness",
    "qa_checks",
    "sector_shares",
    "reported_shares",
    "SHARE_FIELDS",
    "check_factors",
    "module_lines",
    "port_lines",
    "cooking_lines",
    "city_lines",
]

SECTORS = (
    "road-transport",
    "road-dust",
    "residential",
    "industry-power",
    "ports-shipping",
    "commercial-cooking",
    "open-burning",
    "construction-dust",
)
POLLUTANTS = ("PM2.5", "PM10", "NOx", "SO2", "CO", "NMVOC", "BC", "CO2")
#: vehicle class → (fleet field, km/yr field, fuel kg/km field)
VEHICLE_CLASSES = {
    "car-gasoline": ("cars", "car_km_per_yr", "car_fuel_kg_per_km"),
    "motorcycle-gasoline": ("motorcycles", "motorcycle_km_per_yr", "motorcycle_fuel_kg_per_km"),
    "lcv-diesel": ("light_trucks", "light_truck_km_per_yr", "light_truck_fuel_kg_per_km"),
    "bus-diesel": ("buses", "bus_km_per_yr", "bus_fuel_kg_per_km"),
}
#: (sector, subsector) → (input field, activity unit of its factors, input-to-unit factor)
_FIELD_SOURCES = {
    ("residential", "natural-gas"): ("residential_gas_gj", "GJ", 1.0),
    ("residential", "hard-coal"): ("residential_coal_gj", "GJ", 1.0),
    ("residential", "biomass"): ("residential_biomass_gj", "GJ", 1.0),
    ("residential", "lpg"): ("residential_lpg_gj", "GJ", 1.0),
    ("industry-power", "natural-gas"): ("industry_gas_gj", "GJ", 1.0),
    ("industry-power", "diesel"): ("industry_diesel_gj", "GJ", 1.0),
    ("industry-power", "hard-coal"): ("industry_coal_gj", "GJ", 1.0),
    ("industry-power", "fuel-oil"): ("industry_oil_gj", "GJ", 1.0),
    ("industry-power", "power-hard-coal"): ("power_coal_gj", "GJ", 1.0),
    ("industry-power", "power-natural-gas"): ("power_gas_gj", "GJ", 1.0),
    ("industry-power", "power-fuel-oil"): ("power_oil_gj", "GJ", 1.0),
    ("open-burning", "rice-straw"): ("rice_straw_burned_t", "kg straw", 1000.0),
    ("construction-dust", "construction"): ("construction_acre_months", "acre-month", 1.0),
}
#: pollutants a sector can emit where not all of them apply
_APPLICABLE = {"road-dust": ("PM2.5", "PM10"), "construction-dust": ("PM2.5", "PM10")}
#: pollutants an end-of-pipe control of a sector reduces: exhaust particulate control
#: (filters, inspection) cuts particulates, not the CO2 of the fuel; elsewhere every
#: pollutant but CO2 (a control that is pollutant-specific is given as a mapping)
CONTROLLED = {
    "road-transport": ("PM2.5", "PM10", "BC"),
    "road-dust": ("PM2.5", "PM10"),
    "construction-dust": ("PM2.5", "PM10"),
}
#: (sector, subsector, pollutant) → the input field giving the fraction of that line's
#: emissions removed by end-of-pipe abatement the Tier 1 factor does not assume: flue-gas
#: desulphurisation on SO2 and SCR/SNCR on NOx of coal-fired power plants (the EMEP/EEA
#: 1.A.1.a Tier 1 coal PM factors already assume an ESP, so particulates get no credit)
ABATEMENT_FIELDS = {
    ("industry-power", "power-hard-coal", "SO2"): "power_coal_so2_control",
    ("industry-power", "power-hard-coal", "NOx"): "power_coal_nox_control",
}
#: sectors shown beside the total, not in it, until their inputs are sourced
INDICATIVE = ("commercial-cooking",)
#: cross-check fields (the city's own PM2.5 shares) → the inventory sector they match
SHARE_FIELDS = {
    "pm25_share_vehicles": "road-transport",
    "pm25_share_industry": "industry-power",
    "pm25_share_households": "residential",
    "pm25_share_open_burning": "open-burning",
}
#: the columns of a factor row an emission line keeps
FACTOR_COLUMNS = ["sector", "subsector", "pollutant", "ef", "uncertainty", "source", "quality"]
LINE_COLUMNS = [
    "sector",
    "subsector",
    "pollutant",
    "activity",
    "activity_unit",
    "ef",
    "control",
    "emissions",
    "uncertainty",
    "source",
    "quality",
    "inputs",
]


def emission_factors() -> pd.DataFrame:
    """The emission-factor table (``c3lib/data/emission_factors.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per sector, subsector and pollutant: ``ef`` [g per activity unit] in
        ``ef_unit``, ``activity_unit``, ``uncertainty``, ``source``, ``quality``; a blank
        ``ef`` is a declared data gap.
    """
    return reference_table("emission_factors")


def _is_gap(ef) -> bool:
    return pd.isna(ef)


def factor(factors: pd.DataFrame, sector: str, subsector: str, pollutant: str) -> pd.Series:
    """One factor row (``ef`` in ``ef_unit``, g per activity unit).

    Parameters
    ----------
    factors : pandas.DataFrame
        From :func:`emission_factors`.
    sector, subsector, pollutant : str
        The line the factor is for.

    Returns
    -------
    pandas.Series
        The table row; ``ef`` [g per activity unit].

    Raises
    ------
    ReferenceDataError
        The table has no factor for this sector, subsector and pollutant, or the row is a
        declared data gap (blank ``ef``).
    """
    hit = factors[
        (factors["sector"] == sector)
        & (factors["subsector"] == subsector)
        & (factors["pollutant"] == pollutant)
    ]
    if hit.empty:
        raise ReferenceDataError(
            f"emission_factors.csv: no factor for sector {sector!r}, "
            f"subsector {subsector!r}, pollutant {pollutant!r}"
        )
    row = hit.iloc[0]
    if _is_gap(row["ef"]):
        raise ReferenceDataError(
            f"emission_factors.csv: sector {sector!r}, subsector {subsector!r}, pollutant "
            f"{pollutant!r} is a declared data gap ({row['source']})"
        )
    return row


def vehicle_activity(values: Mapping[str, float]) -> pd.DataFrame:
    """Vehicle-km and fuel burned by vehicle class.

    Parameters
    ----------
    values : mapping
        Inputs by field name: fleet [vehicles], distance [km/yr], fuel use [kg/km].

    Returns
    -------
    pandas.DataFrame
        Indexed by class, columns ``vkt`` [km/yr] and ``fuel_kg`` [kg/yr].

    Notes
    -----
    VKT = vehicles × km per vehicle; fuel = VKT × fuel per km. A class with a missing
    input is NaN (not estimated).
    """
    # one function for the inventory and the low-emission workbook: one road baseline
    road = {ROAD_FLEET[c]: vkm for c, vkm in road_vehicle_km(values).items()}
    rows = {}
    for cls, (fleet, km, fuel) in VEHICLE_CLASSES.items():
        vkt = road[(fleet, km)]
        rows[cls] = {"vkt": vkt, "fuel_kg": vkt * values.get(fuel, np.nan)}
    return pd.DataFrame.from_dict(rows, orient="index")


def vehicle_km(values: Mapping[str, float]) -> float:
    """Total vehicle-km travelled by the fleet.

    Parameters
    ----------
    values : mapping
        Inputs by field name, as for :func:`vehicle_activity`.

    Returns
    -------
    float
        [km/yr]
    """
    return float(vehicle_activity(values)["vkt"].sum())


def road_dust_factor(
    silt_loading: float, weight: float, pollutant: str, table: pd.DataFrame | None = None
) -> float:
    """AP-42 paved-road dust emission factor.

    Parameters
    ----------
    silt_loading : float
        Road-surface silt loading sL. [g/m2]
    weight : float
        Fleet-average vehicle weight W. [short ton]
    pollutant : str
        ``PM2.5`` or ``PM10``.
    table : pandas.DataFrame, optional
        The ``road_dust`` reference table.

    Returns
    -------
    float
        Emission factor. [g/VKT]

    Notes
    -----
    E = k · sL^0.91 · W^1.02 (AP-42 13.2.1, Eq. 1) [1]_.
    """
    t = reference_table("road_dust") if table is None else table
    p = _dust_parameters(t)
    try:
        k = p[("k", pollutant)]
    except KeyError:
        raise ReferenceDataError(
            f"road_dust.csv: no k for sector 'road-dust', pollutant {pollutant!r}"
        ) from None
    return float(
        k * silt_loading ** p[("silt_exponent", "")] * weight ** p[("weight_exponent", "")]
    )


def _dust_parameters(table: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(parameter, pollutant or "") → value of the ``road_dust`` table."""
    keys = zip(table["parameter"], table["pollutant"].fillna(""), strict=True)
    return dict(zip(keys, table["value"], strict=True))


def activity(values: Mapping[str, float]) -> pd.DataFrame:
    """Activity by sector and subsector in the unit its factors use.

    Parameters
    ----------
    values : mapping
        The city's emissions-inventory inputs by field (fleet [vehicles], distance
        [km/yr], fuel use [kg/km], fuel burned [GJ/yr], straw burned [t/yr],
        construction [acre-month/yr]).

    Returns
    -------
    pandas.DataFrame
        Columns ``sector``, ``subsector``, ``activity`` [activity unit per yr],
        ``activity_unit`` and ``inputs`` (the ``;``-separated input fields the activity
        depends on). An activity whose inputs are missing (no city, country or global
        value) has no row: its sector is *not estimated*, never 0.
    """
    rows = []
    veh = vehicle_activity(values)
    for cls, fields in VEHICLE_CLASSES.items():
        rows.append(("road-transport", cls, veh.loc[cls, "fuel_kg"], "kg fuel", ";".join(fields)))
    vkt_fields = [f for fleet, km, _ in VEHICLE_CLASSES.values() for f in (fleet, km)]
    dust_inputs = [values.get(f, np.nan) for f in ("road_silt_loading", "fleet_weight_short_tons")]
    rows.append(
        (
            "road-dust",
            "paved-roads",
            veh["vkt"].sum() if np.isfinite(dust_inputs).all() else np.nan,
            "VKT",
            ";".join([*vkt_fields, "road_silt_loading", "fleet_weight_short_tons"]),
        )
    )
    for (sector, sub), (name, unit, scale) in _FIELD_SOURCES.items():
        rows.append((sector, sub, values.get(name, np.nan) * scale, unit, name))
    out = pd.DataFrame(rows, columns=["sector", "subsector", "activity", "activity_unit", "inputs"])
    return out[np.isfinite(out["activity"].astype(float))].reset_index(drop=True)


def calculate(
    act: pd.DataFrame,
    factors: pd.DataFrame,
    values: Mapping[str, float],
    dust_table: pd.DataFrame | None = None,
    controls: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Emission lines for every activity and every factor the table has for it.

    Declared data gaps (rows with a blank ``ef``) give no line; :func:`completeness`
    reports them.

    Parameters
    ----------
    act : pandas.DataFrame
        From :func:`activity`.
    factors : pandas.DataFrame
        From :func:`emission_factors`.
    values : mapping
        Inputs by field (road-dust silt loading, fleet weight and control; the abatement
        fractions of :data:`ABATEMENT_FIELDS`, none where not given).
    dust_table : pandas.DataFrame, optional
        The ``road_dust`` reference table.
    controls : mapping, optional
        Control efficiency by sector, overriding the inputs' (road dust) or the default
        of none: a fraction for the pollutants the sector's control reduces
        (:data:`CONTROLLED`; every pollutant but CO2 elsewhere), or a mapping of
        pollutant to fraction. [fraction]

    Returns
    -------
    pandas.DataFrame
        One row per sector, subsector and pollutant with :data:`LINE_COLUMNS`;
        ``emissions`` in [t/yr].

    Notes
    -----
    E = A × EF × (1 − control) × 10⁻⁶ with A in the factor's activity unit and EF in
    g per unit [1]_. Where a line also has an abatement input (:data:`ABATEMENT_FIELDS`,
    e.g. FGD on power-plant coal SO2), the two act in series:
    control = 1 − (1 − c_sector)(1 − c_abatement), for that pollutant only.
    """
    dust = reference_table("road_dust") if dust_table is None else dust_table
    control = control_table(
        {"road-dust": float(values.get("road_dust_control", 0.0)), **(controls or {})}
    )
    act = act.assign(_order=np.arange(len(act)))
    found = factors.loc[factors["ef"].notna(), FACTOR_COLUMNS]
    lines = act[act["sector"] != "road-dust"].merge(
        found.assign(_rank=np.arange(len(found))), on=["sector", "subsector"], sort=False
    )
    road = act[act["sector"] == "road-dust"]
    if not road.empty:
        # AP-42's factor from the city's silt loading and fleet weight, one per pollutant
        pols = list(_APPLICABLE["road-dust"])
        k = dust[dust["parameter"] == "k"].set_index("pollutant").loc[pols]
        silt, weight = values["road_silt_loading"], values["fleet_weight_short_tons"]
        dust_factors = pd.DataFrame(
            {
                "sector": "road-dust",
                "pollutant": pols,
                "ef": [road_dust_factor(silt, weight, p, dust) for p in pols],
                "uncertainty": k["rating"].to_numpy(),
                "source": "US EPA AP-42 13.2.1 paved roads; k: " + k["source"].to_numpy(),
                "quality": k["quality"].to_numpy(),
                "_rank": np.arange(len(pols)),
            }
        )
        lines = pd.concat([lines, road.merge(dust_factors, on="sector")], ignore_index=True)
    out = lines.sort_values(["_order", "_rank"], kind="stable", ignore_index=True)
    out = out[[c for c in LINE_COLUMNS if c not in ("control", "emissions")]]
    keys = pd.MultiIndex.from_arrays([out["sector"], out["pollutant"]])
    out["control"] = control.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    abated = abatement(values)
    if not abated.empty:
        # FGD or SCR on top of any sector control: the fractions left multiply
        line_keys = pd.MultiIndex.from_arrays([out["sector"], out["subsector"], out["pollutant"]])
        c = abated.reindex(line_keys).fillna(0.0).to_numpy(dtype=float)
        out["control"] = 1.0 - (1.0 - out["control"]) * (1.0 - c)
    out["emissions"] = out["activity"] * out["ef"] * (1 - out["control"]) * 1e-6
    return out[LINE_COLUMNS].astype({c: float for c in ("activity", "ef", "control", "emissions")})


def abatement(values: Mapping[str, float]) -> pd.Series:
    """End-of-pipe abatement by line, from the inputs of :data:`ABATEMENT_FIELDS`.

    Parameters
    ----------
    values : mapping
        Inputs by field; a field that is absent or NaN removes nothing. [fraction]

    Returns
    -------
    pandas.Series
        Fraction removed, indexed by (sector, subsector, pollutant); only the lines with a
        non-zero abatement. [fraction]

    Raises
    ------
    C3Error
        A fraction lies outside 0..1.
    """
    out = {}
    for key, name in ABATEMENT_FIELDS.items():
        v = values.get(name)
        if v is None or pd.isna(v) or float(v) == 0.0:
            continue
        if not 0.0 <= float(v) <= 1.0:
            raise C3Error(
                f"emissions-inventory input {name!r}: {v!r} is not a fraction between 0 and 1 "
                "(the share of the line's emissions removed)"
            )
        out[key] = float(v)
    index = pd.MultiIndex.from_tuples(list(out), names=["sector", "subsector", "pollutant"])
    return pd.Series(list(out.values()), index=index, dtype=float)


def control_table(controls: Mapping[str, float | Mapping[str, float]]) -> pd.Series:
    """Control efficiency by sector and pollutant.

    Parameters
    ----------
    controls : mapping
        Sector → a fraction (applied to the pollutants :data:`CONTROLLED` names for the
        sector, or to every pollutant but CO2) or a mapping of pollutant to fraction.
        [fraction]

    Returns
    -------
    pandas.Series
        Indexed by (sector, pollutant). [fraction]
    """
    out = {}
    for sector, c in controls.items():
        if isinstance(c, Mapping):
            out.update({(sector, p): float(v) for p, v in c.items()})
        else:
            pols = CONTROLLED.get(sector, tuple(p for p in POLLUTANTS if p != "CO2"))
            out.update({(sector, p): float(c) for p in pols})
    index = pd.MultiIndex.from_tuples(list(out), names=["sector", "pollutant"])
    return pd.Series(list(out.values()), index=index, dtype=float)


def external_lines(
    sector: str,
    totals: Mapping[str, float],
    source: str,
    quality: str,
    uncertainty: str = "D",
    rename: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Lines for a sector computed by another workbook's module (ports, cooking).

    Parameters
    ----------
    sector : str
        Sector name, e.g. ``ports-shipping``.
    totals : mapping
        Emissions by pollutant. [t/yr]
    source, quality, uncertainty : str
        Where the numbers come from, their quality flag and uncertainty (rating letter
        or ``±N%``).
    rename : mapping, optional
        Pollutant names to map onto the shared vocabulary (e.g. ``{"VOC": "NMVOC"}``).

    Returns
    -------
    pandas.DataFrame
        :data:`LINE_COLUMNS`, one line per pollutant of :data:`POLLUTANTS`;
        ``emissions`` [t/yr], no activity or factor.
    """
    rename = dict(rename or {})
    kept = [(rename.get(p, p), float(v)) for p, v in totals.items()]
    kept = [(p, v) for p, v in kept if p in POLLUTANTS]
    n = len(kept)

    def text(value: str) -> np.ndarray:
        return np.full(n, value, dtype=object)

    # built by column: a frame from a list of row dicts costs a few milliseconds
    columns = {
        "sector": text(sector),
        "subsector": text(sector),
        "pollutant": np.array([p for p, _ in kept], dtype=object),
        "activity": np.full(n, np.nan),
        "activity_unit": text(""),
        "ef": np.full(n, np.nan),
        "control": np.zeros(n),
        "emissions": np.array([v for _, v in kept], dtype=float),
        "uncertainty": text(uncertainty),
        "source": text(source),
        "quality": text(quality),
        "inputs": text(""),
    }
    return pd.DataFrame(columns, columns=LINE_COLUMNS)


def sector_totals(lines: pd.DataFrame) -> pd.DataFrame:
    """Emissions by sector (rows) and pollutant (columns).

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines`.

    Returns
    -------
    pandas.DataFrame
        Index the sectors present (in :data:`SECTORS` order), columns the pollutants
        present; NaN where a sector has no line for a pollutant (not estimated). [t/yr]
    """
    # groupby + unstack: pivot_table costs a model evaluation several milliseconds
    table = lines.groupby(["sector", "pollutant"])["emissions"].sum().unstack()  # noqa: PD010
    return table.reindex(
        index=[s for s in SECTORS if s in table.index],
        columns=[p for p in POLLUTANTS if p in table.columns],
    )


def not_estimated(lines: pd.DataFrame) -> list[str]:
    """The sectors of :data:`SECTORS` with no emissions: a total without them is partial.

    A sector is estimated when one of its lines emits; no line (no activity data, or
    every factor a declared gap) or only zero activity leaves it out.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines` (the lines in the total).

    Returns
    -------
    list of str
        In :data:`SECTORS` order.
    """
    have = set(lines.loc[lines["emissions"] > 0, "sector"])
    return [s for s in SECTORS if s not in have]


def split_indicative(
    lines: pd.DataFrame, indicative: tuple[str, ...] = INDICATIVE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lines in the total, and the indicative ones shown beside it.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines`.
    indicative : tuple of str
        Sectors kept out of the total (default :data:`INDICATIVE`).

    Returns
    -------
    in_total, beside : pandas.DataFrame
        :data:`LINE_COLUMNS` each.
    """
    beside = lines["sector"].isin(indicative)
    return lines[~beside].reset_index(drop=True), lines[beside].reset_index(drop=True)


def per_capita(totals: pd.Series, population: float) -> pd.Series:
    """Emissions per resident.

    Parameters
    ----------
    totals : pandas.Series or float
        Emissions. [t/yr]
    population : float
        Residents. [persons]

    Returns
    -------
    pandas.Series or float
        [kg/yr per capita]
    """
    return totals * 1000.0 / population


def key_sources(lines: pd.DataFrame, pollutant: str, n: int = 8) -> pd.DataFrame:
    """The largest lines for one pollutant, with their share of the total.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines`.
    pollutant : str
        One of :data:`POLLUTANTS`.
    n : int, optional
        Number of sources kept. [-]

    Returns
    -------
    pandas.DataFrame
        Columns ``source_category`` (sector / subsector), ``emissions`` [t/yr], ``share``
        [fraction] and ``cumulative_share`` [fraction], largest first.
    """
    sub = lines[lines["pollutant"] == pollutant]
    grouped = sub.groupby(["sector", "subsector"])["emissions"].sum()
    grouped = grouped[grouped > 0].sort_values(ascending=False)
    total = grouped.sum()
    out = pd.DataFrame(
        {
            "source_category": [f"{s} / {ss}" if s != ss else s for s, ss in grouped.index],
            "emissions": grouped.to_numpy(),
        }
    )
    out["share"] = out["emissions"] / total if total > 0 else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    return out.head(n).reset_index(drop=True)


def completeness(lines: pd.DataFrame, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sector × pollutant status of the inventory.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines`.
    factors : pandas.DataFrame, optional
        From :func:`emission_factors` (its blank-``ef`` rows are the declared data gaps).

    Returns
    -------
    pandas.DataFrame
        Index :data:`SECTORS`, columns :data:`POLLUTANTS`; each cell ``estimated``,
        ``no activity data``, ``data gap: no factor``, ``not applicable`` or
        ``not covered`` (the sector's method gives no value for the pollutant).
    """
    f = emission_factors() if factors is None else factors
    status = pd.DataFrame("not covered", index=list(SECTORS), columns=list(POLLUTANTS))
    for sector, pols in _APPLICABLE.items():
        status.loc[sector, [p for p in POLLUTANTS if p not in pols]] = "not applicable"
    gaps = f[f["ef"].isna()]
    for r in gaps.itertuples():
        if r.sector in status.index and r.pollutant in status.columns:
            status.loc[r.sector, r.pollutant] = "data gap: no factor"
    for sector in not_estimated(lines):
        row = status.loc[sector]
        status.loc[sector, row[row == "not covered"].index] = "no activity data"
    for (sector, pol), g in lines.groupby(["sector", "pollutant"]):
        if sector in status.index and pol in status.columns:
            status.loc[sector, pol] = (
                "estimated" if (g["emissions"] > 0).any() else "no activity data"
            )
    return status


def qa_checks(
    lines: pd.DataFrame,
    population: float,
    ranges: pd.DataFrame,
    reported_shares: Mapping[str, float] | None = None,
    factors: pd.DataFrame | None = None,
    tolerance: float = 0.15,
) -> pd.DataFrame:
    """Quality-assurance checks for one city's inventory.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines`.
    population : float
        Residents. [persons]
    ranges : pandas.DataFrame
        Screening ranges (``qa_ranges`` reference table). [kg/yr per capita]
    reported_shares : mapping, optional
        Sector → share of PM2.5 emissions the city's own inventory reports (a
        cross-check; only the sectors given are compared). [fraction]
    factors : pandas.DataFrame, optional
        From :func:`emission_factors`.
    tolerance : float
        Largest difference of shares that still passes. [fraction]

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``result`` (``pass``, ``review`` or ``gap``), ``detail``. A
        cross-check is a ``gap`` when the city reports a share for a sector this inventory
        does not estimate; a per-capita screening of a partial total (sectors not
        estimated) is never a ``pass``: it says which sectors are missing.
    """
    checks = []
    status = completeness(lines, factors)
    for sector in SECTORS:
        row = status.loc[sector]
        expected = [p for p in POLLUTANTS if row[p] != "not applicable"]
        est = [p for p in expected if row[p] == "estimated"]
        gaps = [p for p in expected if row[p] == "data gap: no factor"]
        if not est:
            reason = "no activity data" if (row == "no activity data").any() else "no factor"
            checks.append(("completeness: " + sector, "gap", f"not estimated ({reason})"))
            continue
        detail = f"{len(est)} of {len(expected)} pollutants"
        if gaps:
            detail += "; no factor for " + ", ".join(gaps)
        other = [p for p in expected if p not in est and p not in gaps]
        if other:
            detail += "; not estimated " + ", ".join(other)
        checks.append(("completeness: " + sector, "pass" if not gaps else "review", detail))
    totals = lines.groupby("pollutant")["emissions"].sum()
    missing = not_estimated(lines)
    for r in ranges.itertuples():
        value = per_capita(totals.get(r.pollutant, 0.0), population)
        ok = r.low <= value <= r.high and not missing
        detail = f"{value:.3g} {r.unit} (screening range {r.low:g}–{r.high:g})"
        if missing:
            detail += f"; partial total: leaves out {', '.join(missing)} (not estimated)"
        checks.append((f"per capita: {r.pollutant}", "pass" if ok else "review", detail))
    if reported_shares:
        ours = sector_shares(lines, "PM2.5")
        for sector, share in reported_shares.items():
            mine = float(ours.get(sector, 0.0))
            if mine == 0 and share > 0:
                result = "gap"
            else:
                result = "pass" if abs(mine - share) <= tolerance else "review"
            checks.append(
                (
                    f"cross-check: {sector} share of PM2.5",
                    result,
                    f"this inventory {mine:.0%} vs the city's own {share:.0%}",
                )
            )
    return pd.DataFrame(checks, columns=["check", "result", "detail"])


def reported_shares(values: Mapping[str, float]) -> dict[str, float]:
    """The city's own PM2.5 sector shares by inventory sector (:data:`SHARE_FIELDS`).

    Parameters
    ----------
    values : mapping
        The city's emissions-inventory inputs by field; blank shares are left out.
        [fraction]

    Returns
    -------
    dict
        Inventory sector → the city's own share of PM2.5. [fraction]
    """
    out = {}
    for field, sector in SHARE_FIELDS.items():
        v = values.get(field)
        if v is not None and not pd.isna(v):
            out[sector] = float(v)
    return out


def sector_shares(lines: pd.DataFrame, pollutant: str) -> pd.Series:
    """Each sector's share of one pollutant's total.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`city_lines`.
    pollutant : str
        One of :data:`POLLUTANTS`.

    Returns
    -------
    pandas.Series
        Indexed by sector (NaN when the total is 0). [fraction]
    """
    sub = lines[lines["pollutant"] == pollutant].groupby("sector")["emissions"].sum()
    total = sub.sum()
    return sub / total if total > 0 else sub * np.nan


def check_factors() -> list[str]:
    """Problems with the factor tables the inventory needs (empty when complete).

    Every declared activity (vehicle class, fuel, burning, construction) needs a row in
    ``emission_factors.csv`` for every pollutant that applies: a factor with its unit
    and uncertainty, or a declared data gap (blank ``ef``); road dust needs its AP-42 k.

    Returns
    -------
    list of str
        One message per problem, naming the file, the row and what was expected.
    """
    from c3lib.topics.uncertainty import half_width

    try:
        factors = emission_factors()
        dust = reference_table("road_dust")
        ratings = reference_table("uncertainty_ratings")
    except ReferenceDataError as exc:
        return [str(exc)]
    problems = []
    needed = {("road-transport", cls): "kg fuel" for cls in VEHICLE_CLASSES}
    needed.update({key: unit for key, (_, unit, _) in _FIELD_SOURCES.items()})
    for (sector, sub), unit in needed.items():
        rows = factors[(factors["sector"] == sector) & (factors["subsector"] == sub)]
        for pol in _APPLICABLE.get(sector, POLLUTANTS):
            hit = rows[rows["pollutant"] == pol]
            where = f"sector {sector!r}, subsector {sub!r}, pollutant {pol!r}"
            if hit.empty:
                problems.append(
                    f"emission_factors.csv: no row for {where} (give a factor or declare "
                    "a data gap with a blank ef)"
                )
                continue
            r = hit.iloc[0]
            if r["activity_unit"] != unit:
                problems.append(
                    f"emission_factors.csv: {where} has activity_unit "
                    f"{r['activity_unit']!r}, expected {unit!r}"
                )
            if _is_gap(r["ef"]):
                continue
            if float(r["ef"]) < 0:
                problems.append(f"emission_factors.csv: negative factor for {where}")
            try:
                half_width(r["uncertainty"], ratings)
            except ReferenceDataError as exc:
                problems.append(f"emission_factors.csv: {where}: {exc}")
    for pol in _APPLICABLE["road-dust"]:
        if dust[(dust["parameter"] == "k") & (dust["pollutant"] == pol)].empty:
            problems.append(f"road_dust.csv: no k for sector 'road-dust', pollutant {pol!r}")
    return problems


_PORT_SOURCE = (
    "c3lib.ports: US EPA (2022) Ports Emissions Inventory Guidance method, "
    "see the port-operations case study"
)
_COOKING_SOURCE = (
    "c3lib.cooking: US EPA 2020 NEI TSD §19 method, see the "
    "commercial-cooking case study (VOC as ROG reported as NMVOC)"
)


def port_lines(
    port_inputs: pd.DataFrame, role: str, name: str, grid_ef: float, rsz_nm: float = 20.0
) -> pd.DataFrame:
    """The ports-and-shipping lines for one city (the port-operations method).

    Parameters are those of :func:`module_lines`.

    Returns
    -------
    pandas.DataFrame
        :data:`LINE_COLUMNS` lines from :func:`external_lines`; ``emissions`` [t/yr].
    """
    from c3lib.topics.ports import model as ports

    port = ports.port_from_inputs(port_inputs, role, name, rsz_nm, grid_ef)
    port_t = ports.port_emissions(port).groupby("pollutant")["t_per_yr"].sum()
    return external_lines("ports-shipping", port_t.to_dict(), _PORT_SOURCE, "derived")


def cooking_lines(cooking_inputs: pd.DataFrame, role: str) -> pd.DataFrame:
    """The commercial-cooking lines for one city (the commercial-cooking method).

    Parameters are those of :func:`module_lines`.

    Returns
    -------
    pandas.DataFrame
        :data:`LINE_COLUMNS` lines from :func:`external_lines`; ``emissions`` [t/yr].
    """
    from c3lib.topics.cooking import model as cooking

    own = cooking_inputs[cooking_inputs["role"] == role].set_index("field")
    cook_t = cooking.totals(cooking.inventory(cooking.restaurant_counts(own)))
    return external_lines(
        "commercial-cooking",
        cook_t.drop("CO", errors="ignore").to_dict(),
        _COOKING_SOURCE,
        "derived",
        rename={"VOC": "NMVOC"},
    )


def module_lines(
    port_inputs: pd.DataFrame,
    cooking_inputs: pd.DataFrame,
    role: str,
    name: str,
    grid_ef: float,
    rsz_nm: float = 20.0,
) -> pd.DataFrame:
    """The ports-and-shipping and commercial-cooking lines for one city.

    They come from the port-operations and commercial-cooking workbooks' own methods
    (:mod:`c3lib.topics.ports.model`, :mod:`c3lib.topics.cooking.model`) and inputs, so
    the inventory and those workbooks agree: :func:`port_lines` then
    :func:`cooking_lines`.

    Parameters
    ----------
    port_inputs, cooking_inputs : pandas.DataFrame
        :func:`c3lib.kit.casestudy.inputs` of the port-operations and commercial-cooking
        actions for the pair.
    role : str
        ``mentor`` or ``learning``.
    name : str
        The city's name.
    grid_ef : float
        Its grid CO2 factor (shore power). [kg CO2/kWh]
    rsz_nm : float
        Reduced-speed-zone length used by the port model. [nm]

    Returns
    -------
    pandas.DataFrame
        :data:`LINE_COLUMNS` lines from :func:`external_lines`; ``emissions`` [t/yr].
    """
    return pd.concat(
        [
            port_lines(port_inputs, role, name, grid_ef, rsz_nm),
            cooking_lines(cooking_inputs, role),
        ],
        ignore_index=True,
    )


def city_lines(
    values: Mapping[str, float],
    extra: pd.DataFrame | None = None,
    road_scale: float = 1.0,
    controls: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """All inventory lines of one city, optionally with road activity scaled.

    Parameters
    ----------
    values : mapping
        The city's emissions-inventory inputs by field.
    extra : pandas.DataFrame, optional
        Finished lines (:func:`module_lines`).
    road_scale : float
        Multiplier on vehicle-km (an Avoid/Shift what-if). [-]
    controls : mapping, optional
        Control efficiency by sector (e.g. ``{"road-dust": 0.5}``). [fraction]

    Returns
    -------
    pandas.DataFrame
        :data:`LINE_COLUMNS`, the calculated lines then ``extra``; ``emissions`` [t/yr].
    """
    v = dict(values)
    for _, km, _ in VEHICLE_CLASSES.values():
        v[km] = v[km] * road_scale
    lines = calculate(activity(v), emission_factors(), v, controls=controls)
    return pd.concat([lines, extra], ignore_index=True) if extra is not None else lines
