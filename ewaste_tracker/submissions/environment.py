"""Member states' environmental data: ICT-sector operators' energy use and scope 1-2 emissions.

Beside the e-waste submission (:mod:`ewaste_tracker.submissions.submit`), a ministry reports
what its ICT-sector operators (telecommunication networks, data centres) used and emitted, in
the same long layout, one number per row::

    country,year,segment,indicator,value,unit
    KEN,2022,networks,energy,410.5,GWh
    KEN,2022,data_centres,scope2,61000,t CO2e

``segment`` is ``networks``, ``data_centres`` or ``total``; ``indicator`` is ``energy``
(units GWh, MWh, kWh or TJ), ``scope1`` or ``scope2`` (GHG Protocol scopes; units t CO2e,
kt CO2e or kg CO2e). The file is a CSV or an Excel workbook with that sheet; validation
reports every problem at once with the same file / row / column messages as the e-waste
submission (:class:`~ewaste_tracker.errors.InputError`). Accepted files are kept in the store
(GeoPackage layers ``env_submissions`` and ``env_submission_values``, versioned per country)
and the latest version of each country replaces the default operators' estimate
(:mod:`ewaste_tracker.reported.environment`).

They are kept in the embedded GeoPackage store; the shared PostgreSQL store holds e-waste
submissions only for now and refuses environmental ones with a message naming ``--store``.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.submissions.geopackage import add_attribute_table, to_sql_value, touch, utc_now
from ewaste_tracker.submissions.rules import Codes, SubmissionWarning, _flag, default_years

__all__ = [
    "ENV_FIELDS",
    "ENV_INDICATORS",
    "ENV_SEGMENTS",
    "EnvironmentRecord",
    "environment_values",
    "is_environment_file",
    "read_environment_submission",
    "submit_environment",
    "write_environment_template",
]

logger = logging.getLogger(__name__)

ENV_FIELDS: tuple[str, ...] = ("country", "year", "segment", "indicator", "value", "unit")
"""Required columns of the environmental submission, in order."""
ENV_INDICATORS: dict[str, str] = {
    "energy": "energy", "energy_use": "energy", "electricity": "energy",
    "scope1": "scope1", "scope_1": "scope1", "scope2": "scope2", "scope_2": "scope2",
}  # fmt: skip
"""Accepted indicator spellings → indicator."""
ENV_SEGMENTS: dict[str, str] = {
    "networks": "networks", "network": "networks", "data_centres": "data_centres",
    "data_centers": "data_centres", "data_centre": "data_centres", "total": "total",
}  # fmt: skip
ENERGY_UNITS = {"gwh": 1.0, "mwh": 1e-3, "kwh": 1e-6, "tj": 1.0 / 3.6}
GHG_UNITS = {"t co2e": 1.0, "tco2e": 1.0, "t": 1.0, "kt co2e": 1e3, "ktco2e": 1e3,
             "kg co2e": 1e-3, "kgco2e": 1e-3}  # fmt: skip
ACCEPTED = ["country", "year", "segment", "indicator", "value", "unit", "value_std",
            "source", "source_row"]  # fmt: skip

_TABLES = {
    "env_submissions": """(
  fid INTEGER PRIMARY KEY AUTOINCREMENT, country TEXT NOT NULL, version INTEGER NOT NULL,
  submitter TEXT NOT NULL, submitted_utc TEXT NOT NULL, file_name TEXT NOT NULL,
  sha256 TEXT NOT NULL, n_values INTEGER NOT NULL, first_year INTEGER NOT NULL,
  last_year INTEGER NOT NULL, warnings TEXT NOT NULL, UNIQUE (country, version))""",
    "env_submission_values": """(
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id INTEGER NOT NULL REFERENCES env_submissions(fid),
  country TEXT NOT NULL, year INTEGER NOT NULL, segment TEXT NOT NULL, indicator TEXT NOT NULL,
  value REAL NOT NULL, unit TEXT NOT NULL, value_std REAL NOT NULL, source_row INTEGER)""",
}


def is_environment_file(path: str | Path) -> bool:
    """Whether a CSV's header (or an Excel sheet's) names a ``segment`` column."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            head = path.read_bytes()[:4096].decode("utf-8-sig", errors="replace")
            return "segment" in head.split("\n", 1)[0].lower()
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            try:
                return any(
                    any(str(c).strip().lower() == "segment" for c in row if c is not None)
                    for ws in wb.worksheets
                    for row in ws.iter_rows(max_row=3, values_only=True)
                )
            finally:
                wb.close()
    except (OSError, ValueError, KeyError):
        return False
    return False


