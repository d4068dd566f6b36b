"""Schemas and readers for the model's input tables (the ``run --inputs`` folder).

Each reader validates a CSV at the boundary (see :mod:`ewaste_tracker.tables`) and converts the
engine's own validation errors (lifetimes, transfer coefficients) into
:class:`~ewaste_tracker.errors.InputError` naming the file, row and column.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetimes import (
    DISTRIBUTIONS,
    LifetimeError,
    LifetimeTable,
    lifetime_table_from_frame,
)
from ewaste_tracker.tables import Column, Schema, read_table, row_errors, unknown_codes

YEAR_MIN, YEAR_MAX = 1900, 2100
MAX_TONNES = 1e9
"""Largest mass accepted in one cell (region, product, year): a thousand times the largest
national e-waste total (China, about 12 Mt in 2022); beyond it a number is a typo or an
attack, and sums over regions could overflow downstream arithmetic."""
SHAPE_RANGE = (0.01, 100.0)
"""Lifetime shape parameters accepted (Weibull shapes of the WEEE Calculation Tool are 0.6-5)."""
SCALE_RANGE = (0.05, 200.0)
"""Lifetime scales accepted, in years (a few weeks to two centuries)."""

POM_SCHEMA = Schema(
    name="put-on-market table (region,product,year,pom_t)",
    columns=(
        Column("region"),
        Column("product"),
        Column(
            "year",
            "int",
            min_value=YEAR_MIN,
            max_value=YEAR_MAX,
            expected=f"a year from {YEAR_MIN} to {YEAR_MAX}",
        ),
        Column(
            "pom_t",
            "float",
            min_value=0.0,
            max_value=MAX_TONNES,
            expected=f"a non-negative mass in tonnes, at most {MAX_TONNES:.0e}",
        ),
    ),
    key=("region", "product", "year"),
)

LIFETIME_SCHEMA = Schema(
    name="lifetime table (product,distribution,shape,scale[,region,cohort_year])",
    columns=(
        Column("product"),
        Column(
            "distribution", allowed=DISTRIBUTIONS, expected="one of " + ", ".join(DISTRIBUTIONS)
        ),
        Column(
            "shape",
            "float",
            blank_ok=True,
            min_value=SHAPE_RANGE[0],
            max_value=SHAPE_RANGE[1],
            expected=f"a number from {SHAPE_RANGE[0]:g} to {SHAPE_RANGE[1]:g}",
        ),
        Column(
            "scale",
            "float",
            min_value=SCALE_RANGE[0],
            max_value=SCALE_RANGE[1],
            expected=f"years, from {SCALE_RANGE[0]:g} to {SCALE_RANGE[1]:g}",
        ),
        Column("region", required=False, blank_ok=True),
        Column(
            "cohort_year",
            "int",
            required=False,
            blank_ok=True,
            min_value=YEAR_MIN,
            max_value=YEAR_MAX,
            expected=f"a year from {YEAR_MIN} to {YEAR_MAX}",
        ),
    ),
    key=("region", "product", "cohort_year"),
)


def _check_codes(
    df: pd.DataFrame, column: str, allowed: Collection[str], *, path: Path, what: str
) -> None:
    """Raise one error per row whose code is not in ``allowed``."""
    listed = sorted(allowed)
    expected = f"a {what} listed in {listed[:8]}" + ("..." if len(listed) > 8 else "")
    errors = unknown_codes(df, column, allowed, path=path, what=what, expected=expected)
    if errors:
        raise InputErrors(errors)


def read_pom(path: str | Path, *, regions: Collection[str] | None = None) -> pd.DataFrame:
    """Read and validate a put-on-market table.

    Parameters
    ----------
    path
        CSV with columns ``region,product,year,pom_t`` (tonnes).
    regions
        Known region codes; ``None`` accepts any code.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    df = read_table(path, POM_SCHEMA)
    if regions is not None:
        _check_codes(df, "region", regions, path=path, what="region code")
    return df


