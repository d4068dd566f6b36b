"""The footprint engine: invariants of the indicators on random flows (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ewaste_tracker.flows.footprint import (
    INDICATORS,
    FootprintFactors,
    footprint_arrays,
    footprint_frame,
    treatment_split,
    vintage_content,
)

R, P, N = 2, 3, 4
PRODUCTS = ("0108", "0306", "0503")  # a fridge, a phone (ICT), a lamp
TONNES = arrays(float, (R, P, N), elements=st.floats(0, 1e4, allow_nan=False))
SHARE = st.floats(0, 1)


def _factors(rng: np.random.Generator, eta: float) -> FootprintFactors:
    def pos(*shape: int) -> np.ndarray:
        return rng.uniform(0, 100, shape)

    return FootprintFactors(
        unit_weight_kg=rng.uniform(0.05, 80, P), embodied_kg_co2e=pos(P), embodied_mj=pos(P),
        embodied_water_m3=pos(P), embodied_kg_sb=pos(P), use_kwh=pos(P),
        refrigerant_kg_co2e=pos(P, N), mercury_mg=pos(P, N), bfr_kg=pos(P),
        mining_t_co2e_per_t=pos(P), capture={"refrigerant": eta, "mercury": eta, "bfr": eta},
    )  # fmt: skip


def _flows(parts: list[np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    keys = [("collection_formal", "preprocessing"), ("collection_informal", "preprocessing"),
            ("collection_informal", "recycling_informal"), ("generated", "residual"),
            ("collection_formal", "refurbishment"), ("collection_informal", "refurbishment"),
            ("refurbishment", "preprocessing")]  # fmt: skip
    return dict(zip(keys, parts, strict=True))


@given(
    parts=st.lists(TONNES, min_size=7, max_size=7), pom=TONNES, stock=TONNES, eta=SHARE,
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_invariants_of_the_indicators(
    parts: list[np.ndarray], pom: np.ndarray, stock: np.ndarray, eta: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    factors = _factors(rng, eta)
    formal, untreated, pre = treatment_split(_flows(parts))
    refr = rng.uniform(0, 500, (R, P, N))
    arrs = footprint_arrays(
        pom=pom, stock=stock, formal=formal, untreated=untreated, preprocessing=pre,
        factors=factors, grid_g_per_kwh=rng.uniform(0, 900, (R, N)),
        refrigerant_content=refr, mercury_content=rng.uniform(0, 20, (R, P, N)),
    )  # fmt: skip
    # a refrigerant formally recaptured is not also released: released + recaptured = content
    inside = arrs["refrigerant_in_ewaste_t_co2e"]
    released, avoided = arrs["refrigerant_released_t_co2e"], arrs["refrigerant_avoided_t_co2e"]
    assert np.allclose(released + avoided, inside, rtol=1e-9, atol=1e-6)
    assert (avoided <= inside * (1 + 1e-12) + 1e-9).all() and (released >= -1e-9).all()
    # what formal treatment recaptures never counts as released
    assert np.allclose(released, (untreated + (1 - eta) * formal) * refr / factors.unit_weight_kg[
        None, :, None])  # fmt: skip
    frame = footprint_frame(arrs, regions=("AAA", "BBB"), products=PRODUCTS, years=range(N),
                            groups={"AAA": "G1", "BBB": "G1"}, ict=("0306",))  # fmt: skip
    assert (frame["value"] >= -1e-9).all()
    wide = frame.pivot_table(index=["region", "year", "indicator"], columns="group",
                             values="value", observed=True)  # fmt: skip
    # the ICT subset never exceeds all products
    assert (wide["ict"] <= wide["all"] * (1 + 1e-12) + 1e-9).all()
    # per-product sums equal the totals, and regions sum to the world and to the group
    for name, arr in arrs.items():
        for reg, r in (("AAA", 0), ("BBB", 1)):
            got = wide.loc[(reg, slice(None), name), "all"].to_numpy()
            assert np.allclose(got, arr[r].sum(axis=0), rtol=1e-12, atol=1e-9), name
        world = wide.loc[("WLD", slice(None), name), "all"].to_numpy()
        assert np.allclose(world, arr.sum(axis=(0, 1)), rtol=1e-12, atol=1e-9)
        assert np.allclose(wide.loc[("G1", slice(None), name), "all"].to_numpy(), world)
    assert set(frame["indicator"]) == set(INDICATORS)


def test_nothing_is_released_when_all_is_formally_recaptured() -> None:
    rng = np.random.default_rng(1)
    formal = rng.uniform(1, 10, (R, P, N))
    arrs = footprint_arrays(
        pom=formal, stock=formal, formal=formal, untreated=np.zeros_like(formal),
        preprocessing=formal, factors=_factors(rng, 1.0), grid_g_per_kwh=np.ones((R, N)),
        refrigerant_content=np.ones((R, P, N)), mercury_content=np.ones((R, P, N)),
    )  # fmt: skip
    for name in ("refrigerant_released_t_co2e", "mercury_released_t", "bfr_plastics_released_t"):
        assert np.all(arrs[name] == 0), name
    assert (arrs["refrigerant_avoided_t_co2e"] > 0).all()


def test_units_of_one_fridge() -> None:
    """1 t of 40 kg fridges (25 pieces) with 100 kg CO2e of refrigerant each = 2.5 t CO2e."""
    f = FootprintFactors(
        unit_weight_kg=np.array([40.0]), embodied_kg_co2e=np.array([280.0]),
        embodied_mj=np.array([3640.0]), embodied_water_m3=np.array([4.0]),
        embodied_kg_sb=np.array([0.005]), use_kwh=np.array([300.0]),
        refrigerant_kg_co2e=np.array([[100.0]]), mercury_mg=np.array([[0.0]]),
        bfr_kg=np.array([0.3]), mining_t_co2e_per_t=np.array([0.5]),
        capture={"refrigerant": 0.9, "mercury": 1.0, "bfr": 1.0},
    )  # fmt: skip
    one = np.ones((1, 1, 1))
    a = footprint_arrays(pom=one, stock=one * 2, formal=one, untreated=np.zeros((1, 1, 1)),
                         preprocessing=one, factors=f, grid_g_per_kwh=np.full((1, 1), 500.0),
                         refrigerant_content=one * 100.0, mercury_content=0 * one)  # fmt: skip
    assert a["embodied_ghg_t_co2e"].item() == pytest.approx(25 * 0.280)
    assert a["embodied_water_m3"].item() == pytest.approx(100.0)
    assert a["refrigerant_in_ewaste_t_co2e"].item() == pytest.approx(2.5)
    assert a["refrigerant_avoided_t_co2e"].item() == pytest.approx(2.25)
    # mid-year stock of the first year: (0 + 2 t) / 2 = 25 fridges x 300 kWh = 7.5 MWh
    assert a["use_phase_energy_gwh"].item() == pytest.approx(25 * 300 / 1e6)
    assert a["use_phase_ghg_t_co2e"].item() == pytest.approx(25 * 300 * 500 / 1e6)


def test_vintage_content_follows_the_discarded_cohorts() -> None:
    # two cohorts, each discarded entirely two years after it is sold
    n = 4
    M = np.zeros((1, n, n))
    for c in range(n - 2):
        M[0, c + 2, c] = 1.0
    pom = np.array([[[1.0, 3.0, 0.0, 0.0]]])
    factor = np.array([[10.0, 20.0, 30.0, 40.0]])
    out = vintage_content(pom, factor, np.zeros((1, 1), int), M)
    assert out[0, 0, 2] == pytest.approx(10.0) and out[0, 0, 3] == pytest.approx(20.0)
    assert out[0, 0, 0] == pytest.approx(10.0)  # nothing discarded yet: the year's own vintage


def test_bad_factors_are_refused() -> None:
    with pytest.raises(ValueError, match="unit_weight_kg"):
        FootprintFactors(
            unit_weight_kg=np.array([0.0]), embodied_kg_co2e=np.zeros(1), embodied_mj=np.zeros(1),
            embodied_water_m3=np.zeros(1), embodied_kg_sb=np.zeros(1), use_kwh=np.zeros(1),
            refrigerant_kg_co2e=np.zeros((1, 1)), mercury_mg=np.zeros((1, 1)),
            bfr_kg=np.zeros(1), mining_t_co2e_per_t=np.zeros(1),
            capture={"refrigerant": 0.9, "mercury": 1.0, "bfr": 1.0},
        )  # fmt: skip
