"""Run the whole material-flow system from tidy tables.

:class:`ModelInputs` gathers the tables a run needs (put on market, lifetimes, transfer
coefficients, exports, composition, recovery, prices, population, aggregation groups);
:func:`run_model` turns them into a :class:`RunResult`: the dense lifecycle system
(:mod:`ewaste_tracker.flows.system`), element flows by route (:mod:`ewaste_tracker.flows.minerals`)
and the indicator table (:mod:`ewaste_tracker.flows.indicators`). Tables are validated before they
reach here (:mod:`ewaste_tracker.model.inputs`); engine errors are re-raised as
:class:`~ewaste_tracker.errors.InputError` naming the file.

Named model assumptions
-----------------------
``second_life_half_scale``
    When no second-life lifetime is given, refurbished and imported used equipment stays in
    use with the first-life distribution's shape and half its scale (a refurbished device has
    lived part of its life; the factor 0.5 is this project's assumption, not a published value).
``recovery_central``
    Recovery efficiencies are the central values of ``data/recovery.csv`` unless a scenario
    chooses ``low`` or ``high``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.flows.circularity import circularity_from_flows
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.errors import TransferCoefficientError
from ewaste_tracker.flows.indicators import indicators_arrays, indicators_table
from ewaste_tracker.flows.lifetime_table import LifetimeExtension, LifetimeTable
from ewaste_tracker.flows.lifetimes import discard_matrix
from ewaste_tracker.flows.minerals import (
    ElementFlows,
    efficiencies_from_frame,
    element_flows,
    element_flows_to_frame,
    prices_from_frame,
    recovery,
    route_inputs_from_flows,
)
from ewaste_tracker.flows.system import SystemResult, build_system, system_to_graph
from ewaste_tracker.flows.transfer import ExportDestinations, TransferCoefficients
from ewaste_tracker.model.inputs import dense_pom, lifetime_table, sorted_codes
from ewaste_tracker.settings import engine_threads, tune_allocator

logger = logging.getLogger(__name__)

#: Recovery routes of ``data/recovery.csv`` → efficiency keys of
#: :mod:`ewaste_tracker.flows.minerals`.
ROUTE_KEYS = {"preprocessing": "formal_pre", "endprocessing": "formal_end",
              "informal": "informal", "residual": "residual"}  # fmt: skip
SECOND_LIFE_SCALE = 0.5
EU_COLLECTION_TARGET = 0.65


@dataclass
class ModelInputs:
    """The tables of one run (validated).

    Attributes
    ----------
    pom
        ``region,product,year,pom_t`` (optional ``status``: reported / estimated).
    lifetimes, second_life
        ``product,distribution,shape,scale[,region,cohort_year]``; ``second_life`` ``None``
        applies the assumption ``second_life_half_scale``.
    transfer_coefficients
        ``region,product,year,from_stage,to_stage,share``.
    exports
        ``origin,destination,to_stage,share[,product]`` or ``None`` (all exports leave).
    composition
        ``product,element,g_per_t``.
    recovery
        ``route,element,efficiency`` (routes preprocessing, endprocessing, informal, residual).
    prices
        ``element,usd_per_kg``.
    population
        ``region,year,population`` or ``None``.
    groups
        Region → aggregate code (e.g. UN region), besides the world total ``WLD``.
    years
        First and last model year; default: the POM years.
    lifetime_extension
        A lifetime-extension policy (:class:`ewaste_tracker.flows.lifetimes.LifetimeExtension`)
        acting on devices already in use as well as on later cohorts, first and second life;
        ``None`` (default) for none.
    paths
        Table name → file it came from, for messages and provenance.
    """

    pom: pd.DataFrame
    lifetimes: pd.DataFrame
    transfer_coefficients: pd.DataFrame
    composition: pd.DataFrame
    recovery: pd.DataFrame
    prices: pd.DataFrame | None = None
    second_life: pd.DataFrame | None = None
    exports: pd.DataFrame | None = None
    population: pd.DataFrame | None = None
    groups: Mapping[str, str] | None = None
    years: tuple[int, int] | None = None
    collection_target: float = EU_COLLECTION_TARGET
    paths: dict[str, str] = field(default_factory=dict)
    lifetime_extension: LifetimeExtension | None = None


@dataclass
class RunResult:
    """Everything a run computed.

    Attributes
    ----------
    dims
        Regions, products, years and elements of the dense arrays.
    system
        Dense flows and stocks (:class:`ewaste_tracker.flows.system.SystemResult`).
    elements
        Element flows by route (:class:`ewaste_tracker.flows.minerals.ElementFlows`).
    element_generated
        ``(R, E, N)`` tonnes of each element in e-waste generated.
    indicators
        ``region,year,indicator,value,unit``.
    prices
        ``(E, 1)`` USD/kg, or ``None``.
    reported_gaps
        Reported values the model could not meet (see :mod:`ewaste_tracker.reported.overlay`), when
        the run imposed reported data.
    """

    dims: Dims
    system: SystemResult
    elements: ElementFlows
    element_generated: np.ndarray
    indicators: pd.DataFrame
    prices: np.ndarray | None
    reported_gaps: pd.DataFrame | None = None
    first_life: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False,
                                                            compare=False)  # fmt: skip
    """Lifetime groups ``(R, P)`` and discard matrices ``(G, N, N)`` of the run's
    ``inputs.lifetimes`` (:attr:`RunArrays.first_life`), or ``None`` when a lifetime
    extension changed them; the footprint's vintages reuse them instead of rebuilding."""

    def graph(self) -> nx.DiGraph:
        """The lifecycle graph (edges carry ``(P, N)`` views of the dense flows)."""
        return system_to_graph(self.system)

    def element_table(self) -> pd.DataFrame:
        """Tidy element flows ``region,year,element,route,input_t,recovered_t,lost_t[,usd]``."""
        return element_flows_to_frame(
            self.elements, regions=self.dims.regions, years=self.dims.years, prices=self.prices
        )


