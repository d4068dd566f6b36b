"""The ``map`` command: a country's layers on an offline page, in a GeoPackage and a GeoTIFF."""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputError
from ewaste_tracker.estimate import estimate
from ewaste_tracker.jobs.map import country_map_to_folder
from ewaste_tracker.jobs.map_layers import (
    ARCSEC30,
    EU6_BANDS,
    GridResult,
    grid_resolution,
    mine_layer,
    subnational_layer,
)
from ewaste_tracker.maps.raster_io import Raster
from tests.conftest import TEST_DATA

SCRIPT = "<script>alert(1)</script>"
RWANDA = TEST_DATA / "rwanda_provinces.gpkg"


@pytest.fixture(scope="module")
def no_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module-wide: the default run sees no tracker store (defaults only)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EWASTE_TRACKER_STORE", str(tmp_path_factory.mktemp("store") / "none.gpkg"))
        yield


@pytest.fixture(scope="module")
def ken_map(no_store: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return country_map_to_folder("KEN", tmp_path_factory.mktemp("map") / "ken", year=2022)


def _wg(iso3: str, year: int) -> float:
    return estimate(countries=[iso3]).value(iso3, "generated_t", year)


def test_map_writes_every_file(ken_map: Path) -> None:
    for name in ("map.html", "layers.gpkg", "generated_t.tif", "summary.json"):
        assert (ken_map / name).is_file(), name
    assert any((ken_map / "lib").rglob("*.js"))
    summary = json.loads((ken_map / "summary.json").read_text(encoding="utf-8"))
    assert summary["country"] == "KEN" and summary["year"] == 2022
    assert summary["indicators"]["generated_t"]["unit"] == "t"
    assert "KEN" not in summary["indicators"]["neighbours_shown"]
    assert {"UGA", "TZA"} <= set(summary["indicators"]["neighbours_shown"])


def test_geopackage_lists_the_layers(ken_map: Path) -> None:
    names = {str(n) for n, _ in pyogrio.list_layers(ken_map / "layers.gpkg")}
    assert {
        "country",
        "generated_kg_per_inh",
        "collection_rate",
        "generated_cells",
        "trade",
        "replacement_mining",
    } <= names
    rates = gpd.read_file(ken_map / "layers.gpkg", layer="collection_rate")
    assert set(rates["unit"]) == {"fraction"} and rates["source"].str.len().gt(0).all()


def test_grid_sums_to_the_countrys_e_waste_generated(ken_map: Path) -> None:
    with rasterio.open(ken_map / "generated_t.tif") as src:
        data = src.read().astype(float)
        assert src.descriptions == ("total", *EU6_BANDS)
        assert src.units == ("t",) * len(src.descriptions)
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    assert data[0].sum() == pytest.approx(_wg("KEN", 2022), rel=1e-6)
    # float32 keeps 7 significant digits per cell
    np.testing.assert_allclose(data[1:].sum(axis=0), data[0], rtol=1e-6, atol=1e-9)
    assert (data >= 0).all()
    cells = (data[0] > 0).sum()
    assert 1e4 <= cells <= 1e5


def test_replacement_mining_conserves_the_lost_tonnes(ken_map: Path) -> None:
    summary = json.loads((ken_map / "summary.json").read_text(encoding="utf-8"))[
        "replacement_mining"
    ]
    mined = gpd.read_file(ken_map / "layers.gpkg", layer="replacement_mining")
    per_element = mined.groupby("element")["mined_t"].sum()
    for element, tonnes in per_element.items():
        assert tonnes == pytest.approx(summary["lost_t"][element], rel=1e-9)
    assert "plastics" in summary["elements_without_producer_shares"]


def test_map_page_loads_nothing_from_the_internet(ken_map: Path) -> None:
    page = (ken_map / "map.html").read_text(encoding="utf-8")
    remote = re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']?(?:https?:)?//""", page)
    assert remote == []
    assert "kg/inh" in page and " %" in page  # units in tooltips and legends (rates as %)


def test_subnational_boundaries_hold_the_national_total(no_store: None, tmp_path: Path) -> None:
    out = country_map_to_folder("RWA", tmp_path / "rwa", boundaries=RWANDA)
    provinces = gpd.read_file(out / "layers.gpkg", layer="subnational")
    assert sorted(provinces["region"]) == [f"RW-0{i}" for i in range(1, 6)]
    assert provinces["value"].sum() == pytest.approx(_wg("RWA", 2022), rel=1e-6)
    assert (provinces["value"] > 0).all()
    assert set(provinces["name"]) >= {"Kigali City"} or provinces["name"].str.len().gt(0).all()


def test_facility_names_are_escaped_and_tonnes_conserved(no_store: None, tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "facility_id,name,type,capacity_t,lon,lat\n"
        f'nbo,"{SCRIPT}",recycling_centre,5000,36.8172,-1.2864\n'
        "mba,Mombasa depot,drop_off_container,,39.6682,-4.0435\n"
        "hel,Helsinki (outside Kenya),recycling_centre,100,24.94,60.17\n",
        encoding="utf-8",
    )
    out = country_map_to_folder("KEN", tmp_path / "out", facilities=sites)
    page = (out / "map.html").read_text(encoding="utf-8")
    # what the page's script sees once the JSON string escapes are undone
    seen = page.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
    assert SCRIPT not in seen
    assert html.escape(SCRIPT) in seen
    fac = gpd.read_file(out / "layers.gpkg", layer="facilities")
    assert sorted(fac["facility_id"]) == ["mba", "nbo"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["facilities"]
    wg = _wg("KEN", 2022)
    assert summary["served_t"] + summary["unserved_t"] == pytest.approx(wg, rel=1e-9)
    nbo = fac.set_index("facility_id").loc["nbo"]
    assert nbo["use"] == pytest.approx(nbo["expected_t"] / 5000)
    catch = gpd.read_file(out / "layers.gpkg", layer="catchments")
    assert catch["value"].sum() == pytest.approx(wg, rel=1e-9)


def test_bad_country_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["map", "--country", "XYZ", "--out", str(out)]) == 2
    assert not out.exists()
    assert "--country" in capsys.readouterr().err


def test_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    args = ["map", "--country", "KEN", "--out", str(out), "--boundaries", "nowhere.gpkg"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "nowhere.gpkg" in err and "--boundaries" in err
    assert not out.exists()


def test_year_outside_the_run_is_rejected(no_store: None, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--year"):
        country_map_to_folder("KEN", tmp_path / "out", year=1900)
    assert not (tmp_path / "out").exists()


def test_boundaries_of_another_country_are_rejected(no_store: None, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"rwanda_provinces\.gpkg"):
        country_map_to_folder("KEN", tmp_path / "out", boundaries=RWANDA)
    assert not (tmp_path / "out").exists()


def test_mines_are_kept_for_the_lost_elements_only() -> None:
    mines = gpd.GeoDataFrame(
        {
            "mine": ["A", "B", "C"],
            "commodities": ["Gold, Copper", "Thermal coal", "Leadville tin"],
            "source": "t",
        },
        geometry=shapely.points([[0, 0], [1, 1], [2, 2]]),
        crs="EPSG:4326",
    )
    out, summary = mine_layer(mines, ["Au", "Cu", "Sn"], source=Path("m.csv"))
    assert list(out["mine"]) == ["A", "C"]
    assert list(out["elements"]) == ["Au, Cu", "Sn"]
    assert summary["by_element"] == {"Au": 1, "Cu": 1, "Sn": 1}


@pytest.mark.slow
def test_real_mines_file(no_store: None, shared_data: Path, tmp_path: Path) -> None:
    out = country_map_to_folder("KEN", tmp_path / "out", mines=shared_data / "fineprint_mines.xlsx")
    mines = gpd.read_file(out / "layers.gpkg", layer="mines")
    assert len(mines) > 100
    assert mines["elements"].str.contains("Au").any()


@given(area=st.floats(min_value=1e-3, max_value=2e3))
def test_grid_resolution_keeps_countries_between_1e4_and_1e5_cells(area: float) -> None:
    res = grid_resolution(area)
    steps = res / ARCSEC30
    assert steps >= 1 and abs(steps - round(steps)) < 1e-9
    if area >= 1e4 * ARCSEC30**2 * 1.5**2:  # large enough not to hit the 30″ floor
        assert 1e4 <= area / res**2 <= 1e5


@given(
    cuts=st.lists(st.integers(min_value=1, max_value=19), min_size=1, max_size=5, unique=True),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_subnational_split_conserves_the_total(cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = rng.gamma(0.5, 2.0, size=(6, 10, 20)) * (rng.random((10, 20)) > 0.3)
    raster = Raster(data, Affine(0.1, 0, 0, 0, -0.1, 1.0), "EPSG:4326", EU6_BANDS)
    total = float(data.sum())
    grid = GridResult(raster, gpd.GeoDataFrame(geometry=[], crs=4326), total, "test")
    edges = [0, *sorted(cuts), 20]
    strips = [shapely.box(a / 10, 0, b / 10, 1.0) for a, b in itertools.pairwise(edges)]
    regions = gpd.GeoDataFrame(
        {"region": [f"R{i}" for i in range(len(strips))], "name": "x"},
        geometry=strips,
        crs="EPSG:4326",
    )
    outline = gpd.GeoDataFrame({"region": ["C"]}, geometry=[shapely.box(0, 0, 2, 1)], crs=4326)
    sub, _summary = subnational_layer(grid, regions, outline, 2022, source=Path("b.gpkg"))
    assert sub["value"].sum() == pytest.approx(total, rel=1e-9)
    assert (sub["value"] >= 0).all()
    np.testing.assert_allclose(sub[list(EU6_BANDS)].sum(axis=1), sub["value"], rtol=1e-9)


@pytest.mark.slow  # reprojects a user raster and maps a country
def test_user_population_raster_in_another_crs_keeps_the_total(
    no_store: None, tmp_path: Path
) -> None:
    """A WorldPop-like GeoTIFF in UTM drives the downscaling; the grid keeps RWA's total."""
    import rasterio
    from rasterio.transform import from_origin

    # Rwanda in UTM 35S (EPSG:32735): a 1 km grid with more people in the east
    west, north, size = 780_000.0, 9_900_000.0, 1000.0
    cols, rows = 260, 250
    people = np.tile(np.linspace(10, 400, cols), (rows, 1))
    path = tmp_path / "worldpop_like.tif"
    profile = dict(driver="GTiff", width=cols, height=rows, count=1, dtype="float64",
                   crs="EPSG:32735", transform=from_origin(west, north, size, size),
                   nodata=-99999.0)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(people, 1)
    out = tmp_path / "rwa"
    code = main(["map", "--country", "RWA", "--out", str(out), "--population", str(path)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grid"]["grid_sum_t"] == pytest.approx(_wg("RWA", 2022), rel=1e-6)
    assert "--population" in summary["grid"]["source"]
    with rasterio.open(out / "generated_t.tif") as src:
        assert src.crs.to_epsg() == 32735


def test_unreadable_population_raster_exits_2(no_store: None, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "pop.tif"
    bad.write_text("not a raster")
    out = tmp_path / "o"
    assert main(["map", "--country", "RWA", "--out", str(out), "--population", str(bad)]) == 2
    assert "--population" in capsys.readouterr().err
    assert not out.exists()


def test_footprint_layer_is_per_inhabitant_with_its_parts(ken_map: Path) -> None:
    foot = gpd.read_file(ken_map / "layers.gpkg", layer="footprint")
    ken = foot[foot["region"] == "KEN"].iloc[0]
    parts = ken["embodied_ghg_t_co2e"] + ken["use_phase_ghg_t_co2e"]
    parts += ken["refrigerant_released_t_co2e"]
    assert ken["unit"] == "t CO2e/inh" and 0 < ken["value"] < parts
    summary = json.loads((ken_map / "summary.json").read_text(encoding="utf-8"))
    assert summary["footprint"]["t_co2e_per_inh"] == pytest.approx(ken["value"])
