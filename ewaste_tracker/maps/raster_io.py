"""Rasters in memory and on disk: the :class:`Raster` container, GeoTIFF I/O, regridding.

A raster here is a NumPy array of shape ``(rows, cols)`` or ``(bands, rows, cols)`` with an
affine ``transform`` (pixel → map coordinates, row 0 at the top) and a CRS. Values are
*counts per cell* (people, tonnes), never densities, so that sums over cells are totals.

GeoTIFFs are written atomically (temporary file in the target folder, then
:func:`os.replace`), so a reader never sees a half-written file.

User rasters (WorldPop, GHSL, GPW) come in any resolution and CRS. Polygons are brought to
the raster's CRS (cheap and exact for the raster); when a common grid is needed the raster
is regridded with :func:`reproject_grid`, which for counts uses GDAL's ``sum`` resampling so
that people are moved, not interpolated.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.warp import Resampling, reproject

from ewaste_tracker.files import atomic_path
from ewaste_tracker.maps.errors import CRSMismatchError, MapInputError

logger = logging.getLogger(__name__)

__all__ = [
    "GridMismatchError",
    "Raster",
    "RasterFileError",
    "cell_area_km2",
    "grid_from_geotiff",
    "grid_to_geotiff",
    "land_fraction",
    "regular_grid",
    "reproject_grid",
    "smooth_counts",
]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), used for cell areas on geographic grids."""


def crs_mismatch(what_a: str, crs_a: object, what_b: str, crs_b: object) -> CRSMismatchError:
    """A :class:`~ewaste_tracker.maps.errors.CRSMismatchError` naming both inputs and both CRSs."""
    return CRSMismatchError(
        f"CRS mismatch: {what_a} is in {_crs_name(crs_a)} but {what_b} is in "
        f"{_crs_name(crs_b)}; give both a CRS (or reproject one) before combining them"
    )


class GridMismatchError(MapInputError):
    """Two rasters (or a raster and a zone grid) are not on the same cells."""


class RasterFileError(OSError):
    """A raster file could not be read or written."""


def _crs_name(crs: object) -> str:
    if crs is None:
        return "no CRS"
    try:
        crs_obj = CRS.from_user_input(crs)
    except Exception:  # a CRS the caller made up: show it as given
        return repr(crs)
    epsg = crs_obj.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs_obj.to_string()


def as_crs(crs: object) -> CRS | None:
    """Return ``crs`` as a :class:`rasterio.crs.CRS` (``None`` stays ``None``)."""
    if crs is None:
        return None
    return CRS.from_user_input(crs)


