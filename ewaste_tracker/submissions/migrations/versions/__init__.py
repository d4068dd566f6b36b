"""Revisions of the PostgreSQL store's schema, oldest first."""
