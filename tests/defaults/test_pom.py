"""Tests of the default put-on-market model, its calibration and the default fates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker import catalog
from ewaste_tracker.defaults.calibration import TARGETS, model_figures
from ewaste_tracker.defaults.fates import default_transfer_coefficients, formal_rate_history
from ewaste_tracker.defaults.pom import (
    DefaultsError,
    PomModel,
    ProductShares,
    default_pom,
    default_run,
    pom_array,
)
from ewaste_tracker.estimate import estimate

# GEM 2020 country figures for 2019 recalled by this project (not transcribed): loose bounds.
RECALLED_2019_KG = {
    "CHN": 7.2,
    "USA": 21.0,
    "IND": 2.4,
    "JPN": 20.4,
    "DEU": 19.4,
    "NOR": 26.0,
    "AUS": 21.7,
    "NGA": 2.3,
    "BRA": 10.2,
}


@pytest.fixture(scope="module")
def run():
    return default_run()


@pytest.fixture(scope="module")
def figures(run):
    values = model_figures(run.pom, run.wg, run)
    return TARGETS.assign(model=values)


def _target(figures: pd.DataFrame, name: str, scope: str, year: int) -> pd.Series:
    row = figures[
        (figures["name"] == name) & (figures["scope"] == scope) & (figures["year"] == year)
    ]
    return row.iloc[0]


def _world(run, year: int) -> float:
    return float(run.wg[:, :, int(np.flatnonzero(run.dims.years == year)[0])].sum() / 1e6)


@pytest.mark.parametrize(("year", "mt"), [(2019, 53.6), (2022, 62.0)])
def test_world_generation_within_5_percent(run, year, mt):
    # 2019 (GEM 2020) is held out of the fit; 2022 is the sum of the annex countries
    assert _world(run, year) == pytest.approx(mt, rel=0.05)


def test_world_generation_2010_within_10_percent(figures):
    row = _target(figures, "wg_world", "World", 2010)
    assert row["model"] == pytest.approx(34.0, rel=0.10)


@pytest.mark.parametrize("category", ["1", "2", "3", "4", "5", "6"])
def test_eu6_split_2019_within_15_percent(figures, category):
    row = _target(figures, "wg_category_share", category, 2019)
    assert row["model"] == pytest.approx(row["value"], rel=0.15)


def test_every_annex_country_is_met_in_2022(run):
    annex = catalog.gem2024_annex().set_index("iso3")
    annex = annex[annex["generated_kt"].notna()]
    n = int(np.flatnonzero(run.dims.years == 2022)[0])
    idx = [run.dims.regions.index(r) for r in annex.index]
    kt = run.wg[idx, :, n].sum(axis=1) / 1e3
    # own put on market only (imported used equipment adds to the engine's figure, pinned in
    # test_default_run), gross of reuse
    ratio = kt / annex["generated_kt"].to_numpy(float)
    assert np.all((ratio > 0.7) & (ratio < 1.35))


def test_uninhabited_territories_have_no_market(run):
    for iso in catalog.UNINHABITED:
        if iso in run.dims.regions:
            assert run.pom[run.dims.regions.index(iso)].sum() == 0.0


@pytest.mark.parametrize("iso3", sorted(RECALLED_2019_KG))
def test_country_generation_within_factor_two_of_recalled(run, iso3):
    r = run.dims.regions.index(iso3)
    n = int(np.flatnonzero(run.dims.years == 2019)[0])
    kg = run.wg[r, :, n].sum() / run.population[r, n] * 1e3
    assert RECALLED_2019_KG[iso3] / 2 <= kg <= RECALLED_2019_KG[iso3] * 2


def test_pom_non_negative_and_zero_before_introduction(run):
    assert np.all(run.pom >= 0) and np.all(np.isfinite(run.pom))
    intro = (
        catalog.products().set_index("unu_key").loc[list(run.dims.products), "introduction_year"]
    )
    before = run.dims.years[None, :] < intro.to_numpy()[:, None]  # (P, N)
    assert before.any()
    assert np.all(run.pom[:, before] == 0)
    after = ~before
    assert np.all(run.pom.sum(axis=0)[after] > 0)


def test_crt_replaced_by_flat_panels(run):
    p = list(run.dims.products)
    world = run.pom.sum(axis=0)
    y = {int(t): i for i, t in enumerate(run.dims.years)}
    crt, flat = world[p.index("0407")], world[p.index("0408")]
    assert crt[y[1995]] > flat[y[1995]] and crt[y[2015]] < 0.05 * flat[y[2015]]
    pv = world[p.index("0002")]
    assert pv[y[2019]] > 10 * pv[y[2005]]


def test_default_pom_frame(run):
    frame = default_pom(range(2018, 2021), regions=["KEN", "NOR"])
    assert list(frame.columns) == ["region", "product", "year", "pom_t", "status", "source"]
    assert len(frame) == 2 * 54 * 3 and set(frame["status"]) == {"estimated"}
    nor = frame[(frame["region"] == "NOR") & (frame["year"] == 2019)]["pom_t"].sum()
    r = run.dims.regions.index("NOR")
    n = int(np.flatnonzero(run.dims.years == 2019)[0])
    assert nor == pytest.approx(run.pom[r, :, n].sum())


def test_unknown_region_is_named():
    with pytest.raises(DefaultsError, match="XXX"):
        default_pom(range(2019, 2020), regions=["XXX"])


@given(
    scale=st.floats(0.1, 10.0),
    gdp=st.floats(300.0, 150_000.0),
    pop=st.floats(1e3, 1e9),
)
def test_pom_scales_with_population_and_rises_with_income(scale, gdp, pop):
    model, shares = PomModel.from_csv(), ProductShares.from_csv()
    years = np.arange(2015, 2021)
    one = pom_array(model, shares, np.full((1, 6), pop), np.full((1, 6), gdp), years)
    more = pom_array(model, shares, np.full((1, 6), pop * scale), np.full((1, 6), gdp), years)
    richer = pom_array(model, shares, np.full((1, 6), pop), np.full((1, 6), gdp * 1.5), years)
    assert np.allclose(more, one * scale, rtol=1e-12)
    assert np.all(richer >= one) and richer.sum() > one.sum()


def test_transfer_coefficients_sum_to_one_per_node():
    regions = ["DEU", "USA", "CHN", "IND", "KEN", "BRA", "AUS", "ATA"]
    tc = default_transfer_coefficients(regions, years=range(2000, 2031))
    assert list(tc.columns) == [
        "region",
        "product",
        "year",
        "from_stage",
        "to_stage",
        "share",
        "source",
    ]
    assert (tc["share"] >= 0).all() and (tc["source"].str.len() > 0).all()
    yearly = tc[tc["year"].notna()].groupby(["region", "year", "from_stage"])["share"].sum()
    fixed = tc[tc["year"].isna()].groupby(["region", "from_stage"])["share"].sum()
    assert np.allclose(yearly, 1.0) and np.allclose(fixed, 1.0)
    assert set(tc["region"]) == set(regions)


def test_collection_shares_meet_the_published_tonnes(run):
    tc = default_transfer_coefficients(list(run.dims.regions), years=[2022])
    gen = tc[tc["from_stage"] == "generated"].pivot_table(
        index="region", columns="to_stage", values="share"
    )
    rates = pd.read_csv(catalog.data_path("collection_rates.csv"), keep_default_na=False,
                        na_values=[""]).set_index("iso3")  # fmt: skip
    pub = rates[rates["basis"] == "published"]
    assert len(pub) == 84
    assert np.allclose(gen.loc[pub.index, "collection_formal"], pub["formal_share_2022"])
    # no two countries share one rate because of their income group
    rich = rates[rates["income_group"] == "Upper middle income"]["formal_share_2022"]
    assert rich.round(4).nunique() > 20
    assert gen.loc[run.un_region == "Africa", "collection_formal"].median() < 0.05


def test_formal_rate_history_follows_gem():
    # the anchors reproduce the published documented tonnes on the model's e-waste generated
    run = estimate(store="/nonexistent/store.gpkg").result
    ind = run.indicators
    world = ind[(ind["region"] == "WLD") & ind["element"].isna()].set_index(["indicator", "year"])
    h = formal_rate_history([1990, 2010, 2016, 2019, 2022, 2030])
    assert h[0] == 0 and h[4] == pytest.approx(1.0)
    # every country's 2022 rate is scaled alike, so the world figure follows the anchor up to
    # the change in the mix of countries (richer countries generated more of it in 2010)
    for year, mt in ((2010, 8.0), (2016, 8.9), (2019, 9.3)):
        assert world.loc[("collected_formal_t", year), "value"] / 1e6 == pytest.approx(mt, rel=0.1)
    assert world.loc[("collection_rate", 2030), "value"] == pytest.approx(0.20, rel=0.1)


def test_bad_shares_file_names_line(tmp_path):
    src = catalog.data_path("pom_product_shares.csv").read_text().splitlines()
    src[3] = src[3].replace(",ramp,", ",wave,", 1)
    path = tmp_path / "shares.csv"
    path.write_text("\n".join(src))
    with pytest.raises(DefaultsError, match="line 4"):
        ProductShares.from_csv(path)
