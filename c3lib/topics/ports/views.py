"""Port operations for readers: tables, status text, charts, the explorer view and records.

Everything here formats what :mod:`c3lib.topics.ports.model` computes: the tables and
Markdown a workbook shows, the exercise data, the assumption rows and the metrics of the
run record, matplotlib figures and the lever view an explorer redraws. Units are those of
the model: emissions [t/yr], reductions [t/yr] or [%], energy [MWh/yr], time [h].
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from c3lib.topics.ports.model import (
    MEASURES,
    NON_CONTAINER_CALL_FIELDS,
    POLLUTANTS,
    Levers,
    Port,
    ShipFactors,
    berth_hours,
    engine_emission_factors,
    fuel_for_sulphur,
    load_factors,
    measure_reductions,
    reference_row,
    used_inputs,
)

__all__ = [
    "in_place_table",
    "emissions_table",
    "status_table",
    "status_text",
    "port_label",
    "port_facts",
    "calls_table",
    "share_table",
    "monitoring_table",
    "factor_table",
    "exercise_givens",
    "assumption_inputs",
    "headline_table",
    "reductions_table",
    "port_metrics",
    "plot_inventory",
    "plot_reductions",
    "lever_view",
]


_MODE_COLORS = {
    "transit": "#4c72b0",
    "reduced-speed zone": "#64b5cd",
    "river or channel": "#2a9d8f",
    "maneuvering": "#8172b2",
    "hotelling": "#c44e52",
    "anchorage": "#ccb974",
    "cargo handling": "#55a868",
    "harbour craft": "#937860",
}
_MEASURE_COLORS = ["#4c72b0", "#c44e52", "#ccb974", "#55a868", "#333333"]


# ----------------------------------------------------------------------------------------
# Reader tables and status
# ----------------------------------------------------------------------------------------


def emissions_table(
    emissions: pd.DataFrame,
    rows: Sequence[str] = ("mode",),
    pollutants: Sequence[str] = POLLUTANTS,
) -> pd.DataFrame:
    """Emissions summed by ``rows``, one column per pollutant, with a ``total`` row. [t/yr]

    Parameters
    ----------
    emissions : pandas.DataFrame
        From :func:`port_emissions` (or one of its parts).
    rows : sequence of str, optional
        Columns to group by, e.g. ``("ship_class", "mode")``.
    pollutants : sequence of str, optional
        Columns of the result.
    """
    if emissions.empty:
        return pd.DataFrame(columns=list(pollutants))
    t = emissions.pivot_table(
        index=list(rows), columns="pollutant", values="t_per_yr", aggfunc="sum", sort=False
    ).reindex(columns=list(pollutants))
    t.columns.name = None
    total = t.sum()
    if isinstance(t.index, pd.MultiIndex):
        t.loc[("total",) + ("",) * (t.index.nlevels - 1), :] = total.to_numpy()
    else:
        t.loc["total", :] = total.to_numpy()
    return t


_STATUS_TEXT = {
    "ok": "inventoried",
    "no-seaport": "no seaport in the city",
    "no-data": "port, but no throughput or call data",
}


def _status(port: Port) -> str:
    if port.status == "no-data" and math.isnan(port.has_seaport):
        return "no port data in the params yet"
    return _STATUS_TEXT[port.status]


def _no_inventory_row(label: str, columns: Sequence[str], level: str) -> pd.DataFrame:
    idx = pd.MultiIndex.from_tuples([(label, "no port inventory")], names=["city", level])
    return pd.DataFrame(np.nan, index=idx, columns=list(columns))


def status_table(ports: Mapping[str, Port]) -> pd.DataFrame:
    """What each city's port offers the inventory, by role.

    Returns
    -------
    pandas.DataFrame
        Indexed by role: ``city``, ``status``, ``container TEU/yr``, ``calls/yr``.
    """
    rows = {}
    for role, p in ports.items():
        rows[role] = {
            "city": p.name,
            "status": _status(p),
            "container TEU/yr": p.teu_per_yr if p.has_port else np.nan,
            "calls/yr": float(p.calls_per_yr.sum()) if p.has_port else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=^\"'])")


def _md_literal(text: str) -> str:
    """A params string as literal Markdown text (as :func:`c3lib.kit.casestudy.md_escape`,
    which this layer cannot import): punctuation backslash-escaped, ``&<>`` as entities."""
    text = " ".join(str(text).split())
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=False)


def status_text(ports: Mapping[str, Port]) -> str:
    """One plain sentence per city on what its port offers the inventory (Markdown).

    The cities' names and the basis of their call counts come from params: they are
    escaped, so they read as written.
    """
    lines = []
    any_port = any(p.has_port for p in ports.values())
    for role, p in ports.items():
        who = f"- **{_md_literal(p.name)}** ({role})"
        if p.status == "ok":
            lines.append(
                f"{who}: port inventoried from {p.teu_per_yr:,.0f} TEU/yr and "
                f"{p.calls_per_yr.sum():,.0f} ship calls a year ({_md_literal(p.calls_basis)})."
            )
        elif p.status == "no-seaport":
            then = "; the workbook works with the partner's port" if any_port else ""
            lines.append(f"{who}: has no seaport, so it has no port inventory{then}.")
        elif p.has_seaport == 1:
            lines.append(
                f"{who}: has a port, but no throughput or call figure was found, so it is not "
                "inventoried here. Adding `container_teu_per_yr` to the city's params fills "
                "this in."
            )
        else:
            lines.append(
                f"{who}: its params hold no port data yet (neither `has_seaport` nor a "
                "throughput figure), so it is not inventoried here."
            )
    if not any_port:
        lines.append(
            "\nNeither city has a port with traffic data: the inventory, the measures and the "
            "explorer are empty for this pair, and the exercise uses a typical container-ship "
            "call with the workbook's default port settings."
        )
    return "\n".join(lines)


def port_label(port: Port) -> str:
    """How captions name a port: the city's, or a typical port when the city has none."""
    if port.has_port:
        return f"the port of {port.name}"
    return "a typical port (the workbook's default port settings)"


