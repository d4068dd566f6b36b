"""Process-wide settings, set once at start-up.

Settings here are paths and defaults that belong to the installation, not to a user's
session: Streamlit sessions share module globals, so per-user choices (scenario, country,
years) are function arguments, never settings.

Attributes
----------
DATA_DIR
    Folder of the shipped reference data (``ewaste_tracker/data``, package data). Override with
    the environment variable ``EWASTE_TRACKER_DATA``.
STORE_PATH
    The tracker store (a GeoPackage/SQLite file). Default: ``tracker.gpkg`` in the user's
    data folder (``platformdirs.user_data_dir("ewaste-tracker")``). Override with
    ``EWASTE_TRACKER_STORE``.
CACHE_DIR
    Where the app keeps the default estimate between server starts. Default: the user's
    cache folder (``platformdirs.user_cache_dir("ewaste-tracker")``). Override with
    ``EWASTE_TRACKER_CACHE`` (a folder, or ``off`` to keep nothing on disk).
DEFAULT_CRS
    CRS of every geometry the tracker returns unless asked otherwise (``EPSG:4326``).
LOG_LEVEL
    Level of the package loggers when the CLI or the app configures logging.
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


def cache_dir() -> Path | None:
    """Return the folder where computed results may be kept between runs, or ``None``.

    Returns
    -------
    pathlib.Path or None
        ``$EWASTE_TRACKER_CACHE`` when set (``None`` when it is ``off``, ``none`` or ``0``),
        else the user's cache folder for ewaste-tracker.
    """
    env = os.environ.get("EWASTE_TRACKER_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "none", "0", "false") else Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ewaste-tracker"))
