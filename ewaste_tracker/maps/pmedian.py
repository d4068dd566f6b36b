"""Uncapacitated p-median solved to proven optimality on large cost matrices.

Model (Hakimi 1964): choose :math:`p` of :math:`M` candidate sites minimising
:math:`\\sum_i w_i \\min_{j\\,open} d_{ij}`.

Formulation
    The radius formulation of Elloumi (2010), written with the incremental rows of
    García, Labbé & Marín (2011). For client :math:`i` let :math:`D_i^0 < D_i^1 < \\dots` be
    its distinct finite distances and :math:`G_i^k = \\{j : d_{ij} = D_i^k\\}`;
    :math:`z_{ik} = 1` when :math:`i` is not served within :math:`D_i^k`:

    .. math::
        \\min \\sum_i w_i \\Big(D_i^0 + \\sum_{k<L_i} (D_i^{k+1} - D_i^k)\\, z_{ik}\\Big)
        \\quad\\text{s.t.}\\quad \\sum_j y_j = p,\\;
        z_{i0} + \\sum_{j \\in G_i^0} y_j \\ge 1,\\;
        z_{ik} - z_{i,k-1} + \\sum_{j \\in G_i^k} y_j \\ge 0,\\;
        z \\ge 0,\\; y \\in \\{0,1\\}.

    Summing the incremental rows gives Elloumi's :math:`z_{ik} + \\sum_{d_{ij} \\le D_i^k}
    y_j \\ge 1`, so the LP bound is Elloumi's with far fewer non-zeros.

Provably safe reductions
    0. Clients with identical cost rows are merged (weights summed) and candidates with
       identical cost columns are merged (see :func:`solve_pmedian`): exact, and on a road
       network, where many points snap to one node, it shrinks the instance several-fold.
    1. A client is always served within its :math:`(M-p+1)`-th nearest candidate and
       within its nearest fixed site: farther levels are dropped.
    2. Lagrangian relaxation of the assignment rows (Cornuéjols, Fisher & Nemhauser 1977;
       Beasley 1993), maximised by subgradient steps, gives a lower bound :math:`LB` with
       multipliers :math:`\\lambda`. With the incumbent :math:`UB` from greedy addition and
       vertex substitution (Teitz & Bart 1968), any solution better than :math:`UB` never
       assigns :math:`i` to :math:`j` when :math:`LB + \\max(0, w_i d_{ij} - \\lambda_i) \\ge
       UB`, i.e. beyond the radius :math:`R_i = (\\lambda_i + UB - LB) / w_i`; and keeps
       site :math:`j` closed (open) when its Lagrangian reduced cost exceeds
       :math:`UB - LB`. The model then covers every solution better than the incumbent,
       so the better of the two is optimal.
    3. Levels are added lazily (García et al. 2011): the model starts at the level the
       incumbent uses or, if farther, at the Lagrangian radius :math:`\\lambda_i / w_i`
       (at the Lagrangian optimum the LP serves :math:`i` only from sites with
       :math:`w_i d_{ij} \\le \\lambda_i`, so one LP round is usually enough); clients the
       LP (then the MIP) serves beyond their last level get more levels, until the
       truncated optimum is exact. Every MIP round starts from the incumbent (HiGHS
       ``setSolution``) with it as the cutoff.

References
----------
Elloumi, S. (2010). A tighter formulation of the p-median problem. J. Comb. Optim. 19, 69–83.
García, S., Labbé, M., Marín, A. (2011). Solving large p-median problems with a radius
formulation. INFORMS J. Comput. 23(4), 546–556.
Beasley, J. E. (1993). Lagrangean heuristics for location problems. EJOR 65, 383–399.
Held, M., Wolfe, P., Crowder, H. P. (1974). Validation of subgradient optimization.
Math. Program. 6, 62–88.
Teitz, M. B., Bart, P. (1968). Heuristic methods for estimating the generalized vertex
median of a weighted graph. Oper. Res. 16(5), 955–961.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from ewaste_tracker.maps.siting_solvers import (
    SitingError,
    Solution,
    _fixed_mask,
    _gap,
    _highs,
    _nearest_assign,
)

logger = logging.getLogger(__name__)


def pmedian_heuristic(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    fixed: np.ndarray,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy addition then best-improvement vertex substitution (Teitz & Bart 1968).

    Parameters
    ----------
    cost
        (N, M) finite costs (replace ``inf`` by a large penalty first).
    w
        (N,) weights.
    p
        Number of sites.
    fixed
        (M,) bool mask of sites that stay open.
    start
        (M,) bool mask of ``p`` sites to improve instead of the greedy start.

    Returns
    -------
    numpy.ndarray
        (M,) bool mask of the ``p`` open sites.
    """
    n, m = cost.shape
    is_open = fixed.copy() if start is None else start | fixed
    best = cost[:, is_open].min(axis=1) if is_open.any() else np.full(n, np.inf)
    while is_open.sum() < p:
        total = (w[:, None] * np.minimum(cost, best[:, None])).sum(axis=0)
        total[is_open] = np.inf
        j = int(total.argmin())
        is_open[j] = True
        best = np.minimum(best, cost[:, j])
    free = ~fixed
    for _ in range(10 * m):
        idx = np.flatnonzero(is_open)
        sub = cost[:, idx]
        order = np.argsort(sub, axis=1)
        d1 = sub[np.arange(n), order[:, 0]]
        a1 = idx[order[:, 0]]
        d2 = sub[np.arange(n), order[:, 1]] if idx.size > 1 else np.full(n, np.inf)
        gain_add = (w[:, None] * (np.minimum(cost, d1[:, None]) - d1[:, None])).sum(axis=0)
        extra = w[:, None] * (np.minimum(cost, d2[:, None]) - np.minimum(cost, d1[:, None]))
        onehot = sp.csr_matrix((np.ones(n), (a1, np.arange(n))), shape=(m, n))
        delta = gain_add[None, :] + onehot @ extra  # (m_remove, m_add)
        delta[~(is_open & free), :] = np.inf
        delta[:, is_open] = np.inf
        r, a = np.unravel_index(int(delta.argmin()), delta.shape)
        if not delta[r, a] < -1e-9 * max(1.0, float((w * d1).sum())):
            break
        is_open[r], is_open[a] = False, True
    return is_open


