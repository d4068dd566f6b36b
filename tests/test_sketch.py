"""The bounded-memory percentiles: a window of each cell's histogram grid."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.uncertainty.sketch import BINS, HistogramSketch
from tests.conftest import examples

QS = (0.05, 0.5, 0.95)


def _sketch(central: np.ndarray, draws: np.ndarray, window: int) -> np.ndarray:
    sk = HistogramSketch(central, draws[:8], window=window)
    sk.add(draws[:8])
    sk.add(draws[8:])
    return sk.quantiles(QS)


def test_window_changes_nothing_while_the_draws_stay_inside_it() -> None:
    rng = np.random.default_rng(3)
    central = rng.lognormal(0, 3, 2_000)
    draws = central * rng.lognormal(0, 0.4, (300, central.size))
    full = _sketch(central, draws, BINS)
    np.testing.assert_allclose(_sketch(central, draws, 256), full, rtol=1e-12)
    exact = np.quantile(draws, QS, axis=0).T
    assert np.median(np.abs(full / exact - 1)) < 0.005


@settings(max_examples=examples(40), deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    window=st.integers(2, 64),
    spread=st.floats(0.01, 5.0),
    signed=st.booleans(),
)
def test_percentiles_are_ordered_and_inside_the_draws_whatever_the_window(
    seed: int, window: int, spread: float, signed: bool
) -> None:
    rng = np.random.default_rng(seed)
    central = rng.lognormal(0, 2, 50)
    draws = central * rng.lognormal(0, spread, (120, central.size))
    if signed:  # draws that change sign fall far outside a narrow window
        draws = draws * rng.choice([-1.0, 1.0], draws.shape)
    q = _sketch(central, draws, window)
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()
    lo, hi = draws.min(axis=0), draws.max(axis=0)
    assert (q >= lo[:, None] - 1e-6 * np.abs(lo[:, None])).all()
    assert (q <= hi[:, None] + 1e-6 * np.abs(hi[:, None])).all()


def test_counts_do_not_depend_on_how_the_draws_are_split() -> None:
    rng = np.random.default_rng(5)
    central = rng.lognormal(0, 1, 500)
    draws = central * rng.lognormal(0, 0.5, (64, central.size))
    a = HistogramSketch(central, draws[:8])
    b = HistogramSketch(central, draws[:8])
    a.add(draws)
    for part in np.array_split(draws[::-1], 7):
        b.add(part)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.quantiles(QS), b.quantiles(QS))
