"""Numbers as a reader wants them: three significant digits, a fitting prefix, the unit.

``10118710986 USD`` is written ``10.1 bn USD``, ``59815446.67 t`` is ``59.8 Mt``,
``0.0082`` (a fraction) is ``0.82 %``, ``56566720 inh`` is ``56.6 M inh``. The rules are
those of :func:`ewaste_tracker.maps.legend.format_quantity` (shared with the map legends and
tooltips), extended to tonnes of something (``t CO2e`` → ``Mt CO2e``) and to counts.

:func:`table` writes the number columns of a frame as such strings and renames its columns
to readable labels; the downloads keep the plain numbers with their unit columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.maps.legend import format_quantity

__all__ = ["COUNT_UNITS", "column_unit", "markdown_text", "quantity", "table"]

COUNT_UNITS = frozenset({"inh", "pieces", "units", "sites", "countries"})
"""Units of counts, written with k / M / bn prefixes (``56.6 M inh``); so is ``m3``."""
_COUNT_STEPS = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))
LARGER = {"GWh": ((1e3, "TWh"),), "TJ": ((1e3, "PJ"),), "kWh": ((1e6, "GWh"), (1e3, "MWh"))}
"""Energy written in the larger unit once it is a thousand of the smaller."""

SUFFIX_UNITS = (
    ("_kg_per_inh", "kg/inh"),
    ("_t_co2e", "t CO2e"),
    ("_t_sb_eq", "t Sb-eq"),
    ("_usd", "USD"),
    ("_pct", "%"),
    ("_pp", "pp"),
    ("_gwh", "GWh"),
    ("_tj", "TJ"),
    ("_m3", "m3"),
    ("_g", "g"),
    ("_t", "t"),
    ("_min", "min"),
    ("_share", "fraction"),
    ("_rate", "fraction"),
)
"""Column-name endings and the unit they mean (first match wins)."""


def quantity(value: Any, unit: str = "") -> str:
    """``value`` in ``unit`` as text (see the module docstring); ``n/a`` when missing.

    Examples
    --------
    >>> quantity(10118710986, "USD")
    '10.1 bn USD'
    >>> quantity(59815446.67, "t")
    '59.8 Mt'
    >>> quantity(1.234e6, "t CO2e")
    '1.23 Mt CO2e'
    >>> quantity(56566720, "inh")
    '56.6 M inh'
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if math.isnan(number):
        return "n/a"
    unit = str(unit or "").strip()
    head, _, rest = unit.partition(" ")
    if head == "t" and rest:  # tonnes of something: Mt CO2e, kt Sb-eq
        scaled = format_quantity(number, "t")
        return f"{scaled} {rest}"
    for factor, bigger in LARGER.get(unit, ()):
        if abs(number) >= factor * 0.9995:
            return format_quantity(number / factor, bigger)
    if unit in COUNT_UNITS or unit == "m3":
        for factor, prefix in _COUNT_STEPS:
            if abs(number) >= factor * 0.9995:
                return f"{format_quantity(number / factor, '')} {prefix} {unit}"
        return f"{format_quantity(number, '')} {unit}"
    if unit == "pp":
        return f"{format_quantity(number, '')} pp"
    return format_quantity(number, unit)


def column_unit(name: str) -> str | None:
    """The unit a column name's ending means (:data:`SUFFIX_UNITS`), or ``None``."""
    for end, unit in SUFFIX_UNITS:
        if name.endswith(end):
            return unit
    return None


def table(
    frame: pd.DataFrame,
    *,
    units: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    unit_column: str | None = "unit",
    keep: tuple[str, ...] = ("year", "rank", "first_year", "last_year", "n"),
) -> pd.DataFrame:
    """A copy of ``frame`` with its numbers written with units, for reading.

    Parameters
    ----------
    frame
        Any table.
    units
        Column → unit; other number columns take the unit their name ends with
        (:func:`column_unit`).
    labels
        Column → display label (columns not listed keep their name).
    unit_column
        In a tidy table (``value`` beside ``unit``), the column holding each row's unit:
        ``value`` and any ``p5``/``p50``/``p95`` columns are written in it, and the unit column
        is dropped.
    keep
        Number columns written as plain integers (years, ranks, counts).

    Returns
    -------
    pandas.DataFrame
        Text columns for numbers; the order of rows and columns is kept.
    """
    out = frame.copy()
    units = dict(units or {})
    tidy_cols = ("value", "p5", "p50", "p95", "before", "after", "change")
    tidy = (
        unit_column is not None
        and unit_column in out.columns
        and any(c in out.columns for c in tidy_cols)
    )
    for col in list(out.columns):
        name = str(col)
        series = out[col]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if name in keep:
            out[col] = [("" if pd.isna(v) else str(int(v))) for v in series]
            continue
        if tidy and name in tidy_cols:
            out[col] = [quantity(v, u) for v, u in zip(series, out[unit_column], strict=True)]
            continue
        unit = units.get(name, column_unit(name))
        if unit is None:
            values = series.to_numpy(dtype=float)
            out[col] = [quantity(v, "") for v in values]
        else:
            out[col] = [quantity(v, unit) for v in series.to_numpy(dtype=float)]
    if tidy:
        out = out.drop(columns=[unit_column])
    return out.rename(columns={c: (labels or {}).get(str(c), str(c)) for c in out.columns})


def percent(fraction: float) -> str:
    """A fraction as a percentage (``0.2235`` → ``22.4 %``)."""
    return "n/a" if not np.isfinite(fraction) else quantity(fraction, "fraction")


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~$:"})


def markdown_text(value: object) -> str:
    """``value`` as literal text inside Streamlit markdown (messages, captions).

    Every character markdown gives a meaning (links, images, emphasis, code, LaTeX ``$``,
    ``:emoji:`` and colour directives) is backslash-escaped, so a name from an upload such as
    ``![x](http://host/x.png)`` is shown as written and never fetched or rendered.
    """
    return str(value).translate(_MARKDOWN)
