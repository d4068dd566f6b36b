"""Device fate as an absorbing Markov chain: hand example, simulation, and the dense system."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ewaste_tracker.flows.fate import fate_matrix
from ewaste_tracker.flows.system import build_system
from ewaste_tracker.flows.transfer import STRUCTURE, ExportDestinations, Stage, TransferCoefficients
from tests.flows.test_system import make_dims, shift_matrix, tc_table

SHARES = {
    "generated": {"collection_formal": 0.6, "collection_informal": 0.3, "residual": 0.1},
    "collection_formal": {"refurbishment": 0.25, "preprocessing": 0.5, "export": 0.25},
    "collection_informal": {"recycling_informal": 0.8, "residual": 0.2},
    "refurbishment": {"use": 0.8, "preprocessing": 0.2},
    "preprocessing": {"endprocessing": 0.9, "residual": 0.1},
    "endprocessing": {"recovered": 0.95, "losses": 0.05},
    "recycling_informal": {"recovered": 0.4, "losses": 0.6},
}
DIMS = make_dims(2, 1, 3)
# per pass through `generated`: reused, to pre-processing, informal recycling, residual, export
REUSE, PRE, INFORMAL, RESID, EXPORT = 0.12, 0.33, 0.24, 0.16, 0.15
PASSES = 1 / (1 - REUSE)


def _exports(rows: list[tuple]) -> ExportDestinations:
    return ExportDestinations.from_frame(
        pd.DataFrame(rows, columns=["origin", "destination", "to_stage", "share"]), DIMS
    )


def _sinks(result, region: int) -> dict[tuple[str, str], float]:
    return dict(zip(result.absorbing, result.absorption[region], strict=True))


def test_hand_computed_two_regions() -> None:
    """R0 ships its exports to R1's pre-processing; R1 ships out of the system."""
    tcs = TransferCoefficients.from_frame(tc_table(SHARES), DIMS)
    exports = _exports([("R0", "R1", "preprocessing", 1.0), ("R1", "ROW", "", 1.0)])
    res = fate_matrix(tcs, DIMS, product="0000", year=2001, exports=exports)
    rec = 0.9 * 0.95
    r0, r1 = _sinks(res, 0), _sinks(res, 1)
    assert r1[("R1", "recovered")] == pytest.approx((PRE * rec + INFORMAL * 0.4) * PASSES)
    assert r1[("R1", "disposed")] == pytest.approx((RESID + PRE * 0.1) * PASSES)
    assert r1[("ROW", "export")] == pytest.approx(EXPORT * PASSES)
    assert r0[("R0", "recovered")] == pytest.approx((PRE * rec + INFORMAL * 0.4) * PASSES)
    assert r0[("R1", "recovered")] == pytest.approx(EXPORT * PASSES * rec)
    assert r0[("R1", "disposed")] == pytest.approx(EXPORT * PASSES * 0.1)
    assert r0[("ROW", "export")] == 0.0
    np.testing.assert_allclose(res.absorption.sum(axis=1), 1.0)
    np.testing.assert_allclose(res.use_cycles, PASSES)
    np.testing.assert_allclose(res.route("recycling_informal"), INFORMAL * PASSES)
    by_sink = res.by_sink()
    assert by_sink.loc["R1", "exported_row"] == pytest.approx(EXPORT * PASSES)


def test_used_equipment_exports_add_use_cycles_and_years() -> None:
    tcs = TransferCoefficients.from_frame(tc_table(SHARES), DIMS)
    exports = _exports([("R0", "R1", "use", 1.0), ("R1", "ROW", "", 1.0)])
    res = fate_matrix(
        tcs,
        DIMS,
        product="0000",
        year=2001,
        exports=exports,
        first_life_years=np.array([6.0, 8.0]),
        second_life_years=np.array([2.0, 3.0]),
    )
    in_r1 = EXPORT * PASSES  # expected arrivals in R1's use per device from R0
    assert res.use_cycles[0] == pytest.approx(PASSES + in_r1 * PASSES)
    expected_years = 6.0 + (PASSES - 1) * 2.0 + in_r1 * PASSES * 3.0
    assert res.years_in_use[0] == pytest.approx(expected_years)
    assert res.years_in_use[1] == pytest.approx(8.0 + (PASSES - 1) * 3.0)


def test_element_recovery_efficiencies_replace_mass_routes() -> None:
    tcs = TransferCoefficients.from_frame(tc_table(SHARES), DIMS)
    eff = {"preprocessing": 0.26, "endprocessing": 0.98, "recycling_informal": 0.5}
    res = fate_matrix(tcs, DIMS, product="0000", year=2001, efficiencies=eff)
    recovered = _sinks(res, 0)[("R0", "recovered")]
    assert recovered == pytest.approx((PRE * 0.26 * 0.98 + INFORMAL * 0.5) * PASSES)
    with pytest.raises(ValueError, match="within"):
        fate_matrix(tcs, DIMS, product="0000", year=2001, efficiencies={"preprocessing": 1.5})
    with pytest.raises(ValueError, match="no recovery efficiency"):
        fate_matrix(tcs, DIMS, product="0000", year=2001, efficiencies={"residual": 0.5})


