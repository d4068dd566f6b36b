"""Reading and validating tidy input tables at the tracker's boundary.

A :class:`Schema` declares the columns of a table (type, bounds, allowed codes, whether it may
be blank) and its key; :func:`read_table` reads a CSV, checks every cell against the schema in
vectorised passes and raises one :class:`~ewaste_tracker.errors.InputErrors` that lists every
problem with file, row (the line a person sees, header = 1), column, value and what was expected.
Inside the packages, code trusts tables that came through here.

Writing is atomic: :func:`write_csv_atomic` writes a temporary file in the target folder and
renames it (:mod:`ewaste_tracker.files` also stages whole output folders), so that a failure leaves
the target untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.files import atomic_path

logger = logging.getLogger(__name__)

Kind = Literal["str", "int", "float"]


@dataclass(frozen=True)
class Column:
    """One column of a schema.

    Parameters
    ----------
    name
        Column header.
    kind
        ``"str"``, ``"int"`` or ``"float"``.
    required
        Whether the column must be present.
    blank_ok
        Whether empty cells are allowed (they stay missing).
    min_value, min_inclusive
        Lower bound for numbers.
    max_value
        Upper bound (inclusive) for numbers.
    allowed
        Allowed values for strings (codes); ``None`` for any.
    expected
        Words for the error message; derived from the other fields when empty.
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    blank_ok: bool = False
    min_value: float | None = None
    min_inclusive: bool = True
    max_value: float | None = None
    allowed: Collection[str] | None = None
    expected: str = ""

    def describe(self) -> str:
        """Say in words what the column accepts."""
        if self.expected:
            return self.expected
        if self.kind == "str":
            return "a known code" if self.allowed is not None else "text"
        word = "a whole number" if self.kind == "int" else "a number"
        if self.min_value is not None:
            op = ">=" if self.min_inclusive else ">"
            word += f" {op} {self.min_value:g}"
        if self.max_value is not None:
            word += f" and <= {self.max_value:g}"
        return word


@dataclass(frozen=True)
class Schema:
    """Columns and key of a tidy table."""

    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    extra_ok: bool = True
    name: str = "table"
    notes: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _line(index: Iterable[int]) -> np.ndarray:
    """CSV line numbers a person sees (header = 1) for 0-based data rows."""
    return np.asarray(list(index), dtype=np.int64) + 2


