"""Reading and validating siting inputs: demand, candidate sites and cost tables.

Files may be CSV (with ``lon,lat`` columns), GeoJSON or GeoPackage. Every error is a
:class:`SitingInputError` (a ``ValueError``) naming the file, the row as a person counts it
(header = line 1) and the column. Column meanings are in :mod:`ewaste_tracker.maps.siting`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.maps.siting_solvers import SitingError

CONTENT_SUFFIX = "_g_per_t"


class SitingInputError(SitingError):
    """A demand, candidate or cost input that cannot be used.

    Parameters
    ----------
    message
        What is wrong.
    path
        File the data came from (or a description such as ``"demand"``).
    row
        Line a person sees in the file (header = 1), when one row is at fault.
    column
        Column at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path, self.row, self.column = path, row, column
        where = [str(p) for p in (path,) if p is not None]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


# --------------------------------------------------------------------------- reading


def _read_table(path: str | Path) -> tuple[pd.DataFrame, bool]:
    """Read CSV, GeoJSON or GeoPackage; return the frame and whether rows are file lines."""
    from ewaste_tracker.maps.errors import MapInputError
    from ewaste_tracker.maps.regions import read_vector

    path = Path(path)
    if not path.is_file():
        raise SitingInputError("file not found", path=path)
    if path.suffix.lower() in (".csv", ".txt"):
        try:
            return pd.read_csv(path), True
        except pd.errors.EmptyDataError as exc:
            raise SitingInputError("file is empty (expected a header row)", path=path) from exc
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise SitingInputError(f"cannot read CSV ({exc})", path=path) from exc
    try:
        return read_vector(path, what="points"), False
    except MapInputError as exc:
        raise SitingInputError(exc.reason, path=path) from exc


def _as_points(df: pd.DataFrame, path: str | Path, *, required: bool) -> Any:
    """Return a GeoDataFrame in EPSG:4326 (points from lon/lat if there is no geometry)."""
    import geopandas as gpd

    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df:
        if df.crs is None:
            raise SitingInputError("geometry has no CRS", path=path)
        out = df.to_crs("EPSG:4326")
        empty = out.geometry.isna() | out.geometry.is_empty
        if empty.any():
            first = int(np.flatnonzero(empty.to_numpy())[0])
            raise SitingInputError("empty geometry", path=path, row=first + 2, column="geometry")
        return out
    if {"lon", "lat"} <= set(df.columns):
        for col in ("lon", "lat"):
            v = pd.to_numeric(df[col], errors="coerce")
            lim = 180 if col == "lon" else 90
            bad = v.isna() | (v.abs() > lim)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise SitingInputError(
                    f"not a {col} in degrees: {df[col].iloc[i]!r}", path=path, row=i + 2, column=col
                )
        geom = gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float))
        return gpd.GeoDataFrame(df.copy(), geometry=geom, crs="EPSG:4326")
    if required:
        raise SitingInputError("needs a geometry or 'lon' and 'lat' columns", path=path)
    return gpd.GeoDataFrame(df.copy(), geometry=[None] * len(df), crs="EPSG:4326")


def _check_ids(df: pd.DataFrame, col: str, path: str | Path) -> None:
    if col not in df.columns:
        raise SitingInputError("missing column", path=path, column=col)
    blank = df[col].isna()
    if blank.any():
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise SitingInputError("blank id", path=path, row=i + 2, column=col)
    dup = df[col].astype(str).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SitingInputError(
            f"duplicate id {df[col].iloc[i]!r}", path=path, row=i + 2, column=col
        )


def _check_numbers(df: pd.DataFrame, col: str, path: str | Path) -> np.ndarray:
    if col not in df.columns:
        raise SitingInputError("missing column", path=path, column=col)
    v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SitingInputError(
            f"expected a non-negative number, got {df[col].iloc[i]!r}",
            path=path,
            row=i + 2,
            column=col,
        )
    return v


