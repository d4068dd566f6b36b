"""Element flows, recovery by treatment route and their value.

Composition turns product mass flows into element flows; recovery efficiencies by route and
element split each route's element input into *recovered* and *lost*; prices give USD.

Units follow ``docs/architecture.md``: product mass in tonnes, composition in grams of element
per tonne of product (g/t, i.e. ppm by mass), element flows in tonnes of element, prices in
USD per kilogram of element.

Element flow
    For region :math:`r`, product :math:`p`, element :math:`e` and year :math:`n`,

    .. math:: m_{r,e,n} = 10^{-6} \\sum_p M_{r,p,n} \\, c_{p,e,n}

    with :math:`M` the product flow (t) and :math:`c` the composition (g/t). It is computed as
    one batched matrix product (BLAS), never as an (R, P, N, E) array.

Recovery routes (element entering the route's first stage, :math:`m`)
    ``formal``
        e-waste of documented formal collection (and controlled imports) through
        pre-processing (dismantling, shredding, sorting) then end-processing (smelting,
        refining): :math:`m^{rec} = m\\,\\eta^{pre}_e\\,\\eta^{end}_e`, lost in pre-processing
        :math:`m(1-\\eta^{pre}_e)` (fractions that go to residues, dust, wrong output
        streams) and lost in refining :math:`m\\,\\eta^{pre}_e(1-\\eta^{end}_e)` (slag,
        off-gas). Chancerel et al. (2009) measured :math:`\\eta^{pre}` of 0.256 for Au and
        0.115 for Ag in a German plant; an integrated smelter-refinery recovers "far more
        than 95 per cent" of Au, Pd, Ag, Cu, Sn and Sb from circuit boards (Hagelüken, n.d.).
    ``scrap``
        e-waste collected outside formal systems that reaches the same pre- and end-processing
        plants (in richer countries, traded and shredded with metal scrap; Baldé et al. 2024:
        16 Mt in 2022), with the formal route's efficiencies. Pre-processing mixes the two;
        its input is split by origin (:func:`route_inputs_from_flows`), so the ``formal``
        route carries mass only where there is formal collection (or controlled imports).
    ``informal``
        backyard recycling: :math:`m^{rec} = m\\,\\eta^{inf}_e`, the rest lost to the
        ``environment`` (open burning, acid baths, dumping).
    ``residual``
        e-waste thrown away with residual waste: :math:`m^{rec} = m\\,\\eta^{res}_e` (e.g.
        ferrous scrap from incinerator bottom ash; default 0), the rest lost to
        ``landfill_incineration``.
    ``exported``
        element leaving the region in transboundary shipments of e-waste. It is recovered (or
        lost) where it is treated: the caller adds it to the destination's route inputs
        (``imported`` of :func:`route_inputs_from_flows`), and it is counted neither as
        recovered nor as lost at the origin (``recovered_t = lost_t = 0``), so every tonne is
        counted once. Per region and element the balance is
        :math:`\text{recovered} + \text{lost} = \text{generated} + \text{imported} -
        \text{exported}` over the domestic routes.

References
----------
Chancerel P., Meskers C.E.M., Hagelüken C., Rotter V.S. (2009). Assessment of precious metal
flows during preprocessing of waste electrical and electronic equipment. Journal of
Industrial Ecology 13(5), 791-810.

Hagelüken C. (Umicore), interview "More gold in waste than in mines" by B. Beyers, factory
magazin (online, undated).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "DOMESTIC_ROUTES",
    "EFFICIENCY_KEYS",
    "LOSS_KINDS",
    "ROUTES",
    "CompositionError",
    "EfficiencyError",
    "ElementFlows",
    "RouteResult",
    "efficiencies_from_frame",
    "element_flows",
    "element_flows_to_frame",
    "element_values",
    "prices_from_frame",
    "recovery",
    "route_inputs_from_flows",
]

ROUTES: tuple[str, ...] = ("formal", "scrap", "informal", "residual", "exported")
"""Recovery routes, in frame order."""

DOMESTIC_ROUTES: tuple[str, ...] = ("formal", "scrap", "informal", "residual")
"""Routes treated inside the region (``exported`` is treated elsewhere)."""

EFFICIENCY_KEYS: tuple[str, ...] = ("formal_pre", "formal_end", "informal", "residual")
"""Efficiency parameters: formal pre-processing, formal end-processing, informal, residual."""

LOSS_KINDS: Mapping[str, tuple[str, ...]] = {
    "formal": ("preprocessing", "refining"),
    "scrap": ("preprocessing", "refining"),
    "informal": ("environment",),
    "residual": ("landfill_incineration",),
    "exported": (),
}
"""How each route's loss is split."""

