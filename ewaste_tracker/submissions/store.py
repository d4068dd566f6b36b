"""The tracker store: submissions and model runs in one GeoPackage/SQLite file.

The store is an SQLite database that is also a valid OGC GeoPackage 1.4 (``application_id``
``'GPKG'`` = 0x47504B47, ``user_version`` 10400, the ``gpkg_spatial_ref_sys``,
``gpkg_contents`` and ``gpkg_geometry_columns`` tables; OGC 12-128r19), so GIS tools (GDAL,
QGIS, pyogrio) open it and list its tables as attribute layers:

``submissions``
    one row per stored submission: country, version (1, 2, ... per country), submitter,
    UTC time, file name, SHA-256 of the file content, counts, warnings (JSON).
``submission_values``
    the accepted values of each submission (tonnes and as reported).
``runs``
    model runs: fingerprint (SHA-256 of a canonical serialisation of every input table and
    parameter, :func:`fingerprint`), UTC time, tool version, label, parameters (JSON).
``run_indicators``
    each run's indicators table (``region, year, indicator, value, unit, status, source``).

Writes are transactional: the journal is in WAL mode and each submission or run is written
in one ``BEGIN IMMEDIATE … COMMIT`` transaction, so a writer killed mid-write leaves nothing
of its transaction behind and readers, who read inside a transaction (a WAL snapshot), see a
submission whole or not at all. Versions are numbered inside the write transaction, so two
concurrent writers never get the same version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker import settings
from ewaste_tracker.errors import InputError
from ewaste_tracker.model.fingerprint import fingerprint, json_default, tool_version
from ewaste_tracker.submissions.geopackage import (
    GPKG_APPLICATION_ID,
    add_attribute_table,
    init_geopackage,
    run_script,
    tables_to_geopackage,
    to_sql_value,
    touch,
    utc_now,
)
from ewaste_tracker.submissions.rules import ACCEPTED_COLUMNS

logger = logging.getLogger(__name__)

#: Columns of an accepted submission kept per value (status and source are derived on read).
STORED_COLUMNS = tuple(c for c in ACCEPTED_COLUMNS if c not in ("status", "source"))

SCHEMA_VERSION = 1
INDICATOR_COLUMNS = ("region", "year", "indicator", "value", "unit", "status", "source")

_TRACKER_TABLES = {
    "submissions": """(
  fid INTEGER PRIMARY KEY AUTOINCREMENT, country TEXT NOT NULL, version INTEGER NOT NULL,
  submitter TEXT NOT NULL, submitted_utc TEXT NOT NULL, file_name TEXT NOT NULL,
  sha256 TEXT NOT NULL, product_level TEXT NOT NULL, n_values INTEGER NOT NULL,
  first_year INTEGER NOT NULL, last_year INTEGER NOT NULL, warnings TEXT NOT NULL,
  UNIQUE (country, version))""",
    "submission_values": """(
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id INTEGER NOT NULL REFERENCES submissions(fid),
  country TEXT NOT NULL, year INTEGER NOT NULL, product TEXT NOT NULL,
  product_level TEXT NOT NULL, indicator TEXT NOT NULL, value REAL NOT NULL,
  unit TEXT NOT NULL, value_t REAL NOT NULL, source_sheet TEXT, source_row INTEGER)""",
    "runs": """(
  fid INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, created_utc TEXT NOT NULL,
  tool_version TEXT NOT NULL, label TEXT NOT NULL, parameters TEXT NOT NULL,
  n_rows INTEGER NOT NULL)""",
    "run_indicators": """(
  fid INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs(fid),
  region TEXT NOT NULL, year INTEGER NOT NULL, indicator TEXT NOT NULL, value REAL,
  unit TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL)""",
}
_INDEXES = """
CREATE INDEX IF NOT EXISTS ix_values_submission ON submission_values(submission_id);
CREATE INDEX IF NOT EXISTS ix_runind_run ON run_indicators(run_id, region);
CREATE INDEX IF NOT EXISTS ix_runs_fp ON runs(fingerprint);
CREATE TABLE IF NOT EXISTS tracker_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


_before_commit: Callable[[], None] | None = None
"""Test hook: called inside a submission's write transaction just before COMMIT."""


