"""Data requests: write one for a city, fill it, import it back into the city's params file."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import yaml

from c3lib import datasheet as ds
from c3lib.cli import main
from c3lib.params import load_catalog

NEW = ["New value", "New unit", "New year", "New source", "New quality", "New note"]
SOURCE = "Test statistics yearbook. Test City Statistics Office, 2024. https://example.org/yb"


@pytest.fixture
def catalog(params_dir):
    return load_catalog(params_dir)


def plausible(row) -> float:
    """A new value inside the field's range and within a factor of 2 of the current one."""
    lo = row["minimum"] if row["minimum"] is not None else -math.inf
    hi = row["maximum"] if row["maximum"] is not None else math.inf
    cur = row["value"]
    if math.isfinite(cur) and cur > 0:
        for cand in (cur * 1.5, cur * 0.75, cur):
            if lo <= cand <= hi:
                return cand
    if math.isfinite(lo) and math.isfinite(hi):
        return lo + (hi - lo) / 2
    return max(lo, 0) + 1


def pick(catalog):
    """A city with an own block-style value and an assumed (global) input, and those rows."""
    for city_id in sorted(catalog.cities):
        rows = ds.request_rows(catalog, city_id)
        text = (catalog.params_dir / "cities" / f"{city_id}.yaml").read_text(encoding="utf-8")
        own = rows[(rows["level"] == "city") & rows["value"].gt(0)]
        own = own[[f"  {f}:\n" in text or f"    {f}:\n" in text for f in own["field"]]]
        assumed = rows[rows["level"] == "global"]
        if len(own) and len(assumed):
            return city_id, rows, own.iloc[0], assumed.iloc[0]
    pytest.skip("no city has both an own value and an assumed input")


def locate(wb, row):
    """The worksheet and row number of a request row."""
    ws = wb[ds.sheet_name(row["section"])]
    for r in range(ds.FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, ds._COL["Field"]).value == row["field"]:
            return ws, r
    raise AssertionError(f"{row['field']} not on sheet {ws.title}")


def fill(path: Path, entries: list[tuple], out: Path | None = None) -> Path:
    """Write ``(request row, {column: value})`` entries into a request workbook."""
    wb = openpyxl.load_workbook(path)
    for row, cells in entries:
        ws, r = locate(wb, row)
        for header, value in cells.items():
            ws.cell(r, ds._COL[header], value)
    out = out or path
    wb.save(out)
    return out


def good(value, year=2023, quality="official", note="") -> dict:
    cells = {"New value": value, "New year": year, "New source": SOURCE, "New quality": quality}
    if note:
        cells["New note"] = note
    return cells


def city_yaml(catalog, city_id) -> dict:
    path = catalog.params_dir / "cities" / f"{city_id}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def value_of(data: dict, section: str, field: str) -> dict:
    return data["profile"][field] if section == "profile" else data["activity"][section][field]


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_request_rows_assumed_first(catalog):
    city_id = sorted(catalog.cities)[0]
    rows = ds.request_rows(catalog, city_id)
    assert list(rows["sheet"].drop_duplicates())[0] == "City profile"
    for _, df in rows.groupby("section"):
        ranks = [ds.LEVEL_ORDER[lv] for lv in df["level"]]
        assert ranks == sorted(ranks)


def test_request_sections_action_and_its_reads(catalog):
    aid = next(a.id for a in catalog.actions.values())
    sections = ds.request_sections(catalog, [aid])
    assert sections[0] == "profile"
    assert aid in sections
    with pytest.raises(ds.C3Error, match="unknown action"):
        ds.request_sections(catalog, ["no-such-action"])


