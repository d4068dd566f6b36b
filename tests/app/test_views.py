"""The app's tables and figures on a real bundle: the East African example estimate.

Every function here is what a page shows; the tests check what a reader relies on: units on
every number, the gap as target minus rate, classes that mean something, a readable Sankey,
conserved tonnes, sources on every row, and text alternatives that say what the chart says.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ewaste_tracker as et
from ewaste_tracker import catalog
from ewaste_tracker.app.bundle import YEARS, build_bundle
from ewaste_tracker.app.colours import STATUS_COLOURS
from ewaste_tracker.app.figures import country as cfig
from ewaste_tracker.app.figures import panels
from ewaste_tracker.app.figures.core import balance_figure, routes_figure
from ewaste_tracker.app.figures.world import map_text, world_page
from ewaste_tracker.app.views import country as cviews
from ewaste_tracker.app.views import minerals as mviews
from ewaste_tracker.app.views import scenarios as sviews
from ewaste_tracker.app.views import world as wviews
from ewaste_tracker.app.views.core import ViewError, element_routes, year_table
from ewaste_tracker.maps.world import WorldMap

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "ewaste_tracker" / "data" / "examples" / "east_africa"
)


@pytest.fixture(scope="module")
def bundle():
    return build_bundle(et.estimate(inputs=EXAMPLE))


def test_bundle_slices_regions_and_keeps_year_tables(bundle) -> None:
    assert set(bundle.countries) == {"KEN", "RWA", "TZA", "UGA"}
    assert bundle.countries == tuple(sorted(bundle.countries, key=bundle.names.name))
    rows = bundle.region_rows("KEN")
    assert set(rows["region"].astype(str)) == {"KEN"}
    assert len(rows) == (bundle.indicators["region"] == "KEN").sum()
    wide = bundle.year_table(2020)
    assert wide.loc["KEN", "generated_t"] == bundle.estimate.value("KEN", "generated_t", 2020)
    # world element totals are the sums of the countries
    wld = bundle.region_elements("WLD")
    el = bundle.estimate.element_flows
    for col in ("input_t", "lost_t"):
        assert wld[col].sum() == pytest.approx(el[col].sum(), rel=1e-12)
    assert bundle.region_rows("XXX").empty


def test_a_new_bundle_makes_the_world_pages_pieces_when_first_read() -> None:
    fresh = build_bundle(et.estimate(inputs=EXAMPLE))
    assert not fresh.year_tables and fresh.element_totals is None  # ready before these
    assert fresh.footprint_rows is None and fresh.ict_trajectory is None
    wide = fresh.year_table(2020)
    assert list(fresh.year_tables) == [2020] and fresh.year_table(2020) is wide
    fresh.complete()
    modelled = set(fresh.indicators["year"].astype(int))  # the example ends in 2022
    assert set(fresh.year_tables) == modelled & set(range(YEARS[0], YEARS[1] + 1))
    assert fresh.element_totals is not None and fresh.footprint_rows is not None
    assert not fresh.trajectory.empty
    one = fresh.year_tables[2021]
    pd.testing.assert_frame_equal(one, year_table(fresh.indicators, 2021))


def test_world_values_and_gap_follow_the_indicator_table(bundle) -> None:
    wide = bundle.year_table(2020)
    spec = wviews.WORLD_INDICATORS["collection_rate"]
    status = wviews.status_of(bundle.indicators, year=2020, indicator="collection_rate")
    vals = wviews.world_values(wide, spec, countries=bundle.countries, status=status)
    ken = vals.set_index("region").loc["KEN"]
    assert ken["unit"] == "%"
    assert ken["value"] == pytest.approx(
        100 * bundle.estimate.value("KEN", "collection_rate", 2020)
    )
    assert ken["status"] == "input" and ken["source"]
    gap = wviews.gap_values(wide, target=0.65, countries=bundle.countries).set_index("region")
    basis = bundle.estimate.value("KEN", "collection_basis_t", 2020)
    coll = bundle.estimate.value("KEN", "collected_formal_t", 2020)
    assert gap.loc["KEN", "value"] == pytest.approx(100 * (0.65 - coll / basis))
    assert gap.loc["KEN", "gap_t"] == pytest.approx(0.65 * basis - coll)
    lost = wviews.world_values(
        wide, wviews.WORLD_INDICATORS["lost"], countries=["KEN"], elements=["Au", "Cu"], unit="t"
    )
    assert lost["value"].iloc[0] == pytest.approx(
        wide.loc["KEN", "lost_t:Au"] + wide.loc["KEN", "lost_t:Cu"]
    )
    with pytest.raises(ViewError, match="element"):
        wviews.world_values(wide, wviews.WORLD_INDICATORS["lost"], countries=["KEN"])


def test_gap_classes_say_met_in_blue_and_shortfall_in_warm_colours() -> None:
    classes = wviews.gap_classes()
    cls = classes.classify([-10.0, 0.0, 10.0, 64.0])
    assert cls.tolist() == [0, 0, 1, 4]
    assert classes.colours[0] == "#2c7bb6" and classes.labels[0] == "target met"
    rate = wviews.classes_for(wviews.WORLD_INDICATORS["collection_rate"], np.array([1.0]), unit="%")
    assert 45.0 in rate.edges and 65.0 in rate.edges
    assert rate.colours[-1] == "#253494"  # good collection is dark blue, never alarm red


@given(st.lists(st.floats(0, 1e9), min_size=1, max_size=40))
def test_rankings_keep_every_country_in_order(values) -> None:
    frame = pd.DataFrame({"region": [f"R{i}" for i in range(len(values))], "value": values})
    ranked = wviews.ranking(frame, names={}, descending=True)
    assert sorted(ranked["region"]) == sorted(frame["region"])
    assert ranked["value"].is_monotonic_decreasing
    assert ranked["rank"].iloc[0] == 1


def test_world_page_escapes_names_and_loads_only_local_scripts(bundle) -> None:
    outlines = pd.DataFrame({"region": ["KEN", "CIV"]})
    import geopandas as gpd
    import shapely

    geo = gpd.GeoDataFrame(
        outlines, geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)], crs=4326
    )
    values = pd.DataFrame(
        {
            "region": ["KEN", "CIV"],
            "value": [1.0, 2.0],
            "unit": "t",
            "status": "estimated",
            "source": ['<img src=x onerror="alert(1)">', "s"],
        }
    )
    classes = wviews.WORLD_INDICATORS["generated_t"]
    cls = wviews.classes_for(classes, values["value"].to_numpy(), unit="t")
    raw = world_page(
        WorldMap(geo),
        values,
        cls,
        title="E-waste </script>",
        year=2020,
        names={"CIV": "Côte d'Ivoire", "KEN": "Kenya"},
    )
    assert "<" not in raw.split("var data=")[1].split(";")[0]  # JSON cannot open a tag
    html = raw.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    assert "Côte d&#x27;Ivoire" in html and "Côte d'Ivoire" not in html
    assert "<img" not in html and '</script>"' not in html
    assert raw.count("</script>") == 2  # leaflet.js and the map's own script
    assert "https://" not in html and "http://" not in html
    assert "/app/static/vendor/leaflet@1.9.3/dist/leaflet.js" in html
    assert 'aria-label="Map of E-waste &lt;/script&gt; by country, 2020"' in html
    text = map_text(values, cls, names={"CIV": "Côte d'Ivoire"}, title="E-waste", year=2020)
    assert "Highest: Côte d'Ivoire (2 t)" in text and "2 of 2 countries" in text


def test_headline_trend_and_categories_of_a_country(bundle) -> None:
    rows = bundle.region_rows("KEN")
    head = cviews.headline(rows, region="KEN", year=2020).set_index("indicator")
    assert head.loc["generated_t", "value"] == bundle.estimate.value("KEN", "generated_t", 2020)
    assert (head["source"].str.len() > 0).all() and set(head["status"]) == {"input"}
    cats = cviews.categories(bundle.eu6, region="KEN", year=2020)
    assert cats["generated_t"].sum() == pytest.approx(head.loc["generated_t", "value"])
    assert cats["generated_share"].sum() == pytest.approx(1.0)
    assert len(cats) == 6
    trend = cviews.trend(rows, region="KEN", years=(1990, 2022))
    assert set(trend["indicator"]) == set(cviews.TREND_INDICATORS)
    assert trend["year"].between(1990, 2022).all()
    with pytest.raises(ViewError):
        cviews.headline(bundle.region_rows("XXX"), region="XXX", year=2020)


def test_trend_marks_reported_points_and_draws_ranges_when_present() -> None:
    trend = pd.DataFrame(
        {
            "indicator": "pom_t",
            "year": [2019, 2020, 2021],
            "value": [1.0, 2.0, 3.0],
            "unit": "t",
            "status": ["estimated", "reported", "mixed"],
        }
    )
    svg = cfig.trend_figure(trend, title="t", desc="words")
    assert svg.count("<polyline") == 1 and "<polygon" not in svg
    marks = re.findall(r"<title>([^<]*\((?:reported|mixed)\))</title>", svg)
    assert [m.split(":")[0] for m in marks] == ["put on market 2020", "put on market 2021"]
    assert STATUS_COLOURS["reported"] in svg and STATUS_COLOURS["mixed"] in svg
    assert '<desc id="' in svg and ">words</desc>" in svg and 'role="img"' in svg
    ranged = trend.assign(p5=[0.5, 1.5, 2.5], p95=[1.5, 2.5, 3.5])
    svg = cfig.trend_figure(ranged, title="t")
    assert svg.count("<polygon") == 1 and "5-95 % range" in svg
    assert "reported or mixed in 2 years" in cfig.trend_text(trend, title="t", years=(2019, 2021))


def test_an_importing_country_keeps_a_readable_sankey_and_its_tonnes() -> None:
    nodes = [("sysenv", "sysenv"), ("VNM", "use"), ("VNM", "generated"), ("VNM", "export")]
    nodes += [(f"P{i:03d}", "export") for i in range(150)] + [("Q000", "use"), ("Q001", "use")]
    frame = pd.DataFrame(
        {
            "node": range(len(nodes)),
            "region": [n[0] for n in nodes],
            "stage": [n[1] for n in nodes],
            "label": [f"{a} {b}" for a, b in nodes],
        }
    )
    links = [(0, 1, 100.0), (1, 2, 80.0)] + [(4 + i, 1, float(i + 1)) for i in range(150)]
    links += [(3, 154, 5.0), (3, 155, 7.0), (2, 3, 12.0)]
    lk = pd.DataFrame(links, columns=["source", "target", "value_t"])
    groups = {f"P{i:03d}": ("Asia" if i % 2 else "Europe") for i in range(150)}
    new_nodes, new_links = cviews.group_partners(
        frame, lk, region="VNM", names={"P149": "Big"}, groups=groups, top=5
    )
    assert len(new_nodes) <= 4 + 2 * (5 + 2)
    assert new_links["value_t"].sum() == pytest.approx(lk["value_t"].sum())
    labels = set(new_nodes["label"])
    assert "from Big" in labels and "from other countries in Asia" in labels
    svg = cfig.sankey_figure(new_nodes, new_links, title="VNM")
    assert svg.count("<rect") == len(new_nodes)  # every node carries flow here
    assert svg.count("<path") == len(new_links)
    assert "from Big → VNM use: 150 t" in svg  # each band's tooltip has its tonnes
    assert "nodes" not in cfig.sankey_text(new_nodes, new_links, title="VNM")


def test_minerals_where_lost_recoverable_and_mined_instead(bundle) -> None:
    routes = mviews.losses_by_route(
        bundle.region_elements("KEN"), region="KEN", year=2020, element="Au"
    )
    assert list(routes["route"])[:2] == ["formal", "scrap"]
    assert routes["lost_share"].sum() == pytest.approx(1.0)
    lost = bundle.estimate.value("KEN", "lost_t", 2020, "Au")
    exported = bundle.estimate.value("KEN", "exported_t", 2020, "Au")
    home = routes[routes["route"] != "exported"]
    assert home["lost_t"].sum() == pytest.approx(lost)  # the indicator counts losses at home
    shipped = routes.set_index("route").loc["exported"]
    assert shipped["input_t"] == pytest.approx(exported)
    assert shipped["lost_t"] == 0.0  # counted where it is treated, not at home
    rec = mviews.recoverable(
        bundle.region_rows("KEN"),
        region="KEN",
        year=2020,
        element="Au",
        recovery=catalog.recovery(),
        price_usd_per_t=1.0,
    ).set_index("quantity")
    best = rec.loc["recoverable with best-practice formal recycling of all e-waste", "t"]
    gen = rec.loc["in e-waste generated", "t"]
    assert 0 < best <= gen
    assert rec.loc["recoverable gap (best practice - now)", "t"] == pytest.approx(
        best - rec.loc["recovered now", "t"]
    )
    mined = mviews.mined_instead(
        lost, element="Au", mine_shares=catalog.mine_shares(), names=bundle.names.names, top=5
    )
    assert mined["mined_t"].sum() == pytest.approx(lost, rel=1e-3)
    assert len(mined) == 6 and mined["name"].iloc[-1].endswith("other countries")
    fig = panels.route_losses_figure(routes, element="Au", title="Au")
    assert {d.marker.pattern.shape for d in fig.data} == {"", "/"}


def test_element_figures_use_one_colour_per_fate_and_route(bundle) -> None:
    mins = cviews.minerals(
        bundle.region_rows("KEN"), region="KEN", year=2020, elements=["Au", "Cu"]
    )
    svg = balance_figure(mins, unit="USD", title="x")
    fills = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"><title>(\w+), (\w+)', svg)
    assert {(el, what, c) for c, el, what in fills} >= {
        ("Au", "recovered", "#1a9641"), ("Au", "lost", "#d7191c"), ("Cu", "lost", "#d7191c")
    }  # fmt: skip
    routes = element_routes(bundle.region_elements("KEN"), region="KEN", year=2020, elements=["Au"])
    svg = routes_figure(routes, title="x")
    parts = re.findall(r'<g><rect [^>]*fill="(#[0-9a-f]{6})"/>(<rect [^>]*/>)?<title>Au, (\w+): '
                       r"(\w+): ([0-9.]+) %", svg)  # fmt: skip
    colours = {route: c for c, _, route, _, _ in parts}
    assert colours["formal"] == "#1f78b4" and colours["informal"] == "#ff7f00"
    assert all(bool(hatch) == (fate == "lost") for _, hatch, _, fate, _ in parts)
    assert sum(float(p) for *_, p in parts) == pytest.approx(100.0, abs=0.5)


def test_scenario_comparison_lines_up_both_cases(bundle) -> None:
    from ewaste_tracker.scenario import scenario

    choices = sviews.Choices(collection_pct=60, from_year=2015)
    lev = sviews.levers_from_choices(choices)
    assert lev.collection_share == pytest.approx(0.6) and lev.products is None
    scen = scenario(bundle.estimate, lev)
    rows = scen.indicators[(scen.indicators["region"] == "KEN").to_numpy()]
    table = sviews.compare(
        bundle.region_rows("KEN"), rows, region="KEN", year=2020, elements=["Au"]
    ).set_index("indicator")
    assert table.loc["collected_formal_t", "after"] > 10 * table.loc["collected_formal_t", "before"]
    assert table.loc["collected_formal_t", "change"] == pytest.approx(
        table.loc["collected_formal_t", "after"] - table.loc["collected_formal_t", "before"]
    )
    series = sviews.compare_series(
        bundle.region_rows("KEN"), rows, indicators=["generated_t"], years=(2010, 2020)
    )
    assert set(series["case"]) == {"baseline", "scenario"} and len(series) == 22
    assert sviews.levers_text(sviews.Choices()) == [
        "no lever changed: the scenario equals the baseline"
    ]
    fig = panels.scenario_series_figure(series, title="x", from_year=2015)
    assert json.loads(fig.to_json())["layout"]["shapes"][0]["x0"] == 2015


def test_country_footprint_shows_the_range_when_the_estimate_has_bands(bundle) -> None:
    from ewaste_tracker.app.views.core import country_footprint

    fp = bundle.estimate.footprint
    plain = country_footprint(fp, region="KEN", year=2020)
    assert "All products p5" not in plain
    banded = fp.assign(p5=fp["value"] * 0.8, p50=fp["value"], p95=fp["value"] * 1.3)
    table = country_footprint(banded, region="KEN", year=2020)
    assert list(table.columns[1:7]) == ["All products", "ICT", "All products p5",
                                        "All products p95", "ICT p5", "ICT p95"]  # fmt: skip
    np.testing.assert_allclose(table["All products p95"], table["All products"] * 1.3)
    np.testing.assert_allclose(table["ICT p5"], table["ICT"] * 0.8)


def test_provenance_of_the_put_on_market_is_one_row_per_region_and_year() -> None:
    from ewaste_tracker.app.provenance import provenance_from_pom

    pom = pd.DataFrame(
        {
            "region": ["UGA", "KEN", "KEN", "KEN", "UGA", "KEN"],
            "product": ["a", "a", "b", "a", "b", "c"],
            "year": [2020, 2020, 2020, 2021, 2020, 2020],
            "pom_t": 1.0,
            "status": ["estimated", "estimated", "reported", "estimated", "estimated", "x"],
            "source": ["model", "survey", "model", "model", "model", "survey"],
        }
    )
    labelled = pom.assign(  # categorical labels, categories not in sorted order
        region=pd.Categorical(pom["region"], categories=["UGA", "KEN"]),
        status=pd.Categorical(pom["status"]),
        source=pd.Categorical(pom["source"], categories=["survey", "model"]),
    )
    for frame in (pom, labelled):
        got = provenance_from_pom(frame)
        assert got[["region", "year"]].values.tolist() == [
            ["KEN", 2020],
            ["KEN", 2021],
            ["UGA", 2020],
        ]
        assert got["status"].tolist() == ["reported", "estimated", "estimated"]
        assert got["source"].tolist() == ["survey || model", "model", "model"]
