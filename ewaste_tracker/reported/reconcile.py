r"""Reported data reconciled with the model's flows (STAN-style), instead of hard targets.

For every country, year and reported product (a UNU-KEY, or an EU-6 category with the model
summed over its UNU-KEYs) the lifecycle balances of one year are written over the flows of
:data:`FLOWS` (tonnes), :data:`BALANCES` holding the node balances

.. math::

   POM + R_{use} + I_{use} &= G + \Delta S, &\quad G &= C_f + C_i + G_{res}, \\
   C_f &= F_{ref} + F_{pre} + F_{exp}, &\quad C_i &= U_{ref} + U_{pre} + U_{rec} + U_{res}
   + U_{exp}, \\
   F_{ref} + U_{ref} + I_{ref} &= R_{use} + R_{pre}, &\quad F_{pre} + U_{pre} + R_{pre}
   + I_{pre} &= P_{end} + P_{res}, \\
   F_{exp} + U_{exp} &= X_{used} + X_{ewaste}

and the definitions of the reported treatment totals (``treated_preprocessing`` = all mass
entering pre-processing, ``treated_informal`` = informal recycling's inputs,
``treated_residual`` = mass entering residual waste; a definition is dropped when its total is
not reported). Each flow enters with a prior: its reported value with the variance its
submitter states (``uncertainty_pct``, a relative standard uncertainty), else
:data:`REPORTED_RSD`; unreported flows take the model's value with :data:`MODEL_RSD`. Every
model standard deviation has a floor of :data:`FLOOR_SHARE` of the system's scale (the
model's e-waste generated or put on market), so a flow the model puts at zero can still take
some mass (a reported one, of :data:`REPORTED_FLOOR_SHARE`). The model's flows balance
exactly, so each reported value adds one redundancy: the chi-square test of a system has as
many degrees of freedom as it has reported values (at most the rank of the balances), and
the test of a region-year sums its products' systems.
:func:`ewaste_tracker.flows.reconcile.serial_elimination` then gives the reconciled flows,
their variances, the chi-square test of each system and the reported values flagged as
gross errors (normalised residual beyond 3; a flagged value is replaced by the model's own
estimate and the system solved again, so the reconciled value shown is the estimate without
it). The in-use stock *level* of a stock survey is not
a flow of one year's balance: it stays a calibration target.

The relative standard deviations are named assumptions of this package, not published
figures: the Global E-waste Monitor and the UNU/ITU guidelines (Forti et al. 2018, *E-waste
statistics: guidelines on classification, reporting and indicators*, 2nd ed.) rank data
sources by quality (registers and customs data before surveys and estimates) without giving
error variances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from ewaste_tracker.flows.reconcile import serial_elimination
from ewaste_tracker.model.run import ModelInputs, RunResult, run_model
from ewaste_tracker.reported.apply import ReportedRun, apply_reported
from ewaste_tracker.reported.targets import used_share

__all__ = [
    "CHI_SQUARE_COLUMNS",
    "FLOWS",
    "MODEL_RSD",
    "MODES",
    "RECONCILED_INDICATORS",
    "RECONCILIATION_COLUMNS",
    "REPORTED_RSD",
    "apply_reconciled",
    "balance_matrix",
    "reconcile_values",
    "reconciled_countries",
]

logger = logging.getLogger(__name__)

# name: (model source, kind). Sources: "a>b" a flow of the system, "imports:stage", "dS".
FLOWS: dict[str, tuple[str, str]] = {
    "pom": ("market>use", "pom"),
    "reused": ("refurbishment>use", "route"),
    "imported_used": ("imports:use", "trade"),
    "stock_change": ("dS", "stock_change"),
    "generated": ("use>generated", "generated"),
    "collected_formal": ("generated>collection_formal", "route"),
    "collected_informal": ("generated>collection_informal", "route"),
    "generated_residual": ("generated>residual", "route"),
    "formal_refurbishment": ("collection_formal>refurbishment", "route"),
    "formal_preprocessing": ("collection_formal>preprocessing", "route"),
    "formal_export": ("collection_formal>export", "route"),
    "informal_refurbishment": ("collection_informal>refurbishment", "route"),
    "informal_preprocessing": ("collection_informal>preprocessing", "route"),
    "informal_recycling": ("collection_informal>recycling_informal", "route"),
    "informal_residual": ("collection_informal>residual", "route"),
    "informal_export": ("collection_informal>export", "route"),
    "imported_refurbishment": ("imports:refurbishment", "trade"),
    "refurbished_preprocessing": ("refurbishment>preprocessing", "route"),
    "imported_preprocessing": ("imports:preprocessing", "trade"),
    "imported_informal": ("imports:recycling_informal", "trade"),
    "preprocessing_endprocessing": ("preprocessing>endprocessing", "route"),
    "preprocessing_residual": ("preprocessing>residual", "route"),
    "exported_used": ("export:used", "trade"),
    "exported_ewaste": ("export:ewaste", "trade"),
    "treated_preprocessing": ("sum", "total"),
    "treated_informal": ("sum", "total"),
    "treated_residual": ("sum", "total"),
}
"""The flows of one system: where the model's value comes from and its kind."""

