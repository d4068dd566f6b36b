"""Loading road networks offline from OSM extracts, and candidate sites from them."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from ewaste_tracker.maps.network import (
    NetworkError,
    graph_from_file,
    helsinki_pbf,
    lattice_candidates,
    osm_candidates,
    osm_to_clean_xml,
)


@pytest.fixture(scope="module")
def helsinki_drive() -> nx.MultiDiGraph:
    return graph_from_file(helsinki_pbf(), network_type="drive")


def test_helsinki_drive_network_has_travel_times(helsinki_drive):
    G = helsinki_drive
    assert G.number_of_nodes() > 100
    assert nx.is_strongly_connected(G)
    times = [d["travel_time"] for _, _, d in G.edges(data=True)]
    assert all(t > 0 for t in times)
    # a speed limit tag is honoured: travel_time = length / speed
    d = next(iter(G.edges(data=True)))[2]
    assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] * 1000 / 3600))


def test_walk_network_is_bidirectional_at_walking_speed():
    G = graph_from_file(helsinki_pbf(), network_type="walk")
    speeds = {d["speed_kph"] for _, _, d in G.edges(data=True)}
    assert speeds == {4.5}
    assert all(G.has_edge(v, u) for u, v in G.edges())


def test_unsimplified_network_keeps_more_nodes(helsinki_drive):
    G = graph_from_file(helsinki_pbf(), simplify=False)
    assert G.number_of_nodes() > helsinki_drive.number_of_nodes()


def _clipped_osm(path: Path) -> None:
    nodes = "".join(f'<node id="{i}" lat="60.1{i}" lon="24.9{i}"/>' for i in (1, 2, 3, 5, 6))
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6">' + nodes
        + '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>'
        '<nd ref="6"/><tag k="highway" v="residential"/><tag k="maxspeed" v="20 mph"/></way>'
        '<way id="11"><nd ref="1"/><nd ref="99"/><tag k="highway" v="residential"/></way>'
        '<way id="12"><nd ref="2"/><nd ref="5"/><tag k="highway" v="footway"/></way>'
        "</osm>"
    )  # fmt: skip


def test_ways_clipped_at_the_edge_are_cut_not_fatal(tmp_path):
    src = tmp_path / "clipped.osm"
    _clipped_osm(src)
    out = tmp_path / "clean.osm"
    # way 10 loses node 4 -> two runs; way 11 keeps one node -> dropped; footway filtered
    assert osm_to_clean_xml(src, out, network_type="drive") == 2
    text = out.read_text()
    assert 'way id="10"' in text and 'way id="-10001"' in text
    assert 'ref="4"' not in text and "footway" not in text
    # osmnx keeps the largest connected piece (1-2-3); the gap 3-5 is never bridged
    G = graph_from_file(src, simplify=False, strongly_connected=False)
    assert set(G.nodes) == {1, 2, 3}
    speeds = [d["speed_kph"] for _, _, d in G.edges(data=True)]
    assert speeds == pytest.approx([32.1869] * len(speeds), rel=1e-4)  # "20 mph"


def test_errors_name_the_file(tmp_path):
    with pytest.raises(NetworkError, match=r"missing\.osm"):
        graph_from_file(tmp_path / "missing.osm")
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(NetworkError, match=r"notes\.txt"):
        graph_from_file(bad)
    with pytest.raises(NetworkError, match="network_type"):
        graph_from_file(helsinki_pbf(), network_type="boat")


def test_aguascalientes_extract_loads(shared_data):
    path = shared_data / "aguascalientes.osm.bz2"
    if not path.is_file():
        pytest.skip("aguascalientes.osm.bz2 absent")
    G = graph_from_file(path)
    assert G.number_of_nodes() > 300
    assert nx.is_strongly_connected(G)


def test_osm_candidates_find_electronics_shops_and_recycling():
    cand = osm_candidates(helsinki_pbf())
    kinds = set(cand["kind"])
    assert "amenity=recycling" in kinds
    assert "shop=electronics" in kinds
    assert cand["candidate_id"].is_unique
    assert cand.crs.to_epsg() == 4326


def test_lattice_candidates_sit_on_network_nodes(helsinki_drive):
    fine = lattice_candidates(helsinki_drive, spacing_m=100)
    coarse = lattice_candidates(helsinki_drive, spacing_m=400)
    assert set(fine["node"]) <= set(helsinki_drive.nodes)
    assert 0 < len(coarse) < len(fine)
    with pytest.raises(NetworkError, match="spacing"):
        lattice_candidates(helsinki_drive, spacing_m=0)


def test_network_filters_are_those_of_osmnx() -> None:
    from ewaste_tracker.maps.network import NETWORK_FILTERS, NETWORK_TYPES

    overpass = pytest.importorskip("osmnx._overpass")  # osmnx's own definitions
    assert set(NETWORK_FILTERS) == set(NETWORK_TYPES)
    for name, text in NETWORK_FILTERS.items():
        assert text == overpass._get_network_filter(name), name
