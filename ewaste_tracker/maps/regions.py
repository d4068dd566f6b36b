"""Region outlines and joins of tidy result tables to them.

Countries come as a GeoDataFrame of Natural Earth outlines with ISO 3166-1 alpha-3 codes
(``data/countries.gpkg``, column ``iso3``); sub-national boundaries are user files
(GeoPackage, GeoJSON, Shapefile, any CRS) with a column of region codes. Both are brought to
the same form by :func:`regions_from_frame` / :func:`regions_from_file`:

========== ============================================================
column     meaning
========== ============================================================
region     code (ISO3 for countries, the user's codes otherwise), unique
name       display name (the code when the file has none)
geometry   (Multi)Polygon, valid, in EPSG:4326 unless asked otherwise
========== ============================================================

Invalid polygons (self-intersections, bow-ties, unclosed rings) are repaired with
``shapely.make_valid`` (the GEOS "structure" method keeps every area); the repaired codes are
logged and listed in ``gdf.attrs["repaired"]``. A CRS mismatch between two frames is an error,
never a silent re-projection, and a file without a CRS must be given one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ewaste_tracker.maps.errors import CRSMismatchError, MapInputError, UnknownRegionError

logger = logging.getLogger(__name__)

DEFAULT_CRS = "EPSG:4326"
# Natural Earth columns tried, in order, when no code column is named. ISO_A3 is -99 for
# France and Norway in Natural Earth 5.x, so the "EH" and ADM0 variants come first.
_ISO3_CANDIDATES = ("iso3", "ISO_A3_EH", "iso_a3_eh", "ADM0_A3", "adm0_a3", "ISO_A3", "iso_a3")
_NAME_CANDIDATES = ("name", "NAME", "NAME_EN", "name_en", "ADMIN", "admin")
_POLYGONAL = ("Polygon", "MultiPolygon")


def check_same_crs(*frames: gpd.GeoDataFrame, names: Sequence[str] = ()) -> None:
    """Raise unless every frame has the same, defined CRS.

    Parameters
    ----------
    *frames
        GeoDataFrames to be combined.
    names
        Their names, for the message (defaults to ``frame 1``, ``frame 2``...).

    Raises
    ------
    CRSMismatchError
        Naming the frames and their CRS.
    """
    labels = list(names) + [f"frame {i + 1}" for i in range(len(names), len(frames))]
    for label, frame in zip(labels, frames, strict=False):
        if frame.crs is None:
            raise CRSMismatchError("has no coordinate reference system", path=label)
    first = frames[0].crs
    for label, frame in zip(labels[1:], frames[1:], strict=False):
        if frame.crs != first:
            raise CRSMismatchError(
                f"CRS {frame.crs.to_string()} differs from {labels[0]}'s {first.to_string()}; "
                "re-project one of them first (GeoDataFrame.to_crs)",
                path=label,
            )


def repair_geometries(
    gdf: gpd.GeoDataFrame, *, id_column: str, source: str | Path | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid polygons and keep only their areal parts.

    Parameters
    ----------
    gdf
        Polygonal features.
    id_column
        Column naming each feature, for the report.
    source
        File or layer name, for messages.

    Returns
    -------
    gdf : geopandas.GeoDataFrame
        A copy with valid (Multi)Polygons.
    repaired : list of str
        Ids of the features that were repaired.

    Raises
    ------
    MapInputError
        When a feature has no geometry, is not polygonal, or has no area left after repair.
    """
    geom = gdf.geometry.to_numpy()
    ids = gdf[id_column].astype(str).to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if missing.any():
        raise MapInputError(
            f"{int(missing.sum())} feature(s) without geometry: {', '.join(ids[missing][:10])}",
            path=source,
            column=id_column,
        )
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        fixed = shapely.make_valid(geom[invalid], method="structure", keep_collapsed=False)
        # make_valid may return collections; keep only the polygons.
        parts, index = shapely.get_parts(fixed, return_index=True)
        keep = np.isin(shapely.get_type_id(parts), (3, 6))
        polys = np.full(len(fixed), None, dtype=object)
        for i in np.unique(index[keep]):
            polys[i] = shapely.union_all(parts[keep & (index == i)])
        geom = geom.copy()
        geom[invalid] = polys
    types = shapely.get_type_id(geom)
    bad = ~np.isin(types, (3, 6)) | shapely.is_empty(geom)
    if bad.any():
        raise MapInputError(
            f"feature(s) are not polygons with an area: {', '.join(ids[bad][:10])}",
            path=source,
            column=id_column,
        )
    repaired = ids[invalid].tolist()
    if repaired:
        logger.warning(
            "%s: repaired %d invalid geometr%s: %s",
            source or "boundaries",
            len(repaired),
            "y" if len(repaired) == 1 else "ies",
            ", ".join(repaired[:20]),
        )
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geom, index=gdf.index, crs=gdf.crs))
    return out, repaired


