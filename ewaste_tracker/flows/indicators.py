"""E-waste indicators per region and year, world and group aggregates, and the MCI.

Every indicator is computed from *extensive* quantities (tonnes, inhabitants, USD) that are
first summed over products and, for an aggregate, over the regions of the aggregate; ratios
are then formed from those sums. An aggregate's rate is therefore a ratio of sums (the world
collection rate is world collection / world e-waste generated), never a mean of rates.

Indicators (region or aggregate :math:`r`, year :math:`n`; sums over products), following
the definitions of the Global E-waste Monitor (Forti et al. 2018; Baldé et al. 2024) where
they exist:

``pom_t``
    EEE put on market, :math:`POM` (t).
``generated_t``
    e-waste generated, :math:`WG` (t): EEE discarded by its owner, before any collection.
``stock_t``
    EEE in use (in-use stock), :math:`S` (t).
``population``
    inhabitants (inh), when population is given.
``pom_kg_per_inh``, ``generated_kg_per_inh``, ``stock_kg_per_inh``
    :math:`10^3 X / Pop` (kg/inh). An aggregate counts only regions with a population, in the
    numerator and the denominator alike.
``collected_formal_t``
    e-waste documented as formally collected, :math:`C` (t).
``collection_rate``
    :math:`C / WG` (fraction): documented formal collection over e-waste generated, the
    Monitor's collection rate.
``recycled_formal_t``
    documented formally collected and recycled e-waste, :math:`Rc` (t): formal collection sent
    to pre-processing at home or in controlled shipments, without what is refurbished and
    returns to use (:func:`ewaste_tracker.model.run.recycled_formal`). E-waste collected
    outside formal systems never counts, even where it reaches the same plants.
``recycling_rate``
    :math:`Rc / WG` (fraction): the Monitor's "documented formal collection and recycling
    rate" (22.3 % for the world in 2022).
``collection_basis_t``, ``collection_target_t``, ``collection_rate_on_basis``, ``collection_gap_t``
    Collection target after the EU WEEE Directive 2012/19/EU, Art. 7(1): from 2019 the
    minimum collection rate is 65 % of the average weight of EEE placed on the market in the
    three preceding years or, alternatively, 85 % of WEEE generated. For a target rate
    :math:`\\tau` and basis ``"pom3"``, :math:`B_n = (POM_{n-1} + POM_{n-2} + POM_{n-3})/3`
    (undefined for the first three years); for basis ``"generated"``, :math:`B_n = WG_n`.
    Target :math:`T = \\tau B` (t), achieved rate :math:`C/B`, gap :math:`T - C` (t;
    positive = shortfall, negative = target exceeded).
Per-element indicators (written ``name:<El>`` below) carry the element symbol in the
``element`` column of the frame:

``element_generated_t:<El>``
    element contained in e-waste generated (t of element).
``recovered_t:<El>``, ``lost_t:<El>``
    element recovered / lost in the region's own treatment (routes formal, informal and
    residual of :mod:`ewaste_tracker.flows.minerals`).
``exported_t:<El>``, ``imported_t:<El>``
    element leaving / entering the region in e-waste shipments (used equipment, which goes
    to another region's use or refurbishment, is not e-waste and is not counted). Per region
    and element, over the domestic routes:
    ``recovered_t + lost_t = element_generated_t + imported_t - exported_t``.
``eol_rr:<El>``
    end-of-life recycling rate (UNEP 2011): element recovered / element in e-waste generated.
``recovered_usd:<El>``, ``lost_usd:<El>``, ``recovered_usd``, ``lost_usd``
    value of element recovered / lost (USD at the prices of the same year), per element and
    summed over elements.
``recovered_formal_usd``, ``recovered_informal_usd``
    value recovered on the formal route (documented recycling: the figure comparable with the
    Monitor's 28 bn USD of 2022) and on all other routes (e-waste recycled outside formal
    systems, informal recycling, residual-waste recovery).
``element_generated_usd``
    value of the elements in e-waste generated (the Monitor's "value of raw materials").
``lfi``, ``mci``
    Linear Flow Index and Material Circularity Indicator of the region's EEE (Ellen MacArthur
    Foundation 2015), from summed flows, see :mod:`ewaste_tracker.flows.circularity`.

Cells whose value is undefined (zero denominator, the first three years of the ``pom3``
basis, per-inhabitant values without population) are left out of the frame.

References
----------
Forti V., Baldé C.P., Kuehr R. (2018). E-waste Statistics: Guidelines on Classification,
Reporting and Indicators, 2nd ed. United Nations University, ViE - SCYCLE, Bonn.

Baldé C.P., Kuehr R., Yamamoto T., et al. (2024). The Global E-waste Monitor 2024. ITU and
UNITAR, Geneva/Bonn.

Directive 2012/19/EU of the European Parliament and of the Council of 4 July 2012 on waste
electrical and electronic equipment (WEEE), Article 7(1).

UNEP (2011). Recycling Rates of Metals: A Status Report. Graedel T.E., Allwood J., Birat J.-P.
et al., Working Group on the Global Metal Flows, International Resource Panel.

Ellen MacArthur Foundation and Granta Design (2015). Circularity Indicators: An Approach to
Measuring Circularity. Methodology. Cowes, UK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ewaste_tracker.flows.circularity import (
    CircularityFlows,
    mci_from_circularity,
    sum_over_products,
)
from ewaste_tracker.flows.minerals import (
    DOMESTIC_ROUTES,
    ElementFlows,
    _categorical,
    _codes,
    element_values,
    sum_arrays,
)

logger = logging.getLogger(__name__)

__all__ = [
    "UNITS",
    "WORLD",
    "IndicatorError",
    "collection_basis",
    "indicators_arrays",
    "indicators_frame",
    "indicators_table",
]

WORLD = "WLD"
"""Region code of the world total."""

UNITS: Mapping[str, str] = {
    "pom_t": "t",
    "generated_t": "t",
    "stock_t": "t",
    "population": "inh",
    "pom_kg_per_inh": "kg/inh",
    "generated_kg_per_inh": "kg/inh",
    "stock_kg_per_inh": "kg/inh",
    "collected_formal_t": "t",
    "collection_rate": "fraction",
    "recycled_formal_t": "t",
    "recycling_rate": "fraction",
    "collection_basis_t": "t",
    "collection_target_t": "t",
    "collection_rate_on_basis": "fraction",
    "collection_gap_t": "t",
    "element_generated_t": "t",
    "recovered_t": "t",
    "lost_t": "t",
    "exported_t": "t",
    "imported_t": "t",
    "recovered_formal_usd": "USD",
    "recovered_informal_usd": "USD",
    "element_generated_usd": "USD",
    "eol_rr": "fraction",
    "recovered_usd": "USD",
    "lost_usd": "USD",
    "lfi": "index",
    "mci": "index",
}
"""Unit of each indicator (per-element names ``base:El`` take the unit of ``base``)."""


class IndicatorError(ValueError):
    """Inputs to the indicators that are mis-shaped, negative or inconsistent."""


def collection_basis(
    pom: np.ndarray, generated: np.ndarray, *, basis: Literal["pom3", "generated"] = "pom3"
) -> np.ndarray:
    """Mass the collection target applies to (EU WEEE Directive 2012/19/EU, Art. 7(1)).

    Parameters
    ----------
    pom, generated
        (R, N) tonnes over consecutive years.
    basis
        ``"pom3"``: :math:`B_n = (POM_{n-1} + POM_{n-2} + POM_{n-3}) / 3`, NaN for the first
        three years; ``"generated"``: :math:`B_n = WG_n`.

    Returns
    -------
    numpy.ndarray
        (R, N) tonnes.
    """
    if basis == "generated":
        return np.asarray(generated, dtype=float)
    if basis != "pom3":
        raise IndicatorError(
            f"collection target basis must be 'pom3' or 'generated', got {basis!r}"
        )
    pom = np.asarray(pom, dtype=float)
    out = np.full(pom.shape, np.nan)
    out[:, 3:] = (pom[:, :-3] + pom[:, 1:-2] + pom[:, 2:-1]) / 3.0
    return out


class _Aggregator:
    """Append aggregates to (R, ...) arrays: world total, then groups in first-seen order.

    Groups are summed with one gather and ``np.add.reduceat`` over regions sorted by group
    (each region belongs to at most one group), not with a dense membership matmul.
    """

    def __init__(
        self, regions: Sequence[str], groups: Mapping[str, str] | None, world: str, batch: int = 1
    ):
        self.batch = int(batch)
        self.n_regions = len(regions)
        index = {r: i for i, r in enumerate(regions)}
        self.labels = [*regions, world]
        members = [(g, index[r]) for r, g in (groups or {}).items() if r in index]
        names = list(dict.fromkeys(g for g, _ in members))
        clash = sorted(set(names) & (set(regions) | {world}))
        if clash:
            raise IndicatorError(f"group name(s) {clash} clash with region codes or {world!r}")
        unknown = sorted(set(groups or {}) - set(index))
        if unknown:
            logger.debug("group mapping names %d unmodelled regions: %s", len(unknown), unknown)
        rank = {g: i for i, g in enumerate(names)}
        members.sort(key=lambda m: rank[m[0]])  # stable: region order kept inside a group
        self.order = np.array([i for _, i in members], dtype=np.intp)
        sizes = np.bincount([rank[g] for g, _ in members], minlength=len(names))
        self.starts = (np.cumsum(sizes) - sizes).astype(np.intp)  # empty without groups
        self.labels += names

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(R, ...) → (R + 1 + G, ...): regions, world, groups (sums).

        With ``batch`` B > 1, ``x`` is (B·R, ...) (B copies of the regions, draw-major) and
        each copy is aggregated on its own: (B·(R + 1 + G), ...)."""
        if self.batch > 1:
            xb = x.reshape(self.batch, self.n_regions, *x.shape[1:])
            parts = [xb, xb.sum(axis=1, keepdims=True)]
            if len(self.starts):
                parts.append(np.add.reduceat(xb[:, self.order], self.starts, axis=1))
            out = np.concatenate(parts, axis=1)
            return out.reshape(-1, *x.shape[1:])
        parts = [x, x.sum(axis=0, keepdims=True)]
        if len(self.starts):
            parts.append(np.add.reduceat(x[self.order], self.starts, axis=0))
        return np.concatenate(parts)


