"""The parts every workbook shares: context, inputs, figures, assumptions, sources, the record.

A workbook calls :func:`load_case` once, shows its context with :func:`show_context` and
:func:`show_steps`, and ends with :func:`publish`, which hands the run's metrics,
assumptions and sources to the pipeline as one output of MIME type :data:`RECORD_MIME`.
Table and text builders are pure; the ``show_*`` functions only display. Every string
that comes from params is HTML-escaped before display.
"""

from __future__ import annotations

import base64
import copy
import html
import io
import math
import re
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from c3lib.exceptions import C3Error, ParamsError
from c3lib.kit import labels
from c3lib.params import (
    Action,
    Catalog,
    City,
    Country,
    Measure,
    Pair,
    city_inputs,
    load_catalog,
)
from c3lib.reference import field_table
from c3lib.topics.cooking.model import resolve_inputs as _cooking_inputs
from c3lib.topics.ports.model import used_inputs as _port_inputs_used

__all__ = [
    "RECORD_MIME",
    "METRIC_COLUMNS",
    "Case",
    "load_case",
    "context_table",
    "profiles",
    "steps_table",
    "inputs",
    "input_records",
    "value",
    "assumptions",
    "sources",
    "record",
    "measure_records",
    "profile_sources",
    "figure_html",
    "figure_png",
    "format_number",
    "md_escape",
    "show_text",
    "table_html",
    "appendix_html",
    "fold_html",
    "APPENDIX_METADATA",
    "LONG_TABLE_ROWS",
    "TABLE_TOP_ROWS",
    "NOT_ESTIMATED_NOTE",
    "show_context",
    "show_steps",
    "show_figure",
    "show_table",
    "show_reference",
    "show_assumptions",
    "show_sources",
    "publish",
]

RECORD_MIME = "application/vnd.c3.record+json"
METRIC_COLUMNS = ["city", "metric", "value", "unit"]
_OPTIONAL_METRIC_COLUMNS = ["pollutant", "scope", "partial", "note"]
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INPUT_COLUMNS = [
    "role",
    "city",
    "field",
    "value",
    "unit",
    "year",
    "source",
    "quality",
    "level",
    "note",
    "own",
    "description",
]
_ASSUMPTION_COLUMNS = ["city", "input", "value", "unit", "basis", "source"]
_PROFILE_ROWS = {
    "population": "Population",
    "area_km2": "Area",
    "pm25_annual_mean": "PM2.5, annual mean",
    "no2_annual_mean": "NO2, annual mean",
    "grid_ef": "Grid CO2 factor",
}


@dataclass(frozen=True)
class Case:
    """One pair working on one action, with everything read from params."""

    catalog: Catalog
    pair: Pair
    action: Action

    @property
    def mentor(self) -> City:
        return self.catalog.cities[self.pair.mentor]

    @property
    def learning(self) -> City:
        return self.catalog.cities[self.pair.learning]

    @property
    def cities(self) -> dict[str, City]:
        return {"mentor": self.mentor, "learning": self.learning}

    def measures(self, role: str) -> list[Measure]:
        """The measures the city in ``role`` has taken for this action, oldest first."""
        found = (m for m in self.cities[role].measures if m.action == self.action.id)
        return sorted(found, key=lambda m: m.start_year)

    def country(self, role: str) -> Country | None:
        """The country file of the city in ``role``, or None when none describes it."""
        return self.catalog.country_of(self.cities[role])

    @property
    def sections(self) -> list[str]:
        """The input sections the workbook reads: the profile, its own and any it borrows."""
        return ["profile", self.action.id, *self.action.reads]

    @property
    def is_focus(self) -> bool:
        return any(f.action == self.action.id for f in self.pair.focus)


def load_case(pair: str, action: str, params_dir: str = "") -> Case:
    """Load and validate the params a workbook run needs.

    Parameters
    ----------
    pair : str
        City-pair id (``params/pairs/<pair>.yaml``).
    action : str
        Action id (``params/actions.yaml``).
    params_dir : str, optional
        Params folder; ``""`` uses :func:`c3lib.params.default_params_dir`.

    Raises
    ------
    ParamsErrors, ParamsError
        The params are invalid, or the pair or action is unknown.
    """
    catalog = load_catalog(params_dir or None)
    where = str(catalog.params_dir)
    if pair not in catalog.pairs:
        raise ParamsError(
            where, "pair", f"unknown pair {pair!r}; known: {', '.join(catalog.pairs)}"
        )
    if action not in catalog.actions:
        raise ParamsError(
            where, "action", f"unknown action {action!r}; known: {', '.join(catalog.actions)}"
        )
    return Case(catalog, catalog.pairs[pair], catalog.actions[action])


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=^\"'])")


