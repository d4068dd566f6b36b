"""Figures shared by the pages (no Streamlit here): outlines, element bars (SVG), routes (SVG).

Every label that reaches a figure goes through :func:`escape_label` (plotly renders some
text as HTML). Colours come from :mod:`ewaste_tracker.app.colours`, so recovered is the same
green and each route the same colour in every chart. Hover texts carry the unit, and every
figure has a title (its accessible name) and a text alternative built beside it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ewaste_tracker.app.colours import FATE_COLOURS, ROUTE_COLOURS
from ewaste_tracker.app.format import quantity
from ewaste_tracker.maps.escape import escape

if TYPE_CHECKING:
    import geopandas as gpd
    import plotly.graph_objects as go

logger = logging.getLogger(__name__)

__all__ = [
    "LAYOUT",
    "balance_figure",
    "balance_text",
    "escape_label",
    "figure",
    "folium_page",
    "region_outlines",
    "routes_figure",
    "trajectory_figure",
]

LAYOUT = {
    "height": 380,
    "margin": {"l": 50, "r": 40, "t": 50, "b": 40},
    "legend": {"orientation": "h", "y": -0.18},
    "modebar": {"orientation": "v"},
}
"""Layout every chart shares."""


def region_outlines(outlines: gpd.GeoDataFrame, *, tolerance: float = 0.1) -> gpd.GeoDataFrame:
    """Country outlines as ``region, name, geometry``, simplified for a light web page.

    ``tolerance`` is in degrees (0.1° ≈ 11 km, a quarter of a pixel at world zoom 2);
    coordinates are then snapped to a grid of ``tolerance / 5``. Outlines that would vanish
    (small island states) are kept unsimplified.
    """
    import geopandas as gpd
    import shapely

    original = outlines.geometry.to_numpy()
    geom = shapely.simplify(original, tolerance, preserve_topology=True)
    geom = shapely.set_precision(geom, tolerance / 5)
    lost = shapely.is_empty(geom) & ~shapely.is_empty(original)
    geom[lost] = original[lost]  # tiny states would vanish: keep them as they are
    return gpd.GeoDataFrame(
        {"region": outlines["iso3"].astype(str).to_numpy(), "name": outlines["name"].to_numpy()},
        geometry=geom,
        crs=outlines.crs,
    )


def folium_page(m: object, *, title: str, base_url: str | None = None) -> str:
    """A folium map as a complete page whose scripts load from the local copies.

    The page is rendered, every CDN address rewritten to ``base_url`` (default the app's
    ``/app/static/vendor``, :func:`ewaste_tracker.maps.assets.localise_html`) and checked to
    hold no remote reference (:func:`ewaste_tracker.maps.assets.assert_offline`); ``title``
    (escaped) becomes the page's ``<title>``.
    """
    from ewaste_tracker.maps.assets import STREAMLIT_BASE_URL, assert_offline, localise_html

    html = m.get_root().render()  # type: ignore[attr-defined]
    html, _ = localise_html(html, base_url=base_url or STREAMLIT_BASE_URL)
    assert_offline(html)
    head = f"<title>{escape(title)}</title>"
    return html.replace("<head>", "<head>" + head, 1) if "<head>" in html else head + html


def escape_label(text: object) -> str:
    """Escape a label for a figure that renders HTML (plotly hover text and labels)."""
    return escape(text)


def figure(traces: list[dict], layout: dict) -> go.Figure:
    """A plotly figure made in one step from trace and layout dictionaries.

    Building from one dictionary validates each property once; adding traces one by one
    re-validates the figure at every step (2-3 times slower, and pages rebuild figures on
    every switch).
    """
    import plotly.graph_objects as go

    return go.Figure({"data": traces, "layout": layout})


def _layout(title: str, **more: object) -> dict:
    out: dict = {"title": {"text": escape_label(title)}, **LAYOUT}
    for key, value in more.items():
        if key.endswith("_title"):
            out.setdefault(key.removesuffix("_title"), {})["title"] = {"text": value}
        elif key.endswith("_type"):
            out.setdefault(key.removesuffix("_type"), {})["type"] = value
        else:
            out[key] = value
    return out


def balance_figure(balance: pd.DataFrame, *, unit: str, title: str, desc: str = "") -> str:
    """Grouped bars of recovered and lost per element (``unit`` ``"t"`` or ``"USD"``), SVG.

    ``balance`` has ``element`` and ``recovered_t, lost_t`` (or ``_usd``) columns; tonnes
    are drawn on a log axis (elements span six orders of magnitude).
    """
    from ewaste_tracker.app.figures.svg import Series, bar_chart

    suffix = "usd" if unit == "USD" else "t"
    series = [
        Series(f"{what} ({unit})", FATE_COLOURS[what], balance[f"{what}_{suffix}"].to_numpy(float),
               unit=unit)
        for what in ("recovered", "lost")
    ]  # fmt: skip
    return bar_chart([str(e) for e in balance["element"]], series, title=title,
                     desc=desc or title, value_title=unit, log=unit == "t")  # fmt: skip


def balance_text(balance: pd.DataFrame, *, unit: str, title: str) -> str:
    """:func:`balance_figure` in words: each element's recovered and lost amounts."""
    suffix = "usd" if unit == "USD" else "t"
    if balance.empty:
        return f"{title}: no element chosen."
    parts = [
        f"{e}: {quantity(r, unit)} recovered, {quantity(lo, unit)} lost"
        for e, r, lo in zip(
            balance["element"],
            balance[f"recovered_{suffix}"],
            balance[f"lost_{suffix}"],
            strict=True,
        )
    ]
    return f"{title}. " + "; ".join(parts) + "."


