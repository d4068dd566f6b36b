"""Indicators, aggregates and the Material Circularity Indicator
(ewaste_tracker.flows.indicators)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ewaste_tracker.flows.circularity import circularity_from_flows
from ewaste_tracker.flows.indicators import (
    UNITS,
    IndicatorError,
    collection_basis,
    indicators_frame,
)
from ewaste_tracker.flows.minerals import element_flows, recovery


def _value(frame: pd.DataFrame, region: str, year: int, indicator: str) -> float:
    """Value of ``indicator`` (``name`` or ``name:El``) for one region and year."""
    name, _, element = indicator.partition(":")
    el = frame["element"].isna() if not element else frame["element"] == element
    row = frame[
        (frame["region"] == region) & (frame["year"] == year) & (frame["indicator"] == name) & el
    ]
    assert len(row) == 1, (region, year, indicator, len(row))
    return float(row["value"].iloc[0])


def system_flows(ones: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    # 100 t put on market, 80 t generated; 20 t formally collected -> pre-processing,
    # 10 t informal recycling, 50 t residual; 15 t + 2 t recovered; 4 t reused.
    return {
        ("market", "use"): 100 * ones,
        ("refurbishment", "use"): 4 * ones,
        ("use", "generated"): 80 * ones,
        ("generated", "collection_formal"): 24 * ones,
        ("collection_formal", "refurbishment"): 4 * ones,
        ("collection_formal", "preprocessing"): 20 * ones,
        ("collection_informal", "recycling_informal"): 10 * ones,
        ("generated", "residual"): 50 * ones,
        ("endprocessing", "recovered"): 15 * ones,
        ("recycling_informal", "recovered"): 2 * ones,
    }


def test_collection_rate_of_world_is_ratio_of_sums() -> None:
    # A: 100 t generated, 50 t collected (0.5); B: 900 t generated, 90 t collected (0.1).
    # World: 140 / 1000 = 0.14, not the mean of rates 0.3.
    generated = np.array([[100.0], [900.0]])
    frame = indicators_frame(
        regions=["AAA", "BBB"], years=[2022], pom=generated * 1.2, generated=generated,
        stock=generated * 5, collected_formal=np.array([[50.0], [90.0]]),
        recycled_formal=np.array([[40.0], [81.0]]), groups={"AAA": "G1", "BBB": "G1"},
    )  # fmt: skip
    assert _value(frame, "WLD", 2022, "collection_rate") == pytest.approx(0.14)
    assert _value(frame, "G1", 2022, "collection_rate") == pytest.approx(0.14)
    assert _value(frame, "WLD", 2022, "recycling_rate") == pytest.approx(0.121)
    assert _value(frame, "AAA", 2022, "collection_rate") == pytest.approx(0.5)
    assert list(frame.columns) == ["region", "year", "indicator", "element", "value", "unit"]
    assert (frame["unit"].astype(str) == frame["indicator"].astype(str).map(UNITS)).all()


@given(
    gen=arrays(float, (5, 3), elements=st.floats(0, 1e6)),
    share=arrays(float, (5, 3), elements=st.floats(0, 1)),
    group_of=st.lists(st.sampled_from(["Africa", "Europe", None]), min_size=5, max_size=5),
)
def test_aggregates_sum_regions_and_rates_are_ratios_of_sums(
    gen: np.ndarray, share: np.ndarray, group_of: list[str | None]
) -> None:
    regions = ["KEN", "GHA", "NGA", "DEU", "FRA"]
    groups = {r: g for r, g in zip(regions, group_of, strict=True) if g is not None}
    collected = gen * share
    frame = indicators_frame(
        regions=regions, years=[2020, 2021, 2022], pom=gen, generated=gen, stock=2 * gen,
        collected_formal=collected, groups=groups,
    )  # fmt: skip
    value = dict(
        zip(
            zip(frame["region"].astype(str), frame["year"], frame["indicator"].astype(str),
                strict=True),
            frame["value"], strict=True,
        )
    )  # fmt: skip
    for label, members in [("WLD", regions)] + [
        (g, [r for r in regions if groups.get(r) == g]) for g in set(groups.values())
    ]:
        for y in range(3):
            total_gen = sum(gen[regions.index(r), y] for r in members)
            total_col = sum(collected[regions.index(r), y] for r in members)
            key = (label, 2020 + y)
            assert value[(*key, "generated_t")] == pytest.approx(total_gen, rel=1e-12, abs=1e-9)
            assert value[(*key, "collected_formal_t")] == pytest.approx(
                total_col, rel=1e-12, abs=1e-9
            )
            if total_gen > 0:
                rate = value[(*key, "collection_rate")]
                assert rate == pytest.approx(total_col / total_gen, rel=1e-12)
            else:  # undefined ratio: left out of the frame
                assert (*key, "collection_rate") not in value


def test_collection_target_on_both_eu_bases() -> None:
    # POM 100, 110, 120, 130 t; basis "pom3" in the 4th year = (100 + 110 + 120)/3 = 110 t,
    # 65 % target = 71.5 t; with 60 t collected the gap is 11.5 t and rate on basis 0.5454...
    pom = np.array([[100.0, 110.0, 120.0, 130.0]])
    gen = np.array([[50.0, 60.0, 70.0, 80.0]])
    col = np.array([[30.0, 40.0, 50.0, 60.0]])
    years = [2016, 2017, 2018, 2019]
    frame = indicators_frame(
        regions=["NLD"], years=years, pom=pom, generated=gen, stock=pom,
        collected_formal=col, collection_target=0.65, target_basis="pom3",
    )  # fmt: skip
    assert _value(frame, "NLD", 2019, "collection_basis_t") == pytest.approx(110.0)
    assert _value(frame, "NLD", 2019, "collection_target_t") == pytest.approx(71.5)
    assert _value(frame, "NLD", 2019, "collection_gap_t") == pytest.approx(11.5)
    assert _value(frame, "NLD", 2019, "collection_rate_on_basis") == pytest.approx(60 / 110)
    assert frame[(frame["year"] == 2018) & (frame["indicator"] == "collection_target_t")].empty
    # alternative basis: 85 % of WEEE generated = 68 t in 2019, exceeded by... -8 t gap
    frame = indicators_frame(
        regions=["NLD"], years=years, pom=pom, generated=gen, stock=pom,
        collected_formal=col, collection_target=0.85, target_basis="generated",
    )  # fmt: skip
    assert _value(frame, "NLD", 2019, "collection_target_t") == pytest.approx(68.0)
    assert _value(frame, "NLD", 2019, "collection_gap_t") == pytest.approx(8.0)
    np.testing.assert_allclose(collection_basis(pom, gen, basis="generated"), gen)


def test_per_inhabitant_and_missing_population() -> None:
    # 7.8 kg/inh is the Global E-waste Monitor 2024 world figure for 2022; here 2 regions:
    # A 7,800 t for 1e6 inh = 7.8 kg/inh; B population unknown -> no per-inh value, and the
    # world per-inh value counts A only.
    gen = np.array([[7800.0], [5000.0]])
    frame = indicators_frame(
        regions=["AAA", "BBB"], years=[2022], pom=gen, generated=gen, stock=gen,
        collected_formal=gen * 0, population=np.array([[1e6], [np.nan]]),
    )  # fmt: skip
    assert _value(frame, "AAA", 2022, "generated_kg_per_inh") == pytest.approx(7.8)
    assert _value(frame, "WLD", 2022, "generated_kg_per_inh") == pytest.approx(7.8)
    assert frame[(frame["region"] == "BBB") & (frame["indicator"] == "population")].empty
    assert _value(frame, "WLD", 2022, "generated_t") == pytest.approx(12800.0)


def test_element_indicators_and_mci_rows() -> None:
    ones = np.ones((2, 1, 2))
    gen = 80 * ones
    comp = np.array([[[250.0], [1e4]]])  # Au, Cu g/t
    eff = {"formal_pre": [0.256, 0.6], "formal_end": [0.95, 0.95], "informal": [0.25, 0.5]}
    res = recovery(
        {"formal": 20 * ones, "informal": 10 * ones, "residual": 50 * ones},
        comp, eff, elements=["Au", "Cu"],
    )  # fmt: skip
    frame = indicators_frame(
        regions=["GHA", "NGA"], years=[2021, 2022], pom=100 * ones, generated=gen,
        stock=500 * ones, collected_formal=24 * ones, element_recovery=res,
        element_generated=element_flows(gen, comp), prices=np.array([6e4, 8.5]),
        circularity=circularity_from_flows(system_flows(ones)),
    )  # fmt: skip
    # Au in WG = 80 t * 250 g/t = 0.02 t; recovered = 20*250e-6*0.256*0.95 + 10*250e-6*0.25
    au_rec = 20 * 250e-6 * 0.256 * 0.95 + 10 * 250e-6 * 0.25
    assert _value(frame, "GHA", 2022, "recovered_t:Au") == pytest.approx(au_rec)
    assert _value(frame, "WLD", 2022, "eol_rr:Au") == pytest.approx(au_rec / 0.02)
    assert _value(frame, "WLD", 2022, "recovered_usd:Au") == pytest.approx(2 * au_rec * 6e7)
    assert _value(frame, "GHA", 2021, "lost_t:Cu") == pytest.approx(80 * 1e-2 - (
        20 * 1e-2 * 0.6 * 0.95 + 10 * 1e-2 * 0.5))  # fmt: skip
    mci = _value(frame, "WLD", 2022, "mci")
    assert mci == pytest.approx(_value(frame, "GHA", 2022, "mci"))  # identical regions
    assert 0.1 <= mci <= 1.0


def test_bad_inputs_are_named() -> None:
    gen = np.ones((2, 3))
    gen[1, 2] = -1
    with pytest.raises(IndicatorError, match=r"generated .* region index 1, year index 2"):
        indicators_frame(
            regions=["A", "B"], years=[1, 2, 3], pom=np.ones((2, 3)), generated=gen,
            stock=np.ones((2, 3)), collected_formal=np.ones((2, 3)),
        )  # fmt: skip
    with pytest.raises(IndicatorError, match="clash"):
        indicators_frame(
            regions=["A", "B"], years=[1, 2, 3], pom=np.ones((2, 3)), generated=np.ones((2, 3)),
            stock=np.ones((2, 3)), collected_formal=np.ones((2, 3)), groups={"A": "B"},
        )  # fmt: skip
    with pytest.raises(IndicatorError, match="consecutive"):
        indicators_frame(
            regions=["A"], years=[2000, 2005], pom=np.ones((1, 2)), generated=np.ones((1, 2)),
            stock=np.ones((1, 2)), collected_formal=np.ones((1, 2)), collection_target=0.65,
        )  # fmt: skip


@given(pom=arrays(float, (3, 7), elements=st.floats(0, 1e7)))
def test_pom3_basis_is_mean_of_three_preceding_years(pom: np.ndarray) -> None:
    basis = collection_basis(pom, pom, basis="pom3")
    assert np.isnan(basis[:, :3]).all()  # no three preceding years yet
    for n in range(3, 7):
        np.testing.assert_allclose(basis[:, n], pom[:, n - 3 : n].mean(axis=1), rtol=1e-12)
