"""Interactive maps with folium that draw with no internet, and files of all layers.

:func:`build_map` turns a dictionary of named GeoDataFrames (the same one
:func:`layers_to_geopackage` writes) into a ``folium.Map``. The kind of each layer is read
from its geometry and columns:

============== ======================================== ==========================================
kind           recognised by                            drawn as
============== ======================================== ==========================================
choropleth     polygons with ``value`` (or ``share``,   classes of the value (quantiles,
               ``mined_t``, ``value_t``)                ColorBrewer YlOrRd), legend with units
flows          lines with ``value_t``                   lines whose width grows with tonnes
facilities     points with ``capacity_t``               circles sized by capacity, coloured by
                                                        ``use`` (share of capacity used)
points         other points (mines...)                  small circles; clustered above 500
outlines       other polygons                           outlines
============== ======================================== ==========================================

The basemap is drawn from Natural Earth country outlines (light grey), never from tiles, so
a map is never blank offline; a tile layer can be added (``tiles=``) when online. Every value
shown in a tooltip is passed through :func:`ewaste_tracker.maps.escape.escape` before it reaches the
page, since Leaflet writes tooltips as HTML. ``ewaste_tracker.maps.export.save_map`` writes the page
for offline use.

Colour schemes: Brewer, C. A. (2003), ColorBrewer, www.ColorBrewer.org (YlOrRd, RdYlGn).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import folium.raster_layers
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ewaste_tracker.maps.classes import Classes
from ewaste_tracker.maps.errors import MapInputError
from ewaste_tracker.maps.escape import escape
from ewaste_tracker.maps.legend import (
    Legend,
    format_quantity,
    format_range,
    legend_notes,
    palette,
    quantile_classes,
)

__all__ = [
    "GridLayer",
    "Legend",
    "add_choropleth",
    "add_flow_lines",
    "add_grid",
    "add_points",
    "build_map",
]

logger = logging.getLogger(__name__)

USE_CLASSES = (
    (0.5, "#1a9641", "under 50 %"),
    (0.8, "#a6d96a", "50–80 %"),
    (1.0, "#fdae61", "80–100 %"),
    (np.inf, "#d7191c", "over capacity"),
)
NO_DATA = "#bdbdbd"
VALUE_COLUMNS = ("value", "share", "mined_t", "value_t")
CLUSTER_ABOVE = 500


@dataclass(frozen=True)
class GridLayer:
    """A raster to overlay (e.g. e-waste downscaled by ``ewaste_tracker.maps.grid``).

    Attributes
    ----------
    values
        2-D array (rows, cols); NaN and zero cells are transparent.
    transform
        ``affine.Affine`` of the raster.
    crs
        CRS of the raster (anything rasterio accepts).
    name, unit, source
        Label, unit and source shown in the legend.
    """

    values: np.ndarray
    transform: Any
    crs: Any
    name: str = "grid"
    unit: str = "t"
    source: str = ""


def _esc(value: object, unit: str | None = None) -> str:
    """Escape a value for HTML; numbers in three significant digits with their unit.

    Integers without a unit (years, counts) are written as they are.
    """
    if value is None or value is pd.NA:
        return "n/a"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)) and unit is None:
        return str(int(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return escape(format_quantity(value, unit or ""))
    return escape(value)


Field = tuple[str, str] | tuple[str, str, str]
"""A tooltip line: column, label and optionally the unit its numbers are written in."""


def _tooltips(gdf: gpd.GeoDataFrame, title: str | None, fields: list[Field]) -> list[str]:
    """One escaped HTML tooltip per row: bold title, then ``label: value`` lines."""
    present = [f for f in fields if f[0] in gdf.columns]
    heads = gdf[title].tolist() if title in gdf.columns else [None] * len(gdf)
    values = [gdf[f[0]].tolist() for f in present]
    labels = [escape(f[1]) for f in present]
    units = [f[2] if len(f) > 2 else None for f in present]
    years = {i for i, f in enumerate(present) if f[0] == "year"}
    out = []
    for i, head in enumerate(heads):
        lines = [f"<b>{_esc(head)}</b>"] if head is not None else []
        for j, (label, unit, column) in enumerate(zip(labels, units, values, strict=True)):
            value = column[i]
            if j in years and isinstance(value, float) and np.isfinite(value):
                value = int(value)  # a year read as float (NaN elsewhere in the column)
            lines.append(f"{label}: {_esc(value, unit)}")
        out.append("<br>".join(lines))
    return out


def _features(gdf: gpd.GeoDataFrame, props: dict[str, list[Any]]) -> dict[str, Any]:
    """GeoJSON with only the given (already escaped) properties; nothing else reaches the page."""
    geo = gdf.geometry if gdf.crs is None or gdf.crs == "EPSG:4326" else gdf.geometry.to_crs(4326)
    geoms = shapely.to_geojson(geo.to_numpy())
    import json

    keys = list(props)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(g),
                "properties": {k: props[k][i] for k in keys},
            }
            for i, g in enumerate(geoms)
        ],
    }


def _value_column(gdf: gpd.GeoDataFrame) -> str | None:
    return next((c for c in VALUE_COLUMNS if c in gdf.columns), None)


def _unit_of(gdf: gpd.GeoDataFrame, column: str) -> str:
    if "unit" in gdf.columns and gdf["unit"].notna().any():
        return str(gdf["unit"].dropna().iloc[0])
    return "t" if column.endswith("_t") else ("share" if column == "share" else "")


def add_choropleth(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    column: str | None = None,
    show: bool = True,
    classes: Classes | None = None,
) -> folium.GeoJson:
    """Add a choropleth of one value per polygon, with a legend.

    Parameters
    ----------
    m
        The map.
    gdf
        Polygons with the value column and optionally ``name``, ``unit``, ``indicator``,
        ``year``, ``source``.
    name
        Layer name (layer control and legend title when there is no ``indicator``).
    column
        Value column; default the first of :data:`VALUE_COLUMNS` present.
    show
        Whether the layer (and so its legend) is on when the map opens; either way it is in
        the layer control, and its legend follows it.
    classes
        Class edges, labels and colours (:mod:`ewaste_tracker.maps.classes`: natural breaks or
        fixed thresholds); default quantile classes in YlOrRd.

    Returns
    -------
    folium.GeoJson
    """
    column = column or _value_column(gdf)
    if column is None:
        raise MapInputError(f"layer has none of the columns {', '.join(VALUE_COLUMNS)}", path=name)
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    unit = _unit_of(gdf, column)
    if classes is None:
        edges, cls = quantile_classes(values, unit=unit)
        colours = np.array((*palette(max(edges.size - 1, 1)), NO_DATA), dtype=object)
        entries = [
            (colours[i], format_range(edges[i], edges[i + 1], unit)) for i in range(edges.size - 1)
        ]
    else:
        cls = classes.classify(values)
        colours = np.array((*classes.colours, NO_DATA), dtype=object)
        entries = list(zip(classes.colours, classes.labels, strict=True))
    fill = colours[cls]  # class -1 picks NO_DATA
    fields: list[Field] = [
        ("indicator", "indicator"),
        ("year", "year"),
        (column, column, unit),
        ("source", "source"),
    ]
    label_col = "name" if "name" in gdf.columns else ("region" if "region" in gdf.columns else None)
    tips = _tooltips(gdf, label_col, fields)
    styles = [{"fillColor": f, "color": "#555", "weight": 0.6, "fillOpacity": 0.8} for f in fill]
    layer = folium.GeoJson(
        _features(gdf, {"tip": tips, "style": styles}),
        name=escape(name),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        highlight_function=lambda _f: {"weight": 2, "color": "#000"},
        show=show,
    )
    layer.add_to(m)
    if (cls < 0).any():
        entries.append((NO_DATA, "no data"))
    notes = legend_notes(gdf, name) + ([f"classes: {classes.method}"] if classes else [])
    Legend(name, entries, note=notes, layer=layer).add_to(m)
    return layer


def add_flow_lines(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    column: str = "value_t",
    min_weight: float = 1.0,
    max_weight: float = 12.0,
    show: bool = True,
) -> folium.GeoJson:
    """Add flow lines whose width is proportional to tonnes.

    Width :math:`w_i = w_{min} + (w_{max} - w_{min})\\, v_i / \\max_j v_j` (pixels).

    Parameters
    ----------
    m, gdf, name
        Map, lines (``origin``, ``destination``, ``year``, ``value_t``...), layer name.
    column
        Tonnes column.
    min_weight, max_weight
        Line widths in pixels of the smallest and largest flows.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.GeoJson
    """
    values = pd.to_numeric(gdf[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    top = values.max() if values.size and values.max() > 0 else 1.0
    weights = min_weight + (max_weight - min_weight) * values / top
    styles = [{"color": "#2c5d8a", "weight": float(w), "opacity": 0.55} for w in weights]
    if {"origin", "destination"} <= set(gdf.columns):
        heads = (gdf["origin"].astype(str) + " → " + gdf["destination"].astype(str)).tolist()
        gdf = gdf.assign(_head=heads)
    fields: list[Field] = [("year", "year"), (column, "mass", "t"), ("source", "source")]
    tips = _tooltips(gdf, "_head", fields)
    layer = folium.GeoJson(
        _features(gdf, {"tip": tips, "style": styles}),
        name=escape(name),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        show=show,
    )
    layer.add_to(m)
    return layer


def _use_colours(use: np.ndarray) -> np.ndarray:
    bounds = np.array([b for b, _, _ in USE_CLASSES])
    colours = np.array([c for _, c, _ in USE_CLASSES] + ["#7f7f7f"], dtype=object)
    idx = np.where(
        np.isfinite(use) | (use == np.inf), np.searchsorted(bounds, use, "left"), len(bounds)
    )
    return colours[np.minimum(idx, len(bounds))]


def add_points(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    facilities: bool = False,
    show: bool = True,
) -> folium.FeatureGroup:
    """Add point features as circles; facilities are sized by capacity and coloured by use.

    Radius of a facility :math:`r = 4 + 10\\sqrt{K/K_{max}}` pixels (area proportional to
    capacity :math:`K`); unknown capacity draws 5 px. More than :data:`CLUSTER_ABOVE` points
    are clustered with ``FastMarkerCluster`` (one script loop, no per-marker HTML).

    Parameters
    ----------
    m, gdf, name
        Map, points, layer name.
    facilities
        Style as collection sites (``capacity_t``, ``use``, ``expected_t``).
    show
        Whether the layer (and the facility legend) is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
    """
    group = folium.FeatureGroup(name=escape(name), show=show)
    group.add_to(m)
    n = len(gdf)
    if facilities:
        cap = pd.to_numeric(gdf["capacity_t"], errors="coerce").to_numpy(dtype=float)
        top = np.nanmax(cap) if np.isfinite(cap).any() and np.nanmax(cap) > 0 else 1.0
        radius = np.where(np.isfinite(cap), 4 + 10 * np.sqrt(np.clip(cap, 0, None) / top), 5.0)
        use = (
            pd.to_numeric(gdf["use"], errors="coerce").to_numpy(dtype=float)
            if "use" in gdf
            else np.full(n, np.nan)
        )
        colour = _use_colours(use)
        gdf = gdf.assign(_use=use)
        fields: list[Field] = [
            ("type", "type"),
            ("capacity_t", "capacity", "t/yr"),
            ("expected_t", "expected", "t/yr"),
            ("_use", "capacity used", "fraction"),
            ("source", "source"),
        ]
        title = "name"
    else:
        radius = np.full(n, 4.0)
        colour = np.full(n, "#6a3d9a", dtype=object)
        fields = [("commodities", "commodities"), ("country", "country"), ("source", "source")]
        title = "mine" if "mine" in gdf.columns else "name"
    add_labelled_points(group, gdf, title=title, fields=fields, colour=colour, radius=radius)
    if facilities:
        entries = [(c, label) for _, c, label in USE_CLASSES] + [("#7f7f7f", "capacity unknown")]
        Legend(
            f"{name}: capacity used", entries, note="circle area ∝ capacity", layer=group
        ).add_to(m)
    return group


def add_labelled_points(
    parent: folium.FeatureGroup | folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    title: str | None,
    fields: list[Field],
    colour: np.ndarray | Sequence[str] | str,
    radius: np.ndarray | Sequence[float] | float,
    cluster: bool | None = None,
) -> None:
    """Circles with escaped tooltips (title in bold, then ``label: value`` lines).

    One GeoJSON layer (or, above :data:`CLUSTER_ABOVE` points, one ``FastMarkerCluster``
    loop): no per-marker HTML, and every string reaches the page through
    :func:`ewaste_tracker.maps.escape.escape`.
    """
    n = len(gdf)
    colour = np.broadcast_to(np.asarray(colour, dtype=object), (n,))
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (n,))
    tips = _tooltips(gdf, title, fields)
    geo = gdf.geometry if gdf.crs == "EPSG:4326" else gdf.geometry.to_crs(4326)
    lon, lat = shapely.get_x(geo.to_numpy()), shapely.get_y(geo.to_numpy())
    if cluster if cluster is not None else n > CLUSTER_ABOVE:
        rows = [
            [float(y), float(x), float(r), str(c), t]
            for y, x, r, c, t in zip(lat, lon, radius, colour, tips, strict=True)
        ]
        callback = (
            "function (row) { var m = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: row[2],"
            " color: row[3], fillColor: row[3], fillOpacity: 0.7, weight: 1});"
            " m.bindTooltip(row[4]); return m; }"
        )
        folium.plugins.FastMarkerCluster(rows, callback=callback).add_to(parent)
    else:
        styles = [
            {"radius": float(r), "color": c, "fillColor": c, "fillOpacity": 0.75, "weight": 1}
            for r, c in zip(radius, colour, strict=True)
        ]
        folium.GeoJson(
            _features(gdf, {"tip": tips, "style": styles}),
            marker=folium.CircleMarker(),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(parent)


def add_grid(
    m: folium.Map, grid: GridLayer, *, opacity: float = 0.7, show: bool = True
) -> folium.raster_layers.ImageOverlay:
    """Overlay a raster, re-projected to Web Mercator so cells sit where they belong.

    Parameters
    ----------
    m
        The map.
    grid
        Raster, transform, CRS and labels.
    opacity
        Overlay opacity.
    show
        Whether the overlay (and its legend) is on when the map opens.

    Returns
    -------
    folium.raster_layers.ImageOverlay
    """
    from pyproj import Transformer
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = np.asarray(grid.values, dtype="float32")
    if src.ndim != 2:
        raise MapInputError(f"grid must be 2-D, got shape {src.shape}", path=grid.name)
    h, w = src.shape
    a = grid.transform
    left, top = a.c, a.f
    right, bottom = a.c + a.a * w, a.f + a.e * h
    dst_crs = "EPSG:3857"
    tr, dw, dh = calculate_default_transform(
        grid.crs, dst_crs, w, h, left=left, bottom=bottom, right=right, top=top
    )
    dst = np.full((dh, dw), np.nan, dtype="float32")
    reproject(
        src,
        dst,
        src_transform=a,
        src_crs=grid.crs,
        dst_transform=tr,
        dst_crs=dst_crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    dst[dst <= 0] = np.nan
    edges, cls = quantile_classes(dst, unit=grid.unit)
    colours = palette(max(edges.size - 1, 1))
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=np.uint8)
    rgba = np.zeros((dh, dw, 4), dtype=np.uint8)
    valid = cls >= 0
    rgba[valid, :3] = rgb[cls[valid]]
    rgba[valid, 3] = 255
    to_ll = Transformer.from_crs(dst_crs, "EPSG:4326", always_xy=True)
    x0, y1 = to_ll.transform(tr.c, tr.f)
    x1, y0 = to_ll.transform(tr.c + tr.a * dw, tr.f + tr.e * dh)
    # Leaflet stacks its vector SVG above images in the overlay pane: give the raster a pane of
    # its own above it (below markers and tooltips), not catching the mouse.
    folium.map.CustomPane("ewt-grid", z_index=450, pointer_events=False).add_to(m)
    overlay = folium.raster_layers.ImageOverlay(
        rgba,
        bounds=[[y0, x0], [y1, x1]],
        opacity=opacity,
        name=escape(grid.name),
        mercator_project=False,
        pane="ewt-grid",
        show=show,
    )
    overlay.add_to(m)
    entries = [
        (colours[i], format_range(edges[i], edges[i + 1], grid.unit)) for i in range(edges.size - 1)
    ]
    note = f"source: {grid.source}" if grid.source else ""
    Legend(grid.name, entries, note=note, layer=overlay).add_to(m)
    return overlay


def _kind(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type.dropna().unique())
    if types and types <= {"Polygon", "MultiPolygon"}:
        return "choropleth" if _value_column(gdf) else "outlines"
    if types and types <= {"LineString", "MultiLineString"}:
        return "flows"
    if types and types <= {"Point"}:
        return "facilities" if "capacity_t" in gdf.columns else "points"
    return "outlines"


def build_map(
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    *,
    basemap: gpd.GeoDataFrame | None = None,
    grid: GridLayer | None = None,
    tiles: str | None = None,
    max_zoom: int = 18,
    height: str = "100%",
    hidden: Collection[str] = (),
    bounds: Sequence[float] | None = None,
    classes: Mapping[str, Classes] | None = None,
    prefer_canvas: bool = False,
) -> folium.Map:
    """Draw named layers on a Natural Earth basemap.

    Parameters
    ----------
    layers
        Named GeoDataFrames (any CRS); the kind of each is read from its geometry and columns
        (see the module docstring). Drawn in the given order, above the basemap.
    basemap
        Country outlines to draw in light grey underneath (e.g. the catalogue's Natural Earth
        outlines); default none.
    grid
        Optional raster overlay.
    tiles
        A folium tile name or URL template to add under the layers (needs internet; off by
        default so the page never waits on a tile server).
    max_zoom
        The map's maximum zoom, required by marker clusters when there are no tiles.
    height
        CSS height of the map.
    hidden
        Names of layers (keys of ``layers``, or the grid's name) that start switched off:
        listed in the layer control, their legends shown only once they are switched on.
    bounds
        ``(west, south, east, north)`` in degrees to open the map on, e.g. a country and its
        neighbours; default the bounds of the layers shown at first (of all layers when all
        are hidden, of the basemap when there are none).
    classes
        Class schemes of choropleth layers by layer name (default quantiles).
    prefer_canvas
        Draw vectors on a canvas instead of SVG (faster with many polygons).

    Returns
    -------
    folium.Map
        Fitted to ``bounds``.

    Raises
    ------
    MapInputError
        A layer that is not a GeoDataFrame with a CRS, or ``bounds`` that are not four finite
        numbers with west < east and south < north.
    """
    hidden = set(hidden)
    layers = dict(layers or {})
    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, height=height, control_scale=True,
                   prefer_canvas=prefer_canvas)  # fmt: skip
    m.options["maxZoom"] = max_zoom
    m.options["minZoom"] = 1
    m.options["zoomSnap"] = 0.25  # fit_bounds fills the frame between whole zoom steps
    if basemap is not None and len(basemap):
        base = basemap
        base = base.to_crs(4326) if base.crs is not None and base.crs != "EPSG:4326" else base
        # background only: simplify to ~2 km and round to ~100 m to keep the page light
        outline = shapely.simplify(base.geometry.to_numpy(), 0.02, preserve_topology=True)
        outline = shapely.transform(outline, lambda c: np.round(c, 3))
        folium.GeoJson(
            _features(gpd.GeoDataFrame(geometry=outline, crs=4326), {}),
            name="countries (Natural Earth)",
            style_function=lambda _f: {
                "fillColor": "#eeeeee",
                "color": "#bbbbbb",
                "weight": 0.5,
                "fillOpacity": 1.0,
            },
            control=False,
            interactive=False,
        ).add_to(m)
    if tiles:
        folium.TileLayer(tiles, name="tiles", max_zoom=max_zoom, overlay=False).add_to(m)
    extents: list[np.ndarray] = []
    shown: list[np.ndarray] = []
    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None:
            raise MapInputError("layer must be a GeoDataFrame with a CRS", path=name)
        if gdf.empty:
            logger.info("layer %s is empty; not drawn", name)
            continue
        kind, show = _kind(gdf), name not in hidden
        if kind == "choropleth":
            add_choropleth(m, gdf, name=name, show=show, classes=(classes or {}).get(name))
        elif kind == "flows":
            add_flow_lines(m, gdf, name=name, show=show)
        elif kind in ("facilities", "points"):
            add_points(m, gdf, name=name, facilities=kind == "facilities", show=show)
        else:
            tips = _tooltips(gdf, "name" if "name" in gdf.columns else None, [])
            folium.GeoJson(
                _features(gdf, {"tip": tips}),
                name=escape(name),
                tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
                show=show,
            ).add_to(m)
        box = gdf.to_crs(4326).total_bounds
        extents.append(box)
        if show:
            shown.append(box)
    if grid is not None:
        add_grid(m, grid, show=grid.name not in hidden)
    unknown = hidden - set(layers) - ({grid.name} if grid is not None else set())
    if unknown:
        logger.warning("hidden names no layer has: %s", ", ".join(sorted(unknown)))
    folium.LayerControl(collapsed=True).add_to(m)
    if bounds is None:
        boxes = shown or extents
        if not boxes and basemap is not None and len(basemap):
            boxes = [basemap.to_crs(4326).total_bounds]
        b = np.vstack(boxes) if boxes else np.array([[-180.0, -60.0, 180.0, 80.0]])
        west, south, east, north = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    else:
        west, south, east, north = _checked_bounds(bounds)
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    return m


def _checked_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` as floats, or :class:`MapInputError` naming the fault."""
    try:
        b = np.asarray(bounds, dtype=float).reshape(4)
    except (TypeError, ValueError) as exc:
        raise MapInputError(f"bounds must be (west, south, east, north), got {bounds!r}") from exc
    west, south, east, north = (float(v) for v in b)
    if not (np.isfinite(b).all() and west < east and south < north):
        raise MapInputError(
            f"bounds must be finite with west < east and south < north, got {tuple(b.tolist())}"
        )
    return west, south, east, north