def validate_environment_records(
    raw: pd.DataFrame, *, codes: Codes, years: tuple[int, int], source: str = ""
) -> tuple[pd.DataFrame, list[InputError]]:
    """Validate raw environmental records (columns :data:`ENV_FIELDS` plus locations)."""
    errors: list[InputError] = []
    raw = raw.copy()
    for f in ENV_FIELDS:
        raw[f] = raw[f].astype(str).str.strip()
    raw = raw.loc[raw["value"] != ""].reset_index(drop=True)
    if raw.empty:
        return pd.DataFrame(columns=ACCEPTED), [
            InputError("no values reported", path=source, expected="at least one value")
        ]
    country = raw["country"].str.upper()
    _flag(errors, raw, country == "", "country", "country is missing", "an ISO3 code, e.g. 'KEN'")
    unknown = (country != "") & ~country.isin(codes.countries)
    _flag(errors, raw, unknown, "country", "unknown country code",
          "an ISO 3166-1 alpha-3 code in the catalogue", suggest=codes.countries)  # fmt: skip
    known = country[(country != "") & ~unknown]
    if known.nunique() > 1:
        main = known.value_counts().index[0]
        other = (country != "") & ~unknown & (country != main)
        _flag(errors, raw, other, "country", "a submission covers one country",
              f"{main!r} like the other rows")  # fmt: skip
    ytxt = raw["year"].str.replace(r"\.0+$", "", regex=True)
    not_int = ~ytxt.str.fullmatch(r"\d{4}")
    _flag(errors, raw, not_int, "year", "year is not a 4-digit whole number", "e.g. 2021")
    year = pd.to_numeric(ytxt.where(~not_int), errors="coerce")
    out = ~not_int & ((year < years[0]) | (year > years[1]))
    _flag(errors, raw, out, "year", "year out of range", f"{years[0]} to {years[1]}")
    norm = raw["segment"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    seg = norm.map(ENV_SEGMENTS)
    _flag(errors, raw, seg.isna(), "segment", "unknown segment",
          "networks, data_centres or total", suggest=list(ENV_SEGMENTS))  # fmt: skip
    ind = raw["indicator"].str.lower().str.replace(r"[\s\-]+", "_", regex=True).map(ENV_INDICATORS)
    _flag(errors, raw, ind.isna(), "indicator", "unknown indicator", "energy, scope1 or scope2",
          suggest=list(ENV_INDICATORS))  # fmt: skip
    vtxt = raw["value"]
    comma = vtxt.str.fullmatch(r"-?\d+(,\d+)+(\.\d+)?")
    _flag(errors, raw, comma, "value", "value uses a comma",
          "a number with '.' as decimal separator and no thousands separator")  # fmt: skip
    value = pd.to_numeric(vtxt.where(~comma), errors="coerce").astype(float)
    _flag(errors, raw, ~comma & value.isna(), "value", "value is not a number", "e.g. 12.5")
    bad_num = value.notna() & ~np.isfinite(value.fillna(0.0))
    _flag(errors, raw, bad_num, "value", "value is not finite", "a finite number")
    _flag(errors, raw, value < 0, "value", "value is negative", "a number >= 0")
    unit = raw["unit"].str.lower().str.replace(r"\s+", " ", regex=True).str.replace(
        "co2eq", "co2e").str.replace("co₂e", "co2e")  # fmt: skip
    energy = ind == "energy"
    factor = pd.Series(np.where(energy, unit.map(ENERGY_UNITS), unit.map(GHG_UNITS)),
                       index=raw.index, dtype=float)  # fmt: skip
    _flag(
        errors,
        raw,
        ind.notna() & factor.isna() & (raw["unit"] == ""),
        "unit",
        "unit is missing",
        "GWh, MWh, kWh or TJ for energy; t CO2e or kt CO2e for scopes",
    )
    _flag(
        errors,
        raw,
        ind.notna() & factor.isna() & (raw["unit"] != ""),
        "unit",
        "unit does not fit the indicator",
        "GWh, MWh, kWh or TJ for energy; t CO2e, kt CO2e or kg CO2e for scope1/scope2",
    )
    key = pd.DataFrame({"c": country, "y": ytxt, "s": seg, "i": ind})
    ok = seg.notna() & ind.notna() & ~not_int
    dup = key[ok].duplicated(keep="first")
    _flag(
        errors,
        raw,
        dup.reindex(raw.index, fill_value=False),
        "indicator",
        "duplicate of an earlier row (same country, year, segment, indicator)",
        "one value",
    )
    if errors:
        errors.sort(key=lambda e: (e.path or "", e.row or 0))
        return pd.DataFrame(columns=ACCEPTED), errors
    accepted = pd.DataFrame({
        "country": country, "year": ytxt.astype(np.int64), "segment": seg, "indicator": ind,
        "value": value, "unit": raw["unit"], "value_std": value * factor, "source": source,
        "source_row": raw["_row"].astype(np.int64),
    })  # fmt: skip
    return accepted, errors


def read_environment_submission(
    path: str | Path, *, codes: Codes | None = None, years: tuple[int, int] | None = None
) -> tuple[pd.DataFrame, list[SubmissionWarning]]:
    """Read and validate an environmental submission (CSV or Excel long sheet).

    Raises
    ------
    InputErrors
        Every problem, each naming file (``file:sheet``), row, column, value and expectation.
    """
    from ewaste_tracker.submissions.templates import records_from_file

    path = Path(path)
    codes = Codes.from_catalog() if codes is None else codes
    years = default_years() if years is None else years
    raw, errors, warnings = records_from_file(path, fields=ENV_FIELDS)
    accepted = pd.DataFrame(columns=ACCEPTED)
    if not errors:
        accepted, errors = validate_environment_records(raw, codes=codes, years=years,
                                                        source=path.name)  # fmt: skip
    if errors:
        raise InputErrors(errors)
    logger.info("%s: accepted %d environmental values", path, len(accepted))
    return accepted, warnings


@dataclass(frozen=True)
class EnvironmentRecord:
    """One stored environmental submission (a row of ``env_submissions``)."""

    id: int
    country: str
    version: int
    file_name: str
    n_values: int
    first_year: int
    last_year: int
    new: bool = True

    def __str__(self) -> str:
        state = "" if self.new else " (unchanged: same content as the latest version)"
        return (
            f"{self.country} environmental data version {self.version}: {self.n_values} "
            f"values {self.first_year}-{self.last_year} from {self.file_name}{state}"
        )


def _ensure_tables(con: sqlite3.Connection) -> None:
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if set(_TABLES) <= have:
        return
    for name, body in _TABLES.items():
        add_attribute_table(con, name, body, f"ewaste-tracker {name}")


def _gpkg(store: str | Path | None) -> Any:
    """The embedded GeoPackage store that keeps environmental submissions.

    Environmental submissions are kept in the embedded (GeoPackage) store; the shared
    PostgreSQL store does not hold them yet, and refuses them with a clear message.
    """
    from ewaste_tracker.submissions.gpkg_store import GeoPackageStore
    from ewaste_tracker.submissions.store import Store

    st = Store(store)
    if not isinstance(st, GeoPackageStore):
        raise InputError(
            "environmental submissions are kept in the embedded GeoPackage store only",
            column="--store", value=str(store),
            expected="a GeoPackage store (the shared PostgreSQL store takes e-waste "
            "submissions)",
        )  # fmt: skip
    return st


def submit_environment(
    path: str | Path,
    *,
    store: str | Path | None = None,
    submitter: str | None = None,
    codes: Codes | None = None,
    years: tuple[int, int] | None = None,
) -> EnvironmentRecord:
    """Validate an environmental submission and keep it as the country's next version.

    Nothing is stored when the file has an error; the same content as the latest version
    stores nothing new (``new=False``).
    """
    from ewaste_tracker.submissions.submit import check_submitter

    path = Path(path)
    check_submitter(submitter)
    accepted, _ = read_environment_submission(path, codes=codes, years=years)
    content = path.read_bytes()
    sha = hashlib.sha256(content).hexdigest()
    if submitter is None:
        try:
            submitter = getpass.getuser()
        except (KeyError, OSError):
            submitter = "unknown"
    country = str(accepted["country"].iloc[0])
    yrs = accepted["year"].to_numpy(np.int64)
    cols = ["country", "year", "segment", "indicator", "value", "unit", "value_std",
            "source_row"]  # fmt: skip
    rows = list(accepted[cols].astype(object).itertuples(index=False, name=None))
    with _gpkg(store).connect() as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            _ensure_tables(con)
            last = con.execute(
                "SELECT fid, version, sha256 FROM env_submissions WHERE country = ? "
                "ORDER BY version DESC LIMIT 1", (country,),
            ).fetchone()  # fmt: skip
            if last is not None and last[2] == sha:
                con.execute("COMMIT")
                return EnvironmentRecord(
                    int(last[0]),
                    country,
                    int(last[1]),
                    path.name,
                    len(accepted),
                    int(yrs.min()),
                    int(yrs.max()),
                    False,
                )
            version = 1 if last is None else int(last[1]) + 1
            cur = con.execute(
                "INSERT INTO env_submissions (country, version, submitter, submitted_utc, "
                "file_name, sha256, n_values, first_year, last_year, warnings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (country, version, submitter, utc_now(), path.name, sha, len(accepted),
                 int(yrs.min()), int(yrs.max()), json.dumps([])),
            )  # fmt: skip
            sid = cur.lastrowid
            con.executemany(
                "INSERT INTO env_submission_values (submission_id, country, year, segment, "
                "indicator, value, unit, value_std, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(sid, *(to_sql_value(v) for v in r)) for r in rows],
            )
            touch(con, *_TABLES)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    assert sid is not None
    record = EnvironmentRecord(int(sid), country, version, path.name, len(accepted),
                               int(yrs.min()), int(yrs.max()))  # fmt: skip
    logger.info("stored %s", record)
    return record


