"""Figures the app shows (plotly charts and folium world maps), built from view tables.

The tables come from :mod:`ewaste_tracker.app.views`; nothing here reads a run or the catalogue.
Every text that reaches a page that renders HTML is escaped: map tooltips by
``ewaste_tracker.maps.render`` and plotly labels, titles and legend entries by :func:`escape_label`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ewaste_tracker.maps.escape import escape

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import plotly.graph_objects as go

logger = logging.getLogger(__name__)

__all__ = [
    "choropleth_layer",
    "element_bar_figure",
    "escape_label",
    "region_outlines",
    "routes_figure",
    "sankey_figure",
    "sankey_positions",
    "series_figure",
    "world_map",
]


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


def choropleth_layer(
    values: pd.DataFrame,
    outlines: gpd.GeoDataFrame,
    *,
    column: str,
    unit: str,
    indicator: str,
    year: int,
    source: str = "ewaste-tracker default estimate",
) -> gpd.GeoDataFrame:
    """Join one value per country to its outline, in the form ``ewaste_tracker.maps.render`` draws.

    Parameters
    ----------
    values
        ``region, name, <column>`` and optionally ``source``.
    outlines
        :func:`region_outlines`.
    column, unit, indicator, year
        Value column and how to label it.
    source
        What the values come from; prefixed by each row's ``status`` when there is one.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region, name, value, unit, indicator, year, source, geometry``; countries without an
        outline are dropped (logged).
    """
    from ewaste_tracker.maps.regions import join_regions

    table = pd.DataFrame(
        {
            "region": values["region"].astype(str).to_numpy(),
            "name": values["name"].astype(str).to_numpy(),
            "value": values[column].to_numpy(dtype=float),
            "unit": unit,
            "indicator": indicator,
            "year": int(year),
            "source": (
                values["status"].astype(str).to_numpy() + f" ({source})"
                if "status" in values.columns
                else source
            ),
        }
    )
    return join_regions(table, outlines, unknown="drop", source=indicator)


WORLD_VIEW = ((12.0, 10.0), 1.25)
"""Centre (lat, lon) and zoom of the world maps."""


def world_map(
    layer: gpd.GeoDataFrame, *, name: str, basemap: gpd.GeoDataFrame, base_url: str | None = None
) -> folium.Map:
    """A folium choropleth of ``layer`` on ``basemap``, loading scripts from local copies.

    Names and values reach the page only through ``ewaste_tracker.maps.render``'s tooltips, which
    pass every string through :func:`ewaste_tracker.maps.escape.escape`.

    Parameters
    ----------
    layer
        :func:`choropleth_layer`.
    name
        Layer name.
    basemap
        Outlines drawn in grey underneath; those of the layer's regions are left out.
    base_url
        Where the local scripts are served (default: Streamlit static serving).
    """
    from ewaste_tracker.maps.assets import STREAMLIT_BASE_URL, use_local_assets
    from ewaste_tracker.maps.render import build_map

    if "region" in basemap.columns and "region" in layer.columns:
        # draw in grey only what the layer does not cover: half the page weight
        basemap = basemap[~basemap["region"].isin(set(layer["region"]))]
    m = build_map({name: layer}, basemap=basemap, height="100%")
    # A fixed world view: fitting bounds inside Streamlit's iframe runs before the frame has
    # its final height. zoomSnap 0.25 lets the world fill the frame between whole zoom steps.
    from folium.map import FitBounds

    for key in [k for k, child in m._children.items() if isinstance(child, FitBounds)]:
        del m._children[key]
    m.location = list(WORLD_VIEW[0])
    m.options["zoom"] = WORLD_VIEW[1]
    m.options["zoomSnap"] = 0.25
    return use_local_assets(m, base_url=base_url or STREAMLIT_BASE_URL)


def escape_label(text: object) -> str:
    """Escape a label for a figure that renders HTML (plotly hover text and labels)."""
    return escape(text)


def element_bar_figure(balance: pd.DataFrame, *, unit: str, title: str) -> go.Figure:
    """Grouped bars of recovered and lost per element (``unit`` ``"t"`` or ``"USD"``)."""
    import plotly.graph_objects as go

    suffix = "usd" if unit == "USD" else "t"
    fig = go.Figure()
    for what, colour in (("recovered", "#1a9641"), ("lost", "#d7191c")):
        fig.add_bar(
            x=[escape_label(e) for e in balance["element"]],
            y=balance[f"{what}_{suffix}"],
            name=f"{what} ({unit})",
            marker_color=colour,
        )
    fig.update_layout(
        barmode="group",
        title=escape_label(title),
        yaxis_title=unit,
        yaxis_type="log" if unit == "t" else "linear",
        height=380,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
    )
    return fig


def series_figure(series: pd.DataFrame, *, title: str) -> go.Figure:
    """Lines of a :func:`country_series` table (one line per indicator)."""
    import plotly.graph_objects as go

    from ewaste_tracker.app.views import INDICATOR_NAMES

    fig = go.Figure()
    for ind, part in series.groupby("indicator", sort=False):
        unit = str(part["unit"].iloc[0]) if len(part) else ""
        label = INDICATOR_NAMES.get(str(ind), str(ind))
        fig.add_scatter(
            x=part["year"], y=part["value"], mode="lines", name=f"{escape_label(label)} ({unit})"
        )
    fig.update_layout(
        title=escape_label(title),
        yaxis_title="t",
        height=360,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
    )
    return fig


#: Column (0 = left) of each lifecycle stage in the Sankey, following the flow direction.
SANKEY_COLUMNS = {
    "sysenv": 0, "manufacture": 1, "market": 2, "use": 3, "generated": 4,
    "collection_formal": 5, "collection_informal": 5, "refurbishment": 6,
    "preprocessing": 6, "recycling_informal": 6, "residual": 6, "export": 6,
    "endprocessing": 7, "recovered": 8, "losses": 8, "disposed": 8,
}  # fmt: skip
BOUNDARY_LABEL = "outside the system"


def sankey_positions(nodes: pd.DataFrame, *, region: str) -> tuple[np.ndarray, np.ndarray]:
    """x and y (0-1) of each Sankey node: stages in flow order, other regions at the right.

    Nodes of one column are spread evenly from top to bottom in the order given.
    """
    last = max(SANKEY_COLUMNS.values()) + 1
    own = nodes["region"].astype(str).to_numpy() == region
    col = np.array([SANKEY_COLUMNS.get(str(s), last) for s in nodes["stage"]], dtype=float)
    col = np.where(own | (nodes["stage"].astype(str).to_numpy() == "sysenv"), col, last)
    x = 0.01 + 0.98 * col / last
    y = np.empty(len(nodes))
    for c in np.unique(col):  # a loop over at most 10 columns
        idx = np.flatnonzero(col == c)
        y[idx] = (np.arange(idx.size) + 0.5) / idx.size
    return x, np.clip(y, 0.01, 0.99)


def _split_boundary(nodes: pd.DataFrame, links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw flows into the boundary (exports leaving the modelled regions) at the right.

    The boundary node feeds production at the left; flows into it get a node of their own,
    so that the diagram reads left to right instead of looping back.
    """
    hit = np.flatnonzero(nodes["stage"].astype(str).to_numpy() == "sysenv")
    if hit.size == 0:
        return nodes, links
    into = links["target"].to_numpy() == hit[0]
    if not into.any():
        return nodes, links
    extra = pd.DataFrame(
        {"node": [len(nodes)], "region": ["sysenv"], "stage": ["sysenv_out"],
         "label": ["exported outside the modelled regions"]}
    )  # fmt: skip
    links = links.copy()
    links.loc[into, "target"] = len(nodes)
    return pd.concat([nodes, extra], ignore_index=True), links


