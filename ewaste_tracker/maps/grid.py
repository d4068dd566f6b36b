"""Zones on grids: rasterise polygons, downscale totals to cells, aggregate cells to polygons.

Polygons are burnt onto a raster's cells once (:func:`zones_from_polygons`): every cell gets
the integer id of the polygon that contains its **centre** (GDAL's default rule), or -1 when
no polygon does. Where polygons overlap, the **first** row in the frame wins, so every cell
belongs to at most one zone and sums over zones never double count. Rows that share a label
(e.g. several parts of one country) form one zone.

With zone ids in hand, downscaling and aggregation are single passes of
:func:`numpy.bincount`, which is what makes them fast compared with per-polygon zonal
statistics.

:func:`ewaste_tracker.maps.population.default_population_grid` builds a population grid from
shipped data (Natural Earth country populations, the GLOBE land mask, GeoNames cities) when
the user has no WorldPop or GHSL raster (the names are also importable from here); user
rasters are read with :func:`ewaste_tracker.maps.raster_io.grid_from_geotiff`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize

from ewaste_tracker.maps.errors import MapInputError
from ewaste_tracker.maps.raster_io import (
    GridMismatchError,
    Raster,
    as_crs,
    crs_mismatch,
    same_grid,
)

logger = logging.getLogger(__name__)

__all__ = [
    "EmptyZoneError",
    "ZoneMismatchError",
    "Zones",
    "aggregate",
    "downscale",
    "zones_from_polygons",
]


BLOCK_CELLS = 1 << 22
"""Cells per row block in :func:`downscale` and the default population grid (~4 million)."""
FEW_ZONES = 4
"""Up to this many zones, per-cell work compares ids with each zone instead of gathering."""


class EmptyZoneError(MapInputError):
    """A zone with a non-zero total has no grid cell to receive it."""


class ZoneMismatchError(MapInputError):
    """Totals and zones do not refer to the same labels, or an input value is invalid."""


@dataclass(frozen=True)
class Zones:
    """Polygons burnt onto a grid.

    Attributes
    ----------
    ids
        ``(rows, cols)`` int32: zone number of each cell (position in ``labels``), -1 for
        cells whose centre lies in no polygon.
    labels
        Zone labels (e.g. ISO3 codes or polygon ids), in zone-number order.
    transform, crs
        The grid the ids live on.
    fallback
        ``(n_zones,)`` int64 flat index of the cell holding each zone's representative
        point, for zones that own no cell (-1 when the zone owns cells or the point is off
        the grid). Used by :func:`downscale` with ``on_empty="point"``.
    """

    ids: np.ndarray
    labels: pd.Index
    transform: Affine
    crs: CRS | None
    fallback: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(rows, cols)``."""
        return int(self.ids.shape[0]), int(self.ids.shape[1])

    def cell_counts(self) -> np.ndarray:
        """Number of cells owned by each zone, ``(n_zones,)`` (counted once, then kept)."""
        return self._counts.copy()

    @functools.cached_property
    def _counts(self) -> np.ndarray:
        flat, n = self.ids.ravel(), len(self.labels)
        counts = np.zeros(n, dtype=np.int64)
        for s in range(0, flat.size, BLOCK_CELLS):  # blocks: no full-size temporaries
            part = flat[s : s + BLOCK_CELLS]
            if n <= FEW_ZONES:  # a comparison per zone beats casting the ids for bincount
                counts += [np.count_nonzero(part == k) for k in range(n)]
            else:
                counts += np.bincount(part[part >= 0], minlength=n)
        return counts

    def empty(self) -> pd.Index:
        """Labels of zones that own no cell (too small for the grid, or off it)."""
        return self.labels[self.cell_counts() == 0]


