r"""Monte Carlo bands of the footprint: the drawn flows and drawn life-cycle factors.

Draw :math:`d` of a seed :math:`s` computes the footprint indicators of
:mod:`ewaste_tracker.flows.footprint` on the lifecycle system of the same draw as the
indicators (:mod:`ewaste_tracker.uncertainty.draws`: the same put on market, lifetimes,
transfer coefficients, composition and recovery), with factors drawn from their own generator
``numpy.random.default_rng([s, d, 1])`` (so drawing factors leaves the flow draws unchanged).

Every factor with a low, central and high level :math:`l \le c \le h` is drawn from the
log-triangular distribution: :math:`\ln x` triangular with minimum :math:`\ln l`, mode
:math:`\ln c` and maximum :math:`\ln h` (the factor ranges are multiplicative, e.g. embodied
GHG 0.67-1.5 x central, water 0.22-4 x, so the median stays near the central value; a range
scaled by :attr:`Spreads.footprint <ewaste_tracker.uncertainty.draws.Spreads>` :math:`k` on
the log scale); where :math:`l = 0` the triangular distribution of :math:`x` itself. Draws
use the inverse distribution function, with :math:`a, c, b` the (log) minimum, mode and
maximum,

.. math:: F^{-1}(u) = \begin{cases} a + \sqrt{u (b - a)(c - a)} & u < (c - a)/(b - a) \\
          b - \sqrt{(1 - u)(b - a)(b - c)} & \text{otherwise} \end{cases}

with one uniform :math:`u` per draw, factor and product: a factor is the same for every
region and year of a draw (the factor tables have no regional or yearly spread: one product
LCA is used everywhere), and independent across products (their factors come from separate
studies or category estimates). The vintages of a product's refrigerant and mercury
content share its :math:`u`. Drawn factors (``data/footprint_factors.csv``): embodied GHG,
primary energy, water, abiotic depletion, use-phase kWh, plastics with brominated flame
retardants, refrigerant charge x GWP100 and mercury per piece; the formal capture
efficiencies (named assumption ``capture_formal``, one :math:`u` per substance); primary and
secondary GHG per kg of each element (``data/element_footprint.csv``, one :math:`u` per
element and factor; the avoided-mining credit uses the draw's composition and recovery).
The grid's carbon intensity (``data/grid_intensity.csv``, published values) and the unit
weights are not drawn.

A triangular distribution's median lies between its mode and its wider side, so ``p50`` may
differ from the central ``value`` (computed with the central factors) where a range is not
symmetric on the log scale.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ewaste_tracker.flows.footprint import (
    ICT_PRODUCTS,
    FootprintFactors,
    footprint_values,
    region_aggregator,
)
from ewaste_tracker.flows.system import SystemResult
from ewaste_tracker.model.footprint import (
    CAPTURE,
    element_levels,
    factor_levels,
    footprint_sums,
    grid_for_regions,
)
from ewaste_tracker.model.run import ModelInputs, PreparedRun

__all__ = [
    "PER_PIECE",
    "FootprintDraw",
    "FootprintSpace",
    "batch_footprint",
    "footprint_draw",
    "footprint_provenance",
    "footprint_space",
    "log_triangular",
    "triangular",
]

logger = logging.getLogger(__name__)

STREAM = 1
"""Third entry of the seed sequence of the footprint factors' generator."""
PER_PIECE = ("embodied_kg_co2e", "embodied_mj", "embodied_water_m3", "embodied_kg_sb",
             "use_kwh", "bfr_kg")  # fmt: skip
"""Per-piece factors of :class:`~ewaste_tracker.flows.footprint.FootprintFactors` drawn."""
VINTAGE = ("refrigerant_kg_co2e", "mercury_mg")
ELEMENT = ("primary_kg_co2e_per_kg", "secondary_kg_co2e_per_kg")


def triangular(
    lo: np.ndarray, mid: np.ndarray, hi: np.ndarray, u: np.ndarray, k: float = 1.0
) -> np.ndarray:
    """Triangular quantile :math:`F^{-1}(u)` on :math:`[c - k(c - l), c + k(h - c)]`, mode
    :math:`c` (module docstring); arrays broadcast, a zero-width range gives :math:`c`."""
    mid = np.asarray(mid, dtype=float)
    a = mid - k * np.clip(mid - np.asarray(lo, dtype=float), 0.0, None)
    b = mid + k * np.clip(np.asarray(hi, dtype=float) - mid, 0.0, None)
    width = b - a
    safe = np.where(width > 0, width, 1.0)
    u = np.asarray(u, dtype=float)
    left = a + np.sqrt(np.clip(u * width * (mid - a), 0.0, None))
    right = b - np.sqrt(np.clip((1.0 - u) * width * (b - mid), 0.0, None))
    return np.where(width > 0, np.where(u < (mid - a) / safe, left, right), mid)


