"""Tidy tables of flows and stocks straight from the dense system arrays, in blocks of rows.

:func:`system_to_frames` gives the same rows as
:func:`ewaste_tracker.flows.balance.graph_to_frames` on
:func:`ewaste_tracker.flows.system.system_to_graph` (one row per edge, product and year), built
from the ``(R, P, N)`` arrays instead of a walk over graph edges, for a subset of regions and,
when asked, summed over products along the array axis (never by grouping exploded rows).

:func:`flow_blocks` and :func:`stock_blocks` give the same rows as a sequence of frames of
bounded size (a block of regions at a time, then the trade edges in blocks of links), so a
writer can stream a product-level table of thousands of regions to disk without ever holding
it whole: each block costs one gather of its regions from each array (``value_t`` is a copy
of contiguous slices, the label columns are small integer codes repeated along the axes).

Columns: flows ``region_from, stage_from, region_to, stage_to[, product], year, value_t,
hs_code, basel_code`` (the customs and Basel codes of the edge, :data:`TRADE_CODES`);
stocks ``region, stage[, product], year, stock_t, stock_change_t``. Label columns are
categorical, with every region (and ``sysenv``) as categories in every block. The boundary is
the region and stage ``sysenv``: it feeds every ``manufacture`` node and receives exports to
destinations outside the modelled regions (``ROW``; used equipment and e-waste leave through
one boundary edge per origin, as in the graph). Rows come region block by region block, and
within a block edge, region, product, year; the trade edges come last.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from ewaste_tracker.flows.system import SystemResult
from ewaste_tracker.flows.transfer import BOUNDARY, Stage

__all__ = ["BLOCK_ROWS", "FLOW_COLUMNS", "STOCK_COLUMNS", "TRADE_CODES", "flow_blocks",
           "stock_blocks", "system_to_frames"]  # fmt: skip

FLOW_COLUMNS = ("region_from", "stage_from", "region_to", "stage_to", "product", "year",
                "value_t", "hs_code", "basel_code")  # fmt: skip
TRADE_CODES = {
    "within": ("", ""),
    "used": ("84/85 (the product's own heading)", ""),
    "ewaste": ("8549", "A1181 / Y49"),
}
"""Customs and Basel codes of an edge: none inside a region; used equipment (to another region's
``use`` or ``refurbishment``) under the product's own HS heading; e-waste under HS 2022
heading 85.49 and Basel Convention entries A1181 (hazardous e-waste, Annex VIII) or Y49 (other
e-waste, Annex II), in force from 1 January 2025 (decision BC-15/18; WCO HS 2022)."""
STOCK_COLUMNS = ("region", "stage", "product", "year", "stock_t", "stock_change_t")
BLOCK_ROWS = 2_000_000
"""Rows per block, about 40 MB of columns: large enough for fast column writes, small enough
that a writer's memory does not grow with the number of regions."""


