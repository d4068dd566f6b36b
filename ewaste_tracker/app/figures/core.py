"""Figures shared by the pages (plotly; no Streamlit here): outlines, element bars, routes.

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


def balance_figure(balance: pd.DataFrame, *, unit: str, title: str) -> go.Figure:
    """Grouped bars of recovered and lost per element (``unit`` ``"t"`` or ``"USD"``).

    ``balance`` has ``element`` and ``recovered_t, lost_t`` (or ``_usd``) columns; tonnes
    are drawn on a log axis (elements span six orders of magnitude).
    """
    suffix = "usd" if unit == "USD" else "t"
    x = [escape_label(e) for e in balance["element"]]
    traces = []
    for what in ("recovered", "lost"):
        values = balance[f"{what}_{suffix}"].to_numpy(float)
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": values,
                "name": f"{what} ({unit})",
                "marker": {"color": FATE_COLOURS[what]},
                "hovertext": [escape_label(quantity(v, unit)) for v in values],
                "hoverinfo": "x+text+name",
            }
        )
    return figure(
        traces,
        _layout(
            title, barmode="group", yaxis_title=unit, yaxis_type="log" if unit == "t" else "linear"
        ),
    )


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


def routes_figure(routes: pd.DataFrame, *, title: str) -> go.Figure:
    """100 % stacked bars: where each element in e-waste ends, by route and fate.

    Bar height of route :math:`r` and fate :math:`f` for element :math:`e` is
    :math:`100\\, x_{e,r,f} / \\sum_{r,f} x_{e,r,f}` with :math:`x` tonnes recovered or lost;
    the route sets the colour, lost parts are hatched.
    """
    long = routes.melt(id_vars=["element", "route"], value_vars=["recovered_t", "lost_t"])
    total = long.groupby("element")["value"].transform("sum").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        long["pct"] = np.where(total > 0, 100.0 * long["value"].to_numpy(dtype=float) / total, 0.0)
    traces = []
    for (route, what), part in long.groupby(["route", "variable"], sort=True):
        fate = str(what).removesuffix("_t")
        traces.append(
            {
                "type": "bar",
                "x": [escape_label(e) for e in part["element"]],
                "y": part["pct"].to_numpy(float),
                "customdata": [escape_label(quantity(v, "t")) for v in part["value"]],
                "hovertemplate": "%{x}: %{y:.1f} % (%{customdata})",
                "name": f"{escape_label(route)}: {fate}",
                "marker": {
                    "color": ROUTE_COLOURS.get(str(route), "#636363"),
                    "pattern": {"shape": "/" if fate == "lost" else ""},
                },
            }
        )
    return figure(
        traces, _layout(title, barmode="stack", yaxis_title="% of the element in e-waste")
    )


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
