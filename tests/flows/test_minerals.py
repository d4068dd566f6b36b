"""Element flows, recovery by route and element values (ewaste_tracker.flows.minerals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ewaste_tracker.flows.minerals import (
    LOSS_KINDS,
    ROUTES,
    CompositionError,
    EfficiencyError,
    efficiencies_from_frame,
    element_flows,
    element_flows_to_frame,
    element_values,
    prices_from_frame,
    recovery,
    route_inputs_from_flows,
)
from tests.conftest import examples

# Formal-chain efficiencies for Au, Ag, Cu from the literature:
# pre-processing: Chancerel et al. (2009), J. Ind. Ecol. 13(5) - share reaching recoverable
# fractions in a German plant: Au 0.256, Ag 0.115, Cu 0.60;
# end-processing: integrated smelter-refinery, "far more than 95 per cent" for Au/Ag/Cu
# (Hagelüken, same interview as below);
# informal Au recovery ~0.25 (Hagelüken, interview in factory magazin, "More gold in waste
# than in mines"); informal Ag and Cu values here are illustrative, not sourced.
ELEMENTS = ("Au", "Ag", "Cu")
EFF = {
    "formal_pre": [0.256, 0.115, 0.60],
    "formal_end": [0.95, 0.95, 0.95],
    "informal": [0.25, 0.10, 0.50],
}


def test_element_flows_hand_computed() -> None:
    # region 0 puts 10 t of product 0 (250 g Au/t) and 4 t of product 1 (500 g Au/t):
    # Au = (10 * 250 + 4 * 500) g/t * t / 1e6 = 4.5e-3 t
    mass = np.array([[[10.0], [4.0]]])  # (R=1, P=2, N=1)
    comp = np.array([[[250.0], [1000.0]], [[500.0], [0.0]]])  # (P=2, E=2, 1)
    out = element_flows(mass, comp)
    assert out.shape == (1, 2, 1)
    np.testing.assert_allclose(out[0, :, 0], [4.5e-3, 1.0e-2])


@given(
    mass=arrays(float, (3, 4, 5), elements=st.floats(0, 1e6)),
    comp=arrays(float, (4, 2, 5), elements=st.floats(0, 4e5)),
)
def test_yearly_composition_matches_constant_composition_year_by_year(
    mass: np.ndarray, comp: np.ndarray
) -> None:
    yearly = element_flows(mass, comp)
    for n in range(5):  # reference: one constant-composition call per year
        one = element_flows(mass[:, :, n : n + 1], comp[:, :, n : n + 1])
        np.testing.assert_allclose(yearly[:, :, n], one[:, :, 0], rtol=1e-12, atol=1e-9)
    assert (yearly >= 0).all()


@given(
    mass=arrays(float, (2, 3, 4), elements=st.floats(0, 1e6)),
    comp=arrays(float, (3, 4, 1), elements=st.floats(0, 2.5e5)),
)
def test_elements_never_exceed_product_mass(mass: np.ndarray, comp: np.ndarray) -> None:
    out = element_flows(mass, comp)
    assert (out.sum(axis=1) <= mass.sum(axis=1) * (1 + 1e-12) + 1e-9).all()


@pytest.mark.parametrize(
    ("comp", "match"),
    [
        (np.full((2, 1, 1), -1.0), "product '0306', element index 0"),
        (np.full((2, 2, 1), 6e5), "more than the product's own mass"),
        (np.ones((3, 1, 1)), r"shape \(P=2"),
        (np.ones((2, 1, 2)), r"N=3"),
    ],
)
def test_bad_composition_is_named(comp: np.ndarray, match: str) -> None:
    with pytest.raises(CompositionError, match=match):
        element_flows(np.ones((1, 2, 3)), comp, products=["0306", "0302"])


def test_formal_route_hand_computed() -> None:
    # 1 t of product containing 1e6 g/t... of Au only: 1 t Au enters pre-processing.
    # recovered = 1 * 0.256 * 0.95 = 0.2432 t; pre-processing loss = 1 - 0.256 = 0.744 t;
    # refining loss = 0.256 * (1 - 0.95) = 0.0128 t.
    comp = np.array([[[1e6], [0.0], [0.0]]])
    res = recovery({"formal": np.ones((1, 1, 1))}, comp, EFF, elements=ELEMENTS)
    f = res.routes["formal"]
    assert f.recovered_t[0, 0, 0] == pytest.approx(0.2432)
    assert f.losses["preprocessing"][0, 0, 0] == pytest.approx(0.744)
    assert f.losses["refining"][0, 0, 0] == pytest.approx(0.0128)
    assert set(res.routes) == set(ROUTES)
    assert res.routes["informal"].input_t.sum() == 0  # missing routes are zero


route_mass = arrays(float, (2, 3, 4), elements=st.floats(0, 1e7))
fractions = arrays(float, (3,), elements=st.floats(0, 1))


@given(
    formal=route_mass,
    informal=route_mass,
    residual=route_mass,
    exported=route_mass,
    comp=arrays(float, (3, 3, 4), elements=st.floats(0, 3e5)),
    pre=fractions,
    end=fractions,
    inf=fractions,
    res=fractions,
)
def test_recovered_plus_lost_equals_input(
    formal: np.ndarray,
    informal: np.ndarray,
    residual: np.ndarray,
    exported: np.ndarray,
    comp: np.ndarray,
    pre: np.ndarray,
    end: np.ndarray,
    inf: np.ndarray,
    res: np.ndarray,
) -> None:
    inputs = {"formal": formal, "informal": informal, "residual": residual, "exported": exported}
    eff = {"formal_pre": pre, "formal_end": end, "informal": inf, "residual": res}
    out = recovery(inputs, comp, eff, elements=ELEMENTS)
    for route, rr in out.routes.items():
        if route == "exported":  # counted where it is treated, not at the origin
            assert (rr.recovered_t == 0).all() and (rr.lost_t == 0).all() and not rr.losses
            np.testing.assert_allclose(rr.input_t, element_flows(inputs[route], comp))
            continue
        np.testing.assert_allclose(rr.recovered_t + rr.lost_t, rr.input_t, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sum(rr.losses.values()), rr.lost_t, rtol=1e-12, atol=1e-12)
        assert set(rr.losses) == set(LOSS_KINDS[route])
        for arr in (rr.input_t, rr.recovered_t, *rr.losses.values()):
            assert (arr >= -1e-12 * max(1.0, rr.input_t.max())).all()
        if route in inputs:
            np.testing.assert_allclose(rr.input_t, element_flows(inputs[route], comp))
        else:
            assert (rr.input_t == 0).all()


def test_efficiency_table_interpolates_years_and_defaults_residual() -> None:
    table = pd.DataFrame(
        {
            "element": ["Au", "Au", "Au", "Au", "Cu", "Cu", "Cu"],
            "route": [
                "formal_pre", "formal_pre", "formal_end", "informal",
                "formal_pre", "formal_end", "informal",
            ],
            "year": [2000, 2010, None, None, None, None, None],
            "efficiency": [0.2, 0.4, 0.95, 0.25, 0.6, 0.95, 0.5],
        }
    )  # fmt: skip
    eff = efficiencies_from_frame(table, elements=["Au", "Cu"], years=np.arange(1999, 2012))
    assert eff["formal_pre"].shape == (2, 13)
    np.testing.assert_allclose(eff["formal_pre"][0, [0, 1, 6, 11, 12]], [0.2, 0.2, 0.3, 0.4, 0.4])
    np.testing.assert_allclose(eff["formal_pre"][1], 0.6)
    np.testing.assert_allclose(eff["residual"], 0.0)


def test_missing_or_invalid_efficiency_is_named() -> None:
    table = pd.DataFrame({"element": ["Au"], "route": ["formal_pre"], "efficiency": [0.2]})
    with pytest.raises(EfficiencyError, match="'formal_end' efficiency for element 'Au'"):
        efficiencies_from_frame(table, elements=["Au"])
    with pytest.raises(EfficiencyError, match=r"lacks column\(s\) \['efficiency'\]"):
        efficiencies_from_frame(table.drop(columns="efficiency"), elements=["Au"])
    bad = dict(EFF, informal=[0.25, 1.5, 0.5])
    with pytest.raises(EfficiencyError, match="'informal' for element 'Ag'"):
        recovery({"formal": np.ones((1, 1, 1))}, np.ones((1, 3, 1)), bad, elements=ELEMENTS)


def test_negative_route_input_is_named() -> None:
    mass = np.ones((2, 1, 3))
    mass[1, 0, 2] = -5
    with pytest.raises(
        ValueError, match=r"'residual'.*region index 1, product index 0, year index 2"
    ):
        recovery({"residual": mass}, np.ones((1, 3, 1)), EFF, elements=ELEMENTS)


def test_route_inputs_from_system_flows() -> None:
    ones = np.ones((2, 3, 4))
    flows = {
        ("collection_formal", "preprocessing"): 2 * ones,
        ("refurbishment", "preprocessing"): ones,
        ("collection_informal", "recycling_informal"): 3 * ones,
        ("generated", "residual"): 5 * ones,
        ("preprocessing", "residual"): 7 * ones,  # already the formal route's loss
        ("collection_formal", "export"): 0.5 * ones,
        ("market", "use"): 100 * ones,
    }
    got = route_inputs_from_flows(flows, imported={"preprocessing": 4 * ones, "use": 9 * ones})
    # no refurbishment input is given, so its rejects are of no known formal origin: scrap
    np.testing.assert_allclose(got["formal"], 6.0)
    np.testing.assert_allclose(got["scrap"], 1.0)
    np.testing.assert_allclose(got["informal"], 3.0)
    np.testing.assert_allclose(got["residual"], 5.0)
    np.testing.assert_allclose(got["exported"], 0.5)


def test_prices_from_usgs_rows_and_values() -> None:
    # USGS Mineral Commodity Summaries 2025 annual averages (USD/kg): Au 2022 57,935.645 and
    # 2023 62,533.202; Cu (LME grade A) 2022 8.814 and 2023 8.483.
    table = pd.DataFrame(
        {
            "element": ["Au", "Au", "Cu", "Cu", "Ag"],
            "year": [2022, 2023, 2022, 2023, 2023],
            "usd_per_kg": [57935.645, 62533.202, 8.814, 8.483, 756.829],
        }
    )
    prices = prices_from_frame(table, elements=ELEMENTS, years=np.array([2021, 2022, 2023, 2024]))
    np.testing.assert_allclose(prices[0], [57935.645, 57935.645, 62533.202, 62533.202])
    np.testing.assert_allclose(prices[1], 756.829)
    comp = np.array([[[1e3], [0.0], [0.0]]])  # 1 kg Au per tonne
    res = recovery({"formal": np.full((1, 1, 4), 1000.0)}, comp, EFF, elements=ELEMENTS)
    rec_usd, lost_usd = element_values(res, prices)["formal"]
    # 1000 t product -> 1 t Au; recovered 0.2432 t = 243.2 kg at the year's price
    np.testing.assert_allclose(rec_usd[0, 0], 243.2 * prices[0])
    np.testing.assert_allclose(rec_usd[0, 0] + lost_usd[0, 0], 1000.0 * prices[0])
    with pytest.raises(EfficiencyError, match=r"no price .* 'Pd'"):
        prices_from_frame(table, elements=["Pd"], years=np.array([2022]))


@given(
    formal=arrays(float, (2, 2, 3), elements=st.floats(0, 1e4)),
    exported=arrays(float, (2, 2, 3), elements=st.floats(0, 1e4)),
)
def test_element_frame_round_trips_to_arrays(formal: np.ndarray, exported: np.ndarray) -> None:
    comp = np.array([[[300.0], [20.0], [1e5]], [[10.0], [200.0], [2e5]]])
    res = recovery({"formal": formal, "exported": exported}, comp, EFF, elements=ELEMENTS)
    prices = np.array([6e4, 750.0, 8.5])
    frame = element_flows_to_frame(res, regions=["KEN", "GHA"], years=[2020, 2021, 2022],
                                   prices=prices)  # fmt: skip
    assert list(frame.columns) == [
        "region", "year", "element", "route", "input_t", "recovered_t", "lost_t",
        "recovered_usd", "lost_usd",
    ]  # fmt: skip
    assert len(frame) == len(ROUTES) * 2 * 3 * 3
    # scatter the rows back into (route, R, E, N) cubes by their labels
    regions, elements = ["KEN", "GHA"], list(ELEMENTS)
    idx = (
        frame["route"].map(list(ROUTES).index).to_numpy(int),
        frame["region"].map(regions.index).to_numpy(int),
        frame["element"].map(elements.index).to_numpy(int),
        frame["year"].to_numpy() - 2020,
    )
    for col in ("input_t", "recovered_t", "lost_t"):
        back = np.full((len(ROUTES), 2, 3, 3), np.nan)
        back[idx] = frame[col].to_numpy()
        for k, route in enumerate(ROUTES):
            np.testing.assert_allclose(back[k], getattr(res.routes[route], col), atol=1e-12)
    np.testing.assert_allclose(
        frame["recovered_usd"], frame["recovered_t"] * 1e3 * prices[frame["element"].cat.codes]
    )


def test_element_frame_checks_labels() -> None:
    res = recovery({"formal": np.ones((2, 1, 3))}, np.ones((1, 3, 1)), EFF, elements=ELEMENTS)
    with pytest.raises(ValueError, match="got 1 regions"):
        element_flows_to_frame(res, regions=["KEN"], years=[1, 2, 3])


flow = arrays(np.float64, (2, 2, 3), elements=st.floats(0.0, 1e6))


@settings(max_examples=examples(60), deadline=None)
@given(cf_pre=flow, ci_pre=flow, cf_ref=flow, ci_ref=flow, rejects=flow, zero_formal=st.booleans())
def test_no_route_carries_mass_where_its_stage_carries_none(
    cf_pre: np.ndarray,
    ci_pre: np.ndarray,
    cf_ref: np.ndarray,
    ci_ref: np.ndarray,
    rejects: np.ndarray,
    zero_formal: bool,
) -> None:
    # issue 9: in 1990 formal collection was 0 t, yet ~40 % of every element went "formal"
    if zero_formal:
        cf_pre, cf_ref = np.zeros_like(cf_pre), np.zeros_like(cf_ref)
    rejects = np.minimum(rejects, cf_ref + ci_ref)  # refurbishment passes on what it gets
    flows = {
        ("collection_formal", "preprocessing"): cf_pre,
        ("collection_informal", "preprocessing"): ci_pre,
        ("collection_formal", "refurbishment"): cf_ref,
        ("collection_informal", "refurbishment"): ci_ref,
        ("refurbishment", "preprocessing"): rejects,
    }
    got = route_inputs_from_flows(flows)
    formal_in = cf_pre + cf_ref  # everything formal collection sends on
    assert (got["formal"] <= formal_in * (1 + 1e-12) + 1e-9).all()
    assert (got["formal"][formal_in == 0] == 0).all()
    np.testing.assert_allclose(got["formal"] + got["scrap"], cf_pre + ci_pre + rejects,
                               rtol=1e-12, atol=1e-6)  # fmt: skip
    assert (got["scrap"] >= 0).all()
