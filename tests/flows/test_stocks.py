"""Dynamic stock models and unit conversion (ewaste_tracker.flows.stocks)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetimes import CONVENTIONS, LifetimeTable, discard_matrix
from ewaste_tracker.flows.stocks import (
    StockError,
    inflow_driven,
    stock_by_cohort,
    stock_driven,
    to_mass,
    to_pieces,
)

YEARS = np.arange(2000, 2031)


def _model(seed: int, n_r: int = 3, n_p: int = 4, convention: str = "unu", years=YEARS):
    """Random but plausible lifetimes (EU WEEE Calculation Tool range) and a discard matrix."""
    rng = np.random.default_rng(seed)
    dims = Dims(tuple(f"R{i}" for i in range(n_r)), tuple(f"P{i}" for i in range(n_p)), years)
    shape = rng.uniform(0.8, 3.5, (1, n_p, 1))
    scale = rng.uniform(4.5, 25.0, (n_r, n_p, 1)).round(0)  # rounding makes shared groups
    tab = LifetimeTable.from_arrays(dims, "weibull", shape, scale)
    return dims, tab, discard_matrix(tab, years, convention=convention)


def _reference_outflow(inflow, group, m):
    """Cell-by-cell textbook sum O[n] = sum_c M[n, c] I[c]."""
    out = np.zeros_like(inflow)
    for r in range(inflow.shape[0]):
        for p in range(inflow.shape[1]):
            out[r, p] = m[group[r, p]] @ inflow[r, p]
    return out


# --- inflow-driven ------------------------------------------------------------------------------
def test_phone_sales_give_the_unu_waste_curve():
    dims = Dims(("NLD",), ("0306",), YEARS)
    tab = LifetimeTable.from_arrays(dims, "weibull", 1.56, 6.26)
    pom = np.full((1, 1, YEARS.size), 1000.0)  # 1 000 t of phones a year
    res = inflow_driven(pom, tab.group, discard_matrix(tab, YEARS))
    np.testing.assert_allclose(res.outflow[0, 0, :3], [59.4, 159.9, 277.3], atol=0.1)
    assert res.stock[0, 0, -1] == pytest.approx(30 * 1000 + 1000 - res.outflow.sum(), rel=1e-12)


@given(seed=st.integers(0, 2**32 - 1), convention=st.sampled_from(CONVENTIONS))
def test_inflow_driven_matches_cell_by_cell_sum_and_balances(seed, convention):
    _, tab, m = _model(seed, convention=convention)
    rng = np.random.default_rng(seed + 1)
    pom = rng.lognormal(2.0, 1.0, (3, 4, YEARS.size)) * (rng.random((3, 4, YEARS.size)) > 0.2)
    res = inflow_driven(pom, tab.group, m)
    np.testing.assert_allclose(res.outflow, _reference_outflow(pom, tab.group, m), atol=1e-9)
    # mass balance and non-negativity
    np.testing.assert_allclose(res.stock_change, res.inflow - res.outflow, atol=1e-9)
    assert np.all(res.outflow >= 0) and np.all(res.stock >= -1e-9)
    # a cohort never leaves more than it brought
    assert res.outflow.sum() <= pom.sum() * (1 + 1e-12)


@given(seed=st.integers(0, 2**32 - 1))
def test_waste_of_a_region_sum_is_the_sum_of_waste(seed):
    # aggregation: two regions with the same lifetimes behave like one with their summed sales
    _, tab, m = _model(seed, n_r=1)
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0, 50, (2, 1, 4, YEARS.size))
    both = inflow_driven(a + b, tab.group, m).outflow
    np.testing.assert_allclose(
        both,
        inflow_driven(a, tab.group, m).outflow + inflow_driven(b, tab.group, m).outflow,
        atol=1e-9,
    )


def test_stock_by_cohort_adds_up_to_the_stock():
    _, tab, m = _model(3)
    pom = np.random.default_rng(3).uniform(0, 10, (3, 4, YEARS.size))
    res = inflow_driven(pom, tab.group, m)
    cohorts = stock_by_cohort(pom, tab.group, m, regions=[2, 0], products=slice(1, 3))
    assert cohorts.shape == (2, 2, YEARS.size, YEARS.size)
    np.testing.assert_allclose(cohorts.sum(axis=-1), res.stock[[2, 0]][:, 1:3], atol=1e-9)
    assert np.all(cohorts[..., 0, 1:] == 0)  # nothing of later cohorts in the first year
    assert np.all(cohorts >= -1e-12)


def test_bad_inputs_are_reported_with_their_cell():
    _, tab, m = _model(1)
    pom = np.ones((3, 4, YEARS.size))
    pom[1, 2, 5] = -1.0
    with pytest.raises(StockError) as err:
        inflow_driven(pom, tab.group, m)
    assert (err.value.region, err.value.product, err.value.year) == (1, 2, 5)
    with pytest.raises(StockError, match="group"):
        inflow_driven(np.ones((2, 4, YEARS.size)), tab.group, m)
    with pytest.raises(StockError, match="discard matrix"):
        inflow_driven(np.ones((3, 4, 5)), tab.group, m)


# --- stock-driven -------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**32 - 1), convention=st.sampled_from(["unu", "flodym_middle"]))
def test_stock_driven_inverts_inflow_driven(seed, convention):
    _, tab, m = _model(seed, convention=convention)
    pom = np.random.default_rng(seed).uniform(1, 100, (3, 4, YEARS.size))
    forward = inflow_driven(pom, tab.group, m)
    back = stock_driven(forward.stock, tab.group, m)
    np.testing.assert_allclose(back.inflow, pom, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(back.outflow, forward.outflow, rtol=1e-7, atol=1e-7)


@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.floats(-80.0, 100.0), min_size=YEARS.size, max_size=YEARS.size),
)
def test_falling_stock_targets_give_no_negative_flows(seed, steps):
    _, tab, m = _model(seed)
    target = np.clip(np.cumsum(steps), 0.0, None) * np.ones((3, 4, 1))
    res = stock_driven(target, tab.group, m)
    assert np.all(res.inflow >= 0) and np.all(res.outflow >= -1e-9)
    np.testing.assert_array_equal(res.stock, target)  # the stock is met exactly
    balance = np.diff(target, axis=-1, prepend=0.0) - (res.inflow - res.outflow)
    assert np.max(np.abs(balance)) <= 1e-9 * max(1.0, target.max())


def test_surplus_is_taken_from_all_cohorts_alike():
    dims = Dims(("X",), ("P",), YEARS)
    tab = LifetimeTable.from_arrays(dims, "weibull", 2.0, 20.0)
    m = discard_matrix(tab, YEARS)
    target = np.concatenate([np.full(10, 100.0), np.full(YEARS.size - 10, 40.0)])[None, None]
    res = stock_driven(target, tab.group, m)
    assert res.inflow[0, 0, 10] == 0.0  # stock drop: no sales that year
    # the surplus leaves as waste: with no sales the outflow is the whole stock drop, 60 t
    # (to rounding; the uncapped unu shares no longer leave a hair above it)
    assert res.outflow[0, 0, 10] == pytest.approx(60.0, rel=1e-9)
    assert np.all(res.inflow[0, 0, 12:] > 0)  # and sales resume as products wear out


def test_stock_that_cannot_be_held_is_an_error():
    dims = Dims(("X",), ("P",), YEARS)
    tab = LifetimeTable.from_arrays(dims, "fixed", 1.0, 0.5)  # all gone in the year of sale
    with pytest.raises(StockError, match="year of sale") as err:
        stock_driven(np.ones((1, 1, YEARS.size)), tab.group, discard_matrix(tab, YEARS))
    assert err.value.year == 0


# --- pieces ------------------------------------------------------------------------------------
@given(
    mass=st.lists(st.floats(0.0, 1e6), min_size=6, max_size=6),
    weights=st.lists(st.floats(0.01, 500.0), min_size=2, max_size=2),
)
def test_pieces_round_trip(mass, weights):
    arr = np.array(mass).reshape(1, 2, 3)
    back = to_mass(to_pieces(arr, np.array(weights)), np.array(weights))
    np.testing.assert_allclose(back, arr, rtol=1e-12)


def test_pieces_with_unit_weights_per_year():
    # UNU-KEY 0306 mobile phones weigh 0.09 kg (2014 average, Statistics Netherlands tables)
    mass = np.array([[[90.0, 90.0]]])  # tonnes
    pieces = to_pieces(mass, np.array([[0.09, 0.18]]))
    np.testing.assert_allclose(pieces, [[[1e6, 5e5]]])
    with pytest.raises(ValueError, match="product index 0, year index 1"):
        to_pieces(mass, np.array([[0.09, 0.0]]))
    with pytest.raises(ValueError, match="unit weights"):
        to_pieces(mass, np.ones(3))
