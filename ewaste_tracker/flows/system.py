"""The lifecycle system: all flows and stocks of every region, computed densely, and its graph.

:func:`build_system` computes every flow of the lifecycle (see docs/architecture.md for the
stages and transfers) as ``(R, P, N)`` arrays, vectorised over regions and products, and
:func:`system_to_graph` wraps the result in a :class:`networkx.DiGraph` whose edges carry
``(P, N)`` *views* of those arrays.

Model
-----
Put on market ``POM`` enters use and is discarded by the first-life discard matrix ``M``
(the sales-lifespan model of the UNU / EU WEEE Calculation Tool, Forti et al. 2018,
*E-waste statistics: guidelines on classification, reporting and indicators*, 2nd ed.):

.. math:: WG^{(1)}_{r,p}[n] = \\sum_{c \\le n} M_{g(r,p)}[n, c]\\, POM_{r,p}[c].

E-waste generated (``WG``) is split by transfer coefficients ``t`` into formal and informal
collection and residual waste, and onwards to refurbishment, pre-/end-processing, informal
recycling, export and the final sinks. Devices coming out of refurbishment, and used equipment
imported into use, re-enter use for a *second life* with the discard matrix ``M2`` and are
discarded again into ``WG``, where they may be refurbished again. With ``u[n]`` the second-life
inflow into use,

.. math::

   WG[n] &= WG^{(1)}[n] + \\sum_{t<n} M2[n,t]\\, u[t] + M2[n,n]\\, u[n], \\\\
   u[n]  &= a[n]\\, WG[n] + \\sum_{o} c_{o}[n]\\, WG_{o}[n],

where ``a = (t_{g,cf} t_{cf,ref} + t_{g,ci} t_{ci,ref})\\, t_{ref,use}`` is the local reuse
share and ``c_o`` the share of region ``o``'s WG arriving (via its export stage) in this
region's use, directly or through refurbishment. This is solved by a **forward recurrence over
years** (a Python loop over the ``N`` years, vectorised over regions x products). Within a
year the coupling is linear: without used-EEE trade it is solved exactly per cell,
``WG[n] = B[n] / (1 - M2[n,n] a[n])`` with ``B`` the known part; with trade the cross-region
term is solved by the fixed-point iteration ``x <- (B + M2[n,n] C x) / (1 - M2[n,n] a)``,
a contraction because every device reaching use is discarded the same year with probability
``M2[n,n] < 1``; it stops when every cell changes by less than 1e-14 of its value.
The use stock is then ``cumsum(POM + u - WG)`` and each final sink's stock is its cumulative
inflow, so every node balances by construction (checked by :mod:`ewaste_tracker.flows.balance`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx
import numpy as np
import scipy.sparse as sp

from ewaste_tracker.flows.transfer import (
    BOUNDARY,
    IMPORT_STAGES,
    SINKS,
    STRUCTURE,
    DimsLike,
    ExportDestinations,
    Stage,
    TransferCoefficients,
)

__all__ = ["Stage", "SystemResult", "build_system", "system_to_graph"]

log = logging.getLogger(__name__)

S = Stage
#: Relative tolerance of the same-year fixed point with used-EEE trade.
FIXED_POINT_RTOL = 1e-14
FIXED_POINT_MAXITER = 1000
#: Up to this many second-life groups, the recurrence loops over groups (rank-1 updates).
_MAX_GROUP_LOOP = 256
#: Years per block of the recurrence: within a block years are sequential, across blocks the
#: second-life discards are matrix products.
_BLOCK = 12
Lifetimes = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SystemResult:
    """Dense flows and stocks of the lifecycle system.

    Attributes
    ----------
    regions, products, years
        Axis labels of the ``(R, P, N)`` arrays.
    flows
        ``{(from_stage, to_stage): (R, P, N)}`` within-region transfers in tonnes; the key
        ``("sysenv", "manufacture")`` is the boundary feed (= POM).
    stocks, stock_changes
        ``{stage: (R, P, N)}`` for ``use`` and the final sinks.
    trade
        ``(origin, destination, to_stage, (P, N) flow)`` per export link; ``destination``
        ``"ROW"`` with ``to_stage`` ``"sysenv"`` leaves the system.
    trade_flows
        ``(L, P, N)`` array the ``trade`` flows are views of.
    imports
        ``{to_stage: (R, P, N)}`` trade arriving in each destination region, per receiving
        stage (only stages that receive anything).
    iterations
        Largest number of same-year fixed-point iterations (0 without used-EEE trade).
    """

    regions: tuple[str, ...]
    products: tuple[str, ...]
    years: np.ndarray
    flows: dict[tuple[str, str], np.ndarray]
    stocks: dict[str, np.ndarray]
    stock_changes: dict[str, np.ndarray]
    trade: list[tuple[str, str, str, np.ndarray]]
    trade_flows: np.ndarray
    iterations: int = 0
    exports: ExportDestinations | None = field(default=None, repr=False)
    imports: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def use_stock(self) -> np.ndarray:
        """In-use stock ``(R, P, N)`` in tonnes at the end of each year."""
        return self.stocks[S.USE.value]

    @property
    def generated(self) -> np.ndarray:
        """E-waste generated ``(R, P, N)`` (first and later lives)."""
        return self.flows[(S.USE.value, S.GENERATED.value)]


def _check_lifetimes(name: str, group: np.ndarray, M: np.ndarray, r: int, p: int, n: int) -> None:
    if group.shape != (r, p):
        raise ValueError(f"{name}: group index has shape {group.shape}, expected {(r, p)}")
    if M.ndim != 3 or M.shape[1:] != (n, n):
        raise ValueError(f"{name}: discard matrices have shape {M.shape}, expected (G, {n}, {n})")
    if group.size and (group.min() < 0 or group.max() >= M.shape[0]):
        raise ValueError(f"{name}: group index outside 0..{M.shape[0] - 1}")
    if not np.isfinite(M).all() or (M < 0).any():
        raise ValueError(f"{name}: discard matrices must be finite and non-negative")
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    bad = np.flatnonzero(M[:, upper].any(axis=1))
    if bad.size:
        raise ValueError(f"{name}: group {bad[0]} discards a cohort before it is put on market")
    over = np.argwhere(M.sum(axis=1) > 1 + 1e-9)
    if over.size:  # the UNU pdf(k + 0.5) convention can discard a little over 100%
        g, c = over[0]
        log.debug("%s: group %d discards %.4g of cohort index %d", name, g, M[g, :, c].sum(), c)


def _discards(inflow: np.ndarray, group: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``out[r, p, n] = sum_c M[group[r, p], n, c] inflow[r, p, c]``.

    One matrix product per unique lifetime group (a loop over unique parameter sets, not over
    cells), the same computation as ``ewaste_tracker.flows.stocks.inflow_driven``'s outflow.
    """
    r, p, n = inflow.shape
    flat = inflow.reshape(r * p, n)
    out = np.empty_like(flat)
    gflat = group.ravel()
    order = np.argsort(gflat, kind="stable")
    uniq, starts = np.unique(gflat[order], return_index=True)
    for g, cells in zip(uniq, np.split(order, starts[1:]), strict=True):
        out[cells] = flat[cells] @ M[g].T
    return out.reshape(r, p, n)


