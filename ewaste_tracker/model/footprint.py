"""A run's footprint: the catalogue's life-cycle factors on the run's dense flows.

:func:`factors_for_run` turns the factor tables (:func:`ewaste_tracker.catalog.footprint_factors`,
:func:`~ewaste_tracker.catalog.refrigerant_gwp`, :func:`~ewaste_tracker.catalog.element_footprint`)
into the arrays of :class:`ewaste_tracker.flows.footprint.FootprintFactors` for a run's
products and years; :func:`footprint_from_run` feeds them with the run's put on market, use
stock and treatment routes to :mod:`ewaste_tracker.flows.footprint` and returns the tidy
table; :func:`factors_table` is the wide ``footprint_factors`` output table.

Named assumptions
-----------------
``use_stock_mid_year``
    the stock in use during a year is the mean of the stocks at its start and end.
``grid_intensity_constant``
    every year uses the latest carbon intensity of the country's electricity in
    ``data/grid_intensity.csv`` (the year is in the table; the world mean where a country
    is missing).
``vintage_first_life``
    the refrigerant, blowing agent and mercury content of a year's e-waste follows the
    cohorts the first-life discard curve sends to waste that year.
``capture_formal``
    formal treatment recaptures 90 % of refrigerants and blowing agents (70-95 %;
    EN 50625-2-3 degassing and foam treatment requirements, recalled), 95 % of mercury
    (lamp and backlight treatment) and 100 % of the plastics with brominated flame
    retardants (sorted out and incinerated); not formally treated e-waste releases all of it.
``row_exports_untreated``
    exports leaving the modelled regions are counted as not formally treated, at the origin.
``mining_avoided_formal_route``
    avoided mining is credited to metals recovered on the formal route (pre-processing and
    end-processing) only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.footprint import (
    ICT_PRODUCTS,
    FootprintFactors,
    footprint_arrays,
    footprint_frame,
    treatment_split,
    vintage_content,
)
from ewaste_tracker.flows.lifetimes import discard_matrix
from ewaste_tracker.flows.system import SystemResult
from ewaste_tracker.model.inputs import lifetime_table
from ewaste_tracker.model.run import ROUTE_KEYS, ModelInputs, RunResult

__all__ = [
    "CAPTURE",
    "FACTOR_COLUMNS",
    "element_levels",
    "factor_levels",
    "factors_for_dims",
    "factors_for_run",
    "factors_table",
    "footprint_arrays_for_run",
    "footprint_from_run",
    "footprint_sums",
    "footprint_sums_for_run",
    "grid_for_regions",
    "row_exports",
]

logger = logging.getLogger(__name__)

CAPTURE: Mapping[str, tuple[float, float, float]] = {
    "refrigerant": (0.70, 0.90, 0.95),
    "mercury": (0.80, 0.95, 1.00),
    "bfr": (0.90, 1.00, 1.00),
}
"""Formal capture efficiency (low, central, high): named assumption ``capture_formal``."""
PER_PIECE = {
    "embodied_kg_co2e_per_piece": "embodied_kg_co2e",
    "primary_energy_mj_per_piece": "embodied_mj",
    "water_m3_per_piece": "embodied_water_m3",
    "adp_kg_sb_eq_per_piece": "embodied_kg_sb",
    "use_kwh_per_piece_year": "use_kwh",
    "bfr_plastics_kg_per_piece": "bfr_kg",
}
LEVELS = ("low", "central", "high")


def _vintage(rows: pd.DataFrame, products: tuple[str, ...], years: np.ndarray,
             weight: pd.Series | None = None) -> np.ndarray:  # fmt: skip
    """``(3, P, N)`` low, central, high sums of the rows' values over the years each applies
    to (put-on-market year)."""
    out = np.zeros((len(LEVELS), len(products), len(years)))
    if rows.empty:
        return out
    index = {p: i for i, p in enumerate(products)}
    keep = rows["product"].isin(index)
    rows = rows[keep.to_numpy()]
    values = rows[list(LEVELS)].to_numpy(float).T  # (3, rows)
    if weight is not None:
        values = values * rows["substance"].map(weight).to_numpy(float)
    lo = rows["from_year"].fillna(-10_000).to_numpy("int64")
    hi = rows["to_year"].fillna(10_000).to_numpy("int64")
    inside = (years[None, :] >= lo[:, None]) & (years[None, :] <= hi[:, None])  # (rows, N)
    p = rows["product"].map(index).to_numpy(int)
    for i in range(len(LEVELS)):
        np.add.at(out[i], p, inside * values[i][:, None])
    return out


def factors_for_run(
    inputs: ModelInputs, result: RunResult, *, level: str = "central",
    table: pd.DataFrame | None = None,
) -> FootprintFactors:  # fmt: skip
    """Factor arrays for a run's products and years.

    Parameters
    ----------
    inputs, result
        The run (composition and recovery come from its inputs).
    level
        ``low``, ``central`` or ``high`` of every factor (the Monte Carlo draws between
        them: :mod:`ewaste_tracker.uncertainty.footprint`).
    table
        Footprint factors (default :func:`ewaste_tracker.catalog.footprint_factors`).
    """
    return factors_for_dims(inputs, result.dims, level=level, table=table)


def element_levels(elements: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``(3, E)`` low, central, high primary and secondary kg CO2e per kg of each element
    (``data/element_footprint.csv``; 0 for an element the file does not list)."""
    table = catalog.element_footprint()
    out = {}
    for factor in ("primary_kg_co2e_per_kg", "secondary_kg_co2e_per_kg"):
        rows = table[table["factor"] == factor].set_index("element")
        out[factor] = rows.reindex(list(elements))[list(LEVELS)].fillna(0.0).to_numpy(float).T
    return out