def _check_polygons(polygons: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS | None) -> gpd.GeoSeries:
    """Validate polygons and return their geometry in ``crs``."""
    if not isinstance(polygons, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(f"polygons must be a GeoDataFrame or GeoSeries, got {type(polygons)}")
    geoms = polygons.geometry if isinstance(polygons, gpd.GeoDataFrame) else polygons
    missing = geoms.isna().to_numpy()
    if missing.any():
        rows = list(polygons.index[missing][:5])
        raise ZoneMismatchError(f"polygons have no geometry in rows {rows}")
    kinds = set(geoms.geom_type.unique()) - {"Polygon", "MultiPolygon"}
    if kinds:
        raise ZoneMismatchError(f"polygons must be (Multi)Polygons, found {sorted(kinds)}")
    if (geoms.crs is None) != (crs is None):
        raise crs_mismatch("the polygons", geoms.crs, "the grid", crs)
    if crs is not None and not CRS.from_user_input(geoms.crs) == crs:
        logger.debug("reprojecting %d polygons from %s to %s", len(geoms), geoms.crs, crs)
        geoms = geoms.to_crs(crs)
    return geoms


def _fallback_cells(
    geoms: gpd.GeoSeries,
    codes: np.ndarray,
    empty: np.ndarray,
    transform: Affine,
    shape: tuple[int, int],
) -> np.ndarray:
    """Flat index of the cell holding each ``empty`` zone's representative point, else -1.

    ``codes`` gives the zone number of each geometry; the result has one entry per zone
    (``max(codes) + 1``), -1 for zones not in ``empty`` or whose point is off the grid.
    """
    out = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    points = (
        gpd.GeoSeries(geoms.to_numpy(), crs=geoms.crs)
        .groupby(codes)
        .agg(lambda s: s.union_all().representative_point())
    )
    inv = ~transform
    for k in empty:  # only the few zones too small for the grid
        col, row = inv @ (points.loc[k].x, points.loc[k].y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if 0 <= r < shape[0] and 0 <= c < shape[1]:
            out[k] = r * shape[1] + c
    return out


def zones_from_polygons(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    like: Raster | tuple[Affine, tuple[int, int], object],
    *,
    id_column: str | None = None,
) -> Zones:
    """Burn polygons onto a grid with the centre-in rule.

    Parameters
    ----------
    polygons
        (Multi)Polygons in any CRS; they are reprojected to the grid's CRS (the grid is never
        warped here).
    like
        A :class:`~ewaste_tracker.maps.raster_io.Raster`, or ``(transform, (rows, cols), crs)``.
    id_column
        Column holding zone labels; the frame's index when ``None``. Rows sharing a label
        form one zone.

    Returns
    -------
    Zones

    Raises
    ------
    CRSMismatchError
        If exactly one of polygons and grid has a CRS.
    """
    if isinstance(like, Raster):
        transform, shape, crs = like.transform, like.shape, like.crs
    else:
        transform, shape, crs = like[0], (int(like[1][0]), int(like[1][1])), as_crs(like[2])
    geoms = _check_polygons(polygons, crs)
    if id_column is None:
        keys = polygons.index
    else:
        if not isinstance(polygons, gpd.GeoDataFrame) or id_column not in polygons.columns:
            raise ZoneMismatchError(f"polygons have no column {id_column!r}")
        keys = pd.Index(polygons[id_column])
    if keys.hasnans:
        raise ZoneMismatchError(f"zone labels ({id_column or 'index'}) contain missing values")
    codes, labels = pd.factorize(keys)
    keep = ~geoms.is_empty.to_numpy()
    # reversed so that the first row wins where polygons overlap (rasterize burns in order)
    shapes = list(zip(geoms.to_numpy()[keep][::-1], codes[keep][::-1].tolist(), strict=True))
    if shapes:
        ids = rasterize(
            shapes, out_shape=shape, transform=transform, fill=-1, dtype="int32", all_touched=False
        )
    else:
        ids = np.full(shape, -1, dtype=np.int32)
    zones = Zones(ids, pd.Index(labels), transform, crs, np.full(len(labels), -1, np.int64))
    counts = zones.cell_counts()
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        zones.fallback[:] = _fallback_cells(geoms, codes, empty, transform, shape)
        logger.info("%d of %d zones own no cell: %s", empty.size, len(labels), list(labels[empty]))
    logger.debug("%d of %d cells are in no zone", ids.size - int(counts.sum()), ids.size)
    return zones


def _zones_on(
    zones: Zones | gpd.GeoDataFrame | gpd.GeoSeries, raster: Raster, id_column: str | None
) -> Zones:
    """Zones on ``raster``'s grid: rasterise polygons, or check a precomputed :class:`Zones`."""
    if not isinstance(zones, Zones):
        return zones_from_polygons(zones, raster, id_column=id_column)
    if (zones.crs is None) != (raster.crs is None) or (
        zones.crs is not None and zones.crs != raster.crs
    ):
        raise crs_mismatch("the zones", zones.crs, "the raster", raster.crs)
    if not same_grid(zones.transform, zones.shape, raster.transform, raster.shape):
        raise GridMismatchError(
            f"zones are on a {zones.shape} grid with transform {tuple(zones.transform)[:6]} but "
            f"the raster is {raster.shape} with {tuple(raster.transform)[:6]}; rasterise the "
            f"polygons on the raster (zones_from_polygons(polygons, raster))"
        )
    return zones


def _totals_matrix(
    totals: pd.Series | pd.DataFrame | np.ndarray, labels: pd.Index
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(K, n_zones)`` totals aligned with zone labels, and band names (empty for a Series)."""
    bands: tuple[str, ...]
    if isinstance(totals, np.ndarray):
        if totals.ndim not in (1, 2) or totals.shape[0] != len(labels):
            raise ZoneMismatchError(
                f"an array of totals must have one row per zone ({len(labels)}), "
                f"got shape {totals.shape}"
            )
        totals = (
            pd.Series(totals, index=labels)
            if totals.ndim == 1
            else pd.DataFrame(totals, index=labels)
        )
    if isinstance(totals, pd.Series):
        frame, bands = totals.to_frame(), ()
    elif isinstance(totals, pd.DataFrame):
        frame, bands = totals, tuple(str(c) for c in totals.columns)
    else:
        raise TypeError(f"totals must be a pandas Series or DataFrame, got {type(totals)}")
    if not frame.index.is_unique:
        dup = list(frame.index[frame.index.duplicated()].unique()[:5])
        raise ZoneMismatchError(f"totals have duplicate zone labels {dup}")
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ZoneMismatchError(
            f"totals must be finite: zone {frame.index[r]!r}, column {frame.columns[c]!r} is "
            f"{values[r, c]}"
        )
    pos = labels.get_indexer(frame.index)
    unknown = frame.index[pos < 0]
    if len(unknown):
        raise ZoneMismatchError(
            f"totals given for {len(unknown)} zone(s) not among the polygons: {list(unknown[:10])}"
        )
    out = np.zeros((values.shape[1], len(labels)))
    out[:, pos] = values.T
    absent = len(labels) - len(frame.index)
    if absent:
        logger.info("%d zone(s) have no total and receive nothing", absent)
    return out, bands


def downscale(
    totals: pd.Series | pd.DataFrame | np.ndarray,
    zones: Zones | gpd.GeoDataFrame | gpd.GeoSeries,
    weights: Raster,
    *,
    id_column: str | None = None,
    on_empty: Literal["raise", "point"] = "raise",
) -> Raster:
    """Spread each zone's total over its cells in proportion to a weight grid.

    For zone z with total :math:`T_z`, cell weights :math:`w_c \\ge 0` and cells
    :math:`c \\in z` (centre-in rule),

    .. math::

        x_c = T_z \\, \\frac{w_c}{\\sum_{c' \\in z} w_{c'}} \\quad\\text{if}\\;
        \\sum_{c' \\in z} w_{c'} > 0, \\qquad
        x_c = \\frac{T_z}{n_z} \\quad\\text{otherwise,}

    with :math:`n_z` the zone's number of cells, so :math:`\\sum_{c \\in z} x_c = T_z` up to
    rounding (checked to 1e-9 relative). This is dasymetric mapping with an ancillary weight
    layer (Mennis 2003, *The Professional Geographer* 55(1): 31-42), e.g. e-waste generated
    per country spread by population. Cells in no zone get 0.

    Parameters
    ----------
    totals
        Series indexed by zone label (one layer), or DataFrame indexed by zone label with one
        column per category (one band each, e.g. the six EU WEEE categories). A NumPy array
        of shape ``(n_zones,)`` or ``(n_zones, K)`` is taken in zone order (polygon rows,
        or ``Zones.labels``).
    zones
        Polygons (burnt on ``weights``' grid) or precomputed :class:`Zones` on that grid.
    weights
        2-D raster of non-negative weights (population counts); ``NaN`` counts as 0.
    id_column
        Column of ``zones`` holding the labels used in ``totals`` (index when ``None``).
    on_empty
        What to do with a zone that has a non-zero total but owns no cell (smaller than a
        cell, or off the grid): ``"raise"`` (default) raises :class:`EmptyZoneError` naming
        the zones; ``"point"`` puts the whole total in the cell holding the zone's
        representative point (that cell may belong to a neighbouring zone, so aggregating
        back then credits the neighbour), and raises if that point is off the grid too.

    Returns
    -------
    Raster
        On ``weights``' grid: 2-D for a Series, ``(K, rows, cols)`` with ``bands`` = the
        DataFrame's columns otherwise.
    """
    if weights.data.ndim != 2:
        raise GridMismatchError(f"weights must be a 2-D raster, got shape {weights.data.shape}")
    z = _zones_on(zones, weights, id_column)
    T, bands = _totals_matrix(totals, z.labels)
    n, K = len(z.labels), T.shape[0]
    rows, cols = weights.shape
    step = max(1, BLOCK_CELLS // max(cols, 1))

    def band(r0: int) -> tuple[np.ndarray, np.ndarray]:
        """Weights (NaN as 0) of rows ``r0:r0 + step`` and their zone ids (-1: in no zone)."""
        w = np.asarray(weights.data[r0 : r0 + step], dtype=np.float64).ravel()
        if w.size and not (w.min() >= 0 and w.max() < np.inf):  # two passes, no copies
            missing = np.isnan(w)
            if missing.any():  # NaN (no data) weighs nothing
                w = np.where(missing, 0.0, w)
            bad = (w < 0) | (w == np.inf)
            if bad.any():
                r, c = divmod(int(np.flatnonzero(bad)[0]), cols)
                raise ZoneMismatchError(
                    f"weights must be finite and non-negative; cell (row {r0 + r}, col {c}) "
                    f"is {w[r * cols + c]}"
                )
        return w, z.ids[r0 : r0 + step].ravel()

    # pass 1: each zone's weight, summed over row blocks of the grid; with many zones
    # numpy.add.at adds in cell order (the last slot collects the cells in no zone, id -1)
    W = np.zeros(n + 1)
    N = z.cell_counts()
    for r0 in range(0, rows, step):
        w, ids = band(r0)
        if n <= FEW_ZONES:  # e.g. one country: a masked (pairwise) sum per zone
            for zone in np.flatnonzero(N > 0):
                W[zone] += np.sum(w, where=ids == zone)
        else:
            np.add.at(W, ids, w)
    W = W[:n]
    nonzero = np.abs(T).sum(axis=0) > 0
    flat_zero = (W == 0) & (N > 0) & nonzero
    if flat_zero.any():
        logger.warning(
            "zero weight in %d zone(s), spread uniformly over their cells: %s",
            int(flat_zero.sum()),
            list(z.labels[flat_zero][:20]),
        )
    empty = (N == 0) & nonzero
    cells = z.fallback[empty]
    if empty.any():
        labels = list(z.labels[empty])
        if on_empty != "point":
            raise EmptyZoneError(
                f"{len(labels)} zone(s) with a non-zero total own no grid cell (smaller than a "
                f"cell or off the grid): {labels[:20]}; use a finer grid or on_empty='point'"
            )
        if (cells < 0).any():
            off = list(z.labels[empty][cells < 0])
            raise EmptyZoneError(f"zone(s) {off} own no cell and lie off the grid")
    # per zone, with a last slot of zeros for the cells in no zone (id -1)
    T_ext = np.concatenate([T, np.zeros((K, 1))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.append(np.where(W > 0, 1.0 / W, 0.0), 0.0)
        uniform = np.append(np.where(N > 0, 1.0 / N, 0.0), 0.0)
    positive = np.append(W > 0, False)

    # pass 2, block by block: share_c = w_c / W_z (1 / n_z in zones of zero weight),
    # x_c = T_z share_c; each band's sum is checked against its zones' totals
    out = np.empty((K, rows * cols))
    got = np.zeros(K)
    buffer = np.empty(min(step * cols, rows * cols))
    for r0 in range(0, rows, step):
        w, ids = band(r0)
        block = out[:, r0 * cols : (r0 + step) * cols]  # a view
        share = buffer[: w.size]
        if n <= FEW_ZONES:  # e.g. one country: a mask per zone, no gathers
            block[:] = 0.0
            for zone in np.flatnonzero(N > 0):
                mask = ids == zone
                if positive[zone]:
                    np.multiply(w, inv[zone], out=share, where=mask)
                else:
                    np.copyto(share, uniform[zone], where=mask)
                for k in range(K):
                    np.multiply(share, T[k, zone], out=block[k], where=mask)
        else:
            np.multiply(w, np.take(inv, ids), out=share)
            if flat_zero.any():
                np.copyto(share, np.take(uniform, ids), where=~positive[ids])
            for k in range(K):  # the few bands
                np.multiply(np.take(T_ext[k], ids), share, out=block[k])
        got += block.sum(axis=1)
    if empty.any():
        np.add.at(out.T, cells, T[:, empty].T)  # out.T is a view; cells may repeat
        logger.warning(
            "zones without cells put in their representative-point cell: %s",
            list(z.labels[empty]),
        )
    expect = np.where(N > 0, T, 0.0).sum(axis=1)
    err = np.abs(got - expect).max(initial=0.0)
    if err > 1e-9 * max(1.0, float(np.abs(T).sum(axis=1).max(initial=0.0))):
        raise ArithmeticError(f"downscaling lost mass: error {err:.3g} in a band's total")
    data = out.reshape(T.shape[0], *weights.shape)
    if not bands:
        return Raster(data[0], weights.transform, weights.crs)
    return Raster(data, weights.transform, weights.crs, bands)


def aggregate(
    grid: Raster,
    polygons: Zones | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    id_column: str | None = None,
) -> pd.Series | pd.DataFrame:
    """Sum grid cells into polygons (centre-in rule, first polygon wins on overlap).

    .. math:: S_z = \\sum_{c \\,:\\, \\mathrm{centre}(c) \\in z} x_c

    Parameters
    ----------
    grid
        2-D raster, or 3-D with one band per category; ``NaN`` cells count as 0.
    polygons
        Polygons in any CRS (reprojected to the grid's) or :class:`Zones` on ``grid``.
    id_column
        Column of ``polygons`` with zone labels (index when ``None``).

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Indexed by zone label (one column per band for a 3-D grid). ``attrs["uncovered"]``
        holds the sum of cells in no polygon (per band for 3-D) and ``attrs["empty_zones"]``
        the labels of polygons that own no cell (their sum is 0); both are also logged.
    """
    z = _zones_on(polygons, grid, id_column)
    data = grid.data if grid.data.ndim == 3 else grid.data[None]
    K, n = data.shape[0], len(z.labels)
    values = data.reshape(K, -1)
    nan = np.isnan(values)
    if nan.any():
        logger.info("%d nodata cell values counted as 0", int(nan.sum()))
        values = np.where(nan, 0.0, values)
    ids = z.ids.ravel()
    slot = np.where(ids >= 0, ids, n)  # slot n collects cells in no polygon
    sums = np.bincount(
        (np.arange(K)[:, None] * (n + 1) + slot[None, :]).ravel(),
        weights=values.ravel(),
        minlength=K * (n + 1),
    ).reshape(K, n + 1)
    uncovered = sums[:, n]
    empty = list(z.empty())
    if empty:
        logger.warning("%d polygon(s) own no cell and get 0: %s", len(empty), empty[:20])
    if np.any(uncovered != 0):
        logger.info("sum of cells in no polygon: %s", uncovered)
    if grid.data.ndim == 2:
        result: pd.Series | pd.DataFrame = pd.Series(sums[0, :n], index=z.labels, name="value")
        result.attrs["uncovered"] = float(uncovered[0])
    else:
        columns = list(grid.bands) if grid.bands else list(range(K))
        result = pd.DataFrame(sums[:, :n].T, index=z.labels, columns=columns)
        result.attrs["uncovered"] = dict(zip(columns, uncovered.tolist(), strict=True))
    result.attrs["empty_zones"] = empty
    return result


def __getattr__(name: str) -> object:
    """The default population grid moved to :mod:`ewaste_tracker.maps.population`."""
    if name in _MOVED:
        from ewaste_tracker.maps import population

        return getattr(population, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MOVED = frozenset({"CITY_SIZE_EDGES", "KM_PER_DEGREE", "cities_from_geonames",
                    "default_population_grid"})  # fmt: skip
