"""One-at-a-time sensitivity of a workbook's headline to its assumed inputs.

Each assumed input of a city (quality ``assumed`` or level ``global``) is moved, alone, to
both ends of its plausible range while every other input keeps its value; the headline is
computed again at each end and the inputs are ranked by the *swing*, the width of the span
the headline covers (its value now and at both ends). The ranking says which data to collect first.

The plausible range of a value :math:`v` with the 95 % half-width :math:`h` of its quality
flag (``uncertainty_ratings.csv``: ``assumed`` is a factor of 2) is

.. math:: [\\, v / (1 + h),\\ v (1 + h) \\,]

clipped to the field table's ``minimum`` and ``maximum`` (``c3lib/data/fields/*.csv``), the
same lognormal spread the Monte Carlo of :mod:`c3lib.topics.uncertainty` uses.

Each workbook's headline is recomputed by a small evaluator (:data:`EVALUATORS`): a
factory that takes the city's resolved inputs by section and the workbook's settings and
returns a function *replacements → headline value*. The evaluators call the topic models'
public functions only.

References
----------
1. Saltelli A. et al. (2008) *Global Sensitivity Analysis. The Primer*, Wiley, §1.2.7
   (one-at-a-time designs and tornado plots). doi:10.1002/9780470725184
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from c3lib.exceptions import C3Error
from c3lib.reference import field_table, reference_table

__all__ = [
    "Headline",
    "HEADLINES",
    "EVALUATORS",
    "borrowed",
    "RESULT_COLUMNS",
    "plausible_range",
    "candidates",
    "one_at_a_time",
    "inventory_evaluator",
    "ports_evaluator",
    "cooking_evaluator",
    "bikeshare_evaluator",
    "urban_evaluator",
]

#: Columns of :func:`one_at_a_time`'s result.
RESULT_COLUMNS = [
    "city",
    "section",
    "field",
    "value",
    "input_unit",
    "quality",
    "level",
    "low",
    "high",
    "metric",
    "pollutant",
    "scope",
    "unit",
    "base",
    "at_low",
    "at_high",
    "swing",
    "share",
]

#: A field whose value is a switch or a date, not a quantity with a range.
_NOT_RANGED_UNITS = ("flag", "year", "degrees")

Replacements = Mapping[tuple[str, str], float]
Evaluate = Callable[[Replacements], float]


@dataclass(frozen=True)
class Headline:
    """The one metric of a workbook's record the ranking moves (as in the record's metrics)."""

    metric: str
    pollutant: str
    scope: str
    unit: str


#: The headline each workbook's sensitivity ranks by.
HEADLINES = {
    "emissions-inventory": Headline("total_emissions", "PM2.5", "total", "t/yr"),
    "port-operations": Headline("total_emissions", "NOx", "port", "t/yr"),
    "commercial-cooking": Headline("cooking_emissions", "PM2.5", "restaurants", "t/yr"),
    "bike-sharing": Headline("avoided_emissions", "CO2", "planned", "t/yr"),
    "low-emission-development": Headline(
        "baseline_emissions", "CO2", "passenger-transport", "t/yr"
    ),
}


def plausible_range(
    value: float, half_width: float, minimum: float = math.nan, maximum: float = math.nan
) -> tuple[float, float]:
    """Both ends of a value's plausible range.

    Parameters
    ----------
    value : float
        The value used now. [unit of the field]
    half_width : float
        Half-width of its 95 % interval relative to the value (``1.0``: a factor of 2). [-]
    minimum, maximum : float, optional
        Bounds of the field (NaN: none). [unit of the field]

    Returns
    -------
    tuple of float
        ``(low, high)``: :math:`v/(1+h)` and :math:`v(1+h)`, clipped to the bounds; both
        equal to ``value`` when it is 0 (a relative range moves nothing).
    """
    a, b = value / (1.0 + half_width), value * (1.0 + half_width)
    low, high = min(a, b), max(a, b)
    if not math.isnan(minimum):
        low, high = max(low, minimum), max(high, minimum)
    if not math.isnan(maximum):
        low, high = min(low, maximum), min(high, maximum)
    return low, high


def _half_widths(table: pd.DataFrame | None = None) -> dict[str, float]:
    t = reference_table("uncertainty_ratings") if table is None else table
    rows = t[t["kind"] == "quality"]
    return {str(k): float(v) for k, v in zip(rows["key"], rows["half_width_95"], strict=True)}


def _bound(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _headroom(inputs: pd.DataFrame, value: pd.Series) -> dict[tuple[str, str], float]:
    """How high each field of a ``sum_at_most`` rule (``field_rules.csv``) may go.

    Only rules over resolved values: a rule over the city's own values is one the model
    keeps by rescaling the defaults.
    """
    rules = reference_table("field_rules")
    rules = rules[
        (rules["applies_to"] == "inputs")
        & (rules["check"] == "sum_at_most")
        & (rules["over"] == "resolved")
    ]
    have = dict(zip(zip(inputs["section"], inputs["field"], strict=True), value, strict=True))
    out = {}
    for rule in rules.itertuples(index=False):
        fields = str(rule.fields).split()
        used = {f: have.get((rule.section, f), math.nan) for f in fields}
        for f in fields:
            others = sum(v for g, v in used.items() if g != f and math.isfinite(v))
            out[(rule.section, f)] = float(rule.limit) - others
    return out


def candidates(inputs: pd.DataFrame, ratings: pd.DataFrame | None = None) -> pd.DataFrame:
    """The assumed inputs to move, each with its plausible range.

    Parameters
    ----------
    inputs : pandas.DataFrame
        One city's resolved inputs in long form, columns ``city``, ``section``,
        ``field``, ``value``, ``unit``, ``quality``, ``level`` (as
        :func:`c3lib.params.city_inputs` gives per section).
    ratings : pandas.DataFrame, optional
        The ``uncertainty_ratings`` table (default: the reference table).

    Returns
    -------
    pandas.DataFrame
        The rows with quality ``assumed`` or level ``global``, a finite value and a unit
        that is a quantity (not a flag, a year or an angle), with ``low`` and ``high``
        (:func:`plausible_range`, half-width of the ``assumed`` flag); a share in a
        ``sum_at_most`` rule of ``field_rules.csv`` goes no higher than the rule leaves
        room for beside the other shares.

    Raises
    ------
    C3Error
        ``uncertainty_ratings.csv`` has no ``assumed`` quality row.
    """
    widths = _half_widths(ratings)
    if "assumed" not in widths:
        raise C3Error("uncertainty_ratings.csv: no row kind=quality, key=assumed (half_width_95)")
    value = pd.to_numeric(inputs["value"], errors="coerce")
    keep = (
        ((inputs["quality"] == "assumed") | (inputs["level"] == "global"))
        & np.isfinite(value)
        & ~inputs["unit"].isin(_NOT_RANGED_UNITS)
    )
    out = inputs.loc[keep, ["city", "section", "field", "value", "unit", "quality", "level"]]
    out = out.assign(value=value[keep]).reset_index(drop=True)
    headroom = _headroom(inputs, value)
    lows, highs = [], []
    tables: dict[str, pd.DataFrame] = {}
    for r in out.itertuples(index=False):
        if r.section not in tables:
            try:
                tables[r.section] = field_table(r.section)
            except KeyError:  # a section with no field table has no bounds
                tables[r.section] = pd.DataFrame(columns=["minimum", "maximum"])
        t = tables[r.section]
        lo, hi = (
            (_bound(t.loc[r.field, "minimum"]), _bound(t.loc[r.field, "maximum"]))
            if r.field in t.index
            else (math.nan, math.nan)
        )
        low, high = plausible_range(float(r.value), widths["assumed"], lo, hi)
        room = headroom.get((r.section, r.field))
        if room is not None:
            high = max(min(high, room), float(r.value))
            low = min(low, high)
        lows.append(low)
        highs.append(high)
    return out.assign(low=lows, high=highs)


def one_at_a_time(evaluate: Evaluate, moves: pd.DataFrame, headline: Headline) -> pd.DataFrame:
    """Move each input alone to both ends of its range and rank by the headline's swing.

    Parameters
    ----------
    evaluate : callable
        ``evaluate({(section, field): value, ...})`` → the headline with those inputs
        replaced (``{}``: as it is). [unit of the headline]
    moves : pandas.DataFrame
        From :func:`candidates` (columns ``city``, ``section``, ``field``, ``value``,
        ``unit``, ``quality``, ``level``, ``low``, ``high``).
    headline : Headline
        What ``evaluate`` computes.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`, largest swing first (ties in input order): ``at_low``,
        ``at_high`` the headline at each end, ``swing`` the width of the span of
        ``base``, ``at_low`` and ``at_high`` (``|at_high - at_low|`` when the headline
        moves one way with the input; wider when both ends move it the same way) [unit of
        the headline] and ``share`` = swing / ``|base|`` (NaN when the base is 0) [-].
    """
    base = float(evaluate({}))
    rows = []
    for r in moves.itertuples(index=False):
        key = (r.section, r.field)
        at_low = float(evaluate({key: r.low}))
        at_high = float(evaluate({key: r.high}))
        swing = max(base, at_low, at_high) - min(base, at_low, at_high)
        rows.append(
            {
                "city": r.city,
                "section": r.section,
                "field": r.field,
                "value": float(r.value),
                "input_unit": r.unit,
                "quality": r.quality,
                "level": r.level,
                "low": float(r.low),
                "high": float(r.high),
                "metric": headline.metric,
                "pollutant": headline.pollutant,
                "scope": headline.scope,
                "unit": headline.unit,
                "base": base,
                "at_low": at_low,
                "at_high": at_high,
                "swing": swing,
                "share": swing / abs(base) if base else math.nan,
            }
        )
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


# --- Evaluators: one per workbook --------------------------------------------------------


class _Sections:
    """A city's inputs by section (each indexed by field), with one-off replacements."""

    def __init__(self, sections: Mapping[str, pd.DataFrame]):
        self.base = {s: df for s, df in sections.items()}
        self.values = {s: df["value"].astype(float).to_dict() for s, df in sections.items()}

    def touched(self, replace: Replacements) -> set[str]:
        return {s for s, _ in replace}

    def frame(self, section: str, replace: Replacements) -> pd.DataFrame:
        """The section's rows indexed by field, with its replacements applied."""
        df = self.base[section]
        mine = {f: v for (s, f), v in replace.items() if s == section}
        if not mine:
            return df
        df = df.copy()
        for f, v in mine.items():
            df.loc[f, "value"] = v
        return df

    def mapping(self, section: str, replace: Replacements) -> dict[str, float]:
        out = dict(self.values.get(section, {}))
        out.update({f: v for (s, f), v in replace.items() if s == section})
        return out

    def long(self, section: str, replace: Replacements, city: str) -> pd.DataFrame:
        """The section in long form (``role`` learning, ``city``, ``field``, ``value``)."""
        df = self.frame(section, replace).reset_index()
        df.insert(0, "city", city)
        df.insert(0, "role", "learning")
        return df


def _pollutant_sum(df: pd.DataFrame, value: str, pollutant: str) -> float:
    return float(df.loc[df["pollutant"] == pollutant, value].sum())


def inventory_evaluator(
    sections: Mapping[str, pd.DataFrame], city: str, name: str, rsz_nm: float = 20.0
) -> Evaluate:
    """PM2.5 total of the city's inventory [t/yr] (the lines in the total, as recorded).

    ``sections`` holds ``profile``, ``emissions-inventory``, ``port-operations`` and
    ``commercial-cooking``. The city's calculated lines are recomputed only when a
    replacement touches its inventory inputs, the port lines only when one touches the
    port's inputs or the profile's grid factor, the cooking lines only when one touches
    theirs and they count in the total (never while cooking is indicative).
    """
    from c3lib.topics.inventory import model as inv

    s = _Sections(sections)
    pollutant = HEADLINES["emissions-inventory"].pollutant

    def in_total(lines: pd.DataFrame) -> float:
        return _pollutant_sum(inv.split_indicative(lines)[0], "emissions", pollutant)

    def port(replace: Replacements) -> float:
        grid = s.mapping("profile", replace).get("grid_ef", math.nan)
        return in_total(
            inv.port_lines(s.long("port-operations", replace, city), "learning", name, grid, rsz_nm)
        )

    def cooking(replace: Replacements) -> float:
        return in_total(inv.cooking_lines(s.long("commercial-cooking", replace, city), "learning"))

    # city_lines gives the calculated lines then the port's, then the cooking ones
    # (module_lines), and split_indicative keeps lines by sector: the total is the sum of
    # the parts, each recomputed only when a replacement touches its inputs (the port
    # reads the profile's grid factor only; cooking lines that are all indicative never
    # count, whatever the inputs)
    own = in_total(inv.city_lines(s.mapping("emissions-inventory", {})))
    port_base = port({})
    cooking_counts = "commercial-cooking" not in inv.INDICATIVE
    cooking_base = cooking({}) if cooking_counts else 0.0

    def evaluate(replace: Replacements) -> float:
        touched = s.touched(replace)
        mine = (
            in_total(inv.city_lines(s.mapping("emissions-inventory", replace)))
            if "emissions-inventory" in touched
            else own
        )
        moved_port = "port-operations" in touched or ("profile", "grid_ef") in replace
        at_port = port(replace) if moved_port else port_base
        moved_cooking = cooking_counts and "commercial-cooking" in touched
        at_cooking = cooking(replace) if moved_cooking else cooking_base
        return mine + (at_port + at_cooking)

    return evaluate


def ports_evaluator(
    sections: Mapping[str, pd.DataFrame],
    city: str,
    name: str,
    measures=(),
    base_year: int = 2024,
    vsr_zone_nm: float = 20.0,
    vsr_compliance: float = 0.9,
) -> Evaluate:
    """NOx of the city's port [t/yr], with the measures in force in ``base_year`` counted."""
    from c3lib.topics.ports import model as ports

    s = _Sections(sections)
    factors = ports.load_factors()
    pollutant = HEADLINES["port-operations"].pollutant

    def evaluate(replace: Replacements) -> float:
        grid = ports.grid_factor(s.mapping("profile", replace))
        port = ports.port_from_inputs(
            s.long("port-operations", replace, city), "learning", name, vsr_zone_nm, grid, factors
        )
        port, _ = ports.with_measures_in_place(port, list(measures), base_year, vsr_compliance)
        if not port.has_port:
            return 0.0
        return _pollutant_sum(ports.port_emissions(port, factors), "t_per_yr", pollutant)

    return evaluate


def cooking_evaluator(sections: Mapping[str, pd.DataFrame]) -> Evaluate:
    """Uncontrolled restaurant PM2.5 of the city [t/yr]."""
    from c3lib.topics.cooking import model as cooking

    s = _Sections(sections)
    pollutant = HEADLINES["commercial-cooking"].pollutant

    def evaluate(replace: Replacements) -> float:
        own = s.frame("commercial-cooking", replace)
        return float(cooking.totals(cooking.inventory(cooking.restaurant_counts(own)))[pollutant])

    return evaluate


def bikeshare_evaluator(sections: Mapping[str, pd.DataFrame], plan) -> Evaluate:
    """Net CO2 the planned system avoids [t/yr] (central scenario)."""
    from c3lib.topics.bikeshare import model as bs

    s = _Sections(sections)
    pollutant = HEADLINES["bike-sharing"].pollutant

    def evaluate(replace: Replacements) -> float:
        p = s.mapping("profile", replace)
        a = bs.assess_city(
            s.frame("bike-sharing", replace), p["population"], p["area_km2"], p["grid_ef"], plan
        )
        return float(a.plan.avoided.loc["net", pollutant])

    return evaluate


def urban_evaluator(sections: Mapping[str, pd.DataFrame]) -> Evaluate:
    """Base-year passenger-transport CO2 of the city [t/yr].

    With an ``emissions-inventory`` section (its road fleet and km per vehicle,
    :data:`BORROWED`) the baseline is built on the inventory's road activity, as in the
    workbook.
    """
    from c3lib.topics.urban import model as urban

    s = _Sections(sections)
    pollutant = HEADLINES["low-emission-development"].pollutant

    def evaluate(replace: Replacements) -> float:
        p = s.mapping("profile", replace)
        road = s.frame("emissions-inventory", replace) if "emissions-inventory" in s.base else None
        c = urban.city_transport(
            s.frame("low-emission-development", replace), p["population"], p["grid_ef"], road
        )
        return float(urban.asif(c)[pollutant].sum())

    return evaluate


def borrowed(action: str) -> dict[str, tuple[str, ...]]:
    """Inputs of other sections a workbook's headline reads beyond its declared ones.

    Returns
    -------
    dict
        Section → the fields read from it: the low-emission-development baseline reads
        the inventory's road fleet and km per vehicle (``urban.model.ROAD_INPUTS``).
    """
    if action == "low-emission-development":
        from c3lib.topics.urban import model as urban

        return {"emissions-inventory": tuple(urban.ROAD_INPUTS)}
    return {}


#: The evaluator of each workbook (action id → factory).
EVALUATORS = {
    "emissions-inventory": inventory_evaluator,
    "port-operations": ports_evaluator,
    "commercial-cooking": cooking_evaluator,
    "bike-sharing": bikeshare_evaluator,
    "low-emission-development": urban_evaluator,
}
