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
``scale``                 ``per_capita``: the default is per person
``default_source``        where the default comes from
``default_note``          how it was derived
``description``           what the field means
========================  ======================================================
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pandas as pd

from c3lib.exceptions import ReferenceDataError

__all__ = [
    "DATA_DIR",
    "QUALITY_FLAGS",
    "reference_table",
    "field_table",
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
    return problems
