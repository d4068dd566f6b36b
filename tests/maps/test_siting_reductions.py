"""Exact reductions of the siting models: merged clients and candidates change no optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.maps.pmedian import _solve_core, identical_groups, solve_pmedian
from ewaste_tracker.maps.siting_solvers import SitingError, _gap, solve_mclp


def _tie_heavy(seed: int, n: int = 12, m: int = 7):
    """Few distinct rows and columns, repeated: demand points and sites on shared nodes."""
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 25, (4, 4)).astype(float)
    base[rng.random(base.shape) < 0.15] = np.inf
    cost = base[rng.integers(0, 4, n)][:, rng.integers(0, 4, m)]
    w = rng.integers(0, 5, n).astype(float)
    return cost, w


def _brute(cost, w, p, fixed=()):
    need = np.isfinite(cost).any(axis=1) & (w > 0)
    best = np.inf
    for s in itertools.combinations(range(cost.shape[1]), p):
        if set(fixed) <= set(s):
            d = cost[:, list(s)].min(axis=1)[need]
            if np.isfinite(d).all():
                best = min(best, float((w[need] * d).sum()))
    return best


def test_identical_groups_rebuild_the_matrix():
    cost, _ = _tie_heavy(3)
    first, inv = identical_groups(cost)
    assert np.array_equal(cost[first][inv], cost)
    assert len(np.unique(cost, axis=0)) == first.size
    assert np.all(np.diff(first) > 0)


@pytest.mark.parametrize("seed", range(6))
def test_merged_and_unmerged_tie_heavy_pmedian_agree(seed):
    cost, w = _tie_heavy(seed)
    p = 1 + seed % 3
    want = _brute(cost, w, p)
    if not np.isfinite(want):
        with pytest.raises(SitingError):
            solve_pmedian(cost, w, p)
        return
    merged = solve_pmedian(cost, w, p)
    whole = _solve_core(cost, w, p)  # the same solver with no merging
    assert merged.objective == pytest.approx(want) == whole.objective
    assert merged.info["merged_rows"] < cost.shape[0]
    assert merged.status == "optimal" and merged.gap == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 4), st.booleans())
def test_pmedian_with_repeated_rows_and_columns_is_exact(seed, p, with_fixed):
    cost, w = _tie_heavy(seed, n=10, m=6)
    fixed = (seed % 6,) if with_fixed and p > 1 else ()
    want = _brute(cost, w, p, fixed)
    if not np.isfinite(want):
        return
    sol = solve_pmedian(cost, w, p, fixed=np.array(fixed, int))
    assert sol.objective == pytest.approx(want)
    assert sol.open.sum() == p and all(sol.open[list(fixed)])
    # every served client goes to its nearest open site; the objective is their sum
    assert np.allclose(cost[sol.rows, sol.cols], cost[sol.rows][:, sol.open].min(axis=1))
    assert sol.objective == pytest.approx(float((w[sol.rows] * cost[sol.rows, sol.cols]).sum()))
    assert sol.bound <= sol.objective * (1 + 1e-9) and sol.gap == _gap(sol.objective, sol.bound)


def test_two_fixed_copies_of_one_site_both_stay_open():
    cost = np.array([[1.0, 1.0, 5.0], [2.0, 2.0, 1.0], [3.0, 3.0, 4.0]])
    sol = solve_pmedian(cost, np.ones(3), 2, fixed=np.array([0, 1]))
    assert sol.open.tolist() == [True, True, False]
    assert sol.objective == pytest.approx(6.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 3))
def test_mclp_with_repeated_and_dominated_sites_is_exact(seed, p):
    cost, w = _tie_heavy(seed, n=10, m=6)
    t = 12.0
    cov = cost <= t
    best = max(w[cov[:, list(s)].any(axis=1)].sum() for s in itertools.combinations(range(6), p))
    sol = solve_mclp(cost, w, p, t)
    assert sol.objective == pytest.approx(best)
    assert sol.open.sum() == p
    assert sol.objective == pytest.approx(float(w[cov[:, sol.open].any(axis=1)].sum()))


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_lazy_levels_reach_the_same_optimum_as_the_whole_radius_model(seed):
    # seeds whose Lagrangian bound leaves a gap, so the radius model is solved
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 40, (40, 14)).astype(float)
    w = rng.integers(1, 9, 40).astype(float)
    lazy = solve_pmedian(cost, w, 4, full_levels=0)  # levels added round by round
    whole = solve_pmedian(cost, w, 4, full_levels=10**9)  # every level from the start
    assert lazy.info["z_columns"] < lazy.info["levels_full"]  # the lazy path was taken
    combos = np.array(list(itertools.combinations(range(14), 4)))
    brute = float((w[:, None] * cost[:, combos].min(axis=2)).sum(axis=0).min())
    assert lazy.status == whole.status == "optimal"
    assert lazy.objective == pytest.approx(brute) == whole.objective
    assert lazy.bound == pytest.approx(lazy.objective, rel=1e-9)


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_of_sites_covering_the_same_demand_the_nearer_one_opens(order):
    # three sites cover the same two clients within 10 min; site 1 is nearest to them
    cost = np.array([[8.0, 2.0, 9.0], [7.0, 3.0, 6.0], [30.0, 30.0, 30.0]])[:, order]
    w = np.array([5.0, 4.0, 1.0])
    sol = solve_mclp(cost, w, 1, 10.0)
    assert sol.objective == pytest.approx(9.0)
    assert np.flatnonzero(sol.open).tolist() == [order.index(1)]
