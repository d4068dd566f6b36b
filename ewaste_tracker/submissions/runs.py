"""Model runs in the store, kept compactly: one Parquet blob per run.

``run --keep`` used to store every indicator row: the default world run has 2,486,278 rows,
361 MB of SQLite (measured with this version's default estimate, without ``element``). A run's
indicators are now one Parquet file inside the ``runs`` row (zstd, labels dictionary-encoded,
rows in the run's own order): 17 MB for the same run, encoded in ~1.3 s. The small
``run_regions`` table lists which regions and years each run covers, so :meth:`history`
finds the runs of a country without opening any blob.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.model.fingerprint import fingerprint, json_default, tool_version
from ewaste_tracker.submissions.backend import StoreBase, Tx, utc_now
from ewaste_tracker.submissions.workflow import NotFound

__all__ = ["INDICATOR_COLUMNS", "RunRecord", "RunsMixin", "indicators_from_parquet",
           "indicators_to_parquet"]  # fmt: skip

logger = logging.getLogger(__name__)

INDICATOR_COLUMNS = ("region", "year", "indicator", "element", "value", "unit", "status",
                     "source")  # fmt: skip
"""Columns of a stored run's indicators (``element`` missing where not per element)."""

_LABELS = ("region", "indicator", "element", "unit", "status", "source")


@dataclass(frozen=True)
class RunRecord:
    """One stored model run (a row of the ``runs`` table)."""

    id: int
    fingerprint: str
    created_utc: str
    tool_version: str
    label: str
    n_rows: int
    size_bytes: int = 0
    new: bool = True


def indicators_to_parquet(ind: pd.DataFrame) -> bytes:
    """An indicators table (:data:`INDICATOR_COLUMNS`) as compressed Parquet bytes."""
    out = ind[list(INDICATOR_COLUMNS)].copy()
    for c in _LABELS:
        if not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype("category")
    out["year"] = out["year"].astype("int32")
    out["value"] = out["value"].astype("float64")
    buf = io.BytesIO()
    out.to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def indicators_from_parquet(blob: bytes) -> pd.DataFrame:
    """The indicators table back from :func:`indicators_to_parquet` (labels as text)."""
    df = pd.read_parquet(io.BytesIO(bytes(blob)))
    for c in _LABELS:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["year"] = df["year"].astype("int64")
    return df.reset_index(drop=True)


