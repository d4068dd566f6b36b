"""National submissions: templates, reading, validation with all errors at once, overlay."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.reported.overlay import overlay_reported
from ewaste_tracker.submissions.submit import (
    INDICATORS,
    Codes,
    read_submission,
    validate_records,
)
from ewaste_tracker.submissions.templates import records_from_file, write_templates
from tests.conftest import TEST_DATA

BAD = TEST_DATA / "bad"
GOOD = TEST_DATA / "good"
CATALOG = GOOD / "catalog"
BAD_INDEX = pd.read_csv(BAD / "index.csv", dtype=str, keep_default_na=False)
YEARS = (1980, 2030)


def load_codes() -> Codes:
    """The test subset of the catalogue (10 UNU-KEYs, 5 countries)."""
    return Codes.from_tables(
        pd.read_csv(CATALOG / "countries.csv", dtype=str),
        pd.read_csv(CATALOG / "products.csv", dtype=str),
    )


CODES = load_codes()


def write_csv(path: Path, rows: list[tuple[object, ...]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["country", "year", "product", "indicator", "value", "unit"])
        w.writerows(rows)
    return path


def test_bad_index_has_at_least_30_cases() -> None:
    assert len(BAD_INDEX) >= 30
    assert all((BAD / f).is_file() for f in BAD_INDEX["file"])


@pytest.mark.parametrize("case", BAD_INDEX.to_dict("records"), ids=list(BAD_INDEX["file"]))
def test_bad_file_is_rejected_with_expected_message(case: dict[str, str]) -> None:
    with pytest.raises(InputErrors) as info:
        read_submission(BAD / case["file"], codes=CODES, years=YEARS)
    err = info.value
    assert case["fragment"] in str(err)
    assert len(err.errors) == int(case["n_errors"])
    assert case["file"] in str(err.errors[0].path)
    if case["row"]:
        assert err.errors[0].row == int(case["row"])
    if case["column"]:
        assert err.errors[0].column == case["column"]


def test_all_errors_reported_at_once_with_location_value_and_expectation() -> None:
    with pytest.raises(InputErrors) as info:
        read_submission(BAD / "many_errors.csv", codes=CODES, years=YEARS)
    errs = info.value.errors
    assert [e.column for e in errs] == ["country", "year", "product", "indicator", "value", "unit"]
    assert all(e.row == 3 for e in errs)  # header is row 1, first data row is 2
    assert [e.value for e in errs] == ["XXX", "20x0", "9999", "pmo", "-1", "lbs"]
    assert all(e.expected for e in errs)
    assert isinstance(info.value, ValueError)


def test_long_message_is_capped_but_every_error_is_kept(tmp_path: Path) -> None:
    rows = [("KEN", 1990 + i % 40, "0306", INDICATORS[i // 40], f"bad{i}", "t") for i in range(80)]
    with pytest.raises(InputErrors) as info:
        read_submission(write_csv(tmp_path / "s.csv", rows), codes=CODES, years=YEARS)
    assert len(info.value.errors) == 80
    assert "... and 30 more" in str(info.value)


def test_good_csv_is_converted_to_tonnes_and_marked_reported() -> None:
    acc, warns = read_submission(GOOD / "KEN_unu_long.csv", codes=CODES, years=YEARS)
    got = acc.set_index(["year", "product", "indicator"])["value_t"]
    assert got[(2019, "0306", "pom")] == pytest.approx(412.5)
    assert got[(2020, "0306", "pom")] == pytest.approx(455.0)  # 455000 kg
    assert got[(2021, "0306", "pom")] == pytest.approx(5e6 * 0.09 / 1000)  # pieces x 0.09 kg
    assert got[(2021, "0306", "stock")] == pytest.approx(2100)  # '306' padded to '0306'
    assert (2021, "0306", "exported_used") not in got.index  # empty value: not reported
    assert set(acc["status"]) == {"reported"}
    assert any("leading zero" in w.message for w in warns)


def test_good_wide_workbook_by_eu6_category() -> None:
    acc, _ = read_submission(GOOD / "GHA_eu6_wide.xlsx", codes=CODES, years=YEARS)
    assert set(acc["country"]) == {"GHA"}
    assert set(acc["product_level"]) == {"eu6"}
    cat6 = acc.loc[(acc["product"] == "6") & (acc["indicator"] == "pom")]
    assert cat6.set_index("year")["value_t"].to_dict() == {2019: 450.0, 2021: 500.0}
    assert set(acc["source_sheet"]) == {"pom", "collected_formal"}


def test_jump_is_a_warning_not_an_error(tmp_path: Path) -> None:
    rows = [("KEN", 2019, "0306", "pom", 100, "t"), ("KEN", 2020, "0306", "pom", 900, "t")]
    acc, warns = read_submission(write_csv(tmp_path / "s.csv", rows), codes=CODES, years=YEARS)
    assert len(acc) == 2
    assert len(warns) == 1 and "implausible jump" in warns[0].message and warns[0].row == 3


def defaults_for(country: str = "KEN") -> pd.DataFrame:
    grid = pd.MultiIndex.from_product(
        [list(INDICATORS), sorted(CODES.unu_keys), [2019, 2020, 2021]],
        names=["indicator", "product", "year"],
    ).to_frame(index=False)
    grid["value_t"] = np.arange(len(grid), dtype=float) + 1.0
    other = grid.assign(country="NGA", value_t=-1.0)
    return pd.concat([grid.assign(country=country), other], ignore_index=True)


def test_untouched_template_has_no_values(tmp_path: Path) -> None:
    csv_path, xlsx_path = write_templates("KEN", tmp_path, defaults_for(), codes=CODES)
    for p in (csv_path, xlsx_path):
        with pytest.raises(InputErrors, match="no values reported"):
            read_submission(p, codes=CODES, years=YEARS)


def test_template_is_prefilled_with_the_country_defaults(tmp_path: Path) -> None:
    d = defaults_for()
    csv_path, xlsx_path = write_templates("KEN", tmp_path, d, codes=CODES)
    t = pd.read_csv(csv_path, dtype={"product": str})
    ken = d.loc[d["country"] == "KEN"].set_index(["indicator", "product", "year"])["value_t"]
    got = t.set_index(["indicator", "product", "year"])["default_t"]
    pd.testing.assert_series_equal(got.sort_index(), ken.sort_index(), check_names=False)
    assert t["value"].isna().all() and set(t["unit"]) == {"t"}
    ws = load_workbook(xlsx_path)["pom"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["product", "description", "unit", 2019, 2020, 2021]
    assert header[7:] == ["default 2019", "default 2020", "default 2021"]


def test_filled_csv_and_xlsx_templates_read_back_the_same(tmp_path: Path) -> None:
    csv_path, xlsx_path = write_templates("KEN", tmp_path / "t", defaults_for(), codes=CODES)
    t = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    fill = (t["indicator"] == "collected_formal") & t["product"].isin(["0306", "0108"])
    t.loc[fill, "value"] = t.loc[fill, "default_t"]
    t.to_csv(tmp_path / "filled.csv", index=False)
    wb = load_workbook(xlsx_path)
    ws = wb["collected_formal"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in ("0306", "0108"):
            for j in range(3):
                row[3 + j].value = row[7 + j].value
    wb.save(tmp_path / "filled.xlsx")
    a, _ = read_submission(tmp_path / "filled.csv", codes=CODES, years=YEARS)
    b, _ = read_submission(tmp_path / "filled.xlsx", codes=CODES, years=YEARS)
    key = ["year", "product", "indicator"]
    cols = [*key, "value_t"]
    assert len(a) == 6
    pd.testing.assert_frame_equal(
        a[cols].sort_values(key).reset_index(drop=True),
        b[cols].sort_values(key).reset_index(drop=True),
    )


def test_eu6_template_sums_unu_defaults_by_category(tmp_path: Path) -> None:
    d = defaults_for()
    csv_path, _ = write_templates("KEN", tmp_path, d, by="eu6", codes=CODES)
    t = pd.read_csv(csv_path, dtype={"product": str})
    # in the categories' order, whatever the process's hash seed (no set order)
    assert list(dict.fromkeys(t["product"])) == ["1", "2", "3", "4a", "4b", "5", "6"]
    ken = d.loc[d["country"] == "KEN"]
    want = ken.assign(product=ken["product"].map(CODES.unu_to_eu6))
    want = want.groupby(["indicator", "product", "year"])["value_t"].sum()
    got = t.set_index(["indicator", "product", "year"])["default_t"].dropna()
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)


def test_template_for_unknown_country_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown country"):
        write_templates("XYZ", tmp_path, defaults_for(), codes=CODES)


def test_overlay_replaces_estimates_and_marks_them_reported() -> None:
    est = defaults_for().query("country == 'KEN'").reset_index(drop=True)
    acc, _ = read_submission(GOOD / "KEN_unu_long.csv", codes=CODES, years=YEARS)
    out = overlay_reported(est, acc, codes=CODES)
    key = ["country", "year", "product", "indicator"]
    rep = out.loc[out["status"] == "reported"].set_index(key)["value_t"]
    assert rep[("KEN", 2020, "0306", "pom")] == pytest.approx(455.0)
    assert len(rep) == len(acc)
    untouched = out.loc[out["status"] == "estimated"].merge(est, on=key, suffixes=("", "_e"))
    np.testing.assert_array_equal(untouched["value_t"], untouched["value_t_e"])
    assert (out.loc[out["status"] == "reported", "source"] == "KEN_unu_long.csv").all()


@given(
    shares=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=3, max_size=3),
    total=st.floats(0, 1e7, allow_nan=False),
)
def test_overlay_eu6_split_reproduces_the_reported_category_total(
    shares: list[float], total: float
) -> None:
    # category "2" holds 0303 and 0408 in the test catalogue; category "6" holds 0302 and 0306
    est = pd.DataFrame(
        {
            "country": "KEN",
            "year": 2020,
            "product": ["0303", "0408", "0306"],
            "indicator": "pom",
            "value_t": shares,
        }
    )
    rep = pd.DataFrame(
        {
            "country": ["KEN"],
            "year": [2020],
            "product": ["2"],
            "product_level": ["eu6"],
            "indicator": ["pom"],
            "value_t": [total],
            "source": ["f.csv"],
        }
    )
    out = overlay_reported(est, rep, codes=CODES)
    cat2 = out["product"].isin(["0303", "0408"])
    assert out.loc[cat2, "value_t"].sum() == pytest.approx(total, rel=1e-12, abs=1e-9)
    assert (out.loc[cat2, "status"] == "reported").all()
    assert out.loc[~cat2, "value_t"].iloc[0] == shares[2]
    assert (out["value_t"] >= 0).all()


record = st.tuples(
    st.integers(1990, 2025),
    st.sampled_from(sorted(CODES.unu_keys)),
    st.sampled_from(INDICATORS),
    st.floats(0, 1e9, allow_nan=False, allow_infinity=False),
    st.sampled_from(["t", "kg", "pieces", "T", "tonnes"]),
)


@given(st.lists(record, min_size=1, max_size=40, unique_by=lambda r: r[:3]))
def test_csv_round_trip_and_unit_conversion(records: list[tuple]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["country", "year", "product", "indicator", "value", "unit"])
    w.writerows(("KEN", y, p, i, repr(v), u) for y, p, i, v, u in records)
    raw = pd.DataFrame(
        [("KEN", str(y), p, i, repr(v), u) for y, p, i, v, u in records],
        columns=["country", "year", "product", "indicator", "value", "unit"],
    )
    raw["_where"] = "mem.csv"
    raw["_row"] = np.arange(len(raw)) + 2
    for f in ["country", "year", "product", "indicator", "value", "unit"]:
        raw[f"_col_{f}"] = f
    acc, errors, _ = validate_records(raw, codes=CODES, years=YEARS, jump_factor=np.inf)
    assert errors == []
    assert len(acc) == len(records)
    factor = {"t": 1.0, "T": 1.0, "tonnes": 1.0, "kg": 1e-3}
    for (_y, p, _i, v, u), got in zip(records, acc["value_t"], strict=True):
        want = v * (factor[u] if u in factor else CODES.unit_weight_kg[p] * 1e-3)
        assert got == pytest.approx(want, rel=1e-12)
    assert (acc["value_t"] >= 0).all()


def test_records_remember_sheet_row_and_year_column() -> None:
    raw, errors, _ = records_from_file(GOOD / "GHA_eu6_wide.xlsx")
    assert errors == []
    r = raw.loc[(raw["product"] == "6") & (raw["year"] == "2021")].iloc[0]
    assert r["_where"].endswith("GHA_eu6_wide.xlsx:pom")
    assert r["_row"] == 3 and r["_col_value"] == "2021"


def test_codes_from_the_shipped_catalogue() -> None:
    catalog = pytest.importorskip("ewaste_tracker.catalog")
    try:
        codes = Codes.from_catalog()
    except (FileNotFoundError, AttributeError) as exc:  # catalogue data not built yet
        pytest.skip(f"catalogue not available: {exc}")
    assert "KEN" in codes.countries and "0306" in codes.unu_keys
    assert len(codes.unu_keys) == len(catalog.products())
    acc, _ = read_submission(GOOD / "KEN_unu_long.csv", codes=codes, years=YEARS)
    assert len(acc) == 6