def port_facts(inputs: pd.DataFrame) -> pd.DataFrame:
    """The cities' port facts (seaport, throughput, calls) with year, quality and notes."""
    fields = ["has_seaport", "container_teu_per_yr", "container_calls_per_yr"]
    rows = inputs[inputs["field"].isin(fields) & inputs["own"].astype(bool)]
    cols = ["city", "field", "value", "unit", "year", "quality", "note"]
    return rows[cols].set_index(["city", "field"])


def calls_table(ports: Mapping[str, Port], factors: ShipFactors | None = None) -> pd.DataFrame:
    """Ship calls per year by city and ship class, with how they were obtained.

    Returns
    -------
    pandas.DataFrame
        Indexed by (city, ship class label): ``calls/yr`` [calls/yr] and ``basis``.
    """
    factors = factors or load_factors()
    rows = []
    for p in ports.values():
        if not p.has_port:
            rows.append(
                {
                    "city": p.name,
                    "ship class": "—",
                    "calls/yr": np.nan,
                    "basis": _status(p),
                }
            )
            continue
        for ship_class, n in p.calls_per_yr.items():
            container = factors.classes.loc[ship_class, "ship_type"] == "container"
            rows.append(
                {
                    "city": p.name,
                    "ship class": factors.classes.loc[ship_class, "label"],
                    "calls/yr": n,
                    "basis": p.calls_basis if container else "city's own count",
                }
            )
    return pd.DataFrame(rows).set_index(["city", "ship class"])


def share_table(
    emissions: Mapping[str, pd.DataFrame],
    pollutants: Sequence[str] = ("NOx", "PM2.5", "SO2", "CO2"),
) -> pd.DataFrame:
    """Share of each pollutant by operating mode (incl. CHE and harbour craft), per city. [%]"""
    frames = []
    for label, em in emissions.items():
        if em.empty:
            frames.append(_no_inventory_row(label, pollutants, "mode"))
            continue
        t = em.pivot_table(
            index="mode", columns="pollutant", values="t_per_yr", aggfunc="sum", sort=False
        ).reindex(columns=list(pollutants))
        t = 100 * t / t.sum()
        t.index = pd.MultiIndex.from_product([[label], t.index], names=["city", "mode"])
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=list(pollutants))
    out = pd.concat(frames)
    out.columns.name = None
    return out