G_PER_T = 1e6  # grams per tonne
KG_PER_T = 1e3


class CompositionError(ValueError):
    """Composition array of the wrong shape, or with negative or impossible contents."""


class EfficiencyError(ValueError):
    """Recovery efficiency or price missing, or outside its allowed range."""


@dataclass(frozen=True)
class RouteResult:
    """Element balance of one route, arrays (R, E, N) in tonnes of element.

    ``input_t`` enters the route, ``recovered_t`` is recovered as secondary raw material,
    ``lost_t`` is lost and equals the sum of ``losses`` (split by kind, :data:`LOSS_KINDS`).
    """

    input_t: np.ndarray
    recovered_t: np.ndarray
    lost_t: np.ndarray
    losses: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class ElementFlows:
    """Result of :func:`recovery`: element labels (E axis) and one :class:`RouteResult` per
    route, in :data:`ROUTES` order."""

    elements: tuple[str, ...]
    routes: dict[str, RouteResult]

    def total(self, quantity: str, routes: Sequence[str] = DOMESTIC_ROUTES) -> np.ndarray:
        """Sum ``input_t``, ``recovered_t`` or ``lost_t`` over routes, giving (R, E, N)."""
        if quantity not in ("input_t", "recovered_t", "lost_t"):
            raise ValueError(f"quantity must be input_t, recovered_t or lost_t, got {quantity!r}")
        missing = [r for r in routes if r not in self.routes]
        if missing:
            raise KeyError(f"routes {missing} not in this result (has {list(self.routes)})")
        return sum_arrays([getattr(self.routes[r], quantity) for r in routes])


def _check_composition(
    composition: np.ndarray, n_products: int, n_years: int, products: Sequence[str] | None
) -> np.ndarray:
    comp = np.asarray(composition, dtype=float)
    label = (lambda p: f"product {products[p]!r}") if products else (lambda p: f"product index {p}")
    if comp.ndim == 4 and comp.shape[1] == n_products and comp.shape[3] == 1:
        # (X, P, E, 1): one composition per block of regions (Monte Carlo draws)
        _check_composition(comp.transpose(1, 2, 0, 3)[..., 0], n_products, comp.shape[0], products)
        return comp
    if comp.ndim != 3 or comp.shape[0] != n_products or comp.shape[2] not in (1, n_years):
        raise CompositionError(
            f"composition must have shape (P={n_products}, E, N={n_years}) or (P, E, 1) in g/t, "
            f"got {comp.shape}"
        )
    bad = ~np.isfinite(comp) | (comp < 0)
    if bad.any():
        p, e, n = np.argwhere(bad)[0]
        raise CompositionError(
            f"composition is negative or not finite for {label(p)}, element index {e}, "
            f"year index {n}: {comp[p, e, n]!r} g/t"
        )
    total = comp.sum(axis=1)
    if (total > G_PER_T * (1 + 1e-9)).any():
        p, n = np.argwhere(total > G_PER_T * (1 + 1e-9))[0]
        raise CompositionError(
            f"elements of {label(p)} (year index {n}) add up to {total[p, n]:.6g} g/t, "
            f"more than the product's own mass (1e6 g/t)"
        )
    return comp


