"""Reading input tables: the columnar fast path gives exactly what the full validation gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.errors import InputErrors
from ewaste_tracker.model.inputs import LIFETIME_SCHEMA, POM_SCHEMA, TC_SCHEMA
from ewaste_tracker.tables import _read_clean, _read_full, read_table
from tests.conftest import examples

CASES = [
    (POM_SCHEMA, "region,product,year,pom_t\nKEN,0306,2010,12.5\nKEN,0306,2011,1e3\n"),
    (
        POM_SCHEMA,
        '\ufeff"region" , product,year,pom_t\n KEN ,0306, 2010 ,.5\n\nUGA,0108,2010,0\n',
    ),
    (POM_SCHEMA, "pom_t,year,product,region\n1,2010,0306,KEN\n"),
    (
        LIFETIME_SCHEMA,
        "product,distribution,shape,scale,region,cohort_year\n"
        "0306,weibull,1.5,6.2,,\n0306,weibull,1.6,6.0,KEN,2015\n0108,fixed,,10,,\n",
    ),
    (
        TC_SCHEMA,
        "region,product,year,from_stage,to_stage,share\n"
        ",,,generated,residual,1\nKEN,0306,2020,generated,residual,1\n",
    ),
]


@pytest.mark.parametrize(("schema", "text"), CASES)
def test_fast_path_equals_the_full_validation(tmp_path: Path, schema, text: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    fast = _read_clean(path, schema)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, _read_full(path, schema))


SLOW = [
    "region,product,year,pom_t\nKEN,0306,2010,inf\n",  # not a plain number
    "region,product,year,pom_t\nKEN,0306,2010,-1\n",  # out of bounds
    "region,product,year,pom_t\nKEN,0306,2010,1\nKEN,0306,2010,2\n",  # repeated key
    "region,product,year,pom_t\nKEN,0306,２０１０,1\n",  # full-width digits
    "region,product,year,pom_t\nKEN,0306,2010.5,1\n",  # not a whole year
    "region,product,year,pom_t,note\nKEN,0306,2010,1,x\n",  # an extra column
    "region,product,year,pom_t\nKEN,0306,2010\n",  # a short row
    "region,product,year,pom_t\n,0306,2010,1\n",  # a blank region
    'region,product,year,pom_t\n "KEN" ,0306,2010,1\n',  # a quote after a space
    "region,product,year,pom_t\nKEN,0306,2010,NaN\n",  # not a number
    "region,product,year,pom_t\nKEN,0306,2010,Infinity\n",
    "region,product,year,pom_t\nKEN,0306,2010,0x10\n",  # hexadecimal
    "region,product,year,pom_t\nKEN,0306,2010,1_000\n",
    "region,product,year,pom_t\nKEN,0306,2010,1e\n",
]


@pytest.mark.parametrize("text", SLOW)
def test_anything_unusual_takes_the_full_path(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert _read_clean(path, POM_SCHEMA) is None
    try:
        want = _read_full(path, POM_SCHEMA)
    except InputErrors as exc:
        with pytest.raises(InputErrors) as got:
            read_table(path, POM_SCHEMA)
        assert str(got.value) == str(exc)
    else:
        pd.testing.assert_frame_equal(read_table(path, POM_SCHEMA), want)


codes = st.sampled_from(["KEN", "UGA", "TZA", "RWA"])
numbers = st.floats(0, 1e9, allow_nan=False).map(lambda v: f"{v:.6g}")


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.tuples(codes, st.sampled_from(["0306", "0108", "0002"]),
                          st.integers(1990, 2030), numbers),
                min_size=1, max_size=30, unique_by=lambda r: r[:3]))  # fmt: skip
def test_valid_tables_read_the_same_either_way(tmp_path_factory, rows: list) -> None:
    path = tmp_path_factory.mktemp("t") / "pom.csv"
    body = "".join(f"{r},{p},{y},{v}\n" for r, p, y, v in rows)
    path.write_text("region,product,year,pom_t\n" + body, encoding="utf-8")
    pd.testing.assert_frame_equal(read_table(path, POM_SCHEMA), _read_full(path, POM_SCHEMA))


cells = st.text(alphabet="0123456789+-.eEinfaINFAx_ ", min_size=1, max_size=8)


@settings(max_examples=examples(200), deadline=None)
@given(cells)
def test_a_number_cell_the_fast_path_takes_reads_as_the_full_path_reads_it(
    tmp_path_factory, cell: str
) -> None:
    path = tmp_path_factory.mktemp("t") / "pom.csv"
    path.write_text(f"region,product,year,pom_t\nKEN,0306,2010,{cell}\n", encoding="utf-8")
    fast = _read_clean(path, POM_SCHEMA)
    if fast is None:
        return  # the full path reads it, with its own messages
    pd.testing.assert_frame_equal(fast, _read_full(path, POM_SCHEMA))
