"""Shared fixtures of the maps tests: small real data from installed packages."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from ewaste_tracker.maps.regions import regions_from_file

#: Natural Earth 1:110m countries shipped with pyogrio's own test fixtures (public domain).
NE_LOWRES = (
    Path(pyogrio.__file__).parent
    / "tests"
    / "fixtures"
    / "naturalearth_lowres"
    / "naturalearth_lowres.shp"
)


@pytest.fixture(scope="session")
def countries() -> gpd.GeoDataFrame:
    """Real country outlines as the regions layer (``region, name, geometry``)."""
    if not NE_LOWRES.is_file():
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    return regions_from_file(NE_LOWRES)
