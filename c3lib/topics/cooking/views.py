"""Commercial cooking for readers: labels, tables, the explorer, records and charts.

Everything here formats what :mod:`c3lib.topics.cooking.model` computes: the device ×
food and device × pollutant tables a workbook shows, the headline results table, the
metrics and assumption rows of the run record, the what-if view an explorer redraws and
the matplotlib figures. Units are those of the model: emissions [t/yr], costs [USD 2009],
thresholds [lb/week].
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from c3lib.reference import reference_table
from c3lib.topics.cooking.model import (
    CONTROLS,
    DEVICE_LABELS,
    DEVICES,
    FOODS,
    KG_PER_SHORT_TON,
    POLLUTANTS,
    RESTAURANT_TYPES,
    RULE_DEVICES,
    Assessment,
    Settings,
    coverage,
    coverage_curve,
    lb_to_kg,
    restaurant_counts,
    restaurant_groups,
    rule_outcome,
    rule_thresholds,
    street_food_assessed,
)

__all__ = [
    "RESTAURANT_LABELS",
    "CONTROL_LABELS",
    "CO_CAVEAT",
    "by_device_food",
    "by_device",
    "meat_balance_table",
    "results_table",
    "metrics",
    "what_if",
    "assumption_rows",
    "plot_emissions",
    "plot_control_costs",
    "plot_threshold_curve",
    "plot_street_sensitivity",
]


# --- labels -----------------------------------------------------------------------------

#: Reader labels of restaurant types and control devices; device labels are
#: :data:`c3lib.topics.cooking.model.DEVICE_LABELS` (the model's tables carry them).
RESTAURANT_LABELS = {
    "fast_food": "fast food",
    "ethnic": "ethnic",
    "family": "family",
    "seafood": "seafood",
    "steak_bbq": "steak / barbecue",
}
CONTROL_LABELS = {
    "catalytic_oxidiser": "catalytic oxidiser",
    "esp": "electrostatic precipitator (ESP)",
    "hepa_filter": "HEPA / filter unit",
    "wet_scrubber": "wet scrubber",
}
CO_CAVEAT = (
    "CO unit uncertain: the source file labels the CO factors mg/kg, yet the NEI converts "
    "them as g/kg (8.29 → 16.58 lb/ton); they are used as g/kg here, so CO may be 1,000× "
    "too high."
)


# --- reader tables ----------------------------------------------------------------------


def by_device_food(inv: pd.DataFrame, pollutant: str = "PM2.5") -> pd.DataFrame:
    """Emissions of one pollutant as a device × food table.

    Parameters
    ----------
    inv : pandas.DataFrame
        From :func:`inventory`. [t/yr]
    pollutant : str, optional
        Pollutant of :data:`POLLUTANTS`.

    Returns
    -------
    pandas.DataFrame
        Rows devices (labelled), columns foods plus ``total``. [t/yr]
    """
    sub = inv[inv["pollutant"] == pollutant]
    table = sub.pivot_table(
        index="device", columns="food", values="emissions", aggfunc="sum", fill_value=0.0
    )
    table = table.reindex(
        index=[d for d in DEVICES if d in table.index],
        columns=[f for f in FOODS if f in table.columns],
    )
    table["total"] = table.sum(axis=1)
    table.index = [DEVICE_LABELS[d] for d in table.index]
    table.index.name = "device"
    return table


def by_device(inv: pd.DataFrame) -> pd.DataFrame:
    """Emissions as a device × pollutant table.

    Parameters
    ----------
    inv : pandas.DataFrame
        From :func:`inventory`. [t/yr]

    Returns
    -------
    pandas.DataFrame
        Rows devices (labelled) plus ``total``, columns pollutants of :data:`POLLUTANTS`.
        [t/yr]
    """
    table = inv.pivot_table(
        index="device", columns="pollutant", values="emissions", aggfunc="sum", fill_value=0.0
    )
    table = table.reindex(
        index=[d for d in DEVICES if d in table.index], columns=list(POLLUTANTS), fill_value=0.0
    )
    table.loc["total"] = table.sum()
    table.index = [DEVICE_LABELS.get(d, d) for d in table.index]
    table.index.name = "device"
    return table


def meat_balance_table(assessments: dict[str, Assessment]) -> pd.DataFrame:
    """The meat balance of each city: its inputs, the two meat totals and the factor.

    Parameters
    ----------
    assessments : dict of str to Assessment
        Column label → assessment.

    Returns
    -------
    pandas.DataFrame
        Rows (quantity) with a ``unit`` column, one column per city; NaN where the
        balance is not applied.
    """
    rows = {
        "residents": "persons",
        "meat supply per person (country)": "kg/person/yr",
        "share of meat eaten away from home": "fraction",
        "meat eaten away from home (supply × share × residents)": "t/yr",
        "meat the US survey gives the city's restaurants": "t/yr",
        "survey meat per resident": "kg/person/yr",
        "factor on the survey meat per device": "ratio",
        "meat per resident the restaurants cook, balanced": "kg/person/yr",
    }
    cols = {}
    for label, a in assessments.items():
        b = a.balance
        if b is None:
            cols[label] = [math.nan] * len(rows)
            continue
        cols[label] = [
            b.population,
            b.meat_kg_per_capita,
            b.food_service_share,
            b.commercial_meat_kg / 1000 if b.applied else math.nan,
            b.survey_meat_kg / 1000,
            b.survey_kg_per_capita,
            b.scale if b.applied else math.nan,
            b.balanced_kg_per_capita,
        ]
    out = pd.DataFrame(cols, index=pd.Index(list(rows), name="quantity"))
    out.insert(0, "unit", list(rows.values()))
    return out


def results_table(assessments: dict[str, Assessment], settings: Settings) -> pd.DataFrame:
    """Headline results side by side (one column per city).

    Parameters
    ----------
    assessments : dict of str to Assessment
        Column label → assessment.
    settings : Settings
        The levers (for the control named in the rows).

    Returns
    -------
    pandas.DataFrame
        Rows (section, quantity) with a ``unit`` column; NaN where not assessed.
    """
    cols = {}
    for label, a in assessments.items():
        t = a.totals
        col = {
            ("activity", f"restaurants ({len(RESTAURANT_TYPES)} types)", "restaurants"): (
                a.restaurants.sum()
            ),
            ("activity", "charbroilers", "devices"): a.devices.loc[
                (slice(None), list(RULE_DEVICES["both"]))
            ].sum(),
            (
                "activity",
                "food cooked on devices with a factor",
                "t/yr",
            ): a.inventory.drop_duplicates(["restaurant_type", "device", "food"])["food_kg"].sum()
            / 1000,
        }
        b = a.balance
        col[("activity", "factor on the survey meat per device (meat balance)", "ratio")] = (
            b.scale if b is not None and b.applied else math.nan
        )
        col[("activity", "meat per resident the restaurants cook", "kg/person/yr")] = (
            b.balanced_kg_per_capita if b is not None else math.nan
        )
        for pol in POLLUTANTS:
            unit = "t/yr (unit uncertain)" if pol == "CO" else "t/yr"
            col[("restaurant emissions", pol, unit)] = t[pol]
        for c in CONTROLS:
            row = a.controls.loc[c]
            col[("controls, all fitting devices", f"{c}: PM2.5 removed", "t/yr")] = row[
                "removed_PM2.5"
            ]
            col[("controls, all fitting devices", f"{c}: cost per t PM2.5", "USD 2009/t")] = row[
                "cost_per_t_PM2.5"
            ]
        for label_rule, r in a.rules.items():
            col[("rule " + label_rule, "restaurants covered", "restaurants")] = (
                _covered_restaurants(a, label_rule, settings)
            )
            col[("rule " + label_rule, "PM2.5 reduction", "t/yr")] = r.loc["PM2.5", "reduction"]
            col[("rule " + label_rule, "VOC reduction", "t/yr")] = r.loc["VOC", "reduction"]
            col[("rule " + label_rule, "annual cost", "USD 2009/yr")] = r.attrs["annual_cost"]
        s = a.street
        for scenario in ("low", "central", "high"):
            col[("street grilling (proxy factors)", f"PM2.5, {scenario} proxy", "t/yr")] = (
                s.loc[scenario, "PM2.5"] if s is not None else math.nan
            )
        cols[label] = col
    out = pd.DataFrame(cols)
    out.index = out.index.set_names(["section", "quantity", "unit"])
    return out.reset_index(level="unit")


def _covered_restaurants(a: Assessment, label: str, settings: Settings) -> float:
    lb = rule_thresholds()[label]
    return float(
        coverage(a.groups, a.group_emissions, lb_to_kg(lb), settings.spread)["restaurants"]
    )


# --- run record -------------------------------------------------------------------------


def metrics(assessments: dict[str, Assessment], settings: Settings) -> pd.DataFrame:
    """Metrics for :func:`c3lib.kit.casestudy.publish`, keyed by city id.

    Parameters
    ----------
    assessments : dict of str to Assessment
        City id → assessment.
    settings : Settings
        The levers.

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``,
        ``headline``.
    """
    rows = []

    def add(city, metric, value, unit, pollutant=None, scope=None, headline=False):
        if value is not None and math.isfinite(float(value)):
            rows.append(
                {
                    "city": city,
                    "metric": metric,
                    "value": float(value),
                    "unit": unit,
                    "pollutant": pollutant,
                    "scope": scope,
                    "headline": headline,
                }
            )

    for city, a in assessments.items():
        t = a.totals
        add(city, "restaurants", a.restaurants.sum(), "restaurants", scope="five NEI survey types")
        b = a.balance
        if b is not None:
            if b.applied:
                add(city, "meat_balance_factor", b.scale, "ratio", scope="survey meat per device")
                add(
                    city,
                    "meat_eaten_out",
                    b.commercial_meat_kg / 1000,
                    "t/yr",
                    scope="supply per person × away-from-home share × residents",
                )
            add(
                city,
                "meat_per_capita",
                b.survey_kg_per_capita,
                "kg/person/yr",
                scope="restaurants, US survey before the balance",
            )
            add(
                city,
                "meat_per_capita",
                b.balanced_kg_per_capita,
                "kg/person/yr",
                scope="restaurants, balanced",
            )
        for pol in POLLUTANTS:
            scope = "restaurants" if pol != "CO" else "restaurants, unit uncertain"
            add(city, "cooking_emissions", t[pol], "t/yr", pol, scope, headline=pol == "PM2.5")
        pm_by_device = by_device(a.inventory)["PM2.5"].drop("total")
        for device, value in pm_by_device.items():
            add(city, "cooking_emissions", value, "t/yr", "PM2.5", f"device: {device}")
        for c in CONTROLS:
            row = a.controls.loc[c]
            add(city, "control_reduction", row["removed_PM2.5"], "t/yr", "PM2.5", c)
            add(city, "control_reduction", row["removed_VOC"], "t/yr", "VOC", c)
            add(
                city,
                "cost_per_tonne",
                row["cost_per_t_PM2.5"],
                "USD 2009/t",
                "PM2.5",
                c,
                headline=c == settings.underfired_control,
            )
        for label, r in a.rules.items():
            scope = f"rule threshold {label}, covers {settings.rule_devices.replace('_', '-')}"
            cov = coverage(
                a.groups, a.group_emissions, lb_to_kg(rule_thresholds()[label]), settings.spread
            )
            add(city, "rule_restaurant_share", cov["restaurant_share"], "fraction", None, scope)
            add(
                city,
                "rule_emission_share",
                cov.get("emission_share_PM2.5", math.nan),
                "fraction",
                "PM2.5",
                scope,
            )
            for pol in ("PM2.5", "VOC"):
                add(
                    city,
                    "rule_reduction",
                    r.loc[pol, "reduction"],
                    "t/yr",
                    pol,
                    scope,
                    headline=pol == "PM2.5" and label.startswith("400"),
                )
            add(city, "rule_annual_cost", r.attrs["annual_cost"], "USD 2009/yr", None, scope)
        if a.street is not None:
            for s in ("low", "central", "high"):
                add(
                    city,
                    "street_grilling_emissions",
                    a.street.loc[s, "PM2.5"],
                    "t/yr",
                    "PM2.5",
                    f"proxy factor {s} (no sourced factor)",
                )
    return pd.DataFrame(rows)


# --- explorer ---------------------------------------------------------------------------


def what_if(
    city: pd.DataFrame,
    settings: Settings,
    threshold_lb_week: float,
    uptake: float,
    underfired_control: str,
):
    """Explorer update: one rule threshold, uptake and under-fired control → chart and table.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's commercial-cooking inputs indexed by field (column ``value``).
    settings : Settings
        The other levers (rate, lifetime, spread).
    threshold_lb_week : float
        Rule threshold. [lb/week]
    uptake : float
        Share of covered devices fitted. [-]
    underfired_control : str
        Control required on under-fired charbroilers.

    Returns
    -------
    tuple
        (matplotlib Figure: coverage curve with the threshold marked and PM2.5 before/after,
        pandas.DataFrame of the rule's results).
    """
    import matplotlib.pyplot as plt

    restaurants = restaurant_counts(city)
    groups, group_em = restaurant_groups(restaurants, settings.covered)
    control_for = {"chain_driven": "catalytic_oxidiser", "underfired": underfired_control}
    t_kg = lb_to_kg(threshold_lb_week)
    out = rule_outcome(
        groups,
        group_em,
        t_kg,
        settings.spread,
        control_for,
        uptake,
        settings.rate,
        settings.lifetime_yr,
    )
    cov = coverage(groups, group_em, t_kg, settings.spread)
    curve = coverage_curve(groups, group_em, np.linspace(0, lb_to_kg(3000), 61), settings.spread)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    ax1.plot(curve["threshold_lb_week"], curve["restaurant_share"] * 100, label="restaurants")
    ax1.plot(curve["threshold_lb_week"], curve["emission_share_PM2.5"] * 100, label="PM2.5")
    ax1.axvline(threshold_lb_week, color="0.3", ls="--", lw=1)
    ax1.set_xlabel("threshold [lb meat/week on charbroilers]")
    ax1.set_ylabel("share covered [%]")
    ax1.set_ylim(0, 102)
    ax1.legend(frameon=False)
    pols = ["PM2.5", "VOC"]
    before = out.loc[pols, "uncontrolled"].to_numpy()
    after = before - out.loc[pols, "reduction"].to_numpy()
    x = np.arange(len(pols))
    ax2.bar(x - 0.2, before, 0.4, label="no rule", color="0.65")
    ax2.bar(x + 0.2, after, 0.4, label="with rule", color="tab:green")
    ax2.set_xticks(x, pols)
    ax2.set_ylabel("charbroiler emissions [t/yr]")
    ax2.legend(frameon=False)
    fig.tight_layout()
    cost = out.attrs["annual_cost"]
    red = out.loc["PM2.5", "reduction"]
    table = pd.DataFrame(
        {
            "value": [
                cov["restaurants"],
                cov["restaurant_share"],
                cov.get("emission_share_PM2.5", math.nan),
                red,
                out.loc["VOC", "reduction"],
                cost,
                cost / red if red > 0 else math.nan,
            ],
            "unit": [
                "restaurants",
                "fraction",
                "fraction",
                "t/yr",
                "t/yr",
                "USD 2009/yr",
                "USD 2009/t",
            ],
        },
        index=[
            "restaurants covered",
            "share of charbroiling restaurants covered",
            "share of charbroiler PM2.5 covered",
            "PM2.5 reduction",
            "VOC reduction",
            "annual cost of the controls",
            "cost per t PM2.5 removed",
        ],
    )
    return fig, table


# --- assumptions ------------------------------------------------------------------------


def assumption_rows(settings: Settings, cities: dict[str, str]) -> list[dict]:
    """The workbook's own assumptions beyond the city inputs, as assumption records.

    Parameters
    ----------
    settings : Settings
        The levers.
    cities : dict of str to str
        City id → country (for the street-food line).

    Returns
    -------
    list of dict
        Keys ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``.
    """
    rows = [
        {
            "city": "all",
            "input": "throughput spread within a restaurant group",
            "value": settings.spread,
            "unit": "log-sd",
            "basis": "distribution assumption: lognormal around the survey means; the survey "
            "gives means only",
            "source": "assumption (workbook parameter)",
        },
        {
            "city": "all",
            "input": "devices present independently",
            "value": "yes",
            "unit": "",
            "basis": "the survey gives the share with each device, not which go together",
            "source": "assumption",
        },
        {
            "city": "all",
            "input": "charbroilers a rule covers",
            "value": settings.rule_devices,
            "unit": "",
            "basis": "scenario setting: SCAQMD Rule 1138 as amended covers chain-driven "
            "charbroilers, BAAQMD Regulation 6 Rule 2 both types; the same weekly-meat "
            "thresholds are applied to the covered devices' meat",
            "source": "assumption (workbook parameter); c3_program §3.3",
        },
        {
            "city": "all",
            "input": "one control unit per covered device",
            "value": "yes",
            "unit": "",
            "basis": "costs are per unit; a hood serving several devices would cost less per tonne",
            "source": "assumption",
        },
        {
            "city": "all",
            "input": "discount rate; control lifetime",
            "value": f"{settings.rate:g}; {settings.lifetime_yr:g}",
            "unit": "1/yr; yr",
            "basis": "scenario setting for the capital recovery factor",
            "source": "assumption (workbook parameter)",
        },
        {
            "city": "all",
            "input": "US survey device profile and food per device",
            "value": "NEI defaults",
            "unit": "",
            "basis": "applied to every city; Asian kitchens likely differ",
            "source": "US EPA (2023) 2020 National Emissions Inventory Technical Support "
            "Document, section 19 Commercial Cooking. https://www.epa.gov/air-emissions-inventories",
        },
        {
            "city": "all",
            "input": "one meat-balance factor for every meat",
            "value": "yes",
            "unit": "",
            "basis": "the survey meat per device is scaled so the restaurants cook the meat "
            "eaten away from home (supply per person × share × residents); the NEI scales "
            "each meat by USDA's away-from-home figures, which no other country publishes; "
            "national supplies mostly leave fish out while the survey's seafood is scaled too",
            "source": "US EPA 2023 NEI commercial cooking (EPA-developed estimates, "
            "gaftp.epa.gov/Air/nei); USEPA/commcooking src/commcooking/cooking.py",
        },
        {
            "city": "all",
            "input": "CO factors",
            "value": "g/kg",
            "unit": "",
            "basis": CO_CAVEAT,
            "source": "USEPA/commcooking nemo_efs_table.csv",
        },
    ]
    keys = {
        "cooking_controls": ("control", "pollutant", "efficiency", None),
        "cooking_costs": ("control", "item", "value", "unit"),
        "cooking_devices": ("restaurant_type", "device", "value", "unit"),
        "cooking_street_food": ("parameter", "pollutant", "value", "unit"),
    }
    for table, (a, b, value, unit) in keys.items():
        df = reference_table(table)
        for r in df[df["quality"] == "assumed"].to_dict("records"):
            rows.append(
                {
                    "city": "all",
                    "input": f"{table}: {r[a]} {r[b]}",
                    "value": r[value],
                    "unit": r[unit] if unit else "fraction",
                    "basis": "unsourced estimate",
                    "source": r["source"],
                }
            )
    for city, country in cities.items():
        if not street_food_assessed(country):
            rows.append(
                {
                    "city": city,
                    "input": "street-food grilling line",
                    "value": "not assessed",
                    "unit": "",
                    "basis": "the line covers the programme's Asian cities only",
                    "source": "assumption",
                }
            )
    return rows


# --- charts -----------------------------------------------------------------------------


_FOOD_COLOURS = {
    "hamburger": "#8c564b",
    "steak": "#d62728",
    "poultry": "#ff7f0e",
    "pork": "#e377c2",
    "seafood": "#1f77b4",
    "other": "#7f7f7f",
    "potatoes": "#bcbd22",
}


def plot_emissions(inventories: dict[str, pd.DataFrame], pollutant: str = "PM2.5"):
    """Emissions of one pollutant by device, stacked by food, one panel per city.

    Parameters
    ----------
    inventories : dict of str to pandas.DataFrame
        City label → :func:`inventory`. [t/yr]
    pollutant : str, optional
        Pollutant to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(inventories), figsize=(4.8 * len(inventories), 3.4))
    axes = np.atleast_1d(axes)
    for ax, (label, inv) in zip(axes, inventories.items(), strict=True):
        table = by_device_food(inv, pollutant).drop(columns="total")
        left = np.zeros(len(table))
        for food in table.columns:
            ax.barh(table.index, table[food], left=left, color=_FOOD_COLOURS[food], label=food)
            left += table[food].to_numpy()
        ax.invert_yaxis()
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(f"{pollutant} [t/yr]")
    axes[-1].legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_control_costs(controls: pd.DataFrame):
    """Cost per tonne of PM2.5 removed by control, with the capital-cost range.

    Parameters
    ----------
    controls : pandas.DataFrame
        From :func:`control_options`.

    Returns
    -------
    matplotlib.figure.Figure
        Bars at the mid capital cost, whiskers at the low and high ends, and the SJVAPCD
        2009 benchmark range shaded.
    """
    import matplotlib.pyplot as plt

    bench = reference_table("cooking_costs").set_index("item")["value"].astype(float)
    lo = bench["cost_per_ton_low"] / KG_PER_SHORT_TON * 1000
    hi = bench["cost_per_ton_high"] / KG_PER_SHORT_TON * 1000
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    mid = controls["cost_per_t_PM2.5"] / 1000
    err = np.vstack(
        [
            mid - controls["cost_per_t_PM2.5_low"] / 1000,
            controls["cost_per_t_PM2.5_high"] / 1000 - mid,
        ]
    )
    labels = [f"{CONTROL_LABELS[c]}\n({controls.loc[c, 'device']})" for c in controls.index]
    ax.axvspan(lo / 1000, hi / 1000, color="tab:green", alpha=0.25, zorder=0)
    ax.barh(labels, mid, xerr=err, color="tab:blue", alpha=0.85, capsize=3, zorder=2)
    ax.text(hi / 1000, -0.6, " SJVAPCD 2009 estimate", color="tab:green", fontsize=8, va="bottom")
    ax.invert_yaxis()
    ax.set_xlabel("cost per t PM2.5 removed [thousand USD 2009/t]")
    fig.tight_layout()
    return fig


