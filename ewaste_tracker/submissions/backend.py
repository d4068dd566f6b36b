"""What a store backend provides: transactions, a per-country lock and the acting user.

:class:`StoreBase` is what the shared halves of the store (:mod:`~ewaste_tracker.submissions
.records`, :mod:`~ewaste_tracker.submissions.runs`, :mod:`~ewaste_tracker.submissions.users`)
are written against; :class:`~ewaste_tracker.submissions.gpkg_store.GeoPackageStore` and
:class:`~ewaste_tracker.submissions.postgis.PostgresStore` implement it. Both run the same SQL
text: ``:name`` parameters (sqlite3's named style and SQLAlchemy's ``text()``), ``RETURNING``,
no casts with ``::``, identifiers that are not reserved words in either.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pandas as pd

from ewaste_tracker.submissions.workflow import User

__all__ = ["StoreBase", "Tx", "before_commit", "iso_utc", "utc_now"]

_before_commit: Callable[[], None] | None = None
"""Test hook: called inside a submission's write transaction just before COMMIT."""


def before_commit() -> None:
    """Call the test hook :data:`_before_commit` when one is set."""
    if _before_commit is not None:
        _before_commit()


def utc_now() -> str:
    """The current UTC time as ISO 8601 with microseconds and a ``Z``."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_utc(value: Any) -> Any:
    """A database time (``datetime`` with a zone) as ISO 8601 UTC text; anything else as is."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def frame_times_to_text(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of times in a query result as ISO 8601 UTC text (as the GeoPackage keeps them)."""
    for c in df.columns:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(df[c]):
            s = df[c]
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_convert("UTC")
            df[c] = s.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").astype(object).where(s.notna(), None)
    return df


class Tx(Protocol):
    """One open transaction of a backend; SQL uses ``:name`` parameters on both."""

    dialect: str

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """All result rows (times as ISO 8601 text ending in ``Z``)."""
        ...

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        """The first result row, or ``None``."""
        ...

    def run(self, sql: str, **params: Any) -> int:
        """Execute a statement; return the number of rows it changed."""
        ...

    def insert_rows(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert many rows into ``table`` (plain Python values)."""
        ...

    def frame(self, sql: str, **params: Any) -> pd.DataFrame:
        """The result as a DataFrame (times as ISO 8601 text ending in ``Z``)."""
        ...


class StoreBase:
    """The primitives every backend implements (see the module docstring)."""

    kind: ClassVar[str] = ""
    target: str | Path
    user_name: str | None = None

    def __repr__(self) -> str:
        who = f", user={self.user_name!r}" if self.user_name else ""
        return f"{type(self).__name__}({self.display!r}{who})"

    @property
    def display(self) -> str:
        """The store's name for messages (a URL without its password)."""
        return str(self.target)

    def _transaction(self, *, write: bool) -> contextlib.AbstractContextManager[Tx]:
        """An open transaction as the store's user; commits when the block succeeds.

        A read transaction sees one consistent snapshot; a write transaction is serialised
        with other writers as the backend requires (see :meth:`_lock_country`).
        """
        raise NotImplementedError

    def _lock_country(self, tx: Tx, country: str) -> None:
        """Serialise writers of one country until the transaction ends."""
        raise NotImplementedError

    def _actor(self, tx: Tx) -> User:
        """The user this store acts as."""
        raise NotImplementedError

    def _auto_publish(self, user: User) -> bool:
        """Whether a plain submission by ``user`` is accepted and published at once."""
        return False

    def _integrity(self, tx: Tx) -> bool:
        """The backend's own integrity check (SQLite's ``integrity_check``)."""
        return True

    def exists(self) -> bool:
        """Whether the store exists (reading a missing store means "no submissions")."""
        raise NotImplementedError

    def init(self) -> None:
        """Create the store (its schema) if it does not exist yet; reading never does."""
        with self._transaction(write=True):
            pass

    def identity(self) -> tuple[Any, ...]:
        """A key that changes whenever what the estimate reads (published data) changes."""
        raise NotImplementedError

    def whoami(self) -> User:
        """The user this store acts as (see :mod:`ewaste_tracker.submissions.workflow`)."""
        with self._transaction(write=False) as tx:
            return self._actor(tx)

    def check(self) -> dict[str, Any]:
        """Consistency of the stored submissions, in one snapshot.

        Returns
        -------
        dict
            ``submissions`` (rows, drafts included), ``values`` (rows of submissions past the
            draft state), ``expected_values`` (the sum of their ``n_values``), ``audit``
            (rows) and ``ok``: every submission past the draft state holds exactly its values
            and the backend's own check passes (SQLite's ``integrity_check``).
        """
        with self._transaction(write=False) as tx:
            row = tx.one(
                "SELECT count(*), coalesce(sum(n_values), 0) FROM submissions "
                "WHERE state <> 'draft'"
            )
            drafts = tx.one("SELECT count(*) FROM submissions WHERE state = 'draft'")
            values = tx.one(
                "SELECT count(*) FROM submission_values v JOIN submissions s "
                "ON s.id = v.submission_id WHERE s.state <> 'draft'"
            )
            bad = tx.one(
                "SELECT count(*) FROM submissions s WHERE s.state <> 'draft' AND s.n_values <> "
                "(SELECT count(*) FROM submission_values v WHERE v.submission_id = s.id)"
            )
            audit = tx.one("SELECT count(*) FROM audit")
            ok = self._integrity(tx)
        assert row is not None and drafts is not None and values is not None
        assert bad is not None and audit is not None
        return {
            "submissions": int(row[0]) + int(drafts[0]),
            "values": int(values[0]),
            "expected_values": int(row[1]),
            "audit": int(audit[0]),
            "ok": bool(ok and int(bad[0]) == 0),
        }
