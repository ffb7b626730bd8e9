"""City-scale emissions inventory: what a reader sees of the model.

Figures (sector shares, per-capita emissions, key sources), the assumption records
(assumed factors used, factor gaps, sectors not estimated) and the metrics of the run
record. The numbers come from :mod:`c3lib.topics.inventory.model`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from c3lib.topics.inventory.model import (
    POLLUTANTS,
    SECTORS,
    completeness,
    not_estimated,
    per_capita,
    sector_totals,
)

__all__ = [
    "plot_sector_shares",
    "plot_per_capita",
    "plot_key_sources",
    "assumption_rows",
    "sector_table",
    "partial_note",
    "metrics",
]


_HEADLINE = ("PM2.5", "NOx", "CO2")


def plot_sector_shares(totals: Mapping[str, pd.DataFrame]):
    """Stacked bars: each sector's share of each pollutant, one panel per city.

    Parameters
    ----------
    totals : mapping of str to pandas.DataFrame
        City label → :func:`~c3lib.topics.inventory.model.sector_totals`. [t/yr]
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(totals), figsize=(5.5 * len(totals), 3.8), sharey=True, squeeze=False
    )
    cmap = plt.get_cmap("tab10")
    handles = {}
    for ax, (label, table) in zip(axes[0], totals.items(), strict=True):
        shares = table / table.sum().replace(0, np.nan)
        bottom = np.zeros(len(shares.columns))
        for i, sector in enumerate(SECTORS):
            if sector in shares.index and shares.loc[sector].fillna(0).gt(0).any():
                vals = shares.loc[sector].fillna(0).to_numpy()
                bars = ax.bar(shares.columns, vals, bottom=bottom, label=sector, color=cmap(i))
                handles.setdefault(sector, bars)
                bottom += vals
        ax.set_title(label)
        ax.set_ylabel("share of city total")
        ax.tick_params(axis="x", rotation=45)
    # one legend for every series drawn in any panel
    order = [s for s in SECTORS if s in handles]
    axes[0][-1].legend(
        [handles[s] for s in order], order, fontsize=7, loc="upper left", bbox_to_anchor=(1, 1)
    )
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


def assumption_rows(
    lines: pd.DataFrame, city: str, factors: pd.DataFrame | None = None
) -> list[dict]:
    """Assumed factors used, factor gaps and sectors not estimated, for the assumptions table.

    Parameters
    ----------
    lines : pandas.DataFrame
        From :func:`~c3lib.topics.inventory.model.city_lines`.
    city : str
        City id the rows belong to.
    factors : pandas.DataFrame, optional
        From :func:`~c3lib.topics.inventory.model.emission_factors`.
    """
    rows = []
    used = lines[(lines["quality"] == "assumed") & (lines["emissions"] > 0)]
    for (sector, sub), g in used.groupby(["sector", "subsector"]):
        rows.append(
            {
                "city": city,
                "input": f"emission factors {sector} / {sub}",
                "value": ", ".join(sorted(g["pollutant"])),
                "unit": "g per " + str(g["activity_unit"].iloc[0]),
                "basis": "unsourced estimate: check against the EMEP/EEA Guidebook",
                "source": g["source"].iloc[0],
            }
        )
    status = completeness(lines, factors)
    for sector in SECTORS:
        row = status.loc[sector]
        if not (row == "estimated").any():
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
            continue
        gaps = [p for p in POLLUTANTS if row[p] == "data gap: no factor"]
        if gaps:
            rows.append(
                {
                    "city": city,
                    "input": f"emission factors {sector}",
                    "value": "no factor for " + ", ".join(gaps),
                    "unit": "",
                    "basis": "data gap: find a sourced factor (emission_factors.csv notes)",
                    "source": "",
                }
            )
    return rows


