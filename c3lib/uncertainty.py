"""Monte Carlo uncertainty of an emissions inventory (EMEP/EEA Guidebook Approach 2).

Each inventory line's emission factor and activity carry a lognormal spread whose 95 %
interval is set by the factor's quality rating and the activity's quality flag
(``uncertainty_ratings`` reference table). Draws are seeded and vectorised with numpy.

References
----------
.. [1] Kuenen J., Dore C. (2019) Uncertainties, EMEP/EEA air pollutant emission inventory
   guidebook 2019, Part A, chapter 5, section 6 (Approach 2: Monte Carlo).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from c3lib.exceptions import ReferenceDataError
from c3lib.reference import reference_table

__all__ = ["half_widths", "lognormal_sigma", "line_sigma", "simulate"]


def half_widths() -> dict[tuple[str, str], float]:
    """Half-width of the 95 % interval by (``rating`` or ``quality``, key). [fraction]"""
    t = reference_table("uncertainty_ratings")
    return {(r.kind, r.key): float(r.half_width_95) for r in t.itertuples()}


def lognormal_sigma(half_width: np.ndarray | float) -> np.ndarray:
    """Log-space standard deviation whose 97.5th percentile is (1 + half_width) × median.

    Parameters
    ----------
    half_width : array_like
        Upper half-width of the 95 % interval relative to the median. [fraction]

    Returns
    -------
    numpy.ndarray
        σ of ln(X). [-]

    Notes
    -----
    σ = ln(1 + h) / 1.96.
    """
    return np.log1p(np.asarray(half_width, dtype=float)) / 1.959964


def line_sigma(
    lines: pd.DataFrame,
    input_quality: Mapping[str, str],
    widths: Mapping[tuple[str, str], float] | None = None,
) -> np.ndarray:
    """Combined log-space σ of each line: factor (by rating) and activity (by quality).

    Parameters
    ----------
    lines : pandas.DataFrame
        Inventory lines with ``rating`` and ``input`` columns.
    input_quality : mapping
        Quality flag of each input field; a line without an input (a finished line from
        another module) counts only its rating.
    widths : mapping, optional
        From :func:`half_widths`.

    Raises
    ------
    ReferenceDataError
        A line has a rating or quality the table does not list.
    """
    widths = half_widths() if widths is None else widths
    sig = []
    for r in lines.itertuples():
        try:
            s_ef = lognormal_sigma(widths[("rating", r.rating)])
            q = input_quality.get(r.input) if r.input else None
            s_act = lognormal_sigma(widths[("quality", q)]) if q else 0.0
        except KeyError as exc:
            raise ReferenceDataError(
                f"uncertainty_ratings.csv: no entry for {exc.args[0]}"
            ) from None
        sig.append(float(np.hypot(s_ef, s_act)))
    return np.array(sig)


def simulate(
    lines: pd.DataFrame, sigma: np.ndarray, n_draws: int = 5000, seed: int = 42
) -> pd.DataFrame:
    """95 % intervals by sector and pollutant, and for each pollutant's total.

    Parameters
    ----------
    lines : pandas.DataFrame
        Inventory lines with ``sector``, ``pollutant`` and ``emissions`` [t/yr].
    sigma : numpy.ndarray
        Log-space σ per line (:func:`line_sigma`).
    n_draws : int
        Monte Carlo draws.
    seed : int
        Seed of the random generator (same seed, same result).

    Returns
    -------
    pandas.DataFrame
        Columns ``pollutant``, ``sector`` (``total`` for the city total), ``central``,
        ``low``, ``high`` [t/yr]; central is the sum of the line estimates, each line
        being the median of its lognormal.
    """
    rng = np.random.default_rng(seed)
    e = lines["emissions"].to_numpy(dtype=float)
    draws = e * np.exp(rng.standard_normal((n_draws, len(e))) * sigma)  # (n_draws, n_lines)
    rows = []
    for pol, idx in lines.groupby("pollutant").indices.items():
        groups = {"total": idx}
        groups.update(
            {
                s: idx[lines["sector"].to_numpy()[idx] == s]
                for s in pd.unique(lines["sector"].to_numpy()[idx])
            }
        )
        for sector, cols in groups.items():
            sums = draws[:, cols].sum(axis=1)
            lo, hi = np.percentile(sums, [2.5, 97.5])
            rows.append(
                {
                    "pollutant": pol,
                    "sector": sector,
                    "central": e[cols].sum(),
                    "low": lo,
                    "high": hi,
                }
            )
    return pd.DataFrame(rows)