class RunsMixin(StoreBase):
    """Model runs (part of :class:`~.store.Store`)."""

    def add_run(
        self,
        indicators: pd.DataFrame,
        *,
        inputs: Mapping[str, pd.DataFrame],
        parameters: Mapping[str, Any] | None = None,
        label: str = "",
        version: str | None = None,
    ) -> RunRecord:
        """Store a model run (its fingerprint and indicators table) in one transaction.

        A run whose fingerprint and tool version are already stored is not stored again; that
        run is returned with ``new=False``.

        Parameters
        ----------
        indicators
            ``region, year, indicator, value, unit`` (optional ``element``, ``status``,
            ``source``).
        inputs, parameters
            Everything the run was computed from (see :func:`fingerprint`).
        label
            Free text shown in the history.
        version
            Tool version; default the installed package version.
        """
        missing = {"region", "year", "indicator", "value", "unit"} - set(indicators.columns)
        if missing:
            raise InputError(
                f"indicators table lacks column(s) {', '.join(sorted(missing))}",
                expected="region, year, indicator, value, unit",
            )
        fp = fingerprint(inputs, parameters)
        version = tool_version() if version is None else version
        ind = indicators.assign(
            element=indicators.get("element", None),
            status=indicators.get("status", "estimated"),
            source=indicators.get("source", "model"),
        )
        blob = indicators_to_parquet(ind)
        years = ind["year"].astype("int64")
        regions = (
            pd.DataFrame({"region": ind["region"].astype(str).to_numpy(), "year": years})
            .groupby("region")["year"]
            .agg(["size", "min", "max"])
        )
        params = json.dumps(
            dict(parameters or {}), sort_keys=True, default=json_default, separators=(",", ":")
        )
        with self._transaction(write=True) as tx:
            old = tx.one(
                "SELECT id FROM runs WHERE fingerprint = :fp AND tool_version = :v",
                fp=fp,
                v=version,
            )
            if old is not None:
                return self._run(tx, int(old[0]), new=False)
            row = tx.one(
                "INSERT INTO runs (fingerprint, created_utc, tool_version, label, parameters, "
                "n_rows, format, size_bytes, indicators) VALUES (:fp, :now, :v, :label, :params, "
                ":n, 'parquet', :size, :blob) RETURNING id",
                fp=fp, now=utc_now(), v=version, label=label, params=params, n=len(ind),
                size=len(blob), blob=blob,
            )  # fmt: skip
            assert row is not None
            rid = int(row[0])
            tx.insert_rows(
                "run_regions",
                ("run_id", "region", "n_values", "first_year", "last_year"),
                [(rid, str(r), int(n), int(a), int(b)) for r, (n, a, b) in regions.iterrows()],
            )
            record = self._run(tx, rid)
        logger.info("kept run %d (%d rows, %.1f MB)", rid, len(ind), len(blob) / 1e6)
        return record

    def _run(self, tx: Tx, rid: int, *, new: bool = True) -> RunRecord:
        r = tx.one(
            "SELECT id, fingerprint, created_utc, tool_version, label, n_rows, size_bytes "
            "FROM runs WHERE id = :id",
            id=rid,
        )
        if r is None:
            raise NotFound("no such run", column="run_id", value=rid)
        names = ("id", "fingerprint", "created_utc", "tool_version", "label", "n_rows",
                 "size_bytes")  # fmt: skip
        return RunRecord(**dict(zip(names, r, strict=True)), new=new)

    def runs(self, country: str | None = None) -> pd.DataFrame:
        """The stored runs (those with indicators for ``country`` if given)."""
        sql = (
            "SELECT id, fingerprint, created_utc, tool_version, label, n_rows, size_bytes FROM runs"
        )
        with self._transaction(write=False) as tx:
            if country is None:
                return tx.frame(sql + " ORDER BY id")
            return tx.frame(
                sql + " WHERE EXISTS (SELECT 1 FROM run_regions g WHERE g.run_id = runs.id AND "
                "g.region = :c) ORDER BY id",
                c=country.strip().upper(),
            )

    def run_indicators(self, run_id: int) -> pd.DataFrame:
        """A run's indicators table (columns :data:`INDICATOR_COLUMNS`)."""
        with self._transaction(write=False) as tx:
            row = tx.one("SELECT indicators FROM runs WHERE id = :id", id=int(run_id))
        if row is None:
            raise NotFound("no such run", column="run_id", value=run_id)
        return indicators_from_parquet(row[0])

    def run_record(self, run_id: int) -> RunRecord:
        """One stored run's record."""
        with self._transaction(write=False) as tx:
            return self._run(tx, int(run_id), new=False)

    def export_run(self, run_id: int, path: str | Path) -> Path:
        """Write a run's indicators to ``.csv`` or ``.gpkg``, atomically.

        The file is written beside the target and renamed into place, so a reader never sees
        half a file and a failure leaves any previous file untouched. The GeoPackage holds two
        attribute layers: ``indicators`` and ``run`` (one row: fingerprint, time, version).
        """
        from ewaste_tracker.submissions.geopackage import tables_to_geopackage
        from ewaste_tracker.tables import write_csv_atomic

        path = Path(path)
        suffix = path.suffix.lower()
        rec = self.run_record(int(run_id))
        if suffix not in (".csv", ".gpkg"):
            raise InputError("unsupported export format", path=path, expected=".csv or .gpkg")
        ind = self.run_indicators(rec.id).assign(run_id=rec.id, fingerprint=rec.fingerprint)
        if suffix == ".csv":
            return write_csv_atomic(ind, path)
        meta = pd.DataFrame([rec.__dict__]).drop(columns="new")
        return tables_to_geopackage({"indicators": ind, "run": meta}, path)