def _full(arr: np.ndarray | float, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.asarray(arr, dtype=float), shape)


def build_system(
    pom: np.ndarray,
    dims: DimsLike,
    tcs: TransferCoefficients,
    lifetimes: Lifetimes,
    *,
    second_life: Lifetimes | None = None,
    exports: ExportDestinations | None = None,
) -> SystemResult:
    """Compute every flow and stock of the lifecycle system.

    Parameters
    ----------
    pom
        Put on market ``(R, P, N)`` in tonnes.
    dims
        Axis labels (regions, products, years) of ``pom``.
    tcs
        Transfer coefficients resolved for ``dims``.
    lifetimes
        ``(group, M)``: ``group (R, P)`` int indexes ``M (G, N, N)``, the first-life discard
        matrices (``M[g, n, c]`` = share of cohort ``c`` discarded in year ``n``).
    second_life
        ``(group2, M2)`` remaining-lifetime discard matrices of refurbished and imported used
        equipment; ``None`` reuses the first-life matrices.
    exports
        Export destinations; ``None`` sends all exports out of the system (ROW).

    Returns
    -------
    SystemResult
        Dense flows, stocks and trade links (see the module docstring for the equations).
    """
    pom = np.asarray(pom, dtype=float)
    nr, npr, ny = len(dims.regions), len(dims.products), len(dims.years)
    shape = (nr, npr, ny)
    if pom.shape != shape:
        raise ValueError(f"pom has shape {pom.shape}, expected (regions, products, years) {shape}")
    if not np.isfinite(pom).all() or (pom < 0).any():
        r, p, n = np.argwhere(~(pom >= 0) | ~np.isfinite(pom))[0]
        raise ValueError(
            f"pom must be finite and >= 0: region {dims.regions[r]!r}, product "
            f"{dims.products[p]!r}, year {int(dims.years[n])} has {pom[r, p, n]!r}"
        )
    tcs.check_labels(dims)
    group, M = (np.asarray(a) for a in lifetimes)
    group2, M2 = (group, M) if second_life is None else (np.asarray(a) for a in second_life)
    _check_lifetimes("lifetimes", group, M, nr, npr, ny)
    _check_lifetimes("second_life", group2, M2, nr, npr, ny)
    exports = ExportDestinations.to_rest_of_world(dims) if exports is None else exports
    exports.check_labels(dims)

    def t(a: Stage, b: Stage) -> np.ndarray:
        return tcs.shares[(a, b)]

    g, cf, ci = S.GENERATED, S.COLLECTION_FORMAL, S.COLLECTION_INFORMAL
    ref, exp = S.REFURBISHMENT, S.EXPORT
    reuse_local = (t(g, cf) * t(cf, ref) + t(g, ci) * t(ci, ref)) * t(ref, S.USE)
    export_share = t(g, cf) * t(cf, exp) + t(g, ci) * t(ci, exp)

    wg_primary = _discards(pom, group, M)
    wg, iterations = _recurrence(
        wg_primary, reuse_local, export_share, tcs.shares[(ref, S.USE)], group2, M2, exports
    )
    flows, stocks, changes, trade_flows, imports = _flows(pom, wg, tcs, exports)
    trade = [
        (
            dims.regions[o],
            "ROW" if d < 0 else dims.regions[d],
            s,
            trade_flows[k],
        )
        for k, (o, d, s) in enumerate(
            zip(exports.origin, exports.destination, exports.to_stage, strict=True)
        )
    ]
    return SystemResult(
        tuple(dims.regions),
        tuple(dims.products),
        np.asarray(dims.years),
        flows,
        stocks,
        changes,
        trade,
        trade_flows,
        iterations,
        exports,
        {k.value: v for k, v in imports.items() if isinstance(v, np.ndarray)},
    )


