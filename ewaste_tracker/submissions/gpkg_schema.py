"""The GeoPackage store's tables, triggers and versioned migrations.

:data:`SCHEMA_VERSION` is kept in ``tracker_info``. :func:`migrate` creates a new store at the
current version, or moves an older one forward step by step, each step in one transaction
(a crash leaves the previous version intact). The PostgreSQL schema is the same, migrated with
Alembic (:mod:`ewaste_tracker.submissions.migrations`).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pandas as pd

from ewaste_tracker.submissions.backend import utc_now
from ewaste_tracker.submissions.geopackage import add_attribute_table, init_geopackage, run_script
from ewaste_tracker.submissions.workflow import STATES

__all__ = ["SCHEMA_VERSION", "migrate"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2

_STATES = ", ".join(f"'{s}'" for s in STATES)
MOVES = ("draft>submitted", "submitted>accepted", "submitted>rejected", "accepted>rejected",
         "accepted>published")  # fmt: skip
"""Allowed changes of state, ``from>to`` (see :mod:`ewaste_tracker.submissions.workflow`)."""

TABLES = {
    "submissions": f"""(
  id INTEGER PRIMARY KEY AUTOINCREMENT, country TEXT NOT NULL, version INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ({_STATES})),
  submitter TEXT NOT NULL, submitted_utc TEXT NOT NULL, file_name TEXT NOT NULL,
  sha256 TEXT NOT NULL, product_level TEXT NOT NULL, n_values INTEGER NOT NULL,
  first_year INTEGER NOT NULL, last_year INTEGER NOT NULL, warnings TEXT NOT NULL,
  reviewer TEXT, reason TEXT, changed_by TEXT NOT NULL, changed_utc TEXT NOT NULL,
  UNIQUE (country, version), UNIQUE (id, country),
  CHECK (state <> 'rejected' OR coalesce(reason, '') <> ''))""",
    "submission_values": """(
  id INTEGER PRIMARY KEY AUTOINCREMENT, submission_id INTEGER NOT NULL,
  country TEXT NOT NULL, year INTEGER NOT NULL, product TEXT NOT NULL,
  product_level TEXT NOT NULL, indicator TEXT NOT NULL, value REAL NOT NULL,
  unit TEXT NOT NULL, value_t REAL NOT NULL, source_sheet TEXT, source_row INTEGER,
  FOREIGN KEY (submission_id, country) REFERENCES submissions (id, country))""",
    "audit": """(
  id INTEGER PRIMARY KEY AUTOINCREMENT, time_utc TEXT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, submission_id INTEGER, country TEXT, version INTEGER,
  state_from TEXT, state_to TEXT, sha256 TEXT, file_name TEXT, reason TEXT)""",
    "runs": """(
  id INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, created_utc TEXT NOT NULL,
  tool_version TEXT NOT NULL, label TEXT NOT NULL, parameters TEXT NOT NULL,
  n_rows INTEGER NOT NULL, format TEXT NOT NULL, size_bytes INTEGER NOT NULL,
  indicators BLOB NOT NULL)""",
    "run_regions": """(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs (id),
  region TEXT NOT NULL, n_values INTEGER NOT NULL, first_year INTEGER NOT NULL,
  last_year INTEGER NOT NULL)""",
    "users": """(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('submitter', 'reviewer')), country TEXT,
  pg_role TEXT, created_utc TEXT NOT NULL, disabled_utc TEXT, changed_by TEXT NOT NULL,
  CHECK (role <> 'submitter' OR country IS NOT NULL))""",
}
_PLAIN = """
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user_name TEXT NOT NULL REFERENCES users (name),
  sha256 TEXT NOT NULL UNIQUE, label TEXT NOT NULL DEFAULT '', created_utc TEXT NOT NULL,
  revoked_utc TEXT, changed_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tracker_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_values_submission ON submission_values (submission_id);
