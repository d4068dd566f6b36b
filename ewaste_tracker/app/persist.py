"""The app's default estimate kept on disk, so a server restart does not recompute it.

The all-country default estimate takes 10-20 s to compute and its tables (indicators,
element flows, footprint) several more; loading the kept copy takes about a second. The copy
is one file per *key* in ``settings.cache_dir()/estimates`` (the user's cache folder):

.. math:: key = \\mathrm{SHA256}(format, version, code, data, store)

with the package version, a hash of the package's source files (so a changed checkout never
loads a copy made by other code), a hash of every shipped data file
(:func:`ewaste_tracker.settings.data_dir`) and a hash of the store's accepted submissions
(:func:`ewaste_tracker.reported.overlay.reported_values` and the environmental submissions:
the content, whatever the backend). A new submission, a new data file or a new release makes a
new key, so a copy is never stale; the oldest copies beyond :data:`KEEP` are deleted.

File layout (format 2): the line :data:`MAGIC`, a JSON header line (format, key, version,
created, the length of the pickle and the offset and length of each data buffer), a pickle
(protocol 5) of the object's *structure* with its arrays' data taken out of band, then those
data buffers, each starting on a multiple of :data:`ALIGN` bytes. The all-country bundle is
about 1.1 GB of buffers (numpy arrays, Arrow columns) and 0.3 MB of pickle; reading it maps the
file into memory (copy-on-write, :data:`mmap.ACCESS_COPY`) and rebuilds the objects on views of
the mapping, so a restart reads the pickle only (well under a second) and the operating system
pages in the arrays a page touches, shared between server processes through the page cache.
It is written to a temporary file beside the target and
moved into place (:func:`ewaste_tracker.files.atomic_path`), so a reader never sees half a
file. It is read only when the header's key is the key wanted, the file belongs to the
current user and nobody else may write to it or its folder, and then through an unpickler
that resolves only data classes of numpy, pandas, pyarrow, networkx, the standard containers
and this package, and the reconstructors their pickles call (:class:`RestrictedUnpickler`);
anything else is refused and the estimate recomputed. The buffers are plain bytes: they are
never unpickled.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import mmap
import os
import pickle
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ewaste_tracker import __version__, settings
from ewaste_tracker.files import atomic_path

__all__ = [
    "ALIGN",
    "FORMAT",
    "KEEP",
    "MAGIC",
    "CacheRefused",
    "RestrictedUnpickler",
    "cache_key",
    "code_fingerprint",
    "data_fingerprint",
    "load_or_build",
    "read_cached",
    "store_fingerprint",
    "write_cached",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

FORMAT = 2
"""Version of the file layout (2: data buffers out of band, memory-mapped)."""
ALIGN = 64
"""Alignment of every data buffer in the file (bytes)."""
MAGIC = b"ewaste-tracker estimate cache\n"
"""First line of every cache file."""
KEEP = 2
"""Cache files kept (the newest); each holds one estimate (about 1 GB)."""
CLASS_ROOTS = (
    "geopandas",
    "shapely",
    "pyproj",
    "affine",
    "numpy",
    "pandas",
    "pyarrow",
    "ewaste_tracker",
    "networkx",
    "collections",
    "datetime",
    "decimal",
    "enum",
)
"""Packages whose *classes* a cache file may name (data containers; see :data:`DENIED`)."""
FUNCTIONS = frozenset(
    {
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.numeric", "_frombuffer"),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
        ("pandas._libs.internals", "_unpickle_block"),
        ("pandas.core.indexes.base", "_new_Index"),
        ("pandas.core.internals.blocks", "new_block"),
        ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
        ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
        ("pandas.core.arrays.categorical", "_unpickle_categorical"),
        ("pyarrow.lib", "_restore_array"),
        ("pyarrow.lib", "py_buffer"),
        ("pyarrow.lib", "type_for_alias"),
        ("pyarrow.lib", "_reconstruct_table"),
        ("pyarrow.lib", "schema"),
        ("pyarrow.lib", "field"),
        ("copyreg", "_reconstructor"),
        ("shapely.io", "from_wkb"),
        ("pandas", "NA"),
        ("pandas._libs.missing", "NA"),
        ("pandas", "NaT"),
        ("pandas._libs.tslibs.nattype", "NaT"),
    }
)
"""Reconstructor functions numpy, pandas and pyarrow pickles call, and pandas' missing-value
singletons."""
BUILTINS = frozenset(
    {
        "set",
        "frozenset",
        "slice",
        "complex",
        "range",
        "tuple",
        "list",
        "dict",
        "str",
        "bytes",
        "bytearray",
        "int",
        "float",
        "bool",
        "object",
    }
)
"""Built-in types a cache file may name."""
DENIED = ("Writer", "Store", "File", "memmap", "DataSource", "Popen", "eval", "exec")
"""Name parts refused even among the classes of :data:`CLASS_ROOTS` (classes that open
files or run code when built)."""


class CacheRefused(ValueError):
    """A cache file that is not ours, not for this key, or refers to a forbidden name."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only data classes and known reconstructors.

    Allowed: the built-in types of :data:`BUILTINS`, the functions of :data:`FUNCTIONS`, and
    classes (not functions) of the packages in :data:`CLASS_ROOTS` whose names contain none
    of :data:`DENIED` and no dot (no attribute paths such as ``DataFrame.eval``).
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in FUNCTIONS or (module == "builtins" and name in BUILTINS):
            return super().find_class(module, name)
        root = module.split(".", 1)[0]
        if root in CLASS_ROOTS and "." not in name and not any(d in name for d in DENIED):
            if not module.startswith(("pandas.io", "numpy.lib._datasource")):
                obj = super().find_class(module, name)
                if isinstance(obj, type):
                    return obj
        raise CacheRefused(f"cache file refers to {module}.{name}, which is not allowed")


