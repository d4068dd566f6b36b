"""Map classes: Fisher-Jenks natural breaks are optimal; fixed thresholds classify edges right."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.maps.classes import (
    BLUES_GOOD,
    DIVERGING_GAP,
    Classes,
    fixed_classes,
    natural_breaks,
    natural_classes,
)


def _ssd(groups: list[np.ndarray]) -> float:
    return float(sum(((g - g.mean()) ** 2).sum() for g in groups if g.size))


def _brute(x: np.ndarray, k: int) -> float:
    """Least within-class sum of squares over every split of sorted x into k runs."""
    n = x.size
    best = np.inf
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        best = min(best, _ssd([x[a:b] for a, b in itertools.pairwise(bounds)]))
    return best


@given(
    x=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=4, max_size=9, unique=True),
    k=st.integers(2, 3),
)
def test_natural_breaks_are_the_optimal_partition(x, k) -> None:
    v = np.sort(np.asarray(x))
    edges = natural_breaks(v, k)
    assert edges[0] == v.min() and edges[-1] == v.max()
    assert np.all(np.diff(edges) >= 0) and edges.size == k + 1
    cls = np.searchsorted(edges[1:-1], v, side="left")
    got = _ssd([v[cls == c] for c in range(k)])
    assert got == pytest.approx(_brute(v, k), rel=1e-9, abs=1e-9)


def test_natural_breaks_find_obvious_groups_and_ignore_missing() -> None:
    x = [1, 1.1, 0.9, np.nan, 10, 10.5, 9.8, 100, 101, np.inf]
    assert natural_breaks(x, 3).tolist() == [0.9, 1.1, 10.5, 101]
    assert natural_breaks([np.nan], 5).size == 0
    assert natural_breaks([3.0, 3.0], 5).tolist() == [3.0, 3.0]


def test_large_inputs_are_pooled_and_stay_fast_enough() -> None:
    x = np.random.default_rng(1).lognormal(0, 2, 100_000)
    edges = natural_breaks(x, 5)
    assert edges.size == 6 and edges[0] == x.min() and edges[-1] == x.max()


def test_skewed_values_are_classed_by_order_of_magnitude() -> None:
    x = np.random.default_rng(0).lognormal(0, 2, 240)
    plain = natural_classes(x, log=False)
    logged = natural_classes(x)
    assert plain is not None and logged is not None
    assert plain.counts(x).max() > 0.8 * x.size  # most of the land in one class
    assert logged.counts(x).max() < 0.5 * x.size
    assert "log10" in logged.method
    assert logged.counts(x).sum() == x.size  # every value has a class


def test_fixed_thresholds_put_a_target_in_its_own_class() -> None:
    rate = fixed_classes([0, 5, 10, 20, 45, 65, np.inf], colours=BLUES_GOOD, unit="%")
    assert rate.classify([0, 4.99, 5, 64.9, 65, 99, np.nan]).tolist() == [0, 0, 1, 4, 5, 5, -1]
    assert rate.labels[0] == "0 – 5 %" and rate.labels[-1] == "65 % and more"
    gap = fixed_classes([-np.inf, 0, 15, 30, 45, np.inf], colours=DIVERGING_GAP, unit="pp",
                        right=True)  # fmt: skip
    assert gap.classify([-20, 0, 0.1, 15, 50]).tolist() == [0, 0, 1, 1, 4]
    assert gap.labels[0] == "up to 0 pp"
    with pytest.raises(ValueError):
        Classes((0.0, 1.0), ("#000",), ("a", "b"))
