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


def _canonical_column(s: pd.Series) -> list[str]:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float, na_value=np.nan) + 0.0  # -0.0 → 0.0
        return ["" if np.isnan(x) else repr(float(x)) for x in v]
    return ["" if pd.isna(x) else str(x) for x in s.to_numpy(dtype=object)]


def fingerprint(
    inputs: Mapping[str, pd.DataFrame], parameters: Mapping[str, Any] | None = None
) -> str:
    """SHA-256 over a canonical serialisation of input tables and parameters.

    Canonical form: tables in name order; in each, columns in name order, numbers written as
    the shortest round-trip ``repr`` of their float value, missing as empty, rows sorted; the
    parameters as JSON with sorted keys. Row order, column order and integer-vs-float storage
    of the same numbers therefore do not change the fingerprint; any changed value does.

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
        if len(cols) != df.shape[1]:
            raise InputError(f"input table {name!r} has duplicate column names", path=name)
        df = df.set_axis([str(c) for c in df.columns], axis=1)
        cells = [_canonical_column(df[c]) for c in cols]
        rows = sorted("\x1f".join(r) for r in zip(*cells, strict=True)) if cells else []
        h.update(("\x1d" + name + "\x1e" + "\x1f".join(cols) + "\x1e").encode())
        h.update("\x1e".join(rows).encode())
    h.update(b"\x1d")
    h.update(
        json.dumps(
            dict(parameters or {}), sort_keys=True, separators=(",", ":"), default=json_default
        ).encode()
    )
    return h.hexdigest()