def _engine_error(exc: Exception, path: str | None) -> InputErrors:
    """An engine validation error as an input error naming the file (row + 2 = CSV line)."""
    row = getattr(exc, "row", None)
    where = {k: getattr(exc, k, None) for k in ("region", "product", "year")}
    node = getattr(exc, "node", None)
    context = ", ".join(f"{k} {v}" for k, v in where.items() if v is not None)
    if node is not None:
        context = f"node {node}" + (f", {context}" if context else "")
    reason = getattr(exc, "reason", str(exc))
    return InputErrors(
        [
            InputError(
                f"{reason} ({context})" if context else reason,
                path=path,
                row=None if row is None else int(row) + 2,
                column=getattr(exc, "column", None),
            )
        ]
    )


def _second_life(lifetimes: pd.DataFrame) -> pd.DataFrame:
    out = lifetimes.copy()
    out["scale"] = out["scale"].astype(float) * SECOND_LIFE_SCALE
    return out


def _dense_by_region_year(frame: pd.DataFrame, dims: Dims, column: str) -> np.ndarray:
    out = np.full((len(dims.regions), len(dims.years)), np.nan)
    keep = frame["region"].isin(set(dims.regions)) & frame["year"].astype("int64").between(
        int(dims.years[0]), int(dims.years[-1])
    )
    sub = frame[keep.to_numpy()]
    r = dims.region_index(sub["region"])
    n = sub["year"].to_numpy(dtype=np.int64) - int(dims.years[0])
    out[r, n] = sub[column].to_numpy(dtype=float)
    return out


@dataclass
class PreparedRun:
    """A run's inputs as the engine's arrays, before anything is computed.

    :func:`prepare_run` builds it from the tables; :func:`compute_run` runs it. The Monte Carlo
    (:mod:`ewaste_tracker.uncertainty`) tiles it into ``batch`` copies of the regions
    (pseudo-regions, draw-major: copy b of region r is row b·R + r) with perturbed arrays.

    Attributes
    ----------
    dims
        Axes of the dense arrays (``regions`` has B·R pseudo-regions when ``batch`` > 1).
    regions
        The R real regions (labels of the indicator rows).
    pom
        ``(B·R, P, N)`` put on market, tonnes.
    composition
        ``(P, E, 1)`` g/t, or ``(B, P, E, 1)`` one per copy.
    first_life, second_life
        Lifetime tables on ``dims``.
    tcs, exports
        Transfer coefficients and export destinations on ``dims``.
    efficiencies
        Efficiency key → ``(E, 1)``, or ``(B·R, E, 1)``.
    prices
        ``(E, N)`` USD/kg, ``(B·R, E, N)``, or ``None``.
    population
        ``(R, N)`` or ``None``.
    """

    dims: Dims
    regions: tuple[str, ...]
    pom: np.ndarray
    composition: np.ndarray
    first_life: LifetimeTable
    second_life: LifetimeTable
    tcs: TransferCoefficients
    exports: ExportDestinations | None
    efficiencies: dict[str, np.ndarray]
    prices: np.ndarray | None
    population: np.ndarray | None
    collection_target: float
    groups: Mapping[str, str] | None
    batch: int = 1