BALANCES: dict[str, dict[str, float]] = {
    "use": {"pom": 1, "reused": 1, "imported_used": 1, "generated": -1, "stock_change": -1},
    "generated": {"generated": 1, "collected_formal": -1, "collected_informal": -1,
                  "generated_residual": -1},
    "collection_formal": {"collected_formal": 1, "formal_refurbishment": -1,
                          "formal_preprocessing": -1, "formal_export": -1},
    "collection_informal": {"collected_informal": 1, "informal_refurbishment": -1,
                            "informal_preprocessing": -1, "informal_recycling": -1,
                            "informal_residual": -1, "informal_export": -1},
    "refurbishment": {"formal_refurbishment": 1, "informal_refurbishment": 1,
                      "imported_refurbishment": 1, "reused": -1, "refurbished_preprocessing": -1},
    "preprocessing": {"formal_preprocessing": 1, "informal_preprocessing": 1,
                      "refurbished_preprocessing": 1, "imported_preprocessing": 1,
                      "preprocessing_endprocessing": -1, "preprocessing_residual": -1},
    "export": {"formal_export": 1, "informal_export": 1, "exported_used": -1,
               "exported_ewaste": -1},
    "treated_preprocessing": {"treated_preprocessing": 1, "formal_preprocessing": -1,
                              "informal_preprocessing": -1, "refurbished_preprocessing": -1,
                              "imported_preprocessing": -1},
    "treated_informal": {"treated_informal": 1, "informal_recycling": -1,
                         "imported_informal": -1},
    "treated_residual": {"treated_residual": 1, "generated_residual": -1,
                         "informal_residual": -1, "preprocessing_residual": -1},
}  # fmt: skip
"""Node balances and definitions (coefficient of each flow; each row sums to zero)."""

RECONCILED_INDICATORS = ("pom", "collected_formal", "treated_preprocessing", "treated_informal",
                         "treated_residual", "exported_used", "exported_ewaste")  # fmt: skip
"""Submission indicators reconciled (the stock survey is not a flow of the balance)."""

REPORTED_RSD = {"pom": 0.10, "collected_formal": 0.05, "treated_preprocessing": 0.10,
                "treated_informal": 0.30, "treated_residual": 0.30, "exported_used": 0.20,
                "exported_ewaste": 0.20}  # fmt: skip
"""Named assumption: relative standard deviation of a reported value with no stated
uncertainty (documented collection and registers tightest, informal and residual routes from
surveys loosest)."""

MODEL_RSD = {"pom": 0.30, "generated": 0.30, "stock_change": 0.50, "route": 0.50, "trade": 0.50,
             "total": 0.50}  # fmt: skip
