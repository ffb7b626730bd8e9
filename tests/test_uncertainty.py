"""Monte Carlo: ratings and ranges, seeded vectorised draws, shared inputs, intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from c3lib.exceptions import ReferenceDataError
from c3lib.topics import uncertainty as unc


def frame(**cols):
    return pd.DataFrame(cols)


def test_half_width_rating_quality_and_percent():
    # uncertainty_ratings.csv: C → 1.25 (midpoint of 50–200 %), assumed → 1.0; "±32%" → 0.32
    assert unc.half_width("C") == pytest.approx(1.25)
    assert unc.half_width("assumed") == pytest.approx(1.0)
    assert unc.half_width("±32%") == pytest.approx(0.32)
    assert unc.half_width(" ± 4.5 % ") == pytest.approx(0.045)


def test_half_width_unknown_raises():
    with pytest.raises(ReferenceDataError, match="uncertainty_ratings.csv.*'Z'"):
        unc.half_width("Z")


def test_lognormal_sigma_hand_worked():
    # h = 1.0 (a factor of 2): σ = ln 2 / 1.96 = 0.35365
    assert unc.lognormal_sigma(1.0) == pytest.approx(0.35365, rel=1e-4)
    # h = 0.32: σ = ln 1.32 / 1.96 = 0.14165
    assert unc.lognormal_sigma(0.32) == pytest.approx(0.14165, rel=1e-3)


def test_lognormal_multipliers_median_and_upper_bound():
    # σ for h = 1: median 1, 97.5th percentile 2
    m = unc.lognormal_multipliers(unc.lognormal_sigma([1.0]), 200_000, 3)
    assert m.shape == (200_000, 1)
    assert np.median(m) == pytest.approx(1.0, rel=0.01)
    assert np.percentile(m, 97.5) == pytest.approx(2.0, rel=0.02)


def test_split_inputs():
    assert unc.split_inputs("cars; car_km_per_yr") == ["cars", "car_km_per_yr"]
    assert unc.split_inputs("") == []
    assert unc.split_inputs(float("nan")) == []


def lines_two_sectors():
    return frame(
        sector=["a", "b"],
        pollutant=["PM2.5", "PM2.5"],
        emissions=[10.0, 5.0],
        uncertainty=["C", "±50%"],
        inputs=["x", ""],
    )


def test_simulate_seeded_and_bracketing():
    ln = lines_two_sectors()
    one = unc.simulate(ln, {"x": "secondary"}, n_draws=4000, rng=7)
    two = unc.simulate(ln, {"x": "secondary"}, n_draws=4000, rng=7)
    pd.testing.assert_frame_equal(one, two)
    total = one.set_index("sector").loc["total"]
    assert total["central"] == pytest.approx(15.0)
    assert total["low"] < 15.0 < total["high"]
    assert set(one["sector"]) == {"total", "a", "b"}


def test_simulate_accepts_generator():
    ln = lines_two_sectors()
    a = unc.simulate(ln, {}, n_draws=1000, rng=np.random.default_rng(11))
    b = unc.simulate(ln, {}, n_draws=1000, rng=11)
    pd.testing.assert_frame_equal(a, b)


def test_simulate_zero_spread_is_exact():
    ln = frame(sector=["a"], pollutant=["NOx"], emissions=[3.0], uncertainty=["±0%"], inputs=[""])
    out = unc.simulate(ln, {}, n_draws=100, rng=1).set_index("sector")
    assert out.loc["total", "low"] == pytest.approx(3.0)
    assert out.loc["total", "high"] == pytest.approx(3.0)


def test_simulate_single_factor_interval():
    # factor ±100 %, no inputs: 95 % interval of a lognormal = [E / 2, 2 E] = [5, 20]
    ln = frame(sector=["a"], pollutant=["CO"], emissions=[10.0], uncertainty=["±100%"], inputs=[""])
    out = unc.simulate(ln, {}, n_draws=100_000, rng=5).set_index("sector").loc["total"]
    assert out["low"] == pytest.approx(5.0, rel=0.03)
    assert out["high"] == pytest.approx(20.0, rel=0.03)
    assert out["half_width"] == pytest.approx(1.0, rel=0.05)


def test_simulate_shared_input_moves_lines_together():
    # two exact-factor lines (4 + 6 t) on one input with h = 1: fully correlated, so the
    # total's interval is [10 / 2, 10 × 2] = [5, 20]; on two separate inputs it is narrower:
    # σ_sum ≈ √(0.4² + 0.6²) × 0.3537 = 0.255 → upper ≈ 10 × e^(1.96 × 0.255) ≈ 16.5
    shared = frame(
        sector=["a", "a"],
        pollutant=["PM10", "PM10"],
        emissions=[4.0, 6.0],
        uncertainty=["±0%", "±0%"],
        inputs=["x", "x"],
    )
    q = {"x": "assumed", "y": "assumed"}
    tot = unc.simulate(shared, q, n_draws=100_000, rng=2).set_index("sector").loc["total"]
    assert tot["low"] == pytest.approx(5.0, rel=0.03)
    assert tot["high"] == pytest.approx(20.0, rel=0.03)
    apart = shared.assign(inputs=["x", "y"])
    sep = unc.simulate(apart, q, n_draws=100_000, rng=2).set_index("sector").loc["total"]
    assert sep["high"] < 18.0


def test_simulate_missing_quality_counts_as_assumed():
    ln = frame(sector=["a"], pollutant=["CO"], emissions=[1.0], uncertainty=["±0%"], inputs=["x"])
    a = unc.simulate(ln, {"x": "missing"}, n_draws=500, rng=4)
    b = unc.simulate(ln, {"x": "assumed"}, n_draws=500, rng=4)
    pd.testing.assert_frame_equal(a, b)


def test_simulate_shared_factor_moves_lines_together():
    # two lines on one factor (same pollutant, value and source) with h = 1 and exact
    # inputs: fully correlated, the total's interval is [10 / 2, 10 × 2] = [5, 20]; with two
    # different factors of the same spread it is narrower (upper ≈ 16.5, as above)
    shared = frame(
        sector=["residential", "residential"],
        subsector=["natural-gas", "lpg"],
        pollutant=["NOx", "NOx"],
        ef=[51.0, 51.0],
        source=["Guidebook Table 3-4", "Guidebook Table 3-4"],
        emissions=[4.0, 6.0],
        uncertainty=["±100%", "±100%"],
        inputs=["", ""],
    )
    tot = unc.simulate(shared, {}, n_draws=100_000, rng=3).set_index("sector").loc["total"]
    assert tot["high"] == pytest.approx(20.0, rel=0.03)
    apart = shared.assign(source=["Guidebook Table 3-4", "another table"])
    sep = unc.simulate(apart, {}, n_draws=100_000, rng=3).set_index("sector").loc["total"]
    assert sep["high"] < 18.0
