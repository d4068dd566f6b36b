"""Reported data: national submissions overriding the defaults, and the status of each value.

A ministry's accepted submission (kept in the store, :mod:`ewaste_tracker.submissions.store`)
replaces the default estimate for its country wherever it reports a value:

* **put on market** (``pom``) replaces the default model's put on market, by UNU-KEY and year
  (an EU-6 total is split over its UNU-KEYs by the default shares);
* **documented formal collection** (``collected_formal``) fixes the share of e-waste generated
  that goes to ``collection_formal`` for that country, product and year: the share is
  solved so the model's formal collection equals the reported tonnes (capped at all of the
  e-waste generated), the other destinations of ``generated`` keep their relative split.
  Reuse feedback makes e-waste generated depend on the share, so the run is repeated until
  the reported tonnes are met within 1e-6 (usually 2-3 passes).

Every indicator row then carries ``status``: ``reported`` when the region reported data for
that year, ``estimated`` otherwise, and ``mixed`` for aggregates (WLD, UN regions) that
contain both. Treatment routes, exports and stock surveys are imposed as targets too
(:mod:`ewaste_tracker.reported.targets`); targets the model cannot meet are listed by
:func:`ewaste_tracker.reported.targets.reported_gaps`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.model.run import ModelInputs, RunResult, run_model
from ewaste_tracker.tables import AtomicDir

logger = logging.getLogger(__name__)

MAX_PASSES = 12
RTOL = 1e-6


def reported_values(store: str | Path | None = None) -> pd.DataFrame:
    """Latest accepted submission of every country in the store (empty when there is none).

    Only an existing store is read: a missing store means "defaults only".
    """
    from ewaste_tracker import settings
    from ewaste_tracker.submissions.store import Store

    path = Path(store) if store is not None else settings.store_path()
    empty = pd.DataFrame(columns=["country", "year", "product", "product_level", "indicator",
                                  "value_t", "source"])  # fmt: skip
    if not path.exists():
        return empty
    st = Store(path)
    subs = st.submissions()
    if len(subs) == 0:
        return empty
    return pd.concat(
        [st.submission_values(c) for c in sorted(set(subs["country"]))], ignore_index=True
    )


def overlay_reported_pom(pom: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """Put on market with reported values in place (``status`` reported / estimated)."""
    from ewaste_tracker.submissions.submit import overlay_reported

    rep = reported[reported["indicator"] == "pom"]
    if rep.empty:
        return pom.assign(status=pom.get("status", "estimated"))
    est = pom.rename(columns={"region": "country", "pom_t": "value_t"}).assign(indicator="pom")
    merged = overlay_reported(est, rep)
    merged = merged[merged["country"].isin(set(pom["region"]))]
    out = merged.rename(columns={"country": "region", "value_t": "pom_t"})
    logger.info("reported put-on-market data for %s", sorted(set(rep["country"])))
    return out[["region", "product", "year", "pom_t", "status", "source"]].reset_index(drop=True)


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


def apply_reported_targets(inputs: ModelInputs, reported: pd.DataFrame) -> ReportedRun:
    """Run the model with every reported route, export and stock survey imposed.

    Each pass solves the override shares from the last run (all reported cells at once,
    :func:`ewaste_tracker.reported.targets.route_overrides`), refits the surveyed lifetimes
    (:func:`~ewaste_tracker.reported.targets.calibrate_stock`) and runs the whole model again, until
    every target is met within 1e-6 (relative) or stops moving (an infeasible target, then
    listed in ``gaps`` and logged as a warning), at most :data:`MAX_PASSES` times.
    """
    from ewaste_tracker.reported.targets import (
        _stock_pairs,
        calibrate_stock,
        export_overrides,
        indicator_values,
        reported_gaps,
        route_overrides,
        targets_by_unu_key,
    )

    result = run_model(inputs)
    targets = targets_by_unu_key(result, reported)
    if targets.empty:
        return ReportedRun(inputs, result, reported_gaps(inputs, result, reported), 0)
    inputs = replace(inputs)
    base_tc, base_lt = inputs.transfer_coefficients, inputs.lifetimes
    inputs.exports = export_overrides(result, inputs, targets)
    k = np.ones(len(_stock_pairs(targets)))
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


def apply_reported(inputs: ModelInputs, reported: pd.DataFrame) -> tuple[ModelInputs, RunResult]:
    """Run the model with reported data imposed (see :func:`apply_reported_targets`).

    Returns
    -------
    (ModelInputs, RunResult)
        The inputs with override rows added, and their run.
    """
    run = apply_reported_targets(inputs, reported)
    return run.inputs, run.result


def mark_status(
    indicators: pd.DataFrame, reported: pd.DataFrame, groups: dict[str, str] | None
) -> pd.DataFrame:
    """Add ``status`` (reported / estimated / mixed) to an indicator table."""
    out = indicators.copy()
    cells = reported[["country", "year"]].drop_duplicates()
    flag = pd.Series(True, index=pd.MultiIndex.from_frame(
        cells.rename(columns={"country": "region"}).astype({"year": "int64"})))  # fmt: skip
    key = pd.MultiIndex.from_arrays([out["region"].astype(str), out["year"].astype("int64")])
    is_rep = flag.reindex(key, fill_value=False).to_numpy(bool)
    status = np.where(is_rep, "reported", "estimated").astype(object)
    members: dict[str, set[str]] = {"WLD": set(cells["country"])}
    for region, group in (groups or {}).items():
        members.setdefault(group, set()).add(region)
    if len(cells):
        for agg, regions in members.items():
            years = set(cells.loc[cells["country"].isin(regions), "year"].astype(int))
            mask = (out["region"].astype(str) == agg).to_numpy() & out["year"].isin(years)
            status[mask] = "mixed"
    out["status"] = status
    return out


def status_by_region_year(reported: pd.DataFrame, groups: dict[str, str] | None) -> pd.DataFrame:
    """Status of every region-year that is not purely estimated, for flows, stocks and elements.

    Returns
    -------
    pandas.DataFrame
        ``region, year, status``: ``reported`` for each country-year with accepted data,
        ``mixed`` for the aggregates (``WLD`` and the groups in ``groups``) containing one.
        Region-years not listed are ``estimated``: merge on ``region`` (or ``region_from``),
        ``year`` and fill the rest with ``"estimated"``.
    """
    cells = reported[["country", "year"]].drop_duplicates().astype({"year": "int64"})
    own = cells.rename(columns={"country": "region"}).assign(status="reported")
    member = pd.DataFrame({"country": list(groups or {}), "region": list((groups or {}).values())})
    agg = cells.merge(member, on="country")[["region", "year"]]
    agg = pd.concat([agg, cells[["year"]].assign(region="WLD")], ignore_index=True)
    agg = agg.drop_duplicates().assign(status="mixed")
    out = pd.concat([own, agg[["region", "year", "status"]]], ignore_index=True)
    return out.sort_values(["region", "year"], ignore_index=True)


# --------------------------------------------------------------------------- templates

TEMPLATE_YEARS = range(2015, 2026)


def country_estimates(result: RunResult, country: str) -> pd.DataFrame:
    """The model's estimates of the submission indicators for one region.

    Returns
    -------
    pandas.DataFrame
        ``country, year, product, indicator, value_t`` for the indicators of a national
        submission (``pom``, ``collected_formal``, ``treated_preprocessing``,
        ``treated_informal``, ``treated_residual``, ``exported_used``, ``exported_ewaste``,
        ``stock``).
    """
    system, dims = result.system, result.dims
    r = int(dims.region_index([country])[0])
    flows = system.flows

    def into(stage: str) -> np.ndarray:
        parts = [v[r] for (a, b), v in flows.items() if b == stage]
        if stage in system.imports:
            parts.append(system.imports[stage][r])
        return np.add.reduce(parts)

    exported = (
        flows[("collection_formal", "export")][r] + flows[("collection_informal", "export")][r]
    )
    used = np.zeros_like(exported)
    ex = system.exports
    if ex is not None:
        links = np.flatnonzero(
            (np.asarray(ex.origin) == r)
            & np.isin(np.asarray(ex.to_stage), ["use", "refurbishment"])
        )
        if links.size:
            used = system.trade_flows[links].sum(axis=0)
    values = {
        "pom": flows[("market", "use")][r],
        "collected_formal": flows[("generated", "collection_formal")][r],
        "treated_preprocessing": into("preprocessing"),
        "treated_informal": into("recycling_informal"),
        "treated_residual": into("residual"),
        "exported_used": used,
        "exported_ewaste": np.maximum(exported - used, 0.0),
        "stock": system.use_stock[r],
    }
    n_p, n_y = len(dims.products), len(dims.years)
    frames = [
        pd.DataFrame(
            {
                "country": country,
                "year": np.tile(dims.years, n_p),
                "product": np.repeat(np.asarray(dims.products, dtype=object), n_y),
                "indicator": name,
                "value_t": arr.ravel(),
            }
        )
        for name, arr in values.items()
    ]
    return pd.concat(frames, ignore_index=True)


def write_country_templates(country: str, out: str | Path, *, by: str = "unu_key") -> list[Path]:
    """The ``template`` subcommand: submission templates pre-filled with the defaults.

    Writes ``<ISO3>_submission_<by>.csv`` (long) and ``.xlsx`` (a sheet per indicator) into
    ``out`` atomically, for the years 2015-2025, with the default estimates beside the empty
    cells a ministry fills.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.submissions.templates import write_templates

    code = country.strip().upper()
    if code not in set(catalog.countries()["iso3"]):
        raise InputError(
            "unknown country",
            column="--country",
            value=country,
            expected="an ISO3 code of the catalogue, e.g. KEN",
        )
    from ewaste_tracker.jobs.run import run_default

    _, result = run_default()
    estimates = country_estimates(result, code)
    estimates = estimates[estimates["year"].isin(TEMPLATE_YEARS)]
    with AtomicDir(out) as stage:
        written = write_templates(code, stage, estimates, by=by)  # type: ignore[arg-type]
    return [Path(out) / p.name for p in written]
