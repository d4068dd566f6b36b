"""The one estimate: the Python API, its tables and files, and the same numbers everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ewaste_tracker as et
from ewaste_tracker.cli import main
from ewaste_tracker.files import MARKER
from ewaste_tracker.flows.balance import check_mass_balance
from ewaste_tracker.outputs import TABLES
from ewaste_tracker.submissions.submit import submit

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
# Kenya's documented collection of three products in 2022 (tonnes; each below what the default
# model generates: desktops ~1.0 kt and laptops ~0.67 kt since the piece counts follow unit
# sales)
SUBMISSION = """country,year,product,indicator,value,unit
KEN,2022,0108,collected_formal,900,t
KEN,2022,0302,collected_formal,700,t
KEN,2022,0303,collected_formal,400,t
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store")
    path = folder / "KEN.csv"
    path.write_text(SUBMISSION, encoding="utf-8")
    submit(path, store=folder / "tracker.gpkg", submitter="Ministry of Environment")
    return folder / "tracker.gpkg"


@pytest.fixture(scope="module")
def ken(store: Path) -> et.Estimate:
    return et.estimate(countries=["KEN"], store=store)


def test_the_api_gives_tidy_tables_with_status_and_source(ken: et.Estimate) -> None:
    ind = ken.indicators
    assert list(ind.columns) == list(et.estimate.__globals__["INDICATOR_COLUMNS"])
    assert set(ind["region"].astype(str)) == {"KEN"}
    lost_au = ind[(ind["indicator"] == "lost_t") & (ind["element"] == "Au")]
    assert len(lost_au) == len(ken.years) and (lost_au["unit"] == "t").all()
    assert not ind["indicator"].astype(str).str.contains(":").any()
    assert ind["source"].astype(str).str.len().gt(0).all()
    for name in ("flows", "stocks", "element_flows"):
        table = getattr(ken, name)
        assert "status" in table.columns and len(table)
    assert {"KEN"} <= set(ken.flows["region_from"].astype(str))


def test_reported_collection_is_met_and_marked(ken: et.Estimate, store: Path) -> None:
    r, n = ken.regions.index("KEN"), ken._year_index(2022, option="year")
    flows = ken.result.system.flows[("generated", "collection_formal")]
    for product, tonnes in (("0108", 900.0), ("0302", 700.0), ("0303", 400.0)):
        p = ken.result.dims.products.index(product)
        assert flows[r, p, n] == pytest.approx(tonnes, rel=1e-6)
    defaults = et.estimate(countries=["KEN"], reported=False)
    assert ken.value("KEN", "collected_formal_t", 2022) != pytest.approx(
        defaults.value("KEN", "collected_formal_t", 2022), rel=1e-3
    )
    row = ken.indicators
    row = row[(row["indicator"] == "collected_formal_t") & (row["year"] == 2022)]
    assert row["status"].iloc[0] == "mixed" and "submission KEN v1" in row["source"].iloc[0]


def test_graph_of_one_year_balances(ken: et.Estimate) -> None:
    G = ken.graph(2022)
    assert list(G.graph["years"]) == [2022]
    assert check_mass_balance(G, raise_error=False)["ok"].all()
    with pytest.raises(et.InputError, match="year"):
        ken.graph(1900)


def test_the_estimate_function_is_not_shadowed_by_its_module() -> None:
    # a fresh process: importing the submodule first used to bind it to et.estimate
    code = (
        "from ewaste_tracker.estimate import Estimate\n"
        "import ewaste_tracker as et\n"
        "import importlib\n"
        "assert callable(et.estimate) and et.estimate.__name__ == 'estimate', et.estimate\n"
        "module = importlib.import_module('ewaste_tracker.estimate')\n"
        "assert module.Estimate is Estimate and module.estimate is et.estimate\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_unknown_countries_are_refused_with_the_option_named() -> None:
    with pytest.raises(et.InputError, match=r"--countries.*XYZ"):
        et.estimate(countries="KEN,XYZ")


@pytest.mark.slow
def test_the_same_figure_in_run_estimate_map_and_app(
    ken: et.Estimate, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = ken.value("KEN", "collected_formal_t", 2022)
    assert np.isfinite(want) and want > 2000.0  # the three products plus the modelled rest

    out = tmp_path / "run"
    args = ["run", "--countries", "KEN", "--out", str(out), "--store", str(store)]
    assert main(args) == 0
    ind = pd.read_parquet(out / "indicators.parquet")
    got = ind[(ind["indicator"] == "collected_formal_t") & (ind["year"] == 2022)]["value"]
    assert float(got.iloc[0]) == pytest.approx(want, rel=1e-12)

    maps = tmp_path / "map"
    assert main(["map", "--country", "KEN", "--out", str(maps), "--store", str(store)]) == 0
    summary = json.loads((maps / "summary.json").read_text(encoding="utf-8"))
    assert summary["indicators"]["collected_formal_t"]["value"] == pytest.approx(want, rel=1e-12)

    from streamlit.testing.v1 import AppTest

    from ewaste_tracker.app.format import quantity

    monkeypatch.setenv("EWASTE_TRACKER_STORE", str(store))
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", "off")
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.query_params.update(page="country", country="KEN", year="2022")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}["Documented formal collection"]
    assert shown == quantity(want, "t")  # the same number, formatted with its unit


def test_folders_are_replaced_whole_and_user_folders_refused(ken: et.Estimate, tmp_path: Path):
    out = tmp_path / "out"
    ken.to_folder(out)
    (out / "stale.csv").write_text("old", encoding="utf-8")
    ken.to_folder(out, format="csv")
    names = {p.name for p in out.iterdir()}
    assert "stale.csv" not in names and "indicators.parquet" not in names
    assert {"indicators.csv", "flows.csv", "datapackage.json", "run.json", MARKER} <= names
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(et.InputError, match="not written by ewaste-tracker"):
        ken.to_folder(mine)
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]
    assert not list(tmp_path.glob(".ewt-staging-*"))


def test_datapackage_describes_every_column_and_source(ken: et.Estimate, tmp_path: Path):
    out = ken.to_folder(tmp_path / "pkg")
    pkg = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert pkg["profile"] == "tabular-data-package"
    for res in pkg["resources"]:
        frame = pd.read_parquet(out / res["path"])
        fields = res["schema"]["fields"]
        assert [f["name"] for f in fields] == list(frame.columns)
        known = {c[0] for c in TABLES[res["name"]]}
        assert all(f["name"] in known and f["description"] for f in fields), res["name"]
        units = {f["name"]: f.get("unit") for f in fields}
        assert all(units[c] for c in frame.columns if c.endswith(("_t", "_usd")))
    assert all(s.get("licenses") for s in pkg["sources"] if "path" in s and "data/" in s["path"])
    assert any("submission KEN v1" in s["title"] for s in pkg["sources"])


def test_version_and_module_entry() -> None:
    done = subprocess.run([sys.executable, "-m", "ewaste_tracker", "--version"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == f"ewaste-tracker {et.__version__}"
