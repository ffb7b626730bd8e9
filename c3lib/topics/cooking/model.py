"""Commercial cooking and grilling: restaurant emissions, controls, costs and rule thresholds.

The chain a workbook follows (US EPA 2020 NEI Technical Support Document §19 [1]_, as coded
in USEPA/commcooking [2]_):

1. count cooking devices: restaurants of the survey's five types × share with each device
   × devices per restaurant (:func:`device_counts`);
2. food cooked per device-year by food type (:func:`food_cooked`; potatoes fried per
   restaurant, :func:`potatoes_cooked`), the survey meat scaled so that the city's
   restaurants cook the meat its people eat away from home (the NEI meat balance,
   :func:`meat_balance`), and the emissions
   ``E = food × EF × (1 − CE)`` of PM2.5, PM10, VOC (as ROG) and CO (:func:`emissions`,
   :func:`inventory`); CO carries a unit caveat
   (:data:`c3lib.topics.cooking.views.CO_CAVEAT`);
3. control devices (catalytic oxidiser, ESP, filters, wet scrubber): what each removes,
   what it costs a year and the cost per tonne removed (:func:`control_options`);
4. the throughput distribution of charbroiling restaurants (:func:`restaurant_groups`) and
   the share of restaurants and emissions a weekly-meat rule threshold covers
   (:func:`coverage`, :func:`rule_outcome`);
5. a street-food and night-market charcoal-grilling line, kept apart and bracketed by
   proxy factors because no sourced per-kg factor exists (:func:`street_grilling`).

Reference tables: ``cooking_ef.csv``, ``cooking_meat.csv``, ``cooking_devices.csv``,
``cooking_national.csv``, ``cooking_controls.csv``, ``cooking_costs.csv``,
``cooking_rules.csv`` and ``cooking_street_food.csv``.

This module holds the science (pure functions over numbers and DataFrames, and the
:class:`Settings` and :class:`Assessment` records); reader tables, the explorer's what-if
view, the run-record rows and the charts are in :mod:`c3lib.topics.cooking.views`.

References
----------
.. [1] US EPA (2023) 2020 National Emissions Inventory Technical Support Document,
   Section 19: Commercial Cooking. EPA-454/R-23-001s.
.. [2] USEPA/commcooking (GitHub): ``src/commcooking/cooking.py`` and
   ``data/nemo_efs_table.csv``.
.. [3] SCAQMD Rule 1138 proposed amendment (2025), CEQAnet 2025090212.
.. [4] SJVAPCD Rule 4692 amendment presentation (2009): control costs.
.. [5] US EPA, 2023 NEI commercial cooking (gaftp.epa.gov/Air/nei, "EPA-developed
   estimates"): survey meat "scaled to match estimates of commercially consumed meat"
   from USDA's Food Availability Data System; USEPA/commcooking commit 7ff10b5 applies
   per-food scalars (steak 0.2, hamburger 0.09, poultry 0.3, pork 0.74, seafood 0.08,
   other 0.01).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, wraps

import numpy as np
import pandas as pd

from c3lib.exceptions import C3Error, ReferenceDataError
from c3lib.reference import reference_table

__all__ = [
    "DEVICES",
    "DEVICE_LABELS",
    "FOODS",
    "RESTAURANT_TYPES",
    "RULE_DEVICES",
    "POLLUTANTS",
    "CONTROLS",
    "STREET_FOOD_COUNTRIES",
    "KG_PER_LB",
    "KG_PER_SHORT_TON",
    "WEEKS_PER_YEAR",
    "emission_factors",
    "food_per_device",
    "national_activity",
    "potatoes_per_restaurant",
    "device_profile",
    "control_efficiencies",
    "control_costs",
    "rule_table",
    "rule_thresholds",
    "street_food_factors",
    "lb_to_kg",
    "restaurant_counts",
    "split_restaurant_total",
    "resolve_inputs",
    "device_counts",
    "food_cooked",
    "potatoes_cooked",
    "emissions",
    "MEAT_FOODS",
    "MeatBalance",
    "survey_meat_per_restaurant",
    "meat_balance",
    "city_meat_balance",
    "inventory",
    "totals",
    "capital_recovery_factor",
    "annualised_cost",
    "removal_per_device",
    "control_options",
    "restaurant_groups",
    "coverage",
    "coverage_curve",
    "rule_outcome",
    "street_food_assessed",
    "street_grilling",
    "street_sensitivity",
    "Settings",
    "Assessment",
    "assess_city",
    "check_factors",
]

DEVICES = ("chain_driven", "underfired", "flat_griddle", "clamshell_griddle", "fryer")
DEVICE_LABELS = {
    "chain_driven": "chain-driven charbroiler",
    "underfired": "under-fired charbroiler",
    "flat_griddle": "flat griddle",
    "clamshell_griddle": "clamshell griddle",
    "fryer": "deep-fat fryer",
}
FOODS = ("hamburger", "steak", "poultry", "pork", "seafood", "other", "potatoes")
#: The foods the meat balance scales (potatoes have their own national total).
MEAT_FOODS = FOODS[:-1]
RESTAURANT_TYPES = ("fast_food", "ethnic", "family", "seafood", "steak_bbq")
#: Which charbroilers a weekly-meat rule covers: SCAQMD Rule 1138 as amended covers
#: chain-driven charbroilers; BAAQMD Regulation 6 Rule 2 requires controls on both types.
RULE_DEVICES = {
    "both": ("chain_driven", "underfired"),
    "chain_driven": ("chain_driven",),
    "underfired": ("underfired",),
}
POLLUTANTS = ("PM2.5", "PM10", "VOC", "CO")
CONTROLS = ("catalytic_oxidiser", "esp", "hepa_filter", "wet_scrubber")
#: Countries whose cities get the street-food and night-market grilling line (the
#: programme's Asian cities); elsewhere the line is not assessed.
STREET_FOOD_COUNTRIES = ("Philippines", "Taiwan", "Viet Nam", "Japan", "Thailand")
KG_PER_LB = 0.45359237  # exact by definition
KG_PER_SHORT_TON = 2000 * KG_PER_LB  # 907.18474 kg
WEEKS_PER_YEAR = 365.0 / 7.0
_RULE_DEVICES = ("chain_driven", "underfired")


# --- reference tables -------------------------------------------------------------------


def _reference_derived(fn):
    """Compute a table derived from the reference data once; hand out copies.

    The reference data do not change within a process; a city's assessment asks for
    these tables dozens of times.
    """
    cached = cache(fn)

    @wraps(fn)
    def copy(*args):
        return cached(*args).copy()

    copy.cache_clear = cached.cache_clear
    return copy


def emission_factors() -> pd.DataFrame:
    """Uncontrolled emission factors by device, food and pollutant.

    Returns
    -------
    pandas.DataFrame
        Columns ``device``, ``food``, ``pollutant``, ``value`` [g/kg food], ``unit``,
        ``source``, ``quality``, ``note``. A device-food pair without a row has no factor
        in the source (not estimated, not zero).
    """
    return reference_table("cooking_ef")


@_reference_derived
def food_per_device() -> pd.Series:
    """Food cooked per device per year, US survey.

    Returns
    -------
    pandas.Series
        Indexed by (``device``, ``food``). [kg/device/yr]

    Notes
    -----
    The survey gives tons, read as short tons (2,000 lb = 907.18474 kg) because the NEI
    applies its factors in lb/ton.
    """
    df = reference_table("cooking_meat")
    if not (df["unit"] == "short ton/device/yr").all():
        raise ReferenceDataError("cooking_meat.csv: every row must be in short ton/device/yr")
    return df.set_index(["device", "food"])["value"].astype(float) * KG_PER_SHORT_TON


@_reference_derived
def national_activity() -> pd.Series:
    """US national restaurant activity behind the potato line and the per-capita defaults.

    Returns
    -------
    pandas.Series
        Indexed by ``item``: ``frozen_potatoes_food_service`` [short ton/yr],
        ``potato_share_fast_food`` [-], ``restaurants_us`` [restaurants],
        ``fast_food_share_us`` [-], ``population_us`` [persons].
    """
    return reference_table("cooking_national").set_index("item")["value"].astype(float)


@_reference_derived
def potatoes_per_restaurant() -> pd.Series:
    """Potatoes fried a year per restaurant, by restaurant type (NEI 2020 method).

    Returns
    -------
    pandas.Series
        Indexed by restaurant type of :data:`RESTAURANT_TYPES`. [kg/restaurant/yr]

    Notes
    -----
    The NEI shares the US food-service frozen potatoes :math:`P` between fast-food
    restaurants (share :math:`f` of the potatoes, :math:`s` of the :math:`N` restaurants)
    and the rest [2]_: :math:`P f / (N s)` per fast-food restaurant and
    :math:`P (1 - f) / (N (1 - s))` per other restaurant, in short tons.
    """
    a = national_activity()
    p, f = a["frozen_potatoes_food_service"], a["potato_share_fast_food"]
    n, s = a["restaurants_us"], a["fast_food_share_us"]
    fast, rest = p * f / (n * s), p * (1 - f) / (n * (1 - s))
    tons = {t: fast if t == "fast_food" else rest for t in RESTAURANT_TYPES}
    return pd.Series(tons, name="kg_per_restaurant") * KG_PER_SHORT_TON


@_reference_derived
def device_profile() -> pd.DataFrame:
    """Share of restaurants with each device and devices per restaurant that has it.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``restaurant_type``, ``device``); columns ``share`` [-] and
        ``devices_per_restaurant`` [devices].
    """
    df = reference_table("cooking_devices")
    wide = df.pivot_table(
        index=["restaurant_type", "device"], columns="quantity", values="value", aggfunc="first"
    )
    for col in ("share", "devices_per_restaurant"):
        if col not in wide.columns or wide[col].isna().any():
            raise ReferenceDataError(f"cooking_devices.csv: {col} missing for some rows")
    return wide[["share", "devices_per_restaurant"]].astype(float)


@_reference_derived
def control_efficiencies() -> pd.DataFrame:
    """Control efficiency by control and pollutant.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``control``; one column per pollutant of :data:`POLLUTANTS` [-] (0 where
        the reference gives no efficiency) and ``device`` (the device the control fits).
    """
    df = reference_table("cooking_controls")
    eff = df.pivot_table(index="control", columns="pollutant", values="efficiency")
    eff = eff.reindex(index=list(CONTROLS), columns=list(POLLUTANTS)).fillna(0.0)
    eff["device"] = df.groupby("control")["device"].first().reindex(eff.index)
    if eff["device"].isna().any():
        raise ReferenceDataError("cooking_controls.csv: every control needs a row")
    return eff


@_reference_derived
def control_costs() -> pd.DataFrame:
    """Capital and operating cost of one control unit, by control.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``control``; columns ``capital_low``, ``capital_high`` [USD 2009],
        ``capital_mid`` (their mean) [USD 2009] and ``om_per_yr`` [USD 2009/yr].
    """
    df = reference_table("cooking_costs")
    wide = df[df["control"] != "benchmark"].pivot_table(
        index="control", columns="item", values="value"
    )
    wide = wide.reindex(list(CONTROLS))
    if wide.isna().any().any():
        raise ReferenceDataError("cooking_costs.csv: each control needs capital_low/high, om")
    wide["capital_mid"] = (wide["capital_low"] + wide["capital_high"]) / 2
    return wide[["capital_low", "capital_mid", "capital_high", "om_per_yr"]]


@_reference_derived
def rule_table() -> pd.DataFrame:
    """Rule thresholds and expected reductions (SCAQMD Rule 1138, 2025 amendment).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item``; columns ``rule``, ``value``, ``unit``, ``source``, ``quality``,
        ``note``.
    """
    return reference_table("cooking_rules").set_index("item")


def street_food_factors() -> pd.DataFrame:
    """Proxy factors and multipliers bracketing street charcoal grilling.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter``, ``pollutant``, ``value``, ``unit``, ``source``, ``quality``,
        ``note``. The ``ef_*`` rows are US charbroiler factors used as proxies [g/kg].
    """
    return reference_table("cooking_street_food")


def lb_to_kg(lb: float) -> float:
    """Convert pounds to kilograms.

    Parameters
    ----------
    lb : float
        Mass. [lb]

    Returns
    -------
    float
        Mass. [kg]
    """
    return lb * KG_PER_LB


# --- inventory --------------------------------------------------------------------------


def restaurant_counts(city: pd.DataFrame) -> pd.Series:
    """Restaurants by type from a city's commercial-cooking inputs.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's inputs indexed by field (column ``value``), with
        ``<type>_restaurants`` for each type of :data:`RESTAURANT_TYPES`. [restaurants]

    Returns
    -------
    pandas.Series
        Restaurants by type. [restaurants]

    Notes
    -----
    Where ``restaurants_total`` is the city's, its region's or its country's (not at the
    ``global`` level of the ``level`` column), the type counts that are only global
    defaults share what the sourced type counts leave of the total, in the proportions of
    the defaults (:func:`split_restaurant_total`): the density is then the city's or its
    country's, the mix of the unsourced types still assumed.

    The series carries the city's meat-balance factor in ``attrs["meat_scale"]``
    (:func:`city_meat_balance`; 1 where the inputs lack the balance's fields), which
    :func:`inventory` and :func:`restaurant_groups` apply unless told otherwise.
    """
    v = city["value"].astype(float)
    fields = [f"{t}_restaurants" for t in RESTAURANT_TYPES]
    missing = [f for f in fields if f not in v]
    if missing:
        raise C3Error(
            f"commercial-cooking inputs lack {missing}: expected one restaurant count per "
            f"type of {RESTAURANT_TYPES} (c3lib/data/fields/commercial-cooking.csv)"
        )
    counts = pd.Series({t: float(v[f"{t}_restaurants"]) for t in RESTAURANT_TYPES}, name="count")
    split = split_restaurant_total(city)
    counts.update(pd.Series({f.removesuffix("_restaurants"): n for f, n in split.items()}))
    counts.attrs["meat_scale"] = city_meat_balance(city, counts).scale
    return counts


def split_restaurant_total(city: pd.DataFrame) -> dict[str, float]:
    """Type counts that the city's sourced restaurant total sets in place of the defaults.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's commercial-cooking inputs indexed by field, with columns ``value``
        and ``level``. [restaurants]

    Returns
    -------
    dict
        ``<type>_restaurants`` → count, for each type count at the ``global`` level
        when ``restaurants_total`` is not: they share the total less the sourced type
        counts (none below 0), in the proportions of their global defaults. Empty when
        the total is missing or global, or every type count is sourced. [restaurants]

    Notes
    -----
    :math:`N_t = (N - \\sum_{s \\in S} N_s) \\, d_t / \\sum_{u \\notin S} d_u` for a type
    :math:`t` without a sourced count, with the total :math:`N`, the sourced types
    :math:`S` and the default counts :math:`d`.
    """
    if "level" not in city.columns or "restaurants_total" not in city.index:
        return {}
    total = float(city.at["restaurants_total", "value"])
    if not math.isfinite(total) or city.at["restaurants_total", "level"] == "global":
        return {}
    fields = [f"{t}_restaurants" for t in RESTAURANT_TYPES]
    rows = city.reindex(fields)
    defaults = rows["level"] == "global"
    weights = rows.loc[defaults, "value"].astype(float)
    if weights.empty or not weights.sum() > 0:
        return {}
    left = max(total - float(rows.loc[~defaults, "value"].astype(float).sum()), 0.0)
    return (weights / weights.sum() * left).to_dict()


def resolve_inputs(inputs: pd.DataFrame) -> pd.DataFrame:
    """Commercial-cooking inputs with the type counts a sourced total sets, as the model uses.

    Parameters
    ----------
    inputs : pandas.DataFrame
        Inputs in long form (columns ``city``, ``field``, ``value``, ``year``, ``source``,
        ``quality``, ``level``, ``note`` …), from :func:`c3lib.kit.casestudy.inputs`.

    Returns
    -------
    pandas.DataFrame
        A copy in which each type count :func:`split_restaurant_total` sets has that
        value, the total's level, year and source, quality ``derived`` and a note
        saying how it was split.
    """
    out = inputs.copy()
    for city, rows in inputs.groupby("city", sort=False):
        by_field = rows.set_index("field")
        split = split_restaurant_total(by_field)
        if not split:
            continue
        total = by_field.loc["restaurants_total"]
        sourced = [f for f in by_field.index if f.endswith("_restaurants") and f not in split]
        less = f" less the sourced counts ({', '.join(sourced)})" if sourced else ""
        for fld, n in split.items():
            at = out.index[(out["city"] == city) & (out["field"] == fld)]
            out.loc[at, ["value", "level", "year", "source", "quality"]] = [
                n,
                total["level"],
                total["year"],
                total["source"],
                "derived",
            ]
            out.loc[at, "note"] = (
                f"{total['value']:,.0f} restaurants in all{less}, shared over the types "
                "without a count in the US survey's type mix (assumed)"
            )
    return out


def device_counts(restaurants: pd.Series, profile: pd.DataFrame | None = None) -> pd.Series:
    """Devices in the city by restaurant type and device.

    Parameters
    ----------
    restaurants : pandas.Series
        Restaurants by type; a type not given counts as none. [restaurants]
    profile : pandas.DataFrame, optional
        From :func:`device_profile` (default: the reference table).

    Returns
    -------
    pandas.Series
        Indexed by (``restaurant_type``, ``device``). [devices]

    Notes
    -----
    :math:`D_{t,d} = N_t \\, s_{t,d} \\, n_{t,d}` with restaurants :math:`N_t`, the share
    with the device :math:`s_{t,d}` and devices per restaurant that has it :math:`n_{t,d}`.
    """
    p = device_profile() if profile is None else profile
    types = p.index.get_level_values("restaurant_type")
    n = restaurants.reindex(types, fill_value=0.0).astype(float).to_numpy()
    out = pd.Series(n * p["share"].to_numpy() * p["devices_per_restaurant"].to_numpy(), p.index)
    return out.rename("devices")


def food_cooked(devices: pd.Series, per_device: pd.Series | None = None) -> pd.DataFrame:
    """Food cooked a year by restaurant type, device and food.

    Parameters
    ----------
    devices : pandas.Series
        From :func:`device_counts`. [devices]
    per_device : pandas.Series, optional
        From :func:`food_per_device` (default: the reference table). [kg/device/yr]

    Returns
    -------
    pandas.DataFrame
        Columns ``restaurant_type``, ``device``, ``food``, ``devices``, ``food_kg``
        [kg/yr].
    """
    m = food_per_device() if per_device is None else per_device
    d = devices.rename("devices").reset_index()
    m = m.rename("kg_per_device").reset_index()
    out = d.merge(m, on="device", how="inner")
    out["food_kg"] = out["devices"] * out["kg_per_device"]
    return out[["restaurant_type", "device", "food", "devices", "food_kg"]]


def potatoes_cooked(restaurants: pd.Series, devices: pd.Series | None = None) -> pd.DataFrame:
    """Potatoes fried a year by restaurant type (the NEI's fryer potato line).

    Parameters
    ----------
    restaurants : pandas.Series
        Restaurants by type. [restaurants]
    devices : pandas.Series, optional
        From :func:`device_counts` (default: computed from ``restaurants``); only the
        fryer count is carried along for display. [devices]

    Returns
    -------
    pandas.DataFrame
        As :func:`food_cooked`, with ``device`` = ``fryer`` and ``food`` = ``potatoes``.
        [kg/yr]

    Notes
    -----
    As in the NEI code [2]_ every restaurant of a type gets the per-restaurant amount of
    :func:`potatoes_per_restaurant`, whether or not the survey lists a fryer.
    """
    d = device_counts(restaurants) if devices is None else devices
    per = potatoes_per_restaurant()
    fryers = d.xs("fryer", level="device")
    rows = [
        {
            "restaurant_type": t,
            "device": "fryer",
            "food": "potatoes",
            "devices": float(fryers.get(t, 0.0)),
            "food_kg": float(restaurants.get(t, 0.0)) * float(per[t]),
        }
        for t in RESTAURANT_TYPES
    ]
    return pd.DataFrame(rows)


def emissions(food: pd.DataFrame, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Uncontrolled emissions of each restaurant type, device, food and pollutant.

    Parameters
    ----------
    food : pandas.DataFrame
        From :func:`food_cooked` (column ``food_kg`` [kg/yr]).
    factors : pandas.DataFrame, optional
        From :func:`emission_factors` (default: the reference table). [g/kg]

    Returns
    -------
    pandas.DataFrame
        Columns ``restaurant_type``, ``device``, ``food``, ``pollutant``, ``food_kg``
        [kg/yr], ``ef`` [g/kg] and ``emissions`` [t/yr]. Device-food pairs without a
        factor are left out.

    Notes
    -----
    :math:`E = M \\cdot EF / 10^6` with food :math:`M` in kg and :math:`EF` in g/kg.
    """
    ef = emission_factors() if factors is None else factors
    ef = ef[["device", "food", "pollutant", "value"]].rename(columns={"value": "ef"})
    out = food.merge(ef, on=["device", "food"], how="inner")
    out["emissions"] = out["food_kg"] * out["ef"] / 1e6
    cols = ["restaurant_type", "device", "food", "pollutant", "food_kg", "ef", "emissions"]
    return out[cols].reset_index(drop=True)


def inventory(
    restaurants: pd.Series, meat_scale: float | Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Uncontrolled restaurant emissions from restaurant counts (reference defaults).

    Parameters
    ----------
    restaurants : pandas.Series
        Restaurants by type. [restaurants]
    meat_scale : float or mapping of str to float, optional
        Factor on the survey meat per device: one for every meat (the meat balance,
        :func:`meat_balance`) or one per food of :data:`MEAT_FOODS` (a food not given is
        not scaled). Default: ``restaurants.attrs["meat_scale"]`` as
        :func:`restaurant_counts` sets it, else 1 (the survey as it is). Potatoes are
        never scaled. [-]

    Returns
    -------
    pandas.DataFrame
        As :func:`emissions`: meat on every device plus potatoes in fryers. [t/yr]
    """
    if meat_scale is None:
        meat_scale = restaurants.attrs.get("meat_scale", 1.0)
    per = _inventory_per_restaurant()
    n = restaurants.reindex(per["restaurant_type"], fill_value=0.0).astype(float).to_numpy()
    n = n * _food_factor(per["food"], meat_scale)
    per["food_kg"] *= n
    per["emissions"] *= n
    return per


def _food_factor(foods: pd.Series, meat_scale: float | Mapping[str, float]) -> np.ndarray:
    """The meat-balance factor of each row's food (1 for potatoes). [-]"""
    if isinstance(meat_scale, Mapping | pd.Series):
        unknown = set(meat_scale) - set(MEAT_FOODS)
        if unknown:
            raise C3Error(f"meat_scale: unknown food(s) {sorted(unknown)}; expected {MEAT_FOODS}")
        return foods.map(dict(meat_scale)).fillna(1.0).astype(float).to_numpy()
    k = float(meat_scale)
    if not (math.isfinite(k) and k >= 0):
        raise C3Error(f"meat_scale must be a finite factor ≥ 0, got {meat_scale!r}")
    return np.where(foods.to_numpy() == "potatoes", 1.0, k)


@_reference_derived
def _inventory_per_restaurant() -> pd.DataFrame:
    """:func:`inventory` of one restaurant of each type: every line is linear in the count."""
    one = pd.Series(1.0, index=list(RESTAURANT_TYPES))
    devices = device_counts(one)
    food = pd.concat([food_cooked(devices), potatoes_cooked(one, devices)], ignore_index=True)
    return emissions(food)


# --- meat balance -----------------------------------------------------------------------


@_reference_derived
def survey_meat_per_restaurant() -> pd.Series:
    """Meat one restaurant of each type cooks a year by the US survey, before the balance.

    Returns
    -------
    pandas.Series
        Indexed by restaurant type of :data:`RESTAURANT_TYPES`. [kg/restaurant/yr]

    Notes
    -----
    :math:`S_t = \\sum_d s_{t,d} \\, n_{t,d} \\sum_f m_{d,f}` over the meats of
    :data:`MEAT_FOODS` (potatoes excluded): 178.6 short tons (162 t) a fast-food
    restaurant, for example.
    """
    one = pd.Series(1.0, index=list(RESTAURANT_TYPES))
    food = food_cooked(device_counts(one))
    food = food[food["food"].isin(MEAT_FOODS)]
    out = food.groupby("restaurant_type")["food_kg"].sum().reindex(list(RESTAURANT_TYPES))
    return out.fillna(0.0).rename("kg_per_restaurant")


@dataclass(frozen=True)
class MeatBalance:
    """The NEI meat balance of one city: survey meat scaled to the meat eaten out.

    Attributes
    ----------
    survey_meat_kg : float
        Meat the city's restaurants cook by the US survey (restaurants × survey meat per
        restaurant). [kg/yr]
    population : float
        Residents. [persons]
    meat_kg_per_capita : float
        Meat supply or consumption per person in the country. [kg/person/yr]
    food_service_share : float
        Share of that meat eaten away from home. [-]
    """

    survey_meat_kg: float
    population: float
    meat_kg_per_capita: float
    food_service_share: float

    @property
    def applied(self) -> bool:
        """Whether every input is known, so the survey meat is scaled."""
        values = (self.population, self.meat_kg_per_capita, self.food_service_share)
        return all(math.isfinite(v) for v in values) and self.survey_meat_kg > 0

    @property
    def commercial_meat_kg(self) -> float:
        """Meat eaten away from home in the city, :math:`P \\, m \\, s`. [kg/yr]"""
        return self.population * self.meat_kg_per_capita * self.food_service_share

    @property
    def scale(self) -> float:
        """Factor on the survey meat per device (1 where the balance is not applied). [-]"""
        return self.commercial_meat_kg / self.survey_meat_kg if self.applied else 1.0

    @property
    def survey_kg_per_capita(self) -> float:
        """Meat per resident the survey alone implies. [kg/person/yr]"""
        return self.survey_meat_kg / self.population if self.population > 0 else math.nan

    @property
    def balanced_kg_per_capita(self) -> float:
        """Meat per resident the restaurants cook after the balance. [kg/person/yr]"""
        return self.survey_kg_per_capita * self.scale


def meat_balance(
    restaurants: pd.Series,
    population: float,
    meat_kg_per_capita: float,
    food_service_share: float,
) -> MeatBalance:
    """Scale the survey meat per device so the restaurants cook the meat eaten out.

    Parameters
    ----------
    restaurants : pandas.Series
        Restaurants by type. [restaurants]
    population : float
        Residents. [persons]
    meat_kg_per_capita : float
        The country's meat supply or consumption per person. [kg/person/yr]
    food_service_share : float
        Share of the meat eaten away from home. [-]

    Returns
    -------
    MeatBalance
        With the factor :attr:`MeatBalance.scale`.

    Notes
    -----
    The NEI scales the survey's meat per device "to match estimates of commercially
    consumed meat" [5]_. Here one factor for every meat:

    .. math:: k = \\frac{P \\, m \\, s}{\\sum_t N_t S_t}

    with residents :math:`P`, meat per person :math:`m`, the away-from-home share
    :math:`s`, restaurants :math:`N_t` and survey meat per restaurant :math:`S_t`
    (:func:`survey_meat_per_restaurant`). The restaurants then cook :math:`P m s` a year,
    never more meat than the country supplies per person.
    """
    per = survey_meat_per_restaurant()
    n = restaurants.reindex(per.index, fill_value=0.0).astype(float)
    return MeatBalance(
        survey_meat_kg=float((n * per).sum()),
        population=float(population),
        meat_kg_per_capita=float(meat_kg_per_capita),
        food_service_share=float(food_service_share),
    )


def city_meat_balance(city: pd.DataFrame, restaurants: pd.Series) -> MeatBalance:
    """:func:`meat_balance` from a city's commercial-cooking inputs.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's inputs indexed by field (column ``value``): ``population`` [persons],
        ``meat_kg_per_capita_yr`` [kg/person/yr] and ``food_service_meat_share`` [-]; a
        field not given leaves the balance unapplied (factor 1).
    restaurants : pandas.Series
        Restaurants by type. [restaurants]

    Returns
    -------
    MeatBalance
    """
    v = city["value"]

    def get(name: str) -> float:
        x = pd.to_numeric(v.get(name, math.nan), errors="coerce")
        return float(x) if pd.notna(x) else math.nan

    return meat_balance(
        restaurants,
        get("population"),
        get("meat_kg_per_capita_yr"),
        get("food_service_meat_share"),
    )


def totals(inv: pd.DataFrame) -> pd.Series:
    """Total emissions by pollutant.

    Parameters
    ----------
    inv : pandas.DataFrame
        From :func:`inventory`. [t/yr]

    Returns
    -------
    pandas.Series
        Indexed by pollutant of :data:`POLLUTANTS`. [t/yr]
    """
    return inv.groupby("pollutant")["emissions"].sum().reindex(list(POLLUTANTS), fill_value=0.0)


# --- controls and costs -----------------------------------------------------------------


def capital_recovery_factor(rate: float, years: float) -> float:
    """Capital recovery factor: the share of a capital cost paid each year.

    Parameters
    ----------
    rate : float
        Discount (interest) rate. [1/yr]
    years : float
        Equipment lifetime. [yr]

    Returns
    -------
    float
        CRF. [1/yr]

    Notes
    -----
    :math:`CRF = r (1 + r)^n / ((1 + r)^n - 1)`, and :math:`1/n` at :math:`r = 0`.
    """
    if years <= 0:
        raise ValueError(f"lifetime must be positive, got {years!r}")
    if rate < 0:
        raise ValueError(f"rate must not be negative, got {rate!r}")
    if rate == 0:
        return 1.0 / years
    g = (1 + rate) ** years
    return rate * g / (g - 1)


def annualised_cost(capital: float, om_per_yr: float, rate: float, years: float) -> float:
    """Annualised cost of one control unit.

    Parameters
    ----------
    capital : float
        Capital cost. [USD 2009]
    om_per_yr : float
        Operation and maintenance. [USD 2009/yr]
    rate : float
        Discount rate. [1/yr]
    years : float
        Lifetime. [yr]

    Returns
    -------
    float
        :math:`C \\cdot CRF + O\\&M`. [USD 2009/yr]
    """
    return capital * capital_recovery_factor(rate, years) + om_per_yr


@_reference_derived
def removal_per_device(control: str) -> pd.Series:
    """What one control unit removes a year on an average device it fits.

    Parameters
    ----------
    control : str
        Control of :data:`CONTROLS`.

    Returns
    -------
    pandas.Series
        Removed emissions by pollutant. [t/device/yr]

    Notes
    -----
    :math:`R_p = CE_p \\sum_f m_{d,f} EF_{d,f,p} / 10^6` with food per device-year
    :math:`m_{d,f}` [kg] of the device :math:`d` the control fits.
    """
    eff = control_efficiencies()
    if control not in eff.index:
        raise C3Error(f"unknown control {control!r}; expected one of {CONTROLS}")
    device = eff.loc[control, "device"]
    uncontrolled = _per_device_emissions().loc[device].reindex(list(POLLUTANTS), fill_value=0.0)
    return uncontrolled * eff.loc[control, list(POLLUTANTS)].astype(float)


def control_options(
    devices: pd.Series, rate: float, years: float, uptake: float = 1.0, meat_scale: float = 1.0
) -> pd.DataFrame:
    """Each control on the devices it fits: efficiency, removal, annual cost, cost per tonne.

    Parameters
    ----------
    devices : pandas.Series
        From :func:`device_counts`. [devices]
    rate : float
        Discount rate. [1/yr]
    years : float
        Control lifetime. [yr]
    uptake : float, optional
        Share of the fitting devices that get the control. [-]
    meat_scale : float, optional
        Meat-balance factor on the survey meat per device (:func:`meat_balance`). [-]

    Returns
    -------
    pandas.DataFrame
        Indexed by control; columns ``device``, ``devices_controlled``, ``ce_PM2.5``,
        ``ce_VOC`` [-], ``removed_PM2.5``, ``removed_PM10``, ``removed_VOC`` [t/yr],
        ``annual_cost`` [USD 2009/yr], ``cost_per_t_PM2.5`` and its ``_low`` / ``_high``
        ends from the capital range [USD 2009/t], ``cost_per_t_VOC`` [USD 2009/t].

    Notes
    -----
    Cost per tonne = annualised cost per unit ÷ tonnes one unit removes a year, so it does
    not depend on the number of devices or on uptake. Where a control removes none of a
    pollutant its cost per tonne is NaN.
    """
    if not 0 <= uptake <= 1:
        raise ValueError(f"uptake must be within 0–1, got {uptake!r}")
    eff = control_efficiencies()
    cost = control_costs()
    by_device = devices.groupby(level="device").sum()
    rows = {}
    for c in CONTROLS:
        d = eff.loc[c, "device"]
        n = float(by_device.get(d, 0.0)) * uptake
        r = removal_per_device(c) * float(meat_scale)
        annual = {
            k: annualised_cost(cost.loc[c, f"capital_{k}"], cost.loc[c, "om_per_yr"], rate, years)
            for k in ("low", "mid", "high")
        }

        def per_t(value, removed):
            return value / removed if removed > 0 else float("nan")

        rows[c] = {
            "device": DEVICE_LABELS[d],
            "devices_controlled": n,
            "ce_PM2.5": float(eff.loc[c, "PM2.5"]),
            "ce_VOC": float(eff.loc[c, "VOC"]),
            "removed_PM2.5": n * r["PM2.5"],
            "removed_PM10": n * r["PM10"],
            "removed_VOC": n * r["VOC"],
            "annual_cost": n * annual["mid"],
            "cost_per_t_PM2.5": per_t(annual["mid"], r["PM2.5"]),
            "cost_per_t_PM2.5_low": per_t(annual["low"], r["PM2.5"]),
            "cost_per_t_PM2.5_high": per_t(annual["high"], r["PM2.5"]),
            "cost_per_t_VOC": per_t(annual["mid"], r["VOC"]),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "control"
    return out


# --- rule thresholds --------------------------------------------------------------------


def restaurant_groups(
    restaurants: pd.Series,
    covered: tuple[str, ...] = _RULE_DEVICES,
    meat_scale: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Restaurants grouped by which covered devices they have, with their throughput.

    Parameters
    ----------
    restaurants : pandas.Series
        Restaurants by type. [restaurants]
    covered : tuple of str, optional
        Devices whose food counts towards the rule threshold (default: chain-driven and
        under-fired charbroilers).
    meat_scale : float, optional
        Meat-balance factor on the survey meat per device (default:
        ``restaurants.attrs["meat_scale"]``, else 1); it scales each group's weekly meat
        and emissions. [-]

    Returns
    -------
    groups : pandas.DataFrame
        One row per (restaurant type, set of covered devices) with at least one covered
        device; columns ``restaurant_type``, ``devices`` (label), ``restaurants``
        [restaurants], ``kg_week`` (food on covered devices per restaurant) [kg/week] and
        one ``n_<device>`` column per covered device (devices in the group) [devices].
    group_emissions : pandas.DataFrame
        Indexed like ``groups``; columns (device, pollutant) holding the group's emissions
        from its covered devices. [t/yr]

    Notes
    -----
    The survey gives the share of restaurants with each device, not which devices go
    together; the device sets are built assuming devices are present independently, so a
    set :math:`S` has probability
    :math:`p_t(S) = \\prod_{d \\in S} s_{t,d} \\prod_{d \\notin S} (1 - s_{t,d})`. A
    restaurant in the set cooks :math:`\\sum_{d \\in S} n_{t,d} m_d / 52.14` kg a week on
    its covered devices, with the device-year food :math:`m_d`. Summed over the sets the
    devices and emissions equal the inventory's. Where the survey pairs a share with zero
    devices per restaurant (chain-driven in steak/BBQ restaurants) the device is taken as
    absent, as the NEI product :math:`s n` is zero; sets nobody has are dropped.
    """
    k = float(restaurants.attrs.get("meat_scale", 1.0) if meat_scale is None else meat_scale)
    # plain dicts: the loop below reads them a few hundred times
    prof = device_profile().to_dict("index")
    per_dev_total = (food_per_device().groupby(level="device").sum() * k).to_dict()
    ef_dev = (_per_device_emissions() * k).to_dict()
    rows, ems = [], []
    for t in RESTAURANT_TYPES:
        for present in itertools.product((False, True), repeat=len(covered)):
            chosen = [d for d, p in zip(covered, present, strict=True) if p]
            if not chosen:
                continue
            prob = 1.0
            for d, p in zip(covered, present, strict=True):
                has = prof[t, d]["devices_per_restaurant"] > 0
                s = float(prof[t, d]["share"]) if has else 0.0
                prob *= s if p else 1 - s
            if prob <= 0:
                continue
            n = float(restaurants.get(t, 0.0)) * prob
            row = {
                "restaurant_type": t,
                "devices": " + ".join(DEVICE_LABELS[d] for d in chosen),
                "restaurants": n,
                "kg_week": sum(
                    prof[t, d]["devices_per_restaurant"] * per_dev_total[d] for d in chosen
                )
                / WEEKS_PER_YEAR,
            }
            em = {}
            for d in covered:
                k = n * prof[t, d]["devices_per_restaurant"] if d in chosen else 0.0
                row[f"n_{d}"] = k
                for pol in POLLUTANTS:
                    em[(d, pol)] = k * float(ef_dev.get((d, pol), 0.0))
            rows.append(row)
            ems.append(em)
    groups = pd.DataFrame(rows)
    group_emissions = pd.DataFrame(ems, index=groups.index)
    group_emissions.columns = pd.MultiIndex.from_tuples(
        group_emissions.columns, names=["device", "pollutant"]
    )
    return groups, group_emissions


@_reference_derived
def _per_device_emissions() -> pd.Series:
    """Uncontrolled emissions of one average device, by (device, pollutant). [t/device/yr]"""
    idx = pd.MultiIndex.from_product([["one"], DEVICES], names=["restaurant_type", "device"])
    one = emissions(food_cooked(pd.Series(1.0, idx, name="devices")))
    return one.groupby(["device", "pollutant"])["emissions"].sum()


_ERF = np.frompyfunc(math.erf, 1, 1)


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + _ERF(np.asarray(x, dtype=float) / math.sqrt(2.0)).astype(float))


def _covered_fractions(
    kg_week: np.ndarray, threshold_kg_week: float | np.ndarray, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Share of restaurants and of their throughput at or above a threshold, per group.

    With an array of thresholds, one row per threshold and one column per group.
    """
    m = np.asarray(kg_week, dtype=float)
    t = (
        np.asarray(threshold_kg_week, dtype=float)[..., None]
        if np.ndim(threshold_kg_week)
        else (np.float64(threshold_kg_week))
    )
    shape = np.broadcast_shapes(np.shape(t), m.shape)
    if spread <= 0:
        above = np.broadcast_to(m >= t, shape).astype(float)
        share_r, share_e = above, above.copy()
    else:
        # a group cooking nothing is never covered (log ratio −inf → Φ = 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.where(m > 0, np.log(m / np.where(t > 0, t, 1.0)), -np.inf)
        half = spread**2 / 2
        share_r = _norm_cdf((log_ratio - half) / spread)
        share_e = _norm_cdf((log_ratio + half) / spread)
    free = np.broadcast_to(t <= 0, shape)
    share_r = np.where(free, 1.0, share_r)
    share_e = np.where(free, 1.0, share_e)
    return share_r, share_e


def coverage(
    groups: pd.DataFrame,
    group_emissions: pd.DataFrame,
    threshold_kg_week: float,
    spread: float,
) -> pd.Series:
    """Share of charbroiling restaurants and of their emissions a threshold rule covers.

    Parameters
    ----------
    groups, group_emissions : pandas.DataFrame
        From :func:`restaurant_groups`.
    threshold_kg_week : float
        Restaurants cooking at least this much a week on covered devices are covered.
        [kg/week]
    spread : float
        Standard deviation of log throughput within a group (0: every restaurant of a
        group cooks the group mean). [-]

    Returns
    -------
    pandas.Series
        ``restaurants`` (covered) [restaurants], ``restaurant_share`` [-] and one
        ``emission_share_<pollutant>`` [-] per pollutant with emissions.

    Notes
    -----
    Within a group of mean throughput :math:`m`, throughput is lognormal with mean
    :math:`m` and log-sd :math:`\\sigma` (an assumption: the survey gives only means).
    The covered share of restaurants is
    :math:`\\Phi((\\ln(m/T) - \\sigma^2/2)/\\sigma)` and, because a restaurant's emissions
    scale with its throughput, the covered share of emissions is
    :math:`\\Phi((\\ln(m/T) + \\sigma^2/2)/\\sigma)`.
    """
    return pd.Series(_coverage(groups, _by_pollutant(group_emissions), threshold_kg_week, spread))


def _by_pollutant(group_emissions: pd.DataFrame) -> pd.DataFrame:
    return group_emissions.T.groupby(level="pollutant").sum().T


def _coverage(
    groups: pd.DataFrame, by_pol: pd.DataFrame, threshold_kg_week: float, spread: float
) -> dict[str, float]:
    return _coverage_of(_coverage_arrays(groups, by_pol), threshold_kg_week, spread)


def _coverage_arrays(groups: pd.DataFrame, by_pol: pd.DataFrame) -> tuple:
    kg = groups["kg_week"].to_numpy(dtype=float)
    n = groups["restaurants"].to_numpy()
    e = {pol: by_pol[pol].to_numpy() for pol in POLLUTANTS if pol in by_pol}
    return kg, n, e


def _coverage_of(
    arrays: tuple, threshold_kg_week: float | np.ndarray, spread: float
) -> dict[str, float | np.ndarray]:
    kg, n, by_pol = arrays
    share_r, share_e = _covered_fractions(kg, threshold_kg_week, spread)
    total_n = n.sum()
    covered = (share_r * n).sum(axis=-1)
    out = {
        "restaurants": covered,
        "restaurant_share": covered / total_n if total_n > 0 else np.full_like(covered, math.nan),
    }
    for pol in POLLUTANTS:
        e = by_pol[pol] if pol in by_pol else np.zeros(len(n))
        if e.sum() > 0:
            out[f"emission_share_{pol}"] = (share_e * e).sum(axis=-1) / e.sum()
    if np.ndim(threshold_kg_week) == 0:
        return {k: float(v) for k, v in out.items()}
    return out


def coverage_curve(
    groups: pd.DataFrame,
    group_emissions: pd.DataFrame,
    thresholds_kg_week: np.ndarray,
    spread: float,
) -> pd.DataFrame:
    """:func:`coverage` over a range of thresholds.

    Parameters
    ----------
    groups, group_emissions : pandas.DataFrame
        From :func:`restaurant_groups`.
    thresholds_kg_week : array_like
        Thresholds. [kg/week]
    spread : float
        Log-sd of throughput within a group. [-]

    Returns
    -------
    pandas.DataFrame
        Indexed by ``threshold_kg_week``; columns as :func:`coverage` plus
        ``threshold_lb_week`` [lb/week].
    """
    arrays = _coverage_arrays(groups, _by_pollutant(group_emissions))
    thresholds = np.asarray(thresholds_kg_week, dtype=float)
    out = pd.DataFrame(
        _coverage_of(arrays, thresholds, spread),
        index=pd.Index(thresholds, name="threshold_kg_week"),
    )
    out.insert(0, "threshold_lb_week", out.index.to_numpy() / KG_PER_LB)
    return out


def rule_outcome(
    groups: pd.DataFrame,
    group_emissions: pd.DataFrame,
    threshold_kg_week: float,
    spread: float,
    control_for: dict[str, str],
    uptake: float = 1.0,
    rate: float = 0.07,
    years: float = 10.0,
) -> pd.DataFrame:
    """Emissions a threshold rule covers, the reduction it buys and what it costs.

    Parameters
    ----------
    groups, group_emissions : pandas.DataFrame
        From :func:`restaurant_groups`.
    threshold_kg_week : float
        Applicability threshold. [kg/week]
    spread : float
        Log-sd of throughput within a group. [-]
    control_for : dict of str to str
        Control required on each covered device, e.g. ``{"chain_driven":
        "catalytic_oxidiser", "underfired": "esp"}``.
    uptake : float, optional
        Share of covered devices actually fitted (compliance). [-]
    rate : float, optional
        Discount rate. [1/yr]
    years : float, optional
        Control lifetime. [yr]

    Returns
    -------
    pandas.DataFrame
        Indexed by pollutant; columns ``uncontrolled`` (all covered-device emissions),
        ``covered``, ``reduction`` [t/yr], ``reduction_share`` [-]; ``attrs`` holds
        ``devices_controlled`` [devices] and ``annual_cost`` [USD 2009/yr].

    Notes
    -----
    :math:`\\Delta E_p = u \\sum_{g,d} f_E(g, T) \\, E_{g,d,p} \\, CE_{c(d),p}` and the cost
    :math:`u \\sum_{g,d} f_R(g, T) \\, D_{g,d} \\, A_{c(d)}` with the covered shares of
    :func:`coverage`, the group emissions :math:`E` and devices :math:`D` and the annualised
    cost per unit :math:`A`.
    """
    if not 0 <= uptake <= 1:
        raise ValueError(f"uptake must be within 0–1, got {uptake!r}")
    eff = control_efficiencies()
    cost = control_costs()
    share_r, share_e = _covered_fractions(groups["kg_week"], threshold_kg_week, spread)
    devices = sorted({d for d, _ in group_emissions.columns}, key=DEVICES.index)
    rows = {}
    units = 0.0
    annual = 0.0
    for d in devices:
        c = control_for.get(d)
        if c is not None and eff.loc[c, "device"] != d:
            raise C3Error(f"control {c!r} does not fit {d!r} (it fits {eff.loc[c, 'device']!r})")
        n_cov = float((groups[f"n_{d}"].to_numpy() * share_r).sum()) * uptake
        units += n_cov
        if c is not None:
            annual += n_cov * annualised_cost(
                cost.loc[c, "capital_mid"], cost.loc[c, "om_per_yr"], rate, years
            )
    for pol in POLLUTANTS:
        unc = cov = red = 0.0
        for d in devices:
            e = group_emissions[(d, pol)].to_numpy()
            c = control_for.get(d)
            ce = float(eff.loc[c, pol]) if c is not None else 0.0
            unc += e.sum()
            covered = float((e * share_e).sum())
            cov += covered
            red += covered * ce * uptake
        rows[pol] = {
            "uncontrolled": unc,
            "covered": cov,
            "reduction": red,
            "reduction_share": red / unc if unc > 0 else math.nan,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "pollutant"
    out.attrs = {"devices_controlled": units, "annual_cost": annual}
    return out


# --- street food ------------------------------------------------------------------------


def street_food_assessed(country: str) -> bool:
    """Whether the street-food grilling line applies to a city's country.

    Parameters
    ----------
    country : str
        The city's country.

    Returns
    -------
    bool
        True for the programme's Asian countries (:data:`STREET_FOOD_COUNTRIES`).
    """
    return country in STREET_FOOD_COUNTRIES


def street_grilling(stalls: float, kg_per_stall_day: float, days_per_yr: float) -> pd.DataFrame:
    """Street-food charcoal grilling under bracketing proxy factors (NOT a sourced estimate).

    Parameters
    ----------
    stalls : float
        Stalls grilling meat over charcoal. [stalls]
    kg_per_stall_day : float
        Meat grilled per stall per operating day. [kg/day]
    days_per_yr : float
        Operating days a year. [days/yr]

    Returns
    -------
    pandas.DataFrame
        Indexed by scenario (``low``, ``central``, ``high`` proxy factors; ``drips low`` and
        ``drips high`` = central × the Yu et al. 2020 multipliers, PM2.5 only); columns
        ``ef_PM2.5`` [g/kg], ``PM2.5`` and ``PM10`` [t/yr]; ``attrs["food_t"]`` [t/yr].

    Notes
    -----
    :math:`E = S \\cdot q \\cdot d \\cdot EF / 10^6`. No per-kg factor for street
    charcoal grilling exists in the reference; the factors are US charbroiler proxies.
    """
    f = street_food_factors().set_index(["parameter", "pollutant"])["value"].astype(float)
    food_kg = stalls * kg_per_stall_day * days_per_yr
    rows = {}
    for s in ("low", "central", "high"):
        rows[s] = {
            "ef_PM2.5": f[(f"ef_{s}", "PM2.5")],
            "PM2.5": food_kg * f[(f"ef_{s}", "PM2.5")] / 1e6,
            "PM10": food_kg * f[(f"ef_{s}", "PM10")] / 1e6,
        }
    for s in ("low", "high"):
        ef = f[("ef_central", "PM2.5")] * f[(f"drip_multiplier_{s}", "PM2.5")]
        rows[f"drips {s}"] = {"ef_PM2.5": ef, "PM2.5": food_kg * ef / 1e6, "PM10": math.nan}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "scenario"
    out.attrs = {"food_t": food_kg / 1000}
    return out


def street_sensitivity(restaurant_pm25: float, street: pd.DataFrame) -> pd.DataFrame:
    """How much the city's cooking PM2.5 depends on the unsourced street-grilling factor.

    Parameters
    ----------
    restaurant_pm25 : float
        Restaurant PM2.5 from the NEI method. [t/yr]
    street : pandas.DataFrame
        From :func:`street_grilling`.

    Returns
    -------
    pandas.DataFrame
        Indexed by scenario; columns ``street_PM2.5``, ``total_PM2.5`` [t/yr] and
        ``street_share`` [-].
    """
    s = street["PM2.5"].astype(float)
    total = restaurant_pm25 + s
    return pd.DataFrame(
        {"street_PM2.5": s, "total_PM2.5": total, "street_share": s / total.where(total > 0)}
    )


# --- assessment -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Workbook levers shared by both cities.

    Attributes
    ----------
    rate : float
        Discount rate for the capital recovery factor. [1/yr]
    lifetime_yr : float
        Control lifetime. [yr]
    underfired_control : str
        Control a rule requires on under-fired charbroilers (chain-driven get a catalytic
        oxidiser).
    uptake : float
        Share of covered devices fitted. [-]
    spread : float
        Log-sd of restaurant throughput within a group (assumption). [-]
    threshold_lb_week : float
        Rule threshold studied in the explorer and the headline. [lb/week]
    rule_devices : str
        Charbroilers a rule covers, a key of :data:`RULE_DEVICES`: ``both`` (as BAAQMD
        Regulation 6 Rule 2), ``chain_driven`` (as SCAQMD Rule 1138) or ``underfired``.
    """

    rate: float = 0.07
    lifetime_yr: float = 10.0
    underfired_control: str = "esp"
    uptake: float = 1.0
    spread: float = 0.7
    threshold_lb_week: float = 400.0
    rule_devices: str = "both"

    def __post_init__(self) -> None:
        if self.rule_devices not in RULE_DEVICES:
            raise C3Error(
                f"rule_devices {self.rule_devices!r}: expected one of {list(RULE_DEVICES)}"
            )
        if (
            self.underfired_control not in CONTROLS
            or self.underfired_control == "catalytic_oxidiser"
        ):
            raise C3Error(
                f"underfired_control {self.underfired_control!r}: expected esp, hepa_filter or "
                "wet_scrubber"
            )

    @property
    def control_for(self) -> dict[str, str]:
        """Control required on each rule device."""
        return {"chain_driven": "catalytic_oxidiser", "underfired": self.underfired_control}

    @property
    def covered(self) -> tuple[str, ...]:
        """Devices whose meat counts towards the rule threshold and that must be controlled."""
        return RULE_DEVICES[self.rule_devices]


@dataclass(frozen=True)
class Assessment:
    """Commercial-cooking results for one city.

    Attributes
    ----------
    restaurants : pandas.Series
        Restaurants by type. [restaurants]
    devices : pandas.Series
        Devices by type and device. [devices]
    inventory : pandas.DataFrame
        From :func:`inventory`. [t/yr]
    controls : pandas.DataFrame
        From :func:`control_options` at full uptake.
    groups, group_emissions : pandas.DataFrame
        From :func:`restaurant_groups`.
    curve : pandas.DataFrame
        From :func:`coverage_curve`.
    rules : dict of str to pandas.DataFrame
        Threshold label → :func:`rule_outcome`.
    street : pandas.DataFrame or None
        From :func:`street_grilling`; None where the line is not assessed.
    balance : MeatBalance or None
        From :func:`city_meat_balance`: the factor applied to the survey meat.
    """

    restaurants: pd.Series
    devices: pd.Series
    inventory: pd.DataFrame
    controls: pd.DataFrame
    groups: pd.DataFrame
    group_emissions: pd.DataFrame
    curve: pd.DataFrame
    rules: dict = field(default_factory=dict)
    street: pd.DataFrame | None = None
    balance: MeatBalance | None = None

    @property
    def totals(self) -> pd.Series:
        """Uncontrolled restaurant emissions by pollutant. [t/yr]"""
        return totals(self.inventory)


def rule_thresholds() -> dict[str, float]:
    """The current and proposed Rule 1138 thresholds, label → value. [lb/week]"""
    r = rule_table()
    return {
        f"{r.loc[k, 'value']:g} lb/week": float(r.loc[k, "value"])
        for k in ("threshold_current", "threshold_proposed")
    }


def assess_city(city: pd.DataFrame, country: str, settings: Settings) -> Assessment:
    """Inventory, controls, threshold coverage and street grilling for one city.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's commercial-cooking inputs indexed by field (column ``value``).
    country : str
        The city's country (decides whether the street-food line applies).
    settings : Settings
        Workbook levers.

    Returns
    -------
    Assessment

    Notes
    -----
    The survey meat per device is scaled by the city's meat balance
    (:func:`city_meat_balance`) everywhere: the inventory, what a control removes and the
    weekly meat a rule threshold is set against.
    """
    restaurants = restaurant_counts(city)
    balance = city_meat_balance(city, restaurants)
    devices = device_counts(restaurants)
    groups, group_em = restaurant_groups(restaurants, settings.covered, balance.scale)
    thresholds = np.linspace(0.0, lb_to_kg(3000.0), 121)
    rules = {
        label: rule_outcome(
            groups,
            group_em,
            lb_to_kg(lb),
            settings.spread,
            settings.control_for,
            settings.uptake,
            settings.rate,
            settings.lifetime_yr,
        )
        for label, lb in rule_thresholds().items()
    }
    street = None
    if street_food_assessed(country):
        v = city["value"].astype(float)
        street = street_grilling(
            float(v["street_grill_stalls"]),
            float(v["street_grill_kg_per_stall_day"]),
            float(v["street_grill_days_per_yr"]),
        )
    return Assessment(
        restaurants=restaurants,
        devices=devices,
        inventory=inventory(restaurants, balance.scale),
        controls=control_options(
            devices, settings.rate, settings.lifetime_yr, meat_scale=balance.scale
        ),
        groups=groups,
        group_emissions=group_em,
        curve=coverage_curve(groups, group_em, thresholds, settings.spread),
        rules=rules,
        street=street,
        balance=balance,
    )


def check_factors() -> list[str]:
    """Consistency of the cooking reference tables (called by ``c3 validate``).

    Returns
    -------
    list of str
        One message per problem: a restaurant type without a device profile or a default
        count, a device with activity but no emission factor, a control fitted to an unknown
        device or without costs, a rule threshold or street-food proxy missing.
    """
    from c3lib.reference import field_table

    problems = []
    try:
        prof = device_profile()
        meat = food_per_device()
        ef = emission_factors()
        eff = control_efficiencies()
        costs = reference_table("cooking_costs")
        rules = rule_table()
        street = street_food_factors()
        national_activity()
        fields = field_table("commercial-cooking")
    except (C3Error, KeyError) as exc:
        return [str(exc)]
    for t in RESTAURANT_TYPES:
        for d in DEVICES:
            if (t, d) not in prof.index:
                problems.append(f"cooking_devices.csv: no share/devices row for {t} × {d}")
        if f"{t}_restaurants" not in fields.index:
            problems.append(f"fields/commercial-cooking.csv: no {t}_restaurants field")
    factor_pairs = set(zip(ef["device"], ef["food"], strict=True))
    for d in DEVICES:
        foods = [f for (dd, f), v in meat.items() if dd == d and v > 0]
        if not any((d, f) in factor_pairs for f in foods):
            problems.append(f"cooking_ef.csv: no factor for any food {d} cooks")
    for c in CONTROLS:
        if eff.loc[c, "device"] not in DEVICES:
            problems.append(f"cooking_controls.csv: {c} fits unknown device {eff.loc[c, 'device']}")
        items = set(costs.loc[costs["control"] == c, "item"])
        missing = {"capital_low", "capital_high", "om_per_yr"} - items
        if missing:
            problems.append(f"cooking_costs.csv: {c} lacks {sorted(missing)}")
    for item in ("threshold_current", "threshold_proposed"):
        if item not in rules.index:
            problems.append(f"cooking_rules.csv: no {item} row")
    for scenario in ("low", "central", "high"):
        if not ((street["parameter"] == f"ef_{scenario}") & (street["pollutant"] == "PM2.5")).any():
            problems.append(f"cooking_street_food.csv: no ef_{scenario} PM2.5 row")
    return problems
