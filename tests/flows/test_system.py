"""The lifecycle system: dense flows, second-life feedback, trade, and its graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from ewaste_tracker.flows.balance import check_mass_balance
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.system import SystemResult, build_system, system_to_graph
from ewaste_tracker.flows.transfer import ExportDestinations, TransferCoefficients

COLUMNS = ["region", "product", "year", "from_stage", "to_stage", "share"]
#: A realistic set of global default shares (blank region/product/year).
DEFAULT_SHARES = {
    "generated": {"collection_formal": 0.4, "collection_informal": 0.4, "residual": 0.2},
    "collection_formal": {"refurbishment": 0.1, "preprocessing": 0.85, "export": 0.05},
    "collection_informal": {
        "refurbishment": 0.2,
        "preprocessing": 0.1,
        "recycling_informal": 0.5,
        "residual": 0.1,
        "export": 0.1,
    },
    "refurbishment": {"use": 0.7, "preprocessing": 0.3},
    "preprocessing": {"endprocessing": 0.9, "residual": 0.1},
    "endprocessing": {"recovered": 0.95, "losses": 0.05},
    "recycling_informal": {"recovered": 0.3, "losses": 0.7},
}


def tc_table(shares: dict[str, dict[str, float]] = DEFAULT_SHARES, **keys: object) -> pd.DataFrame:
    """Tidy TC table from ``{from_stage: {to_stage: share}}`` with optional fixed keys."""
    rows = [
        {
            "region": "",
            "product": "",
            "year": "",
            **keys,
            "from_stage": a,
            "to_stage": b,
            "share": s,
        }
        for a, out in shares.items()
        for b, s in out.items()
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def weibull_matrix(n: int, shape: float, scale: float) -> np.ndarray:
    """UNU convention: share of a cohort discarded at age k is the Weibull pdf at k + 0.5."""
    age = np.arange(n)[:, None] - np.arange(n)[None, :]
    m = stats.weibull_min.pdf(np.maximum(age, 0) + 0.5, shape, scale=scale)
    return np.where(age >= 0, m, 0.0)


def shift_matrix(n: int, life: int) -> np.ndarray:
    """Every device is discarded exactly ``life`` years after it entered use."""
    return np.eye(n, k=-life)


def make_dims(nr: int, npr: int, ny: int, start: int = 2000) -> Dims:
    return Dims(
        regions=tuple(f"R{i}" for i in range(nr)),
        products=tuple(f"{i:04d}" for i in range(npr)),
        years=np.arange(start, start + ny),
    )


def test_hand_computed_single_region() -> None:
    """One region, fixed 1-year lifetimes: every flow follows from the shares by hand."""
    dims = make_dims(1, 1, 4)
    tcs = TransferCoefficients.from_frame(tc_table(), dims)
    pom = np.array([[[100.0, 0.0, 0.0, 0.0]]])
    m = shift_matrix(4, 1)[None]
    res = build_system(pom, dims, tcs, (np.zeros((1, 1), int), m))
    reuse = 0.4 * 0.1 * 0.7 + 0.4 * 0.2 * 0.7  # share of WG that re-enters use
    wg = res.generated[0, 0]
    np.testing.assert_allclose(wg, [0.0, 100.0, 100 * reuse, 100 * reuse**2], rtol=1e-12)
    f = res.flows
    np.testing.assert_allclose(f[("generated", "residual")][0, 0, 1], 20.0)
    np.testing.assert_allclose(f[("refurbishment", "use")][0, 0, 1], 100 * reuse)
    pre = 100 * (0.4 * 0.85 + 0.4 * 0.1 + (0.4 * 0.1 + 0.4 * 0.2) * 0.3)
    np.testing.assert_allclose(f[("preprocessing", "endprocessing")][0, 0, 1], 0.9 * pre)
    # use stock: 100 in year 0, then what was reused and not yet discarded
    np.testing.assert_allclose(
        res.use_stock[0, 0], [100.0, 100 * reuse, 100 * reuse**2, 0.0 + 100 * reuse**3]
    )
    # the only export destination is ROW
    assert res.trade[0][:3] == ("R0", "ROW", "sysenv")
    exports = 100 * (0.4 * 0.05 + 0.4 * 0.1)
    np.testing.assert_allclose(res.trade[0][3][0, 1], exports)


def test_wg_follows_first_and_second_life_lifetimes() -> None:
    """WG = M POM + M2 (second-life inflow): the recurrence solves the same-year coupling."""
    dims = make_dims(3, 2, 30)
    rng = np.random.default_rng(1)
    pom = rng.uniform(0, 50, dims.shape)
    M = np.stack([weibull_matrix(30, 1.6, 5.0), weibull_matrix(30, 2.0, 9.0)])
    M2 = np.stack([weibull_matrix(30, 1.2, 1.5), weibull_matrix(30, 1.5, 3.0)])
    group = rng.integers(0, 2, (3, 2))
    group2 = rng.integers(0, 2, (3, 2))
    tcs = TransferCoefficients.from_frame(tc_table(), dims)
    res = build_system(pom, dims, tcs, (group, M), second_life=(group2, M2))
    second = res.flows[("refurbishment", "use")]
    expected = np.einsum("rpnc,rpc->rpn", M[group], pom) + np.einsum(
        "rpnc,rpc->rpn", M2[group2], second
    )
    np.testing.assert_allclose(res.generated, expected, rtol=1e-12)


def test_without_reuse_matches_inflow_driven_stock_model() -> None:
    """With no refurbishment, WG and the use stock are those of the inflow-driven model."""
    stocks = pytest.importorskip("ewaste_tracker.flows.stocks")
    dims = make_dims(2, 3, 25)
    shares = {k: dict(v) for k, v in DEFAULT_SHARES.items()}
    shares["refurbishment"] = {"use": 0.0, "preprocessing": 1.0}
    tcs = TransferCoefficients.from_frame(tc_table(shares), dims)
    pom = np.random.default_rng(2).uniform(0, 10, dims.shape)
    M = np.stack([weibull_matrix(25, 1.56, 6.26)])
    group = np.zeros((2, 3), int)
    res = build_system(pom, dims, tcs, (group, M))
    ref = stocks.inflow_driven(pom, group, M)
    np.testing.assert_allclose(res.generated, ref.outflow, rtol=1e-12)
    np.testing.assert_allclose(res.use_stock, ref.stock, rtol=1e-12, atol=1e-12)


def test_used_eee_trade_couples_regions_in_the_same_year() -> None:
    """Used EEE exported into another region's use re-enters use there for a second life."""
    dims = make_dims(2, 1, 20)
    tcs = TransferCoefficients.from_frame(tc_table(), dims)
    exports = ExportDestinations.from_frame(
        pd.DataFrame(
            {
                "origin": ["R0", "R0", "R1"],
                "destination": ["R1", "ROW", "R0"],
                "to_stage": ["use", "", "refurbishment"],
                "share": [0.6, 0.4, 1.0],
            }
        ),
        dims,
    )
    pom = np.full(dims.shape, 10.0)
    M = weibull_matrix(20, 1.5, 4.0)[None]
    M2 = weibull_matrix(20, 1.2, 0.8)[None]  # a large same-year discard share
    g = np.zeros((2, 1), int)
    res = build_system(pom, dims, tcs, (g, M), second_life=(g, M2), exports=exports)
    assert res.iterations > 1
    trade = {(o, d, s): f for o, d, s, f in res.trade}
    imported_use = trade[("R0", "R1", "use")]
    second = res.flows[("refurbishment", "use")].copy()
    second[1] += imported_use
    expected = np.einsum("nc,rpc->rpn", M[0], pom) + np.einsum("nc,rpc->rpn", M2[0], second)
    np.testing.assert_allclose(res.generated, expected, rtol=1e-12)
    # R1's refurbishment receives R1 -> R0 shipments into R0's refurbishment
    refurb_in_r0 = (
        res.flows[("collection_formal", "refurbishment")][0]
        + res.flows[("collection_informal", "refurbishment")][0]
        + trade[("R1", "R0", "refurbishment")]
    )
    np.testing.assert_allclose(
        res.flows[("refurbishment", "use")][0], 0.7 * refurb_in_r0, rtol=1e-12
    )
    check_mass_balance(system_to_graph(res))


