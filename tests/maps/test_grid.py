"""Tests for ewaste_tracker.maps.grid and ewaste_tracker.maps.raster_io: zones, downscaling,
aggregation, GeoTIFF, land mask.

Outlines are the real Natural Earth 1:110m countries shipped in pyogrio's test fixtures.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ewaste_tracker.maps.errors import CRSMismatchError
from ewaste_tracker.maps.grid import (
    EmptyZoneError,
    ZoneMismatchError,
    aggregate,
    downscale,
    zones_from_polygons,
)
from ewaste_tracker.maps.population import default_population_grid
from ewaste_tracker.maps.raster_io import (
    GridMismatchError,
    Raster,
    RasterFileError,
    cell_area_km2,
    grid_from_geotiff,
    grid_to_geotiff,
    land_fraction,
    regular_grid,
    reproject_grid,
)

BENELUX_DE = ["BEL", "NLD", "LUX", "DEU"]
EUROPE_BOUNDS = (2.0, 47.0, 16.0, 56.0)


@functools.cache
def natural_earth() -> gpd.GeoDataFrame:
    """Natural Earth 1:110m countries from pyogrio's fixtures, with an ``iso3`` column."""
    import pyogrio

    path = Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres"
    shp = path / "naturalearth_lowres.shp"
    if not shp.is_file():
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    ne = gpd.read_file(shp)
    ne["iso3"] = ne["iso_a3"].where(ne["iso_a3"] != "-99", ne["name"])
    return ne


@functools.cache
def europe() -> tuple[gpd.GeoDataFrame, Raster]:
    """Belgium, Netherlands, Luxembourg, Germany and a 0.25° population grid over them."""
    ne = natural_earth()
    countries = ne[ne["iso3"].isin(BENELUX_DE)].reset_index(drop=True)
    pop = default_population_grid(countries, resolution=0.25, bounds=EUROPE_BOUNDS)
    return countries, pop


@functools.cache
def europe_zones():
    countries, pop = europe()
    return zones_from_polygons(countries, pop, id_column="iso3")


# --- zones ----------------------------------------------------------------------------------------


def test_zones_follow_the_centre_in_rule_and_cover_each_country():
    countries, pop = europe()
    zones = europe_zones()
    assert list(zones.labels) == list(countries["iso3"])
    # Berlin (13.40 E, 52.52 N) is in Germany, the North Sea cell at (3.1 E, 55.9 N) in no zone
    inv = ~pop.transform
    col, row = inv @ (13.40, 52.52)
    assert zones.labels[zones.ids[int(row), int(col)]] == "DEU"
    col, row = inv @ (3.1, 55.9)
    assert zones.ids[int(row), int(col)] == -1
    counts = pd.Series(zones.cell_counts(), index=zones.labels)
    assert counts["DEU"] > counts["NLD"] > counts["LUX"] > 0


def test_rows_sharing_a_label_form_one_zone_and_first_row_wins_on_overlap():
    countries, pop = europe()
    deu = countries[countries["iso3"] == "DEU"]
    doubled = pd.concat([deu.assign(zone="a"), deu.assign(zone="b")], ignore_index=True)
    zones = zones_from_polygons(doubled, pop, id_column="zone")
    counts = dict(zip(zones.labels, zones.cell_counts(), strict=True))
    deu_cells = europe_zones().cell_counts()[list(europe_zones().labels).index("DEU")]
    assert counts["b"] == 0 and counts["a"] == deu_cells
    merged = zones_from_polygons(doubled.assign(zone="x"), pop, id_column="zone")
    assert list(merged.labels) == ["x"]


# --- downscale ------------------------------------------------------------------------------------


def test_downscale_conserves_each_country_total_and_follows_population():
    countries, pop = europe()
    totals = pd.Series({"DEU": 1.6e6, "NLD": 5.0e5, "BEL": 3.0e5, "LUX": 1.5e4})
    grid = downscale(totals, countries, pop, id_column="iso3")
    back = aggregate(grid, countries, id_column="iso3")
    np.testing.assert_allclose(back[totals.index], totals, rtol=1e-9)
    assert back.attrs["uncovered"] == pytest.approx(0.0, abs=1e-6)
    # per-cell e-waste is proportional to population inside a country
    ids = europe_zones().ids
    deu = ids == list(europe_zones().labels).index("DEU")
    ratio = grid.data[deu] / pop.data[deu]
    np.testing.assert_allclose(ratio, 1.6e6 / pop.data[deu].sum(), rtol=1e-9)