def factors_for_dims(
    inputs: ModelInputs, dims: Dims, *, level: str = "central",
    table: pd.DataFrame | None = None,
) -> FootprintFactors:  # fmt: skip
    """:func:`factors_for_run` for the products and years of ``dims``."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return factor_levels(inputs, dims, table=table)[LEVELS.index(level)]


def factor_levels(
    inputs: ModelInputs, dims: Dims, *, table: pd.DataFrame | None = None
) -> list[FootprintFactors]:
    """The low, central and high :class:`FootprintFactors` of a run's products and years."""
    products, years = dims.products, dims.years
    table = catalog.footprint_factors() if table is None else table
    weights = catalog.products().set_index("unu_key")["unit_weight_kg"].astype(float)
    missing = sorted(set(products) - set(weights.index))
    if missing:
        raise ValueError(f"no unit weight for product(s) {missing} (data/products.csv)")
    unit_weight = weights.reindex(list(products)).to_numpy(float)
    by_factor = dict(tuple(table.groupby("factor", sort=False)))
    empty = table.iloc[:0]
    simple: dict[str, np.ndarray] = {}  # attr -> (3, P)
    for factor, attr in PER_PIECE.items():
        rows = by_factor.get(factor, empty).set_index("product")[list(LEVELS)]
        simple[attr] = rows.reindex(list(products)).fillna(0.0).to_numpy(float).T
    gwp = catalog.refrigerant_gwp().set_index("substance")["gwp100"].astype(float)
    refr = _vintage(by_factor.get("refrigerant_kg_per_piece", empty), products, years,
                    weight=gwp)  # fmt: skip
    hg = _vintage(by_factor.get("mercury_mg_per_piece", empty), products, years)
    # avoided mining per tonne entering formal pre-processing
    el = catalog.element_footprint().set_index(["factor", "element"])[list(LEVELS)]
    delta = (el.loc["primary_kg_co2e_per_kg"] - el.loc["secondary_kg_co2e_per_kg"]).clip(
        lower=0.0
    )  # (E, 3)
    rec = inputs.recovery.assign(route=inputs.recovery["route"].map(ROUTE_KEYS))
    eff = rec.pivot_table(index="element", columns="route", values="efficiency", aggfunc="first")
    pre = eff["formal_pre"] if "formal_pre" in eff else pd.Series(0.0, index=eff.index)
    end = eff["formal_end"] if "formal_end" in eff else pd.Series(0.0, index=eff.index)
    chain = (pre * end).reindex(delta.index).fillna(0.0)
    per_el = delta.mul(chain, axis=0)
    comp = inputs.composition.merge(per_el, left_on="element", right_index=True, how="inner")
    grams = comp["g_per_t"].astype(float).to_numpy() * 1e-6
    mining = (
        pd.DataFrame(comp[list(LEVELS)].to_numpy(float) * grams[:, None], columns=list(LEVELS))
        .groupby(comp["product"].to_numpy())
        .sum()
        .reindex(list(products))
        .fillna(0.0)
        .to_numpy(float)
        .T
    )  # (3, P)
    return [
        FootprintFactors(
            unit_weight_kg=unit_weight,
            refrigerant_kg_co2e=refr[i],
            mercury_mg=hg[i],
            mining_t_co2e_per_t=mining[i],
            capture={k: v[i] for k, v in CAPTURE.items()},
            **{attr: v[i] for attr, v in simple.items()},
        )
        for i in range(len(LEVELS))
    ]


