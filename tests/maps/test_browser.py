"""A saved map opened in headless Chromium with no network actually draws, and no payload runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import affine
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import ewaste_tracker.maps.assets as assets
from ewaste_tracker.maps.export import save_map
from ewaste_tracker.maps.regions import join_regions, regions_from_file
from ewaste_tracker.maps.render import GridLayer, build_map
from tests.browser import have_chromium, offline_chromium

pytestmark = pytest.mark.browser

NE_LOWRES = (
    Path(pyogrio.__file__).parent
    / "tests"
    / "fixtures"
    / "naturalearth_lowres"
    / "naturalearth_lowres.shp"
)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
# Record any dialog instead of showing it, before the page's own scripts run.
TRAP = """
window.__dialogs = [];
for (const name of ['alert', 'confirm', 'prompt']) {
    window[name] = (...args) => { window.__dialogs.push([name, String(args[0])]); };
}
"""


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not have_chromium():
        pytest.skip("chromium / chromedriver are not installed")
    if assets.assets_dir(required=False) is None:
        pytest.skip("map assets not installed (ewaste_tracker/maps/vendor)")
    drv = offline_chromium(tmp_path_factory.mktemp("chromium-profile"), logs={"browser": "ALL"})
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP})
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def saved_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not NE_LOWRES.is_file():
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    countries = regions_from_file(NE_LOWRES)
    table = pd.DataFrame(
        {
            "region": ["KEN", "UGA", "TZA", "RWA", "BDI"],
            "year": 2022,
            "indicator": "e-waste generated",
            "value": [1.1, 0.9, 0.6, 0.7, 0.4],
            "unit": "kg/inh",
            "source": IMG,
        }
    )
    regions = join_regions(table, countries)
    regions["name"] = [SCRIPT, IMG, SCRIPT, IMG, SCRIPT]
    rng = np.random.default_rng(3)
    n = 700  # above the clustering threshold: needs the map's maxZoom without tiles
    sites = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(n)],
            "name": [IMG] * n,
            "type": "drop_off_container",
            "capacity_t": rng.uniform(10, 100, n),
            "use": rng.uniform(0, 1.5, n),
            "source": SCRIPT,
        },
        geometry=shapely.points(rng.uniform([36.6, -1.4], [37.0, -1.1], (n, 2))),
        crs=4326,
    )
    cells = np.zeros((30, 40))
    cells[10:20, 10:30] = rng.uniform(0, 50, (10, 20))
    grid = GridLayer(cells, affine.Affine(0.1, 0, 33.0, 0, -0.1, 2.0), "EPSG:4326", name="t/cell")
    m = build_map({"generated": regions, "sites": sites}, basemap=countries, grid=grid)
    return save_map(m, tmp_path_factory.mktemp("site") / "map.html")


def _wait(drv: object, script: str, timeout: float = 10.0) -> object:
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = drv.execute_script(script)  # type: ignore[attr-defined]
        if value:
            return value
        time.sleep(0.1)
    return value


def test_saved_map_draws_offline_and_runs_no_payload(driver: object, saved_map: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    drv = driver
    drv.get(saved_map.as_uri())  # type: ignore[attr-defined]
    assert _wait(drv, "return typeof L !== 'undefined' && typeof L.map === 'function'"), (
        "Leaflet did not load from the local copy"
    )
    assert _wait(drv, "return document.querySelectorAll('path.leaflet-interactive').length >= 5")
    panes = drv.execute_script(  # type: ignore[attr-defined]
        "return document.querySelectorAll('.folium-map .leaflet-pane').length"
    )
    assert panes >= 5
    # the basemap draws too (non-interactive country outlines)
    paths = drv.execute_script("return document.querySelectorAll('svg path').length")  # type: ignore[attr-defined]
    assert paths > 150
    assert _wait(drv, "return document.querySelectorAll('.marker-cluster').length > 0"), (
        "marker clusters did not draw"
    )
    assert drv.execute_script(  # type: ignore[attr-defined]
        "var i = document.querySelector('img.leaflet-image-layer');"
        "return i !== null && i.complete && i.naturalWidth > 0"
    ), "the grid overlay did not draw"
    # and it is stacked above the vector layers (Leaflet puts their SVG above plain images)
    assert drv.execute_script(  # type: ignore[attr-defined]
        "var i = document.querySelector('img.leaflet-image-layer');"
        "var o = document.querySelector('.leaflet-overlay-pane');"
        "return Number(getComputedStyle(i.parentNode).zIndex) > Number(getComputedStyle(o).zIndex)"
    ), "the grid overlay is hidden under the vector layers"
    legends = [e.text for e in drv.find_elements(By.CLASS_NAME, "ewt-legend")]  # type: ignore[attr-defined]
    assert any("e-waste generated" in t and "kg/inh" in t for t in legends), legends
    assert any("capacity used" in t for t in legends), legends

    # hover the choropleth polygons so their tooltips (user strings) are written into the page
    shown = []
    for el in drv.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")[:5]:  # type: ignore[attr-defined]
        try:
            ActionChains(drv).move_to_element(el).perform()
        except Exception:  # a path hidden under another cannot be hovered
            continue
        time.sleep(0.2)
        shown += [t.text for t in drv.find_elements(By.CLASS_NAME, "leaflet-tooltip")]  # type: ignore[attr-defined]
    text = "\n".join(shown)
    assert SCRIPT in text or IMG in text, f"no tooltip with the payload as text: {text!r}"
    assert drv.execute_script("return window.__dialogs") == []  # type: ignore[attr-defined]
    assert drv.execute_script("return document.querySelectorAll('img[src=x]').length") == 0  # type: ignore[attr-defined]
    severe = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert severe == [], severe
