"""Origin-destination travel-time matrices on road networks.

Points are snapped to their nearest network node (great-circle distance, searched with a
k-d tree on a local equirectangular projection) and the matrix is filled by multi-source
Dijkstra in :func:`scipy.sparse.csgraph.dijkstra` on a CSR copy of the graph, from whichever
side has fewer distinct nodes (on the reversed graph when the sources are the destinations).
With ``cutoff`` the search stops at that many minutes and farther pairs are ``inf``.

Times are in **minutes**. For a point snapped ``s`` metres from its node, an optional access
leg of ``s / v_access`` is added at each end.
"""

from __future__ import annotations

import logging
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8


class TravelError(ValueError):
    """Points or graphs that cannot give a travel-time matrix (names what was wrong)."""


def _lonlat(points: Any, what: str) -> np.ndarray:
    """Return an (n, 2) float array of lon/lat from a GeoSeries/GeoDataFrame or array."""
    if hasattr(points, "geometry") or hasattr(points, "crs"):
        geo = points.geometry if hasattr(points, "geometry") else points
        if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
            geo = geo.to_crs("EPSG:4326")
        if not geo.geom_type.eq("Point").all():
            geo = geo.representative_point()
        xy = np.column_stack([geo.x.to_numpy(), geo.y.to_numpy()])
    else:
        xy = np.asarray(points, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise TravelError(f"{what}: expected an (n, 2) array of lon, lat; got {xy.shape}")
    if not np.isfinite(xy).all():
        bad = int(np.flatnonzero(~np.isfinite(xy).all(axis=1))[0])
        raise TravelError(f"{what}: point {bad} has a missing or infinite coordinate")
    if (np.abs(xy[:, 1]) > 90).any() or (np.abs(xy[:, 0]) > 180).any():
        bad = int(np.flatnonzero((np.abs(xy[:, 1]) > 90) | (np.abs(xy[:, 0]) > 180))[0])
        raise TravelError(f"{what}: point {bad} is not a lon/lat coordinate: {xy[bad].tolist()}")
    return xy


def _local_xy(lonlat: np.ndarray, lat0: float) -> np.ndarray:
    lam = np.radians(lonlat[:, 0])
    phi = np.radians(lonlat[:, 1])
    return EARTH_RADIUS_M * np.column_stack([lam * np.cos(np.radians(lat0)), phi])


def _haversine_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lon1, lat1, lon2, lat2 = np.radians(a[:, 0]), np.radians(a[:, 1]), b[:, 0], b[:, 1]
    lon2, lat2 = np.radians(lon2), np.radians(lat2)
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


class NetworkIndex:
    """A graph prepared for repeated snapping and shortest-path queries.

    Parameters
    ----------
    G
        Graph with node ``x``/``y`` (lon/lat) and an edge weight attribute.
    weight
        Edge attribute to minimise (``travel_time`` in seconds by default).
    scale
        Factor applied to the weight (default 1/60: seconds to minutes).

    Attributes
    ----------
    nodes : numpy.ndarray
        Node ids in matrix order.
    lonlat : numpy.ndarray
        (n_nodes, 2) node coordinates.
    csr : scipy.sparse.csr_matrix
        Edge weights; parallel edges are reduced to the cheapest.
    """

    def __init__(self, G: nx.MultiDiGraph, *, weight: str = "travel_time", scale: float = 1 / 60):
        if G.number_of_nodes() == 0:
            raise TravelError("the network has no nodes")
        self.nodes = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
        data = G.nodes(data=True)
        try:
            self.lonlat = np.array([(data[n]["x"], data[n]["y"]) for n in self.nodes], float)
        except KeyError as exc:
            raise TravelError(f"network node lacks coordinate attribute {exc}") from exc
        pos = pd.Series(np.arange(self.nodes.size), index=self.nodes)
        edges = list(G.edges(data=weight))
        if any(w is None for _, _, w in edges):
            u, v, _ = next(e for e in edges if e[2] is None)
            raise TravelError(f"network edge ({u}, {v}) has no {weight!r} attribute")
        u = pos.loc[[e[0] for e in edges]].to_numpy()
        v = pos.loc[[e[1] for e in edges]].to_numpy()
        w = np.maximum(np.array([e[2] for e in edges], dtype=float) * scale, 1e-9)
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        first = np.ones(u.size, bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = self.nodes.size
        self.csr = csr_matrix((w[first], (u[first], v[first])), shape=(n, n))
        self._csr_t = self.csr.T.tocsr()
        self.lat0 = float(self.lonlat[:, 1].mean())
        self._tree = cKDTree(_local_xy(self.lonlat, self.lat0))

    def snap(self, points: Any, *, what: str = "points") -> tuple[np.ndarray, np.ndarray]:
        """Snap points to their nearest nodes.

        Returns
        -------
        index : numpy.ndarray
            Position of the nearest node in :attr:`nodes`.
        metres : numpy.ndarray
            Great-circle distance from each point to that node.
        """
        xy = _lonlat(points, what)
        _, idx = self._tree.query(_local_xy(xy, self.lat0))
        return idx.astype(np.int64), _haversine_m(xy, self.lonlat[idx])

    def matrix(
        self,
        src: np.ndarray,
        dst: np.ndarray,
        *,
        cutoff: float | None = None,
    ) -> np.ndarray:
        """Shortest-path costs from node positions ``src`` to ``dst`` (``inf`` if unreachable).

        Runs Dijkstra from the side with fewer distinct nodes.
        """
        limit = np.inf if cutoff is None else float(cutoff)
        us, inv_s = np.unique(src, return_inverse=True)
        ud, inv_d = np.unique(dst, return_inverse=True)
        if us.size <= ud.size:
            d = dijkstra(self.csr, directed=True, indices=us, limit=limit)
            return d[np.ix_(inv_s, ud[inv_d])]
        d = dijkstra(self._csr_t, directed=True, indices=ud, limit=limit)
        return d[np.ix_(inv_d, us[inv_s])].T


def travel_time_matrix(
    G: nx.MultiDiGraph | NetworkIndex,
    origins: Any,
    destinations: Any,
    *,
    cutoff: float | None = None,
    weight: str = "travel_time",
    access_speed_kph: float | None = None,
    max_snap_m: float | None = 1000.0,
) -> np.ndarray:
    """Travel times in minutes from every origin to every destination over the network.

    .. math:: t_{ij} = \\frac{s_i}{v_a} + d_G(n(i), n(j)) + \\frac{s_j}{v_a}

    where :math:`n(\\cdot)` is the nearest node, :math:`s` the snapping distance,
    :math:`v_a` the access speed (term dropped when ``access_speed_kph`` is ``None``) and
    :math:`d_G` the shortest-path time (Dijkstra 1959) over edge ``weight`` in seconds / 60.

    Parameters
    ----------
    G
        osmnx graph with ``travel_time`` (s) on edges, or a prepared :class:`NetworkIndex`.
    origins, destinations
        Points as GeoDataFrame/GeoSeries (any CRS; polygons use a representative point) or
        (n, 2) arrays of lon, lat.
    cutoff
        Minutes beyond which pairs are ``inf`` (the search stops there, which is faster).
    weight
        Edge attribute (seconds) when ``G`` is a graph.
    access_speed_kph
        Speed of the straight-line legs to and from the network; ``None`` ignores them.
    max_snap_m
        Points farther than this from their nearest node are not snapped: their rows or
        columns are ``inf`` (unreachable), and a warning says how many (``None``: no limit).

    Returns
    -------
    numpy.ndarray
        (n_origins, n_destinations) float64 minutes, ``inf`` where unreachable or beyond
        ``cutoff``.
    """
    index = G if isinstance(G, NetworkIndex) else NetworkIndex(G, weight=weight)
    si, sm = index.snap(origins, what="origins")
    di, dm = index.snap(destinations, what="destinations")
    if max_snap_m is not None:
        for name, m in (("origins", sm), ("destinations", dm)):
            far = int((m > max_snap_m).sum())
            if far:
                logger.warning(
                    "%d %s lie more than %.0f m from the network (max %.0f m)",
                    far,
                    name,
                    max_snap_m,
                    float(m.max()),
                )
    if access_speed_kph is None:
        out = index.matrix(si, di, cutoff=cutoff)
    else:
        per_min = access_speed_kph * 1000.0 / 60.0
        a_o, a_d = sm / per_min, dm / per_min
        net_cut = None if cutoff is None else cutoff - min(a_o.min(), a_d.min())
        out = index.matrix(si, di, cutoff=net_cut) + a_o[:, None] + a_d[None, :]
        if cutoff is not None:
            out[out > cutoff] = np.inf
    if max_snap_m is not None:
        out[sm > max_snap_m, :] = np.inf
        out[:, dm > max_snap_m] = np.inf
    return out


def matrix_to_long(
    matrix: np.ndarray, demand_ids: Any, candidate_ids: Any, *, finite_only: bool = True
) -> pd.DataFrame:
    """Turn a cost matrix into the ``demand_id,candidate_id,cost`` table.

    Parameters
    ----------
    matrix
        (n_demand, n_candidates) costs.
    demand_ids, candidate_ids
        Labels of the rows and columns.
    finite_only
        Drop unreachable (``inf``) pairs.

    Returns
    -------
    pandas.DataFrame
        Columns ``demand_id``, ``candidate_id``, ``cost``.
    """
    matrix = np.asarray(matrix, dtype=float)
    di, cj = np.nonzero(np.isfinite(matrix)) if finite_only else np.indices(matrix.shape)
    di, cj = di.ravel(), cj.ravel()
    return pd.DataFrame(
        {
            "demand_id": np.asarray(demand_ids)[di],
            "candidate_id": np.asarray(candidate_ids)[cj],
            "cost": matrix[di, cj],
        }
    )


def long_to_matrix(
    table: pd.DataFrame, demand_ids: Any = None, candidate_ids: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pivot a ``demand_id,candidate_id,cost`` table into a dense matrix (missing = ``inf``).

    Returns
    -------
    matrix, demand_ids, candidate_ids
        Rows and columns follow the given ids, else first appearance in the table.
    """
    d_ids = pd.unique(table["demand_id"]) if demand_ids is None else np.asarray(demand_ids)
    c_ids = pd.unique(table["candidate_id"]) if candidate_ids is None else np.asarray(candidate_ids)
    r = pd.Index(d_ids).get_indexer(pd.Index(table["demand_id"]))
    c = pd.Index(c_ids).get_indexer(pd.Index(table["candidate_id"]))
    keep = (r >= 0) & (c >= 0)
    out = np.full((len(d_ids), len(c_ids)), np.inf)
    np.minimum.at(out, (r[keep], c[keep]), table["cost"].to_numpy(float)[keep])
    return out, np.asarray(d_ids), np.asarray(c_ids)