def indicators_frame(
    *,
    regions: Sequence[str],
    years: Sequence[int] | np.ndarray,
    pom: np.ndarray,
    generated: np.ndarray,
    stock: np.ndarray,
    collected_formal: np.ndarray,
    recycled_formal: np.ndarray | None = None,
    population: np.ndarray | None = None,
    element_recovery: ElementFlows | None = None,
    element_generated: np.ndarray | None = None,
    element_imported: np.ndarray | None = None,
    prices: np.ndarray | None = None,
    collection_target: np.ndarray | float | None = None,
    target_basis: Literal["pom3", "generated"] = "pom3",
    circularity: CircularityFlows | None = None,
    utility: float = 1.0,
    groups: Mapping[str, str] | None = None,
    world: str = WORLD,
) -> pd.DataFrame:
    """Indicators per region and year, plus the world and group aggregates.

    The tidy form of :func:`indicators_arrays` (one batch).

    Parameters
    ----------
    regions, years
        Labels of the R and N axes (years consecutive when ``target_basis="pom3"``).
    pom, generated, stock, collected_formal, recycled_formal
        Tonnes, (R, P, N) or (R, N); products are summed.
    population
        (R, N) inhabitants; NaN where unknown.
    element_recovery
        Output of :func:`ewaste_tracker.flows.minerals.recovery` (gives ``recovered_t``, ``lost_t``,
        ``exported_t`` per element).
    element_generated
        (R, E, N) tonnes of element in e-waste generated
        (``ewaste_tracker.flows.minerals.element_flows`` of ``generated``); with
        ``element_recovery`` gives ``eol_rr``.
    element_imported
        (R, E, N) tonnes of element in e-waste imports (gives ``imported_t``).
    prices
        USD/kg per element, (E,) or (E, N); gives the ``*_usd`` indicators.
    collection_target
        Target collection rate :math:`\\tau`, scalar or (R, N), on ``target_basis``
        (EU: 0.65 on ``"pom3"`` or 0.85 on ``"generated"``).
    circularity
        Inputs of the flow-based MCI
        (:func:`ewaste_tracker.flows.circularity.circularity_from_flows`); gives ``lfi`` and
        ``mci``.
    utility
        MCI utility :math:`X`, one value for all regions.
    groups
        Region → group (e.g. UN region); each group becomes an aggregate row set.
    world
        Code of the world total.

    Returns
    -------
    pandas.DataFrame
        Columns ``region,year,indicator,element,value,unit`` ordered by region (modelled
        regions, then ``world``, then groups), year and indicator; definitions in the module
        docstring. ``element`` is the element symbol of per-element indicators and missing
        otherwise. Undefined cells are omitted.

    Raises
    ------
    IndicatorError
        On mis-shaped or negative inputs, years not consecutive for ``"pom3"``, or a group
        name that clashes with a region code.
    """
    labels, years_arr, names, values = indicators_arrays(
        regions=regions, years=years, pom=pom, generated=generated, stock=stock,
        collected_formal=collected_formal, recycled_formal=recycled_formal,
        population=population, element_recovery=element_recovery,
        element_generated=element_generated, element_imported=element_imported, prices=prices,
        collection_target=collection_target, target_basis=target_basis,
        circularity=circularity, utility=utility, groups=groups, world=world,
    )  # fmt: skip
    return indicators_table(labels, years_arr, names, values[0])


