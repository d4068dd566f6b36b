"""Errors raised by the geospatial layer.

Every error subclasses a built-in exception so callers can catch it broadly, and its message
names what was wrong: the file or layer, the column, the region or facility code, the year.

Classes
-------
MapInputError(ValueError)
    A table, GeoDataFrame or file handed to :mod:`maps` is unusable (missing column,
    repeated code, empty geometry, unreadable file).
UnknownRegionError(MapInputError)
    Region codes in a table that the boundaries do not contain.
CRSMismatchError(MapInputError)
    Two geometries to be combined are in different (or undefined) coordinate systems.
AssetsMissingError(FileNotFoundError)
    The offline JavaScript/CSS copies are not installed.
OfflineAssetError(RuntimeError)
    A rendered page still refers to a script, style sheet or font on the internet.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _where(path: str | Path | None, column: str | None) -> str:
    parts = []
    if path is not None:
        parts.append(str(path))
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


class MapInputError(ValueError):
    """A problem in data handed to the geospatial layer.

    Parameters
    ----------
    message
        What is wrong, in words.
    path
        File, layer or table name the data came from.
    column
        Column concerned, if any.
    value
        The offending value(s), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        column: str | None = None,
        value: Any = None,
    ) -> None:
        self.reason = message
        self.path = None if path is None else str(path)
        self.column = column
        self.value = value
        where = _where(path, column)
        text = f"{where}: {message}" if where else message
        if value is not None:
            text += f" (got {value!r})"
        super().__init__(text)


class UnknownRegionError(MapInputError):
    """Region codes that have no boundary.

    Parameters
    ----------
    codes
        The unknown codes (sorted, unique).
    rows
        Line numbers (header = 1) of the first offending rows, for the message.
    path, column
        Where the codes came from.
    """

    def __init__(
        self,
        codes: Iterable[str],
        *,
        rows: Iterable[int] = (),
        path: str | Path | None = None,
        column: str | None = None,
    ) -> None:
        self.codes = sorted({str(c) for c in codes})
        self.rows = list(rows)
        shown = ", ".join(self.codes[:20]) + (" ..." if len(self.codes) > 20 else "")
        msg = f"{len(self.codes)} region code(s) not found in the boundaries: {shown}"
        if self.rows:
            msg += f" (first at row(s) {', '.join(str(r) for r in self.rows[:10])})"
        super().__init__(msg, path=path, column=column)


class CRSMismatchError(MapInputError):
    """Geometries in different or undefined coordinate reference systems."""


class AssetsMissingError(FileNotFoundError):
    """The local copies of Leaflet and the other map scripts are not installed."""


class OfflineAssetError(RuntimeError):
    """A rendered map still loads something from the internet.

    Parameters
    ----------
    urls
        The remote references found.
    """

    def __init__(self, urls: Iterable[str]) -> None:
        self.urls = list(urls)
        super().__init__(
            f"the map would load {len(self.urls)} resource(s) from the internet and stay blank "
            f"offline: {', '.join(self.urls[:10])}"
        )