"""Named assumption: relative standard deviation of the model's value of a flow by kind (put on
market: about the spread of the default model's calibration residuals; routes and trade: the
fates are defaults for most countries)."""

FLOOR_SHARE = 0.01
"""Floor of a model value's standard deviation, as a share of the system's scale."""
REPORTED_FLOOR_SHARE = 1e-4
"""Floor of a reported value's standard deviation, as a share of the system's scale."""

RECONCILIATION_COLUMNS = ["region", "year", "product", "flow", "reported", "sd_reported",
                          "model", "reconciled", "sd_reconciled", "normalised_residual",
                          "flagged", "clipped", "source"]  # fmt: skip
"""Columns of the ``reconciliation`` table (tonnes)."""
CHI_SQUARE_COLUMNS = ["region", "year", "statistic", "dof", "p_value", "statistic_kept",
                      "p_value_kept", "flagged"]  # fmt: skip
"""Columns of the ``reconciliation_chi2`` table (one row per region and year)."""

_NAMES = tuple(FLOWS)
_INDEX = {n: i for i, n in enumerate(_NAMES)}
_TOTALS = ("treated_preprocessing", "treated_informal", "treated_residual")


def balance_matrix() -> np.ndarray:
    """``(M, K)`` matrix of :data:`BALANCES` over the flows of :data:`FLOWS` (in that order)."""
    A = np.zeros((len(BALANCES), len(_NAMES)))
    for m, row in enumerate(BALANCES.values()):
        for name, c in row.items():
            A[m, _INDEX[name]] = c
    return A


def _model_arrays(result: RunResult) -> dict[str, np.ndarray]:
    """``(R, P, N)`` model value of every flow but the totals."""
    system = result.system
    zero = np.zeros(result.dims.shape)
    out: dict[str, np.ndarray] = {}
    exported = system.flows[("collection_formal", "export")] + system.flows[
        ("collection_informal", "export")]  # fmt: skip
    used = exported * used_share(result)[:, :, None]
    for name, (src, _) in FLOWS.items():
        if src == "dS":
            out[name] = system.stock_changes["use"]
        elif src.startswith("imports:"):
            out[name] = system.imports.get(src.split(":")[1], zero)
        elif src == "export:used":
            out[name] = used
        elif src == "export:ewaste":
            out[name] = exported - used
        elif ">" in src:
            a, b = src.split(">")
            out[name] = system.flows.get((a, b), zero)
    return out