def sector_table(lines: pd.DataFrame, beside: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every sector's emissions by pollutant, the total, and what is not estimated.

    Parameters
    ----------
    lines, beside : pandas.DataFrame
        The lines in the total and those shown beside it
        (:func:`~c3lib.topics.inventory.model.split_indicative`).

    Returns
    -------
    pandas.DataFrame
        One row per sector of :data:`~c3lib.topics.inventory.model.SECTORS` and a
        ``total`` row (``partial total`` when a sector is missing), columns the pollutants
        and ``status``; NaN (shown "—") where not estimated, never 0. [t/yr]
    """
    both = pd.concat([lines, beside], ignore_index=True) if beside is not None else lines
    table = sector_totals(both).reindex(index=list(SECTORS), columns=list(POLLUTANTS))
    aside = set(beside["sector"]) if beside is not None else set()
    missing = set(not_estimated(both))
    table.loc[table.index.isin(missing), list(POLLUTANTS)] = np.nan
    table["status"] = [
        "not estimated"
        if s in missing
        else "indicative, not in the total"
        if s in aside
        else "estimated"
        for s in table.index
    ]
    total = lines.groupby("pollutant")["emissions"].sum().reindex(list(POLLUTANTS))
    label = "partial total" if partial_note(lines, beside) else "total"
    table.loc[label] = [*total.to_numpy(), partial_note(lines, beside) or "complete"]
    table.index.name = "sector"
    return table


def partial_note(lines: pd.DataFrame, beside: pd.DataFrame | None = None) -> str:
    """What a total leaves out, in words (empty when it is complete).

    Parameters
    ----------
    lines, beside : pandas.DataFrame
        The lines in the total and those shown beside it
        (:func:`~c3lib.topics.inventory.model.split_indicative`).
    """
    aside = sorted(set(beside["sector"])) if beside is not None and len(beside) else []
    missing = [s for s in not_estimated(lines) if s not in aside]
    parts = []
    if missing:
        parts.append(f"leaves out {', '.join(missing)} (not estimated)")
    if aside:
        parts.append(f"{', '.join(aside)} shown beside it (indicative, not in the total)")
    return "partial total: " + "; ".join(parts) if parts else ""


def metrics(
    lines: Mapping[str, pd.DataFrame],
    intervals: Mapping[str, pd.DataFrame],
    population: Mapping[str, float],
    beside: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Metrics for the run record: totals with 95 % intervals, per capita, sector totals.

    Parameters
    ----------
    lines, intervals, population : mapping by city id
        The lines in the total (:func:`~c3lib.topics.inventory.model.city_lines`,
        :func:`~c3lib.topics.inventory.model.split_indicative`),
        :func:`c3lib.topics.uncertainty.simulate` and residents [persons].
    beside : mapping by city id, optional
        Indicative lines shown beside the total (commercial cooking).

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``,
        ``headline``, ``partial`` (True on a total that leaves a sector out) and
        ``note`` (what it leaves out). Sector emissions for every pollutant estimated;
        a sector not estimated has no row (never 0).
    """
    rows = []
    beside = beside or {}

    def add(city, metric, value, unit, pollutant, scope, headline=False, note=""):
        rows.append(
            dict(
                city=city,
                metric=metric,
                value=float(value),
                unit=unit,
                pollutant=pollutant,
                scope=scope,
                headline=headline,
                partial=bool(note) and scope == "total",
                note=note,
            )
        )

    for city, ln in lines.items():
        mc = intervals[city].set_index(["pollutant", "sector"])
        totals = ln.groupby("pollutant")["emissions"].sum()
        note = partial_note(ln, beside.get(city))
        for pol in POLLUTANTS:
            if pol not in totals.index:
                continue
            add(city, "total_emissions", totals[pol], "t/yr", pol, "total", pol in _HEADLINE, note)
            low, high = mc.loc[(pol, "total"), "low"], mc.loc[(pol, "total"), "high"]
            add(city, "total_emissions_low_95", low, "t/yr", pol, "total", note=note)
            add(city, "total_emissions_high_95", high, "t/yr", pol, "total", note=note)
            add(
                city,
                "per_capita_emissions",
                per_capita(totals[pol], population[city]),
                "kg/yr per capita",
                pol,
                "total",
                pol == "PM2.5",
                note,
            )
        by_sector = ln.groupby(["sector", "pollutant"])["emissions"].sum()
        for (sector, pol), v in by_sector.items():
            add(city, "sector_emissions", v, "t/yr", pol, sector)
        aside = beside.get(city)
        if aside is not None and len(aside):
            for (sector, pol), v in (
                aside.groupby(["sector", "pollutant"])["emissions"].sum().items()
            ):
                add(
                    city,
                    "sector_emissions",
                    v,
                    "t/yr",
                    pol,
                    sector,
                    note="indicative: not in the total",
                )
    return pd.DataFrame(rows)