def _recurrence(
    wg_primary: np.ndarray,
    reuse_local: np.ndarray,
    export_share: np.ndarray,
    ref_to_use: np.ndarray,
    group2: np.ndarray,
    M2: np.ndarray,
    exports: ExportDestinations,
) -> tuple[np.ndarray, int]:
    """Solve the second-life feedback year by year; return total WG and max iterations.

    Cells (region, product) are sorted by second-life group and stored year-major ``(N, C)``
    so that each year's update is contiguous. Years are processed in blocks of ``_BLOCK``:
    inside a block the recurrence runs year by year (the discards of cohort ``n`` in the rest
    of the block use the block's discard shares gathered per cell); at the end of a block its
    cohorts' discards in all later years are added with one matrix product per lifetime group
    (a loop over unique parameter sets; with very many groups a gathered update per year is
    used instead). Parameters that do not vary along an axis (transfer coefficients constant
    over years, say) stay that small in the year-major layout; the same-year trade fixed point
    iterates over the receiving cells only (:func:`_same_year_trade`).
    """
    nr, npr, ny = wg_primary.shape
    shape = wg_primary.shape
    ncell = nr * npr
    stage = np.asarray(exports.to_stage, dtype=object)
    coupled = (exports.destination >= 0) & np.isin(stage, [S.USE.value, S.REFURBISHMENT.value])
    if not np.asarray(reuse_local).any() and not coupled.any():
        return wg_primary, 0
    gflat = group2.ravel()
    perm = np.argsort(gflat, kind="stable")
    inv = np.empty_like(perm)
    inv[perm] = np.arange(ncell)
    gs = gflat[perm]
    uniq, starts = np.unique(gs, return_index=True)
    bounds = [*starts.tolist(), ncell]
    by_group = len(uniq) <= _MAX_GROUP_LOOP
    cell_r, cell_p = np.divmod(perm, npr)

    def year_major(arr: np.ndarray) -> np.ndarray:
        """A broadcastable ``(R|1, P|1, N|1)`` array as ``(N|1, C)`` in sorted cell order."""
        arr = np.asarray(arr, dtype=float)
        arr = arr.reshape((1,) * (3 - arr.ndim) + arr.shape)
        if arr.shape[:2] == (1, 1):
            return np.broadcast_to(arr[0, 0][:, None], (arr.shape[2], ncell))
        r = cell_r if arr.shape[0] > 1 else np.zeros(ncell, np.intp)
        p = cell_p if arr.shape[1] > 1 else np.zeros(ncell, np.intp)
        return np.ascontiguousarray(arr[r, p, :].T)

    wgt = year_major(wg_primary)
    if not wgt.flags.writeable:  # one region and one product: a broadcast view
        wgt = wgt.copy()
    at = year_major(reuse_local)
    m2_diag = np.ascontiguousarray(M2[:, np.arange(ny), np.arange(ny)].T)  # (N, G)
    diag = np.take(m2_diag, gs, axis=1)  # same-year discard share, (N, C)
    denom = 1.0 - diag * at
    if (denom <= 0).any():
        n, c = np.argwhere(denom <= 0)[0]
        r, p = divmod(int(perm[c]), npr)
        raise ValueError(
            f"region index {r}, product index {p}, year index {n}: every reused device is "
            "refurbished and discarded again within the same year (infinite loop); lower the "
            "reuse shares or the second-life first-year discard share"
        )

    def at_year(n: int) -> np.ndarray:
        return at[n if at.shape[0] > 1 else 0]

    m2t = np.ascontiguousarray(M2.transpose(0, 2, 1))  # (G, cohort, year)
    coupling = _coupling(exports, coupled, export_share, ref_to_use, shape, inv)
    ut = np.zeros_like(wgt)  # second-life inflow into use, year-major
    tmp = np.empty((_BLOCK, ncell))
    max_iter = 0
    for start in range(0, ny, _BLOCK):
        stop = min(start + _BLOCK, ny)
        # within-block discard shares per cell, strictly below the diagonal and packed by
        # cohort: rows off[j] .. off[j] + (b - 1 - j) hold M2[g_c, start + i, start + j] for
        # i = j + 1 .. b - 1 (a gather of the lower triangle only, from a (pairs, G) table)
        b = stop - start
        j_idx, i_idx = np.triu_indices(b, 1)
        off = np.concatenate(([0], np.cumsum(np.arange(b - 1, 0, -1))))
        tri = np.ascontiguousarray(m2t[:, start + j_idx, start + i_idx].T)
        mb = np.take(tri, gs, axis=1)
        for j, n in enumerate(range(start, stop)):
            x = wgt[n] / denom[n]
            if coupling is None:
                u = at_year(n) * x
            else:
                imp, it = _same_year_trade(wgt[n], x, diag[n], denom[n], coupling, n)
                max_iter = max(max_iter, it)
                x = (wgt[n] + diag[n] * imp) / denom[n]
                u = at_year(n) * x + imp
            wgt[n] = x
            ut[n] = u
            k = stop - n - 1
            if k:  # cohort n discarded later in the block
                np.multiply(mb[off[j] : off[j] + k], u, out=tmp[:k])
                wgt[n + 1 : stop] += tmp[:k]
        if stop == ny:
            break
        # discards of this block's cohorts in all later years: one matrix product per group
        if by_group:
            for k, g in enumerate(uniq):
                lo, hi = bounds[k], bounds[k + 1]
                wgt[stop:, lo:hi] += m2t[g, start:stop, stop:].T @ ut[start:stop, lo:hi]
        else:
            for n in range(start, stop):
                wgt[stop:] += (m2t[gs, n, stop:] * ut[n][:, None]).T
    log.debug("second-life recurrence done; max same-year iterations %d", max_iter)
    return wgt.T[inv].reshape(shape), max_iter


