"""Writing files and folders so that nothing half-written is ever seen, and nothing is damaged.

Every file the package writes goes through :func:`atomic_path`: the writer fills a temporary
file in the target's folder, which is renamed over the target only when the writer returned
(one atomic ``rename``), so a reader never sees half a file and a failure leaves any previous
file untouched. Output folders go through :class:`AtomicDir`: the job writes into a staging
folder beside the target, and only when every step succeeded does the staging folder replace
the target *whole*, so a re-run leaves no stale file behind.

A folder is only ever replaced when ewaste-tracker wrote it: each output folder carries the
marker file :data:`MARKER`; an existing non-empty folder without it (a user's own folder) is
refused with :class:`OutputExistsError`, and so is an existing file where a folder should go.

This module is the floor of the house: every room may import it, it imports nothing of the
project but :mod:`ewaste_tracker.errors`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from ewaste_tracker.errors import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "MARKER",
    "AtomicDir",
    "OutputExistsError",
    "atomic_path",
    "check_output_file",
    "check_output_folder",
    "publish",
    "sweep_staging",
    "write_text_atomic",
]

MARKER = ".ewaste-tracker"
"""File in every output folder the package writes (what wrote it); its presence allows a
re-run to replace the folder."""
STAGING_PREFIX = ".ewt-staging-"
"""Staging folders are ``.ewt-staging-<pid>-<random>`` beside the target."""


class OutputExistsError(InputError):
    """The output path exists and was not written by ewaste-tracker (it is never touched)."""


def publish(tmp: str | Path, path: str | Path) -> None:
    """Give ``tmp`` ordinary file permissions and rename it to ``path`` atomically.

    ``tempfile.mkstemp`` creates files readable by their owner only; a published result gets
    the permissions a plain ``open(path, "w")`` would give (``0o666`` less the umask).
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; publish it as ``path`` when the block succeeds.

    The temporary file exists (empty) when the block starts; a writer that needs to create it
    itself (GDAL, SQLite) may delete it first. On an exception it is removed and ``path`` is
    left as it was.

    Parameters
    ----------
    path
        Final file; its folder is created when missing.
    suffix
        Ending of the temporary name (some writers pick their format from it).

    Examples
    --------
    >>> with atomic_path(out / "table.csv") as tmp:  # doctest: +SKIP
    ...     frame.to_csv(tmp, index=False)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def check_output_folder(target: str | Path, *, option: str = "--out") -> Path:
    """Refuse an output folder that would overwrite something the package did not write.

    Parameters
    ----------
    target
        The folder a job will write.
    option
        Name of the option, for the message.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    OutputExistsError
        ``target`` is a file, or a non-empty folder without :data:`MARKER`.
    """
    target = Path(target)
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise OutputExistsError(
                "exists and is not a folder", path=target, column=option,
                expected="a new folder, or one ewaste-tracker wrote before",
            )  # fmt: skip
        if not (target / MARKER).is_file() and any(target.iterdir()):
            raise OutputExistsError(
                "folder exists, is not empty and was not written by ewaste-tracker; "
                "nothing was changed", path=target, column=option,
                expected="a new or empty folder, or one ewaste-tracker wrote before",
            )  # fmt: skip
    return target


def check_output_file(path: str | Path, *, header: str, option: str = "--out") -> Path:
    """Refuse to overwrite a file the package did not write.

    A single-file output (a CSV) carries no marker, so an existing file is replaced only when
    its first line is the header the package writes there; a folder, or a file with any other
    content, is refused with :class:`OutputExistsError`.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputExistsError("is a folder", path=path, column=option, expected="a file name")
    if path.exists():
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                first = fh.readline().strip()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=path, column=option) from exc
        if first != header:
            raise OutputExistsError(
                "file exists and was not written by ewaste-tracker; nothing was changed",
                path=path, column=option, expected="a new file name",
            )  # fmt: skip
    return path


class AtomicDir:
    """Stage an output folder; on success it replaces the target whole.

    Use as a context manager and write files under the yielded staging folder. On a normal
    exit the marker :data:`MARKER` is added, the old target (if any; only one this package
    wrote, see :func:`check_output_folder`) is moved aside, the staging folder is renamed to
    the target and the old one deleted: a re-run leaves no stale file behind, and a reader sees
    the old folder or the new one. On an exception (``KeyboardInterrupt`` and ``SystemExit``
    included) nothing reaches the target and the staging folder is removed.

    Parameters
    ----------
    target
        Output folder.
    option
        Name of the command-line option that named it, for messages.
    what
        What wrote the folder (kept in the marker).
    """

    def __init__(self, target: str | Path, *, option: str = "--out", what: str = "") -> None:
        self.target = Path(target)
        self.option = option
        self.what = what
        self.path = Path()

    def __enter__(self) -> Path:
        check_output_folder(self.target, option=self.option)
        parent = self.target.absolute().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            sweep_staging(parent)
            self.path = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=parent))
        except OSError as exc:
            raise InputError(
                f"cannot write here: {exc.strerror or exc}", path=self.target,
                column=self.option, expected="a folder in a writable place",
            ) from exc  # fmt: skip
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                from ewaste_tracker import __version__

                (self.path / MARKER).write_text(
                    json.dumps({"written_by": f"ewaste-tracker {__version__}", "what": self.what}),
                    encoding="utf-8",
                )
                os.chmod(self.path, 0o777 & ~_umask())
                names = sorted(p.name for p in self.path.iterdir() if p.name != MARKER)
                self._swap()
                logger.info("wrote %s: %s", self.target, ", ".join(names))
        finally:
            shutil.rmtree(self.path, ignore_errors=True)

    def _swap(self) -> None:
        check_output_folder(self.target, option=self.option)  # nothing appeared meanwhile
        old = None
        if self.target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.path.parent)
            )
            os.replace(self.target, old / "old")
        try:
            os.replace(self.path, self.target)
        except BaseException:
            if old is not None:  # put the previous folder back
                os.replace(old / "old", self.target)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)


def sweep_staging(folder: Path) -> list[Path]:
    """Remove staging folders left in ``folder`` by processes that no longer run.

    A job killed outright (SIGKILL, a power cut) cannot remove its staging folder; the next
    job writing beside it does. Folders of a live process are left alone.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    removed = []
    for item in folder.glob(f"{STAGING_PREFIX}*"):
        pid_text = item.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or not item.is_dir():
            continue
        pid = int(pid_text)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(item, ignore_errors=True)
            removed.append(item)
        except (PermissionError, OverflowError):
            continue
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