def headline_table(
    emissions: Mapping[str, pd.DataFrame],
    reductions: Mapping[str, pd.DataFrame],
    names: Mapping[str, str],
) -> pd.DataFrame:
    """Mentor vs learning city: total port emissions and the combined scenario's cut.

    Parameters
    ----------
    emissions, reductions : mapping of role to DataFrame
        From :func:`port_emissions` and :func:`measure_reductions`.
    names : mapping of role to str
        City names for the column labels.

    Returns
    -------
    pandas.DataFrame
        Indexed by pollutant; per city the baseline [t/yr] and the combined reduction [%].
    """
    cols = {}
    for role, em in emissions.items():
        label = names[role]
        total = em.groupby("pollutant")["t_per_yr"].sum() if not em.empty else pd.Series()
        cols[f"{label}: port total [t/yr]"] = total.reindex(list(POLLUTANTS))
        red = reductions.get(role)
        if red is not None and not red.empty:
            comb = red[red["measure"] == "combined"].set_index("pollutant")["reduction_pct"]
        else:
            comb = pd.Series(dtype=float)
        cols[f"{label}: combined measures [% cut]"] = comb.reindex(list(POLLUTANTS))
    out = pd.DataFrame(cols)
    out.index.name = "pollutant"
    return out


def reductions_table(
    reductions: Mapping[str, pd.DataFrame],
    pollutants: Sequence[str] = POLLUTANTS,
    value: str = "reduction_t_per_yr",
) -> pd.DataFrame:
    """Reductions by city and measure (rows) and pollutant (columns).

    Parameters
    ----------
    reductions : mapping of str to DataFrame
        Label (city name) to :func:`measure_reductions` output.
    value : str, optional
        ``reduction_t_per_yr`` [t/yr] or ``reduction_pct`` [%].
    """
    frames = []
    for label, red in reductions.items():
        if red.empty:
            frames.append(_no_inventory_row(label, pollutants, "measure"))
            continue
        t = red.pivot_table(index="measure", columns="pollutant", values=value, sort=False)
        t = t.reindex(columns=list(pollutants))
        t.index = pd.MultiIndex.from_product([[label], [MEASURES[m] for m in t.index]])
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=list(pollutants))
    out = pd.concat(frames)
    out.index.names = ["city", "measure"]
    out.columns.name = None
    return out


_MONITORING = [
    "ship calls [calls/yr]",
    "complying transits through the zone [transits/yr]",
    "berth hours [h/yr]",
    "shore-power energy at the target uptake [MWh/yr]",
    "fuel sulphur now [% m/m]",
    "fuel sulphur after the switch [% m/m]",
    "diesel CHE energy electrified [MWh/yr]",
]


def monitoring_table(
    ports: Mapping[str, Port], levers: Levers, factors: ShipFactors | None = None
) -> pd.DataFrame:
    """Quantities a port would track to monitor the measures, per city with a port.

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator (with unit), one column per city: calls [calls/yr], transits
        through the reduced-speed zone at the target compliance [transits/yr], berth hours
        [h/yr], shore-power energy at the target uptake [MWh/yr], fuel sulphur now and
        after the switch [% m/m], diesel CHE energy electrified [MWh/yr].
    """
    factors = factors or load_factors()
    cols = {}
    for p in ports.values():
        if not p.has_port:
            cols[p.name] = {}
            continue
        calls = p.calls_per_yr
        berth = sum(n * berth_hours(p, c, factors) for c, n in calls.items())
        shore = sum(
            n * berth_hours(p, c, factors) * factors.classes.loc[c, "aux_kw_hotelling"]
            for c, n in calls.items()
        )
        che = factors.equipment[factors.equipment["category"] == "che"]
        che_kwh = float(
            (che["units_per_basis"] * che["kw"] * che["load_factor"] * che["hours_per_unit"]).sum()
            * p.teu_per_yr
            / 1e6
        )
        cols[p.name] = {
            "ship calls [calls/yr]": calls.sum(),
            "complying transits through the zone [transits/yr]": 2
            * calls.sum()
            * levers.vsr_compliance,
            "berth hours [h/yr]": berth,
            "shore-power energy at the target uptake [MWh/yr]": shore
            * levers.shore_power_uptake
            / 1000,
            "fuel sulphur now [% m/m]": p.sulphur_pct,
            "fuel sulphur after the switch [% m/m]": min(p.sulphur_pct, levers.switch_sulphur_pct),
            "diesel CHE energy electrified [MWh/yr]": che_kwh * levers.che_electric_share / 1000,
        }
    out = pd.DataFrame(cols).reindex(index=_MONITORING, columns=list(cols))
    out.index.name = "indicator"
    return out