class _Coupling(NamedTuple):
    """Used-EEE trade arriving the same year, in sorted cell order.

    ``imports = C_n x`` with ``C_n`` the sparse ``(cells, C)`` matrix of year ``n`` in CSR
    form (``indptr``, ``cols``, values ``factor[n]``): entry ``e`` of row ``i`` ships the
    share ``factor[n, e]`` of WG of cell ``cols[e]`` (origin region, product) into use
    (directly or through refurbishment) of receiving cell ``cells[i]``. Entries are sorted by
    row (stably, so each row sums its entries in link order).
    """

    cells: np.ndarray
    indptr: np.ndarray
    cols: np.ndarray
    factor: np.ndarray  # (N | 1, entries): one row when the shares do not vary by year
    ncell: int

    def matrix(self, n: int) -> sp.csr_matrix:
        """``C_n`` (the structure is shared; only the values change by year)."""
        values = self.factor[n if self.factor.shape[0] > 1 else 0]
        return sp.csr_matrix((values, self.cols, self.indptr), shape=(len(self.cells), self.ncell))


def _coupling(
    exports: ExportDestinations,
    coupled: np.ndarray,
    export_share: np.ndarray,
    ref_to_use: np.ndarray,
    shape: tuple[int, int, int],
    inv: np.ndarray,
) -> _Coupling | None:
    if not coupled.any():
        return None
    _, npr, ny = shape
    lk = np.flatnonzero(coupled)
    o, d = exports.origin[lk], exports.destination[lk]
    stage = np.asarray(exports.to_stage, dtype=object)[lk]

    # shares constant over years keep a year axis of one (factor[0] serves every year)
    varying = any(np.ndim(a) == 3 and np.shape(a)[2] > 1 for a in (export_share, ref_to_use))
    nf = ny if varying else 1

    def year_first(arr: np.ndarray, regions: np.ndarray) -> np.ndarray:
        """Rows ``regions`` of a ``(R|1, P|1, N|1)`` array as ``(nf, len(regions), P)``."""
        full = _full(arr, (shape[0], npr, nf))
        return np.moveaxis(full, 2, 0)[:, regions, :]  # one gather of the rows needed

    # factor[n, l, p]: built once in the (nf, links, P) layout the yearly passes read, one
    # gather and in-place products (no full-size temporaries)
    factor = year_first(export_share, o)
    factor *= exports.shares[lk][None, :, :]
    refurb = np.flatnonzero(stage != S.USE.value)  # through refurbishment: its use share
    if refurb.size:
        factor[:, refurb, :] *= year_first(ref_to_use, d[refurb])
    p = np.arange(npr)
    dest = inv[(d[:, None] * npr + p[None, :]).ravel()]
    cols = inv[(o[:, None] * npr + p[None, :]).ravel()]
    cells, rows = np.unique(dest, return_inverse=True)
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(len(cells) + 1, dtype=np.intp)
    np.cumsum(np.bincount(rows, minlength=len(cells)), out=indptr[1:])
    factor = np.ascontiguousarray(factor.reshape(nf, -1)[:, order])
    return _Coupling(cells, indptr, cols[order].astype(np.intp), factor, inv.size)


