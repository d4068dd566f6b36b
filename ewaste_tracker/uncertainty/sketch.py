r"""Percentiles of many draws in bounded memory: a fixed histogram per cell.

When the draws of every kept cell do not fit in memory (10,000 draws of the world's 2.8
million indicator cells would need 106 GB as float32), each cell keeps a histogram of
:data:`BINS` counts over the transformed value

.. math:: u = \operatorname{asinh}(v / s), \qquad s = \alpha \max(|c|, \epsilon),

with :math:`c` the cell's central value (for a cell whose central value is 0, the largest
magnitude among the first :data:`PILOT` draws) and :math:`\alpha` = :data:`ALPHA`. The grid
is fixed before the other draws are counted, so the counts, and the percentiles,
do not depend on the order in which batches arrive, on the batch size or on the number of
workers. Bins are uniform in :math:`u` on :math:`[-U, U]`, :math:`U = \operatorname{asinh}(
R/\alpha)` with :data:`RANGE` :math:`R`: values up to :math:`R|c|` either side of zero are
resolved; near :math:`v = c` a bin spans a relative :math:`\Delta v / v \approx 2U/B` (2.6 %
for the defaults), and the percentile is interpolated linearly inside its bin. The minimum and
maximum of each cell are kept exactly for values beyond the grid.

Each cell counts only a window of :data:`WINDOW` consecutive bins of its grid, centred on
the median bin of the pilot draws, plus one counter of the draws below the window and one of
the draws above it: the ranks stay exact, and a percentile that falls in an outer counter is
interpolated between the exact extreme and the window's edge (logged; the window spans a
factor of about 800 in value near :math:`c`, so only cells whose draws change sign or
magnitude a thousandfold get there).

Memory: :math:`C \times (W + 2)` ``uint16`` counts (up to 65,535 draws) plus four 4-byte
numbers per cell: for the world's 3.2 M indicator and footprint cells × 258 × 2 bytes =
1.6 GB, whatever the number of draws.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["ALPHA", "BINS", "PILOT", "RANGE", "WINDOW", "HistogramSketch"]

BINS = 512
"""Bins of each cell's whole grid (its resolution)."""
WINDOW = 256
"""Bins of the grid each cell counts (centred on its pilot draws)."""
PILOT = 8
"""Draws 0 .. PILOT - 1 set the grid of cells whose central value is 0."""
ALPHA = 0.05
RANGE = 20.0
MAX_DRAWS = np.iinfo(np.uint16).max
CHUNK = 65_536
"""Cells per chunk when reading the percentiles."""