def grid_for_regions(dims_regions: tuple[str, ...], n_years: int) -> np.ndarray:
    """``(R, N)`` gCO2e/kWh of each region (named assumption ``grid_intensity_constant``)."""
    grid = catalog.grid_intensity().set_index("region")["g_co2e_per_kwh"].astype(float)
    world = float(grid.get("WLD", grid.mean()))
    values = grid.reindex(list(dims_regions)).fillna(world).to_numpy(float)
    return np.repeat(values[:, None], n_years, axis=1)


def row_exports(system: SystemResult, shape: tuple[int, int, int]) -> np.ndarray | None:
    """Exports leaving the modelled regions, ``(R, P, N)`` at their origin (``None``: none)."""
    exports = system.exports
    if exports is None:  # every export leaves the system
        return sum(
            (a for (_, b), a in system.flows.items() if b == "export"),
            start=np.zeros(shape),
        )
    links = np.flatnonzero(np.asarray(exports.destination) < 0)
    if links.size == 0:
        return None
    out = np.zeros(shape)
    np.add.at(out, np.asarray(exports.origin)[links], system.trade_flows[links])
    return out


def _first_life(inputs: ModelInputs, result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Lifetime groups and discard matrices of ``inputs.lifetimes`` (the run's, else rebuilt)."""
    kept = getattr(result, "first_life", None)
    if kept is not None:
        return kept
    table = lifetime_table(inputs.lifetimes, result.dims,
                           path=inputs.paths.get("lifetimes", "lifetimes"))  # fmt: skip
    return table.group, discard_matrix(table, result.dims.years)


def footprint_arrays_for_run(
    inputs: ModelInputs, result: RunResult, *, level: str = "central"
) -> dict[str, np.ndarray]:
    """Every footprint indicator as ``(R, P, N)`` arrays (:mod:`ewaste_tracker.flows.footprint`)."""
    dims = result.dims
    system = result.system
    factors = factors_for_run(inputs, result, level=level)
    group, M = _first_life(inputs, result)
    pom = system.flows[("market", "use")]
    formal, untreated, pre = treatment_split(
        system.flows, imports=system.imports, exported_out=row_exports(system, dims.shape)
    )
    return footprint_arrays(
        pom=pom,
        stock=system.use_stock,
        formal=formal,
        untreated=untreated,
        preprocessing=pre,
        factors=factors,
        grid_g_per_kwh=grid_for_regions(dims.regions, len(dims.years)),
        refrigerant_content=vintage_content(pom, factors.refrigerant_kg_co2e, group, M),
        mercury_content=vintage_content(pom, factors.mercury_mg, group, M),
    )


def footprint_sums_for_run(
    inputs: ModelInputs,
    result: RunResult,
    *,
    level: str = "central",
    ict: tuple[str, ...] = ICT_PRODUCTS,
    block: int = 64,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every footprint indicator summed over all products and over the ``ict`` products.

    The same numbers as summing :func:`footprint_arrays_for_run` over the product axis,
    computed ``block`` regions at a time, so the ``(R, P, N)`` indicator arrays are never
    held for every region at once.

    Returns
    -------
    dict
        Indicator name → ``(all, ict)``, each ``(R, N)``.
    """
    dims = result.dims
    factors = factors_for_run(inputs, result, level=level)
    group, M = _first_life(inputs, result)
    return footprint_sums(
        result.system, dims=dims, first_life=(group, M),
        factors=lambda sl: factors, grid=grid_for_regions(dims.regions, len(dims.years)),
        ict=ict, block=block,
    )  # fmt: skip


def footprint_sums(
    system: SystemResult,
    *,
    dims: Dims,
    first_life: tuple[np.ndarray, np.ndarray],
    factors: Callable[[slice], FootprintFactors],
    grid: np.ndarray,
    ict: tuple[str, ...] = ICT_PRODUCTS,
    block: int = 64,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Footprint sums over products of a dense system, ``block`` region rows at a time.

    Parameters
    ----------
    system
        The lifecycle system on ``dims`` (a Monte Carlo batch has B·R region rows).
    dims
        Its axes.
    first_life
        ``(group (R, P), M (G, N, N))``: first-life lifetime groups and discard matrices
        (for the vintage of refrigerants and mercury).
    factors
        Factors of the region rows of a slice (the same for every row of a central run).
    grid
        ``(R, N)`` gCO2e/kWh per region row.
    ict, block
        Products of the ``ict`` group; region rows per block.

    Returns
    -------
    dict
        Indicator name → ``(all, ict)``, each ``(R, N)``.
    """
    group_all, M = first_life
    row_out = row_exports(system, dims.shape)
    mask = np.isin(np.asarray(dims.products, dtype=object), list(ict))
    parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for start in range(0, len(dims.regions), block):
        sl = slice(start, start + block)
        flows = {k: v[sl] for k, v in system.flows.items()}
        imports = {k: v[sl] for k, v in system.imports.items()}
        pom = flows[("market", "use")]
        formal, untreated, pre = treatment_split(
            flows, imports=imports, exported_out=None if row_out is None else row_out[sl]
        )
        group = group_all[sl]
        f = factors(sl)
        arrays = footprint_arrays(
            pom=pom, stock=system.use_stock[sl], formal=formal, untreated=untreated,
            preprocessing=pre, factors=f, grid_g_per_kwh=grid[sl],
            refrigerant_content=_vintage_rows(pom, f.refrigerant_kg_co2e, group, M, sl),
            mercury_content=_vintage_rows(pom, f.mercury_mg, group, M, sl),
        )  # fmt: skip
        for name, arr in arrays.items():
            every, some = parts.setdefault(name, ([], []))
            every.append(arr.sum(axis=1))
            some.append(arr[:, mask].sum(axis=1))
    return {k: (np.concatenate(a), np.concatenate(b)) for k, (a, b) in parts.items()}


def _vintage_rows(
    pom: np.ndarray, factor: np.ndarray, group: np.ndarray, M: np.ndarray, sl: slice
) -> np.ndarray:
    """:func:`vintage_content` of the products that carry the content (the rest is 0)."""
    factor = np.asarray(factor, dtype=float)
    carry = np.flatnonzero(factor.reshape(-1, *factor.shape[-2:]).max(axis=(0, 2)) > 0)
    out = np.zeros(pom.shape)
    if carry.size:
        sub = factor[..., carry, :]
        out[:, carry] = vintage_content(pom[:, carry], sub, group[:, carry], M)
    return out


def footprint_from_run(
    inputs: ModelInputs, result: RunResult, *, level: str = "central"
) -> pd.DataFrame:
    """The footprint table of a run: ``region, year, group, indicator, value, unit``."""
    arrays = footprint_arrays_for_run(inputs, result, level=level)
    dims = result.dims
    return footprint_frame(
        arrays, regions=dims.regions, products=dims.products, years=dims.years,
        groups=inputs.groups, ict=ICT_PRODUCTS,
    )  # fmt: skip


FACTOR_COLUMNS = (
    "product", "description", "ict", "unit_weight_kg",
    "embodied_kg_co2e_per_piece", "embodied_kg_co2e_per_piece_low",
    "embodied_kg_co2e_per_piece_high", "embodied_kg_co2e_per_kg",
    "primary_energy_mj_per_piece", "water_m3_per_piece", "adp_kg_sb_eq_per_piece",
    "use_kwh_per_piece_year", "refrigerants", "refrigerant_kg_co2e_per_piece_latest",
    "mercury_mg_per_piece_latest", "bfr_plastics_kg_per_piece", "reference_year",
    "system_boundary", "status", "source", "other_sources",
)  # fmt: skip
"""Columns of the ``footprint_factors`` output table."""


def factors_table(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The wide ``footprint_factors`` table: one row per UNU-KEY with the central factors.

    ``source`` and ``status`` are those of the embodied GHG; ``other_sources`` lists the
    sources of the other factors of the row; refrigerant and mercury columns give the
    content of the latest vintage, ``refrigerants`` every substance with its sale years.
    """
    table = catalog.footprint_factors() if table is None else table
    products = catalog.products()[["unu_key", "description", "unit_weight_kg"]]
    out = products.rename(columns={"unu_key": "product"}).copy()
    out["ict"] = out["product"].isin(ICT_PRODUCTS)

    def central(factor: str, col: str = "central") -> pd.Series:
        rows = table[table["factor"] == factor].set_index("product")[col]
        return out["product"].map(rows)

    emb = table[table["factor"] == "embodied_kg_co2e_per_piece"].set_index("product")
    out["embodied_kg_co2e_per_piece"] = central("embodied_kg_co2e_per_piece")
    out["embodied_kg_co2e_per_piece_low"] = central("embodied_kg_co2e_per_piece", "low")
    out["embodied_kg_co2e_per_piece_high"] = central("embodied_kg_co2e_per_piece", "high")
    out["embodied_kg_co2e_per_kg"] = out["embodied_kg_co2e_per_piece"] / out["unit_weight_kg"]
    for f in ("primary_energy_mj_per_piece", "water_m3_per_piece", "adp_kg_sb_eq_per_piece",
              "use_kwh_per_piece_year", "bfr_plastics_kg_per_piece"):  # fmt: skip
        out[f] = central(f)
    gwp = catalog.refrigerant_gwp().set_index("substance")["gwp100"].astype(float)
    ref = table[table["factor"] == "refrigerant_kg_per_piece"]
    latest_ref = ref[ref["to_year"].isna()]
    out["refrigerants"] = out["product"].map(
        ref.assign(
            label=ref["substance"] + " " + ref["from_year"].astype("string").fillna("…")
            + "-" + ref["to_year"].astype("string").fillna("…")
        ).groupby("product")["label"].agg("; ".join)
    ).fillna("")  # fmt: skip
    out["refrigerant_kg_co2e_per_piece_latest"] = out["product"].map(
        (latest_ref["central"] * latest_ref["substance"].map(gwp)).groupby(latest_ref["product"])
        .sum()
    ).fillna(0.0)  # fmt: skip
    hg = table[(table["factor"] == "mercury_mg_per_piece")]
    tail = hg.sort_values("from_year", na_position="first").groupby("product").tail(1)
    latest_hg = tail[tail["to_year"].isna()].set_index("product")["central"]
    out["mercury_mg_per_piece_latest"] = out["product"].map(latest_hg).fillna(0.0)
    out["reference_year"] = out["product"].map(emb["reference_year"]).astype("Int64")
    out["system_boundary"] = out["product"].map(emb["system_boundary"])
    out["status"] = out["product"].map(emb["status"])
    out["source"] = out["product"].map(emb["source"])
    others = table[table["factor"] != "embodied_kg_co2e_per_piece"]
    out["other_sources"] = out["product"].map(
        others.assign(text=others["factor"] + ": " + others["source"])
        .drop_duplicates(["product", "text"])
        .groupby("product")["text"]
        .agg(" || ".join)
    )
    return out[list(FACTOR_COLUMNS)].reset_index(drop=True)
