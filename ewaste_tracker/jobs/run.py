"""The pipeline: inputs → flows engine → tables and files.

Functions here are what the command line and the app call. They validate their inputs once
(:mod:`ewaste_tracker.model.inputs`), run the engine (:mod:`flows`), and write results atomically.
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
from ewaste_tracker.model.folder import catalogue_tables, read_inputs_folder
from ewaste_tracker.model.inputs import dense_pom, lifetime_table, read_lifetimes, read_pom
from ewaste_tracker.model.run import ModelInputs, RunResult, run_model
from ewaste_tracker.tables import AtomicDir, row_errors, unknown_codes, write_csv_atomic

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
    return write_csv_atomic(frame, out_path, float_format="%.10g")


def write_run(
    result: RunResult, out: str | Path, *, inputs: ModelInputs, detail: str = "product"
) -> Path:
    """Write a run's tables into ``out`` atomically (staged, then moved into place).

    Files: ``indicators.csv``, ``flows.csv``, ``stocks.csv``, ``element_flows.csv``,
    ``reported_gaps.csv`` (when reported data were imposed) and ``run.json`` (fingerprint,
    years, regions, input files, named assumptions).
    ``detail="total"`` sums flows and stocks over products (for the all-country default run,
    where product detail would be millions of rows).
    """
    import json

    from ewaste_tracker.flows.balance import graph_to_frames
    from ewaste_tracker.model.fingerprint import fingerprint, tool_version
    from ewaste_tracker.model.run import inputs_fingerprint_tables

    G = result.graph()
    flows, stocks = graph_to_frames(G)
    if detail == "total":
        keys = ["region_from", "stage_from", "region_to", "stage_to", "year"]
        flows = flows.groupby(keys, observed=True, as_index=False)[["value_t"]].sum()
        stocks = stocks.groupby(["region", "stage", "year"], observed=True, as_index=False)[
            ["stock_t", "stock_change_t"]
        ].sum()
    meta = {
        "fingerprint": fingerprint(inputs_fingerprint_tables(inputs)),
        "tool_version": tool_version(),
        "years": [int(result.dims.years[0]), int(result.dims.years[-1])],
        "regions": len(result.dims.regions),
        "products": len(result.dims.products),
        "elements": list(result.dims.elements),
        "inputs": inputs.paths,
        "assumptions": {
            "second_life_half_scale": inputs.second_life is None,
            "recovery_central": "recovery" not in inputs.paths,
            "collection_target": inputs.collection_target,
        },
        "detail": detail,
    }
    elements = result.element_table()
    if "status" in result.indicators.columns:
        status = result.indicators[["region", "year", "status"]].drop_duplicates(["region", "year"])
        origin = flows["region_from"].astype(str).to_numpy()
        owner = np.where(origin == "sysenv", flows["region_to"].astype(str).to_numpy(), origin)
        flows = _with_status(flows, status, owner)
        stocks = _with_status(stocks, status, stocks["region"].astype(str).to_numpy())
        elements = _with_status(elements, status, elements["region"].astype(str).to_numpy())
    with AtomicDir(out) as stage:
        result.indicators.to_csv(stage / "indicators.csv", index=False, float_format="%.10g")
        flows.to_csv(stage / "flows.csv", index=False, float_format="%.10g")
        stocks.to_csv(stage / "stocks.csv", index=False, float_format="%.10g")
        elements.to_csv(stage / "element_flows.csv", index=False, float_format="%.10g")
        if result.reported_gaps is not None:
            result.reported_gaps.to_csv(
                stage / "reported_gaps.csv", index=False, float_format="%.10g"
            )
        (stage / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return Path(out)


def _with_status(table: pd.DataFrame, status: pd.DataFrame, region: np.ndarray) -> pd.DataFrame:
    """Attach the region-year ``status`` (reported / estimated / input) to an output table.

    ``region`` gives each row's owner (for flows: the origin, or the destination of a flow
    from the system boundary).
    """
    key = pd.MultiIndex.from_frame(
        status[["region", "year"]].astype({"region": str, "year": "int64"})
    )
    lookup = pd.Series(status["status"].to_numpy(), index=key)
    rows = pd.MultiIndex.from_arrays([region, table["year"].to_numpy(dtype="int64")])
    return table.assign(status=lookup.reindex(rows).fillna("").to_numpy())


def run_to_folder(
    inputs_dir: str | Path | None,
    out: str | Path,
    *,
    until: int | None = None,
    store: str | Path | None = None,
    keep: bool = False,
) -> RunResult:
    """The ``run`` subcommand: a folder of inputs (or the all-country default) to ``out``."""
    from tqdm import tqdm

    with tqdm(total=3, desc="ewaste-tracker run", unit="step", disable=None) as bar:
        bar.set_postfix_str("reading inputs")
        if inputs_dir is None:
            bar.set_postfix_str("running the default model")
            inputs, result = run_default(until=until, store=store)
            detail = "total"
            bar.update(2)
        else:
            inputs = read_inputs_folder(inputs_dir, until=until)
            detail = "product"
            bar.update()
            bar.set_postfix_str("running the model")
            result = run_model(inputs)
            result.indicators = result.indicators.assign(status="input")
            bar.update()
        bar.set_postfix_str("writing")
        write_run(result, out, inputs=inputs, detail=detail)
        bar.update()
    if keep:
        from ewaste_tracker.model.run import inputs_fingerprint_tables
        from ewaste_tracker.submissions.store import record_run

        record_run(
            result.indicators,
            inputs=inputs_fingerprint_tables(inputs),
            label=str(inputs_dir or "default"),
            store=store,
        )
    logger.info("wrote %s", out)
    return result


def default_inputs(
    *, until: int | None = None, first: int = 1970, store: str | Path | None = None
) -> ModelInputs:
    """Inputs of the all-country default estimate (catalogue + default model).

    Put on market comes from the default model (:mod:`ewaste_tracker.defaults.pom`), with the put on
    market that countries submitted to the store in place (``status`` reported), and transfer
    coefficients from the calibrated defaults by income group; UN regions are the
    aggregation groups besides ``WLD``.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.defaults import pom as defaults

    last = 2030 if until is None else int(until)
    if not first <= last <= 2030:
        raise InputError(
            f"the default estimate covers {first}-2030",
            column="--until",
            value=until,
            expected=f"a year from {first} to 2030",
        )
    years = range(first, last + 1)
    from ewaste_tracker.reported.overlay import overlay_reported_pom, reported_values

    pom = overlay_reported_pom(defaults.default_pom(years), reported_values(store))
    regions = sorted(pom["region"].unique())
    tcs = defaults.default_transfer_coefficients(regions, years=years)
    countries = catalog.countries()
    un = countries.set_index("iso3")["un_region"].dropna()
    groups = {r: str(un[r]) for r in regions if r in un.index and str(un[r])}
    exports = defaults.default_exports(regions)
    tables = catalogue_tables()
    return ModelInputs(
        pom=pom,
        transfer_coefficients=tcs,
        exports=exports,
        lifetimes=tables["lifetimes"],
        composition=tables["composition"],
        recovery=tables["recovery"],
        prices=tables["prices"],
        population=catalog.population_gdp()[["region", "year", "population"]],
        groups=groups,
        years=(first, last),
        paths={
            "pom": "default model (ewaste_tracker.defaults.pom, data/pom_model.csv)",
            "transfer_coefficients": str(catalog.data_path("transfer_coefficients")),
        },
    )


def run_default(
    *, until: int | None = None, store: str | Path | None = None
) -> tuple[ModelInputs, RunResult]:
    """The all-country default estimate with the countries' reported data in place.

    Put on market and formal collection submitted to the store override the defaults
    (:mod:`ewaste_tracker.reported.overlay`); every indicator row gets ``status`` reported /
    estimated / mixed.
    """
    from ewaste_tracker.reported.overlay import apply_reported, mark_status, reported_values

    inputs = default_inputs(until=until, store=store)
    reported = reported_values(store)
    inputs, result = apply_reported(inputs, reported)
    result.indicators = mark_status(result.indicators, reported, dict(inputs.groups or {}))
    if len(reported):
        from ewaste_tracker.reported.targets import reported_gaps

        result.reported_gaps = reported_gaps(inputs, result, reported)
    return inputs, result
