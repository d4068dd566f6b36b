"""Fingerprints of model runs: one hash for everything a run was computed from.

Two runs with the same fingerprint had the same input tables and parameters, so the store can
reuse a run instead of recomputing it, and a ministry comparing two runs can see whether their
inputs differed at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError


def tool_version() -> str:
    """Return the installed ``ewaste-tracker`` version (``0+unknown`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ewaste-tracker")
    except PackageNotFoundError:
        return "0+unknown"


def json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"parameter value of type {type(o).__name__} is not JSON-serialisable")


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _column_hashes(s: pd.Series) -> np.ndarray:
    """One 64-bit hash per cell of a column, of its canonical value.

    Numbers (and booleans) hash as their float64 value (so ``1`` and ``1.0`` agree; ``-0.0``
    is ``0.0``; every NaN the same), anything else as its text; missing as the empty text.
    """
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float, na_value=np.nan) + 0.0  # -0.0 → 0.0
        v = np.where(np.isnan(v), np.nan, v)
        return pd.util.hash_array(v.view(np.uint64))
    # the hash of each distinct text, taken for every cell: the same numbers as hashing every
    # cell's text (pandas' hash_array is elementwise), without building a text per cell
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = np.asarray(uniques, dtype=object).astype(str).astype(object)
    hashes = pd.util.hash_array(np.append(labels, ""), categorize=False)
    return hashes[np.where(codes < 0, len(labels), codes)]


def fingerprint(
    inputs: Mapping[str, pd.DataFrame], parameters: Mapping[str, Any] | None = None
) -> str:
    """SHA-256 over a canonical form of input tables and parameters (vectorised).

    Canonical form: tables in name order; in each, columns in name order and every row hashed
    to 64 bits from its cells' canonical values (:func:`_column_hashes`); the row hashes are
    sorted, so row order, column order and integer-vs-float storage of the same numbers do not
    change the fingerprint, and any changed value does (up to a 64-bit row-hash collision);
    then the parameters as JSON with sorted keys.

    Parameters
    ----------
    inputs
        Name → table.
    parameters
        JSON-serialisable settings of the run (numpy scalars and arrays allowed).

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    h = hashlib.sha256()
    for name in sorted(inputs):
        df = inputs[name]
        cols = sorted(str(c) for c in df.columns)
        if len(set(cols)) != df.shape[1]:
            raise InputError(f"input table {name!r} has duplicate column names", path=name)
        df = df.set_axis([str(c) for c in df.columns], axis=1)
        rows = np.zeros(len(df), dtype=np.uint64)
        for c in cols:  # a loop over the few columns; each pass is vectorised over rows
            rows = (rows * _MIX) ^ _column_hashes(df[c])
        h.update(("\x1d" + name + "\x1e" + "\x1f".join(cols) + "\x1e").encode())
        h.update(np.sort(rows).tobytes())
    h.update(b"\x1d")
    h.update(
        json.dumps(
            dict(parameters or {}), sort_keys=True, separators=(",", ":"), default=json_default
        ).encode()
    )
    return h.hexdigest()
