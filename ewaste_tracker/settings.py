"""Process-wide settings, set once at start-up.

Settings here are paths and defaults that belong to the installation, not to a user's
session: Streamlit sessions share module globals, so per-user choices (scenario, country,
years) are function arguments, never settings.

The paths are read from the environment each time they are asked for:

* :func:`data_dir`: the folder of the shipped reference data (``ewaste_tracker/data``,
  package data); the environment variable ``EWASTE_TRACKER_DATA`` overrides it;
* :func:`store_target`: the tracker store, a GeoPackage/SQLite file for one user (by default
  ``tracker.gpkg`` in the user's data folder, :func:`store_path`) or a shared
  PostgreSQL/PostGIS database given by its URL (``postgresql://user@host/db``, see
  :mod:`ewaste_tracker.submissions.postgis`); ``EWASTE_TRACKER_STORE`` overrides it;
* :func:`cache_dir`: where the app keeps the default estimate between server starts (the
  user's cache folder, ``platformdirs.user_cache_dir("ewaste-tracker")``);
  ``EWASTE_TRACKER_CACHE`` overrides it (a folder, or ``off`` to keep nothing on disk).

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
from collections.abc import Iterator
from contextlib import contextmanager
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


DATABASE_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")
"""URL prefixes that name a PostgreSQL store instead of a GeoPackage file."""


def is_database_url(target: object) -> bool:
    """Whether ``target`` is a PostgreSQL URL (a string such as ``postgresql://u@h/db``)."""
    return isinstance(target, str) and target.strip().lower().startswith(DATABASE_SCHEMES)


def store_target(target: str | Path | None = None) -> str | Path:
    """Return the tracker store to use: a PostgreSQL URL or a GeoPackage path.

    Parameters
    ----------
    target
        An explicit store (URL or path); ``None`` for the default.

    Returns
    -------
    str or pathlib.Path
        The URL unchanged (a string) when it is a PostgreSQL URL, else a path: ``target``,
        ``$EWASTE_TRACKER_STORE``, or ``tracker.gpkg`` in the user's data folder.
    """
    if target is None:
        target = os.environ.get("EWASTE_TRACKER_STORE") or None
    if target is None:
        return store_path()
    if is_database_url(target):
        return str(target).strip()
    return Path(target)


def store_path() -> Path:
    """Return the default path of the embedded (GeoPackage) tracker store.

    Returns
    -------
    pathlib.Path
        ``$EWASTE_TRACKER_STORE`` when it is set and is not a database URL, else
        ``tracker.gpkg`` in the user's data folder.
    """
    env = os.environ.get("EWASTE_TRACKER_STORE")
    if env and not is_database_url(env):
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


#: ``mallopt`` parameters of glibc (``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: Freed memory up to this size stays in the process for the next allocation (2 GiB - 1, the
#: largest value ``mallopt`` takes).
_KEEP_BYTES = 2**31 - 1
_allocator_tuned: bool | None = None


def tune_allocator() -> bool:
    """Let the process reuse the memory it frees instead of faulting it in again.

    glibc's ``malloc`` serves every block above its mmap threshold (at most 32 MB when left to
    itself) with a fresh ``mmap`` and unmaps it on ``free``. The engine's arrays are such
    blocks (one world array of region × product × year is 8.6 MB, a batch of Monte Carlo
    draws tiles it), so every temporary is page-faulted in again, and numpy's
    transparent-huge-page advice makes each fault zero and compact 2 MB. Measured on the
    2-core development machine for a batch of 4 draws of the world: 12,700-28,000 minor page
    faults and 0.14-1.5 s of system time per draw before, none after, and 0.36-0.40 s of
    user time either way.

    The mmap and trim thresholds are raised to 2 GiB - 1 with ``mallopt(3)``: blocks below
    that come from the heap and freed memory is kept for reuse. Threads share the main arena
    (``M_ARENA_MAX`` 1): the other arenas are built of 64 MB heaps, so a thread's larger
    arrays (a Dask worker runs its tasks in a thread) would still be mapped afresh. Peak
    memory is unchanged (the same blocks are live at once); the process gives memory back to
    the system less eagerly.

    numpy's huge-page advice (``madvise(MADV_HUGEPAGE)`` on every array of 4 MB or more) is
    turned off as well: where the kernel's ``transparent_hugepage/defrag`` is ``madvise``
    (the common default), each first touch of such an array may stall in direct compaction.
    Measured for the first world run of a fresh process on the development machine: 3.2-4.4 s
    wall and 1.5-1.8 s of system time with the advice, 1.7-2.5 s and 0.35-0.5 s without;
    later runs in the same process, which reuse the memory, cost the same either way.

    Called once by every engine run, the command line and the Dask workers; a no-op on
    systems without glibc and when ``EWASTE_TRACKER_MALLOC=system``.

    Returns
    -------
    bool
        Whether the thresholds are set (``True`` also when an earlier call set them).
    """
    global _allocator_tuned
    if _allocator_tuned is not None:
        return _allocator_tuned
    _allocator_tuned = False
    if os.environ.get("EWASTE_TRACKER_MALLOC", "").strip().lower() == "system":
        return False
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _no_huge_page_advice()
    _allocator_tuned = bool(
        mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES)
        and mallopt(_M_ARENA_MAX, 1)
    )
    return _allocator_tuned


def _no_huge_page_advice() -> None:
    """Stop numpy advising the kernel to back new arrays with huge pages (see above)."""
    import numpy as np

    for owner in ("_core", "core"):  # numpy 2 keeps it in _core, numpy 1 in core
        setter = getattr(getattr(getattr(np, owner, None), "multiarray", None),
                         "_set_madvise_hugepage", None)  # fmt: skip
        if setter is not None:
            setter(False)
            return


_blas_controller: object | None = None


@contextmanager
def engine_threads() -> Iterator[None]:
    """Run the engine's matrix products on one BLAS thread (restored on exit).

    The engine's BLAS calls are small: one ``(cells, N) @ (N, N)`` product per lifetime
    group (N = 81 years), tens of them per run. OpenBLAS splits each over every core and
    synchronises its threads per call; when other processes share the cores, a thread
    waiting for a descheduled peer stalls the call for a scheduler time slice. Measured on the
    2-core development machine under a load of about 5 (other engineers' jobs), for the
    250-region benchmark: the first-life discards took 240 ms of wall time (70 ms CPU) with
    two BLAS threads and 9 ms with one, the whole run 1.43 s against 0.63 s. The engine
    already uses both cores through separate processes (Dask workers, the test suite's
    workers), so one thread per product loses nothing. ``EWASTE_TRACKER_BLAS_THREADS``
    overrides the count (``0``: leave the BLAS as it is).
    """
    global _blas_controller
    env = os.environ.get("EWASTE_TRACKER_BLAS_THREADS", "1").strip()
    limit = int(env) if env.isdigit() else 1
    if limit == 0:
        yield
        return
    from threadpoolctl import ThreadpoolController

    if _blas_controller is None:  # inspecting the loaded libraries costs ~1 ms: once
        _blas_controller = ThreadpoolController()
    controller: ThreadpoolController = _blas_controller  # type: ignore[assignment]
    with controller.limit(limits=limit, user_api="blas"):
        yield
