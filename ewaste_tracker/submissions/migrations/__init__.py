"""Alembic migrations of the PostgreSQL store's schema (one schema per store).

Run by :meth:`ewaste_tracker.submissions.postgis.PostgresStore.migrate` (``ewaste-tracker
migrate --store postgresql://...``), which passes the open connection, the store's schema and
its group role in ``config.attributes``; there is no ``alembic.ini``. A new revision goes in
``versions/`` (``alembic revision`` with ``script_location`` pointing here works as usual).
"""