class _Layout:
    """Labels, codes and the selection shared by the flow and stock blocks."""

    def __init__(self, result: SystemResult, regions: Sequence[str] | None, by_product: bool):
        self.result = result
        all_regions = tuple(result.regions)
        if regions is None:
            self.sel = np.arange(len(all_regions))
        else:
            index = {r: i for i, r in enumerate(all_regions)}
            self.sel = np.array(sorted(index[r] for r in regions), dtype=np.intp)
        self.years = np.asarray(result.years, dtype=np.int64)
        self.by_product = by_product
        self.n_p, self.n_y = len(result.products), len(self.years)
        self.inner = self.n_p * self.n_y if by_product else self.n_y
        self.region_labels = pd.Index([*all_regions, BOUNDARY])
        self.stage_labels = pd.Index([BOUNDARY, *(s.value for s in Stage)])
        self.product_labels = pd.Index(list(result.products))
        self.stage_code = {s: i for i, s in enumerate(self.stage_labels)}
        self.boundary = len(all_regions)
        kinds = list(TRADE_CODES)
        self.kind_code = {k: i for i, k in enumerate(kinds)}
        self.code_labels: list[pd.Index] = []
        self.code_remap: list[np.ndarray] = []
        for j in range(2):  # hs_code, basel_code: distinct labels, kind -> label code
            labels = list(dict.fromkeys(TRADE_CODES[k][j] for k in kinds))
            self.code_labels.append(pd.Index(labels))
            self.code_remap.append(np.array([labels.index(TRADE_CODES[k][j]) for k in kinds]))

    def cat(self, codes: np.ndarray, labels: pd.Index) -> pd.Categorical:
        """Categorical from trusted codes, repeated over the ``inner`` product-year rows."""
        dtype = np.int8 if len(labels) < 2**7 else np.int16 if len(labels) < 2**15 else np.int32
        rows = np.repeat(np.asarray(codes, dtype=dtype), self.inner)
        return pd.Categorical.from_codes(rows, labels, validate=False)

    def values(self, arr: np.ndarray) -> np.ndarray:
        """(k, P, N) → (k, P·N), or (k, N) summed over products."""
        out = arr if self.by_product else arr.sum(axis=1, keepdims=True)
        return out.reshape(len(arr), -1)

    def region_blocks(self, per_region: int, block_rows: int) -> Iterator[np.ndarray]:
        """Selected region indices in blocks of about ``block_rows`` rows."""
        step = max(1, block_rows // max(per_region * self.inner, 1))
        for start in range(0, len(self.sel), step):
            yield self.sel[start : start + step]

    def frame(self, labels: dict[str, pd.Categorical], n_edges: int,
              values: dict[str, np.ndarray],
              kinds: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
        """Assemble a block: label columns, product, year, the value columns, then (flows,
        ``kinds`` the :data:`TRADE_CODES` index per edge) ``hs_code`` and ``basel_code``."""
        cols: dict[str, object] = dict(labels)
        if self.by_product:
            codes = np.tile(np.repeat(np.arange(self.n_p, dtype=np.int16), self.n_y), n_edges)
            cols["product"] = pd.Categorical.from_codes(codes, self.product_labels, validate=False)
        cols["year"] = np.tile(self.years, n_edges * (self.n_p if self.by_product else 1))
        cols.update({k: v.ravel() for k, v in values.items()})
        if kinds is not None:
            for name, labs, remap in zip(("hs_code", "basel_code"), self.code_labels,
                                         self.code_remap, strict=True):  # fmt: skip
                cols[name] = self.cat(remap[kinds], labs)
        return pd.DataFrame(cols, copy=False)


def flow_blocks(
    result: SystemResult,
    *,
    regions: Sequence[str] | None = None,
    by_product: bool = True,
    block_rows: int = BLOCK_ROWS,
) -> Iterator[pd.DataFrame]:
    """The flow table of :func:`system_to_frames` as frames of about ``block_rows`` rows.

    Parameters
    ----------
    result
        The dense system.
    regions
        Regions whose nodes to include (default all); a trade edge is included when its origin
        or its destination is one of them.
    by_product
        One row per product (default), or the sum over products (no ``product`` column).
    block_rows
        Rows per frame (a block holds at least one region, or one trade link).

    Yields
    ------
    pandas.DataFrame
        Columns :data:`FLOW_COLUMNS` (without ``product`` when summed).
    """
    lay = _Layout(result, regions, by_product)
    keys = list(result.flows)
    k_from = np.array([lay.stage_code[a] for a, _ in keys], dtype=np.intp)
    k_to = np.array([lay.stage_code[b] for _, b in keys], dtype=np.intp)
    from_boundary = k_from == lay.stage_code[BOUNDARY]
    for block in lay.region_blocks(len(keys), block_rows):
        n = len(block)
        vals = np.concatenate([lay.values(result.flows[k][block]) for k in keys], axis=0)
        reg = np.tile(block, len(keys))
        r_from = np.where(np.repeat(from_boundary, n), lay.boundary, reg)
        yield lay.frame(
            {
                "region_from": lay.cat(r_from, lay.region_labels),
                "stage_from": lay.cat(np.repeat(k_from, n), lay.stage_labels),
                "region_to": lay.cat(reg, lay.region_labels),
                "stage_to": lay.cat(np.repeat(k_to, n), lay.stage_labels),
            },
            len(vals),
            {"value_t": vals},
            np.full(len(vals), lay.kind_code["within"]),
        )
    yield from _trade_blocks(lay, block_rows)


def _trade_blocks(lay: _Layout, block_rows: int) -> Iterator[pd.DataFrame]:
    """Trade edges touching the selection; links to ROW summed per origin (as in the graph)."""
    result = lay.result
    if not result.trade:
        return
    all_regions = tuple(result.regions)
    index = {r: i for i, r in enumerate(all_regions)}
    origin = np.array([index[o] for o, _, _, _ in result.trade], dtype=np.intp)
    to_row = np.array([d == "ROW" for _, d, _, _ in result.trade])
    dest = np.array([lay.boundary if d == "ROW" else index[d] for _, d, _, _ in result.trade],
                    dtype=np.intp)  # fmt: skip
    stage = np.array([lay.stage_code[BOUNDARY if d == "ROW" else s]
                      for (_, d, s, _) in result.trade], dtype=np.intp)  # fmt: skip
    keep = np.isin(origin, lay.sel) | np.isin(dest, lay.sel)
    inside = np.flatnonzero(keep & ~to_row)
    row_links = np.flatnonzero(keep & to_row)
    row_origins, row_group = np.unique(origin[row_links], return_inverse=True)
    order = np.argsort(row_group, kind="stable")  # each origin's ROW links contiguous
    row_links, row_group = row_links[order], row_group[order]
    row_start = np.searchsorted(row_group, np.arange(len(row_origins) + 1))
    export = lay.stage_code[Stage.EXPORT.value]
    boundary_stage = lay.stage_code[BOUNDARY]
    # edges: the links between modelled regions, then one ROW edge per origin
    n_in = len(inside)
    e_from = np.concatenate([origin[inside], row_origins])
    e_to = np.concatenate([dest[inside], np.full(len(row_origins), lay.boundary)])
    e_stage = np.concatenate([stage[inside], np.full(len(row_origins), boundary_stage)])
    used = np.isin(e_stage, [lay.stage_code[Stage.USE.value],
                             lay.stage_code[Stage.REFURBISHMENT.value]])  # fmt: skip
    e_kind = np.where(used, lay.kind_code["used"], lay.kind_code["ewaste"])
    step = max(1, block_rows // lay.inner)
    for start in range(0, len(e_from), step):
        edges = np.arange(start, min(start + step, len(e_from)))
        parts = []
        links = edges[edges < n_in]
        if links.size:
            parts.append(lay.values(result.trade_flows[inside[links]]))
        rows = edges[edges >= n_in] - n_in
        if rows.size:  # sum the ROW links of each origin in the block
            lo, hi = row_start[rows[0]], row_start[rows[-1] + 1]
            flows = lay.values(result.trade_flows[row_links[lo:hi]])
            parts.append(np.add.reduceat(flows, row_start[rows] - lo, axis=0))
        vals = np.concatenate(parts, axis=0)
        yield lay.frame(
            {
                "region_from": lay.cat(e_from[edges], lay.region_labels),
                "stage_from": lay.cat(np.full(len(edges), export), lay.stage_labels),
                "region_to": lay.cat(e_to[edges], lay.region_labels),
                "stage_to": lay.cat(e_stage[edges], lay.stage_labels),
            },
            len(edges),
            {"value_t": vals},
            e_kind[edges],
        )


def stock_blocks(
    result: SystemResult,
    *,
    regions: Sequence[str] | None = None,
    by_product: bool = True,
    block_rows: int = BLOCK_ROWS,
) -> Iterator[pd.DataFrame]:
    """The stock table of :func:`system_to_frames` as frames of about ``block_rows`` rows.

    Yields
    ------
    pandas.DataFrame
        Columns :data:`STOCK_COLUMNS` (without ``product`` when summed).
    """
    lay = _Layout(result, regions, by_product)
    stages = list(result.stocks)
    codes = np.array([lay.stage_code[s] for s in stages], dtype=np.intp)
    for block in lay.region_blocks(len(stages), block_rows):
        n = len(block)
        stock = np.concatenate([lay.values(result.stocks[s][block]) for s in stages], axis=0)
        change = np.concatenate(
            [lay.values(result.stock_changes[s][block]) for s in stages], axis=0
        )
        yield lay.frame(
            {
                "region": lay.cat(np.tile(block, len(stages)), lay.region_labels),
                "stage": lay.cat(np.repeat(codes, n), lay.stage_labels),
            },
            len(stock),
            {"stock_t": stock, "stock_change_t": change},
        )


def system_to_frames(
    result: SystemResult,
    *,
    regions: Sequence[str] | None = None,
    by_product: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flow and stock tables of a system, for some regions, by product or summed over them.

    Parameters
    ----------
    result
        The dense system.
    regions
        Regions whose nodes to include (default all); a trade edge is included when its origin
        or its destination is one of them.
    by_product
        One row per product (default), or the sum over products (no ``product`` column).

    Returns
    -------
    flows, stocks : pandas.DataFrame
        See the module docstring: the blocks of :func:`flow_blocks` and :func:`stock_blocks`
        in one frame each.
    """
    kw = {"regions": regions, "by_product": by_product, "block_rows": 2**62}
    flows = list(flow_blocks(result, **kw))  # type: ignore[arg-type]
    stocks = list(stock_blocks(result, **kw))  # type: ignore[arg-type]
    return _concat(flows), _concat(stocks)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