def log_triangular(
    lo: np.ndarray, mid: np.ndarray, hi: np.ndarray, u: np.ndarray, k: float = 1.0
) -> np.ndarray:
    """:func:`triangular` of the logarithms (:math:`\\ln l, \\ln c, \\ln h`), where
    :math:`l > 0`; the linear triangular distribution where the low level is 0."""
    a, c, b = (np.asarray(x, dtype=float) for x in (lo, mid, hi))
    pos = (a > 0) & (c > 0) & (b > 0)
    with np.errstate(over="ignore"):
        logged = np.exp(triangular(np.log(np.where(pos, a, 1.0)), np.log(np.where(pos, c, 1.0)),
                                   np.log(np.where(pos, b, 1.0)), u, k))  # fmt: skip
    point = (a >= c) & (b <= c)  # no range: the central value itself
    return np.where(point, c, np.where(pos, logged, triangular(a, c, b, u, k)))


@dataclass
class FootprintSpace:
    """The footprint's factor levels and the kept cells (everything a batch needs).

    Attributes
    ----------
    levels
        Factor name → ``(3, P)`` (per piece) or ``(3, P, N)`` (vintages) low, central, high.
    unit_weight_kg
        ``(P,)``.
    capture
        Substance → ``(3,)`` low, central, high formal capture.
    elements
        ``primary_kg_co2e_per_kg`` / ``secondary_kg_co2e_per_kg`` → ``(3, E)``.
    grid
        ``(R, N)`` gCO2e/kWh of the real regions.
    regions, groups
        The real regions and their aggregates (rows of the footprint table).
    cells
        Kept positions of the flattened ``(K, N, 2I)`` footprint values
        (:func:`ewaste_tracker.flows.footprint.footprint_values`).
    central
        ``(len(cells),)`` the central run's values of the kept cells.
    k
        Multiplier on the low-high ranges.
    """

    levels: dict[str, np.ndarray]
    unit_weight_kg: np.ndarray
    capture: dict[str, np.ndarray]
    elements: dict[str, np.ndarray]
    grid: np.ndarray
    regions: tuple[str, ...]
    groups: Mapping[str, str] | None
    cells: np.ndarray
    central: np.ndarray
    k: float = 1.0


@dataclass
class FootprintDraw:
    """Uniforms of one draw: per factor ``(P,)``, per substance a float, per element ``(E,)``."""

    factors: dict[str, np.ndarray]
    capture: dict[str, float]
    elements: dict[str, np.ndarray]


def footprint_draw(space: FootprintSpace, seed: int, index: int) -> FootprintDraw:
    """Uniforms of draw ``index`` of ``seed`` (generator ``default_rng([seed, index, 1])``)."""
    rng = np.random.default_rng([int(seed), int(index), STREAM])
    n_p = space.unit_weight_kg.shape[0]
    n_e = next(iter(space.elements.values())).shape[1]
    factors = {name: np.asarray(rng.random(n_p)) for name in (*PER_PIECE, *VINTAGE)}
    capture = {key: float(rng.random()) for key in sorted(space.capture)}
    elements = {name: np.asarray(rng.random(n_e)) for name in ELEMENT}
    return FootprintDraw(factors, capture, elements)


