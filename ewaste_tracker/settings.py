"""Process-wide settings, set once at start-up.

Settings here are paths and defaults that belong to the installation, not to a user's
session: Streamlit sessions share module globals, so per-user choices (scenario, country,
years) are function arguments, never settings.

The two paths are read from the environment each time they are asked for:

* :func:`data_dir`: the folder of the shipped reference data (``ewaste_tracker/data``,
  package data); the environment variable ``EWASTE_TRACKER_DATA`` overrides it;
* :func:`store_path`: the tracker store (a GeoPackage/SQLite file), by default
  ``tracker.gpkg`` in the user's data folder (``platformdirs.user_data_dir("ewaste-tracker")``);
  ``EWASTE_TRACKER_STORE`` overrides it.

Attributes
----------
DEFAULT_CRS
    CRS of every geometry the tracker returns unless asked otherwise (``EPSG:4326``).
LOG_LEVEL
    Level of the package loggers when the CLI or the app configures logging
    (``$EWASTE_TRACKER_LOG_LEVEL``, default ``INFO``).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

DEFAULT_CRS = "EPSG:4326"
LOG_LEVEL = os.environ.get("EWASTE_TRACKER_LOG_LEVEL", "INFO")


def data_dir() -> Path:
    """Return the folder holding the shipped reference data.

    Returns
    -------
    pathlib.Path
        ``$EWASTE_TRACKER_DATA`` when set, else ``data/`` beside the packages.
    """
    env = os.environ.get("EWASTE_TRACKER_DATA")
    return Path(env) if env else _PACKAGE / "data"


def store_path() -> Path:
    """Return the default path of the tracker store.

    Returns
    -------
    pathlib.Path
        ``$EWASTE_TRACKER_STORE`` when set, else ``tracker.gpkg`` in the user's data folder.
    """
    env = os.environ.get("EWASTE_TRACKER_STORE")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("ewaste-tracker")) / "tracker.gpkg"
