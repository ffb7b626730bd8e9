"""Reference tables shipped with c3lib (CSV under ``c3lib/data/``): the only place they are read.

Every reference table has a ``source`` column filled on every row and a ``quality``
column (``official``, ``secondary``, ``derived`` or ``assumed``; ``assumed`` marks an
unsourced estimate, which the case studies show as such).

Field tables (``data/fields/<section>.csv``) declare the inputs a city may carry:
``profile`` for the city profile and one per action id for activity data. Columns:

========================  ======================================================
``field``                 name of the input (units as suffix, e.g. ``area_km2``)
``unit``                  the unit a params value must be given in
``minimum``/``maximum``   plausible range; values outside are rejected
``required``              1 if every city must give it (profile only)
``default``               value used when a city gives none (blank: no default)
``scale``                 ``per_capita``: the default is per person; ``profile``: the
                          city's profile value of that name (an action reading it)
``default_source``        where the default comes from
``default_note``          how it was derived
``description``           what the field means
========================  ======================================================

Two more tables declare what the params may set beyond the fields, each rule once:
``parameter_ranges.csv`` gives the plausible range (or the allowed words) of every
workbook parameter a pair may override (:func:`parameter_ranges`), and
``field_rules.csv`` the rules across several fields or parameters, such as shares that
must add up to at most 1 (:func:`field_rules`).

Every table is checked for its types too: a column declared numeric (``value``,
``minimum``, ``maximum``, ``default``, ``required``, ``low``, ``high``, ``limit``) or
mostly numeric must hold finite numbers in every filled row.
"""

from __future__ import annotations

import hashlib
import math
from functools import cache
from pathlib import Path

import pandas as pd

from c3lib.exceptions import ReferenceDataError

