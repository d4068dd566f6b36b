"""The default population grid as it was built before row blocks: one whole-grid pass.

Kept only as the reference that the blocked build in :mod:`ewaste_tracker.maps.population`
is checked against (same model, same numbers); not part of the package.
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.crs import CRS

from ewaste_tracker.maps.grid import ZoneMismatchError, downscale, zones_from_polygons
from ewaste_tracker.maps.population import CITY_SIZE_EDGES, KM_PER_DEGREE, cities_from_geonames
from ewaste_tracker.maps.raster_io import (
    Raster,
    cell_area_km2,
    land_fraction,
    regular_grid,
    smooth_counts,
)


def legacy_population_grid(
    countries: gpd.GeoDataFrame,
    *,
    resolution: float = 5 / 60,
    bounds: tuple[float, float, float, float] | None = None,
    id_column: str = "iso3",
    pop_column: str = "pop_est",
    cities: pd.DataFrame | None = None,
    urban_density: float = 5000.0,
    rural_floor: float = 0.25,
    potential_km: float = 100.0,
) -> Raster:
    """The whole-grid build (reference)."""
    wgs84 = CRS.from_epsg(4326)
    if pop_column not in countries.columns:
        raise ZoneMismatchError(f"countries have no population column {pop_column!r}")
    bounds = bounds or (-180.0, -90.0, 180.0, 90.0)
    transform, shape = regular_grid(bounds, resolution)
    wrap = abs(shape[1] * resolution - 360.0) < 1e-9
    land = land_fraction(transform, shape) * cell_area_km2(transform, shape, wgs84)
    zones = zones_from_polygons(countries, (transform, shape, wgs84), id_column=id_column)
    pop = countries.groupby(countries[id_column])[pop_column].sum()
    pop = pop.reindex(zones.labels).astype(float)
    if pop.isna().any() or (pop < 0).any():
        bad = list(pop.index[pop.isna() | (pop < 0)][:10])
        raise ZoneMismatchError(f"countries {bad}: {pop_column} missing or negative")

    cities = cities_from_geonames() if cities is None else cities
    inv = ~transform
    col, row = inv @ (cities["lon"].to_numpy(), cities["lat"].to_numpy())
    r, c = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
    on = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
    p = cities["population"].to_numpy(dtype=float)[on]
    flat = (r * shape[1] + c)[on]
    size = shape[0] * shape[1]
    cell_km = resolution * KM_PER_DEGREE
    urban = np.zeros(shape)
    classes = np.digitize(p, CITY_SIZE_EDGES) - 1
    for k in np.unique(classes):  # a handful of size classes, not cities
        sel = classes == k
        sigma_km = 0.5 * np.sqrt(np.average(p[sel], weights=p[sel]) / (np.pi * urban_density))
        layer = np.bincount(flat[sel], weights=p[sel], minlength=size).reshape(shape)
        urban += smooth_counts(layer, sigma_km / cell_km, wrap)
    urban *= land > 0
    point = np.bincount(flat, weights=p, minlength=size).reshape(shape)
    potential = smooth_counts(point, potential_km / cell_km, wrap)
    mean_potential = potential[land > 0].mean() if (land > 0).any() else 0.0
    rural = land * (rural_floor + potential / mean_potential if mean_potential > 0 else 1.0)

    ids = zones.ids.ravel()
    inside = ids >= 0
    n = len(zones.labels)
    urban_pop = np.bincount(ids[inside], weights=point.ravel()[inside], minlength=n)
    urban_weight = np.bincount(ids[inside], weights=urban.ravel()[inside], minlength=n)
    urban_pop = np.where(urban_weight > 0, np.minimum(urban_pop, pop.to_numpy()), 0.0)
    totals = pd.DataFrame(
        {"urban": urban_pop, "rural": pop.to_numpy() - urban_pop}, index=zones.labels
    )
    u = downscale(totals["urban"], zones, Raster(urban, transform, wgs84), on_empty="point")
    x = downscale(totals["rural"], zones, Raster(rural, transform, wgs84), on_empty="point")
    return Raster(u.data + x.data, transform, wgs84)
