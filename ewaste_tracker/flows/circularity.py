"""Material Circularity Indicator (MCI) of products and of a region's EEE flows.

The product-level indicator follows Ellen MacArthur Foundation and Granta Design (2015),
*Circularity Indicators: An Approach to Measuring Circularity. Methodology*;
:func:`circularity_from_flows` maps the lifecycle system's flows onto its inputs (a named
model assumption, documented there) so that every region and year, and every aggregate of
regions (from summed flows), gets an MCI.

References
----------
Ellen MacArthur Foundation and Granta Design (2015). Circularity Indicators: An Approach to
Measuring Circularity. Methodology. Cowes, UK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "CircularityError",
    "CircularityFlows",
    "MCIResult",
    "circularity_from_flows",
    "material_circularity_indicator",
    "mci_from_circularity",
    "sum_over_products",
]


class CircularityError(ValueError):
    """MCI inputs outside their range or flows missing a required transfer."""


@dataclass(frozen=True)
class MCIResult:
    """Terms of the Material Circularity Indicator (arrays broadcast from the inputs).

    Attributes are masses in the unit of ``M`` (virgin ``V``, unrecoverable waste ``W0``,
    recycling-process waste ``WC``, feedstock-production waste ``WF``, total waste ``W``)
    and the dimensionless ``lfi``, ``utility_factor`` :math:`F(X)` and ``mci``.
    """

    virgin: np.ndarray
    w0: np.ndarray
    wc: np.ndarray
    wf: np.ndarray
    waste: np.ndarray
    lfi: np.ndarray
    utility_factor: np.ndarray
    mci: np.ndarray


def _mci_terms(
    mass: np.ndarray,
    virgin: np.ndarray,
    w0: np.ndarray,
    wc: np.ndarray,
    wf: np.ndarray,
    utility: np.ndarray | float,
) -> MCIResult:
    x = np.asarray(utility, dtype=float)
    if (x <= 0).any():
        raise CircularityError(f"utility X must be positive, got minimum {x.min()!r}")
    waste = w0 + (wf + wc) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        lfi = (virgin + waste) / (2.0 * mass + (wf - wc) / 2.0)
    factor = 0.9 / x
    mci = np.maximum(0.0, 1.0 - lfi * factor)
    mci = np.where(np.isnan(lfi), np.nan, mci)
    return MCIResult(
        virgin=np.asarray(virgin, float),
        w0=np.asarray(w0, float),
        wc=np.asarray(wc, float),
        wf=np.asarray(wf, float),
        waste=np.asarray(waste, float),
        lfi=np.asarray(lfi, float),
        utility_factor=np.asarray(factor, float),
        mci=np.asarray(mci, float),
    )


def material_circularity_indicator(
    *,
    recycled_input: np.ndarray | float,
    collected_recycling: np.ndarray | float,
    recycling_efficiency: np.ndarray | float,
    feedstock_efficiency: np.ndarray | float | None = None,
    reused_input: np.ndarray | float = 0.0,
    collected_reuse: np.ndarray | float = 0.0,
    utility: np.ndarray | float = 1.0,
    mass: np.ndarray | float = 1.0,
) -> MCIResult:
    """Material Circularity Indicator of a product (Ellen MacArthur Foundation 2015).

    With product mass :math:`M`, fractions of feedstock from recycled (:math:`F_R`) and
    reused (:math:`F_U`) sources, fractions of mass collected for recycling (:math:`C_R`) and
    for component reuse (:math:`C_U`), efficiency of the recycling of the collected product
    (:math:`E_C`) and of the process producing the recycled feedstock (:math:`E_F`), and
    utility :math:`X = (L/L_{av})(U/U_{av})`:

    .. math::

        V &= M (1 - F_R - F_U) \\\\
        W_0 &= M (1 - C_R - C_U) \\\\
        W_C &= M (1 - E_C) C_R \\\\
        W_F &= M (1 - E_F) F_R / E_F \\\\
        W &= W_0 + (W_F + W_C) / 2 \\\\
        LFI &= \\frac{V + W}{2M + (W_F - W_C)/2} \\\\
        F(X) &= 0.9 / X \\\\
        MCI &= \\max(0,\\; 1 - LFI \\cdot F(X))

    A fully linear product (:math:`V = W = M`, :math:`X = 1`) scores 0.1; a fully restorative
    one (:math:`V = W = 0`) scores 1.

    Parameters
    ----------
    recycled_input, reused_input
        :math:`F_R`, :math:`F_U`, fractions of feedstock.
    collected_recycling, collected_reuse
        :math:`C_R`, :math:`C_U`, fractions of mass collected at end of use.
    recycling_efficiency
        :math:`E_C`.
    feedstock_efficiency
        :math:`E_F`; ``None`` uses :math:`E_C` (model assumption: the same recycling
        technology closes both ends).
    utility
        :math:`X` (> 0).
    mass
        :math:`M`; the MCI does not depend on it.

    Returns
    -------
    MCIResult

    Raises
    ------
    CircularityError
        If a fraction is outside [0, 1], :math:`F_R + F_U > 1`, :math:`C_R + C_U > 1`, or
        :math:`E_F = 0` with recycled input.

    References
    ----------
    Ellen MacArthur Foundation and Granta Design (2015). Circularity Indicators: An Approach
    to Measuring Circularity. Methodology, sections on the product-level MCI.
    """
    fr, fu, cr, cu, ec = (
        np.asarray(v, dtype=float)
        for v in (recycled_input, reused_input, collected_recycling, collected_reuse,
                  recycling_efficiency)
    )  # fmt: skip
    ef = ec if feedstock_efficiency is None else np.asarray(feedstock_efficiency, dtype=float)
    named = {"F_R": fr, "F_U": fu, "C_R": cr, "C_U": cu, "E_C": ec, "E_F": ef}
    for name, v in named.items():
        if not ((v >= 0) & (v <= 1)).all():
            raise CircularityError(f"MCI input {name} must be a fraction in [0, 1], got {v!r}")
    if (fr + fu > 1 + 1e-12).any() or (cr + cu > 1 + 1e-12).any():
        raise CircularityError("F_R + F_U and C_R + C_U must not exceed 1")
    if ((ef == 0) & (fr > 0)).any():
        raise CircularityError("E_F = 0 with recycled input F_R > 0 makes W_F infinite")
    m = np.asarray(mass, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        wf = np.where(fr > 0, m * fr * (1 - ef) / np.where(ef > 0, ef, 1.0), 0.0)
    return _mci_terms(m, m * (1 - fr - fu), m * (1 - cr - cu), m * (1 - ec) * cr, wf, utility)


@dataclass(frozen=True)
class CircularityFlows:
    """Extensive inputs of the flow-based MCI, each (R, N) in tonnes (summed over products).

    Sums over regions are meaningful, so an aggregate's MCI is computed from summed flows.
    See :func:`circularity_from_flows` for how they are read from the lifecycle system.
    """

    feedstock_t: np.ndarray
    recycled_input_t: np.ndarray
    reused_input_t: np.ndarray
    generated_t: np.ndarray
    collected_recycling_t: np.ndarray
    collected_reuse_t: np.ndarray
    recovered_t: np.ndarray
    feedstock_waste_t: np.ndarray

    def aggregate(self, agg: Callable[[np.ndarray], np.ndarray]) -> CircularityFlows:
        """Apply ``agg`` (R, N) → (K, N), a sum over regions, to every field."""
        return CircularityFlows(**{f.name: agg(getattr(self, f.name)) for f in fields(self)})


def sum_over_products(
    name: str,
    arr: np.ndarray | float,
    shape: tuple[int, int],
    *,
    error: type[ValueError] = CircularityError,
) -> np.ndarray:
    """(R, P, N) summed over products, or (R, N) / broadcastable as is; checked >= 0.

    Raises ``error`` naming ``name``, the region index and the year index of the first
    negative or NaN value.
    """
    a = np.asarray(arr, dtype=float)
    if a.ndim == 3:
        a = a.sum(axis=1)
    a = np.broadcast_to(a, shape)
    if not (a >= 0).all():
        r, n = np.argwhere(~(a >= 0))[0]
        raise error(
            f"{name} is negative or not a number at region index {r}, year index {n}: {a[r, n]!r}"
        )
    return a


def circularity_from_flows(
    flows: Mapping[tuple[str, str], np.ndarray],
    *,
    recycled_content: np.ndarray | float = 0.0,
    feedstock_efficiency: np.ndarray | float | None = None,
    imported_reuse: np.ndarray | None = None,
    imported_recycling: np.ndarray | None = None,
) -> CircularityFlows:
    """Read the MCI's inputs from the lifecycle system's flows.

    **Model assumption "MCI flow mapping".** The EEE of a region and year is one product
    whose feedstock is what enters use and whose end of use is e-waste generated:

    * feedstock :math:`M` = ``market→use`` (POM) + ``refurbishment→use`` (+ imported used EEE);
    * reused input :math:`F_U M` = ``refurbishment→use`` (+ imported used EEE);
    * recycled input :math:`F_R M` = recycled content share × POM (the system has no
      secondary-material market, so the share is an input; default 0), and virgin input
      :math:`V` = POM − recycled-content input;
    * generated :math:`WG` = ``use→generated``; collected for reuse :math:`C_U WG` =
      ``refurbishment→use``; collected for recycling :math:`C_R WG` = everything entering
      ``preprocessing`` or ``recycling_informal``; exports count as neither (they leave the
      region's product system), so residual, exports and uncollected mass form :math:`W_0`;
    * recycling efficiency :math:`E_C` = (``endprocessing→recovered`` +
      ``recycling_informal→recovered``) / collected for recycling, so pre-processing residues
      and ``losses`` form :math:`W_C`;
    * the fractions at end of use are applied to :math:`M` (the MCI's steady-state
      convention, in which a product leaves use with the mass it entered with), and
      :math:`W_F = F_R M (1 - E_F)/E_F` with :math:`E_F` = ``feedstock_efficiency`` or, by
      default, the region-year's :math:`E_C` (1 where nothing is collected for recycling).

    Parameters
    ----------
    flows
        ``(from_stage, to_stage)`` to (R, P, N) tonnes; ``("market", "use")`` and
        ``("use", "generated")`` are required, missing others are zero.
    recycled_content
        Share of recycled material in new EEE, broadcastable to (R, P, N).
    feedstock_efficiency
        :math:`E_F`, broadcastable to (R, N); ``None`` for the default above.
    imported_reuse
        Used EEE imported into use, (R, P, N) or (R, N) tonnes.
    imported_recycling
        E-waste imported into ``preprocessing`` or ``recycling_informal``, (R, P, N) or
        (R, N) tonnes: it is recycled (and recovered) in the region, so it counts as collected
        for recycling there, so that E_C never exceeds 1.

    Returns
    -------
    CircularityFlows
    """
    for key in (("market", "use"), ("use", "generated")):
        if key not in flows:
            raise CircularityError(f"flows lack the transfer {key[0]}→{key[1]} needed for the MCI")
    pom_rpn = np.asarray(flows[("market", "use")], dtype=float)
    shape = (pom_rpn.shape[0], pom_rpn.shape[2])
    zero = np.zeros(shape)

    def total(*keys: tuple[str, str]) -> np.ndarray:
        out = zero.copy()
        for k in keys:
            if k in flows:
                out += sum_over_products(f"flow {k[0]}→{k[1]}", flows[k], shape)
        return out

    share = np.asarray(recycled_content, dtype=float)
    if not ((share >= 0) & (share <= 1)).all():
        raise CircularityError(f"recycled_content must be a share in [0, 1], got {share!r}")
    pom = sum_over_products("flow market→use", pom_rpn, shape)
    recycled = sum_over_products("recycled content × POM", pom_rpn * share, shape)
    reused = total(("refurbishment", "use"))
    collected_reuse = reused.copy()
    if imported_reuse is not None:
        reused = reused + sum_over_products("imported_reuse", imported_reuse, shape)
    into_recycling = [k for k in flows if k[1] in ("preprocessing", "recycling_informal")]
    collected = total(*into_recycling)
    if imported_recycling is not None:
        collected = collected + sum_over_products("imported_recycling", imported_recycling, shape)
    recovered = total(("endprocessing", "recovered"), ("recycling_informal", "recovered"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ec = np.where(collected > 0, recovered / collected, 1.0)
    ef = (
        ec
        if feedstock_efficiency is None
        else sum_over_products("E_F", feedstock_efficiency, shape)
    )
    if (ef > 1).any():
        raise CircularityError("feedstock_efficiency E_F must be a fraction in [0, 1]")
    if ((ef == 0) & (recycled > 0)).any():
        raise CircularityError("E_F = 0 where there is recycled input makes W_F infinite")
    with np.errstate(divide="ignore", invalid="ignore"):
        wf = np.where(recycled > 0, recycled * (1 - ef) / np.where(ef > 0, ef, 1.0), 0.0)
    return CircularityFlows(
        feedstock_t=pom + reused,
        recycled_input_t=recycled,
        reused_input_t=reused,
        generated_t=total(("use", "generated")),
        collected_recycling_t=collected,
        collected_reuse_t=collected_reuse,
        recovered_t=recovered,
        feedstock_waste_t=wf,
    )


def mci_from_circularity(cf: CircularityFlows, *, utility: np.ndarray | float = 1.0) -> MCIResult:
    """MCI per region and year from :class:`CircularityFlows` (see its mapping).

    .. math::

        C_R = \\frac{\\text{collected for recycling}}{WG},\\quad
        C_U = \\frac{\\text{collected for reuse}}{WG},\\quad
        E_C = \\frac{\\text{recovered}}{\\text{collected for recycling}}

    then the terms of :func:`material_circularity_indicator` with
    :math:`W_0 = M \\max(0, 1 - C_R - C_U)` and :math:`W_F` taken from the flows. Cells with
    no feedstock or no e-waste generated give NaN.
    """
    m, wg = cf.feedstock_t, cf.generated_t
    undefined = (m <= 0) | (wg <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cr = np.where(undefined, np.nan, cf.collected_recycling_t / wg)
        cu = np.where(undefined, np.nan, cf.collected_reuse_t / wg)
        ec = np.where(cf.collected_recycling_t > 0, cf.recovered_t / cf.collected_recycling_t, 1.0)
        mass = np.where(undefined, np.nan, m)
        virgin = m - cf.recycled_input_t - cf.reused_input_t
        w0 = mass * np.maximum(0.0, 1.0 - cr - cu)
        wc = mass * (1.0 - ec) * cr
    return _mci_terms(mass, virgin, w0, wc, cf.feedstock_waste_t, utility)
