"""Reported data: national submissions overriding the defaults, and the status of each value.

A ministry's accepted submission (kept in the store, :mod:`tracker.store`) replaces the
default estimate for its country wherever it reports a value:

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
contain both. The other submitted indicators (treatment routes, exports, stock surveys) are
kept in the store and listed by ``history``; they do not yet override the model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.errors import InputError
from tracker.model import ModelInputs, RunResult, run_model
from tracker.tables import AtomicDir

logger = logging.getLogger(__name__)

MAX_PASSES = 6
RTOL = 1e-6


def reported_values(store: str | Path | None = None) -> pd.DataFrame:
    """Latest accepted submission of every country in the store (empty when there is none).

    Only an existing store is read: a missing store means "defaults only".
    """
    from tracker import settings
    from tracker.store import Store

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
    from tracker.submissions import overlay_reported

    rep = reported[reported["indicator"] == "pom"]
    if rep.empty:
        return pom.assign(status=pom.get("status", "estimated"))
    est = pom.rename(columns={"region": "country", "pom_t": "value_t"}).assign(indicator="pom")
    merged = overlay_reported(est, rep)
    merged = merged[merged["country"].isin(set(pom["region"]))]
    out = merged.rename(columns={"country": "region", "value_t": "pom_t"})
    logger.info("reported put-on-market data for %s", sorted(set(rep["country"])))
    return out[["region", "product", "year", "pom_t", "status", "source"]].reset_index(drop=True)


def _reported_collection(result: RunResult, reported: pd.DataFrame) -> pd.DataFrame:
    """Reported formal collection by region, UNU-KEY and year (EU-6 totals split by WG)."""
    from tracker.submissions import overlay_reported

    rep = reported[reported["indicator"] == "collected_formal"]
    rep = rep[rep["country"].isin(set(result.dims.regions))]
    if rep.empty:
        return rep
    dims, gen = result.dims, result.system.generated
    r = dims.region_index(sorted(set(rep["country"])))
    n_p, n_y = len(dims.products), len(dims.years)
    est = pd.DataFrame(
        {
            "country": np.repeat(np.asarray(dims.regions, dtype=object)[r], n_p * n_y),
            "year": np.tile(dims.years, r.size * n_p),
            "product": np.tile(np.repeat(np.asarray(dims.products, dtype=object), n_y), r.size),
            "indicator": "collected_formal",
            "value_t": gen[r].ravel(),
        }
    )
    merged = overlay_reported(est, rep)
    return merged[merged["status"] == "reported"]


def _collection_overrides(
    result: RunResult, inputs: ModelInputs, target: pd.DataFrame
) -> pd.DataFrame:
    """Transfer-coefficient rows that make formal collection meet the reported tonnes."""
    from flows.transfer import Stage, TransferCoefficients

    dims = result.dims
    tcs = TransferCoefficients.from_frame(inputs.transfer_coefficients, dims)
    r = dims.region_index(target["country"])
    p = dims.product_index(target["product"])
    n = dims.year_index(target["year"].astype(int).to_numpy())
    gen = result.system.generated[r, p, n]
    want = target["value_t"].to_numpy(float)
    share = np.where(gen > 0, np.minimum(want / np.where(gen > 0, gen, 1.0), 1.0), 0.0)
    shape = dims.shape
    old = {
        to: np.broadcast_to(tcs.share("generated", to), shape)[r, p, n]
        for to in ("collection_formal", "collection_informal", "residual")
    }
    rest = old["collection_informal"] + old["residual"]
    frames = []
    for to in ("collection_formal", "collection_informal", "residual"):
        if to == "collection_formal":
            value = share
        else:
            value = np.where(rest > 0, (1 - share) * old[to] / np.where(rest > 0, rest, 1.0),
                             (1 - share) / 2)  # fmt: skip
        frames.append(pd.DataFrame({
            "region": target["country"].to_numpy(), "product": target["product"].to_numpy(),
            "year": target["year"].astype(int).to_numpy(), "from_stage": Stage.GENERATED.value,
            "to_stage": to, "share": value,
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def apply_reported(inputs: ModelInputs, reported: pd.DataFrame) -> tuple[ModelInputs, RunResult]:
    """Run the model with reported collection imposed (see the module docstring).

    Returns
    -------
    (ModelInputs, RunResult)
        The inputs with override rows added to the transfer coefficients, and their run.
    """
    result = run_model(inputs)
    target = _reported_collection(result, reported)
    if target.empty:
        return inputs, result
    base = inputs.transfer_coefficients
    for step in range(MAX_PASSES):
        rows = _collection_overrides(result, inputs, target)
        key = ["region", "product", "year", "from_stage", "to_stage"]
        merged = pd.concat([base, rows], ignore_index=True)
        merged["year"] = merged["year"].astype("Int64")
        inputs.transfer_coefficients = merged.drop_duplicates(key, keep="last")
        result = run_model(inputs)
        dims = result.dims
        got = result.system.flows[("generated", "collection_formal")][
            dims.region_index(target["country"]),
            dims.product_index(target["product"]),
            dims.year_index(target["year"].astype(int).to_numpy()),
        ]
        want = np.minimum(target["value_t"].to_numpy(float), result.system.generated[
            dims.region_index(target["country"]), dims.product_index(target["product"]),
            dims.year_index(target["year"].astype(int).to_numpy())])  # fmt: skip
        gap = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12), initial=0.0)
        logger.info("reported collection, pass %d: largest relative gap %.2e", step + 1, gap)
        if gap <= RTOL:
            break
    return inputs, result


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
    from tracker import catalog
    from tracker.templates import write_templates

    code = country.strip().upper()
    if code not in set(catalog.countries()["iso3"]):
        raise InputError(
            "unknown country",
            column="--country",
            value=country,
            expected="an ISO3 code of the catalogue, e.g. KEN",
        )
    from tracker.pipeline import run_default

    _, result = run_default()
    estimates = country_estimates(result, code)
    estimates = estimates[estimates["year"].isin(TEMPLATE_YEARS)]
    with AtomicDir(out) as stage:
        written = write_templates(code, stage, estimates, by=by)  # type: ignore[arg-type]
    return [Path(out) / p.name for p in written]