def _hash_files(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _load(fh: Any, header: dict[str, Any]) -> Any:
    """The object of an open cache file positioned after its header (see the module
    docstring): the pickle read, the data buffers views of a copy-on-write mapping."""
    start = fh.tell()
    size = os.fstat(fh.fileno()).st_size
    n = header.get("pickle_bytes")
    spans = header.get("buffers") or []
    if not isinstance(n, int) or n < 0:
        n = size - start
    if not isinstance(spans, list) or not all(
        isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) and v >= 0 for v in s)
        for s in spans
    ):
        raise CacheRefused("the file's buffer table is malformed")
    if start + n > size or any(start + o + ln > size or o < n for o, ln in spans):
        raise CacheRefused("the file is shorter than its header says")
    data = fh.read(n)
    if not spans:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
    whole = memoryview(mapped)
    views = [whole[start + o : start + o + ln] for o, ln in spans]
    return RestrictedUnpickler(io.BytesIO(data), buffers=views).load()


def code_fingerprint() -> str:
    """SHA-256 of the package's Python source files (names and contents)."""
    root = Path(__file__).resolve().parents[1]
    return _hash_files([p for p in root.rglob("*.py") if "__pycache__" not in p.parts], root)


def data_fingerprint() -> str:
    """SHA-256 of every file in the data folder (:func:`ewaste_tracker.settings.data_dir`)."""
    root = settings.data_dir()
    return _hash_files([p for p in root.rglob("*") if p.is_file()], root)


def store_fingerprint(store: str | Path | None = None) -> str:
    """SHA-256 of the accepted submissions the default estimate would apply from ``store``."""
    from ewaste_tracker.reported.overlay import reported_values
    from ewaste_tracker.submissions.environment import environment_values

    h = hashlib.sha256()
    for table in (reported_values(store), environment_values(store)):
        cols = sorted(map(str, table.columns))
        frame = table[cols].astype(str).sort_values(cols, kind="stable") if len(table) else None
        h.update(",".join(cols).encode())
        if frame is not None:
            h.update(frame.to_csv(index=False).encode())
        h.update(b"\0")
    return h.hexdigest()


