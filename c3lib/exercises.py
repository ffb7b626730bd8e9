"""Feedback on a learner's answer to an exercise, without revealing the solution."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

__all__ = ["Feedback", "assess", "check"]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer."""

    status: str  # "right", "off", "missing" or "invalid"
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "right"

    def _repr_html_(self) -> str:
        mark = {"right": "✔", "off": "✘", "missing": "…", "invalid": "✘"}[self.status]
        return (
            f'<div class="c3-feedback c3-feedback-{self.status}">'
            f"{mark} {html.escape(self.message)}</div>"
        )

    def __repr__(self) -> str:
        return self.message


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
        ``right`` within tolerance; otherwise the direction and rough size of the error
        (within 2×, or a power of ten that suggests a unit slip), never the value.
    """
    in_unit = f" [{unit}]" if unit else ""
    if answer is None:
        return Feedback("missing", f"No answer yet: set `answer`{in_unit} in the exercise cell.")
    try:
        a = float(answer)
    except (TypeError, ValueError):
        return Feedback("invalid", f"The answer should be a number{in_unit}, got {answer!r}.")
    if not math.isfinite(a):
        return Feedback("invalid", f"The answer should be a finite number{in_unit}.")
    e = float(expected)
    if math.isclose(a, e, rel_tol=rel_tol, abs_tol=1e-12):
        return Feedback("right", f"Right, within ±{rel_tol:.0%}.")
    if e != 0 and a != 0 and (a > 0) != (e > 0):
        msg = "Not yet: the sign is wrong."
    elif e == 0 or a == 0:
        msg = "Not yet: check whether the answer should be zero."
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


def check(
    answer, expected: float, *, rel_tol: float = 0.05, unit: str = "", hint: str = ""
) -> Feedback:
    """Feedback for a notebook cell: :func:`assess`, shown when it is the cell's last value."""
    return assess(answer, expected, rel_tol=rel_tol, unit=unit, hint=hint)
