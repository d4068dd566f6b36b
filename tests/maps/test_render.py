"""Maps: layers drawn by kind, escaped tooltips, offline pages, GeoPackage output."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import affine
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import ewaste_tracker.maps.assets as assets
from ewaste_tracker.maps.errors import AssetsMissingError, MapInputError, OfflineAssetError
from ewaste_tracker.maps.export import layers_to_geopackage, save_map
from ewaste_tracker.maps.regions import join_regions, regions_from_file
from ewaste_tracker.maps.render import GridLayer, build_map
from tests.browser import offline_chromium

NE_LOWRES = (
    Path(pyogrio.__file__).parent
    / "tests"
    / "fixtures"
    / "naturalearth_lowres"
    / "naturalearth_lowres.shp"
)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def countries() -> gpd.GeoDataFrame:
    if not NE_LOWRES.is_file():
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    return regions_from_file(NE_LOWRES)


@pytest.fixture(scope="module")
def vendor() -> Path:
    folder = assets.assets_dir(required=False)
    if folder is None:
        pytest.skip("map assets not installed (scripts/fetch_map_assets.sh)")
    return folder


def _choropleth(countries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    table = pd.DataFrame(
        {
            "region": ["KEN", "UGA", "TZA", "RWA", "BDI"],
            "year": 2022,
            "indicator": "e-waste generated",
            "value": [1.1, 0.9, np.nan, 0.7, 0.4],
            "unit": "kg/inh",
            "source": IMG,
        }
    )
    out = join_regions(table, countries)
    out.loc[0, "name"] = SCRIPT
    return out


def _facilities(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(n)],
            "name": [SCRIPT if i == 0 else IMG for i in range(n)],
            "type": "drop_off_container",
            "capacity_t": rng.uniform(10, 500, n),
            "source": "test",
            "expected_t": rng.uniform(0, 600, n),
        },
        geometry=shapely.points(rng.uniform([36.6, -1.4], [37.0, -1.1], (n, 2))),
        crs=4326,
    ).assign(use=lambda d: d["expected_t"] / d["capacity_t"])


def _scripts_js(m: folium.Map) -> str:
    return m.get_root().render()


def test_map_has_no_tiles_by_default_and_a_max_zoom(
    countries: gpd.GeoDataFrame, vendor: Path
) -> None:
    m = build_map({"generated": _choropleth(countries)}, basemap=countries)
    assert not any(isinstance(c, folium.TileLayer) for c in m._children.values())
    assert m.options["maxZoom"] == 18
    page = _scripts_js(m)
    assert "L.tileLayer" not in page
    with_tiles = build_map({}, basemap=countries, tiles="OpenStreetMap")
    assert any(isinstance(c, folium.TileLayer) for c in with_tiles._children.values())


def test_layers_are_drawn_by_kind(countries: gpd.GeoDataFrame) -> None:
    lines = gpd.GeoDataFrame(
        {"origin": ["KEN"], "destination": ["UGA"], "year": [2022], "value_t": [12.5]},
        geometry=[shapely.LineString([(37, 0), (32, 1)])],
        crs=4326,
    )
    mines = gpd.GeoDataFrame(
        {"mine": ["Kamoto"], "commodities": ["Copper, Cobalt"]},
        geometry=[shapely.Point(25.4, -10.7)],
        crs=4326,
    )
    m = build_map(
        {
            "generated": _choropleth(countries),
            "trade": lines,
            "sites": _facilities(3),
            "mines": mines,
        },
        basemap=countries,
    )
    page = _scripts_js(m)
    assert "e-waste generated" in page  # legend title
    assert "capacity used" in page  # facility legend
    assert ("KEN → UGA" in page or "KEN \\u2192 UGA" in page) and "12.5" in page
    assert "Kamoto" in page
    # choropleth classes: the missing Tanzania value is grey and in the legend as "no data"
    assert "no data" in page


def test_payloads_reach_the_page_escaped(countries: gpd.GeoDataFrame) -> None:
    m = build_map({"generated": _choropleth(countries), "sites": _facilities(5)}, basemap=countries)
    page = _scripts_js(m)
    assert SCRIPT not in page and IMG not in page
    assert "onerror=alert(1)>" not in page
    # html.escape'd, then JSON-escaped by the template (& -> \u0026)
    escaped = html.escape(SCRIPT).replace("&", "\\u0026")
    assert escaped in page or html.escape(SCRIPT) in page


def test_many_facilities_use_the_fast_cluster(countries: gpd.GeoDataFrame) -> None:
    m = build_map({"sites": _facilities(800)}, basemap=countries)
    clusters = [
        c
        for g in m._children.values()
        for c in getattr(g, "_children", {}).values()
        if isinstance(c, folium.plugins.FastMarkerCluster)
    ]
    assert len(clusters) == 1
    assert len(clusters[0].data) == 800
    assert m.options["maxZoom"] == 18  # marker clusters need it without tiles


def test_grid_overlay_lands_on_the_raster_bounds(countries: gpd.GeoDataFrame) -> None:
    values = np.zeros((20, 30))
    values[5:15, 10:20] = np.arange(100).reshape(10, 10)
    transform = affine.Affine(0.1, 0, 33.0, 0, -0.1, 2.0)  # 3° x 2°, over Kenya/Uganda
    grid = GridLayer(values, transform, "EPSG:4326", name="e-waste per cell", source="GPW v4")
    m = build_map({}, basemap=countries, grid=grid)
    overlays = [c for c in m._children.values() if isinstance(c, folium.raster_layers.ImageOverlay)]
    assert len(overlays) == 1
    (south, west), (north, east) = overlays[0].bounds
    assert west == pytest.approx(33.0, abs=0.11) and east == pytest.approx(36.0, abs=0.11)
    assert south == pytest.approx(0.0, abs=0.11) and north == pytest.approx(2.0, abs=0.11)
    assert overlays[0].url.startswith("data:image/png;base64,")
    assert "GPW v4" in _scripts_js(m)


def test_saved_map_loads_nothing_from_the_internet(
    countries: gpd.GeoDataFrame, vendor: Path, tmp_path: Path
) -> None:
    m = build_map({"generated": _choropleth(countries), "sites": _facilities(600)})
    path = save_map(m, tmp_path / "out" / "map.html")
    page = path.read_text(encoding="utf-8")
    assert assets.remote_references(page) == []
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", page)
    refs = re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"([^\"]+)\"", page)
    assert any("leaflet.js" in r for r in refs)
    assert any("leaflet.markercluster.js" in r for r in refs)
    for ref in refs:
        assert (path.parent / ref).is_file(), ref
    assert (path.parent / "lib" / "leaflet@1.9.3" / "dist" / "images" / "layers.png").is_file()
    assert not list(path.parent.glob(".map.html.*"))  # no temporary file left


def test_offline_save_refuses_unknown_remote_scripts(
    countries: gpd.GeoDataFrame, vendor: Path, tmp_path: Path
) -> None:
    m = build_map({}, basemap=countries)
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/x.js"), name="x")
    with pytest.raises(OfflineAssetError, match=r"example\.org/x\.js"):
        save_map(m, tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()


def test_localise_html_rewrites_known_cdns_and_drops_unused_css(vendor: Path) -> None:
    page = (
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js">'
        "</script>"
        '<link rel="stylesheet" href="https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/'
        'bootstrap-glyphicons.css"/>'
        '<a href="https://www.naturalearthdata.com">Natural Earth</a>'
    )
    out, used = assets.localise_html(page, base_url="/app/static/vendor")
    assert used == ["leaflet@1.9.3/dist/leaflet.js", "jquery@3.7.1/dist/jquery.min.js"]
    assert 'src="/app/static/vendor/leaflet@1.9.3/dist/leaflet.js"' in out
    assert "glyphicons" not in out and "bootstrap" not in out
    assert "https://www.naturalearthdata.com" in out  # hyperlinks are not resources
    assert assets.remote_references(out) == []
    assert assets.remote_references("<style>@import 'https://x.org/a.css';</style>")
    assert assets.remote_references('<div style="background:url(//x.org/a.png)">')


def test_streamlit_links_are_instance_level_and_leave_folium_untouched(
    countries: gpd.GeoDataFrame, vendor: Path
) -> None:
    class_js = list(folium.Map.default_js)
    m = build_map({"sites": _facilities(600)}, basemap=countries)
    assets.use_local_assets(m)
    assert all(url.startswith("/app/static/vendor/") for _, url in m.default_js)
    assert folium.Map.default_js == class_js  # shared by every Streamlit session
    cluster = next(
        c
        for g in m._children.values()
        for c in getattr(g, "_children", {}).values()
        if isinstance(c, folium.plugins.FastMarkerCluster)
    )
    assert all(url.startswith("/app/static/vendor/") for _, url in cluster.default_js)
    assert assets.remote_references(m.get_root().render()) == []


def test_missing_assets_say_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(assets.ASSETS_ENV, str(tmp_path / "none"))
    assert assets.assets_dir(required=False) is None
    with pytest.raises(AssetsMissingError, match="vendor_map_assets"):
        assets.assets_dir()


def test_the_package_ships_its_map_assets_with_their_licences() -> None:
    vendor_dir = assets.VENDOR
    assert (vendor_dir / "leaflet@1.9.3" / "dist" / "leaflet.js").is_file()
    for folder in ("leaflet@1.9.3", "jquery@3.7.1", "leaflet.markercluster@1.1.0"):
        assert any(p.name.upper().startswith(("LICENSE", "MIT")) for p in
                   (vendor_dir / folder).iterdir()), folder  # fmt: skip


# -- GeoPackage output ---------------------------------------------------------------------


def test_all_layers_go_into_one_geopackage(countries: gpd.GeoDataFrame, tmp_path: Path) -> None:
    layers = {
        "generated": _choropleth(countries),
        "sites": _facilities(4),
        "empty_mines": gpd.GeoDataFrame({"mine": []}, geometry=[], crs=4326),
    }
    path = layers_to_geopackage(layers, tmp_path / "layers.gpkg")
    names = [n for n, _ in pyogrio.list_layers(path)]
    assert names == ["generated", "sites", "empty_mines"]
    back = gpd.read_file(path, layer="generated")
    assert back["name"].iloc[0] == SCRIPT  # data are stored as given, escaped only on maps
    assert list(back["region"]) == ["KEN", "UGA", "TZA", "RWA", "BDI"]
    assert list(tmp_path.iterdir()) == [path]


def test_failed_write_keeps_the_previous_file(
    countries: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = layers_to_geopackage({"generated": _choropleth(countries)}, tmp_path / "layers.gpkg")
    before = path.read_bytes()
    real_to_file = gpd.GeoDataFrame.to_file

    def crash_on_second(self: gpd.GeoDataFrame, filename: Path, **kwargs: object) -> None:
        if kwargs.get("layer") == "broken":
            raise OSError("disk full")
        real_to_file(self, filename, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", crash_on_second)
    with pytest.raises(OSError, match="disk full"):
        layers_to_geopackage({"ok": _facilities(2), "broken": _facilities(2)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(MapInputError, match="layer names"):
        layers_to_geopackage({"1st layer": _facilities(1)}, path)
    with pytest.raises(MapInputError, match="with a CRS"):
        layers_to_geopackage({"nocrs": _facilities(1).set_crs(None, allow_override=True)}, path)


@settings(max_examples=10)
@given(
    st.lists(
        st.tuples(
            st.floats(-179, 179),
            st.floats(-85, 85),
            st.floats(0, 1e9, allow_subnormal=False),
            st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_geopackage_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list) -> None:
    folder = tmp_path_factory.mktemp("rt")
    gdf = gpd.GeoDataFrame(
        {"value_t": [r[2] for r in rows], "name": [r[3] for r in rows]},
        geometry=shapely.points([[r[0], r[1]] for r in rows]),
        crs=4326,
    )
    path = layers_to_geopackage({"pts": gdf}, folder / "x.gpkg")
    back = gpd.read_file(path, layer="pts")
    assert np.array_equal(back["value_t"].to_numpy(), gdf["value_t"].to_numpy())
    assert back["name"].fillna("").tolist() == gdf["name"].tolist()
    assert shapely.equals_exact(back.geometry.to_numpy(), gdf.geometry.to_numpy(), 0).all()


def test_layer_without_crs_is_refused_by_the_map(countries: gpd.GeoDataFrame) -> None:
    bad = _facilities(2).set_crs(None, allow_override=True)
    with pytest.raises(MapInputError, match="sites"):
        build_map({"sites": bad}, basemap=countries)


def test_empty_layers_are_skipped_and_logged(
    countries: gpd.GeoDataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    empty = gpd.GeoDataFrame({"value": []}, geometry=[], crs=4326)
    with caplog.at_level(logging.INFO, logger="ewaste_tracker.maps.render"):
        build_map({"nothing": empty}, basemap=countries)
    assert "nothing is empty" in caplog.text


# -- what shows at first, where the map opens, how numbers read ---------------------------


def _lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"origin": ["KEN", "KEN"], "destination": ["CHN", "UGA"], "year": 2022},
        geometry=[shapely.LineString([(37, 0), (116, 40)]), shapely.LineString([(37, 0), (32, 1)])],
        crs=4326,
    ).assign(value_t=[1234.5, 0.5])


def _fit(m: folium.Map) -> list[list[float]]:
    fits = [c for c in m._children.values() if isinstance(c, folium.map.FitBounds)]
    assert len(fits) == 1
    return fits[0].bounds


def _text(m: folium.Map) -> str:
    """The page with JSON ``\\uXXXX`` escapes read back (what the browser shows)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g[1], 16)), _scripts_js(m))


