"""Legends bound to their layer, and numbers written the way an analyst reads them.

:func:`format_quantity` writes a number with its unit in three significant digits and a
prefix that fits the size (``1355000 USD`` → ``1.36 M USD``, ``6.4e-06 t`` → ``6.4 g``,
``0.0082 fraction`` → ``0.82 %``); :func:`format_range` writes a legend class. Both are used
for every legend entry and tooltip number that :mod:`ewaste_tracker.maps.render` writes.

:class:`Legend` is a Leaflet control in plain escaped HTML (no d3, no CDN, so it works in a
page saved for offline use and inside streamlit-folium). When bound to a layer it is on the
map only while that layer is: the map's ``overlayadd`` / ``overlayremove`` events (fired
when the layer control switches an overlay) add and remove it.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from ewaste_tracker.maps.escape import escape

__all__ = [
    "Legend",
    "distinct_edges",
    "format_quantity",
    "format_range",
    "legend_notes",
    "palette",
    "quantile_classes",
]

YLORRD = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
"""ColorBrewer YlOrRd, 5 classes (Brewer, C. A. (2003), www.ColorBrewer.org)."""

DIGITS = 3
"""Significant digits of every formatted number."""

MASS_STEPS = ((1e9, "Gt"), (1e6, "Mt"), (1e3, "kt"), (1.0, "t"), (1e-3, "kg"), (1e-6, "g"))
"""Tonnes written with the largest unit that keeps the number at or above one."""
MONEY_STEPS = ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k"), (1.0, ""))
"""Amounts written with a thousands prefix before the currency (``1.36 M USD``)."""
FRACTION_UNITS = frozenset({"fraction", "share", "ratio"})
"""Units of values between 0 and 1, written as percentages."""
CURRENCIES = frozenset({"USD", "EUR", "GBP", "CHF", "JPY", "CNY", "KES", "NGN", "ZAR"})


def _sig(value: float) -> str:
    """``value`` in :data:`DIGITS` significant digits, no exponent, trailing zeros dropped.

    Rounds half up on the shortest decimal form of the float, so ``1.355`` gives ``1.36``
    as a reader rounding the printed number would (binary ``round`` gives ``1.35``).
    """
    if value == 0:
        return "0"
    exact = Decimal(repr(float(value)))
    digits = DIGITS - 1 - exact.adjusted()
    text = f"{exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _round_sig(value: float) -> float:
    """``value`` rounded to :data:`DIGITS` significant digits (so 999.7 steps up to 1 k)."""
    return float(_sig(value).replace(",", ""))


def _stepped(value: float, steps: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    """Scale ``value`` by the largest step not above it (the smallest step below all)."""
    size = abs(_round_sig(value))
    if size == 0:
        return 0.0, next(name for factor, name in steps if factor == 1.0)
    for factor, name in steps:
        if size >= factor:
            return value / factor, name
    factor, name = steps[-1]
    return value / factor, name


def _split_unit(unit: str) -> tuple[str, str]:
    """``"t/yr"`` → ``("t", "/yr")``; ``"USD"`` → ``("USD", "")``."""
    head, sep, tail = unit.partition("/")
    return head.strip(), (sep + tail.strip()) if sep else ""


def format_quantity(value: Any, unit: str = "") -> str:
    r"""Write a number with its unit in three significant digits and a fitting prefix.

    Rules by unit (the part before any ``/``, so ``t/yr`` follows ``t``):

    ============================  ===============================================
    unit                          written as
    ============================  ===============================================
    ``t`` (tonnes)                Gt, Mt, kt, t, then kg and g below one tonne
                                  (``6.4e-06 t`` → ``6.4 g``); below 1 g in g
    a currency (``USD``...)       ``k``, ``M``, ``bn``, ``T`` before it
                                  (``1355000 USD`` → ``1.36 M USD``)
    ``fraction``, ``share``       percent (``0.0082`` → ``0.82 %``)
    ``%``                         percent as given
    anything else (``kg/inh``)    the number with thousands separators, unit kept
    ============================  ===============================================

    Every number keeps three significant digits, :math:`\hat v = \mathrm{round}(v,
    2 - \lfloor\log_{10}|v|\rfloor)`, so the written value is within 0.5 % of the value.

    Parameters
    ----------
    value
        A number; ``None``, NaN and ``pd.NA`` give ``"n/a"``.
    unit
        Unit of ``value``.

    Returns
    -------
    str
        Plain text (escape it before it goes into HTML).
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(number):
        return "n/a" if math.isnan(number) else f"{'-' if number < 0 else ''}∞ {unit}".strip()
    unit = str(unit or "").strip()
    head, tail = _split_unit(unit)
    if head == "t":
        scaled, prefix = _stepped(number, MASS_STEPS)
        return f"{_sig(scaled)} {prefix}{tail}"
    if head in CURRENCIES:
        scaled, prefix = _stepped(number, MONEY_STEPS)
        return f"{_sig(scaled)} {prefix + ' ' if prefix else ''}{unit}"
    if unit in FRACTION_UNITS:
        return f"{_sig(number * 100)} %"
    return f"{_sig(number)} {unit}".strip()


def format_range(low: float, high: float, unit: str = "") -> str:
    """A legend class ``low – high unit``; the unit is written once when both ends share it.

    Examples
    --------
    >>> format_range(3631.0, 6511.0, "t")
    '3.63 – 6.51 kt'
    >>> format_range(24.39, 3838.0, "t")
    '24.4 t – 3.84 kt'
    """
    a, b = format_quantity(low, unit), format_quantity(high, unit)
    num_a, _, suffix_a = a.partition(" ")
    suffix_b = b.partition(" ")[2]
    if suffix_a == suffix_b:
        return f"{num_a} – {b}"
    return f"{a} – {b}"