def _same_year_trade(
    base: np.ndarray,
    x: np.ndarray,
    diag: np.ndarray,
    denom: np.ndarray,
    coupling: _Coupling,
    n: int,
) -> tuple[np.ndarray, int]:
    """Fixed point of WG in year ``n`` with used EEE shipped between regions.

    Iterates ``x <- (base + diag * C x) / denom`` (cells in group-sorted order) until the
    change of every cell is <= 1e-14 of its value; returns the second-life imports
    ``C x`` (sorted order) and the number of iterations. Only the receiving cells change
    (elsewhere ``C x`` is zero), so the iteration runs on them alone.
    """
    cells = coupling.cells
    matrix = coupling.matrix(n)
    x = x.copy()
    b, dg, dn = base[cells], diag[cells], denom[cells]
    it = 0
    for it in range(1, FIXED_POINT_MAXITER + 1):  # noqa: B007 (returned below)
        imp = matrix @ x
        new = (b + dg * imp) / dn
        change = np.abs(new - x[cells])
        x[cells] = new
        if (change <= FIXED_POINT_RTOL * np.abs(new)).all():
            break
    else:
        raise ValueError(
            f"year index {n}: same-year used-EEE trade did not converge in "
            f"{FIXED_POINT_MAXITER} iterations (last change {change.max():.3g} t)"
        )
    out = np.zeros_like(x)
    out[cells] = matrix @ x
    return out, it