def _grid() -> GridLayer:
    values = np.zeros((20, 30))
    values[5:15, 10:20] = np.geomspace(1e-3, 5e3, 100).reshape(10, 10)
    return GridLayer(values, affine.Affine(0.1, 0, 33.0, 0, -0.1, 2.0), "EPSG:4326", name="cells")


def test_hidden_layers_start_off_and_their_legends_follow_them(
    countries: gpd.GeoDataFrame,
) -> None:
    layers = {"generated": _choropleth(countries), "rate": _choropleth(countries)}
    m = build_map(layers, basemap=countries, grid=_grid(), hidden=["rate", "cells"])
    shown = {c.layer_name: c.show for c in m._children.values() if hasattr(c, "show")}
    assert shown["generated"] and not shown["rate"] and not shown["cells"]
    page = _scripts_js(m)
    # one legend per layer, each waiting on its own layer's events
    assert page.count("L.control({position:") == 3
    assert page.count("map.on('overlayadd'") == 3 and page.count("map.on('overlayremove'") == 3
    for layer in ("generated", "rate", "cells"):
        assert f'var name = "{layer}";' in page
    control = next(c for c in m._children.values() if isinstance(c, folium.LayerControl))
    assert {"generated", "rate", "cells"} <= set(control.overlays)  # all can be switched on