def md_escape(value: Any) -> str:
    """``value`` (a params string) as literal text in Markdown: no markup, link, HTML or math.

    Markdown punctuation is backslash-escaped, ``&``, ``<`` and ``>`` become entities and
    line breaks spaces, so a city named ``**x** <img src=x> [a](javascript:b) | c |`` reads
    as written wherever the Markdown is rendered (JupyterLab, the HTML export). Build
    Markdown from escaped parts: ``f"- **{md_escape(city.name)}**: ..."``.
    """
    text = " ".join(str(value).split())
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=False)


def show_text(text: str) -> None:
    """Display a sentence as a paragraph, every character as written (escaped, no Markdown)."""
    _display_html(f"<p>{_esc(text)}</p>", text)


def _literal_text(fig):
    """Draw every text of ``fig`` as written: a ``$`` in a city's name starts no formula.

    Returns the context to save the figure in (ticks made while drawing then parse no
    math either).
    """
    import matplotlib
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return matplotlib.rc_context({"text.parse_math": False})


def context_table(case: Case) -> pd.DataFrame:
    """Profile of both cities side by side: value, unit, quality and level per row.

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator; columns ``<role>`` (formatted value with unit and year) and
        ``<role> quality`` (quality flag and level) for each role, plus population density
        derived from population and area.
    """
    rows: dict[str, dict[str, str]] = {}
    for role in case.cities:
        prof = inputs(case, "profile")
        prof = prof[prof["role"] == role].set_index("field")
        for key, label in _PROFILE_ROWS.items():
            r = prof.loc[key] if key in prof.index else None
            known = r is not None and not pd.isna(r["value"])
            cell = (
                f"{format_number(r['value'])} {r['unit']}"
                + (f" ({int(r['year'])})" if not pd.isna(r["year"]) else "")
                if known
                else "—"
            )
            rows.setdefault(label, {})[role] = cell
            rows[label][f"{role} quality"] = f"{r['quality']}, {r['level']}" if known else "missing"
        density = prof.loc["population", "value"] / prof.loc["area_km2", "value"]
        rows.setdefault("Population density", {})[role] = f"{density:,.0f} persons/km2"
        rows["Population density"][f"{role} quality"] = "derived, city"
    cols = ["mentor", "mentor quality", "learning", "learning quality"]
    return pd.DataFrame.from_dict(rows, orient="index")[cols]


def profiles(case: Case) -> dict[str, dict[str, float]]:
    """Both cities' profile values, each resolved at its level, keyed by role then field."""
    df = inputs(case, "profile")
    return {
        role: df[(df["role"] == role) & df["value"].notna()].set_index("field")["value"].to_dict()
        for role in case.cities
    }


def steps_table(case: Case) -> pd.DataFrame:
    """The action-list steps with this pair's status, date and note (default ``not-started``)."""
    progress = case.pair.progress.get(case.action.id, {})
    rows = []
    for n, step in enumerate(case.action.steps, start=1):
        s = progress.get(step.id)
        rows.append(
            {
                "step": n,
                "id": step.id,
                "title": step.title,
                "status": s.status if s else "not-started",
                "date": s.date.isoformat() if s and s.date else "",
                "note": s.note if s else "",
                "source": step.source,
            }
        )
    return pd.DataFrame(rows)


