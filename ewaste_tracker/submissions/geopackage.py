"""Minimal GeoPackage writing with the standard library's ``sqlite3``.

Implements what OGC GeoPackage 1.4 (OGC 12-128r19) requires of a file that holds attribute
tables: ``application_id`` 0x47504B47 ('GPKG'), ``user_version`` 10400, the tables
``gpkg_spatial_ref_sys`` (with the mandatory EPSG:4326, -1 and 0 rows), ``gpkg_contents`` and
``gpkg_geometry_columns``, and each attribute table registered in ``gpkg_contents`` with
``data_type = 'attributes'`` and an integer primary key, so GDAL/pyogrio and QGIS list it.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.files import atomic_path

GPKG_APPLICATION_ID = 0x47504B47
GPKG_USER_VERSION = 10400

_WGS84 = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4326"]]'
)

_GPKG_META = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
"""


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with microseconds and a ``Z``."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def init_geopackage(con: sqlite3.Connection) -> None:
    """Create the GeoPackage metadata tables and required SRS rows (idempotent).

    Sets ``application_id`` and ``user_version`` as the GeoPackage 1.4 standard requires and
    inserts the three mandatory ``gpkg_spatial_ref_sys`` rows (EPSG:4326, -1 undefined
    Cartesian, 0 undefined geographic).
    """
    con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
    run_script(con, _GPKG_META)
    con.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84, "longitude/latitude, WGS 84"),
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
        ],
    )


def run_script(con: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements without ``executescript``'s implicit COMMIT.

    A statement ends at the first ``;`` after which it is complete
    (:func:`sqlite3.complete_statement`), so triggers with ``BEGIN ... END`` bodies work.
    """
    stmt = ""
    for part in script.split(";"):
        stmt += part + ";"
        if sqlite3.complete_statement(stmt):
            if stmt.strip(" \n;"):
                con.execute(stmt)
            stmt = ""
    if stmt.strip(" \n;"):
        con.execute(stmt)


def add_attribute_table(con: sqlite3.Connection, name: str, body: str, description: str) -> None:
    """Create a table and register it in ``gpkg_contents`` as an attribute layer."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {name} {body}")
    con.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,"
        " last_change) VALUES (?, 'attributes', ?, ?, ?)",
        (name, name, description, utc_now()[:23] + "Z"),
    )


def touch(con: sqlite3.Connection, *tables: str) -> None:
    stamp = utc_now()[:23] + "Z"
    con.executemany(
        "UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?",
        [(stamp, t) for t in tables],
    )


def to_sql_value(v: Any) -> Any:
    """Numpy scalars and missing values → plain Python for sqlite3."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


_SQL_TYPES = {"i": "INTEGER", "u": "INTEGER", "f": "REAL", "b": "BOOLEAN"}


def write_attribute_tables(path: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Write DataFrames as GeoPackage attribute layers into a new file (rollback journal)."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN")
        init_geopackage(con)
        for name, df in tables.items():
            cols = ", ".join(
                f'"{c}" {_SQL_TYPES.get(df[c].dtype.kind, "TEXT")}' for c in df.columns
            )
            add_attribute_table(con, name, f"(fid INTEGER PRIMARY KEY AUTOINCREMENT, {cols})", name)
            marks = ", ".join("?" * df.shape[1])
            names = ", ".join(f'"{c}"' for c in df.columns)
            con.executemany(
                f"INSERT INTO {name} ({names}) VALUES ({marks})",
                [
                    tuple(to_sql_value(v) for v in r)
                    for r in df.astype(object).itertuples(index=False)
                ],
            )
        con.execute("COMMIT")
    finally:
        con.close()


def tables_to_geopackage(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as attribute layers of a new GeoPackage, atomically.

    The file is built beside the target and renamed into place, so a reader never sees half a
    file and a failure leaves any previous file untouched.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        write_attribute_tables(tmp, tables)
    return path