def reconcile_values(result: RunResult, reported: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Reconcile reported values with the model's flows of ``result`` (module doc).

    Parameters
    ----------
    result
        The model run without the reported values (the prior).
    reported
        Reported rows (``country, year, product, product_level, indicator, value_t``, optional
        ``uncertainty_pct`` and ``source``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, pandas.DataFrame)
        The ``reconciliation`` table (:data:`RECONCILIATION_COLUMNS`, one row per reconciled
        reported value), the chi-square table (:data:`CHI_SQUARE_COLUMNS`) and ``reported``
        with ``value_t`` replaced by the reconciled value (flagged values by their estimate
        without them) for the rows reconciled.
    """
    from ewaste_tracker.submissions.rules import Codes

    dims = result.dims
    reported = reported.reset_index(drop=True)
    rep = reported[reported["indicator"].isin(RECONCILED_INDICATORS)
                   & reported["country"].isin(set(dims.regions))
                   & reported["year"].astype(int).between(int(dims.years[0]),
                                                          int(dims.years[-1]))]  # fmt: skip
    if rep.empty:
        return (pd.DataFrame(columns=RECONCILIATION_COLUMNS),
                pd.DataFrame(columns=CHI_SQUARE_COLUMNS), reported)  # fmt: skip
    eu6 = Codes.from_catalog().unu_to_eu6
    prods = np.asarray(dims.products, dtype=object)
    cat = np.asarray([eu6.get(p, "") for p in prods], dtype=object)
    level = rep["product_level"].astype(str)
    modelled = np.where(level == "eu6", rep["product"].astype(str).isin(set(cat)),
                        rep["product"].astype(str).isin(set(prods)))  # fmt: skip
    rep = rep[modelled]
    if rep.empty:
        return (pd.DataFrame(columns=RECONCILIATION_COLUMNS),
                pd.DataFrame(columns=CHI_SQUARE_COLUMNS), reported)  # fmt: skip
    key = ["country", "year", "product"]
    rep = rep.assign(year=rep["year"].astype(int))
    groups = rep[[*key, "product_level"]].drop_duplicates(key).reset_index(drop=True)
    g_of = pd.MultiIndex.from_frame(groups[key]).get_indexer(pd.MultiIndex.from_frame(rep[key]))
    # (G, P) membership of each group's UNU-KEYs
    gp = groups["product"].astype(str).to_numpy(object)[:, None]
    member = np.where((groups["product_level"] == "eu6").to_numpy()[:, None], cat[None, :] == gp,
                      prods[None, :] == gp)  # fmt: skip
    r = dims.region_index(groups["country"])
    n = dims.year_index(groups["year"].to_numpy(int))
    arrays = _model_arrays(result)
    G, K = len(groups), len(_NAMES)
    model = np.zeros((G, K))
    for name, arr in arrays.items():  # a loop over the 24 flows, each over all groups at once
        model[:, _INDEX[name]] = (arr[r, :, n] * member).sum(axis=1)
    A = np.broadcast_to(balance_matrix(), (G, *balance_matrix().shape)).copy()
    for name in _TOTALS:
        comps = [c for c, v in BALANCES[name].items() if v < 0]
        model[:, _INDEX[name]] = model[:, [_INDEX[c] for c in comps]].sum(axis=1)
    kinds = np.asarray([MODEL_RSD[FLOWS[nm][1]] for nm in _NAMES])
    scale = np.maximum(model[:, _INDEX["generated"]], model[:, _INDEX["pom"]])
    floor = FLOOR_SHARE * np.maximum(scale, 1e-6)[:, None]
    prior_var = (np.abs(model) * kinds + floor) ** 2
    y, var = model.copy(), prior_var.copy()
    measured = np.zeros((G, K), dtype=bool)
    k_of = np.asarray([_INDEX[i] for i in rep["indicator"]])
    value = rep["value_t"].to_numpy(float)
    pct = (
        pd.to_numeric(rep["uncertainty_pct"], errors="coerce").to_numpy(float)
        if "uncertainty_pct" in rep
        else np.full(len(rep), np.nan)
    )
    rsd = np.where(np.isfinite(pct), pct / 100.0,
                   rep["indicator"].map(REPORTED_RSD).to_numpy(float))  # fmt: skip
    sd_rep = rsd * np.abs(value) + floor[g_of, 0] * (REPORTED_FLOOR_SHARE / FLOOR_SHARE)
    y[g_of, k_of], var[g_of, k_of], measured[g_of, k_of] = value, sd_rep**2, True
    for name in _TOTALS:  # an unreported total: its definition is dropped, the value kept
        k, m = _INDEX[name], list(BALANCES).index(name)
        off = ~measured[:, k]
        A[off, m, :] = 0.0
        var[off, k] = 0.0
    nonneg = np.asarray([FLOWS[nm][1] != "stock_change" for nm in _NAMES])
    first, final, flagged, z = serial_elimination(
        y, var, A, tested=measured, fallback_y=model, fallback_var=prior_var, nonnegative=nonneg
    )
    table = pd.DataFrame({
        "region": rep["country"].to_numpy(), "year": rep["year"].to_numpy(int),
        "product": rep["product"].astype(str).to_numpy(), "flow": rep["indicator"].to_numpy(),
        "reported": value, "sd_reported": sd_rep, "model": model[g_of, k_of],
        "reconciled": final.x[g_of, k_of], "sd_reconciled": np.sqrt(final.var[g_of, k_of]),
        "normalised_residual": z[g_of, k_of], "flagged": flagged[g_of, k_of],
        "clipped": final.clipped[g_of, k_of],
        "source": rep["source"].astype(str).to_numpy() if "source" in rep else "",
    })  # fmt: skip
    n_rep = measured.sum(axis=1)
    chi = pd.DataFrame({
        "region": groups["country"].to_numpy(), "year": groups["year"].to_numpy(int),
        "statistic": first.chi2, "dof": np.minimum(n_rep, first.dof),
        "statistic_kept": final.chi2,
        "kept_dof": np.minimum(n_rep - flagged.sum(axis=1), final.dof),
        "flagged": flagged.sum(axis=1),
    }).groupby(["region", "year"], as_index=False).sum()  # fmt: skip
    from scipy import stats

    chi["p_value"] = np.where(
        chi["dof"] > 0, stats.chi2.sf(chi["statistic"], chi["dof"].clip(lower=1)), np.nan
    )
    chi["p_value_kept"] = np.where(chi["kept_dof"] > 0, stats.chi2.sf(
        chi["statistic_kept"], chi["kept_dof"].clip(lower=1)), np.nan)  # fmt: skip
    out = reported.copy()
    out.loc[rep.index, "value_t"] = table["reconciled"].to_numpy()
    if flagged.any():
        for row in table[table["flagged"]].head(20).itertuples():
            logger.warning(
                "reconciliation flags reported %s of %s, product %s, %d: %.6g t "
                "(normalised residual %.1f; reconciled %.6g t)",
                row.flow, row.region, row.product, row.year, row.reported,
                row.normalised_residual, row.reconciled,
            )  # fmt: skip
    return table[RECONCILIATION_COLUMNS], chi[CHI_SQUARE_COLUMNS], out


MODES = ("auto", "reconcile", "targets")
"""How reported values enter a run: ``targets`` (met exactly,
:func:`ewaste_tracker.reported.apply.apply_reported`), ``reconcile`` (every country's values
reconciled first) or ``auto`` (reconciled for the countries whose submission states an
uncertainty, targets for the others)."""


def reconciled_countries(reported: pd.DataFrame, mode: str) -> list[str]:
    """Countries whose reported values are reconciled in ``mode`` (:data:`MODES`)."""
    from ewaste_tracker.errors import InputError

    if mode not in MODES:
        raise InputError("unknown reported mode", column="--reported", value=mode,
                         expected=" or ".join(MODES))  # fmt: skip
    if mode == "targets" or reported.empty:
        return []
    if mode == "reconcile":
        return sorted(set(reported["country"]))
    if "uncertainty_pct" not in reported:
        return []
    pct = pd.to_numeric(reported["uncertainty_pct"], errors="coerce")
    return sorted(set(reported.loc[pct.notna(), "country"]))


def apply_reconciled(
    inputs: ModelInputs,
    reported: pd.DataFrame,
    *,
    mode: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> ReportedRun:
    """Reconcile the reported values of :func:`reconciled_countries`, then meet them exactly.

    The model runs once without reported data (the prior); the reconciled values (which
    balance) replace the reported ones and become the targets of
    :func:`~ewaste_tracker.reported.apply.apply_reported`, so the run's flows carry them.
    """
    countries = reconciled_countries(reported, mode)
    if not countries:
        return apply_reported(inputs, reported, progress=progress)
    prior = run_model(inputs)
    if progress is not None:
        progress("model run (prior of the reconciliation)")
    reported = reported.reset_index(drop=True)
    mine = reported["country"].isin(countries).to_numpy()
    table, chi, adjusted = reconcile_values(prior, reported[mine])
    values = pd.concat([reported[~mine], adjusted], ignore_index=True)
    run = apply_reported(inputs, values, progress=progress)
    run.reconciliation, run.reconciliation_chi2 = table, chi
    logger.info("reconciled %d reported values of %s: %d flagged", len(table),
                ", ".join(countries), int(table["flagged"].sum()))  # fmt: skip
    return run