def sankey_figure(
    nodes: pd.DataFrame, links: pd.DataFrame, *, region: str, title: str
) -> go.Figure:
    """A plotly Sankey of :func:`ewaste_tracker.flows.balance.graph_to_sankey` output (tonnes).

    Stages are placed left to right in flow order (:data:`SANKEY_COLUMNS`); the system
    boundary (``sysenv``) is labelled :data:`BOUNDARY_LABEL`; other regions (destinations of
    exports) are drawn in the right-most column.
    """
    import plotly.graph_objects as go

    nodes, links = _split_boundary(nodes, links)
    labels = [
        BOUNDARY_LABEL if stage == "sysenv" else str(label)
        for stage, label in zip(nodes["stage"].astype(str), nodes["label"], strict=True)
    ]
    x, y = sankey_positions(nodes, region=region)
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=",.0f",
            valuesuffix=" t",
            node={
                "label": [escape_label(s.replace("_", " ")) for s in labels],
                "pad": 14,
                "x": x,
                "y": y,
            },
            link={
                "source": links["source"].to_numpy(),
                "target": links["target"].to_numpy(),
                "value": links["value_t"].to_numpy(dtype=float),
            },
        )
    )
    fig.update_layout(title=escape_label(title), height=460, margin={"l": 10, "r": 10, "t": 50})
    return fig


def routes_figure(routes: pd.DataFrame, *, title: str) -> go.Figure:
    """100 % stacked bars: where each element in e-waste ends, by route and fate.

    Bar height of route :math:`r` and fate :math:`f` for element :math:`e` is
    :math:`100\\, x_{e,r,f} / \\sum_{r,f} x_{e,r,f}` with :math:`x` tonnes recovered or lost.
    """
    import plotly.graph_objects as go

    long = routes.melt(id_vars=["element", "route"], value_vars=["recovered_t", "lost_t"])
    total = long.groupby("element")["value"].transform("sum").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        long["pct"] = np.where(total > 0, 100.0 * long["value"].to_numpy(dtype=float) / total, 0.0)
    fig = go.Figure()
    for (route, what), part in long.groupby(["route", "variable"], sort=True):
        fig.add_bar(
            x=[escape_label(e) for e in part["element"]],
            y=part["pct"],
            customdata=part["value"],
            hovertemplate="%{x}: %{y:.1f} % (%{customdata:,.3g} t)",
            name=f"{escape_label(route)}: {str(what).removesuffix('_t')}",
        )
    fig.update_layout(
        barmode="stack",
        title=escape_label(title),
        yaxis_title="% of element in e-waste",
        height=380,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
    )
    return fig


def trajectory_figure(trajectory: pd.DataFrame, *, region: str, title: str) -> go.Figure:
    """ICT emissions (stacked parts) against the ITU-T L.1470 path of one region (Mt CO2e)."""
    import plotly.graph_objects as go

    part = trajectory[trajectory["region"] == region].sort_values("year")
    fig = go.Figure()
    for col, label in (("embodied_t_co2e", "embodied (put on market)"),
                       ("use_phase_t_co2e", "use phase"),
                       ("operators_t_co2e", "operators (scope 1 + 2)")):  # fmt: skip
        fig.add_bar(x=part["year"], y=part[col] / 1e6, name=escape_label(label))
    fig.add_scatter(x=part["year"], y=part["trajectory_t_co2e"] / 1e6, mode="lines",
                    name="ITU-T L.1470 path (-45 % 2020-2030)")  # fmt: skip
    fig.update_layout(
        barmode="stack", title=escape_label(title), yaxis_title="Mt CO2e", height=360,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
    )  # fmt: skip
    return fig
