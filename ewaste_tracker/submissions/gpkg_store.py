"""The embedded store: one GeoPackage/SQLite file for one user (the default).

The file is an SQLite database that is also a valid OGC GeoPackage 1.4 (``application_id``
``'GPKG'``, ``user_version`` 10400, the ``gpkg_*`` metadata tables; OGC 12-128r19), so GIS
tools (GDAL, QGIS, pyogrio) open it and list its tables as attribute layers. Its tables and
rules are those of :mod:`ewaste_tracker.submissions.store`; here SQLite triggers enforce what
PostgreSQL enforces with triggers and row-level security (allowed state changes, frozen
content, an append-only audit trail), and the file's local user is the store's admin.

Writes take SQLite's write lock at once (``BEGIN IMMEDIATE``, journal in WAL mode,
``synchronous = FULL``), so writers are serialised, a writer killed mid-write leaves nothing of
its transaction behind, and readers, who read inside a transaction (a WAL snapshot), see a
submission whole or not at all.

Schema versions (``tracker_info.schema_version``) are migrated on first use:

1. submissions, values, runs and every run's indicator rows (``run_indicators``);
2. the review workflow (states, reviewer, reason), the audit trail, users and tokens, and runs
   as Parquet blobs (``run_indicators`` converted and dropped, then the file is vacuumed).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.submissions import gpkg_schema
from ewaste_tracker.submissions.backend import StoreBase, Tx
from ewaste_tracker.submissions.geopackage import GPKG_APPLICATION_ID
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.workflow import NotFound, PermissionDenied, User

__all__ = ["GeoPackageStore", "local_user"]

logger = logging.getLogger(__name__)


def local_user() -> str:
    """The operating-system user (the embedded store's admin), ``unknown`` if there is none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class _SqliteTx:
    dialect = "sqlite"

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self.con = con
        self.path = path

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        return self.con.execute(sql, params).fetchone()

    def run(self, sql: str, **params: Any) -> int:
        return self.con.execute(sql, params).rowcount

    def insert_rows(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def frame(self, sql: str, **params: Any) -> pd.DataFrame:
        return pd.read_sql_query(sql, self.con, params=params)


def _sqlite_error(exc: sqlite3.Error, path: Path) -> InputError:
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError) or "kept" in text or "cannot" in text:
        return InputError(f"refused by the store: {text}", path=path)
    return InputError(f"cannot use the store: {text}", path=path)


class GeoPackageStore(Store):
    """A tracker store in a GeoPackage file (see the module docstring).

    Parameters
    ----------
    target
        The file; default :func:`ewaste_tracker.settings.store_path`. Created on first use.
    user
        Act as this registered user (checked in Python: SQLite has no roles); default the
        local user, who is the store's admin.
    """

    kind = "geopackage"

    def __init__(self, target: str | Path | StoreBase | None = None, *,
                 user: str | None = None) -> None:  # fmt: skip
        from ewaste_tracker import settings

        if isinstance(target, StoreBase):
            self.target = Path(target.target)
            user = user if user is not None else target.user_name
        else:
            where = settings.store_target(target)
            if isinstance(where, str):  # pragma: no cover - Store() dispatches URLs elsewhere
                raise InputError("a database URL is not a GeoPackage", value=where)
            self.target = where
        self.user_name = user

    @property
    def path(self) -> Path:
        """The GeoPackage file."""
        return Path(self.target)

    # -- connections ----------------------------------------------------------------------

    def _refuse(self, reason: str) -> InputError:
        return InputError(
            reason, path=self.path, column="--store",
            expected="a tracker store written by ewaste-tracker, or a new file name",
        )  # fmt: skip

    @contextlib.contextmanager
    def connect(self, *, create: bool = True) -> Iterator[sqlite3.Connection]:
        """Open a connection (autocommit; callers issue BEGIN) with the schema in place.

        The store opens only a file it created (its ``tracker_info`` table): a folder, a file
        of another kind or another application's GeoPackage or database is refused with
        :class:`~ewaste_tracker.errors.InputError` before anything is written, and left as it
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
            have = con.execute(
                "SELECT value FROM tracker_info WHERE key = 'schema_version'"
            ).fetchone()
            if have is not None and int(have[0]) >= gpkg_schema.SCHEMA_VERSION:
                return
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        n_tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if n_tables and app_id != GPKG_APPLICATION_ID:
            raise InputError(
                "not a tracker store (an SQLite file of another application)",
                path=self.path,
                expected="a tracker store or a new file name",
            )
        gpkg_schema.migrate(con, self.path)

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        with self.connect(create=write) as con:
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _SqliteTx(con, self.path)
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise _sqlite_error(exc, self.path) from exc
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    def _lock_country(self, tx: Tx, country: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already serialises every writer of the file."""

    def _actor(self, tx: Tx) -> User:
        if self.user_name is None:
            return User(local_user(), "admin")
        row = tx.one(
            "SELECT name, role, country, disabled_utc FROM users WHERE name = :n",
            n=self.user_name,
        )
        if row is None:
            raise NotFound("no such user", column="user", value=self.user_name)
        if row[3] is not None:
            raise PermissionDenied("this user is disabled", column="user", value=self.user_name)
        return User(str(row[0]), str(row[1]), row[2])

    def _auto_publish(self, user: User) -> bool:
        """The local user's plain submission is published at once (one user, no review)."""
        return self.user_name is None and user.role == "admin"

    def _integrity(self, tx: Tx) -> bool:
        row = tx.one("PRAGMA integrity_check")
        return row is not None and row[0] == "ok"

    def exists(self) -> bool:
        """Whether the file exists."""
        return self.path.exists()

    def identity(self) -> tuple[Any, ...]:
        """The file's path, modification time and size (a new submission changes them)."""
        try:
            st = self.path.stat()
        except OSError:
            return (str(self.path), -1, -1)
        return (str(self.path.resolve()), st.st_mtime_ns, st.st_size)
