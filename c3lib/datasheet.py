"""A city's data request and its import: ``c3 data-request`` and ``c3 data-import``.

The people who hold a city's data work in spreadsheets, not YAML. :func:`write_request`
writes a workbook (``.xlsx``; or one ``.csv``) with a front sheet in plain language and one
sheet per input section the selected workbooks read (the city profile, each workbook's own
activity data and the sections it borrows): every input with its label, unit, plausible
range and current value at its level (city, region, country, global) with quality, year
and source, and empty columns to fill. :func:`import_request` reads the filled rows back,
checks them with the rules of ``c3 validate`` and writes them into
``params/cities/<id>.yaml`` at level ``city``, with the quality and source the sheet gives.

Import is all or nothing: one bad row and nothing is written; the write is atomic. Errors
name the sheet, the row, the column and the field. The file's comments, key order and
formatting are kept: the new text is spliced into the old, line by line, at the positions
``ruamel.yaml``'s round-trip parser reports (its emitter would re-flow multi-line quoted
scalars and rewrite ``null``), and the result is checked to parse to exactly the intended
data before it is written.

Each request is stamped (a hidden, protected ``_c3`` sheet with a checksum, and a stamp row
on every sheet; in a CSV, columns on every row) with the city id and a hash of each
section's field list, so that a sheet made for another city, or for an older field list,
or whose sheet or field names were altered, is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import math
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from c3lib import __version__
from c3lib.build.store import atomic_write, request_path
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors
from c3lib.params import Catalog, city_inputs, load_catalog, read_yaml
from c3lib.reference import QUALITY_FLAGS, field_table

__all__ = [
    "write_pair_requests",
    "FORMAT",
    "OUTLIER_FACTOR",
    "SheetError",
    "SheetErrors",
    "Change",
    "ImportResult",
    "sheet_name",
    "request_sections",
    "request_rows",
    "field_list_hash",
    "write_request",
    "import_request",
]

log = logging.getLogger("c3lib")

FORMAT = "c3-data-request/1"
#: A new value this many times larger (or smaller) than the current one is an outlier.
OUTLIER_FACTOR = 10.0
LEVEL_ORDER = {"global": 0, "country": 1, "region": 2, "city": 3}
META_SHEET = "_c3"
FRONT_SHEET = "About this request"
_HEADINGS = ("What the data is for", "How to fill it in", "Who to send it back to")
STAMP_ROW, HEADER_ROW = 3, 5
FIRST_ROW = HEADER_ROW + 1

# (header, key in request_rows) of the given columns, then the columns to fill.
GIVEN = [
    ("Input", "label"),
    ("Field", "field"),
    ("Unit", "unit"),
    ("Minimum", "minimum"),
    ("Maximum", "maximum"),
    ("Current value", "value"),
    ("Level", "level"),
    ("Quality", "quality"),
    ("Year", "year"),
    ("Source", "source"),
    ("Note", "note"),
]
FILL = [
    ("New value", "value"),
    ("New unit", "unit"),
    ("New year", "year"),
    ("New source", "source"),
    ("New quality", "quality"),
    ("New note", "note"),
]
HEADERS = [h for h, _ in GIVEN] + [h for h, _ in FILL]
CSV_HEADERS = ["city", "section", "field list", "sheet", *HEADERS]
_COL = {h: i + 1 for i, h in enumerate(HEADERS)}  # 1-based spreadsheet columns


class SheetError(C3Error):
    """One problem in a returned data request.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    sheet : str, optional
        The sheet (or, for a CSV, the sheet named on the row).
    row : int, optional
        The spreadsheet row (or CSV line) as the user sees it.
    column : str, optional
        The column header, lower case (``new value``).
    field : str, optional
        The input's field name (``cars``).
    """

    def __init__(
        self, message: str, sheet: str = "", row: int | None = None, column: str = "", field=""
    ) -> None:
        self.sheet, self.row, self.column, self.field, self.message = (
            sheet,
            row,
            column,
            field,
            message,
        )
        where = [sheet] if sheet else []
        if row is not None:
            where.append(f"row {row}" + (f" ({field})" if field else ""))
        if column:
            where.append(column)
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SheetErrors(C3Error):
    """Every problem found in a returned data request; nothing was written."""

    def __init__(self, file: str | Path, errors: list[SheetError | ParamsError]) -> None:
        self.file = str(file)
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(
            f"{self.file}: {len(self.errors)} problem(s), nothing was written:\n{lines}"
        )


@dataclass(frozen=True)
class Change:
    """One input an import sets: where it was given, the old and the new value.

    ``old_*`` describe the value the city resolved to before the import (at any level);
    ``outlier`` is the factor by which the new value differs from the old when that is
    :data:`OUTLIER_FACTOR` or more (0 otherwise).
    """

    sheet: str
    row: int
    section: str
    field: str
    value: float
    unit: str
    year: int | None
    source: str
    quality: str
    note: str
    old_value: float
    old_unit: str
    old_level: str
    old_quality: str
    outlier: float = 0.0


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_request` found and did.

    Attributes
    ----------
    city : str
        The city id the request was made for.
    city_file : Path
        Its params file.
    changes : list of Change
        The inputs set, in sheet order.
    written : bool
        Whether the city file was written (False on a dry run or with no changes).
    """

    city: str
    city_file: Path
    changes: list[Change] = field(default_factory=list)
    written: bool = False