__all__ = [
    "DATA_DIR",
    "QUALITY_FLAGS",
    "reference_table",
    "field_table",
    "parameter_ranges",
    "field_rules",
    "data_hash",
    "check_reference",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
QUALITY_FLAGS = ("official", "secondary", "derived", "assumed")
_FIELD_COLUMNS = [
    "field",
    "unit",
    "minimum",
    "maximum",
    "required",
    "default",
    "scale",
    "default_source",
    "default_note",
    "description",
]
#: columns that hold numbers wherever they appear
NUMERIC_COLUMNS = ("value", "minimum", "maximum", "default", "required", "low", "high", "limit")
#: columns that hold text wherever they appear, whatever their values look like
_TEXT_COLUMNS = ("source", "quality", "note", "unit", "description", "allowed", "fields")
_RULE_CHECKS = ("sum_at_most", "sum_above", "increasing")


def _check_types(df: pd.DataFrame, path: Path) -> None:
    """Every declared or mostly numeric column holds a finite number in each filled row."""
    if not isinstance(df.index, pd.RangeIndex):  # pandas made the extra cells an index
        raise ReferenceDataError(f"{path}: a row has more cells than the header")
    for col in df.columns:
        name = str(col)
        if name in _TEXT_COLUMNS or name.endswith(("_source", "_note")):
            continue
        filled = df[col].dropna()
        if filled.dtype == object:
            filled = filled.astype(str).str.strip()
            filled = filled[filled != ""]
        numbers = pd.to_numeric(filled, errors="coerce")
        bad = numbers.isna()
        if name not in NUMERIC_COLUMNS and int((~bad).sum()) < int(bad.sum()):
            continue  # a text column
        bad |= ~numbers.map(lambda v: isinstance(v, int | float) and math.isfinite(v))
        if bad.any():
            rows = [int(i) + 2 for i in filled.index[bad]][:5]
            raise ReferenceDataError(
                f"{path}: column {name!r}: row(s) {rows} are not finite numbers "
                f"(got {filled[bad].iloc[0]!r})"
            )


def _check_sourced(df: pd.DataFrame, path: Path) -> None:
    for col in ("source", "quality"):
        if col not in df.columns:
            raise ReferenceDataError(f"{path}: column {col!r} is missing")
    blank = df["source"].isna() | (df["source"].astype(str).str.strip() == "")
    if blank.any():
        raise ReferenceDataError(f"{path}: row(s) {list(df.index[blank] + 2)} have no source")
    bad = ~df["quality"].isin(QUALITY_FLAGS)
    if bad.any():
        raise ReferenceDataError(
            f"{path}: row(s) {list(df.index[bad] + 2)} have a quality flag outside {QUALITY_FLAGS}"
        )


@cache
def _read(path: Path, fields: bool = False) -> pd.DataFrame:
    """Read and check a reference table (or, with ``fields``, a field table) once per process.

    Callers hand out copies, so the cached frame is never modified.
    """
    try:
        df = pd.read_csv(path, comment="#", skipinitialspace=True)
    except FileNotFoundError:
        raise ReferenceDataError(f"reference table {path} is missing") from None
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReferenceDataError(f"{path}: cannot read the table ({first})") from None
    _check_types(df, path)
    if not fields:
        _check_sourced(df, path)
        return df
    missing = set(_FIELD_COLUMNS) - set(df.columns)
    if missing:
        raise ReferenceDataError(f"{path}: missing column(s) {sorted(missing)}")
    df = df.set_index("field")
    df["required"] = df["required"].fillna(0).astype(int)
    for col in ("unit", "scale", "default_source", "default_note", "description"):
        df[col] = df[col].astype(object).fillna("")
    has_default = df["default"].notna()
    if (df.loc[has_default, "default_source"] == "").any():
        raise ReferenceDataError(f"{path}: every default needs a default_source")
    return df


def reference_table(name: str) -> pd.DataFrame:
    """A reference table from ``c3lib/data/<name>.csv`` (a copy; safe to modify).

    Raises
    ------
    ReferenceDataError
        The file is missing, or a row lacks a source or a valid quality flag.
    """
    return _read(DATA_DIR / f"{name}.csv").copy()


def field_table(section: str) -> pd.DataFrame:
    """The declared inputs of a section (``profile`` or an action id), indexed by field.

    Raises
    ------
    KeyError
        No field table exists for ``section``.
    """
    path = DATA_DIR / "fields" / f"{section}.csv"
    if not path.is_file():
        raise KeyError(section)
    return _read(path, fields=True).copy()


def parameter_ranges() -> pd.DataFrame:
    """The plausible range of each workbook parameter, indexed by (action, parameter).

    Columns ``minimum`` and ``maximum`` (inclusive; NaN: no bound) and ``allowed`` (the
    accepted words of a text parameter, a tuple; empty: any).

    Raises
    ------
    ReferenceDataError
        The table is missing or malformed.
    """
    path = DATA_DIR / "parameter_ranges.csv"
    df = _read(path).copy()
    for col in ("action", "parameter", "minimum", "maximum", "allowed"):
        if col not in df.columns:
            raise ReferenceDataError(f"{path}: column {col!r} is missing")
    df["allowed"] = df["allowed"].map(lambda v: tuple(str(v).split()) if isinstance(v, str) else ())
    if df.duplicated(["action", "parameter"]).any():
        raise ReferenceDataError(f"{path}: a parameter is declared twice")
    return df.set_index(["action", "parameter"])


def field_rules() -> pd.DataFrame:
    """The rules across several fields or parameters (``field_rules.csv``), one a row.

    Columns ``rule`` (its name), ``applies_to`` (``inputs`` or ``parameters``),
    ``section`` (the action or ``profile``), ``fields`` (a tuple, in order), ``check``
    (``sum_at_most``, ``sum_above`` or ``increasing``), ``limit`` and ``over``
    (``resolved`` or ``own``, for inputs).

    Raises
    ------
    ReferenceDataError
        The table is missing or malformed.
    """
    path = DATA_DIR / "field_rules.csv"
    df = _read(path).copy()
    for col in ("rule", "applies_to", "section", "fields", "check", "limit", "over"):
        if col not in df.columns:
            raise ReferenceDataError(f"{path}: column {col!r} is missing")
    df["fields"] = df["fields"].map(lambda v: tuple(str(v).split()))
    df["over"] = df["over"].fillna("resolved")
    for i, row in df.iterrows():
        if row["check"] not in _RULE_CHECKS or row["applies_to"] not in ("inputs", "parameters"):
            raise ReferenceDataError(
                f"{path}: row {int(i) + 2}: check must be one of {_RULE_CHECKS} and applies_to "
                "inputs or parameters"
            )
        if row["check"] != "increasing" and pd.isna(row["limit"]):
            raise ReferenceDataError(f"{path}: row {int(i) + 2}: {row['check']} needs a limit")
        if row["over"] not in ("resolved", "own"):
            raise ReferenceDataError(f"{path}: row {int(i) + 2}: over must be resolved or own")
    return df


def data_hash() -> str:
    """SHA-256 over every reference CSV shipped with c3lib (for cache keys and provenance)."""
    h = hashlib.sha256()
    for path in sorted(DATA_DIR.rglob("*.csv")):
        h.update(path.relative_to(DATA_DIR).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def check_reference() -> list[str]:
    """Problems in the shipped reference data, one message each (empty when all is well).

    Every table needs a source and a quality flag on every row; every field table its
    columns and a source for each default (the topics' own checks of the factors their
    calculations need are in :func:`c3lib.topics.checks.check_all`).
    """
    problems = []
    for path in sorted(DATA_DIR.glob("*.csv")):
        try:
            reference_table(path.stem)
        except ReferenceDataError as exc:
            problems.append(str(exc))
    for path in sorted((DATA_DIR / "fields").glob("*.csv")):
        try:
            field_table(path.stem)
        except ReferenceDataError as exc:
            problems.append(str(exc))
    for read in (parameter_ranges, field_rules):
        try:
            read()
        except ReferenceDataError as exc:
            problems.append(str(exc))
    return problems