def environment_values(store: str | Path | None = None) -> pd.DataFrame:
    """Latest accepted environmental submission of every country (empty when none).

    Returns
    -------
    pandas.DataFrame
        :data:`ewaste_tracker.reported.environment.ENV_COLUMNS` (``value_std`` in GWh or
        t CO2e; ``source`` ``environment submission <ISO3> v<version>``).
    """
    from ewaste_tracker import settings

    columns = ["country", "year", "segment", "indicator", "value_std", "source"]
    if settings.is_database_url(settings.store_target(store)):
        return pd.DataFrame(columns=columns)  # kept in the embedded store only (module doc)
    path = Path(settings.store_target(store))
    if not path.exists():
        return pd.DataFrame(columns=columns)
    with _gpkg(path).connect() as con:
        have = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'env_submission_values'"
        ).fetchone()[0]
        if not have:
            return pd.DataFrame(columns=columns)
        df = pd.read_sql_query(
            "SELECT v.country, v.year, v.segment, v.indicator, v.value_std, s.version "
            "FROM env_submission_values v JOIN env_submissions s ON v.submission_id = s.fid "
            "WHERE s.version = (SELECT max(version) FROM env_submissions x "
            "WHERE x.country = s.country) ORDER BY v.fid", con,
        )  # fmt: skip
    df["source"] = "environment submission " + df["country"] + " v" + df["version"].astype(str)
    return df[columns]


