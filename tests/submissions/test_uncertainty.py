"""The optional ``uncertainty_pct`` column: read, validated, stored and migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputErrors
from ewaste_tracker.submissions.gpkg_schema import SCHEMA_VERSION
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.submit import read_submission, submit

HEADER = "country,year,product,indicator,value,unit,uncertainty_pct\n"
GOOD = HEADER + "KEN,2020,0306,pom,412.5,t,10\nKEN,2020,0108,collected_formal,30,t,5%\n" \
    "KEN,2021,0303,collected_formal,2.5,t,\n"  # fmt: skip


def _file(tmp_path: Path, text: str, name: str = "KEN.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_stated_uncertainties_are_read(tmp_path: Path) -> None:
    accepted, _ = read_submission(_file(tmp_path, GOOD))
    got = accepted.set_index(["product", "indicator"])["uncertainty_pct"]
    assert got[("0306", "pom")] == 10.0
    assert got[("0108", "collected_formal")] == 5.0  # a trailing % is allowed
    assert np.isnan(got[("0303", "collected_formal")])  # blank: not stated


def test_a_file_without_the_column_still_reads(tmp_path: Path) -> None:
    text = "country,year,product,indicator,value,unit\nKEN,2020,0306,pom,412.5,t\n"
    accepted, warnings = read_submission(_file(tmp_path, text))
    assert accepted["uncertainty_pct"].isna().all()
    assert not warnings


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("ten", "not a number"),
        ("-5", "negative"),
        ("2000", "above 1000 %"),
        ("inf", "not a number"),
    ],
)
def test_bad_uncertainties_are_refused_with_their_cell(
    tmp_path: Path, cell: str, reason: str
) -> None:
    path = _file(tmp_path, HEADER + f"KEN,2020,0306,pom,412.5,t,{cell}\n")
    with pytest.raises(InputErrors) as info:
        read_submission(path)
    errors = info.value.errors
    assert len(errors) == 1
    assert errors[0].column == "uncertainty_pct" and errors[0].row == 2
    assert reason in str(errors[0])


def test_a_bad_uncertainty_exits_2_in_one_line(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path, HEADER + "KEN,2020,0306,pom,412.5,t,-3\n")
    store = tmp_path / "s.gpkg"
    assert main(["submit", str(path), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and lines[0] == "error: 1 error(s):"  # the house's header
    assert len(lines) == 2 and "row 2, column 'uncertainty_pct'" in lines[1], err
    assert not store.exists() or Store(store).submissions().empty


def test_uncertainties_are_kept_by_the_store(store: Path | str, tmp_path: Path) -> None:
    submit(_file(tmp_path, GOOD), store=store, submitter="ministry")
    values = Store(store).submission_values("KEN").set_index(["product", "indicator"])
    assert float(values.loc[("0306", "pom"), "uncertainty_pct"]) == 10.0
    assert values.loc[("0303", "collected_formal"), "uncertainty_pct"] is None or np.isnan(
        float(values.loc[("0303", "collected_formal"), "uncertainty_pct"])
    )


def test_a_version_2_store_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    submit(_file(tmp_path, GOOD.replace(",10\n", ",\n")), store=path, submitter="ministry")
    with sqlite3.connect(path) as con:  # make it a version 2 store, as older releases wrote
        con.execute("ALTER TABLE submission_values DROP COLUMN uncertainty_pct")
        con.execute("UPDATE tracker_info SET value = '2' WHERE key = 'schema_version'")
    values = Store(path).published_values()
    assert len(values) == 3 and "uncertainty_pct" in values
    with sqlite3.connect(path) as con:
        version = con.execute("SELECT value FROM tracker_info WHERE key = 'schema_version'")
        assert int(version.fetchone()[0]) == SCHEMA_VERSION == 3
    submit(_file(tmp_path, GOOD, "KEN2.csv"), store=path, submitter="ministry")
    again = Store(path).published_values().set_index(["product", "indicator"])
    assert float(again.loc[("0306", "pom"), "uncertainty_pct"]) == 10.0