CREATE INDEX IF NOT EXISTS ix_submissions_country ON submissions (country, state);
CREATE INDEX IF NOT EXISTS ix_runs_fp ON runs (fingerprint);
CREATE INDEX IF NOT EXISTS ix_run_regions ON run_regions (region, run_id);
CREATE INDEX IF NOT EXISTS ix_audit_submission ON audit (submission_id)
"""

_ACTION = ("CASE NEW.state WHEN 'submitted' THEN 'submit' WHEN 'accepted' THEN 'accept' "
           "WHEN 'rejected' THEN 'reject' WHEN 'published' THEN 'publish' END")  # fmt: skip
_MOVES = ", ".join(f"'{m}'" for m in MOVES)
_FROZEN_COLUMNS = ("country", "version", "submitter", "submitted_utc", "file_name", "sha256",
                   "product_level", "n_values", "first_year", "last_year", "warnings")  # fmt: skip
_FROZEN = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN_COLUMNS)
_AUDIT_COLS = ("time_utc, actor, action, submission_id, country, version, state_from, state_to, "
               "sha256, file_name, reason")  # fmt: skip
TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS submissions_start BEFORE INSERT ON submissions
WHEN NEW.state IS NOT 'draft' OR NEW.version <>
  coalesce((SELECT max(version) FROM submissions WHERE country = NEW.country), 0) + 1
BEGIN SELECT RAISE(ABORT, 'a submission starts as a draft with the next version'); END;
CREATE TRIGGER IF NOT EXISTS submissions_frozen BEFORE UPDATE ON submissions
WHEN {_FROZEN}
BEGIN SELECT RAISE(ABORT, 'a stored submission cannot be changed, only moved through review');
END;
CREATE TRIGGER IF NOT EXISTS submissions_moves BEFORE UPDATE OF state ON submissions
WHEN NEW.state IS NOT OLD.state AND OLD.state || '>' || NEW.state NOT IN ({_MOVES})
BEGIN SELECT RAISE(ABORT, 'this change of state is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS submissions_whole BEFORE UPDATE OF state ON submissions
WHEN OLD.state = 'draft' AND NEW.state <> 'draft' AND NEW.n_values <>
  (SELECT count(*) FROM submission_values WHERE submission_id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the submission does not hold all its values'); END;
CREATE TRIGGER IF NOT EXISTS submissions_kept BEFORE DELETE ON submissions
BEGIN SELECT RAISE(ABORT, 'submissions are kept'); END;
CREATE TRIGGER IF NOT EXISTS values_of_drafts BEFORE INSERT ON submission_values
WHEN (SELECT state FROM submissions WHERE id = NEW.submission_id) IS NOT 'draft'
BEGIN SELECT RAISE(ABORT, 'values are added to a draft only'); END;
CREATE TRIGGER IF NOT EXISTS values_frozen BEFORE UPDATE ON submission_values
BEGIN SELECT RAISE(ABORT, 'stored values cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS values_kept BEFORE DELETE ON submission_values
BEGIN SELECT RAISE(ABORT, 'stored values are kept'); END;
CREATE TRIGGER IF NOT EXISTS audit_created AFTER INSERT ON submissions
BEGIN INSERT INTO audit ({_AUDIT_COLS}) VALUES (NEW.changed_utc, NEW.changed_by, 'created',
  NEW.id, NEW.country, NEW.version, NULL, NEW.state, NEW.sha256, NEW.file_name, NEW.reason);
END;
CREATE TRIGGER IF NOT EXISTS audit_moved AFTER UPDATE OF state ON submissions
WHEN NEW.state IS NOT OLD.state
BEGIN INSERT INTO audit ({_AUDIT_COLS}) VALUES (NEW.changed_utc, NEW.changed_by, {_ACTION},
  NEW.id, NEW.country, NEW.version, OLD.state, NEW.state, NEW.sha256, NEW.file_name,
  NEW.reason);
END;
CREATE TRIGGER IF NOT EXISTS audit_user_added AFTER INSERT ON users
BEGIN INSERT INTO audit ({_AUDIT_COLS}) VALUES (NEW.created_utc, NEW.changed_by, 'user added',
  NULL, NEW.country, NULL, NULL, NEW.role, NULL, NULL, NEW.name);
END;
CREATE TRIGGER IF NOT EXISTS audit_user_disabled AFTER UPDATE OF disabled_utc ON users
WHEN NEW.disabled_utc IS NOT NULL AND OLD.disabled_utc IS NULL
BEGIN INSERT INTO audit ({_AUDIT_COLS}) VALUES (NEW.disabled_utc, NEW.changed_by,
  'user disabled', NULL, NEW.country, NULL, NEW.role, NULL, NULL, NULL, NEW.name);
END;
CREATE TRIGGER IF NOT EXISTS audit_token_created AFTER INSERT ON tokens
BEGIN INSERT INTO audit ({_AUDIT_COLS}) VALUES (NEW.created_utc, NEW.changed_by,
  'token created', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NEW.user_name);
END;
CREATE TRIGGER IF NOT EXISTS audit_token_revoked AFTER UPDATE OF revoked_utc ON tokens
WHEN NEW.revoked_utc IS NOT NULL AND OLD.revoked_utc IS NULL
BEGIN INSERT INTO audit ({_AUDIT_COLS}) VALUES (NEW.revoked_utc, NEW.changed_by,
  'token revoked', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NEW.user_name);
END;
CREATE TRIGGER IF NOT EXISTS contents_changed_s AFTER INSERT ON submissions
BEGIN UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE table_name IN ('submissions', 'submission_values', 'audit'); END;
CREATE TRIGGER IF NOT EXISTS contents_changed_u AFTER UPDATE ON submissions
BEGIN UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE table_name IN ('submissions', 'audit'); END;
CREATE TRIGGER IF NOT EXISTS contents_changed_r AFTER INSERT ON runs
BEGIN UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE table_name IN ('runs', 'run_regions'); END;
CREATE TRIGGER IF NOT EXISTS users_kept BEFORE DELETE ON users
BEGIN SELECT RAISE(ABORT, 'users are kept (disable them)'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_kept BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is kept'); END
"""


def _create(con: sqlite3.Connection) -> None:
    init_geopackage(con)
    for name, body in TABLES.items():
        add_attribute_table(con, name, body, f"ewaste-tracker {name}")
    run_script(con, _PLAIN)
    run_script(con, TRIGGERS)