@dataclass
class RunArrays:
    """What :func:`compute_run` returns: the dense system, elements and indicator array."""

    system: SystemResult
    elements: ElementFlows
    element_generated: np.ndarray
    labels: list[str]
    names: list[str]
    values: np.ndarray
    """``(B, K, N, I)`` indicators (:func:`ewaste_tracker.flows.indicators.indicators_arrays`)."""
    first_life: tuple[np.ndarray, np.ndarray] | None = None
    """First-life lifetime groups ``(R, P)`` and discard matrices ``(G, N, N)`` of the run."""


def prepare_run(inputs: ModelInputs) -> PreparedRun:
    """Validate and densify a run's tables (no model computation)."""
    pom = inputs.pom
    first, last = inputs.years or (int(pom["year"].min()), int(pom["year"].max()))
    region_codes, regions = sorted_codes(pom["region"])
    product_codes, products = sorted_codes(pom["product"])
    elements = tuple(sorted(inputs.composition["element"].unique()))
    dims = Dims(regions, products, np.arange(first, last + 1), elements)
    paths = inputs.paths
    composition = _composition_array(inputs.composition, dims)
    _check_product_mass(composition, dims, paths.get("composition", "composition"))

    table = lifetime_table(inputs.lifetimes, dims, path=paths.get("lifetimes", "lifetimes"))
    second = (
        inputs.second_life if inputs.second_life is not None else _second_life(inputs.lifetimes)
    )
    table2 = lifetime_table(second, dims, path=paths.get("second_life", "second_life"))
    if inputs.lifetime_extension is not None:
        table = extended_table(table, inputs.lifetime_extension)
        table2 = extended_table(table2, inputs.lifetime_extension)
    try:
        tcs = TransferCoefficients.from_frame(inputs.transfer_coefficients, dims)
    except TransferCoefficientError as exc:
        raise _engine_error(exc, paths.get("transfer_coefficients")) from exc
    exports = None
    if inputs.exports is not None:
        try:
            exports = ExportDestinations.from_frame(inputs.exports, dims)
        except TransferCoefficientError as exc:
            raise _engine_error(exc, paths.get("exports")) from exc
    eff_frame = inputs.recovery.assign(route=inputs.recovery["route"].map(ROUTE_KEYS))
    eff_frame = eff_frame[eff_frame["route"].notna()]
    efficiencies = efficiencies_from_frame(eff_frame, elements=elements)
    prices = None
    if inputs.prices is not None:
        prices = prices_from_frame(inputs.prices, elements=elements, years=dims.years)
    population = None
    if inputs.population is not None:
        population = _dense_by_region_year(inputs.population, dims, "population")
    dense = dense_pom(pom, dims, codes=(region_codes, product_codes))
    return PreparedRun(
        dims, regions, dense, composition, table, table2, tcs, exports,
        efficiencies, prices, population, float(inputs.collection_target), inputs.groups,
    )  # fmt: skip


def compute_run(prep: PreparedRun) -> RunArrays:
    """Run stocks, flows, minerals and indicators of a prepared run (every region at once)."""
    tune_allocator()  # the engine's temporaries reuse freed memory (settings.tune_allocator)
    with engine_threads():  # small matrix products: one BLAS thread (settings.engine_threads)
        return _compute_run(prep)


def _compute_run(prep: PreparedRun) -> RunArrays:
    dims = prep.dims
    elements = dims.elements
    m1 = discard_matrix(prep.first_life, dims.years)
    m2 = discard_matrix(prep.second_life, dims.years)
    system = build_system(
        prep.pom,
        dims,
        prep.tcs,
        (prep.first_life.group, m1),
        second_life=(prep.second_life.group, m2),
        exports=prep.exports,
    )
    waste_out, waste_in = waste_trade(system)
    routes = route_inputs_from_flows(system.flows, imported=system.imports, exported=waste_out)
    composition = prep.composition
    elements_result = recovery(routes, composition, prep.efficiencies, elements=elements)
    generated = generated_net_of_reuse(system)
    generated_el = element_flows(generated, composition)
    imported_el = element_flows(waste_in, composition)
    recycled = recycled_formal(system)
    imported_recycling = sum(
        (system.imports[s] for s in ("preprocessing", "recycling_informal") if s in system.imports),
        start=np.zeros(dims.shape),
    )
    collected = system.flows[("generated", "collection_formal")]
    labels, _, names, values = indicators_arrays(
        regions=prep.regions,
        years=dims.years,
        pom=system.flows[("market", "use")],
        generated=generated,
        stock=system.use_stock,
        collected_formal=collected,
        recycled_formal=recycled,
        population=prep.population,
        element_recovery=elements_result,
        element_generated=generated_el,
        element_imported=imported_el,
        prices=prep.prices,
        collection_target=prep.collection_target,
        circularity=circularity_from_flows(
            system.flows,
            imported_reuse=system.imports.get("use"),
            imported_recycling=imported_recycling,
        ),
        groups=prep.groups,
        batch=prep.batch,
    )
    return RunArrays(system, elements_result, generated_el, labels, names, values,
                     (prep.first_life.group, m1))  # fmt: skip