def routes_figure(routes: pd.DataFrame, *, title: str, desc: str = "") -> str:
    """100 % stacked bars, SVG: where each element in e-waste ends, by route and fate.

    Bar height of route :math:`r` and fate :math:`f` for element :math:`e` is
    :math:`100\\, x_{e,r,f} / \\sum_{r,f} x_{e,r,f}` with :math:`x` tonnes recovered or lost;
    the route sets the colour, lost parts are hatched.
    """
    from ewaste_tracker.app.figures.svg import Series, stacked_chart

    elements = list(dict.fromkeys(str(e) for e in routes["element"]))
    names = [str(r) for r in routes["route"]]
    keys = sorted({(r, f) for r in names for f in ("recovered", "lost")})
    col = {e: i for i, e in enumerate(elements)}
    row = {k: i for i, k in enumerate(keys)}
    e_idx = np.array([col[str(e)] for e in routes["element"]], dtype=np.int64)
    tonnes = np.zeros((len(keys), len(elements)))
    for fate in ("recovered", "lost"):  # two fates, each a vectorised scatter-add
        r_idx = np.array([row[(r, fate)] for r in names], dtype=np.int64)
        np.add.at(tonnes, (r_idx, e_idx), routes[f"{fate}_t"].to_numpy(float))
    total = tonnes.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(total > 0, 100.0 * tonnes / total, 0.0)
    series = [
        Series(f"{route}: {fate}", ROUTE_COLOURS.get(route, "#636363"), pct[i], unit="%",
               pattern=fate == "lost", marks_text=[f"({quantity(v, 't')})" for v in tonnes[i]])
        for i, (route, fate) in enumerate(keys)
    ]  # fmt: skip
    return stacked_chart(elements, series, title=title, desc=desc or title,
                         value_title="% of the element in e-waste")  # fmt: skip


def trajectory_figure(trajectory: pd.DataFrame, *, region: str, title: str) -> go.Figure:
    """ICT emissions (stacked parts) against the ITU-T L.1470 path of one region (Mt CO2e)."""
    import plotly.graph_objects as go

    part = trajectory[trajectory["region"] == region].sort_values("year")
    fig = go.Figure()
    for col, label in (
        ("embodied_t_co2e", "embodied (put on market)"),
        ("use_phase_t_co2e", "use phase"),
        ("operators_t_co2e", "operators (scope 1 + 2)"),
    ):
        fig.add_bar(x=part["year"], y=part[col] / 1e6, name=escape_label(label))
    fig.add_scatter(
        x=part["year"],
        y=part["trajectory_t_co2e"] / 1e6,
        mode="lines",
        name="ITU-T L.1470 path (-45 % 2020-2030)",
    )
    fig.update_layout(barmode="stack", title=escape_label(title), yaxis_title="Mt CO2e", **LAYOUT)
    return fig
