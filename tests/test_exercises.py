"""Exercise feedback: right, or what is off, never the solution."""

import numpy as np
import pandas as pd
import pytest

from c3lib.exceptions import C3Error
from c3lib.kit.exercises import assess, check, without_commas


def test_assess_right_within_tolerance():
    # 102 vs 100 is 2 % off, inside the default 5 %
    assert assess(102, 100).status == "right"


def test_assess_missing_answer():
    fb = assess(None, 100, unit="t/yr")
    assert fb.status == "missing" and "[t/yr]" in fb.message


def test_assess_not_a_number():
    assert assess("lots", 100).status == "invalid"


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (150, "too high (within a factor of 2)"),
        (60, "too low (within a factor of 2)"),
        (500, "too high by more than a factor of 2"),
        (100_000, "10^3 times too high; check the units"),
        (-100, "sign is wrong"),
    ],
)
def test_assess_off_says_direction_not_value(answer, phrase):
    fb = assess(answer, 100, hint="count both engines")
    assert fb.status == "off"
    assert phrase in fb.message and "count both engines" in fb.message
    assert "100" not in fb.message.replace("10^3", "")


def test_check_renders_html_escaped():
    html = check(1, 2, hint="<b>x</b>")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_assess_zero_solution_gives_direction_only():
    # expected 0 (e.g. no seaport): "too high" but nothing that sizes the answer
    fb = assess(5, 0)
    assert fb.status == "off" and fb.message == "Not yet: too high."
    assert assess(-5, 0).message == "Not yet: too low."
    assert "zero" not in fb.message


def test_assess_zero_answer_to_nonzero_solution():
    fb = assess(0, 100)
    assert fb.status == "off" and fb.message == "Not yet: the answer is not zero."


def test_assess_zero_both_right():
    assert assess(0, 0).status == "right"


@pytest.mark.parametrize("expected", [float("nan"), float("inf"), None])
def test_assess_missing_solution_unchecked(expected):
    # a pair whose input is missing: say so, never a misleading verdict or a crash
    fb = assess(5, expected)
    assert fb.status == "unchecked" and "cannot be checked" in fb.message
    assert "?" in fb._repr_html_()


def test_assess_bool_answer_invalid():
    assert assess(True, 1).status == "invalid"


def test_assess_infinite_answer_invalid():
    assert assess(float("inf"), 100).status == "invalid"


def test_assess_one_element_series_accepted():
    # a learner's `df.loc[mask, "t/yr"]` with one row: 98 vs 100 is 2 % off
    assert assess(pd.Series([98.0]), 100).status == "right"
    assert assess(np.array([[98.0]]), np.float64(100)).status == "right"


def test_assess_many_values_invalid():
    fb = assess(pd.Series([1.0, 2.0]), 100, unit="t/yr")
    assert fb.status == "invalid" and "[t/yr]" in fb.message


@pytest.mark.parametrize(("answer", "expected"), [(97, 100), (-103, -100), (0.0204, 0.02)])
def test_assess_right_never_shows_solution(answer, expected):
    fb = assess(answer, expected, rel_tol=0.05)
    assert fb.correct and fb.message == "Right, within ±5%."


@pytest.mark.parametrize("answer", [1e-3, 0.3, 0.9, 1.2, 3, 40, 7e4, -2])
def test_assess_off_message_never_contains_solution(answer):
    # a distinctive solution value, in every spelling a message could use
    expected = 123.456
    fb = check(answer, expected, unit="t/yr", hint="multiply by the fleet size")
    assert fb.status == "off"
    for spelling in ("123", "1.23e", "1.2346e"):
        assert spelling not in fb.message and spelling not in fb._repr_html_()


def test_check_is_assess():
    assert check(150, 100, rel_tol=0.6) == assess(150, 100, rel_tol=0.6)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [((1, 485, 0), "1485000"), ((1, 485, 500), "1485500"), ((12, 5), "12005")],
)
def test_assess_tuple_answer_asks_for_no_commas(typed, meant):
    # `answer = 1,485,000` is the tuple (1, 485, 0): each group after the first is 3 digits
    fb = assess(typed, 1485000)
    assert fb.status == "invalid"
    assert fb.message == f"Write the number without commas: {meant}."


def test_without_commas_not_a_thousands_tuple():
    assert without_commas((1.5, 2)) is None and without_commas(("a", 1)) is None
    assert without_commas(1485000) is None


def test_check_legacy_form_still_compares_two_numbers():
    assert check(102, 100).status == "right"


def test_check_unknown_exercise_id():
    with pytest.raises(C3Error, match="unknown exercise 'nope/nothing'"):
        check("nope/nothing", 1.0, None)