def read_lifetimes(
    path: str | Path,
    *,
    products: Collection[str] | None = None,
    regions: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and validate a lifetime table.

    Parameters
    ----------
    path
        CSV with columns ``product,distribution,shape,scale`` and optional ``region``,
        ``cohort_year``.
    products, regions
        Known codes; rows naming others are errors.
    """
    path = Path(path)
    df = read_table(path, LIFETIME_SCHEMA)
    missing_shape = df["shape"].isna() & (df["distribution"] != "fixed")
    if missing_shape.any():
        raise InputErrors(
            row_errors(df, missing_shape, "shape", "empty cell", path=path,
                       expected="a positive shape parameter (only 'fixed' may leave it blank)")
        )  # fmt: skip
    if products is not None:
        _check_codes(df, "product", products, path=path, what="product code")
    if regions is not None and "region" in df.columns:
        _check_codes(df, "region", regions, path=path, what="region code")
    return df


def lifetime_table(frame: pd.DataFrame, dims: Dims, *, path: str | Path) -> LifetimeTable:
    """Group a validated lifetime frame onto the run's axes, naming the file on error."""
    try:
        return lifetime_table_from_frame(frame, dims)
    except LifetimeError as exc:
        raise InputErrors(
            [
                InputError(
                    exc.reason,
                    path=path,
                    row=None if exc.row is None else exc.row + 2,
                    column=exc.column,
                )
            ]
        ) from exc


def dense_pom(
    pom: pd.DataFrame, dims: Dims, *, codes: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Scatter a tidy put-on-market table into a dense ``(R, P, N)`` array (missing = 0).

    ``codes`` are the rows' positions on the region and product axes when the caller has them
    already (:func:`sorted_codes`): the label columns are then not looked up again.
    """
    out = np.zeros(dims.shape)
    year = pom["year"].to_numpy(dtype=np.int64)
    keep = (year >= int(dims.years[0])) & (year <= int(dims.years[-1]))
    if codes is None:
        sub = pom[keep]
        r = dims.region_index(sub["region"])
        p = dims.product_index(sub["product"])
    else:
        r, p = codes[0][keep], codes[1][keep]
    out[r, p, year[keep] - int(dims.years[0])] = pom["pom_t"].to_numpy(dtype=float)[keep]
    return out


def sorted_codes(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """The sorted distinct labels of ``column`` and each row's position among them.

    One hashing pass over the column (``pandas.factorize`` with ``sort=True``), instead of a
    ``unique`` followed by a lookup of every row (two passes over a million text cells of a
    world run's put-on-market table).
    """
    codes, uniques = pd.factorize(column, sort=True)
    if (codes < 0).any():
        raise ValueError(f"column {column.name!r} has missing labels")
    return codes.astype(np.intp, copy=False), tuple(str(u) for u in uniques)


def _stage_names() -> tuple[str, ...]:
    from ewaste_tracker.flows.transfer import Stage

    return tuple(s.value for s in Stage)


TC_SCHEMA = Schema(
    name="transfer coefficients (region,product,year,from_stage,to_stage,share)",
    columns=(
        Column("region", required=False, blank_ok=True),
        Column("product", required=False, blank_ok=True),
        Column(
            "year", "int", required=False, blank_ok=True, min_value=YEAR_MIN, max_value=YEAR_MAX
        ),
        Column(
            "from_stage", allowed=_stage_names(), expected="a stage name (docs/architecture.md)"
        ),
        Column("to_stage", allowed=_stage_names(), expected="a stage name (docs/architecture.md)"),
        Column("share", "float", min_value=0.0, max_value=1.0, expected="a share from 0 to 1"),
    ),
    key=("region", "product", "year", "from_stage", "to_stage"),
)

EXPORTS_SCHEMA = Schema(
    name="export destinations (origin,destination,to_stage,share[,product])",
    columns=(
        Column("origin"),
        Column("destination"),
        Column(
            "to_stage",
            blank_ok=True,
            allowed=("use", "refurbishment", "preprocessing", "recycling_informal", "sysenv"),
            expected="use, refurbishment, preprocessing or recycling_informal",
        ),
        Column("share", "float", min_value=0.0, max_value=1.0, expected="a share from 0 to 1"),
        Column("product", required=False, blank_ok=True),
    ),
    key=("origin", "destination", "to_stage", "product"),
)

COMPOSITION_SCHEMA = Schema(
    name="composition (product,element,g_per_t)",
    columns=(
        Column("product"),
        Column("element"),
        Column(
            "g_per_t",
            "float",
            min_value=0.0,
            max_value=1e6,
            expected="grams of element per tonne of product, 0 to 1,000,000",
        ),
    ),
    key=("product", "element"),
)

RECOVERY_SCHEMA = Schema(
    name="recovery efficiencies (route,element,efficiency)",
    columns=(
        Column(
            "route", allowed=("preprocessing", "endprocessing", "informal", "residual", "export")
        ),
        Column("element"),
        Column(
            "efficiency", "float", min_value=0.0, max_value=1.0, expected="a fraction from 0 to 1"
        ),
    ),
    key=("route", "element"),
)

PRICES_SCHEMA = Schema(
    name="prices (element,usd_per_kg)",
    columns=(
        Column("element"),
        Column(
            "usd_per_kg",
            "float",
            min_value=0.0,
            max_value=1e9,
            expected="a non-negative price in USD/kg, at most 1e9",
        ),
    ),
    key=("element",),
)

POPULATION_SCHEMA = Schema(
    name="population (region,year,population)",
    columns=(
        Column("region"),
        Column("year", "int", min_value=YEAR_MIN, max_value=YEAR_MAX),
        Column(
            "population",
            "float",
            min_value=0.0,
            max_value=2e10,
            expected="a non-negative head count, at most 2e10",
        ),
    ),
    key=("region", "year"),
)

GROUPS_SCHEMA = Schema(
    name="aggregation groups (region,group)",
    columns=(Column("region"), Column("group")),
    key=("region",),
)