def plot_threshold_curve(curves: dict[str, pd.DataFrame], marks_lb_week: dict[str, float]):
    """Share of charbroiling restaurants and of their PM2.5 covered vs the rule threshold.

    Parameters
    ----------
    curves : dict of str to pandas.DataFrame
        City label → :func:`coverage_curve`.
    marks_lb_week : dict of str to float
        Thresholds to mark, label → value. [lb/week]

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), sharey=True)
    for (label, curve), style in zip(curves.items(), ("-", "--", ":"), strict=False):
        x = curve["threshold_lb_week"]
        axes[0].plot(x, curve["restaurant_share"] * 100, style, label=label)
        axes[1].plot(x, curve["emission_share_PM2.5"] * 100, style, label=label)
    for ax, title in zip(axes, ("restaurants covered", "PM2.5 covered"), strict=True):
        for name, lb in marks_lb_week.items():
            ax.axvline(lb, color="0.4", lw=0.8, ls="-.")
            ax.text(lb, 3, f" {name}", rotation=90, fontsize=8, va="bottom")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("threshold [lb meat/week on charbroilers]")
        ax.set_ylim(0, 102)
    axes[0].set_ylabel("share of charbroiling restaurants [%]")
    axes[1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_street_sensitivity(sensitivity: dict[str, pd.DataFrame]):
    """Restaurant and street-grilling PM2.5 under each proxy-factor scenario.

    Parameters
    ----------
    sensitivity : dict of str to pandas.DataFrame
        City label → :func:`street_sensitivity`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n = max(len(sensitivity), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.8 * n, 3.4), squeeze=False)
    for ax, (label, s) in zip(axes[0], sensitivity.items(), strict=False):
        rest = s["total_PM2.5"] - s["street_PM2.5"]
        ax.bar(s.index, rest, color="0.65", label="restaurants (NEI method)")
        ax.bar(s.index, s["street_PM2.5"], bottom=rest, color="tab:red", label="street grilling")
        ax.set_title(label, fontsize=10)
        ax.set_ylabel("PM2.5 [t/yr]")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
