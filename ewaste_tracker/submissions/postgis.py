"""The shared store: a PostgreSQL/PostGIS database for many ministries at once.

``Store("postgresql://owner@host/db")`` (or ``--store`` / ``EWASTE_TRACKER_STORE`` set to such
a URL) opens it; ``?schema=name`` picks the schema (default ``ewaste_tracker``), other query
parameters go to libpq (``?host=/run/postgresql`` for a socket). Needs the ``server`` extra
(psycopg 3, SQLAlchemy 2, Alembic) and a database with PostGIS.

The role in the URL that first uses the store becomes its **owner**: it creates the schema
(Alembic, :mod:`ewaste_tracker.submissions.migrations`), the store's group role and, for each
user added, a database role ``<prefix>_<user>`` in that group. The owner is the store's admin.
Everyone else acts under their own database role, so row-level security (see the migration)
decides what they read and write, whichever way they come:

* the HTTP API and the CLI's ``--as USER`` connect as the owner and switch to the user's role
  for each transaction (``SET LOCAL ROLE``, as PostgREST does);
* a user given a login (``user add --sql-login``) connects with its own role, and plain SQL
  is held to the same rules.

Writes run in READ COMMITTED transactions; the writers of one country are serialised by a
transaction-level advisory lock (``pg_advisory_xact_lock``), so versions never collide and
the same file sent twice concurrently is stored once. Reads run in REPEATABLE READ, one
snapshot per call. A writer killed mid-transaction leaves nothing: the server rolls back
when the connection drops.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.submissions.backend import StoreBase, Tx, frame_times_to_text, iso_utc
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.workflow import NotFound, PermissionDenied, User

__all__ = ["DEFAULT_SCHEMA", "HEAD_REVISION", "PostgresStore"]

logger = logging.getLogger(__name__)

DEFAULT_SCHEMA = "ewaste_tracker"
HEAD_REVISION = "0001"
"""The Alembic revision this version of the package expects."""

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
_LOCK_NS = 0x45575431  # 'EWT1': advisory-lock namespace of the store's writers

_ARRAY_TYPES = {
    "submission_values": {
        "submission_id": "bigint", "country": "text", "year": "integer", "product": "text",
        "product_level": "text", "indicator": "text", "value": "double precision",
        "unit": "text", "value_t": "double precision", "source_sheet": "text",
        "source_row": "integer",
    },
    "run_regions": {
        "run_id": "bigint", "region": "text", "n_values": "integer", "first_year": "integer",
        "last_year": "integer",
    },
}  # fmt: skip

_ENGINES: dict[str, Any] = {}
_MIGRATED: set[str] = set()
_ENGINES_LOCK = threading.Lock()


def _server_extra() -> Any:
    try:
        import sqlalchemy
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(
            "a PostgreSQL store needs the server extra",
            expected="pip install 'ewaste-tracker[server]'",
        ) from None
    return sqlalchemy


class _PgTx:
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        from sqlalchemy import text

        self._text = text

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        res = self.conn.execute(self._text(sql), params)
        return [tuple(iso_utc(v) for v in r) for r in res.fetchall()]

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        r = self.conn.execute(self._text(sql), params).fetchone()
        return None if r is None else tuple(iso_utc(v) for v in r)

    def run(self, sql: str, **params: Any) -> int:
        return int(self.conn.execute(self._text(sql), params).rowcount)

    def insert_rows(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """One ``INSERT ... SELECT FROM unnest(arrays)``: a single statement for any size."""
        if not rows:
            return
        types = _ARRAY_TYPES[table]
        cols = list(zip(*rows, strict=True))
        arrays = ", ".join(f"CAST(:a{i} AS {types[c]}[])" for i, c in enumerate(columns))
        params = {f"a{i}": list(v) for i, v in enumerate(cols)}
        self.conn.execute(
            self._text(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
            ),
            params,
        )

    def frame(self, sql: str, **params: Any) -> pd.DataFrame:
        return frame_times_to_text(pd.read_sql_query(self._text(sql), self.conn, params=params))

    def driver(self) -> Any:
        """The psycopg connection inside (for statements with identifiers)."""
        return self.conn.connection.driver_connection


class PostgresStore(Store):
    """A tracker store in a PostgreSQL/PostGIS database (see the module docstring).

    Parameters
    ----------
    target
        ``postgresql://user[:password]@host[:port]/database[?schema=name&...]``.
    user
        Act as this registered user (its database role; row-level security applies).
    """

    kind = "postgis"

    def __init__(self, target: str | Path | StoreBase | None = None, *,
                 user: str | None = None) -> None:  # fmt: skip
        from ewaste_tracker import settings

        if isinstance(target, StoreBase):
            user = user if user is not None else target.user_name
            target = target.target
        where = settings.store_target(target)
        if not isinstance(where, str):  # pragma: no cover - Store() dispatches paths elsewhere
            raise InputError("not a database URL", value=str(where))
        self.target = where
        self.user_name = user
        sa = _server_extra()
        try:
            url = sa.engine.make_url(where)
        except sa.exc.ArgumentError as exc:
            raise InputError(f"not a valid database URL: {exc}", column="--store") from None
        schema = url.query.get("schema", DEFAULT_SCHEMA)
        if isinstance(schema, tuple):
            schema = schema[-1]
        if not _SCHEMA.match(schema):
            raise InputError("not a valid schema name", column="schema", value=schema,
                             expected="lower-case letters, digits and _")  # fmt: skip
        self.schema = schema
        self._url = url.difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
        self.database = self._url.database or ""

    @property
    def display(self) -> str:
        """The URL without its password."""
        shown = self._url.set(drivername="postgresql").render_as_string(hide_password=True)
        return shown + ("" if self.schema == DEFAULT_SCHEMA else f" (schema {self.schema})")

    @property
    def role_prefix(self) -> str:
        """Prefix of the database roles of this store's users (unique per database and schema)."""
        base = "ewt_" + re.sub(r"[^a-z0-9_]", "_", self.database.lower())
        if self.schema != DEFAULT_SCHEMA:
            base += "_" + self.schema
        if len(base) > 22:
            base = "ewt_" + hashlib.sha1(f"{self.database}/{self.schema}".encode()).hexdigest()[:12]
        return base

    # -- connections ----------------------------------------------------------------------

    def _key(self) -> str:
        return self._url.render_as_string(hide_password=False) + "#" + self.schema

    def engine(self) -> Any:
        """The SQLAlchemy engine of this store (one pool per URL and schema per process)."""
        sa = _server_extra()
        key = self._key()
        with _ENGINES_LOCK:
            eng = _ENGINES.get(key)
            if eng is None:
                eng = sa.create_engine(
                    self._url,
                    pool_size=10,
                    max_overflow=40,
                    pool_timeout=120,
                    connect_args={
                        "options": f"-c search_path={self.schema},public",
                        "application_name": "ewaste-tracker",
                        "connect_timeout": 10,
                    },
                )
                _ENGINES[key] = eng
        return eng

    def _error(self, exc: BaseException) -> InputError:
        orig = getattr(exc, "orig", None)
        state = getattr(orig, "sqlstate", None) or ""
        diag = getattr(orig, "diag", None)
        msg = (getattr(diag, "message_primary", None) or str(orig or exc)).strip()
        if state == "42501":
            return PermissionDenied(f"refused by the database: {msg}")
        if state.startswith(("23", "P0")):
            return InputError(f"refused by the database: {msg}")
        if state.startswith("08") or orig is None or "connect" in msg.lower():
            return InputError(f"cannot connect to the store {self.display}: {msg}")
        return InputError(f"the store {self.display} failed: {msg}")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        sa = _server_extra()
        try:
            with self.engine().connect() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            raise self._error(exc) from exc

    def _ensure_schema(self, conn: Any) -> None:
        key = self._key()
        if key in _MIGRATED:
            return
        have = self._revision(conn)
        conn.rollback()
        if have is None:
            self._migrate(conn)
        elif have != HEAD_REVISION:
            raise InputError(
                f"the store's schema is at revision {have}; this version needs {HEAD_REVISION}",
                column="--store", expected="ewaste-tracker migrate --store URL (by its owner)",
            )  # fmt: skip
        _MIGRATED.add(key)

    def _revision(self, conn: Any) -> str | None:
        from sqlalchemy import text

        table = conn.execute(
            text("SELECT to_regclass(:t)"), {"t": f'"{self.schema}".alembic_version'}
        ).scalar()
        if table is None:
            return None
        return conn.execute(
            text(f'SELECT version_num FROM "{self.schema}".alembic_version')
        ).scalar()

    def _migrate(self, conn: Any) -> None:
        """Create or upgrade the schema (Alembic ``upgrade head``), one process at a time."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_lock(:ns, hashtext(:s))"),
                     {"ns": _LOCK_NS, "s": self.schema})  # fmt: skip
        try:
            conn.commit()
            if self._revision(conn) == HEAD_REVISION:
                conn.rollback()
                return
            conn.rollback()
            cfg = Config()
            cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
            cfg.attributes.update(connection=conn, schema=self.schema,
                                  group_role=self.role_prefix + "_users",
                                  role_prefix=self.role_prefix)  # fmt: skip
            command.upgrade(cfg, "head")
            self._fill_outlines(conn)
            conn.commit()
            logger.info("%s: schema %s at revision %s", self.display, self.schema, HEAD_REVISION)
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:s))"),
                         {"ns": _LOCK_NS, "s": self.schema})  # fmt: skip
            conn.commit()

    def _fill_outlines(self, conn: Any) -> None:
        """Country outlines (Natural Earth, from the catalogue) for the PostGIS layers."""
        from sqlalchemy import text

        from ewaste_tracker import catalog

        gdf = catalog.outlines()
        rows = [
            {"iso3": str(r.iso3), "name": str(r.name), "wkb": r.geometry.wkb}
            for r in gdf.itertuples()
            if r.geometry is not None and not r.geometry.is_empty
        ]
        conn.execute(
            text(
                f'INSERT INTO "{self.schema}".country_outlines (iso3, name, geom) VALUES '
                "(:iso3, :name, ST_Multi(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))) "
                "ON CONFLICT (iso3) DO NOTHING"
            ),
            rows,
        )

    def migrate(self) -> str:
        """Create the schema or bring it to :data:`HEAD_REVISION`; return the revision."""
        with self._connection() as conn:
            self._migrate(conn)
            _MIGRATED.add(self._key())
            return str(self._revision(conn))

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        from sqlalchemy import text

        sa = _server_extra()
        try:
            with self.engine().connect() as conn:
                self._ensure_schema(conn)
                if not write:
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    if self.user_name is not None:
                        role = conn.execute(
                            text("SELECT pg_role FROM users WHERE name = :n AND "
                                 "disabled_utc IS NULL"), {"n": self.user_name},
                        ).scalar()  # fmt: skip
                        if role is None:
                            raise NotFound("no such active user", column="user",
                                           value=self.user_name)  # fmt: skip
                        conn.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
                    yield _PgTx(conn)
        except sa.exc.DBAPIError as exc:
            raise self._error(exc) from exc

    def _lock_country(self, tx: Tx, country: str) -> None:
        tx.one("SELECT pg_advisory_xact_lock(:ns, hashtext(:k))", ns=_LOCK_NS,
               k=f"{self.schema}/{country}")  # fmt: skip

    def _actor(self, tx: Tx) -> User:
        row = tx.one(
            "SELECT name, role, country FROM users WHERE pg_role = current_user "
            "AND disabled_utc IS NULL"
        )
        if row is not None:
            return User(str(row[0]), str(row[1]), None if row[2] is None else str(row[2]))
        owner = tx.one(
            "SELECT current_user, pg_has_role(current_user, nspowner, 'USAGE') FROM "
            "pg_namespace WHERE nspname = :s",
            s=self.schema,
        )
        assert owner is not None
        return User(str(owner[0]), "admin" if owner[1] else "none")

    def exists(self) -> bool:
        """Whether the database holds the store's schema (nothing is created)."""
        from sqlalchemy import text

        with self._connection() as conn:
            found = conn.execute(
                text("SELECT to_regclass(:t)"), {"t": f'"{self.schema}".submissions'}
            ).scalar()
        return found is not None

    def identity(self) -> tuple[Any, ...]:
        """The URL, schema, and the count and last id of published submissions."""
        if not self.exists():
            return (self.display, -1, -1)
        with self._transaction(write=False) as tx:
            row = tx.one(
                "SELECT count(*), coalesce(max(id), 0) FROM submissions WHERE state = 'published'"
            )
        assert row is not None
        return (self.display, int(row[0]), int(row[1]))

    # -- database roles of users ----------------------------------------------------------

    def _create_role(self, tx: Tx, name: str, *, sql_login: bool) -> tuple[str | None, str | None]:
        from psycopg import sql

        assert isinstance(tx, _PgTx)
        group = tx.one("SELECT value FROM store_info WHERE key = 'group_role'")
        prefix = tx.one("SELECT value FROM store_info WHERE key = 'role_prefix'")
        assert group is not None and prefix is not None
        role = f"{prefix[0]}_{name}"
        if tx.one("SELECT 1 FROM pg_roles WHERE rolname = :r", r=role) is not None:
            raise InputError("a database role of that name exists already", column="name",
                             value=role)  # fmt: skip
        password = secrets.token_urlsafe(18) if sql_login else None
        login = sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password)) if sql_login else (
            sql.SQL("NOLOGIN"))  # fmt: skip
        with tx.driver().cursor() as cur:
            cur.execute(sql.SQL("CREATE ROLE {} {} IN ROLE {}").format(
                sql.Identifier(role), login, sql.Identifier(group[0])))  # fmt: skip
            cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))
        return role, password

    def _disable_role(self, tx: Tx, role: str | None) -> None:
        from psycopg import sql

        assert isinstance(tx, _PgTx)
        if role is None:
            return
        group = tx.one("SELECT value FROM store_info WHERE key = 'group_role'")
        assert group is not None
        with tx.driver().cursor() as cur:
            cur.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role)))
            cur.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group[0]),
                                                            sql.Identifier(role)))  # fmt: skip

    def drop(self) -> None:
        """Delete the whole store: its schema, its users' roles and its group role.

        For tests and for retiring a store; only its owner can. Cannot be undone.
        """
        from sqlalchemy import text

        schema = f'"{self.schema}"'
        with self._connection() as conn:
            roles: list[str] = []
            found = conn.execute(text("SELECT to_regclass(:t)"), {"t": f"{schema}.users"})
            if found.scalar() is not None:
                users = conn.execute(
                    text(f"SELECT pg_role FROM {schema}.users WHERE pg_role IS NOT NULL")
                )
                group = conn.execute(
                    text(f"SELECT value FROM {schema}.store_info WHERE key = 'group_role'")
                )
                roles = [r for (r,) in users] + [r for (r,) in group]
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            for r in roles:
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{r}"')
            conn.commit()
        self.close()

    def close(self) -> None:
        """Close this process's connections to the store (its pool is made again on use)."""
        key = self._key()
        _MIGRATED.discard(key)
        with _ENGINES_LOCK:
            eng = _ENGINES.pop(key, None)
        if eng is not None:
            eng.dispose()
