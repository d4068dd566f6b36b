"""Users and API tokens of a store.

A user has a name, a role (``submitter`` with its country, or ``reviewer``; see
:mod:`ewaste_tracker.submissions.workflow`) and any number of API tokens. A token is 32 random
bytes shown once when it is made; the store keeps only its SHA-256, so a stolen copy of the
store reveals no token. Users are never deleted (their name stays in the audit trail): they
are disabled, which also revokes their tokens.

On PostgreSQL each user is also a database role (``<prefix>_<name>``, a member of the store's
group role), so that row-level security applies to whatever they do, through the API, the CLI
or plain SQL.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.submissions.backend import StoreBase, Tx, utc_now
from ewaste_tracker.submissions.workflow import (
    NotFound,
    PermissionDenied,
    User,
    check_user_name,
)

__all__ = ["UsersMixin", "token_hash"]

logger = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    """SHA-256 (hex) of an API token, as the store keeps it."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


class UsersMixin(StoreBase):
    """User and token management (part of :class:`~.store.Store`)."""

    def _create_role(self, tx: Tx, name: str, *, sql_login: bool) -> tuple[str | None, str | None]:
        """Backend hook: make the user's database role; return ``(role, password)``."""
        return None, None

    def _disable_role(self, tx: Tx, role: str | None) -> None:
        """Backend hook: take the user's database role's rights away."""

    def _admin(self, tx: Tx, what: str) -> User:
        user = self._actor(tx)
        if user.role != "admin":
            raise PermissionDenied(f"only the store's administrator may {what}",
                                   value=user.name)  # fmt: skip
        return user

    def add_user(
        self, name: str, role: str, *, country: str | None = None, sql_login: bool = False
    ) -> dict[str, str | None]:
        """Register a user.

        Parameters
        ----------
        name
            Lower-case letters, digits and ``_`` (1-40 characters).
        role
            ``submitter`` (needs ``country``) or ``reviewer``.
        country
            ISO3 code of a submitter's country.
        sql_login
            PostgreSQL only: let the user's database role log in with a generated password,
            for plain SQL with its own rights (row-level security applies).

        Returns
        -------
        dict
            ``name``, ``role``, ``country``, ``pg_role`` (PostgreSQL) and ``password`` (when
            ``sql_login``; shown once, not kept).
        """
        check_user_name(name)
        if role not in ("submitter", "reviewer"):
            raise InputError("unknown role", column="role", value=role,
                             expected="submitter or reviewer")  # fmt: skip
        iso3 = None if country is None else country.strip().upper()
        if role == "submitter" and not iso3:
            raise InputError("a submitter reports for one country", column="country",
                             expected="an ISO3 code such as KEN")  # fmt: skip
        if role == "reviewer" and iso3:
            raise InputError("a reviewer reviews every country", column="country", value=iso3,
                             expected="no country")  # fmt: skip
        if iso3 is not None:
            from ewaste_tracker.submissions.rules import Codes

            if iso3 not in Codes.from_catalog().countries:
                raise InputError("unknown country code", column="country", value=iso3,
                                 expected="an ISO3 code of the catalogue")  # fmt: skip
        with self._transaction(write=True) as tx:
            admin = self._admin(tx, "add users")
            if tx.one("SELECT 1 FROM users WHERE name = :n", n=name) is not None:
                raise InputError("user already exists", column="name", value=name)
            pg_role, password = self._create_role(tx, name, sql_login=sql_login)
            tx.run(
                "INSERT INTO users (name, role, country, pg_role, created_utc, changed_by) "
                "VALUES (:n, :r, :c, :p, :now, :by)",
                n=name, r=role, c=iso3, p=pg_role, now=utc_now(), by=admin.name,
            )  # fmt: skip
        logger.info("added user %s (%s %s)", name, role, iso3 or "")
        return {"name": name, "role": role, "country": iso3, "pg_role": pg_role,
                "password": password}  # fmt: skip

    def disable_user(self, name: str) -> None:
        """Disable a user: their tokens stop working and their database role loses its rights."""
        with self._transaction(write=True) as tx:
            admin = self._admin(tx, "disable users")
            row = tx.one("SELECT pg_role FROM users WHERE name = :n AND disabled_utc IS NULL",
                         n=name)  # fmt: skip
            if row is None:
                raise NotFound("no such active user", column="name", value=name)
            now = utc_now()
            tx.run(
                "UPDATE tokens SET revoked_utc = :now, changed_by = :by "
                "WHERE user_name = :n AND revoked_utc IS NULL",
                now=now, by=admin.name, n=name,
            )  # fmt: skip
            tx.run(
                "UPDATE users SET disabled_utc = :now, changed_by = :by WHERE name = :n",
                now=now, by=admin.name, n=name,
            )  # fmt: skip
            self._disable_role(tx, row[0])

    def users(self) -> pd.DataFrame:
        """The registered users: ``name, role, country, pg_role, created_utc, disabled_utc,
        tokens`` (active tokens)."""
        with self._transaction(write=False) as tx:
            return tx.frame(
                "SELECT u.name, u.role, u.country, u.pg_role, u.created_utc, u.disabled_utc, "
                "(SELECT count(*) FROM tokens t WHERE t.user_name = u.name AND "
                "t.revoked_utc IS NULL) AS tokens FROM users u ORDER BY u.name"
            )

    def create_token(self, name: str, *, label: str = "") -> str:
        """Make an API token for user ``name``; the token is returned once and not kept."""
        token = "ewt_" + secrets.token_urlsafe(32)
        with self._transaction(write=True) as tx:
            admin = self._admin(tx, "make tokens")
            if tx.one("SELECT 1 FROM users WHERE name = :n AND disabled_utc IS NULL",
                      n=name) is None:  # fmt: skip
                raise NotFound("no such active user", column="name", value=name)
            tx.run(
                "INSERT INTO tokens (user_name, sha256, label, created_utc, changed_by) "
                "VALUES (:n, :h, :label, :now, :by)",
                n=name, h=token_hash(token), label=label, now=utc_now(), by=admin.name,
            )  # fmt: skip
        return token

    def revoke_tokens(self, name: str) -> int:
        """Revoke every active token of user ``name``; return how many were revoked."""
        with self._transaction(write=True) as tx:
            admin = self._admin(tx, "revoke tokens")
            return tx.run(
                "UPDATE tokens SET revoked_utc = :now, changed_by = :by "
                "WHERE user_name = :n AND revoked_utc IS NULL",
                now=utc_now(), by=admin.name, n=name,
            )  # fmt: skip

    def authenticate(self, token: str) -> User:
        """The active user an API token belongs to.

        Raises
        ------
        PermissionDenied
            Unknown, revoked or malformed token, or a disabled user.
        """
        if not token or len(token) > 200:
            raise PermissionDenied("missing or malformed token")
        with self._transaction(write=False) as tx:
            row = tx.one(
                "SELECT u.name, u.role, u.country FROM tokens t JOIN users u "
                "ON u.name = t.user_name WHERE t.sha256 = :h AND t.revoked_utc IS NULL "
                "AND u.disabled_utc IS NULL",
                h=token_hash(token),
            )
        if row is None:
            raise PermissionDenied("unknown or revoked token")
        return User(str(row[0]), str(row[1]), None if row[2] is None else str(row[2]))
