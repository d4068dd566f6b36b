r"""The footprint of electrical and electronic equipment over its life cycle, from the flows.

Pure numbers: dense ``(R, P, N)`` arrays of the lifecycle system and per-product factor
arrays in, per-product indicator arrays and a tidy table out. No file is read here; the
factor tables come from :mod:`ewaste_tracker.catalog` through
:mod:`ewaste_tracker.model.footprint`.

Indicators (region :math:`r`, product :math:`p`, year :math:`n`; :math:`w_p` the average unit
weight in kg, so a mass :math:`X` in tonnes is :math:`10^3 X / w_p` pieces)

``embodied_ghg_t_co2e``, ``embodied_energy_tj``, ``embodied_water_m3``, ``embodied_adp_t_sb_eq``
    cradle-to-gate GHG, primary energy, blue water and abiotic depletion (elements) of the
    equipment put on the market: :math:`10^3 POM / w_p \cdot f_p` in the indicator's unit.
``use_phase_energy_gwh``
    electricity of the stock in use, at the mid-year stock
    (named assumption ``use_stock_mid_year``):
    :math:`E = 10^{-6}\, \tfrac12 (S_{n-1} + S_n) 10^3 / w_p \cdot u_p` with :math:`u_p`
    kWh per piece and year.
``use_phase_ghg_t_co2e``
    :math:`E \cdot I_{r,n}` with :math:`I` the grid's carbon intensity in gCO2e/kWh
    (GWh x g/kWh = t).
``refrigerant_in_ewaste_t_co2e``, ``refrigerant_released_t_co2e``, ``refrigerant_avoided_t_co2e``
    refrigerants and foam blowing agents (GWP100, IPCC AR6) in e-waste reaching end of life.
    With :math:`F` the e-waste *formally treated* (formal collection into pre-processing, the
    formal share of refurbishment rejects, controlled imports into pre-processing),
    :math:`U` the e-waste *not formally treated* (informal collection into pre-processing,
    informal recycling or residual waste, e-waste thrown away with residual waste,
    uncontrolled imports into informal recycling, informal refurbishment rejects and exports
    leaving the modelled world) and :math:`c` the content per tonne,
    :math:`released = (U + (1-\eta) F)\, c` and :math:`avoided = \eta F c`
    (:math:`\eta` the formal recapture efficiency), so nothing recaptured is also released.
``mercury_released_t``, ``bfr_plastics_released_t``
    the same release of mercury (lamps, CCFL backlights) and of plastics containing
    brominated flame retardants, with their own capture efficiencies.
``mining_avoided_t_co2e``
    recycled metals replacing primary production: the formal route's recovered element
    :math:`m_{e} = M_{pre}\, c_{p,e}\, \eta^{pre}_e \eta^{end}_e` (as
    :mod:`ewaste_tracker.flows.minerals`) times :math:`G^{prim}_e - G^{sec}_e` kg CO2e per kg.

Content that depends on when the equipment was made (refrigerant generations, CCFL
backlights, mercury limits) is weighted by the cohorts discarded in each year:
:func:`vintage_content` gives :math:`\bar f_{r,p,n} = \sum_c M[n,c] POM[c] f_p(c) /
\sum_c M[n,c] POM[c]` with the first-life discard matrix :math:`M` (named assumption
``vintage_first_life``: later lives carry the same mix).

Every indicator comes as ``all`` (every product) and ``ict`` (UNU-KEYs 0301-0309 and the
screens 0407, 0408), summed over products before regions are aggregated.

References
----------
IPCC (2021) Climate Change 2021: The Physical Science Basis, WGI Chapter 7 SM, Table 7.SM.7.
ITU-T L.1410 (2014) Methodology for environmental life cycle assessments of ICT goods,
networks and services. ITU-T L.1470 (2020) GHG emissions trajectories for the ICT sector
compatible with the UNFCCC Paris Agreement.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ewaste_tracker.flows.indicators import WORLD, _Aggregator
from ewaste_tracker.flows.minerals import _categorical, _codes

logger = logging.getLogger(__name__)

__all__ = [
    "GROUPS",
    "ICT_PRODUCTS",
    "INDICATORS",
    "FootprintFactors",
    "footprint_arrays",
    "footprint_frame",
    "footprint_frame_from_sums",
    "footprint_values",
    "region_aggregator",
    "treatment_split",
    "vintage_content",
]

ICT_PRODUCTS: tuple[str, ...] = (
    "0301", "0302", "0303", "0304", "0305", "0306", "0307", "0308", "0309", "0407", "0408",
)  # fmt: skip
"""The ICT subset: UNU-KEYs 0301-0309 (IT and telecommunication) and the screens 0407, 0408."""
GROUPS: tuple[str, ...] = ("all", "ict")

INDICATORS: Mapping[str, str] = {
    "embodied_ghg_t_co2e": "t CO2e",
    "embodied_energy_tj": "TJ",
    "embodied_water_m3": "m3",
    "embodied_adp_t_sb_eq": "t Sb-eq",
    "use_phase_energy_gwh": "GWh",
    "use_phase_ghg_t_co2e": "t CO2e",
    "refrigerant_in_ewaste_t_co2e": "t CO2e",
    "refrigerant_released_t_co2e": "t CO2e",
    "refrigerant_avoided_t_co2e": "t CO2e",
    "mining_avoided_t_co2e": "t CO2e",
    "mercury_released_t": "t",
    "bfr_plastics_released_t": "t",
}
"""Footprint indicators and their units."""


@dataclass(frozen=True)
class FootprintFactors:
    """Per-product factors of one level (low, central or high), aligned with ``Dims.products``.

    A Monte Carlo batch gives every region row its own factors: the per-piece arrays are then
    ``(R, P)``, the vintage arrays ``(R, P, C)`` and the capture efficiencies ``(R, 1, 1)``
    arrays (one row per pseudo-region, :mod:`ewaste_tracker.uncertainty.footprint`).

    Attributes
    ----------
    unit_weight_kg
        ``(P,)`` average unit weight (kg per piece), > 0.
    embodied_kg_co2e, embodied_mj, embodied_water_m3, embodied_kg_sb
        ``(P,)`` cradle-to-gate GHG, primary energy, water and abiotic depletion per piece.
    use_kwh
        ``(P,)`` electricity per piece in use and year.
    refrigerant_kg_co2e
        ``(P, C)`` refrigerant and blowing agent content x GWP100 per piece, by the year the
        equipment was put on the market (``C`` = the model years).
    mercury_mg
        ``(P, C)`` mercury per piece by year put on the market.
    bfr_kg
        ``(P,)`` plastics containing brominated flame retardants per piece.
    mining_t_co2e_per_t
        ``(P,)`` GHG avoided per tonne of product entering formal pre-processing
        (:math:`\\sum_e c_{p,e} 10^{-6} \\eta^{pre}_e \\eta^{end}_e (G^{prim}_e-G^{sec}_e)`).
    capture
        Formal capture efficiency of ``refrigerant``, ``mercury`` and ``bfr`` (fractions, or
        ``(R, 1, 1)`` arrays of fractions).
    """

    unit_weight_kg: np.ndarray
    embodied_kg_co2e: np.ndarray
    embodied_mj: np.ndarray
    embodied_water_m3: np.ndarray
    embodied_kg_sb: np.ndarray
    use_kwh: np.ndarray
    refrigerant_kg_co2e: np.ndarray
    mercury_mg: np.ndarray
    bfr_kg: np.ndarray
    mining_t_co2e_per_t: np.ndarray
    capture: Mapping[str, float | np.ndarray]

    def __post_init__(self) -> None:
        w = np.asarray(self.unit_weight_kg, dtype=float)
        if w.ndim != 1 or not (w > 0).all():
            raise ValueError("unit_weight_kg must be a (P,) array of positive weights")
        names = ("embodied_kg_co2e", "embodied_mj", "embodied_water_m3", "embodied_kg_sb",
                 "use_kwh", "bfr_kg", "mining_t_co2e_per_t", "refrigerant_kg_co2e",
                 "mercury_mg")  # fmt: skip
        for name in names:
            arr = np.asarray(getattr(self, name), dtype=float)
            vintage = name in ("refrigerant_kg_co2e", "mercury_mg")
            axis = (arr.ndim - 2) if vintage else (arr.ndim - 1)  # the product axis
            ok = arr.ndim in ((2, 3) if vintage else (1, 2)) and arr.shape[axis] == w.shape[0]
            if not ok or not (np.isfinite(arr) & (arr >= 0)).all():
                raise ValueError(f"{name} must have P={w.shape[0]} rows of finite values >= 0")
        for key in ("refrigerant", "mercury", "bfr"):
            cap = np.asarray(self.capture.get(key, -1.0), dtype=float)
            if not ((cap >= 0.0) & (cap <= 1.0)).all():
                raise ValueError(f"capture[{key!r}] must be a fraction in [0, 1]")


def region_aggregator(
    regions: Sequence[str], groups: Mapping[str, str] | None = None, world: str = WORLD
) -> _Aggregator:
    """Callable ``(R, ...) -> (R + 1 + G, ...)``: regions, the world, then the groups (sums);
    its ``labels`` name the rows (as the indicator table's aggregates)."""
    return _Aggregator(regions, groups, world)


def vintage_content(
    pom: np.ndarray, factor: np.ndarray, group: np.ndarray, M: np.ndarray
) -> np.ndarray:
    """Per-piece content of the cohorts discarded each year (first-life discard weights).

    Parameters
    ----------
    pom
        ``(R, P, N)`` put on market (tonnes or pieces: only the weights matter).
    factor
        ``(P, N)`` content per piece by the year put on market (or ``(R, P, N)``, one per
        region row).
    group, M
        First-life lifetimes: ``group (R, P)`` indexes ``M (G, N, N)``.

    Returns
    -------
    numpy.ndarray
        ``(R, P, N)``: :math:`\\sum_c M[n,c] POM[c] f(c) / \\sum_c M[n,c] POM[c]`, and
        :math:`f(n)` where nothing is discarded yet. One matrix product per lifetime group.
    """
    r, p, n = pom.shape
    factor = np.asarray(factor, dtype=float)
    f = np.broadcast_to(factor if factor.ndim == 3 else factor[None], (r, p, n))
    both = np.stack([pom, pom * f]).reshape(2, r * p, n)
    gflat = np.asarray(group).ravel()
    out = np.empty_like(both)
    order = np.argsort(gflat, kind="stable")
    uniq, starts = np.unique(gflat[order], return_index=True)
    for g, cells in zip(uniq, np.split(order, starts[1:]), strict=True):  # unique groups only
        out[:, cells] = both[:, cells] @ M[g].T
    den, num = out.reshape(2, r, p, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), f)


