"""The tracker store: national submissions, their review, the audit trail and model runs.

One interface, two backends:

* :class:`~ewaste_tracker.submissions.gpkg_store.GeoPackageStore`, the embedded default for one
  user: a GeoPackage/SQLite file (``tracker.gpkg``) that GIS tools open as attribute layers;
* :class:`~ewaste_tracker.submissions.postgis.PostgresStore`, the shared store for many
  ministries: a PostgreSQL/PostGIS database (``postgresql://...``), with users, roles and
  row-level security (install the ``server`` extra).

``Store(target)`` returns the backend the target names (a ``postgresql://`` URL or a file
path; default :func:`ewaste_tracker.settings.store_target`), as ``pathlib.Path`` returns a
``PosixPath``. Both keep the same tables and run the same SQL: the submissions half is in
:mod:`~ewaste_tracker.submissions.records`, the runs half in
:mod:`~ewaste_tracker.submissions.runs`, users and tokens in
:mod:`~ewaste_tracker.submissions.users`.

``submissions``
    one row per submission: country, version (1, 2, ... per country), state (see
    :mod:`ewaste_tracker.submissions.workflow`), submitter, UTC time, file name, SHA-256 of the
    file, counts, warnings (JSON), reviewer and reason of the last decision;
``submission_values``
    the accepted values of each submission (tonnes and as reported);
``audit``
    every change, written by the database's own triggers: time, actor, action, submission,
    country, version, state before and after, file SHA-256, reason;
``users``, ``tokens``
    who may act (role, country) and their API tokens (only SHA-256 hashes are kept);
``runs``, ``run_regions``
    model runs: fingerprint, time, tool version, label, parameters and the indicators table
    as one compressed Parquet blob (zstd; the default run's 2.5 million rows take 17 MB
    instead of 361 MB as rows), with the regions, rows and years each run covers.

Writes are transactional: a submission (its row, all its values and its first steps) is
committed whole or not at all, so a writer killed mid-write leaves nothing behind, and readers
see a snapshot. Versions are numbered under a per-country lock, so concurrent writers never get
the same version, and the same file sent twice is one submission (see
:meth:`Store.add_submission`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ewaste_tracker import settings
from ewaste_tracker.errors import InputError
from ewaste_tracker.model.fingerprint import fingerprint
from ewaste_tracker.submissions.backend import StoreBase, Tx
from ewaste_tracker.submissions.records import SubmissionRecord, SubmissionsMixin
from ewaste_tracker.submissions.runs import INDICATOR_COLUMNS, RunRecord, RunsMixin
from ewaste_tracker.submissions.users import UsersMixin

__all__ = [
    "INDICATOR_COLUMNS",
    "RunRecord",
    "Store",
    "SubmissionRecord",
    "Tx",
    "compare_runs",
    "export_run",
    "fingerprint",
    "history",
    "record_run",
    "submission_values",
]

logger = logging.getLogger(__name__)


class Store(SubmissionsMixin, RunsMixin, UsersMixin, StoreBase):
    """A tracker store: ``Store(target)`` opens the backend the target names.

    Parameters
    ----------
    target
        A ``postgresql://`` URL (:class:`~ewaste_tracker.submissions.postgis.PostgresStore`),
        a GeoPackage path (:class:`~ewaste_tracker.submissions.gpkg_store.GeoPackageStore`),
        another :class:`Store` (same backend and user), or ``None`` for
        :func:`ewaste_tracker.settings.store_target`. A GeoPackage is created on first use; a
        database gets its schema on first use (by its owner).
    user
        Act as this registered user (roles and country rules apply); default the store's
        local user (GeoPackage) or the connecting database role (PostgreSQL).
    """

    def __new__(cls, target: str | Path | StoreBase | None = None, *, user: str | None = None):
        if cls is Store:
            where = (
                target.target if isinstance(target, StoreBase) else settings.store_target(target)
            )
            if isinstance(where, str):
                from ewaste_tracker.submissions.postgis import PostgresStore

                return super().__new__(PostgresStore)
            from ewaste_tracker.submissions.gpkg_store import GeoPackageStore

            return super().__new__(GeoPackageStore)
        return super().__new__(cls)

    def as_user(self, name: str | None) -> Store:
        """The same store, acting as registered user ``name`` (``None``: the default)."""
        return type(self)(self, user=name)


def _store(store: str | Path | Store | None) -> Store:
    return store if isinstance(store, Store) else Store(store)


def history(country: str, *, store: str | Path | Store | None = None) -> pd.DataFrame:
    """Submissions and runs kept for a country (see :meth:`Store.history`); empty when there is
    no store yet (reading creates nothing)."""
    st = _store(store)
    if not st.exists():
        return pd.DataFrame()
    return st.history(country)


def submission_values(
    country: str, version: int | None = None, *, store: str | Path | Store | None = None
) -> pd.DataFrame:
    """A stored submission's values (see :meth:`Store.submission_values`)."""
    return _store(store).submission_values(country, version)


def record_run(
    indicators: pd.DataFrame,
    *,
    inputs: Mapping[str, pd.DataFrame],
    parameters: Mapping[str, Any] | None = None,
    label: str = "",
    store: str | Path | Store | None = None,
) -> RunRecord:
    """Store a model run (see :meth:`Store.add_run`)."""
    return _store(store).add_run(indicators, inputs=inputs, parameters=parameters, label=label)


def compare_runs(a: int, b: int, *, store: str | Path | Store | None = None) -> pd.DataFrame:
    """Compare two runs' indicators.

    Returns
    -------
    pandas.DataFrame
        ``region, year, indicator, element, unit, value_a, value_b, diff`` (b − a) and
        ``rel_diff`` (diff / |a|, NaN where a is 0 or missing), outer-joined so rows in only
        one run show. ``element`` is missing for indicators that are not per element.
    """
    s = _store(store)
    key = ["region", "year", "indicator", "element", "unit"]
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
    return _store(store).export_run(rid, path)
