r"""Map classes: natural breaks and fixed thresholds, with colours that say good or bad.

Quintiles by count put as many countries in each class whatever the values: with skewed
quantities (tonnes lost, USD) most of the land lands in the top class, and a red "high" class
reads as alarm even for collection, where high is good. This module gives the two class
schemes the maps use instead:

* :func:`natural_breaks`: Fisher's exact optimal partition (Fisher 1958, *On grouping for
  maximum homogeneity*, JASA 53:789-798; the "natural breaks" of Jenks 1977): the ``k``
  classes of sorted values :math:`x_1 \le \dots \le x_n` minimising the within-class sum of
  squared deviations

  .. math:: \min_{0 = i_0 < i_1 < \dots < i_k = n} \sum_{c=1}^{k} \sum_{j=i_{c-1}+1}^{i_c}
            (x_j - \bar x_c)^2,

  solved by dynamic programming on cumulative sums,
  :math:`D_c(j) = \min_{i<j} D_{c-1}(i) + SSD(i, j)` with
  :math:`SSD(i, j) = S_2(j) - S_2(i) - (S_1(j) - S_1(i))^2 / (W(j) - W(i))` (weighted
  cumulative sums of :math:`x^2`, :math:`x` and the counts), each step vectorised over
  :math:`(i, j)`; a loop over the ``k`` classes only. Repeated values are weighted, and
  beyond ``max_values`` distinct values (rasters) the values are first pooled into
  ``max_values`` groups of equal count.
* :func:`fixed_classes`: thresholds chosen for their meaning, e.g. the EU WEEE Directive's
  45 % and 65 % collection targets, or a gap of zero (target met).

A :class:`Classes` carries its edges, legend labels and colours, and classifies values
(``-1`` = no data). Colour schemes: Brewer, C. A. (2003), ColorBrewer, www.ColorBrewer.org.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ewaste_tracker.maps.legend import format_quantity, format_range

__all__ = [
    "BLUES_GOOD",
    "BUPU",
    "DIVERGING_GAP",
    "YLORRD",
    "Classes",
    "fixed_classes",
    "natural_breaks",
    "natural_classes",
]

YLORRD = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
"""ColorBrewer YlOrRd 5: more is worse (losses)."""
BUPU = ("#edf8fb", "#b3cde3", "#8c96c6", "#8856a7", "#810f7c")
"""ColorBrewer BuPu 5: a quantity with no good or bad direction (e-waste per inhabitant)."""
BLUES_GOOD = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
"""ColorBrewer YlGnBu 6: more is better (collection rates)."""
DIVERGING_GAP = ("#2c7bb6", "#ffffbf", "#fdae61", "#f46d43", "#d7191c")
"""ColorBrewer RdYlBu 5 reversed: blue = target met, yellow to red = growing shortfall."""


@dataclass(frozen=True)
class Classes:
    """Class edges with their legend labels and colours.

    Attributes
    ----------
    edges
        ``(k + 1,)`` increasing edges; the outer ones may be infinite.
    colours
        ``k`` colours, one per class.
    labels
        ``k`` legend labels.
    right
        Classes are ``(a, b]`` when true, ``[a, b)`` otherwise (the last class is closed
        either way, so the maximum has a class).
    method
        How the edges were chosen (written under the legend).
    """

    edges: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    right: bool = True
    method: str = ""

    def __post_init__(self) -> None:
        k = len(self.edges) - 1
        if k < 1 or len(self.colours) != k or len(self.labels) != k:
            raise ValueError("Classes: k + 1 edges, k colours and k labels are required")
        if np.any(np.diff(np.asarray(self.edges, float)) < 0):
            raise ValueError("Classes: edges must increase")

    def classify(self, values: np.ndarray | Sequence[float]) -> np.ndarray:
        """Class index of each value (0..k-1), ``-1`` for NaN or values outside the edges."""
        v = np.asarray(values, dtype=float)
        e = np.asarray(self.edges, dtype=float)
        inner = e[1:-1]
        cls = np.searchsorted(inner, v, side="left" if self.right else "right")
        outside = np.isnan(v) | (v < e[0]) | (v > e[-1])
        return np.where(outside, -1, cls)

    def counts(self, values: np.ndarray | Sequence[float]) -> np.ndarray:
        """Number of values in each class."""
        cls = self.classify(values)
        return np.bincount(cls[cls >= 0], minlength=len(self.colours))


def _pooled(values: np.ndarray, max_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts, pooled into at most ``max_values`` equal-count groups
    (group value = mean, so sums and sums of squares of the groups stay close)."""
    u, w = np.unique(values, return_counts=True)
    if u.size <= max_values:
        return u, w.astype(float)
    cum = np.cumsum(w) - w / 2.0
    group = np.minimum((cum / cum[-1] * max_values).astype(int), max_values - 1)
    wg = np.bincount(group, weights=w, minlength=max_values)
    sg = np.bincount(group, weights=w * u, minlength=max_values)
    keep = wg > 0
    return sg[keep] / wg[keep], wg[keep]