def element_flows(
    mass: np.ndarray, composition: np.ndarray, *, products: Sequence[str] | None = None
) -> np.ndarray:
    """Turn product mass flows into element flows.

    Parameters
    ----------
    mass
        Product flow (R, P, N) in tonnes.
    composition
        Grams of element per tonne of product, (P, E, N) when it varies by year of the flow or
        (P, E, 1) when it does not.
    products
        Product labels, used only to name a product in error messages.

    Returns
    -------
    numpy.ndarray
        (R, E, N) tonnes of element, :math:`m_{r,e,n} = 10^{-6}\\sum_p M_{r,p,n} c_{p,e,n}`.

    Raises
    ------
    CompositionError
        If the composition's shape does not match ``mass`` or a content is negative, not
        finite, or the contents of one product add up to more than 10⁶ g/t.

    Notes
    -----
    Constant composition is one broadcast matmul ``(E, P) @ (R, P, N) -> (R, E, N)``; yearly
    composition is a batched matmul over years ``(N, R, P) @ (N, P, E)``. Both run in BLAS.
    """
    mass = np.asarray(mass, dtype=float)
    if mass.ndim != 3:
        raise ValueError(f"mass must be a (R, P, N) array in tonnes, got shape {mass.shape}")
    return _contract([mass], composition, products)[0]