def treatment_split(
    flows: Mapping[tuple[str, str], np.ndarray],
    *,
    imports: Mapping[str, np.ndarray] | None = None,
    exported_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E-waste formally treated, not formally treated, and entering formal pre-processing.

    Parameters
    ----------
    flows
        ``(from_stage, to_stage) -> (R, P, N)`` tonnes of the lifecycle system.
    imports
        ``to_stage -> (R, P, N)`` trade arriving in each region.
    exported_out
        ``(R, P, N)`` exports leaving the modelled regions (to ``ROW``): not formally treated
        anywhere we can see (named assumption ``row_exports_untreated``).

    Returns
    -------
    formal, untreated, preprocessing : numpy.ndarray
        ``(R, P, N)`` tonnes (see the module docstring for what each contains).
    """
    imports = imports or {}

    def get(a: str, b: str) -> np.ndarray:
        return np.asarray(flows.get((a, b), 0.0), dtype=float)

    cf_ref, ci_ref = get("collection_formal", "refurbishment"), get("collection_informal",
                                                                    "refurbishment")  # fmt: skip
    ref_in = cf_ref + ci_ref + np.asarray(imports.get("refurbishment", 0.0), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(ref_in > 0, cf_ref / np.where(ref_in > 0, ref_in, 1.0), 0.0)
    rejects = get("refurbishment", "preprocessing")
    formal = (
        get("collection_formal", "preprocessing")
        + np.asarray(imports.get("preprocessing", 0.0), dtype=float)
        + phi * rejects
    )
    untreated = (
        get("collection_informal", "preprocessing")
        + get("collection_informal", "recycling_informal")
        + get("collection_informal", "residual")
        + get("generated", "residual")
        + np.asarray(imports.get("recycling_informal", 0.0), dtype=float)
        + (1.0 - phi) * rejects
    )
    if exported_out is not None:
        untreated = untreated + np.asarray(exported_out, dtype=float)
    pre = sum(
        (np.asarray(a, dtype=float) for (_, b), a in flows.items() if b == "preprocessing"),
        start=np.asarray(imports.get("preprocessing", 0.0), dtype=float),
    )
    shape = np.broadcast_shapes(np.shape(formal), np.shape(untreated))
    return (np.broadcast_to(formal, shape), np.broadcast_to(untreated, shape),
            np.broadcast_to(pre, shape))  # fmt: skip


def footprint_arrays(
    *,
    pom: np.ndarray,
    stock: np.ndarray,
    formal: np.ndarray,
    untreated: np.ndarray,
    preprocessing: np.ndarray,
    factors: FootprintFactors,
    grid_g_per_kwh: np.ndarray,
    refrigerant_content: np.ndarray,
    mercury_content: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every footprint indicator per region, product and year.

    Parameters
    ----------
    pom, stock
        ``(R, P, N)`` tonnes put on market and in use (end of year).
    formal, untreated, preprocessing
        ``(R, P, N)`` tonnes, from :func:`treatment_split`.
    factors
        Per-product factors.
    grid_g_per_kwh
        ``(R, N)`` or ``(R, 1)`` carbon intensity of electricity, gCO2e/kWh.
    refrigerant_content, mercury_content
        ``(R, P, N)`` per-piece content of the e-waste of each year (kg CO2e, mg), from
        :func:`vintage_content` of ``factors.refrigerant_kg_co2e`` and ``factors.mercury_mg``.

    Returns
    -------
    dict
        Indicator name (:data:`INDICATORS`) to ``(R, P, N)`` values in its unit.
    """
    w = np.asarray(factors.unit_weight_kg, dtype=float)[None, :, None]

    def rows(x: np.ndarray) -> np.ndarray:  # (P,) or (R, P) -> broadcasts on (R, P, N)
        x = np.asarray(x, dtype=float)
        return x[None, :, None] if x.ndim == 1 else (x[:, :, None] if x.ndim == 2 else x)

    def per_t(x: np.ndarray) -> np.ndarray:  # per piece -> per tonne of product
        return rows(x) * 1e3 / w

    pom = np.asarray(pom, dtype=float)
    stock = np.asarray(stock, dtype=float)
    mid = 0.5 * (np.concatenate([stock[:, :, :1] * 0.0, stock[:, :, :-1]], axis=2) + stock)
    energy = mid * per_t(factors.use_kwh) * 1e-6  # kWh -> GWh
    grid = np.asarray(grid_g_per_kwh, dtype=float)[:, None, :]
    refr = per_t(refrigerant_content) * 1e-3  # t CO2e per t of e-waste
    cap = {k: np.asarray(v, dtype=float) for k, v in factors.capture.items()}
    out = {
        "embodied_ghg_t_co2e": pom * per_t(factors.embodied_kg_co2e) * 1e-3,
        "embodied_energy_tj": pom * per_t(factors.embodied_mj) * 1e-6,
        "embodied_water_m3": pom * per_t(factors.embodied_water_m3),
        "embodied_adp_t_sb_eq": pom * per_t(factors.embodied_kg_sb) * 1e-3,
        "use_phase_energy_gwh": energy,
        "use_phase_ghg_t_co2e": energy * grid,
        "refrigerant_in_ewaste_t_co2e": (formal + untreated) * refr,
        "refrigerant_released_t_co2e": (untreated + (1.0 - cap["refrigerant"]) * formal) * refr,
        "refrigerant_avoided_t_co2e": cap["refrigerant"] * formal * refr,
        "mining_avoided_t_co2e": preprocessing * rows(factors.mining_t_co2e_per_t),
        "mercury_released_t": (untreated + (1.0 - cap["mercury"]) * formal)
        * per_t(mercury_content)
        * 1e-9,
        "bfr_plastics_released_t": (untreated + (1.0 - cap["bfr"]) * formal)
        * per_t(factors.bfr_kg)
        * 1e-3,
    }
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def footprint_frame(
    arrays: Mapping[str, np.ndarray],
    *,
    regions: Sequence[str],
    products: Sequence[str],
    years: Sequence[int] | np.ndarray,
    groups: Mapping[str, str] | None = None,
    ict: Sequence[str] = ICT_PRODUCTS,
    world: str = WORLD,
) -> pd.DataFrame:
    """Tidy footprint table of every region, the world and the groups, for ``all`` and ``ict``.

    Parameters
    ----------
    arrays
        :func:`footprint_arrays`.
    regions, products, years
        Axis labels.
    groups
        Region → aggregate (UN region).
    ict
        Products of the ``ict`` group.
    world
        Code of the world total.

    Returns
    -------
    pandas.DataFrame
        ``region, year, group, indicator, value, unit``; regions, then ``world``, then the
        groups. Sums over products are formed before sums over regions.
    """
    mask = np.isin(np.asarray(products, dtype=object), list(ict))
    sums = {}
    for name in INDICATORS:
        if name in arrays:
            arr = np.asarray(arrays[name], dtype=float)
            sums[name] = (arr.sum(axis=1), arr[:, mask].sum(axis=1))
    return footprint_frame_from_sums(sums, regions=regions, years=years, groups=groups,
                                     world=world)  # fmt: skip


def footprint_values(
    sums: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    regions: Sequence[str],
    groups: Mapping[str, str] | None = None,
    world: str = WORLD,
    batch: int = 1,
) -> tuple[list[str], list[str], np.ndarray]:
    """Sums over products aggregated to the world and the groups, as one array.

    Parameters
    ----------
    sums
        Indicator name → ``(B·R, N)`` sums over all products and over the ``ict`` products
        (``B`` copies of the regions, draw-major, when ``batch`` > 1).
    regions, groups, world
        As in :func:`footprint_frame`.
    batch
        Copies of the regions; each is aggregated on its own.

    Returns
    -------
    names, labels, values
        The indicators present (in :data:`INDICATORS` order), the row labels (regions, the
        world, the groups) and ``(B, K, N, 2I)`` values, column ``2i + g`` indicator ``i``
        in group ``g`` (:data:`GROUPS`): the layout of the rows of
        :func:`footprint_frame_from_sums`.
    """
    agg = _Aggregator(regions, groups, world, batch=batch)
    names = [n for n in INDICATORS if n in sums]
    blocks: list[np.ndarray] = []  # (B·K, N) per (indicator, group), indicator-major
    for name in names:
        blocks.extend(agg(np.asarray(a, dtype=float)) for a in sums[name])
    values = np.stack(blocks, axis=2)  # (B·K, N, I*G)
    return names, list(agg.labels), values.reshape(batch, -1, *values.shape[1:])


def footprint_frame_from_sums(
    sums: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    regions: Sequence[str],
    years: Sequence[int] | np.ndarray,
    groups: Mapping[str, str] | None = None,
    world: str = WORLD,
) -> pd.DataFrame:
    """:func:`footprint_frame` from indicators already summed over products.

    Parameters
    ----------
    sums
        Indicator name → ``(R, N)`` sums over all products and over the ``ict`` products.
    regions, years, groups, world
        As in :func:`footprint_frame`.
    """
    names, labels, batched = footprint_values(sums, regions=regions, groups=groups, world=world)
    values = batched[0]
    n_k, n_y, n_c = values.shape
    years_arr = np.asarray(years, dtype=np.int64)
    cell = np.arange(values.size)
    col = cell % n_c
    units = [INDICATORS[n] for n in names]
    unit_labels = list(dict.fromkeys(units))
    unit_codes = np.array([unit_labels.index(u) for u in units], dtype=np.int8)
    return pd.DataFrame(
        {
            "region": _categorical((cell // (n_y * n_c)).astype(_codes(n_k).dtype), labels),
            "year": years_arr[(cell // n_c) % n_y],
            "group": _categorical((col % 2).astype(np.int8), GROUPS),
            "indicator": _categorical((col // 2).astype(_codes(len(names)).dtype), names),
            "value": values.ravel(),
            "unit": _categorical(unit_codes[col // 2], unit_labels),
        },
        copy=False,
    )
