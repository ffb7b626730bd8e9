"""Case-study building blocks: steps, inputs, assumptions, the record, escaping."""

from __future__ import annotations

import pandas as pd
import pytest

from c3lib.exceptions import C3Error, ParamsError
from c3lib.kit import casestudy as cs
from c3lib.params import load_catalog
from tests.conftest import PARAMS, edit_yaml


def first_pair(params) -> str:
    """A pair of the params folder (its first), so the tests hold for any params folder."""
    return next(iter(load_catalog(params).pairs))


@pytest.fixture
def case():
    return cs.load_case(first_pair(PARAMS), "bike-sharing", str(PARAMS))


@pytest.fixture
def shipped_case():
    """The shipped Pasig–Taipei pair: for the tests of its own data."""
    return cs.load_case("pasig-taipei", "bike-sharing", str(PARAMS))


def metrics(case, **extra):
    row = {"city": case.learning.id, "metric": "avoided_emissions", "value": 1.5, "unit": "t/yr"}
    return pd.DataFrame([{**row, **extra}])


def test_load_case_roles(case):
    pair = load_catalog(PARAMS).pairs[case.pair.id]
    assert case.mentor.id == pair.mentor and case.learning.id == pair.learning
    assert case.is_focus == any(f.action == "bike-sharing" for f in pair.focus)


def test_load_case_roles_shipped_pair(shipped_case):
    assert shipped_case.mentor.id == "taipei" and shipped_case.learning.id == "pasig"
    assert shipped_case.is_focus


def test_load_case_unknown_pair():
    with pytest.raises(ParamsError, match="unknown pair 'pasig-taipie'"):
        cs.load_case("pasig-taipie", "bike-sharing", str(PARAMS))


def test_steps_table_defaults_to_not_started_shipped_pair(shipped_case):
    case = shipped_case
    steps = cs.steps_table(case)
    assert list(steps["id"]) == [s.id for s in case.action.steps]
    assert steps.set_index("id").loc["goals", "status"] == "in-progress"
    assert (steps.set_index("id").drop("goals")["status"] == "not-started").all()


def test_context_table_density_shipped_pair(shipped_case):
    table = cs.context_table(shipped_case)
    # Pasig: 803,159 persons / 48.46 km2 = 16,573.7 persons/km2
    assert table.loc["Population density", "learning"] == "16,574 persons/km2"
    assert table.loc["Population density", "learning quality"] == "derived, city"


def test_assumptions_lists_defaults_and_extras():
    inputs = pd.DataFrame(
        [
            {
                "role": "learning",
                "city": "pasig",
                "field": "a",
                "value": 1.0,
                "unit": "u",
                "source": "s1",
                "quality": "assumed",
                "note": "per-capita default",
                "own": False,
            },
            {
                "role": "learning",
                "city": "pasig",
                "field": "b",
                "value": 2.0,
                "unit": "u",
                "source": "s2",
                "quality": "official",
                "note": "",
                "own": True,
            },
        ]
    )
    extra = [
        {
            "city": "pair",
            "input": "speed",
            "value": 14,
            "unit": "km/h",
            "basis": "HEAT default",
            "source": "s3",
        }
    ]
    out = cs.assumptions(inputs, extra)
    assert list(out["input"]) == ["a", "speed"]
    assert out.iloc[0]["basis"] == "per-capita default"


def test_sources_dedup_in_order():
    a = pd.DataFrame({"source": ["x", "y", "x", ""]})
    assert cs.sources(a, [pd.DataFrame({"source": ["z", "y"]})], extra=["w"]) == [
        "x",
        "y",
        "z",
        "w",
    ]


