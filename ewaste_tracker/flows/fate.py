"""Where devices (or kilograms of an element) end up: the lifecycle as an absorbing Markov chain.

The transfer coefficients of one product and year define the chance that a device at a stage
moves next to each other stage. Transient states are ``(region, stage)`` nodes (with ``use``
split into first life, ``use``, and later lives, ``use_second_life``); absorbing states are the
final sinks of every region (``recovered``, ``disposed``, ``losses``) and ``("ROW",
"export")`` for shipments leaving the modelled regions. With ``Q`` the transient-to-transient
and ``R`` the transient-to-absorbing probabilities (Kemeny & Snell 1960, *Finite Markov
Chains*, ch. III; Grinstead & Snell 1997, *Introduction to Probability*, sec. 11.2):

.. math::

   N = (I - Q)^{-1}, \\qquad B = N R,

``N[i, j]`` is the expected number of visits to ``j`` starting from ``i`` and ``B[i, k]`` the
probability of ending in sink ``k``. For a device entering use in region ``e``, the expected
number of use cycles is :math:`\\sum_j N[e, j]` over the use states and the expected years in
use (to its final end of life) :math:`\\sum_r N[e, (r, use)] L_1(r) + N[e, (r, use_2)] L_2(r)`
with ``L1``, ``L2`` the mean first- and second-life lifetimes. A device leaving use is
discarded with certainty (``use -> generated`` = 1); the lifetime distributions only set the
time spent in use, not the routes.

For a kilogram of an element, give recovery efficiencies by route: an element entering
``preprocessing`` reaches ``endprocessing`` with efficiency ``eta`` (Chancerel et al. 2009,
*J. Ind. Ecol.* 13(5), share reaching recoverable output fractions), one entering
``endprocessing`` or ``recycling_informal`` is recovered with ``eta``; the rest is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ewaste_tracker.flows.transfer import (
    ROW,
    STRUCTURE,
    DimsLike,
    ExportDestinations,
    Stage,
    TransferCoefficients,
)

__all__ = ["ABSORBING_STAGES", "TRANSIENT_STAGES", "FateResult", "fate_matrix"]

log = logging.getLogger(__name__)

S = Stage
SECOND_LIFE = "use_second_life"
#: Transient stages of each region, in state order.
TRANSIENT_STAGES: tuple[str, ...] = (
    S.USE.value,
    SECOND_LIFE,
    S.GENERATED.value,
    S.COLLECTION_FORMAL.value,
    S.COLLECTION_INFORMAL.value,
    S.REFURBISHMENT.value,
    S.PREPROCESSING.value,
    S.ENDPROCESSING.value,
    S.RECYCLING_INFORMAL.value,
    S.RESIDUAL.value,
    S.EXPORT.value,
)
#: Absorbing stages of each region (plus one ("ROW", "export") state).
ABSORBING_STAGES: tuple[str, ...] = (S.RECOVERED.value, S.DISPOSED.value, S.LOSSES.value)
#: Stages that take an element recovery efficiency, and where the recovered part goes.
EFFICIENCY_ROUTES: dict[str, str] = {
    S.PREPROCESSING.value: S.ENDPROCESSING.value,
    S.ENDPROCESSING.value: S.RECOVERED.value,
    S.RECYCLING_INFORMAL.value: S.RECOVERED.value,
}


@dataclass(frozen=True)
class FateResult:
    """Fate of one unit entering ``entry`` in each region.

    Attributes
    ----------
    regions
        Entry regions (row order of the arrays).
    transient, absorbing
        ``(region, stage)`` labels of the columns of ``visits`` and ``absorption``.
    visits
        ``(R, T)`` expected number of visits, rows of the fundamental matrix ``N``.
    absorption
        ``(R, A)`` probability of ending in each absorbing state (rows sum to 1).
    use_cycles
        ``(R,)`` expected number of lives in use (1 + expected reuses) per unit entering use.
    years_in_use
        ``(R,)`` expected years in use until the final end of life, or NaN when the mean
        lifetimes were not given.
    """

    regions: tuple[str, ...]
    transient: tuple[tuple[str, str], ...]
    absorbing: tuple[tuple[str, str], ...]
    visits: np.ndarray
    absorption: np.ndarray
    use_cycles: np.ndarray
    years_in_use: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Tidy ``region, sink_region, sink, probability`` (entry region first)."""
        nr, na = self.absorption.shape
        return pd.DataFrame(
            {
                "region": np.repeat(np.array(self.regions, dtype=object), na),
                "sink_region": np.tile(np.array([a[0] for a in self.absorbing], dtype=object), nr),
                "sink": np.tile(np.array([a[1] for a in self.absorbing], dtype=object), nr),
                "probability": self.absorption.ravel(),
            }
        )

    def by_sink(self) -> pd.DataFrame:
        """Probability of each sink kind (summed over sink regions), regions as rows."""
        frame = self.to_frame()
        frame["sink"] = np.where(frame["sink_region"] == ROW, "exported_row", frame["sink"])
        return frame.pivot_table(
            index="region", columns="sink", values="probability", aggfunc="sum", sort=False
        )

    def route(self, stage: str) -> np.ndarray:
        """Expected visits to ``stage`` in any region, ``(R,)``; for a stage a unit passes at
        most once (e.g. ``recycling_informal``) this is the probability of passing it."""
        cols = [i for i, (_, s) in enumerate(self.transient) if s == stage]
        if not cols:
            raise ValueError(f"unknown stage {stage!r}; expected one of {TRANSIENT_STAGES}")
        return self.visits[:, cols].sum(axis=1)


