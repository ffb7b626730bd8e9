"""The case study as a report: the takeaway in words and *Data to collect first*.

:func:`data_to_collect` runs the one-at-a-time sensitivity of the workbook's headline
(:mod:`c3lib.topics.sensitivity`) over the learning city's assumed inputs;
:func:`show_data_to_collect` shows its tornado chart and the top five with where to get
them; :func:`by_swing` orders the assumptions table by the same swing;
:func:`sensitivity_records` is the record's ``sensitivity`` key; :func:`takeaway` writes
two or three sentences per city from a run record. Builders are pure; ``show_*`` only
display.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from c3lib.kit import casestudy as cs
from c3lib.kit.labels import format_value, kind, label
from c3lib.params import city_inputs
from c3lib.reference import field_table
from c3lib.topics import sensitivity as sens

__all__ = [
    "TOP",
    "data_to_collect",
    "top_gaps",
    "sensitivity_records",
    "by_swing",
    "plot_tornado",
    "takeaway",
    "rests_on_line",
    "show_data_to_collect",
]

#: How many inputs the short list names.
TOP = 5
_DEFAULT_BARS = 10
_SECTION_NAMES = {
    "profile": "city profile",
    "emissions-inventory": "emissions inventory",
    "port-operations": "port operations",
    "commercial-cooking": "commercial cooking",
    "bike-sharing": "bike sharing",
    "low-emission-development": "low-emission development",
}


def _where(section: str, field: str) -> str:
    """Where to get a field: the field table's ``where_to_find`` text, else its description."""
    try:
        table = field_table(section)
    except KeyError:
        return ""
    if field not in table.index:
        return ""
    row = table.loc[field]
    where = str(row.get("where_to_find", "") or "").strip() if "where_to_find" in row else ""
    if where and where.lower() != "nan":
        return where
    what = str(row.get("description", "") or "").strip()
    sheet = _SECTION_NAMES.get(section, section)
    return f"{what} (data request, {sheet} sheet)" if what else f"data request, {sheet} sheet"


def data_to_collect(case: cs.Case, role: str = "learning", **settings) -> pd.DataFrame:
    """The sensitivity of the workbook's headline to each assumed input of one city.

    Parameters
    ----------
    case : Case
        The run.
    role : str, optional
        ``learning`` (default) or ``mentor``.
    **settings
        The workbook settings its headline depends on: ``plan`` (bike sharing);
        ``measures``, ``base_year``, ``vsr_zone_nm``, ``vsr_compliance`` (port
        operations; measures default to the city's own); ``rsz_nm`` (emissions inventory).

    Returns
    -------
    pandas.DataFrame
        :data:`c3lib.topics.sensitivity.RESULT_COLUMNS` plus ``name`` (the city's),
        ``label`` (reader label) and ``where`` (where to get the value), largest swing
        first; empty when the city has no assumed input.
    """
    action = case.action.id
    city = case.cities[role]
    country = case.country(role)
    sections = {s: city_inputs(city, s, country) for s in dict.fromkeys(case.sections)}
    for s, fields in sens.borrowed(action).items():
        if s not in sections:
            df = city_inputs(city, s, country)
            sections[s] = df[df.index.isin(fields)]
    long = pd.concat(
        [df.reset_index().assign(section=s, city=city.id) for s, df in sections.items()],
        ignore_index=True,
    )
    moves = sens.candidates(long)
    if action == "emissions-inventory":
        kw = {"city": city.id, "name": city.name, **settings}
    elif action == "port-operations":
        kw = {"city": city.id, "name": city.name, "measures": case.measures(role), **settings}
    else:
        kw = dict(settings)
    evaluate = sens.EVALUATORS[action](sections, **kw)
    ranked = sens.one_at_a_time(evaluate, moves, sens.HEADLINES[action])
    return ranked.assign(
        name=city.name,
        label=[label(f) for f in ranked["field"]],
        where=[_where(s, f) for s, f in zip(ranked["section"], ranked["field"], strict=True)],
    )


