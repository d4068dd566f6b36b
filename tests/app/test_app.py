"""The Streamlit app run headless with AppTest: every page from its link and its main uses.

The page tests run the real all-country default estimate once per test process (the app
keeps it with ``st.cache_resource``, shared by every AppTest in the process; caching on disk
is off in tests). AppTest renders neither plotly charts nor map frames: their protos are
inspected instead (chart specs, the map page's HTML).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from ewaste_tracker.app.state import PAGES

APP = Path(__file__).resolve().parents[2] / "app.py"
DATA = Path(__file__).resolve().parents[1] / "data"
TIMEOUT = 600  # the first run builds the default estimate for every country


def _open(page: str, country: str = "KEN", year: str = "2022", **params: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(page=page, country=country, year=year, **params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _unknown(at, kind: str) -> list:
    """Elements AppTest cannot render (charts, frames), in page order."""
    found = []

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            if type(child).__name__ == "UnknownElement" and child.type == kind:
                found.append(child)
            walk(child)

    walk(at.main)
    return found


def _unjson(text: str) -> str:
    for code, char in (("\\u003c", "<"), ("\\u003e", ">"), ("\\u0026", "&")):
        text = text.replace(code, char)
    return text


def _frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("regions", "sites")])
def test_every_page_opens_from_its_link_and_keeps_the_link(page) -> None:
    at = _open(page, country="DEU", year="2015")
    assert at.radio(key="page").value == page
    assert at.selectbox(key="country").value == "DEU"
    assert at.slider(key="year").value == 2015
    assert dict(at.query_params) == {"page": page, "country": "DEU", "year": "2015"}
    assert at.title[0].value


def test_navigation_and_choices_rewrite_the_link() -> None:
    at = _open("world")
    at.radio(key="page").set_value("country").run()
    assert at.title[0].value == "Kenya (KEN), 2022"
    at.selectbox(key="country").set_value("VNM").run()
    at.slider(key="year").set_value(2010).run()
    assert not at.exception
    assert at.title[0].value == "Viet Nam (VNM), 2010"
    assert dict(at.query_params) == {"page": "country", "country": "VNM", "year": "2010"}


def test_links_find_countries_by_common_name_and_ignore_bad_values() -> None:
    at = _open("country", country="South Sudan", year="1850")
    assert at.title[0].value == "South Sudan (SSD), 2022"
    label = at.selectbox(key="country")
    assert "South Sudan (SSD)" in label.format_func("SSD")
    at = _open("nowhere", country="ZZZ")
    assert at.radio(key="page").value == "world" and at.selectbox(key="country").value == "KEN"


def test_world_page_maps_the_indicator_and_the_gap_with_local_scripts() -> None:
    at = _open("world")
    maps = _unknown(at, "iframe")
    assert len(maps) == 2
    for m in maps:
        html = _unjson(m.proto.srcdoc)
        assert "/app/static/vendor/leaflet@1.9.3/dist/leaflet.js" in html
        assert not re.search(r"(src|href)=\"https?://", html)
        assert "d&#x27;Ivoire" in html and "d'Ivoire" not in html  # escaped name
        assert m.proto.alt.startswith("World map")
    gap = _unjson(maps[1].proto.srcdoc)
    assert "target met" in gap and "Gap to a 65 % collection target" in gap
    ranked, gaps = _frames(at)
    assert {"CHN", "USA", "KEN", "SSD"} <= set(ranked["Code"])
    assert ranked["Value"].str.contains(r"kg/inh$|^n/a$").all() and ranked["Value"].iloc[0] != "n/a"
    known = gaps["Value"][gaps["Value"] != "n/a"]
    assert len(known) > 200 and known.str.endswith(" pp").all()
    assert "South Sudan" in set(ranked["Country / region"])
    assert any("Highest:" in c.value for c in at.caption)


def test_world_page_indicators_and_an_empty_element_list() -> None:
    at = _open("world")
    at.selectbox(key="world_indicator").set_value("lost").run()
    ranked = _frames(at)[0]
    assert ranked["Value"].iloc[0].endswith("USD") and ranked["Rank"].iloc[0] == "1"
    assert "bn USD" in " ".join(ranked["Value"])  # no raw 10118710986 USD
    at.multiselect(key="elements").set_value([]).run()
    assert not at.exception
    assert "element" in at.info[0].value
    assert len(_unknown(at, "iframe")) == 1  # the gap map still shows
    at.slider(key="target").set_value(45).run()
    assert "Gap to a 45 % collection target" in _unjson(_unknown(at, "iframe")[0].proto.srcdoc)


def test_country_profile_is_complete_and_its_sankey_readable() -> None:
    at = _open("country", country="VNM")
    labels = [m.label for m in at.metric]
    assert "E-waste generated per inhabitant" in labels and "Documented formal collection" in labels
    values = {m.label: m.value for m in at.metric}
    assert values["E-waste generated"].endswith(("kt", "Mt"))
    charts = [m.value for m in at.markdown if "<svg" in m.value]
    assert len(charts) == 5 and not _unknown(at, "plotly_chart")  # no plotting library
    assert all(re.search(r'<figure aria-label="[^"]+".*<title id=.*<desc id=', c) for c in charts)
    sankey = next(c for c in charts if "Sankey diagram" in c)
    nodes = re.findall(r"<rect [^>]*><title>([^<:]+):", sankey)
    assert len(nodes) <= 40  # was 155 with every partner
    assert any(lbl.startswith("from other countries") or lbl.startswith("to ") for lbl in nodes)
    minerals, sources = (t.value.reset_index() for t in at.table)
    assert {"Au", "Co", "Cu"} <= set(minerals["Element"])
    assert set(sources["status"]) <= {"estimated", "reported", "mixed", "published"}
    assert sources["source"].str.len().gt(0).all()
    at.toggle(key="show_footprint").set_value(True).run()
    footprint = _frames(at)[0]
    assert "embodied GHG of equipment put on market" in set(footprint["Indicator"])
    assert footprint["All products"].str.contains("CO2e|t|GWh|m3").any()


def test_minerals_page_for_an_element() -> None:
    at = _open("minerals")
    at.selectbox(key="mineral").set_value("Co").run()
    routes, recoverable, ranked = _frames(at)
    assert set(routes["Route"]) <= {"formal", "scrap", "informal", "residual", "exported"}
    assert recoverable["Quantity"].str.contains("best-practice").any()
    assert ranked["Rank"].iloc[0] == "1"
    charts = [json.loads(c.proto.spec) for c in _unknown(at, "plotly_chart")]
    mined = next(c for c in charts if c["data"][0].get("orientation") == "h")["data"][0]["y"]
    assert "Democratic Republic of the Congo" in mined  # most cobalt is mined there
    at.segmented_control(key="mineral_where").set_value("KEN").run()
    assert not at.exception and "Kenya" in at.subheader[0].value


def test_data_page_lists_every_error_of_a_bad_submission() -> None:
    at = _open("data")
    bad = b"country,year,product,indicator,value,unit\nXXX,1800,9999,pom,abc,kg\n"
    at.file_uploader(key="submission_upload").set_value(("bad.csv", bad, "text/csv")).run()
    assert "Nothing was stored" in at.error[0].value
    errors = _frames(at)[0]
    assert {"country", "year", "product", "value"} <= set(errors["column"])
    assert (errors["file"] == "bad.csv").all()
    evil = b"country,year\n"
    at.file_uploader(key="submission_upload").set_value(
        ("![x](http://example.org/x.png).csv", evil, "text/csv")
    ).run()
    assert not at.exception
    assert all("![x](" not in e.value for e in at.error)


def test_data_page_offers_templates_and_downloads_with_context() -> None:
    at = _open("data", country="GHA")
    labels = [b.label for b in at.get("download_button")]
    assert any("Templates for Ghana" in lbl for lbl in labels)
    assert {"CSV", "Excel", "GeoPackage"} <= set(labels)
    at.radio(key="download_table").set_value("world_year").run()
    assert not at.exception
    assert any(
        "rows; columns: region, year, indicator, element, value, unit, status, source" in c.value
        for c in at.caption
    )


@pytest.mark.slow
def test_a_stored_submission_changes_the_estimate_at_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_STORE", str(tmp_path / "store.gpkg"))
    at = _open("data", country="KEN", year="2021")
    good = (DATA / "good" / "KEN_unu_long.csv").read_bytes()
    at.file_uploader(key="submission_upload").set_value(("KEN_unu_long.csv", good, "text/csv"))
    at.text_input(key="submitter").set_value("Ministry of Environment").run()
    assert "The file is valid" in at.info[0].value
    at.button(key="store_submission").click().run()
    assert not at.exception
    assert "Stored" in at.success[0].value
    changed = _frames(at)[0]
    assert {"reported", "mixed"} & set(changed["Status after"])  # the file's values now count
    assert "Put on market" in set(changed["Figure"])
    # the profile shows what `ewaste-tracker run` gives for Kenya with that submission
    import importlib

    import ewaste_tracker as et
    from ewaste_tracker.app.format import quantity

    estimate_module = importlib.import_module("ewaste_tracker.estimate")

    at.radio(key="page").set_value("country").run()
    assert not at.exception and at.title[0].value == "Kenya (KEN), 2021"
    estimate_module._RECENT.clear()  # computed anew, not the app's estimate
    run = et.estimate(countries=["KEN"], store=tmp_path / "store.gpkg")
    shown = {m.label: m.value for m in at.metric}
    for key, label in (("pom_t", "Put on market"), ("generated_t", "E-waste generated")):
        assert shown[label] == quantity(run.value("KEN", key, 2021), "t")
    from ewaste_tracker.app.state import get_bundle

    app_estimate = get_bundle().estimate
    for key in ("pom_t", "generated_t", "collected_formal_t"):
        assert app_estimate.value("KEN", key, 2021) == run.value("KEN", key, 2021)


@pytest.mark.slow
def test_scenarios_run_and_show_before_and_after() -> None:
    at = _open("scenarios")
    assert "Run the scenario" in at.info[0].value
    at.slider(key="lever_collection").set_value(65)
    at.slider(key="lever_lifetime").set_value(20)
    at.slider(key="lever_recovery").set_value(50)
    at.button[0].click().run()
    assert not at.exception
    kenya, world = _frames(at)
    for table in (kenya, world):
        assert list(table.columns) == ["Figure", "Baseline", "Scenario", "Change", "Change (%)"]
    ken = kenya.set_index("Figure")
    assert ken.loc["Documented formal collection", "Change"].startswith("+") or not ken.loc[
        "Documented formal collection", "Change"
    ].startswith("-")
    assert "Lever" not in world.columns and len(_unknown(at, "plotly_chart")) == 1


@pytest.mark.slow
def test_regions_page_grid_and_uploaded_boundaries(tmp_path: Path) -> None:
    at = _open("regions", country="RWA")
    grid = _unknown(at, "iframe")[0]
    assert "/app/static/vendor/leaflet" in grid.proto.srcdoc
    assert not re.search(r"(src|href)=\"https?://", grid.proto.srcdoc)
    data = (DATA / "rwanda_provinces.gpkg").read_bytes()
    at.file_uploader(key="boundaries_upload").set_value(("rwanda.gpkg", data, "application/x"))
    at.run()
    assert not at.exception
    table = _frames(at)[0]
    assert len(table) == 5 and "Kigali City" in set(table["Country / region"])
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("../../evil.shp", b"x")
    at.file_uploader(key="boundaries_upload").set_value(("evil.zip", zipped.getvalue(), "x"))
    at.run()
    assert "refused" in at.error[0].value and "unsafe path" in " ".join(_frames(at)[0]["problem"])


@pytest.mark.slow
def test_sites_page_plans_the_demo_network() -> None:
    at = _open("sites", country="KEN")
    assert "Finland" in " ".join(c.value for c in at.caption)
    at.number_input(key="site_p").set_value(5)
    at.button[0].click().run()
    assert not at.exception
    coverage, sites = _frames(at)
    assert coverage["Sites"].tolist() == ["today's sites", "plan"]
    assert sites["Receives (t/yr)"].str.endswith(("t", "kg")).all()
    assert len(sites) == 5
    m = _unknown(at, "iframe")[0]
    assert "/app/static/vendor/leaflet" in m.proto.srcdoc and m.proto.alt.startswith("Map")
