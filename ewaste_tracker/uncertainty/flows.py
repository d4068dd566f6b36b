r"""Monte Carlo bands of the flows table: every edge by product and year, on the same draws.

The flows table (:func:`ewaste_tracker.flows.tables.flow_blocks`) lists, for the shown
regions, every within-region edge (``key`` :math:`j` of ``SystemResult.flows``, region,
product, year), then the trade edges touching them: the links between modelled regions,
then one boundary edge per origin summing its links to ``ROW``. Its cells are numbered in
the *flow layout*: within cells :math:`((j R + r) P + p) N + n`, then trade cells
:math:`W + (t P + p) N + n` (:math:`t` the table's trade edge), then the same two parts
summed over products (``detail="total"``: :math:`(j R + r) N + n`, :math:`t N + n`). A
batch gathers the kept cells from its ``(B \cdot R, P, N)`` arrays, one gather per edge key,
and sums each draw's links into the table's trade edges (one ``np.add.at`` per batch).

Memory: the world's flows by product are about 34 million cells with the trade links'
(136 MB per draw): the bands keep them for the shown countries, or for every region while
the exact percentiles fit (in memory or a temporary file,
:func:`ewaste_tracker.uncertainty.bands.run_bands`), else the flows summed over products
(1.3 million cells, ``totals_only``) while those fit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from ewaste_tracker.flows.system import SystemResult

__all__ = ["FlowCells", "flow_cells", "flow_values", "trade_edges"]


def trade_edges(system: SystemResult, sel: np.ndarray) -> tuple[np.ndarray, int]:
    """The flows table's trade edge of every link (``-1``: not shown) and the edge count.

    Edges touch the selected regions ``sel``: the links between modelled regions in link
    order, then one edge per origin (sorted) for its links to ``ROW``, as
    :func:`ewaste_tracker.flows.tables.flow_blocks` writes them.
    """
    if not system.trade:
        return np.zeros(0, dtype=np.intp), 0
    index = {r: i for i, r in enumerate(system.regions)}
    origin = np.array([index[o] for o, _, _, _ in system.trade], dtype=np.intp)
    to_row = np.array([d == "ROW" for _, d, _, _ in system.trade])
    dest = np.array([-1 if d == "ROW" else index[d] for _, d, _, _ in system.trade])
    keep = np.isin(origin, sel) | np.isin(dest, sel)
    edge = np.full(len(origin), -1, dtype=np.intp)
    inside = np.flatnonzero(keep & ~to_row)
    edge[inside] = np.arange(inside.size)
    row_links = np.flatnonzero(keep & to_row)
    row_origins = np.unique(origin[row_links])
    edge[row_links] = inside.size + np.searchsorted(row_origins, origin[row_links])
    return edge, int(inside.size + row_origins.size)


@dataclass
class FlowCells:
    """Kept cells of the flow layout (module docstring) and how to gather them.

    Attributes
    ----------
    keys
        Edge keys of ``SystemResult.flows``, in table order.
    sel
        Kept regions (sorted indices).
    shape
        ``(R, P, N)`` of one copy of the regions.
    link_edge, n_edges
        Trade edge of every link (:func:`trade_edges`) and their number.
    cells
        Sorted positions in the flow layout.
    central
        The central run's values of the cells.
    totals_only
        Only the two parts summed over products (the ``detail="total"`` table).
    """

    keys: list[tuple[str, str]]
    sel: np.ndarray
    shape: tuple[int, int, int]
    link_edge: np.ndarray
    n_edges: int
    cells: np.ndarray
    central: np.ndarray
    totals_only: bool = False

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        """Sizes of the four parts: within, trade, within totals, trade totals."""
        n_r, n_p, n_n = self.shape
        j = len(self.keys)
        return j * n_r * n_p * n_n, self.n_edges * n_p * n_n, j * n_r * n_n, self.n_edges * n_n


def flow_cells(
    system: SystemResult,
    regions: tuple[str, ...],
    keep: Collection[str] | None = None,
    *,
    central: bool = True,
    totals_only: bool = False,
) -> FlowCells:
    """The flow cells of the regions ``keep`` (default all) and (``central``) their central
    values; with ``totals_only`` the cells summed over products alone (the world's flows by
    product are 34 million cells, their totals 1.3 million)."""
    keys = list(system.flows)
    first = np.asarray(system.flows[keys[0]])
    n_r, n_p, n_n = first.shape
    sel = np.arange(n_r) if keep is None else np.flatnonzero(np.isin(regions, list(keep)))
    link_edge, n_edges = trade_edges(system, sel)
    j = np.arange(len(keys))[:, None, None]
    r = sel[None, :, None]
    within = ((j * n_r + r) * n_p * n_n + np.arange(n_p * n_n)[None, None]).ravel()
    w_tot = ((j * n_r + r) * n_n + np.arange(n_n)[None, None]).ravel()
    cells = FlowCells(keys, sel, (n_r, n_p, n_n), link_edge, n_edges, np.zeros(0, np.int64),
                      np.zeros(0), totals_only)  # fmt: skip
    s_w, s_t, s_wt, _ = cells.sizes
    trade = s_w + np.arange(s_t)
    t_tot = s_w + s_t + s_wt + np.arange(n_edges * n_n)
    parts = [s_w + s_t + w_tot, t_tot] if totals_only else [within, trade, s_w + s_t + w_tot, t_tot]
    cells.cells = np.concatenate(parts).astype(np.int64)
    if central:
        cells.central = flow_values(cells, system, 1)[0]
    return cells


def flow_values(space: FlowCells, system: SystemResult, batch: int) -> np.ndarray:
    """``(batch, C)`` float32 kept flow cells of a batch's system (C = ``space.cells``)."""
    n_r, n_p, n_n = space.shape
    n_sel = space.sel.size
    if space.totals_only:  # summed over products first: never the (B, J, S, P, N) block
        w_tot = np.stack(
            [
                np.asarray(system.flows[k]).reshape(batch, n_r, n_p, n_n)[:, space.sel].sum(axis=2)
                for k in space.keys
            ],
            axis=1,
        )  # (B, J, S, N)
        t_tot = np.zeros((space.n_edges, batch, n_n))
        if space.n_edges:
            links = np.asarray(system.trade_flows).reshape(batch, -1, n_p, n_n).sum(axis=2)
            shown = np.flatnonzero(space.link_edge >= 0)
            np.add.at(t_tot, space.link_edge[shown], links.swapaxes(0, 1)[shown])
        parts = [w_tot.reshape(batch, -1), t_tot.swapaxes(0, 1).reshape(batch, -1)]
        out = np.concatenate(parts, axis=1).astype(np.float32)
        assert out.shape[1] == space.cells.size, (out.shape, n_sel)
        return out
    within = np.stack(
        [
            np.asarray(system.flows[k]).reshape(batch, n_r, n_p, n_n)[:, space.sel]
            for k in space.keys
        ],
        axis=1,
    )  # (B, J, S, P, N)
    trade = np.zeros((space.n_edges, batch, n_p, n_n))
    if space.n_edges:
        links = np.asarray(system.trade_flows).reshape(batch, -1, n_p, n_n).swapaxes(0, 1)
        shown = np.flatnonzero(space.link_edge >= 0)
        np.add.at(trade, space.link_edge[shown], links[shown])  # ROW links summed per origin
    trade = trade.swapaxes(0, 1)  # (B, T, P, N)
    parts = [
        within.reshape(batch, -1),
        trade.reshape(batch, -1),
        within.sum(axis=3).reshape(batch, -1),
        trade.sum(axis=2).reshape(batch, -1),
    ]
    out = np.concatenate(parts, axis=1).astype(np.float32)
    assert out.shape[1] == space.cells.size, (out.shape, n_sel)
    return out
