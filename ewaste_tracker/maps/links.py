"""Link flows to places: collection sites and their catchments, transboundary flow lines.

Collection sites come from a user file (:func:`facilities_from_file`) or from an OpenStreetMap
extract (:func:`facilities_from_osm`) and share one form:

=========== =================================================================
column      meaning
=========== =================================================================
facility_id unique id (``osm:n123``, ``osm:w45`` or the user's)
name        display name (may be empty)
type        ``recycling_centre``, ``drop_off_container``, ``retail_takeback``,
            ``repair`` or the user's own label
capacity_t  yearly capacity in tonnes (NaN when unknown)
source      where the row came from (file name or ``OpenStreetMap``)
geometry    Point, EPSG:4326 (polygons are replaced by a point inside them)
=========== =================================================================

E-waste (tonnes, e.g. generated per grid cell from ``ewaste_tracker.maps.grid``) is assigned to its
nearest site by straight-line distance (:func:`nearest_catchments`); road-based catchments are in
``ewaste_tracker.maps.siting``.

Mineral sources: producing-country shares per element (:func:`mineral_sources`), mine points
from a user table (:func:`mines_from_file`), and replacement mining
(:func:`replacement_mining`): the tonnes of an element a region loses (not recovered from its
e-waste) allotted to the countries where they would have to be mined instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ewaste_tracker.maps.errors import MapInputError
from ewaste_tracker.maps.regions import DEFAULT_CRS

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG, Moritz 2000, Geodetic Reference System 1980), metres."""

FACILITY_COLUMNS = ("facility_id", "name", "type", "capacity_t", "source", "geometry")

# OSM recycling:* keys that denote electrical and electronic equipment (WEEE) or its parts.
# Batteries are excluded (Directive 2006/66/EC, not WEEE); lamps are WEEE category 3.
EEE_RECYCLING_KEYS = (
    "recycling:electrical_appliances",
    "recycling:electrical_items",
    "recycling:small_appliances",
    "recycling:small_electrical_appliances",
    "recycling:electronics",
    "recycling:computers",
    "recycling:mobile_phones",
    "recycling:tv_monitor",
    "recycling:white_goods",
    "recycling:fridge_and_freezer",
    "recycling:low_energy_bulbs",
)
# Shops selling EEE. Under the WEEE Directive 2012/19/EU, Art. 5(2)(b)-(c), distributors take
# back WEEE one-to-one, and shops with at least 400 m2 of EEE sales area take back very small
# WEEE free of charge, so these are candidate take-back points.
TAKEBACK_SHOPS = ("electronics", "mobile_phone", "computer", "appliance", "hifi")
REPAIR_TAGS = {"craft": ("electronics_repair",), "shop": ("electronics_repair",)}


def _facility_frame(
    ids: list[str] | np.ndarray,
    names: list[str] | np.ndarray,
    types: list[str] | np.ndarray,
    capacity: np.ndarray,
    source: str,
    geometry: np.ndarray,
    crs: object,
) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "facility_id": pd.array(ids, dtype="string"),
            "name": pd.array(names, dtype="string").fillna(""),
            "type": pd.array(types, dtype="string"),
            "capacity_t": np.asarray(capacity, dtype=float),
            "source": source,
        },
        geometry=geometry,
        crs=crs,
    )
    return gdf.to_crs(DEFAULT_CRS) if gdf.crs != DEFAULT_CRS else gdf


def _to_points(geometry: np.ndarray) -> np.ndarray:
    """Replace polygons (and lines) by a point guaranteed to lie on them."""
    geometry = np.asarray(geometry, dtype=object)
    not_point = shapely.get_type_id(geometry) != 0
    if not_point.any():
        geometry = geometry.copy()
        geometry[not_point] = shapely.point_on_surface(geometry[not_point])
    return geometry