def _mining(comp: np.ndarray, pre: np.ndarray, end: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``(B, P)`` t CO2e avoided per t of product entering formal pre-processing."""
    return np.einsum("bpe,be->bp", comp, pre * end * delta) * 1e-6


def _drawn(space: FootprintSpace, fdraws: list[FootprintDraw] | None, comp: np.ndarray,
           pre: np.ndarray, end: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """Factor arrays with a leading draw axis (central levels when ``fdraws`` is None)."""
    k = space.k
    out: dict[str, np.ndarray] = {}
    if fdraws is None:
        for name, lev in space.levels.items():
            out[name] = lev[1][None]
        cap = {key: v[1][None] for key, v in space.capture.items()}
        el = {name: v[1][None] for name, v in space.elements.items()}
    else:
        for name, lev in space.levels.items():
            u = np.stack([d.factors[name] for d in fdraws])  # (B, P)
            u = u[:, :, None] if lev.ndim == 3 else u
            out[name] = log_triangular(lev[0][None], lev[1][None], lev[2][None], u, k)
        cap = {key: np.clip(log_triangular(v[0], v[1], v[2],
                                           np.array([d.capture[key] for d in fdraws]), k),
                            0.0, 1.0)
               for key, v in space.capture.items()}  # fmt: skip
        el = {name: log_triangular(v[0][None], v[1][None], v[2][None],
                               np.stack([d.elements[name] for d in fdraws]), k)
              for name, v in space.elements.items()}  # fmt: skip
    delta = np.clip(el["primary_kg_co2e_per_kg"] - el["secondary_kg_co2e_per_kg"], 0.0, None)
    out["mining_t_co2e_per_t"] = _mining(comp, pre, end, delta)
    for key, v in cap.items():
        out[f"capture:{key}"] = v
    return out


def batch_footprint(
    space: FootprintSpace,
    prep: PreparedRun,
    system: SystemResult,
    first_life: tuple[np.ndarray, np.ndarray],
    *,
    draws: list | None = None,
    fdraws: list[FootprintDraw] | None = None,
) -> np.ndarray:
    """Footprint values of every draw of a batch: ``(B, K, N, 2I)``.

    Parameters
    ----------
    space
        :func:`footprint_space`.
    prep, system, first_life
        The (tiled) prepared run, its system and its first-life ``(group, M)``.
    draws, fdraws
        The batch's flow draws (their composition and recovery) and factor uniforms; both
        ``None`` for the central run (``prep`` untiled).
    """
    n_b = 1 if draws is None else len(draws)
    n_r = len(space.regions)
    if draws is None:
        comp = np.asarray(prep.composition)[None, :, :, 0]
        pre, end = (np.asarray(prep.efficiencies[k])[None, :, 0]
                    for k in ("formal_pre", "formal_end"))  # fmt: skip
    else:
        comp = np.stack([d.composition for d in draws])
        pre, end = (np.stack([d.efficiencies[k] for d in draws])
                    for k in ("formal_pre", "formal_end"))  # fmt: skip
    arrays = _drawn(space, fdraws, comp, pre, end)
    row_draw = np.repeat(np.arange(n_b), n_r)

    def factors(sl: slice) -> FootprintFactors:
        d = row_draw[sl]
        return FootprintFactors(
            unit_weight_kg=space.unit_weight_kg,
            **{name: arrays[name][d] for name in (*PER_PIECE, *VINTAGE, "mining_t_co2e_per_t")},
            capture={key: arrays[f"capture:{key}"][d][:, None, None] for key in space.capture},
        )

    sums = footprint_sums(
        system, dims=prep.dims, first_life=first_life, factors=factors,
        grid=np.tile(space.grid, (n_b, 1)), ict=ICT_PRODUCTS,
    )  # fmt: skip
    _, _, values = footprint_values(sums, regions=space.regions, groups=space.groups, batch=n_b)
    return values


def footprint_space(
    inputs: ModelInputs,
    base: PreparedRun,
    system: SystemResult,
    first_life: tuple[np.ndarray, np.ndarray],
    *,
    regions: Collection[str] | None = None,
    k: float = 1.0,
) -> FootprintSpace:
    """The factor levels of a run and its kept footprint cells.

    Parameters
    ----------
    inputs, base
        The run's tables and prepared arrays (central).
    system, first_life
        The central run's system and first-life ``(group, M)`` (the central kept values).
    regions
        Rows of the footprint table to keep (default every region and aggregate).
    k
        Multiplier on every factor's low-high range.
    """
    dims = base.dims
    lv = factor_levels(inputs, dims)
    levels = {name: np.stack([np.asarray(getattr(f, name), dtype=float) for f in lv])
              for name in (*PER_PIECE, *VINTAGE)}  # fmt: skip
    capture = {key: np.asarray(v, dtype=float) for key, v in CAPTURE.items()}
    space = FootprintSpace(
        levels=levels, unit_weight_kg=np.asarray(lv[1].unit_weight_kg, dtype=float),
        capture=capture, elements=element_levels(dims.elements),
        grid=grid_for_regions(dims.regions, len(dims.years)), regions=tuple(dims.regions),
        groups=base.groups, cells=np.zeros(0, dtype=np.intp), central=np.zeros(0), k=float(k),
    )  # fmt: skip
    central = batch_footprint(space, base, system, first_life)[0]  # (K, N, C)
    labels = region_aggregator(dims.regions, base.groups).labels
    keep = np.ones(len(labels), dtype=bool)
    if regions is not None:
        keep = np.isin(np.asarray(labels, dtype=object), list(regions))
    cells = np.flatnonzero(np.repeat(keep, central[0].size))
    space.cells = cells
    space.central = central.reshape(-1)[cells]
    return space


def footprint_provenance(k: float) -> pd.DataFrame:
    """Rows of the ``uncertainty`` table for the footprint factors."""
    tri = (
        "log-triangular (ln x triangular: min = ln low, mode = ln central, max = ln high; "
        "triangular where low = 0)"
    )
    rng = f"range = {k:g} x (low, high); one draw per product, shared by regions and years"
    rows = [
        ("footprint factors per piece (embodied GHG, energy, water, abiotic depletion, "
         "use-phase kWh, BFR plastics)", tri, rng, "data/footprint_factors.csv low/high"),
        ("refrigerant and mercury content per piece (every vintage of a product together)",
         tri, rng, "data/footprint_factors.csv low/high; GWP100 data/refrigerant_gwp.csv"),
        ("formal capture of refrigerants, mercury and BFR plastics", tri,
         f"range = {k:g} x (low, high); one draw per substance",
         "named assumption capture_formal (70-95 %, 80-100 %, 90-100 %)"),
        ("primary and secondary GHG per kg of element", tri,
         f"range = {k:g} x (low, high); one draw per element and factor",
         "data/element_footprint.csv low/high"),
        ("grid carbon intensity", "not drawn", "published values",
         "data/grid_intensity.csv (named assumption grid_intensity_constant)"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["input", "distribution", "parameters", "source"])
