"""Scenario levers on the East African example: exports, recovery, collection, lifetimes.

Each lever is checked on what a user reads off the scenario page: the share it sets is the
share in the inputs, the flows move the way the lever says, and mass is conserved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ewaste_tracker as et
from ewaste_tracker.model.levers import FORMAL_ROUTES, Levers, apply_levers
from ewaste_tracker.scenario import scenario
from tests.conftest import examples

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "ewaste_tracker" / "data" / "examples" / "east_africa"
)


@pytest.fixture(scope="module")
def eac() -> et.Estimate:
    return et.estimate(inputs=EXAMPLE)


def _shares(tc: pd.DataFrame, from_stage: str) -> pd.DataFrame:
    part = tc[tc["from_stage"] == from_stage]
    key = [part[k].astype("string").fillna("") for k in ("region", "product", "year")]
    return part.assign(total=part.groupby(key)["share"].transform("sum"))


def test_export_share_sets_every_collection_route_and_keeps_distributions(eac) -> None:
    new = apply_levers(eac.inputs, Levers(export_share=0.6, products=None, from_year=2015))
    tc = new.transfer_coefficients
    for stage in ("collection_formal", "collection_informal"):
        part = _shares(tc, stage)
        later = part[part["year"].astype("Int64").fillna(0) >= 2015]
        assert len(later) and np.allclose(later["total"], 1.0)
        exp = later[later["to_stage"] == "export"]
        assert np.allclose(exp["share"], 0.6)
        # earlier years keep the original rows (blank year)
        blank = part[part["year"].isna() & (part["to_stage"] == "export")]
        old = eac.inputs.transfer_coefficients
        old_exp = old[(old["from_stage"] == stage) & (old["to_stage"] == "export")]
        assert sorted(blank["share"]) == sorted(old_exp["share"])
    fresh = et.estimate(inputs=EXAMPLE).inputs.transfer_coefficients
    pd.testing.assert_frame_equal(eac.inputs.transfer_coefficients, fresh)


def test_an_export_ban_stops_exports_of_elements(eac) -> None:
    ban = scenario(eac, Levers(export_share=0.0, products=None), hold_service=False)
    for region in ("KEN", "UGA"):
        assert eac.value(region, "exported_t", 2020, "Au") > 0
        assert ban.value(region, "exported_t", 2020, "Au") == pytest.approx(0.0, abs=1e-12)
    more = scenario(eac, Levers(export_share=0.6, products=None), hold_service=False)
    assert more.value("KEN", "exported_t", 2020, "Au") > eac.value("KEN", "exported_t", 2020, "Au")


def test_recovery_gain_moves_formal_efficiencies_to_best_practice(eac) -> None:
    rec = eac.inputs.recovery
    full = apply_levers(eac.inputs, Levers(recovery_gain=1.0)).recovery
    half = apply_levers(eac.inputs, Levers(recovery_gain=0.5)).recovery
    formal = rec["route"].isin(FORMAL_ROUTES).to_numpy()
    best = np.maximum(rec["high"].to_numpy(float), rec["efficiency"].to_numpy(float))
    assert np.allclose(full["efficiency"].to_numpy()[formal], best[formal])
    assert np.allclose(half["efficiency"].to_numpy()[formal],
                       (rec["efficiency"].to_numpy()[formal] + best[formal]) / 2)  # fmt: skip
    assert np.array_equal(full["efficiency"].to_numpy()[~formal],
                          rec["efficiency"].to_numpy()[~formal])  # fmt: skip
    s = scenario(eac, Levers(recovery_gain=1.0))
    el = eac.element_flows.groupby(["region", "year", "element"], observed=True)[
        ["input_t", "recovered_t", "lost_t"]].sum()  # fmt: skip
    el2 = s.element_flows.groupby(["region", "year", "element"], observed=True)[
        ["input_t", "recovered_t", "lost_t"]].sum()  # fmt: skip
    assert np.allclose(el2["input_t"], el["input_t"])  # same e-waste, recovered better
    assert (el2["recovered_t"] >= el["recovered_t"] - 1e-12).all()
    assert np.allclose(el2["recovered_t"] + el2["lost_t"], el["recovered_t"] + el["lost_t"])
    assert s.value("KEN", "recovered_t", 2020, "Au") > eac.value("KEN", "recovered_t", 2020, "Au")


def test_collection_lever_for_all_products_lifts_every_region(eac) -> None:
    s = scenario(eac, Levers(collection_share=0.8, products=None, from_year=2015))
    for region in ("KEN", "RWA", "TZA", "UGA"):
        before = eac.value(region, "collected_formal_t", 2020)
        after = s.value(region, "collected_formal_t", 2020)
        assert after > 10 * before
        assert s.value(region, "collected_formal_t", 2012) == pytest.approx(
            eac.value(region, "collected_formal_t", 2012), rel=1e-9)  # fmt: skip


def test_lifetime_extension_of_devices_in_use_acts_at_once(eac) -> None:
    cohorts = scenario(eac, Levers(lifetime_scale=1.5, from_year=2015, products=None),
                       hold_service=False)  # fmt: skip
    in_use = scenario(eac, Levers(lifetime_scale=1.5, from_year=2015, products=None,
                                  lifetime_in_use=True), hold_service=False)  # fmt: skip
    base = eac.value("KEN", "generated_t", 2016)
    only_new = cohorts.value("KEN", "generated_t", 2016)
    with_old = in_use.value("KEN", "generated_t", 2016)
    assert with_old < only_new <= base * (1 + 1e-9)
    assert with_old < 0.8 * base  # devices already in use are most of the discards
    assert in_use.value("KEN", "generated_t", 2014) == pytest.approx(
        eac.value("KEN", "generated_t", 2014), rel=1e-9)  # fmt: skip
    assert in_use.inputs.lifetime_extension is not None
    assert eac.inputs.lifetime_extension is None


def test_lifetime_in_use_holding_the_service_keeps_the_stock_and_sells_less(eac) -> None:
    s = scenario(eac, Levers(lifetime_scale=1.3, from_year=2015, products=None,
                             lifetime_in_use=True))  # fmt: skip
    for year in (2016, 2020):
        assert s.value("KEN", "pom_t", year) < eac.value("KEN", "pom_t", year)
        assert s.value("KEN", "stock_t", year) == pytest.approx(
            eac.value("KEN", "stock_t", year), rel=0.05)  # fmt: skip


def test_levers_refuse_bad_shares() -> None:
    for kwargs in ({"export_share": -0.1}, {"recovery_gain": 1.5}, {"lifetime_scale": 0.0}):
        with pytest.raises(ValueError):
            Levers(**kwargs)


@settings(max_examples=examples(25))
@given(share=st.floats(0.0, 1.0), year=st.sampled_from([None, 1995, 2010, 2020]))
def test_rewritten_stages_stay_distributions(eac, share, year) -> None:
    new = apply_levers(
        eac.inputs, Levers(export_share=share, collection_share=share, products=None,
                           from_year=year),
    )  # fmt: skip
    tc = new.transfer_coefficients
    for stage in ("generated", "collection_formal", "collection_informal"):
        part = _shares(tc, stage)
        assert np.allclose(part["total"], 1.0)
        assert (part["share"] >= -1e-12).all()