def regions_from_frame(
    gdf: gpd.GeoDataFrame,
    *,
    code_column: str | None = None,
    name_column: str | None = None,
    to_crs: str | None = DEFAULT_CRS,
    source: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Validate boundaries and bring them to the ``region, name, geometry`` form.

    Parameters
    ----------
    gdf
        Country or sub-national outlines.
    code_column
        Column of region codes. When ``None``, the first of ``iso3``, ``ISO_A3_EH``,
        ``ADM0_A3``, ``ISO_A3`` present is used (Natural Earth).
    name_column
        Column of display names; when ``None``, the first of ``name``, ``NAME``,
        ``NAME_EN``, ``ADMIN`` present, else the code.
    to_crs
        CRS of the result (``None`` keeps the input's).
    source
        File or layer name, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``region``, ``name``, ``geometry``; ``attrs["repaired"]`` lists repaired codes.
        Natural Earth placeholders (``-99``) are dropped with a warning.

    Raises
    ------
    MapInputError
        Missing or repeated codes, missing columns, non-polygon features.
    CRSMismatchError
        When the input has no CRS.
    """
    if gdf.crs is None:
        raise CRSMismatchError(
            "boundaries have no coordinate reference system; set one (GeoDataFrame.set_crs) "
            "or pass crs= when reading",
            path=source,
        )
    if code_column is None:
        code_column = next((c for c in _ISO3_CANDIDATES if c in gdf.columns), None)
        if code_column is None:
            raise MapInputError(
                f"no region code column; expected one of {', '.join(_ISO3_CANDIDATES)} or "
                f"code_column= (columns are {', '.join(map(str, gdf.columns))})",
                path=source,
            )
    elif code_column not in gdf.columns:
        raise MapInputError(
            f"no column '{code_column}' (columns are {', '.join(map(str, gdf.columns))})",
            path=source,
        )
    if name_column is None:
        name_column = next((c for c in _NAME_CANDIDATES if c in gdf.columns), None)
    elif name_column not in gdf.columns:
        raise MapInputError(f"no column '{name_column}'", path=source)

    codes = gdf[code_column].astype("string").str.strip()
    placeholder = codes.isna() | codes.isin(["", "-99", "-099", "nan"])
    if placeholder.any():
        names = gdf.loc[placeholder, name_column] if name_column else codes[placeholder]
        logger.warning(
            "%s: dropping %d feature(s) without a code in '%s': %s",
            source or "boundaries",
            int(placeholder.sum()),
            code_column,
            ", ".join(map(str, names.tolist()[:10])),
        )
    keep = ~placeholder.to_numpy()
    out = gpd.GeoDataFrame(
        {
            "region": codes[keep].astype(str).to_numpy(),
            "name": (
                gdf.loc[keep, name_column].astype(str).to_numpy()
                if name_column
                else codes[keep].astype(str).to_numpy()
            ),
        },
        geometry=gdf.geometry[keep].to_numpy(),
        crs=gdf.crs,
    )
    dup = out["region"].duplicated(keep=False)
    if dup.any():
        raise MapInputError(
            f"region codes are not unique: {', '.join(sorted(set(out['region'][dup])))}; "
            "dissolve the features first",
            path=source,
            column=code_column,
        )
    out, repaired = repair_geometries(out, id_column="region", source=source)
    if to_crs is not None:
        out = out.to_crs(to_crs)
    out.attrs["repaired"] = repaired
    return out


def read_vector(path: str | Path, *, what: str, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read a vector file (GeoPackage, GeoJSON, Shapefile...) that must hold geometries.

    The one reader of user vector files in :mod:`ewaste_tracker.maps`: a file GDAL cannot
    open, a table without geometries (a CSV, a spreadsheet) or a layer with no CRS is a
    :class:`MapInputError` naming the file and what it should have been.

    Parameters
    ----------
    path
        The file.
    what
        What the file is for (``"boundaries"``, ``"facilities"``), for the messages.
    layer
        Layer of a multi-layer file.
    """
    path = Path(path)
    if not path.is_file():
        raise MapInputError("file not found" if not path.exists() else "not a file", path=path)
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError
        raise MapInputError(f"cannot read {what}: {exc}", path=path) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise MapInputError(
            f"{what} file has no geometries (expected a GeoPackage, GeoJSON or Shapefile "
            "of points or polygons)", path=path,
        )  # fmt: skip
    return gdf


def regions_from_file(
    path: str | Path,
    *,
    code_column: str | None = None,
    name_column: str | None = None,
    layer: str | int | None = None,
    crs: str | None = None,
    to_crs: str | None = DEFAULT_CRS,
) -> gpd.GeoDataFrame:
    """Read sub-national (or national) boundaries from a GeoPackage, GeoJSON or Shapefile.

    Parameters
    ----------
    path
        The file (any format GDAL reads).
    code_column, name_column, to_crs
        As in :func:`regions_from_frame`.
    layer
        Layer of a multi-layer file (GeoPackage).
    crs
        CRS to assume when the file declares none (e.g. a Shapefile without ``.prj``). It is
        an error to pass one that contradicts the file's own.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region``, ``name``, ``geometry``; see :func:`regions_from_frame`.

    Raises
    ------
    MapInputError
        File missing or unreadable, bad columns or geometries.
    CRSMismatchError
        No CRS in the file and none given, or ``crs`` contradicting the file.
    """
    path = Path(path)
    gdf = read_vector(path, what="boundaries", layer=layer)
    if crs is not None:
        if gdf.crs is not None and gdf.crs != gpd.GeoSeries([], crs=crs).crs:
            raise CRSMismatchError(
                f"file declares {gdf.crs.to_string()} but crs={crs!r} was given", path=path
            )
        gdf = gdf.set_crs(crs, allow_override=True)
    return regions_from_frame(
        gdf, code_column=code_column, name_column=name_column, to_crs=to_crs, source=path
    )


def join_regions(
    table: pd.DataFrame,
    regions: gpd.GeoDataFrame,
    *,
    on: str = "region",
    unknown: Literal["raise", "drop"] = "raise",
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Attach region outlines to every row of a tidy result table.

    Parameters
    ----------
    table
        Tidy table with a region code column (e.g. ``region,year,indicator,value,unit``).
    regions
        Outlines in the form returned by :func:`regions_from_frame`.
    on
        Name of the code column in ``table``.
    unknown
        ``"raise"`` (default) when the table has codes without an outline; ``"drop"`` drops
        those rows with a warning (e.g. ``ROW`` or small states absent from a coarse layer).
    source
        Table name, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The table's rows (order kept) with ``name`` and ``geometry`` of their region, in the
        outlines' CRS.

    Raises
    ------
    MapInputError
        When ``table`` has no column ``on`` or ``regions`` lacks ``region``/``geometry``.
    UnknownRegionError
        Listing the unknown codes and the first rows (header = 1) holding them.
    """
    if on not in table.columns:
        raise MapInputError(
            f"no region column '{on}' (columns are {', '.join(map(str, table.columns))})",
            path=source,
        )
    if "region" not in regions.columns:
        raise MapInputError("outlines have no 'region' column; use regions_from_frame first")
    codes = table[on].astype("string")
    known = codes.isin(regions["region"]).fillna(False).to_numpy(dtype=bool)
    if not known.all():
        bad_codes = codes[~known].fillna("<blank>").unique().tolist()
        if unknown == "raise":
            rows = (np.flatnonzero(~known)[:10] + 2).tolist()
            raise UnknownRegionError(bad_codes, rows=rows, path=source, column=on)
        logger.warning(
            "%s: dropping %d row(s) with region codes not in the outlines: %s",
            source or "table",
            int((~known).sum()),
            ", ".join(map(str, bad_codes[:20])),
        )
    kept = table.loc[known]
    lookup = regions.set_index("region")
    pos = lookup.index.get_indexer(kept[on].astype(str))
    out = kept.copy()
    if "name" not in out.columns:
        out["name"] = lookup["name"].to_numpy()[pos]
    return gpd.GeoDataFrame(out, geometry=lookup.geometry.to_numpy()[pos], crs=regions.crs)


def select_indicator(
    table: pd.DataFrame,
    *,
    indicator: str,
    year: int | None = None,
    region_column: str = "region",
) -> pd.DataFrame:
    """Pick one indicator (and year) from a tidy indicator table, one row per region.

    Parameters
    ----------
    table
        ``region,year,indicator,value,unit`` (optionally ``source``, ``status``).
    indicator
        Indicator to keep.
    year
        Year to keep; when ``None``, the latest year present for that indicator.
    region_column
        Name of the region column.

    Returns
    -------
    pandas.DataFrame
        Rows of that indicator and year.

    Raises
    ------
    MapInputError
        Missing columns, no such indicator or year, or several rows for one region.
    """
    need = {region_column, "year", "indicator", "value", "unit"}
    missing = need - set(table.columns)
    if missing:
        raise MapInputError(f"indicator table lacks column(s) {', '.join(sorted(missing))}")
    rows = table[table["indicator"] == indicator]
    if rows.empty:
        raise MapInputError(
            f"no indicator '{indicator}' (have {', '.join(map(str, table['indicator'].unique()))})",
            column="indicator",
        )
    year = int(rows["year"].max()) if year is None else year
    rows = rows[rows["year"] == year]
    if rows.empty:
        raise MapInputError(f"indicator '{indicator}' has no rows for year {year}", column="year")
    dup = rows[region_column].duplicated(keep=False)
    if dup.any():
        raise MapInputError(
            f"indicator '{indicator}', year {year}: several rows for region(s) "
            f"{', '.join(map(str, rows.loc[dup, region_column].unique()[:10]))}",
            column=region_column,
        )
    return rows.reset_index(drop=True)


def points_to_regions(
    points: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, *, column: str = "region"
) -> gpd.GeoDataFrame:
    """Label points with the region that contains them.

    Parameters
    ----------
    points
        Point features (facilities, mines, grid cells).
    regions
        Outlines from :func:`regions_from_frame`, same CRS.
    column
        Name of the label column added.

    Returns
    -------
    geopandas.GeoDataFrame
        ``points`` with ``column`` (missing where a point lies outside every region).

    Raises
    ------
    CRSMismatchError
        When the CRS differ.
    """
    check_same_crs(points, regions, names=("points", "regions"))
    tree = shapely.STRtree(regions.geometry.to_numpy())
    pt_idx, reg_idx = tree.query(points.geometry.to_numpy(), predicate="intersects")
    # A point on a shared border belongs to the first region listed.
    first = np.full(len(points), -1)
    order = np.argsort(pt_idx, kind="stable")
    uniq, start = np.unique(pt_idx[order], return_index=True)
    first[uniq] = reg_idx[order][start]
    labels = pd.array([None] * len(points), dtype="string")
    inside = first >= 0
    labels[inside] = regions["region"].to_numpy()[first[inside]]
    out = points.copy()
    out[column] = labels
    if not inside.all():
        logger.info("%d point(s) lie outside every region", int((~inside).sum()))
    return out