def inputs(case: Case, section: str | None = None) -> pd.DataFrame:
    """A section's declared inputs for both cities, in long form, each at its level.

    Parameters
    ----------
    case : Case
        The run.
    section : str, optional
        ``profile`` or an action id (default: the case's action).

    Returns
    -------
    pandas.DataFrame
        Columns ``role``, ``city``, ``field``, ``value``, ``unit``, ``year``, ``source``,
        ``quality``, ``level``, ``note``, ``own``, ``description``; empty when the section
        declares no inputs. Values a topic derives from others are as it derives them
        (restaurants by type from a sourced total: :func:`c3lib.topics.cooking.model.resolve_inputs`).
    """
    section = section or case.action.id
    try:
        field_table(section)
    except KeyError:
        return pd.DataFrame(columns=_INPUT_COLUMNS)
    frames = []
    for role, city in case.cities.items():
        df = city_inputs(city, section, case.country(role)).reset_index()
        df.insert(0, "city", city.id)
        df.insert(0, "role", role)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)[_INPUT_COLUMNS]
    resolve = _RESOLVED.get(section)
    return out if resolve is None else resolve(out)


# A topic's own resolution of a section's inputs (values the model derives from others),
# applied wherever the inputs are read; and the inputs a topic's model actually uses, which
# the record lists (a city with no seaport uses none of its port settings).
_RESOLVED = {"commercial-cooking": _cooking_inputs}
_USED = {"port-operations": _port_inputs_used}


def input_records(case: Case) -> list[dict]:
    """Every input the workbook's models use, for the record's ``inputs`` key.

    One dict per city × section × field: ``city``, ``section``, ``field``, ``value``,
    ``unit``, ``year``, ``level``, ``quality``, ``source``. A section's inputs its topic
    does not use for a city (the port settings of a city with no seaport) are left out.
    """
    out = []
    for section in case.sections:
        df = inputs(case, section)
        if section in _USED:
            df = _USED[section](df)
        for r in df.itertuples():
            v = float(r.value)
            out.append(
                {
                    "city": r.city,
                    "section": section,
                    "field": r.field,
                    "value": v if math.isfinite(v) else None,
                    "unit": r.unit,
                    "year": None if pd.isna(r.year) else int(r.year),
                    "level": r.level,
                    "quality": r.quality,
                    "source": r.source,
                }
            )
    return out


def value(inputs: pd.DataFrame, role: str, field: str) -> float:
    """One input's value for the city in ``role``.

    Raises
    ------
    C3Error
        No such input, or it has neither a value nor a default.
    """
    hit = inputs[(inputs["role"] == role) & (inputs["field"] == field)]
    if hit.empty:
        raise C3Error(f"no input {field!r} for the {role} city")
    v = float(hit["value"].iloc[0])
    if math.isnan(v):
        raise C3Error(f"input {field!r} for the {role} city has no value and no default")
    return v


def assumptions(inputs: pd.DataFrame, extra: list[dict] | None = None) -> pd.DataFrame:
    """Every assumed or missing input, plus further assumptions a workbook declares.

    Parameters
    ----------
    inputs : pandas.DataFrame
        From :func:`inputs`.
    extra : list of dict, optional
        Further rows with keys ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``.

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``: the data
        gaps, which double as the data-collection to-do list.
    """
    gaps = inputs[inputs["quality"].isin(["assumed", "missing"])]
    rows = [
        {
            "city": r.city,
            "input": r.field,
            "value": r.value,
            "unit": r.unit,
            "basis": r.note or r.quality,
            "source": r.source,
        }
        for r in gaps.itertuples()
    ]
    rows += [{k: row.get(k, "") for k in _ASSUMPTION_COLUMNS} for row in (extra or [])]
    return pd.DataFrame(rows, columns=_ASSUMPTION_COLUMNS)


