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
resolved; near :math:`v = c` a bin spans a relative :math:`\Delta v / v \approx 2U/B` (1.3 %
for the defaults), and the percentile is interpolated linearly inside its bin. The minimum and
maximum of each cell are kept exactly for values beyond the grid.

Memory: :math:`C \times B` ``uint16`` counts (up to 65,535 draws) plus two float32: for the
world 2.8 M cells × 512 bins × 2 bytes = 2.9 GB, whatever the number of draws.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ALPHA", "BINS", "PILOT", "RANGE", "HistogramSketch"]

BINS = 512
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
    bins
        Bins per cell.
    """

    def __init__(
        self, central: np.ndarray, pilot: np.ndarray | None = None, bins: int = BINS
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
        self.top = float(np.arcsinh(RANGE / ALPHA))
        self.width = 2.0 * self.top / self.bins
        self.counts = np.zeros((c.size, self.bins), dtype=np.uint16)
        self.low = np.full(c.size, np.inf, dtype=np.float32)
        self.high = np.full(c.size, -np.inf, dtype=np.float32)
        self.n = np.zeros(c.size, dtype=np.int32)

    def add(self, values: np.ndarray) -> None:
        """Fold a ``(D, C)`` block of draws (NaN draws are skipped)."""
        v = np.asarray(values, dtype=np.float32)
        ok = np.isfinite(v)
        if int(self.n.max(initial=0)) + v.shape[0] > MAX_DRAWS:
            raise ValueError(f"a histogram sketch counts at most {MAX_DRAWS} draws")
        u = np.arcsinh(v / self.scale)
        b = np.clip(((u + self.top) / self.width).astype(np.int64), 0, self.bins - 1)
        flat = np.arange(v.shape[1], dtype=np.intp) * self.bins + b
        counts = self.counts.reshape(-1)
        # One draw holds every cell once, so its slots are distinct and a fancy-index
        # increment is exact; a loop over the block's few draws, each vectorised over every
        # cell, is ten times faster than ``np.add.at`` over the block.
        for row, good in zip(flat, ok, strict=True):
            counts[row if good.all() else row[good]] += 1
        self.n += ok.sum(axis=0, dtype=np.int32)
        with np.errstate(invalid="ignore"):
            self.low = np.fmin(self.low, np.where(ok, v, np.inf).min(axis=0))
            self.high = np.fmax(self.high, np.where(ok, v, -np.inf).max(axis=0))

    def _order_statistic(
        self, counts: np.ndarray, cum: np.ndarray, scale: np.ndarray, rank: np.ndarray
    ) -> np.ndarray:
        """Value of the ``rank``-th smallest draw (1-based) of every cell: its bin, and the
        draws of a bin spread evenly inside it."""
        rows = np.arange(counts.shape[0])
        k = np.minimum((cum < rank[:, None]).sum(axis=1), self.bins - 1)
        before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0)
        inside = np.maximum(counts[rows, k].astype(np.float64), 1.0)
        frac = np.clip((rank - before - 0.5) / inside, 0.0, 1.0)
        u = -self.top + (k + frac) * self.width
        return np.sinh(u) * scale

    def quantiles(self, qs: tuple[float, ...]) -> np.ndarray:
        """``(C, len(qs))`` percentiles as ``numpy.quantile``'s linear method on the order
        statistics read from the bins, clipped to the range of the values seen (NaN for
        cells without a finite draw). Cells are read in chunks of :data:`CHUNK` (the
        cumulative counts of a chunk only)."""
        out = np.empty((self.counts.shape[0], len(qs)))
        for start in range(0, self.counts.shape[0], CHUNK):  # bounded memory
            sl = slice(start, start + CHUNK)
            out[sl] = self._chunk_quantiles(sl, qs)
        out[self.n == 0] = np.nan
        return out

    def _chunk_quantiles(self, sl: slice, qs: tuple[float, ...]) -> np.ndarray:
        counts = self.counts[sl]
        cum = np.cumsum(counts, axis=1, dtype=np.int32)
        n = self.n[sl].astype(np.float64)
        scale = self.scale[sl]
        out = np.empty((counts.shape[0], len(qs)))
        for j, q in enumerate(qs):  # three quantiles: a loop over a tiny axis
            rank = q * np.maximum(n - 1, 0) + 1  # 1-based, between two order statistics
            lo = np.floor(rank)
            lower = self._order_statistic(counts, cum, scale, lo)
            upper = self._order_statistic(counts, cum, scale, np.minimum(lo + 1, np.maximum(n, 1)))
            v = lower + (rank - lo) * (upper - lower)
            out[:, j] = np.clip(v, self.low[sl], self.high[sl])
        return out