def facilities_from_file(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = "name",
    type_column: str | None = "type",
    capacity_column: str | None = "capacity_t",
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read collection or treatment sites from a user file (points or polygons, any CRS).

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile... with a defined CRS.
    id_column
        Column of unique ids; when ``None``, ids are the row numbers (``row2``, ``row3``...).
    name_column, type_column, capacity_column
        Columns holding the name, the type and the yearly capacity in tonnes; pass ``None``
        when the file has no such column. Missing capacity values stay NaN.
    layer
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`FACILITY_COLUMNS`, EPSG:4326.

    Raises
    ------
    MapInputError
        Unreadable file, missing column, no CRS, repeated ids, missing geometry, or a
        negative / non-numeric capacity (naming the row).
    """
    from ewaste_tracker.maps.regions import read_vector

    path = Path(path)
    gdf = read_vector(path, what="facilities", layer=layer)
    if gdf.crs is None:
        raise MapInputError("facilities file has no coordinate reference system", path=path)
    for col in (id_column, name_column, type_column, capacity_column):
        if col is not None and col not in gdf.columns:
            raise MapInputError(
                f"no column '{col}' (columns are {', '.join(map(str, gdf.columns))})", path=path
            )
    n = len(gdf)
    rows = np.arange(n) + 2  # header = line 1, as a person counts in a table
    geom = gdf.geometry.to_numpy()
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.any():
        raise MapInputError(f"row(s) {rows[empty][:10].tolist()} have no geometry", path=path)
    ids = (
        gdf[id_column].astype(str).to_numpy()
        if id_column
        else np.char.add("row", rows.astype(str)).astype(object)
    )
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        raise MapInputError(
            f"repeated facility ids {sorted(set(ids[dup]))[:10]}", path=path, column=id_column
        )
    capacity = np.full(n, np.nan)
    if capacity_column is not None:
        raw = gdf[capacity_column]
        capacity = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = (np.isnan(capacity) & raw.notna().to_numpy()) | (capacity < 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise MapInputError(
                f"row {rows[first]}: capacity must be a non-negative number of tonnes per year",
                path=path,
                column=capacity_column,
                value=raw.iloc[first],
            )
    names = gdf[name_column].astype("string").to_numpy() if name_column else [""] * n
    types = gdf[type_column].astype("string").fillna("other") if type_column else ["other"] * n
    return _facility_frame(ids, names, types, capacity, path.name, _to_points(geom), gdf.crs)


def classify_osm_tags(tags: Mapping[str, str]) -> str | None:
    """Classify the tags of an OSM object as an e-waste collection site type.

    Parameters
    ----------
    tags
        OSM tags of one node, way or relation.

    Returns
    -------
    str or None
        ``recycling_centre`` (``amenity=recycling`` with ``recycling_type=centre``, or
        ``amenity=waste_transfer_station``, accepting EEE), ``drop_off_container``
        (``amenity=recycling`` accepting EEE, other types), ``retail_takeback`` (a shop in
        :data:`TAKEBACK_SHOPS`), ``repair`` (electronics repair), else ``None``.
    """
    amenity = tags.get("amenity")
    if amenity in ("recycling", "waste_transfer_station"):
        if any(tags.get(k) == "yes" for k in EEE_RECYCLING_KEYS):
            centre = amenity == "waste_transfer_station" or tags.get("recycling_type") == "centre"
            return "recycling_centre" if centre else "drop_off_container"
        return None
    if tags.get("shop") in TAKEBACK_SHOPS:
        return "retail_takeback"
    if any(tags.get(k) in v for k, v in REPAIR_TAGS.items()):
        return "repair"
    return None


def facilities_from_osm(
    path: str | Path, *, capacity_t: Mapping[str, float] | None = None
) -> gpd.GeoDataFrame:
    """Find e-waste collection sites in an OpenStreetMap extract.

    Reads ``.osm.pbf``, ``.osm`` and ``.osm.bz2``/``.gz`` files with pyosmium, keeps nodes and
    areas (closed ways, multipolygons) classified by :func:`classify_osm_tags`, and places
    areas at a point inside them.

    Parameters
    ----------
    path
        The extract.
    capacity_t
        Yearly capacity in tonnes to assume per site type (OSM carries none), e.g.
        ``{"recycling_centre": 800.0}``; types not listed get NaN.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`FACILITY_COLUMNS`, EPSG:4326, ``source`` = ``OpenStreetMap``
        (data © OpenStreetMap contributors, ODbL).

    Raises
    ------
    MapInputError
        When the file is missing or not an OSM extract.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        raise MapInputError("OSM extract not found", path=path)
    wkb = osmium.geom.WKBFactory()
    ids: list[str] = []
    names: list[str] = []
    types: list[str] = []
    blobs: list[str] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_areas()
            .with_filter(osmium.filter.KeyFilter("amenity", "shop", "craft"))
        )
        # One pass over the pre-filtered objects: a stream, not an array (no vectorised form).
        for obj in processor:
            kind = classify_osm_tags(dict(obj.tags))
            if kind is None:
                continue
            if isinstance(obj, osmium.osm.Node):
                ids.append(f"osm:n{obj.id}")
                blobs.append(wkb.create_point(obj))
            elif isinstance(obj, osmium.osm.Area):
                prefix = "w" if obj.from_way() else "r"
                ids.append(f"osm:{prefix}{obj.orig_id()}")
                blobs.append(wkb.create_multipolygon(obj))
            else:
                continue  # ways are seen again as areas when closed
            names.append(obj.tags.get("name") or "")
            types.append(kind)
    except RuntimeError as exc:
        raise MapInputError(f"cannot read OSM extract: {exc}", path=path) from exc
    geometry = _to_points(shapely.from_wkb(np.asarray(blobs, dtype=object), on_invalid="ignore"))
    caps = dict(capacity_t or {})
    capacity = np.array([caps.get(t, np.nan) for t in types], dtype=float)
    gdf = _facility_frame(ids, names, types, capacity, "OpenStreetMap", geometry, DEFAULT_CRS)
    gdf = gdf[~shapely.is_missing(gdf.geometry.to_numpy())].reset_index(drop=True)
    logger.info("%s: %d collection site(s) found", path.name, len(gdf))
    return gdf