def validate_frame(df: pd.DataFrame, schema: Schema, *, path: str | Path) -> pd.DataFrame:
    """Check a raw (all-string) frame against a schema and return it typed.

    Parameters
    ----------
    df
        The table as read, every cell a string or missing.
    schema
        What the table must look like.
    path
        File name used in messages.

    Returns
    -------
    pandas.DataFrame
        The table with numeric columns converted and strings stripped.

    Raises
    ------
    InputErrors
        Listing every problem found.
    """
    errors: list[InputError] = []
    present = set(df.columns)
    for col in schema.columns:
        if col.required and col.name not in present:
            errors.append(
                InputError(
                    f"missing column '{col.name}'",
                    path=path,
                    row=1,
                    column=col.name,
                    expected=f"columns {', '.join(c.name for c in schema.columns if c.required)}",
                )
            )
    if errors:
        raise InputErrors(errors)
    if df.empty:
        raise InputErrors([InputError("the table has no data rows", path=path)])

    out = pd.DataFrame(index=df.index)
    lines = _line(range(len(df)))
    for col in schema.columns:
        if col.name not in present:
            continue
        raw = df[col.name].astype("string").str.strip()
        blank = raw.isna() | (raw == "")
        blank_arr = blank.to_numpy(dtype=bool)
        if not col.blank_ok and blank_arr.any():
            for i in np.flatnonzero(blank_arr):
                errors.append(
                    InputError(
                        "empty cell",
                        path=path,
                        row=int(lines[i]),
                        column=col.name,
                        expected=col.describe(),
                    )
                )
        if col.kind == "str":
            values = raw.where(~blank, None)
            if col.allowed is not None:
                allowed = set(col.allowed)
                unknown = ~blank_arr & ~values.isin(allowed).to_numpy(dtype=bool)
                for i in np.flatnonzero(unknown):
                    errors.append(
                        InputError(
                            "unknown code",
                            path=path,
                            row=int(lines[i]),
                            column=col.name,
                            value=str(values.iloc[i]),
                            expected=col.describe(),
                        )
                    )
            out[col.name] = values.astype(object)
            continue
        num = pd.to_numeric(raw.where(~blank, None), errors="coerce").astype("float64")
        arr = num.to_numpy()
        notnum = ~blank_arr & np.isnan(arr)
        bad = notnum.copy()
        finite = np.isfinite(arr)
        bad |= ~blank_arr & ~notnum & ~finite
        if col.kind == "int":
            bad |= finite & (np.floor(arr) != arr)
        if col.min_value is not None:
            below = arr < col.min_value if col.min_inclusive else arr <= col.min_value
            bad |= finite & below
        if col.max_value is not None:
            bad |= finite & (arr > col.max_value)
        for i in np.flatnonzero(bad):
            errors.append(
                InputError(
                    "invalid value",
                    path=path,
                    row=int(lines[i]),
                    column=col.name,
                    value=str(raw.iloc[i]),
                    expected=col.describe(),
                )
            )
        # bad cells are reported above; blank them so the column can take its type
        num = num.where(~bad)
        out[col.name] = num if col.kind == "float" else num.astype("Int64")
    for extra in df.columns:
        if extra not in out.columns:
            if not schema.extra_ok:
                errors.append(InputError("unexpected column", path=path, row=1, column=str(extra)))
            out[extra] = df[extra]
    if schema.key and not errors:
        errors += duplicate_keys(out, [k for k in schema.key if k in out.columns], lines, path)
    if errors:
        raise InputErrors(errors)
    return out


class _Digits(dict[int, "int | str"]):
    """``str.translate`` table of every Unicode decimal digit (category Nd: Arabic-Indic,
    Devanagari, full-width ...) to its ASCII digit, filled per character as it is met (the
    whole of Unicode is not scanned); any other character maps to itself."""

    def __missing__(self, cp: int) -> int | str:
        import unicodedata

        digit = None if 48 <= cp <= 57 else unicodedata.decimal(chr(cp), None)
        value: int | str = cp if digit is None else str(digit)
        self[cp] = value
        return value


_DIGITS = _Digits()


def normalize_text(values: pd.Series) -> pd.Series:
    """Text cells in one canonical form before they are parsed or compared.

    Unicode NFKC (full-width letters and digits become ASCII, compatibility characters fold),
    then every other decimal digit (``٢٠٢٠``, ``२०२०``) becomes its ASCII digit, so a year or a
    number written in any script parses to the same value and a repeated key is seen as one.
    """
    import unicodedata

    text = values.astype(str)
    plain = text.str.isascii().to_numpy(dtype=bool, na_value=True)
    if plain.all():
        return text
    odd = text[~plain].map(lambda v: unicodedata.normalize("NFKC", v).translate(_DIGITS))
    return text.where(plain, odd)


MAX_ERRORS = 1000
"""Errors of one kind listed at most (the message says how many more there were)."""


def duplicate_keys(
    frame: pd.DataFrame, key: list[str], lines: np.ndarray, path: str | Path
) -> list[InputError]:
    """One error per row whose key repeats an earlier row (blank key cells are equal).

    Vectorised: the first row of every key comes from one grouping pass, so a file of
    millions of duplicates costs one pass, and at most :data:`MAX_ERRORS` errors are kept
    (the last says how many more there were).
    """
    if not key or frame.empty:
        return []
    keys = frame[key].astype(object).where(frame[key].notna(), "")
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return []
    first_pos = keys.groupby(key, sort=False, dropna=False).cumcount().to_numpy() == 0
    group = keys.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    first_line = np.full(group.max() + 1, -1, dtype=np.int64)
    first_line[group[first_pos]] = np.asarray(lines)[first_pos]
    rows = np.flatnonzero(dup)
    out = []
    for i in rows[:MAX_ERRORS]:
        match = {k: keys[k].iloc[i] for k in key}
        out.append(
            InputError(
                f"duplicate key {match} (also on row {int(first_line[group[i]])})",
                path=path,
                row=int(lines[i]),
                column=",".join(key),
                expected="one row per " + ", ".join(key),
            )
        )
    if len(rows) > MAX_ERRORS:
        out.append(InputError(f"... and {len(rows) - MAX_ERRORS} more duplicate rows", path=path))
    return out


