"""Submitted data overrides the default estimate and is marked ``reported`` in the outputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tracker.cli import main
from tracker.pipeline import run_default
from tracker.submissions import submit

SUBMISSION = """country,year,product,indicator,value,unit
KEN,2019,0306,pom,412.5,t
KEN,2020,0306,pom,455000,kg
KEN,2020,0108,collected_formal,30,t
KEN,2021,0303,collected_formal,2.5,t
"""


@pytest.fixture(scope="module")
def reported_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("reported")
    store = folder / "store.gpkg"
    path = folder / "KEN.csv"
    path.write_text(SUBMISSION, encoding="utf-8")
    submit(path, store=store, submitter="ministry")
    inputs, result = run_default(until=2025, store=store)
    return store, inputs, result


def test_reported_pom_replaces_the_default(reported_run) -> None:
    _, inputs, result = reported_run
    pom = inputs.pom.set_index(["region", "product", "year"])
    assert pom.loc[("KEN", "0306", 2019), "pom_t"] == pytest.approx(412.5)
    assert pom.loc[("KEN", "0306", 2020), "pom_t"] == pytest.approx(455.0)
    assert pom.loc[("KEN", "0306", 2019), "status"] == "reported"
    assert pom.loc[("KEN", "0306", 2018), "status"] == "estimated"
    dims = result.dims
    r, p = dims.region_index(["KEN"])[0], dims.product_index(["0306"])[0]
    n = dims.year_index([2019])[0]
    assert result.system.flows[("market", "use")][r, p, n] == pytest.approx(412.5)


def test_reported_collection_is_met_by_the_model(reported_run) -> None:
    _, _, result = reported_run
    dims, flows = result.dims, result.system.flows
    r = dims.region_index(["KEN"])[0]
    for product, year, tonnes in (("0108", 2020, 30.0), ("0303", 2021, 2.5)):
        p, n = dims.product_index([product])[0], dims.year_index([year])[0]
        generated = result.system.generated[r, p, n]
        got = flows[("generated", "collection_formal")][r, p, n]
        assert got == pytest.approx(min(tonnes, generated), rel=1e-6)


def test_indicator_rows_carry_their_status(reported_run) -> None:
    _, _, result = reported_run
    ind = result.indicators
    ken = ind[(ind["region"] == "KEN")].groupby("year")["status"].first()
    assert ken[2019] == "reported" and ken[2021] == "reported"
    assert ken[2010] == "estimated"
    nga = ind[(ind["region"] == "NGA") & (ind["year"] == 2020)]["status"].unique()
    assert list(nga) == ["estimated"]
    wld = ind[(ind["region"] == "WLD") & (ind["year"] == 2020)]["status"].unique()
    assert list(wld) == ["mixed"]
    africa = ind[(ind["region"] == "Africa") & (ind["year"] == 2020)]["status"].unique()
    assert list(africa) == ["mixed"]


def test_default_run_cli_writes_status_and_un_regions(reported_run, tmp_path: Path) -> None:
    store, _, _ = reported_run
    out = tmp_path / "world"
    assert main(["run", "--out", str(out), "--until", "2025", "--store", str(store)]) == 0
    ind = pd.read_csv(out / "indicators.csv", usecols=["region", "year", "status"])
    assert {"WLD", "Africa", "Americas", "Asia", "Europe", "Oceania"} <= set(ind["region"])
    assert ind["region"].nunique() > 200
    assert set(ind.loc[ind["region"] == "KEN", "status"]) == {"reported", "estimated"}
    for name in ("flows.csv", "stocks.csv", "element_flows.csv"):
        table = pd.read_csv(out / name, usecols=lambda c: c in {"region", "region_from",
                            "region_to", "year", "status"})  # fmt: skip
        assert "status" in table.columns, name
        region = "region_to" if "region_to" in table.columns else "region"
        ken = table[(table[region] == "KEN") & (table["year"] == 2020)]
        assert set(ken["status"]) == {"reported"}, name
