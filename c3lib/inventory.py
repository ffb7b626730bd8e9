"""City-scale emissions inventory: E = A × EF × (1 − control), by sector and pollutant.

Sectors: road transport by vehicle class (fuel-based Tier 1), paved-road dust (AP-42),
residential fuel use, industrial and power fuel combustion, open burning, construction
dust; the ports-and-shipping and commercial-cooking lines come from :mod:`c3lib.ports`
and :mod:`c3lib.cooking` as finished lines. Every line keeps the factor's source, quality
flag and uncertainty rating, so a case study shows what is sourced and what is assumed.

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

from c3lib.exceptions import ReferenceDataError
from c3lib.reference import reference_table

__all__ = [
    "SECTORS",
    "POLLUTANTS",
    "VEHICLE_CLASSES",
    "emission_factors",
    "factor",
    "vehicle_activity",
    "vehicle_km",
    "road_dust_factor",
    "activity",
    "calculate",
    "external_lines",
    "sector_totals",
    "per_capita",
    "key_sources",
    "completeness",
    "qa_checks",
    "check_factors",
    "module_lines",
    "city_lines",
    "assumption_rows",
    "metrics",
    "plot_sector_shares",
    "plot_per_capita",
    "plot_key_sources",
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
    ("industry-power", "natural-gas"): ("industry_gas_gj", "GJ", 1.0),
    ("industry-power", "diesel"): ("industry_diesel_gj", "GJ", 1.0),
    ("open-burning", "rice-straw"): ("rice_straw_burned_t", "kg straw", 1000.0),
    ("construction-dust", "construction"): ("construction_acre_months", "acre-month", 1.0),
}
#: pollutants a sector can emit where not all of them apply
_APPLICABLE = {"road-dust": ("PM2.5", "PM10"), "construction-dust": ("PM2.5", "PM10")}
LINE_COLUMNS = [
    "sector",
    "subsector",
    "pollutant",
    "activity",
    "activity_unit",
    "ef",
    "control",
    "emissions",
    "rating",
    "source",
    "quality",
    "input",
]


def emission_factors() -> pd.DataFrame:
    """The emission-factor table (``c3lib/data/emission_factors.csv``). [g per activity unit]"""
    return reference_table("emission_factors")


def factor(factors: pd.DataFrame, sector: str, subsector: str, pollutant: str) -> pd.Series:
    """One factor row.

    Raises
    ------
    ReferenceDataError
        The table has no factor for this sector, subsector and pollutant.
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
    return hit.iloc[0]


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
    fuel = vehicles × km per vehicle × fuel per km.
    """
    rows = {}
    for cls, (fleet, km, fuel) in VEHICLE_CLASSES.items():
        vkt = values[fleet] * values[km]
        rows[cls] = {"vkt": vkt, "fuel_kg": vkt * values[fuel]}
    return pd.DataFrame.from_dict(rows, orient="index")


def vehicle_km(values: Mapping[str, float]) -> float:
    """Total vehicle-km travelled by the fleet. [km/yr]"""
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
    p = t.set_index(["parameter", t["pollutant"].fillna("")])["value"]
    try:
        k = p[("k", pollutant)]
    except KeyError:
        raise ReferenceDataError(f"road_dust.csv: no k for pollutant {pollutant!r}") from None
    return float(
        k * silt_loading ** p[("silt_exponent", "")] * weight ** p[("weight_exponent", "")]
    )


def activity(values: Mapping[str, float]) -> pd.DataFrame:
    """Activity by sector and subsector in the unit its factors use.

    Returns
    -------
    pandas.DataFrame
        Columns ``sector``, ``subsector``, ``activity``, ``activity_unit``, ``input`` (the
        field the activity comes from).
    """
    rows = []
    veh = vehicle_activity(values)
    for cls, (fleet, _, _) in VEHICLE_CLASSES.items():
        rows.append(("road-transport", cls, veh.loc[cls, "fuel_kg"], "kg fuel", fleet))
    rows.append(("road-dust", "paved-roads", veh["vkt"].sum(), "VKT", "road_silt_loading"))
    for (sector, sub), (name, unit, scale) in _FIELD_SOURCES.items():
        rows.append((sector, sub, values[name] * scale, unit, name))
    return pd.DataFrame(rows, columns=["sector", "subsector", "activity", "activity_unit", "input"])


def calculate(
    act: pd.DataFrame,
    factors: pd.DataFrame,
    values: Mapping[str, float],
    dust_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Emission lines for every activity and every factor the table has for it.

    Parameters
    ----------
    act : pandas.DataFrame
        From :func:`activity`.
    factors : pandas.DataFrame
        From :func:`emission_factors`.
    values : mapping
        Inputs by field (road-dust silt loading, fleet weight and control).
    dust_table : pandas.DataFrame, optional
        The ``road_dust`` reference table.

    Returns
    -------
    pandas.DataFrame
        One row per sector, subsector and pollutant with :data:`LINE_COLUMNS`;
        ``emissions`` in [t/yr].

    Notes
    -----
    E = A × EF × (1 − control) × 10⁻⁶ with A in the factor's activity unit and EF in
    g per unit [1]_.
    """
    dust = reference_table("road_dust") if dust_table is None else dust_table
    lines = []
    for a in act.itertuples():
        if a.sector == "road-dust":
            control = float(values["road_dust_control"])
            for pol in ("PM2.5", "PM10"):
                ef = road_dust_factor(
                    values["road_silt_loading"], values["fleet_weight_short_tons"], pol, dust
                )
                row = dust[(dust["parameter"] == "k") & (dust["pollutant"] == pol)].iloc[0]
                lines.append(
                    dict(
                        sector=a.sector,
                        subsector=a.subsector,
                        pollutant=pol,
                        activity=a.activity,
                        activity_unit=a.activity_unit,
                        ef=ef,
                        control=control,
                        rating=row["rating"],
                        source=f"US EPA AP-42 13.2.1 paved roads; k: {row['source']}",
                        quality=row["quality"],
                        input=a.input,
                    )
                )
            continue
        rows = factors[(factors["sector"] == a.sector) & (factors["subsector"] == a.subsector)]
        for f in rows.itertuples():
            lines.append(
                dict(
                    sector=a.sector,
                    subsector=a.subsector,
                    pollutant=f.pollutant,
                    activity=a.activity,
                    activity_unit=a.activity_unit,
                    ef=f.ef,
                    control=0.0,
                    rating=f.rating,
                    source=f.source,
                    quality=f.quality,
                    input=a.input,
                )
            )
    out = pd.DataFrame(lines)
    out["emissions"] = out["activity"] * out["ef"] * (1 - out["control"]) * 1e-6
    return out[LINE_COLUMNS]