def _per_region(value: float | np.ndarray | None, nr: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(np.nan if value is None else value, dtype=float), (nr,))
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    return arr


def fate_matrix(
    tcs: TransferCoefficients,
    dims: DimsLike,
    *,
    product: str,
    year: int,
    exports: ExportDestinations | None = None,
    first_life_years: float | np.ndarray | None = None,
    second_life_years: float | np.ndarray | None = None,
    efficiencies: Mapping[str, float | np.ndarray] | None = None,
    entry: str = "use",
) -> FateResult:
    """Absorption probabilities, expected use cycles and years in use, for every region.

    Parameters
    ----------
    tcs
        Transfer coefficients resolved for ``dims``; those of ``product`` and ``year`` are used
        for every step of the chain (a stationary chain).
    dims
        Axis labels.
    product, year
        Product code and year whose coefficients define the chain.
    exports
        Export destinations; ``None`` sends exports out of the modelled regions (ROW).
    first_life_years, second_life_years
        Mean lifetime in years of the first and of later lives (scalar or ``(R,)`` by region
        of use); ``second_life_years`` defaults to ``first_life_years``.
    efficiencies
        For a kilogram of an element: recovery efficiency (0-1, scalar or ``(R,)``) by route
        stage, keys among ``preprocessing``, ``endprocessing``, ``recycling_informal``.
    entry
        Transient stage a unit enters (``"use"`` = first life).

    Returns
    -------
    FateResult

    Raises
    ------
    ValueError
        Unknown product, year, entry stage or efficiency route, an efficiency outside [0, 1],
        or a chain in which units can cycle forever (e.g. 100 % reuse).
    """
    tcs.check_labels(dims)
    regions = tuple(dims.regions)
    products = list(dims.products)
    years = np.asarray(dims.years)
    if product not in products:
        raise ValueError(f"product {product!r} is not modelled")
    if year not in years:
        raise ValueError(f"year {year} is not modelled ({years[0]}-{years[-1]})")
    if entry not in TRANSIENT_STAGES:
        raise ValueError(f"entry stage {entry!r} must be one of {TRANSIENT_STAGES}")
    p, n = products.index(product), int(np.flatnonzero(years == year)[0])
    nr = len(regions)
    exports = ExportDestinations.to_rest_of_world(dims) if exports is None else exports
    exports.check_labels(dims)
    tpos = {s: k for k, s in enumerate(TRANSIENT_STAGES)}
    apos = {s: k for k, s in enumerate(ABSORBING_STAGES)}
    nt, na = nr * len(TRANSIENT_STAGES), nr * len(ABSORBING_STAGES) + 1
    here = np.arange(nr)
    share = tcs.at(product=p, year=n)

    q_rows, q_cols, q_vals, r_rows, r_cols, r_vals = ([] for _ in range(6))

    def add(
        src: str, dst: str, prob: np.ndarray, src_reg: np.ndarray = here, dst_reg: np.ndarray = here
    ) -> None:
        prob = np.broadcast_to(prob, src_reg.shape)
        rows = src_reg * len(TRANSIENT_STAGES) + tpos[src]
        if dst in tpos:
            q_rows.append(rows)
            q_cols.append(dst_reg * len(TRANSIENT_STAGES) + tpos[dst])
            q_vals.append(prob)
        else:
            r_rows.append(rows)
            r_cols.append(
                np.full_like(rows, na - 1)
                if dst == ROW
                else dst_reg * len(ABSORBING_STAGES) + apos[dst]
            )
            r_vals.append(prob)

    eff = _efficiencies(efficiencies, nr)
    add(S.USE.value, S.GENERATED.value, np.ones(nr))
    add(SECOND_LIFE, S.GENERATED.value, np.ones(nr))
    for node in (
        S.GENERATED,
        S.COLLECTION_FORMAL,
        S.COLLECTION_INFORMAL,
        S.REFURBISHMENT,
        S.PREPROCESSING,
        S.ENDPROCESSING,
        S.RECYCLING_INFORMAL,
        S.RESIDUAL,
    ):
        if node.value in eff:
            add(node.value, EFFICIENCY_ROUTES[node.value], eff[node.value])
            add(node.value, S.LOSSES.value, 1.0 - eff[node.value])
            continue
        for target in STRUCTURE[node]:
            if target == S.EXPORT:
                continue
            dst = SECOND_LIFE if target == S.USE else target.value
            add(node.value, dst, share[(node, target)])
        if S.EXPORT in STRUCTURE[node]:
            add(node.value, S.EXPORT.value, share[(node, S.EXPORT)])
    link_share = exports.shares[:, p if exports.shares.shape[1] > 1 else 0]
    for st in sorted(set(exports.to_stage)):
        lk = np.flatnonzero(np.asarray(exports.to_stage, dtype=object) == st)
        dest = exports.destination[lk]
        if (dest < 0).any():
            out = lk[dest < 0]
            add(S.EXPORT.value, ROW, link_share[out], exports.origin[out], exports.origin[out])
        inside = lk[dest >= 0]
        if inside.size:
            dst = SECOND_LIFE if st == S.USE.value else st
            add(
                S.EXPORT.value,
                dst,
                link_share[inside],
                exports.origin[inside],
                exports.destination[inside],
            )

    Q = sp.csc_array(
        (np.concatenate(q_vals), (np.concatenate(q_rows), np.concatenate(q_cols))),
        shape=(nt, nt),
    )
    Rm = sp.csr_array(
        (np.concatenate(r_vals), (np.concatenate(r_rows), np.concatenate(r_cols))),
        shape=(nt, na),
    )
    entry_idx = here * len(TRANSIENT_STAGES) + tpos[entry]
    E = np.zeros((nt, nr))
    E[entry_idx, here] = 1.0
    A = (sp.identity(nt, format="csc") - Q).T.tocsc()
    try:
        visits = spla.splu(A).solve(E).T  # rows of N = (I - Q)^-1 for the entry states
    except RuntimeError as exc:
        raise ValueError(
            f"product {product!r}, year {year}: units can cycle forever without reaching a "
            "sink (check reuse and refurbishment shares of 100 %)"
        ) from exc
    absorption = np.asarray((Rm.T @ visits.T).T)
    total = absorption.sum(axis=1)
    if not np.all(np.abs(total - 1.0) < 1e-8) or (visits < -1e-12).any():
        bad = int(np.argmax(np.abs(total - 1.0)))
        raise ValueError(
            f"product {product!r}, year {year}, region {regions[bad]!r}: absorption "
            f"probabilities sum to {total[bad]:.12g}; the chain is not absorbing"
        )
    use_cols = [k for k, s in enumerate(TRANSIENT_STAGES) if s in (S.USE.value, SECOND_LIFE)]
    vis = visits.reshape(nr, nr, len(TRANSIENT_STAGES))
    cycles = vis[:, :, use_cols].sum(axis=(1, 2))
    l1 = _per_region(first_life_years, nr, "first_life_years")
    l2 = (
        l1 if second_life_years is None else _per_region(second_life_years, nr, "second_life_years")
    )
    years_in_use = vis[:, :, tpos[S.USE.value]] @ l1 + vis[:, :, tpos[SECOND_LIFE]] @ l2
    transient = tuple((r, s) for r in regions for s in TRANSIENT_STAGES)
    absorbing = (*((r, s) for r in regions for s in ABSORBING_STAGES), (ROW, S.EXPORT.value))
    return FateResult(regions, transient, absorbing, visits, absorption, cycles, years_in_use)


def _efficiencies(
    efficiencies: Mapping[str, float | np.ndarray] | None, nr: int
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for stage, value in (efficiencies or {}).items():
        if stage not in EFFICIENCY_ROUTES:
            raise ValueError(
                f"no recovery efficiency for stage {stage!r}; expected {list(EFFICIENCY_ROUTES)}"
            )
        arr = np.broadcast_to(np.asarray(value, dtype=float), (nr,))
        if not np.all((arr >= 0) & (arr <= 1)):
            raise ValueError(f"recovery efficiency of {stage!r} must be within [0, 1]")
        out[stage] = arr
    return out