class HistogramSketch:
    """Fixed-grid histograms of ``C`` cells (module docstring).

    Parameters
    ----------
    central
        ``(C,)`` central values (they set each cell's grid).
    pilot
        ``(D, C)`` first draws: the scale of cells whose central value is 0, and the
        centre of every cell's window (default: the central value's bin).
    bins
        Bins of each cell's grid.
    window
        Bins of the grid each cell counts (at most ``bins``).
    """

    def __init__(
        self,
        central: np.ndarray,
        pilot: np.ndarray | None = None,
        bins: int = BINS,
        window: int = WINDOW,
    ) -> None:
        c = np.abs(np.asarray(central, dtype=np.float64))
        if pilot is not None:  # cells whose central value is 0: the pilot draws' magnitude
            with np.errstate(invalid="ignore"):
                mag = np.nanmax(np.abs(np.asarray(pilot, dtype=np.float64)), axis=0)
            c = np.where(np.isfinite(c) & (c > 0), c, np.nan_to_num(mag))
        finite = c[np.isfinite(c) & (c > 0)]
        tiny = float(finite.min()) * 1e-3 if finite.size else 1.0
        self.scale = (ALPHA * np.where(np.isfinite(c) & (c > 0), c, tiny)).astype(np.float32)
        self.bins = int(bins)
        self.window = min(int(window), self.bins)
        self.top = float(np.arcsinh(RANGE / ALPHA))
        self.width = 2.0 * self.top / self.bins
        ref = np.asarray(central, dtype=np.float32)[None, :] if pilot is None else pilot
        refbin = np.where(np.isfinite(ref), self._bin(np.nan_to_num(ref)), -1)
        refbin = np.sort(refbin, axis=0)  # NaN draws (-1) sort first: the median of the rest
        n_ok = (refbin >= 0).sum(axis=0)
        mid = refbin.shape[0] - 1 - (np.maximum(n_ok, 1) - 1) // 2
        centre = refbin[np.minimum(mid, refbin.shape[0] - 1), np.arange(c.size)]
        centre = np.where(n_ok > 0, centre, self.bins // 2)
        self.offset = np.clip(centre - self.window // 2, 0, self.bins - self.window).astype(
            np.int32
        )
        self.counts = np.zeros((c.size, self.window + 2), dtype=np.uint16)
        self.low = np.full(c.size, np.inf, dtype=np.float32)
        self.high = np.full(c.size, -np.inf, dtype=np.float32)
        self.n = np.zeros(c.size, dtype=np.int32)

    def _bin(self, v: np.ndarray) -> np.ndarray:
        """Grid bin (0 .. bins - 1) of every value of a ``(D, C)`` block (int32)."""
        u = np.arcsinh(np.asarray(v, dtype=np.float32) / self.scale)
        u += self.top
        u /= self.width
        np.clip(u, 0, self.bins - 1, out=u)
        return u.astype(np.int32)

    def add(self, values: np.ndarray) -> None:
        """Fold a ``(D, C)`` block of draws (NaN draws are skipped)."""
        v = np.asarray(values, dtype=np.float32)
        ok = np.isfinite(v)
        every = bool(ok.all())
        if int(self.n.max(initial=0)) + v.shape[0] > MAX_DRAWS:
            raise ValueError(f"a histogram sketch counts at most {MAX_DRAWS} draws")
        slot = self._bin(v if every else np.where(ok, v, 0))
        slot -= self.offset
        slot += 1
        np.clip(slot, 0, self.window + 1, out=slot)
        base = np.arange(v.shape[1], dtype=np.intp) * (self.window + 2)
        counts = self.counts.reshape(-1)
        # One draw holds every cell once, so its slots are distinct and a fancy-index
        # increment is exact; a loop over the block's few draws, each vectorised over every
        # cell, is ten times faster than ``np.add.at`` over the block.
        for row, good in zip(slot, ok, strict=True):
            flat = base + row
            counts[flat if every else flat[good]] += 1
        if every:
            self.n += v.shape[0]
            np.fmin(self.low, v.min(axis=0), out=self.low)
            np.fmax(self.high, v.max(axis=0), out=self.high)
            return
        self.n += ok.sum(axis=0, dtype=np.int32)
        with np.errstate(invalid="ignore"):
            self.low = np.fmin(self.low, np.where(ok, v, np.inf).min(axis=0))
            self.high = np.fmax(self.high, np.where(ok, v, -np.inf).max(axis=0))

    def _order_statistic(self, sl: slice, counts: np.ndarray, cum: np.ndarray,
                         rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Value of the ``rank``-th smallest draw (1-based) of every cell of ``sl``: its slot,
        the draws of a slot spread evenly inside it; and whether it fell outside the window."""
        rows = np.arange(counts.shape[0])
        last = self.window + 1
        k = np.minimum((cum < rank[:, None]).sum(axis=1), last)
        before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0)
        inside = np.maximum(counts[rows, k].astype(np.float64), 1.0)
        frac = np.clip((rank - before - 0.5) / inside, 0.0, 1.0)
        scale = self.scale[sl].astype(np.float64)
        edge = -self.top + self.offset[sl] * self.width  # lower edge of the window
        lo = edge + (k - 1) * self.width
        hi = lo + self.width
        with np.errstate(invalid="ignore"):
            below, above = k == 0, k == last
            lo = np.where(below, np.arcsinh(self.low[sl] / scale), lo)
            hi = np.where(below, edge, hi)
            lo = np.where(above, edge + self.window * self.width, lo)
            hi = np.where(above, np.arcsinh(self.high[sl] / scale), hi)
        u = lo + frac * np.maximum(hi - lo, 0.0)
        return np.sinh(u) * scale, (below | above) & (counts[rows, k] > 0)

    def quantiles(self, qs: tuple[float, ...]) -> np.ndarray:
        """``(C, len(qs))`` percentiles as ``numpy.quantile``'s linear method on the order
        statistics read from the bins, clipped to the range of the values seen (NaN for
        cells without a finite draw). Cells are read in chunks of :data:`CHUNK` (the
        cumulative counts of a chunk only)."""
        out = np.empty((self.counts.shape[0], len(qs)))
        outside = 0
        for start in range(0, self.counts.shape[0], CHUNK):  # bounded memory
            sl = slice(start, start + CHUNK)
            out[sl], n_out = self._chunk_quantiles(sl, qs)
            outside += n_out
        out[self.n == 0] = np.nan
        if outside:
            logger.info(
                "sketch: %d percentiles fell outside their cell's window of %d bins "
                "(interpolated between the window's edge and the exact extreme)",
                outside, self.window,
            )  # fmt: skip
        return out

    def _chunk_quantiles(self, sl: slice, qs: tuple[float, ...]) -> tuple[np.ndarray, int]:
        counts = self.counts[sl]
        cum = np.cumsum(counts, axis=1, dtype=np.int32)
        n = self.n[sl].astype(np.float64)
        out = np.empty((counts.shape[0], len(qs)))
        outside = 0
        for j, q in enumerate(qs):  # three quantiles: a loop over a tiny axis
            rank = q * np.maximum(n - 1, 0) + 1  # 1-based, between two order statistics
            lo = np.floor(rank)
            lower, out_l = self._order_statistic(sl, counts, cum, lo)
            upper, out_u = self._order_statistic(
                sl, counts, cum, np.minimum(lo + 1, np.maximum(n, 1))
            )
            v = lower + (rank - lo) * (upper - lower)
            out[:, j] = np.clip(v, self.low[sl], self.high[sl])
            outside += int((out_l | out_u).sum())
        return out, outside
