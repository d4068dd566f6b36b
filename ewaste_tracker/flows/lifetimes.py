r"""Product lifetimes: parameter tables and discard matrices.

A *discard matrix* ``M`` of shape ``(G, N, C)`` holds, for each lifetime group ``g``, the share
of the products sold in cohort year ``c`` that are discarded in year ``n`` (zero for
``n < c``). The dynamic stock model (:mod:`ewaste_tracker.flows.stocks`) multiplies sales with it.

Distributions and their two parameters (columns ``shape`` and ``scale`` of the lifetime table)
    ``weibull``
        shape :math:`k`, scale :math:`\lambda` (years):
        :math:`f(a) = \frac{k}{\lambda}(a/\lambda)^{k-1} e^{-(a/\lambda)^k}`.
    ``lognormal``
        shape :math:`\sigma` (standard deviation of :math:`\ln a`), scale :math:`e^{\mu}`,
        i.e. the *median* lifetime (years).
    ``folded_normal``
        shape :math:`\sigma`, scale :math:`\mu`: the standard deviation and mean of the normal
        distribution *before* folding, :math:`f(a) = [\phi((a-\mu)/\sigma) +
        \phi((a+\mu)/\sigma)]/\sigma`, as in ODYM and flodym.
    ``fixed``
        scale :math:`L` = the lifetime in years; shape is ignored.

Conventions (how a continuous distribution becomes yearly shares)
    ``"unu"`` (default)
        the sales-lifespan model of the UNU / EU WEEE Calculation Tool (Forti et al. 2018,
        *E-waste statistics: guidelines on classification, reporting and indicators*, 2nd ed.,
        UNU-ViE SCYCLE; Magalini et al. 2016, *Study on collection rates of WEEE*, annex; the
        Statistics Netherlands ``ewaste`` R code): the share of a cohort discarded at age
        :math:`k = n - c` is the density at mid-year,

        .. math:: d_k = f(k + 0.5), \qquad WG(n) = \sum_{c \le n} POM(c)\, d_{n-c}.

        The shares are not renormalised; because the density at mid-year can sum to more than
        one for very short or very skewed lifetimes, the cumulative share
        :math:`D(k) = \sum_{j<k} d_j` is capped at 1 (a cohort is never discarded more than
        once, so stocks never go negative). A ``fixed`` lifetime :math:`L` discards the whole
        cohort at age :math:`\lfloor L \rfloor` (sold in 2010 with :math:`L=5`: discarded in 2015).
    ``"flodym_start"``, ``"flodym_middle"``, ``"flodym_end"``
        flodym's ``inflow_at`` options: sales enter at a point :math:`q \in \{0, 0.5, 1\}` of
        their year and survival is read at year ends,
        :math:`s_k = S(k + 1 - q)`, :math:`d_0 = 1 - s_0`, :math:`d_k = s_{k-1} - s_k`.
    ``"flodym_lobatto<n>"`` (``n`` = 2 ... 10)
        flodym's ``n_pts_per_interval = n``: :math:`s_k = \sum_j w_j S(k + 1 - q_j)` with
        Gauss-Lobatto points :math:`q_j` and weights :math:`w_j` on [0, 1].

Lifetime extension (repair, refurbishment, product-care policies)
    From the start of ``from_year`` devices *in use* age ``factor`` times slower: a cohort of
    age :math:`a_0` at the policy start has effective age
    :math:`\tau(a) = a_0 + (a - a_0)/\text{factor}` afterwards, so its discard density becomes
    :math:`f(\tau(a))\,\tau'(a)` and its total discards are conserved. Cohorts sold from
    ``from_year`` on get ``scale × factor`` (Weibull and lognormal scale, both folded-normal
    parameters, the fixed lifetime), which is the same warp started at age 0. Under ``"unu"``
    the cumulative share :math:`D` is interpolated linearly between whole ages so that the
    yearly shares before the policy are exactly :math:`f(k+0.5)` and the cohort total is
    exactly conserved. (flodym's ``lt_factor_by_year`` scales the hazard instead; it is a
    different model and is not reproduced.)
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
from numpy.polynomial import legendre
from scipy import special

from ewaste_tracker.flows.lifetime_table import (
    DISTRIBUTIONS,
    LifetimeError,
    LifetimeExtension,
    LifetimeTable,
    extension_cells,
    lifetime_table_from_frame,
    unique_rows,
)

__all__ = [
    "CONVENTIONS",
    "DISTRIBUTIONS",
    "LifetimeError",
    "LifetimeExtension",
    "LifetimeTable",
    "discard_matrix",
    "lifetime_table_from_frame",
    "lobatto_points",
]

logger = logging.getLogger(__name__)

CONVENTIONS: Final = (
    "unu",
    "flodym_start",
    "flodym_middle",
    "flodym_end",
    *(f"flodym_lobatto{n}" for n in range(2, 11)),
)
_SQRT_2PI: Final = float(np.sqrt(2.0 * np.pi))


# --- distributions -----------------------------------------------------------------------------
def _survival(dist: str, age: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Survival function S(age) = P(lifetime > age) for ages >= 0 (arrays broadcast)."""
    if dist == "weibull":
        return np.exp(-((age / scale) ** shape))
    if dist == "lognormal":
        with np.errstate(divide="ignore"):
            return special.ndtr(-np.log(age / scale) / shape)
    if dist == "folded_normal":
        return special.ndtr((scale - age) / shape) + special.ndtr(-(age + scale) / shape)
    return (age < scale).astype(float)  # fixed