# --- the request -------------------------------------------------------------------------


def sheet_name(section: str) -> str:
    """The sheet a section's inputs go on: ``City profile`` or the action id in words."""
    if section == "profile":
        return "City profile"
    return section.replace("-", " ").capitalize()[:31]


def request_sections(catalog: Catalog, actions: Iterable[str] | None = None) -> list[str]:
    """The input sections the given workbooks read, profile first, then in actions order.

    Parameters
    ----------
    catalog : Catalog
        The params.
    actions : iterable of str, optional
        Action ids (default: every action).

    Raises
    ------
    C3Error
        An action id is unknown.
    """
    chosen = list(actions) if actions else list(catalog.actions)
    unknown = [a for a in chosen if a not in catalog.actions]
    if unknown:
        raise C3Error(
            f"unknown action(s) {', '.join(unknown)}; known: {', '.join(catalog.actions)}"
        )
    wanted = {"profile"}
    for aid in chosen:
        wanted.update([aid, *catalog.actions[aid].reads])
    out = []
    for section in ["profile", *catalog.actions]:
        try:
            field_table(section)
        except KeyError:
            continue
        if section in wanted and section not in out:
            out.append(section)
    return out


def _city(catalog: Catalog, city_id: str):
    if city_id not in catalog.cities:
        raise C3Error(f"unknown city {city_id!r}; known: {', '.join(sorted(catalog.cities))}")
    return catalog.cities[city_id]


def _section_inputs(catalog: Catalog, city_id: str, section: str) -> pd.DataFrame:
    city = _city(catalog, city_id)
    return city_inputs(city, section, catalog.country_of(city))