@dataclass(frozen=True)
class Raster:
    """Counts on a regular grid.

    Parameters
    ----------
    data
        ``(rows, cols)`` or ``(bands, rows, cols)`` array of counts per cell; ``NaN`` marks
        cells without data.
    transform
        Affine transform from (col, row) to map coordinates of the cell's upper-left corner.
    crs
        Coordinate reference system of ``transform`` (``None`` if unknown).
    bands
        Names of the bands of a 3-D ``data`` (e.g. UNU-KEYs or categories); empty for 2-D.
    """

    data: np.ndarray
    transform: Affine
    crs: CRS | None
    bands: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.data.ndim not in (2, 3):
            raise GridMismatchError(
                f"raster data must be 2-D (rows, cols) or 3-D (bands, rows, cols), "
                f"got shape {self.data.shape}"
            )
        object.__setattr__(self, "crs", as_crs(self.crs))
        if self.data.ndim == 3 and self.bands and len(self.bands) != self.data.shape[0]:
            raise GridMismatchError(
                f"raster has {self.data.shape[0]} bands but {len(self.bands)} band names"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(rows, cols)``, whatever the number of bands."""
        rows, cols = self.data.shape[-2:]
        return int(rows), int(cols)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of the grid in its CRS."""
        return array_bounds(self.transform, self.shape)

    def total(self) -> float | np.ndarray:
        """Sum over cells, ignoring ``NaN`` (one value per band for a 3-D raster)."""
        return np.nansum(self.data, axis=(-2, -1))


def array_bounds(transform: Affine, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """``(left, bottom, right, top)`` of a north-up grid."""
    rows, cols = shape
    left, top = transform.c, transform.f
    right = left + transform.a * cols
    bottom = top + transform.e * rows
    return min(left, right), min(bottom, top), max(left, right), max(bottom, top)


def same_grid(
    transform_a: Affine, shape_a: tuple[int, int], transform_b: Affine, shape_b: tuple[int, int]
) -> bool:
    """True when two grids have the same cells (transform equal to 1e-9 of a cell)."""
    if tuple(shape_a) != tuple(shape_b):
        return False
    tol = 1e-9 * max(abs(transform_a.a), abs(transform_a.e))
    return all(abs(x - y) <= tol for x, y in zip(transform_a[:6], transform_b[:6], strict=True))


def regular_grid(
    bounds: tuple[float, float, float, float], resolution: float
) -> tuple[Affine, tuple[int, int]]:
    """North-up grid of square cells covering ``bounds``, snapped outward to ``resolution``.

    Edges are snapped to integer multiples of ``resolution`` so that grids built for different
    areas at the same resolution share their cells (and align with global 30″ masks).

    Returns
    -------
    (transform, (rows, cols))
    """
    if resolution <= 0:
        raise ValueError(f"resolution must be positive, got {resolution}")
    left, bottom, right, top = bounds
    if not (right > left and top > bottom):
        raise ValueError(f"bounds must be (left, bottom, right, top) with area, got {bounds}")
    eps = 1e-9
    c0 = int(np.floor(left / resolution + eps))
    c1 = int(np.ceil(right / resolution - eps))
    r0 = int(np.floor(bottom / resolution + eps))
    r1 = int(np.ceil(top / resolution - eps))
    transform = Affine(resolution, 0.0, c0 * resolution, 0.0, -resolution, r1 * resolution)
    return transform, (r1 - r0, c1 - c0)


def cell_area_km2(transform: Affine, shape: tuple[int, int], crs: object) -> np.ndarray:
    """Area of each cell in km², broadcastable to ``shape``.

    For a geographic CRS the area of a cell between latitudes φ₁ < φ₂ and spanning Δλ
    radians is the spherical zone

    .. math:: A = R^2 \\, \\Delta\\lambda \\, (\\sin\\varphi_2 - \\sin\\varphi_1),

    with R the mean Earth radius; the result has shape ``(rows, 1)``. For a projected CRS in
    metres the area is the constant ``|a·e|`` / 10⁶ (shape ``(1, 1)``).
    """
    crs_obj = as_crs(crs)
    rows = shape[0]
    if crs_obj is None or not crs_obj.is_geographic:
        if crs_obj is not None and crs_obj.linear_units_factor[1] != 1.0:
            scale = crs_obj.linear_units_factor[1]
        else:
            scale = 1.0
        return np.full((1, 1), abs(transform.a * transform.e) * scale**2 / 1e6)
    edges = transform.f + transform.e * np.arange(rows + 1)
    edges = np.clip(edges, -90.0, 90.0)
    sin = np.sin(np.radians(edges))
    dlon = np.radians(abs(transform.a))
    return (EARTH_RADIUS_KM**2 * dlon * np.abs(sin[:-1] - sin[1:]))[:, None]


def grid_to_geotiff(
    arr: np.ndarray,
    transform: Affine,
    crs: object,
    path: str | os.PathLike[str],
    *,
    nodata: float | None = np.nan,
    band_names: tuple[str, ...] | list[str] | None = None,
    units: str | tuple[str, ...] | list[str] | None = None,
    dtype: str = "float32",
) -> Path:
    """Write a 2-D or 3-D array as a Cloud-Optimized GeoTIFF, atomically.

    The file is a COG (GDAL's ``COG`` driver: 256 × 256 tiles, deflate with the floating-point
    predictor, internal overviews by averaging), so a viewer or a web map can read a window or
    a zoom level without the whole file.

    Parameters
    ----------
    arr
        ``(rows, cols)`` or ``(bands, rows, cols)``.
    transform, crs
        Georeferencing of ``arr``.
    path
        Target file; its folder must exist. Written to a temporary file first, then moved
        into place.
    nodata
        Nodata value recorded in the file (``NaN`` by default; ``None`` for none).
    band_names
        Band descriptions (e.g. ``total``, category codes), one per band.
    units
        Unit of the values (one for all bands, or one per band), e.g. ``"t"``.
    dtype
        Storage type of non-integer data (``float32`` by default: 7 significant digits;
        ``float64`` to keep every digit). Integer arrays keep their type.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    data = np.asarray(arr)
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3:
        raise GridMismatchError(f"cannot write an array of shape {np.shape(arr)} to {path}")
    if not np.issubdtype(data.dtype, np.integer):
        data = data.astype(dtype, copy=False)
    n_bands = data.shape[0]
    if band_names is not None and len(band_names) != n_bands:
        raise GridMismatchError(f"{path}: {n_bands} bands but {len(band_names)} band names given")
    unit_list = [units] * n_bands if isinstance(units, str) else list(units or [])
    if unit_list and len(unit_list) != n_bands:
        raise GridMismatchError(f"{path}: {n_bands} bands but {len(unit_list)} units given")
    if not path.parent.is_dir():
        raise RasterFileError(f"cannot write {path}: folder {path.parent} does not exist")
    profile = {
        "driver": "COG",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": n_bands,
        "dtype": data.dtype.name,
        "crs": as_crs(crs),
        "transform": transform,
        "compress": "deflate",
        "predictor": 3 if data.dtype.kind == "f" else 2,
        "blocksize": 256,
        "overview_resampling": "average",
    }
    if nodata is not None:
        profile["nodata"] = nodata
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            if band_names is not None:
                dst.descriptions = tuple(str(b) for b in band_names)
            if unit_list:
                dst.units = tuple(str(u) for u in unit_list)
    logger.debug("wrote %s (%d band(s), %d x %d)", path, *data.shape)
    return path


def grid_from_geotiff(path: str | os.PathLike[str], *, band: int | None = None) -> Raster:
    """Read a GeoTIFF (or any GDAL raster) as a float64 :class:`Raster` of counts.

    Nodata cells become ``NaN``. Band descriptions, when present, become ``Raster.bands``.

    Parameters
    ----------
    path
        Raster file, e.g. a WorldPop or GHSL population count GeoTIFF in any CRS.
    band
        1-based band to read; all bands when ``None`` (a single band gives a 2-D raster).
    """
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            indexes = [band] if band is not None else list(src.indexes)
            if band is not None and band not in src.indexes:
                raise RasterFileError(f"{path} has bands {list(src.indexes)}, not band {band}")
            data = src.read(indexes, masked=True).astype(np.float64).filled(np.nan)
            names = tuple(src.descriptions[i - 1] or "" for i in indexes)
            transform, crs = src.transform, src.crs
    except RasterioIOError as exc:
        raise RasterFileError(f"cannot read raster {path}: {exc}") from exc
    if data.shape[0] == 1:
        return Raster(data[0], transform, crs)
    return Raster(data, transform, crs, names if all(names) else ())


def reproject_grid(
    raster: Raster,
    transform: Affine,
    shape: tuple[int, int],
    crs: object,
    *,
    counts: bool = True,
) -> Raster:
    """Regrid ``raster`` onto another grid (``transform``, ``shape``, ``crs``).

    Parameters
    ----------
    counts
        ``True`` (default) for counts per cell: source cells are summed into target cells
        (GDAL ``sum`` resampling), so totals are kept where the grids overlap; use it to
        bring a fine population raster onto a coarser grid. ``False`` for intensive values
        (densities, shares): bilinear interpolation.

    Raises
    ------
    CRSMismatchError
        If exactly one of the two grids has no CRS.
    """
    src_crs, dst_crs = raster.crs, as_crs(crs)
    if (src_crs is None) != (dst_crs is None):
        raise crs_mismatch("the raster", src_crs, "the target grid", dst_crs)
    src = raster.data if raster.data.ndim == 3 else raster.data[None]
    out = np.full((src.shape[0], *shape), np.nan)
    reproject(
        source=src,
        destination=out,
        src_transform=raster.transform,
        src_crs=src_crs,
        dst_transform=transform,
        dst_crs=dst_crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.sum if counts else Resampling.bilinear,
    )
    if counts:
        before, after = np.nansum(src), np.nansum(out)
        logger.info("regridded counts: total %.6g -> %.6g", before, after)
    data = out if raster.data.ndim == 3 else out[0]
    return Raster(data, transform, dst_crs, raster.bands)


# --- land mask -------------------------------------------------------------------------------

LAND_MASK_RESOLUTION = 1.0 / 120.0
"""Cell size (degrees) of the global-land-mask grid: 30 arc-seconds, 21,600 x 43,200 cells."""

SHIPPED_LAND_FRACTION = Path(__file__).resolve().parents[1] / "data" / "grid" / "land_300s.npz"
"""Derived land counts at 5′ built by ``scripts/build_grid_data.py`` (see data/README.md)."""


def _mask_rows(r0: int, r1: int, cols: slice, block: int) -> np.ndarray:
    """Land cells per ``block`` x ``block`` block for mask rows ``r0:r1`` and columns ``cols``.

    Streams the compressed mask of the ``global_land_mask`` package row by row instead of
    loading the 0.9 GB array (True = water in the package; rows run from 90°N southwards).
    """
    import zipfile
    from importlib.util import find_spec

    from numpy.lib import format as npy_format

    # locate the package without importing it: its __init__ loads the whole mask
    spec = find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise RasterFileError("the land mask needs the package global-land-mask installed")
    npz = Path(next(iter(spec.submodule_search_locations))) / "globe_combined_mask_compressed.npz"
    with zipfile.ZipFile(npz) as zf, zf.open("mask.npy") as fh:
        version = npy_format.read_magic(fh)
        read_header = (
            npy_format.read_array_header_1_0
            if version == (1, 0)
            else npy_format.read_array_header_2_0
        )
        (_n_rows, n_cols), fortran, dtype = read_header(fh)
        if fortran or dtype != np.dtype(bool):
            raise RasterFileError("global_land_mask: unexpected layout of mask.npy")
        fh.seek(fh.tell() + r0 * n_cols)
        width = cols.stop - cols.start
        out = np.empty(((r1 - r0) // block, width // block), dtype=np.int32)
        step = max(block, (64 // block) * block)
        for start in range(0, r1 - r0, step):
            n = min(step, r1 - r0 - start)
            raw = np.frombuffer(fh.read(n * n_cols), dtype=np.uint8).reshape(n, n_cols)
            land = 1 - raw[:, cols]
            counts = land.reshape(n // block, block, width // block, block).sum(axis=(1, 3))
            out[start // block : (start + n) // block] = counts
    return out


def land_mask_block(transform: Affine) -> int:
    """Cells of the 30″ land mask per grid cell side (raises unless the grid is north-up with
    square cells at a multiple of 30 arc-seconds)."""
    res = transform.a
    block = round(res / LAND_MASK_RESOLUTION)
    if (
        block < 1
        or abs(block * LAND_MASK_RESOLUTION - res) > 1e-9
        or abs(transform.e + res) > 1e-12
        or transform.b
        or transform.d
    ):
        raise GridMismatchError(
            f"land fraction needs a north-up grid of square cells at a multiple of 30 arc-seconds "
            f"(0.008333°), got cell size {transform.a} x {transform.e}"
        )
    return int(block)


def land_fraction(
    transform: Affine, shape: tuple[int, int], *, shipped: Path | None = SHIPPED_LAND_FRACTION
) -> np.ndarray:
    """Share of each cell that is land, from the 30″ GLOBE-based mask of ``global_land_mask``.

    The grid must be geographic (degrees), north-up, with square cells whose size is a whole
    multiple of 30″ and edges on the 30″ lattice (as :func:`regular_grid` makes them). Cells
    beyond ±180° / ±90° count as water. Grids at multiples of 5′ are summed from the shipped
    5′ land counts when present; others stream the package's mask.

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)`` float64 in [0, 1].
    """
    block = land_mask_block(transform)
    col0 = round((transform.c + 180.0) / LAND_MASK_RESOLUTION)
    row0 = round((90.0 - transform.f) / LAND_MASK_RESOLUTION)
    rows, cols = shape
    # clip the requested window to the globe, in mask cells, keeping whole blocks
    r_lo = max(0, -(row0 // block)) if row0 < 0 else 0
    c_lo = max(0, -(col0 // block)) if col0 < 0 else 0
    r_hi = min(rows, (21600 - row0) // block)
    c_hi = min(cols, (43200 - col0) // block)
    out = np.zeros(shape)
    if r_hi <= r_lo or c_hi <= c_lo:
        return out
    m_r0, m_c0 = row0 + r_lo * block, col0 + c_lo * block
    m_r1, m_c1 = row0 + r_hi * block, col0 + c_hi * block
    if block % 10 == 0 and shipped is not None and shipped.is_file():
        with np.load(shipped) as f:
            counts5 = f["land"]
        k = block // 10
        sub = counts5[m_r0 // 10 : m_r1 // 10, m_c0 // 10 : m_c1 // 10].astype(np.int64)
        counts = sub.reshape(sub.shape[0] // k, k, sub.shape[1] // k, k).sum(axis=(1, 3))
    else:
        counts = _mask_rows(m_r0, m_r1, slice(m_c0, m_c1), block)
    out[r_lo:r_hi, c_lo:c_hi] = counts / float(block * block)
    return out


def smooth_counts(arr: np.ndarray, sigma_cells: float, wrap_lon: bool) -> np.ndarray:
    """Gaussian smoothing of counts (sum kept away from the edges), for kernels in cells.

    Kernels narrower than a quarter cell leave ``arr`` as it is; kernels wider than 8 cells
    are applied on a grid coarsened by ``sigma // 4`` and spread back evenly, which keeps
    wide kernels cheap at 30″. ``wrap_lon`` wraps the columns (a full 360° grid).
    """
    from scipy.ndimage import gaussian_filter

    if sigma_cells < 0.25:
        return arr
    mode = ("constant", "wrap" if wrap_lon else "constant")
    k = int(sigma_cells // 4)
    if k < 2:
        return gaussian_filter(arr, sigma_cells, mode=mode, truncate=3.0)
    rows, cols = arr.shape
    pr, pc = -rows % k, -cols % k
    padded = np.pad(arr, ((0, pr), (0, pc)))
    coarse = padded.reshape((rows + pr) // k, k, (cols + pc) // k, k).sum(axis=(1, 3))
    coarse = gaussian_filter(coarse, sigma_cells / k, mode=mode, truncate=3.0)
    fine = np.repeat(np.repeat(coarse, k, axis=0), k, axis=1) / (k * k)
    return fine[:rows, :cols]
