r"""Monte Carlo bands of the element table: tonnes of element by route, on the same draws.

The element table (``element_flows``: region, year, element, route, ``input_t``,
``recovered_t``, ``lost_t``) is read from the engine's element arrays
(:class:`ewaste_tracker.flows.minerals.ElementFlows`, ``(R, E, N)`` per route and quantity).
A batch of :math:`B` draws holds them for :math:`B \cdot R` pseudo-regions; the kept cells
are gathered straight from those arrays (one gather per route and quantity, never the whole
``(B, 3, routes, R, E, N)`` block). Cells are numbered in the *element layout*
:math:`((q \cdot K + k) R + r) E N + e N + n` for quantity :math:`q` (:data:`QUANTITIES`),
route :math:`k` (:data:`ewaste_tracker.flows.minerals.ROUTES`), region, element and year.

Memory: the world's element table has :math:`3 \times 5 \times 239 \times E \times N`
cells (about 4.6 million for the default run), 18 MB per draw as float32: the bands keep
them only for the shown countries, or for every region when the exact percentiles of all
kept cells fit the exact budget of :func:`ewaste_tracker.uncertainty.bands.run_bands` (in
memory or a temporary file; the histogram sketch, 0.5 kB per cell, would need 2.4 GB for
them alone and double the time of a draw).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from ewaste_tracker.flows.minerals import ROUTES, ElementFlows

__all__ = ["QUANTITIES", "ElementCells", "element_cells", "element_values"]

QUANTITIES = ("input_t", "recovered_t", "lost_t")
"""Columns of the element table that get bands."""


@dataclass
class ElementCells:
    """Kept cells of the element layout and how to gather them from a batch.

    Attributes
    ----------
    cells
        ``(C,)`` sorted positions in the element layout (module docstring).
    shape
        ``(R, E, N)`` of one copy of the regions.
    parts
        ``(quantity, route, positions in cells, flat index into (R, E, N))`` per pair.
    central
        ``(C,)`` the central run's values.
    """

    cells: np.ndarray
    shape: tuple[int, int, int]
    parts: list[tuple[str, str, np.ndarray, np.ndarray]]
    central: np.ndarray


def element_cells(
    elements: ElementFlows,
    regions: tuple[str, ...],
    keep: Collection[str] | None = None,
    *,
    central: bool = True,
) -> ElementCells:
    """The element cells of the regions ``keep`` (default all) and (``central``) their
    central values."""
    first = np.asarray(elements.routes[ROUTES[0]].input_t)
    n_r, n_e, n_n = first.shape
    per_region = n_e * n_n
    rows = np.arange(n_r) if keep is None else np.flatnonzero(np.isin(regions, list(keep)))
    local = (rows[:, None] * per_region + np.arange(per_region)[None]).ravel()  # (R E N) flat
    block = n_r * per_region
    parts = []
    cells = []
    at = 0
    for q, name in enumerate(QUANTITIES):
        for k, route in enumerate(ROUTES):
            base = (q * len(ROUTES) + k) * block
            cells.append(base + local)
            parts.append((name, route, np.arange(at, at + local.size), local))
            at += local.size
    out = ElementCells(np.concatenate(cells), (n_r, n_e, n_n), parts, np.zeros(0))
    if central:
        out.central = element_values(out, elements, 1)[0]
    return out


def element_values(space: ElementCells, elements: ElementFlows, batch: int) -> np.ndarray:
    """``(batch, C)`` float32 kept element cells of a batch's element arrays."""
    size = int(np.prod(space.shape))
    out = np.empty((batch, space.cells.size), dtype=np.float32)
    for name, route, pos, local in space.parts:
        arr = np.asarray(getattr(elements.routes[route], name)).reshape(batch, size)
        out[:, pos] = arr[:, local]
    return out
