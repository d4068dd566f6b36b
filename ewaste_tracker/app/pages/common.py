"""Cached pieces several pages share: year tables, statuses, world outlines, downloads.

Every cache is keyed on the store's identity (``ctx.store``) besides its own arguments, so a
new submission never shows stale numbers, and holds read-only objects
(``st.cache_resource``: shared, never copied).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import streamlit as st

from ewaste_tracker import catalog
from ewaste_tracker.app import format as fmt
from ewaste_tracker.app import state
from ewaste_tracker.app.views import data as data_views
from ewaste_tracker.app.views.world import status_of
from ewaste_tracker.maps.world import WorldMap

__all__ = ["downloads", "outlines", "statuses", "world_template", "year_table"]


@st.cache_resource(show_spinner=False, max_entries=48)
def year_table(store: tuple, year: int) -> pd.DataFrame:
    """Indicators of one year, a row per region (read-only)."""
    return state.get_bundle().year_table(int(year))


@st.cache_resource(show_spinner=False, max_entries=96)
def statuses(store: tuple, year: int, indicator: str) -> pd.DataFrame:
    """Status and source per region of one indicator and year (read-only)."""
    return status_of(state.get_bundle().indicators, year=int(year), indicator=indicator)


@st.cache_resource(show_spinner=False)
def outlines() -> gpd.GeoDataFrame:
    """Country outlines ``region, name, geometry``, simplified for pages (read-only)."""
    from ewaste_tracker.app.bundle import NOT_MAPPED
    from ewaste_tracker.app.figures.core import region_outlines

    shapes = catalog.outlines()
    return region_outlines(shapes[~shapes["iso3"].isin(NOT_MAPPED)].reset_index(drop=True))


@st.cache_resource(show_spinner=False)
def world_template() -> WorldMap:
    """The world's outlines as GeoJSON, made once per process."""
    return WorldMap(outlines())


def downloads(
    frame: pd.DataFrame,
    *,
    name: str,
    what: str,
    years: Sequence[int] | str,
    elements: Sequence[str] = (),
    units: dict[str, str] | None = None,
    sources: Sequence[str] = (),
    key: str,
    geo: gpd.GeoDataFrame | None = None,
    with_outlines: bool = True,
) -> None:
    """CSV, Excel and GeoPackage buttons for ``frame`` with its context (made on click)."""
    about = data_views.about_table(
        what=what, years=years, elements=elements, units=units, sources=sources
    )
    cols = st.columns(3)
    with cols[0]:
        state.download(
            "CSV",
            lambda: data_views.to_csv_bytes(frame),
            f"{name}.csv",
            state.MIME["csv"],
            key=f"{key}_csv",
        )
    with cols[1]:
        state.download(
            "Excel",
            lambda: data_views.to_excel_bytes(frame, about),
            f"{name}.xlsx",
            state.MIME["xlsx"],
            key=f"{key}_xlsx",
        )

    def gpkg() -> bytes:  # the outlines are simplified only when a GeoPackage is asked for
        shapes = outlines() if with_outlines and geo is None else None
        return data_views.to_geopackage_bytes(frame, about, geometry=geo, outlines=shapes)

    with cols[2]:
        state.download("GeoPackage", gpkg, f"{name}.gpkg", state.MIME["gpkg"], key=f"{key}_gpkg")


def readable(frame: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    """:func:`ewaste_tracker.app.format.table` (numbers with units, labels)."""
    return fmt.table(frame, **kwargs)  # type: ignore[arg-type]