def demand_from_grid(
    values: np.ndarray, transform: object, crs: object, *, column: str = "generated_t"
) -> gpd.GeoDataFrame:
    """Turn a raster of tonnes (e.g. from ``ewaste_tracker.maps.grid``) into points at cell centres.

    Parameters
    ----------
    values
        2-D array (rows, cols) of tonnes; NaN and zero cells are skipped.
    transform
        ``affine.Affine`` of the raster (cell corner -> CRS coordinates).
    crs
        CRS of the raster.
    column
        Name of the value column.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per non-empty cell with ``row``, ``col`` and ``column``.

    Raises
    ------
    MapInputError
        For a non-2-D array or negative tonnes.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise MapInputError(f"grid must be 2-D, got shape {values.shape}")
    if (values < 0).any():
        raise MapInputError("grid has negative tonnes", value=float(np.nanmin(values)))
    rows, cols = np.nonzero(np.nan_to_num(values) > 0)
    a, b, c, d, e, f = (getattr(transform, k) for k in "abcdef")
    x = a * (cols + 0.5) + b * (rows + 0.5) + c
    y = d * (cols + 0.5) + e * (rows + 0.5) + f
    return gpd.GeoDataFrame(
        {"row": rows, "col": cols, column: values[rows, cols]},
        geometry=shapely.points(x, y),
        crs=crs,
    )


def _unit_vectors(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Points on the unit sphere; chord length is monotonic in great-circle distance."""
    geo = gdf.geometry if gdf.crs == DEFAULT_CRS else gdf.geometry.to_crs(DEFAULT_CRS)
    pts = _to_points(geo.to_numpy())
    lon = np.radians(shapely.get_x(pts))
    lat = np.radians(shapely.get_y(pts))
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


