"""The pipeline: inputs → flows engine → tables and files.

Functions here are what the command line and the app call. They validate their inputs once
(:mod:`tracker.inputs`), run the engine (:mod:`flows`), and write results atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from flows.dims import Dims
from flows.lifetimes import discard_matrix
from flows.stocks import inflow_driven
from tracker.errors import InputError, InputErrors
from tracker.inputs import dense_pom, lifetime_table, read_lifetimes, read_pom
from tracker.model import ModelInputs, RunResult, run_model
from tracker.tables import AtomicDir, read_table, write_csv_atomic

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
        Discard convention (see :func:`flows.lifetimes.discard_matrix`).

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
    missing = ~pom["product"].isin(known)
    if missing.any():
        raise InputErrors(
            [
                InputError(
                    "no lifetime for this product",
                    path=pom_path,
                    row=int(i) + 2,
                    column="product",
                    value=str(pom["product"].iloc[i]),
                    expected=f"a product listed in {lifetimes_path}",
                )
                for i in np.flatnonzero(missing.to_numpy())
            ]
        )
    if "region" in lifetimes.columns:
        regions = set(pom["region"])
        bad = lifetimes["region"].notna() & ~lifetimes["region"].isin(regions)
        if bad.any():
            raise InputErrors(
                [
                    InputError(
                        "unknown region",
                        path=lifetimes_path,
                        row=int(i) + 2,
                        column="region",
                        value=str(lifetimes["region"].iloc[i]),
                        expected=f"a region present in {pom_path} or blank",
                    )
                    for i in np.flatnonzero(bad.to_numpy())
                ]
            )
    frame = generated_frame(pom, lifetimes, until=until, lifetimes_path=lifetimes_path)
    return write_csv_atomic(frame, out_path, float_format="%.10g")


# --------------------------------------------------------------------------- full runs

#: Input files of a ``run --inputs`` folder: name → (schema attribute, required).
INPUT_FILES = {
    "pom": ("POM_SCHEMA", True),
    "lifetimes": ("LIFETIME_SCHEMA", False),
    "second_life": ("LIFETIME_SCHEMA", False),
    "transfer_coefficients": ("TC_SCHEMA", False),
    "exports": ("EXPORTS_SCHEMA", False),
    "composition": ("COMPOSITION_SCHEMA", False),
    "recovery": ("RECOVERY_SCHEMA", False),
    "prices": ("PRICES_SCHEMA", False),
    "population": ("POPULATION_SCHEMA", False),
    "groups": ("GROUPS_SCHEMA", False),
}


def _unknown(
    df: pd.DataFrame, column: str, known: set[str], *, path: Path, what: str, hint: str = ""
) -> list[InputError]:
    if column not in df.columns:
        return []
    values = df[column]
    bad = values.notna() & ~values.isin(known)
    return [
        InputError(
            f"unknown {what}{hint}",
            path=path,
            row=int(i) + 2,
            column=column,
            value=str(values.iloc[i]),
        )
        for i in np.flatnonzero(bad.to_numpy())
    ]


def read_inputs_folder(folder: str | Path, *, until: int | None = None) -> ModelInputs:
    """Read and validate a ``run --inputs`` folder (see README for the files).

    Missing optional files take the catalogue's defaults (ISO3 regions and UNU-KEY products
    only). Every file is checked before any model work; all problems are reported at once.

    Raises
    ------
    InputErrors
        Naming file, row and column.
    """
    from tracker import catalog
    from tracker import inputs as schemas

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", path=folder, expected="a folder of CSV tables")
    tables: dict[str, pd.DataFrame] = {}
    paths: dict[str, str] = {}
    errors: list[InputError] = []
    for name, (schema_name, required) in INPUT_FILES.items():
        path = folder / f"{name}.csv"
        if not path.exists():
            if required:
                errors.append(
                    InputError(
                        "required file is missing", path=path, expected="region,product,year,pom_t"
                    )
                )
            continue
        try:
            tables[name] = read_table(path, getattr(schemas, schema_name))
            paths[name] = str(path)
        except InputErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise InputErrors(errors)

    pom = tables["pom"]
    regions = set(pom["region"])
    iso3 = set(catalog.countries()["iso3"])
    unu = set(catalog.products()["unu_key"])
    custom_regions = "transfer_coefficients" in tables
    if not custom_regions:
        errors += _unknown(
            pom,
            "region",
            iso3,
            path=folder / "pom.csv",
            what="region code",
            hint=" (not an ISO3 code of the catalogue; give "
            "transfer_coefficients.csv to model other regions)",
        )
    if custom_regions:
        tc_regions = tables["transfer_coefficients"]["region"]
        if not tc_regions.isna().any():  # no wildcard rows: every region needs its own
            errors += _unknown(
                pom,
                "region",
                set(tc_regions),
                path=folder / "pom.csv",
                what="region",
                hint=" (no transfer coefficients for it in transfer_coefficients.csv)",
            )
    lifetimes = tables.get("lifetimes")
    if lifetimes is None:
        errors += _unknown(
            pom,
            "product",
            unu,
            path=folder / "pom.csv",
            what="product code",
            hint=" (not a UNU-KEY; give lifetimes.csv for other products)",
        )
        lifetimes = catalog.lifetimes()[["product", "distribution", "shape", "scale"]]
    else:
        missing = ~pom["product"].isin(set(lifetimes["product"]))
        errors += [
            InputError(
                "no lifetime for this product",
                path=folder / "pom.csv",
                row=int(i) + 2,
                column="product",
                value=str(pom["product"].iloc[i]),
                expected="a product listed in lifetimes.csv",
            )
            for i in np.flatnonzero(missing.to_numpy())
        ]
    for name, cols in (
        ("lifetimes", ["region"]),
        ("second_life", ["region"]),
        ("transfer_coefficients", ["region"]),
        ("exports", ["origin"]),
        ("population", ["region"]),
        ("groups", ["region"]),
    ):
        if name in tables:
            for col in cols:
                errors += _unknown(
                    tables[name],
                    col,
                    regions,
                    path=Path(paths[name]),
                    what="region",
                    hint=" (not in pom.csv)",
                )
    if "exports" in tables:
        errors += _unknown(
            tables["exports"],
            "destination",
            regions | {"ROW"},
            path=Path(paths["exports"]),
            what="destination",
            hint=" (not in pom.csv, nor ROW)",
        )
    if "groups" in tables:
        clash = tables["groups"]["group"].isin(regions | {"WLD"})
        errors += [
            InputError(
                "group code clashes with a region code or WLD",
                path=paths["groups"],
                row=int(i) + 2,
                column="group",
                value=str(tables["groups"]["group"].iloc[i]),
            )
            for i in np.flatnonzero(clash.to_numpy())
        ]
    if errors:
        raise InputErrors(errors)

    first = int(pom["year"].min())
    last = int(pom["year"].max()) if until is None else int(until)
    if last < first:
        raise InputError(
            f"--until {last} is before the first put-on-market year {first}",
            column="--until",
            value=last,
        )
    tcs = tables.get("transfer_coefficients")
    if tcs is None:
        from tracker import defaults

        tcs = defaults.default_transfer_coefficients(sorted(regions), years=range(first, last + 1))
        paths["transfer_coefficients"] = "calibrated defaults (tracker.defaults)"
    composition = tables.get("composition")
    if composition is None:
        composition = catalog.composition("central")[["product", "element", "g_per_t"]]
    recovery_t = tables.get("recovery")
    if recovery_t is None:
        recovery_t = catalog.recovery().rename(columns={"central": "efficiency"})
    prices = tables.get("prices")
    if prices is None:
        prices = default_prices()
    population = tables.get("population")
    if population is None and not custom_regions:
        population = catalog.population_gdp()[["region", "year", "population"]]
    groups = None
    if "groups" in tables:
        groups = dict(zip(tables["groups"]["region"], tables["groups"]["group"], strict=True))
    return ModelInputs(
        pom=pom,
        lifetimes=lifetimes,
        second_life=tables.get("second_life"),
        transfer_coefficients=tcs,
        exports=tables.get("exports"),
        composition=composition,
        recovery=recovery_t,
        prices=prices,
        population=population,
        groups=groups,
        years=(first, last),
        paths=paths,
    )


def default_prices(year: int = 2022) -> pd.DataFrame:
    """Catalogue prices of one year (USD/kg of contained element)."""
    from tracker import catalog

    prices = catalog.prices()
    return prices[prices["year"].astype(int) == year][["element", "usd_per_kg"]]


def write_run(
    result: RunResult, out: str | Path, *, inputs: ModelInputs, detail: str = "product"
) -> Path:
    """Write a run's tables into ``out`` atomically (staged, then moved into place).

    Files: ``indicators.csv``, ``flows.csv``, ``stocks.csv``, ``element_flows.csv`` and
    ``run.json`` (fingerprint, years, regions, input files, named assumptions).
    ``detail="total"`` sums flows and stocks over products (for the all-country default run,
    where product detail would be millions of rows).
    """
    import json

    from flows.balance import graph_to_frames
    from tracker.fingerprint import fingerprint, tool_version
    from tracker.model import inputs_fingerprint_tables

    G = result.graph()
    flows, stocks = graph_to_frames(G)
    if detail == "total":
        keys = ["region_from", "stage_from", "region_to", "stage_to", "year"]
        flows = flows.groupby(keys, observed=True, as_index=False)["value_t"].sum()
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
    with AtomicDir(out) as stage:
        result.indicators.to_csv(stage / "indicators.csv", index=False, float_format="%.10g")
        flows.to_csv(stage / "flows.csv", index=False, float_format="%.10g")
        stocks.to_csv(stage / "stocks.csv", index=False, float_format="%.10g")
        result.element_table().to_csv(
            stage / "element_flows.csv", index=False, float_format="%.10g"
        )
        (stage / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return Path(out)


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
            inputs = default_inputs(until=until)
            detail = "total"
        else:
            inputs = read_inputs_folder(inputs_dir, until=until)
            detail = "product"
        bar.update()
        bar.set_postfix_str("running the model")
        result = run_model(inputs)
        bar.update()
        bar.set_postfix_str("writing")
        write_run(result, out, inputs=inputs, detail=detail)
        bar.update()
    if keep:
        from tracker.model import inputs_fingerprint_tables
        from tracker.store import record_run

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

    Put on market comes from the default model (:mod:`tracker.defaults`), overridden by the
    put-on-market data that countries submitted to the store (marked ``reported``);
    transfer coefficients from the calibrated defaults by income group; UN regions are the
    aggregation groups besides ``WLD``.
    """
    from tracker import catalog, defaults

    last = 2030 if until is None else int(until)
    if not first <= last <= 2030:
        raise InputError(
            f"the default estimate covers {first}-2030",
            column="--until",
            value=until,
            expected=f"a year from {first} to 2030",
        )
    years = range(first, last + 1)
    pom = defaults.default_pom(years)
    pom = _overlay_reported_pom(pom, store=store)
    regions = sorted(pom["region"].unique())
    tcs = defaults.default_transfer_coefficients(regions, years=years)
    countries = catalog.countries()
    un = countries.set_index("iso3")["un_region"].dropna()
    groups = {r: str(un[r]) for r in regions if r in un.index and str(un[r])}
    exports = defaults.default_exports(regions)
    return ModelInputs(
        pom=pom,
        lifetimes=catalog.lifetimes()[["product", "distribution", "shape", "scale"]],
        transfer_coefficients=tcs,
        exports=exports,
        composition=catalog.composition("central")[["product", "element", "g_per_t"]],
        recovery=catalog.recovery().rename(columns={"central": "efficiency"}),
        prices=default_prices(),
        population=catalog.population_gdp()[["region", "year", "population"]],
        groups=groups,
        years=(first, last),
        paths={
            "pom": "default model (tracker.defaults, data/pom_model.csv)",
            "transfer_coefficients": str(catalog.data_path("transfer_coefficients")),
        },
    )


