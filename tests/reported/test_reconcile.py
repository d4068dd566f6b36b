"""Reported values reconciled with the model's balances: a real Kenya template, flags, modes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputError
from ewaste_tracker.estimate import estimate
from ewaste_tracker.reported.reconcile import (
    BALANCES,
    RECONCILIATION_COLUMNS,
    reconcile_values,
    reconciled_countries,
)
from ewaste_tracker.reported.targets import submission_indicators
from ewaste_tracker.submissions.rules import Codes
from ewaste_tracker.submissions.submit import read_submission
from ewaste_tracker.submissions.templates import write_templates
from tests.reported.kenya_submission import BAD, fill_template


def _generated_4a(result) -> float:
    dims = result.dims
    cat = np.asarray([Codes.from_catalog().unu_to_eu6.get(p, "") for p in dims.products])
    r, n = dims.region_index(["KEN"])[0], dims.year_index([BAD[1]])[0]
    return float(result.system.generated[r, cat == BAD[0], n].sum())


@pytest.fixture(scope="module")
def prior():
    return estimate(until=2025, reported=False).result


@pytest.fixture(scope="module")
def kenya(prior, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("kenya")
    values = submission_indicators(prior, "KEN")
    template = write_templates("KEN", folder, values, by="eu6", years=range(2015, 2026))[0]
    filled = fill_template(template, folder / "KEN_filled.csv", _generated_4a(prior))
    accepted, _ = read_submission(filled)
    return accepted


def test_the_implausible_value_and_only_it_is_flagged(prior, kenya: pd.DataFrame) -> None:
    table, chi2, adjusted = reconcile_values(prior, kenya)
    assert list(table.columns) == RECONCILIATION_COLUMNS
    assert len(table) == len(kenya) == 56  # 4 indicators x 7 categories x 2 years
    flagged = table[table["flagged"]]
    assert flagged[["product", "year", "flow"]].values.tolist() == [list(BAD)]
    assert flagged["normalised_residual"].iloc[0] > 3
    assert (table.loc[~table["flagged"], "normalised_residual"] < 3).all()
    # the flagged value's reconciled estimate is near the model's, not near 10x generated
    assert flagged["reconciled"].iloc[0] < 0.05 * flagged["reported"].iloc[0]
    by_year = chi2.set_index("year")
    assert by_year.loc[2022, "p_value"] < 1e-6 and by_year.loc[2022, "flagged"] == 1
    assert by_year.loc[2020, "p_value"] > 0.05 and by_year.loc[2022, "p_value_kept"] > 0.05
    assert (table["sd_reconciled"] <= table["sd_reported"] + 1e-9).all()
    assert (table["reconciled"] >= 0).all()
    np.testing.assert_allclose(adjusted["value_t"].to_numpy(), table["reconciled"].to_numpy())


def test_plausible_values_move_within_their_uncertainty(prior, kenya) -> None:
    table, _, _ = reconcile_values(prior, kenya)
    ok = table[~table["flagged"]]
    assert (np.abs(ok["reconciled"] - ok["reported"]) <= 3 * ok["sd_reported"]).all()


def test_a_value_stated_exact_is_kept(prior, kenya: pd.DataFrame) -> None:
    exact = kenya.assign(uncertainty_pct=np.where(kenya["indicator"] == "pom", 0.0, 10.0))
    table, _, _ = reconcile_values(prior, exact)
    pom = table[table["flow"] == "pom"]
    np.testing.assert_allclose(pom["reconciled"], pom["reported"], rtol=1e-6)


def test_every_balance_is_declared_once_and_closes() -> None:
    for name, row in BALANCES.items():
        assert set(np.sign(list(row.values()))) == {-1.0, 1.0}, name


def test_the_mode_follows_the_stated_uncertainties(kenya: pd.DataFrame) -> None:
    other = kenya.assign(country="GHA", uncertainty_pct=np.nan)
    both = pd.concat([kenya, other], ignore_index=True)
    assert reconciled_countries(both, "auto") == ["KEN"]
    assert reconciled_countries(both, "reconcile") == ["GHA", "KEN"]
    assert reconciled_countries(both, "targets") == []
    with pytest.raises(InputError, match="reported mode"):
        reconciled_countries(both, "maybe")
    with pytest.raises(InputError, match="reported mode"):
        estimate(reported_mode="maybe")  # type: ignore[arg-type]


@pytest.mark.slow
def test_cli_template_submit_and_run_reconcile(tmp_path: Path, capsys) -> None:
    store, tpl = tmp_path / "store.gpkg", tmp_path / "tpl"
    assert main(["template", "--country", "KEN", "--by", "eu6", "--out", str(tpl),
                 "--store", str(store)]) == 0  # fmt: skip
    template = tpl / "KEN_submission_eu6.csv"
    assert "uncertainty_pct" in template.read_text(encoding="utf-8").splitlines()[0]
    filled = fill_template(template, tmp_path / "KEN.csv",
                           _generated_4a(estimate(reported=False).result))  # fmt: skip
    capsys.readouterr()
    assert main(["submit", str(filled), "--store", str(store)]) == 0
    report = capsys.readouterr().out
    flagged = [line for line in report.splitlines() if "flagged:" in line]
    assert len(flagged) == 1 and "collected_formal of product 4a in 2022" in flagged[0], report
    out = tmp_path / "run"
    assert main(["run", "--reported", "reconcile", "--countries", "KEN", "--until", "2025",
                 "--format", "csv", "--out", str(out), "--store", str(store)]) == 0  # fmt: skip
    table = pd.read_csv(out / "reconciliation.csv", dtype={"product": str})
    assert table["flagged"].sum() == 1
    assert table.loc[table["flagged"], ["product", "year", "flow"]].values.tolist() == [list(BAD)]
    assert (out / "reconciliation_chi2.csv").exists()
    names = {r["name"] for r in json.loads((out / "datapackage.json").read_text())["resources"]}
    assert {"reconciliation", "reconciliation_chi2"} <= names
    # the run carries the reconciled values: formal collection of 4a in 2022 as reconciled
    ind = pd.read_csv(out / "indicators.csv")
    got = ind[(ind["region"] == "KEN") & (ind["year"] == 2022)
              & (ind["indicator"] == "collected_formal_t")]["value"].iloc[0]  # fmt: skip
    want = table[(table["year"] == 2022) & (table["flow"] == "collected_formal")]
    assert got == pytest.approx(want["reconciled"].sum(), rel=1e-4)
    hard = tmp_path / "hard"
    assert main(["run", "--reported", "targets", "--countries", "KEN", "--until", "2025",
                 "--format", "csv", "--out", str(hard), "--store", str(store)]) == 0  # fmt: skip
    assert not (hard / "reconciliation.csv").exists()


def test_the_entry_points_table_and_text(prior, kenya: pd.DataFrame) -> None:
    from types import SimpleNamespace

    from ewaste_tracker.reconciliation import flags_text, reconciliation_table

    table, chi2, _ = reconcile_values(prior, kenya)
    est = SimpleNamespace(reconciliation=table)
    assert len(reconciliation_table(est, "ken")) == len(table)  # type: ignore[arg-type]
    assert reconciliation_table(est, "GHA").empty  # type: ignore[arg-type]
    assert reconciliation_table(SimpleNamespace(reconciliation=None)).empty  # type: ignore[arg-type]
    text = flags_text(table, chi2)
    flagged = [line for line in text.splitlines() if "flagged:" in line]
    assert len(flagged) == 1 and "collected_formal of product 4a in 2022" in flagged[0]
    assert "p < 0.01 in KEN 2022" in text.splitlines()[0]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    factors=st.lists(st.floats(0.0, 20.0), min_size=56, max_size=56),
    pct=st.lists(st.one_of(st.none(), st.floats(0.0, 1000.0)), min_size=56, max_size=56),
)
def test_any_reported_figures_give_sane_reconciled_values(prior, kenya, factors, pct) -> None:
    values = kenya.assign(value_t=kenya["value_t"].to_numpy() * np.asarray(factors),
                          uncertainty_pct=[np.nan if p is None else p for p in pct])  # fmt: skip
    table, chi2, _ = reconcile_values(prior, values)
    assert len(table) == len(values)
    assert (table["reconciled"] >= 0).all() and (table["sd_reconciled"] >= 0).all()
    assert np.isfinite(table["reconciled"]).all()
    assert (chi2["statistic"] >= 0).all() and (chi2["statistic_kept"] >= -1e-12).all()
    assert (chi2["p_value"].between(0, 1) | chi2["p_value"].isna()).all()
