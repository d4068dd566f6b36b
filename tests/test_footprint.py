"""The footprint of an estimate: factors with sources, the table, the ICT trajectory, levers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ewaste_tracker as et
from ewaste_tracker import catalog
from ewaste_tracker.flows.footprint import ICT_PRODUCTS, INDICATORS
from ewaste_tracker.model.footprint import FACTOR_COLUMNS
from ewaste_tracker.model.levers import Levers, apply_levers
from ewaste_tracker.outputs import TABLES
from ewaste_tracker.scenario import ict_trajectory, lever_effect

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "ewaste_tracker" / "data" / "examples" / "east_africa"
)


@pytest.fixture(scope="module")
def eac() -> et.Estimate:
    return et.estimate(inputs=EXAMPLE)


def test_every_factor_row_cites_its_source_and_is_ordered() -> None:
    ff = catalog.footprint_factors()
    assert (ff["source"].str.strip() != "").all() and ff["status"].isin(
        ["published", "estimate"]
    ).all()
    assert (ff["low"] <= ff["central"] + 1e-12).all() and (
        ff["central"] <= ff["high"] + 1e-12
    ).all()
    keys = set(catalog.products()["unu_key"])
    for factor in ("embodied_kg_co2e_per_piece", "use_kwh_per_piece_year",
                   "water_m3_per_piece", "adp_kg_sb_eq_per_piece",
                   "primary_energy_mj_per_piece", "bfr_plastics_kg_per_piece"):  # fmt: skip
        assert set(ff.loc[ff["factor"] == factor, "product"]) == keys, factor
    refr = ff[ff["factor"] == "refrigerant_kg_per_piece"]
    assert set(refr["product"]) >= {"0108", "0109", "0111", "0113", "1002"}
    gwp = catalog.refrigerant_gwp().set_index("substance")["gwp100"]
    assert set(refr["substance"]) <= set(gwp.index)
    assert gwp["HFC-134a"] == 1526 and gwp["R-410A"] == pytest.approx(2255.5)
    hg = ff[ff["factor"] == "mercury_mg_per_piece"]
    assert {"0502", "0503", "0504", "0309", "0408"} <= set(hg["product"])
    for table in (catalog.element_footprint(), catalog.grid_intensity(), catalog.refrigerant_gwp()):
        assert (table["source"].str.strip() != "").all()
    # nothing not read in a source is called published
    assert set(ff.loc[ff["status"] == "published", "source"].str.contains("read")) <= {True}


def test_factor_table_has_the_issue_columns(eac: et.Estimate) -> None:
    table = eac.footprint_factors
    assert list(table.columns) == list(FACTOR_COLUMNS)
    assert len(table) == 54 and table["source"].str.len().gt(0).all()
    phone = table.set_index("product").loc["0306"]
    assert phone["embodied_kg_co2e_per_kg"] == pytest.approx(
        phone["embodied_kg_co2e_per_piece"] / phone["unit_weight_kg"]
    )
    assert set(table.loc[table["ict"], "product"]) == set(ICT_PRODUCTS)


def test_footprint_covers_every_region_group_and_indicator(eac: et.Estimate) -> None:
    fp = eac.footprint
    assert set(fp["region"].astype(str)) == {"KEN", "RWA", "TZA", "UGA", "WLD", "EAC"}
    assert set(fp["group"].astype(str)) == {"all", "ict"}
    assert set(INDICATORS) <= set(fp["indicator"].astype(str))
    assert (fp["status"] == "input").all() and fp["source"].notna().all()
    wide = fp.pivot_table(index=["region", "year", "indicator"], columns="group",
                          values="value", observed=True)  # fmt: skip
    assert (wide["ict"] <= wide["all"] * (1 + 1e-12) + 1e-9).all()
    v = fp.set_index(["region", "year", "group", "indicator"])["value"]
    countries = sum(v[(c, 2022, "all", "embodied_ghg_t_co2e")] for c in ("KEN", "RWA", "TZA",
                                                                          "UGA"))  # fmt: skip
    assert v[("WLD", 2022, "all", "embodied_ghg_t_co2e")] == pytest.approx(countries)
    assert v[("KEN", 2022, "ict", "refrigerant_in_ewaste_t_co2e")] == 0.0
    assert v[("KEN", 2022, "all", "refrigerant_in_ewaste_t_co2e")] > 0


def test_to_folder_writes_and_describes_the_footprint(eac: et.Estimate, tmp_path: Path) -> None:
    out = eac.to_folder(tmp_path / "out", format="csv")
    fp = pd.read_csv(out / "footprint.csv")
    ff = pd.read_csv(out / "footprint_factors.csv", dtype={"product": str})
    assert {"product", "embodied_kg_co2e_per_piece", "embodied_kg_co2e_per_kg",
            "source"} <= set(ff.columns)  # fmt: skip
    assert len(fp) == len(eac.footprint)
    pkg = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"]: r for r in pkg["resources"]}
    for name in ("footprint", "footprint_factors"):
        fields = [f["name"] for f in names[name]["schema"]["fields"]]
        assert set(fields) <= {c[0] for c in TABLES[name]}, name
    assert any("footprint_factors.csv" in s.get("path", "") for s in pkg["sources"])


def test_trajectory_starts_on_the_path_and_falls_45_percent(eac: et.Estimate) -> None:
    tr = ict_trajectory(eac, base_year=2012, target_year=2022)
    assert tr["year"].min() == 2012
    wld = tr[tr["region"] == "WLD"].set_index("year")
    assert wld.loc[2012, "trajectory_t_co2e"] == pytest.approx(wld.loc[2012, "ict_t_co2e"])
    assert wld.loc[2022, "trajectory_t_co2e"] == pytest.approx(0.55 * wld.loc[2012, "ict_t_co2e"])
    parts = wld[["embodied_t_co2e", "use_phase_t_co2e", "operators_t_co2e"]].sum(axis=1)
    assert np.allclose(parts, wld["ict_t_co2e"])


def test_longer_lives_holding_the_service_cut_ict_emissions(eac: et.Estimate) -> None:
    eff = lever_effect(eac, Levers(lifetime_scale=1.5, from_year=2012), base_year=2011,
                       target_year=2022)  # fmt: skip
    wld = eff[eff["region"] == "WLD"].set_index("year")
    assert wld.loc[2022, "effect_t_co2e"] < 0
    # the first cohort's in-year discards change a little, nothing before it does
    assert abs(wld.loc[2012, "effect_t_co2e"]) <= 0.01 * wld.loc[2012, "ict_t_co2e"]
    assert abs(wld.loc[2011, "effect_t_co2e"]) <= 1e-6 * wld.loc[2011, "ict_t_co2e"] + 1e-6


def test_levers_change_the_inputs_not_the_estimate(eac: et.Estimate) -> None:
    before = eac.inputs.transfer_coefficients.copy()
    new = apply_levers(eac.inputs, Levers(collection_share=0.5, refurbishment_share=0.2,
                                          products=("0306",), from_year=2015))  # fmt: skip
    pd.testing.assert_frame_equal(eac.inputs.transfer_coefficients, before)
    tc = new.transfer_coefficients
    mine = tc[(tc["product"] == "0306") & (tc["year"].astype("Int64") >= 2015)]
    sums = mine.groupby(["region", "year", "from_stage"])["share"].sum()
    assert np.allclose(sums, 1.0)
    cf = mine[(mine["from_stage"] == "generated") & (mine["to_stage"] == "collection_formal")]
    assert (cf["share"] >= 0.5 - 1e-12).all() and len(cf)
    ref = mine[(mine["from_stage"] == "collection_formal") & (mine["to_stage"] == "refurbishment")]
    assert np.allclose(ref["share"], 0.2)
    with pytest.raises(ValueError, match="share"):
        Levers(collection_share=1.5)


@pytest.mark.slow
def test_default_estimate_has_every_country_and_reported_operators(tmp_path: Path) -> None:
    from ewaste_tracker.submissions.environment import submit_environment

    path = tmp_path / "KEN_environment.csv"
    path.write_text("country,year,segment,indicator,value,unit\n"
                    "KEN,2022,total,energy,777,GWh\n", encoding="utf-8")  # fmt: skip
    store = tmp_path / "tracker.gpkg"
    submit_environment(path, store=store, submitter="ministry")
    est = et.estimate(store=store)
    fp = est.footprint
    regions = set(fp["region"].astype(str))
    assert set(est.regions) | {"WLD"} <= regions
    wld = fp[(fp["region"] == "WLD") & (fp["year"] == 2022)]
    assert set(INDICATORS) <= set(wld["indicator"].astype(str))
    ken = fp[(fp["region"] == "KEN") & (fp["year"] == 2022)
             & (fp["indicator"] == "operators_energy_gwh")]  # fmt: skip
    assert np.allclose(ken["value"], 777) and (ken["status"] == "reported").all()
    assert set(ken["source"].astype(str)) == {"environment submission KEN v1"}
    world = wld[wld["indicator"] == "operators_energy_gwh"]
    assert (world["status"] == "mixed").all()
    assert set(world["source"].astype(str)) == {"sum of countries, some of them reported"}
    from ewaste_tracker.reported.environment import DEFAULT_SOURCE

    ops = fp[fp["indicator"].astype(str).str.startswith("operators_")]
    uga = ops[(ops["region"] == "UGA") & (ops["year"] == 2022)]
    assert (uga["status"] == "estimated").all() and set(uga["source"]) == {DEFAULT_SOURCE}
    ken_mixed = ops[(ops["region"] == "KEN") & (ops["status"] == "mixed")]
    assert set(ken_mixed["source"].astype(str)) <= {
        f"environment submission KEN v1 with {DEFAULT_SOURCE}"
    }
