"""Public bike-sharing: what a reader sees of the model.

Figures (station grids, sizing, demand, avoided emissions), the reader tables
(headline results, HEAT inputs and results, side-by-side comparisons), the explorer
update, the assumption records and the metrics of the run record. The numbers come
from :mod:`c3lib.topics.bikeshare.model`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from c3lib.exceptions import C3Error
from c3lib.reference import reference_table
from c3lib.topics.bikeshare.model import (
    SUBSTITUTED_MODES,
    Assessment,
    ExistingSystem,
    Plan,
    StationLayout,
    _outcome,
    annual_trips,
    heat_parameters,
    itdp_benchmarks,
    replaced_trip_factors,
    substitution_shares,
    trip_length_km,
    with_car_share,
)
from c3lib.topics.transport.model import POLLUTANTS
from c3lib.topics.views import fixed_layout, plain_y_ticks

__all__ = [
    "heat_input_table",
    "plot_station_layouts",
    "plot_sizing",
    "plot_demand",
    "plot_avoided_emissions",
    "results_table",
    "metrics",
    "compare",
    "health_table",
    "what_if",
    "assumption_rows",
]


_SOURCED = ("official", "secondary", "derived")


def heat_input_table(city_inputs: pd.DataFrame) -> pd.DataFrame:
    """Every HEAT input with its value, unit, source and whether it is sourced or assumed.

    Parameters
    ----------
    city_inputs : pandas.DataFrame
        One city's inputs indexed by field (columns ``value``, ``unit``, ``source``,
        ``quality``), e.g. ``cs.inputs(case)`` filtered to one role and indexed by field.

    Returns
    -------
    pandas.DataFrame
        Indexed by input; columns ``value``, ``unit``, ``basis`` (``sourced`` or
        ``assumed``), ``quality``, ``source``.
    """
    heat = reference_table("bikeshare_heat")
    cyc = heat[heat["case"] == "cycling"].set_index("parameter")
    rows = {}
    for name in ("relative_risk", "reference_minutes_per_week", "risk_reduction_cap"):
        r = cyc.loc[name]
        rows[name] = (r["value"], r["unit"], r["quality"], r["source"])
    for name in ("trip_minutes", "trips_per_user_week", "mortality_rate_per_100k", "vsl"):
        if name not in city_inputs.index:
            raise C3Error(f"HEAT input {name!r} is missing from the city's inputs")
        r = city_inputs.loc[name]
        rows[name] = (r["value"], r["unit"], r["quality"], r["source"])
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["value", "unit", "quality", "source"]
    )
    out.insert(2, "basis", np.where(out["quality"].isin(_SOURCED), "sourced", "assumed"))
    return out.rename_axis("input")


def _figure(ncols: int, width: float = 4.2, height: float = 3.6):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def plot_station_layouts(layouts: dict[str, StationLayout]):
    """Station grids with walking catchments, one panel per city (no map tiles).

    Parameters
    ----------
    layouts : dict of str to StationLayout
        Panel title → layout.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle, Rectangle

    fig, axes = _figure(len(layouts), width=4.4, height=4.4)
    for ax, (title, lay) in zip(axes, layouts.items(), strict=True):
        r_km = lay.catchment_m / 1000.0
        circles = [Circle((x, y), r_km) for x, y in lay.stations.to_numpy()]
        ax.add_collection(
            PatchCollection(circles, facecolor="#4c9be8", alpha=0.15, edgecolor="#4c9be8", lw=0.3)
        )
        ax.add_patch(Rectangle((0, 0), lay.side_km, lay.side_km, fill=False, lw=1.2, ec="0.2"))
        size = max(1.0, 12.0 * min(1.0, 150.0 / len(lay.stations)))
        ax.scatter(lay.stations["x_km"], lay.stations["y_km"], s=size, c="#d6452b", zorder=3)
        pad = r_km
        ax.set_xlim(-pad, lay.side_km + pad)
        ax.set_ylim(-pad, lay.side_km + pad)
        ax.set_aspect("equal")
        ax.set_xlabel("km")
        ax.set_ylabel("km")
        ax.set_title(
            f"{title}\n{len(lay.stations):,} stations on {lay.coverage_area_km2:,.0f} km², "
            f"{lay.spacing_m:.0f} m apart",
            fontsize=9,
        )
    fig.tight_layout()
    return fig