def test_endless_reuse_is_an_error() -> None:
    loop = {k: dict(v) for k, v in SHARES.items()}
    loop["generated"] = {"collection_formal": 1.0}
    loop["collection_formal"] = {"refurbishment": 1.0}
    loop["refurbishment"] = {"use": 1.0}
    tcs = TransferCoefficients.from_frame(tc_table(loop), DIMS)
    with pytest.raises(ValueError, match="cycle forever"):
        fate_matrix(tcs, DIMS, product="0000", year=2001)


def _simulate(tcs, exports, rng, n: int, l1: np.ndarray, l2: np.ndarray) -> tuple:
    """Walk ``n`` devices one by one from use in R0, stage by stage, by the tables."""
    shares = tcs.at(product=0, year=1)
    out: dict[tuple[str, str], list] = {}
    for r, region in enumerate(DIMS.regions):
        for node in Stage:
            nxt = []
            for target in STRUCTURE[node]:
                p = 1.0 if node == Stage.USE else float(shares[(node, target)][r])
                nxt.append(((region, target.value), p))
            if node == Stage.EXPORT:
                for k in np.flatnonzero(exports.origin == r):
                    d = exports.destination[k]
                    to = ("ROW", "export") if d < 0 else (DIMS.regions[d], exports.to_stage[k])
                    nxt.append((to, float(exports.shares[k, 0])))
            out[(region, node.value)] = nxt
    ends, years = [], np.zeros(n)
    for i in range(n):
        state, life = ("R0", "use"), 0
        while out.get(state):
            if state[1] == "use":
                years[i] += (l1 if life == 0 else l2)[DIMS.regions.index(state[0])]
                life += 1
            targets, probs = zip(*out[state], strict=True)
            state = targets[rng.choice(len(targets), p=np.array(probs) / sum(probs))]
        ends.append(state)
    return ends, years


def test_closed_form_agrees_with_monte_carlo_simulation() -> None:
    tcs = TransferCoefficients.from_frame(tc_table(SHARES), DIMS)
    exports = _exports(
        [("R0", "R1", "use", 0.5), ("R0", "ROW", "", 0.5), ("R1", "R0", "refurbishment", 1.0)]
    )
    l1, l2 = np.array([5.0, 7.0]), np.array([2.0, 1.0])
    res = fate_matrix(
        tcs,
        DIMS,
        product="0000",
        year=2001,
        exports=exports,
        first_life_years=l1,
        second_life_years=l2,
    )
    n = 4000
    ends, years = _simulate(tcs, exports, np.random.default_rng(20261124), n, l1, l2)
    for sink, p in _sinks(res, 0).items():
        freq = ends.count(sink) / n
        se = np.sqrt(max(p * (1 - p), 1e-4) / n)
        assert abs(freq - p) < 4.5 * se, sink
    assert abs(years.mean() - res.years_in_use[0]) < 4.5 * years.std() / np.sqrt(n)


def test_fate_matches_the_dense_system_for_a_pulse() -> None:
    """A one-year pulse with constant coefficients ends in the sinks as the chain predicts."""
    dims = make_dims(2, 1, 40)
    tcs = TransferCoefficients.from_frame(tc_table(SHARES), dims)
    exports = ExportDestinations.from_frame(
        pd.DataFrame(
            {
                "origin": ["R0", "R0", "R1"],
                "destination": ["R1", "ROW", "R0"],
                "to_stage": ["use", "", "preprocessing"],
                "share": [0.5, 0.5, 1.0],
            }
        ),
        dims,
    )
    pom = np.zeros(dims.shape)
    pom[0, 0, 0] = 1000.0
    life = (np.zeros((2, 1), int), shift_matrix(40, 1)[None])
    res = build_system(pom, dims, tcs, life, exports=exports)
    fate = fate_matrix(tcs, dims, product="0000", year=2000, exports=exports)
    final = {
        (r, s): res.stocks[s][i, 0, -1]
        for i, r in enumerate(dims.regions)
        for s in ("recovered", "disposed", "losses")
    }
    final[("ROW", "export")] = sum(f[0, :].sum() for o, d, s, f in res.trade if d == "ROW")
    for sink, p in _sinks(fate, 0).items():
        assert final[sink] == pytest.approx(1000.0 * p, rel=1e-9, abs=1e-9), sink
