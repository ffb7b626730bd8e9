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