def _contract(
    masses: Sequence[np.ndarray], composition: np.ndarray, products: Sequence[str] | None
) -> list[np.ndarray]:
    """Element flows of several (R, P, N) arrays of one shape, one BLAS contraction each."""
    n_regions, n_products, n_years = masses[0].shape
    comp = _check_composition(composition, n_products, n_years, products) / G_PER_T
    if comp.ndim == 4:
        # block x of regions has its own composition: (X, 1, E, P) @ (X, R/X, P, N)
        blocks = comp.shape[0]
        if n_regions % blocks:
            raise CompositionError(
                f"{blocks} composition blocks do not divide {n_regions} regions evenly"
            )
        w = np.ascontiguousarray(comp[..., 0].transpose(0, 2, 1))[:, None]
        return [
            np.matmul(w, m.reshape(blocks, n_regions // blocks, n_products, n_years)).reshape(
                n_regions, -1, n_years
            )
            for m in masses
        ]
    if comp.shape[2] == 1:
        weights = comp[:, :, 0].T  # (E, P)
        return [np.matmul(weights, m) for m in masses]
    # batched over years: (N, R, P) @ (N, P, E) -> (N, R, E), then back to (R, E, N)
    comp_n = np.ascontiguousarray(comp.transpose(2, 0, 1))
    return [
        np.ascontiguousarray(
            np.matmul(np.ascontiguousarray(m.transpose(2, 0, 1)), comp_n).transpose(1, 2, 0)
        )
        for m in masses
    ]


def _as_param(
    values: np.ndarray | Sequence[float] | float,
    elements: Sequence[str],
    n_years: int,
    name: str,
    *,
    upper: float = 1.0,
) -> np.ndarray:
    """Check a per-element parameter (E,), (E, 1) or (E, N) in [0, upper]; return (1, E, 1|N).

    An (X, E, 1|N) array (one parameter set per block of regions, e.g. Monte Carlo draws) is
    checked and returned as it is."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 3 and arr.shape[1] == len(elements) and arr.shape[2] in (1, n_years):
        bad3 = ~np.isfinite(arr) | (arr < 0) | (arr > upper)
        if bad3.any():
            x, e, n = np.argwhere(bad3)[0]
            raise EfficiencyError(
                f"{name} for element {elements[e]!r} (block {x}, year index {n}) is "
                f"{arr[x, e, n]!r}; it must be in [0, {upper}]"
            )
        return arr
    arr = np.full((len(elements), 1), float(arr)) if arr.ndim == 0 else arr
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[0] != len(elements) or arr.shape[1] not in (1, n_years):
        raise EfficiencyError(
            f"{name} must have shape (E={len(elements)},), (E, 1) or (E, N={n_years}), "
            f"got {np.shape(values)}"
        )
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > upper)
    if bad.any():
        e, n = np.argwhere(bad)[0]
        raise EfficiencyError(
            f"{name} for element {elements[e]!r} (year index {n}) is {arr[e, n]!r}; "
            f"it must be in [0, {upper}]"
        )
    return arr[None, :, :]


def _interpolate_years(
    frame: pd.DataFrame, value: str, keys: list[str], years: np.ndarray | None
) -> dict[tuple[str, ...], np.ndarray]:
    """Values per key as (N,) arrays (linear in year, held flat outside) or (1,) without years."""
    missing = sorted({*keys, value} - set(frame.columns))
    if missing:
        raise EfficiencyError(f"table lacks column(s) {missing}; has {list(frame.columns)}")
    out: dict[tuple[str, ...], np.ndarray] = {}
    has_year = "year" in frame.columns and years is not None
    for key, sub in frame.groupby(keys, sort=False):
        key_t = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        if has_year and sub["year"].notna().any():
            sub = sub.sort_values("year")
            out[key_t] = np.interp(
                np.asarray(years, float), sub["year"].to_numpy(float), sub[value].to_numpy(float)
            )
        elif len(sub) > 1:
            raise EfficiencyError(
                f"{len(sub)} rows for {dict(zip(keys, key_t, strict=True))} and no year (or no "
                f"`years` given) to tell them apart"
            )
        else:
            out[key_t] = sub[value].to_numpy(float)[:1]
    return out


def efficiencies_from_frame(
    frame: pd.DataFrame, *, elements: Sequence[str], years: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Read recovery efficiencies from a tidy table.

    Parameters
    ----------
    frame
        Columns ``element``, ``route`` (one of :data:`EFFICIENCY_KEYS`) and ``efficiency``
        (fraction), optionally ``year``: values are then interpolated linearly between the
        years given and held constant outside them.
    elements
        Element order of the result.
    years
        Years of the N axis, needed when ``frame`` has a ``year`` column.

    Returns
    -------
    dict
        Efficiency key to an (E, 1) or (E, N) array; ``residual`` defaults to 0, every other
        key is required for every element (else :class:`EfficiencyError`).
    """
    values = _interpolate_years(frame, "efficiency", ["route", "element"], years)
    unknown = sorted(set(frame["route"]) - set(EFFICIENCY_KEYS))
    if unknown:
        raise EfficiencyError(
            f"unknown route(s) {unknown} in efficiency table; use {EFFICIENCY_KEYS}"
        )
    width = 1 if years is None or "year" not in frame.columns else len(years)
    out: dict[str, np.ndarray] = {}
    for key in EFFICIENCY_KEYS:
        arr = np.zeros((len(elements), width))
        for i, el in enumerate(elements):
            v = values.get((key, el))
            if v is None:
                if key != "residual":
                    raise EfficiencyError(f"no {key!r} efficiency for element {el!r}")
                continue
            arr[i] = v
        out[key] = arr
    return out


def prices_from_frame(
    frame: pd.DataFrame, *, elements: Sequence[str], years: np.ndarray | None = None
) -> np.ndarray:
    """Read element prices (USD/kg) from a table with ``element,usd_per_kg[,year]``.

    With a ``year`` column, prices are interpolated linearly over ``years`` and held constant
    outside the years given; returns (E, N), else (E, 1).

    Raises
    ------
    EfficiencyError
        If an element has no price or a price is negative.
    """
    values = _interpolate_years(frame, "usd_per_kg", ["element"], years)
    width = 1 if years is None or "year" not in frame.columns else len(years)
    out = np.empty((len(elements), width))
    for i, el in enumerate(elements):
        if (el,) not in values:
            raise EfficiencyError(f"no price (usd_per_kg) for element {el!r}")
        out[i] = values[(el,)]
    if (out < 0).any() or not np.isfinite(out).all():
        raise EfficiencyError("prices must be finite and non-negative USD/kg")
    return out


def _check_input(route: str, arr: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(arr, dtype=float)
    if arr.ndim != 3 or (shape is not None and arr.shape != shape):
        raise ValueError(
            f"route {route!r} input must be (R, P, N) like the others, got {arr.shape}"
        )
    if not (arr >= 0).all():
        r, p, n = np.argwhere(~(arr >= 0))[0]
        raise ValueError(
            f"route {route!r} input is negative or NaN at region index {r}, product index {p}, "
            f"year index {n}: {arr[r, p, n]!r} t"
        )
    return arr


def recovery(
    route_inputs: Mapping[str, np.ndarray],
    composition: np.ndarray,
    efficiencies: pd.DataFrame | Mapping[str, np.ndarray | Sequence[float] | float],
    *,
    elements: Sequence[str],
    years: np.ndarray | None = None,
    products: Sequence[str] | None = None,
) -> ElementFlows:
    """Split each route's element input into recovered and lost.

    Parameters
    ----------
    route_inputs
        Route name (see :data:`ROUTES`) to product mass entering it, (R, P, N) in tonnes.
        Missing routes are zero.
    composition
        (P, E, N) or (P, E, 1) in g/t, as for :func:`element_flows`.
    efficiencies
        Either a table for :func:`efficiencies_from_frame` or a mapping from
        :data:`EFFICIENCY_KEYS` to fractions shaped (E,), (E, 1) or (E, N); ``residual``
        defaults to 0.
    elements
        Element labels of the E axis.
    years
        Years of the N axis (only for a table with a ``year`` column).
    products
        Product labels, used only in error messages.

    Returns
    -------
    ElementFlows
        One :class:`RouteResult` per route in :data:`ROUTES`, arrays (R, E, N) in tonnes,
        with ``recovered_t + lost_t == input_t`` (to rounding) on the domestic routes, zero
        recovered and lost on ``exported``, and the loss split of :data:`LOSS_KINDS`.
        Equations are in the module docstring.

    Raises
    ------
    EfficiencyError
        On a missing or out-of-range efficiency.
    ValueError
        On an unknown route or a negative input.
    """
    unknown = sorted(set(route_inputs) - set(ROUTES))
    if unknown:
        raise ValueError(f"unknown route(s) {unknown}; routes are {ROUTES}")
    if not route_inputs:
        raise ValueError("route_inputs is empty: give at least one route's (R, P, N) input")
    shape = None
    checked: dict[str, np.ndarray] = {}
    for route, arr in route_inputs.items():
        checked[route] = _check_input(route, arr, shape)
        shape = checked[route].shape
    assert shape is not None
    n_el, n_years = len(elements), shape[2]
    if isinstance(efficiencies, pd.DataFrame):
        eff_in: Mapping[str, object] = efficiencies_from_frame(
            efficiencies, elements=elements, years=years
        )
    else:
        eff_in = efficiencies
    unknown_eff = sorted(set(eff_in) - set(EFFICIENCY_KEYS))
    if unknown_eff:
        raise EfficiencyError(f"unknown efficiency key(s) {unknown_eff}; use {EFFICIENCY_KEYS}")
    eff: dict[str, np.ndarray] = {}
    for key in EFFICIENCY_KEYS:
        if key not in eff_in:
            if key != "residual":
                raise EfficiencyError(f"efficiency {key!r} is required")
            eff[key] = np.zeros((1, n_el, 1))
        else:
            eff[key] = _as_param(eff_in[key], elements, n_years, f"efficiency {key!r}")  # type: ignore[arg-type]
    comp = np.asarray(composition, dtype=float)
    if comp.ndim not in (3, 4) or comp.shape[-2 if comp.ndim == 4 else 1] != n_el:
        raise CompositionError(
            f"composition must be (P, E={n_el}, N or 1) to match elements {tuple(elements)}, "
            f"got {comp.shape}"
        )
    present = [r for r in ROUTES if r in checked]
    contracted = dict(
        zip(present, _contract([checked[r] for r in present], comp, products), strict=True)
    )
    routes: dict[str, RouteResult] = {}
    for route in ROUTES:  # four fixed routes
        m = contracted[route] if route in contracted else np.zeros((shape[0], n_el, n_years))
        if route in ("formal", "scrap"):
            through_pre = m * eff["formal_pre"]
            recovered = through_pre * eff["formal_end"]
            losses = {"preprocessing": m - through_pre, "refining": through_pre - recovered}
            lost = m - recovered
        elif route in ("informal", "residual"):
            recovered = m * eff[route]
            lost = m - recovered
            losses = {LOSS_KINDS[route][0]: lost}
        else:  # exported: counted where it is treated
            recovered = np.zeros_like(m)
            lost = np.zeros_like(m)
            losses = {}
        routes[route] = RouteResult(input_t=m, recovered_t=recovered, lost_t=lost, losses=losses)
    return ElementFlows(elements=tuple(elements), routes=routes)


def route_inputs_from_flows(
    flows: Mapping[tuple[str, str], np.ndarray],
    *,
    imported: Mapping[str, np.ndarray] | None = None,
    exported: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    r"""Product mass entering each recovery route, from the lifecycle system's flows.

    Parameters
    ----------
    flows
        ``(from_stage, to_stage)`` to (R, P, N) tonnes (stage names of
        ``docs/architecture.md``).
    imported
        Optional ``to_stage`` to (R, P, N) tonnes arriving from other regions (the
        destination side of the trade list); ``preprocessing`` imports (controlled movements)
        join the ``formal`` route, ``recycling_informal`` imports the ``informal`` route and
        ``refurbishment`` imports the share of refurbishment that is not of formal origin.
    exported
        Optional (R, P, N) tonnes of e-waste shipped out (not used equipment); default:
        everything entering ``export``.

    Returns
    -------
    dict
        ``formal``: pre-processing input of formal origin, i.e. ``collection_formal →
        preprocessing``, the formal share
        :math:`\phi = F_{cf \to ref} / \sum \text{refurbishment inputs}` of
        ``refurbishment → preprocessing``, and controlled imports; ``scrap``: the rest of the
        pre-processing input; ``informal``: everything entering ``recycling_informal``;
        ``residual``: everything entering ``residual`` except from ``preprocessing``
        (pre-processing residues are already the recycling routes' pre-processing loss);
        ``exported``: ``exported``.
    """

    def into(stage: str, *, exclude: tuple[str, ...] = ()) -> list[np.ndarray]:
        return [np.asarray(a, float) for (src, dst), a in flows.items()
                if dst == stage and src not in exclude]  # fmt: skip

    imported = imported or {}
    out: dict[str, np.ndarray] = {}
    pre_all = into("preprocessing") + (
        [np.asarray(imported["preprocessing"], float)] if "preprocessing" in imported else []
    )
    if pre_all:
        total = sum_arrays(pre_all)
        zero = np.zeros_like(total)
        direct = np.asarray(flows.get(("collection_formal", "preprocessing"), zero), float)
        ref_in = into("refurbishment") + (
            [np.asarray(imported["refurbishment"], float)] if "refurbishment" in imported else []
        )
        ref_total = sum_arrays(ref_in) if ref_in else zero
        ref_formal = np.asarray(flows.get(("collection_formal", "refurbishment"), zero), float)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(ref_total > 0, ref_formal / np.where(ref_total > 0, ref_total, 1.0), 0)
        rejects = np.asarray(flows.get(("refurbishment", "preprocessing"), zero), float)
        formal = direct + phi * rejects
        if "preprocessing" in imported:
            formal = formal + np.asarray(imported["preprocessing"], float)
        out["formal"] = np.minimum(formal, total)
        out["scrap"] = np.maximum(total - out["formal"], 0.0)
    inf = into("recycling_informal") + (
        [np.asarray(imported["recycling_informal"], float)]
        if "recycling_informal" in imported
        else []
    )
    if inf:
        out["informal"] = sum_arrays(inf)
    res = into("residual", exclude=("preprocessing",))
    if res:
        out["residual"] = sum_arrays(res)
    if exported is not None:
        out["exported"] = np.asarray(exported, float)
    else:
        exp = into("export")
        if exp:
            out["exported"] = sum_arrays(exp)
    return out


def element_values(
    result: ElementFlows, prices: np.ndarray | Sequence[float]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Value of recovered and lost element per route.

    Parameters
    ----------
    result
        Output of :func:`recovery`.
    prices
        USD per kg of element, (E,), (E, 1) or (E, N).

    Returns
    -------
    dict
        Route to ``(recovered_usd, lost_usd)``, each (R, E, N):
        :math:`v = 10^3\\,m\\,\\pi_e` with :math:`m` in t and :math:`\\pi` in USD/kg.
    """
    n_years = next(iter(result.routes.values())).input_t.shape[2]
    per_t = _as_param(prices, result.elements, n_years, "price (USD/kg)", upper=np.inf) * KG_PER_T
    return {
        route: (rr.recovered_t * per_t, rr.lost_t * per_t) for route, rr in result.routes.items()
    }


def element_flows_to_frame(
    result: ElementFlows,
    *,
    regions: Sequence[str],
    years: Sequence[int] | np.ndarray,
    prices: np.ndarray | Sequence[float] | None = None,
    routes: Sequence[str] = ROUTES,
) -> pd.DataFrame:
    """Tidy table of element flows by region, year, element and route.

    Parameters
    ----------
    result
        Output of :func:`recovery`.
    regions, years
        Labels of the R and N axes.
    prices
        Optional USD/kg, (E,) or (E, N); adds ``recovered_usd`` and ``lost_usd``.
    routes
        Routes to include, in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``region,year,element,route,input_t,recovered_t,lost_t`` (+
        ``recovered_usd,lost_usd``), one row per cell, ordered by route, region, element,
        year. ``region``, ``element`` and ``route`` are categoricals.
    """
    first = result.routes[routes[0]].input_t
    n_reg, n_el, n_years = first.shape
    if len(regions) != n_reg or len(years) != n_years:
        raise ValueError(
            f"labels do not match arrays (R={n_reg}, N={n_years}): got {len(regions)} regions "
            f"and {len(years)} years"
        )
    values = element_values(result, prices) if prices is not None else None
    columns = ["input_t", "recovered_t", "lost_t"]
    columns += ["recovered_usd", "lost_usd"] if values is not None else []
    # one float block (columns, routes, R, E, N), filled by contiguous copies and handed to
    # pandas without a further copy; rows are ordered route, region, element, year
    block = np.empty((len(columns), len(routes), n_reg, n_el, n_years))
    for k, route in enumerate(routes):
        rr = result.routes[route]
        arrays = [rr.input_t, rr.recovered_t, rr.lost_t, *(values[route] if values else ())]
        for c, arr in enumerate(arrays):
            block[c, k] = arr
    frame = pd.DataFrame(block.reshape(len(columns), -1).T, columns=columns, copy=False)
    labels: dict[str, Any] = {
        "region": _categorical(
            np.tile(np.repeat(_codes(n_reg), n_el * n_years), len(routes)), regions
        ),
        "year": np.tile(np.asarray(years, dtype=np.int64), len(routes) * n_reg * n_el),
        "element": _categorical(
            np.tile(np.repeat(_codes(n_el), n_years), len(routes) * n_reg), result.elements
        ),
        "route": _categorical(np.repeat(_codes(len(routes)), n_reg * n_years * n_el), routes),
    }
    for i, (name, col) in enumerate(labels.items()):
        frame.insert(i, name, col)
    return frame


def sum_arrays(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Element-wise sum of arrays of one shape into one new array.

    The same additions in the same order as ``np.add.reduce(arrays)`` (bit for bit), without
    first stacking the arrays into one ``(k, ...)`` temporary: one copy, then in-place adds.
    """
    total = np.array(arrays[0], dtype=float, copy=True)
    for arr in arrays[1:]:
        total += arr
    return total


def _codes(n: int) -> np.ndarray:
    """``arange(n)`` in the smallest integer type pandas keeps as categorical codes."""
    dtype = np.int8 if n < 2**7 else np.int16 if n < 2**15 else np.int32
    return np.arange(n, dtype=dtype)


def _categorical(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical[str]:
    """Categorical from trusted codes (no range check)."""
    return pd.Categorical.from_codes(codes, pd.Index(list(labels)), validate=False)