def indicators_table(
    labels: list[str], years: np.ndarray, names: list[str], values: np.ndarray
) -> pd.DataFrame:
    """The tidy indicator table of one ``(K, N, I)`` block of :func:`indicators_arrays`."""
    return _to_frame(labels, np.asarray(years, dtype=np.int64), names, np.asarray(values))


def indicators_arrays(
    *,
    regions: Sequence[str],
    years: Sequence[int] | np.ndarray,
    pom: np.ndarray,
    generated: np.ndarray,
    stock: np.ndarray,
    collected_formal: np.ndarray,
    recycled_formal: np.ndarray | None = None,
    population: np.ndarray | None = None,
    element_recovery: ElementFlows | None = None,
    element_generated: np.ndarray | None = None,
    element_imported: np.ndarray | None = None,
    prices: np.ndarray | None = None,
    collection_target: np.ndarray | float | None = None,
    target_basis: Literal["pom3", "generated"] = "pom3",
    circularity: CircularityFlows | None = None,
    utility: float = 1.0,
    groups: Mapping[str, str] | None = None,
    world: str = WORLD,
    batch: int = 1,
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """The indicators of :func:`indicators_frame` as one dense array, for ``batch`` copies of
    the regions at once (Monte Carlo draws run as pseudo-regions).

    Parameters are those of :func:`indicators_frame`, with every (R, ...) array given as
    (B·R, ...) for ``batch`` = B (copy b of region r at row b·R + r; ``population`` and
    ``collection_target`` may stay (R, N) or scalar) and ``prices`` either (E,), (E, N) or
    (B·R, E, 1|N) (one price set per copy, equal over its regions).

    Returns
    -------
    labels, years, names, values
        Row labels (regions, ``world``, groups), years, indicator names (``base`` or
        ``base:El``) and values ``(B, K, N, I)`` with NaN where undefined.
    """
    b_count = int(batch)
    years_arr = np.asarray(years, dtype=np.int64)
    shape = (b_count * len(regions), len(years_arr))
    agg = _Aggregator(regions, groups, world, batch=b_count)

    def ratio(num: np.ndarray, den: np.ndarray, scale: float = 1.0) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)

    base = {
        name: sum_over_products(name, arr, shape, error=IndicatorError)
        for name, arr in (
            ("pom", pom),
            ("generated", generated),
            ("stock", stock),
            ("collected_formal", collected_formal),
        )
    }
    q = {name: agg(arr) for name, arr in base.items()}
    names: list[str] = ["pom_t", "generated_t", "stock_t", "collected_formal_t"]
    blocks: list[np.ndarray] = [q["pom"], q["generated"], q["stock"], q["collected_formal"]]
    names.append("collection_rate")
    blocks.append(ratio(q["collected_formal"], q["generated"]))
    if recycled_formal is not None:
        rec = agg(
            sum_over_products("recycled_formal", recycled_formal, shape, error=IndicatorError)
        )
        names += ["recycled_formal_t", "recycling_rate"]
        blocks += [rec, ratio(rec, q["generated"])]
    if population is not None:
        pop = np.asarray(population, dtype=float)
        if b_count > 1 and pop.shape == (len(regions), len(years_arr)):
            pop = np.tile(pop, (b_count, 1))
        if pop.shape != shape:
            raise IndicatorError(f"population must be (R, N) = {shape}, got {pop.shape}")
        known = np.isfinite(pop)
        if (pop[known] < 0).any():
            raise IndicatorError("population has negative values")
        pop_sum = agg(np.where(known, pop, 0.0))
        by_copy = pop_sum.reshape(b_count, -1, pop_sum.shape[1])  # a view
        by_copy[:, : len(regions)][~known.reshape(b_count, len(regions), -1)] = np.nan
        names.append("population")
        blocks.append(pop_sum)
        for name in ("pom", "generated", "stock"):
            names.append(f"{name}_kg_per_inh")
            blocks.append(ratio(agg(np.where(known, base[name], 0.0)), pop_sum, scale=1e3))
    if collection_target is not None:
        if target_basis == "pom3" and len(years_arr) > 1 and (np.diff(years_arr) != 1).any():
            raise IndicatorError("years must be consecutive for the 'pom3' collection basis")
        tau_in = np.asarray(collection_target, dtype=float)
        if b_count > 1 and tau_in.shape == (len(regions), len(years_arr)):
            tau_in = np.tile(tau_in, (b_count, 1))
        tau = np.broadcast_to(tau_in, shape)
        if not ((tau >= 0) & (tau <= 1)).all():
            raise IndicatorError("collection_target must be a rate in [0, 1]")
        basis = collection_basis(base["pom"], base["generated"], basis=target_basis)
        b = agg(basis)
        target = agg(tau * basis)
        names += [
            "collection_basis_t",
            "collection_target_t",
            "collection_rate_on_basis",
            "collection_gap_t",
        ]
        blocks += [b, target, ratio(q["collected_formal"], b), target - q["collected_formal"]]
    if element_recovery is not None or element_generated is not None:
        el_names, el_blocks = _element_blocks(
            element_recovery,
            element_generated,
            prices,
            agg,
            ratio,
            element_imported,
            batch=b_count,
        )
        names += el_names
        blocks += el_blocks
    if circularity is not None:
        res = mci_from_circularity(circularity.aggregate(agg), utility=utility)
        names += ["lfi", "mci"]
        blocks += [res.lfi, res.mci]
    labels = agg.labels
    values = np.stack(blocks, axis=2)  # (B·K, N, I)
    return labels, years_arr, names, values.reshape(b_count, len(labels), *values.shape[1:])


