"""The shipped reference catalogue: completeness, consistency, provenance and lookups."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker import catalog
from ewaste_tracker.catalog import CatalogError
from tests.conftest import REPO

ELEMENTS = (
    "Au", "Ag", "Pd", "Pt", "Cu", "Al", "Fe", "Co", "Li", "Ni", "Sn",
    "Nd", "Pr", "Dy", "Tb", "Ga", "In", "Ta", "Sb", "plastics",
)  # fmt: skip
STAGES = {
    "manufacture", "market", "use", "generated", "collection_formal", "collection_informal",
    "refurbishment", "preprocessing", "endprocessing", "recycling_informal", "residual",
    "export", "recovered", "disposed", "losses",
}  # fmt: skip
INCOME_GROUPS = {"High income", "Upper middle income", "Lower middle income", "Low income"}
ROUTES = {"preprocessing", "endprocessing", "informal", "residual", "export"}
TABLES = sorted(catalog.FILES)
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Tests that point the catalogue elsewhere must not leak cached tables."""
    catalog._load.cache_clear()
    catalog._outlines.cache_clear()
    yield
    catalog._load.cache_clear()
    catalog._outlines.cache_clear()


def _unu_keys() -> set[str]:
    return set(catalog.products()["unu_key"])


def test_products_are_the_54_unu_keys_with_categories_and_weights() -> None:
    p = catalog.products()
    assert len(p) == 54 and p["unu_key"].is_unique
    assert all(len(k) == 4 and k.isdigit() for k in p["unu_key"])
    assert set(p["eu6_category"]) == {"1", "2", "3", "4a", "4b", "5", "6"}
    assert (p["unit_weight_kg"] > 0).all()
    assert p.loc[p["unu_key"] == "0306", "unit_weight_kg"].item() == pytest.approx(0.09)


@pytest.mark.parametrize("profile", ["NL/FR/BE", "IT"])
def test_every_unu_key_has_one_weibull_lifetime_per_profile(profile: str) -> None:
    lt = catalog.lifetimes(profile)
    assert set(lt["product"]) == _unu_keys() and lt["product"].is_unique
    assert (lt["distribution"] == "weibull").all()
    assert (lt["shape"] > 0).all() and (lt["scale"] > 0).all()


def test_default_lifetime_profile_is_nl_fr_be_and_unknown_profile_is_named() -> None:
    assert set(catalog.lifetimes()["profile"]) == {"NL/FR/BE"}
    with pytest.raises(CatalogError, match="'XX'"):
        catalog.lifetimes("XX")


def test_every_unu_key_has_every_element_exactly_once() -> None:
    comp = catalog.composition()
    assert set(comp["element"]) >= set(ELEMENTS)
    counts = comp.groupby(["product", "element"]).size()
    assert (counts == 1).all()
    assert len(comp) == 54 * comp["element"].nunique()
    assert set(comp["product"]) == _unu_keys()


def test_composition_levels_are_ordered_non_negative_and_physically_possible() -> None:
    c = catalog.composition("all")
    lo, mid, hi = (c[f"{k}_g_per_t"] for k in ("low", "central", "high"))
    assert ((lo >= 0) & (lo <= mid) & (mid <= hi)).all()
    assert (c.groupby("product")["central_g_per_t"].sum() <= 1e6).all()
    assert set(c["status"]) <= {"published", "estimate"}


def test_composition_level_selects_one_column() -> None:
    full = catalog.composition("all")
    high = catalog.composition("high")
    assert list(high.columns) == ["product", "element", "g_per_t", "source", "status"]
    np.testing.assert_array_equal(high["g_per_t"], full["high_g_per_t"])
    with pytest.raises(ValueError, match="'median'"):
        catalog.composition("median")


def test_phone_and_pc_gold_are_published_and_in_the_literature_range() -> None:
    comp = catalog.composition().set_index(["product", "element"])
    phone, pc = comp.loc[("0306", "Au")], comp.loc[("0302", "Au")]
    assert phone["status"] == "published" and 150 <= phone["g_per_t"] <= 400
    assert pc["status"] == "published" and 10 <= pc["g_per_t"] <= 60
    # a phone is richer in gold per tonne than a fridge
    assert phone["g_per_t"] > 100 * comp.loc[("0108", "Au"), "g_per_t"]


def test_recovery_has_every_route_and_element_within_0_1() -> None:
    r = catalog.recovery()
    assert set(r["route"]) == ROUTES
    for route in ROUTES:
        assert set(r.loc[r["route"] == route, "element"]) >= set(ELEMENTS)
    lo, mid, hi = r["low"], r["central"], r["high"]
    assert ((lo >= 0) & (lo <= mid) & (mid <= hi) & (hi <= 1)).all()
    pre = r.set_index(["route", "element"])["central"]
    assert pre[("preprocessing", "Au")] == pytest.approx(0.256)  # Chancerel et al. 2009
    assert (r.loc[r["route"] == "residual", "central"] == 0).all()