def write_environment_template(
    country: str,
    out_dir: str | Path,
    defaults: pd.DataFrame | None = None,
    *,
    years: Sequence[int] = range(2015, 2026),
) -> list[Path]:
    """Write ``<ISO3>_environment.csv`` and ``.xlsx`` (a long sheet to fill, an ``about``
    sheet), with the model's default beside each cell (``default``, ignored on reading).

    Parameters
    ----------
    country
        ISO3 code.
    out_dir
        Folder to write into.
    defaults
        ``year, segment, indicator, default`` (GWh, t CO2e) or ``None``.
    years
        Years to ask for.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    country = country.strip().upper()
    grid = pd.MultiIndex.from_product(
        [list(years), ["networks", "data_centres"], ["energy", "scope1", "scope2"]],
        names=["year", "segment", "indicator"],
    ).to_frame(index=False)
    if defaults is not None and len(defaults):
        grid = grid.merge(defaults, on=["year", "segment", "indicator"], how="left")
    else:
        grid["default"] = np.nan
    table = pd.DataFrame({
        "country": country, "year": grid["year"], "segment": grid["segment"],
        "indicator": grid["indicator"], "value": "",
        "unit": np.where(grid["indicator"] == "energy", "GWh", "t CO2e"),
        "default": grid["default"].round(3),
    })  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"{country}_environment.csv"
    table.to_csv(csv_path, index=False)
    wb = Workbook()
    about = wb.active
    about.title = "about"
    for row in (
        ["field", "value"], ["country", country], ["kind", "environment"],
        ["created_utc", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        ["note", "ICT-sector operators (telecommunication networks, data centres): energy "
                 "use and GHG Protocol scope 1 and scope 2 emissions, totals for the country."],
        ["note", "Fill the yellow 'value' column; leave empty if unknown. Units: GWh, MWh, "
                 "kWh or TJ for energy; t CO2e, kt CO2e or kg CO2e for scope1/scope2."],
        ["note", "segment 'total' may replace the two segments; the grey 'default' column is "
                 "the model's estimate and is not read back."],
    ):  # fmt: skip
        about.append(row)
    ws = wb.create_sheet("environment")
    ws.append(list(table.columns))
    for rec in table.itertuples(index=False):
        ws.append([None if isinstance(v, float) and np.isnan(v) else v for v in rec])
    for j in range(1, len(table.columns) + 1):
        ws.cell(row=1, column=j).font = Font(bold=True)
    ws.cell(row=1, column=5).fill = PatternFill("solid", fgColor="FFF2CC")
    ws.cell(row=1, column=7).fill = PatternFill("solid", fgColor="D9D9D9")
    ws.freeze_panes = "A2"
    xlsx_path = out / f"{country}_environment.xlsx"
    wb.save(xlsx_path)
    return [csv_path, xlsx_path]