def _element_blocks(
    element_recovery: ElementFlows | None,
    element_generated: np.ndarray | None,
    prices: np.ndarray | None,
    agg: Callable[[np.ndarray], np.ndarray],
    ratio: Callable[[np.ndarray, np.ndarray], np.ndarray],
    element_imported: np.ndarray | None = None,
    *,
    batch: int = 1,
) -> tuple[list[str], list[np.ndarray]]:
    """Per-element indicators as (R + K, N) blocks, named ``base:El``."""
    names: list[str] = []
    blocks: list[np.ndarray] = []
    elements: tuple[str, ...] = element_recovery.elements if element_recovery else ()

    def add(base: str, arr: np.ndarray, els: Sequence[str]) -> None:
        names.extend(f"{base}:{el}" for el in els)
        blocks.extend(np.moveaxis(arr, 1, 0))  # (R+K, E, N) -> E blocks of (R+K, N)

    gen = None
    if element_generated is not None:
        gen = agg(np.asarray(element_generated, dtype=float))
        if element_recovery is None:
            raise IndicatorError("element_generated needs element_recovery for element labels")
        if gen.shape[1] != len(elements):
            raise IndicatorError(
                f"element_generated has {gen.shape[1]} elements, recovery has {len(elements)}"
            )
        add("element_generated_t", gen, elements)
    if element_recovery is not None:
        recovered = agg(element_recovery.total("recovered_t"))
        add("recovered_t", recovered, elements)
        add("lost_t", agg(element_recovery.total("lost_t")), elements)
        if "exported" in element_recovery.routes:
            exported = element_recovery.routes["exported"].input_t
            add("exported_t", agg(exported), elements)
        if element_imported is not None:
            add("imported_t", agg(np.asarray(element_imported, dtype=float)), elements)
        if gen is not None:
            add("eol_rr", ratio(recovered, gen), elements)
        if prices is not None:
            values = element_values(element_recovery, prices)
            rec_usd = agg(sum_arrays([values[r][0] for r in DOMESTIC_ROUTES]))
            lost_usd = agg(sum_arrays([values[r][1] for r in DOMESTIC_ROUTES]))
            add("recovered_usd", rec_usd, elements)
            add("lost_usd", lost_usd, elements)
            names += ["recovered_usd", "lost_usd", "recovered_formal_usd",
                      "recovered_informal_usd"]  # fmt: skip
            formal_usd = agg(values["formal"][0]).sum(axis=1)
            blocks += [rec_usd.sum(axis=1), lost_usd.sum(axis=1), formal_usd,
                       rec_usd.sum(axis=1) - formal_usd]  # fmt: skip
            if gen is not None:
                per_t = np.asarray(prices, dtype=float)
                if per_t.ndim == 3:  # (B·R, E, ·): one price set per copy → (B·K, E, ·)
                    first = per_t.reshape(batch, -1, *per_t.shape[1:])[:, :1]
                    per_t = (
                        np.repeat(first, gen.shape[0] // batch, axis=1).reshape(
                            gen.shape[0], *per_t.shape[1:]
                        )
                        * 1e3
                    )
                else:
                    per_t = (per_t[:, None] if per_t.ndim == 1 else per_t)[None] * 1e3
                names.append("element_generated_usd")
                blocks.append((gen * per_t).sum(axis=1))
    return names, blocks