def test_map_opens_on_the_given_bounds_or_on_what_is_shown(
    countries: gpd.GeoDataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    layers = {"generated": _choropleth(countries), "trade": _lines()}
    east_africa = (28.8, -11.8, 41.9, 5.0)
    m = build_map(layers, basemap=countries, bounds=east_africa)
    assert _fit(m) == [[-11.8, 28.8], [5.0, 41.9]]
    # without bounds: the layers shown at first, not the hidden world-wide trade lines
    (_, west), (north, east) = _fit(build_map(layers, basemap=countries, hidden=["trade"]))
    assert west > 28 and east < 42 and north < 6
    (_, _), (north, east) = _fit(build_map(layers, basemap=countries))
    assert north == pytest.approx(40) and east == pytest.approx(116)
    with caplog.at_level(logging.WARNING, logger="ewaste_tracker.maps.render"):
        build_map(layers, basemap=countries, hidden=["tarde"])
    assert "tarde" in caplog.text
    for bad in [(40, 0, 30, 5), (0, 0, 1), (0, float("nan"), 1, 1)]:
        with pytest.raises(MapInputError, match="bounds"):
            build_map(layers, basemap=countries, bounds=bad)


def test_legends_and_tooltips_write_human_units(countries: gpd.GeoDataFrame) -> None:
    usd = _choropleth(countries).assign(value=[1.355e6, 39_512.0, 122e6, 44.0, np.nan], unit="USD")
    sites = _facilities(3).assign(capacity_t=[250.0, 12_500.0, 80.0], use=[0.5, 1.25, np.nan])
    m = build_map(
        {"value lost": usd, "trade": _lines(), "sites": sites}, basemap=countries, grid=_grid()
    )
    page = _text(m)
    assert not re.search(r"\d\.\d+e[+-]\d\d", page), "scientific notation"
    assert "44 USD – " in page and "122 M USD" in page  # legend classes
    assert "1.36 M USD" in page  # tooltip
    assert "mass: 1.23 kt" in page and "mass: 500 kg" in page  # flow tooltips
    assert "capacity: 12.5 kt/yr" in page and "capacity used: 125 %" in page
    assert re.search(r"[\d.]+ – [\d.]+ kg<", page), "grid classes in kg"
    assert "year: 2022<" in page


def test_a_map_without_fit_still_shows_its_legend(countries: gpd.GeoDataFrame) -> None:
    # the app removes the fit for a fixed world view; a map with a legend still renders then
    m = build_map({"lost": _choropleth(countries)}, basemap=countries)
    key = next(k for k, c in m._children.items() if isinstance(c, folium.map.FitBounds))
    del m._children[key]
    page = _scripts_js(m)
    assert "fitBounds" not in page and "ewt-legend" in page


@pytest.mark.browser
def test_legend_shows_only_while_its_layer_is_on_in_the_browser(
    countries: gpd.GeoDataFrame, vendor: Path, tmp_path: Path
) -> None:
    layers = {"generated": _choropleth(countries), "rate <b>x</b>": _choropleth(countries)}
    m = build_map(layers, basemap=countries, grid=_grid(), hidden=["rate <b>x</b>", "cells"])
    page = save_map(m, tmp_path / "site" / "map.html")
    drv = offline_chromium(tmp_path / "profile")
    try:
        drv.get(page.as_uri())
        legends = (
            "return Array.from(document.querySelectorAll('.ewt-legend b'), b => b.textContent)"
        )
        toggle = (
            "var l = Array.from("
            "document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            ".find(l => l.textContent.trim() === arguments[0]);"
            "l.querySelector('input').click(); return l.querySelector('input').checked"
        )
        assert drv.execute_script(legends) == ["generated"]
        assert drv.execute_script(toggle, "rate <b>x</b>") is True
        assert sorted(drv.execute_script(legends)) == ["generated", "rate <b>x</b>"]
        assert drv.execute_script(toggle, "generated") is False
        assert drv.execute_script(toggle, "cells") is True
        assert sorted(drv.execute_script(legends)) == ["cells", "rate <b>x</b>"]
        assert drv.execute_script(toggle, "cells") is False
        assert drv.execute_script(legends) == ["rate <b>x</b>"]
        # compact, in one corner, clear of the layer control at the top right
        rect = "e => e.getBoundingClientRect().toJSON()"
        boxes = drv.execute_script(
            f"return Array.from(document.querySelectorAll('.ewt-legend'), {rect})"
        )
        control = drv.execute_script(
            f"return [document.querySelector('.leaflet-control-layers')].map({rect})[0]"
        )
        assert all(b["width"] <= 262 for b in boxes), boxes
        assert all(b["top"] >= control["bottom"] for b in boxes), (boxes, control)
    finally:
        drv.quit()