def row_errors(
    df: pd.DataFrame,
    mask: pd.Series | np.ndarray,
    column: str,
    message: str,
    *,
    path: str | Path,
    expected: str | None = None,
) -> list[InputError]:
    """One :class:`InputError` per flagged row of a table read by :func:`read_table`.

    Parameters
    ----------
    df
        The table (data rows in file order: CSV line = position + 2).
    mask
        Rows to report.
    column
        Column at fault; its value is quoted in each message.
    message, expected
        What is wrong and what would be accepted.
    path
        File the table came from.
    """
    flags = np.asarray(mask, dtype=bool)
    values = df[column]
    return [
        InputError(
            message,
            path=path,
            row=int(i) + 2,
            column=column,
            value=str(values.iloc[i]),
            expected=expected,
        )
        for i in np.flatnonzero(flags)
    ]


def unknown_codes(
    df: pd.DataFrame,
    column: str,
    known: Collection[str],
    *,
    path: str | Path,
    what: str,
    hint: str = "",
    expected: str | None = None,
) -> list[InputError]:
    """Errors for the rows whose ``column`` holds a code outside ``known`` (blanks pass)."""
    if column not in df.columns:
        return []
    # the distinct values checked once each (not a set lookup per row)
    codes, uniques = pd.factorize(df[column], use_na_sentinel=True)
    unknown = np.append(~pd.Index(np.asarray(uniques, dtype=object)).isin(set(known)), False)
    bad = unknown[codes]  # blank (code -1): the appended False
    return row_errors(df, bad, column, f"unknown {what}{hint}", path=path,
                      expected=expected)  # fmt: skip


def read_table(path: str | Path, schema: Schema) -> pd.DataFrame:
    """Read and validate a CSV file.

    Parameters
    ----------
    path
        The CSV file.
    schema
        What it must contain.

    Returns
    -------
    pandas.DataFrame
        Typed and validated.

    Raises
    ------
    InputErrors
        When the file is missing, unreadable or fails the schema.
    """
    path = Path(path)
    if not path.is_file():
        raise InputErrors([InputError("file not found", path=path, expected=f"a {schema.name}")])
    fast = _read_clean(path, schema)
    return fast if fast is not None else _read_full(path, schema)


