"""Fuzzing the submission reader: every file is either refused with messages naming it, or
stored exactly as written (each reported cell becomes one value, in tonnes, unchanged)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputErrors
from ewaste_tracker.submissions.rules import INDICATORS
from ewaste_tracker.submissions.submit import Codes, read_submission
from tests.conftest import TEST_DATA, examples

CATALOG = TEST_DATA / "good" / "catalog"
CODES = Codes.from_tables(
    pd.read_csv(CATALOG / "countries.csv", dtype=str),
    pd.read_csv(CATALOG / "products.csv", dtype=str),
)
YEARS = (1980, 2030)
UNIT_T = {"t": 1.0, "tonnes": 1.0, "kg": 1e-3}

junk = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
cells = st.fixed_dictionaries(
    {
        "country": st.one_of(st.sampled_from(["KEN", "ken", " KEN ", "XYZ", ""]), junk),
        "year": st.one_of(st.integers(1975, 2035).map(str),
                          st.sampled_from(["٢٠٢٠", "２０２１", "2019.0", "2020.5"]), junk),
        "product": st.one_of(st.sampled_from(["0108", "0111", "108", "1", "5", "0399"]), junk),
        "indicator": st.one_of(st.sampled_from(INDICATORS), junk),
        "value": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
            st.integers(-10, 10**6).map(str),
            st.sampled_from(["", "1,5", "1e300", "nan", "inf", "-0"]),
            junk,
        ),
        "unit": st.one_of(st.sampled_from(["t", "tonnes", "kg", "pieces", "", "lb"]), junk),
    }
)  # fmt: skip


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["country", "year", "product", "indicator", "value", "unit"])
        for r in rows:
            w.writerow([r[k] for k in ("country", "year", "product", "indicator", "value", "unit")])


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(cells, min_size=1, max_size=8))
def test_a_file_is_refused_with_its_name_or_stored_as_written(tmp_path: Path, rows) -> None:
    path = tmp_path / "fuzz.csv"
    _write(path, rows)
    try:
        accepted, _ = read_submission(path, codes=CODES, years=YEARS)
    except InputErrors as exc:
        assert exc.errors and all(str(path) in str(e) for e in exc.errors), str(exc)
        return
    # stored: every non-empty value cell is one accepted value, exactly as written
    written = [r for r in rows if r["value"].strip() != ""]
    assert len(accepted) == len(written)
    for r, (_, got) in zip(written, accepted.sort_values("source_row").iterrows(), strict=True):
        factor = UNIT_T.get(r["unit"].strip().lower())
        if factor is None:  # pieces: converted with the product's unit weight
            continue
        assert math.isclose(got["value_t"], float(r["value"].replace(" ", "")) * factor,
                            rel_tol=1e-12, abs_tol=0.0)  # fmt: skip


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(cells, min_size=1, max_size=4))
def test_the_command_line_exits_0_or_2_in_one_line(tmp_path: Path, rows, capsys) -> None:
    path = tmp_path / "fuzz.csv"
    _write(path, rows)
    code = main(["submit", str(path), "--store", str(tmp_path / "s.gpkg")])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error:") and str(path) in err


@pytest.mark.parametrize("text", ["٢٠٢٠", "२०२०", "２０２０"])
def test_digits_of_any_script_read_as_the_same_year(tmp_path: Path, text: str) -> None:
    path = tmp_path / "y.csv"
    _write(path, [{"country": "KEN", "year": text, "product": "0108", "indicator": "pom",
                   "value": "10", "unit": "t"}])  # fmt: skip
    accepted, _ = read_submission(path, codes=CODES, years=YEARS)
    assert accepted["year"].tolist() == [2020]
