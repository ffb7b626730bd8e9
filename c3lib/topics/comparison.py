"""Our results beside the figures cities and countries publish: the value, ratio and why.

A published figure (:class:`c3lib.params.Published`) names what it measures with the
vocabulary of the run records: ``metric`` (``total_emissions``, ``sector_emissions``,
``sector_share``, …), ``sector`` (a record's ``scope``), ``pollutant`` and ``unit``. A
national figure with ``proxy: population`` is first scaled to the city by its share of
the national population. The ratio is ours ÷ published; outside 0.5 to 2 the sentence
that goes with it says so and names the likely reasons the data give (a partial total,
a national figure scaled down, a different year, assumed inputs).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Comparison", "our_value", "compare", "AGREEMENT"]

#: ratios within this band count as agreeing (ours ÷ published)
AGREEMENT = (0.5, 2.0)

#: scopes that mean "the whole" in a record, by metric
_TOTAL_SCOPES = ("total", "port", "documented")
#: published metric names that a record calls otherwise
_ALIASES = {
    "port_emissions": "total_emissions",
    "bikeshare_daily_trips": "existing_daily_trips",
    "bikeshare_bikes": "existing_bikes",
    "bikeshare_stations": "existing_stations",
}


@dataclass(frozen=True)
class Comparison:
    """One published figure beside ours.

    Attributes
    ----------
    city : str
        City id.
    what : str
        The quantity, in words (metric, sector, pollutant).
    ours, published : float
        Our value and the published one, in ``unit`` (the published one scaled to the
        city where it is national). [unit]
    unit : str
    ratio : float
        ``ours / published``; NaN when either is missing or the published one is 0. [-]
    level : str
        Where the published figure is from: ``city``, ``region`` or ``country``.
    year : int or None
    source, note : str
    sentence : str
        Why the two may differ, built from the data.
    """

    city: str
    what: str
    ours: float
    published: float
    unit: str
    ratio: float
    level: str
    year: int | None
    source: str
    note: str
    sentence: str


def _blank(value):
    """None for a missing field (None or NaN, as a DataFrame's records give it)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _find(metrics: Iterable[Mapping], metric: str, pollutant, scopes) -> tuple[float, str]:
    for m in metrics:
        if (
            m["metric"] == metric
            and _blank(m.get("pollutant")) == pollutant
            and _blank(m.get("scope")) in scopes
        ):
            return float(m["value"]), m["unit"]
    return math.nan, ""


def our_value(metrics: Sequence[Mapping], figure) -> tuple[float, str]:
    """Our value of what a published figure measures, from one city's metric records.

    Parameters
    ----------
    metrics : sequence of mapping
        One city's metric records (``metric``, ``value``, ``unit``, ``pollutant``,
        ``scope``).
    figure : Published
        The published figure.

    Returns
    -------
    value : float
        NaN when the records hold no such quantity. [figure.unit]
    unit : str
        The unit of our value (that of the matching record, or ``fraction``).
    """
    pollutant = figure.pollutant
    if figure.metric == "sector_share":
        part, _ = _find(metrics, "sector_emissions", pollutant, (figure.sector,))
        whole, _ = _find(metrics, "total_emissions", pollutant, _TOTAL_SCOPES)
        return (part / whole if whole else math.nan), "fraction"
    metric = _ALIASES.get(figure.metric, figure.metric)
    scopes = (figure.sector,) if figure.sector else (None, *_TOTAL_SCOPES)
    value, unit = _find(metrics, metric, pollutant, scopes)
    return value, unit or figure.unit


def _what(figure) -> str:
    words = figure.metric.replace("_", " ")
    parts = [words[0].upper() + words[1:]]
    if figure.sector:
        parts.append(f"({figure.sector.replace('-', ' ')})")
    if figure.pollutant:
        parts.append(figure.pollutant)
    return " ".join(parts)


def _sentence(ratio: float, figure, scaled: bool, partial: Sequence[str], base_year) -> str:
    if math.isnan(ratio):
        if figure.sector and figure.sector in partial:
            return (
                f"Not compared: this inventory does not estimate {figure.sector} yet (no "
                "activity data); the published figure is the first check once it does."
            )
        return "Not compared: this run has no value for the quantity the figure measures."
    lo, hi = AGREEMENT
    if lo <= ratio <= hi:
        head = f"Within a factor of two (ours is {ratio:.2g} × the published figure)"
    elif ratio > hi:
        head = f"Ours is {ratio:.2g} × the published figure, more than twice it"
    else:
        head = f"Ours is {ratio:.2g} × the published figure, less than half of it"
    reasons = []
    if partial and figure.metric in ("total_emissions", "sector_share"):
        reasons.append(f"our total leaves out {', '.join(partial)} (not estimated)")
    if scaled:
        reasons.append("the published figure is national, scaled to the city by population")
    if base_year and figure.year and abs(base_year - figure.year) >= 3:
        reasons.append(f"it describes {figure.year}, our inputs mostly {base_year}")
    if figure.note:
        reasons.append(f"it covers: {figure.note.rstrip('.')}")
    return head + (": " + "; ".join(reasons) + "." if reasons else ".")


def compare(
    city: str,
    metrics: Sequence[Mapping],
    own: Iterable,
    national: Iterable = (),
    population: float = math.nan,
    national_population: float | None = None,
    partial: Sequence[str] = (),
    base_year: int | None = None,
) -> list[Comparison]:
    """Every published figure for one city beside our value.

    Parameters
    ----------
    city : str
        City id.
    metrics : sequence of mapping
        The city's metric records.
    own : iterable of Published
        The city's (or its region's) published figures for this workbook.
    national : iterable of Published
        Its country's published figures for this workbook.
    population : float
        The city's population, to scale national figures. [persons]
    national_population : float, optional
        The country's population. [persons]
    partial : sequence of str
        Sectors our total leaves out (not estimated).
    base_year : int, optional
        The year most of our inputs describe.

    Returns
    -------
    list of Comparison
    """
    out = []
    figures = [(f, f.level) for f in own] + [(f, "country") for f in national]
    for f, level in figures:
        published, scaled = f.value, False
        if f.proxy == "population":
            if not national_population or math.isnan(population):
                continue
            published = f.value * population / national_population
            scaled = True
        ours, unit = our_value(metrics, f)
        if unit != f.unit:
            ours = math.nan
        ratio = ours / published if published and not math.isnan(ours) else math.nan
        out.append(
            Comparison(
                city=city,
                what=_what(f),
                ours=ours,
                published=published,
                unit=f.unit,
                ratio=ratio,
                level=level,
                year=f.year,
                source=f.source,
                note=f.note,
                sentence=_sentence(ratio, f, scaled, partial, base_year),
            )
        )
    return out