def _levels(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct-distance levels per client: lev (N, M) int (-1 for inf), values, count."""
    n, m = cost.shape
    order = np.argsort(cost, axis=1, kind="stable")
    s = np.take_along_axis(cost, order, axis=1)
    new = np.ones_like(s, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    lev_sorted = np.cumsum(new, axis=1) - 1
    lev = np.empty_like(lev_sorted)
    np.put_along_axis(lev, order, lev_sorted, axis=1)
    lev[~np.isfinite(cost)] = -1
    values = np.full((n, m), np.inf)
    rr = np.repeat(np.arange(n), m)
    values[rr, lev_sorted.ravel()] = s.ravel()
    nlev = np.where(np.isfinite(values), 1, 0).sum(axis=1)
    return lev, values, nlev


def _radius_model(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    fixed: np.ndarray,
    closed: np.ndarray,
    lev: np.ndarray,
    values: np.ndarray,
    L: np.ndarray,
    need_final: np.ndarray,
) -> tuple:
    """Build the truncated radius model (columns: y then z)."""
    n, m = cost.shape
    nrows = L + need_final.astype(np.int64)
    roff = np.concatenate([[0], np.cumsum(nrows)])
    zoff = m + np.concatenate([[0], np.cumsum(L)])
    # y entries: candidate j enters client i's row lev[i, j] when that row exists
    ii, jj = np.nonzero((lev >= 0) & (lev < nrows[:, None]))
    y_rows = roff[ii] + lev[ii, jj]
    # z entries: z_ik (+1 in row k, -1 in row k+1 when it exists)
    zi = np.repeat(np.arange(n), L)
    zk = np.arange(zi.size) - np.repeat(zoff[:-1] - m, L)
    zcol = zoff[zi] + zk
    nxt = zk + 1 < nrows[zi]
    r = np.concatenate([y_rows, roff[zi] + zk, roff[zi[nxt]] + zk[nxt] + 1, [roff[-1]] * m])
    c = np.concatenate([jj, zcol, zcol[nxt], np.arange(m)])
    v = np.concatenate([np.ones(jj.size), np.ones(zi.size), -np.ones(int(nxt.sum())), np.ones(m)])
    nrow = int(roff[-1]) + 1
    A = sp.csc_matrix((v, (r, c)), shape=(nrow, int(zoff[-1])))
    rlo = np.zeros(nrow)
    rlo[roff[:-1][nrows > 0]] = 1.0
    rhi = np.full(nrow, np.inf)
    rlo[-1] = rhi[-1] = p
    obj = np.zeros(int(zoff[-1]))
    obj[zcol] = w[zi] * (values[zi, zk + 1] - values[zi, zk])
    lb = np.zeros(obj.size)
    lb[:m] = fixed.astype(float)
    ub = np.ones(obj.size)
    ub[:m][closed] = 0.0
    ub[m:] = np.inf
    integer = np.zeros(obj.size, bool)
    integer[:m] = True
    return obj, lb, ub, integer, A, rlo, rhi, zcol, zi, zk


def lagrangian_bound(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    fixed: np.ndarray,
    ub: float,
    lam: np.ndarray,
    *,
    max_iter: int = 6000,
    deadline: float = np.inf,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Subgradient maximisation of the p-median Lagrangian bound.

    Relaxing :math:`\\sum_j x_{ij} = 1` with multipliers :math:`\\lambda_i`:

    .. math:: L(\\lambda) = \\sum_i \\lambda_i + \\min_{|S| = p,\\, S \\supseteq F}
              \\sum_{j \\in S} \\rho_j, \\qquad
              \\rho_j = \\sum_i \\min(0,\\, w_i d_{ij} - \\lambda_i)

    and steps :math:`\\lambda \\leftarrow \\lambda + \\theta (UB - L) g / \\lVert g \\rVert^2`
    with :math:`g_i = 1 - \\sum_j x_{ij}` (Held, Wolfe & Crowder 1974).

    Every distinct Lagrangian site set is also evaluated as a solution (Beasley 1993); the
    best is returned as ``incumbent``.

    Returns
    -------
    bound, lam, rho, chosen, incumbent, incumbent_cost
        Best bound, its multipliers, site reduced costs and Lagrangian sites; the best
        site set seen and its true cost.
    """
    wc = w[:, None] * cost
    best = (-np.inf, lam, np.zeros(cost.shape[1]), fixed.copy())
    inc, inc_cost = fixed.copy(), np.inf
    seen: set[bytes] = set()
    theta, stall = 2.0, 0
    free = np.flatnonzero(~fixed)
    k = p - int(fixed.sum())
    for _ in range(max_iter):
        red = np.minimum(wc - lam[:, None], 0.0)
        rho = red.sum(axis=0)
        chosen = fixed.copy()
        if k > 0:
            chosen[free[np.argpartition(rho[free], k - 1)[:k]]] = True
        key = np.packbits(chosen).tobytes()
        if key not in seen:
            seen.add(key)
            c = float((w * cost[:, chosen].min(axis=1)).sum())
            if c < inc_cost:
                inc, inc_cost = chosen, c
        value = float(lam.sum() + rho[chosen].sum())
        if value > best[0] + 1e-12 * abs(value):
            best, stall = (value, lam.copy(), rho, chosen), 0
        else:
            stall += 1
            if stall >= 50:
                theta, stall = theta / 2, 0
        g = 1.0 - (red[:, chosen] < 0).sum(axis=1)
        norm = float(g @ g)
        if (
            norm == 0
            or theta < 1e-4
            or best[0] >= ub * (1 - 1e-9)
            or time.perf_counter() > deadline
        ):
            break
        lam = lam + theta * (ub - value) / norm * g
    return (*best, inc, inc_cost)


def _solve_core(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    *,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    rel_gap: float = 1e-7,
    full_levels: int = 5_000,
) -> Solution:
    """Solve one p-median instance (already reduced by :func:`solve_pmedian`).

    The parameters are those of :func:`solve_pmedian`; the :class:`Solution` is the reduced
    instance's (its objective over the served clients, unreachable clients in
    ``excluded``).
    """
    t0 = time.perf_counter()
    deadline = np.inf if time_limit is None else t0 + time_limit
    cost, w = np.asarray(cost, float), np.asarray(w, float)
    n, m = cost.shape
    fx = _fixed_mask(fixed, m)
    if not 1 <= p <= m or fx.sum() > p:
        raise SitingError(f"p = {p} must be between the {int(fx.sum())} fixed site(s) and {m}")
    reach = np.isfinite(cost).any(axis=1)
    excluded = np.flatnonzero(~reach)
    keep = np.flatnonzero(reach & (w > 0))
    C, W = cost[keep], w[keep]
    finite = np.isfinite(C)
    big = (float(C[finite].max()) if finite.any() else 1.0) * 10.0 + 1.0
    Cf = np.where(finite, C, big * max(n, 1))  # penalised copy for the heuristics
    y_best = pmedian_heuristic(Cf, W, p, fx)

    def true_cost(y: np.ndarray) -> float:
        return float((W * np.where(y[None, :], C, np.inf).min(axis=1)).sum())

    ub = true_cost(y_best)
    info: dict = {"heuristic": ub}

    def finish(status: str, bound: float) -> Solution:
        if not np.isfinite(ub):
            raise SitingError("p-median: no choice of p sites reaches every client")
        if status == "optimal":
            bound = ub
        rows, cols, frac = _nearest_assign(cost, y_best, np.flatnonzero(reach))
        info["seconds_total"] = time.perf_counter() - t0
        return Solution(y_best, rows, cols, frac, ub, bound, _gap(ub, bound), status,
                        time.perf_counter() - t0, excluded, info)  # fmt: skip

    if keep.size == 0:
        return finish("optimal", 0.0)
    lam0 = W * np.where(y_best[None, :], C, np.inf).min(axis=1)
    lam0 = np.where(np.isfinite(lam0), lam0, W * big)
    ub_pen = float((W * Cf[:, y_best].min(axis=1)).sum())
    # the subgradient gets at most 40 % of the time limit; the LP and MIP rounds the rest
    lag_end = deadline if time_limit is None else min(deadline, t0 + 0.4 * time_limit)
    lb, lam, rho, chosen, inc, _ = lagrangian_bound(Cf, W, p, fx, ub_pen, lam0, deadline=lag_end)
    y_try = pmedian_heuristic(Cf, W, p, fx, start=inc)
    if true_cost(y_try) < ub:
        y_best, ub = y_try, true_cost(y_try)
    info.update(lagrangian_bound=lb, lagrangian_upper=ub)
    tol = rel_gap * max(abs(ub), 1e-9)
    if lb >= ub - tol:
        return finish("optimal", lb)
    slack = ub - lb + tol
    # site reductions from Lagrangian reduced costs
    free = np.flatnonzero(~fx)
    k = p - int(fx.sum())
    rs = np.sort(rho[free])
    rho_p = rs[k - 1] if k > 0 else -np.inf
    rho_p1 = rs[k] if k < rs.size else np.inf
    closed = ~fx & ~chosen & (rho - rho_p > slack)
    force = ~fx & chosen & (rho_p1 - rho > slack)
    fx2 = fx | force
    # client radii: a better solution never assigns i beyond R_i
    R = (lam + slack) / W
    Cr = np.where((C <= R[:, None]) & ~closed[None, :], C, np.inf)
    if not np.isfinite(Cr).any(axis=1).all():
        return finish("optimal", ub)
    info.update(closed=int(closed.sum()), forced_open=int(force.sum()))
    lev, values, nlev = _levels(Cr)
    open_ok = int((~closed).sum())
    s = np.sort(Cr, axis=1)[:, min(open_ok, m) - p] if open_ok >= p else np.full(len(W), np.inf)
    cap = np.where(np.isfinite(s), np.where(Cr <= s[:, None], lev, -1).max(axis=1), nlev - 1)
    near_fixed = np.where(fx2[None, :] & (lev >= 0), lev, m).min(axis=1)
    cap = np.minimum(cap, near_fixed)
    need_final = (cap == nlev - 1) & ~np.isfinite(s) & (near_fixed >= m)
    order = np.argsort(Cr, axis=1, kind="stable")
    lev_sorted = np.take_along_axis(lev, order, axis=1)

    def service_level(y: np.ndarray) -> np.ndarray:
        cum = np.cumsum(y[order] * (lev_sorted >= 0), axis=1)
        pos = np.argmax(cum >= 1 - 1e-7, axis=1)
        ok = cum[np.arange(pos.size), pos] >= 1 - 1e-7
        return np.where(ok, lev_sorted[np.arange(pos.size), pos], m)

    # start at the level the incumbent uses or, if farther, the Lagrangian radius
    # lam_i / w_i: an LP optimum serves i only from sites with w_i d_ij <= lam_i at the
    # Lagrangian optimum (complementary slackness), so few rounds are needed
    lag_level = (values < (lam / W)[:, None]).sum(axis=1)
    L = np.minimum(np.maximum(service_level(y_best.astype(float)), lag_level), cap)
    info["levels_full"], info["levels_start"] = int(cap.sum()), int(L.sum())
    bound, status, rounds = lb, "optimal", 0
    if cap.sum() <= full_levels:  # the reduced model is small: solve it whole
        L, rounds = cap.copy(), 30
    offset = float((W * values[:, 0]).sum())
    while True:  # LP rounds, then MIP rounds
        rounds += 1
        lp_phase = rounds <= 30 and status == "optimal"
        model = _radius_model(Cr, W, p, fx2, closed, lev, values, L, need_final & (cap == L))
        obj, lo, hi, integer, A, rlo, rhi, zcol, _zi, _zk = model
        left = None if time_limit is None else max(deadline - time.perf_counter(), 0.01)
        if lp_phase:
            x, _, _, st = _highs(obj, lo, hi, np.zeros_like(integer), A, rlo, rhi,
                                   offset=offset, time_limit=left)  # fmt: skip
            if x is None or st != "optimal":
                status = "time_limit" if st == "time_limit" else status
                if st == "infeasible":
                    return finish("optimal", ub)
                rounds = 31
                continue
            need = service_level(x[:m])
        else:
            # warm start: the incumbent and its z (1 below the level it is served at)
            served = np.minimum(service_level(y_best.astype(float)), L)
            start = np.concatenate([y_best, (_zk < served[_zi])]).astype(float)
            x, _val, b, st = _highs(obj, lo, hi, integer, A, rlo, rhi, offset=offset,
                                   time_limit=left, rel_gap=rel_gap, start=start,
                                   cutoff=ub + tol)  # fmt: skip
            if st == "infeasible":  # nothing beats the incumbent
                return finish("optimal", ub)
            if np.isfinite(b):
                bound = max(bound, min(b, ub))
            if x is None:
                return finish("time_limit", bound)
            y = x[:m] > 0.5
            if true_cost(y) < ub:
                ub, y_best = true_cost(y), y
            need = service_level(y.astype(float))
        short = (need > L) & (L < cap)
        logger.debug("p-median %s round %d: %d z, %d short, %.1f s",
                     "LP" if lp_phase else "MIP", rounds, zcol.size, int(short.sum()),
                     time.perf_counter() - t0)  # fmt: skip
        if not short.any():
            if lp_phase:
                rounds = 30
                # one spare level per client before the MIP: its solution may serve a
                # client one level beyond the LP's, and each short round re-solves the MIP
                L = np.minimum(L + 1, cap)
                continue
            info.update(z_columns=int(zcol.size), rounds=rounds)
            return finish("optimal" if st == "optimal" else "time_limit", bound)
        grow = need + 1 if not lp_phase else np.maximum(need + 1, 2 * L)
        L = np.where(short, np.minimum(grow, cap), L)
        if time.perf_counter() > deadline:
            return finish("time_limit", bound)


def identical_groups(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group the rows of ``a`` that are identical bit for bit.

    Returns
    -------
    first, inverse
        Index of the first row of each group (ascending) and, per row, its group number.
    """
    a = np.ascontiguousarray(a)
    if a.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)  # number the groups by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[inv.ravel()]


def solve_pmedian(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    *,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    rel_gap: float = 1e-7,
    full_levels: int = 5_000,
) -> Solution:
    """Solve the uncapacitated p-median problem to proven optimality (module notes).

    Two exact reductions come first:

    * clients whose cost rows are identical are one client with the summed weight
      (:math:`\\sum_{i \\in g} w_i \\min_j d_{ij} = (\\sum_{i \\in g} w_i) \\min_j d_{gj}`);
      on a road network many demand points snap to one node, so this is what makes
      city-scale instances small (García, Labbé & Marín 2011 §5 merge equal clients too);
    * candidates whose cost columns are identical are one candidate, when at least ``p``
      distinct columns remain: a solution opening two copies opens one and any other site
      at no greater cost (costs are monotone in the open set), so some optimum uses one
      copy at most. A fixed site stands for its copies.

    The reduced instance is solved by :func:`_solve_core`; sites and assignments are
    mapped back to the original rows and columns and the objective is recomputed on the
    original matrix, so ``gap`` compares that objective with the reduced instance's bound.

    Parameters
    ----------
    cost
        (N, M) travel costs, ``inf`` where a client cannot reach a candidate.
    w
        (N,) non-negative demand weights; clients with weight 0 are assigned but do not
        constrain the choice.
    p
        Number of open sites, fixed ones included.
    fixed
        Column indices forced open.
    time_limit
        Seconds; on expiry the best solution found and its gap are returned.
    rel_gap
        Relative gap at which the search stops.
    full_levels
        When the reduced model has at most this many distance levels in all, it is solved
        whole; otherwise levels are added lazily.

    Returns
    -------
    Solution
        Objective :math:`\\sum_i w_i \\min_{j\\,open} d_{ij}` over the served clients;
        clients no candidate reaches are in ``excluded``; ``info`` has ``merged_rows`` and
        ``merged_columns`` (sizes of the reduced instance).
    """
    t0 = time.perf_counter()
    cost, w = np.asarray(cost, float), np.asarray(w, float)
    m = cost.shape[1]
    fx = _fixed_mask(fixed, m)
    if not 1 <= p <= m or fx.sum() > p:
        raise SitingError(f"p = {p} must be between the {int(fx.sum())} fixed site(s) and {m}")
    reach = np.isfinite(cost).any(axis=1)
    keep = np.flatnonzero(reach & (w > 0))
    first, inv = identical_groups(cost[keep])
    Wg = np.bincount(inv, weights=w[keep], minlength=first.size)
    Cg = cost[keep[first]]
    # identical columns: one representative per group, a fixed one where there is one
    cfirst, cinv = identical_groups(Cg.T) if Cg.shape[0] else (np.arange(m), np.arange(m))
    if cfirst.size >= p and cfirst.size < m:
        rep = cfirst.copy()
        fixed_groups = np.unique(cinv[fx])
        fixed_cols = np.flatnonzero(fx)
        rep[cinv[fixed_cols]] = fixed_cols  # a fixed column stands for its group
        fx_red = np.zeros(rep.size, bool)
        fx_red[fixed_groups] = True
        if fx_red.sum() < fx.sum():  # two fixed copies: keep both, they must both open
            rep, fx_red = np.arange(m), fx
    else:
        rep, fx_red = np.arange(m), fx
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.01)
    if keep.size:
        core = _solve_core(Cg[:, rep], Wg, p, fixed=np.flatnonzero(fx_red), time_limit=left,
                           rel_gap=rel_gap, full_levels=full_levels)  # fmt: skip
        y = np.zeros(m, bool)
        y[rep[core.open]] = True
        bound, status, info = core.bound, core.status, dict(core.info)
    else:  # nothing to serve: any p sites, fixed ones first
        y = fx.copy()
        y[np.flatnonzero(~fx)[: p - int(fx.sum())]] = True
        bound, status, info = 0.0, "optimal", {}
    rows, cols, frac = _nearest_assign(cost, y, np.flatnonzero(reach))
    obj = float((w[rows] * cost[rows, cols]).sum())
    if status == "optimal":
        bound = min(bound, obj)
    info.update(merged_rows=int(first.size), merged_columns=int(rep.size))
    info["seconds_total"] = time.perf_counter() - t0
    return Solution(y, rows, cols, frac, obj, bound, _gap(obj, bound), status,
                    time.perf_counter() - t0, np.flatnonzero(~reach), info)  # fmt: skip