@dataclass(frozen=True)
class SubmissionRecord:
    """One stored submission (a row of the ``submissions`` table)."""

    id: int
    country: str
    version: int
    submitter: str
    submitted_utc: str
    file_name: str
    sha256: str
    n_values: int
    first_year: int
    last_year: int
    warnings: tuple[str, ...] = ()
    new: bool = True

    def __str__(self) -> str:
        state = "" if self.new else " (unchanged: same content as the latest version)"
        return (
            f"{self.country} version {self.version}: {self.n_values} values "
            f"{self.first_year}-{self.last_year} from {self.file_name} by {self.submitter} "
            f"at {self.submitted_utc}, {len(self.warnings)} warning(s){state}"
        )


@dataclass(frozen=True)
class RunRecord:
    """One stored model run (a row of the ``runs`` table)."""

    id: int
    fingerprint: str
    created_utc: str
    tool_version: str
    label: str
    n_rows: int
    new: bool = True


class Store:
    """A tracker store file.

    Parameters
    ----------
    path
        The GeoPackage file; default :func:`ewaste_tracker.settings.store_path`. Created on first
        use.
    """

    def __init__(self, path: str | Path | Store | None = None) -> None:
        if isinstance(path, Store):
            self.path: Path = path.path
        else:
            self.path = Path(path) if path is not None else settings.store_path()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _refuse(self, reason: str, exc: BaseException | None = None) -> InputError:
        return InputError(
            reason, path=self.path, column="--store",
            expected="a tracker store written by ewaste-tracker, or a new file name",
        )  # fmt: skip

    @contextlib.contextmanager
    def connect(self, *, create: bool = True) -> Iterator[sqlite3.Connection]:
        """Open a connection (autocommit; callers issue BEGIN) with the schema in place.

        The store opens only a file it created (its ``tracker_info`` table and the GeoPackage
        application id): a folder, a file of another kind or another application's
        GeoPackage is refused with :class:`~ewaste_tracker.errors.InputError` and left as it
        was. With ``create=False`` (reading) a missing store is an error and nothing is
        created, not even its folder.
        """
        if self.path.is_dir():
            raise self._refuse("is a folder")
        if not self.path.exists():
            if not create:
                raise self._refuse("no tracker store here (nothing has been stored yet)")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._refuse(f"cannot create its folder: {exc.strerror}") from exc
        try:
            con = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._refuse(f"cannot open: {exc}") from exc
        try:
            try:
                con.execute("PRAGMA busy_timeout = 60000")
                self._check_owner(con)
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("PRAGMA synchronous = FULL")
                con.execute("PRAGMA foreign_keys = ON")
                self._ensure_schema(con)
            except sqlite3.DatabaseError as exc:
                raise self._refuse(f"cannot use it as a store ({exc})") from exc
            yield con
        finally:
            con.close()

    def _check_owner(self, con: sqlite3.Connection) -> None:
        """Refuse an existing database that is not a tracker store (before any write)."""
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables or "tracker_info" in tables:
            return
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        kind = "a GeoPackage" if app_id == GPKG_APPLICATION_ID else "an SQLite database"
        raise self._refuse(f"{kind} that is not a tracker store; nothing was changed")

    def _ensure_schema(self, con: sqlite3.Connection) -> None:
        row = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='tracker_info'"
        ).fetchone()
        if row[0]:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            n_tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if n_tables and app_id != GPKG_APPLICATION_ID:
                raise InputError(
                    "not a tracker store (an SQLite file of another application)",
                    path=self.path,
                    expected="a tracker store or a new file name",
                )
            init_geopackage(con)
            for name, body in _TRACKER_TABLES.items():
                add_attribute_table(con, name, body, f"ewaste-tracker {name}")
            run_script(con, _INDEXES)
            con.execute(
                "INSERT OR IGNORE INTO tracker_info VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one consistent snapshot (a missing
        store is an error; reading never creates anything)."""
        with self.connect(create=False) as con:
            con.execute("BEGIN")
            try:
                yield con
            finally:
                con.execute("COMMIT")

    # -- submissions ----------------------------------------------------------------------

    def add_submission(
        self,
        accepted: pd.DataFrame,
        *,
        content: bytes,
        file_name: str,
        submitter: str,
        warnings: list[str] | tuple[str, ...] = (),
    ) -> SubmissionRecord:
        """Store an accepted submission as its country's next version, in one transaction.

        Parameters
        ----------
        accepted
            Output of :func:`ewaste_tracker.submissions.submit.read_submission` (one country).
        content
            The file's bytes (their SHA-256 is kept).
        file_name, submitter, warnings
            Kept with the submission.

        Returns
        -------
        SubmissionRecord
            ``new`` is False when the content equals the country's latest version (nothing
            is written then).
        """
        countries = accepted["country"].unique()
        if len(countries) != 1 or accepted.empty:
            raise InputError("a submission must hold values for exactly one country")
        country = str(countries[0])
        sha = hashlib.sha256(content).hexdigest()
        years = accepted["year"].to_numpy(dtype=np.int64)
        vals = accepted[list(STORED_COLUMNS)].astype(object)
        rows = list(vals.itertuples(index=False, name=None))
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                last = con.execute(
                    "SELECT fid, version, sha256 FROM submissions WHERE country = ? "
                    "ORDER BY version DESC LIMIT 1",
                    (country,),
                ).fetchone()
                if last is not None and last[2] == sha:
                    con.execute("ROLLBACK")
                    logger.info("%s: content equals version %d; nothing stored", country, last[1])
                    return self._submission_record(last[0], new=False)
                version = 1 if last is None else int(last[1]) + 1
                cur = con.execute(
                    "INSERT INTO submissions (country, version, submitter, submitted_utc, "
                    "file_name, sha256, product_level, n_values, first_year, last_year, "
                    "warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        country,
                        version,
                        submitter,
                        utc_now(),
                        file_name,
                        sha,
                        str(accepted["product_level"].iloc[0]),
                        len(accepted),
                        int(years.min()),
                        int(years.max()),
                        json.dumps(list(warnings)),
                    ),
                )
                sid = cur.lastrowid
                con.executemany(
                    "INSERT INTO submission_values (submission_id, country, year, product, "
                    "product_level, indicator, value, unit, value_t, source_sheet, source_row) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(sid, *(to_sql_value(v) for v in r)) for r in rows],
                )
                touch(con, "submissions", "submission_values")
                if _before_commit is not None:
                    _before_commit()
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        assert sid is not None
        record = self._submission_record(sid)
        logger.info("stored %s", record)
        return record

    def _submission_record(self, sid: int, *, new: bool = True) -> SubmissionRecord:
        with self._read() as con:
            r = con.execute(
                "SELECT fid, country, version, submitter, submitted_utc, file_name, sha256, "
                "n_values, first_year, last_year, warnings FROM submissions WHERE fid = ?",
                (sid,),
            ).fetchone()
        names = [
            *("id", "country", "version", "submitter", "submitted_utc", "file_name", "sha256"),
            *("n_values", "first_year", "last_year"),
        ]
        fields = dict(zip(names, r[:10], strict=True))
        return SubmissionRecord(**fields, warnings=tuple(json.loads(r[10])), new=new)

    def submissions(self, country: str | None = None) -> pd.DataFrame:
        """Return the ``submissions`` table (optionally for one country), oldest first."""
        sql = (
            "SELECT fid AS id, country, version, submitter, submitted_utc, file_name, sha256, "
            "product_level, n_values, first_year, last_year, warnings FROM submissions"
        )
        with self._read() as con:
            if country is None:
                return pd.read_sql_query(sql + " ORDER BY fid", con)
            return pd.read_sql_query(
                sql + " WHERE country = ? ORDER BY version", con, params=(country.upper(),)
            )

    def submission_values(self, country: str, version: int | None = None) -> pd.DataFrame:
        """Return the values of a country's submission (default: the latest version).

        Columns: ``country, year, product, product_level, indicator, value, unit, value_t,
        status`` ("reported"), ``source`` ("submission <ISO3> v<version>"), ``version``.
        """
        country = country.upper()
        with self._read() as con:
            if version is None:
                row = con.execute(
                    "SELECT max(version) FROM submissions WHERE country = ?", (country,)
                ).fetchone()
                version = row[0]
            df = pd.read_sql_query(
                "SELECT v.country, v.year, v.product, v.product_level, v.indicator, v.value, "
                "v.unit, v.value_t, s.version FROM submission_values v JOIN submissions s "
                "ON v.submission_id = s.fid WHERE s.country = ? AND s.version = ? ORDER BY v.fid",
                con,
                params=(country, version),
            )
        if version is None or df.empty:
            raise InputError("no such submission", column="version", value=f"{country} v{version}")
        return df.assign(status="reported", source=f"submission {country} v{version}")

    def compare_versions(self, country: str, a: int, b: int) -> pd.DataFrame:
        """Compare two versions of a country's submission value by value (tonnes).

        Returns ``year, product, indicator, value_t_a, value_t_b, diff_t`` (b − a; a missing
        side is NaN).
        """
        key = ["year", "product", "indicator"]
        va = self.submission_values(country, a)[[*key, "value_t"]]
        vb = self.submission_values(country, b)[[*key, "value_t"]]
        m = va.merge(vb, on=key, how="outer", suffixes=("_a", "_b")).sort_values(key)
        m["diff_t"] = m["value_t_b"] - m["value_t_a"]
        return m.reset_index(drop=True)

    # -- runs -----------------------------------------------------------------------------

    def add_run(
        self,
        indicators: pd.DataFrame,
        *,
        inputs: Mapping[str, pd.DataFrame],
        parameters: Mapping[str, Any] | None = None,
        label: str = "",
        version: str | None = None,
    ) -> RunRecord:
        """Store a model run (its fingerprint and indicators table) in one transaction.

        A run whose fingerprint and tool version are already stored is not stored again; that
        run is returned with ``new=False``.

        Parameters
        ----------
        indicators
            ``region, year, indicator, value, unit`` (optional ``status``, ``source``).
        inputs, parameters
            Everything the run was computed from (see :func:`fingerprint`).
        label
            Free text shown in the history.
        version
            Tool version; default the installed package version.
        """
        missing = {"region", "year", "indicator", "value", "unit"} - set(indicators.columns)
        if missing:
            raise InputError(
                f"indicators table lacks column(s) {', '.join(sorted(missing))}",
                expected="region, year, indicator, value, unit",
            )
        fp = fingerprint(inputs, parameters)
        version = tool_version() if version is None else version
        ind = indicators.assign(
            status=indicators.get("status", "estimated"), source=indicators.get("source", "model")
        )[list(INDICATOR_COLUMNS)]
        params = json.dumps(
            dict(parameters or {}), sort_keys=True, default=json_default, separators=(",", ":")
        )
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                old = con.execute(
                    "SELECT fid FROM runs WHERE fingerprint = ? AND tool_version = ?",
                    (fp, version),
                ).fetchone()
                if old is not None:
                    con.execute("ROLLBACK")
                    return self._run_record(old[0], new=False)
                cur = con.execute(
                    "INSERT INTO runs (fingerprint, created_utc, tool_version, label, "
                    "parameters, n_rows) VALUES (?, ?, ?, ?, ?, ?)",
                    (fp, utc_now(), version, label, params, len(ind)),
                )
                rid = cur.lastrowid
                con.executemany(
                    "INSERT INTO run_indicators (run_id, region, year, indicator, value, unit, "
                    "status, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (rid, *(to_sql_value(v) for v in r))
                        for r in ind.astype(object).itertuples(index=False, name=None)
                    ],
                )
                touch(con, "runs", "run_indicators")
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        assert rid is not None
        return self._run_record(rid)

    def _run_record(self, rid: int, *, new: bool = True) -> RunRecord:
        with self._read() as con:
            r = con.execute(
                "SELECT fid, fingerprint, created_utc, tool_version, label, n_rows FROM runs "
                "WHERE fid = ?",
                (rid,),
            ).fetchone()
        if r is None:
            raise InputError("no such run", column="run_id", value=rid)
        names = ("id", "fingerprint", "created_utc", "tool_version", "label", "n_rows")
        return RunRecord(**dict(zip(names, r, strict=True)), new=new)

    def runs(self, country: str | None = None) -> pd.DataFrame:
        """Return the stored runs (those with indicators for ``country`` if given)."""
        sql = "SELECT fid AS id, fingerprint, created_utc, tool_version, label, n_rows FROM runs"
        with self._read() as con:
            if country is None:
                return pd.read_sql_query(sql + " ORDER BY fid", con)
            return pd.read_sql_query(
                sql + " WHERE EXISTS (SELECT 1 FROM run_indicators i WHERE i.run_id = runs.fid "
                "AND i.region = ?) ORDER BY fid",
                con,
                params=(country.upper(),),
            )

    def run_indicators(self, run_id: int) -> pd.DataFrame:
        """Return a run's indicators table (columns :data:`INDICATOR_COLUMNS`)."""
        with self._read() as con:
            df = pd.read_sql_query(
                "SELECT region, year, indicator, value, unit, status, source FROM "
                "run_indicators WHERE run_id = ? ORDER BY fid",
                con,
                params=(int(run_id),),
            )
        if df.empty:
            self._run_record(int(run_id))  # raises when the run does not exist
        return df

    def history(self, country: str) -> pd.DataFrame:
        """Submissions and runs kept for a country, oldest first.

        Columns: ``kind`` (submission/run), ``id``, ``version`` (submissions), ``time_utc``,
        ``by`` (submitter, or tool version for runs), ``name`` (file name or run label),
        ``sha256`` (file content, or run fingerprint), ``n_values``, ``first_year``,
        ``last_year``.
        """
        country = country.strip().upper()
        with self._read() as con:
            subs = pd.read_sql_query(
                "SELECT 'submission' AS kind, fid AS id, version, submitted_utc AS time_utc, "
                "submitter AS by, file_name AS name, sha256, n_values, first_year, last_year "
                "FROM submissions WHERE country = ?",
                con,
                params=(country,),
            )
            runs = pd.read_sql_query(
                "SELECT 'run' AS kind, r.fid AS id, NULL AS version, r.created_utc AS time_utc,"
                " 'ewaste-tracker ' || r.tool_version AS by, r.label AS name, "
                "r.fingerprint AS sha256, count(*) AS n_values, min(i.year) AS first_year, "
                "max(i.year) AS last_year FROM runs r JOIN run_indicators i ON i.run_id = r.fid "
                "WHERE i.region = ? GROUP BY r.fid",
                con,
                params=(country,),
            )
        frames = [f for f in (subs, runs) if len(f)]
        if not frames:
            return subs
        out = pd.concat(frames, ignore_index=True).sort_values(["time_utc", "kind"])
        out["version"] = out["version"].astype("Int64")
        return out.reset_index(drop=True)

    def export_run(self, run_id: int, path: str | Path) -> Path:
        """Write a run's indicators to ``.csv`` or ``.gpkg``, atomically.

        The file is written beside the target and renamed into place, so a reader never sees
        half a file and a failure leaves any previous file untouched. The GeoPackage holds two
        attribute layers: ``indicators`` and ``run`` (one row: fingerprint, time, version).
        """
        from ewaste_tracker.tables import write_csv_atomic

        path = Path(path)
        rec = self._run_record(int(run_id))
        ind = self.run_indicators(rec.id).assign(run_id=rec.id, fingerprint=rec.fingerprint)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return write_csv_atomic(ind, path)
        if suffix != ".gpkg":
            raise InputError("unsupported export format", path=path, expected=".csv or .gpkg")
        meta = pd.DataFrame([rec.__dict__]).drop(columns="new")
        return tables_to_geopackage({"indicators": ind, "run": meta}, path)


