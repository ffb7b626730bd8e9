"""Reference tables: a source and a quality flag on every row, and a loud failure otherwise."""

from __future__ import annotations

import pytest

from c3lib import reference
from c3lib.exceptions import ReferenceDataError


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    (tmp_path / "fields").mkdir()
    monkeypatch.setattr(reference, "DATA_DIR", tmp_path)
    reference._read.cache_clear()
    yield tmp_path
    reference._read.cache_clear()


def test_reference_table_ok(data_dir):
    (data_dir / "efs.csv").write_text("pollutant,ef,source,quality\nNOx,1.5,AP-42,official\n")
    assert reference.reference_table("efs")["ef"].tolist() == [1.5]


def test_reference_table_missing_source(data_dir):
    (data_dir / "efs.csv").write_text("pollutant,ef,source,quality\nNOx,1.5,,official\n")
    with pytest.raises(ReferenceDataError, match=r"efs.csv: row\(s\) \[2\] have no source"):
        reference.reference_table("efs")


def test_reference_table_bad_quality(data_dir):
    (data_dir / "efs.csv").write_text("pollutant,ef,source,quality\nNOx,1.5,AP-42,guess\n")
    with pytest.raises(ReferenceDataError, match="quality flag outside"):
        reference.reference_table("efs")


def test_reference_table_missing_file(data_dir):
    with pytest.raises(ReferenceDataError, match="missing"):
        reference.reference_table("nope")


def test_field_table_default_needs_source(data_dir):
    (data_dir / "fields" / "x.csv").write_text(
        "field,unit,minimum,maximum,required,default,scale,default_source,default_note,"
        "description\nspeed_kn,kn,0,40,0,12,,,,speed\n"
    )
    with pytest.raises(ReferenceDataError, match="every default needs a default_source"):
        reference.field_table("x")


def test_check_reference_lists_problems(data_dir):
    (data_dir / "good.csv").write_text("a,source,quality\n1,s,official\n")
    (data_dir / "bad.csv").write_text("a,source,quality\n1,,official\n")
    problems = reference.check_reference()
    assert len([p for p in problems if "bad.csv" in p]) == 1
    assert not [p for p in problems if "good.csv" in p]


def test_check_reference_shipped_data_clean():
    assert reference.check_reference() == []