def _read_full(path: Path, schema: Schema) -> pd.DataFrame:
    """Read with pandas and check every cell (:func:`validate_frame`): the path that finds
    and words every problem."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputErrors(
            [InputError(f"cannot read as CSV: {exc}", path=path, expected="a UTF-8 CSV file")]
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(normalize_text).replace("", pd.NA) if len(df) else df.replace("", pd.NA)
    return validate_frame(df, schema, path=path)


def _read_clean(path: Path, schema: Schema) -> pd.DataFrame | None:
    """Read a file that passes every check in columnar passes, or ``None`` to say "use the
    full path" (:func:`validate_frame`, which finds and words every problem).

    The fast path (pyarrow's multi-threaded CSV reader and compute kernels; about 10x the
    speed of the full path on millions of rows) gives exactly the frame the full path gives,
    and it only accepts files where that is easy to be sure of: the schema's columns and no
    others, ASCII text only (so Unicode normalisation is the identity) with no quote left in a
    value (pandas and pyarrow unquote ``  "x"`` differently), no blank cell where
    none is allowed, numbers in plain decimal notation inside their bounds, known codes, no
    repeated key. Anything else, including any row pyarrow cannot parse, returns ``None``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            import csv

            header = [h.strip() for h in next(csv.reader([fh.readline()]))]
    except (UnicodeDecodeError, StopIteration, csv.Error, OSError):
        return None
    columns = {c.name: c for c in schema.columns}
    if len(set(header)) != len(header) or set(header) - set(columns):
        return None
    if any(c.required and c.name not in header for c in schema.columns):
        return None
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    if table.num_rows == 0:
        return None
    out: dict[str, pd.Series] = {}
    key_codes: dict[str, np.ndarray] = {}
    for col in schema.columns:
        if col.name not in header:
            continue
        raw = table.column(col.name)
        if (
            not pc.all(pc.string_is_ascii(raw)).as_py()
            or pc.any(pc.match_substring(raw, '"')).as_py()
        ):
            return None  # (pandas reads a quote after a leading space as quoting)
        text = pc.utf8_trim_whitespace(raw)
        blank = pc.equal(text, "")
        if not col.blank_ok and pc.any(blank).as_py():
            return None
        if col.kind == "str":
            codes = pc.dictionary_encode(text).combine_chunks()
            labels = np.asarray(codes.dictionary.to_pylist(), dtype=object)
            labels[labels == ""] = pd.NA
            if col.allowed is not None:
                known = {v for v in labels if v is not None}
                if known - set(col.allowed):
                    return None
            key_codes[col.name] = codes.indices.to_numpy(zero_copy_only=False)
            out[col.name] = pd.Series(labels[key_codes[col.name]], dtype=object, copy=False)
            continue
        filled = pc.if_else(blank, "0", text)
        # plain decimal numbers are the only text converted here: pyarrow's cast refuses
        # every other text (``1,5``, ``１２``, ``0x10``) but the spellings of infinity and NaN,
        # which are not finite and go to the full path below (tests/test_tables.py checks it)
        try:
            arr = pc.cast(filled, pa.float64()).to_numpy().copy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        blanks = blank.to_numpy(zero_copy_only=False)
        arr[blanks] = np.nan
        ok = np.isfinite(arr) | blanks
        if col.kind == "int":
            ok &= blanks | (np.floor(arr) == arr)
        if col.min_value is not None:
            ok &= blanks | (arr >= col.min_value if col.min_inclusive else arr > col.min_value)
        if col.max_value is not None:
            ok &= blanks | (arr <= col.max_value)
        if not ok.all():
            return None
        out[col.name] = pd.Series(arr if col.kind == "float" else pd.array(arr, dtype="Int64"),
                                  copy=False)  # fmt: skip
    frame = pd.DataFrame(out, copy=False)
    key = [k for k in schema.key if k in frame.columns]
    if key and _repeats(key_codes, frame, key):  # the full path words the errors
        return None
    return frame


def _repeats(key_codes: dict[str, np.ndarray], frame: pd.DataFrame, key: list[str]) -> bool:
    """Whether some key repeats: the key columns' codes combined into one integer per row."""
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for k in key:
        if k in key_codes:
            codes, n = key_codes[k].astype(np.int64), int(key_codes[k].max()) + 1
        else:
            codes, uniques = pd.factorize(frame[k].to_numpy(float), use_na_sentinel=False)
            n = len(uniques)
        if size * n >= 2**62:  # keep the combined codes small
            combined, first = pd.factorize(combined)
            size = len(first)
        combined = combined * n + codes
        size *= n
    if size <= 4 * len(combined) + 1024:
        return bool(np.bincount(combined, minlength=size).max() > 1)
    ordered = np.sort(combined)
    return bool((ordered[1:] == ordered[:-1]).any())


def write_csv_atomic(df: pd.DataFrame, path: str | Path, **kwargs: object) -> Path:
    """Write a CSV atomically (:func:`ewaste_tracker.files.atomic_path`).

    A reader never sees half a file and a crash leaves any previous file untouched.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            df.to_csv(fh, index=False, **kwargs)  # type: ignore[call-overload]
    return Path(path)
