"""Reader labels: one table, shares as percentages, counts as whole numbers."""

from __future__ import annotations

import pandas as pd

from c3lib.kit.labels import for_reader, format_value, header, is_code, kind, label, relabel
from c3lib.reference import reference_table


def test_label_from_table_and_fallback():
    assert label("berth_h") == "Hours at berth [h]"
    assert label("not_a_code") == "not_a_code" and label(3) == 3


def test_labels_table_is_sourced_and_unique():
    df = reference_table("labels")  # the reference rules: source and quality on every row
    assert df["code"].is_unique
    assert set(df["kind"]) <= {"share", "count", "value"}
    assert df["label"].str.strip().ne("").all()


def test_kind_of_field_units():
    assert kind("substitution_car") == "share"  # unit fraction
    assert kind("existing_bikes") == "count"
    assert kind("trip_minutes") == "value"


def test_format_value_by_kind():
    assert format_value(0.12, "share") == "12 %"
    assert format_value(0.1234, "share") == "12.3 %"
    assert format_value(1485000.4, "count") == "1,485,000"
    assert format_value(3.14159) == "3.142"
    assert format_value(float("nan")) == "—"


def test_relabel_index_and_columns():
    df = pd.DataFrame({"berth_h": [4.0]}, index=pd.Index(["vsl"], name="field"))
    out = relabel(df)
    assert list(out.columns) == ["Hours at berth [h]"]
    assert list(out.index) == ["Value of a statistical life [EUR]"]


def test_for_reader_rows_of_named_quantities():
    df = pd.DataFrame(
        {"value": [0.12, 1660.0, 3.58], "unit": ["fraction", "bikes", "km"]},
        index=["car_share", "bikes", "trip_km"],
    )
    out = for_reader(df)
    assert out["Value"].tolist() == ["12 %", "1,660", "3.58"]
    assert out["Unit"].tolist() == ["%", "bikes", "km"]
    assert out.index[0] == "Share of bike trips that replace a car trip [%]"


def test_header_from_table_or_spelled_out():
    assert header("ship_class") == "Ship class"  # in the table
    assert header("anchor_speed_kn") == "Anchor speed [kn]"  # spelled out, unit from suffix
    assert header("tug_hours_total") == "Tug hours total"
    assert header("ship class") == "Ship class" and header("calls/yr") == "calls/yr"
    assert header("Pasig") == "Pasig" and header("PM2.5") == "PM2.5" and header(2025) == 2025


def test_is_code():
    assert is_code("berth_h") and not is_code("Berth") and not is_code(3)


def test_labels_cover_generic_columns():
    assert [label(c) for c in ("field", "value", "unit", "quality", "source")] == [
        "Input", "Value", "Unit", "Quality", "Source",
    ]  # fmt: skip
