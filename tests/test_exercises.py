"""Exercise feedback: right, or what is off, never the solution."""

import pytest

from c3lib.exercises import assess, check


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
