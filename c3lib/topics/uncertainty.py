"""Monte Carlo uncertainty of an emissions inventory (EMEP/EEA Guidebook Approach 2).

Every input field and every emission factor gets a lognormal multiplier with median 1,
whose 95 % interval comes from an uncertainty specification: an EMEP/EEA-style rating
letter ``A``–``E``, a quality flag (``official`` … ``assumed``) for activity data, or an
explicit ``±N%`` half-width (``uncertainty_ratings`` reference table for the first two).
An input used by several lines (a fleet count feeds its fuel and the road-dust vehicle-km),
and a factor used by several lines (one gaseous-fuel factor for natural gas and LPG), is
drawn once per draw, so the lines that share it move together. Draws are seeded and
vectorised with numpy.

References
----------
.. [1] Kuenen J., Dore C. (2019) Uncertainties, EMEP/EEA air pollutant emission inventory
   guidebook 2019, Part A, chapter 5, section 6 (Approach 2: Monte Carlo).
.. [2] IPCC (2006) Guidelines for National Greenhouse Gas Inventories, Vol. 1, Ch. 3
   Uncertainties, Approach 2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from c3lib.exceptions import ReferenceDataError
from c3lib.reference import reference_table

__all__ = [
    "Z95",
    "half_width",
    "lognormal_sigma",
    "lognormal_multipliers",
    "split_inputs",
    "simulate",
]

#: standard normal quantile of the 97.5th percentile
Z95 = 1.959964
_PERCENT = re.compile(r"^\s*±\s*(\d+(?:\.\d+)?)\s*%\s*$")


def half_width(spec: str, table: pd.DataFrame | None = None) -> float:
    """Upper half-width of the 95 % interval for an uncertainty specification.

    Parameters
    ----------
    spec : str
        A rating letter (``A``–``E``), a quality flag (``official``, ``secondary``,
        ``derived``, ``assumed``) or ``±N%``.
    table : pandas.DataFrame, optional
        The ``uncertainty_ratings`` reference table.

    Returns
    -------
    float
        Half-width relative to the median. [fraction]

    Raises
    ------
    ReferenceDataError
        The specification is neither ``±N%`` nor in the table.
    """
    match = _PERCENT.match(str(spec))
    if match:
        return float(match.group(1)) / 100.0
    t = reference_table("uncertainty_ratings") if table is None else table
    hit = t.loc[t["key"] == spec, "half_width_95"]
    if hit.empty:
        raise ReferenceDataError(
            f"uncertainty_ratings.csv: no rating or quality flag {spec!r} (nor a ±N% value)"
        )
    return float(hit.iloc[0])


def lognormal_sigma(half_width: np.ndarray | float) -> np.ndarray:
    """Log-space standard deviation whose 97.5th percentile is (1 + h) × median.

    Parameters
    ----------
    half_width : array_like
        Upper half-width h of the 95 % interval relative to the median. [fraction]

    Returns
    -------
    numpy.ndarray
        σ of ln(X). [-]

    Notes
    -----
    σ = ln(1 + h) / 1.96.
    """
    return np.log1p(np.asarray(half_width, dtype=float)) / Z95


def lognormal_multipliers(
    sigma: np.ndarray, n_draws: int, rng: int | np.random.Generator
) -> np.ndarray:
    """Lognormal multipliers with median 1.

    Parameters
    ----------
    sigma : array_like
        Log-space σ of each variable. [-]
    n_draws : int
        Number of draws. [-]
    rng : int or numpy.random.Generator
        Seed or generator (same seed, same draws).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_draws, len(sigma))``. [-]

    Notes
    -----
    m = exp(σ · z), z ~ N(0, 1).
    """
    gen = np.random.default_rng(rng)
    sig = np.atleast_1d(np.asarray(sigma, dtype=float))
    return np.exp(gen.standard_normal((n_draws, sig.size)) * sig)


def split_inputs(inputs: str | float | None) -> list[str]:
    """The input fields a line depends on, from its ``;``-separated ``inputs`` text.

    Parameters
    ----------
    inputs : str or None
        A line's ``inputs`` (NaN or None for a line without inputs).

    Returns
    -------
    list of str
        Field names, blanks dropped.
    """
    if not isinstance(inputs, str):
        return []
    return [f.strip() for f in inputs.split(";") if f.strip()]


def _activity_spec(quality) -> str:
    # an input without a quality flag, or one flagged missing, is as uncertain as an assumed one
    if not isinstance(quality, str) or quality in ("", "missing"):
        return "assumed"
    return quality


def _groups(lines: pd.DataFrame) -> tuple[list[tuple[str, str]], np.ndarray]:
    keys: list[tuple[str, str]] = []
    cols = []
    pol = lines["pollutant"].to_numpy()
    sec = lines["sector"].to_numpy()
    for p in pd.unique(pol):
        in_pol = pol == p
        keys.append((p, "total"))
        cols.append(in_pol)
        for s in pd.unique(sec[in_pol]):
            keys.append((p, s))
            cols.append(in_pol & (sec == s))
    return keys, np.column_stack(cols).astype(float) if cols else np.zeros((0, 0))


def _factors(lines: pd.DataFrame, table: pd.DataFrame) -> tuple[np.ndarray, list[float]]:
    """Which distinct factor each line uses, and each factor's half-width.

    Lines share a factor when pollutant, factor value, unit and source are the same; a
    line without a factor (a finished line from another module) has one of its own.
    """
    keys: dict[tuple, int] = {}
    widths: list[float] = []
    of = np.empty(len(lines), dtype=int)
    blank = [np.nan] * len(lines)
    cols = [
        lines[c].tolist() if c in lines.columns else blank
        for c in ("pollutant", "ef", "source", "uncertainty")
    ]
    for i, (pol, ef, source, spec) in enumerate(zip(*cols, strict=True)):
        key = (pol, ef, source) if not pd.isna(ef) else ("line", i)
        if key not in keys:
            keys[key] = len(widths)
            widths.append(0.0 if pd.isna(spec) or spec == "" else half_width(spec, table))
        of[i] = keys[key]
    return of, widths


def simulate(
    lines: pd.DataFrame,
    input_quality: Mapping[str, str],
    n_draws: int = 5000,
    rng: int | np.random.Generator = 42,
    table: pd.DataFrame | None = None,
    percentiles: Sequence[float] = (2.5, 97.5),
) -> pd.DataFrame:
    """95 % intervals by sector and pollutant, and for each pollutant's total.

    Parameters
    ----------
    lines : pandas.DataFrame
        Inventory lines with ``sector``, ``pollutant``, ``emissions`` [t/yr],
        ``uncertainty`` (of the factor) and ``inputs`` (``;``-separated input fields).
    input_quality : mapping
        Quality flag or ``±N%`` of each input field; a field not listed (or flagged
        ``missing``) counts as ``assumed``.
    n_draws : int
        Monte Carlo draws. [-]
    rng : int or numpy.random.Generator
        Seed or generator.
    table : pandas.DataFrame, optional
        The ``uncertainty_ratings`` reference table.
    percentiles : sequence of float
        Lower and upper percentile of the interval. [%]

    Returns
    -------
    pandas.DataFrame
        Columns ``pollutant``, ``sector`` (``total`` for the city total), ``central``,
        ``low``, ``high`` [t/yr] and ``half_width`` (upper, relative to central) [fraction].

    Notes
    -----
    For draw k and line i: E_ik = E_i · m_EF,ik · Π_j m_A,jk over the inputs j of line i,
    each m lognormal with median 1 and σ = ln(1 + h) / 1.96 [1]_ [2]_. Lines that use the
    same factor (same pollutant, value and source) share its multiplier, as they share
    its error. The central value
    is the sum of the line estimates (each the median of its draws).
    """
    t = reference_table("uncertainty_ratings") if table is None else table
    gen = np.random.default_rng(rng)
    e = lines["emissions"].to_numpy(dtype=float)
    per_line = [split_inputs(v) for v in lines["inputs"]]
    fields = sorted({f for fs in per_line for f in fs})
    # one multiplier per distinct factor, shared by every line that uses it (the gaseous
    # fuel factors of gas and LPG, the liquid-fuel set of industry diesel and fuel oil)
    factor_of, factor_h = _factors(lines, t)
    act_h = [half_width(_activity_spec(input_quality.get(f)), t) for f in fields]
    ef_m = lognormal_multipliers(lognormal_sigma(factor_h), n_draws, gen)[:, factor_of]
    log_act = np.log(lognormal_multipliers(lognormal_sigma(act_h), n_draws, gen))
    uses = np.zeros((len(fields), len(e)))
    index = {f: j for j, f in enumerate(fields)}
    for i, fs in enumerate(per_line):
        for f in fs:
            uses[index[f], i] = 1.0
    draws = e * ef_m * np.exp(log_act @ uses)  # (n_draws, n_lines)
    keys, member = _groups(lines)
    sums = draws @ member  # (n_draws, n_groups)
    lo, hi = np.percentile(sums, list(percentiles), axis=0)
    central = e @ member
    out = pd.DataFrame(keys, columns=["pollutant", "sector"])
    out["central"] = central
    out["low"] = lo
    out["high"] = hi
    with np.errstate(divide="ignore", invalid="ignore"):
        out["half_width"] = np.where(central > 0, hi / central - 1.0, np.nan)
    return out