#: Regions per block of :func:`_flows`: every flow of a block stays in the CPU cache while it is
#: split onwards (16 regions x 54 products x 81 years x 8 bytes = 0.55 MB per array).
_FLOW_BLOCK = 16
#: Stages in the order :func:`_flows` fills them: each stage's inflow is complete when it is
#: reached (trade arrives after the collection stages, before the rest).
_FIRST_STAGES = (S.GENERATED, S.COLLECTION_FORMAL, S.COLLECTION_INFORMAL)
_LATER_STAGES = (S.REFURBISHMENT, S.PREPROCESSING, S.ENDPROCESSING, S.RECYCLING_INFORMAL)


def _flows(
    pom: np.ndarray,
    wg: np.ndarray,
    tcs: TransferCoefficients,
    exports: ExportDestinations,
    *,
    block: int | None = None,
) -> tuple[
    dict[tuple[str, str], np.ndarray],
    dict[str, np.ndarray],
    dict[str, np.ndarray],
    np.ndarray,
    dict[Stage, np.ndarray | float],
]:
    """Every flow from POM and the solved WG (vectorised over regions x products x years).

    Each stage's outflows are its inflow times its transfer coefficients. The arrays are
    allocated once and filled a block of regions at a time (the inflow of a stage, its
    outflows and their onward splits are computed while the block is in cache, with no
    full-size temporary); only the trade between regions needs every region's exports, so
    the blocks run twice: up to the export stage, then after the trade is known.
    """
    shape = pom.shape
    nr = shape[0]
    f: dict[tuple[Stage, Stage], np.ndarray] = {(S.USE, S.GENERATED): wg}
    for node in (*_FIRST_STAGES, *_LATER_STAGES):
        for target in STRUCTURE[node]:
            f[(node, target)] = np.empty(shape)
    residual_out = (S.RESIDUAL, S.DISPOSED)
    f[residual_out] = np.empty(shape)
    f[(S.MANUFACTURE, S.MARKET)] = pom
    f[(S.MARKET, S.USE)] = pom
    into = {node: [k for k in f if k[1] == node] for node in Stage}

    def share(key: tuple[Stage, Stage], sl: slice) -> np.ndarray:
        arr = tcs.shares[key]
        return arr[sl] if arr.shape[0] > 1 else arr

    def inflow(node: Stage, sl: slice, extra: list[np.ndarray]) -> np.ndarray:
        arrays = [f[k][sl] for k in into[node]] + extra
        total = arrays[0].copy() if len(arrays) > 1 else arrays[0]
        for arr in arrays[1:]:
            total += arr
        return total

    def split(node: Stage, sl: slice, extra: list[np.ndarray]) -> None:
        total = inflow(node, sl, extra)
        for target in STRUCTURE[node]:
            np.multiply(total, share((node, target), sl), out=f[(node, target)][sl])

    block = block or _FLOW_BLOCK
    blocks = [slice(start, start + block) for start in range(0, nr, block)]
    export_out = np.empty(shape)
    for sl in blocks:
        for node in _FIRST_STAGES:
            split(node, sl, [])
        np.add(f[(S.COLLECTION_FORMAL, S.EXPORT)][sl], f[(S.COLLECTION_INFORMAL, S.EXPORT)][sl],
               out=export_out[sl])  # fmt: skip
    trade = export_out[exports.origin] * exports.shares[:, :, None]
    del export_out
    imports: dict[Stage, np.ndarray | float] = {}
    stage = np.asarray(exports.to_stage, dtype=object)
    for st in IMPORT_STAGES:
        lk = np.flatnonzero((exports.destination >= 0) & (stage == st.value))
        if lk.size == 0:
            imports[st] = 0.0
            continue
        agg = sp.csr_array(
            (np.ones(lk.size), (exports.destination[lk], np.arange(lk.size))), shape=(nr, lk.size)
        )
        imports[st] = (agg @ trade[lk].reshape(lk.size, -1)).reshape(shape)

    def imported(node: Stage, sl: slice) -> list[np.ndarray]:
        arr = imports.get(node, 0.0)
        return [arr[sl]] if isinstance(arr, np.ndarray) else []

    changes = {S.USE.value: np.empty(shape)}
    for sink in SINKS:
        changes[sink.value] = np.empty(shape)
    stocks = {k: np.empty(shape) for k in changes}
    for sl in blocks:
        for node in _LATER_STAGES:
            split(node, sl, imported(node, sl))
        f[residual_out][sl] = inflow(S.RESIDUAL, sl, [])
        use_in = inflow(S.USE, sl, imported(S.USE, sl))  # POM + local reuse + imported used EEE
        np.subtract(use_in, wg[sl], out=changes[S.USE.value][sl])
        for sink in SINKS:
            changes[sink.value][sl] = inflow(sink, sl, [])
        for k, v in changes.items():
            np.cumsum(v[sl], axis=-1, out=stocks[k][sl])

    flows = {(a.value, b.value): v for (a, b), v in f.items()}
    flows[(BOUNDARY, S.MANUFACTURE.value)] = pom
    for arr in (*flows.values(), *stocks.values(), *changes.values(), trade):
        arr.flags.writeable = False
    return flows, stocks, changes, trade, imports