def _version(con: sqlite3.Connection) -> int:
    if not con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='tracker_info'"
    ).fetchone()[0]:
        return 0
    row = con.execute("SELECT value FROM tracker_info WHERE key = 'schema_version'").fetchone()
    return 0 if row is None else int(row[0])


def _set_version(con: sqlite3.Connection, version: int) -> None:
    con.execute("INSERT OR REPLACE INTO tracker_info VALUES ('schema_version', ?)", (str(version),))


def migrate(con: sqlite3.Connection, path: Path) -> None:
    """Create the store's tables, or migrate an older store to :data:`SCHEMA_VERSION`.

    Parameters
    ----------
    con
        An autocommit connection to the file (no transaction open).
    path
        The file (for messages).
    """
    vacuum = False
    con.execute("PRAGMA foreign_keys = OFF")  # tables are swapped while migrating
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            version = _version(con)  # re-read under the write lock: another process may be first
            if version == 0:
                _create(con)
            elif version == 1:
                vacuum = _from_1_to_2(con)
                logger.info("%s: store migrated from schema version 1 to 2", path)
            _set_version(con, SCHEMA_VERSION)
            bad = con.execute("PRAGMA foreign_key_check").fetchall()
            if bad:  # pragma: no cover - the migration keeps every reference
                raise sqlite3.IntegrityError(f"migration broke references: {bad[:3]}")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    finally:
        con.execute("PRAGMA foreign_keys = ON")
    if vacuum:
        con.execute("VACUUM")  # give back the space of the dropped indicator rows


def _from_1_to_2(con: sqlite3.Connection) -> bool:
    """Version 1 → 2: review states, audit, users, tokens; runs as Parquet blobs."""
    from ewaste_tracker.submissions.runs import indicators_to_parquet

    for t in ("submissions", "submission_values", "runs"):
        con.execute(f"ALTER TABLE {t} RENAME TO {t}_v1")
    con.execute("DELETE FROM gpkg_contents WHERE table_name = 'run_indicators'")
    for t in ("submissions", "submission_values", "runs"):
        con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (f"{t}_v1",))
    _create(con)
    # copy the rows as they are: without the triggers that guard new ones
    run_script(
        con,
        "DROP TRIGGER audit_created; DROP TRIGGER values_of_drafts; DROP TRIGGER submissions_start",
    )
    con.execute(
        "INSERT INTO submissions (id, country, version, state, submitter, submitted_utc, "
        "file_name, sha256, product_level, n_values, first_year, last_year, warnings, "
        "changed_by, changed_utc) SELECT fid, country, version, 'published', submitter, "
        "submitted_utc, file_name, sha256, product_level, n_values, first_year, last_year, "
        "warnings, submitter, submitted_utc FROM submissions_v1"
    )
    con.execute(
        "INSERT INTO audit (time_utc, actor, action, submission_id, country, version, "
        "state_from, state_to, sha256, file_name, reason) SELECT ?, 'ewaste-tracker', "
        "'migrated', id, country, version, NULL, 'published', sha256, file_name, "
        "'stored before review existed: published, as it was used' FROM submissions",
        (utc_now(),),
    )
    con.execute(
        "INSERT INTO submission_values (id, submission_id, country, year, product, "
        "product_level, indicator, value, unit, value_t, source_sheet, source_row) SELECT fid, "
        "submission_id, country, year, product, product_level, indicator, value, unit, "
        "value_t, source_sheet, source_row FROM submission_values_v1"
    )
    n_rows = 0
    for fid, fp, created, version, label, params in con.execute(
        "SELECT fid, fingerprint, created_utc, tool_version, label, parameters FROM runs_v1"
    ).fetchall():
        ind = pd.read_sql_query(
            "SELECT region, year, indicator, value, unit, status, source FROM run_indicators "
            "WHERE run_id = ? ORDER BY fid",
            con,
            params=(fid,),
        ).assign(element=None)
        blob = indicators_to_parquet(ind)
        con.execute(
            "INSERT INTO runs (id, fingerprint, created_utc, tool_version, label, parameters, "
            "n_rows, format, size_bytes, indicators) VALUES (?, ?, ?, ?, ?, ?, ?, 'parquet', ?, ?)",
            (fid, fp, created, version, label, params, len(ind), len(blob), blob),
        )
        regions = ind.groupby("region")["year"].agg(["size", "min", "max"])
        con.executemany(
            "INSERT INTO run_regions (run_id, region, n_values, first_year, last_year) "
            "VALUES (?, ?, ?, ?, ?)",
            [(fid, str(r), int(n), int(a), int(b)) for r, (n, a, b) in regions.iterrows()],
        )
        n_rows += len(ind)
    run_script(con, "DROP TABLE run_indicators; DROP TABLE submission_values_v1;"
                    "DROP TABLE submissions_v1; DROP TABLE runs_v1")  # fmt: skip
    run_script(con, TRIGGERS)  # the triggers dropped for the copy
    return n_rows > 0
