"""The Streamlit page (run headless with AppTest) and the tables and figures behind it.

The page tests run the real all-country default estimate once per test session (the app
caches it with ``st.cache_resource``, shared by every AppTest in the process).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.app import figures, provenance, views

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 180  # the first run builds the default estimate for every country


# ---------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def page():
    """The app after its first run with default choices."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _fresh():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    return at


def _tables(block) -> list[pd.DataFrame]:
    return [c.value for c in block.children.values() if type(c).__name__ == "Dataframe"]


def _unknown(block, kind: str) -> list:
    return [
        c
        for c in block.children.values()
        if type(c).__name__ == "UnknownElement" and c.type == kind
    ]


def test_page_shows_title_tabs_and_sidebar(page):
    assert page.title[0].value.startswith("E-waste tracker")
    assert [t.label for t in page.tabs] == ["Lost critical minerals", "Circularity gaps", "Country"]
    assert page.slider(key="year").value == 2022
    chosen = set(page.multiselect(key="elements").value)
    assert {"Co", "Pd", "Nd", "Dy", "Ga", "Sb", "Li", "Ta", "Au", "Ag", "Cu"} <= chosen
    assert "In" not in chosen  # indium left the EU list in 2023
    assert "Fe" not in chosen and "plastics" not in chosen
    assert page.slider(key="target").value == 65


def test_lost_minerals_tab_ranks_countries_with_units_and_sources(page):
    ranked, by_element, balance = _tables(page.tabs[0])
    assert {"CHN", "USA", "IND", "DEU", "KEN", "BRA"} <= set(ranked["Code"])
    assert ranked["Code"].is_unique and len(ranked) > 200
    assert ranked["Rank"].iloc[0] == 1
    assert ranked["Lost (USD)"].is_monotonic_decreasing
    for col in ("Lost (t)", "Lost (USD)", "Recovered (t)", "Recovered (USD)"):
        assert (ranked[col] >= 0).all()
    assert set(ranked["Status"]) <= {"estimated", "reported"}
    assert ranked["Source"].str.contains("pom_model.csv").all()
    assert by_element["Source"].str.contains("data/prices.csv").any()
    # the world bar chart adds up to the sum over countries (aggregation)
    assert balance["Lost (USD)"].sum() == pytest.approx(ranked["Lost (USD)"].sum(), rel=1e-9)
    assert len(_unknown(page.tabs[0], "plotly_chart")) == 1


def _unjson(text: str) -> str:
    """Undo the \\u escapes JSON embedded in a page uses for <, > and &."""
    for code, char in (("\\u003c", "<"), ("\\u003e", ">"), ("\\u0026", "&")):
        text = text.replace(code, char)
    return text


def _need_assets() -> None:
    from ewaste_tracker.maps.assets import assets_dir

    if assets_dir(required=False) is None:
        pytest.skip("static/vendor map assets are not installed")


def test_maps_load_scripts_locally_and_escape_names(page):
    _need_assets()
    maps = _unknown(page.tabs[0], "component_instance") + _unknown(
        page.tabs[1], "component_instance"
    )
    assert len(maps) == 2
    for m in maps:
        args = json.loads(m.proto.json_args)
        links = [*args["js_links"], *args["css_links"]]
        assert links and all(link.startswith("/app/static/vendor/") for link in links)
        assert "leaflet" in " ".join(links)
        assert not re.search(r"https?://", args["header"] + args["script"])
        script = _unjson(args["script"])
        assert "d&#x27;Ivoire" in script  # Côte d'Ivoire, apostrophe escaped
        assert "d'Ivoire" not in script


def test_circularity_tab_shows_world_and_un_regions(page):
    aggs, ctry = _tables(page.tabs[1])
    assert list(aggs["Code"][:1]) == ["WLD"]
    assert {"Africa", "Americas", "Asia", "Europe", "Oceania"} <= set(aggs["Code"])
    assert {"KEN", "DEU", "CHN"} <= set(ctry["Code"])
    gap = aggs["Target (%)"] - aggs["Collection rate, of POM 3-yr avg (%)"]
    np.testing.assert_allclose(aggs["Gap to target (percentage points)"], gap, atol=0.011)
    mci = pd.concat([aggs, ctry])["MCI (index 0-1)"].dropna()
    assert len(mci) > 200 and mci.between(0, 1).all()