def test_write_request_xlsx_protected_and_validated(catalog, tmp_path):
    city_id = sorted(catalog.cities)[0]
    path = ds.write_request(catalog, city_id, tmp_path / "req.xlsx")
    wb = openpyxl.load_workbook(path)
    rows = ds.request_rows(catalog, city_id)
    assert wb.sheetnames[0] == ds.FRONT_SHEET
    assert wb[ds.META_SHEET].sheet_state == "hidden"
    assert wb.security.lockStructure
    for sheet, df in rows.groupby("sheet", sort=False):
        ws = wb[sheet]
        assert ws.protection.sheet
        assert ws.cell(ds.STAMP_ROW, 2).value == city_id
        first = ds.FIRST_ROW
        assert [ws.cell(first + i, 2).value for i in range(len(df))] == list(df["field"])
        assert ws.cell(first, ds._COL["Current value"]).protection.locked
        assert not ws.cell(first, ds._COL["New value"]).protection.locked
        kinds = {dv.type for dv in ws.data_validations.dataValidation}
        assert {"decimal", "whole", "list"} <= kinds
        quality = [dv for dv in ws.data_validations.dataValidation if "official" in dv.formula1]
        assert quality


def test_import_request_writes_values_and_keeps_comments(catalog, tmp_path):
    city_id, rows, own, assumed = pick(catalog)
    path = ds.write_request(catalog, city_id, tmp_path / "req.xlsx")
    city_file = catalog.params_dir / "cities" / f"{city_id}.yaml"
    before_text = city_file.read_text(encoding="utf-8")
    before = city_yaml(catalog, city_id)
    v_own, v_assumed = plausible(own), plausible(assumed)
    fill(
        path,
        [
            (own, good(v_own, note="Checked against the yearbook table 3.1")),
            (assumed, {**good(str(v_assumed), year=2022.0, quality="Secondary"), "New unit": ""}),
        ],
    )
    result = ds.import_request(path, catalog.params_dir)
    assert result.written and len(result.changes) == 2
    after_text = city_file.read_text(encoding="utf-8")
    after = city_yaml(catalog, city_id)
    q = value_of(after, own["section"], own["field"])
    assert q["value"] == pytest.approx(v_own)
    assert (q["level"], q["quality"], q["year"], q["source"]) == ("city", "official", 2023, SOURCE)
    assert q["note"] == "Checked against the yearbook table 3.1"
    q = value_of(after, assumed["section"], assumed["field"])
    assert q["value"] == pytest.approx(v_assumed)
    assert (q["level"], q["quality"], q["year"], q["unit"]) == (
        "city",
        "secondary",
        2022,
        assumed["unit"],
    )
    assert "note" not in q or q["note"] == ""
    assert comments(after_text) == comments(before_text)
    # everything else is as it was, key order included
    for key in before:
        if key not in ("profile", "activity"):
            assert after[key] == before[key]
    assert list(after) == list(before) + [k for k in after if k not in before]
    for name, q in before["profile"].items():
        if not (own["section"] == "profile" and name == own["field"]):
            assert after["profile"][name] == q
    reloaded = load_catalog(catalog.params_dir)  # the file still validates
    assert reloaded.cities[city_id].profile["population"] == catalog.cities[city_id].profile[
        "population"
    ] or ("population" in (own["field"], assumed["field"]))


