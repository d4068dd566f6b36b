"""Benchmark: the inflow-driven stock step for the global workload, against flodym.

Workload (synthetic but realistic, seeded): 250 regions x 54 products x 1970-2050. Each
product gets a Weibull lifetime drawn from the range of the EU WEEE Calculation Tool
parameters (manual rev. May 2023, Annex III: shape 0.79-3.5, scale 4.6-25 years); regions fall
into four lifetime regimes (x0.8, x1.0, x1.2, x1.4 on the scale, as lifetimes are longer where
incomes are lower) and products sold from 2005 on live 10 % shorter, so parameters vary by
region and cohort (G = 216 groups). Put on market follows a logistic diffusion per region and
product with log-normal noise.

Both sides start from lifetime *parameters* and inflows and end with WG and stock:
ours = ``discard_matrix`` + ``inflow_driven``; flodym = ``WeibullLifetime`` +
``InflowDrivenDSM.compute`` with the matching convention (``inflow_at="middle"`` =
our ``"flodym_middle"``). flodym runs on the full workload, measured directly (it holds four
(N, N, R, P) arrays, 0.7 GB each at full size: about 3 GB); ``--flodym-regions`` runs it on
the first regions only and extrapolates linearly (t = a + b·regions), and the output says so.
WG must agree to 1e-9 of the largest WG.

Run::

    .venv/bin/python benchmarks/stocks.py [--regions 250] [--products 54]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ewaste_tracker.flows.dims import Dims  # noqa: E402
from ewaste_tracker.flows.lifetimes import LifetimeTable, discard_matrix  # noqa: E402
from ewaste_tracker.flows.stocks import inflow_driven  # noqa: E402

REGIMES = np.array([0.8, 1.0, 1.2, 1.4])


def workload(n_regions: int, n_products: int, years: tuple[int, int], seed: int = 7):
    """Dims, Weibull shape/scale ``(R, P, N)`` and put-on-market ``(R, P, N)`` in tonnes."""
    rng = np.random.default_rng(seed)
    yrs = np.arange(years[0], years[1] + 1)
    dims = Dims(
        tuple(f"R{i:03d}" for i in range(n_regions)),
        tuple(f"{i:04d}" for i in range(n_products)),
        yrs,
    )
    shape_p = rng.uniform(0.79, 3.5, n_products)
    scale_p = rng.uniform(4.56, 25.0, n_products)
    regime = REGIMES[rng.integers(0, REGIMES.size, n_regions)]
    cohort = np.where(yrs >= 2005, 0.9, 1.0)
    shape = np.broadcast_to(shape_p[None, :, None], (n_regions, n_products, yrs.size))
    scale = regime[:, None, None] * scale_p[None, :, None] * cohort[None, None, :]
    size = rng.lognormal(3.0, 1.5, (n_regions, n_products, 1))
    midpoint = rng.uniform(1995, 2025, (n_regions, n_products, 1))
    pom = size / (1.0 + np.exp(-(yrs - midpoint) / 6.0))
    pom = pom * rng.lognormal(0.0, 0.1, pom.shape)
    return dims, shape, scale, pom


def ours(dims: Dims, shape: np.ndarray, scale: np.ndarray, pom: np.ndarray, convention: str):
    """Our stock step from parameters: table grouping, discard matrix, inflow-driven model."""
    table = LifetimeTable.from_arrays(dims, "weibull", shape, scale)
    m = discard_matrix(table, dims.years, convention=convention)
    return inflow_driven(pom, table.group, m), table.n_groups


def peer(dims: Dims, shape: np.ndarray, scale: np.ndarray, pom: np.ndarray):
    """flodym InflowDrivenDSM on the same data (time must be its first dimension)."""
    import flodym as fd

    fdims = fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=[int(y) for y in dims.years]),
            fd.Dimension(name="region", letter="r", items=list(dims.regions)),
            fd.Dimension(name="product", letter="p", items=list(dims.products)),
        ]
    )
    to_t = lambda a: np.ascontiguousarray(np.moveaxis(a, -1, 0))  # noqa: E731
    lifetime = fd.WeibullLifetime(
        dims=fdims, inflow_at="middle", weibull_shape=to_t(shape), weibull_scale=to_t(scale)
    )
    dsm = fd.InflowDrivenDSM(
        dims=fdims, lifetime_model=lifetime, inflow=fd.StockArray(dims=fdims, values=to_t(pom))
    )
    dsm.compute()
    return np.moveaxis(dsm.outflow.values, 0, -1), np.moveaxis(dsm.stock.values, 0, -1)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _subset(dims: Dims, arrays, n: int):
    sub = Dims(dims.regions[:n], dims.products, dims.years)
    return (sub, *(a[:n] for a in arrays))


def run(
    n_regions: int = 250,
    n_products: int = 54,
    years: tuple[int, int] = (1970, 2050),
    flodym_regions: int | None = None,
) -> dict:
    """Time our inflow-driven step and flodym's on the same workload; return the figures.

    Returns
    -------
    dict
        ``ours_s`` (UNU convention), ``ours_flodym_middle_s``, ``flodym_s`` (measured on
        the full workload, or extrapolated from ``flodym_regions`` and a quarter of it),
        ``flodym_subsets`` (regions, seconds), ``ratio`` = flodym_s / ours_flodym_middle_s,
        ``max_rel_diff`` = largest WG difference
        on the regions flodym ran relative to the largest WG,
        ``peak_mb`` of our step, ``table_s`` / ``discard_matrix_s`` / ``inflow_driven_s``
        (the parts of ``ours_s``), ``groups``, ``cells``, ``years``.
    """
    dims, shape, scale, pom = workload(n_regions, n_products, years)
    ours(dims, shape, scale, pom, "unu")  # warm-up (imports, BLAS threads)
    t_unu, _ = _best(lambda: ours(dims, shape, scale, pom, "unu"), 5)
    t_mid, (res, n_groups) = _best(lambda: ours(dims, shape, scale, pom, "flodym_middle"), 5)
    table = LifetimeTable.from_arrays(dims, "weibull", shape, scale)
    m = discard_matrix(table, dims.years)
    parts = {
        "table_s": _best(lambda: LifetimeTable.from_arrays(dims, "weibull", shape, scale), 5)[0],
        "discard_matrix_s": _best(lambda: discard_matrix(table, dims.years), 5)[0],
        "inflow_driven_s": _best(lambda: inflow_driven(pom, table.group, m), 5)[0],
    }
    tracemalloc.start()
    ours(dims, shape, scale, pom, "unu")
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    if flodym_regions is None or flodym_regions >= n_regions:
        sizes = [n_regions]
    else:
        sizes = sorted({max(1, flodym_regions // 4), flodym_regions})
    timings = []
    for n in sizes:
        sub = _subset(dims, (shape, scale, pom), n)
        t, (wg, stock) = _best(lambda sub=sub: peer(*sub), 1 if n == n_regions else 2)
        timings.append((n, t))
        del sub
    scaled = len(sizes) > 1 and sizes[-1] < n_regions
    if scaled:
        (n1, t1), (n2, t2) = timings
        slope = (t2 - t1) / (n2 - n1)
        flodym_s = t2 + slope * (n_regions - n2)
    else:
        flodym_s = timings[-1][1]
    n_check = sizes[-1]
    max_rel = float(np.max(np.abs(res.outflow[:n_check] - wg)) / np.max(np.abs(wg)))
    max_abs_stock = float(np.max(np.abs(res.stock[:n_check] - stock)))
    return {
        "cells": n_regions * n_products,
        "years": int(dims.years.size),
        "groups": n_groups,
        "ours_s": t_unu,
        "ours_flodym_middle_s": t_mid,
        "flodym_s": flodym_s,
        "flodym_extrapolated": scaled,
        "flodym_subsets": timings,
        "ratio": flodym_s / t_mid,
        "max_rel_diff": max_rel,
        "max_abs_stock_diff_t": max_abs_stock,
        "peak_mb": peak_mb,
        **parts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=250)
    parser.add_argument("--products", type=int, default=54)
    parser.add_argument(
        "--flodym-regions",
        type=int,
        default=None,
        help="run flodym on this many regions and extrapolate (default: all)",
    )
    args = parser.parse_args()
    r = run(args.regions, args.products, flodym_regions=args.flodym_regions)
    print(
        f"workload: {args.regions} regions x {args.products} products x {r['years']} years "
        f"({r['cells']} cells, {r['groups']} lifetime groups)"
    )
    print(f"ours  (unu convention)    : {r['ours_s'] * 1e3:8.1f} ms, peak {r['peak_mb']:.0f} MB")
    print(
        f"  of which: grouping {r['table_s'] * 1e3:.1f} ms, discard matrix "
        f"{r['discard_matrix_s'] * 1e3:.1f} ms, inflow-driven {r['inflow_driven_s'] * 1e3:.1f} ms"
    )
    print(f"ours  (flodym_middle)     : {r['ours_flodym_middle_s'] * 1e3:8.1f} ms")
    subsets = ", ".join(f"{n} regions {t:.3f} s" for n, t in r["flodym_subsets"])
    how = "extrapolated linearly from subsets" if r["flodym_extrapolated"] else "measured"
    print(f"flodym (inflow_at=middle) : {r['flodym_s'] * 1e3:8.1f} ms ({how}: {subsets})")
    print(f"ratio flodym / ours       : {r['ratio']:8.1f}x  (goal >= 20x)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"agreement                 : max WG difference / max WG {r['max_rel_diff']:.1e}, "
        f"max stock difference {r['max_abs_stock_diff_t']:.1e} t"
    )


if __name__ == "__main__":
    main()