def _density(dist: str, age: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Probability density f(age) for ages > 0; for ``fixed``, 1 at age floor(L) + 0.5."""
    if dist == "weibull":
        z = age / scale
        return shape / scale * z ** (shape - 1.0) * np.exp(-(z**shape))
    if dist == "lognormal":
        z = np.log(age / scale) / shape
        return np.exp(-0.5 * z * z) / (age * shape * _SQRT_2PI)
    if dist == "folded_normal":
        lo, hi = (age - scale) / shape, (age + scale) / shape
        return (np.exp(-0.5 * lo * lo) + np.exp(-0.5 * hi * hi)) / (shape * _SQRT_2PI)
    return (np.floor(scale) == age - 0.5).astype(float)  # fixed: whole cohort at age floor(L)


def _scaled(dist: str, shape: np.ndarray, scale: np.ndarray, factor: float):
    """Parameters of the lifetime ``factor`` times longer (the age warp tau = a / factor)."""
    return (shape * factor if dist == "folded_normal" else shape), scale * factor


def lobatto_points(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Lobatto points and weights mapped to [0, 1] (the weights sum to 1).

    Interior nodes are the roots of :math:`P'_{n-1}`, weights
    :math:`w_j = 2 / (n(n-1) P_{n-1}(x_j)^2)` on [-1, 1] (Abramowitz & Stegun 25.4.32),
    then halved, as flodym's ``gauss_lobatto`` tables.
    """
    if not 2 <= n <= 10:
        raise ValueError(f"Gauss-Lobatto order must be 2..10, got {n}")
    p = np.zeros(n)
    p[-1] = 1.0  # P_{n-1}
    x = np.concatenate(([-1.0], np.sort(legendre.legroots(legendre.legder(p))), [1.0]))
    w = 2.0 / (n * (n - 1) * legendre.legval(x, p) ** 2)
    return (x + 1.0) / 2.0, w / 2.0


def _quadrature(convention: str) -> tuple[np.ndarray, np.ndarray]:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown lifetime convention {convention!r}; use one of {CONVENTIONS}")
    points = {"flodym_start": 0.0, "flodym_middle": 0.5, "flodym_end": 1.0}
    if convention in points:
        return np.array([points[convention]]), np.array([1.0])
    return lobatto_points(int(convention.removeprefix("flodym_lobatto")))


# --- yearly shares d[g, c, k] ----------------------------------------------------------------
def _shares(
    dists: tuple[str, ...], shape: np.ndarray, scale: np.ndarray, n_ages: int, convention: str
) -> np.ndarray:
    """Discard shares by age ``(G, C, n_ages)`` without a policy.

    Identical (distribution, shape, scale) triples across groups and cohorts are evaluated once:
    the loop runs over the few distribution *types*, never over cells.
    """
    n_g, n_c = shape.shape
    code = np.broadcast_to(np.array([DISTRIBUTIONS.index(d) for d in dists])[:, None], (n_g, n_c))
    triples = np.stack([code.ravel(), shape.ravel(), scale.ravel()], axis=1)
    first, inverse = unique_rows(triples)
    uniq = triples[first]
    ages = np.arange(n_ages, dtype=float)
    out = np.empty((uniq.shape[0], n_ages))
    for k, dist in enumerate(DISTRIBUTIONS):
        sel = uniq[:, 0] == k
        if not np.any(sel):
            continue
        shp, scl = uniq[sel, 1:2], uniq[sel, 2:3]
        if convention == "unu":
            out[sel] = _density(dist, ages + 0.5, shp, scl)
        else:
            q, w = _quadrature(convention)
            surv = _survival(dist, ages[:, None] + 1.0 - q, shp[..., None], scl[..., None]) @ w
            out[sel] = -np.diff(surv, axis=1, prepend=1.0)
    if convention == "unu":  # cap the cumulative share at 1 (see module docstring)
        out = np.diff(np.minimum(np.cumsum(out, axis=1), 1.0), axis=1, prepend=0.0)
    return out[inverse.ravel()].reshape(n_g, n_c, n_ages)


def _shares_extended(
    dists: tuple[str, ...],
    shape: np.ndarray,
    scale: np.ndarray,
    years: np.ndarray,
    extension: LifetimeExtension,
    convention: str,
) -> np.ndarray:
    """Discard shares ``(G, C, N)`` of groups under ``extension`` (time warp of age)."""
    n_g, n_c = shape.shape
    n_ages = years.size
    start, f = float(extension.from_year), float(extension.factor)
    out = np.empty((n_g, n_c, n_ages))
    if convention == "unu":
        new = years >= start  # sold under the policy: scale x factor, same convention
        for dist in sorted(set(dists)):
            g = np.array([d == dist for d in dists])
            shp, scl = _scaled(dist, shape[g][:, new], scale[g][:, new], f)
            out[np.ix_(g, new)] = _shares((dist,) * int(g.sum()), shp, scl, n_ages, "unu")
        old = ~new
        if np.any(old):
            # capped cumulative share D at whole ages 0..N+1, interpolated at warped ages
            d = _shares(dists, shape[:, old], scale[:, old], n_ages + 1, "unu")
            cum = np.concatenate([np.zeros((*d.shape[:2], 1)), np.cumsum(d, axis=2)], axis=2)
            cum = np.minimum(cum, 1.0)
            a0 = (start - years[old])[:, None]  # age at the policy start (>= 1)
            edge = np.arange(n_ages + 1, dtype=float)[None, :]
            tau = np.where(edge > a0, a0 + (edge - a0) / f, edge)  # (C_old, N+1)
            idx = np.minimum(np.floor(tau).astype(np.intp), n_ages)
            frac = (tau - idx)[None]
            idx = np.broadcast_to(idx[None], (*cum.shape[:2], n_ages + 1))
            lo = np.take_along_axis(cum, idx, axis=2)
            hi = np.take_along_axis(cum, idx + 1, axis=2)
            out[:, old] = np.diff(lo + frac * (hi - lo), axis=2)
        return out
    q, w = _quadrature(convention)
    ages = np.arange(n_ages, dtype=float)[None, :, None] + 1.0 - q  # (1, K, Q) at year ends
    a0 = np.maximum(start - years[:, None, None] - q, 0.0)  # (C, 1, Q); 0 = sold under policy
    tau = np.where(ages > a0, a0 + (ages - a0) / f, ages)
    for dist in sorted(set(dists)):
        g = np.array([d == dist for d in dists])
        surv = _survival(dist, tau[None], shape[g][:, :, None, None], scale[g][:, :, None, None])
        out[g] = -np.diff(surv @ w, axis=2, prepend=1.0)
    return out


def discard_matrix(
    table: LifetimeTable,
    years: np.ndarray | list[int],
    *,
    convention: str = "unu",
    extension: LifetimeExtension | None = None,
) -> np.ndarray:
    r"""Share of each cohort discarded in each year, for every lifetime group.

    Parameters
    ----------
    table
        Lifetime groups and their parameters by cohort year.
    years
        Consecutive model years (a contiguous run of ``table.cohort_years``); they are both the
        discard years ``n`` and the cohort years ``c``.
    convention
        ``"unu"`` (density at mid-year, WEEE Calculation Tool) or one of flodym's:
        ``"flodym_start"``, ``"flodym_middle"``, ``"flodym_end"``, ``"flodym_lobatto2"`` ...
        ``"flodym_lobatto10"`` (see the module docstring and :data:`CONVENTIONS`).
    extension
        A lifetime-extension policy applied on top of the policies stored in ``table``. Its
        products/regions must cover whole groups; otherwise call
        :meth:`LifetimeTable.with_extension` first, which splits the groups.

    Returns
    -------
    numpy.ndarray
        ``M`` of shape ``(G, N, N)``: ``M[g, n, c]`` = share of cohort ``c`` discarded in
        year ``n``; zero for ``n < c``; each column sums to at most 1.

    Examples
    --------
    Mobile phones (UNU-KEY 0306, Weibull shape 1.56, scale 6.26) under the UNU convention:

    >>> from ewaste_tracker.flows.dims import Dims
    >>> dims = Dims(("NLD",), ("0306",), np.arange(2000, 2011))
    >>> table = LifetimeTable.from_arrays(dims, "weibull", 1.56, 6.26)
    >>> discard_matrix(table, dims.years)[0, :3, 0].round(4)
    array([0.0594, 0.1005, 0.1174])
    """
    years = np.asarray(years, dtype=np.int64)
    if years.ndim != 1 or years.size == 0 or np.any(np.diff(years) != 1):
        raise ValueError("discard_matrix: years must be consecutive calendar years")
    pos = np.searchsorted(table.cohort_years, years)
    if np.any(pos >= table.cohort_years.size) or np.any(table.cohort_years[pos] != years):
        raise ValueError(
            f"discard_matrix: years {years[0]}-{years[-1]} are not all among the table's cohort "
            f"years {table.cohort_years[0]}-{table.cohort_years[-1]}"
        )
    if convention != "unu":
        _quadrature(convention)  # validates the name
    policies = list(table.extension)
    if extension is not None:
        hit = extension_cells(table, extension).ravel()
        n_cells = np.bincount(table.group.ravel(), minlength=table.n_groups)
        n_hit = np.bincount(table.group.ravel(), weights=hit, minlength=table.n_groups)
        partial = np.flatnonzero((n_hit > 0) & (n_hit < n_cells))
        if partial.size:
            raise ValueError(
                f"the lifetime extension covers only part of lifetime group(s) "
                f"{partial[:5].tolist()}; call table.with_extension(extension) first"
            )
        for g in np.flatnonzero(n_hit > 0):
            if policies[g] is not None:
                raise ValueError(f"lifetime group {g} already carries a lifetime extension")
            policies[g] = extension
    shape, scale = table.shape[:, pos], table.scale[:, pos]
    n = years.size
    shares = _shares(table.distribution, shape, scale, n, convention)
    for policy in {p for p in policies if p is not None}:  # a loop over distinct policies
        hit = np.array([p == policy for p in policies])
        dists = tuple(d for d, sel in zip(table.distribution, hit, strict=True) if sel)
        shares[hit] = _shares_extended(dists, shape[hit], scale[hit], years, policy, convention)
    m = np.zeros((table.n_groups, n, n))
    rows, cols = np.tril_indices(n)
    m[:, rows, cols] = shares[:, cols, rows - cols]
    logger.debug("discard matrix: %d groups x %d years (%s)", table.n_groups, n, convention)
    return m
