"""Readers of the user files a country map takes (boundaries, facilities, mines, population).

Each validates its file at the boundary and raises the geospatial layer's ``ValueError``
subclasses (:class:`ewaste_tracker.maps.errors.MapInputError`);
:func:`ewaste_tracker.jobs.map.country_map_to_folder` turns them into
:class:`~ewaste_tracker.errors.InputError` naming the option and the file.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ewaste_tracker.maps.errors import MapInputError
from ewaste_tracker.maps.raster_io import Raster

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".pbf", ".bz2", ".gz")
CODE_COLUMNS = ("region", "code", "iso3", "ISO_A3_EH", "ADM0_A3", "iso_3166_2", "id", "ID")
LONLAT = (("lon", "lat"), ("longitude", "latitude"), ("x", "y"), ("lng", "lat"))


def read_boundaries(path: Path) -> gpd.GeoDataFrame:
    """Sub-national polygons in the ``region, name, geometry`` form (EPSG:4326).

    The code column is the first of :data:`CODE_COLUMNS` present, else the first text column
    with unique values; the name column is :func:`ewaste_tracker.maps.regions.regions_from_file`'s
    choice, else another unique text column.
    """
    import pyogrio

    from ewaste_tracker.maps.regions import regions_from_file

    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise MapInputError(f"cannot read boundaries: {exc}", path=path) from exc
    columns = [str(c) for c in info["fields"]]
    code = next((c for c in CODE_COLUMNS if c in columns), None)
    name = None
    if code is None or not any(c.lower() in ("name", "name_en", "admin") for c in columns):
        head = gpd.read_file(path, ignore_geometry=True)
        unique = [
            c
            for c in head.columns
            if pd.api.types.is_string_dtype(head[c]) or head[c].dtype == object
            if head[c].notna().all() and head[c].is_unique
        ]
        code = code or (unique[0] if unique else None)
        name = next((c for c in unique if c != code), None)
    if code is None:
        raise MapInputError(
            f"no column of unique region codes; name it one of {', '.join(CODE_COLUMNS)}",
            path=path,
        )
    return regions_from_file(path, code_column=code, name_column=name)


def read_population(path: Path) -> Raster:
    """A user population raster (WorldPop, GHSL, GPW GeoTIFF; any resolution and CRS).

    Nodata cells count as nobody; negative or all-missing rasters are refused.
    """
    from ewaste_tracker.maps.raster_io import grid_from_geotiff

    raster = grid_from_geotiff(path, band=1)
    data = np.nan_to_num(raster.data, nan=0.0)
    if raster.crs is None:
        raise MapInputError("the raster has no CRS", path=path)
    if (data < 0).any():
        raise MapInputError("population counts must not be negative", path=path)
    if not data.sum() > 0:
        raise MapInputError("the raster holds no population", path=path)
    return Raster(data, raster.transform, raster.crs)


def read_facilities(path: Path) -> gpd.GeoDataFrame:
    """Collection sites from an OSM extract, a CSV with coordinates, or a GIS file."""
    from ewaste_tracker.maps.links import facilities_from_file, facilities_from_osm

    if path.suffix.lower() in OSM_SUFFIXES:
        return facilities_from_osm(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        import pyogrio

        try:
            columns = {str(c) for c in pyogrio.read_info(path)["fields"]}
        except Exception as exc:  # pyogrio's DataSourceError and friends
            raise MapInputError(f"cannot read facilities: {exc}", path=path) from exc
        return facilities_from_file(path, **_facility_columns(columns))
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    pair = next(((x, y) for x, y in LONLAT if {x, y} <= set(table.columns)), None)
    if pair is None:
        raise MapInputError(
            "no coordinate columns; expected lon,lat (or longitude,latitude)", path=path
        )
    lon = pd.to_numeric(table[pair[0]], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table[pair[1]], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(lon) | np.isnan(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MapInputError(
            f"row {first + 2}: longitude/latitude missing or out of range",
            path=path,
            column=f"{pair[0]}/{pair[1]}",
            value=(table[pair[0]].iloc[first], table[pair[1]].iloc[first]),
        )
    points = gpd.GeoDataFrame(
        table.drop(columns=list(pair)), geometry=shapely.points(lon, lat), crs="EPSG:4326"
    )
    # Reuse the file reader's checks (ids, capacity) on the same rows, in the same order.
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / f"{path.stem}.gpkg"
        points.to_file(staged, driver="GPKG", engine="pyogrio")
        try:
            sites = facilities_from_file(staged, **_facility_columns(set(points.columns)))
        except MapInputError as exc:
            raise MapInputError(exc.reason, path=path, column=exc.column, value=exc.value) from exc
    return sites.assign(source=path.name)


def _facility_columns(columns: set[str]) -> dict[str, str | None]:
    return {
        "id_column": next((c for c in ("facility_id", "id") if c in columns), None),
        "name_column": "name" if "name" in columns else None,
        "type_column": "type" if "type" in columns else None,
        "capacity_column": "capacity_t" if "capacity_t" in columns else None,
    }


def read_mines(path: Path) -> gpd.GeoDataFrame:
    """Mine points (see :func:`ewaste_tracker.maps.sources.mines_from_file`)."""
    from ewaste_tracker.maps.sources import mines_from_file

    return mines_from_file(path)


# --------------------------------------------------------------------------- model layers