def _overlay_reported_pom(pom: pd.DataFrame, *, store: str | Path | None) -> pd.DataFrame:
    """Replace default put-on-market rows by the latest submitted values (status reported).

    Only an existing store is read; a missing store means "defaults only".
    """
    from tracker import settings
    from tracker.store import Store
    from tracker.submissions import overlay_reported

    path = Path(store) if store is not None else settings.store_path()
    if not path.exists():
        return pom
    st = Store(path)
    subs = st.submissions()
    if len(subs) == 0:
        return pom
    reported = pd.concat(
        [st.submission_values(c) for c in sorted(set(subs["country"]))], ignore_index=True
    )
    reported = reported[reported["indicator"] == "pom"]
    if reported.empty:
        return pom
    est = pom.rename(columns={"region": "country", "pom_t": "value_t"}).assign(indicator="pom")
    merged = overlay_reported(est, reported)
    merged = merged[merged["country"].isin(set(pom["region"]))]
    out = merged.rename(columns={"country": "region", "value_t": "pom_t"})
    logger.info("reported put-on-market data for %s", sorted(set(reported["country"])))
    return out[["region", "product", "year", "pom_t", "status", "source"]].reset_index(drop=True)


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
    result = run_model(default_inputs())
    estimates = country_estimates(result, code)
    estimates = estimates[estimates["year"].isin(TEMPLATE_YEARS)]
    with AtomicDir(out) as stage:
        written = write_templates(code, stage, estimates, by=by)  # type: ignore[arg-type]
    return [Path(out) / p.name for p in written]
