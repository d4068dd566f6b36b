"""Charts as inline SVG built straight from the numbers (no plotting library, no script).

A plotly chart costs the browser its 4 MB library and 100-300 ms of drawing per chart on
every rerun; an SVG of a few kilobytes is drawn with the page. The country profile's charts
are made here, on the server, and shown with ``st.html``:

* :func:`line_chart`: lines over years on one or two value axes, marked points (reported
  years) in their status colour, optional bands (5-95 % ranges);
* :func:`bar_chart`: grouped bars, vertical or horizontal, linear or log axis;
* :func:`stacked_chart`: 100 % stacked bars (lost parts hatched);
* :func:`sankey_chart`: a Sankey diagram of nodes placed in columns and links drawn as bands
  of width proportional to tonnes.

Every chart is an ``<svg role="img">`` whose ``<title>`` is its accessible name and whose
``<desc>`` is its text alternative; every mark carries a ``<title>`` with its value and unit
(a tooltip on hover). Every label is escaped (:func:`ewaste_tracker.maps.escape.escape`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ewaste_tracker.app.format import quantity
from ewaste_tracker.maps.escape import escape

__all__ = ["Series", "bar_chart", "line_chart", "nice_ticks", "sankey_chart", "stacked_chart"]

FONT = "font-family:sans-serif;font-size:12px;fill:#31333f"
_ids = itertools.count()


@dataclass
class Series:
    """One line, or one group of bars: label, colour and values (aligned with the x values).

    ``marks`` colours the points to mark (``None`` = unmarked), ``marks_text`` says what each
    mark is; ``low``/``high`` draw a band; ``right`` puts a line on the right-hand axis.
    """

    label: str
    colour: str
    values: np.ndarray
    unit: str = "t"
    marks: Sequence[str | None] | None = None
    marks_text: Sequence[str] | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    right: bool = False
    pattern: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About ``n`` round tick values covering ``[lo, hi]`` (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if not np.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return np.arange(math.floor(lo / step), math.ceil(hi / step) + 1) * step


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    ident = f"ewt-svg-{next(_ids)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;height:auto" '
        f'aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" style="{FONT};font-size:14px;'
        f'font-weight:600">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def _legend(items: list[tuple[str, str, str]], *, x: float, y: float, width: float) -> list[str]:
    """Legend rows of (kind, colour, label): kind ``line``, ``box``, ``hatch`` or ``mark``."""
    out, cx, cy = [], x, y
    for kind, colour, label in items:
        w = 22 + 6.6 * len(label)
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 18
        if kind == "line":
            out.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{cx + 14:.1f}" y2="{cy:.1f}" '
                       f'stroke="{colour}" stroke-width="2.5"/>')  # fmt: skip
        elif kind == "mark":
            out.append(_diamond(cx + 7, cy, colour))
        else:
            fill = "url(#ewt-hatch)" if kind == "hatch" else colour
            out.append(f'<rect x="{cx:.1f}" y="{cy - 5:.1f}" width="14" height="10" '
                       f'fill="{colour}"/><rect x="{cx:.1f}" y="{cy - 5:.1f}" width="14" '
                       f'height="10" fill="{fill}"/>')  # fmt: skip
        out.append(
            f'<text x="{cx + 18:.1f}" y="{cy + 4:.1f}" style="{FONT}">{escape(label)}</text>'
        )
        cx += w
    return out


HATCH = (
    '<defs><pattern id="ewt-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" '
    'stroke-width="2"/></pattern></defs>'
)


def _diamond(x: float, y: float, colour: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (f'<path d="M{x:.1f} {y - 5:.1f}l5 5-5 5-5-5z" fill="{colour}" stroke="#fff" '
            f'stroke-width="1">{tip}</path>')  # fmt: skip


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))


def _box(x: float, y: float, w: float, h: float) -> str:
    return f'x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"'


def _tick_label(v: float, unit: str) -> str:
    return quantity(v, unit) if v else "0"


def line_chart(
    x: np.ndarray,
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    y_title: str,
    y2_title: str = "",
    width: int = 640,
    height: int = 380,
) -> str:
    """Lines over ``x`` (years), left axis from zero, right axis for ``right`` series."""
    left, right, top, bottom = 70, 80 if y2_title else 20, 34, 64
    pw, ph = width - left - right, height - top - bottom
    x = np.asarray(x, dtype=float)
    x0, x1 = (float(x.min()), float(x.max())) if len(x) else (0.0, 1.0)
    sx = lambda v: left + pw * (v - x0) / (x1 - x0 or 1.0)  # noqa: E731

    def top_of(group: list[Series]) -> float:
        vals = [np.nanmax(np.r_[s.values, s.high if s.high is not None else []]) for s in group]
        vals = [v for v in vals if np.isfinite(v)]
        return max(vals, default=1.0) or 1.0

    body = [HATCH]
    axes = {}
    for side in (False, True):
        group = [s for s in series if s.right == side]
        if not group:
            continue
        ticks = nice_ticks(0.0, top_of(group))
        axes[side] = (ticks, group[0].unit)
    for side, (ticks, unit) in axes.items():
        hi = ticks[-1] or 1.0
        for t in ticks:
            y = top + ph * (1 - t / hi)
            if not side:
                body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                            'stroke="#e6e6e6"/>')  # fmt: skip
            tx, anchor = (left - 6, "end") if not side else (left + pw + 6, "start")
            body.append(f'<text x="{tx}" y="{y + 4:.1f}" text-anchor="{anchor}" style="{FONT}">'
                        f"{escape(_tick_label(t, unit))}</text>")  # fmt: skip
    for yr in nice_ticks(x0, x1, 6):
        if x0 <= yr <= x1:
            body.append(f'<text x="{sx(yr):.1f}" y="{top + ph + 16}" text-anchor="middle" '
                        f'style="{FONT}">{int(yr)}</text>')  # fmt: skip
    body.append(f'<text transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" '
                f'text-anchor="middle" style="{FONT}">{escape(y_title)}</text>')  # fmt: skip
    if y2_title and True in axes:
        body.append(f'<text transform="translate({width - 10} {top + ph / 2:.0f}) rotate(90)" '
                    f'text-anchor="middle" style="{FONT}">{escape(y2_title)}</text>')  # fmt: skip
    legend: list[tuple[str, str, str]] = []
    for s in series:
        ticks = axes[s.right][0]
        hi = ticks[-1] or 1.0

        def sy(v: np.ndarray, hi: float = hi) -> np.ndarray:
            return top + ph * (1 - np.asarray(v, dtype=float) / hi)

        ok = np.isfinite(s.values)
        if s.low is not None and s.high is not None:
            band = ok & np.isfinite(s.low) & np.isfinite(s.high)
            if band.any():
                up = _points(sx(x[band]), sy(s.high[band]))
                down = _points(sx(x[band])[::-1], sy(s.low[band])[::-1])
                body.append(f'<polygon points="{up} {down}" fill="{s.colour}" fill-opacity="0.18">'
                            f"<title>{escape(s.label)}: 5-95 %</title></polygon>")  # fmt: skip
                legend.append(("box", s.colour, f"{s.label}: 5-95 % range"))
        pts = _points(sx(x[ok]), sy(s.values[ok]))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{s.colour}" stroke-width="2">'
                    f"<title>{escape(s.label)}</title></polyline>")  # fmt: skip
        legend.append(("line", s.colour, s.label))
        if s.marks is not None:
            seen = set()
            for i, colour in enumerate(s.marks):
                if colour is None or not ok[i]:
                    continue
                what = s.marks_text[i] if s.marks_text is not None else ""
                seen.add((colour, what))
                tip = f"{s.label} {int(x[i])}: {quantity(s.values[i], s.unit)} ({what})"
                body.append(_diamond(float(sx(x[i])), float(sy(s.values[i])), colour, tip))
            legend += [("mark", c, f"{s.label}: {w}") for c, w in sorted(seen)]
    body += _legend(legend, x=left - 40, y=top + ph + 34, width=pw + 40)
    return _svg(width, height + 18 * max(0, (len(legend) - 3) // 2), title, desc, body)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    value_title: str,
    horizontal: bool = False,
    log: bool = False,
    width: int = 640,
    height: int = 380,
    label_room: int = 0,
) -> str:
    """Grouped bars per category; ``log`` draws values on a log axis (zeros left out)."""
    n, k = len(categories), max(len(series), 1)
    left = (label_room or 220) if horizontal else 70
    top, bottom, right = 34, 66 if horizontal else 70, 20
    pw, ph = width - left - right, height - top - bottom
    values = np.array([np.asarray(s.values, dtype=float) for s in series]).reshape(k, n)
    finite = values[np.isfinite(values) & (values > 0)]
    if log:
        lo_e = math.floor(math.log10(finite.min())) if finite.size else 0
        hi_e = math.ceil(math.log10(finite.max())) if finite.size else 1
        hi_e = max(hi_e, lo_e + 1)
        ticks = 10.0 ** np.arange(lo_e, hi_e + 1)

        def scale(v: np.ndarray) -> np.ndarray:
            v = np.where(v > 0, v, 10.0**lo_e)
            return (np.log10(v) - lo_e) / (hi_e - lo_e)
    else:
        ticks = nice_ticks(0.0, float(finite.max()) if finite.size else 1.0)

        def scale(v: np.ndarray) -> np.ndarray:
            return np.asarray(v, dtype=float) / (ticks[-1] or 1.0)

    length = pw if horizontal else ph
    body = [HATCH]
    for t in ticks:
        p = float(scale(np.array([t]))[0]) * length
        label = escape(_tick_label(t, series[0].unit if series else ""))
        if horizontal:
            body.append(f'<line x1="{left + p:.1f}" x2="{left + p:.1f}" y1="{top}" y2="{top + ph}" '
                        f'stroke="#e6e6e6"/><text x="{left + p:.1f}" y="{top + ph + 16}" '
                        f'text-anchor="middle" style="{FONT}">{label}</text>')  # fmt: skip
        else:
            y = top + ph - p
            body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                        f'stroke="#e6e6e6"/><text x="{left - 6}" y="{y + 4:.1f}" '
                        f'text-anchor="end" style="{FONT}">{label}</text>')  # fmt: skip
    slot = (ph if horizontal else pw) / max(n, 1)
    bar = slot * 0.8 / k
    for j, s in enumerate(series):
        size = scale(values[j]) * length
        for i, cat in enumerate(categories):
            if not np.isfinite(values[j, i]) or (log and values[j, i] <= 0):
                continue
            off = i * slot + slot * 0.1 + j * bar
            tip = f"<title>{escape(f'{cat}, {s.label}: {quantity(values[j, i], s.unit)}')}</title>"
            if horizontal:
                geo = _box(left, top + off, size[i], bar)
            else:
                geo = _box(left + off, top + ph - size[i], bar, size[i])
            body.append(f'<rect {geo} fill="{s.colour}">{tip}</rect>')
    for i, cat in enumerate(categories):
        mid = i * slot + slot / 2
        if horizontal:
            body.append(f'<text x="{left - 6}" y="{top + mid + 4:.1f}" text-anchor="end" '
                        f'style="{FONT}">{escape(cat)}</text>')  # fmt: skip
        else:
            body.append(f'<text x="{left + mid:.1f}" y="{top + ph + 16}" text-anchor="middle" '
                        f'style="{FONT}">{escape(cat)}</text>')  # fmt: skip
    axis = escape(value_title)
    if horizontal:
        body.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph + 31}" text-anchor="middle" '
                    f'style="{FONT}">{axis}</text>')  # fmt: skip
    else:
        body.append(f'<text transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" '
                    f'text-anchor="middle" style="{FONT}">{axis}</text>')  # fmt: skip
    legend = [("box", s.colour, s.label) for s in series]
    body += _legend(legend, x=left, y=height - 12, width=pw)
    return _svg(width, height, title, desc, body)


def stacked_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    value_title: str,
    width: int = 640,
    height: int = 380,
) -> str:
    """100 % stacked vertical bars; each series' ``marks_text`` gives a tooltip per bar and
    ``pattern`` hatches it (the lost parts)."""
    n = len(categories)
    left, top, bottom, right = 70, 34, 70 + 18 * ((len(series) + 2) // 3), 20
    height = max(height, top + bottom + 200)
    pw, ph = width - left - right, height - top - bottom
    body = [HATCH]
    for t in range(0, 101, 20):
        y = top + ph * (1 - t / 100)
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="#e6e6e6"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                    f'style="{FONT}">{t} %</text>')  # fmt: skip
    slot = pw / max(n, 1)
    base = np.zeros(n)
    for s in series:
        v = np.nan_to_num(np.asarray(s.values, dtype=float))
        for i, cat in enumerate(categories):
            if v[i] <= 0:
                continue
            h = ph * v[i] / 100
            y = top + ph * (1 - base[i] / 100) - h
            extra = s.marks_text[i] if s.marks_text is not None else ""
            tip = f"<title>{escape(cat)}, {escape(s.label)}: {v[i]:.1f} % {escape(extra)}</title>"
            geo = _box(left + i * slot + slot * 0.15, y, slot * 0.7, h)
            hatch = f'<rect {geo} fill="url(#ewt-hatch)"/>' if s.pattern else ""
            body.append(f'<g><rect {geo} fill="{s.colour}"/>{hatch}{tip}</g>')
        base += v
    for i, cat in enumerate(categories):
        body.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + ph + 16}" '
                    f'text-anchor="middle" style="{FONT}">{escape(cat)}</text>')  # fmt: skip
    body.append(f'<text transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" '
                f'text-anchor="middle" style="{FONT}">{escape(value_title)}</text>')  # fmt: skip
    legend = [("hatch" if s.pattern else "box", s.colour, s.label) for s in series]
    body += _legend(legend, x=left, y=top + ph + 40, width=pw)
    return _svg(width, height, title, desc, body)


def sankey_chart(
    labels: Sequence[str],
    colours: Sequence[str],
    columns: np.ndarray,
    links: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    title: str,
    desc: str,
    unit: str = "t",
    width: int = 1100,
    height: int = 480,
) -> str:
    """A Sankey diagram: node ``i`` in column ``columns[i]``, links ``(source, target,
    value)`` drawn as bands of width proportional to the value.

    A node's height is :math:`k \\max(\\sum \\text{in}, \\sum \\text{out})`, with one scale
    :math:`k` for the diagram, the largest that fits every column's nodes and gaps in the
    height. Links leave a node in the order of their targets' heights (and enter in the
    order of their sources'), so bands cross as little as the column order allows.
    """
    src, dst, val = (np.asarray(a) for a in links)
    keep = np.isfinite(val) & (val > 0)
    src, dst, val = src[keep].astype(int), dst[keep].astype(int), val[keep].astype(float)
    labels, colours = list(labels), list(colours)
    n = len(labels)
    cols = np.asarray(columns, dtype=int)
    inflow = np.bincount(dst, weights=val, minlength=n)
    outflow = np.bincount(src, weights=val, minlength=n)
    size = np.maximum(inflow, outflow)
    used = size > 0
    top, bottom, pad, nw = 30, 10, 14, 12
    ph = height - top - bottom
    last = max(int(cols.max()) if n else 1, 1)
    left, right = 10, 10
    x = left + (width - left - right - nw) * cols / last
    k = min(
        (ph - pad * (np.count_nonzero(used & (cols == c)) - 1)) / size[used & (cols == c)].sum()
        for c in np.unique(cols[used])
    ) if used.any() else 1.0  # fmt: skip
    h = np.where(used, np.maximum(size * k, 1.0), 0.0)
    y = np.zeros(n)
    for c in np.unique(cols):  # at most nine columns
        idx = np.flatnonzero((cols == c) & used)
        total = h[idx].sum() + pad * max(idx.size - 1, 0)
        y[idx] = top + (ph - total) / 2 + np.concatenate([[0], np.cumsum(h[idx] + pad)[:-1]])
    out_off = y.copy()
    in_off = y.copy()
    body = []
    order = np.lexsort((y[dst], y[src]))
    widths = val * k
    starts = np.empty(len(val))
    for i in order:  # a few dozen links
        starts[i] = out_off[src[i]]
        out_off[src[i]] += widths[i]
    ends = np.empty(len(val))
    for i in np.lexsort((y[src], y[dst])):
        ends[i] = in_off[dst[i]]
        in_off[dst[i]] += widths[i]
    for i in order.tolist():
        x0, x1 = x[src[i]] + nw, x[dst[i]]
        y0, y1 = starts[i] + widths[i] / 2, ends[i] + widths[i] / 2
        mid = (x0 + x1) / 2 if x1 > x0 else x0 + 60
        c1 = mid if x1 > x0 else x0 + 60
        c2 = mid if x1 > x0 else x1 - 60
        tip = f"{labels[src[i]]} → {labels[dst[i]]}: {quantity(val[i], unit)}"
        body.append(f'<path d="M{x0:.1f} {y0:.1f}C{c1:.1f} {y0:.1f} {c2:.1f} {y1:.1f} '
                    f'{x1:.1f} {y1:.1f}" fill="none" stroke="{colours[src[i]]}" '
                    f'stroke-opacity="0.35" stroke-width="{max(widths[i], 0.6):.1f}">'
                    f"<title>{escape(tip)}</title></path>")  # fmt: skip
    for i in np.flatnonzero(used).tolist():
        tip = f"{labels[i]}: {quantity(size[i], unit)}"
        body.append(f'<rect x="{x[i]:.1f}" y="{y[i]:.1f}" width="{nw}" height="{h[i]:.1f}" '
                    f'fill="{colours[i]}"><title>{escape(tip)}</title></rect>')  # fmt: skip
        end = cols[i] == last
        tx, anchor = (x[i] - 4, "end") if end else (x[i] + nw + 4, "start")
        body.append(f'<text x="{tx:.1f}" y="{y[i] + h[i] / 2 + 4:.1f}" text-anchor="{anchor}" '
                    f'style="{FONT};paint-order:stroke;stroke:#fff;stroke-width:3px">'
                    f"{escape(labels[i])}</text>")  # fmt: skip
    return _svg(width, height, title, desc, body)
