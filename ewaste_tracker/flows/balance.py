"""Accounting views of the lifecycle graph: mass balance, tidy tables and Sankey diagrams.

All functions take the :class:`networkx.DiGraph` built by
:func:`ewaste_tracker.flows.system.system_to_graph` (nodes ``(region, stage)``, edge attribute
``flow`` ``(P, N)``, node attributes ``stock`` and ``stock_change`` ``(P, N)`` on stock nodes,
``G.graph["regions" | "products" | "years"]``).

Mass balance (flodym's ``check_mass_balance`` convention): at every node except the boundary
``("sysenv", "sysenv")``, for every product and year,

.. math:: \\sum_{in} F - \\sum_{out} F - \\Delta S = 0,

within ``rtol`` of the node's throughput ``|in| + |out| + |ΔS|``; and system-wide, boundary
outflow - boundary inflow = the sum of all stock changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from ewaste_tracker.flows.errors import MassBalanceError
from ewaste_tracker.flows.transfer import BOUNDARY, DimsLike, Stage

__all__ = ["check_mass_balance", "frames_to_graph", "graph_to_frames", "graph_to_sankey"]

log = logging.getLogger(__name__)

_BOUNDARY_NODE = (BOUNDARY, BOUNDARY)
_SYSTEM_NODE = (BOUNDARY, "system")
_CHUNK = 256
_TINY = np.finfo(float).tiny
_STAGE_ORDER = {BOUNDARY: -1, **{s.value: i for i, s in enumerate(Stage)}}


def _shape(G: nx.DiGraph) -> tuple[int, int]:
    return len(G.graph["products"]), len(G.graph["years"])


def check_mass_balance(
    G: nx.DiGraph, *, rtol: float = 1e-9, raise_error: bool = True
) -> pd.DataFrame:
    """Residual of every node and year: inputs - outputs - stock change.

    Parameters
    ----------
    G
        Lifecycle graph.
    rtol
        Allowed residual relative to the node's throughput, per product and year.
    raise_error
        Raise :class:`~ewaste_tracker.flows.errors.MassBalanceError` on the worst violation;
        otherwise only log it and return the table.

    Returns
    -------
    pandas.DataFrame
        One row per node and year (products summed) with columns ``region, stage, year,
        inputs_t, outputs_t, stock_change_t, residual_t, max_rel_residual, ok``;
        ``max_rel_residual`` is the largest ``|residual| / throughput`` over products and
        ``ok`` whether every product passed. The system-wide balance is the row with
        region ``"sysenv"`` and stage ``"system"``.
    """
    shape = _shape(G)
    years = np.asarray(G.graph["years"])
    products = list(G.graph["products"])
    nodes = [v for v in G.nodes if v != _BOUNDARY_NODE]
    stocked = [v for v in nodes if G.nodes[v].get("stock_change") is not None]
    nodes = stocked + [v for v in nodes if G.nodes[v].get("stock_change") is None]
    nv = len(nodes) + 1
    ins, outs, chg, res, rel = (np.zeros((nv, shape[1])) for _ in range(5))
    worst = (0.0, -1, -1, -1, 0.0)  # (excess over tolerance, node, product, year, residual)
    total_change, total_abs_change = np.zeros(shape), np.zeros(shape)
    buf_in, buf_out, buf_change, buf_scale, buf_tmp = (
        np.empty((min(_CHUNK, max(len(nodes), 1)), *shape)) for _ in range(5)
    )

    def record(
        i0: int,
        inflow: np.ndarray,
        outflow: np.ndarray,
        change: np.ndarray | None,
        change_scale: np.ndarray | None = None,
    ) -> None:
        """Residuals of a stack of nodes ``(k, P, N)`` starting at row ``i0`` (in place)."""
        nonlocal worst
        k = inflow.shape[0]
        sl = slice(i0, i0 + k)
        scale, tmp = buf_scale[:k], buf_tmp[:k]
        np.abs(inflow, out=scale)
        scale += np.abs(outflow, out=tmp)
        ins[sl], outs[sl] = inflow.sum(1), outflow.sum(1)
        residual = np.subtract(inflow, outflow, out=inflow)
        if change is not None:
            scale += np.abs(change, out=tmp) if change_scale is None else change_scale
            chg[sl] = change.sum(1)
            residual -= change
        res[sl] = residual.sum(1)
        # |residual| <= throughput, so the ratio lies in [0, 1]; zero throughput -> zero
        ratio = np.divide(np.abs(residual, out=tmp), np.maximum(scale, _TINY, out=scale), out=tmp)
        rel[sl] = ratio.max(1)
        j, p, n = np.unravel_index(np.argmax(ratio), ratio.shape)
        if ratio[j, p, n] - rtol > worst[0]:
            worst = (
                float(ratio[j, p, n] - rtol),
                int(i0 + j),
                int(p),
                int(n),
                float(residual[j, p, n]),
            )

    # nodes in chunks (stock nodes first): a Python loop over nodes and their edges only adds
    # (P, N) arrays; the residual statistics are computed for a whole chunk at once
    for c0 in range(0, len(nodes), _CHUNK):
        chunk = nodes[c0 : c0 + _CHUNK]
        k = len(chunk)
        inflow, outflow = buf_in[:k], buf_out[:k]
        inflow.fill(0.0)
        outflow.fill(0.0)
        change = buf_change[:k] if c0 < len(stocked) else None
        if change is not None:
            change.fill(0.0)
        for j, v in enumerate(chunk):
            for _, _, f in G.in_edges(v, data="flow"):
                inflow[j] += f
            for _, _, f in G.out_edges(v, data="flow"):
                outflow[j] += f
            if change is not None and c0 + j < len(stocked):
                sc = G.nodes[v]["stock_change"]
                change[j] = sc
                total_change += sc
                total_abs_change += np.abs(sc)
        record(c0, inflow, outflow, change)
    boundary = [np.zeros(shape), np.zeros(shape)]
    if _BOUNDARY_NODE in G:
        for _, _, f in G.out_edges(_BOUNDARY_NODE, data="flow"):
            boundary[0] += f
        for _, _, f in G.in_edges(_BOUNDARY_NODE, data="flow"):
            boundary[1] += f
    # system-wide: the throughput of the stock changes is the sum of their magnitudes
    record(nv - 1, boundary[0][None], boundary[1][None], total_change[None], total_abs_change[None])

    labels = [*nodes, _SYSTEM_NODE]
    ny = len(years)
    frame = pd.DataFrame(
        {
            **_labels(labels, ("region", "stage"), ny),
            "year": np.tile(years, nv),
            "inputs_t": ins.ravel(),
            "outputs_t": outs.ravel(),
            "stock_change_t": chg.ravel(),
            "residual_t": res.ravel(),
            "max_rel_residual": rel.ravel(),
        }
    )
    frame["ok"] = frame["max_rel_residual"] <= rtol
    if worst[1] >= 0:
        _, i, p, n, residual = worst
        node = labels[i]
        what = "system-wide balance" if node == _SYSTEM_NODE else "node"
        err = MassBalanceError(
            f"{what} does not balance: inputs - outputs - stock change = {residual:.6g} t "
            f"(relative {rel[i, n]:.3g} > rtol {rtol:g})",
            node=node,
            year=int(years[n]),
            product=str(products[p]),
            residual=residual,
        )
        if raise_error:
            raise err
        log.warning("%s", err)
    return frame


def graph_to_frames(
    G: nx.DiGraph, *, dims: DimsLike | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy tables of every flow and stock of the graph.

    Parameters
    ----------
    G
        Lifecycle graph.
    dims
        Axis labels; defaults to those stored in ``G.graph``.

    Returns
    -------
    flows : pandas.DataFrame
        ``region_from, stage_from, region_to, stage_to, product, year, value_t`` (label
        columns categorical), one row per edge, product and year.
    stocks : pandas.DataFrame
        ``region, stage, product, year, stock_t, stock_change_t`` for every stock node.
    """
    products = list(G.graph["products"] if dims is None else dims.products)
    years = np.asarray(G.graph["years"] if dims is None else dims.years)
    npr, ny = len(products), len(years)
    edges = list(G.edges(data="flow"))
    values = np.stack([f for _, _, f in edges]) if edges else np.zeros((0, npr, ny))
    flows = pd.DataFrame(
        {
            **_labels(
                [(u[0], u[1], v[0], v[1]) for u, v, _ in edges],
                ("region_from", "stage_from", "region_to", "stage_to"),
                npr * ny,
            ),
            "product": _tile(products, len(edges), ny),
            "year": np.tile(years, len(edges) * npr),
            "value_t": values.ravel(),
        }
    )
    stock_nodes = [(v, d) for v, d in G.nodes(data=True) if "stock" in d]
    st = np.stack([d["stock"] for _, d in stock_nodes]) if stock_nodes else values[:0]
    ch = np.stack([d["stock_change"] for _, d in stock_nodes]) if stock_nodes else values[:0]
    stocks = pd.DataFrame(
        {
            **_labels([v for v, _ in stock_nodes], ("region", "stage"), npr * ny),
            "product": _tile(products, len(stock_nodes), ny),
            "year": np.tile(years, len(stock_nodes) * npr),
            "stock_t": st.ravel(),
            "stock_change_t": ch.ravel(),
        }
    )
    return flows, stocks


