r"""Dynamic stock models: put on market → in-use stock → e-waste generated.

All functions take dense ``(R, P, N)`` arrays (region, product, year; tonnes), the ``(R, P)``
lifetime-group index of each cell and the discard matrix ``M`` ``(G, N, N)`` from
:func:`ewaste_tracker.flows.lifetimes.discard_matrix` (``M[g, n, c]`` = share of cohort ``c``
discarded in year ``n``).

Inflow-driven model (sales-lifespan model; Wang et al. 2013, *J. Ind. Ecol.* 17(1) 22-35;
Forti et al. 2018, UNU-ViE SCYCLE)

.. math::

    O_n = \sum_{c \le n} M_{n,c}\, I_c, \qquad S_n = \sum_{m \le n} (I_m - O_m)

with :math:`I` the inflow (put on market, POM), :math:`O` the outflow (waste generated, WG)
and :math:`S` the stock at the end of year :math:`n`; the stock before the first year is zero.
Cells are grouped by lifetime group and each group is one matrix product
:math:`O = I\, M_g^{\top}` (BLAS), so the Python loop runs over the G groups only.

Stock-driven model (Müller 2006, *Ecol. Econ.* 59(1) 142-156; ODYM, Pauliuk & Heeren 2020,
*J. Ind. Ecol.* 24(3) 446-458) solves the same equations for the inflow, year by year and
vectorised over cells:

.. math::

    I_n = \frac{S_n - S_{n-1} + O^{old}_n}{1 - M_{n,n}}, \qquad
    O^{old}_n = \sum_{c<n} M_{n,c}\, \rho_c\, I_c

where the new cohort's own same-year discards are covered by dividing by :math:`1 - M_{n,n}`.
When that inflow would be negative (the stock target falls faster than products wear out)
the inflow is set to zero and the surplus :math:`\delta = S_{n-1} - O^{old}_n - S_n` leaves
the stock in that year, every cohort losing the same fraction
:math:`\delta / (S_{n-1} - O^{old}_n)` (ODYM's ``NegativeInflowCorrect``). :math:`\rho_c`
records these premature removals so that a cohort's later discards shrink with its stock.
The stock target is met exactly, inflow and outflow are never negative and
:math:`S_n - S_{n-1} = I_n - O_n` holds in every year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

__all__ = [
    "StockError",
    "StockResult",
    "inflow_driven",
    "stock_by_cohort",
    "stock_driven",
    "to_mass",
    "to_pieces",
]

logger = logging.getLogger(__name__)


class StockError(ValueError):
    """Inputs to a dynamic stock model are inconsistent.

    Attributes
    ----------
    region, product
        0-based cell index of the culprit, when one cell is to blame.
    year
        0-based year index, when one year is to blame.
    """

    def __init__(
        self,
        message: str,
        *,
        region: int | None = None,
        product: int | None = None,
        year: int | None = None,
    ) -> None:
        self.reason = message
        self.region, self.product, self.year = region, product, year
        where = ", ".join(
            f"{name} index {value}"
            for name, value in (("region", region), ("product", product), ("year", year))
            if value is not None
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class StockResult:
    """Inflow, outflow and end-of-year stock of a dynamic stock model, each ``(R, P, N)``."""

    inflow: np.ndarray
    outflow: np.ndarray
    stock: np.ndarray

    @property
    def stock_change(self) -> np.ndarray:
        """``stock[n] - stock[n-1]`` with a zero stock before the first year."""
        return np.diff(self.stock, axis=-1, prepend=0.0)


def _check(values: np.ndarray, group: np.ndarray, m: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 3:
        raise StockError(f"{name} must be a (regions, products, years) array, got {arr.shape}")
    n_r, n_p, n = arr.shape
    if np.shape(group) != (n_r, n_p):
        raise StockError(f"group must be ({n_r}, {n_p}), got {np.shape(group)}")
    if m.ndim != 3 or m.shape[1:] != (n, n):
        raise StockError(f"discard matrix must be (G, {n}, {n}), got {m.shape}")
    if group.size and (group.min() < 0 or group.max() >= m.shape[0]):
        raise StockError(f"group indices must lie in 0..{m.shape[0] - 1}")
    if arr.size and not (np.isfinite(arr.sum()) and arr.min() >= 0):  # two fast reductions
        bad = ~np.isfinite(arr) | (arr < 0)
        if np.any(bad):
            r, p, y = (int(i) for i in np.argwhere(bad)[0])
            raise StockError(
                f"{name} must be finite and >= 0, got {arr[r, p, y]!r}",
                region=r,
                product=p,
                year=y,
            )
    return arr


def _by_group(group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell order sorting cells by group, and the groups' start/stop in that order."""
    flat = group.ravel()
    order = np.argsort(flat, kind="stable")
    groups, starts = np.unique(flat[order], return_index=True)
    stops = np.append(starts[1:], flat.size)
    return order, groups, np.stack([starts, stops], axis=1)


