"""The ``run`` subcommand on the worked example: outputs, balance, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ewaste_tracker.cli import main
from ewaste_tracker.model.folder import read_inputs_folder
from ewaste_tracker.model.run import run_model
from ewaste_tracker.testing import assert_mass_balanced, assert_non_negative

EXAMPLE = Path(__file__).resolve().parents[2] / "ewaste_tracker" / "data" / "examples"
EXAMPLE = EXAMPLE / "east_africa"


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", "--inputs", str(EXAMPLE), "--out", str(out), "--format", "csv"]) == 0
    return out


def test_run_writes_every_table(example_out: Path) -> None:
    names = {p.name for p in example_out.iterdir()}
    assert {"indicators.csv", "flows.csv", "stocks.csv", "element_flows.csv", "run.json"} <= names
    ind = pd.read_csv(example_out / "indicators.csv")
    assert list(ind.columns) == ["region", "year", "indicator", "element", "value", "unit",
                                 "status", "source"]  # fmt: skip
    assert {"KEN", "RWA", "TZA", "UGA", "WLD", "EAC"} <= set(ind["region"])
    needed = {"pom_t", "generated_t", "generated_kg_per_inh", "stock_t", "collected_formal_t",
              "collection_rate"}  # fmt: skip
    assert needed <= set(ind["indicator"])
    meta = json.loads((example_out / "run.json").read_text())
    assert len(meta["fingerprint"]) == 64 and meta["years"] == [1980, 2022]


def test_world_is_the_sum_and_rates_are_ratios_of_sums(example_out: Path) -> None:
    ind = pd.read_csv(example_out / "indicators.csv")
    ind = ind[ind["element"].isna()]
    wide = ind[ind["year"] == 2020].pivot_table(index="region", columns="indicator",
                                                values="value")  # fmt: skip
    countries = wide.loc[["KEN", "RWA", "TZA", "UGA"]]
    for name in ("pom_t", "generated_t", "stock_t", "collected_formal_t"):
        assert wide.loc["WLD", name] == pytest.approx(countries[name].sum(), rel=1e-9)
    assert wide.loc["WLD", "collection_rate"] == pytest.approx(
        countries["collected_formal_t"].sum() / countries["generated_t"].sum(), rel=1e-9
    )


def test_flows_table_balances_every_node(example_out: Path) -> None:
    flows = pd.read_csv(example_out / "flows.csv", dtype={"product": str})
    stocks = pd.read_csv(example_out / "stocks.csv", dtype={"product": str})
    assert (flows["value_t"] >= -1e-9).all()
    key = ["region", "stage", "product", "year"]
    inflow = (
        flows.rename(columns={"region_to": "region", "stage_to": "stage"})
        .groupby(key)["value_t"]
        .sum()
    )
    outflow = (
        flows.rename(columns={"region_from": "region", "stage_from": "stage"})
        .groupby(key)["value_t"]
        .sum()
    )
    change = stocks.set_index(key)["stock_change_t"]
    nodes = inflow.index.union(outflow.index).union(change.index)
    nodes = nodes[nodes.get_level_values("region") != "sysenv"]
    res = (inflow.reindex(nodes, fill_value=0) - outflow.reindex(nodes, fill_value=0)
           - change.reindex(nodes, fill_value=0))  # fmt: skip
    scale = inflow.reindex(nodes, fill_value=0).abs() + 1.0
    assert (res.abs() / scale).max() < 1e-6  # CSV keeps 10 significant digits


def test_kenya_exports_reach_uganda_and_tanzania(example_out: Path) -> None:
    flows = pd.read_csv(example_out / "flows.csv", dtype={"product": str})
    trade = flows[(flows["region_from"] == "KEN") & (flows["region_to"] != "KEN")]
    assert set(trade["region_to"]) == {"UGA", "TZA"}
    by = trade.groupby("region_to")["value_t"].sum()
    assert by["UGA"] == pytest.approx(1.5 * by["TZA"], rel=1e-6)


def test_engine_graph_balances_and_is_non_negative() -> None:
    result = run_model(read_inputs_folder(EXAMPLE))
    G = result.graph()
    assert_mass_balanced(G)
    assert_non_negative(G, atol=1e-9)
    el = result.element_table()
    home = el[el["route"] != "exported"]  # exports are recovered or lost where treated
    np.testing.assert_allclose(home["recovered_t"] + home["lost_t"], home["input_t"], rtol=1e-9,
                               atol=1e-12)  # fmt: skip
    away = el[el["route"] == "exported"]
    assert (away["recovered_t"] == 0).all() and (away["lost_t"] == 0).all()


def _broken_copy(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "inputs"
    shutil.copytree(EXAMPLE, folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


TC_HEAD = "region,product,year,from_stage,to_stage,share\n"
BAD_RUN = [
    ("pom.csv", "region,product,year,pom_t\nKEN,0306,2010,-1\n", "pom.csv, row 2", "pom_t"),
    ("pom.csv", "region,product,year,pom_t\nXYZ,0306,2010,1\n", "pom.csv, row 2", "XYZ"),
    ("pom.csv", "region,product,year\nKEN,0306,2010\n", "pom.csv", "missing column"),
    ("transfer_coefficients.csv", TC_HEAD + "KEN,,,generated,nowhere,1\n",
     "transfer_coefficients.csv, row 2", "to_stage"),
    ("transfer_coefficients.csv", TC_HEAD + "KEN,,,generated,residual,-0.2\n",
     "transfer_coefficients.csv, row 2", "share"),
    ("exports.csv", "origin,destination,to_stage,share\nKEN,ZZZ,use,1\n",
     "exports.csv, row 2", "ZZZ"),
    ("lifetimes.csv", "product,distribution,shape,scale\n0306,weibull,1.5,-3\n",
     "lifetimes.csv, row 2", "scale"),
    ("population.csv", "region,year,population\nKEN,2010,many\n",
     "population.csv, row 2", "population"),
    ("composition.csv", "product,element,g_per_t\n0306,Fe,700000\n0306,plastics,400000\n",
     "composition.csv", "product 0306: 1,100,000 g/t"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "where", "what"), BAD_RUN,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_RUN)])  # fmt: skip
def test_bad_inputs_exit_2_and_write_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    where: str,
    what: str,
) -> None:
    folder = _broken_copy(tmp_path, name, text)
    out = tmp_path / "out"
    code = main(["run", "--inputs", str(folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert where in err and what in err, err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_shares_not_summing_to_one_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tcs = pd.read_csv(EXAMPLE / "transfer_coefficients.csv", dtype=str, keep_default_na=False)
    first = tcs.index[(tcs["region"] == "UGA") & (tcs["from_stage"] == "generated")][0]
    tcs.loc[first, "share"] = "0.5"
    folder = _broken_copy(tmp_path, "transfer_coefficients.csv", tcs.to_csv(index=False))
    out = tmp_path / "out"
    assert main(["run", "--inputs", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "transfer_coefficients.csv" in err and "UGA" in err and "generated" in err, err
    assert "sum" in err, err
    assert not out.exists()


def test_missing_required_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    assert main(["run", "--inputs", str(folder), "--out", str(tmp_path / "o")]) == 2
    assert "pom.csv" in capsys.readouterr().err


def test_composition_scenarios_are_possible_and_order_the_minerals() -> None:
    from ewaste_tracker import catalog
    from ewaste_tracker.model.folder import TRACE_G_PER_T, catalogue_tables

    full = catalog.composition("all")
    trace = (full["central_g_per_t"] < TRACE_G_PER_T).to_numpy()
    base = read_inputs_folder(EXAMPLE)
    gold = {}
    for level in ("low", "central", "high"):
        comp = catalogue_tables(level=level)["composition"]
        assert (comp.groupby("product")["g_per_t"].sum() <= 1e6).all(), level
        got = comp["g_per_t"].to_numpy()
        np.testing.assert_array_equal(got[trace], full[f"{level}_g_per_t"].to_numpy()[trace])
        np.testing.assert_array_equal(got[~trace], full["central_g_per_t"].to_numpy()[~trace])
        base.composition = comp
        result = run_model(base)  # the scenario runs (no element heavier than its product)
        gold[level] = result.element_generated[:, result.dims.elements.index("Au")].sum()
    assert gold["low"] < gold["central"] < gold["high"]
