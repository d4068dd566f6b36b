"""Our discard matrices and stock models give flodym's results under its conventions.

flodym (1.1) is the peer: the same lifetimes and inflows through its ``InflowDrivenDSM`` and
``StockDrivenDSM`` must give the same waste generated (outflow) and stock to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetimes import LifetimeTable, discard_matrix, lobatto_points
from ewaste_tracker.flows.stocks import inflow_driven, stock_driven

fd = pytest.importorskip("flodym")

YEARS = np.arange(1990, 2031)
N_R, N_P = 2, 3
CONVENTIONS = {
    "flodym_start": {"inflow_at": "start"},
    "flodym_middle": {"inflow_at": "middle"},
    "flodym_end": {"inflow_at": "end"},
    "flodym_lobatto3": {"n_pts_per_interval": 3},
}


def _params(dist: str):
    """Shape/scale by (region, product, cohort): regions differ, lifetimes shorten in 2010."""
    rng = np.random.default_rng(11)
    cohort = np.where(YEARS >= 2010, 0.85, 1.0)
    scale = rng.uniform(3.0, 18.0, (N_R, N_P, 1)) * cohort
    shape = {
        "weibull": rng.uniform(0.8, 3.5, (N_R, N_P, 1)),
        "lognormal": rng.uniform(0.3, 0.9, (N_R, N_P, 1)),
        "folded_normal": scale * rng.uniform(0.2, 0.6, (N_R, N_P, 1)),
        "fixed": np.ones((N_R, N_P, 1)),
    }[dist]
    return np.broadcast_to(shape, scale.shape).copy(), scale.round(2)


def _flodym_lifetime(dist, fdims, shape, scale, options):
    t_first = lambda a: np.ascontiguousarray(np.moveaxis(a, -1, 0))  # noqa: E731
    if dist == "weibull":
        return fd.WeibullLifetime(
            dims=fdims, weibull_shape=t_first(shape), weibull_scale=t_first(scale), **options
        )
    if dist == "lognormal":  # flodym takes the mean and sd of the lognormal itself
        mean = scale * np.exp(shape**2 / 2)
        std = mean * np.sqrt(np.expm1(shape**2))
        return fd.LogNormalLifetime(dims=fdims, mean=t_first(mean), std=t_first(std), **options)
    if dist == "folded_normal":  # both: mean and sd of the normal before folding
        return fd.FoldedNormalLifetime(
            dims=fdims, mean=t_first(scale), std=t_first(shape), **options
        )
    return fd.FixedLifetime(dims=fdims, mean=t_first(scale), **options)


def _fdims():
    return fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=[int(y) for y in YEARS]),
            fd.Dimension(name="region", letter="r", items=["A", "B"]),
            fd.Dimension(name="product", letter="p", items=["0306", "0108", "0303"]),
        ]
    )


def _ours(dist, shape, scale, convention):
    dims = Dims(("A", "B"), ("0306", "0108", "0303"), YEARS)
    table = LifetimeTable.from_arrays(dims, dist, shape, scale)
    return table, discard_matrix(table, YEARS, convention=convention)


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
@pytest.mark.parametrize("dist", ["weibull", "lognormal", "folded_normal", "fixed"])
def test_inflow_driven_waste_equals_flodym(dist, convention):
    shape, scale = _params(dist)
    inflow = np.random.default_rng(5).lognormal(3.0, 1.0, (N_R, N_P, YEARS.size))
    table, m = _ours(dist, shape, scale, convention)
    ours = inflow_driven(inflow, table.group, m)

    fdims = _fdims()
    lifetime = _flodym_lifetime(dist, fdims, shape, scale, CONVENTIONS[convention])
    dsm = fd.InflowDrivenDSM(
        dims=fdims,
        lifetime_model=lifetime,
        inflow=fd.StockArray(dims=fdims, values=np.ascontiguousarray(np.moveaxis(inflow, -1, 0))),
    )
    dsm.compute()
    wg = np.moveaxis(dsm.outflow.values, 0, -1)
    stock = np.moveaxis(dsm.stock.values, 0, -1)
    scale_t = inflow.max()
    np.testing.assert_allclose(ours.outflow, wg, rtol=0, atol=1e-9 * scale_t)
    np.testing.assert_allclose(ours.stock, stock, rtol=0, atol=1e-9 * scale_t * YEARS.size)


@pytest.mark.parametrize("convention", ["flodym_middle", "flodym_lobatto3"])
def test_stock_driven_inflow_equals_flodym(convention):
    shape, scale = _params("weibull")
    growth = np.linspace(1.0, 3.0, YEARS.size)
    target = np.random.default_rng(2).uniform(50, 500, (N_R, N_P, 1)) * growth
    table, m = _ours("weibull", shape, scale, convention)
    ours = stock_driven(target, table.group, m)

    fdims = _fdims()
    lifetime = _flodym_lifetime("weibull", fdims, shape, scale, CONVENTIONS[convention])
    dsm = fd.StockDrivenDSM(
        dims=fdims,
        lifetime_model=lifetime,
        stock=fd.StockArray(dims=fdims, values=np.ascontiguousarray(np.moveaxis(target, -1, 0))),
    )
    dsm.compute()
    np.testing.assert_allclose(
        ours.inflow, np.moveaxis(dsm.inflow.values, 0, -1), rtol=0, atol=1e-9 * target.max()
    )
    np.testing.assert_allclose(
        ours.outflow, np.moveaxis(dsm.outflow.values, 0, -1), rtol=0, atol=1e-9 * target.max()
    )


def test_lobatto_points_equal_flodym_tables():
    from flodym.gauss_lobatto import gl_nodes, gl_weights

    for n in range(2, 11):
        x, w = lobatto_points(n)
        np.testing.assert_allclose(x, (np.array(gl_nodes[n]) + 1) / 2, atol=1e-14)
        np.testing.assert_allclose(w, np.array(gl_weights[n]) / 2, atol=1e-14)
