"""What the cities did and published: measures already taken, and published figures.

Two parts of every case study that come from the world rather than the model:

- **What each city has already done** (:func:`show_measures`): the measures in a
  city's params for this workbook, as a timeline (measures by year, measured effects
  marked) and a table for both cities, and a paragraph on what the partner city's
  experience suggests for the learning city, built from the data and kept apart from
  the model's estimates.
- **How this compares with published figures** (:func:`comparisons`,
  :func:`show_comparisons`): each published figure for the city or its country beside
  our value, with the ratio and a sentence on why they differ
  (:mod:`c3lib.topics.comparison`).

Both go into the run record (``measures`` and ``comparisons`` keys).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence

import pandas as pd

from c3lib.kit.casestudy import Case, format_number, show_figure, show_table
from c3lib.params import Measure
from c3lib.topics.comparison import compare

__all__ = [
    "measures_table",
    "measures_paragraph",
    "plot_timeline",
    "show_measures",
    "NOT_IN_BASELINE",
    "comparisons",
    "comparison_table",
    "show_comparisons",
]


def _effect_text(m: Measure) -> str:
    e = m.effect
    if e is None:
        return ""
    if e.change is not None:
        amount = f"{e.change:+.0%}"
    else:
        amount = f"{format_number(e.value)} {e.unit}"
    years = f" ({e.before_year}–{e.after_year})" if e.before_year and e.after_year else ""
    return f"{e.quantity} {amount}{years}"


def _years(m: Measure) -> str:
    return f"{m.start_year}–{m.end_year}" if m.end_year else f"since {m.start_year}"


def measures_table(case: Case) -> pd.DataFrame:
    """One row per measure of either city: city, years, measure, where, effect, source."""
    rows = []
    for role, city in case.cities.items():
        for m in case.measures(role):
            rows.append(
                {
                    "City": city.name,
                    "Years": _years(m),
                    "Measure": m.measure,
                    "Where": m.where or "—",
                    "Measured effect": _effect_text(m) or "—",
                    "Source": m.source,
                }
            )
    return pd.DataFrame(
        rows, columns=["City", "Years", "Measure", "Where", "Measured effect", "Source"]
    )


#: what a case study says of its baseline when the workbook does not model the measures
NOT_IN_BASELINE = (
    "This workbook's baseline does not model these measures one by one: it starts from the "
    "cities' data as recorded, which already reflect what the measures achieved."
)


def measures_paragraph(case: Case, baseline: str = NOT_IN_BASELINE) -> str:
    """What the partner's record suggests for the learning city, from the data only.

    Parameters
    ----------
    case : Case
    baseline : str, optional
        What the workbook's baseline does with measures in place (which it counts).
    """
    mentor, learning = case.mentor, case.learning
    done = case.measures("mentor")
    mine = case.measures("learning")
    if not done:
        note = mentor.measures_note or "no published record was found"
        text = f"{mentor.name} has no recorded measure for this action item ({note})."
    else:
        first = done[0]
        text = (
            f"{mentor.name}'s record for this action item starts with {first.measure} "
            f"({_years(first)})"
        )
        measured = [m for m in done if m.effect is not None]
        if measured:
            text += "; its published measured effects: " + "; ".join(
                f"{m.measure}: {_effect_text(m)}" for m in measured
            )
        text += f". In all, {len(done)} measure(s) since {first.start_year}."
    if mine:
        text += (
            f" {learning.name} already has {len(mine)}: "
            + ", ".join(f"{m.measure} ({_years(m)})" for m in mine)
            + "."
        )
    else:
        note = f" ({learning.measures_note})" if learning.measures_note else ""
        text += f" No measure of {learning.name}'s for this action item is recorded{note}."
    return f"{text} These are the cities' own reports, not this workbook's estimates. {baseline}"


#: scripts the chart font (DejaVu Sans) has no glyphs for: CJK, kana, hangul, full-width forms
_NO_GLYPHS = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+")


def _chart_text(text: str, number: int) -> str:
    """A measure's name as a chart can draw it: the text in other scripts dropped.

    The tables below the chart keep the name as the city wrote it; a name with nothing
    left becomes "measure <number>".
    """
    kept = _NO_GLYPHS.sub(" ", text)
    kept = re.sub(r"\(\s*\)|\[\s*\]", " ", kept)
    kept = re.sub(r"\s+", " ", kept).strip(" :;,-–")
    return kept if re.search(r"[A-Za-z]", kept) else f"measure {number}"


def _literal(text: str) -> str:
    """Chart text drawn as written: a ``$`` (``US$ 2 million``) starts no formula."""
    return text.replace("$", r"\$")


def plot_timeline(case: Case):
    """A timeline: one row per city, a bar per measure from its start (to its end)."""
    import matplotlib.pyplot as plt

    rows = [(role, m) for role in case.cities for m in case.measures(role)]
    fig, ax = plt.subplots(figsize=(7.5, 0.5 + 0.38 * max(1, len(rows))))
    years = [m.start_year for _, m in rows] + [m.end_year or m.start_year for _, m in rows]
    last = max(years + [2025]) + 1
    colours = {"mentor": "#1f77b4", "learning": "#ff7f0e"}
    labels = []
    for i, (role, m) in enumerate(rows):
        end = m.end_year or last
        ax.barh(i, end - m.start_year, left=m.start_year, color=colours[role], height=0.6)
        if m.effect is not None:
            x = m.effect.after_year or m.start_year
            ax.plot([x], [i], marker="*", color="black", markersize=10, linestyle="none")
        labels.append(_literal(f"{case.cities[role].name}: {_chart_text(m.measure, i + 1)}"[:60]))
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("year")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=colours[r], label=_literal(case.cities[r].name))
        for r in case.cities
    ]
    handles.append(
        plt.Line2D([], [], marker="*", color="black", linestyle="none", label="measured effect")
    )
    ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def show_measures(case: Case, baseline: str = NOT_IN_BASELINE) -> None:
    """Display both cities' measures: timeline, table and the paragraph.

    Parameters
    ----------
    case : Case
    baseline : str, optional
        What the workbook's baseline does with measures in place (:func:`measures_paragraph`).
    """
    from IPython.display import HTML, display

    table = measures_table(case)
    if table.empty:
        notes = "; ".join(
            f"{c.name}: {c.measures_note or 'no published record found'}"
            for c in case.cities.values()
        )
        display(
            HTML(f"<p>No measures are recorded for this action item ({html.escape(notes)}).</p>")
        )
        return
    show_figure(
        plot_timeline(case),
        caption="What each city has already done: measures by year (★ a published measured effect)",
        alt="Timeline with one bar per measure from its start year, coloured by city; "
        "stars mark measured effects.",
    )
    # the timeline shows the measures; their details and sources fold under it
    show_table(
        table.set_index("City"),
        caption="Measures already taken, with their sources",
        fold=f"The {len(table)} measures in the timeline, with their sources and effects",
    )
    display(HTML(f"<p>{html.escape(measures_paragraph(case, baseline))}</p>"))


def comparisons(
    case: Case,
    metrics: pd.DataFrame | Sequence[Mapping],
    partial: Mapping[str, Sequence[str]] | None = None,
) -> list[dict]:
    """Published figures for both cities beside our values, as records.

    Parameters
    ----------
    case : Case
    metrics : DataFrame or sequence of mapping
        The run's metrics (``city``, ``metric``, ``value``, ``unit``, ``pollutant``,
        ``scope``).
    partial : mapping, optional
        Sectors our total leaves out, by city id.
    """
    records = metrics.to_dict("records") if isinstance(metrics, pd.DataFrame) else list(metrics)
    out = []
    for role, city in case.cities.items():
        country = case.country(role)
        mine = [m for m in records if m["city"] == city.id]
        own = [f for f in city.published if f.action == case.action.id]
        national = [f for f in country.published if f.action == case.action.id] if country else []
        years = [q.year for q in city.profile.values() if q.year]
        for c in compare(
            city.id,
            mine,
            own,
            national,
            population=city.profile["population"].value,
            national_population=country.population.value if country else None,
            partial=(partial or {}).get(city.id, ()),
            base_year=max(years) if years else None,
        ):
            out.append(
                {
                    "city": c.city,
                    "what": c.what,
                    "ours": None if math.isnan(c.ours) else c.ours,
                    "published": c.published,
                    "unit": c.unit,
                    "ratio": None if math.isnan(c.ratio) else c.ratio,
                    "level": c.level,
                    "year": c.year,
                    "source": c.source,
                    "sentence": c.sentence,
                }
            )
    return out


def comparison_table(case: Case, records: Sequence[Mapping]) -> pd.DataFrame:
    """The comparisons as a reader's table."""
    names = {c.id: c.name for c in case.cities.values()}
    rows = [
        {
            "City": names[r["city"]],
            "Quantity": r["what"],
            "Ours": "—" if r["ours"] is None else format_number(r["ours"]),
            "Published": format_number(r["published"]),
            "Unit": r["unit"],
            "Ratio": "—" if r["ratio"] is None else f"{r['ratio']:.2f}",
            "From": f"{r['level']}, {r['year']}" if r["year"] else r["level"],
            "Why they differ": r["sentence"],
            "Source": r["source"],
        }
        for r in records
    ]
    cols = ["City", "Quantity", "Ours", "Published", "Unit", "Ratio", "From"]
    return pd.DataFrame(rows, columns=[*cols, "Why they differ", "Source"])


def show_comparisons(case: Case, records: Sequence[Mapping]) -> None:
    """Display the comparisons, and say which city has no published figure."""
    from IPython.display import HTML, display

    have = {r["city"] for r in records}
    missing = [c.name for c in case.cities.values() if c.id not in have]
    if records:
        show_table(
            comparison_table(case, records).set_index("City"),
            caption="Our values beside published figures (ratio = ours ÷ published)",
        )
    if missing:
        display(
            HTML(
                "<p>No published figure to compare with was found for "
                f"{html.escape(' or '.join(missing))}.</p>"
            )
        )
