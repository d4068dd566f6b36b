"""Region outlines: reading any format and CRS, repairing, joining tidy tables."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.maps.errors import CRSMismatchError, MapInputError, UnknownRegionError
from ewaste_tracker.maps.regions import (
    check_same_crs,
    join_regions,
    points_to_regions,
    regions_from_file,
    regions_from_frame,
    select_indicator,
)
from tests.maps.conftest import NE_LOWRES

DATA = Path(__file__).resolve().parents[1] / "data"
PROVINCES = DATA / "rwanda_provinces.gpkg"
EQUAL_AREA = "EPSG:6933"


@pytest.fixture(scope="module")
def provinces() -> gpd.GeoDataFrame:
    return regions_from_file(PROVINCES, code_column="code", name_column="province")


def test_natural_earth_countries_get_iso3_codes_and_placeholders_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not NE_LOWRES.is_file():
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    with caplog.at_level(logging.WARNING, logger="ewaste_tracker.maps.regions"):
        gdf = regions_from_file(NE_LOWRES)
    assert list(gdf.columns) == ["region", "name", "geometry"]
    assert gdf.crs == "EPSG:4326"
    assert {"KEN", "UGA", "BRA", "USA"} <= set(gdf["region"])
    assert "-99" not in set(gdf["region"])
    assert "France" in caplog.text  # ISO_A3 is -99 for France in this Natural Earth release
    assert gdf["region"].is_unique
    assert shapely.is_valid(gdf.geometry.to_numpy()).all()


def test_subnational_file_in_utm_is_reprojected_without_losing_area(
    provinces: gpd.GeoDataFrame,
) -> None:
    raw = gpd.read_file(PROVINCES)
    assert raw.crs == "EPSG:32736"
    assert provinces.crs == "EPSG:4326"
    assert sorted(provinces["region"]) == ["RW-01", "RW-02", "RW-03", "RW-04", "RW-05"]
    area_before = raw.to_crs(EQUAL_AREA).area.sum()
    area_after = provinces.to_crs(EQUAL_AREA).area.sum()
    assert area_after == pytest.approx(area_before, rel=1e-4)
    assert provinces.set_index("region").loc["RW-01", "name"] == "Kigali City"


@pytest.mark.parametrize(
    ("suffix", "driver"), [(".geojson", "GeoJSON"), (".shp", "ESRI Shapefile")]
)
def test_geojson_and_shapefile_read_like_the_geopackage(
    tmp_path: Path, provinces: gpd.GeoDataFrame, suffix: str, driver: str
) -> None:
    path = tmp_path / f"provinces{suffix}"
    gpd.read_file(PROVINCES).to_file(path, driver=driver)
    other = regions_from_file(path, code_column="code", name_column="province")
    assert sorted(other["region"]) == sorted(provinces["region"])
    assert other.to_crs(EQUAL_AREA).area.sum() == pytest.approx(
        provinces.to_crs(EQUAL_AREA).area.sum(), rel=1e-4
    )


def test_shapefile_without_crs_needs_one_and_a_contradicting_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    gpd.read_file(PROVINCES).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSMismatchError, match="no coordinate reference system"):
        regions_from_file(path, code_column="code")
    fixed = regions_from_file(path, code_column="code", crs="EPSG:32736")
    assert fixed.crs == "EPSG:4326"
    assert fixed.total_bounds[0] == pytest.approx(28.86, abs=0.05)  # Rwanda's west edge
    with pytest.raises(CRSMismatchError, match="declares"):
        regions_from_file(PROVINCES, code_column="code", crs="EPSG:3857")


def test_invalid_geometry_is_repaired_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    square = shapely.box(3, 0, 4, 1)
    gdf = gpd.GeoDataFrame({"code": ["A1", "B2"]}, geometry=[bowtie, square], crs=4326)
    path = tmp_path / "bad.geojson"
    gdf.to_file(path)
    with caplog.at_level(logging.WARNING, logger="ewaste_tracker.maps.regions"):
        out = regions_from_file(path, code_column="code")
    assert out.attrs["repaired"] == ["A1"]
    assert "A1" in caplog.text
    assert shapely.is_valid(out.geometry.to_numpy()).all()
    # both triangles of the bow-tie are kept (area 2 of the 2x2 box)
    assert out.set_index("region").loc["A1", "geometry"].area == pytest.approx(2.0)


def test_repeated_and_missing_codes_are_named() -> None:
    gdf = gpd.GeoDataFrame(
        {"code": ["X", "X", "Y"]}, geometry=[shapely.box(0, 0, 1, 1)] * 3, crs=4326
    )
    with pytest.raises(MapInputError, match="not unique: X"):
        regions_from_frame(gdf, code_column="code")
    with pytest.raises(MapInputError, match="no column 'iso'"):
        regions_from_frame(gdf, code_column="iso")
    with pytest.raises(MapInputError, match="no region code column"):
        regions_from_frame(gdf.rename(columns={"code": "other"}))
    line = gpd.GeoDataFrame(
        {"code": ["L"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=4326
    )
    with pytest.raises(MapInputError, match="not polygons"):
        regions_from_frame(line, code_column="code")


def test_join_keeps_every_row_and_names_unknown_codes(countries: gpd.GeoDataFrame) -> None:
    table = pd.DataFrame(
        {
            "region": ["KEN", "UGA", "XXK", "KEN", "ROW"],
            "year": [2020, 2020, 2020, 2021, 2021],
            "value": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    with pytest.raises(UnknownRegionError) as info:
        join_regions(table, countries, source="indicators.csv")
    err = info.value
    assert err.codes == ["ROW", "XXK"]
    assert err.rows == [4, 6]  # header is line 1
    assert "indicators.csv" in str(err) and "XXK" in str(err)
    joined = join_regions(table, countries, unknown="drop")
    assert list(joined["region"]) == ["KEN", "UGA", "KEN"]
    assert joined.crs == countries.crs
    assert joined.geometry.iloc[0].equals(joined.geometry.iloc[2])
    assert joined["name"].iloc[1] == "Uganda"


def test_crs_mismatch_is_an_error(provinces: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSMismatchError, match="EPSG:32736"):
        check_same_crs(provinces, provinces.to_crs(32736), names=("a", "b"))
    with pytest.raises(CRSMismatchError, match="no coordinate"):
        check_same_crs(provinces, provinces.set_crs(None, allow_override=True))
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(30.06, -1.95)], crs=4326).to_crs(32736)
    with pytest.raises(CRSMismatchError):
        points_to_regions(pts, provinces)


def test_select_indicator_takes_latest_year_and_refuses_repeats() -> None:
    table = pd.DataFrame(
        {
            "region": ["KEN", "KEN", "UGA", "UGA"],
            "year": [2021, 2022, 2022, 2022],
            "indicator": ["wg_kg_inh", "wg_kg_inh", "wg_kg_inh", "collection_rate"],
            "value": [1.0, 1.2, 0.9, 0.1],
            "unit": ["kg/inh", "kg/inh", "kg/inh", "share"],
        }
    )
    out = select_indicator(table, indicator="wg_kg_inh")
    assert set(out["year"]) == {2022} and len(out) == 2
    with pytest.raises(MapInputError, match="no rows for year 1990"):
        select_indicator(table, indicator="wg_kg_inh", year=1990)
    with pytest.raises(MapInputError, match="several rows for region"):
        select_indicator(pd.concat([table, table]), indicator="collection_rate")


def test_points_fall_in_the_province_that_contains_them(provinces: gpd.GeoDataFrame) -> None:
    pts = gpd.GeoDataFrame(
        {"site": ["Kigali", "Nairobi"]},
        geometry=[shapely.Point(30.0619, -1.9441), shapely.Point(36.82, -1.29)],
        crs=4326,
    )
    out = points_to_regions(pts, provinces)
    assert out["region"].iloc[0] == "RW-01"
    assert pd.isna(out["region"].iloc[1])


@given(
    st.lists(
        st.tuples(
            st.floats(28.8, 31.0), st.floats(-2.9, -1.0), st.floats(0, 1e4, allow_subnormal=False)
        ),
        min_size=1,
        max_size=60,
    )
)
def test_tonnes_summed_by_province_add_up_to_the_total(
    provinces: gpd.GeoDataFrame, pts: list[tuple[float, float, float]]
) -> None:
    arr = np.array(pts)
    gdf = gpd.GeoDataFrame({"t": arr[:, 2]}, geometry=shapely.points(arr[:, :2]), crs=4326)
    out = points_to_regions(gdf, provinces)
    by_region = out.groupby("region", dropna=True)["t"].sum()
    outside = out.loc[out["region"].isna(), "t"].sum()
    assert by_region.sum() + outside == pytest.approx(arr[:, 2].sum(), rel=1e-12, abs=1e-9)
    assert (by_region >= 0).all()


@given(st.lists(st.sampled_from(["RW-01", "RW-02", "RW-03", "RW-04", "RW-05"]), max_size=30))
def test_join_preserves_row_order_and_count(provinces: gpd.GeoDataFrame, codes: list[str]) -> None:
    table = pd.DataFrame({"region": codes, "value": np.arange(len(codes), dtype=float)})
    out = join_regions(table, provinces)
    assert list(out["region"]) == codes
    assert list(out["value"]) == list(table["value"])
    lookup = provinces.set_index("region").geometry
    assert all(g.equals(lookup[c]) for g, c in zip(out.geometry, codes, strict=True))