def test_graph_edges_are_views_of_the_dense_arrays() -> None:
    dims = make_dims(2, 2, 5)
    tcs = TransferCoefficients.from_frame(tc_table(), dims)
    res = build_system(
        np.ones(dims.shape), dims, tcs, (np.zeros((2, 2), int), shift_matrix(5, 2)[None])
    )
    G = system_to_graph(res)
    flow = G.edges[("R1", "generated"), ("R1", "residual")]["flow"]
    assert flow.shape == (2, 5)
    assert np.shares_memory(flow, res.flows[("generated", "residual")])
    assert not flow.flags.writeable
    assert G.nodes[("R0", "use")]["stock"].shape == (2, 5)
    assert "stock" in G.nodes[("R0", "recovered")] and "stock" not in G.nodes[("R0", "market")]
    assert G.has_edge(("sysenv", "sysenv"), ("R0", "manufacture"))
    assert G.has_edge(("R0", "export"), ("sysenv", "sysenv"))
    assert isinstance(G, nx.DiGraph) and G.graph["regions"] == ("R0", "R1")


def test_invalid_inputs_are_named() -> None:
    dims = make_dims(1, 1, 3)
    tcs = TransferCoefficients.from_frame(tc_table(), dims)
    life = (np.zeros((1, 1), int), shift_matrix(3, 1)[None])
    with pytest.raises(ValueError, match="pom has shape"):
        build_system(np.ones((1, 1, 4)), dims, tcs, life)
    with pytest.raises(ValueError, match="year 2001"):
        build_system(np.array([[[1.0, -1.0, 0.0]]]), dims, tcs, life)
    upper = (np.zeros((1, 1), int), np.triu(np.ones((1, 3, 3))))
    with pytest.raises(ValueError, match="before it is put on market"):
        build_system(np.ones((1, 1, 3)), dims, tcs, upper)
    loop = {k: dict(v) for k, v in DEFAULT_SHARES.items()}
    loop["generated"] = {"collection_formal": 1.0}
    loop["collection_formal"] = {"refurbishment": 1.0}
    loop["refurbishment"] = {"use": 1.0}
    tloop = TransferCoefficients.from_frame(tc_table(loop), dims)
    with pytest.raises(ValueError, match="infinite loop"):
        build_system(np.ones((1, 1, 3)), dims, tloop, life, second_life=(life[0], np.eye(3)[None]))