def test_every_element_has_a_positive_price_per_kg_of_element() -> None:
    p = catalog.prices()
    assert set(ELEMENTS) <= set(p["element"])
    assert (p["usd_per_kg"] > 0).all()
    gold = p[(p["element"] == "Au") & (p["year"] == 2022)]["usd_per_kg"].item()
    assert gold == pytest.approx(1802 * 32.1507, rel=1e-3)  # USD/troy oz to USD/kg
    assert not p["element"].str.contains("O|CO3").any()  # oxides converted to elements


def test_critical_raw_materials_cover_cobalt_gallium_and_rare_earths() -> None:
    c = catalog.crm()
    covered = {el for els in c.loc[c["critical"], "elements"] for el in els.split()}
    assert {"Co", "Ga", "Nd", "Dy", "Ta", "Sb", "Li", "Pd"} <= covered
    assert "Au" not in covered


def test_mine_shares_sum_to_one_per_element() -> None:
    m = catalog.mine_shares()
    assert set(ELEMENTS) - {"plastics"} <= set(m["element"])
    np.testing.assert_allclose(m.groupby("element")["share"].sum(), 1.0, atol=1e-4)
    top = m.sort_values("share").groupby("element").tail(1).set_index("element")["iso3"]
    assert top["Co"] == "COD" and top["Ga"] == "CHN" and top["Pt"] == "ZAF"


