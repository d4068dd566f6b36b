"""The data page: submission errors as a table, and results downloaded with their context.

A downloaded table keeps what it needs to be read on its own: every row has its region,
year, element and unit columns (nothing is left to a file name or a page heading), and each
file carries an *about* part with the estimate it came from (package version, years,
elements, units, the sources of its values and when it was made):

* CSV: the table itself (one header line, every context column in it), plain numbers;
* Excel: sheet ``data`` and sheet ``about``;
* GeoPackage: a layer ``data`` with the country outlines (for tables with a ``region``
  column) and an attribute table ``about``.

:func:`errors_table` turns :class:`ewaste_tracker.errors.InputErrors` into the rows the page
shows: file (sheet), row, column, value, what was expected and what is wrong, every error.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ewaste_tracker.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "ERROR_COLUMNS",
    "about_table",
    "errors_table",
    "to_csv_bytes",
    "to_excel_bytes",
    "to_geopackage_bytes",
    "warnings_table",
]

ERROR_COLUMNS = ("file", "row", "column", "value", "expected", "problem")
"""Columns of :func:`errors_table`."""


def errors_table(exc: InputError) -> pd.DataFrame:
    """Every error of ``exc`` (an :class:`~ewaste_tracker.errors.InputErrors` or one error).

    Returns
    -------
    pandas.DataFrame
        :data:`ERROR_COLUMNS`, one row per error, values as text.
    """
    items = list(getattr(exc, "errors", None) or [exc])
    return pd.DataFrame(
        {
            "file": [Path(str(e.path)).name if e.path else "" for e in items],
            "row": ["" if e.row is None else str(e.row) for e in items],
            "column": ["" if e.column is None else str(e.column) for e in items],
            "value": ["" if e.value is None else str(e.value) for e in items],
            "expected": ["" if e.expected is None else str(e.expected) for e in items],
            "problem": [str(getattr(e, "reason", e)) for e in items],
        }
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def warnings_table(warnings: Sequence[object]) -> pd.DataFrame:
    """Plausibility warnings of an accepted submission, one row each."""
    return pd.DataFrame(
        {
            "file": [Path(str(getattr(w, "path", "") or "")).name for w in warnings],
            "row": [_text(getattr(w, "row", None)) for w in warnings],
            "column": [str(getattr(w, "column", "") or "") for w in warnings],
            "value": [str(getattr(w, "value", "") or "") for w in warnings],
            "warning": [str(getattr(w, "message", w)) for w in warnings],
        }
    )


def about_table(
    *,
    what: str,
    years: Sequence[int] | str,
    elements: Sequence[str] = (),
    units: Mapping[str, str] | None = None,
    sources: Sequence[str] = (),
    extra: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The context of a downloaded table as ``key, value`` rows."""
    from ewaste_tracker import __version__

    yrs = (
        years
        if isinstance(years, str)
        else (f"{min(years)}-{max(years)}" if len(years) > 1 else str(next(iter(years), "")))
    )
    rows = [
        ("table", what),
        ("made by", f"ewaste-tracker {__version__}"),
        ("made at", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("years", yrs),
        ("elements", " ".join(elements) if elements else "none (totals of equipment)"),
        (
            "units",
            "; ".join(f"{k}: {v}" for k, v in (units or {}).items()) or "see the unit column",
        ),
    ]
    rows += [("source", s) for s in dict.fromkeys(str(s) for s in sources if s)]
    rows += list((extra or {}).items())
    return pd.DataFrame(rows, columns=["key", "value"])


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV (every context column kept in the table)."""
    return frame.to_csv(index=False, float_format="%.10g").encode("utf-8")


def _sheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would read as formulas are prefixed with a quote."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str.match(r"^[=+\-@\t\r]").fillna(False).to_numpy(bool)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


def to_excel_bytes(frame: pd.DataFrame, about: pd.DataFrame) -> bytes:
    """The table (sheet ``data``) and its context (sheet ``about``) as an ``.xlsx``."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        _sheet_safe(frame).to_excel(xl, sheet_name="data", index=False)
        _sheet_safe(about).to_excel(xl, sheet_name="about", index=False)
    return buf.getvalue()


def to_geopackage_bytes(
    frame: pd.DataFrame,
    about: pd.DataFrame,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    geometry: gpd.GeoDataFrame | None = None,
) -> bytes:
    """The table as a GeoPackage: layer ``data`` (with geometry) and table ``about``.

    Parameters
    ----------
    frame
        The table; with ``outlines`` (``region, geometry``) its rows get their region's
        outline, or ``geometry`` is the table itself as a GeoDataFrame.
    about
        :func:`about_table`.
    """
    import geopandas as gpd

    from ewaste_tracker.maps.export import layers_to_geopackage

    if geometry is not None:
        layer = geometry
    elif outlines is not None and "region" in frame.columns:
        geo = outlines[["region", "geometry"]].drop_duplicates("region")
        layer = gpd.GeoDataFrame(
            frame.merge(geo, on="region", how="left"), geometry="geometry", crs=outlines.crs
        )
    else:
        layer = gpd.GeoDataFrame(
            frame, geometry=gpd.GeoSeries([None] * len(frame)), crs="EPSG:4326"
        )
    with tempfile.TemporaryDirectory(prefix="ewt-gpkg-") as tmp:
        path = Path(tmp) / "result.gpkg"
        layers_to_geopackage({"data": layer}, path)
        _add_about(path, about)
        return path.read_bytes()


def _add_about(path: Path, about: pd.DataFrame) -> None:
    """Add ``about`` to a GeoPackage as an attribute table (no geometry)."""
    import pyogrio

    pyogrio.write_dataframe(about, path, layer="about", driver="GPKG", append=False)
