"""Lifetime tables, discard matrices and lifetime extension (ewaste_tracker.flows.lifetimes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetimes import (
    CONVENTIONS,
    DISTRIBUTIONS,
    LifetimeError,
    LifetimeExtension,
    LifetimeTable,
    discard_matrix,
    lifetime_table_from_frame,
)

YEARS = np.arange(1970, 2051)
# EU WEEE Calculation Tool manual (rev. May 2023), Annex III, NL/FR/BE parameters
PHONE = (1.56, 6.26)  # 0306 mobile phones
FRIDGE = (2.2, 16.43)  # 0108 fridges
DRYER = (2.58, 15.73)  # 0105 dryers


def _dims(regions=("NLD", "KEN", "IND"), products=("0306", "0108"), years=YEARS) -> Dims:
    return Dims(regions, products, years)


def _one(dist: str, shape: float, scale: float, years=YEARS) -> LifetimeTable:
    return LifetimeTable.from_arrays(Dims(("X",), ("P",), years), dist, shape, scale)


# --- the UNU / WEEE Calculation Tool convention ------------------------------------------------
def test_unu_phone_shares_match_the_weee_calculation_tool():
    m = discard_matrix(_one("weibull", *PHONE), YEARS)
    # share discarded at ages 0, 1, 2 = Weibull density at 0.5, 1.5, 2.5: the published
    # 0.059, 0.100, 0.117 to the third decimal (the closed form gives 0.05936, 0.10054, 0.11738)
    np.testing.assert_allclose(m[0, :3, 0], [0.059, 0.100, 0.117], atol=1e-3)
    k, lam = PHONE
    age = np.array([0.5, 1.5, 2.5])
    density = k / lam * (age / lam) ** (k - 1) * np.exp(-((age / lam) ** k))
    np.testing.assert_allclose(m[0, :3, 0], density, rtol=1e-12)
    # the same shares for every cohort (lower-triangular Toeplitz), nothing before the sale
    np.testing.assert_allclose(m[0, 12:15, 12], m[0, :3, 0])
    assert np.all(m[0][np.triu_indices(YEARS.size, 1)] == 0)


def test_unu_cumulative_discards_are_capped_at_one():
    # a lifetime peaked at half a year: the density at age 0.5 alone is ~8
    m = discard_matrix(_one("lognormal", 0.1, 0.5), YEARS)
    assert np.all(m >= 0)
    np.testing.assert_allclose(np.diagonal(m[0]), 1.0)  # the whole cohort, once
    np.testing.assert_allclose(m[0].sum(axis=0), 1.0)
    assert np.all(np.cumsum(m[0], axis=0) <= 1.0 + 1e-12)


def test_fixed_lifetime_discards_whole_cohort_at_floor_of_lifetime():
    m = discard_matrix(_one("fixed", np.nan, 5.7), YEARS)
    assert m[0, 5, 0] == 1.0 and m[0].sum(axis=0)[0] == 1.0
    m_end = discard_matrix(_one("fixed", np.nan, 5.0), YEARS, convention="flodym_end")
    assert m_end[0, 5, 0] == 1.0  # survives while age < 5: leaves at the end of age 5


def test_lognormal_scale_is_the_median():
    # flodym_end reads survival at whole ages: half a cohort is gone at age = median
    m = discard_matrix(_one("lognormal", 0.6, 10.0), YEARS, convention="flodym_end")
    assert m[0, : 10 + 1, 0].sum() == pytest.approx(0.5, abs=1e-12)


def test_folded_normal_scale_is_the_mean():
    m = discard_matrix(_one("folded_normal", 2.0, 12.0), YEARS, convention="flodym_middle")
    ages = np.arange(YEARS.size)
    # inflow mid-year, discards counted at year ends: mean age of discard = mean + ~0
    assert (m[0, :, 0] * ages).sum() == pytest.approx(12.0, abs=0.05)


@given(
    dist=st.sampled_from(DISTRIBUTIONS),
    shape=st.floats(0.3, 6.0),
    scale=st.floats(0.2, 40.0),
    convention=st.sampled_from(CONVENTIONS),
)
def test_discard_matrix_is_a_valid_share_matrix(dist, shape, scale, convention):
    years = np.arange(2000, 2031)
    m = discard_matrix(_one(dist, shape, scale, years), years, convention=convention)
    assert m.shape == (1, years.size, years.size)
    assert np.all(m >= -1e-15)
    assert np.all(m[0][np.triu_indices(years.size, 1)] == 0)
    assert np.all(m.sum(axis=1) <= 1.0 + 1e-12)


def test_flodym_conventions_differ_in_the_first_years_only():
    tab = _one("weibull", *FRIDGE)
    start, middle, end = (
        discard_matrix(tab, YEARS, convention=f"flodym_{c}") for c in ("start", "middle", "end")
    )
    assert end[0, 0, 0] == 0  # sold at the end of the year: nothing discarded that year
    assert start[0, 0, 0] > middle[0, 0, 0] > 0
    for m in (start, middle, end):
        np.testing.assert_allclose(m[0, :, 0].sum(), 1.0, atol=1e-12)


def test_unknown_convention_and_broken_years_are_rejected():
    tab = _one("weibull", *PHONE)
    with pytest.raises(ValueError, match="convention"):
        discard_matrix(tab, YEARS, convention="odym")
    with pytest.raises(ValueError, match="consecutive"):
        discard_matrix(tab, YEARS[::2])
    with pytest.raises(ValueError, match="cohort years"):
        discard_matrix(tab, np.arange(2040, 2061))


# --- tables from tidy frames -------------------------------------------------------------------
def _frame(rows):
    return pd.DataFrame(
        rows, columns=["region", "product", "cohort_year", "distribution", "shape", "scale"]
    )


def test_table_applies_blank_region_rows_and_region_overrides():
    frame = _frame(
        [
            ("", "0306", None, "weibull", *PHONE),
            ("KEN", "0306", None, "weibull", 1.56, 9.0),
            ("", "0108", None, "weibull", *FRIDGE),
        ]
    )
    dims = _dims()
    tab = lifetime_table_from_frame(frame, dims)
    assert tab.n_groups == 3
    scale = tab.scale[tab.group][..., 0]  # (R, P) at the first cohort
    np.testing.assert_allclose(scale, [[6.26, 16.43], [9.0, 16.43], [6.26, 16.43]])


def test_cohort_years_are_step_functions():
    frame = _frame(
        [
            ("", "0306", 2000, "weibull", 1.56, 7.0),
            ("", "0306", 1990, "weibull", 1.56, 8.0),  # rows need not be sorted
            ("", "0108", "", "weibull", *FRIDGE),
        ]
    )
    tab = lifetime_table_from_frame(frame, _dims(regions=("NLD",)))
    phone = tab.scale[tab.group[0, 0]]
    years = tab.cohort_years
    assert np.all(phone[years < 2000] == 8.0)  # 1990 row, and backwards to 1970
    assert np.all(phone[years >= 2000] == 7.0)


def test_rows_outside_the_run_are_ignored_and_codes_kept_as_text():
    frame = _frame(
        [
            ("", "0306", None, "Weibull", *PHONE),
            ("", "0108", None, "weibull", *FRIDGE),
            ("", "0105", None, "weibull", *DRYER),  # not in the run
            ("FRA", "0306", None, "weibull", 2.0, 5.0),  # region not in the run
        ]
    )
    tab = lifetime_table_from_frame(frame, _dims())
    assert tab.n_groups == 2 and set(tab.distribution) == {"weibull"}


@pytest.mark.parametrize(
    ("row", "column", "rows"),
    [
        (
            1,
            "distribution",
            [("", "0306", None, "weibull", *PHONE), ("", "0108", None, "gamma", 2.0, 3.0)],
        ),
        (
            0,
            "shape",
            [("", "0306", None, "weibull", -1.0, 6.0), ("", "0108", None, "weibull", *FRIDGE)],
        ),
        (
            1,
            "scale",
            [("", "0306", None, "weibull", *PHONE), ("", "0108", None, "lognormal", 0.5, "ten")],
        ),
        (
            2,
            "product",
            [
                ("", "0306", 2000, "weibull", *PHONE),
                ("", "0108", None, "weibull", *FRIDGE),
                ("", "0306", 2000, "weibull", 1.0, 6.0),
            ],
        ),
        (
            1,
            "cohort_year",
            [("", "0306", None, "weibull", *PHONE), ("", "0108", 2001.5, "weibull", *FRIDGE)],
        ),
        (
            1,
            "distribution",
            [
                ("", "0306", 1990, "weibull", *PHONE),
                ("", "0306", 2000, "lognormal", 0.5, 6.0),
                ("", "0108", None, "weibull", *FRIDGE),
            ],
        ),
    ],
)
def test_invalid_rows_are_named_by_row_and_column(row, column, rows):
    with pytest.raises(LifetimeError) as err:
        lifetime_table_from_frame(_frame(rows), _dims())
    assert err.value.row == row and err.value.column == column
    assert f"data row {row} (CSV line {row + 2})" in str(err.value)


def test_missing_columns_and_uncovered_products_are_errors():
    with pytest.raises(LifetimeError) as err:
        lifetime_table_from_frame(pd.DataFrame({"product": ["0306"], "shape": [1.0]}), _dims())
    assert err.value.column == "distribution"
    only_kenya = _frame(
        [("KEN", "0306", None, "weibull", *PHONE), ("", "0108", None, "weibull", *FRIDGE)]
    )
    with pytest.raises(LifetimeError, match=r"'0306'.*NLD"):
        lifetime_table_from_frame(only_kenya, _dims())


def test_fixed_lifetime_needs_no_shape():
    frame = pd.DataFrame(
        {
            "product": ["0306", "0108"],
            "distribution": ["fixed", "weibull"],
            "shape": [None, FRIDGE[0]],
            "scale": [4.0, FRIDGE[1]],
        }
    )
    tab = lifetime_table_from_frame(frame, _dims())
    assert sorted(tab.distribution) == ["fixed", "weibull"]


# --- lifetime extension ------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["unu", "flodym_middle", "flodym_lobatto3"])
def test_extension_lowers_waste_after_the_policy_year_and_conserves_old_cohorts(convention):
    years = np.arange(1970, 2101)  # a horizon long enough for the slowed cohorts to finish
    tab = _one("weibull", *PHONE, years=years)
    ext = LifetimeExtension(from_year=2020, factor=1.5)
    base = discard_matrix(tab, years, convention=convention)[0]
    longer = discard_matrix(tab, years, convention=convention, extension=ext)[0]
    policy = int(np.searchsorted(years, 2020))
    # constant sales: identical waste before 2020, less waste in the years after
    wg_base, wg_longer = base.sum(axis=1), longer.sum(axis=1)
    np.testing.assert_allclose(wg_longer[:policy], wg_base[:policy], rtol=1e-12)
    assert np.all(wg_longer[policy : policy + 8] < wg_base[policy : policy + 8])
    # a cohort sold in 2010 is discarded as much in total, only later
    old = int(np.searchsorted(years, 2010))
    assert longer[:, old].sum() == pytest.approx(base[:, old].sum(), abs=1e-12)
    assert (longer[:, old] * years).sum() > (base[:, old] * years).sum()


def test_extension_for_new_cohorts_equals_longer_scale():
    ext = LifetimeExtension(from_year=2020, factor=1.25)
    m = discard_matrix(_one("weibull", *PHONE), YEARS, extension=ext)[0]
    longer = discard_matrix(_one("weibull", PHONE[0], PHONE[1] * 1.25), YEARS)[0]
    new = YEARS >= 2020
    np.testing.assert_allclose(m[:, new], longer[:, new], atol=1e-15)


def test_targeted_extension_splits_groups():
    dims = _dims()
    tab = LifetimeTable.from_arrays(
        dims, "weibull", np.array([[1.56], [2.2]]), np.array([[6.26], [16.43]])
    )
    ext = LifetimeExtension(2025, 2.0, products=("0306",), regions=("KEN",))
    with pytest.raises(ValueError, match="with_extension"):
        discard_matrix(tab, YEARS, extension=ext)
    split = tab.with_extension(ext)
    assert split.n_groups == 3
    m0, m1 = discard_matrix(tab, YEARS), discard_matrix(split, YEARS)
    for r in range(3):
        for p in range(2):
            same = np.array_equal(m0[tab.group[r, p]], m1[split.group[r, p]])
            assert same == ((r, p) != (1, 0))
    with pytest.raises(ValueError, match="already"):
        split.with_extension(ext)


def test_extension_factor_must_be_positive():
    with pytest.raises(ValueError, match="factor"):
        LifetimeExtension(2020, 0.0)


@given(
    data=st.lists(
        st.tuples(
            st.sampled_from(["", "NLD", "KEN"]),
            st.sampled_from(["0306", "0108"]),
            st.sampled_from([None, 1975, 1990, 2000, 2020]),
            st.floats(0.5, 4.0),
            st.floats(1.0, 30.0),
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda row: row[:3],
    )
)
def test_every_cell_gets_the_row_a_reader_would_pick(data):
    rows = [(r, p, c, "weibull", k, lam) for r, p, c, k, lam in data]
    rows += [("", p, 1900, "weibull", 1.0, 1.0) for p in ("0306", "0108")]  # full coverage
    dims = _dims()
    tab = lifetime_table_from_frame(_frame(rows), dims)
    for ri, region in enumerate(dims.regions):
        for pi, product in enumerate(dims.products):
            own = [row for row in rows if row[0] == region and row[1] == product]
            mine = own or [row for row in rows if row[0] == "" and row[1] == product]
            mine.sort(key=lambda row: -np.inf if row[2] is None else row[2])
            for ci in (0, 20, 30, 50, 80):  # 1970, 1990, 2000, 2020, 2050
                year = dims.years[ci]
                applies = [row for row in mine if row[2] is None or row[2] <= year] or mine[:1]
                g = tab.group[ri, pi]
                assert tab.shape[g, ci] == applies[-1][4]
                assert tab.scale[g, ci] == applies[-1][5]