def plot_sizing(tables: dict[str, pd.DataFrame], existing: dict[str, ExistingSystem]):
    """Stations and bikes needed (plan, with the ITDP range) and the documented system.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        City label → :func:`~c3lib.topics.bikeshare.model.sizing_table`.
    existing : dict of str to ExistingSystem
        City label → documented system (NaN figures are not drawn).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _figure(2)
    labels = list(tables)
    x = np.arange(len(labels))
    for ax, row in zip(axes, ("stations", "bikes"), strict=True):
        plan = np.array([tables[c].loc[row, "plan"] for c in labels])
        lo = np.array([tables[c].loc[row, "ITDP low"] for c in labels])
        hi = np.array([tables[c].loc[row, "ITDP high"] for c in labels])
        ax.bar(x - 0.18, plan, width=0.36, color="#4c9be8", label="plan (ITDP range)")
        ax.errorbar(x - 0.18, plan, yerr=[plan - lo, hi - plan], fmt="none", ecolor="0.2")
        real = np.array([getattr(existing[c], row) for c in labels], dtype=float)
        ax.bar(x + 0.18, np.nan_to_num(real), width=0.36, color="#f2a541", label="documented")
        for xi, v in zip(x, real, strict=True):
            if np.isnan(v):
                ax.text(xi + 0.18, 0, "n/a", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, labels)
        ax.set_ylabel(row)
        ax.set_title(f"{row.capitalize()} for the coverage area", fontsize=10)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_demand(scenarios: dict[str, pd.DataFrame]):
    """Annual trips by demand scenario, one group of bars per city.

    Parameters
    ----------
    scenarios : dict of str to pandas.DataFrame
        City label → :func:`~c3lib.topics.bikeshare.model.demand_scenarios`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _figure(1, width=6.5)
    ax = axes[0]
    labels = list(scenarios)
    names = list(dict.fromkeys(n for df in scenarios.values() for n in df.index))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        vals = [
            scenarios[c].loc[name, "annual_trips"] / 1e6 if name in scenarios[c].index else 0
            for c in labels
        ]
        ax.bar(np.arange(len(labels)) + (i - (len(names) - 1) / 2) * width, vals, width, label=name)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylabel("million trips per year")
    ax.legend(title="trips per bike per day", fontsize=8)
    fig.tight_layout()
    return fig