def system_to_graph(result: SystemResult) -> nx.DiGraph:
    """Wrap a :class:`SystemResult` in a directed graph of ``(region, stage)`` nodes.

    Edges carry ``flow``: a ``(P, N)`` view into the dense arrays; ``use`` and the final sinks
    carry ``stock`` and ``stock_change`` (``(P, N)`` views). The boundary node
    ``("sysenv", "sysenv")`` feeds every ``manufacture`` node and receives exports to ROW.
    ``G.graph`` holds ``regions``, ``products`` and ``years``.
    """
    G = nx.DiGraph(regions=result.regions, products=result.products, years=result.years)
    boundary = (BOUNDARY, BOUNDARY)
    G.add_node(boundary, region=BOUNDARY, stage=BOUNDARY)
    stock_stages = set(result.stocks)
    nodes = []
    for r, region in enumerate(result.regions):
        for st in Stage:
            attrs: dict[str, object] = {"region": region, "stage": st.value}
            if st.value in stock_stages:
                attrs["stock"] = result.stocks[st.value][r]
                attrs["stock_change"] = result.stock_changes[st.value][r]
            nodes.append(((region, st.value), attrs))
    G.add_nodes_from(nodes)
    edges = []
    for (a, b), arr in result.flows.items():
        for r, region in enumerate(result.regions):
            u = boundary if a == BOUNDARY else (region, a)
            edges.append((u, (region, b), {"flow": arr[r]}))
    to_row: dict[str, np.ndarray] = {}
    for origin, dest, stage, flow in result.trade:
        if dest == "ROW":  # used equipment and e-waste leave through one boundary edge
            to_row[origin] = to_row[origin] + flow if origin in to_row else flow
        else:
            edges.append(((origin, S.EXPORT.value), (dest, stage), {"flow": flow}))
    for origin, flow in to_row.items():
        edges.append(((origin, S.EXPORT.value), boundary, {"flow": flow}))
    G.add_edges_from(edges)
    return G