def history(country: str, *, store: str | Path | Store | None = None) -> pd.DataFrame:
    """Submissions and runs kept for a country (see :meth:`Store.history`); empty when there is
    no store yet (nothing is created)."""
    s = Store(store)
    if not s.path.exists():
        return pd.DataFrame()
    return s.history(country)


def submission_values(
    country: str, version: int | None = None, *, store: str | Path | Store | None = None
) -> pd.DataFrame:
    """A stored submission's values (see :meth:`Store.submission_values`)."""
    return Store(store).submission_values(country, version)


def record_run(
    indicators: pd.DataFrame,
    *,
    inputs: Mapping[str, pd.DataFrame],
    parameters: Mapping[str, Any] | None = None,
    label: str = "",
    store: str | Path | Store | None = None,
) -> RunRecord:
    """Store a model run (see :meth:`Store.add_run`)."""
    return Store(store).add_run(indicators, inputs=inputs, parameters=parameters, label=label)


def compare_runs(a: int, b: int, *, store: str | Path | Store | None = None) -> pd.DataFrame:
    """Compare two runs' indicators.

    Returns
    -------
    pandas.DataFrame
        ``region, year, indicator, unit, value_a, value_b, diff`` (b − a) and ``rel_diff``
        (diff / |a|, NaN where a is 0 or missing), outer-joined so rows in only one run show.
    """
    s = Store(store)
    key = ["region", "year", "indicator", "unit"]
    ia = s.run_indicators(a)[[*key, "value"]]
    ib = s.run_indicators(b)[[*key, "value"]]
    m = ia.merge(ib, on=key, how="outer", suffixes=("_a", "_b")).sort_values(key)
    m["diff"] = m["value_b"] - m["value_a"]
    den = m["value_a"].abs()
    m["rel_diff"] = m["diff"] / den.where(den > 0)
    return m.reset_index(drop=True)


def export_run(
    run_id: int | str, path: str | Path, *, store: str | Path | Store | None = None
) -> Path:
    """Export a stored run to CSV or GeoPackage (see :meth:`Store.export_run`)."""
    try:
        rid = int(run_id)
    except ValueError:
        raise InputError("run id is not a number", column="run_id", value=run_id) from None
    return Store(store).export_run(rid, path)
