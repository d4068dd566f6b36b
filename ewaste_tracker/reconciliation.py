"""Reconciliation of reported data as entry points see it: tables, a submission's check, text.

The maths is in :mod:`ewaste_tracker.flows.reconcile`, the lifecycle system reconciled and the
defaults of the variances in :mod:`ewaste_tracker.reported.reconcile`. This module sits beside
:mod:`ewaste_tracker.estimate` and gives entry points what they show:

* :func:`reconciliation_table` — an estimate's reconciled values (optionally of one country),
  what the app's country view and a notebook read;
* :func:`reconcile_submission` — a submission's values reconciled with the default model
  without reported data, what ``ewaste-tracker submit`` reports before anything is used;
* :func:`flags_text` — the flagged values and the chi-square test as a few lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

__all__ = ["flags_text", "reconcile_submission", "reconciliation_table"]


def reconciliation_table(est: Estimate, country: str | None = None) -> pd.DataFrame:
    """The estimate's ``reconciliation`` table (empty when nothing was reconciled).

    Parameters
    ----------
    est
        An estimate (:func:`ewaste_tracker.estimate`).
    country
        ISO3 code to keep (default every country).

    Returns
    -------
    pandas.DataFrame
        :data:`ewaste_tracker.reported.reconcile.RECONCILIATION_COLUMNS`.
    """
    from ewaste_tracker.reported.reconcile import RECONCILIATION_COLUMNS

    table = est.reconciliation
    if table is None:
        return pd.DataFrame(columns=RECONCILIATION_COLUMNS)
    if country is not None:
        table = table[table["region"] == country.strip().upper()]
    return table.reset_index(drop=True)


def reconcile_submission(
    values: pd.DataFrame, *, until: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reconcile a submission's values with the default model (no reported data in it).

    Parameters
    ----------
    values
        Accepted values (``country, year, product, product_level, indicator, value_t``,
        optional ``uncertainty_pct``), e.g. a stored submission's.
    until
        Last model year (default the estimate's).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The reconciliation table and its chi-square test per region and year.
    """
    from ewaste_tracker.estimate import estimate
    from ewaste_tracker.reported.reconcile import reconcile_values

    prior = estimate(reported=False, until=until)
    table, chi2, _ = reconcile_values(prior.result, values)
    return table, chi2


def flags_text(table: pd.DataFrame, chi2: pd.DataFrame, *, limit: int = 20) -> str:
    """The reconciliation in a few lines: the test of each year and every flagged value."""
    if table.empty:
        return (
            "reconciliation: no value to reconcile (put on market, collection, treatment, export)"
        )
    from scipy import stats

    h, dof = float(chi2["statistic"].sum()), int(chi2["dof"].sum())
    p = float(stats.chi2.sf(h, max(dof, 1)))
    worst = chi2[chi2["p_value"] < 0.01]
    years = ", ".join(f"{r.region} {r.year}" for r in worst.head(limit).itertuples())
    lines = [
        f"reconciliation of {len(table)} values in {len(chi2)} country-years: chi-square "
        f"{h:.4g} on {dof} dof (p = {p:.3g}); {int(table['flagged'].sum())} value(s) flagged"
        + (f"; p < 0.01 in {years}" if len(worst) else "")
    ]
    flagged = table[table["flagged"]]
    for row in flagged.head(limit).itertuples():
        lines.append(
            f"  flagged: {row.flow} of product {row.product} in {row.year}: reported "
            f"{row.reported:.6g} t, the balance with the model suggests {row.reconciled:.6g} t "
            f"(normalised residual {row.normalised_residual:.1f} > 3)"
        )
    if len(flagged) > limit:
        lines.append(f"  ... and {len(flagged) - limit} more flagged values")
    if flagged.empty:
        lines.append("  no value flagged: the submission agrees with the balances")
    return "\n".join(lines)