def test_record_adds_pair_assumptions_and_action_sources(case):
    rec = cs.record(case, metrics(case, pollutant="PM2.5"), cs.assumptions(cs.inputs(case)), ["s"])
    assert rec["pair"] == case.pair.id and rec["action"] == "bike-sharing"
    assert rec["metrics"][0] == {
        "city": case.learning.id,
        "metric": "avoided_emissions",
        "value": 1.5,
        "unit": "t/yr",
        "pollutant": "PM2.5",
    }
    assert rec["assumptions"][0]["input"] == "roles"
    assert rec["sources"][0] == "s" and case.action.sources[0] in rec["sources"]


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"metric": "Avoided Emissions"}, "snake case"),
        ({"value": float("nan")}, "not finite"),
    ],
)
def test_record_rejects_bad_metrics(case, bad, match):
    with pytest.raises(C3Error, match=match):
        cs.record(case, metrics(case, **bad), cs.assumptions(cs.inputs(case)), [])


def test_show_context_escapes_params_strings(params_dir, capsys):
    pid = first_pair(params_dir)
    learning = load_catalog(params_dir).pairs[pid].learning
    edit_yaml(
        params_dir / f"cities/{learning}.yaml", lambda d: d.update(name="<script>alert(1)</script>")
    )
    case = cs.load_case(pid, "bike-sharing", str(params_dir))
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    formatted = []
    shell.display_pub.publish = lambda data, **kw: formatted.append(data)
    cs.show_context(case)
    html = formatted[0]["text/html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_table_html_escapes_and_captions():
    html = cs.table_html(pd.DataFrame({"city": ["<b>x</b>"]}), caption="A & B")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<caption>A &amp; B</caption>" in html


@pytest.mark.parametrize(
    ("value", "text"),
    [(16562.0, "16,562"), (12.3456, "12.35"), (0.000123, "0.000123"), (2.5e13, "2.5e+13")],
)
def test_format_number(value, text):
    assert cs.format_number(value) == text


def test_record_keeps_headline_flag(case):
    df = pd.concat(
        [metrics(case, headline=True), metrics(case, metric="bikes_needed", headline=False)]
    )
    rec = cs.record(case, df, cs.assumptions(cs.inputs(case)), [])
    assert rec["metrics"][0]["headline"] is True
    assert "headline" not in rec["metrics"][1]


def cells_of(html: str) -> list[list[tuple[str, str, str]]]:
    """Each body row of the first table in ``html`` as (tag, class, text) per cell."""
    from bs4 import BeautifulSoup

    table = BeautifulSoup(html, "html.parser").find("table")
    return [
        [(c.name, " ".join(c.get("class", [])), c.get_text()) for c in tr.find_all(["th", "td"])]
        for tr in table.tbody.find_all("tr")
    ]


def test_table_html_reader_labels_no_row_numbers():
    from bs4 import BeautifulSoup

    df = pd.DataFrame({"field": ["berth_h"], "value": [4.25], "unit": ["h"]})
    soup = BeautifulSoup(cs.table_html(df), "html.parser")
    assert [th.get_text() for th in soup.thead.find_all("th")] == ["Input", "Value", "Unit"]
    # no 0…N index column; the code in a field column reads as its label
    assert cells_of(str(soup)) == [
        [
            ("td", "c3-text", "Hours at berth [h]"),
            ("td", "c3-num", "4.25"),
            ("td", "c3-text", "h"),
        ]
    ]


def test_table_html_named_index_is_a_row_heading():
    df = pd.DataFrame({"value": [0.12]}, index=pd.Index(["substitution_car"], name="field"))
    (row,) = cells_of(cs.table_html(df))
    # a share row reads as a percentage: 0.12 → 12 %
    assert row == [("th", "", "Share of bike-share trips that replace a car trip [%]"),
                   ("td", "c3-num", "12 %")]  # fmt: skip


def test_table_html_formats_by_kind():
    df = pd.DataFrame(
        {
            "existing_bikes": [328.6, 1660.0],  # a count: whole numbers
            "substitution_car": [0.125, 0.3],  # a share: percentages
            "year": [2019.0, 2023.0],  # years: no thousands separator
            "trips": [12.0, 1485000.0],  # whole values: no decimals
            "speed_kn": [11.123456, float("nan")],  # else 4 significant figures; — for NaN
        }
    )
    html = cs.table_html(df)
    assert [[c[2] for c in row] for row in cells_of(html)] == [
        ["329", "12.5 %", "2019", "12", "11.12"],
        ["1,660", "30 %", "2023", "1,485,000", "—"],
    ]
    assert cs.NOT_ESTIMATED_NOTE in html


def test_table_html_no_note_without_missing_values():
    assert "c3-table-note" not in cs.table_html(pd.DataFrame({"a": [1.0]}))


def test_table_html_long_table_folds_after_top_rows():
    from bs4 import BeautifulSoup

    n = cs.LONG_TABLE_ROWS + 5
    soup = BeautifulSoup(cs.table_html(pd.DataFrame({"x": range(n)}), "Long"), "html.parser")
    first, rest = soup.find_all("table")
    assert len(first.tbody.find_all("tr")) == cs.TABLE_TOP_ROWS
    more = soup.find("details", class_="c3-more")
    assert more.summary.get_text() == f"Show all {n} rows ({n - cs.TABLE_TOP_ROWS} more)"
    assert rest in more.find_all("table") and len(rest.tbody.find_all("tr")) == n - 10
    assert rest.tbody.tr.td.get_text() == str(cs.TABLE_TOP_ROWS)  # row 11 holds x = 10


def test_table_html_short_table_not_folded():
    html = cs.table_html(pd.DataFrame({"x": range(cs.LONG_TABLE_ROWS)}))
    assert "<details" not in html


def test_table_html_scrolls_in_marked_region_and_marks_wide_tables():
    from bs4 import BeautifulSoup

    wide = pd.DataFrame([range(cs.WIDE_TABLE_COLUMNS + 1)], columns=list("abcdefgh")[:6])
    soup = BeautifulSoup(cs.table_html(wide, "Wide"), "html.parser")
    box = soup.find("div", class_="c3-table-scroll")
    assert box["role"] == "region" and box["tabindex"] == "0" and box["aria-label"] == "Wide"
    assert "c3-wide" in box.table["class"]


def test_table_html_two_level_columns_span():
    from bs4 import BeautifulSoup

    df = pd.concat(
        {"Pasig": pd.DataFrame({"a": [1.0], "b": [2.0]}), "Taipei": pd.DataFrame({"a": [3.0]})},
        axis=1,
    )
    top, sub = BeautifulSoup(cs.table_html(df), "html.parser").thead.find_all("tr")
    assert [(th.get_text(), th.get("colspan")) for th in top.find_all("th")] == [
        ("Pasig", "2"), ("Taipei", None),
    ]  # fmt: skip
    assert [th.get_text() for th in sub.find_all("th")] == ["a", "b", "a"]


def test_show_table_appendix_flags_output_and_folds_it():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: published.append((data, metadata))
    cs.show_table(pd.DataFrame({"a": [1]}), "Factors", appendix=True)
    cs.show_table(pd.DataFrame({"a": [1]}), "Body table")
    (ref, ref_meta), (body, body_meta) = published
    assert ref_meta == cs.APPENDIX_METADATA and not body_meta
    assert ref["text/html"].startswith('<details class="c3-reference"><summary>Factors</summary>')
    assert "<details" not in body["text/html"]


def test_show_table_fold_keeps_the_table_in_the_body_folded():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: published.append((data, metadata))
    cs.show_table(pd.DataFrame({"a": [1.5]}), "Measures", fold="The 1 measure, <with> sources")
    ((data, metadata),) = published
    assert not metadata  # stays in the body
    html = data["text/html"]
    assert html.startswith(
        '<details class="c3-fold"><summary>The 1 measure, &lt;with&gt; sources</summary>'
    )
    assert "<caption>Measures</caption>" in html and "1.5" in html  # the table, whole


def test_table_html_turns_a_wide_short_table():
    from bs4 import BeautifulSoup

    n = cs.TRANSPOSE_COLUMNS + 1
    df = pd.DataFrame([[float(i) for i in range(n)]], columns=[f"x{i}_kn" for i in range(n)])
    soup = BeautifulSoup(cs.table_html(df), "html.parser")
    # one row of nine columns reads as nine rows, each headed by its column's label
    assert [tr.th.get_text() for tr in soup.tbody.find_all("tr")] == [
        f"X{i} [kn]" for i in range(n)
    ]
    assert [td.get_text() for td in soup.tbody.find_all("td")] == [str(i) for i in range(n)]


def test_table_html_keeps_a_wide_long_table():
    df = pd.DataFrame([[1.0] * 9] * 6, columns=list("abcdefghi"))
    html = cs.table_html(df)
    assert "c3-wide" in html and html.count("<tr>") == 7  # header and six rows, not turned


def test_record_inputs_are_those_the_models_use(params_dir):
    """A city with no seaport uses none of its port settings, so the record lists only
    ``has_seaport``; restaurants by type come from a sourced total as the model splits it,
    in the inputs every table reads as in the record."""
    from c3lib.topics.cooking.model import RESTAURANT_TYPES

    pair = load_catalog(params_dir).pairs[first_pair(params_dir)]
    fast_food = {
        "value": 120,
        "unit": "restaurants",
        "year": 2020,
        "source": "S1",
        "quality": "official",
    }
    total = {
        "value": 1000,
        "unit": "restaurants",
        "year": 2021,
        "source": "S2",
        "quality": "official",
        "level": "region",
    }
    no_port = {"value": 0, "unit": "flag", "year": None, "source": "S3", "quality": "official"}

    def change(doc):
        activity = doc.setdefault("activity", {})
        cooking = activity.setdefault("commercial-cooking", {})
        for t in RESTAURANT_TYPES:
            cooking.pop(f"{t}_restaurants", None)
        cooking.update(fast_food_restaurants=fast_food, restaurants_total=total)
        activity.setdefault("port-operations", {})["has_seaport"] = no_port

    edit_yaml(params_dir / "cities" / f"{pair.learning}.yaml", change)
    case = cs.load_case(pair.id, "emissions-inventory", str(params_dir))
    records = [r for r in cs.input_records(case) if r["city"] == pair.learning]
    port = [r["field"] for r in records if r["section"] == "port-operations"]
    assert port == ["has_seaport"]
    counts = {r["field"]: r for r in records if r["field"].endswith("_restaurants")}
    assert counts["fast_food_restaurants"]["value"] == 120
    assert counts["fast_food_restaurants"]["level"] == "city"
    others = [counts[f"{t}_restaurants"] for t in RESTAURANT_TYPES if t != "fast_food"]
    assert sum(r["value"] for r in others) == pytest.approx(880)
    assert {(r["level"], r["quality"], r["year"], r["source"]) for r in others} == {
        ("region", "derived", 2021, "S2")
    }
    table = cs.inputs(case, "commercial-cooking")
    shown = table[(table["city"] == pair.learning) & table["field"].str.endswith("_restaurants")]
    assert shown["value"].sum() == pytest.approx(1000)
    assert "shared over the types" in shown.set_index("field").at["family_restaurants", "note"]


def test_inputs_section_read_from_another_action():
    """A section another workbook owns reads the same from the case at hand as from its own.

    The inventory workbook takes the port and cooking inputs from its own case instead of
    loading (and validating) the params folder once more for each.
    """
    pair = first_pair(PARAMS)
    case = cs.load_case(pair, "emissions-inventory", str(PARAMS))
    assert {"port-operations", "commercial-cooking"} <= set(case.action.reads)
    for section in case.action.reads:
        own = cs.inputs(cs.load_case(pair, section, str(PARAMS)))
        borrowed = cs.inputs(case, section)
        assert not borrowed.empty
        pd.testing.assert_frame_equal(borrowed, own)
        assert set(borrowed["city"]) == {case.mentor.id, case.learning.id}