def run_model(inputs: ModelInputs) -> RunResult:
    """Run stocks, flows, minerals and indicators for every region at once.

    Parameters
    ----------
    inputs
        Validated tables.

    Returns
    -------
    RunResult
    """
    tune_allocator()
    prep = prepare_run(inputs)
    out = compute_run(prep)
    indicators = indicators_table(out.labels, prep.dims.years, out.names, out.values[0])
    return RunResult(
        prep.dims, out.system, out.elements, out.element_generated, indicators, prep.prices,
        first_life=out.first_life if inputs.lifetime_extension is None else None,
    )  # fmt: skip


def extended_table(table: LifetimeTable, extension: LifetimeExtension) -> LifetimeTable:
    """``table`` with ``extension`` on the cells it targets (codes not in the run are left out)."""
    products = (
        None
        if extension.products is None
        else tuple(p for p in extension.products if p in set(table.products))
    )
    regions = None if extension.regions is None else tuple(
        r for r in extension.regions if r in set(table.regions))  # fmt: skip
    if (products is not None and not products) or (regions is not None and not regions):
        return table
    return table.with_extension(replace(extension, products=products, regions=regions))


def _sum_links_by_origin(
    trade_flows: np.ndarray, origin: np.ndarray, links: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Sum of the trade links ``links`` per origin region, ``shape`` = (R, P, N).

    One sparse product with an incidence matrix over *all* links (ones in the chosen
    columns only), so the chosen links' rows are read in place instead of copied out first
    (the links of a batch of Monte Carlo draws weigh gigabytes).
    """
    n_links = trade_flows.shape[0]
    incidence = sp.csr_matrix(
        (np.ones(links.size), (np.asarray(origin)[links], np.asarray(links))),
        shape=(shape[0], n_links),
    )
    return np.asarray(incidence @ trade_flows.reshape(n_links, -1)).reshape(shape)


USED_STAGES = ("use", "refurbishment")
"""Destination stages of trade links that carry used equipment, not e-waste."""


def waste_trade(system: SystemResult) -> tuple[np.ndarray, np.ndarray]:
    r"""E-waste (not used equipment) shipped out of and into every region, (R, P, N) tonnes.

    Exports to another region's ``use`` or ``refurbishment`` are used equipment (they are not
    counted in the origin's e-waste generated, :func:`generated_net_of_reuse`); every other
    export (to pre-processing, informal recycling or outside the modelled regions) is
    e-waste. Imports are what arrives in ``preprocessing``, ``recycling_informal`` and
    ``refurbishment``, the stages whose output is treated here. With these, per region
    :math:`	ext{treated} = WG^{net} + 	ext{imported} - 	ext{exported}`.
    """
    shape = system.generated.shape
    out = np.zeros(shape)
    exports = system.exports
    if exports is not None and len(exports.destination):
        stages = np.asarray(exports.to_stage)
        dest = np.asarray(exports.destination)
        waste = np.flatnonzero(~np.isin(stages, USED_STAGES) | (dest < 0))
        if waste.size:
            out = _sum_links_by_origin(system.trade_flows, exports.origin, waste, shape)
    inflow = sum(
        (np.asarray(system.imports[s], float) for s in ("preprocessing", "recycling_informal",
                                                         "refurbishment") if s in system.imports),
        start=np.zeros(shape),
    )  # fmt: skip
    return out, inflow


def recycled_formal(system: SystemResult) -> np.ndarray:
    r"""Documented formally collected and recycled e-waste (the Global E-waste Monitor's
    numerator of its collection-and-recycling rate), (R, P, N) tonnes.

    .. math:: Rc = F_{cf 	o pre} + F_{cf 	o export} + \phi\, F_{ref 	o pre},

    formal collection sent to pre-processing at home or in controlled shipments, plus the
    formal share :math:`\phi` of refurbishment rejects (formal collection that is refurbished
    and returns to use is reused, not recycled).
    """
    f = system.flows
    zero = np.zeros(system.generated.shape)
    ref_in = sum((a for (src, dst), a in f.items() if dst == "refurbishment"), start=zero.copy())
    ref_in = ref_in + system.imports.get("refurbishment", 0.0)
    formal_ref = f.get(("collection_formal", "refurbishment"), zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(ref_in > 0, formal_ref / np.where(ref_in > 0, ref_in, 1.0), 0.0)
    return (
        f.get(("collection_formal", "preprocessing"), zero)
        + f.get(("collection_formal", "export"), zero)
        + phi * f.get(("refurbishment", "preprocessing"), zero)
    )


def generated_net_of_reuse(system: SystemResult) -> np.ndarray:
    r"""E-waste generated as the Global E-waste Monitor counts it: discards that do not return
    to use.

    The lifecycle graph sends every device leaving use to ``generated``; some come back to use
    (refurbished locally, or exported as used equipment into another region's use or
    refurbishment). The Monitor's sales-lifespan lifetimes already include such reuse, so
    ``generated_t`` reports

    .. math:: WG^{net}_r = WG_r - F_{ref \to use, r} - \sum_{d} X^{used}_{r \to d},

    and a device is counted once, where it is finally discarded.
    """
    net = system.generated - system.flows[("refurbishment", "use")]
    exports = system.exports
    if exports is not None and len(exports.destination):
        stages = np.asarray(exports.to_stage)
        # used equipment to modelled regions' use/refurbishment, or to ROW as a "use" link
        links = np.flatnonzero(np.isin(stages, ["use", "refurbishment"]))
        if links.size:
            shape = system.generated.shape
            net = net - _sum_links_by_origin(system.trade_flows, exports.origin, links, shape)
    return np.maximum(net, 0.0)


def _composition_array(frame: pd.DataFrame, dims: Dims) -> np.ndarray:
    """``(P, E, 1)`` grams per tonne; products without a row have zero content."""
    out = np.zeros((len(dims.products), len(dims.elements), 1))
    keep = frame["product"].isin(set(dims.products)) & frame["element"].isin(set(dims.elements))
    sub = frame[keep.to_numpy()]
    p = dims.product_index(sub["product"])
    e = dims.element_index(sub["element"])
    out[p, e, 0] = sub["g_per_t"].to_numpy(dtype=float)
    return out


def _check_product_mass(composition: np.ndarray, dims: Dims, path: str) -> None:
    """Refuse a composition whose elements weigh more than the product (before any work)."""
    total = composition.sum(axis=1)[:, 0]
    over = np.flatnonzero(total > 1e6 * (1 + 1e-9))
    if over.size:
        worst = over[np.argmax(total[over])]
        raise InputError(
            f"the elements of {over.size} product(s) weigh more than the product itself, "
            f"e.g. product {dims.products[worst]}: {total[worst]:,.0f} g/t",
            path=path, column="g_per_t",
            expected="element contents summing to at most 1,000,000 g/t per product",
        )  # fmt: skip


def inputs_fingerprint_tables(inputs: ModelInputs) -> dict[str, pd.DataFrame]:
    """The input tables by name, for fingerprinting a run."""
    tables = {
        "pom": inputs.pom, "lifetimes": inputs.lifetimes,
        "transfer_coefficients": inputs.transfer_coefficients,
        "composition": inputs.composition, "recovery": inputs.recovery,
    }  # fmt: skip
    for name in ("prices", "second_life", "exports", "population"):
        value = getattr(inputs, name)
        if value is not None:
            tables[name] = value
    if inputs.groups:
        tables["groups"] = pd.DataFrame(
            {"region": list(inputs.groups), "group": list(inputs.groups.values())}
        )
    ext = inputs.lifetime_extension
    if ext is not None:
        tables["lifetime_extension"] = pd.DataFrame(
            {"from_year": [ext.from_year], "factor": [ext.factor],
             "products": [" ".join(ext.products or ())], "regions": [" ".join(ext.regions or ())]}
        )  # fmt: skip
    return tables


def source_path(path: str | Path | None) -> str:
    """Display form of an input path."""
    return "" if path is None else str(path)