def top_gaps(ranked: pd.DataFrame, n: int = TOP) -> pd.DataFrame:
    """The ``n`` inputs that move the headline most (swing above 0), largest first."""
    return ranked[ranked["swing"] > 0].head(n)


def sensitivity_records(ranked: pd.DataFrame | None) -> list[dict]:
    """The record's ``sensitivity`` key: one dict per input, largest swing first.

    Keys ``city``, ``field``, ``label``, ``low``, ``high`` (the input's range) [unit of
    the input], ``input_unit``, ``metric``, ``pollutant``, ``scope``, ``swing`` [unit of
    the metric], ``share`` (swing over the headline) [-] and ``unit`` (the metric's).
    """
    if ranked is None or ranked.empty:
        return []
    keys = ["city", "field", "label", "low", "high", "input_unit", "metric", "pollutant"]
    keys += ["scope", "swing", "share", "unit"]
    out = []
    for row in ranked[keys].to_dict("records"):
        for k in ("low", "high", "swing", "share"):
            v = float(row[k])
            row[k] = v if math.isfinite(v) else None
        out.append(row)
    return out


def by_swing(assumptions: pd.DataFrame, ranked: pd.DataFrame, case: cs.Case) -> pd.DataFrame:
    """The assumptions table ordered by what matters: learning city, mentor, reference.

    Within the learning city, rows go by the swing of the headline (largest first; rows
    the ranking does not move keep their order after them); the mentor's rows and then
    every other row (reference values, pair-level assumptions) follow in their order.
    The learning city's rows gain a ``swing`` column [unit of the headline].
    """
    learning, mentor = case.learning.id, case.mentor.id
    swing = dict(zip(ranked["field"], ranked["swing"], strict=True)) if len(ranked) else {}
    df = assumptions.reset_index(drop=True)
    group = df["city"].map({learning: 0, mentor: 1}).fillna(2)
    own = df["input"].map(swing).where(df["city"] == learning)
    order = pd.DataFrame({"group": group, "swing": -own.fillna(-math.inf), "n": df.index})
    out = df.loc[order.sort_values(["group", "swing", "n"]).index].reset_index(drop=True)
    unit = ranked["unit"].iloc[0] if len(ranked) else ""
    col = f"moves the headline by [{unit}]" if unit else "moves the headline by"
    return out.assign(**{col: out["input"].map(swing).where(out["city"] == learning)})


