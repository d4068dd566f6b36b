r"""Monte Carlo draws of a run's inputs, and a batch of draws as one tiled engine run.

Every draw :math:`d` of a seed :math:`s` has its own generator
``numpy.random.default_rng([s, d])``, so draw :math:`d` is the same whatever batch or worker
computes it. A batch of :math:`B` draws runs through the engine as :math:`B` copies of the
regions (pseudo-regions ``ISO3#d``, draw-major: copy :math:`b` of region :math:`r` is row
:math:`bR + r`); trade links stay inside their copy. No Python loop runs per draw over the
engine; the loop over the draws of a batch only draws their random numbers.

Distributions (all median-preserving around the central input; :func:`provenance` writes
this table with the outputs):

=====================  ===================================================================
input                  draw
=====================  ===================================================================
put on market          :math:`x' = x\, e^{k_{pom}\sigma_g z_r}`, :math:`z_r \sim N(0,1)` per
                       region; :math:`\sigma_g` the standard deviation of the calibration's
                       leave-one-out log residuals of the region's income group
                       (``data/pom_cv_residuals.csv``); reported values (``status``
                       ``reported``) :math:`\sigma = k_{rep}` instead (default 0.10, data
                       quality of an official statistic, assumption)
lifetimes              Weibull shape and scale times :math:`e^{\sigma z_p}` per product
                       (:math:`\sigma` = 0.10 each, assumption ``lifetime_spread``)
transfer coefficients  each region's row out of every stage: Dirichlet
                       :math:`(\kappa \bar s)` around its mean shares :math:`\bar s`
                       (:math:`\kappa` = 40, assumption), applied to every product-year row
                       as the tilt :math:`s'_i = s_i w_i / \sum_j s_j w_j`,
                       :math:`w = x / \bar s`; export shares are the rows out of the
                       collection stages
composition            PERT(low, central, high) per product and element
                       (``data/composition.csv`` levels)
recovery               PERT(low, central, high) per route and element (``data/recovery.csv``)
prices                 :math:`e^{\sigma_e z_e}` per element, :math:`\sigma_e` the annual
                       log-price volatility of ``data/prices.csv`` (random walk between the
                       shipped price years; 0.25 where fewer than three years)
=====================  ===================================================================

:class:`Spreads` scales each spread; the defaults are those calibrated on held-out published
figures (``benchmarks/uncertainty.py --coverage``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetime_table import LifetimeTable
from ewaste_tracker.flows.transfer import ExportDestinations, TransferCoefficients
from ewaste_tracker.model.run import ROUTE_KEYS, ModelInputs, PreparedRun

__all__ = ["Draw", "DrawSpace", "Spreads", "draw", "draw_space", "provenance", "tile_batch"]

logger = logging.getLogger(__name__)

DEFAULT_PRICE_SIGMA = 0.25


@dataclass(frozen=True)
class Spreads:
    """Multipliers and parameters of the input distributions (module docstring).

    Attributes
    ----------
    pom
        Multiplier :math:`k_{pom}` on the income group's cross-validated log residual sd
        (0.7: tuned so the 5-95 % band covers about 90 % of the held-out published figures;
        ``benchmarks/uncertainty.py``: 24 of 25 with a median relative width of 0.70, where
        1.0 gave 25 of 25 and 1.02).
    reported_pom
        Log sd of reported put on market.
    lifetime_shape, lifetime_scale
        Log sd of the Weibull shape and scale per product.
    tc_concentration
        Dirichlet concentration :math:`\\kappa` of transfer-coefficient rows (larger is
        narrower).
    composition, recovery
        Multiplier on the low-high range of the PERT distributions (1 = the shipped levels).
    prices
        Multiplier on the element price volatility.
    footprint
        Multiplier on the low-high range of the footprint factors' triangular distributions
        (:mod:`ewaste_tracker.uncertainty.footprint`).
    """

    pom: float = 0.7
    reported_pom: float = 0.10
    lifetime_shape: float = 0.10
    lifetime_scale: float = 0.10
    tc_concentration: float = 40.0
    composition: float = 1.0
    recovery: float = 1.0
    prices: float = 1.0
    footprint: float = 1.0


@dataclass
class DrawSpace:
    """Everything a draw needs besides its generator: the central run and the spreads."""

    base: PreparedRun
    pom_sigma: np.ndarray  # (R,) log sd of estimated put on market
    reported: np.ndarray  # (R, P, N) bool: reported put on market cells
    comp_range: tuple[np.ndarray, np.ndarray, np.ndarray]  # (P, E) low, central, high g/t
    eff_range: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # key -> (E,) l, c, h
    price_sigma: np.ndarray  # (E,)
    tc_mean: dict[tuple[str, str], np.ndarray]  # (R, 1, 1) mean share of each row
    spreads: Spreads


def _income_sigma(regions: tuple[str, ...]) -> np.ndarray:
    res = pd.read_csv(catalog.data_path("pom_cv_residuals.csv"))
    sd = res.groupby("income_group")["cv_residual_ln"].std(ddof=1)
    overall = float(res["cv_residual_ln"].std(ddof=1))
    info = catalog.countries().set_index("iso3")["income_group"]
    groups = pd.Series(regions).map(info)
    return groups.map(sd).fillna(overall).to_numpy(float)


def _price_sigma(elements: tuple[str, ...]) -> np.ndarray:
    frame = catalog.prices()
    out = np.full(len(elements), DEFAULT_PRICE_SIGMA)
    for i, el in enumerate(elements):
        sub = frame[frame["element"] == el].sort_values("year")
        if len(sub) >= 3:
            dl = np.diff(np.log(sub["usd_per_kg"].to_numpy(float)))
            dt = np.diff(sub["year"].to_numpy(float))
            out[i] = float(np.sqrt(np.mean(dl**2 / np.maximum(dt, 1.0))))
    return np.clip(out, 0.05, 0.6)


def draw_space(inputs: ModelInputs, base: PreparedRun, spreads: Spreads) -> DrawSpace:
    """Collect the central arrays and each input's range for drawing."""
    dims = base.dims
    status = inputs.pom.get("status")
    reported = np.zeros(dims.shape, dtype=bool)
    if status is not None:
        sub = inputs.pom[(status == "reported").to_numpy()]
        sub = sub[sub["year"].astype("int64").between(int(dims.years[0]), int(dims.years[-1]))]
        if len(sub):
            reported[
                dims.region_index(sub["region"]),
                dims.product_index(sub["product"]),
                sub["year"].to_numpy(np.int64) - int(dims.years[0]),
            ] = True
    central = base.composition[:, :, 0]
    levels = catalog.composition("all")
    levels = levels[levels["product"].isin(dims.products) & levels["element"].isin(dims.elements)]
    low_ratio = np.ones_like(central)
    high_ratio = np.ones_like(central)
    p = dims.product_index(levels["product"])
    e = dims.element_index(levels["element"])
    c = levels["central_g_per_t"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low_ratio[p, e] = np.where(c > 0, levels["low_g_per_t"].to_numpy(float) / c, 1.0)
        high_ratio[p, e] = np.where(c > 0, levels["high_g_per_t"].to_numpy(float) / c, 1.0)
    comp_range = (central * low_ratio, central, central * high_ratio)
    eff_range: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    rec = inputs.recovery
    for route, key in ROUTE_KEYS.items():
        mid = base.efficiencies[key][:, 0]
        lo, hi = mid.copy(), mid.copy()
        if {"low", "high"} <= set(rec.columns):
            sub = rec[rec["route"] == route]
            idx = {el: i for i, el in enumerate(dims.elements)}
            for el, a, b in zip(sub["element"], sub["low"], sub["high"], strict=True):
                if el in idx and np.isfinite(a) and np.isfinite(b):
                    lo[idx[el]], hi[idx[el]] = min(a, mid[idx[el]]), max(b, mid[idx[el]])
        eff_range[key] = (lo, mid, hi)
    tc_mean = {
        (str(k[0]), str(k[1])): np.asarray(v, float).mean(axis=(1, 2), keepdims=True)
        for k, v in base.tcs.shares.items()
    }
    return DrawSpace(
        base, _income_sigma(base.regions), reported, comp_range, eff_range,
        _price_sigma(dims.elements), tc_mean, spreads,
    )  # fmt: skip


def _pert(
    rng: np.random.Generator, lo: np.ndarray, mid: np.ndarray, hi: np.ndarray, k: float
) -> np.ndarray:
    """PERT draws on [mid - k(mid - lo), mid + k(hi - mid)] with mode ``mid``."""
    a = mid - k * (mid - lo)
    b = mid + k * (hi - mid)
    width = b - a
    safe = np.where(width > 0, width, 1.0)
    alpha = 1.0 + 4.0 * (mid - a) / safe
    beta = 1.0 + 4.0 * (b - mid) / safe
    x = rng.beta(alpha, beta)
    return np.where(width > 0, a + width * x, mid)


@dataclass
class Draw:
    """One draw's factors on the central arrays."""

    pom: np.ndarray  # (R, P, N) factor (broadcast shape (R, 1, 1) without reported cells)
    shape: np.ndarray  # (P,)
    scale: np.ndarray  # (P,)
    tc: dict[tuple[str, str], np.ndarray]  # (R, 1, 1) tilt per row key
    composition: np.ndarray  # (P, E) g/t
    efficiencies: dict[str, np.ndarray]  # (E,)
    prices: np.ndarray  # (E,) factor


def draw(space: DrawSpace, seed: int, index: int) -> Draw:
    """Draw ``index`` of ``seed`` (its own generator: independent of batches and workers)."""
    rng = np.random.default_rng([int(seed), int(index)])
    sp, base = space.spreads, space.base
    n_r, n_p = len(base.regions), len(base.dims.products)
    z = rng.standard_normal(n_r)
    z_rep = rng.standard_normal(n_r)
    pom = np.exp(sp.pom * space.pom_sigma * z)[:, None, None]
    if space.reported.any():
        pom = np.where(space.reported, np.exp(sp.reported_pom * z_rep)[:, None, None], pom)
    shape = np.exp(sp.lifetime_shape * rng.standard_normal(n_p))
    scale = np.exp(sp.lifetime_scale * rng.standard_normal(n_p))
    tc: dict[tuple[str, str], np.ndarray] = {}
    for src in sorted({k[0] for k in space.tc_mean}):
        keys = sorted(k for k in space.tc_mean if k[0] == src)
        mean = np.concatenate([space.tc_mean[k][:, 0, :] for k in keys], axis=1)  # (R, J)
        g = rng.gamma(np.where(mean > 0, sp.tc_concentration * mean, 1.0))
        g = np.where(mean > 0, g, 0.0)
        total = g.sum(axis=1, keepdims=True)
        x = np.where(total > 0, g / np.where(total > 0, total, 1.0), mean)
        w = np.where(mean > 0, x / np.where(mean > 0, mean, 1.0), 0.0)
        for j, k in enumerate(keys):
            tc[k] = w[:, j, None, None]
    lo, mid, hi = space.comp_range
    comp = _pert(rng, lo, mid, hi, sp.composition)
    mass = comp.sum(axis=1, keepdims=True)
    comp = comp * np.minimum(1.0, 1e6 / np.where(mass > 0, mass, 1.0))  # a product's own mass
    eff = {
        key: np.clip(_pert(rng, *space.eff_range[key], sp.recovery), 0.0, 1.0)
        for key in sorted(space.eff_range)
    }
    prices = np.exp(sp.prices * space.price_sigma * rng.standard_normal(len(space.price_sigma)))
    return Draw(pom, shape, scale, tc, comp, eff, prices)


def _tile_lifetimes(
    table: LifetimeTable, regions: tuple[str, ...], draws: list[Draw]
) -> LifetimeTable:
    """One lifetime group per (draw, group, product) with the draw's factors."""
    n_b = len(draws)
    n_r, n_p = table.group.shape
    g = np.asarray(table.group)
    key = (np.arange(n_b)[:, None, None] * table.n_groups + g[None]) * n_p + np.arange(n_p)
    uniq, inverse = np.unique(key.ravel(), return_inverse=True)
    d_u, rest = np.divmod(uniq, table.n_groups * n_p)
    g_u, p_u = np.divmod(rest, n_p)
    f_shape = np.stack([d.shape for d in draws])[d_u, p_u]
    f_scale = np.stack([d.scale for d in draws])[d_u, p_u]
    return LifetimeTable(
        regions=regions,
        products=table.products,
        cohort_years=table.cohort_years,
        group=inverse.reshape(n_b * n_r, n_p),
        distribution=tuple(table.distribution[i] for i in g_u),
        shape=np.asarray(table.shape)[g_u] * f_shape[:, None],
        scale=np.asarray(table.scale)[g_u] * f_scale[:, None],
        extension=tuple(table.extension[i] for i in g_u),
    )


def _tile_tcs(tcs: TransferCoefficients, regions: tuple[str, ...], draws: list[Draw]) -> dict:
    shares: dict = {}
    by_src: dict[str, list] = {}
    for k in tcs.shares:
        by_src.setdefault(str(k[0]), []).append(k)
    for keys in by_src.values():
        tilted = []
        for k in keys:
            s = np.asarray(tcs.shares[k], float)
            s = np.broadcast_to(s, (s.shape[0], *s.shape[1:]))
            w = np.concatenate([d.tc[(str(k[0]), str(k[1]))] for d in draws])
            tilted.append(np.tile(s, (len(draws), 1, 1)) * w)
        total = np.add.reduce(np.broadcast_arrays(*tilted))
        safe = np.where(total > 0, total, 1.0)
        for k, t in zip(keys, tilted, strict=True):
            shares[k] = np.where(total > 0, t / safe, np.tile(tcs.shares[k], (len(draws), 1, 1)))
    return shares


def tile_batch(space: DrawSpace, draws: list[Draw]) -> PreparedRun:
    """The central run tiled into ``len(draws)`` perturbed copies of its regions."""
    base = space.base
    n_b, n_r = len(draws), len(base.regions)
    dims = base.dims
    regions = tuple(f"{r}#{b}" for b in range(n_b) for r in dims.regions)
    dims_b = Dims(regions, dims.products, dims.years, dims.elements)
    pom = np.concatenate([base.pom * d.pom for d in draws])
    exports = base.exports
    if exports is not None:
        off = (np.arange(n_b) * n_r)[:, None]
        dest = np.asarray(exports.destination)
        exports = ExportDestinations(
            regions=regions,
            products=exports.products,
            origin=(np.asarray(exports.origin)[None] + off).ravel(),
            destination=np.where(dest[None] >= 0, dest[None] + off, dest[None]).ravel(),
            to_stage=tuple(exports.to_stage) * n_b,
            shares=np.tile(exports.shares, (n_b, 1)),
        )
    tcs = TransferCoefficients(
        regions=regions, products=base.tcs.products, years=base.tcs.years,
        shares=_tile_tcs(base.tcs, regions, draws),
    )  # fmt: skip
    comp = np.stack([d.composition for d in draws])[..., None]
    eff = {k: np.repeat(np.stack([d.efficiencies[k] for d in draws])[:, :, None], n_r, axis=0)
           for k in base.efficiencies}  # fmt: skip
    prices = None
    if base.prices is not None:
        f = np.stack([d.prices for d in draws])[:, :, None]  # (B, E, 1)
        prices = np.repeat(base.prices[None] * f, n_r, axis=0)
    return replace(
        base, dims=dims_b, pom=pom, composition=comp,
        first_life=_tile_lifetimes(base.first_life, regions, draws),
        second_life=_tile_lifetimes(base.second_life, regions, draws),
        tcs=tcs, exports=exports, efficiencies=eff, prices=prices, batch=n_b,
    )  # fmt: skip


def provenance(spreads: Spreads) -> pd.DataFrame:
    """The distributions of the draws with their parameters and sources (a table)."""
    s = spreads
    rows = [
        ("put on market (estimated)", "lognormal per region, median = central",
         f"log sd = {s.pom:g} x sd of the income group's cross-validated log residuals",
         "data/pom_cv_residuals.csv (leave-one-out residuals of the calibration, "
         "ewaste_tracker.defaults.calibration.cv_residuals)"),
        ("put on market (reported)", "lognormal per region, median = reported",
         f"log sd = {s.reported_pom:g}", "assumption: data quality of an official statistic"),
        ("lifetime shape", "lognormal per product", f"log sd = {s.lifetime_shape:g}",
         "assumption lifetime_spread (data/lifetimes.csv central values)"),
        ("lifetime scale", "lognormal per product", f"log sd = {s.lifetime_scale:g}",
         "assumption lifetime_spread (data/lifetimes.csv central values)"),
        ("transfer coefficients and export shares",
         "Dirichlet around each region's row, as a tilt of every product-year row",
         f"concentration = {s.tc_concentration:g}", "assumption (rows of the run's fates)"),
        ("composition", "PERT per product and element",
         f"range = {s.composition:g} x (low, high)", "data/composition.csv levels"),
        ("recovery efficiency", "PERT per route and element",
         f"range = {s.recovery:g} x (low, high)", "data/recovery.csv low/high"),
        ("prices", "lognormal per element",
         f"log sd = {s.prices:g} x annual log-price volatility",
         f"data/prices.csv (random walk between price years; {DEFAULT_PRICE_SIGMA} "
         "with fewer than three years)"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["input", "distribution", "parameters", "source"])
