"""Feedback on a learner's answer to an exercise, without revealing the solution.

A workbook names its exercise (an id of :data:`c3lib.kit.answers.EXERCISES`):
:func:`show_givens` displays what the learner works from and :func:`check` looks the
expected value up inside c3lib, so no cell shows the formula.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Feedback", "assess", "check", "show_givens", "without_commas"]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer."""

    status: str  # "right", "off", "missing", "invalid" or "unchecked"
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "right"

    def _repr_html_(self) -> str:
        mark = {"right": "✔", "off": "✘", "missing": "…", "invalid": "✘", "unchecked": "?"}[
            self.status
        ]
        return (
            f'<div class="c3-feedback c3-feedback-{self.status}">'
            f"{mark} {html.escape(self.message)}</div>"
        )

    def __repr__(self) -> str:
        return self.message


def _number(value) -> float | None:
    """``value`` as a float: a plain number or a one-element array or Series; else None."""
    if isinstance(value, bool | str | bytes):
        return None
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def without_commas(answer) -> str | None:
    """The number a tuple answer was meant to be (``1,485,000`` → ``"1485000"``), else None.

    Python reads ``answer = 1,485,000`` as the tuple ``(1, 485, 0)``; each group after the
    first stands for three digits.
    """
    if not isinstance(answer, tuple) or len(answer) < 2:
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in answer):
        return None
    if any(x < 0 for x in answer[1:]) or not all(float(x).is_integer() for x in answer[:-1]):
        return None
    head, *middle, last = answer
    text = str(int(head)) + "".join(f"{int(x):03d}" for x in middle)
    whole = int(last)
    frac = f"{last:g}"[len(str(whole)) :] if not float(last).is_integer() else ""
    return text + f"{whole:03d}" + frac


def assess(
    answer, expected: float, rel_tol: float = 0.05, unit: str = "", hint: str = ""
) -> Feedback:
    """Compare an answer with the expected value and say what is off, not what is right.

    Parameters
    ----------
    answer : float or None
        The learner's answer. [unit]
    expected : float
        The solution. [unit]
    rel_tol : float, optional
        Accepted relative difference. [-]
    unit : str, optional
        Unit the answer should be in, used in messages.
    hint : str, optional
        Shown when the answer is off.

    Returns
    -------
    Feedback
        ``right`` within tolerance; ``off`` with the direction and rough size of the error
        (within 2×, or a power of ten that suggests a unit slip), never the value, and
        only the direction when the solution is zero; ``missing`` or ``invalid`` for no
        answer or one that is not a single number; ``unchecked`` when ``expected`` is
        not a finite number (a missing input for this pair).
    """
    in_unit = f" [{unit}]" if unit else ""
    if answer is None:
        return Feedback("missing", f"No answer yet: set `answer`{in_unit} in the exercise cell.")
    joined = without_commas(answer)
    if joined is not None:
        return Feedback("invalid", f"Write the number without commas: {joined}.")
    a = _number(answer)
    if a is None:
        return Feedback("invalid", f"The answer should be a number{in_unit}, got {answer!r}.")
    if not math.isfinite(a):
        return Feedback("invalid", f"The answer should be a finite number{in_unit}.")
    e = _number(expected)
    if e is None or not math.isfinite(e):
        return Feedback(
            "unchecked",
            "This answer cannot be checked for this pair: an input it needs is missing "
            "(see the assumptions and data gaps).",
        )
    if math.isclose(a, e, rel_tol=rel_tol, abs_tol=1e-12):
        return Feedback("right", f"Right, within ±{rel_tol:.0%}.")
    if e != 0 and a != 0 and (a > 0) != (e > 0):
        msg = "Not yet: the sign is wrong."
    elif a == 0:
        msg = "Not yet: the answer is not zero."
    elif e == 0:  # any size hint would give the answer away
        msg = f"Not yet: too {'high' if a > e else 'low'}."
    else:
        ratio = a / e
        direction = "high" if ratio > 1 else "low"
        decades = round(math.log10(abs(ratio)))
        if abs(decades) >= 3:
            msg = (
                f"Not yet: about 10^{abs(decades)} times too {direction}; check the units{in_unit}."
            )
        elif 0.5 <= ratio <= 2:
            msg = f"Not yet: close, but too {direction} (within a factor of 2)."
        else:
            msg = f"Not yet: too {direction} by more than a factor of 2."
    return Feedback("off", f"{msg} Hint: {hint}" if hint else msg)


def check(exercise, answer=None, case=None, /, **kwargs) -> Feedback:
    """Feedback for a notebook cell, shown when it is the cell's last value.

    Two forms:

    - ``check("bike-sharing/car-km-first-phase", answer, case, plan=plan)``: the expected
      value, unit, tolerance and hint come from the registered exercise
      (:data:`c3lib.kit.answers.EXERCISES`); further keywords are the objects the
      exercise needs from the workbook.
    - ``check(answer, expected, rel_tol=..., unit=..., hint=...)``: :func:`assess`.

    Raises
    ------
    C3Error
        An exercise id that is not registered.
    """
    from c3lib.kit.answers import EXERCISES, work

    if isinstance(exercise, str) and (exercise in EXERCISES or "/" in exercise):
        spec, worked = work(exercise, case, **kwargs)
        return assess(answer, worked.expected, rel_tol=spec.rel_tol, unit=spec.unit, hint=spec.hint)
    options = {k: kwargs[k] for k in ("rel_tol", "unit", "hint") if k in kwargs}
    return assess(exercise, answer, **options)


def show_givens(exercise_id: str, case, **settings) -> None:
    """Display the givens of a registered exercise: a table with reader labels and a note."""
    from IPython.display import display

    from c3lib.kit.answers import work
    from c3lib.kit.casestudy import table_html
    from c3lib.kit.labels import for_reader

    _, worked = work(exercise_id, case, **settings)
    table = for_reader(worked.givens)
    body = table_html(table, caption=worked.caption)
    if worked.note:
        body += f'<p class="c3-exercise-note">{html.escape(worked.note)}</p>'
    text = f"{worked.caption}\n{table.to_string()}\n{worked.note}"
    display({"text/html": body, "text/plain": text}, raw=True)