def _labels(keys: Sequence[tuple[str, ...]], names: tuple[str, ...], repeat: int) -> dict:
    """Categorical label columns, each key repeated ``repeat`` times."""
    out = {}
    for j, name in enumerate(names):
        col = np.array([k[j] for k in keys], dtype=object)
        cats, codes = np.unique(col, return_inverse=True) if len(col) else (col, col)
        out[name] = pd.Categorical.from_codes(
            np.repeat(codes, repeat).astype(np.intp), categories=pd.Index(cats)
        )
    return out


def _tile(products: list[str], count: int, ny: int) -> pd.Categorical[str]:
    codes = np.tile(np.repeat(np.arange(len(products)), ny), count)
    return pd.Categorical.from_codes(codes, categories=pd.Index(products))


def frames_to_graph(flows: pd.DataFrame, stocks: pd.DataFrame, *, dims: DimsLike) -> nx.DiGraph:
    """Rebuild a lifecycle graph from :func:`graph_to_frames` tables.

    Missing (product, year) entries of an edge or stock are zero. Every ``(region, stage)``
    node named in either table is created; ``stock_change`` defaults to the year-on-year
    difference of ``stock`` when the column is absent.
    """
    products = pd.Index(list(dims.products), dtype=object)
    years = np.asarray(dims.years)
    npr, ny = len(products), len(years)
    G = nx.DiGraph(regions=tuple(dims.regions), products=tuple(dims.products), years=years)
    pidx = products.get_indexer(pd.Index(flows["product"].astype(object)))
    yidx = pd.Index(years).get_indexer(pd.Index(flows["year"]))
    _check_codes(pidx, yidx, flows)
    keys = ["region_from", "stage_from", "region_to", "stage_to"]
    edge_codes, edge_keys = pd.MultiIndex.from_frame(flows[keys].astype(object)).factorize()
    values = np.zeros((len(edge_keys), npr, ny))
    values[edge_codes, pidx, yidx] = flows["value_t"].to_numpy(dtype=float)
    for rf, sf, rt, stt in edge_keys:
        for node in ((rf, sf), (rt, stt)):
            G.add_node(node, region=node[0], stage=node[1])
    G.add_edges_from(
        ((k[0], k[1]), (k[2], k[3]), {"flow": values[i]}) for i, k in enumerate(edge_keys)
    )
    pidx = products.get_indexer(pd.Index(stocks["product"].astype(object)))
    yidx = pd.Index(years).get_indexer(pd.Index(stocks["year"]))
    _check_codes(pidx, yidx, stocks)
    node_codes, node_keys = pd.MultiIndex.from_frame(
        stocks[["region", "stage"]].astype(object)
    ).factorize()
    level = np.zeros((len(node_keys), npr, ny))
    level[node_codes, pidx, yidx] = stocks["stock_t"].to_numpy(dtype=float)
    if "stock_change_t" in stocks:
        change = np.zeros_like(level)
        change[node_codes, pidx, yidx] = stocks["stock_change_t"].to_numpy(dtype=float)
    else:
        change = np.diff(level, axis=-1, prepend=0.0)
    for i, node in enumerate(node_keys):
        G.add_node(node, region=node[0], stage=node[1], stock=level[i], stock_change=change[i])
    return G