def plot_tornado(ranked: pd.DataFrame, title: str, bars: int = _DEFAULT_BARS):
    """A tornado chart: the headline at each end of each input's range, largest swing on top.

    Parameters
    ----------
    ranked : pandas.DataFrame
        From :func:`data_to_collect`.
    title : str
        Chart title.
    bars : int, optional
        How many inputs to draw. [-]

    Returns
    -------
    matplotlib.figure.Figure
        Two series (input at the low end, at the high end) around the central value; the
        legend lists both and the central line.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    shown = top_gaps(ranked, bars).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(shown), 2) + 1.2))
    if shown.empty:
        ax.text(0.5, 0.5, "No assumed input moves the headline", ha="center", va="center")
        ax.set_axis_off()
        return fig
    base = float(shown["base"].iloc[0])
    y = range(len(shown))
    # half-height bars side by side: both ends stay visible when they move the same way
    y_low = [i + 0.2 for i in y]
    y_high = [i - 0.2 for i in y]
    low, high = shown["at_low"] - base, shown["at_high"] - base
    ax.barh(y_low, low, 0.4, left=base, color="#4477aa", label="input at its low end")
    ax.barh(y_high, high, 0.4, left=base, color="#ee6677", label="input at its high end")
    ax.axvline(base, color="black", lw=1, label="as assumed now")
    ax.set_yticks(list(y), [_wrap(s) for s in shown["label"]], fontsize=8)
    h = shown.iloc[0]
    metric = label(h["metric"]).replace("_", " ")
    ax.set_xlabel(f"{metric}, {h['pollutant']} [{h['unit']}]")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 40) -> str:
    words, lines, line = str(text).split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\n".join([*lines, line])


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _percent(share: float) -> str:
    if share is None or not math.isfinite(share):
        return "—"
    return f"{100 * share:.0f} %" if share >= 0.01 else "under 1 %"


def _input_value(value: float, field: str, unit: str) -> str:
    """An input as the list shows it: a share as a percentage, else a number and its unit."""
    if kind(field) == "share":
        return format_value(value, "share")
    return f"{_number(value)} {unit}".strip()


def _gap_items(ranked: pd.DataFrame) -> list[str]:
    out = []
    for r in top_gaps(ranked).itertuples(index=False):
        low, high, now = (
            _input_value(v, r.field, str(r.input_unit)) for v in (r.low, r.high, r.value)
        )
        out.append(
            f"<li><strong>{html.escape(r.label)}</strong>: moves the headline by "
            f"{_number(r.swing)} {html.escape(r.unit)} ({_percent(r.share)}) between "
            f"{html.escape(low)} and {html.escape(high)} "
            f"(now {html.escape(now)}, {html.escape(r.quality)}). Where to get it: "
            f"{html.escape(r.where)}.</li>"
        )
    return out


def show_data_to_collect(case: cs.Case, ranked: pd.DataFrame) -> None:
    """Display the tornado chart and the top five inputs to collect, with their swing."""
    name = case.cities["learning"].name
    if ranked.empty or not (ranked["swing"] > 0).any():
        cs._display_html(
            f"<p>No assumed input of {html.escape(name)} moves the headline: every input "
            "it rests on is the city's own or a sourced figure.</p>",
            "No assumed input moves the headline.",
        )
        return
    h = ranked.iloc[0]
    headline = f"{label(h['metric']).replace('_', ' ')}, {h['pollutant']}"
    moving = int((ranked["swing"] > 0).sum())
    intro = (
        f"<p>{html.escape(name)}'s {html.escape(headline)} ({_number(h['base'])} "
        f"{html.escape(h['unit'])}) rests on {moving} assumed inputs. Each is moved alone "
        "to both ends of its plausible range (half and double the value, within the "
        "field's bounds); the list gives the five that move the result most, with where "
        "to get each.</p>"
    )
    cs._display_html(
        intro + '<ol class="c3-data-to-collect">' + "".join(_gap_items(ranked)) + "</ol>",
        "\n".join(f"{r.label}: {r.swing:.4g} {r.unit}" for r in top_gaps(ranked).itertuples()),
    )
    cs.show_figure(
        plot_tornado(ranked, f"{name}: what moves the {headline}"),
        caption=f"{name}: the {headline} with each assumed input at the low and high end "
        f"of its plausible range [{h['unit']}]",
        alt=f"Horizontal bars, one per assumed input of {name}, largest swing on top: blue to "
        "the left or right for the input at its low end, red for its high end, around a "
        "black line at the value as assumed now.",
    )


# --- The takeaway --------------------------------------------------------------------

#: Per workbook: the parts that make up the headline (metric, pollutant, scope prefix).
_PARTS = {
    "emissions-inventory": ("sector_emissions", ""),
    "commercial-cooking": ("cooking_emissions", "device: "),
}
_PORT_PARTS = {
    "ogv_emissions": "ocean-going vessels",
    "che_emissions": "cargo-handling equipment",
    "harbour_craft_emissions": "harbour craft",
}
_MEASURES = {
    "vessel-speed-reduction": "Vessel speed reduction",
    "shore-power": "Shore power at berth",
    "fuel-switch": "A low-sulphur fuel switch",
    "cleaner-che": "Cleaner cargo-handling equipment",
}
#: How a sentence says which lever of the combined plan does the most.
_LEVERS = {
    "avoid": "avoiding travel does the most",
    "shift": "shifting trips to public transport, cycling and walking does the most",
    "improve": "cleaner vehicles do the most",
    "lez": "the low-emission zone does the most",
}
#: The headline in words, for a workbook whose headline has no parts in the record.
_WHAT = {
    "bike-sharing": "{name}'s planned bike-share system would avoid {value} {unit} of {pol}, "
    "net of the vans that rebalance it.",
    "low-emission-development": "{name}'s passenger transport emits {value} {unit} of {pol} "
    "in the base year.",
}


def _find(metrics: list[dict], city: str, metric: str, pollutant: str = "", scope: str = ""):
    for m in metrics:
        if (
            m.get("city") == city
            and m.get("metric") == metric
            and (not pollutant or m.get("pollutant") == pollutant)
            and (not scope or m.get("scope") == scope)
        ):
            return m
    return None


def _share_text(part: float, total: float) -> str:
    return _percent(part / total) if total else "—"


def _part_name(action: str, code: str) -> str:
    """A part of a headline as a sentence names it: devices in the plural, sectors spelled out."""
    if action == "commercial-cooking":
        return f"{code}s"  # the record's device names: "under-fired charbroiler"
    shown = label(code)
    return shown.split(" [")[0] if shown != code else code.replace("-", " ").replace("_", " ")


def _dominant(record: dict, city: str, head: sens.Headline) -> tuple[str, float] | None:
    metrics = record.get("metrics", [])
    action = record.get("action")
    if action == "port-operations":
        parts = [
            (_PORT_PARTS[m["metric"]], m["value"])
            for m in metrics
            if m.get("city") == city
            and m.get("metric") in _PORT_PARTS
            and m.get("pollutant") == head.pollutant
        ]
    elif action in _PARTS:
        metric, prefix = _PARTS[action]
        parts = [
            (_part_name(action, str(m["scope"])[len(prefix) :]), m["value"])
            for m in metrics
            if m.get("city") == city
            and m.get("metric") == metric
            and m.get("pollutant") == head.pollutant
            and str(m.get("scope", "")).startswith(prefix)
        ]
    else:
        return None
    parts = [p for p in parts if p[1] is not None and p[1] > 0]
    return max(parts, key=lambda p: p[1]) if parts else None


def _best_measure(record: dict, city: str, head: sens.Headline) -> str:
    metrics = record.get("metrics", [])
    action = record.get("action")
    name = _city_name(record, city)
    if action == "port-operations":
        total = _find(metrics, city, "total_emissions", head.pollutant, "port")
        cuts = [
            m
            for m in metrics
            if m.get("city") == city
            and m.get("metric") == "measure_reduction"
            and m.get("pollutant") == head.pollutant
            and m.get("scope") != "combined"
        ]
        if not cuts or not total:
            return ""
        best = max(cuts, key=lambda m: m["value"])
        what = _MEASURES.get(best["scope"], str(best["scope"]).replace("-", " "))
        return (
            f"{what} would cut {name}'s port {head.pollutant} by {_number(best['value'])} "
            f"{best['unit']}, {_share_text(best['value'], total['value'])} of the total."
        )
    if action == "commercial-cooking":
        cut = next(
            (
                m
                for m in metrics
                if m.get("city") == city
                and m.get("metric") == "rule_reduction"
                and m.get("pollutant") == head.pollutant
                and m.get("headline")
            ),
            None,
        )
        total = _find(metrics, city, head.metric, head.pollutant, head.scope)
        if not cut or not total:
            return ""
        return (
            "A rule requiring controls on charbroilers that cook 400 lb of meat a week or more "
            f"would cut {_number(cut['value'])} {cut['unit']}, "
            f"{_share_text(cut['value'], total['value'])} of the restaurants' {head.pollutant}."
        )
    if action == "low-emission-development":
        red = _find(metrics, city, "reduction_vs_bau", head.pollutant, "combined")
        levers = [
            m
            for m in metrics
            if m.get("city") == city
            and m.get("metric") == "lever_reduction"
            and m.get("pollutant") == head.pollutant
        ]
        if not red:
            return ""
        text = (
            f"The combined plan would cut {name}'s transport {head.pollutant} in the target "
            f"year by {_percent(red['value'])} against business as usual"
        )
        if levers:
            best = max(levers, key=lambda m: m["value"])
            what = _LEVERS.get(best["scope"], f"{best['scope']} does the most")
            text += f"; {what} ({_number(best['value'])} {best['unit']})"
        return text + "."
    if action == "bike-sharing":
        bikes = _find(metrics, city, "bikes_needed", scope="planned")
        deaths = _find(metrics, city, "deaths_avoided", scope="planned")
        if not bikes:
            return ""
        text = f"It needs {bikes['value']:,.0f} bikes"
        if deaths:
            n = round(deaths["value"])
            lives = (
                "fewer than one death a year"
                if n < 1
                else f"about {n:,} death{'s' if n > 1 else ''} a year"
            )
            text += f", and the cycling it adds would avoid {lives}"
        return text + "."
    return ""


def _city_name(record: dict, city: str) -> str:
    for c in (record.get("cities") or {}).values():
        if c.get("id") == city:
            return c.get("name", city)
    return city


def _assumed_count(record: dict, city: str) -> int:
    return sum(
        1
        for i in record.get("inputs") or []
        if i.get("city") == city
        and (i.get("quality") == "assumed" or i.get("level") == "global")
        and i.get("value") is not None
    )


def _rests_on(record: dict, city: str) -> str:
    rows = [
        s
        for s in record.get("sensitivity") or []
        if s.get("city") == city and (s.get("swing") or 0) > 0
    ]
    if rows:
        names = [str(s.get("label", s.get("field"))).split(" [")[0] for s in rows[:2]]
        names = [n[:1].lower() + n[1:] for n in names]
        both = "both assumed" if len(names) == 2 else "assumed"
        return f"The result rests most on {' and '.join(names)}, {both}."
    n = _assumed_count(record, city)
    if n:
        return f"It rests on {n} assumed inputs."
    return "Every input it rests on is the city's own or a sourced figure."


def takeaway(record: dict) -> dict[str, list[str]]:
    """Two or three sentences per city from a run record, learning city first.

    What dominates the headline (or what it is), how big the best measure is, and what
    the result rests on (the record's ``sensitivity``, else the count of assumed inputs).

    Returns
    -------
    dict of str to list of str
        Role → sentences (plain text). Empty when the workbook has no headline the
        sensitivity ranks by or the record has no value for it.
    """
    head = sens.HEADLINES.get(record.get("action", ""))
    if head is None:
        return {}
    metrics = record.get("metrics", [])
    out = {}
    cities = record.get("cities") or {}
    for role in sorted(cities, key=lambda r: (r != "learning", r)):
        city = cities[role].get("id")
        name = cities[role].get("name", city)
        total = _find(metrics, city, head.metric, head.pollutant, head.scope)
        if total is None:
            continue
        what = label(head.metric).replace("_", " ")
        sentences = []
        top = _dominant(record, city, head)
        if top:
            part = top[0].split(" [")[0]
            sentences.append(
                f"The largest part of {name}'s {head.pollutant} comes from "
                f"{part[:1].lower() + part[1:]}: {_number(top[1])} of "
                f"{_number(total['value'])} {total['unit']}, "
                f"{_share_text(top[1], total['value'])}."
            )
        else:
            template = _WHAT.get(record.get("action"), "{name}: {what} of {pol} {value} {unit}.")
            sentences.append(
                template.format(
                    name=name,
                    what=what,
                    pol=head.pollutant,
                    value=_number(total["value"]),
                    unit=total["unit"],
                )
            )
        best = _best_measure(record, city, head)
        if best:
            sentences.append(best)
        sentences.append(_rests_on(record, city))
        out[role] = sentences
    return out


def rests_on_line(record: dict) -> dict[str, str]:
    """Per role, the line under the headline table for a city whose values rest on assumptions."""
    out = {}
    for role, c in (record.get("cities") or {}).items():
        rows = [
            s
            for s in record.get("sensitivity") or []
            if s.get("city") == c.get("id") and (s.get("swing") or 0) > 0
        ]
        n = len(rows) or _assumed_count(record, c.get("id"))
        if n:
            out[role] = (
                f"{c.get('name', c.get('id'))}: rests on {n} assumed inputs; "
                "see Data to collect first."
            )
    return out
