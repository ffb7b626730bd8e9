"""Low-emission urban development: what a reader sees of the ASIF model.

Figures (base-year emissions by mode, trajectories, Shapley wedges), the reader tables
(headline results, the levers with their meaning), the explorer update, the assumption
records and the metrics of the run record. The numbers come from
:mod:`c3lib.topics.urban.model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from c3lib.topics.transport.model import MODES, POLLUTANTS, vehicle_factors
from c3lib.topics.urban.model import (
    LEVER_GROUPS,
    SHIFT_TARGETS,
    CityTransport,
    Levers,
    fleet_factors,
    lez_effects,
    target_check,
    trajectories,
    wedges,
)
from c3lib.topics.views import fixed_layout, plain_y_ticks

__all__ = [
    "plot_baseline",
    "plot_trajectories",
    "plot_wedges",
    "results_table",
    "metrics",
    "lever_table",
    "turnover_table",
    "what_if",
    "assumption_rows",
]


_MODE_COLORS = {
    "car": "#d6452b",
    "taxi": "#f2a541",
    "motorcycle": "#8e6bbf",
    "bus": "#4c9be8",
    "brt": "#2a6fb0",
    "rail": "#5bb5a2",
    "bicycle": "#7fbf7b",
    "walk": "#b8d98a",
}


_LEVER_COLORS = {"avoid": "#8e6bbf", "shift": "#4c9be8", "improve": "#7fbf7b", "lez": "#f2a541"}


def plot_baseline(baselines: Mapping[str, pd.DataFrame]):
    """Base-year emissions by mode, one panel per pollutant, one bar per city.

    Parameters
    ----------
    baselines : mapping of str to pandas.DataFrame
        City label → :func:`~c3lib.topics.urban.model.asif`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(POLLUTANTS), figsize=(11, 3.8))
    labels = list(baselines)
    x = np.arange(len(labels))
    for ax, p in zip(axes, POLLUTANTS, strict=True):
        bottom = np.zeros(len(labels))
        for m in MODES:
            vals = np.array([baselines[c].loc[m, p] for c in labels])
            if not vals.any():
                continue
            ax.bar(x, vals, bottom=bottom, color=_MODE_COLORS[m], label=m, width=0.6)
            bottom += vals
        ax.set_xticks(x, labels)
        ax.set_title(f"{p} (t/yr)", fontsize=10)
    handles, names = [], []
    for ax in axes:
        for h, name in zip(*ax.get_legend_handles_labels(), strict=True):
            if name not in names:
                handles.append(h)
                names.append(name)
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_trajectories(trajectories: Mapping[str, pd.DataFrame]):
    """Emission trajectories by scenario: one row per city, one column per pollutant.

    Parameters
    ----------
    trajectories : mapping of str to pandas.DataFrame
        City label → :func:`~c3lib.topics.urban.model.trajectories`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n = len(trajectories)
    fig, axes = plt.subplots(n, len(POLLUTANTS), figsize=(11, 3.2 * n), squeeze=False)
    styles = {"BAU": ("k", "--"), "Combined": ("#d6452b", "-")}
    for row, (label, traj) in zip(axes, trajectories.items(), strict=True):
        for ax, p in zip(row, POLLUTANTS, strict=True):
            sub = traj[traj["pollutant"] == p]
            for name, df in sub.groupby("scenario", sort=False):
                color, ls = styles.get(name, (None, ":"))
                ax.plot(df["year"], df["emissions"], ls, color=color, label=name, lw=1.5)
            ax.set_title(f"{label}: {p} (t/yr)", fontsize=9)
            ax.set_ylim(bottom=0)
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_wedges(cases: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], pollutant: str = "CO2"):
    """Wedge chart: BAU down to Combined, the gap split by lever (Shapley), one panel per city.

    Parameters
    ----------
    cases : mapping of str to (pandas.DataFrame, pandas.DataFrame)
        City label → (:func:`~c3lib.topics.urban.model.trajectories`,
        :func:`~c3lib.topics.urban.model.wedges`).
    pollutant : str, optional
        ``PM2.5``, ``NOx`` or ``CO2``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cases), figsize=(5.2 * len(cases), 3.8), squeeze=False)
    for ax, (label, (traj, wed)) in zip(axes[0], cases.items(), strict=True):
        _draw_wedges(ax, traj, wed, pollutant, f"{label}: {pollutant} (t/yr)")
    axes[0][-1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def _draw_wedges(ax, traj: pd.DataFrame, wed: pd.DataFrame, pollutant: str, title: str) -> float:
    """Draw one wedge panel; returns the width its y tick labels take. [pt]"""
    # one row per year and scenario or lever: pivot, a third of pivot_table's time
    t = traj[traj["pollutant"] == pollutant].pivot(  # noqa: PD010
        index="year", columns="scenario", values="emissions"
    )
    w = wed[wed["pollutant"] == pollutant].pivot(  # noqa: PD010
        index="year", columns="lever", values="reduction"
    )
    years = t.index.to_numpy()
    top = t["BAU"].to_numpy()
    for lever in LEVER_GROUPS:
        band = w[lever].reindex(years).to_numpy()
        ax.fill_between(years, top - band, top, color=_LEVER_COLORS[lever], label=lever, lw=0)
        top = top - band
    ax.plot(years, t["BAU"], "k--", lw=1.2, label="BAU")
    ax.plot(years, t["Combined"], color="k", lw=1.5, label="Combined")
    ax.set_title(title, fontsize=10, y=1.0)  # y given: no title search
    ax.set_ylim(bottom=0)
    return plain_y_ticks(ax)


def results_table(
    baselines: Mapping[str, pd.DataFrame],
    checks: Mapping[str, pd.DataFrame],
    wedge_tables: Mapping[str, pd.DataFrame],
    target_year: int,
) -> pd.DataFrame:
    """The headline results side by side (one column per city).

    Parameters
    ----------
    baselines : mapping
        Label → :func:`~c3lib.topics.urban.model.asif`.
    checks : mapping
        Label → :func:`~c3lib.topics.urban.model.target_check`.
    wedge_tables : mapping
        Label → :func:`~c3lib.topics.urban.model.wedges`.
    target_year : int
        Year the wedges are read in.

    Returns
    -------
    pandas.DataFrame
        Rows (pollutant, quantity) with a ``unit`` column: base-year emissions, BAU and
        Combined in the target year, the reduction and each lever's wedge. [t/yr]
    """
    cols = {}
    for label, base in baselines.items():
        col = {}
        chk = checks[label]
        w = wedge_tables[label]
        w = w[w["year"] == target_year].pivot_table(
            index="pollutant", columns="lever", values="reduction"
        )
        for p in POLLUTANTS:
            col[(p, "base year", "t/yr")] = base[p].sum()
            col[(p, f"BAU {target_year}", "t/yr")] = chk.loc[p, "BAU"]
            col[(p, f"Combined {target_year}", "t/yr")] = chk.loc[p, "Combined"]
            col[(p, "reduction vs BAU", "%")] = 100.0 * chk.loc[p, "reduction"]
            for lever in LEVER_GROUPS:
                col[(p, f"wedge: {lever}", "t/yr")] = w.loc[p, lever]
        cols[label] = col
    out = pd.DataFrame(cols)
    out.index = out.index.set_names(["pollutant", "quantity", "unit"])
    return out.reset_index(level="unit")


#: reader groups of modes for the base-year mode-share metrics (scope → modes)
SHARE_SCOPES = {
    "public-transport": ("bus", "brt", "rail"),
    "private-vehicles": ("car", "motorcycle"),
    "car": ("car",),
    "taxi": ("taxi",),
    "motorcycle": ("motorcycle",),
    "bicycle": ("bicycle",),
    "walk": ("walk",),
}
#: vehicle-km metrics (scope → modes): cars count taxis, as the inventory's fleet does
VKM_SCOPES = {"car": ("car", "taxi"), "motorcycle": ("motorcycle",), "bus": ("bus", "brt")}


def _activity_rows(city: str, base: pd.DataFrame, population: float | None) -> list[dict]:
    share = base["pkm"] / base["pkm"].sum()
    rows = [
        {
            "city": city,
            "metric": "mode_share",
            "value": float(share[list(m)].sum()),
            "unit": "fraction",
            "scope": scope,
        }
        for scope, m in SHARE_SCOPES.items()
    ]
    rows += [
        {
            "city": city,
            "metric": "vehicle_km",
            "value": float(base.loc[list(m), "vehicle_km"].sum()),
            "unit": "km/yr",
            "scope": scope,
        }
        for scope, m in VKM_SCOPES.items()
    ]
    if population:
        rows.append(
            {
                "city": city,
                "metric": "pkm_per_capita",
                "value": float(base["pkm"].sum()) / population,
                "unit": "pkm/person/yr",
                "scope": "passenger-transport",
            }
        )
    return rows


def metrics(
    baselines: Mapping[str, pd.DataFrame],
    checks: Mapping[str, pd.DataFrame],
    wedge_tables: Mapping[str, pd.DataFrame],
    target_year: int,
    populations: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Metrics for :func:`c3lib.kit.casestudy.publish`, keyed by city id.

    Parameters
    ----------
    populations : mapping, optional
        Residents by city id, for ``pkm_per_capita``. [persons]

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``:
        ``baseline_emissions`` (scope ``passenger-transport``), ``target_year_emissions``
        (scope ``bau`` or ``combined``), ``reduction_vs_bau`` (fraction) and
        ``lever_reduction`` (scope = lever), all in the target year; and the base-year
        activity, without pollutant: ``mode_share`` of passenger-km (scopes of
        :data:`SHARE_SCOPES`) [fraction], ``vehicle_km`` (scopes of :data:`VKM_SCOPES`)
        [km/yr] and ``pkm_per_capita`` [pkm/person/yr].
    """
    rows = []
    for city, base in baselines.items():
        rows += _activity_rows(city, base, (populations or {}).get(city))
        chk = checks[city]
        w = wedge_tables[city]
        w = w[w["year"] == target_year]
        for p in POLLUTANTS:
            common = {"city": city, "pollutant": p}
            rows.append(
                {
                    **common,
                    "metric": "baseline_emissions",
                    "value": base[p].sum(),
                    "unit": "t/yr",
                    "scope": "passenger-transport",
                }
            )
            for scen in ("BAU", "Combined"):
                rows.append(
                    {
                        **common,
                        "metric": "target_year_emissions",
                        "value": chk.loc[p, scen],
                        "unit": "t/yr",
                        "scope": scen.lower(),
                    }
                )
            rows.append(
                {
                    **common,
                    "metric": "reduction_vs_bau",
                    "value": chk.loc[p, "reduction"],
                    "unit": "fraction",
                    "scope": "combined",
                }
            )
            for lever in LEVER_GROUPS:
                value = w[(w["pollutant"] == p) & (w["lever"] == lever)]["reduction"].sum()
                rows.append(
                    {
                        **common,
                        "metric": "lever_reduction",
                        "value": value,
                        "unit": "t/yr",
                        "scope": lever,
                    }
                )
    out = pd.DataFrame(rows)
    out["headline"] = out["metric"].isin(["baseline_emissions", "reduction_vs_bau"])
    return out


def lever_table(levers: Levers) -> pd.DataFrame:
    """The levers of a scenario, by group, with what each one means.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``lever``, ``value`` [-], ``meaning``.
    """
    meaning = {
        "avoid": "share of business-as-usual passenger-km avoided (fewer, shorter trips)",
        "shift": "share of car, taxi and motorcycle passenger-km moved to other modes",
        "ev_car": "electric share of car and taxi vehicle-km",
        "ev_motorcycle": "electric share of motorcycle vehicle-km",
        "ev_bus": "electric share of bus and BRT vehicle-km",
        "bus_euro6": "share of the remaining diesel bus vehicle-km at Euro VI",
        "lez_vkm_share": "share of road vehicle-km driven inside the low-emission zone",
    }
    rows = [
        {"group": g, "lever": n, "value": getattr(levers, n), "meaning": meaning[n]}
        for g, names in LEVER_GROUPS.items()
        for n in names
    ]
    w = pd.Series({m: float(levers.shift_to.get(m, 0.0)) for m in SHIFT_TARGETS})
    w = w / w.sum()
    rows += [
        {
            "group": "shift",
            "lever": f"shift_to_{m}",
            "value": w[m],
            "meaning": f"part of the shifted passenger-km that goes to {m}",
        }
        for m in SHIFT_TARGETS
    ]
    return pd.DataFrame(rows)


def turnover_table(
    cities: Mapping[str, CityTransport], base_year: int, target_year: int
) -> pd.DataFrame:
    """Business-as-usual fleet renewal: car and diesel-bus factors, base and target year.

    Parameters
    ----------
    cities : mapping
        Reader label → the city's transport.
    base_year, target_year : int
        Scenario years. [year]

    Returns
    -------
    pandas.DataFrame
        Indexed by city and vehicle (``petrol car``, ``diesel bus``); columns
        ``NOx base year``, ``NOx target year``, ``PM2.5 base year``, ``PM2.5 target
        year`` [g/km] and ``renewal`` [yr] (— where the city has no turnover).
    """
    rows = {}
    for label, c in cities.items():
        car, bus = fleet_factors(c.turnover, c.bus_euro_stage, base_year, [base_year, target_year])
        v = vehicle_factors(c.grid_ef)
        petrol = v.loc["car_petrol", list(POLLUTANTS)].to_numpy(dtype=float)
        renewal = c.turnover.renewal_yr if c.turnover else float("nan")
        for name, f in (("petrol car", petrol * car), ("diesel bus", bus)):
            row = {}
            for p in ("NOx", "PM2.5"):
                j = POLLUTANTS.index(p)
                row[f"{p} base year"] = f[0, j]
                row[f"{p} target year"] = f[1, j]
            row["renewal"] = renewal
            rows[(label, name)] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["city", "vehicle"])


def what_if(
    city: CityTransport,
    levers: Levers,
    base_year: int,
    target_year: int,
    shift: float,
    ev_car: float,
    ev_motorcycle: float,
    ev_bus: float,
):
    """Explorer update: the shift and fleet levers changed → wedge chart and table.

    Parameters
    ----------
    city : CityTransport
        The city.
    levers : Levers
        The other levers (avoid, Euro VI buses, LEZ, shift targets) as set.
    base_year, target_year : int
        Scenario years.
    shift, ev_car, ev_motorcycle, ev_bus : float
        Lever values in the target year. [-]

    Returns
    -------
    tuple
        (matplotlib Figure: CO2 and PM2.5 wedges; pandas.DataFrame: BAU, scenario and
        reduction in the target year by pollutant).
    """
    lev = replace(levers, shift=shift, ev_car=ev_car, ev_motorcycle=ev_motorcycle, ev_bus=ev_bus)
    traj = trajectories(city, {"BAU": lev.only([]), "Combined": lev}, base_year, target_year)
    wed = wedges(city, lev, base_year, target_year)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    # fixed margins [pt]: the title over each panel, the x tick labels under it
    height = fig.get_figheight() * 72
    fig.subplots_adjust(bottom=30 / height, top=1 - 24 / height)
    y_labels = max(
        _draw_wedges(ax, traj, wed, p, f"{p} (t/yr)")
        for ax, p in zip(axes, ("CO2", "PM2.5"), strict=True)
    )
    axes[-1].legend(fontsize=7, loc="lower left")
    fixed_layout(fig, axes, left=y_labels + 8, right=12, gap=y_labels + 16)
    table = target_check(traj, target_year, 0.0)[["BAU", "Combined", "reduction"]]
    table = table.rename(columns={"Combined": "scenario", "reduction": "reduction (fraction)"})
    return fig, table


def assumption_rows(levers: Levers, base_year: int, target_year: int) -> list[dict]:
    """The workbook's own assumptions beyond the city inputs, as assumption records.

    Returns
    -------
    list of dict
        Keys ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``.
    """
    lez = lez_effects()
    lez = lez[lez["measure"] == "emissions"]
    rows = [
        {
            "city": "all",
            "input": f"lever {r.lever}",
            "value": r.value,
            "unit": "fraction",
            "basis": f"scenario setting ({r.meaning}), reached in {target_year}, "
            f"linear from {base_year}",
            "source": "workbook parameter",
        }
        for r in lever_table(levers).itertuples()
    ]
    rows += [
        {
            "city": "all",
            "input": f"LEZ effect on in-zone {r.pollutant} emissions",
            "value": -float(r.change),
            "unit": "fraction",
            "basis": f"{r.lez}, {r.period}: {r.applies_to}; applied to the emissions of every "
            "road vehicle-km driven inside the zone (transfer from London's fleet and zone "
            "to this city)",
            "source": r.source,
        }
        for r in lez.itertuples()
    ]
    rows += [
        {
            "city": "all",
            "input": "base-year vehicle technology",
            "value": 0.0,
            "unit": "fraction",
            "basis": "no electric cars, motorcycles or buses in the base year; cars and "
            "motorcycles at the petrol Tier 1 averages",
            "source": "assumption (no fleet data in the reference)",
        },
        {
            "city": "all",
            "input": "occupancy, motorcycle and rail factors and grid factor over time",
            "value": float("nan"),
            "unit": "",
            "basis": "held at base-year values in every scenario year; car and diesel-bus "
            "factors follow the fleet turnover (country standard schedule, renewal time)",
            "source": "assumption",
        },
        {
            "city": "all",
            "input": "fleet turnover",
            "value": float("nan"),
            "unit": "",
            "basis": "every car and bus retired at the renewal age with equal sales each year, "
            "each cohort at the Euro stage in force in its model year (cohorts before the "
            "first stated stage taken at Euro 3); the base-year factor scaled by the cohorts' "
            "mean car type-approval NOx limit (car PM2.5 and CO2 unchanged) or mean EMEP/EEA "
            "bus factor; motorcycles frozen; fleet growth adds no extra new vehicles",
            "source": "Directive 98/69/EC; Regulation (EC) No 715/2007; EMEP/EEA Guidebook 2019 "
            "urban-bus factors (transport reference table)",
        },
    ]
    return rows
