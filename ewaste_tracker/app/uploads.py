"""Uploaded files checked at the door: kind, size, name and (for archives) every member.

The app accepts four kinds of upload (:data:`KINDS`): national submissions (CSV, Excel),
sub-national boundaries (GeoPackage, GeoJSON, zipped Shapefile) and road networks (OSM
extracts). :func:`save_upload` refuses a file whose name does not end in one of its kind's
suffixes, that is larger than its kind's limit or empty, or whose first bytes do not match
the format (a ``.xlsx`` must be a zip archive, a ``.gpkg`` an SQLite file, an ``.osm.pbf``
must not be text ...); it writes the bytes in a fresh private temporary folder under a name
made only of letters, digits, ``.``, ``-`` and ``_`` (:func:`safe_name`: the browser's name
is never used as a path). A zipped Shapefile is
unpacked there only when every member is a plain file name with a Shapefile suffix, there
are at most :data:`MAX_MEMBERS` of them and they unpack to at most the kind's limit (no path
traversal, no zip bomb). Nothing of an upload is ever executed: the files are read by the
package's validating readers, and every string from them that reaches a page is escaped.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ewaste_tracker.errors import InputError

__all__ = ["KINDS", "MAX_MEMBERS", "UploadKind", "safe_name", "save_upload"]

logger = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadKind:
    """What one upload field accepts."""

    label: str
    suffixes: tuple[str, ...]
    max_bytes: int


KINDS = {
    "submission": UploadKind("national submission", (".csv", ".xlsx"), 10 * MB),
    "boundaries": UploadKind("boundaries", (".gpkg", ".geojson", ".json", ".zip"), 50 * MB),
    "network": UploadKind("OSM extract", (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".bz2"), 50 * MB),
}
"""Upload fields, their suffixes and size limits."""
MAX_MEMBERS = 16
"""Files a zipped Shapefile may hold."""
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml")
"""Members a zipped Shapefile may hold."""
_MAGIC = {
    ".xlsx": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
    ".gpkg": (b"SQLite format 3\x00",),
    ".bz2": (b"BZh",),
}


def _suffix(name: str, allowed: tuple[str, ...]) -> str | None:
    low = name.lower()
    return next((s for s in sorted(allowed, key=len, reverse=True) if low.endswith(s)), None)


def _check_content(data: bytes, suffix: str, name: str) -> None:
    magic = _MAGIC.get(suffix if suffix != ".osm.bz2" else ".bz2")
    if magic and not data.startswith(magic):
        raise InputError(
            "the file's content does not match its type",
            path=name,
            expected=f"a real {suffix} file",
        )
    if suffix in (".csv", ".geojson", ".json", ".osm"):
        try:
            data[:65536].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < 65536 - 4:  # not merely a character cut at the sample's end
                raise InputError(
                    "the file is not UTF-8 text",
                    path=name,
                    expected=f"a {suffix} text file in UTF-8",
                ) from exc
    if suffix in (".osm.pbf", ".pbf") and data[:1] in (b"<", b"{"):
        raise InputError(
            "the file is text, not a PBF extract", path=name, expected="an .osm.pbf file"
        )


def _unzip_shapefile(archive: Path, dest: Path, limit: int, name: str) -> Path:
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise InputError("not a readable zip archive", path=name) from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos or len(infos) > MAX_MEMBERS:
            want = f"a zipped Shapefile of 1 to {MAX_MEMBERS} files"
            raise InputError(f"the archive holds {len(infos)} files", path=name, expected=want)
        total = sum(i.file_size for i in infos)
        if total > limit:
            raise InputError(
                f"the archive unpacks to {total / MB:.0f} MB",
                path=name,
                expected=f"at most {limit / MB:.0f} MB",
            )
        shp = []
        for info in infos:
            member = PurePosixPath(info.filename.replace("\\", "/"))
            base = member.name
            if member.is_absolute() or ".." in member.parts or base.startswith("."):
                raise InputError(
                    "an archive member has an unsafe path",
                    path=name,
                    value=info.filename,
                    expected="plain file names",
                )
            if not base.lower().endswith(SHAPEFILE_PARTS):
                raise InputError(
                    "the archive holds a file that is not part of a Shapefile",
                    path=name,
                    value=base,
                    expected=", ".join(SHAPEFILE_PARTS),
                )
            target = dest / f"boundaries{Path(base).suffix.lower()}"
            if target.exists():
                raise InputError(
                    "the archive holds more than one Shapefile",
                    path=name,
                    value=base,
                    expected="one layer",
                )
            with zf.open(info) as src, target.open("wb") as out:
                out.write(src.read(limit + 1)[:limit])
            if target.suffix == ".shp":
                shp.append(target)
        if len(shp) != 1 or not (dest / "boundaries.dbf").exists():
            raise InputError(
                "the archive holds no complete Shapefile",
                path=name,
                expected="a .shp with its .shx and .dbf",
            )
        return shp[0]


def safe_name(name: str, suffix: str) -> str:
    """A file name made of letters, digits, ``.``, ``-`` and ``_`` only, ending in ``suffix``
    (at most 80 characters), from the browser's name: kept as the submission's source."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    stem = base[: len(base) - len(suffix)] if base.lower().endswith(suffix) else base
    clean = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in stem)
    clean = clean.strip("._") or "upload"
    return clean[: 80 - len(suffix)] + suffix


def save_upload(kind: str, name: str, data: bytes, *, folder: Path | None = None) -> Path:
    """Check an upload and write it to a private temporary folder; return the file to read.

    Parameters
    ----------
    kind
        A key of :data:`KINDS`.
    name
        The name the user's browser gave (only its ending is used).
    data
        The file's bytes.
    folder
        Parent of the temporary folder (default the system's).

    Returns
    -------
    pathlib.Path
        The file under :func:`safe_name` of the browser's name (or the unpacked
        ``boundaries.shp``) in a new folder the caller removes when done.

    Raises
    ------
    InputError
        Wrong type, too large, empty, content not matching the type, or an unsafe archive;
        nothing is kept then.
    """
    spec = KINDS[kind]
    suffix = _suffix(name, spec.suffixes)
    if suffix is None:
        raise InputError(
            f"not a {spec.label} file",
            path=name,
            expected=f"a file ending in {', '.join(spec.suffixes)}",
        )
    if not data:
        raise InputError("the file is empty", path=name)
    if len(data) > spec.max_bytes:
        raise InputError(
            f"the file is {len(data) / MB:.1f} MB",
            path=name,
            expected=f"at most {spec.max_bytes / MB:.0f} MB",
        )
    _check_content(data, suffix, name)
    dest = Path(tempfile.mkdtemp(prefix="ewt-upload-", dir=folder))
    os.chmod(dest, 0o700)
    path = dest / safe_name(name, suffix)
    path.write_bytes(data)
    if suffix == ".zip":
        try:
            return _unzip_shapefile(path, dest, spec.max_bytes, name)
        except InputError:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return path