def sources(
    inputs: pd.DataFrame | None = None,
    reference_frames: list[pd.DataFrame] | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """Deduplicated source texts, in first-seen order, from inputs, reference rows and extras."""
    seen: dict[str, None] = {}
    frames = ([inputs] if inputs is not None else []) + list(reference_frames or [])
    for df in frames:
        if "source" in df.columns:
            for s in df["source"].dropna().astype(str):
                if s.strip():
                    seen.setdefault(s.strip(), None)
    for s in extra or []:
        seen.setdefault(str(s).strip(), None)
    return list(seen)


def _pair_assumptions(case: Case) -> list[dict]:
    out = []
    if case.pair.roles_basis == "assumed":
        out.append(
            {
                "city": "pair",
                "input": "roles",
                "value": f"mentor {case.mentor.id}, learning {case.learning.id}",
                "unit": "",
                "basis": case.pair.roles_note,
                "source": "assumption",
            }
        )
    for f in case.pair.focus:
        if f.action == case.action.id and f.basis == "assumed":
            out.append(
                {
                    "city": "pair",
                    "input": "focus",
                    "value": f.action,
                    "unit": "",
                    "basis": f.source,
                    "source": "assumption",
                }
            )
    return out


def _blank(value) -> bool:
    """Whether an optional metric field is empty: NaN, "" or False."""
    if isinstance(value, bool | np.bool_):
        return not value
    return value == "" or pd.isna(value)


def _metric_records(metrics: pd.DataFrame) -> list[dict]:
    missing = set(METRIC_COLUMNS) - set(metrics.columns)
    if missing:
        raise C3Error(f"metrics lack column(s) {sorted(missing)}; need {METRIC_COLUMNS}")
    cols = METRIC_COLUMNS + [c for c in _OPTIONAL_METRIC_COLUMNS if c in metrics.columns]
    headline = (
        metrics["headline"].astype(object).fillna(False).astype(bool).tolist()
        if "headline" in metrics.columns
        else [False] * len(metrics)
    )
    records = []
    for i, row in enumerate(metrics[cols].to_dict("records")):
        if not _METRIC_NAME.match(str(row["metric"])):
            raise C3Error(f"metric {row['metric']!r} (row {i}) is not lowercase snake case")
        v = float(row["value"])
        if not math.isfinite(v):
            raise C3Error(f"metric {row['metric']!r} for {row['city']} is not finite ({v})")
        row["value"] = v
        rec = {k: v for k, v in row.items() if not (k in _OPTIONAL_METRIC_COLUMNS and _blank(v))}
        if "partial" in rec:
            rec["partial"] = True
        if headline[i]:
            rec["headline"] = True
        records.append(rec)
    return records


def measure_records(case: Case) -> list[dict]:
    """Both cities' measures for this workbook (the record's ``measures`` key)."""
    return [
        {"city": city.id, "role": role, **m.model_dump(mode="json")}
        for role, city in case.cities.items()
        for m in case.measures(role)
    ]


def profile_sources(case: Case) -> list[str]:
    """The sources of both cities' profile values (population, area, grid factor, …)."""
    df = inputs(case, "profile")
    return list(dict.fromkeys(s for s in df["source"] if isinstance(s, str) and s.strip()))


def record(
    case: Case,
    metrics: pd.DataFrame,
    assumptions: pd.DataFrame,
    sources: list[str],
    comparisons: list[dict] | None = None,
    sensitivity: list[dict] | None = None,
) -> dict:
    """The run's record: what the pipeline writes to ``<pair>/<action>.json`` (minus provenance).

    Pair-level assumptions (roles, an assumed focus), the profile's and the action's own
    sources, every input used (``inputs``), both cities' measures (``measures``) and the
    published figures set beside the results (``comparisons``, from
    :func:`c3lib.kit.world.comparisons`) are added here, so every case study carries them.
    ``sensitivity`` (:func:`c3lib.kit.report.sensitivity_records`: how far each assumed
    input moves the headline, largest first) is kept as given, ``[]`` when not run.
    """
    assumed = assumptions.astype(object).where(assumptions.notna(), None)
    rows = _pair_assumptions(case) + assumed.to_dict("records")
    cited = [*sources, *profile_sources(case), *case.action.sources]
    cited += [m["source"] for m in measure_records(case)]
    cited += [c["source"] for c in comparisons or []]
    return {
        "pair": case.pair.id,
        "action": case.action.id,
        "title": case.action.title,
        "pair_name": case.pair.name,
        "cities": {
            role: {"id": c.id, "name": c.name, "country": c.country}
            for role, c in case.cities.items()
        },
        "roles_basis": case.pair.roles_basis,
        "focus": case.is_focus,
        "steps": steps_table(case).drop(columns="source").to_dict("records"),
        "metrics": _metric_records(metrics),
        "assumptions": rows,
        "inputs": input_records(case),
        "measures": measure_records(case),
        "comparisons": list(comparisons or []),
        "sensitivity": list(sensitivity or []),
        "sources": list(dict.fromkeys(cited)),
    }


def figure_html(png: bytes, caption: str, alt: str) -> str:
    """A ``<figure>`` with an embedded PNG, alt text and caption (all escaped)."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure class="c3-figure"><img src="data:image/png;base64,{data}" '
        f'alt="{_esc(alt)}"/><figcaption>{_esc(caption)}</figcaption></figure>'
    )


def format_number(value: float) -> str:
    """Plain thousands for large numbers, four significant figures otherwise."""
    if abs(value) >= 1000 and abs(value) < 1e12:
        return f"{value:,.0f}"
    return f"{value:.4g}"


#: A table of more rows than this shows its first :data:`TABLE_TOP_ROWS`, the rest folded.
LONG_TABLE_ROWS = 15
TABLE_TOP_ROWS = 10
#: A table of more columns than this is set small in print, to fit the page width.
WIDE_TABLE_COLUMNS = 5
#: ... and of more than this, set smaller still, its numbers free to wrap: never cut.
WIDER_TABLE_COLUMNS = 9
#: A table of more columns than this and fewer than half as many rows is shown turned.
TRANSPOSE_COLUMNS = 8
#: A text column with a cell longer than this wraps freely (sources, notes). [characters]
LONG_TEXT_CHARS = 40
#: A cell longer than this shows its first :data:`CELL_HEAD_CHARS`, the rest folded. [characters]
LONG_CELL_CHARS = 160
CELL_HEAD_CHARS = 90
#: What a "—" in a reader table means, said under every table that has one.
NOT_ESTIMATED_NOTE = "— not estimated or not applicable (never a zero)."
# text that reads as a number (already formatted): right-aligned like one
_NUMBER_TEXT = re.compile(r"^[−+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?\s?%?$")
_CODE_COLUMNS = frozenset({"field", "input", "code", "parameter", "quantity", "item"})
_YEAR_NAMES = re.compile(r"(?:^|_)years?$")


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and math.isnan(v)


def _column_format(code, values: list, row_kinds: list[str]):
    """How one column's cells read: a function of (row number, value) → (text, numeric)."""
    how = labels.kind(code)
    numbers = [
        float(v)
        for v in values
        if isinstance(v, Real) and not isinstance(v, bool | np.bool_) and not _missing(v)
    ]
    whole = bool(numbers) and all(x.is_integer() for x in numbers)
    year = (
        whole
        and isinstance(code, str)
        and bool(_YEAR_NAMES.search(code.lower()))
        and all(1000 <= x <= 2999 for x in numbers)
    )

    def cell(i: int, v) -> tuple[str, bool]:
        if _missing(v):
            return "—", True
        if isinstance(v, bool | np.bool_):
            return ("yes" if v else "no"), False
        if isinstance(v, Real):
            if year:
                return str(int(v)), True
            kind_here = how if how != "value" else row_kinds[i]
            if kind_here == "value" and whole:
                kind_here = "count"
            return labels.format_value(float(v), kind_here), True
        text = str(v)
        if code in _CODE_COLUMNS:
            text = labels.header(text)
        elif code == "unit" and row_kinds[i] == "share" and text in ("fraction", "-", ""):
            text = "%"
        return text, bool(text) and bool(_NUMBER_TEXT.match(text))

    return cell


def _transposed_if_wide(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` turned a quarter (columns as rows) when it has many more columns than rows.

    Only when its rows have names (or there is one row), so the new columns have headings.
    """
    plain = df.index.nlevels == 1 and df.index.name is None
    plain = plain and pd.api.types.is_integer_dtype(df.index.dtype)
    if len(df.columns) <= TRANSPOSE_COLUMNS or len(df) >= len(df.columns) / 2:
        return df
    if plain and len(df) > 1:
        return df
    out = df.T
    if plain:
        out.columns = [""]
    return out


def _long_cell(text: str) -> str:
    """Escaped cell text; a long one shows its opening words with the rest folded (opened in print)."""
    if len(text) <= LONG_CELL_CHARS:
        return _esc(text)
    cut = text.rfind(" ", 0, CELL_HEAD_CHARS)
    cut = cut if cut > CELL_HEAD_CHARS // 2 else CELL_HEAD_CHARS
    return (
        f'<details class="c3-cell-more"><summary>{_esc(text[:cut])}</summary>'
        f"{_esc(text[cut:])}</details>"
    )


def _reader_parts(df: pd.DataFrame):
    """The index as row-heading columns (none for a plain row number), the header rows."""
    plain_index = (
        df.index.nlevels == 1
        and df.index.name is None
        and (pd.api.types.is_integer_dtype(df.index.dtype) or df.index.empty)
    )
    if plain_index:
        index_cols: list[list] = []
        index_names: list = []
    else:
        index_cols = [list(df.index.get_level_values(n)) for n in range(df.index.nlevels)]
        index_names = list(df.index.names)
    cols = list(df.columns)
    levels = df.columns.nlevels
    keys = [c if isinstance(c, tuple) else (c,) for c in cols]
    return index_cols, index_names, keys, levels


def _thead(index_names: list, keys: list[tuple], levels: int) -> str:
    rows = []
    for lvl in range(levels):
        cells = []
        if lvl == 0:
            for name in index_names:
                span = f' rowspan="{levels}"' if levels > 1 else ""
                text = "" if name is None else labels.header(name)
                # the empty corner over the row labels is a plain cell, not a header
                tag = f'th scope="col"{span}' if text else f"td{span}"
                cells.append(f"<{tag}>{_esc(text)}</{tag.split()[0]}>")
        j = 0
        while j < len(keys):
            k = j
            while (
                lvl < levels - 1
                and k + 1 < len(keys)
                and keys[k + 1][: lvl + 1] == keys[j][: lvl + 1]
            ):
                k += 1
            code = keys[j][lvl]
            span = f' colspan="{k - j + 1}" scope="colgroup"' if k > j else ' scope="col"'
            text = "" if code is None else labels.header(code)
            cells.append(f"<th{span}>{_esc(text)}</th>")
            j = k + 1
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<thead>{''.join(rows)}</thead>"


def _tbody(rows: list[str]) -> str:
    return f"<tbody>{''.join(rows)}</tbody>"


def table_html(
    df: pd.DataFrame,
    caption: str = "",
    note: str = "",
    long_rows: int = LONG_TABLE_ROWS,
    top_rows: int = TABLE_TOP_ROWS,
) -> str:
    """A reader's HTML table: labels with units, no row numbers, aligned and formatted cells.

    Column and index names become reader labels (:func:`c3lib.kit.labels.header`: the one
    label table, or a snake_case name spelled out); a plain row-number index is left out;
    text is left-aligned and numbers right-aligned, each column formatted by its kind
    (shares as percentages, counts and whole numbers without decimals, years as years,
    else four significant figures); a missing value reads "—", with a note under the table.
    The table sits in a marked container that scrolls sideways on screen when it is wider
    than the page. A table of more than ``long_rows`` rows shows its first ``top_rows``,
    the rest folded under "Show all" (a ``<details>``, opened in print). Everything is
    escaped.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, with code names or labels as column and index names.
    caption : str, optional
        One line saying what the table shows.
    note : str, optional
        A line under the table (after the "—" note, when there is one).
    long_rows, top_rows : int, optional
        Fold a table longer than ``long_rows`` after its first ``top_rows`` rows. [rows]
    """
    df = _transposed_if_wide(df)
    index_cols, index_names, keys, levels = _reader_parts(df)
    code_column = next((j for j, k in enumerate(keys) if k[-1] in _CODE_COLUMNS), None)
    if index_cols:
        row_codes = [idx[-1] if isinstance(idx, tuple) else idx for idx in df.index]
    elif code_column is not None:
        row_codes = df.iloc[:, code_column].tolist()
    else:
        row_codes = [None] * len(df)
    row_kinds = [labels.kind(c) for c in row_codes]
    formats = [
        _column_format(key[-1], df.iloc[:, j].tolist(), row_kinds) for j, key in enumerate(keys)
    ]
    long_text = [
        any(isinstance(v, str) and len(v) > LONG_TEXT_CHARS for v in df.iloc[:, j].tolist())
        for j in range(len(keys))
    ]
    body_rows, any_missing = [], False
    for i in range(len(df)):
        cells = []
        for level in index_cols:
            v = level[i]
            text = "—" if _missing(v) else str(labels.header(v) if isinstance(v, str) else v)
            cells.append(f'<th scope="row">{_esc(text)}</th>')
        for j in range(len(keys)):
            v = df.iat[i, j]
            text, numeric = formats[j](i, v)
            any_missing = any_missing or _missing(v)
            if numeric:
                cells.append(f'<td class="c3-num">{_esc(text)}</td>')
            else:
                cls = "c3-text c3-long" if long_text[j] else "c3-text"
                cells.append(f'<td class="{cls}" style="text-align: left">{_long_cell(text)}</td>')
        body_rows.append(f"<tr>{''.join(cells)}</tr>")
    n_cols = len(index_cols) + len(keys)
    cls = "c3-table c3-reader" + (" c3-wide" if n_cols > WIDE_TABLE_COLUMNS else "")
    cls += " c3-wider" if n_cols > WIDER_TABLE_COLUMNS else ""
    head = _thead(index_names, keys, levels)
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    region = _esc(caption or "Table")
    folded = len(body_rows) > long_rows
    shown = body_rows[:top_rows] if folded else body_rows
    out = [
        f'<div class="c3-table-scroll" tabindex="0" role="region" aria-label="{region}">'
        f'<table class="{cls}">{cap}{head}{_tbody(shown)}</table></div>'
    ]
    if folded:
        rest = body_rows[top_rows:]
        out.append(
            f'<details class="c3-more"><summary>Show all {len(body_rows)} rows '
            f"({len(rest)} more)</summary>"
            f'<div class="c3-table-scroll" tabindex="0" role="region" '
            f'aria-label="{region}, rows {top_rows + 1} to {len(body_rows)}">'
            f'<table class="{cls} c3-continued"><caption>{_esc(caption or "Table")} '
            f"(continued: rows {top_rows + 1}–{len(body_rows)})</caption>{head}{_tbody(rest)}"
            "</table></div></details>"
        )
    notes = ([NOT_ESTIMATED_NOTE] if any_missing else []) + ([note] if note else [])
    if notes:
        out.append(f'<p class="c3-table-note">{_esc(" ".join(notes))}</p>')
    return f'<div class="c3-table-block">{"".join(out)}</div>'


def _display_html(body: str, text: str, appendix: bool = False) -> None:
    from IPython.display import display

    metadata = copy.deepcopy(APPENDIX_METADATA) if appendix else None
    display({"text/html": body, "text/plain": text}, raw=True, metadata=metadata)


def show_context(case: Case) -> None:
    """Display the pair, the roles (flagged when assumed), the focus and both city profiles."""
    p = case.pair
    flag = (
        f' <span class="c3-assumed">assumed</span>: {_esc(p.roles_note)}'
        if p.roles_basis == "assumed"
        else ""
    )
    focus = [f for f in p.focus if f.action == case.action.id]
    if focus:
        f = focus[0]
        tag = "" if f.basis == "sourced" else ' <span class="c3-assumed">assumed</span>'
        focus_txt = f"This action is a focus of the pair{tag} ({_esc(f.source)})."
    else:
        focus_txt = (
            "This action is not one of the pair's recorded focus actions; the "
            "workbook runs it so the pair has a full set."
        )
    body = (
        f'<div class="c3-context"><p><strong>{_esc(p.name)}</strong>: '
        f"mentor <strong>{_esc(case.mentor.name)}</strong> ({_esc(case.mentor.country)}), "
        f"learning city <strong>{_esc(case.learning.name)}</strong> "
        f"({_esc(case.learning.country)}).{flag}</p><p>{focus_txt}</p></div>"
    )
    profile = context_table(case)
    profile.columns = pd.MultiIndex.from_tuples(
        [
            (
                f"{case.cities[c.split()[0]].name} ({c.split()[0]})",
                "Quality" if " " in c else "Value",
            )
            for c in profile.columns
        ]
    )
    body += table_html(profile, caption="City profiles (quality flag and level per value)")
    _display_html(body, f"{p.name}: mentor {case.mentor.name}, learning {case.learning.name}")


def show_steps(case: Case) -> None:
    """Display the action-list steps with this pair's status."""
    df = steps_table(case).drop(columns="id").set_index("step")
    # the case study's summary lists the steps and their status: the full table (notes and
    # sources) is reference, folded here and moved to the appendix
    show_table(df, f"Action list: {case.action.title} (status, notes, sources)", appendix=True)


def show_figure(fig, caption: str, alt: str, dpi: int = 96) -> None:
    """Display a matplotlib figure as a captioned image with alt text, then close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    caption : str
        One sentence saying what the figure shows.
    alt : str
        Text alternative for readers who cannot see the image.
    dpi : int, optional
        Resolution of the embedded PNG. [dots/inch]
    """
    _display_html(figure_html(figure_png(fig, dpi), caption, alt), f"Figure: {caption}")


def figure_png(fig, dpi: int = 96) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed.

    A figure already laid out (``tight_layout``, or a constrained or tight layout
    engine) is drawn once, as it is; only one without a layout is cropped to its
    content, which costs a second drawing of the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    dpi : int, optional
        Resolution. [dots/inch]
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    with _literal_text(fig):
        if fig.get_layout_engine() is None:
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        else:  # savefig would draw a laid-out figure twice (once for the layout)
            fig.set_dpi(dpi)
            FigureCanvasAgg(fig).print_png(buf)
    plt.close(fig)
    return buf.getvalue()


#: Output metadata that moves an output to the case study's appendix (c3lib.build.export).
APPENDIX_METADATA = {"c3": {"appendix": True}}


def appendix_html(body: str, title: str) -> str:
    """``body`` folded under ``title``: how a reference table shows in JupyterLab."""
    return f'<details class="c3-reference"><summary>{_esc(title)}</summary>{body}</details>'


def fold_html(body: str, summary: str) -> str:
    """``body`` folded under ``summary`` in the report body: closed on screen, printed open."""
    return f'<details class="c3-fold"><summary>{_esc(summary)}</summary>{body}</details>'


def show_table(
    df: pd.DataFrame,
    caption: str = "",
    note: str = "",
    appendix: bool = False,
    fold: str = "",
) -> None:
    """Display a DataFrame as a reader's table (:func:`table_html`).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    caption : str, optional
        One line saying what it shows.
    note : str, optional
        A line under the table.
    appendix : bool, optional
        A reference table (emission factors, reference values, declared inputs): folded in
        the notebook and moved to the case study's appendix by the export.
    fold : str, optional
        A detail table that stays in the body but folded under this line
        (:func:`fold_html`), as the measures table under its timeline.
    """
    body = table_html(df, caption, note)
    if fold and not appendix:
        body = fold_html(body, fold)
    if appendix:
        _display_html(appendix_html(body, caption or "Reference table"), df.to_string(), True)
    else:
        _display_html(body, df.to_string())


def show_reference(df: pd.DataFrame, caption: str, note: str = "") -> None:
    """Display a reference table for the appendix: ``show_table(..., appendix=True)``."""
    show_table(df, caption, note, appendix=True)


def show_assumptions(df: pd.DataFrame) -> None:
    """Display the data gaps and assumptions (the learning city's data-collection to-do list)."""
    if df.empty:
        _display_html(
            "<p>No assumed inputs: every input comes from the cities' own data or "
            "a named source.</p>",
            "No assumed inputs.",
        )
        return
    show_table(
        df.reset_index(drop=True),
        caption="Data gaps and assumptions: every assumed input (a data-collection to-do list)",
    )


def show_sources(items: list[str]) -> None:
    """Display a numbered list of sources."""
    lis = "".join(f"<li>{_esc(s)}</li>" for s in items)
    _display_html(f'<ol class="c3-sources">{lis}</ol>', "\n".join(items))


def publish(
    case: Case,
    metrics: pd.DataFrame,
    assumptions: pd.DataFrame,
    sources: list[str],
    comparisons: list[dict] | None = None,
    sensitivity: list[dict] | None = None,
) -> None:
    """Hand the run's record to the pipeline (and show a short summary).

    The record (:func:`record`) travels as one output of MIME type :data:`RECORD_MIME` in
    the executed notebook; ``c3 build`` reads it, adds provenance and writes
    ``<action>.json``.
    """
    from IPython.display import display

    rec = record(case, metrics, assumptions, sources, comparisons, sensitivity)
    summary = (
        f"Recorded {len(rec['metrics'])} metrics, {len(rec['assumptions'])} assumptions "
        f"and {len(rec['sources'])} sources for {case.pair.id} / {case.action.id}."
    )
    display({RECORD_MIME: rec, "text/plain": summary}, raw=True)
