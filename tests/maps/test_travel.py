"""Travel-time matrices: equal to networkx Dijkstra, directed, cut off, round-tripped."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.maps.network import graph_from_file, helsinki_pbf
from ewaste_tracker.maps.travel import (
    NetworkIndex,
    TravelError,
    long_to_matrix,
    matrix_to_long,
    travel_time_matrix,
)


@pytest.fixture(scope="module")
def helsinki() -> nx.MultiDiGraph:
    return graph_from_file(helsinki_pbf(), network_type="drive")


def _points(G, n, seed):
    rng = np.random.default_rng(seed)
    x = np.array([d["x"] for _, d in G.nodes(data=True)])
    y = np.array([d["y"] for _, d in G.nodes(data=True)])
    return np.column_stack([rng.uniform(x.min(), x.max(), n), rng.uniform(y.min(), y.max(), n)])


@pytest.mark.parametrize(("n_orig", "n_dest"), [(40, 7), (7, 40)])
def test_matrix_equals_networkx_dijkstra(helsinki, n_orig, n_dest):
    orig, dest = _points(helsinki, n_orig, 1), _points(helsinki, n_dest, 2)
    got = travel_time_matrix(helsinki, orig, dest)
    idx = NetworkIndex(helsinki)
    on = idx.nodes[idx.snap(orig)[0]]
    dn = idx.nodes[idx.snap(dest)[0]]
    for i, u in enumerate(on):
        dist = nx.single_source_dijkstra_path_length(helsinki, u, weight="travel_time")
        want = np.array([dist.get(v, np.inf) / 60 for v in dn])
        np.testing.assert_allclose(got[i], want, rtol=1e-9)


def test_cutoff_blanks_only_far_pairs(helsinki):
    orig, dest = _points(helsinki, 30, 3), _points(helsinki, 20, 4)
    full = travel_time_matrix(helsinki, orig, dest)
    cut = travel_time_matrix(helsinki, orig, dest, cutoff=2.0)
    near = full <= 2.0
    np.testing.assert_allclose(cut[near], full[near])
    assert np.isinf(cut[~near]).all()


def _line_graph(one_way: bool) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for n, x in enumerate([24.90, 24.91, 24.92]):
        G.add_node(n, x=x, y=60.0)
    G.add_edge(0, 1, travel_time=60.0)
    G.add_edge(0, 1, travel_time=30.0)  # a faster parallel edge wins
    G.add_edge(1, 2, travel_time=120.0)
    if not one_way:
        G.add_edge(2, 1, travel_time=120.0)
        G.add_edge(1, 0, travel_time=30.0)
    return G


def test_one_way_streets_give_asymmetric_times_and_parallel_edges_use_the_fastest():
    pts = np.array([[24.90, 60.0], [24.92, 60.0]])
    m = travel_time_matrix(_line_graph(one_way=True), pts, pts)
    assert m[0, 1] == pytest.approx(2.5)
    assert np.isinf(m[1, 0])
    m2 = travel_time_matrix(_line_graph(one_way=False), pts, pts)
    assert m2[1, 0] == pytest.approx(2.5)


def test_access_legs_add_walking_time():
    G = _line_graph(one_way=False)
    pts = np.array([[24.90, 60.0009]])  # ~100 m north of node 0
    m = travel_time_matrix(G, pts, np.array([[24.90, 60.0]]), access_speed_kph=6.0)
    assert m[0, 0] == pytest.approx(0.1 / 6 * 60, rel=0.01)


def test_bad_points_are_named(helsinki):
    with pytest.raises(TravelError, match="origins: point 1"):
        travel_time_matrix(helsinki, np.array([[24.9, 60.1], [np.nan, 60.1]]), [[24.9, 60.1]])
    with pytest.raises(TravelError, match="destinations: point 0"):
        travel_time_matrix(helsinki, [[24.9, 60.1]], np.array([[60.1, 124.9]]))


@given(
    st.lists(
        st.lists(st.one_of(st.floats(0, 1e4), st.just(np.inf)), min_size=3, max_size=3),
        min_size=1,
        max_size=6,
    )
)
def test_long_table_round_trip(rows):
    mat = np.array(rows, dtype=float)
    d_ids = [f"d{i}" for i in range(mat.shape[0])]
    c_ids = ["a", "b", "c"]
    table = matrix_to_long(mat, d_ids, c_ids)
    assert np.isfinite(table["cost"]).all()
    back, _, _ = long_to_matrix(table, d_ids, c_ids)
    np.testing.assert_array_equal(back, mat)


def test_long_to_matrix_keeps_the_cheapest_duplicate():
    t = pd.DataFrame({"demand_id": ["x", "x"], "candidate_id": ["a", "a"], "cost": [5.0, 3.0]})
    m, d, c = long_to_matrix(t)
    assert m.tolist() == [[3.0]] and list(d) == ["x"] and list(c) == ["a"]
