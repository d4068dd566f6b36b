"""The ``generated`` subcommand: e-waste generated and stock from put on market and lifetimes.

The sales-lifespan step alone (no lifecycle system): read and validate the two files, compute
with :func:`ewaste_tracker.flows.stocks.inflow_driven`, write one CSV atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetimes import discard_matrix
from ewaste_tracker.flows.stocks import inflow_driven
from ewaste_tracker.model.inputs import dense_pom, lifetime_table, read_lifetimes, read_pom
from ewaste_tracker.tables import row_errors, unknown_codes, write_csv_atomic

__all__ = ["COLUMNS", "generated_frame", "generated_from_csv"]

COLUMNS = ("region", "product", "year", "generated_t", "stock_t")
"""Columns of the ``generated`` output."""

logger = logging.getLogger(__name__)


def generated_frame(
    pom: pd.DataFrame,
    lifetimes: pd.DataFrame,
    *,
    until: int | None = None,
    lifetimes_path: str | Path = "lifetimes",
    convention: str = "unu",
) -> pd.DataFrame:
    """E-waste generated and stock in use by the sales–lifespan method.

    .. math:: WG(r, p, n) = \\sum_{t \\le n} POM(r, p, t)\\, f_{r,p,t}(n - t + 0.5)

    with :math:`f` the lifetime density of cohort :math:`t` (UNU / WEEE Calculation Tool
    convention; Forti, Baldé, Kuehr 2018, *E-waste statistics: guidelines on classification,
    reporting and indicators*, 2nd ed., UNU-ViE SCYCLE), and stock = cumulative POM − WG.

    Parameters
    ----------
    pom
        Validated put-on-market table ``region,product,year,pom_t``.
    lifetimes
        Validated lifetime table.
    until
        Last year to report (default: the last POM year).
    lifetimes_path
        Name of the lifetimes file, for error messages.
    convention
        Discard convention (see :func:`ewaste_tracker.flows.lifetimes.discard_matrix`).

    Returns
    -------
    pandas.DataFrame
        ``region,product,year,generated_t,stock_t`` for every region and product of ``pom``
        and every year from the first POM year to ``until``.
    """
    first, last = int(pom["year"].min()), int(pom["year"].max())
    end = last if until is None else int(until)
    if end < first:
        raise InputError(
            f"--until {end} is before the first put-on-market year {first}",
            column="--until",
            value=end,
            expected=f"a year >= {first}",
        )
    regions = tuple(sorted(pom["region"].unique()))
    products = tuple(sorted(pom["product"].unique()))
    dims = Dims(regions=regions, products=products, years=np.arange(first, end + 1))
    table = lifetime_table(lifetimes, dims, path=lifetimes_path)
    matrix = discard_matrix(table, dims.years, convention=convention)
    result = inflow_driven(dense_pom(pom, dims), table.group, matrix)
    index = pd.MultiIndex.from_product(
        [regions, products, dims.years], names=["region", "product", "year"]
    )
    out = pd.DataFrame(
        {"generated_t": result.outflow.reshape(-1), "stock_t": result.stock.reshape(-1)},
        index=index,
    ).reset_index()
    # Keep (region, product) pairs that have put-on-market data.
    pairs = pom[["region", "product"]].drop_duplicates()
    return out.merge(pairs, on=["region", "product"], how="inner").reset_index(drop=True)


def generated_from_csv(
    pom_path: str | Path,
    lifetimes_path: str | Path,
    out_path: str | Path,
    *,
    until: int | None = None,
) -> Path:
    """Read, validate, compute and write e-waste generated (the ``generated`` subcommand).

    Raises
    ------
    InputErrors
        Naming file, row and column; nothing is written then.
    """
    from ewaste_tracker.files import check_output_file

    check_output_file(out_path, header=",".join(COLUMNS))
    pom = read_pom(pom_path)
    lifetimes = read_lifetimes(lifetimes_path)
    known = set(lifetimes["product"])
    errors = row_errors(pom, ~pom["product"].isin(known), "product",
                        "no lifetime for this product", path=pom_path,
                        expected=f"a product listed in {lifetimes_path}")  # fmt: skip
    errors += unknown_codes(
        lifetimes,
        "region",
        set(pom["region"]),
        path=lifetimes_path,
        what="region",
        expected=f"a region present in {pom_path} or blank",
    )
    if errors:
        raise InputErrors(errors)
    frame = generated_frame(pom, lifetimes, until=until, lifetimes_path=lifetimes_path)
    values = frame[["generated_t", "stock_t"]].to_numpy()
    if not np.isfinite(values).all():  # bounds hold cell by cell; sums may still overflow
        raise InputError(
            "the results overflow (not finite numbers)", path=pom_path, column="pom_t",
            expected="put-on-market masses whose sums stay finite",
        )  # fmt: skip
    return write_csv_atomic(frame, out_path, float_format="%.10g")