def _to_frame(
    labels: list[str], years: np.ndarray, names: list[str], values: np.ndarray
) -> pd.DataFrame:
    """Tidy frame from the ``(K, N, I)`` cube, vectorised; drops undefined cells.

    ``names`` are ``indicator`` or ``indicator:element``; the frame has the two parts in the
    columns ``indicator`` and ``element`` (missing for indicators of no element). Every column
    is one masked read of its axis's codes broadcast over the cube (row-major order, the
    order of the cells kept): no integer division of flat positions and no gather through an
    indicator index (a world run keeps ~4 million cells).
    """
    n_k = values.shape[0]
    keep = np.isfinite(values)
    parts = [n.split(":", 1) for n in names]
    bases = [p[0] for p in parts]
    base_labels = list(dict.fromkeys(bases))
    base_codes = np.array([base_labels.index(b) for b in bases], dtype=np.int16)
    el_names = [p[1] if len(p) > 1 else None for p in parts]
    el_labels = list(dict.fromkeys(e for e in el_names if e is not None))
    el_codes = np.array([-1 if e is None else el_labels.index(e) for e in el_names], dtype=np.int16)
    units = [UNITS[b] for b in bases]
    unit_labels = list(dict.fromkeys(units))
    unit_codes = np.array([unit_labels.index(u) for u in units], dtype=np.int8)

    def along(axis_codes: np.ndarray, axis: int) -> np.ndarray:
        shape = [1, 1, 1]
        shape[axis] = axis_codes.size
        return np.broadcast_to(axis_codes.reshape(shape), keep.shape)[keep]

    reg_codes = along(np.arange(n_k, dtype=_codes(n_k).dtype), 0)
    year = along(np.asarray(years, dtype=np.int64), 1)
    values = values[keep]
    return pd.DataFrame(
        {
            "region": _categorical(reg_codes, labels),
            "year": year,
            "indicator": _categorical(along(base_codes, 2), base_labels),
            "element": _categorical(along(el_codes, 2), el_labels),
            "value": values,
            "unit": _categorical(along(unit_codes, 2), unit_labels),
        },
        copy=False,
    )
