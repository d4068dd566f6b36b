"""Site selection: exact optima (brute force, spopt), mass conservation, files and errors."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog

from ewaste_tracker.maps.pmedian import solve_pmedian
from ewaste_tracker.maps.siting import (
    SitingInputError,
    coverage,
    plan_sites,
    read_costs,
    read_demand,
)
from ewaste_tracker.maps.siting_solvers import (
    SitingError,
    solve_lscp,
    solve_mclp,
    solve_pmedian_capacitated,
)


def _instance(seed, n=9, m=6, p_inf=0.2):
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 30, (n, m)).astype(float)
    cost[rng.random((n, m)) < p_inf] = np.inf
    w = rng.integers(0, 6, n).astype(float)
    return cost, w


def _brute_pmedian(cost, w, p, fixed=()):
    best = np.inf
    need = np.isfinite(cost).any(axis=1) & (w > 0)
    for s in itertools.combinations(range(cost.shape[1]), p):
        if not set(fixed) <= set(s):
            continue
        d = cost[:, list(s)].min(axis=1)[need]
        if np.isfinite(d).all():
            best = min(best, float((w[need] * d).sum()))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_pmedian_equals_brute_force(seed):
    cost, w = _instance(seed)
    p = 1 + seed % 4
    fixed = (seed % 6,) if seed % 3 == 0 and p > 1 else ()
    want = _brute_pmedian(cost, w, p, fixed)
    if not np.isfinite(want):
        with pytest.raises(SitingError):
            solve_pmedian(cost, w, p, fixed=np.array(fixed, int))
        return
    sol = solve_pmedian(cost, w, p, fixed=np.array(fixed, int))
    assert sol.objective == pytest.approx(want)
    assert sol.status == "optimal" and sol.gap == 0
    assert sol.open.sum() == p and all(sol.open[list(fixed)])


@pytest.mark.parametrize("seed", range(20))
def test_mclp_and_lscp_equal_brute_force(seed):
    cost, w = _instance(seed, n=10, m=6)
    t, p = 12.0, 1 + seed % 3
    cov = cost <= t
    best_cover = max(
        w[cov[:, list(s)].any(axis=1)].sum() for s in itertools.combinations(range(6), p)
    )
    sol = solve_mclp(cost, w, p, t)
    assert sol.objective == pytest.approx(best_cover)
    coverable = cov.any(axis=1)
    fewest = next(
        k
        for k in range(1, 7)
        for s in itertools.combinations(range(6), k)
        if cov[:, list(s)].any(axis=1)[coverable].all()
    )
    lscp = solve_lscp(cost, t)
    assert lscp.objective == fewest
    assert set(lscp.excluded) == set(np.flatnonzero(~coverable))


def _transport_cost(cost, w, cap, sites):
    """Cheapest fractional assignment of all demand to the given sites (a small LP)."""
    sub = cost[:, sites]
    ok = np.isfinite(sub)
    n, k = sub.shape
    idx = np.argwhere(ok)
    c = w[idx[:, 0]] * sub[ok]
    a_eq = np.zeros((n, idx.shape[0]))
    a_eq[idx[:, 0], np.arange(idx.shape[0])] = 1
    a_ub = np.zeros((k, idx.shape[0]))
    a_ub[idx[:, 1], np.arange(idx.shape[0])] = w[idx[:, 0]]
    keep = w > 0
    res = linprog(c, A_ub=a_ub, b_ub=cap[sites], A_eq=a_eq[keep], b_eq=np.ones(keep.sum()))
    return res.fun if res.status == 0 else np.inf


@pytest.mark.parametrize("seed", range(8))
def test_capacitated_pmedian_equals_enumeration_and_respects_capacity(seed):
    cost, w = _instance(seed, n=8, m=5, p_inf=0.0)
    cap = np.full(5, w.sum() / 2 + 1)
    p = 2 + seed % 2
    want = min(_transport_cost(cost, w, cap, list(s)) for s in itertools.combinations(range(5), p))
    sol = solve_pmedian_capacitated(cost, w, p, cap)
    assert sol.objective == pytest.approx(want, rel=1e-6)
    load = np.bincount(sol.cols, weights=w[sol.rows] * sol.frac, minlength=5)
    assert (load <= cap + 1e-6).all()


def _medium(seed, n, m):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    cost = np.round(np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1)) * 60, 1)
    return cost, rng.integers(1, 10, n).astype(float)


@pytest.mark.slow
def test_pmedian_and_mclp_match_spopt_on_the_same_matrix():
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    cost, w = _medium(0, 60, 15)
    ref = locate.PMedian.from_cost_matrix(cost, w, p_facilities=4)
    ref.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ref.problem.sol_status == 1
    assert solve_pmedian(cost, w, 4).objective == pytest.approx(pulp.value(ref.problem.objective))
    cost, w = _medium(1, 300, 40)
    ref = locate.MCLP.from_cost_matrix(cost, w, service_radius=10.0, p_facilities=6)
    ref.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ref.problem.sol_status == 1
    got = solve_mclp(cost, w, 6, 10.0).objective
    assert got == pytest.approx(pulp.value(ref.problem.objective))


def test_time_limit_returns_a_solution_with_a_valid_gap():
    cost, w = _medium(2, 400, 80)
    sol = solve_pmedian(cost, w, 10, time_limit=0.5)
    assert sol.open.sum() == 10
    assert sol.bound <= sol.objective * (1 + 1e-9)
    assert 0 <= sol.gap <= 1
    if sol.status == "optimal":
        assert sol.gap == 0


def _frames(seed, n=30, m=8):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1, 20, (n, m))
    cost[rng.random((n, m)) < 0.3] = np.inf
    dem = pd.DataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "weight": rng.gamma(2.0, 1.0, n),
            "population": rng.integers(1, 100, n),
            "au_g_per_t": rng.uniform(0, 300, n),
            "cu_g_per_t": rng.uniform(1e4, 2e5, n),
        }
    )
    cand = pd.DataFrame({"candidate_id": [f"c{j}" for j in range(m)], "cap": 15.0})
    costs = pd.DataFrame(
        [(f"d{i}", f"c{j}", cost[i, j]) for i, j in np.argwhere(np.isfinite(cost))],
        columns=["demand_id", "candidate_id", "cost"],
    )
    return dem, cand, costs


@given(st.integers(0, 10_000), st.sampled_from(["pmedian", "mclp", "lscp"]), st.booleans())
def test_tonnes_and_metals_are_conserved(seed, model, capacitated):
    dem, cand, costs = _frames(seed)
    kw = {"capacity": "cap"} if capacitated else {}
    try:
        res = plan_sites(demand=dem, candidates=cand, costs=costs, model=model, p=4,
                         minutes=10.0, **kw)  # fmt: skip
    except SitingError:  # capacities can make an instance infeasible
        return
    total = dem["weight"].sum()
    served = res.assignments["tonnes"].sum()
    assert served + res.unserved["unserved_t"].sum() == pytest.approx(total)
    assert res.sites["tonnes"].sum() == pytest.approx(served)
    assert (res.assignments["tonnes"] >= -1e-12).all()
    au = (res.assignments.merge(dem, on="demand_id").eval("tonnes * au_g_per_t")).sum()
    assert res.sites["au_g"].sum() == pytest.approx(au)
    if capacitated:
        assert (res.sites["tonnes"] <= res.sites["cap"] + 1e-6).all()
    if model != "lscp":
        assert len(res.chosen) == 4


def test_fixed_sites_stay_open_and_coverage_is_reported_before_and_after():
    dem, cand, costs = _frames(5)
    res = plan_sites(demand=dem, candidates=cand, costs=costs, model="mclp", p=3, minutes=8.0,
                     fixed=["c2"])  # fmt: skip
    assert "c2" in res.chosen
    assert res.sites.set_index("candidate_id").loc["c2", "fixed"]
    b, a = res.coverage_before, res.coverage_after
    assert 0 <= b["weight_share"] <= a["weight_share"] <= 1
    assert a["weight_share"] == pytest.approx(res.objective / dem["weight"].sum())
    assert a["population_share"] is not None


def test_coverage_counts_only_open_sites():
    cost = np.array([[1.0, 9.0], [9.0, 1.0]])
    out = coverage(cost, np.array([True, False]), 5.0, np.array([3.0, 1.0]), np.array([1, 1]))
    assert out["weight_share"] == 0.75 and out["population_share"] == 0.5


def test_cost_files_in_and_result_files_out(tmp_path):
    dem, _cand, costs = _frames(7)
    dem.to_csv(tmp_path / "demand.csv", index=False)
    costs.to_csv(tmp_path / "costs.csv", index=False)
    res = plan_sites(demand=tmp_path / "demand.csv", costs=tmp_path / "costs.csv",
                     model="pmedian", p=3)  # fmt: skip
    paths = res.to_files(tmp_path / "out")
    summary = json.loads(paths["summary"].read_text())
    assert {"model", "objective", "gap", "solve_seconds", "chosen"} <= set(summary)
    assert summary["chosen"] == res.chosen and summary["gap"] == 0
    asg = pd.read_csv(paths["assignments"])
    obj = (asg["tonnes"] * asg["cost"]).sum()
    assert summary["objective"] == pytest.approx(obj)
    sites = gpd.read_file(paths["sites"])
    assert sorted(sites["candidate_id"]) == sorted(res.chosen)
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left


def test_input_errors_name_file_row_and_column(tmp_path):
    bad = tmp_path / "demand.csv"
    bad.write_text("demand_id,weight,lon,lat\na,1,24.9,60.1\nb,-2,24.9,60.1\n")
    with pytest.raises(SitingInputError, match=r"demand\.csv, row 3, column 'weight'"):
        read_demand(bad)
    bad.write_text("demand_id,weight,lon,lat\na,1,24.9,60.1\na,2,24.9,60.1\n")
    with pytest.raises(SitingInputError, match=r"row 3, column 'demand_id': duplicate"):
        read_demand(bad)
    bad.write_text("demand_id,weight,lon,lat\na,1,240.9,60.1\n")
    with pytest.raises(SitingInputError, match=r"row 2, column 'lon'"):
        read_demand(bad)
    costs = tmp_path / "costs.csv"
    costs.write_text("demand_id,candidate_id,cost\na,x,3\na,x,4\n")
    with pytest.raises(SitingInputError, match=r"costs\.csv, row 3: repeated"):
        read_costs(costs)
    costs.write_text("demand_id,candidate,cost\n")
    with pytest.raises(SitingInputError, match="column 'candidate_id'"):
        read_costs(costs)


def test_models_need_their_parameters():
    dem, _cand, costs = _frames(1)
    with pytest.raises(SitingInputError, match="needs p"):
        plan_sites(demand=dem, costs=costs, model="pmedian")
    with pytest.raises(SitingInputError, match="needs minutes"):
        plan_sites(demand=dem, costs=costs, model="mclp", p=2)
    with pytest.raises(SitingInputError, match="unknown model"):
        plan_sites(demand=dem, costs=costs, model="center", p=2)
    with pytest.raises(SitingInputError, match="not among the candidates"):
        plan_sites(demand=dem, costs=costs, model="pmedian", p=2, fixed=["zz"])


def test_helsinki_network_end_to_end_with_osm_candidates():
    from ewaste_tracker.maps.network import graph_from_file, helsinki_pbf, osm_candidates

    G = graph_from_file(helsinki_pbf(), network_type="walk")
    rng = np.random.default_rng(0)
    x = np.array([d["x"] for _, d in G.nodes(data=True)])
    y = np.array([d["y"] for _, d in G.nodes(data=True)])
    n = 120
    dem = gpd.GeoDataFrame(
        {"demand_id": [f"cell{i}" for i in range(n)], "weight": rng.gamma(2, 0.5, n)},
        geometry=gpd.points_from_xy(rng.uniform(x.min(), x.max(), n),
                                    rng.uniform(y.min(), y.max(), n)),
        crs="EPSG:4326",
    )  # fmt: skip
    cand = osm_candidates(helsinki_pbf())
    cand["fixed"] = cand["kind"].eq("amenity=recycling")
    res = plan_sites(G, dem, cand, model="mclp", p=5, minutes=6.0,
                     composition={"Au": 100.0, "Cu": 1e5})  # fmt: skip
    assert res.status == "optimal"
    assert set(cand.loc[cand["fixed"], "candidate_id"]) <= set(res.chosen)
    assert res.coverage_after["weight_share"] >= res.coverage_before["weight_share"]
    assert res.sites["au_g"].sum() == pytest.approx(100 * res.sites["tonnes"].sum())
    fmap = res.to_map()
    html = fmap.get_root().render()
    assert "tile.openstreetmap" not in html