def test_transfer_coefficients_sum_to_one_out_of_every_stage() -> None:
    tc = catalog.default_transfer_coefficients()
    assert set(tc["income_group"]) == INCOME_GROUPS
    assert set(tc["from_stage"]) | set(tc["to_stage"]) <= STAGES
    sums = tc.groupby(["income_group", "un_region", "product", "year", "from_stage"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    assert tc["share"].between(0, 1).all()


def test_transfer_coefficients_reproduce_the_monitor_split_given_their_generation() -> None:
    tc = catalog.default_transfer_coefficients()
    gen = tc[tc["from_stage"] == "generated"]
    # shares x each group's generation (written in the source text) give the GEM 2024 parts
    total = {"collection_formal": 0.0, "collection_informal": 0.0, "residual": 0.0}
    for group in ("High income", "Lower middle income"):
        rows = gen[gen["income_group"] == group]
        wg = float(rows["source"].iloc[0].split("WG ")[1].split(" Mt")[0])
        for _, r in rows.iterrows():
            total[r["to_stage"]] += r["share"] * wg
    assert total["collection_formal"] == pytest.approx(13.8, abs=0.2)
    assert total["residual"] == pytest.approx(14.0, abs=0.2)
    assert sum(total.values()) == pytest.approx(61.8, abs=0.2)


@given(
    st.lists(
        st.sampled_from(["DEU", "IND", "NGA", "BRA", "SGP", "MLT", "HTI", "CHN"]),
        min_size=1,
        max_size=5,
        unique=True,
    )
)
def test_transfer_coefficients_expand_to_regions_and_still_sum_to_one(regions: list[str]) -> None:
    tc = catalog.default_transfer_coefficients(regions)
    assert set(tc["region"]) == set(regions)
    sums = tc.groupby(["region", "from_stage"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)


def test_transfer_coefficients_for_an_unknown_region_name_it() -> None:
    with pytest.raises(CatalogError, match="XYZ"):
        catalog.default_transfer_coefficients(["DEU", "XYZ"])


def test_no_orphan_product_or_country_codes() -> None:
    keys, iso = _unu_keys(), set(catalog.countries()["iso3"])
    assert set(catalog.lifetimes(None)["product"]) <= keys
    assert set(catalog.composition()["product"]) <= keys
    tc_products = set(catalog.default_transfer_coefficients()["product"]) - {""}
    assert tc_products <= keys
    assert set(catalog.mine_shares()["iso3"]) <= iso
    assert set(catalog.population_gdp()["region"]) <= iso


def test_countries_cover_small_states_with_codes_regions_and_income_groups() -> None:
    c = catalog.countries()
    assert len(c) >= 200 and c["iso3"].is_unique
    assert c["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert {"SGP", "MLT", "BHR", "HKG", "LUX", "NAM", "XKX"} <= set(c["iso3"])
    assert set(c["income_group"].dropna()) == INCOME_GROUPS
    assert c["un_region"].notna().all()


def test_world_population_is_plausible() -> None:
    assert 7.5e9 <= catalog.countries()["population"].sum() <= 8.2e9
    ts = catalog.population_gdp()
    for year in (2019, 2020):
        assert 7.5e9 <= ts.loc[ts["year"] == year, "population"].sum() <= 8.2e9
    assert 3.4e9 <= ts.loc[ts["year"] == 1970, "population"].sum() <= 4.0e9


def test_population_gdp_is_complete_positive_and_anchored() -> None:
    ts = catalog.population_gdp()
    c = catalog.countries().set_index("iso3")
    assert (
        ts.groupby("region")["year"].agg(["min", "max", "count"]).eq([1970, 2030, 61]).all().all()
    )
    inhabited = ts["region"].map(c["population"]) > 0
    assert (ts.loc[inhabited, "population"] > 0).all()
    anchor = ts[ts["year"] == ts["region"].map(c["pop_year"])].set_index("region")
    np.testing.assert_allclose(anchor["population"], c.loc[anchor.index, "population"], rtol=1e-9)
    assert set(ts["status"]) <= {"published", "interpolated", "derived", "estimate"}


def test_outlines_match_the_country_table() -> None:
    o = catalog.outlines()
    assert o.crs is not None and o.crs.to_epsg() == 4326
    assert set(o["iso3"]) == set(catalog.countries()["iso3"])
    assert o.geometry.is_valid.all() and not o.geometry.is_empty.any()
    sgp = o.loc[o["iso3"] == "SGP"].geometry.item()
    assert sgp.contains(__import__("shapely").Point(103.82, 1.35))  # Singapore island


@pytest.mark.parametrize("table", TABLES)
def test_every_row_has_a_source(table: str) -> None:
    df = catalog._load(table)
    assert df["source"].astype(str).str.strip().ne("").all()


@given(st.integers(min_value=0, max_value=10_000))
def test_source_of_returns_the_source_of_the_selected_row(i: int) -> None:
    comp = catalog.composition("all")
    row = comp.iloc[i % len(comp)]
    assert (
        catalog.source_of("composition", product=row["product"], element=row["element"])
        == row["source"]
    )


def test_source_of_names_what_was_wrong() -> None:
    with pytest.raises(CatalogError, match="nonsense"):
        catalog.source_of("nonsense", iso3="DEU")
    with pytest.raises(ValueError, match="colour"):
        catalog.source_of("countries", colour="red")
    with pytest.raises(CatalogError, match="'9999'"):
        catalog.source_of("composition", product="9999", element="Au")
    assert "Statistics Netherlands" in catalog.source_of("products", unu_key="0306")


def test_tables_are_copies_so_callers_may_modify_them() -> None:
    a = catalog.countries()
    a.loc[:, "population"] = 0
    assert catalog.countries()["population"].sum() > 0


def test_data_folder_comes_from_settings_and_a_missing_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(catalog.data_path("products"), tmp_path / "products.csv")
    monkeypatch.setenv("EWASTE_TRACKER_DATA", str(tmp_path))
    assert len(catalog.products()) == 54
    with pytest.raises(CatalogError, match=r"composition\.csv"):
        catalog.composition()


def test_recovery_table_matches_its_build_script() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import build_reference
    finally:
        sys.path.remove(str(REPO / "scripts"))
    built = build_reference.recovery_table()
    shipped = catalog.recovery()
    pd.testing.assert_frame_equal(
        built[["route", "element", "low", "central", "high"]].reset_index(drop=True),
        shipped[["route", "element", "low", "central", "high"]],
        check_dtype=False,
    )


def test_composition_matches_its_build_script(tmp_path: Path) -> None:
    if not (REFERENCE / "composition_literature.csv").is_file():
        pytest.skip("../shared/reference is not present")
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import build_composition
    finally:
        sys.path.remove(str(REPO / "scripts"))
    built = build_composition.build(REFERENCE, catalog.products())
    shipped = catalog.composition("all")
    cols = ["product", "element", "low_g_per_t", "central_g_per_t", "high_g_per_t", "status"]
    pd.testing.assert_frame_equal(
        built[cols].reset_index(drop=True), shipped[cols], check_dtype=False
    )


def test_every_composition_level_is_physically_possible() -> None:
    # issue 9: the high level summed to more than 1 t per t for 42 of 54 products
    for level in ("low", "central", "high"):
        comp = catalog.composition(level)
        total = comp.groupby("product")["g_per_t"].sum()
        assert (total <= 1e6).all(), (level, total[total > 1e6].index.tolist())
    table = pd.read_csv(catalog.data_path("composition"), dtype={"product": str})
    assert ((table["low_g_per_t"] <= table["central_g_per_t"])
            & (table["central_g_per_t"] <= table["high_g_per_t"])).all()  # fmt: skip
    assert set(table["evidence"]) == {"measured", "derived", "estimated"}
    # laptop copper: the boards alone carry ~2.7 % Cu (PCB share 0.137 x 20 % Cu)
    laptop = table[(table["product"] == "0303") & (table["element"] == "Cu")].iloc[0]
    assert laptop["low_g_per_t"] >= 27_000