def test_country_tab_has_series_sankey_routes_and_provenance(page):
    tab = page.tabs[2]
    assert "Kenya (KEN)" in tab.subheader[0].value
    charts = _unknown(tab, "plotly_chart")
    assert len(charts) == 3
    sankey = json.loads(charts[1].proto.spec)
    assert sankey["data"][0]["type"] == "sankey"
    labels = set(sankey["data"][0]["node"]["label"])
    assert {"outside the system", "use", "generated", "collection formal"} <= labels
    routes, prov = _tables(tab)
    assert set(routes["Route"]) <= {"formal", "scrap", "informal", "residual", "exported"}
    assert set(prov["Status"]) <= {"estimated", "reported"}
    assert {"put on market", "lifetimes", "transfer coefficients", "composition"} <= set(
        prov["Input"]
    )
    assert prov["Source"].str.contains("data/").all()


def test_widgets_change_the_tables():
    at = _fresh()
    before = _tables(at.tabs[0])[0].set_index("Code")["Lost (USD)"]
    at.slider(key="year").set_value(2010).run()
    assert not at.exception
    after = _tables(at.tabs[0])[0].set_index("Code")["Lost (USD)"]
    assert "2010" in at.tabs[0].subheader[0].value
    assert after["CHN"] != pytest.approx(before["CHN"])
    assert after.sum() < before.sum()  # less e-waste was generated in 2010 than in 2022
    at.slider(key="target").set_value(85)
    at.selectbox(key="country").set_value("DEU")
    at.run()
    assert not at.exception
    aggs = _tables(at.tabs[1])[0]
    assert (aggs["Target (%)"] == 85).all()
    assert "Germany (DEU)" in at.tabs[2].subheader[0].value


# ---------------------------------------------------------------------------- views


