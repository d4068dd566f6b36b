"""Reported data imposed on the model: the fixed point that meets every reported value.

:func:`apply_reported` is the one place where published submissions enter a run: reported put
on market replaces the model's, and reported routes, exports and stock surveys become targets
(:mod:`ewaste_tracker.reported.targets`) met by re-solving transfer coefficients, export
shares and lifetimes and running the whole model again, until every target is met within
:data:`RTOL` or stops moving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ewaste_tracker.model.run import ModelInputs, RunResult, run_model
from ewaste_tracker.reported.overlay import overlay_reported_pom
from ewaste_tracker.reported.targets import (
    calibrate_stock,
    export_overrides,
    indicator_values,
    reported_gaps,
    route_overrides,
    stock_pairs,
    targets_by_unu_key,
)

__all__ = ["MAX_PASSES", "RTOL", "ReportedRun", "apply_reported"]

logger = logging.getLogger(__name__)

MAX_PASSES = 12
"""Model runs at most, after the first."""
RTOL = 1e-6
"""Relative tolerance within which a reported value counts as met."""


@dataclass
class ReportedRun:
    """A run with reported data imposed: its inputs, result and the targets it could not meet.

    Attributes
    ----------
    inputs
        Inputs with the override rows (transfer coefficients, export shares, lifetimes).
    result
        The run of those inputs.
    gaps
        :func:`ewaste_tracker.reported.targets.reported_gaps` (write it as ``reported_gaps.csv``).
    passes
        Model runs after the first.
    """

    inputs: ModelInputs
    result: RunResult
    gaps: pd.DataFrame
    passes: int


def apply_reported(
    inputs: ModelInputs,
    reported: pd.DataFrame,
    *,
    progress: Callable[[str], None] | None = None,
) -> ReportedRun:
    """Run the model with every reported value in place.

    Reported put on market replaces the model's
    (:func:`~ewaste_tracker.reported.overlay.overlay_reported_pom`);
    reported routes, exports and stock surveys become targets.

    Each pass solves the override shares from the last run (all reported cells at once,
    :func:`ewaste_tracker.reported.targets.route_overrides`), refits the surveyed lifetimes
    (:func:`~ewaste_tracker.reported.targets.calibrate_stock`) and runs the whole model again, until
    every target is met within 1e-6 (relative) or stops moving (an infeasible target, then
    listed in ``gaps`` and logged as a warning), at most :data:`MAX_PASSES` times.

    Parameters
    ----------
    inputs
        Validated inputs (the defaults, or a user's).
    reported
        :func:`~ewaste_tracker.reported.overlay.reported_values` (may be empty).
    progress
        Called with a short text after each model run.
    """

    def tick(text: str) -> None:
        if progress is not None:
            progress(text)

    if len(reported):
        inputs = replace(inputs, pom=overlay_reported_pom(inputs.pom, reported))
    result = run_model(inputs)
    tick("model run")
    targets = targets_by_unu_key(result, reported)
    if targets.empty:
        return ReportedRun(inputs, result, reported_gaps(inputs, result, reported), 0)
    inputs = replace(inputs)
    base_tc, base_lt = inputs.transfer_coefficients, inputs.lifetimes
    inputs.exports = export_overrides(result, inputs, targets)
    k = np.ones(len(stock_pairs(targets)))
    dims = result.dims
    cells = (dims.region_index(targets["country"]), dims.product_index(targets["product"]),
             dims.year_index(targets["year"].to_numpy(int)))  # fmt: skip
    names = targets["indicator"].to_numpy()
    prev = np.full(len(targets), np.nan)
    step = 0
    for step in range(1, MAX_PASSES + 1):  # a loop over passes (a fixed point), not over cells
        if len(k):
            inputs.lifetimes, k = calibrate_stock(result, inputs, base_lt, targets, k)
        rows = route_overrides(result, inputs, targets)
        merged = pd.concat([base_tc, rows], ignore_index=True)
        merged["year"] = merged["year"].astype("Int64")
        key = ["region", "product", "year", "from_stage", "to_stage"]
        inputs.transfer_coefficients = merged.drop_duplicates(key, keep="last")
        result = run_model(inputs)
        tick(f"reported targets, pass {step}")
        values = indicator_values(result, *cells)
        got = np.select([names == k_ for k_ in values], list(values.values()), np.nan)
        want = targets["value_t"].to_numpy(float)
        cf = names == "collected_formal"
        want = np.where(cf, np.minimum(want, result.system.generated[cells]), want)
        scale = np.maximum(np.abs(want), 1e-12)
        met = np.abs(got - want) <= RTOL * scale
        still = np.abs(got - prev) <= RTOL * 1e-2 * scale
        logger.info(
            "reported targets, pass %d: %d of %d met, largest relative gap %.2e",
            step,
            int(met.sum()),
            met.size,
            float(np.max(np.abs(got - want) / scale)),
        )
        if (met | still).all():
            break
        prev = got
    gaps = reported_gaps(inputs, result, reported)
    for row in gaps.head(20).itertuples():
        logger.warning("reported %s of %s, product %s, %d: %.6g t, the model reaches %.6g t (%s)",
                       row.indicator, row.country, row.product, row.year, row.reported_t,
                       row.modelled_t, row.note)  # fmt: skip
    if len(gaps) > 20:
        logger.warning("%d more reported values not met: see reported_gaps.csv", len(gaps) - 20)
    return ReportedRun(inputs, result, gaps, step)