def factor_table(
    sulphur_levels: Sequence[float] = (0.5, 0.1),
    tier: int = 2,
    factors: ShipFactors | None = None,
) -> pd.DataFrame:
    """Emission factors of ship engines at baseline BSFC, by engine, type and fuel. [g/kWh]

    Parameters
    ----------
    sulphur_levels : sequence of float, optional
        Fuel sulphur levels to tabulate. [% m/m]
    tier : int, optional
        IMO NOx tier of main and auxiliary engines.
    """
    factors = factors or load_factors()
    rows = []
    for s in sulphur_levels:
        fuel = fuel_for_sulphur(s, factors)
        for engine, etype in (("main", "SSD"), ("main", "MSD"), ("aux", "MSD"), ("boiler", "")):
            ef = engine_emission_factors(engine, etype, s, None, ((tier, 1.0),), factors)
            rows.append(
                {"engine": engine, "type": etype or "boiler", "fuel": f"{fuel} {s:g} % S"}
                | ef.to_dict()
            )
    return pd.DataFrame(rows).set_index(["engine", "type", "fuel"])


# ----------------------------------------------------------------------------------------
# Exercise, assumptions and the run record
# ----------------------------------------------------------------------------------------


def exercise_givens(
    port: Port,
    ship_class: str = "container-intermediate",
    tier: int = 2,
    factors: ShipFactors | None = None,
) -> pd.DataFrame:
    """The numbers a learner needs to compute :func:`berth_aux_per_call` for NOx by hand.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``aux_kw_hotelling``, ``berth_h``, ``fuel``, ``nox_g_kwh``: columns
        ``what``, ``value``, ``unit``, ``source``.
    """
    factors = factors or load_factors()
    fuel = fuel_for_sulphur(port.sulphur_pct, factors)
    ship = factors.classes.loc[ship_class]
    hours = berth_hours(port, ship_class, factors)
    nox = reference_row(
        factors.nox,
        "ship_nox_ef.csv",
        engine="aux",
        engine_type="MSD",
        fuel=fuel,
        tier=float(tier),
    )
    rows = [
        (
            "aux_kw_hotelling",
            f"auxiliary-engine load at berth, {ship['label']}",
            float(ship["aux_kw_hotelling"]),
            "kW",
            "US EPA (2022) EPA-420-B-22-011 Table E.1 (ship_classes.csv)",
        ),
        (
            "berth_h",
            f"time at berth per call, {port_label(port)}",
            hours,
            "h",
            "port-operations input berth_h_per_call (the city's value or the documented default)",
        ),
        (
            "fuel",
            "fuel burnt at berth",
            f"{fuel}, {port.sulphur_pct:g} % S",
            "",
            "port-operations input fuel_sulphur_pct (the city's value or the documented default)",
        ),
        (
            "nox_g_kwh",
            f"NOx factor, auxiliary medium-speed engine, {fuel}, IMO Tier {'I' * tier}",
            float(nox["nox_g_kwh"]),
            "g/kWh",
            str(nox["source"]),
        ),
    ]
    return pd.DataFrame(rows, columns=["key", "what", "value", "unit", "source"]).set_index("key")