def field_list_hash(inputs: pd.DataFrame) -> str:
    """A short hash of a section's field list: names and units, in field-table order.

    Parameters
    ----------
    inputs : pandas.DataFrame
        :func:`c3lib.params.city_inputs` of the section (indexed by field, with ``unit``).
    """
    text = "\n".join(f"{name}\t{unit}" for name, unit in inputs["unit"].items())
    return "f" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _number(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def request_rows(
    catalog: Catalog, city_id: str, actions: Iterable[str] | None = None
) -> pd.DataFrame:
    """Every input the chosen workbooks read for a city, as the request lists them.

    Rows are grouped by section (:func:`request_sections`) and, within a section, ordered
    by level: assumed global defaults and missing values first, then country, region and
    the city's own values, each group in field-table order. The case-study report's
    sensitivity ranking (how much each input moves the headline) does not exist yet; when
    it does, it should order the rows within each level instead.

    Parameters
    ----------
    catalog : Catalog
        The params.
    city_id : str
        The city.
    actions : iterable of str, optional
        Action ids (default: every action).

    Returns
    -------
    pandas.DataFrame
        Columns ``sheet``, ``section``, ``field list`` (:func:`field_list_hash`),
        ``field``, ``label``, ``unit``, ``minimum``, ``maximum``, ``value``, ``level``,
        ``quality``, ``year``, ``source``, ``note``.

    Raises
    ------
    C3Error
        The city or an action is unknown.
    """
    _city(catalog, city_id)
    frames = []
    for section in request_sections(catalog, actions):
        inputs = _section_inputs(catalog, city_id, section)
        table = field_table(section)
        df = inputs.reset_index()
        df["label"] = df["description"].where(df["description"] != "", df["field"])
        df["minimum"] = [_number(table.loc[f, "minimum"]) for f in df["field"]]
        df["maximum"] = [_number(table.loc[f, "maximum"]) for f in df["field"]]
        df["year"] = [None if pd.isna(y) else int(y) for y in df["year"]]
        df["rank"] = df["level"].map(LEVEL_ORDER)
        df = df.sort_values("rank", kind="stable")
        df.insert(0, "field list", field_list_hash(inputs))
        df.insert(0, "section", section)
        df.insert(0, "sheet", sheet_name(section))
        frames.append(df)
    cols = ["sheet", "section", "field list", "field", "label", "unit", "minimum", "maximum"]
    cols += ["value", "level", "quality", "year", "source", "note"]
    return pd.concat(frames, ignore_index=True)[cols]


def _cell(value: Any) -> Any:
    """A request value as a spreadsheet cell: numbers stay numbers, no value is "—"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _front_lines(catalog: Catalog, city_id: str, rows: pd.DataFrame) -> list[str]:
    city = catalog.cities[city_id]
    pairs = [
        f"{city.name} is the {role} city of the pair {p.name} ({p.id})."
        for p in catalog.pairs.values()
        for role in ("learning", "mentor")
        if getattr(p, role) == city_id
    ]
    assumed = int((rows["level"] == "global").sum())
    sheets = ", ".join(dict.fromkeys(rows["sheet"]))
    digest = catalog.files.get(f"cities/{city_id}.yaml", "")[:12]
    return [
        f"Data request: {city.name} ({city.country})",
        "",
        "What the data is for",
        "These figures feed the C3 Workbooks case studies of the Clean Air Asia City-to-City "
        "Cooperation programme. Where a city has not given a figure, the case study uses a "
        "national figure or an assumed default, and says so in its 'Assumptions and data "
        "gaps' table. Every figure you give replaces one of these and makes the case study "
        "describe your city.",
        *pairs,
        "",
        "How to fill it in",
        f"1. Each sheet ({sheets}) lists the inputs of one part of the analysis. The first "
        f"rows are the ones most in need of a figure: {assumed} input(s) are assumed "
        "defaults (level 'global') or missing.",
        "2. The grey columns show what is used now: the value, its unit, where it comes "
        "from (level: city, region, country or global) and its quality.",
        "3. Where you have a better figure, fill the yellow columns of that row: the new "
        "value in the unit shown (convert it if needed), the year it describes, the source "
        "(the publication or the office that holds it) and the quality: official "
        "(published by the statistics office, an agency or the city), secondary (a paper "
        "or report quoting it), derived (computed from published figures: say how in the "
        "note) or assumed (nobody published it).",
        "4. Leave a row empty when you have nothing better. Do not rename, add or delete "
        "sheets, rows or columns: the file is read back by machine.",
        "",
        "Who to send it back to",
        "Return the filled file to the person who sent it to you (your city pair's C3 "
        "programme contact). It is imported with: c3 data-import <file>",
        "",
        f"Made on {dt.date.today().isoformat()} by c3lib {__version__} from the params "
        f"folder {catalog.params_dir} (cities/{city_id}.yaml, sha256 {digest}…).",
    ]


def _meta_rows(catalog: Catalog, city_id: str, rows: pd.DataFrame) -> list[list[str]]:
    meta = [
        ["format", FORMAT],
        ["city", city_id],
        ["made", dt.date.today().isoformat()],
        ["params", str(catalog.params_dir)],
        ["city file sha256", catalog.files.get(f"cities/{city_id}.yaml", "")],
    ]
    for (sheet, section, digest), df in rows.groupby(
        ["sheet", "section", "field list"], sort=False
    ):
        meta.append(["sheet", sheet, section, digest, ",".join(df["field"])])
    meta.append(["checksum", _checksum(meta)])
    return meta


def _checksum(meta: list[list[str]]) -> str:
    text = "\n".join("\t".join(str(c) for c in row) for row in meta)
    return hashlib.sha256(text.encode()).hexdigest()


def _xlsx_bytes(catalog: Catalog, city_id: str, rows: pd.DataFrame) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    city = catalog.cities[city_id]
    given_fill = PatternFill("solid", fgColor="EDEDED")
    to_fill = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)

    wb = Workbook()
    front = wb.active
    front.title = FRONT_SHEET
    front.column_dimensions["A"].width = 110
    for i, line in enumerate(_front_lines(catalog, city_id, rows), start=1):
        c = front.cell(i, 1, line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 1:
            c.font = Font(bold=True, size=14)
        elif line in _HEADINGS:
            c.font = Font(bold=True)
    front.protection.sheet = True

    widths = [40, 18, 12, 11, 11, 14, 9, 10, 7, 40, 40, 14, 12, 10, 40, 13, 30]
    for (sheet, section, digest), df in rows.groupby(
        ["sheet", "section", "field list"], sort=False
    ):
        ws = wb.create_sheet(sheet)
        ws.cell(1, 1, f"{sheet}: {city.name}").font = Font(bold=True, size=13)
        users = [a.title for a in catalog.actions.values() if section in ("profile", a.id)]
        users += [a.title for a in catalog.actions.values() if section in a.reads]
        ws.cell(
            2,
            1,
            "Used by: " + "; ".join(dict.fromkeys(users)) + ". Fill the yellow "
            "columns where you have a better figure; leave the row empty otherwise.",
        )
        for col, text in enumerate(["city", city_id, "section", section, "field list", digest]):
            ws.cell(STAMP_ROW, col + 1, text).font = Font(color="808080", size=8)
        for col, header in enumerate(HEADERS, start=1):
            c = ws.cell(HEADER_ROW, col, header)
            c.font = Font(bold=True)
            c.fill = given_fill if col <= len(GIVEN) else to_fill
            c.alignment = wrap
            ws.column_dimensions[get_column_letter(col)].width = widths[col - 1]
        ranges: dict[tuple, list[str]] = {}
        units: dict[str, list[str]] = {}
        last = FIRST_ROW + len(df) - 1
        for r, rec in enumerate(df.to_dict("records"), start=FIRST_ROW):
            for col, (_, key) in enumerate(GIVEN, start=1):
                c = ws.cell(r, col, _cell(rec[key]) if rec[key] != "" else None)
                c.fill, c.alignment = given_fill, wrap
            for col in range(len(GIVEN) + 1, len(HEADERS) + 1):
                c = ws.cell(r, col)
                c.fill, c.protection, c.alignment = to_fill, unlocked, wrap
            value_cell = f"{get_column_letter(_COL['New value'])}{r}"
            ranges.setdefault((rec["minimum"], rec["maximum"], rec["unit"]), []).append(value_cell)
            if rec["unit"] and not set(rec["unit"]) & set(',"'):
                units.setdefault(rec["unit"], []).append(
                    f"{get_column_letter(_COL['New unit'])}{r}"
                )
        for (lo, hi, unit), cells in ranges.items():
            if lo is not None and hi is not None:
                dv = DataValidation(
                    type="decimal", operator="between", formula1=f"{lo:g}", formula2=f"{hi:g}"
                )
                rule = f"between {lo:,g} and {hi:,g} {unit}"
            elif lo is not None:
                dv = DataValidation(
                    type="decimal", operator="greaterThanOrEqual", formula1=f"{lo:g}"
                )
                rule = f"at least {lo:,g} {unit}"
            elif hi is not None:
                dv = DataValidation(type="decimal", operator="lessThanOrEqual", formula1=f"{hi:g}")
                rule = f"at most {hi:,g} {unit}"
            else:
                dv = DataValidation(
                    type="decimal", operator="between", formula1="-1e300", formula2="1e300"
                )
                rule = f"a number in {unit}"
            _describe(dv, "New value", f"Enter a number {rule}.")
            for ref in cells:
                dv.add(ref)
            ws.add_data_validation(dv)
        for unit, cells in units.items():
            dv = DataValidation(type="list", formula1=f'"{unit}"')
            _describe(dv, "New unit", f"Give the value in {unit} (or leave the unit empty).")
            for ref in cells:
                dv.add(ref)
            ws.add_data_validation(dv)
        col = get_column_letter
        dv = DataValidation(type="whole", operator="between", formula1="1900", formula2="2100")
        _describe(dv, "New year", "The year the figure describes (1900–2100).")
        dv.add(f"{col(_COL['New year'])}{FIRST_ROW}:{col(_COL['New year'])}{last}")
        ws.add_data_validation(dv)
        dv = DataValidation(type="list", formula1='"' + ",".join(QUALITY_FLAGS) + '"')
        _describe(dv, "New quality", "official, secondary, derived or assumed.")
        dv.add(f"{col(_COL['New quality'])}{FIRST_ROW}:{col(_COL['New quality'])}{last}")
        ws.add_data_validation(dv)
        ws.freeze_panes = ws.cell(FIRST_ROW, 2)
        ws.protection.sheet = True
        ws.protection.formatColumns = False  # resizing columns and rows stays allowed
        ws.protection.formatRows = False

    meta = wb.create_sheet(META_SHEET)
    for row in _meta_rows(catalog, city_id, rows):
        meta.append(row)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _describe(dv, title: str, text: str) -> None:
    dv.allow_blank = True
    dv.showErrorMessage = dv.showInputMessage = True
    dv.errorTitle = dv.promptTitle = title
    dv.error = dv.prompt = text


def _csv_text(rows: pd.DataFrame, city_id: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for rec in rows.to_dict("records"):
        given = [_cell(rec[key]) if rec[key] != "" else "" for _, key in GIVEN]
        line = [city_id, rec["section"], rec["field list"], rec["sheet"], *given]
        writer.writerow(line + [""] * len(FILL))
    return buf.getvalue()


def write_request(
    catalog: Catalog,
    city_id: str,
    path: str | Path,
    actions: Iterable[str] | None = None,
    fmt: str = "xlsx",
) -> Path:
    """Write a city's data request: an Excel workbook or one CSV.

    Parameters
    ----------
    catalog : Catalog
        The params.
    city_id : str
        The city.
    path : path-like
        The file to write (written atomically; folders are made).
    actions : iterable of str, optional
        Only the inputs these workbooks read (default: every workbook).
    fmt : {"xlsx", "csv"}
        ``xlsx``: a front sheet, one protected sheet per section with data validation,
        and a hidden stamp sheet. ``csv``: the same rows in one UTF-8 file (with a BOM,
        so that spreadsheet programs read its accents), stamped on every row.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    C3Error
        Unknown city, action or format.
    """
    path = Path(path)
    rows = request_rows(catalog, city_id, actions)
    if fmt == "xlsx":
        atomic_write(path, _xlsx_bytes(catalog, city_id, rows))
    elif fmt == "csv":
        atomic_write(path, ("\ufeff" + _csv_text(rows, city_id)).encode("utf-8"))
    else:
        raise C3Error(f"unknown format {fmt!r}; expected xlsx or csv")
    log.info("wrote %s (%d inputs)", path, len(rows))
    return path


def write_pair_requests(catalog: Catalog, out_dir: str | Path, pairs: Iterable[str]) -> list[Path]:
    """Write each pair's learning-city request next to its case studies, where stale.

    A request is rewritten only when it is missing or older than a params file the pair
    reads (:meth:`c3lib.params.Catalog.pair_files`), so a build with nothing new writes
    nothing.

    Returns
    -------
    list of Path
        The requests written.
    """
    written = []
    for pair_id in pairs:
        pair = catalog.pairs[pair_id]
        path = request_path(out_dir, pair_id, pair.learning)
        sources = [catalog.params_dir / name for name in catalog.pair_files(pair_id)]
        newest = max((s.stat().st_mtime for s in sources if s.is_file()), default=0.0)
        if path.is_file() and path.stat().st_mtime >= newest:
            continue
        written.append(write_request(catalog, pair.learning, path))
    return written


# --- reading a returned request -----------------------------------------------------------


@dataclass
class _Row:
    """The filled columns of one row, as read, with where they were."""

    sheet: str
    row: int
    section: str
    field: str
    cells: dict[str, Any]  # FILL header -> raw cell value


def _blank(x: Any) -> bool:
    return x is None or (isinstance(x, str) and x.strip() == "")


def _text(x: Any) -> str:
    return "" if x is None else str(x).strip()


def _read_xlsx(path: Path, catalog: Catalog) -> tuple[str, list[_Row], list[SheetError]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook extensions it drops; only cell values are read
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SheetErrors(path, [SheetError(f"not a readable .xlsx workbook ({exc})")]) from None
    if META_SHEET not in wb.sheetnames:
        raise SheetErrors(
            path,
            [
                SheetError(
                    f"not a data request made by c3 data-request: its hidden {META_SHEET!r} "
                    "sheet is missing (was it copied into a new workbook?)"
                )
            ],
        )
    meta = [
        [_text(c) for c in row if not _blank(c)]
        for row in wb[META_SHEET].iter_rows(values_only=True)
    ]
    meta = [m for m in meta if m]
    if not meta or meta[-1][0] != "checksum" or [_checksum(meta[:-1])] != meta[-1][1:]:
        raise SheetErrors(
            path, [SheetError(f"the hidden {META_SHEET!r} sheet was altered", META_SHEET)]
        )
    info = {m[0]: m[1] for m in meta if m[0] != "sheet" and len(m) > 1}
    if info.get("format") != FORMAT:
        raise SheetErrors(path, [SheetError(f"format {info.get('format')!r}; expected {FORMAT}")])
    city_id = info["city"]
    if city_id not in catalog.cities:
        raise SheetErrors(
            path, [SheetError(f"made for city {city_id!r}, which the params folder does not know")]
        )
    errors: list[SheetError] = []
    out: list[_Row] = []
    expected = [m for m in meta if m[0] == "sheet"]
    missing = [m[1] for m in expected if m[1] not in wb.sheetnames]
    extra = [
        s for s in wb.sheetnames if s not in {m[1] for m in expected} | {FRONT_SHEET, META_SHEET}
    ]
    for name in missing:
        found = f" (found {', '.join(repr(s) for s in extra)})" if extra else ""
        errors.append(
            SheetError(
                f"the sheet is missing{found}: was it renamed or deleted? Keep the sheet names "
                "of the request",
                name,
            )
        )
    for _, name, section, digest, *fields in expected:
        if name in missing:
            continue
        ws = wb[name]
        fields = fields[0].split(",") if fields else []
        stamp = [_text(ws.cell(STAMP_ROW, c).value) for c in range(1, 7)]
        if stamp[1] != city_id:
            other = catalog.cities.get(stamp[1])
            made_for = f"{other.name} ({stamp[1]})" if other else repr(stamp[1])
            errors.append(
                SheetError(
                    f"this sheet was made for {made_for}, the workbook for "
                    f"{catalog.cities[city_id].name} ({city_id}); fill the sheet of this city's "
                    "request instead",
                    name,
                    STAMP_ROW,
                )
            )
            continue
        if stamp[3] != section or stamp[5] != digest:
            errors.append(SheetError("the stamp row was altered", name, STAMP_ROW))
            continue
        headers = [_text(ws.cell(HEADER_ROW, c).value) for c in range(1, len(HEADERS) + 1)]
        if headers != HEADERS:
            errors.append(
                SheetError(
                    f"the header row was changed; expected: {', '.join(HEADERS)}",
                    name,
                    HEADER_ROW,
                )
            )
            continue
        stale = _current_field_list(catalog, city_id, section, digest, name)
        if stale:
            errors += stale
            continue
        for i in range(len(fields) + 50):
            r = FIRST_ROW + i
            cells = {h: ws.cell(r, _COL[h]).value for h, _ in FILL}
            got = _text(ws.cell(r, _COL["Field"]).value)
            if i >= len(fields):
                if got or not all(_blank(v) for v in cells.values()):
                    errors.append(
                        SheetError("not a row of the request (rows cannot be added)", name, r)
                    )
                continue
            if got != fields[i]:
                errors.append(
                    SheetError(
                        f"{got!r} is not the field this row was made for ({fields[i]!r}); do "
                        "not edit the grey columns",
                        name,
                        r,
                        "field",
                        fields[i],
                    )
                )
                continue
            if not all(_blank(v) for v in cells.values()):
                out.append(_Row(name, r, section, fields[i], cells))
    return city_id, out, errors


def _current_field_list(
    catalog: Catalog, city_id: str, section: str, digest: str, sheet: str, row=None
) -> list[SheetError]:
    try:
        now = field_list_hash(_section_inputs(catalog, city_id, section))
    except KeyError:
        now = None
    if now == digest:
        return []
    return [
        SheetError(
            f"made for an older field list of {section!r} (fields {digest}, now {now}); make "
            f"a new request with: c3 data-request {city_id}",
            sheet,
            row,
        )
    ]


def _read_csv(path: Path, catalog: Catalog) -> tuple[str, list[_Row], list[SheetError]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetErrors(
            path, [SheetError(f"not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'")]
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records:
        raise SheetErrors(path, [SheetError("the file is empty")])
    header = [h.strip() for h in records[0]]
    missing = [h for h in CSV_HEADERS if h not in header]
    if missing:
        raise SheetErrors(
            path,
            [
                SheetError(
                    f"not a data request made by c3 data-request: column(s) "
                    f"{', '.join(missing)} missing",
                    row=1,
                )
            ],
        )
    idx = {h: header.index(h) for h in CSV_HEADERS}
    errors: list[SheetError] = []
    out: list[_Row] = []
    city_id = None
    checked: set[str] = set()
    for line, rec in enumerate(records[1:], start=2):
        rec = rec + [""] * (len(header) - len(rec))
        get = {h: rec[i].strip() for h, i in idx.items()}
        if not any(rec):
            continue
        sheet = get["sheet"]
        if city_id is None:
            city_id = get["city"]
            if city_id not in catalog.cities:
                raise SheetErrors(
                    path,
                    [
                        SheetError(
                            f"made for city {city_id!r}, which the params folder does not know",
                            row=line,
                        )
                    ],
                )
        if get["city"] != city_id:
            errors.append(
                SheetError(
                    f"this row was made for city {get['city']!r}, the file for {city_id!r}",
                    sheet,
                    line,
                    "city",
                    get["Field"],
                )
            )
            continue
        section = get["section"]
        if section not in checked:
            checked.add(section)
            errors += _current_field_list(catalog, city_id, section, get["field list"], sheet, line)
        cells = {h: (get[h] or None) for h, _ in FILL}
        if all(_blank(v) for v in cells.values()):
            continue
        if section not in {s for s in request_sections(catalog)}:
            continue  # reported by the field-list check
        if get["Field"] not in _section_inputs(catalog, city_id, section).index:
            errors.append(
                SheetError(f"{get['field']!r} is not a field of {section!r}", sheet, line, "field")
            )
            continue
        out.append(_Row(sheet, line, section, get["Field"], cells))
    if city_id is None:
        raise SheetErrors(path, [SheetError("the file has no rows")])
    return city_id, out, errors


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _parse_number(x: Any) -> float:
    """A cell's number; ValueError with the reason when it is not one."""
    if isinstance(x, bool) or isinstance(x, dt.date | dt.datetime | dt.time):
        raise ValueError(f"{_show(x)} is not a number")
    if isinstance(x, int | float):
        v = float(x)
    else:
        s = str(x).strip().replace("\u00a0", "").replace("\u202f", "")
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        try:
            v = float(s)
        except ValueError:
            raise ValueError(f"{_show(x)} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{_show(x)} is not a finite number")
    return v


def _show(x: Any) -> str:
    return repr(x) if isinstance(x, str) else repr(str(x))


def _fmt(v: float) -> str:
    return "—" if v is None or math.isnan(v) else f"{v:,.6g}"


def _check_row(
    row: _Row, inputs: pd.DataFrame, table: pd.DataFrame, accept_outliers: bool
) -> tuple[Change | None, list[SheetError]]:
    """Parse and check one filled row against its field's table entry."""
    errors: list[SheetError] = []

    def err(column: str, message: str) -> None:
        errors.append(SheetError(message, row.sheet, row.row, column.lower(), row.field))

    spec = table.loc[row.field]
    cur = inputs.loc[row.field]
    unit = spec["unit"]
    c = row.cells
    value = None
    if _blank(c["New value"]):
        filled = [h.lower() for h, _ in FILL if not _blank(c[h])]
        err(
            "New value",
            f"empty, but {', '.join(filled)} filled; give the value (repeat the current one "
            "to confirm it with a new source)",
        )
    else:
        try:
            value = _parse_number(c["New value"])
        except ValueError as exc:
            err("New value", str(exc))
    got_unit = _text(c["New unit"]) or unit
    if got_unit != unit:
        err("New unit", f"{got_unit!r} does not match the field's unit {unit!r}; convert the value")
    lo, hi = _number(spec["minimum"]), _number(spec["maximum"])
    if value is not None and (lo is not None and value < lo or hi is not None and value > hi):
        span = f"{_fmt(lo) if lo is not None else '−∞'} to {_fmt(hi) if hi is not None else '∞'}"
        err("New value", f"{_fmt(value)} is out of range: the plausible range is {span} {unit}")
        value = None
    year = None
    if not _blank(c["New year"]):
        try:
            y = _parse_number(c["New year"])
            if not y.is_integer() or not 1900 <= y <= 2100:
                raise ValueError(f"{_show(c['New year'])} is not a year from 1900 to 2100")
            year = int(y)
        except ValueError as exc:
            err("New year", str(exc).replace("a number", "a year"))
    source = " ".join(_text(c["New source"]).split())
    if not source:
        err("New source", "required: the publication or office the figure comes from")
    elif len(source) > 2000:
        err("New source", f"{len(source)} characters; at most 2000")
    quality = _text(c["New quality"]).lower()
    if quality not in QUALITY_FLAGS:
        shown = f"{_show(c['New quality'])} is not a quality flag; " if quality else "required; "
        err("New quality", f"{shown}choose one of {', '.join(QUALITY_FLAGS)}")
    note = " ".join(_text(c["New note"]).split())
    if len(note) > 2000:
        err("New note", f"{len(note)} characters; at most 2000")
    old = float(cur["value"])
    factor = 0.0
    if value is not None and math.isfinite(old) and old > 0 and value > 0:
        ratio = max(value / old, old / value)
        if ratio >= OUTLIER_FACTOR:
            factor = ratio
            if not accept_outliers:
                err(
                    "New value",
                    f"{_fmt(value)} {unit} is {ratio:,.0f} times "
                    f"{'more' if value > old else 'less'} than the current {_fmt(old)}; check "
                    "the unit, or import with --accept-outliers",
                )
    if errors or value is None:
        return None, errors
    if factor:
        flag = (
            f"Outlier accepted at import: {factor:,.0f} times the previous value "
            f"{_fmt(old)} {unit}."
        )
        note = f"{flag} {note}" if note else flag
    return (
        Change(
            sheet=row.sheet,
            row=row.row,
            section=row.section,
            field=row.field,
            value=value,
            unit=unit,
            year=year,
            source=source,
            quality=quality,
            note=note,
            old_value=old,
            old_unit=cur["unit"],
            old_level=cur["level"],
            old_quality=cur["quality"],
            outlier=factor,
        ),
        [],
    )


# --- writing the city file ----------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 /²³µ.]*$")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(v: Any, plain: bool = False) -> str:
    """One YAML scalar that PyYAML and ruamel.yaml read back as ``v``."""
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = repr(v)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 floats need a dot
            text = f"{mantissa}.0e{exponent}"
        return text
    if plain and _PLAIN.match(v) and v.strip() == v and v.lower() not in _YAML11_WORDS:
        return v
    return json.dumps(v, ensure_ascii=False)


def _quantity(ch: Change) -> dict[str, Any]:
    q: dict[str, Any] = {
        "value": ch.value,
        "unit": ch.unit,
        "year": ch.year,
        "source": ch.source,
        "quality": ch.quality,
        "level": "city",
    }
    if ch.note:
        q["note"] = ch.note
    return q


def _line(indent: int, key: str, v: Any) -> str:
    return f"{' ' * indent}{key}: {_scalar(v, key in ('unit', 'quality', 'level'))}\n"


def _block(indent: int, key: str, mapping: dict) -> list[str]:
    """A block mapping of scalars (or of mappings) under ``key``, two spaces a level."""
    out = [f"{' ' * indent}{key}:\n"]
    for k, v in mapping.items():
        out += _block(indent + 2, k, v) if isinstance(v, dict) else [_line(indent + 2, k, v)]
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _span(lines: list[str], start: int, col: int) -> int:
    """End (exclusive) of the node whose key is on line ``start`` at column ``col``.

    Trailing blank and comment lines are left out: they belong to what follows.
    """
    end = start + 1
    while end < len(lines):
        s = lines[end].strip()
        if s and not s.startswith("#") and _indent(lines[end]) <= col:
            break
        end += 1
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].strip()[0] == "#"):
        end -= 1
    return end


