"""Alembic environment of the PostgreSQL store: migrate one schema on a given connection."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
schema = config.attributes["schema"]

connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}", public')
context.configure(
    connection=connection,
    target_metadata=None,
    version_table="alembic_version",
    version_table_schema=schema,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
