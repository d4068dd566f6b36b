"""The regions page: a country's e-waste on the population grid and in uploaded boundaries.

:func:`country_grid` spreads the estimate's e-waste generated of one country and year over
its population grid by category (:func:`ewaste_tracker.jobs.map_layers.generated_grid`:
dasymetric, Mennis 2003; the cells sum to the national total of each category);
:func:`boundary_totals` sums the grid into the polygons of an uploaded boundaries file
(:func:`ewaste_tracker.jobs.map_layers.subnational_layer`: cells outside every polygon are
shared out in proportion, so the polygons hold the national total). The cell and polygon
tables carry the year, the unit and the source on every row, ready to download.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ewaste_tracker.jobs.categories import EU6_NAMES
from ewaste_tracker.jobs.map_layers import EU6_BANDS

if TYPE_CHECKING:
    import geopandas as gpd

    from ewaste_tracker.estimate import Estimate
    from ewaste_tracker.jobs.map_layers import GridResult

__all__ = [
    "BAND_LABELS",
    "BAND_NAMES",
    "boundary_totals",
    "cells_table",
    "country_grid",
    "country_outline",
    "regions_table",
]

BAND_NAMES = {band: EU6_NAMES[band.removeprefix("eu6_")] for band in EU6_BANDS}
"""Category name of each grid band."""
BAND_LABELS = {f"{band}_t": name for band, name in BAND_NAMES.items()}
"""Display labels of the ``eu6_<c>_t`` columns."""


def country_outline(iso3: str) -> gpd.GeoDataFrame:
    """The catalogue outline of ``iso3`` as ``region, name, geometry``."""
    from ewaste_tracker import catalog

    outline = catalog.outlines().rename(columns={"iso3": "region"})
    return outline[outline["region"] == iso3].reset_index(drop=True)


def country_grid(est: Estimate, iso3: str, year: int) -> GridResult:
    """The estimate's e-waste generated of ``iso3`` in ``year`` on the population grid."""
    from ewaste_tracker.jobs.map_layers import generated_grid

    return generated_grid(est.result, iso3, int(year), country_outline(iso3))


def cells_table(grid: GridResult, *, iso3: str, year: int) -> gpd.GeoDataFrame:
    """Grid cells with tonnes per category, year, unit and source (points, EPSG:4326)."""
    cells = grid.cells.copy()
    cells.insert(0, "region", iso3)
    cells.insert(1, "year", int(year))
    cells["lon"] = cells.geometry.x
    cells["lat"] = cells.geometry.y
    cells["unit"] = "t"
    cells["source"] = grid.source
    return cells


def boundary_totals(
    grid: GridResult, regions: gpd.GeoDataFrame, *, iso3: str, year: int, source: Path
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The grid summed into uploaded polygons (see the module docstring)."""
    from ewaste_tracker.jobs.map_layers import subnational_layer

    return subnational_layer(grid, regions, country_outline(iso3), int(year), source=source)


def regions_table(layer: pd.DataFrame) -> pd.DataFrame:
    """Polygon totals: ``region, name, year, generated_t, generated_share``, ``eu6_<c>_t`` per
    category (labels: :data:`BAND_LABELS`), ``source``; largest first."""
    total = float(layer["value"].sum())
    out = pd.DataFrame(
        {
            "region": layer["region"].astype(str).to_numpy(),
            "name": layer["name"].astype(str).to_numpy() if "name" in layer else "",
            "year": layer["year"].to_numpy(),
            "generated_t": layer["value"].to_numpy(float),
            "generated_share": layer["value"].to_numpy(float) / total
            if total > 0
            else float("nan"),
            **{f"{b}_t": layer[b].to_numpy(float) for b in EU6_BANDS if b in layer},
            "source": layer["source"].astype(str).to_numpy(),
        }
    )
    return out.sort_values("generated_t", ascending=False).reset_index(drop=True)
