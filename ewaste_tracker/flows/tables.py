"""Tidy tables of flows and stocks straight from the dense system arrays.

:func:`system_to_frames` gives the same rows as
:func:`ewaste_tracker.flows.balance.graph_to_frames` on
:func:`ewaste_tracker.flows.system.system_to_graph` (one row per edge, product and year), built
from the ``(R, P, N)`` arrays with one stacking pass per table instead of a walk over graph
edges, for a subset of regions and, when asked, summed over products along the array axis
(never by grouping exploded rows).

Columns: flows ``region_from, stage_from, region_to, stage_to[, product], year, value_t``;
stocks ``region, stage[, product], year, stock_t, stock_change_t``. Label columns are
categorical. The boundary is the region and stage ``sysenv``: it feeds every ``manufacture``
node and receives exports to destinations outside the modelled regions (``ROW``; used
equipment and e-waste leave through one boundary edge per origin, as in the graph).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ewaste_tracker.flows.system import SystemResult
from ewaste_tracker.flows.transfer import BOUNDARY, Stage

__all__ = ["FLOW_COLUMNS", "STOCK_COLUMNS", "TRADE_CODES", "system_to_frames"]

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


def _cat(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes.astype(np.int32), pd.Index(list(labels)))


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
        See the module docstring; rows in the order region, edge, product, year.
    """
    all_regions = tuple(result.regions)
    if regions is None:
        sel = np.arange(len(all_regions))
    else:
        index = {r: i for i, r in enumerate(all_regions)}
        sel = np.array(sorted(index[r] for r in regions), dtype=np.intp)
    years = np.asarray(result.years)
    n_p, n_y = len(result.products), len(years)
    inner = n_p * n_y if by_product else n_y

    def values(arr: np.ndarray) -> np.ndarray:
        """(k, P, N) → (k, P·N) or (k, N)."""
        return (arr if by_product else arr.sum(axis=1, keepdims=True)).reshape(len(arr), -1)

    region_labels = [*all_regions, BOUNDARY]
    stage_labels = [BOUNDARY, *(s.value for s in Stage)]
    stage_code = {s: i for i, s in enumerate(stage_labels)}
    boundary_code = len(all_regions)

    # within-region edges: every (from, to) key for every selected region
    keys = list(result.flows)
    blocks = [values(result.flows[k][sel]) for k in keys]  # each (R', inner)
    k_from = np.array([stage_code[a] for a, _ in keys])
    k_to = np.array([stage_code[b] for _, b in keys])
    n_sel, n_k = len(sel), len(keys)
    reg = np.tile(sel, n_k)
    r_from = np.where(np.repeat(k_from == stage_code[BOUNDARY], n_sel), boundary_code, reg)
    edge_vals = [np.concatenate(blocks, axis=0)] if blocks else [np.zeros((0, inner))]
    e_rfrom, e_sfrom = [r_from], [np.repeat(k_from, n_sel)]
    e_rto, e_sto = [reg], [np.repeat(k_to, n_sel)]
    kinds = list(TRADE_CODES)
    e_kind = [np.zeros(n_sel * n_k, dtype=np.intp)]

    # trade edges (ROW links summed per origin, as in the graph)
    if result.trade:
        origin = np.array([all_regions.index(o) for o, _, _, _ in result.trade])
        dest_names = [d for _, d, _, _ in result.trade]
        to_row = np.array([d == "ROW" for d in dest_names])
        dest = np.array([boundary_code if d == "ROW" else all_regions.index(d)
                         for d in dest_names])  # fmt: skip
        stage = np.array([stage_code[BOUNDARY] if d == "ROW" else stage_code[s]
                          for (_, d, s, _) in result.trade])  # fmt: skip
        keep = np.isin(origin, sel) | np.isin(dest, sel)
        flows = values(result.trade_flows)
        inside = keep & ~to_row
        row_links = np.flatnonzero(keep & to_row)
        row_origins, inverse = np.unique(origin[row_links], return_inverse=True)
        row_vals = np.zeros((len(row_origins), flows.shape[1]))
        np.add.at(row_vals, inverse, flows[row_links])
        edge_vals += [flows[inside], row_vals]
        export = stage_code[Stage.EXPORT.value]
        e_rfrom += [origin[inside], row_origins]
        e_sfrom += [np.full(inside.sum(), export), np.full(len(row_origins), export)]
        e_rto += [dest[inside], np.full(len(row_origins), boundary_code)]
        e_sto += [stage[inside], np.full(len(row_origins), stage_code[BOUNDARY])]
        used = np.isin(stage[inside], [stage_code["use"], stage_code["refurbishment"]])
        e_kind += [np.where(used, kinds.index("used"), kinds.index("ewaste")),
                   np.full(len(row_origins), kinds.index("ewaste"))]  # fmt: skip
    vals = np.concatenate(edge_vals, axis=0)
    n_e = len(vals)
    cols: dict[str, object] = {
        "region_from": _cat(np.repeat(np.concatenate(e_rfrom), inner), region_labels),
        "stage_from": _cat(np.repeat(np.concatenate(e_sfrom), inner), stage_labels),
        "region_to": _cat(np.repeat(np.concatenate(e_rto), inner), region_labels),
        "stage_to": _cat(np.repeat(np.concatenate(e_sto), inner), stage_labels),
    }
    if by_product:
        cols["product"] = _cat(np.tile(np.repeat(np.arange(n_p), n_y), n_e), result.products)
    cols["year"] = np.tile(years, n_e * (n_p if by_product else 1))
    cols["value_t"] = vals.ravel()
    kind = np.repeat(np.concatenate(e_kind), inner)
    for j, name in enumerate(("hs_code", "basel_code")):
        labels = list(dict.fromkeys(TRADE_CODES[k][j] for k in kinds))
        remap = np.array([labels.index(TRADE_CODES[k][j]) for k in kinds])
        cols[name] = _cat(remap[kind], labels)
    flow_table = pd.DataFrame(cols, copy=False)

    st_keys = list(result.stocks)
    st_vals = np.concatenate([values(result.stocks[s][sel]) for s in st_keys], axis=0)
    ch_vals = np.concatenate([values(result.stock_changes[s][sel]) for s in st_keys], axis=0)
    n_s = len(st_vals)
    scols: dict[str, object] = {
        "region": _cat(np.repeat(np.tile(sel, len(st_keys)), inner), region_labels),
        "stage": _cat(
            np.repeat(np.repeat([stage_code[s] for s in st_keys], n_sel), inner), stage_labels
        ),
    }
    if by_product:
        scols["product"] = _cat(np.tile(np.repeat(np.arange(n_p), n_y), n_s), result.products)
    scols["year"] = np.tile(years, n_s * (n_p if by_product else 1))
    scols["stock_t"] = st_vals.ravel()
    scols["stock_change_t"] = ch_vals.ravel()
    return flow_table, pd.DataFrame(scols, copy=False)