def test_downscale_per_category_gives_one_band_per_column():
    _, pop = europe()
    totals = pd.DataFrame(
        {"temperature": [4.0e5, 1.0e5], "screens": [2.0e5, 4.0e4], "small": [5.0e5, 1.2e5]},
        index=["DEU", "NLD"],
    )
    grid = downscale(totals, europe_zones(), pop)
    assert grid.data.shape == (3, *pop.shape)
    assert grid.bands == ("temperature", "screens", "small")
    back = aggregate(grid, europe_zones())
    np.testing.assert_allclose(back.loc[totals.index, totals.columns], totals, rtol=1e-9)
    assert back.loc["BEL"].sum() == 0.0  # no total given: nothing downscaled there
    array = downscale(np.array([1.0, 2.0, 3.0, 4.0]), europe_zones(), pop)
    np.testing.assert_allclose(aggregate(array, europe_zones()), [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ZoneMismatchError, match="one row per zone"):
        downscale(np.ones(3), europe_zones(), pop)


def test_zero_weight_zone_is_spread_uniformly():
    _, pop = europe()
    zones = europe_zones()
    weights = np.where(zones.ids == list(zones.labels).index("BEL"), 0.0, pop.data)
    grid = downscale(pd.Series({"BEL": 300.0}), zones, Raster(weights, pop.transform, pop.crs))
    bel = zones.ids == list(zones.labels).index("BEL")
    np.testing.assert_allclose(grid.data[bel], 300.0 / bel.sum())


def test_zone_without_cells_raises_or_goes_to_its_point():
    ne = natural_earth()
    countries = ne[ne["iso3"].isin(BENELUX_DE)]
    transform, shape = regular_grid((2.0, 46.0, 16.0, 56.0), 2.0)
    flat = Raster(np.ones(shape), transform, "EPSG:4326")
    totals = pd.Series({"DEU": 100.0, "LUX": 7.0})
    with pytest.raises(EmptyZoneError, match="LUX"):
        downscale(totals, countries, flat, id_column="iso3")
    grid = downscale(totals, countries, flat, id_column="iso3", on_empty="point")
    assert grid.data.sum() == pytest.approx(107.0)
    lux = aggregate(grid, countries, id_column="iso3")
    assert lux["LUX"] == 0.0 and lux.attrs["empty_zones"] == ["LUX"]


def test_totals_for_unknown_zones_and_bad_values_are_named():
    countries, pop = europe()
    with pytest.raises(ZoneMismatchError, match="FRA"):
        downscale(pd.Series({"FRA": 1.0}), countries, pop, id_column="iso3")
    with pytest.raises(ZoneMismatchError, match="NLD"):
        downscale(pd.Series({"NLD": np.nan}), countries, pop, id_column="iso3")
    negative = Raster(-pop.data, pop.transform, pop.crs)
    with pytest.raises(ZoneMismatchError, match="non-negative"):
        downscale(pd.Series({"NLD": 1.0}), countries, negative, id_column="iso3")
    with pytest.raises(ZoneMismatchError, match="no column 'ISO'"):
        downscale(pd.Series({"NLD": 1.0}), countries, pop, id_column="ISO")


# --- CRS handling ---------------------------------------------------------------------------------


def test_polygons_in_another_crs_are_reprojected_to_the_grid():
    countries, pop = europe()
    totals = pd.Series({"DEU": 1.0e6, "NLD": 2.0e5})
    laea = countries.to_crs("EPSG:3035")
    grid = downscale(totals, laea, pop, id_column="iso3")
    back = aggregate(grid, laea, id_column="iso3")
    np.testing.assert_allclose(back[totals.index], totals, rtol=1e-9)
    same = downscale(totals, countries, pop, id_column="iso3")
    # straight edges in another CRS move a few border cells at most
    assert np.abs(grid.data - same.data).sum() < 0.02 * totals.sum()


def test_unreconcilable_crs_and_grids_are_errors_naming_both():
    countries, pop = europe()
    no_crs = countries.set_crs(None, allow_override=True)
    with pytest.raises(CRSMismatchError, match=r"no CRS.*EPSG:4326"):
        aggregate(pop, no_crs, id_column="iso3")
    with pytest.raises(CRSMismatchError, match="EPSG:4326"):
        reproject_grid(Raster(pop.data, pop.transform, None), pop.transform, pop.shape, 4326)
    other = Raster(pop.data[:-1], pop.transform, pop.crs)
    with pytest.raises(GridMismatchError, match="zones_from_polygons"):
        aggregate(other, europe_zones())


# --- invariants (Hypothesis) ----------------------------------------------------------------------


def _weights_strategy():
    _, shape = regular_grid(EUROPE_BOUNDS, 0.25)  # the grid of europe(), without building it
    return hnp.arrays(
        np.float64,
        shape,
        elements=st.one_of(st.just(0.0), st.floats(0.0, 1e6, allow_subnormal=False)),
    )


@given(
    weights=_weights_strategy(),
    totals=st.lists(st.floats(0.0, 1e7, allow_subnormal=False), min_size=4, max_size=4),
    k=st.integers(1, 3),
)
def test_downscale_then_aggregate_returns_the_totals(weights, totals, k):
    _, pop = europe()
    zones = europe_zones()
    frame = pd.DataFrame(
        np.outer(totals, np.arange(1, k + 1)), index=zones.labels, columns=list("abc"[:k])
    )
    grid = downscale(frame, zones, Raster(weights, pop.transform, pop.crs))
    assert (grid.data >= 0).all()
    back = aggregate(grid, zones)
    np.testing.assert_allclose(back.to_numpy(), frame.to_numpy(), rtol=1e-9, atol=1e-6)
    assert grid.data.sum() == pytest.approx(frame.to_numpy().sum(), rel=1e-9, abs=1e-6)


@given(values=_weights_strategy())
def test_aggregation_adds_up_and_nests(values):
    _, pop = europe()
    zones = europe_zones()
    grid = Raster(values, pop.transform, pop.crs)
    by_country = aggregate(grid, zones)
    assert by_country.sum() + by_country.attrs["uncovered"] == pytest.approx(
        values.sum(), rel=1e-9, abs=1e-6
    )
    countries = europe()[0]
    benelux = countries.assign(group=np.where(countries["iso3"] == "DEU", "DE", "BNL"))
    by_group = aggregate(grid, benelux, id_column="group")
    assert by_group["BNL"] == pytest.approx(
        by_country[["BEL", "NLD", "LUX"]].sum(), rel=1e-9, abs=1e-6
    )


# --- rasters on disk and other grids --------------------------------------------------------------


def test_geotiff_round_trip_keeps_values_bands_and_georeferencing(tmp_path):
    _, pop = europe()
    totals = pd.DataFrame({"0108": [1.0e5], "0303": [2.0e4]}, index=["NLD"])
    grid = downscale(totals, europe_zones(), pop)
    data = grid.data.copy()
    data[:, 0, 0] = np.nan
    path = grid_to_geotiff(
        data, grid.transform, grid.crs, tmp_path / "ewaste.tif", band_names=grid.bands,
        units="t", dtype="float64",
    )  # fmt: skip
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.units == ("t", "t") and np.isnan(src.nodata)
    back = grid_from_geotiff(path)
    assert back.bands == ("0108", "0303") and back.crs == grid.crs
    assert back.transform.almost_equals(grid.transform)
    np.testing.assert_array_equal(back.data, data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ewaste.tif"]  # no temp file left
    with pytest.raises(RasterFileError, match="does not exist"):
        grid_to_geotiff(data, grid.transform, grid.crs, tmp_path / "no" / "x.tif")
    with pytest.raises(RasterFileError, match="cannot read"):
        grid_from_geotiff(tmp_path / "missing.tif")


def test_user_raster_in_a_projected_crs_aggregates_to_lat_lon_polygons(tmp_path):
    countries, pop = europe()
    # a user raster on a 20 km grid in ETRS89-LAEA, written and read back as a file
    transform = Affine(20_000.0, 0.0, 3_800_000.0, 0.0, -20_000.0, 3_700_000.0)
    shape = (60, 60)
    laea = reproject_grid(pop, transform, shape, "EPSG:3035")
    path = grid_to_geotiff(laea.data, laea.transform, laea.crs, tmp_path / "pop_laea.tif")
    user = grid_from_geotiff(path)
    sums = aggregate(user, countries, id_column="iso3")
    direct = aggregate(pop, countries, id_column="iso3")
    np.testing.assert_allclose(sums["DEU"], direct["DEU"], rtol=0.03)
    assert sums.sum() + sums.attrs["uncovered"] == pytest.approx(np.nansum(user.data))


def test_reproject_counts_keeps_the_total_on_a_coarser_aligned_grid():
    _, pop = europe()
    transform, shape = regular_grid(pop.bounds, 1.0)
    coarse = reproject_grid(pop, transform, shape, pop.crs)
    assert np.nansum(coarse.data) == pytest.approx(pop.data.sum(), rel=1e-9)


def test_cell_areas_add_up_to_the_earth_surface():
    transform, shape = regular_grid((-180, -90, 180, 90), 1.0)
    area = cell_area_km2(transform, shape, "EPSG:4326") * np.ones(shape)
    assert area.sum() == pytest.approx(4 * np.pi * 6371.0088**2, rel=1e-12)
    projected = cell_area_km2(Affine(1000.0, 0, 0, 0, -1000.0, 0), (3, 3), "EPSG:3035")
    assert projected.item() == pytest.approx(1.0)


# --- land mask and the default population grid ----------------------------------------------------


def test_land_fraction_from_shipped_counts_matches_the_package_mask():
    transform, shape = regular_grid((4.0, 50.0, 8.0, 54.0), 5 / 60)
    shipped = land_fraction(transform, shape)
    streamed = land_fraction(transform, shape, shipped=None)
    np.testing.assert_array_equal(shipped, streamed)
    # the North Sea off the Dutch coast is water, inland Germany is land
    inv = ~transform
    col, row = inv @ (4.2, 53.8)
    assert shipped[int(row), int(col)] == 0.0
    col, row = inv @ (7.5, 51.0)
    assert shipped[int(row), int(col)] == 1.0
    with pytest.raises(GridMismatchError, match="30 arc-seconds"):
        land_fraction(Affine(0.01, 0, 0, 0, -0.01, 10), (10, 10))


def test_default_grid_keeps_country_totals_puts_people_on_land_and_in_cities():
    countries, pop = europe()
    back = aggregate(pop, countries, id_column="iso3")
    expected = countries.set_index("iso3")["pop_est"].astype(float)
    np.testing.assert_allclose(back[expected.index], expected, rtol=1e-9)
    land = land_fraction(pop.transform, pop.shape)
    assert pop.data[land == 0].sum() <= 1e-9 * pop.data.sum()
    inv = ~pop.transform
    col, row = inv @ (13.40, 52.52)  # Berlin
    deu = europe_zones().ids == list(europe_zones().labels).index("DEU")
    assert pop.data[int(row), int(col)] > 20 * np.median(pop.data[deu])


def test_default_grid_with_user_cities_and_a_finer_grid():
    countries = europe()[0]
    lux = countries[countries["iso3"] == "LUX"]
    cities = pd.DataFrame({"lon": [6.13], "lat": [49.61], "population": [1.3e5]})
    grid = default_population_grid(
        lux, resolution=1 / 120, bounds=tuple(lux.total_bounds), cities=cities
    )
    assert grid.data.sum() == pytest.approx(float(lux["pop_est"].iloc[0]), rel=1e-9)
    inv = ~grid.transform
    col, row = inv @ (6.13, 49.61)
    assert grid.data[int(row), int(col)] == grid.data.max()
    with pytest.raises(ZoneMismatchError, match="population column 'people'"):
        default_population_grid(lux, pop_column="people")


@pytest.mark.slow
def test_default_grid_resembles_gpw_at_one_degree(shared_data):
    """Validation against CIESIN GPW v4 2020 (1°): the figures reported in data/README.md."""
    gpw_path = shared_data / "gpw_v4_population_count_rev11_2020_1_deg.asc"
    if not gpw_path.is_file():
        pytest.skip("GPW 1° grid is not in ../shared/data")
    gpw = np.nan_to_num(grid_from_geotiff(gpw_path).data)
    grid = default_population_grid(natural_earth(), resolution=1 / 12)
    ours = grid.data.reshape(180, 12, 360, 12).sum(axis=(1, 3))
    populated = (gpw > 0) | (ours > 0)
    r = np.corrcoef(ours[populated], gpw[populated])[0, 1]
    right_cell = np.minimum(ours / ours.sum(), gpw / gpw.sum()).sum()
    assert r > 0.85
    assert right_cell > 0.75
