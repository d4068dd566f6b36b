"""Rules a national submission must satisfy, checked in vectorised passes.

The code lists (:class:`Codes`), the accepted indicators and units, and
:func:`validate_records`, which turns raw string records (from
:mod:`ewaste_tracker.submissions.templates`) into the accepted table or a list of
:class:`~ewaste_tracker.errors.InputError` naming file/sheet, row, column, value and expectation for
every problem. Plausibility findings are :class:`SubmissionWarning` items. See
:mod:`ewaste_tracker.submissions.submit` for the file layouts.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.tables import MAX_ERRORS, normalize_text

logger = logging.getLogger(__name__)

INDICATORS: tuple[str, ...] = (
    "pom",
    "collected_formal",
    "treated_preprocessing",
    "treated_informal",
    "treated_residual",
    "exported_used",
    "exported_ewaste",
    "stock",
)
"""Indicators a submission may report (tonnes unless converted from kg or pieces)."""

FIELDS: tuple[str, ...] = ("country", "year", "product", "indicator", "value", "unit")
"""Required columns of the long format, in order."""

IGNORED_COLUMNS: frozenset[str] = frozenset(
    {"description", "name", "default_t", "default", "note", "notes", "comment", "comments"}
)
"""Columns that may appear in a submission and are read past without a warning."""

UNIT_ALIASES: Mapping[str, str] = {
    "t": "t",
    "tonne": "t",
    "tonnes": "t",
    "kg": "kg",
    "pieces": "pieces",
    "piece": "pieces",
    "pcs": "pieces",
    "units": "pieces",
}
"""Accepted spellings of the units (case-insensitive), mapped to ``t``, ``kg`` or ``pieces``."""

EU6_CATEGORIES: tuple[str, ...] = ("1", "2", "3", "4a", "4b", "5", "6")
FIRST_YEAR = 1980
"""Earliest year accepted by default (the UNU-KEY sales data start around then)."""

ACCEPTED_COLUMNS: tuple[str, ...] = (
    "country",
    "year",
    "product",
    "product_level",
    "indicator",
    "value",
    "unit",
    "value_t",
    "status",
    "source",
    "source_sheet",
    "source_row",
)
"""Columns of the accepted table returned by :func:`read_submission`."""


@dataclass(frozen=True)
class Codes:
    """The code lists a submission is checked against.

    Parameters
    ----------
    countries
        Accepted ISO3 codes.
    unu_to_eu6
        UNU-KEY → EU-6 category; its keys are the accepted UNU-KEYs.
    unit_weight_kg
        Average unit weight (kg) per UNU-KEY, used to convert ``pieces``.
    descriptions
        Optional product descriptions (UNU-KEY or EU-6 code → text) for templates.
    """

    countries: frozenset[str]
    unu_to_eu6: Mapping[str, str]
    unit_weight_kg: Mapping[str, float]
    descriptions: Mapping[str, str] = field(default_factory=dict)

    @property
    def unu_keys(self) -> frozenset[str]:
        """Accepted UNU-KEYs."""
        return frozenset(self.unu_to_eu6)

    @property
    def eu6(self) -> frozenset[str]:
        """Accepted EU-6 category codes."""
        return frozenset(EU6_CATEGORIES)

    @classmethod
    def from_tables(cls, countries: pd.DataFrame, products: pd.DataFrame) -> Codes:
        """Build from a countries table (``iso3``) and a products table.

        ``products`` needs ``unu_key``, ``eu6_category`` and ``unit_weight_kg``; ``description``
        and ``eu6_name`` are used when present.
        """
        keys = products["unu_key"].astype(str).str.zfill(4)
        eu6 = products["eu6_category"].astype(str).str.lower()
        desc: dict[str, str] = {}
        if "description" in products:
            desc.update(zip(keys, products["description"].astype(str), strict=True))
        if "eu6_name" in products:
            desc.update(zip(eu6, products["eu6_name"].astype(str), strict=True))
        return cls(
            countries=frozenset(countries["iso3"].astype(str).str.upper()),
            unu_to_eu6=dict(zip(keys, eu6, strict=True)),
            unit_weight_kg=dict(
                zip(keys, pd.to_numeric(products["unit_weight_kg"]).astype(float), strict=True)
            ),
            descriptions=desc,
        )

    @classmethod
    def from_catalog(cls) -> Codes:
        """Build from the shipped reference catalogue (:mod:`ewaste_tracker.catalog`)."""
        from ewaste_tracker import catalog

        return cls.from_tables(catalog.countries(), catalog.products())


@dataclass(frozen=True)
class SubmissionWarning:
    """A plausibility finding that does not stop a submission.

    Attributes
    ----------
    message
        What was found.
    path
        The file (``file:sheet`` for Excel).
    row
        The row as a person counts it (header = 1), when one row is concerned.
    column
        The column concerned.
    value
        The value found.
    """

    message: str
    path: str
    row: int | None = None
    column: str | None = None
    value: Any = None

    def __str__(self) -> str:
        where = [self.path]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = ", ".join(where) + f": {self.message}"
        return text if self.value is None else f"{text} (got {self.value!r})"


def default_years() -> tuple[int, int]:
    """Return the default accepted year range: :data:`FIRST_YEAR` to the current UTC year."""
    return FIRST_YEAR, _dt.datetime.now(_dt.UTC).year


def _suggest(value: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _flag(
    errors: list[InputError],
    raw: pd.DataFrame,
    mask: pd.Series,
    fld: str,
    reason: str,
    expected: str,
    *,
    suggest: Collection[str] | None = None,
) -> None:
    """Append one InputError per flagged row (loops only over the flagged rows, at most
    :data:`~ewaste_tracker.tables.MAX_ERRORS` of them; a last error counts the rest)."""
    if not mask.any():
        return
    where_col = f"_where_{fld}" if f"_where_{fld}" in raw else "_where"
    row_col = f"_row_{fld}" if f"_row_{fld}" in raw else "_row"
    sub = raw.loc[mask, [where_col, row_col, f"_col_{fld}", fld]]
    if len(sub) > MAX_ERRORS:
        errors.append(InputError(f"... and {len(sub) - MAX_ERRORS} more rows: {reason}",
                                 path=str(sub.iloc[0, 0]).split(":")[0]))  # fmt: skip
        sub = sub.iloc[:MAX_ERRORS]
    for where, row, col, value in sub.itertuples(index=False, name=None):
        exp = expected + (_suggest(str(value), suggest) if suggest else "")
        errors.append(
            InputError(reason, path=where, row=int(row), column=col, value=value, expected=exp)
        )


def validate_records(
    raw: pd.DataFrame,
    *,
    codes: Codes,
    years: tuple[int, int],
    jump_factor: float = 5.0,
    source: str = "",
    file_label: str | None = None,
) -> tuple[pd.DataFrame, list[InputError], list[SubmissionWarning]]:
    """Validate raw submission records in vectorised passes.

    Parameters
    ----------
    raw
        String columns :data:`FIELDS` plus locations: ``_where`` (file or ``file:sheet``),
        ``_row`` (row a person sees) and ``_col_<field>`` (column header holding each field);
        optional ``_where_country``/``_row_country`` when the country sits elsewhere (wide
        Excel: the ``about`` sheet). Rows with an empty ``value`` are "not reported" and skipped.
    codes, years, jump_factor
        As in :func:`read_submission`.
    source
        Name recorded in the ``source`` column of the accepted table.
    file_label
        The file named in file-level messages (default ``source``).

    Returns
    -------
    accepted, errors, warnings
        ``accepted`` is empty when there are errors.
    """
    errors: list[InputError] = []
    warnings: list[SubmissionWarning] = []
    raw = raw.copy()
    for f in FIELDS:
        raw[f] = normalize_text(raw[f]).str.strip()
    raw = raw.loc[raw["value"] != ""].reset_index(drop=True)
    where0 = str(raw["_where"].iloc[0]).split(":")[0] if len(raw) else (file_label or source)
    if raw.empty:
        return (
            pd.DataFrame(columns=list(ACCEPTED_COLUMNS)),
            [InputError("no values reported", path=where0, expected="at least one value")],
            warnings,
        )

    # country -----------------------------------------------------------------------------
    country = raw["country"].str.upper()
    bad = country == ""
    _flag(errors, raw, bad, "country", "country is missing", "an ISO3 code, e.g. 'KEN'")
    unknown = ~bad & ~country.isin(codes.countries)
    _flag(
        errors,
        raw,
        unknown,
        "country",
        "unknown country code",
        "an ISO 3166-1 alpha-3 code in the catalogue",
        suggest=codes.countries,
    )
    known = country[~bad & ~unknown]
    if known.nunique() > 1:
        main = known.value_counts().index[0]
        other = ~bad & ~unknown & (country != main)
        _flag(
            errors,
            raw,
            other,
            "country",
            "a submission covers one country",
            f"{main!r} like the other rows",
        )
    raw["country"] = country

    # year --------------------------------------------------------------------------------
    ytxt = raw["year"].str.replace(r"\.0+$", "", regex=True)
    not_int = ~ytxt.str.fullmatch(r"\d{4}")
    _flag(errors, raw, not_int, "year", "year is not a 4-digit whole number", "e.g. 2021")
    year = pd.to_numeric(ytxt.where(~not_int), errors="coerce")
    out = ~not_int & ((year < years[0]) | (year > years[1]))
    _flag(errors, raw, out, "year", "year out of range", f"{years[0]} to {years[1]}")
    raw["year"] = ytxt

    # product -----------------------------------------------------------------------------
    prod = raw["product"].str.lower()
    padded = prod.str.fullmatch(r"\d{3}") & ("0" + prod).isin(codes.unu_keys)
    for where, row in raw.loc[padded, ["_where", "_row"]].itertuples(index=False, name=None):
        warnings.append(
            SubmissionWarning(
                "3-digit product read as a UNU-KEY with its leading zero restored",
                str(where),
                int(row),
                "product",
            )
        )
    prod = prod.mask(padded, "0" + prod)
    is_unu = prod.isin(codes.unu_keys)
    is_eu6 = prod.isin(codes.eu6)
    bad_prod = ~is_unu & ~is_eu6
    _flag(
        errors,
        raw,
        bad_prod & (prod == ""),
        "product",
        "product is missing",
        "a UNU-KEY such as '0306' or an EU-6 category (1, 2, 3, 4a, 4b, 5, 6)",
    )
    _flag(
        errors,
        raw,
        bad_prod & (prod != ""),
        "product",
        "unknown product code",
        "a UNU-KEY such as '0306' or an EU-6 category (1, 2, 3, 4a, 4b, 5, 6)",
    )
    level = pd.Series(np.where(is_unu, "unu_key", np.where(is_eu6, "eu6", "")), index=raw.index)
    if is_unu.any() and is_eu6.any():
        main_level = "unu_key" if is_unu.sum() >= is_eu6.sum() else "eu6"
        minority = (level != main_level) & ~bad_prod
        _flag(
            errors,
            raw,
            minority,
            "product",
            "file mixes UNU-KEYs and EU-6 categories (totals would be counted twice)",
            "UNU-KEYs only" if main_level == "unu_key" else "EU-6 categories only",
        )
    raw["product"] = prod

    # indicator ---------------------------------------------------------------------------
    ind = raw["indicator"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    bad_ind = ~ind.isin(INDICATORS)
    _flag(
        errors,
        raw,
        bad_ind,
        "indicator",
        "unknown indicator",
        "one of " + ", ".join(INDICATORS),
        suggest=INDICATORS,
    )
    raw["indicator"] = ind

    # value -------------------------------------------------------------------------------
    vtxt = raw["value"]
    comma = vtxt.str.fullmatch(r"-?\d+(,\d+)+(\.\d+)?")
    _flag(
        errors,
        raw,
        comma,
        "value",
        "value uses a comma",
        "a number with '.' as decimal separator and no thousands separator",
    )
    value = pd.to_numeric(vtxt.where(~comma), errors="coerce").astype(float)
    nonnum = ~comma & value.isna()
    _flag(errors, raw, nonnum, "value", "value is not a number", "a number, e.g. 12.5")
    nonfinite = ~nonnum & ~comma & ~np.isfinite(value.fillna(0.0))
    _flag(errors, raw, nonfinite, "value", "value is not finite", "a finite number")
    neg = value < 0
    _flag(errors, raw, neg, "value", "value is negative", "a number >= 0")

    # unit --------------------------------------------------------------------------------
    unit = raw["unit"].str.lower().map(UNIT_ALIASES)
    _flag(
        errors,
        raw,
        unit.isna() & (raw["unit"] == ""),
        "unit",
        "unit is missing",
        "t, kg or pieces",
    )
    _flag(
        errors,
        raw,
        unit.isna() & (raw["unit"] != ""),
        "unit",
        "unknown unit",
        "t, kg or pieces",
    )
    pieces_eu6 = (unit == "pieces") & is_eu6
    _flag(
        errors,
        raw,
        pieces_eu6,
        "unit",
        "pieces need a UNU-KEY product (EU-6 categories have no unit weight)",
        "t or kg for an EU-6 category",
    )
    weight = prod.map(codes.unit_weight_kg).astype(float)
    no_weight = (unit == "pieces") & is_unu & ~(weight > 0)
    _flag(
        errors,
        raw,
        no_weight,
        "unit",
        "no unit weight for this UNU-KEY",
        "t or kg for this product",
    )
    raw["unit"] = unit.fillna(raw["unit"])

    # duplicates --------------------------------------------------------------------------
    key = ["country", "year", "product", "indicator"]
    keyed = raw.loc[~bad_prod & ~bad_ind & ~not_int, key]
    dup = keyed.duplicated(keep="first")
    if dup.any():
        first_row = (
            raw.loc[keyed.index, "_row"]
            .groupby([keyed[k] for k in key], sort=False)
            .transform("first")
        )
        first_where = (
            raw.loc[keyed.index, "_where"]
            .groupby([keyed[k] for k in key], sort=False)
            .transform("first")
        )
        dups = keyed.index[dup.to_numpy()]
        if len(dups) > MAX_ERRORS:
            errors.append(InputError(
                f"... and {len(dups) - MAX_ERRORS} more duplicate rows",
                path=str(raw.at[dups[0], "_where"]).split(":")[0],
            ))  # fmt: skip
        for i in dups[:MAX_ERRORS]:
            errors.append(
                InputError(
                    "duplicate of an earlier row (same country, year, product, indicator)",
                    path=str(raw.at[i, "_where"]),
                    row=int(str(raw.at[i, "_row"])),
                    column="indicator",
                    value=raw.at[i, "indicator"],
                    expected=f"one value; first given at {first_where[i]} row {first_row[i]}",
                )
            )

    errors = _dedupe_sorted(errors)
    if errors:
        return pd.DataFrame(columns=list(ACCEPTED_COLUMNS)), errors, warnings

    factor = unit.map({"t": 1.0, "kg": 1e-3}).astype(float)
    factor = factor.mask(unit == "pieces", weight * 1e-3)
    where = raw["_where"].astype(str)
    accepted = pd.DataFrame(
        {
            "country": raw["country"],
            "year": raw["year"].astype(np.int64),
            "product": raw["product"],
            "product_level": level,
            "indicator": raw["indicator"],
            "value": value,
            "unit": unit,
            "value_t": value * factor,
            "status": "reported",
            "source": source,
            "source_sheet": where.str.partition(":")[2],
            "source_row": raw["_row"].astype(np.int64),
        }
    )
    warnings += jump_warnings(accepted, factor=jump_factor, path=where0)
    return accepted, errors, warnings


def _dedupe_sorted(errors: list[InputError]) -> list[InputError]:
    order = {f: i for i, f in enumerate(FIELDS)}
    seen: set[tuple[Any, ...]] = set()
    out = []
    for e in errors:
        k = (e.path, e.row, e.column, e.reason)
        if k not in seen:
            seen.add(k)
            out.append(e)
    out.sort(key=lambda e: (e.path or "", e.row or 0, order.get(e.column or "", 99)))
    return out


def jump_warnings(
    accepted: pd.DataFrame, *, factor: float = 5.0, path: str = ""
) -> list[SubmissionWarning]:
    """Flag implausible year-on-year jumps in each reported series.

    A series is one (country, product, indicator). For consecutive years ``n-1, n`` with both
    values positive, the change is implausible when

    .. math:: \\max(v_n / v_{n-1},\\; v_{n-1} / v_n) > \\text{factor}.

    Parameters
    ----------
    accepted
        Table with ``country, product, indicator, year, value_t`` (and ``source_row``).
    factor
        Threshold ratio (default 5).
    path
        File named in the warnings.
    """
    key = ["country", "product", "indicator"]
    s = accepted.sort_values([*key, "year"])
    prev_v = s.groupby(key, sort=False)["value_t"].shift()
    prev_y = s.groupby(key, sort=False)["year"].shift()
    both = (s["year"] - prev_y == 1) & (s["value_t"] > 0) & (prev_v > 0)
    ratio = (s["value_t"] / prev_v).where(both)
    jump = both & ((ratio > factor) | (ratio < 1.0 / factor))
    s = s.assign(_ratio=ratio)
    cols = ["source_sheet", "source_row", "product", "indicator", "year", "value", "_ratio"]
    out = []
    for sheet, row, prod, ind, yr, val, r in s.loc[jump, cols].itertuples(index=False, name=None):
        out.append(
            SubmissionWarning(
                f"implausible jump for {prod} {ind} in {yr}: x{r:.3g} on the year before "
                f"(threshold x{factor:g})",
                f"{path}:{sheet}" if sheet else path,
                int(row),
                None,
                val,
            )
        )
    return out