def read_demand(path: str | Path, *, needs_location: bool = True) -> Any:
    """Read demand points or polygons (CSV with ``lon,lat``, GeoJSON or GeoPackage).

    Parameters
    ----------
    path
        File with ``demand_id``, ``weight`` (t/yr) and locations.
    needs_location
        False when a cost table replaces the network (``lon,lat`` then optional).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326; ``demand_id`` as string.

    Raises
    ------
    SitingInputError
        Naming the file, row and column at fault.
    """
    df, _ = _read_table(path)
    return _validate_demand(df, path, needs_location=needs_location)


def _validate_demand(df: pd.DataFrame, path: str | Path, *, needs_location: bool) -> Any:
    if len(df) == 0:
        raise SitingInputError("no demand rows (expected at least one demand point)", path=path)
    _check_ids(df, "demand_id", path)
    _check_numbers(df, "weight", path)
    for col in [c for c in df.columns if c.endswith(CONTENT_SUFFIX)] + (
        ["population"] if "population" in df.columns else []
    ):
        _check_numbers(df, col, path)
    out = _as_points(df, path, required=needs_location)
    out["demand_id"] = out["demand_id"].astype(str)
    out["weight"] = pd.to_numeric(out["weight"]).astype(float)
    return out.reset_index(drop=True)


def read_candidates(
    path: str | Path, *, capacity: str | None = None, needs_location: bool = True
) -> Any:
    """Read candidate sites (CSV with ``candidate_id,lon,lat``, GeoJSON or GeoPackage).

    Parameters
    ----------
    path
        File with ``candidate_id``, locations, optional ``fixed`` and capacity column.
    capacity
        Name of the capacity column (t/yr), which must then be present and non-negative.
    needs_location
        False when a cost table replaces the network.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, ``candidate_id`` as string, ``fixed`` as bool.
    """
    df, _ = _read_table(path)
    return _validate_candidates(df, path, capacity=capacity, needs_location=needs_location)


def _validate_candidates(
    df: pd.DataFrame, path: str | Path, *, capacity: str | None, needs_location: bool
) -> Any:
    _check_ids(df, "candidate_id", path)
    if capacity is not None:
        _check_numbers(df, capacity, path)
    out = _as_points(df, path, required=needs_location)
    out["candidate_id"] = out["candidate_id"].astype(str)
    if "fixed" in out.columns:
        txt = out["fixed"].astype(str).str.strip().str.lower()
        ok = txt.isin(["true", "1", "yes", "false", "0", "no", "", "nan", "none"])
        if not ok.all():
            i = int(np.flatnonzero(~ok.to_numpy())[0])
            raise SitingInputError(
                f"expected true/false, got {out['fixed'].iloc[i]!r}", path=path, row=i + 2,
                column="fixed",
            )  # fmt: skip
        out["fixed"] = txt.isin(["true", "1", "yes"])
    else:
        out["fixed"] = False
    return out.reset_index(drop=True)


def read_costs(path: str | Path) -> pd.DataFrame:
    """Read a ``demand_id,candidate_id,cost`` table (cost in minutes).

    Raises
    ------
    SitingInputError
        For missing columns, blank ids, negative or non-numeric costs, repeated pairs.
    """
    df, _ = _read_table(path)
    return _validate_costs(df, path)


def _validate_costs(df: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    for col in ("demand_id", "candidate_id", "cost"):
        if col not in df.columns:
            raise SitingInputError("missing column", path=path, column=col)
        blank = df[col].isna()
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise SitingInputError("blank value", path=path, row=i + 2, column=col)
    cost = _check_numbers(df, "cost", path)
    out = pd.DataFrame(
        {
            "demand_id": df["demand_id"].astype(str),
            "candidate_id": df["candidate_id"].astype(str),
            "cost": cost,
        }
    )
    dup = out.duplicated(["demand_id", "candidate_id"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SitingInputError("repeated demand_id, candidate_id pair", path=path, row=i + 2)
    return out
