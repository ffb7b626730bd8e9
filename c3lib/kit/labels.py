"""Reader labels: what a reader sees in place of a code name (``berth_h`` → "Hours at berth [h]").

One label table, ``c3lib/data/labels.csv`` (columns ``code``, ``label``, ``unit``, ``kind``,
``source``, ``quality``), serves the workbooks, the explorers and the exercises. ``kind``
says how a value is shown: ``share`` as a percentage, ``count`` as a whole number,
``value`` with four significant figures. Code names stay in code.
"""

from __future__ import annotations

import re
from functools import cache
from numbers import Real

import pandas as pd

from c3lib.reference import reference_table

__all__ = ["KINDS", "label", "header", "is_code", "kind", "format_value", "relabel", "for_reader"]

KINDS = ("share", "count", "value")


@cache
def _table() -> dict[str, tuple[str, str]]:
    df = reference_table("labels")
    return {str(r.code): (str(r.label), str(r.kind)) for r in df.itertuples(index=False)}


def label(code) -> str:
    """The reader label of ``code``; a code not in the table is returned as it is."""
    if not isinstance(code, str):
        return code
    found = _table().get(code)
    return found[0] if found else code


#: Unit suffixes of code names (STYLE.md: a name that crosses a boundary carries its unit).
_UNIT_SUFFIXES = {
    "km2": "km²", "kmh": "km/h", "km": "km", "kn": "kn", "nm": "nm", "kw": "kW", "kwh": "kWh",
    "h": "h", "min": "min", "t": "t", "kg": "kg", "gj": "GJ", "pct": "%", "usd": "USD",
}
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[A-Za-z0-9.]+)+$")


def is_code(text) -> bool:
    """Whether ``text`` is a code name of the label table."""
    return isinstance(text, str) and text in _table()


def header(code) -> str:
    """A column or row heading for ``code``: its label, else a snake_case name spelled out.

    ``speed_kn`` not in the table would read "Speed [kn]"; a name with no underscore that
    is not in the table (a city name, "PM2.5") is kept as it is.
    """
    if not isinstance(code, str):
        return code
    if code in _table():
        return label(code)
    if not _SNAKE.match(code):
        # a lowercase phrase ("ship class") opens with a capital; ids and units stay as they are
        return code[0].upper() + code[1:] if " " in code and code[0].islower() else code
    words = code.split("_")
    unit = _UNIT_SUFFIXES.get(words[-1].lower()) if len(words) > 1 else None
    if unit:
        words = words[:-1]
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    return f"{text} [{unit}]" if unit else text


def kind(code) -> str:
    """``share``, ``count`` or ``value`` (the default for a code not in the table)."""
    found = _table().get(code) if isinstance(code, str) else None
    return found[1] if found else "value"


def format_value(value, how: str = "value") -> str:
    """A number as a reader sees it: ``share`` → "12 %", ``count`` → "1,485", else 4 s.f.

    Parameters
    ----------
    value : float
        The number. [share: fraction, -]
    how : str, optional
        One of :data:`KINDS`.

    Returns
    -------
    str
        "—" for a missing value (never 0).
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if how == "share":  # three significant figures, enough to work an exercise from
        return f"{100 * value:.3g} %"
    if how == "count":
        return f"{value:,.0f}"
    if abs(value) >= 1000 and abs(value) < 1e12:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def relabel(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with index values, column names and index names as reader labels."""

    def rename(index: pd.Index) -> pd.Index:
        if isinstance(index, pd.MultiIndex):
            return pd.MultiIndex.from_tuples(
                [tuple(label(v) for v in t) for t in index],
                names=[label(n) for n in index.names],
            )
        return pd.Index([label(v) for v in index], name=label(index.name))

    out = df.copy()
    out.index = rename(out.index)
    out.columns = rename(out.columns)
    return out


def for_reader(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` ready to show: shares as percentages, counts as whole numbers, reader labels.

    A value is formatted by the kind of its column's code, or else of its row's code
    (a table of named quantities in rows, such as exercise givens). A ``unit`` column of
    a share row reads "%".
    """
    row_kind = [kind(i if not isinstance(i, tuple) else i[-1]) for i in df.index]
    columns = {}
    for j, col in enumerate(df.columns):
        col_kind = kind(col if not isinstance(col, tuple) else col[-1])
        cells = []
        for i, v in enumerate(df.iloc[:, j].tolist()):
            if col == "unit":
                cells.append("%" if row_kind[i] == "share" else v)
            elif isinstance(v, bool) or not isinstance(v, Real):
                cells.append("—" if v is None else v)
            else:
                cells.append(
                    format_value(float(v), col_kind if col_kind != "value" else row_kind[i])
                )
        columns[j] = cells
    out = pd.DataFrame(columns, index=df.index)
    out.columns = df.columns
    return relabel(out)