# --- invariants on random systems ---------------------------------------------------------


@st.composite
def systems(draw: st.DrawFn, nr: int | None = None) -> tuple:
    """Random dims, POM, lifetimes, region/year-varying shares and used-EEE trade."""
    nr = nr or draw(st.integers(1, 3))
    npr = draw(st.integers(1, 2))
    ny = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dims = make_dims(nr, npr, ny)
    frames = [tc_table()]
    for r in range(nr):
        for node, out in DEFAULT_SHARES.items():
            if rng.random() < 0.5:
                shares = rng.dirichlet(np.ones(len(out))) * (rng.random(len(out)) > 0.2)
                shares = shares / shares.sum() if shares.sum() > 0 else np.eye(len(out))[0]
                year = str(dims.years[rng.integers(ny)]) if rng.random() < 0.3 else ""
                frames.append(
                    tc_table({node: dict(zip(out, shares, strict=True))}, region=f"R{r}", year=year)
                )
    tcs = TransferCoefficients.from_frame(pd.concat(frames, ignore_index=True), dims)
    exports = None
    if nr > 1 and draw(st.booleans()):
        rows = []
        for r in range(nr):
            w = rng.dirichlet(np.ones(3))
            d = (r + 1) % nr
            rows += [
                (f"R{r}", f"R{d}", "use", w[0]),
                (
                    f"R{r}",
                    f"R{d}",
                    ["refurbishment", "preprocessing", "recycling_informal"][r % 3],
                    w[1],
                ),
                (f"R{r}", "ROW", "", w[2]),
            ]
        exports = ExportDestinations.from_frame(
            pd.DataFrame(rows, columns=["origin", "destination", "to_stage", "share"]), dims
        )
    pom = rng.uniform(0, 100, dims.shape) * (rng.random(dims.shape) > 0.2)
    M = np.stack([weibull_matrix(ny, rng.uniform(0.8, 3), rng.uniform(0.5, 10)) for _ in range(2)])
    M2 = np.stack([weibull_matrix(ny, rng.uniform(0.8, 3), rng.uniform(0.3, 5)) for _ in range(2)])
    group = rng.integers(0, 2, (nr, npr))
    group2 = rng.integers(0, 2, (nr, npr))
    return dims, pom, tcs, (group, M), (group2, M2), exports