def _assumed_reference_rows(factors: ShipFactors) -> list[dict]:
    """Every ``assumed`` reference row as ``input``, ``value``, ``unit``, ``source``."""
    out = []
    t = factors.call_defaults
    for r in t[t["quality"] == "assumed"].itertuples(index=False):
        out.append(
            {
                "input": f"{r.parameter} ({r.ship_class})",
                "value": r.value,
                "unit": r.unit,
                "source": r.source,
            }
        )
    t = factors.equipment
    for r in t[t["quality"] == "assumed"].itertuples(index=False):
        per = "per million TEU/yr" if r.basis == "per_million_teu" else "per call"
        out.append(
            {
                "input": f"{r.label}: fleet and use",
                "value": f"{r.units_per_basis:g} {per}, {r.kw:g} kW, LF {r.load_factor:g}, "
                f"{r.hours_per_unit:g} h each",
                "unit": "",
                "source": r.source,
            }
        )
    t = factors.nonroad_ef
    for r in t[t["quality"] == "assumed"].itertuples(index=False):
        out.append(
            {
                "input": f"{r.pollutant} factor, diesel cargo-handling equipment",
                "value": r.g_kwh,
                "unit": "g/kWh",
                "source": r.source,
            }
        )
    t = factors.shore_power
    for pol, r in t[t["quality"] == "assumed"].iterrows():
        out.append(
            {
                "input": f"shore power: net {pol} reduction",
                "value": r["net_reduction"],
                "unit": "-",
                "source": r["source"],
            }
        )
    t = factors.port_constants
    for r in t[t["quality"] == "assumed"].itertuples(index=False):
        out.append({"input": r.name, "value": r.value, "unit": r.unit, "source": r.source})
    return out


def assumption_inputs(
    inputs: pd.DataFrame, levers: Levers, factors: ShipFactors | None = None
) -> tuple[pd.DataFrame, list[dict]]:
    """Inputs and extra rows for :func:`c3lib.kit.casestudy.assumptions`, without noise.

    For a city with no seaport only ``has_seaport`` is kept (its port settings are moot);
    the five zero-call defaults of non-container ships become one row per city. The extra
    rows add the measure settings and every ``assumed`` reference row used here.

    Returns
    -------
    inputs : pandas.DataFrame
        The filtered inputs.
    extra : list of dict
        Rows with ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``.
    """
    factors = factors or load_factors()
    keep = []
    extra: list[dict] = []
    for city, rows in used_inputs(inputs).groupby("city", sort=False):
        if rows["field"].tolist() == ["has_seaport"]:
            keep.append(rows)
            continue
        uncounted = rows["field"].isin(list(NON_CONTAINER_CALL_FIELDS)) & ~rows["own"].astype(bool)
        if uncounted.any():
            extra.append(
                {
                    "city": city,
                    "input": "non-container ship calls",
                    "value": 0,
                    "unit": "calls/yr",
                    "basis": "no call data: bulk, tanker, general-cargo, Ro-Ro and cruise calls "
                    "are not counted, so the inventory covers container traffic only",
                    "source": "not counted",
                }
            )
        keep.append(rows[~uncounted])
    filtered = pd.concat(keep, ignore_index=True) if keep else inputs.iloc[0:0]
    settings = [
        ("vsr_speed_kn", levers.vsr_speed_kn, "kn", "Long Beach Green Flag programme: 12 kn"),
        ("vsr_zone_nm", levers.vsr_zone_nm, "nm", "Long Beach Green Flag programme: 20 or 40 nm"),
        (
            "vsr_compliance",
            levers.vsr_compliance,
            "-",
            "Long Beach Green Flag: 90 % compliance earns the dockage discount",
        ),
        ("shore_power_uptake", levers.shore_power_uptake, "-", "unsourced estimate: a target"),
        (
            "switch_sulphur_pct",
            levers.switch_sulphur_pct,
            "% m/m",
            "MARPOL Annex VI Reg. 14 emission-control-area limit (0.10 %)",
        ),
        ("che_electric_share", levers.che_electric_share, "-", "unsourced estimate: a target"),
    ]
    for name, value, unit, source in settings:
        extra.append(
            {
                "city": "pair",
                "input": name,
                "value": value,
                "unit": unit,
                "basis": "measure setting (workbook parameter)",
                "source": source,
            }
        )
    for r in _assumed_reference_rows(factors):
        extra.append({"city": "all", "basis": "reference value flagged assumed"} | r)
    return filtered, extra