def distinct_edges(edges: np.ndarray, unit: str = "") -> np.ndarray:
    """Drop class edges that would be written the same as the previous one.

    Quantile edges of near-constant values (e.g. a collection rate of 0.8199 % and
    0.81994 %) would give classes labelled ``0.82 – 0.82 %``; merging them keeps each legend
    row distinct. The last edge stays the maximum, so every value keeps a class.
    """
    edges = np.asarray(edges, dtype=float)
    if edges.size < 3:
        return edges
    labels = [format_quantity(e, unit) for e in edges]
    keep = np.ones(edges.size, dtype=bool)
    keep[1:] = [labels[i] != labels[i - 1] for i in range(1, edges.size)]
    out = edges[keep]
    if not keep[-1]:
        out[-1] = edges[-1]
    if out.size == 1:
        out = np.array([edges[0], edges[-1]])
    return out


def quantile_classes(
    values: np.ndarray, k: int = 5, *, unit: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Quantile class edges and the class (0..k-1, -1 = no data) of each value.

    With ``unit``, edges written alike in the legend are merged
    (:func:`ewaste_tracker.maps.legend.distinct_edges`), so no two legend rows read the same.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([]), np.full(values.shape, -1)
    k = max(1, min(k, np.unique(finite).size - 1))
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, k + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    if unit is not None:
        edges = distinct_edges(edges, unit)
    cls = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    return edges, np.where(np.isfinite(values), cls, -1)


def palette(n: int) -> tuple[str, ...]:
    """``n`` colours spread over :data:`YLORRD` (light to dark)."""
    idx = np.round(np.linspace(0, len(YLORRD) - 1, max(n, 1))).astype(int)
    return tuple(YLORRD[i] for i in idx)


def legend_notes(gdf: pd.DataFrame, name: str) -> list[str]:
    """Small lines under a legend: indicator and year, then up to three sources.

    The indicator is left out when it is the layer's name already.
    """
    first = gdf.iloc[0] if len(gdf) else pd.Series(dtype=object)
    what = [
        str(int(first[c])) if c == "year" and isinstance(first[c], float) else str(first[c])
        for c in ("indicator", "year")
        if c in first.index and pd.notna(first[c])
    ]
    if what and what[0] == name:
        what = what[1:]
    notes = [", ".join(what)] if what else []
    if "source" in gdf.columns:
        src = gdf["source"].dropna().astype(str).unique()[:3]
        if src.size:
            notes.append("source: " + "; ".join(src))
    return notes


NOTE_CHARS = 110
"""Longer legend notes are cut (whole text on hover), keeping the box small."""


def _shorten(text: str, limit: int = NOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Legend(MacroElement):
    """A compact legend box (Leaflet control) of escaped HTML, shown while its layer is.

    Parameters
    ----------
    title
        Bold first line (the layer's name in the layer control, so the two read alike).
    entries
        ``(colour, label)`` rows.
    note
        Small grey lines at the foot (subtitle, source).
    position
        Leaflet corner; legends in one corner stack without overlapping.
    layer
        The folium layer the legend belongs to. The legend is on the map while the layer is:
        added on the map's ``overlayadd`` event for that layer, removed on ``overlayremove``,
        and at first only if the layer is shown. ``None``: always on.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'ewt-legend');
                div.style.cssText = {{ this.css|tojson }};
                div.innerHTML = {{ this.body|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {% if this.layer is none %}
            legend.addTo(map);
            {% else %}
            var layer = {{ this.layer.get_name() }};
            var name = {{ this.layer.layer_name|tojson }};
            var mine = function (e) { return e.layer === layer || e.name === name; };
            map.on('overlayadd', function (e) {
                if (mine(e) && !legend._map) { legend.addTo(map); }
            });
            map.on('overlayremove', function (e) {
                if (mine(e) && legend._map) { legend.remove(); }
            });
            if (map.hasLayer(layer)) { legend.addTo(map); }
            {% endif %}
        })();
        {% endmacro %}
        """
    )

    CSS = (
        "background:rgba(255,255,255,0.92);padding:4px 7px;font:11px/1.35 sans-serif;"
        "border-radius:4px;box-shadow:0 0 3px #888;max-width:260px;max-height:40vh;"
        "overflow:auto;overflow-wrap:anywhere;margin-bottom:6px"
    )

    def __init__(
        self,
        title: str,
        entries: list[tuple[str, str]],
        *,
        note: str | list[str] = "",
        position: str = "bottomright",
        layer: Any = None,
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.position = position
        self.layer = layer
        self.css = self.CSS
        rows = "".join(
            '<div style="white-space:nowrap"><span style="display:inline-block;width:10px;'
            f'height:10px;margin-right:4px;vertical-align:-1px;background:{escape(colour)}">'
            f"</span>{escape(label)}</div>"
            for colour, label in entries
        )
        notes = [note] if isinstance(note, str) else list(note)
        foot = "".join(
            f'<div style="color:#666;font-size:10px;line-height:1.25" title="{escape(n)}">'
            f"{escape(_shorten(n))}</div>"
            for n in notes
            if n
        )
        self.body = f"<b>{escape(title)}</b>{rows}{foot}"