def _check_codes(pidx: np.ndarray, yidx: np.ndarray, frame: pd.DataFrame) -> None:
    for idx, col in ((pidx, "product"), (yidx, "year")):
        bad = np.flatnonzero(idx < 0)
        if bad.size:
            raise ValueError(
                f"row {int(bad[0])}, column {col!r}: {frame[col].iloc[bad[0]]!r} is not a "
                "modelled code"
            )


def graph_to_sankey(
    G: nx.DiGraph, *, region: str, year: int, product: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sankey nodes and links of one region and year.

    Links are the non-zero flows with at least one end in ``region``, including shipments
    to and from other regions and the boundary.

    Returns
    -------
    nodes : pandas.DataFrame
        ``node`` (0-based index), ``region``, ``stage``, ``label``.
    links : pandas.DataFrame
        ``source``, ``target`` (indices into ``nodes``), ``value_t``, ``region_from``,
        ``stage_from``, ``region_to``, ``stage_to``.
    """
    years = np.asarray(G.graph["years"])
    hit = np.flatnonzero(years == year)
    if hit.size == 0:
        raise ValueError(f"year {year} is not modelled ({years[0]}-{years[-1]})")
    if region not in G.graph["regions"]:
        raise ValueError(f"region {region!r} is not in the graph")
    n = int(hit[0])
    if product is None:

        def pick(f: np.ndarray) -> float:
            return float(f[:, n].sum())
    else:
        products = list(G.graph["products"])
        if product not in products:
            raise ValueError(f"product {product!r} is not in the graph")
        p = products.index(product)

        def pick(f: np.ndarray) -> float:
            return float(f[p, n])

    rows = []
    for stage in Stage:
        v = (region, stage.value)
        if v not in G:
            continue
        for u, w, f in (*G.in_edges(v, data="flow"), *G.out_edges(v, data="flow")):
            if u[0] == region and w == v:
                continue  # internal edge: counted once, as an out-edge of u
            value = pick(f)
            if value > 0:
                rows.append((u, w, value))
    used = sorted(
        {x for u, w, _ in rows for x in (u, w)},
        key=lambda x: (x[0] != region, x[0], _STAGE_ORDER.get(x[1], 99)),
    )
    index = {x: i for i, x in enumerate(used)}
    nodes = pd.DataFrame(
        {
            "node": np.arange(len(used)),
            "region": [x[0] for x in used],
            "stage": [x[1] for x in used],
            "label": [x[1] if x[0] == region else f"{x[0]} {x[1]}" for x in used],
        }
    )
    links = pd.DataFrame(
        {
            "source": [index[u] for u, _, _ in rows],
            "target": [index[w] for _, w, _ in rows],
            "value_t": [value for _, _, value in rows],
            "region_from": [u[0] for u, _, _ in rows],
            "stage_from": [u[1] for u, _, _ in rows],
            "region_to": [w[0] for _, w, _ in rows],
            "stage_to": [w[1] for _, w, _ in rows],
        }
    )
    return nodes, links