@dataclass(frozen=True)
class Catchments:
    """Result of :func:`nearest_catchments`.

    Attributes
    ----------
    demand
        The demand points with ``facility_id`` (missing when unserved by distance) and
        ``distance_m`` to their nearest site.
    sites
        The sites with ``expected_t``, ``served_t``, ``overflow_t`` and ``use``.
    unserved_t
        Tonnes beyond the distance limit plus tonnes above capacity.
    total_t
        All tonnes of the demand.
    """

    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    unserved_t: float
    total_t: float


def nearest_catchments(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    column: str = "generated_t",
    max_distance_m: float | None = None,
) -> Catchments:
    """Assign e-waste to the nearest site by great-circle distance and measure capacity use.

    With demand points :math:`i` of :math:`w_i` tonnes, sites :math:`j` with capacity
    :math:`K_j` and distance limit :math:`D`:

    .. math::

        j(i) = \\arg\\min_j d_{ij}, \\qquad
        E_j = \\sum_{i:\\, j(i)=j,\\; d_{i j(i)} \\le D} w_i, \\qquad
        S_j = \\min(E_j, K_j), \\qquad
        u_j = E_j / K_j,

        U = \\sum_{i:\\, d_{i j(i)} > D} w_i + \\sum_j (E_j - S_j),

    so that :math:`\\sum_j S_j + U = \\sum_i w_i`. Distances are great-circle,
    :math:`d = 2R\\arcsin(c/2)` from the chord :math:`c` between unit vectors (nearest
    neighbours by a k-d tree on the unit sphere, valid at any scale), with
    :math:`R` = :data:`EARTH_RADIUS_M`. Sites with unknown capacity serve everything
    assigned to them and have ``use`` NaN.

    Parameters
    ----------
    demand
        Points (or polygons, placed at a point inside) with ``column`` in tonnes.
    facilities
        Sites in the form of :func:`facilities_from_file`.
    column
        Tonnes column of ``demand``.
    max_distance_m
        Distance beyond which e-waste counts as unserved (``None``: no limit).

    Returns
    -------
    Catchments

    Raises
    ------
    MapInputError
        Missing columns, no sites, negative or missing tonnes, or a frame without CRS.
    """
    if column not in demand.columns:
        raise MapInputError(f"demand has no column '{column}'", column=column)
    if len(facilities) == 0:
        raise MapInputError("no facilities to assign e-waste to")
    for name, frame in (("demand", demand), ("facilities", facilities)):
        if frame.crs is None:
            raise MapInputError("has no coordinate reference system", path=name)
    weight = demand[column].to_numpy(dtype=float)
    if np.isnan(weight).any() or (weight < 0).any():
        raise MapInputError("tonnes must be non-negative numbers", path="demand", column=column)
    ids = facilities["facility_id"].to_numpy()
    if len(demand):
        chord, nearest = cKDTree(_unit_vectors(facilities)).query(_unit_vectors(demand), k=1)
    else:
        chord, nearest = np.zeros(0), np.zeros(0, dtype=int)
    distance = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))
    reach = (
        np.ones(len(demand), dtype=bool) if max_distance_m is None else distance <= max_distance_m
    )
    expected = np.bincount(nearest[reach], weights=weight[reach], minlength=len(facilities))
    cap = facilities["capacity_t"].to_numpy(dtype=float)
    served = np.where(np.isnan(cap), expected, np.minimum(expected, cap))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # tiny capacities: inf
        use = np.where(cap > 0, expected / cap, np.where(expected > 0, np.inf, 0.0))
    use = np.where(np.isnan(cap), np.nan, use)
    out_demand = demand.copy()
    assigned = pd.array(ids[nearest], dtype="string")
    assigned[~reach] = pd.NA
    out_demand["facility_id"] = assigned
    out_demand["distance_m"] = distance
    sites = facilities.copy()
    sites["expected_t"] = expected
    sites["served_t"] = served
    sites["overflow_t"] = expected - served
    sites["use"] = use
    unserved = float(weight[~reach].sum() + (expected - served).sum())
    return Catchments(out_demand, sites, unserved, float(weight.sum()))