def cache_key(store: str | Path | None = None, *, extra: str = "") -> str:
    """The key of the default estimate for ``store`` (see the module docstring).

    Parameters
    ----------
    store
        The store whose submissions apply (default :func:`ewaste_tracker.settings.store_path`).
    extra
        Anything else the cached object depends on (e.g. the caller's own format).
    """
    parts = [
        str(FORMAT),
        __version__,
        code_fingerprint(),
        data_fingerprint(),
        store_fingerprint(store),
        extra,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _private(path: Path) -> bool:
    """Whether ``path`` and its folder belong to this user and only this user may write them."""
    if os.name != "posix":
        return True
    for p in (path, path.parent):
        st = p.stat()
        if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


def _folder() -> Path | None:
    base = settings.cache_dir()
    return None if base is None else base / "estimates"


def _path(folder: Path, key: str, name: str = "estimate") -> Path:
    return folder / f"{name}-{key[:32]}.pkl"


def read_cached(key: str, *, folder: Path | None = None, name: str = "estimate") -> Any | None:
    """The object cached under ``key``, or ``None`` (no file, another key, or refused).

    A refused or unreadable file is logged and left alone; the caller recomputes.
    """
    folder = folder if folder is not None else _folder()
    if folder is None:
        return None
    path = _path(folder, key, name)
    if not path.is_file():
        return None
    try:
        if not _private(path):
            raise CacheRefused(f"{path} may be written by other users")
        with path.open("rb") as fh:
            if fh.readline() != MAGIC:
                raise CacheRefused(f"{path} is not an ewaste-tracker cache file")
            header = json.loads(fh.readline().decode("utf-8"))
            if header.get("format") != FORMAT or header.get("key") != key:
                raise CacheRefused(f"{path} holds another estimate")
            t0 = time.perf_counter()
            obj = _load(fh, header)
        logger.info("loaded the kept estimate %s in %.2f s", path.name, time.perf_counter() - t0)
        return obj
    except (
        CacheRefused,
        OSError,
        EOFError,
        ValueError,
        pickle.UnpicklingError,
        AttributeError,
        ImportError,
        IndexError,
        TypeError,
    ) as exc:
        logger.warning("not using the kept estimate: %s", exc)
        return None


def write_cached(
    obj: Any, key: str, *, folder: Path | None = None, name: str = "estimate", keep: int = KEEP
) -> Path | None:
    """Keep ``obj`` under ``key`` (atomically); delete the oldest ``name`` files beyond
    ``keep`` (default :data:`KEEP`).

    Returns
    -------
    pathlib.Path or None
        The file written, or ``None`` when caching is off (``EWASTE_TRACKER_CACHE=off``).
    """
    folder = folder if folder is not None else _folder()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _path(folder, key, name)
    header = {"format": FORMAT, "key": key, "version": __version__, "created": time.time()}
    t0 = time.perf_counter()
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    spans, end = [], _aligned(len(data))
    for view in views:
        spans.append([end, view.nbytes])
        end = _aligned(end + view.nbytes)
    header.update(pickle_bytes=len(data), buffers=spans)
    with atomic_path(path, suffix=".pkl") as tmp:
        with tmp.open("wb") as fh:
            fh.write(MAGIC)
            fh.write(json.dumps(header).encode("utf-8") + b"\n")
            start = fh.tell()
            fh.write(data)
            for (offset, _), view in zip(spans, views, strict=True):
                fh.write(b"\0" * (start + offset - fh.tell()))
                fh.write(view)
    os.chmod(path, 0o600)  # published with the umask's permissions: keep it private
    logger.info(
        "kept the estimate in %s (%.0f MB, %.1f s)",
        path,
        path.stat().st_size / 1e6,
        time.perf_counter() - t0,
    )
    old = sorted(folder.glob(f"{name}-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in old[keep:]:
        stale.unlink(missing_ok=True)
    return path


def load_or_build(
    build: Callable[[], T],
    *,
    store: str | Path | None = None,
    extra: str = "",
    folder: Path | None = None,
    write: Callable[[Callable[[], Any]], Any] | None = None,
    name: str = "estimate",
    keep: int = KEEP,
    key: str | None = None,
) -> tuple[T, str]:
    """The kept object for ``store``, or ``build()`` (then kept for the next start).

    Parameters
    ----------
    build
        Computes the object (e.g. the default estimate and the app's tables).
    store, extra
        As in :func:`cache_key`.
    folder
        Cache folder (default ``settings.cache_dir()/estimates``).
    write
        Runs the writing step (default: now); the app passes a function that starts it in a
        background thread, so the first page does not wait for the disk.
    name, keep
        Kind of object (the file's prefix) and how many of that kind are kept.
    key
        A ready key (e.g. of the estimate plus a country and year); default
        :func:`cache_key` of ``store`` and ``extra``.

    Returns
    -------
    object, str
        The object and ``"loaded"`` or ``"built"``.
    """
    key = key or cache_key(store, extra=extra)
    got = read_cached(key, folder=folder, name=name)
    if got is not None:
        return got, "loaded"
    obj = build()

    def save() -> None:
        try:
            write_cached(obj, key, folder=folder, name=name, keep=keep)
        except Exception as exc:  # a full disk only costs the next start its speed
            logger.warning("could not keep the %s: %s", name, exc)

    if write is None:
        save()
    else:
        write(save)
    return obj, "built"