def natural_breaks(
    values: np.ndarray | Sequence[float], k: int = 5, *, max_values: int = 1500
) -> np.ndarray:
    """Fisher-Jenks natural-break edges of the finite values (module docstring).

    Parameters
    ----------
    values
        Values; NaN and infinities are ignored.
    k
        Number of classes wanted (fewer when there are fewer distinct values).
    max_values
        Distinct values beyond which values are pooled first (keeps the ``(n, n)`` step
        arrays small: 1500 values take about 20 MB).

    Returns
    -------
    numpy.ndarray
        ``(k' + 1,)`` edges: the minimum, the largest value of each class but the last, and
        the maximum; ``k' <= k``. Empty when there is no finite value.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.array([])
    u, w = _pooled(x, max_values)
    n = u.size
    lo, hi = float(x.min()), float(x.max())
    if n <= k:
        inner = u[:-1] if n > 1 else np.array([])
        return np.concatenate([[lo], inner, [hi]]) if n > 1 else np.array([lo, hi])
    cw = np.concatenate([[0.0], np.cumsum(w)])
    c1 = np.concatenate([[0.0], np.cumsum(w * u)])
    c2 = np.concatenate([[0.0], np.cumsum(w * u * u)])
    i = np.arange(n + 1)[:, None]
    j = np.arange(n + 1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ssd = (c2[j] - c2[i]) - (c1[j] - c1[i]) ** 2 / (cw[j] - cw[i])
    ssd = np.where(j > i, np.maximum(ssd, 0.0), np.inf)
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros((k + 1, n + 1), dtype=np.int64)
    for c in range(1, k + 1):  # a loop over the k classes; each step is vectorised
        cand = best[:, None] + ssd
        back[c] = np.argmin(cand, axis=0)
        best = cand[back[c], np.arange(n + 1)]
    cuts = []
    end = n
    for c in range(k, 0, -1):
        start = int(back[c, end])
        cuts.append(start)
        end = start
    starts = sorted(cuts)[1:]  # the first class starts at 0
    uppers = [float(u[s - 1]) for s in starts]
    return np.array([lo, *uppers, hi])


def _labels(edges: np.ndarray, unit: str, *, right: bool) -> list[str]:
    out = []
    k = edges.size - 1
    for c in range(k):
        a, b = float(edges[c]), float(edges[c + 1])
        if np.isinf(a):
            out.append(f"{'up to' if right else 'under'} {format_quantity(b, unit)}")
        elif np.isinf(b):
            out.append(
                f"{'over' if right else ''} {format_quantity(a, unit)}"
                f"{'' if right else ' and more'}".strip()
            )
        else:
            out.append(format_range(a, b, unit))
    return out


SKEW_RATIO = 50.0
"""Positive values whose maximum exceeds the median this many times are classed on their
logarithm (orders of magnitude), so that a few giants do not leave one class for everyone."""


def _round2(x: np.ndarray) -> np.ndarray:
    """Inner edges to two significant digits (legends read "1.2 – 35 kt", not "1.23456")."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(x != 0, 10.0 ** (np.floor(np.log10(np.abs(x))) - 1), 1.0)
    return np.round(x / mag) * mag


def natural_classes(
    values: np.ndarray | Sequence[float],
    *,
    colours: Sequence[str] = YLORRD,
    unit: str = "",
    log: bool | None = None,
) -> Classes | None:
    r"""Natural-break :class:`Classes` of ``values`` (as many as ``colours``), or ``None``
    when no value is finite.

    With ``log`` (default: when every finite value is positive and the maximum is more than
    :data:`SKEW_RATIO` times the median) the breaks are those of :math:`\log_{10}` of the
    values. Inner edges are rounded to two significant digits.
    """
    v = np.asarray(values, dtype=float)
    fin = v[np.isfinite(v)]
    if fin.size == 0:
        return None
    if log is None:
        log = bool((fin > 0).all() and fin.max() > SKEW_RATIO * np.median(fin))
    edges = (
        (10.0 ** natural_breaks(np.log10(fin), len(colours)))
        if log
        else natural_breaks(fin, len(colours))
    )
    if edges.size < 2:
        return None
    edges[0], edges[-1] = fin.min(), fin.max()
    if edges.size > 2:
        edges[1:-1] = _round2(edges[1:-1])
    edges = np.unique(np.clip(edges, fin.min(), fin.max()))
    if edges.size < 2:
        edges = np.array([fin.min(), fin.max()])
    k = edges.size - 1
    idx = np.round(np.linspace(0, len(colours) - 1, k)).astype(int) if k > 1 else [len(colours) - 1]
    method = "natural breaks (Fisher-Jenks)" + (" of log10 values" if log else "")
    return Classes(
        tuple(map(float, edges)),
        tuple(colours[i] for i in idx),
        tuple(_labels(edges, unit, right=True)),
        right=True,
        method=method,
    )


def fixed_classes(
    edges: Sequence[float],
    *,
    colours: Sequence[str],
    unit: str = "",
    labels: Sequence[str] | None = None,
    right: bool = False,
    method: str = "fixed thresholds",
) -> Classes:
    """:class:`Classes` with given edges (e.g. ``[0, 5, 10, 20, 45, 65, inf]`` per cent)."""
    e = np.asarray(edges, dtype=float)
    return Classes(
        tuple(map(float, e)),
        tuple(colours),
        tuple(labels) if labels is not None else tuple(_labels(e, unit, right=right)),
        right=right,
        method=method,
    )
