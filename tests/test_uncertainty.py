"""Monte Carlo: seeded, vectorised, intervals that contain the central estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from c3lib import uncertainty as unc


def test_lognormal_sigma_hand_worked():
    # h = 1.0 (a factor of 2): σ = ln 2 / 1.96 = 0.35365
    assert unc.lognormal_sigma(1.0) == pytest.approx(0.35365, rel=1e-4)


def test_line_sigma_combines_factor_and_activity():
    lines = pd.DataFrame({"rating": ["C"], "input": ["cars"]})
    # C: h = 1.25 → σ = ln 2.25 / 1.96 = 0.41374; assumed activity: σ = 0.35365
    sig = unc.line_sigma(lines, {"cars": "assumed"})
    assert sig[0] == pytest.approx(np.hypot(0.41374, 0.35365), rel=1e-3)


def test_simulate_seeded_and_bracketing():
    lines = pd.DataFrame(
        {"sector": ["a", "b"], "pollutant": ["PM2.5", "PM2.5"], "emissions": [10.0, 5.0]}
    )
    sig = np.array([0.3, 0.5])
    one = unc.simulate(lines, sig, n_draws=4000, seed=7)
    two = unc.simulate(lines, sig, n_draws=4000, seed=7)
    pd.testing.assert_frame_equal(one, two)
    total = one.set_index("sector").loc["total"]
    assert total["central"] == 15.0
    assert total["low"] < 15.0 < total["high"]


def test_simulate_zero_spread_is_exact():
    lines = pd.DataFrame({"sector": ["a"], "pollutant": ["NOx"], "emissions": [3.0]})
    out = unc.simulate(lines, np.array([0.0]), n_draws=100, seed=1).set_index("sector")
    assert out.loc["total", "low"] == pytest.approx(3.0)
    assert out.loc["total", "high"] == pytest.approx(3.0)
