"""ICT operators' environmental submissions: validation, store, and the override."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputErrors
from ewaste_tracker.reported.environment import default_operators, overlay_operators
from ewaste_tracker.submissions.environment import (
    environment_values,
    read_environment_submission,
    submit_environment,
    write_environment_template,
)
from ewaste_tracker.submissions.store import Store

GOOD = """country,year,segment,indicator,value,unit
KEN,2021,networks,energy,410.5,GWh
KEN,2021,data_centres,energy,120000,MWh
KEN,2021,total,scope2,61,kt CO2e
"""
BAD = """country,year,segment,indicator,value,unit
KEN,2021,networks,energy,410.5,t CO2e
KEN,2021,satellites,energy,1,GWh
KEN,20x1,networks,scope1,-3,t CO2e
"""


def test_a_good_file_is_accepted_in_standard_units(tmp_path: Path) -> None:
    path = tmp_path / "KEN_environment.csv"
    path.write_text(GOOD, encoding="utf-8")
    accepted, _ = read_environment_submission(path)
    v = accepted.set_index(["segment", "indicator"])["value_std"]
    assert v[("networks", "energy")] == pytest.approx(410.5)
    assert v[("data_centres", "energy")] == pytest.approx(120.0)  # MWh -> GWh
    assert v[("total", "scope2")] == pytest.approx(61_000.0)  # kt -> t CO2e


def test_bad_rows_are_named_by_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(InputErrors) as info:
        read_environment_submission(path)
    text = [str(e) for e in info.value.errors]
    assert any("row 2" in t and "'unit'" in t and "does not fit" in t for t in text), text
    assert any("row 3" in t and "'segment'" in t for t in text), text
    assert any("row 4" in t and "'year'" in t for t in text), text
    assert any("row 4" in t and "negative" in t for t in text), text
    assert all(str(path) in t for t in text)


def test_store_keeps_versions_and_the_cli_routes_the_file(tmp_path: Path, capsys) -> None:
    store = tmp_path / "tracker.gpkg"
    path = tmp_path / "KEN_environment.csv"
    path.write_text(GOOD, encoding="utf-8")
    rec = submit_environment(path, store=store, submitter="ministry")
    assert rec.version == 1 and rec.new
    assert not submit_environment(path, store=store, submitter="ministry").new
    path.write_text(GOOD.replace("410.5", "500"), encoding="utf-8")
    assert main(["submit", str(path), "--store", str(store)]) == 0
    assert "environmental data version 2" in capsys.readouterr().out
    vals = environment_values(store)
    assert set(vals["source"]) == {"environment submission KEN v2"}
    assert 500.0 in set(vals["value_std"])
    assert Store(store).submissions().empty  # e-waste submissions untouched
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    assert main(["submit", str(bad), "--store", str(store)]) == 2
    assert len(environment_values(store)) == 3  # nothing of the bad file stored


def test_both_stores_keep_versions_and_history_lists_them(store, tmp_path: Path) -> None:
    path = tmp_path / "KEN_environment.csv"
    path.write_text(GOOD, encoding="utf-8")
    first = submit_environment(path, store=store, submitter="ministry")
    assert (first.version, first.new) == (1, True)
    assert not submit_environment(path, store=store).new  # same content: nothing new
    path.write_text(GOOD.replace("410.5", "500"), encoding="utf-8")
    assert submit_environment(path, store=store).version == 2
    vals = environment_values(store)
    assert set(vals["source"]) == {"environment submission KEN v2"} and len(vals) == 3
    hist = Store(store).history("KEN")
    env = hist[hist["kind"] == "environment"]
    assert env["version"].tolist() == [1, 2]
    assert (env["name"] == "KEN_environment.csv").all() and (env["n_values"] == 3).all()


def test_a_submitter_stores_environmental_data_for_its_own_country_only(
    store, tmp_path: Path
) -> None:
    from ewaste_tracker.submissions.workflow import PermissionDenied

    st = Store(store)
    st.add_user("ken", "submitter", country="KEN")
    st.add_user("rev", "reviewer")
    path = tmp_path / "KEN_environment.csv"
    path.write_text(GOOD, encoding="utf-8")
    rec = submit_environment(path, store=st.as_user("ken"))
    assert rec.version == 1
    assert Store(store).history("KEN").query("kind == 'environment'")["by"].tolist() == ["ken"]
    nga = tmp_path / "NGA_environment.csv"
    nga.write_text(GOOD.replace("KEN", "NGA"), encoding="utf-8")
    with pytest.raises(PermissionDenied, match="KEN only"):
        submit_environment(nga, store=st.as_user("ken"))
    with pytest.raises(PermissionDenied, match="reviewer"):
        submit_environment(nga, store=st.as_user("rev"))
    assert set(environment_values(store)["country"]) == {"KEN"}


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    store = tmp_path / "none" / "tracker.gpkg"
    assert environment_values(store).empty
    assert not store.parent.exists()


def test_reported_values_replace_the_default_and_carry_their_status() -> None:
    regions, years = ("KEN", "UGA"), np.array([2020, 2021])
    default = default_operators(np.array([[1.0, 1.0], [3.0, 3.0]]), np.full((2, 2), 500.0), years)
    assert default["energy"]["networks"][:, 1].sum() == pytest.approx(242_000.0)
    rep = pd.DataFrame({
        "country": ["KEN", "KEN"], "year": [2021, 2021], "segment": ["networks", "total"],
        "indicator": ["energy", "scope2"], "value_std": [410.5, 61_000.0],
        "source": ["environment submission KEN v1"] * 2,
    })  # fmt: skip
    values, status, source = overlay_operators(default, rep, regions=regions, years=years)
    dc = default["energy"]["data_centres"][0, 1]
    assert values["energy"][0, 1] == pytest.approx(410.5 + dc)
    assert status["energy"][0, 1] == 1 and status["scope2"][0, 1] == 2  # mixed, reported
    assert values["scope2"][0, 1] == pytest.approx(61_000.0)
    assert status["energy"][1, 1] == 0 and values["energy"][1, 1] == pytest.approx(
        default["energy"]["networks"][1, 1] + default["energy"]["data_centres"][1, 1]
    )
    assert source["scope2"][0, 1] == "environment submission KEN v1"


def test_the_template_reads_back_once_filled(tmp_path: Path) -> None:
    csv_path, xlsx_path = write_environment_template("KEN", tmp_path, years=[2021])
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    table.loc[0, "value"] = "12.5"
    table.to_csv(csv_path, index=False)
    accepted, _ = read_environment_submission(csv_path)
    assert len(accepted) == 1 and accepted["value_std"].iloc[0] == pytest.approx(12.5)
    assert xlsx_path.is_file()
