"""Exact facility-location models on a cost matrix, solved with HiGHS.

All functions take a dense cost matrix ``cost`` of shape (n_demand, n_candidates) in
minutes (``inf`` = unreachable) and demand weights ``w`` (tonnes per year), and return a
:class:`Solution`. Fixed sites are forced open (:math:`y_j = 1`).

p-median (Hakimi 1964), uncapacitated
    Radius formulation of Elloumi (2010) written with the incremental constraints of
    García, Labbé & Marín (2011). For client :math:`i` let
    :math:`D_i^0 < D_i^1 < \\dots` be its distinct finite distances and
    :math:`G_i^k = \\{j : d_{ij} = D_i^k\\}`; :math:`z_{ik} = 1` when :math:`i` is not served
    within :math:`D_i^k`:

    .. math::
        \\min \\sum_i w_i \\Big(D_i^0 + \\sum_{k} (D_i^{k+1} - D_i^k) z_{ik}\\Big)
        \\quad\\text{s.t.}\\quad \\sum_j y_j = p,\\;
        z_{i0} + \\sum_{j \\in G_i^0} y_j \\ge 1,\\;
        z_{ik} - z_{i,k-1} + \\sum_{j \\in G_i^k} y_j \\ge 0,\\; z \\ge 0,\\; y \\in \\{0,1\\}.

    Summing the incremental rows gives Elloumi's :math:`z_{ik} + \\sum_{d_{ij} \\le D_i^k}
    y_j \\ge 1`, so the LP bound is the same with far fewer non-zeros. Levels beyond the
    :math:`(M-p+1)`-th nearest candidate (or the nearest fixed site) are never needed.
    Following García et al., only levels up to :math:`L_i` are modelled at first (a
    relaxation: client cost is :math:`\\min(d_i(y), D_i^{L_i})`), with :math:`L_i` the level
    a greedy + interchange heuristic (Teitz & Bart 1968) uses; after each solve, clients
    served beyond their last level get more levels. When none is, the relaxed optimum is
    feasible at its true cost and therefore optimal for the full problem.

p-median, capacitated
    Classic assignment formulation (ReVelle & Swain 1970) with fractional assignment
    :math:`x_{ij}`, :math:`\\sum_j x_{ij} = 1`, :math:`\\sum_i w_i x_{ij} \\le Q_j y_j`,
    :math:`x_{ij} \\le y_j`; slower than the radius formulation.

MCLP (Church & ReVelle 1974)
    :math:`\\max \\sum_i w_i c_i` s.t. :math:`c_i \\le \\sum_{j \\in N_i} y_j`,
    :math:`\\sum_j y_j = p`, :math:`0 \\le c_i \\le 1`, with :math:`N_i = \\{j: d_{ij} \\le T\\}`.
    Clients with identical :math:`N_i` are merged (their weights add), which is exact, and
    candidates whose coverage set another's contains are dropped (kept when fewer than
    :math:`p` would remain), also exact: the coverage sets matter, not the distances.
    Capacitated: :math:`c` replaced by :math:`x_{ij}` on coverable pairs with
    :math:`\\sum_j x_{ij} \\le 1` and :math:`\\sum_i w_i x_{ij} \\le Q_j y_j`.

LSCP (Toregas et al. 1971)
    :math:`\\min \\sum_j y_j` s.t. :math:`\\sum_{j \\in N_i} y_j \\ge 1` for every coverable
    client (identical rows merged); capacitated: every client fully assigned within
    :math:`T` under the capacities.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)


class SitingError(ValueError):
    """An instance that cannot be solved as posed (names the parameter or site)."""


@dataclass
class Solution:
    """Optimal (or best-found) sites and assignments of a location model.

    Attributes
    ----------
    open : numpy.ndarray
        (M,) bool, chosen sites (fixed sites included).
    rows, cols, frac : numpy.ndarray
        Assignment triplets: demand row, candidate column, share of the demand's weight.
    objective : float
        Model objective (weighted cost, covered weight or number of sites).
    bound : float
        Best proven bound on the objective.
    gap : float
        Relative optimality gap :math:`|obj - bound| / \\max(|obj|, 10^{-9})`; 0 when proven.
    status : str
        ``"optimal"``, ``"time_limit"`` or ``"infeasible"``.
    seconds : float
        Wall time of the solve (model building included).
    excluded : numpy.ndarray
        Demand rows that no candidate can serve (left out of the model).
    """

    open: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    frac: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    info: dict = field(default_factory=dict)


def _quiet_highs() -> Any:
    """A HiGHS instance that prints nothing.

    The first instance in a process prints HiGHS's version banner to standard output from its
    C++ constructor, before any option can be set, so the constructor runs with file
    descriptor 1 pointed at the null device.
    """
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def _highs(
    c: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    integer: np.ndarray,
    A: sp.spmatrix,
    rlo: np.ndarray,
    rhi: np.ndarray,
    *,
    maximize: bool = False,
    offset: float = 0.0,
    time_limit: float | None = None,
    rel_gap: float = 1e-7,
    start: np.ndarray | None = None,
    cutoff: float | None = None,
) -> tuple[np.ndarray | None, float, float, str]:
    """Solve a MIP (or LP) with highspy; return (x, objective, dual bound, status).

    ``status`` is ``"optimal"``, ``"time_limit"`` (``x`` is the best solution found, or
    ``None``) or ``"infeasible"`` (also when nothing beats ``cutoff``).
    """
    import highspy

    A = sp.csc_matrix(A)
    h = _quiet_highs()
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    if cutoff is not None:
        h.setOptionValue("objective_bound", float(cutoff))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(c.size), int(A.shape[0])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, lb, ub
    lp.row_lower_, lp.row_upper_ = rlo, rhi
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr, A.indices
    lp.a_matrix_.value_ = A.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    kinds = [highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger]
    lp.integrality_ = [kinds[int(b)] for b in integer]
    if maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    S = highspy.HighsModelStatus
    info = h.getInfo()
    bound = float(info.mip_dual_bound) if integer.any() else float(info.objective_function_value)
    has_x = info.primal_solution_status == 2
    if status == S.kOptimal:
        x = np.asarray(h.getSolution().col_value)
        return x, float(info.objective_function_value), bound, "optimal"
    if status in (S.kInfeasible, S.kObjectiveBound) and not has_x:
        return None, np.nan, np.nan, "infeasible"
    if status in (S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt):
        if not has_x:
            return None, np.nan, bound, "time_limit"
        x = np.asarray(h.getSolution().col_value)
        return x, float(info.objective_function_value), bound, "time_limit"
    raise SitingError(f"HiGHS stopped with status {h.modelStatusToString(status)!r}")


def _gap(obj: float, bound: float) -> float:
    if not np.isfinite(bound):
        return 1.0
    diff = abs(obj - bound)
    if diff <= 1e-9 * max(1.0, abs(obj)):
        return 0.0
    return diff / max(abs(obj), 1e-9)


def _fixed_mask(fixed: np.ndarray | None, m: int) -> np.ndarray:
    mask = np.zeros(m, bool)
    if fixed is not None:
        mask[np.asarray(fixed, dtype=np.int64)] = True
    return mask


def _nearest_assign(cost: np.ndarray, is_open: np.ndarray, rows: np.ndarray):
    sub = np.where(is_open[None, :], cost[rows], np.inf)
    col = sub.argmin(axis=1)
    ok = np.isfinite(sub[np.arange(rows.size), col])
    return rows[ok], col[ok], np.ones(int(ok.sum()))


def _assignment_rows(
    ii: np.ndarray, jj: np.ndarray, w: np.ndarray, q: np.ndarray, n: int, m: int
) -> tuple[sp.csc_matrix, int]:
    """Rows of assignment models; columns are y (m) then x (one per pair ii, jj).

    Rows: per served client :math:`\\sum_j x_{ij}` | capacity
    :math:`\\sum_i w_i x_{ij} - Q_j y_j` | linking :math:`x_{ij} - y_j`.
    """
    k = ii.size
    xcol = m + np.arange(k)
    keep_rows = np.unique(ii)
    rpos = np.full(n, -1)
    rpos[keep_rows] = np.arange(keep_rows.size)
    na = keep_rows.size
    link = na + m + np.arange(k)
    r = np.concatenate([rpos[ii], na + jj, na + np.arange(m), link, link])
    c = np.concatenate([xcol, xcol, np.arange(m), xcol, jj])
    v = np.concatenate([np.ones(k), w[ii], -q, np.ones(k), -np.ones(k)])
    return sp.csc_matrix((v, (r, c)), shape=(na + m + k, m + k)), na


def _p_row(m: int, k: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, m + k))


# --------------------------------------------------------------------------- p-median


def solve_pmedian_capacitated(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    capacity: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    rel_gap: float = 1e-7,
) -> Solution:
    """Capacitated p-median, classic formulation with fractional assignment (module notes).

    Parameters
    ----------
    cost, w, p, fixed, time_limit, rel_gap
        As in :func:`solve_pmedian`.
    capacity
        (M,) tonnes per year each site can receive.

    Returns
    -------
    Solution
        ``frac`` holds the assigned share of each demand.
    """
    t0 = time.perf_counter()
    cost, w = np.asarray(cost, float), np.asarray(w, float)
    n, m = cost.shape
    fx = _fixed_mask(fixed, m)
    if not 1 <= p <= m or fx.sum() > p:
        raise SitingError(f"p = {p} must be between the {int(fx.sum())} fixed site(s) and {m}")
    reach = np.isfinite(cost).any(axis=1)
    excluded = np.flatnonzero(~reach)
    ii, jj = np.nonzero(np.isfinite(cost) & (w[:, None] > 0))
    A, na = _assignment_rows(ii, jj, w, np.asarray(capacity, float), n, m)
    k = ii.size
    A = sp.vstack([A, _p_row(m, k)]).tocsc()
    rlo = np.concatenate([np.ones(na), np.full(m + k, -np.inf), [p]])
    rhi = np.concatenate([np.ones(na), np.zeros(m + k), [p]])
    obj = np.concatenate([np.zeros(m), w[ii] * cost[ii, jj]])
    lb = np.concatenate([fx.astype(float), np.zeros(k)])
    ub = np.ones(m + k)
    integer = np.arange(m + k) < m
    x, val, b, st = _highs(obj, lb, ub, integer, A, rlo, rhi, time_limit=time_limit,
                           rel_gap=rel_gap)  # fmt: skip
    if x is None:
        raise SitingError(
            "capacitated p-median: no feasible solution (total capacity of any p sites is "
            "below the demand, or the time limit ran out before one was found)"
        )
    xs = x[m:]
    sel = xs > 1e-9
    bound = b if st != "optimal" else min(b, val)
    return Solution(
        x[:m] > 0.5, ii[sel], jj[sel], xs[sel], val, bound, _gap(val, bound), st,
        time.perf_counter() - t0, excluded,
    )  # fmt: skip


# --------------------------------------------------------------------------- covering


def _check_p(p: int, m: int, fx: np.ndarray) -> None:
    if not 1 <= p <= m or fx.sum() > p:
        raise SitingError(f"p = {p} must be between the {int(fx.sum())} fixed site(s) and {m}")


def _merge_rows(cov: np.ndarray, rows: np.ndarray, w: np.ndarray):
    """Group clients with identical coverage sets; return representatives and group weights."""
    packed = np.packbits(cov[rows], axis=1)
    _, first, inv = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    weights = np.bincount(inv.ravel(), weights=w[rows], minlength=first.size)
    return rows[first], weights


def _greedy_cover(cov: np.ndarray, w: np.ndarray, p: int, fx: np.ndarray) -> np.ndarray:
    y = fx.copy()
    covered = cov[:, y].any(axis=1)
    while y.sum() < p:
        gain = w[~covered] @ cov[~covered]
        gain[y] = -1.0
        j = int(gain.argmax())
        y[j] = True
        covered |= cov[:, j]
    return y


def _covered_assign(cost: np.ndarray, y: np.ndarray, minutes: float):
    rows = np.flatnonzero((cost[:, y] <= minutes).any(axis=1)) if y.any() else np.zeros(0, int)
    return _nearest_assign(cost, y, rows)


def _undominated(
    cov: np.ndarray, fx: np.ndarray, p: int, travel: np.ndarray | None = None
) -> np.ndarray:
    """Candidates whose coverage set no other candidate contains (fixed ones always kept).

    Candidate :math:`j` is dominated by :math:`k` when :math:`N^j \\subseteq N^k` (the
    clients each covers). Between two sites that cover the same clients the one with the
    smaller weighted travel time to them (``travel``) is kept, then the lower index, so a
    recycler offered equal coverage gets the site nearer its demand. Swapping a dominated
    site for an undominated one never lowers coverage, so when at least ``p`` sites are kept some
    optimum uses only kept sites (Church & ReVelle 1974 note the same dominance); otherwise
    every candidate is kept. The test is one (M, M) product of the coverage matrix.
    """
    m = cov.shape[1]
    if m > 8_000 or m * m * max(cov.shape[0], 1) > 4e10 or cov.shape[0] >= 2**24:
        return np.ones(m, bool)
    c = cov.astype(np.float32)
    inter = c.T @ c  # inter[j, k] = |N^j ∩ N^k| (exact in float32 below 2**24 clients)
    size = np.diag(inter).copy()
    idx = np.arange(m)
    inside = inter >= size[:, None]  # N^j ⊆ N^k
    t = np.zeros(m) if travel is None else np.asarray(travel, float)
    tie = (t[None, :] < t[:, None]) | ((t[None, :] == t[:, None]) & (idx[None, :] < idx[:, None]))
    before = (size[None, :] > size[:, None]) | tie
    np.fill_diagonal(inside, False)
    keep = ~(inside & before).any(axis=1) | fx
    return keep if keep.sum() >= p else np.ones(m, bool)


def solve_mclp(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    minutes: float,
    *,
    fixed: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    time_limit: float | None = None,
    rel_gap: float = 1e-7,
) -> Solution:
    """Maximal covering location problem (Church & ReVelle 1974); see module notes.

    Parameters
    ----------
    cost, w, p, fixed, time_limit, rel_gap
        As in :func:`solve_pmedian`.
    minutes
        Coverage standard :math:`T`: client covered when :math:`d_{ij} \\le T`.
    capacity
        (M,) tonnes per year per site, or ``None``.

    Returns
    -------
    Solution
        Objective = covered weight; assignments only for covered demand.
    """
    t0 = time.perf_counter()
    cost, w = np.asarray(cost, float), np.asarray(w, float)
    n, m = cost.shape
    fx = _fixed_mask(fixed, m)
    _check_p(p, m, fx)
    cov = cost <= minutes
    excluded = np.flatnonzero(~cov.any(axis=1))
    if capacity is None:
        live = np.flatnonzero(cov.any(axis=1) & (w > 0))
        reps, wg = _merge_rows(cov, live, w)
        travel = w[live] @ np.where(cov[live], cost[live], 0.0)
        ycols = np.flatnonzero(_undominated(cov[reps], fx, p, travel))
        covr = cov[reps][:, ycols]
        g, mc = reps.size, ycols.size
        gi, gj = np.nonzero(covr)
        r = np.concatenate([np.arange(g), gi, np.full(mc, g)])
        c = np.concatenate([mc + np.arange(g), gj, np.arange(mc)])
        v = np.concatenate([np.ones(g), -np.ones(gi.size), np.ones(mc)])
        A = sp.csc_matrix((v, (r, c)), shape=(g + 1, mc + g))
        rlo = np.concatenate([np.full(g, -np.inf), [p]])
        rhi = np.concatenate([np.zeros(g), [p]])
        obj = np.concatenate([np.zeros(mc), wg])
        y0 = _greedy_cover(covr, wg, p, fx[ycols])
        start = np.concatenate([y0, (covr & y0[None, :]).any(axis=1)]).astype(float)
        info = {"merged_rows": int(g), "candidates_kept": int(mc)}
    else:
        ycols, mc = np.arange(m), m
        ii, jj = np.nonzero(cov & (w[:, None] > 0))
        A, na = _assignment_rows(ii, jj, w, np.asarray(capacity, float), n, m)
        k = ii.size
        A = sp.vstack([A, _p_row(m, k)]).tocsc()
        rlo = np.concatenate([np.full(na + m + k, -np.inf), [p]])
        rhi = np.concatenate([np.ones(na), np.zeros(m + k), [p]])
        obj = np.concatenate([np.zeros(m), w[ii]])
        start, info = None, {}
    ncol = obj.size
    lb = np.concatenate([fx[ycols].astype(float), np.zeros(ncol - mc)])
    integer = np.arange(ncol) < mc
    x, val, b, st = _highs(obj, lb, np.ones(ncol), integer, A, rlo, rhi, maximize=True,
                           time_limit=time_limit, rel_gap=rel_gap, start=start)  # fmt: skip
    if x is None:
        raise SitingError("MCLP: no feasible solution found within the time limit")
    y = np.zeros(m, bool)
    y[ycols[x[:mc] > 0.5]] = True
    if capacity is None:
        rows, cols, frac = _covered_assign(cost, y, minutes)
        val = float(w[rows].sum())
    else:
        sel = x[m:] > 1e-9
        rows, cols, frac = ii[sel], jj[sel], x[m:][sel]
    bound = b if st != "optimal" else max(b, val)
    return Solution(y, rows, cols, frac, val, bound, _gap(val, bound), st,
                    time.perf_counter() - t0, excluded, info)  # fmt: skip


def solve_lscp(
    cost: np.ndarray,
    minutes: float,
    *,
    w: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    time_limit: float | None = None,
) -> Solution:
    """Location set covering problem (Toregas et al. 1971); see module notes.

    Parameters
    ----------
    cost, fixed, time_limit
        As in :func:`solve_pmedian`.
    minutes
        Coverage standard :math:`T`.
    w
        (N,) weights; needed with ``capacity`` (tonnes each site receives).
    capacity
        (M,) tonnes per year per site, or ``None``.

    Returns
    -------
    Solution
        Objective = number of open sites; clients no candidate covers are in ``excluded``.
    """
    t0 = time.perf_counter()
    cost = np.asarray(cost, float)
    n, m = cost.shape
    w = np.ones(n) if w is None else np.asarray(w, float)
    fx = _fixed_mask(fixed, m)
    cov = cost <= minutes
    coverable = cov.any(axis=1)
    excluded = np.flatnonzero(~coverable)
    if capacity is None:
        reps, _ = _merge_rows(cov, np.flatnonzero(coverable), w)
        gi, gj = np.nonzero(cov[reps])
        A = sp.csc_matrix((np.ones(gi.size), (gi, gj)), shape=(reps.size, m))
        rlo, rhi = np.ones(reps.size), np.full(reps.size, np.inf)
        obj = np.ones(m)
    else:
        ii, jj = np.nonzero(cov & (w[:, None] > 0))
        A, na = _assignment_rows(ii, jj, w, np.asarray(capacity, float), n, m)
        k = ii.size
        rlo = np.concatenate([np.ones(na), np.full(m + k, -np.inf)])
        rhi = np.concatenate([np.ones(na), np.zeros(m + k)])
        obj = np.concatenate([np.ones(m), np.zeros(k)])
    ncol = obj.size
    lb = np.concatenate([fx.astype(float), np.zeros(ncol - m)])
    integer = np.arange(ncol) < m
    x, val, b, st = _highs(obj, lb, np.ones(ncol), integer, A, rlo, rhi,
                           time_limit=time_limit, rel_gap=0.0)  # fmt: skip
    if x is None:
        raise SitingError(
            "LSCP: no feasible cover (capacities too small for the demand within "
            f"{minutes} minutes, or the time limit ran out)"
        )
    y = x[:m] > 0.5
    if capacity is None:
        rows, cols, frac = _covered_assign(cost, y, minutes)
    else:
        sel = x[m:] > 1e-9
        rows, cols, frac = ii[sel], jj[sel], x[m:][sel]
    val = float(y.sum())
    bound = b if st != "optimal" else val
    return Solution(y, rows, cols, frac, val, bound, _gap(val, bound), st,
                    time.perf_counter() - t0, excluded)  # fmt: skip
