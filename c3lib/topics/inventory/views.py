"""City-scale emissions inventory: what a reader sees of the model.

Figures (sector shares, per-capita emissions, key sources), the assumption records
(assumed factors used, factor gaps, sectors not estimated) and the metrics of the run
record. The numbers come from :mod:`c3lib.topics.inventory.model`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from c3lib.topics.inventory.model import POLLUTANTS, SECTORS, completeness, per_capita

__all__ = [
    "plot_sector_shares",
    "plot_per_capita",
    "plot_key_sources",
    "assumption_rows",
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


def metrics(
    lines: Mapping[str, pd.DataFrame],
    intervals: Mapping[str, pd.DataFrame],
    population: Mapping[str, float],
) -> pd.DataFrame:
    """Metrics for the run record: totals with 95 % intervals, per capita, sector totals.

    Parameters
    ----------
    lines, intervals, population : mapping by city id
        :func:`~c3lib.topics.inventory.model.city_lines`,
        :func:`c3lib.topics.uncertainty.simulate` and residents [persons].

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``,
        ``headline``.
    """
    rows = []

    def add(city, metric, value, unit, pollutant, scope, headline=False):
        rows.append(
            dict(
                city=city,
                metric=metric,
                value=float(value),
                unit=unit,
                pollutant=pollutant,
                scope=scope,
                headline=headline,
            )
        )

    for city, ln in lines.items():
        mc = intervals[city].set_index(["pollutant", "sector"])
        totals = ln.groupby("pollutant")["emissions"].sum()
        for pol in POLLUTANTS:
            if pol not in totals.index:
                continue
            add(city, "total_emissions", totals[pol], "t/yr", pol, "total", pol in _HEADLINE)
            add(city, "total_emissions_low_95", mc.loc[(pol, "total"), "low"], "t/yr", pol, "total")
            add(
                city,
                "total_emissions_high_95",
                mc.loc[(pol, "total"), "high"],
                "t/yr",
                pol,
                "total",
            )
            add(
                city,
                "per_capita_emissions",
                per_capita(totals[pol], population[city]),
                "kg/yr per capita",
                pol,
                "total",
                pol == "PM2.5",
            )
        pm = ln[ln["pollutant"] == "PM2.5"].groupby("sector")["emissions"].sum()
        for sector, v in pm.items():
            add(city, "sector_emissions", v, "t/yr", "PM2.5", sector)
    return pd.DataFrame(rows)