def _is_block(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap

    return isinstance(node, CommentedMap) and len(node) > 0 and not node.fa.flow_style()


def _end_of_mapping(lines: list[str], node) -> int:
    last = list(node)[-1]
    line, col = node.lc.key(last)
    return _span(lines, line, col)


def _splice(text: str, changes: list[Change]) -> str:
    """The city file's text with each change written in place, all else untouched."""
    from ruamel.yaml import YAML

    doc = YAML(typ="rt").load(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    edits: list[tuple[int, int, list[str]]] = []  # (start, end, new lines)
    new_sections: dict[str, dict[str, dict]] = {}

    for ch in changes:
        q = _quantity(ch)
        parent = doc["profile"] if ch.section == "profile" else None
        if parent is None:
            activity = doc.get("activity")
            if _is_block(activity) and _is_block(activity.get(ch.section)):
                parent = activity[ch.section]
            else:
                new_sections.setdefault(ch.section, {})[ch.field] = q
                continue
        if ch.field in parent and _is_block(parent[ch.field]):
            node = parent[ch.field]
            sub_col = node.lc.key(list(node)[0])[1]
            after = _end_of_mapping(lines, node)
            for key in ("value", "unit", "year", "source", "quality", "level", "note"):
                if key in node:
                    line, col = node.lc.key(key)
                    new = [_line(col, key, q[key])] if key in q else []
                    edits.append((line, _span(lines, line, col), new))
                elif key in q:
                    edits.append((after, after, [_line(sub_col, key, q[key])]))
        elif ch.field in parent:  # a flow mapping or a bare value: rewrite it as a block
            line, col = parent.lc.key(ch.field)
            edits.append((line, _span(lines, line, col), _block(col, ch.field, q)))
        else:
            col = parent.lc.key(list(parent)[0])[1]
            at = _end_of_mapping(lines, parent)
            edits.append((at, at, _block(col, ch.field, q)))

    if new_sections:
        activity = doc.get("activity")
        if _is_block(activity):
            col = activity.lc.key(list(activity)[0])[1]
            for section, fields in new_sections.items():
                if section in activity:  # an empty or flow section: rewrite it
                    line, c = activity.lc.key(section)
                    merged = {**dict(activity[section] or {}), **fields}
                    edits.append((line, _span(lines, line, c), _block(c, section, merged)))
                else:
                    at = _end_of_mapping(lines, activity)
                    edits.append((at, at, _block(col, section, fields)))
        else:
            merged = {s: dict(v) for s, v in dict(activity or {}).items()}
            for section, fields in new_sections.items():
                merged.setdefault(section, {}).update(fields)
            if activity is not None:
                line, c = doc.lc.key("activity")
                edits.append((line, _span(lines, line, c), _block(0, "activity", merged)))
            else:
                at = _span(lines, doc.lc.key("profile")[0], 0)
                edits.append((at, at, _block(0, "activity", merged)))

    # Insertions at one position go in together, in order; then apply from the bottom up.
    merged: dict[tuple[int, int], list[str]] = {}
    for start, end, new in edits:
        if start == end and (start, end) in merged:
            merged[start, end] += new
        else:
            merged[start, end] = new
    for (start, end), new in sorted(merged.items(), reverse=True):
        lines[start:end] = new
    return "".join(lines)


def _expected(data: dict, changes: list[Change]) -> dict:
    out = json.loads(json.dumps(data, default=str))
    for ch in changes:
        if ch.section == "profile":
            target = out.setdefault("profile", {})
        else:
            activity = out.get("activity") or {}
            out["activity"] = activity
            target = activity.get(ch.section) or {}
            activity[ch.section] = target
        old = target.get(ch.field) if isinstance(target.get(ch.field), dict) else {}
        merged = {k: v for k, v in old.items() if k != "note"}
        merged.update(_quantity(ch))
        target[ch.field] = merged
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _validate_with(catalog: Catalog, city_id: str, text: str) -> list[ParamsError]:
    """The errors ``c3 validate`` would report with the new city file in place."""
    with tempfile.TemporaryDirectory(prefix="c3-import-") as tmp:
        copy = Path(tmp) / "params"
        shutil.copytree(catalog.params_dir, copy)
        (copy / "cities" / f"{city_id}.yaml").write_text(text, encoding="utf-8")
        try:
            load_catalog(copy)
        except ParamsErrors as exc:
            return [
                ParamsError(e.file.replace(str(copy), str(catalog.params_dir)), e.field, e.message)
                for e in exc.errors
            ]
    return []


def import_request(
    path: str | Path,
    params_dir: str | Path | None = None,
    *,
    dry_run: bool = False,
    accept_outliers: bool = False,
) -> ImportResult:
    """Read a filled data request and write its values into the city's params file.

    Every filled row (one with any of the columns to fill given) must have a number in the
    field's unit and plausible range, a source and a quality flag; a value
    :data:`OUTLIER_FACTOR` times off the current one needs ``accept_outliers`` and is
    flagged in its note. The new values get level ``city``; the note of the old value is
    dropped with it. Nothing is written unless every row passes and the params folder
    with the new file passes :func:`c3lib.params.load_catalog`.

    Parameters
    ----------
    path : path-like
        The returned ``.xlsx`` or ``.csv``.
    params_dir : path-like, optional
        The params folder (default: :func:`c3lib.params.default_params_dir`).
    dry_run : bool
        Check and report the changes, write nothing.
    accept_outliers : bool
        Accept values far from the current ones.

    Returns
    -------
    ImportResult

    Raises
    ------
    SheetErrors
        Every problem found, each naming the sheet, row, column and field; nothing written.
    C3Error
        The file cannot be read, or the params folder is invalid.
    """
    path = Path(path)
    catalog = load_catalog(params_dir)
    if not path.is_file():
        raise C3Error(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        city_id, rows, errors = _read_xlsx(path, catalog)
    elif suffix == ".csv":
        city_id, rows, errors = _read_csv(path, catalog)
    else:
        raise C3Error(
            f"{path}: expected a .xlsx or .csv data request (save the file in one of these)"
        )
    changes: list[Change] = []
    seen: dict[tuple[str, str], _Row] = {}
    for row in rows:
        key = (row.section, row.field)
        if key in seen:
            first = seen[key]
            errors.append(
                SheetError(
                    f"given twice (also {first.sheet}, row {first.row})",
                    row.sheet,
                    row.row,
                    "new value",
                    row.field,
                )
            )
            continue
        seen[key] = row
        inputs = _section_inputs(catalog, city_id, row.section)
        change, errs = _check_row(row, inputs, field_table(row.section), accept_outliers)
        errors += errs
        if change is not None:
            changes.append(change)
    if errors:
        raise SheetErrors(path, errors)
    city_file = catalog.params_dir / "cities" / f"{city_id}.yaml"
    result = ImportResult(city_id, city_file, changes, written=False)
    if not changes:
        return result
    label = str(city_file)
    old_text = city_file.read_text(encoding="utf-8")
    old_data, _ = read_yaml(city_file, label)
    new_text = _splice(old_text, changes)
    try:
        new_data = yaml.safe_load(new_text)
    except yaml.YAMLError as exc:
        raise C3Error(
            f"{label}: the edited file would not parse ({exc}); nothing written"
        ) from None
    if not _same(new_data, _expected(old_data, changes)):
        raise C3Error(
            f"{label}: could not place the new values without disturbing the file's layout; "
            "nothing written (edit the file by hand)"
        )
    problems = _validate_with(catalog, city_id, new_text)
    if problems:
        raise SheetErrors(path, problems)
    if dry_run:
        return result
    atomic_write(city_file, new_text)
    log.info("wrote %s (%d values)", city_file, len(changes))
    return ImportResult(city_id, city_file, changes, written=True)