def _indicators(rows: list[tuple[str, int, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["region", "year", "indicator", "value"])
    frame["unit"] = np.where(frame["indicator"].str.contains("usd"), "USD", "t")
    return frame


@pytest.fixture
def wide() -> pd.DataFrame:
    rows = []
    data = {
        # region: (lost_t Au, lost_usd Au, rec_t Au, rec_usd Au, lost_t Cu, lost_usd Cu)
        "AAA": (1.0, 5.8e7, 0.5, 2.9e7, 100.0, 8.8e5),
        "BBB": (2.0, 11.6e7, 0.1, 0.58e7, 10.0, 8.8e4),
        "CCC": (0.0, 0.0, 0.0, 0.0, 300.0, 2.64e6),
    }
    for r, (lt, lu, rt, ru, clt, clu) in data.items():
        rows += [
            (r, 2022, "lost_t:Au", lt),
            (r, 2022, "lost_usd:Au", lu),
            (r, 2022, "recovered_t:Au", rt),
            (r, 2022, "recovered_usd:Au", ru),
            (r, 2022, "lost_t:Cu", clt),
            (r, 2022, "lost_usd:Cu", clu),
            (r, 2022, "recovered_t:Cu", 1.0),
            (r, 2022, "recovered_usd:Cu", 8.8e3),
            (r, 2021, "lost_t:Au", 99.0),
        ]
    rows += [
        ("AAA", 2022, "collection_basis_t", 1000.0),
        ("AAA", 2022, "collected_formal_t", 400.0),
        ("AAA", 2022, "collection_rate", 0.5),
        ("BBB", 2022, "collection_basis_t", 200.0),
        ("BBB", 2022, "collected_formal_t", 180.0),
        ("WLD", 2022, "collection_basis_t", 1200.0),
        ("WLD", 2022, "collected_formal_t", 580.0),
    ]
    return views.year_table(_indicators(rows), 2022)


NAMES = {"AAA": "Aland", "BBB": "Bland", "CCC": "<b>Cland</b>", "WLD": "World"}


def test_year_table_pivots_one_year(wide):
    assert list(wide.index) == ["AAA", "BBB", "CCC", "WLD"]
    assert wide.loc["AAA", "lost_t:Au"] == 1.0  # not the 2021 value
    with pytest.raises(views.ViewError, match="year 1950"):
        views.year_table(_indicators([("AAA", 2022, "lost_t:Au", 1.0)]), 1950)


def test_lost_minerals_ranking_and_usd_sums(wide):
    table = views.lost_minerals_table(
        wide, year=2022, elements=["Au", "Cu"], countries=["AAA", "BBB", "CCC"], names=NAMES
    )
    assert table["lost_usd"].is_monotonic_decreasing
    assert table.iloc[0][["region", "element"]].tolist() == ["BBB", "Au"]
    ranked = views.ranked_countries(table)
    assert ranked["region"].tolist() == ["BBB", "AAA", "CCC"]
    assert ranked["rank"].tolist() == [1, 2, 3]
    assert ranked.set_index("region").loc["AAA", "lost_usd"] == pytest.approx(5.8e7 + 8.8e5)
    by_t = views.ranked_countries(table, by="lost_t")
    assert by_t["region"].tolist() == ["CCC", "AAA", "BBB"]
    assert (table["status"] == "estimated").all()
    with pytest.raises(views.ViewError, match="Nd"):
        views.lost_minerals_table(wide, year=2022, elements=["Nd"], countries=["AAA"], names=NAMES)


def test_gap_is_target_minus_rate(wide):
    table = views.circularity_table(
        wide, year=2022, target=0.65, countries=["AAA", "BBB"], aggregates=["WLD"], names=NAMES
    )
    t = table.set_index("region")
    assert table["region"].tolist() == ["WLD", "AAA", "BBB"]  # world first, largest gap next
    assert t.loc["AAA", "collection_rate_on_basis_pct"] == pytest.approx(40.0)
    assert t.loc["AAA", "gap_pct"] == pytest.approx(25.0)
    assert t.loc["AAA", "gap_t"] == pytest.approx(250.0)
    assert t.loc["BBB", "gap_pct"] == pytest.approx(65.0 - 90.0)  # target exceeded
    assert t.loc["WLD", "status"] == "aggregate"
    with pytest.raises(views.ViewError, match="fraction"):
        views.circularity_table(wide, year=2022, target=65, countries=["AAA"], names=NAMES)


@given(
    basis=st.floats(1.0, 1e9),
    share=st.floats(0.0, 2.0),
    target=st.floats(0.0, 1.0),
)
def test_gap_in_tonnes_and_points_agree(basis, share, target):
    collected = share * basis
    rows = [
        ("AAA", 2022, "collection_basis_t", basis),
        ("AAA", 2022, "collected_formal_t", collected),
    ]
    t = views.circularity_table(
        views.year_table(_indicators(rows), 2022),
        year=2022,
        target=target,
        countries=["AAA"],
        names={},
    ).iloc[0]
    assert t["gap_t"] == pytest.approx(t["gap_pct"] / 100 * basis, rel=1e-9, abs=1e-6)
    assert t["gap_t"] + collected == pytest.approx(target * basis, rel=1e-9, abs=1e-6)


@given(
    values=st.lists(st.floats(0, 1e12), min_size=1, max_size=12),
)
def test_ranking_sums_are_preserved(values):
    regions = [f"R{i:02d}" for i in range(len(values))]
    rows = [(r, 2022, f"{q}:Au", v) for r, v in zip(regions, values, strict=True) for q in
            ("lost_t", "lost_usd", "recovered_t", "recovered_usd")]  # fmt: skip
    wide = views.year_table(_indicators(rows), 2022)
    table = views.lost_minerals_table(wide, year=2022, elements=["Au"], countries=regions, names={})
    ranked = views.ranked_countries(table)
    assert ranked["lost_usd"].sum() == pytest.approx(sum(values), rel=1e-12)
    assert ranked["lost_usd"].is_monotonic_decreasing
    assert (np.diff(ranked["rank"]) >= 0).all()


def test_provenance_marks_reported_years():
    pom = pd.DataFrame(
        {
            "region": ["KEN", "KEN", "KEN", "GHA"],
            "product": ["0001", "0002", "0001", "0001"],
            "year": [2020, 2020, 2021, 2020],
            "pom_t": [1.0, 2.0, 3.0, 4.0],
            "status": ["reported", "estimated", "estimated", "estimated"],
            "source": ["KEN submission", "default model", "default model", "default model"],
        }
    )
    prov = provenance.provenance_from_pom(pom).set_index(["region", "year"])
    assert prov.loc[("KEN", 2020), "status"] == "reported"
    assert prov.loc[("KEN", 2020), "source"] == "KEN submission || default model"
    assert prov.loc[("KEN", 2021), "status"] == "estimated"
    assert prov.loc[("GHA", 2020), "source"] == "default model"


def test_country_provenance_splits_reported_and_estimated_years():
    prov = pd.DataFrame(
        {
            "region": ["KEN"] * 4 + ["GHA"],
            "year": [2019, 2020, 2021, 2022, 2020],
            "status": ["estimated", "reported", "reported", "estimated", "reported"],
            "source": ["model", "KEN 2023", "KEN 2023", "model", "GHA"],
        }
    )
    out = provenance.country_provenance(
        prov, region="KEN", years=(2019, 2022), model_sources={"lifetimes": "data/lifetimes.csv"}
    )
    assert out[["input", "status", "first_year", "last_year"]].values.tolist() == [
        ["put on market", "estimated", 2019, 2019],
        ["put on market", "reported", 2020, 2021],
        ["put on market", "estimated", 2022, 2022],
        ["lifetimes", "estimated", 2019, 2022],
    ]
    with pytest.raises(views.ViewError, match="'XXX'"):
        provenance.country_provenance(prov, region="XXX", years=(2019, 2022))


def test_default_elements_are_critical_plus_precious():
    crm = pd.DataFrame(
        {
            "raw_material": ["cobalt", "PGM", "gold", "iron"],
            "elements": ["Co", "Pd Pt", "Au", "Fe"],
            "critical": [True, True, False, False],
        }
    )
    chosen = views.default_elements(("Ag", "Au", "Co", "Fe", "Pd", "plastics"), crm)
    assert chosen == ["Ag", "Au", "Co", "Pd"]


def test_country_series_and_routes():
    ind = _indicators(
        [("KEN", y, i, float(y)) for y in (2000, 2001) for i in ("pom_t", "generated_t", "mci")]
    )
    ind["region"] = ind["region"].astype("category")
    series = views.country_series(ind, region="KEN")
    assert set(series["indicator"]) == {"pom_t", "generated_t"}
    assert series["unit"].eq("t").all()
    with pytest.raises(views.ViewError, match="'XXX'"):
        views.country_series(ind, region="XXX")
    et = pd.DataFrame(
        {
            "region": pd.Categorical(["KEN", "KEN", "GHA"]),
            "year": [2000, 2000, 2000],
            "element": pd.Categorical(["Au", "Cu", "Au"]),
            "route": pd.Categorical(["formal", "informal", "formal"]),
            "input_t": [1.0, 2.0, 3.0],
            "recovered_t": [0.5, 1.0, 1.0],
            "lost_t": [0.5, 1.0, 2.0],
        }
    )
    routes = views.element_routes(et, region="KEN", year=2000, elements=["Au"])
    assert routes[["element", "route", "input_t"]].values.tolist() == [["Au", "formal", 1.0]]
    fig = figures.routes_figure(views.element_routes(et, region="KEN", year=2000,
                                                     elements=["Au", "Cu"]), title="t")  # fmt: skip
    pct = {(b.name, b.x[0]): b.y[0] for b in fig.data}
    assert pct[("formal: recovered", "Au")] == pytest.approx(50.0)


def test_map_and_figures_escape_names(wide):
    _need_assets()
    table = views.lost_minerals_table(
        wide, year=2022, elements=["Au"], countries=["AAA", "CCC"], names=NAMES
    )
    outlines = gpd.GeoDataFrame(
        {"region": ["AAA", "CCC"], "name": ["Aland", "<b>Cland</b>"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)],
        crs=4326,
    )
    layer = figures.choropleth_layer(
        views.ranked_countries(table), outlines, column="lost_usd", unit="USD",
        indicator="lost (USD)", year=2022,
    )  # fmt: skip
    html = _unjson(figures.world_map(layer, name="lost", basemap=outlines).get_root().render())
    assert "&lt;b&gt;Cland&lt;/b&gt;" in html
    assert "<b>Cland</b>" not in html
    assert "/app/static/vendor/leaflet@1.9.3/dist/leaflet.js" in html
    fig = figures.element_bar_figure(
        pd.DataFrame({"element": ["<i>Au</i>"], "recovered_usd": [1.0], "lost_usd": [2.0]}),
        unit="USD",
        title="<script>x</script>",
    )
    assert fig.data[0].x[0] == "&lt;i&gt;Au&lt;/i&gt;"
    assert "<script>" not in fig.layout.title.text
    assert views.display(pd.DataFrame(columns=["lost_usd"])).columns[0] == "Lost (USD)"


def test_sankey_places_stages_in_flow_order():
    nodes = pd.DataFrame(
        {
            "region": ["sysenv", "KEN", "KEN", "KEN", "UGA"],
            "stage": ["sysenv", "market", "use", "recovered", "use"],
            "label": ["sysenv sysenv", "market", "use", "recovered", "UGA use"],
        }
    )
    x, y = figures.sankey_positions(nodes, region="KEN")
    assert x[0] < x[1] < x[2] < x[3] <= x[4]
    assert ((0 < y) & (y < 1)).all()
    links = pd.DataFrame(
        {"source": [0, 1, 2, 2], "target": [1, 2, 4, 0], "value_t": [3.0, 3.0, 1.0, 0.5]}
    )
    fig = figures.sankey_figure(nodes, links, region="KEN", title="KEN")
    sankey = fig.data[0]
    assert sankey.node.label[0] == "outside the system"
    assert list(sankey.link.value) == [3.0, 3.0, 1.0, 0.5]
    # flows into the boundary end at a node of their own at the right, not back at the left
    assert list(sankey.link.target) == [1, 2, 4, 5]
    assert sankey.node.x[5] > sankey.node.x[2]


def test_display_rounds_and_labels_units():
    frame = pd.DataFrame({"lost_usd": [1234.567], "gap_pct": [1.23456], "lost_t": [0.123456]})
    shown = views.display(frame)
    assert shown.columns.tolist() == ["Lost (USD)", "Gap to target (percentage points)", "Lost (t)"]
    assert shown.iloc[0].tolist() == [1235.0, 1.23, 0.123]


def test_region_outlines_are_light_but_keep_small_states():
    big = shapely.Polygon([(x / 10, 40 + ((x * 7) % 3) / 100) for x in range(200)] + [(20, 50)])
    tiny = shapely.box(7.40, 43.72, 7.44, 43.75)  # Monaco-sized
    out = figures.region_outlines(
        gpd.GeoDataFrame({"iso3": ["AAA", "MCO"], "name": ["A", "Monaco"]},
                         geometry=[big, tiny], crs=4326)
    )  # fmt: skip
    assert out.columns.tolist() == ["region", "name", "geometry"]
    assert not out.geometry.is_empty.any()
    assert shapely.get_num_coordinates(out.geometry.iloc[0]) < shapely.get_num_coordinates(big)
    assert out.geometry.iloc[1].intersects(tiny)


def test_country_tab_shows_the_footprint_and_the_ict_trajectory(page):
    tab = page.tabs[2]
    box = tab.expander[0]
    assert "Footprint" in box.label
    table = _tables(box)[0]
    got = table.set_index("Indicator")
    assert {"embodied GHG of equipment put on market", "refrigerants released",
            "mercury released", "ICT operators' energy"} <= set(got.index)  # fmt: skip
    assert (got["ICT"] <= got["All products"] * (1 + 1e-9) + 1e-9).all()
    assert got["Source"].str.len().gt(0).all()
    chart = json.loads(_unknown(box, "plotly_chart")[0].proto.spec)
    assert any("L.1470" in str(d.get("name")) for d in chart["data"])


def test_country_footprint_view_and_trajectory_figure():
    fp = pd.DataFrame({
        "region": "KEN", "year": 2022, "group": ["all", "ict"] * 2,
        "indicator": ["embodied_ghg_t_co2e"] * 2 + ["mercury_released_t"] * 2,
        "value": [10.0, 4.0, 2.0, 0.5], "unit": ["t CO2e"] * 2 + ["t"] * 2,
        "status": "estimated", "source": "data/footprint_factors.csv",
    })  # fmt: skip
    out = views.country_footprint(fp, region="KEN", year=2022)
    assert list(out["All products"]) == [10.0, 2.0] and list(out["ICT"]) == [4.0, 0.5]
    with pytest.raises(views.ViewError):
        views.country_footprint(fp, region="XXX", year=2022)
    tr = pd.DataFrame({"region": "KEN", "year": [2020, 2021], "embodied_t_co2e": [1e6, 1e6],
                       "use_phase_t_co2e": [2e6, 2e6], "operators_t_co2e": [0.0, 0.0],
                       "trajectory_t_co2e": [3e6, 2.865e6]})  # fmt: skip
    fig = figures.trajectory_figure(tr, region="KEN", title="<b>x</b>")
    assert "<b>" not in fig.layout.title.text and len(fig.data) == 4