def plot_avoided_emissions(avoided: dict[str, pd.DataFrame]):
    """Avoided emissions by replaced mode and the rebalancing penalty, one panel per pollutant.

    Parameters
    ----------
    avoided : dict of str to pandas.DataFrame
        City label → :func:`~c3lib.topics.bikeshare.model.avoided_emissions`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _figure(len(POLLUTANTS), width=3.6)
    labels = list(avoided)
    # side by side, "San Diego (mentor)" over two lines: one line would run into the next
    ticks = [c.replace(" (", "\n(") for c in labels] if len(labels) > 1 else labels
    lines = max(t.count("\n") + 1 for t in ticks)
    # fixed margins [pt]: the title over each panel; the x tick labels (12 pt a line) and
    # the figure legend under them
    height = fig.get_figheight() * 72
    fig.subplots_adjust(bottom=(42 + 12 * lines) / height, top=1 - 24 / height)
    parts = [*SUBSTITUTED_MODES, "rebalancing"]
    colors = dict(
        zip(parts, ["#d6452b", "#f2a541", "#8e6bbf", "#4c9be8", "#7fbf7b", "0.45"], strict=True)
    )
    x = np.arange(len(labels))
    y_labels = 0.0  # width of the widest y tick labels [pt]
    for ax, p in zip(axes, POLLUTANTS, strict=True):
        pos = np.zeros(len(labels))
        neg = np.zeros(len(labels))
        for part in parts:
            vals = np.array([avoided[c].loc[part, p] for c in labels])
            base = np.where(vals >= 0, pos, neg)
            ax.bar(x, vals, bottom=base, color=colors[part], label=part, width=0.6)
            pos += np.where(vals >= 0, vals, 0)
            neg += np.where(vals < 0, vals, 0)
        net = [avoided[c].loc["net", p] for c in labels]
        ax.scatter(x, net, marker="D", color="k", zorder=3, label="net")
        ax.axhline(0, color="0.3", lw=0.8)
        span = max(pos.max() - neg.min(), 1e-12)
        ax.set_ylim(neg.min() - 0.08 * span, pos.max() + 0.08 * span)
        ax.set_xlim(-0.7, len(labels) - 0.3)
        ax.set_xticks(x, ticks)
        ax.set_title(f"{p} avoided (t/yr)", fontsize=10, y=1.0)  # y given: no title search
        y_labels = max(y_labels, plain_y_ticks(ax))
    handles, names = axes[-1].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8)
    fixed_layout(fig, axes, left=y_labels + 8, right=8, gap=y_labels + 16)
    return fig


def results_table(assessments: dict[str, Assessment]) -> pd.DataFrame:
    """The headline results side by side (one column per city).

    Parameters
    ----------
    assessments : dict of str to Assessment
        Column label → assessment.

    Returns
    -------
    pandas.DataFrame
        Rows of planned and documented-system results; a ``unit`` column. NaN where a
        city has no documented figure.
    """
    nan = float("nan")
    cols = {}
    for label, a in assessments.items():
        p, o = a.plan, a.observed
        col = {
            ("planned system", "coverage area", "km2"): a.sizing.loc["coverage area", "plan"],
            ("planned system", "population density covered", "persons/km2"): a.density,
            ("planned system", "stations", "stations"): a.sizing.loc["stations", "plan"],
            ("planned system", "bikes", "bikes"): a.sizing.loc["bikes", "plan"],
            ("planned system", "docks", "docks"): a.sizing.loc["docks", "plan"],
            ("planned system", "trips per bike per day (central)", "trips/bike/day"): (
                a.trips_per_bike_day
            ),
            ("planned system", "annual trips (central)", "trips/yr"): p.annual_trips,
            ("planned system", "bike-km", "km/yr"): p.bike_km,
            ("planned system", "car-km avoided", "km/yr"): p.avoided.loc["car", "vehicle_km"],
            ("planned system", "rebalancing van-km", "km/yr"): -p.avoided.loc[
                "rebalancing", "vehicle_km"
            ],
        }
        for pol in POLLUTANTS:
            col[("planned system", f"net {pol} avoided", "t/yr")] = p.avoided.loc["net", pol]
        col[("planned system", "deaths avoided", "deaths/yr")] = p.heat.deaths_avoided
        col[("planned system", "value of deaths avoided", "EUR/yr")] = p.heat.value
        col[("documented system", "stations", "stations")] = a.existing.stations
        col[("documented system", "bikes", "bikes")] = a.existing.bikes
        col[("documented system", "daily trips", "trips/day")] = a.existing.daily_trips
        col[("documented system", "annual trips", "trips/yr")] = o.annual_trips if o else nan
        col[("documented system", "net CO2 avoided", "t/yr")] = (
            o.avoided.loc["net", "CO2"] if o else nan
        )
        col[("documented system", "deaths avoided", "deaths/yr")] = (
            o.heat.deaths_avoided if o else nan
        )
        cols[label] = col
    out = pd.DataFrame(cols)
    out.index = out.index.set_names(["system", "quantity", "unit"])
    return out.reset_index(level="unit")


def metrics(assessments: dict[str, Assessment]) -> pd.DataFrame:
    """Metrics for :func:`c3lib.kit.casestudy.publish`, keyed by city id.

    Parameters
    ----------
    assessments : dict of str to Assessment
        City id → assessment.

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``
        (``planned`` or ``documented``); undocumented figures are left out.
    """
    rows = []

    def add(city, metric, value, unit, scope, pollutant=None):
        if value is not None and math.isfinite(float(value)):
            rows.append(
                {
                    "city": city,
                    "metric": metric,
                    "value": float(value),
                    "unit": unit,
                    "pollutant": pollutant,
                    "scope": scope,
                }
            )

    for city, a in assessments.items():
        add(city, "stations_needed", a.sizing.loc["stations", "plan"], "stations", "planned")
        add(city, "bikes_needed", a.sizing.loc["bikes", "plan"], "bikes", "planned")
        add(city, "docks_needed", a.sizing.loc["docks", "plan"], "docks", "planned")
        add(city, "trips_per_bike_day", a.trips_per_bike_day, "trips/bike/day", "planned")
        add(city, "existing_stations", a.existing.stations, "stations", "documented")
        add(city, "existing_bikes", a.existing.bikes, "bikes", "documented")
        add(city, "existing_daily_trips", a.existing.daily_trips, "trips/day", "documented")
        for scope, o in (("planned", a.plan), ("documented", a.observed)):
            if o is None:
                continue
            add(city, "annual_trips", o.annual_trips, "trips/yr", scope)
            add(city, "bike_km", o.bike_km, "km/yr", scope)
            add(city, "avoided_car_km", o.avoided.loc["car", "vehicle_km"], "km/yr", scope)
            for pol in POLLUTANTS:
                add(city, "avoided_emissions", o.avoided.loc["net", pol], "t/yr", scope, pol)
            add(city, "deaths_avoided", o.heat.deaths_avoided, "deaths/yr", scope)
            add(city, "health_benefit_value", o.heat.value, "EUR/yr", scope)
    out = pd.DataFrame(rows)
    key = {
        "stations_needed",
        "bikes_needed",
        "annual_trips",
        "avoided_emissions",
        "deaths_avoided",
        "health_benefit_value",
    }
    out["headline"] = out["metric"].isin(key) & (out["scope"] == "planned")
    return out


def compare(
    tables: dict[str, pd.DataFrame], column: str, keep: tuple[str, ...] = ()
) -> pd.DataFrame:
    """One column of several same-shaped tables side by side, plus shared columns.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Label → table (e.g. :func:`~c3lib.topics.bikeshare.model.sizing_table` or
        :func:`~c3lib.topics.bikeshare.model.system_indicators` per city).
    column : str
        The column to take from each table.
    keep : tuple of str, optional
        Columns of the first table to append (e.g. ``ITDP low``, ``ITDP high``, ``unit``).
    """
    out = pd.DataFrame({label: t[column] for label, t in tables.items()})
    first = next(iter(tables.values()))
    for col in keep:
        out[col] = first[col]
    return out


def health_table(assessments: dict[str, Assessment], which: str = "plan") -> pd.DataFrame:
    """HEAT results side by side.

    Parameters
    ----------
    assessments : dict of str to Assessment
        Label → assessment.
    which : str, optional
        ``plan`` (planned system, central scenario) or ``observed`` (documented system).

    Returns
    -------
    pandas.DataFrame
        Rows ``annual trips``, ``users``, ``minutes per user per week``, ``risk
        reduction``, ``cap binds``, ``deaths avoided``, ``value``; a ``unit`` column.
    """
    cols = {}
    for label, a in assessments.items():
        o = getattr(a, which)
        h = o.heat if o is not None else None
        cols[label] = {
            "annual trips": o.annual_trips if o else float("nan"),
            "users": h.users if h else float("nan"),
            "minutes per user per week": h.minutes_per_user_week if h else float("nan"),
            "risk reduction": h.risk_reduction if h else float("nan"),
            "cap binds": float(h.capped) if h else float("nan"),
            "deaths avoided": h.deaths_avoided if h else float("nan"),
            "value": h.value if h else float("nan"),
        }
    out = pd.DataFrame(cols)
    out["unit"] = ["trips/yr", "persons", "min/week", "-", "1 = yes", "deaths/yr", "EUR/yr"]
    return out


def what_if(
    city: pd.DataFrame,
    grid_ef: float,
    bikes: float,
    trips_per_bike_day: float,
    car_share: float,
):
    """Explorer update: one fleet at one use rate and car share → chart and table.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's bike-sharing inputs indexed by field (column ``value``).
    grid_ef : float
        Grid CO2 factor. [kg CO2/kWh]
    bikes : float
        Fleet size. [bikes]
    trips_per_bike_day : float
        Daily uses per bike. [trips/bike/day]
    car_share : float
        Share of trips that replace a car trip (the other shares scale down if needed). [-]

    Returns
    -------
    tuple
        (matplotlib Figure of avoided emissions by replaced mode, pandas.DataFrame of the
        headline numbers).
    """
    v = city["value"].astype(float)
    trip_km = trip_length_km(float(v["trip_minutes"]), float(v["cycling_speed_kmh"]))
    base = substitution_shares(*(float(v[f"substitution_{m}"]) for m in SUBSTITUTED_MODES))
    shares = with_car_share(base, car_share)
    o = _outcome(
        bikes,
        "explorer",
        annual_trips(bikes, trips_per_bike_day),
        city,
        trip_km,
        shares,
        replaced_trip_factors(grid_ef),
        heat_parameters(),
    )
    fig = plot_avoided_emissions({"this system": o.avoided})
    table = pd.DataFrame(
        {
            "value": [
                o.annual_trips,
                o.bike_km,
                o.avoided.loc["car", "vehicle_km"],
                *(o.avoided.loc["net", p] for p in POLLUTANTS),
                o.heat.deaths_avoided,
            ],
            "unit": ["trips/yr", "km/yr", "km/yr", "t/yr", "t/yr", "t/yr", "deaths/yr"],
        },
        index=[
            "annual trips",
            "bike-km",
            "car-km avoided",
            *(f"net {p} avoided" for p in POLLUTANTS),
            "deaths avoided (HEAT)",
        ],
    )
    return fig, table


def assumption_rows(plan: Plan, assessments: dict[str, Assessment]) -> list[dict]:
    """The workbook's own assumptions beyond the city inputs, as assumption records.

    Parameters
    ----------
    plan : Plan
        The planning ratios (scenario settings, not data).
    assessments : dict of str to Assessment
        City id → assessment (for fleets estimated from trips).

    Returns
    -------
    list of dict
        Keys ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``.
    """
    heat = reference_table("bikeshare_heat").set_index(["parameter", "case"])
    bench = itdp_benchmarks()
    cap = heat.loc[("risk_reduction_cap", "cycling")]
    rows = [
        {
            "city": "all",
            "input": "planned station density",
            "value": plan.stations_per_km2,
            "unit": "stations/km2",
            "basis": "scenario setting within the ITDP range 10–16",
            "source": bench.loc["station_density", "source"],
        },
        {
            "city": "all",
            "input": "planned bikes per 1,000 residents",
            "value": plan.bikes_per_1000_residents,
            "unit": "bikes per 1,000 residents",
            "basis": "scenario setting within the ITDP range 10–30",
            "source": bench.loc["bikes_per_1000_residents", "source"],
        },
        {
            "city": "all",
            "input": "planned docks per bike",
            "value": plan.docks_per_bike,
            "unit": "docks/bike",
            "basis": "scenario setting within an unsourced range of 2–2.5",
            "source": bench.loc["docks_per_bike", "source"],
        },
        {
            "city": "all",
            "input": "central trips per bike per day",
            "value": plan.trips_per_bike_day,
            "unit": "trips/bike/day",
            "basis": "scenario setting, ITDP benchmark 4–8, for a city whose own system "
            "documents no daily trips and fleet (otherwise its observed rate)",
            "source": bench.loc["trips_per_bike_day", "source"],
        },
        {
            "city": "all",
            "input": "HEAT cycling risk-reduction cap",
            "value": cap["value"],
            "unit": cap["unit"],
            "basis": "unsourced estimate (HEAT 2017 guide)",
            "source": cap["source"],
        },
    ]
    for city, a in assessments.items():
        if a.density_basis.startswith("city-wide"):
            rows.append(
                {
                    "city": city,
                    "input": "population density of the coverage area",
                    "value": a.density,
                    "unit": "persons/km2",
                    "basis": "city-wide average density (no district density given); a "
                    "first phase in the dense core would cover more residents and need "
                    "more bikes",
                    "source": "derived: population ÷ area (city profile)",
                }
            )
        if a.observed is not None and a.observed.fleet_basis.startswith("estimated"):
            rows.append(
                {
                    "city": city,
                    "input": "documented system fleet",
                    "value": a.observed.fleet,
                    "unit": "bikes",
                    "basis": a.observed.fleet_basis,
                    "source": "derived",
                }
            )
    return rows