@given(systems())
def test_random_systems_balance_and_are_non_negative(system: tuple) -> None:
    dims, pom, tcs, life, second, exports = system
    try:
        res = build_system(pom, dims, tcs, life, second_life=second, exports=exports)
    except ValueError as exc:  # full reuse with certain same-year discard: refused by design
        assume("infinite loop" not in str(exc))
        raise
    table = check_mass_balance(system_to_graph(res))
    assert table["ok"].all()
    for key, flow in res.flows.items():
        assert (flow >= -1e-12 * max(1.0, pom.max())).all(), key
    assert (res.trade_flows >= 0).all()
    for stage in ("recovered", "disposed", "losses"):
        assert (np.diff(res.stocks[stage], axis=-1) >= -1e-9).all()


@given(systems(nr=1))
def test_sub_regions_add_up_to_their_aggregate(system: tuple) -> None:
    """Two sub-regions with the same coefficients and lifetimes add up to one region."""
    dims1, pom, tcs1, (g, M), (g2, M2), _ = system
    table = tcs1.to_frame().drop(columns="region")
    dims2 = Dims(regions=("A", "B"), products=dims1.products, years=dims1.years)
    tcs2 = TransferCoefficients.from_frame(table, dims2)
    split = np.random.default_rng(0).uniform(0, 1, pom.shape)
    pom2 = np.concatenate([pom * split, pom * (1 - split)])
    life2 = (np.repeat(g, 2, axis=0), M)
    second2 = (np.repeat(g2, 2, axis=0), M2)
    try:
        agg: SystemResult = build_system(pom, dims1, tcs1, (g, M), second_life=(g2, M2))
    except ValueError as exc:  # full reuse with certain same-year discard: refused by design
        assume("infinite loop" not in str(exc))
        raise
    parts = build_system(pom2, dims2, tcs2, life2, second_life=second2)
    for key, flow in agg.flows.items():
        np.testing.assert_allclose(
            parts.flows[key].sum(axis=0), flow[0], rtol=1e-10, atol=1e-9, err_msg=str(key)
        )
    np.testing.assert_allclose(parts.use_stock.sum(0), agg.use_stock[0], rtol=1e-10, atol=1e-9)


@given(systems(), st.integers(1, 3), st.integers(1, 2), st.booleans())
def test_blocked_computation_equals_unblocked(
    system: tuple, year_block: int, region_block: int, gathered: bool
) -> None:
    """Tiny year blocks of the second-life recurrence, tiny region blocks of the flows and
    the gathered (many lifetime groups) update give the flows of one block over everything."""
    dims, pom, tcs, life, second, exports = system
    import ewaste_tracker.flows.system as system_module

    def run() -> SystemResult:
        return build_system(pom, dims, tcs, life, second_life=second, exports=exports)

    try:
        with pytest.MonkeyPatch.context() as mp:  # one block of every year and every region
            mp.setattr(system_module, "_BLOCK", len(dims.years))
            mp.setattr(system_module, "_FLOW_BLOCK", len(dims.regions))
            whole = run()
    except ValueError as exc:  # full reuse with certain same-year discard: refused by design
        assume("infinite loop" not in str(exc))
        raise
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(system_module, "_BLOCK", year_block)
        mp.setattr(system_module, "_FLOW_BLOCK", region_block)
        if gathered:
            mp.setattr(system_module, "_MAX_GROUP_LOOP", 0)
        blocked = run()
    scale = max(1.0, float(pom.max()))
    for key, flow in whole.flows.items():
        np.testing.assert_allclose(blocked.flows[key], flow, rtol=1e-12, atol=1e-12 * scale)
    for stage, stock in whole.stocks.items():
        np.testing.assert_allclose(
            blocked.stocks[stage], stock, rtol=1e-12, atol=1e-11 * scale, err_msg=stage
        )
    np.testing.assert_allclose(blocked.trade_flows, whole.trade_flows, rtol=1e-12,
                               atol=1e-12 * scale)  # fmt: skip
