"""The ``user``, ``token`` and ``migrate`` subcommands: who may use a store, and its schema.

Only the store's admin (the GeoPackage's local user, or the role that owns the PostgreSQL
schema) manages users and tokens. A token or a generated database password is printed once
and never kept: the store holds only the token's SHA-256.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ewaste_tracker.submissions.store import Store

__all__ = ["add_user", "create_token", "disable_user", "list_users", "migrate_store",
           "revoke_tokens"]  # fmt: skip


def add_user(
    name: str,
    role: str,
    *,
    country: str | None = None,
    sql_login: bool = False,
    token: bool = False,
    store: str | Path | None = None,
) -> str:
    """Register a user (and make a first token when ``token``); return what to hand over."""
    st = Store(store)
    info = st.add_user(name, role, country=country, sql_login=sql_login)
    lines = [f"added {name}: {role}" + (f" for {info['country']}" if info["country"] else "")]
    if info["pg_role"]:
        lines.append(f"database role: {info['pg_role']}")
    if info["password"]:
        lines.append(f"database password (shown once): {info['password']}")
    if token:
        lines.append(f"API token (shown once): {st.create_token(name)}")
    return "\n".join(lines)


def list_users(*, store: str | Path | None = None) -> str:
    """The registered users as a table."""
    df = Store(store).users()
    if df.empty:
        return "no users (the store's admin acts alone)"
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return df.astype(object).fillna("").to_string(index=False)


def disable_user(name: str, *, store: str | Path | None = None) -> str:
    """Disable a user (tokens revoked, database role without rights)."""
    Store(store).disable_user(name)
    return f"disabled {name}"


def create_token(name: str, *, label: str = "", store: str | Path | None = None) -> str:
    """A new API token for ``name`` (printed once)."""
    return Store(store).create_token(name, label=label)


def revoke_tokens(name: str, *, store: str | Path | None = None) -> str:
    """Revoke every active token of ``name``."""
    n = Store(store).revoke_tokens(name)
    return f"revoked {n} token(s) of {name}"


def migrate_store(*, store: str | Path | None = None) -> str:
    """Create the store or bring its schema to this version's (GeoPackage or PostgreSQL)."""
    st = Store(store)
    if st.kind == "postgis":
        revision = st.migrate()  # type: ignore[attr-defined]
        return f"{st.display}: schema at revision {revision}"
    st.check()  # opening a GeoPackage migrates it
    from ewaste_tracker.submissions.gpkg_schema import SCHEMA_VERSION

    return f"{st.display}: schema version {SCHEMA_VERSION}"
