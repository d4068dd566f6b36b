"""The ``plan-sites`` subcommand: the file contract, optimality and error handling."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ewaste_tracker.cli import main


@pytest.fixture
def instance(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n_d, n_c = 25, 7
    weight = rng.uniform(1, 10, n_d)
    cost = rng.uniform(1, 40, (n_d, n_c))
    demand = tmp_path / "demand.csv"
    pd.DataFrame({"demand_id": [f"d{i}" for i in range(n_d)], "weight": weight}).to_csv(
        demand, index=False
    )
    rows = [(f"d{i}", f"c{j}", cost[i, j]) for i in range(n_d) for j in range(n_c)]
    costs = tmp_path / "costs.csv"
    pd.DataFrame(rows, columns=["demand_id", "candidate_id", "cost"]).to_csv(costs, index=False)
    return demand, costs, weight, cost


def test_pmedian_from_a_cost_table_is_the_brute_force_optimum(instance, tmp_path: Path) -> None:
    demand, costs, weight, cost = instance
    out = tmp_path / "out"
    args = ["plan-sites", "--demand", str(demand), "--costs", str(costs), "--model", "pmedian",
            "--p", "3", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    best = min(
        (weight * cost[:, list(c)].min(axis=1)).sum()
        for c in itertools.combinations(range(cost.shape[1]), 3)
    )
    assert summary["objective"] == pytest.approx(best, rel=1e-9)
    assert summary["gap"] <= 1e-9 and len(summary["chosen"]) == 3
    for key in ("model", "objective", "gap", "solve_seconds", "chosen"):
        assert key in summary
    assignments = pd.read_csv(out / "assignments.csv")
    assert set(assignments["candidate_id"].dropna()) <= set(summary["chosen"])
    assert (out / "sites.geojson").is_file()


def test_log_lines_name_the_output_folder_not_the_staging_folder(
    instance, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    demand, costs, _, _ = instance
    out = tmp_path / "plan"
    args = ["plan-sites", "--demand", str(demand), "--costs", str(costs), "--model", "pmedian",
            "--p", "2", "--out", str(out)]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="ewaste_tracker"):
        assert main(args) == 0
    assert f"wrote {out.resolve()}" in caplog.text
    assert ".ewt-staging" not in caplog.text


def test_the_solver_prints_nothing(instance, tmp_path: Path) -> None:
    # a fresh process: HiGHS prints its banner when the first solver of a process is made
    demand, costs, _, _ = instance
    args = ["-m", "ewaste_tracker", "-q", "plan-sites", "--demand", str(demand), "--costs",
            str(costs), "--model", "mclp", "--p", "2", "--minutes", "10", "--out",
            str(tmp_path / "plan")]  # fmt: skip
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_mclp_objective_is_the_covered_weight(instance, tmp_path: Path) -> None:
    demand, costs, weight, cost = instance
    out = tmp_path / "out"
    args = ["plan-sites", "--demand", str(demand), "--costs", str(costs), "--model", "mclp",
            "--p", "2", "--minutes", "10", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    best = max(
        weight[(cost[:, list(c)] <= 10).any(axis=1)].sum()
        for c in itertools.combinations(range(cost.shape[1]), 2)
    )
    assert summary["objective"] == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "pmedian"], "--p"),
        (["--model", "mclp", "--p", "2"], "--minutes"),
    ],
)
def test_missing_options_exit_2(instance, tmp_path: Path, capsys, extra, message) -> None:
    demand, costs, _, _ = instance
    out = tmp_path / "out"
    args = ["plan-sites", "--demand", str(demand), "--costs", str(costs), *extra,
            "--out", str(out)]  # fmt: skip
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_cost_row_is_named_and_nothing_written(instance, tmp_path: Path, capsys) -> None:
    demand, costs, _, _ = instance
    text = costs.read_text().splitlines()
    text[3] = "d0,c2,-5"
    costs.write_text("\n".join(text) + "\n")
    out = tmp_path / "out"
    args = ["plan-sites", "--demand", str(demand), "--costs", str(costs), "--model", "pmedian",
            "--p", "2", "--out", str(out)]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "costs.csv" in err and "row 4" in err and "cost" in err, err
    assert not out.exists()


def test_helsinki_network_end_to_end(tmp_path: Path) -> None:
    from ewaste_tracker.maps.network import helsinki_pbf

    demand = tmp_path / "demand.csv"
    pts = [(24.9384, 60.1699), (24.9458, 60.1718), (24.9525, 60.1675), (24.9300, 60.1640),
           (24.9410, 60.1610), (24.9560, 60.1730)]  # fmt: skip
    pd.DataFrame(
        {
            "demand_id": [f"d{i}" for i in range(len(pts))],
            "weight": [3.0, 1.0, 2.0, 4.0, 1.5, 2.5],
            "lon": [p[0] for p in pts],
            "lat": [p[1] for p in pts],
            "au_g_per_t": 0.2,
        }
    ).to_csv(demand, index=False)
    candidates = tmp_path / "candidates.csv"
    pd.DataFrame(
        {
            "candidate_id": ["a", "b", "c"],
            "lon": [24.9400, 24.9500, 24.9350],
            "lat": [60.1690, 60.1700, 60.1650],
        }
    ).to_csv(candidates, index=False)
    out = tmp_path / "out"
    args = ["plan-sites", "--network", str(helsinki_pbf()), "--demand", str(demand),
            "--candidates", str(candidates), "--model", "mclp", "--p", "1", "--minutes", "3",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and len(summary["chosen"]) == 1
    assert 0 < summary["objective"] <= 14.0
    sites = json.loads((out / "sites.geojson").read_text())
    assert len(sites["features"]) == 1
    from ewaste_tracker.maps.assets import remote_references

    assert remote_references((out / "map.html").read_text()) == []  # draws offline