def inflow_driven(inflow: np.ndarray, group: np.ndarray, m: np.ndarray) -> StockResult:
    """Outflow (waste generated) and stock from the inflow (put on market).

    Parameters
    ----------
    inflow
        ``(R, P, N)`` inflow in tonnes (or pieces), >= 0.
    group
        ``(R, P)`` lifetime group of each cell (``LifetimeTable.group``).
    m
        ``(G, N, N)`` discard matrix.

    Returns
    -------
    StockResult
        ``outflow[r, p, n] = sum_c m[group[r, p], n, c] * inflow[r, p, c]`` and
        ``stock = cumsum(inflow - outflow)`` over years.
    """
    x = _check(inflow, group, m, "inflow")
    n_r, n_p, n = x.shape
    flat = x.reshape(-1, n)
    order, groups, bounds = _by_group(np.asarray(group))
    ordered = flat[order]
    out_ordered = np.empty_like(ordered)
    for g, (start, stop) in zip(groups, bounds, strict=True):  # one BLAS product per group
        np.matmul(ordered[start:stop], m[g].T, out=out_ordered[start:stop])
    outflow = np.empty_like(flat)
    outflow[order] = out_ordered
    outflow = outflow.reshape(n_r, n_p, n)
    stock = np.cumsum(x - outflow, axis=-1)
    return StockResult(inflow=x, outflow=outflow, stock=stock)


def stock_by_cohort(
    inflow: np.ndarray,
    group: np.ndarray,
    m: np.ndarray,
    *,
    regions: np.ndarray | list[int] | slice | None = None,
    products: np.ndarray | list[int] | slice | None = None,
) -> np.ndarray:
    """Stock by cohort ``(R', P', N, C)`` for a subset of cells of an inflow-driven model.

    ``stock[r, p, n, c] = inflow[r, p, c] * (1 - sum_{k<=n} m[g, k, c])`` for ``n >= c``, else 0.
    Select cells with index arrays or slices (``None`` = all); the full global workload would
    be R·P·N² numbers, so ask only for what is shown.
    """
    x = _check(inflow, group, m, "inflow")
    rsel = slice(None) if regions is None else regions
    psel = slice(None) if products is None else products
    sub = x[rsel][:, psel]
    sub_group = np.asarray(group)[rsel][:, psel]
    n = x.shape[-1]
    used = np.unique(sub_group)
    survive = 1.0 - np.cumsum(m[used], axis=1)
    survive *= np.tri(n, dtype=bool)[None]
    lookup = np.searchsorted(used, sub_group)
    return sub[:, :, None, :] * survive[lookup]