def port_metrics(
    ports: Mapping[str, Port],
    emissions: Mapping[str, pd.DataFrame],
    reductions: Mapping[str, pd.DataFrame],
) -> pd.DataFrame:
    """Metrics of the run for the case-study record.

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``:
        ``has_seaport``; for cities with a port also ``container_throughput``,
        ``ship_calls``, ``total_emissions`` (scope ``port``), ``ogv_emissions``,
        ``che_emissions``, ``harbour_craft_emissions`` and ``measure_reduction`` (scope =
        measure id).
    """
    rows = []
    sector_metric = {
        "ogv": "ogv_emissions",
        "che": "che_emissions",
        "harbour-craft": "harbour_craft_emissions",
    }
    for role, p in ports.items():
        if not math.isnan(p.has_seaport) or p.has_port:
            rows.append(
                {
                    "city": p.city,
                    "metric": "has_seaport",
                    "value": 0.0 if p.status == "no-seaport" else 1.0,
                    "unit": "flag",
                }
            )
        if not p.has_port:
            continue
        rows.append(
            {
                "city": p.city,
                "metric": "container_throughput",
                "value": p.teu_per_yr,
                "unit": "TEU/yr",
            }
        )
        rows.append(
            {
                "city": p.city,
                "metric": "ship_calls",
                "value": float(p.calls_per_yr.sum()),
                "unit": "calls/yr",
                "scope": "ogv",
            }
        )
        em = emissions[role]
        for pol, t in em.groupby("pollutant")["t_per_yr"].sum().items():
            rows.append(
                {
                    "city": p.city,
                    "metric": "total_emissions",
                    "value": t,
                    "unit": "t/yr",
                    "pollutant": pol,
                    "scope": "port",
                }
            )
        by_sector = em.groupby(["sector", "pollutant"])["t_per_yr"].sum()
        for (sector, pol), t in by_sector.items():
            rows.append(
                {
                    "city": p.city,
                    "metric": sector_metric[sector],
                    "value": t,
                    "unit": "t/yr",
                    "pollutant": pol,
                    "scope": sector,
                }
            )
        for r in reductions[role].itertuples(index=False):
            rows.append(
                {
                    "city": p.city,
                    "metric": "measure_reduction",
                    "value": r.reduction_t_per_yr,
                    "unit": "t/yr",
                    "pollutant": r.pollutant,
                    "scope": r.measure,
                }
            )
    out = pd.DataFrame(rows, columns=["city", "metric", "value", "unit", "pollutant", "scope"])
    out["headline"] = (out["metric"] == "total_emissions") | (
        (out["metric"] == "measure_reduction") & (out["scope"] == "combined")
    )
    return out


# ----------------------------------------------------------------------------------------
# Charts and the explorer
# ----------------------------------------------------------------------------------------