def trade_lines(
    flows: pd.DataFrame,
    regions: gpd.GeoDataFrame,
    *,
    year: int | None = None,
    geodesic: bool = True,
    npoints: int = 32,
) -> gpd.GeoDataFrame:
    """Draw the export edges of the lifecycle graph as lines between countries.

    Parameters
    ----------
    flows
        The flows table ``region_from,stage_from,region_to,stage_to,product,year,value_t``;
        rows with ``stage_from == "export"`` and another region as destination are used.
        Destinations outside the outlines (``ROW``, ``sysenv``) are left out and logged.
    regions
        Outlines from :func:`ewaste_tracker.maps.regions.regions_from_frame` (EPSG:4326).
    year
        Year to draw; ``None`` keeps every year (one line per origin, destination, year).
    geodesic
        Follow the great circle (``npoints`` vertices) rather than a straight lon/lat line.
    npoints
        Vertices per geodesic line.

    Returns
    -------
    geopandas.GeoDataFrame
        ``origin, destination, year, value_t, geometry`` (LineString), summed over products
        and destination stages, sorted by decreasing tonnes.

    Raises
    ------
    MapInputError
        When columns are missing.
    """
    need = {"region_from", "stage_from", "region_to", "year", "value_t"}
    missing = need - set(flows.columns)
    if missing:
        raise MapInputError(f"flows table lacks column(s) {', '.join(sorted(missing))}")
    rows = flows[(flows["stage_from"] == "export") & (flows["region_from"] != flows["region_to"])]
    if year is not None:
        rows = rows[rows["year"] == year]
    agg = (
        rows.groupby(["region_from", "region_to", "year"])["value_t"]
        .sum()
        .reset_index()
        .rename(columns={"region_from": "origin", "region_to": "destination"})
    )
    known = set(regions["region"])
    placed = agg["origin"].isin(known) & agg["destination"].isin(known)
    if not placed.all():
        lost = agg.loc[~placed]
        logger.info(
            "%d export link(s) (%.6g t) lead outside the outlines: %s",
            len(lost),
            lost["value_t"].sum(),
            ", ".join(sorted(set(lost["destination"]) - known)[:10]),
        )
    agg = agg[placed & (agg["value_t"] > 0)].reset_index(drop=True)
    anchor = regions.set_index("region").geometry
    anchor = gpd.GeoSeries(shapely.point_on_surface(anchor.to_numpy()), index=anchor.index)
    a = anchor.loc[agg["origin"]].to_numpy()
    b = anchor.loc[agg["destination"]].to_numpy()
    if geodesic and len(agg):
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        lon0, lat0, lon1, lat1 = (
            shapely.get_x(a),
            shapely.get_y(a),
            shapely.get_x(b),
            shapely.get_y(b),
        )
        lines = []
        # one call per link: pyproj's npts takes scalars; links number in the hundreds at most
        for x0, y0, x1, y1 in zip(lon0, lat0, lon1, lat1, strict=True):
            mid = np.array(geod.npts(x0, y0, x1, y1, npoints), dtype=float).reshape(-1, 2)
            xy = np.vstack([[x0, y0], mid, [x1, y1]])
            # unwrap longitudes so a line over the antimeridian stays continuous on the map
            xy[:, 0] = np.degrees(np.unwrap(np.radians(xy[:, 0])))
            lines.append(shapely.linestrings(xy))
        geometry = np.array(lines, dtype=object)
    else:
        geometry = (
            shapely.linestrings(
                np.stack([shapely.get_coordinates(a), shapely.get_coordinates(b)], axis=1)
            )
            if len(agg)
            else np.array([], dtype=object)
        )
    out = gpd.GeoDataFrame(agg, geometry=geometry, crs=regions.crs)
    return out.sort_values("value_t", ascending=False, kind="stable").reset_index(drop=True)