def stock_driven(stock: np.ndarray, group: np.ndarray, m: np.ndarray) -> StockResult:
    """Inflow and outflow needed to hold a stock target (see the module docstring).

    Parameters
    ----------
    stock
        ``(R, P, N)`` end-of-year stock target, >= 0; the stock before the first year is zero.
    group
        ``(R, P)`` lifetime group of each cell.
    m
        ``(G, N, N)`` discard matrix.

    Returns
    -------
    StockResult
        ``inflow`` >= 0, ``outflow`` >= 0 (discards plus any surplus removed when the target
        falls faster than products wear out), ``stock`` = the target.

    Raises
    ------
    StockError
        If a positive stock is asked for in a cell whose products are all discarded in their
        year of sale (``M[n, n] = 1``).
    """
    s = _check(stock, group, m, "stock")
    n_r, n_p, n = s.shape
    target = s.reshape(-1, n)
    cells = target.shape[0]
    g = np.asarray(group).ravel()
    inflow = np.zeros((cells, n))
    outflow = np.zeros((cells, n))
    rho = np.ones((cells, n))  # share of each cohort not yet removed as surplus
    previous = np.zeros(cells)
    keep_first = 1.0 - m[:, np.arange(n), np.arange(n)]  # (G, N): 1 - M[n, n]
    n_corrected = 0
    for y in range(n):  # recurrence over years, vectorised over cells
        old = np.einsum("kc,kc->k", m[g, y, :y], inflow[:, :y] * rho[:, :y]) if y else 0.0
        remaining = previous - old
        need = target[:, y] - remaining
        keep = keep_first[g, y]
        short = (need > 0) & (keep <= 0)
        if np.any(short):
            r, p = np.unravel_index(int(np.flatnonzero(short)[0]), (n_r, n_p))
            raise StockError(
                "a positive stock cannot be held: all products are discarded in their year of "
                "sale (M[n, n] = 1)",
                region=int(r),
                product=int(p),
                year=y,
            )
        surplus = need < 0
        inflow[:, y] = np.where(surplus, 0.0, need / np.where(keep > 0, keep, 1.0))
        removed = np.where(surplus, -need, 0.0)
        if np.any(surplus):
            n_corrected += int(surplus.sum())
            factor = np.where(surplus, target[:, y] / np.where(remaining > 0, remaining, 1.0), 1.0)
            rho[:, :y] *= factor[:, None]
        outflow[:, y] = old + inflow[:, y] * (1.0 - keep) + removed
        previous = target[:, y]
    if n_corrected:
        logger.info(
            "stock-driven model: %d cell-years with a falling stock target had their inflow set "
            "to zero and the surplus removed proportionally from all cohorts",
            n_corrected,
        )
    shape = (n_r, n_p, n)
    return StockResult(inflow=inflow.reshape(shape), outflow=outflow.reshape(shape), stock=s.copy())


def _unit_weight(unit_weight_kg: np.ndarray | float, n_products: int, n_years: int) -> np.ndarray:
    w = np.asarray(unit_weight_kg, dtype=float)
    if w.ndim == 0:
        w = w.reshape(1, 1)
    elif w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] not in (1, n_products) or w.shape[1] not in (1, n_years):
        raise ValueError(
            f"unit weights must be (products,) or (products, years) = ({n_products}, {n_years}), "
            f"got {np.shape(unit_weight_kg)}"
        )
    bad = ~(np.isfinite(w) & (w > 0))
    if np.any(bad):
        p, y = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"unit weight must be a positive number of kg: product index {p}, "
            f"year index {y} has {w[p, y]!r}"
        )
    return w[None]


def to_pieces(mass_t: np.ndarray, unit_weight_kg: np.ndarray | float) -> np.ndarray:
    """Tonnes to pieces: ``pieces = 1000 · mass_t / unit_weight_kg``.

    ``mass_t`` is ``(R, P, N)``; ``unit_weight_kg`` (average kg per piece, e.g. the UNU-KEY
    weights) is a scalar, ``(P,)`` or ``(P, N)`` for weights that change over time.
    """
    mass = np.asarray(mass_t, dtype=float)
    return 1000.0 * mass / _unit_weight(unit_weight_kg, mass.shape[-2], mass.shape[-1])


def to_mass(pieces: np.ndarray, unit_weight_kg: np.ndarray | float) -> np.ndarray:
    """Pieces to tonnes: ``mass_t = pieces · unit_weight_kg / 1000`` (inverse of to_pieces)."""
    count = np.asarray(pieces, dtype=float)
    return count * _unit_weight(unit_weight_kg, count.shape[-2], count.shape[-1]) / 1000.0