def _no_data_figure(message: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def plot_inventory(
    emissions: Mapping[str, pd.DataFrame],
    pollutants: Sequence[str] = ("NOx", "PM2.5", "SO2", "CO2"),
):
    """Stacked bars of port emissions by mode (and CHE, harbour craft), one panel per pollutant.

    Parameters
    ----------
    emissions : mapping of str to DataFrame
        City label to :func:`port_emissions` output; empty tables are shown as "no port".
    pollutants : sequence of str, optional
        One panel each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    labels = list(emissions)
    if all(e.empty for e in emissions.values()):
        return _no_data_figure("Neither city has a port inventory to chart.")
    fig, axes = plt.subplots(1, len(pollutants), figsize=(3.2 * len(pollutants), 3.8))
    axes = np.atleast_1d(axes)
    categories = list(_MODE_COLORS)
    for ax, pol in zip(axes, pollutants, strict=True):
        bottom = np.zeros(len(labels))
        for cat in categories:
            vals = np.array(
                [
                    float(
                        emissions[c]
                        .loc[
                            (emissions[c]["pollutant"] == pol) & (emissions[c]["mode"] == cat),
                            "t_per_yr",
                        ]
                        .sum()
                    )
                    if not emissions[c].empty
                    else 0.0
                    for c in labels
                ]
            )
            ax.bar(labels, vals, bottom=bottom, color=_MODE_COLORS[cat], label=cat)
            bottom += vals
        for i, c in enumerate(labels):
            if emissions[c].empty:
                ax.text(i, 0, "no port\ninventory", ha="center", va="bottom", fontsize=8)
        ax.set_title(pol)
        ax.set_ylabel("t/yr")
        ax.tick_params(axis="x", labelrotation=20)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def plot_reductions(
    reductions: Mapping[str, pd.DataFrame],
    pollutants: Sequence[str] = ("NOx", "PM2.5", "SO2", "CO2"),
):
    """Grouped bars of the reduction of each measure by pollutant [%], one panel per city.

    Parameters
    ----------
    reductions : mapping of str to DataFrame
        City label to :func:`measure_reductions` output; cities without a port are skipped.
    pollutants : sequence of str, optional
        Pollutants on the x axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    shown = {k: v for k, v in reductions.items() if not v.empty}
    if not shown:
        return _no_data_figure("Neither city has a port inventory, so there is nothing to reduce.")
    fig, axes = plt.subplots(1, len(shown), figsize=(6 * len(shown), 3.8), squeeze=False)
    for ax, (label, red) in zip(axes[0], shown.items(), strict=True):
        measures = list(dict.fromkeys(red["measure"]))
        width = 0.8 / len(measures)
        x = np.arange(len(pollutants))
        for i, m in enumerate(measures):
            vals = (
                red[red["measure"] == m]
                .set_index("pollutant")["reduction_pct"]
                .reindex(list(pollutants))
                .fillna(0.0)
            )
            ax.bar(
                x + (i - (len(measures) - 1) / 2) * width,
                vals.to_numpy(),
                width,
                label=MEASURES[m],
                color=_MEASURE_COLORS[i % len(_MEASURE_COLORS)],
            )
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(x, list(pollutants))
        ax.set_ylabel("reduction [%]")
        ax.set_title(label)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    return fig


def lever_view(
    ports: Mapping[str, Port],
    levers: Levers,
    measures: Sequence[str] = ("vessel-speed-reduction", "shore-power"),
    factors: ShipFactors | None = None,
    **changes: float,
):
    """Chart and table of the chosen measures at the given lever settings (for explorers).

    Parameters
    ----------
    ports : mapping of str to Port
        City label to baseline port (cities without a port are skipped).
    levers : Levers
        Settings of the measures.
    measures : sequence of str, optional
        Ids from :data:`MEASURES`.
    factors : ShipFactors, optional
        Reference tables (default :func:`load_factors`).
    **changes : float
        Lever values to change, by :class:`Levers` attribute (what the sliders set).

    Returns
    -------
    fig : matplotlib.figure.Figure
        :func:`plot_reductions` of the measures.
    table : pandas.DataFrame
        Reductions [t/yr] by city and measure for NOx, PM2.5, SO2 and CO2.
    """
    factors = factors or load_factors()
    levers = replace(levers, **changes)
    reds = {}
    for label, p in ports.items():
        if not p.has_port:
            continue
        base = replace(p, rsz_nm=min(levers.vsr_zone_nm, p.domain_nm))
        reds[label] = measure_reductions(base, levers, measures, factors)
    shown = ("NOx", "PM2.5", "SO2", "CO2")
    return plot_reductions(reds, shown), reductions_table(reds, shown).round(1)


def in_place_table(in_place: Mapping[str, list], names: Mapping[str, str]) -> pd.DataFrame:
    """Which recorded measures the baseline counts, by city, and the setting it uses.

    Parameters
    ----------
    in_place : mapping of role to list of InPlace
        From :func:`~c3lib.topics.ports.model.with_measures_in_place`.
    names : mapping of role to str
        City names.
    """
    rows = [
        {
            "City": names[role],
            "Measure": m.measure,
            "Lever": m.lever.replace("-", " "),
            "In the baseline": "yes" if m.counted else "no",
            "How": m.how,
        }
        for role, items in in_place.items()
        for m in items
    ]
    return pd.DataFrame(rows, columns=["City", "Measure", "Lever", "In the baseline", "How"])
