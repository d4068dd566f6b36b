"""Monte Carlo bands: ordered percentiles, balance in every draw, seeds, CLI, Dask."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputError
from ewaste_tracker.model.folder import read_inputs_folder
from ewaste_tracker.model.run import ModelInputs, compute_run, prepare_run, run_model
from ewaste_tracker.uncertainty.bands import batch_values, run_bands
from ewaste_tracker.uncertainty.draws import Spreads, draw, draw_space, tile_batch

EXAMPLE = Path(__file__).resolve().parents[1] / "ewaste_tracker" / "data" / "examples"
EXAMPLE = EXAMPLE / "east_africa"


@pytest.fixture(scope="module")
def inputs() -> ModelInputs:
    return read_inputs_folder(EXAMPLE)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32), draws=st.integers(2, 7), batch=st.integers(1, 4))
def test_bands_are_ordered_and_every_draw_balances(
    inputs: ModelInputs, seed: int, draws: int, batch: int
) -> None:
    # check=True runs the mass balance of every node of every draw of each batch
    bands = run_bands(inputs, draws=draws, seed=seed, batch=batch, check=True)
    q = bands.quantiles
    ok = np.isfinite(q).all(axis=1)
    assert ok.mean() > 0.95
    tol = 1e-6 * np.abs(q[ok]).max(axis=1)
    assert (q[ok, 0] <= q[ok, 1] + tol).all() and (q[ok, 1] <= q[ok, 2] + tol).all()


def test_mass_balance_holds_in_each_draw_of_a_batch(inputs: ModelInputs) -> None:
    base = prepare_run(inputs)
    space = draw_space(inputs, base, Spreads())
    out = compute_run(tile_batch(space, [draw(space, 3, d) for d in range(4)]))
    flows = out.system.flows
    n = len(base.regions)
    # per draw: put on market equals what leaves the market; every copy has its own trade
    pom = flows[("sysenv", "manufacture")].reshape(4, n, *base.pom.shape[1:])
    assert not np.allclose(pom[0], pom[1])
    from ewaste_tracker.uncertainty.bands import check_draw_balance

    check_draw_balance(out.system)
    dest = np.asarray(out.system.exports.destination)
    orig = np.asarray(out.system.exports.origin)
    inside = dest >= 0
    assert (dest[inside] // n == orig[inside] // n).all()


def test_same_seed_same_bands_whatever_the_batch(inputs: ModelInputs) -> None:
    a = run_bands(inputs, draws=6, seed=11, batch=1)
    b = run_bands(inputs, draws=6, seed=11, batch=4)
    c = run_bands(inputs, draws=6, seed=12, batch=6)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.quantiles, b.quantiles)
    assert not np.allclose(a.values, c.values, equal_nan=True)


def test_zero_spreads_give_the_central_run(inputs: ModelInputs) -> None:
    """With every spread off, each draw (tiled copy) reproduces the central run exactly."""
    none = Spreads(pom=0, reported_pom=0, lifetime_shape=0, lifetime_scale=0,
                   tc_concentration=1e15, composition=0, recovery=0, prices=0)  # fmt: skip
    bands = run_bands(inputs, draws=3, seed=0, batch=3, spreads=none)
    central = run_model(inputs).indicators["value"].to_numpy()
    np.testing.assert_allclose(bands.quantiles[:, 1], central, rtol=2e-6, atol=1e-3)


def test_batch_values_do_not_depend_on_the_start(inputs: ModelInputs) -> None:
    base = prepare_run(inputs)
    space = draw_space(inputs, base, Spreads())
    cells = np.flatnonzero(np.isfinite(compute_run(base).values.ravel()))
    whole = batch_values(space, 5, 0, 4, cells)
    part = batch_values(space, 5, 2, 4, cells)
    np.testing.assert_array_equal(whole[2:], part)


def test_bad_draw_options_are_input_errors(inputs: ModelInputs) -> None:
    for kwargs in ({"draws": -1}, {"draws": 2, "seed": -3}, {"draws": 2, "batch": 0}):
        with pytest.raises(InputError):
            run_bands(inputs, **kwargs)  # type: ignore[arg-type]


def test_estimate_without_draws_is_unchanged(inputs: ModelInputs) -> None:
    import ewaste_tracker as et

    plain = et.estimate(inputs=inputs)
    zero = et.estimate(inputs=inputs, draws=0)
    assert zero.bands is None and "p5" not in zero.indicators.columns
    pd.testing.assert_frame_equal(plain.indicators, zero.indicators)


def _check_band_table(ind: pd.DataFrame, regions: set[str]) -> None:
    assert {"p5", "p50", "p95"} <= set(ind.columns)
    assert list(ind.columns[:8]) == ["region", "year", "indicator", "element", "value",
                                     "p5", "p50", "p95"]  # fmt: skip
    assert regions <= set(ind["region"])
    for region in regions:
        rows = ind[ind["region"] == region]
        # every indicator of the region has a band wherever it has a value
        has = rows.groupby("indicator")["p50"].apply(lambda s: s.notna().any())
        assert has.all(), has[~has]
    ok = ind[["p5", "p50", "p95"]].notna().all(axis=1)
    assert ok.mean() > 0.95
    x = ind[ok]
    tol = 1e-6 * x[["p5", "p50", "p95"]].abs().max(axis=1)
    assert (x["p5"] <= x["p50"] + tol).all() and (x["p50"] <= x["p95"] + tol).all()


def test_run_draws_writes_bands_for_every_indicator(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["run", "--inputs", str(EXAMPLE), "--draws", "20", "--seed", "7",
                 "--out", str(out), "--format", "csv"])  # fmt: skip
    assert code == 0
    ind = pd.read_csv(out / "indicators.csv", dtype={"region": str})
    _check_band_table(ind, {"KEN", "RWA", "TZA", "UGA", "WLD"})
    meta = json.loads((out / "run.json").read_text())
    assert meta["uncertainty"]["draws"] == 20 and meta["uncertainty"]["seed"] == 7
    prov = pd.read_csv(out / "uncertainty.csv")
    assert prov["source"].str.len().gt(0).all() and len(prov) >= 7
    package = json.loads((out / "datapackage.json").read_text())
    fields = {f["name"] for r in package["resources"] if r["name"] == "indicators"
              for f in r["schema"]["fields"]}  # fmt: skip
    assert {"p5", "p50", "p95"} <= fields
    # the footprint has its bands too (the operators' allocated world total has none)
    fp = pd.read_csv(out / "footprint.csv", dtype={"region": str})
    assert list(fp.columns[4:8]) == ["value", "p5", "p50", "p95"]
    drawn = fp[~fp["indicator"].str.startswith("operators_")]
    assert drawn[["p5", "p50", "p95"]].notna().all().all()
    tol = 1e-6 * drawn[["p5", "p50", "p95"]].abs().max(axis=1)
    assert (drawn["p5"] <= drawn["p50"] + tol).all() and (drawn["p50"] <= drawn["p95"] + tol).all()
    ghg = drawn[(drawn["region"] == "WLD") & (drawn["indicator"] == "embodied_ghg_t_co2e")]
    assert (ghg["p95"] > ghg["p5"]).all()
    fields = {f["name"] for r in package["resources"] if r["name"] == "footprint"
              for f in r["schema"]["fields"]}  # fmt: skip
    assert {"p5", "p50", "p95"} <= fields
    assert prov["input"].str.contains("footprint factors").any()
    el = pd.read_csv(out / "element_flows.csv", dtype={"region": str})
    band = [f"{q}_{p}" for q in ("input_t", "recovered_t", "lost_t") for p in ("p5", "p50", "p95")]
    assert band <= list(el.columns) and el[band].notna().all().all()
    assert (el["lost_t_p5"] <= el["lost_t_p95"] * (1 + 1e-6) + 1e-12).all()
    flows = pd.read_csv(out / "flows.csv", dtype={"region_from": str, "region_to": str})
    assert list(flows.columns[6:10]) == ["value_t", "value_t_p5", "value_t_p50", "value_t_p95"]
    assert flows[["value_t_p5", "value_t_p95"]].notna().all().all()
    fields = {f["name"] for r in package["resources"] if r["name"] == "flows"
              for f in r["schema"]["fields"]}  # fmt: skip
    assert {"value_t_p5", "value_t_p50", "value_t_p95"} <= fields


@pytest.mark.parametrize(
    ("option", "value"),
    [("--draws", "-1"), ("--seed", "x"), ("--scheduler", "nonsense"), ("--batch", "0")],
)
def test_bad_options_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    assert main(["run", "--out", str(tmp_path / "o"), option, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_world_run_with_draws_writes_every_country(tmp_path: Path) -> None:
    out = tmp_path / "world"
    assert main(["run", "--draws", "20", "--seed", "7", "--out", str(out)]) == 0
    ind = pd.read_parquet(out / "indicators.parquet")
    regions = set(ind.loc[ind["region"].str.len() == 3, "region"]) - {"WLD"}
    assert len(regions) > 200
    _check_band_table(ind, {*regions, "WLD"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_scheduler_with_two_workers_gives_the_local_bands(
    inputs: ModelInputs, tmp_path: Path
) -> None:
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    if dask is None:
        pytest.skip("the dask command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    try:
        time.sleep(3)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1"], cwd=tmp_path,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        remote = run_bands(inputs, draws=12, seed=7, batch=3, scheduler=address)
        assert remote.workers == 2
        local = run_bands(inputs, draws=12, seed=7, batch=5)
        np.testing.assert_array_equal(remote.quantiles, local.quantiles)
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_unreachable_scheduler_is_an_input_error(
    inputs: ModelInputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ewaste_tracker.uncertainty.bands as bands_module

    monkeypatch.setattr(bands_module, "CONNECT_TIMEOUT", "1s")
    port = _free_port()
    with pytest.raises(InputError, match="scheduler"):
        run_bands(inputs, draws=2, scheduler=f"tcp://127.0.0.1:{port}")


def test_scenario_difference_has_a_range_from_common_draws(inputs: ModelInputs) -> None:
    import ewaste_tracker as et
    from ewaste_tracker.scenario import Levers, scenario_bands

    est = et.estimate(inputs=inputs)
    levers = Levers(collection_share=0.8, products=tuple(est.result.dims.products))
    table = scenario_bands(est, levers, draws=12, seed=3, batch=4,
                           indicators=["collected_formal_t", "generated_t"])  # fmt: skip
    assert len(table) and set(table["indicator"]) == {"collected_formal_t", "generated_t"}
    q = table[["difference_p5", "difference_p50", "difference_p95"]].to_numpy()
    ok = np.isfinite(q).all(axis=1)
    tol = 1e-3 + 1e-6 * np.abs(q[ok]).max(axis=1)
    assert (q[ok, 0] <= q[ok, 1] + tol).all() and (q[ok, 1] <= q[ok, 2] + tol).all()
    wld = table[(table["region"] == "WLD") & (table["year"] == 2022)].set_index("indicator")
    assert wld.loc["collected_formal_t", "difference"] > 0
    assert wld.loc["collected_formal_t", "difference_p5"] > 0  # more collection in every band
    # same draws: the range of the difference is narrower than the bands side by side
    before = run_bands(inputs, draws=12, seed=3)
    row = est.result.indicators
    cell = np.flatnonzero(((row["region"] == "WLD") & (row["year"] == 2022)
                           & (row["indicator"] == "generated_t")).to_numpy())[0]  # fmt: skip
    width_before = before.quantiles[cell, 2] - before.quantiles[cell, 0]
    g = wld.loc["generated_t"]
    assert g["difference_p95"] - g["difference_p5"] < width_before


def test_bounded_memory_sketch_matches_the_exact_percentiles(inputs: ModelInputs) -> None:
    exact = run_bands(inputs, draws=60, seed=4, batch=8, method="exact")
    sketch = run_bands(inputs, draws=60, seed=4, batch=8, method="sketch")
    again = run_bands(inputs, draws=60, seed=4, batch=25, method="sketch")
    assert sketch.values is None and sketch.method == "sketch"
    np.testing.assert_array_equal(sketch.quantiles, again.quantiles)  # order-free counts
    q, s = exact.quantiles, sketch.quantiles
    ok = np.isfinite(q).all(axis=1) & (np.abs(q[:, 1]) > 1e-6)
    # within a bin (2.6 % of the value) plus the gap between neighbouring draws
    spread = np.abs(q[ok, 2] - q[ok, 0])
    err = np.abs(s[ok] - q[ok])
    assert (err <= 0.02 * np.abs(q[ok]) + 0.1 * spread[:, None] + 1e-9).mean() > 0.99