def external_lines(
    sector: str,
    totals: Mapping[str, float],
    source: str,
    quality: str,
    rating: str = "D",
    rename: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Lines for a sector computed by another workbook's module (ports, cooking).

    Parameters
    ----------
    sector : str
        Sector name, e.g. ``ports-shipping``.
    totals : mapping
        Emissions by pollutant. [t/yr]
    source, quality, rating : str
        Where the numbers come from, their quality flag and uncertainty rating.
    rename : mapping, optional
        Pollutant names to map onto the shared vocabulary (e.g. ``{"VOC": "NMVOC"}``).
    """
    rename = dict(rename or {})
    rows = [
        dict(
            sector=sector,
            subsector=sector,
            pollutant=rename.get(p, p),
            activity=np.nan,
            activity_unit="",
            ef=np.nan,
            control=0.0,
            emissions=float(v),
            rating=rating,
            source=source,
            quality=quality,
            input="",
        )
        for p, v in totals.items()
        if rename.get(p, p) in POLLUTANTS
    ]
    numeric = {c: float for c in ("activity", "ef", "control", "emissions")}
    return pd.DataFrame(rows, columns=LINE_COLUMNS).astype(numeric)


def sector_totals(lines: pd.DataFrame) -> pd.DataFrame:
    """Emissions by sector (rows) and pollutant (columns). [t/yr]"""
    table = lines.pivot_table(
        index="sector", columns="pollutant", values="emissions", aggfunc="sum", fill_value=0.0
    )
    return table.reindex(
        index=[s for s in SECTORS if s in table.index],
        columns=[p for p in POLLUTANTS if p in table.columns],
        fill_value=0.0,
    )


def per_capita(totals: pd.Series, population: float) -> pd.Series:
    """Emissions per resident. [kg/yr per capita] (from totals in [t/yr])"""
    return totals * 1000.0 / population


def key_sources(lines: pd.DataFrame, pollutant: str, n: int = 8) -> pd.DataFrame:
    """The largest lines for one pollutant, with their share of the total.

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


def completeness(lines: pd.DataFrame) -> pd.DataFrame:
    """Sector × pollutant status: ``estimated``, ``no activity data`` or ``no factor``."""
    status = pd.DataFrame("no factor", index=list(SECTORS), columns=list(POLLUTANTS))
    for (sector, pol), g in lines.groupby(["sector", "pollutant"]):
        if sector in status.index and pol in status.columns:
            status.loc[sector, pol] = (
                "estimated" if (g["emissions"] > 0).any() else "no activity data"
            )
    return status


def qa_checks(
    lines: pd.DataFrame, population: float, ranges: pd.DataFrame, vehicle_share: float | None = None
) -> pd.DataFrame:
    """Quality-assurance checks for one city's inventory.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`calculate` (and :func:`external_lines`).
    population : float
        Residents. [persons]
    ranges : pandas.DataFrame
        Screening ranges (``qa_ranges`` reference table). [kg/yr per capita]
    vehicle_share : float, optional
        Share of PM2.5 the city's own inventory attributes to vehicles, if it has one.
        [fraction]

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``result`` (``pass``, ``review`` or ``gap``), ``detail``.
    """
    checks = []
    status = completeness(lines)
    for sector in SECTORS:
        row = status.loc[sector]
        est = int((row == "estimated").sum())
        if est == 0:
            reason = (
                "no activity data" if (row == "no activity data").any() else "no emission factor"
            )
            checks.append(("completeness: " + sector, "gap", f"not estimated ({reason})"))
        else:
            expected = _APPLICABLE.get(sector, POLLUTANTS)
            missing = ", ".join(p for p in expected if row[p] != "estimated")
            checks.append(
                (
                    "completeness: " + sector,
                    "pass" if not missing else "review",
                    f"{est} of {len(expected)} pollutants"
                    + (f"; missing {missing}" if missing else ""),
                )
            )
    totals = lines.groupby("pollutant")["emissions"].sum()
    for r in ranges.itertuples():
        value = per_capita(totals.get(r.pollutant, 0.0), population)
        ok = r.low <= value <= r.high
        checks.append(
            (
                f"per capita: {r.pollutant}",
                "pass" if ok else "review",
                f"{value:.3g} {r.unit} (screening range {r.low:g}–{r.high:g})",
            )
        )
    if vehicle_share is not None:
        pm = lines[lines["pollutant"] == "PM2.5"]
        ours = pm.loc[pm["sector"] == "road-transport", "emissions"].sum() / pm["emissions"].sum()
        close = abs(ours - vehicle_share) <= 0.15
        checks.append(
            (
                "cross-check: vehicles' share of PM2.5",
                "pass" if close else "review",
                f"this inventory {ours:.0%} vs the city's own {vehicle_share:.0%}",
            )
        )
    return pd.DataFrame(checks, columns=["check", "result", "detail"])


def check_factors() -> list[str]:
    """Problems with the factor tables the inventory needs (empty when complete)."""
    problems = []
    try:
        factors = emission_factors()
        dust = reference_table("road_dust")
    except ReferenceDataError as exc:
        return [str(exc)]
    needed = [("road-transport", cls) for cls in VEHICLE_CLASSES] + list(_FIELD_SOURCES)
    for sector, sub in needed:
        rows = factors[(factors["sector"] == sector) & (factors["subsector"] == sub)]
        if rows.empty:
            problems.append(f"emission_factors.csv: no factor at all for {sector} / {sub}")
        elif rows["ef"].isna().any() or (rows["ef"] < 0).any():
            problems.append(f"emission_factors.csv: blank or negative factor for {sector} / {sub}")
    for pol in ("PM2.5", "PM10"):
        if dust[(dust["parameter"] == "k") & (dust["pollutant"] == pol)].empty:
            problems.append(f"road_dust.csv: no k for {pol}")
    return problems


def plot_sector_shares(totals: Mapping[str, pd.DataFrame]):
    """Stacked bars: each sector's share of each pollutant, one panel per city.

    Parameters
    ----------
    totals : mapping of str to pandas.DataFrame
        City label → :func:`sector_totals`. [t/yr]
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(totals), figsize=(5.5 * len(totals), 3.8), sharey=True, squeeze=False
    )
    cmap = plt.get_cmap("tab10")
    for ax, (label, table) in zip(axes[0], totals.items(), strict=True):
        shares = table / table.sum().replace(0, np.nan)
        bottom = np.zeros(len(shares.columns))
        for i, sector in enumerate(SECTORS):
            if sector in shares.index:
                vals = shares.loc[sector].fillna(0).to_numpy()
                ax.bar(shares.columns, vals, bottom=bottom, label=sector, color=cmap(i))
                bottom += vals
        ax.set_title(label)
        ax.set_ylabel("share of city total")
        ax.tick_params(axis="x", rotation=45)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    return fig


def plot_per_capita(per_cap: pd.DataFrame):
    """Grouped bars of per-capita emissions by pollutant, one bar per city.

    Parameters
    ----------
    per_cap : pandas.DataFrame
        Index pollutant, one column per city. [kg/yr per capita]
    """
    import matplotlib.pyplot as plt

    air = per_cap.drop(index="CO2", errors="ignore")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [len(air), 1.5]})
    air.plot.bar(ax=axes[0], rot=0)
    axes[0].set_ylabel("kg per resident per year")
    axes[0].set_title("Air pollutants")
    if "CO2" in per_cap.index:
        per_cap.loc[["CO2"]].plot.bar(ax=axes[1], rot=0, legend=False)
        axes[1].set_title("CO2")
    fig.tight_layout()
    return fig


def plot_key_sources(ranking: pd.DataFrame, title: str):
    """Horizontal bars of the largest sources with their share. [t/yr]"""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(ranking), 1) + 1))
    ax.barh(ranking["source_category"][::-1], ranking["emissions"][::-1], color="#4c72b0")
    for y, (v, s) in enumerate(
        zip(ranking["emissions"][::-1], ranking["share"][::-1], strict=True)
    ):
        ax.text(v, y, f" {s:.0%}", va="center", fontsize=8)
    ax.set_xlabel("t/yr")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def module_lines(
    port_inputs: pd.DataFrame, cooking_inputs: pd.DataFrame, role: str, city, rsz_nm: float = 20.0
) -> pd.DataFrame:
    """The ports-and-shipping and commercial-cooking lines for one city.

    They come from the port-operations and commercial-cooking workbooks' own methods
    (:mod:`c3lib.ports`, :mod:`c3lib.cooking`) and inputs, so the inventory and those
    workbooks agree.

    Parameters
    ----------
    port_inputs, cooking_inputs : pandas.DataFrame
        :func:`c3lib.casestudy.inputs` of the port-operations and commercial-cooking
        actions for the pair.
    role : str
        ``mentor`` or ``learning``.
    city : c3lib.params.City
        The city in that role.
    rsz_nm : float
        Reduced-speed-zone length used by the port model. [nm]
    """
    from c3lib import cooking, ports

    port = ports.port_from_inputs(port_inputs, role, city.name, rsz_nm, ports.grid_factor(city))
    port_t = ports.port_emissions(port).groupby("pollutant")["t_per_yr"].sum()
    own = cooking_inputs[cooking_inputs["role"] == role].set_index("field")
    cook_t = cooking.totals(cooking.inventory(cooking.restaurant_counts(own)))
    return pd.concat(
        [
            external_lines(
                "ports-shipping",
                port_t.to_dict(),
                "c3lib.ports: US EPA (2022) Ports Emissions Inventory Guidance method, "
                "see the port-operations case study",
                "derived",
            ),
            external_lines(
                "commercial-cooking",
                cook_t.drop("CO", errors="ignore").to_dict(),
                "c3lib.cooking: US EPA 2020 NEI TSD §19 method, see the "
                "commercial-cooking case study (VOC as ROG reported as NMVOC)",
                "derived",
                rename={"VOC": "NMVOC"},
            ),
        ],
        ignore_index=True,
    )


def city_lines(
    values: Mapping[str, float],
    extra: pd.DataFrame | None = None,
    road_scale: float = 1.0,
    dust_control: float | None = None,
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
    dust_control : float, optional
        Road-dust control efficiency replacing the input's. [fraction]
    """
    v = dict(values)
    for _, km, _ in VEHICLE_CLASSES.values():
        v[km] = v[km] * road_scale
    if dust_control is not None:
        v["road_dust_control"] = dust_control
    lines = calculate(activity(v), emission_factors(), v)
    return pd.concat([lines, extra], ignore_index=True) if extra is not None else lines


def assumption_rows(lines: pd.DataFrame, city: str) -> list[dict]:
    """Assumed factors used and sectors not estimated, as rows for the assumptions table."""
    rows = []
    used = lines[(lines["quality"] == "assumed") & (lines["emissions"] > 0)]
    for (sector, sub), g in used.groupby(["sector", "subsector"]):
        rows.append(
            {
                "city": city,
                "input": f"emission factors {sector} / {sub}",
                "value": ", ".join(sorted(g["pollutant"])),
                "unit": "",
                "basis": "unsourced estimate: check against the EMEP/EEA Guidebook",
                "source": g["source"].iloc[0],
            }
        )
    status = completeness(lines)
    for sector in SECTORS:
        if not (status.loc[sector] == "estimated").any():
            rows.append(
                {
                    "city": city,
                    "input": f"sector {sector}",
                    "value": "not estimated",
                    "unit": "",
                    "basis": "data gap: collect activity data",
                    "source": "",
                }
            )
    return rows


def metrics(
    lines: Mapping[str, pd.DataFrame],
    intervals: Mapping[str, pd.DataFrame],
    population: Mapping[str, float],
) -> pd.DataFrame:
    """Metrics for the run record: totals with 95 % intervals, per capita, sector totals.

    Parameters
    ----------
    lines, intervals, population : mapping by city id
        :func:`city_lines`, :func:`c3lib.uncertainty.simulate` and residents [persons].
    """
    rows = []
    for city, ln in lines.items():
        mc = intervals[city].set_index(["pollutant", "sector"])
        totals = ln.groupby("pollutant")["emissions"].sum()
        for pol in POLLUTANTS:
            if pol not in totals.index:
                continue
            head = pol in ("PM2.5", "NOx", "CO2")
            rows.append(
                dict(
                    city=city,
                    metric="total_emissions",
                    value=totals[pol],
                    unit="t/yr",
                    pollutant=pol,
                    scope="total",
                    headline=head,
                )
            )
            for bound in ("low", "high"):
                rows.append(
                    dict(
                        city=city,
                        metric=f"total_emissions_{bound}_95",
                        value=mc.loc[(pol, "total"), bound],
                        unit="t/yr",
                        pollutant=pol,
                        scope="total",
                        headline=False,
                    )
                )
            rows.append(
                dict(
                    city=city,
                    metric="per_capita_emissions",
                    value=per_capita(totals[pol], population[city]),
                    unit="kg/yr per capita",
                    pollutant=pol,
                    scope="total",
                    headline=False,
                )
            )
        for sector, v in (
            ln[ln["pollutant"] == "PM2.5"].groupby("sector")["emissions"].sum().items()
        ):
            rows.append(
                dict(
                    city=city,
                    metric="sector_emissions",
                    value=v,
                    unit="t/yr",
                    pollutant="PM2.5",
                    scope=sector,
                    headline=False,
                )
            )
    return pd.DataFrame(rows)