def test_import_request_dry_run_writes_nothing(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    path = fill(ds.write_request(catalog, city_id, tmp_path / "r.xlsx"), [(own, good(own.value))])
    city_file = catalog.params_dir / "cities" / f"{city_id}.yaml"
    before = city_file.read_bytes()
    result = ds.import_request(path, catalog.params_dir, dry_run=True)
    assert len(result.changes) == 1 and not result.written
    assert city_file.read_bytes() == before


@pytest.mark.parametrize(
    ("case", "cells", "column", "expected"),
    [
        ("text in a number", {"New value": "about 2 million"}, "new value", "is not a number"),
        ("unit", {"New unit": "bananas"}, "new unit", "does not match the field's unit"),
        ("out of range", {"New value": 1e30}, "new value", "out of range"),
        ("no source", {"New source": None}, "new source", "required"),
        ("bad quality", {"New quality": "good"}, "new quality", "not a quality flag"),
        ("bad year", {"New year": "last year"}, "new year", "is not a year"),
    ],
)
def test_import_request_bad_row_named_and_nothing_written(
    catalog, tmp_path, case, cells, column, expected
):
    city_id, rows, own, assumed = pick(catalog)
    path = ds.write_request(catalog, city_id, tmp_path / "r.xlsx")
    fill(path, [(assumed, good(plausible(assumed))), (own, {**good(plausible(own)), **cells})])
    city_file = catalog.params_dir / "cities" / f"{city_id}.yaml"
    before = city_file.read_bytes()
    with pytest.raises(ds.SheetErrors) as info:
        ds.import_request(path, catalog.params_dir)
    assert len(info.value.errors) == 1
    err = info.value.errors[0]
    _, r = locate(openpyxl.load_workbook(path), own)
    assert (err.sheet, err.row, err.column, err.field) == (own["sheet"], r, column, own["field"])
    assert expected in str(err)
    assert str(err).startswith(f"{own['sheet']}, row {r} ({own['field']}), {column}: ")
    assert city_file.read_bytes() == before


def test_import_request_renamed_sheet_refused(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    path = fill(ds.write_request(catalog, city_id, tmp_path / "r.xlsx"), [(own, good(own.value))])
    wb = openpyxl.load_workbook(path)
    wb[own["sheet"]].title = "My data"
    wb.save(path)
    with pytest.raises(ds.SheetErrors, match="renamed") as info:
        ds.import_request(path, catalog.params_dir)
    assert info.value.errors[0].sheet == own["sheet"]
    assert "'My data'" in str(info.value)


def test_import_request_sheet_of_another_city_refused(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    other = next(c for c in sorted(catalog.cities) if c != city_id)
    mine = ds.write_request(catalog, city_id, tmp_path / "mine.xlsx")
    theirs = ds.write_request(catalog, other, tmp_path / "theirs.xlsx")
    other_rows = ds.request_rows(catalog, other)
    other_row = other_rows[other_rows["field"] == own["field"]].iloc[0]
    fill(theirs, [(other_row, good(plausible(other_row)))])
    # the other city's filled sheet pasted over this city's sheet of the same name
    wb, src = openpyxl.load_workbook(mine), openpyxl.load_workbook(theirs)[own["sheet"]]
    ws = wb[own["sheet"]]
    for row in src.iter_rows():
        for c in row:
            ws.cell(c.row, c.column, c.value)
    wb.save(mine)
    before = (catalog.params_dir / "cities" / f"{city_id}.yaml").read_bytes()
    with pytest.raises(ds.SheetErrors, match=f"made for .*{other}") as info:
        ds.import_request(mine, catalog.params_dir)
    assert info.value.errors[0].sheet == own["sheet"]
    assert (catalog.params_dir / "cities" / f"{city_id}.yaml").read_bytes() == before


def test_import_request_older_field_list_refused(catalog, tmp_path, monkeypatch):
    city_id, rows, own, _ = pick(catalog)
    with monkeypatch.context() as m:
        m.setattr(ds, "field_list_hash", lambda inputs: "f-old-field-list")
        path = ds.write_request(catalog, city_id, tmp_path / "r.xlsx")
    fill(path, [(own, good(own.value))])
    with pytest.raises(ds.SheetErrors, match="older field list"):
        ds.import_request(path, catalog.params_dir)


def test_import_request_altered_stamp_refused(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    other = next(c for c in sorted(catalog.cities) if c != city_id)
    path = ds.write_request(catalog, city_id, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    meta = wb[ds.META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "city":
            row[1].value = other
    wb.save(path)
    with pytest.raises(ds.SheetErrors, match="was altered"):
        ds.import_request(path, catalog.params_dir)


def test_import_request_edited_field_name_refused(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    path = fill(ds.write_request(catalog, city_id, tmp_path / "r.xlsx"), [(own, good(own.value))])
    wb = openpyxl.load_workbook(path)
    ws, r = locate(wb, own)
    ws.cell(r, ds._COL["Field"], own["field"] + "_x")
    wb.save(path)
    with pytest.raises(ds.SheetErrors, match="not the field this row was made for"):
        ds.import_request(path, catalog.params_dir)


def test_import_request_outlier_needs_flag(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    big = rows[rows["value"].gt(0) & (rows["value"] * 100 <= rows["maximum"].astype(float))]
    if big.empty:
        pytest.skip("no input whose range allows a value 100 times the current one")
    row = big.iloc[0]
    path = ds.write_request(catalog, city_id, tmp_path / "r.xlsx")
    fill(path, [(row, good(row["value"] * 100))])
    with pytest.raises(ds.SheetErrors, match="--accept-outliers"):
        ds.import_request(path, catalog.params_dir)
    result = ds.import_request(path, catalog.params_dir, accept_outliers=True)
    assert result.changes[0].outlier == pytest.approx(100)
    q = value_of(city_yaml(catalog, city_id), row["section"], row["field"])
    assert q["note"].startswith("Outlier accepted at import")


def test_import_request_csv_round_trip(catalog, tmp_path):
    city_id, rows, own, assumed = pick(catalog)
    path = ds.write_request(catalog, city_id, tmp_path / "r.csv", fmt="csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert [r["Field"] for r in records] == list(rows["field"])
    for rec in records:
        if rec["Field"] == own["field"] and rec["section"] == own["section"]:
            rec.update({k: str(v) for k, v in good(plausible(own)).items()})
        if rec["Field"] == assumed["field"] and rec["section"] == assumed["section"]:
            rec.update({k: str(v) for k, v in good(plausible(assumed), quality="derived").items()})
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ds.CSV_HEADERS, delimiter=";")
        writer.writeheader()
        writer.writerows(records)
    result = ds.import_request(path, catalog.params_dir)
    assert len(result.changes) == 2 and result.written
    after = city_yaml(catalog, city_id)
    assert value_of(after, own["section"], own["field"])["value"] == pytest.approx(plausible(own))
    q = value_of(after, assumed["section"], assumed["field"])
    assert (q["level"], q["quality"]) == ("city", "derived")


def test_import_request_csv_other_city_row_refused(catalog, tmp_path):
    city_id, rows, own, _ = pick(catalog)
    path = ds.write_request(catalog, city_id, tmp_path / "r.csv", fmt="csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    other = next(c for c in sorted(catalog.cities) if c != city_id)
    records[-1].update({"city": other, **{k: str(v) for k, v in good(1).items()}})
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ds.CSV_HEADERS)
        writer.writeheader()
        writer.writerows(records)
    with pytest.raises(ds.SheetErrors, match=f"made for city '{other}'"):
        ds.import_request(path, catalog.params_dir)


def test_splice_every_city_field(catalog):
    """Every own value of every city file is rewritten in place in one go, all else untouched."""
    for city_id, city in catalog.cities.items():
        path = catalog.params_dir / "cities" / f"{city_id}.yaml"
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        changes = [
            ds.Change(
                "s",
                6,
                section,
                name,
                q.value * 1.5,
                q.unit,
                2024,
                SOURCE,
                "official",
                "",
                0,
                "",
                "",
                "",
            )
            for section, values in {"profile": city.profile, **city.activity}.items()
            for name, q in values.items()
        ]
        rows = ds.request_rows(catalog, city_id)
        absent = rows[~rows["level"].isin(["city", "region"])].drop_duplicates("section")
        changes += [
            ds.Change(
                "s",
                6,
                r["section"],
                r["field"],
                plausible(r),
                r["unit"],
                None,
                SOURCE,
                "derived",
                "a new value",
                0,
                "",
                "",
                "",
            )
            for _, r in absent.iterrows()
        ]
        new = ds._splice(text, changes)
        assert ds._same(yaml.safe_load(new), ds._expected(data, changes)), city_id
        assert comments(new) == comments(text)


def test_main_data_request_and_import(catalog, tmp_path, capsys):
    city_id, rows, own, _ = pick(catalog)
    out = tmp_path / "req.xlsx"
    params = str(catalog.params_dir)
    assert main(["data-request", city_id, "--out", str(out), "--params", params]) == 0
    fill(out, [(own, good(plausible(own)))])
    assert main(["data-import", str(out), "--dry-run", "--params", params]) == 0
    printed = capsys.readouterr().out
    assert f"{own['field']}:" in printed and "->" in printed and "dry run" in printed
    assert main(["data-import", str(out), "--params", params]) == 0
    assert "wrote" in capsys.readouterr().out


def test_main_data_import_bad_input_one_line(catalog, tmp_path, capsys):
    city_id, rows, own, _ = pick(catalog)
    out = ds.write_request(catalog, city_id, tmp_path / "req.xlsx")
    fill(out, [(own, good("about 2 million"))])
    assert main(["data-import", str(out), "--params", str(catalog.params_dir)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is not a number" in err
    assert "Traceback" not in err
    not_a_workbook = tmp_path / "junk.xlsx"
    not_a_workbook.write_text("hello", encoding="utf-8")
    assert main(["data-import", str(not_a_workbook), "--params", str(catalog.params_dir)]) == 2
    assert main(["data-import", str(tmp_path / "none.xlsx")]) == 2
    assert main(["data-request", "no-such-city", "--out", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown city" in err


def soffice_or_skip() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        reason = "LibreOffice not found: apt-get install libreoffice-calc-nogui"
        if os.environ.get("C3_REQUIRE_BROWSER") == "1":
            pytest.fail(f"C3_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return exe


def test_import_request_libreoffice_round_trip(catalog, tmp_path):
    exe = soffice_or_skip()
    city_id, rows, own, assumed = pick(catalog)
    path = ds.write_request(catalog, city_id, tmp_path / "req.xlsx")
    fill(path, [(own, good(plausible(own))), (assumed, good(plausible(assumed)))])
    out = tmp_path / "lo"
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [exe, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx"]
        + ["--outdir", str(out), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    saved = out / "req.xlsx"
    assert saved.is_file() and saved.read_bytes() != path.read_bytes()
    result = ds.import_request(saved, catalog.params_dir)
    assert len(result.changes) == 2 and result.written
    after = city_yaml(catalog, city_id)
    q = value_of(after, own["section"], own["field"])
    assert q["value"] == pytest.approx(plausible(own))
    assert (q["level"], q["year"], q["source"]) == ("city", 2023, SOURCE)


def test_build_after_import_reruns_only_targets_of_that_city(catalog, tmp_path):
    """An import changes one city's file; the next build re-runs only what reads it."""
    from c3lib.build.batch import build
    from c3lib.build.plan import plan
    from tests.conftest import make_notebook

    nbs = tmp_path / "nbs"
    action = "emissions-inventory"
    make_notebook(nbs / catalog.actions[action].notebook, "x = 1")
    out = tmp_path / "out"

    def run_all():
        cat = load_catalog(catalog.params_dir)
        specs = plan(cat, out, actions=[action], notebooks_dir=nbs)
        return {r.pair: r.status for r in build(specs, jobs=1)}

    assert set(run_all().values()) == {"ok"}
    city_id, rows, own, _ = pick(catalog)
    path = ds.write_request(catalog, city_id, tmp_path / "req.xlsx")
    ds.import_request(fill(path, [(own, good(plausible(own)))]), catalog.params_dir)
    again = run_all()
    reads = {p.id for p in catalog.pairs.values() if city_id in (p.mentor, p.learning)}
    assert reads and {p for p, s in again.items() if s == "ok"} == reads
    assert all(s == "cached" for p, s in again.items() if p not in reads)


def test_build_writes_the_learning_city_request_and_links_it(catalog, tmp_path):
    from c3lib.build.site import write_index
    from c3lib.build.store import request_path

    pair = next(iter(catalog.pairs.values()))
    (path,) = ds.write_pair_requests(catalog, tmp_path, [pair.id])
    assert path == request_path(tmp_path, pair.id, pair.learning) and path.is_file()
    assert ds.write_pair_requests(catalog, tmp_path, [pair.id]) == []  # up to date: untouched
    index = write_index(catalog, tmp_path).read_text(encoding="utf-8")
    assert f'href="{pair.id}/data-request-{pair.learning}.xlsx"' in index
