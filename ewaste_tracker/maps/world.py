"""World choropleth pages that build in milliseconds: geometry once, colours per map.

A world map of one indicator differs from the next (another year, indicator or unit) only in
each country's colour and tooltip. :class:`WorldMap` turns the outlines into GeoJSON once
(simplified, coordinates rounded to :data:`DECIMALS` places, about 100 m) and
:meth:`WorldMap.page` writes a complete Leaflet page around it with the per-country colours,
the tooltips and a legend, by string assembly: no template is compiled per map (folium
compiles a Jinja template for every element it renders, about a tenth of a second per map).

The page loads Leaflet from ``base_url`` (the vendored copies served by the app at
``/app/static/vendor``, :data:`ewaste_tracker.maps.assets.STREAMLIT_BASE_URL`) and nothing
else. Every name, label and note reaches it through :func:`ewaste_tracker.maps.escape.escape`
and the JSON data is embedded with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``
and ``\\u0026``, so no string can end the script or add markup. The map container carries an
accessible name (``aria-label``) and the page a ``<title>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from ewaste_tracker.maps.escape import escape

__all__ = ["DECIMALS", "NO_DATA", "WorldMap", "json_for_script"]

DECIMALS = 3
"""Decimal places of the outlines' coordinates (1e-3 degree, about 100 m)."""
NO_DATA = "#bdbdbd"
"""Fill of countries without a value."""
VIEW = ((-56.0, -168.0), (78.0, 180.0))
"""South-west and north-east corners (lat, lon) the world view fits."""


def json_for_script(obj: object) -> str:
    """JSON safe to embed in a ``<script>`` element (no ``</script>``, no markup)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True)
class Feature:
    """Colour and tooltip (escaped HTML) of one region."""

    colour: str
    tooltip: str


class WorldMap:
    """Outlines turned into GeoJSON once; :meth:`page` draws any indicator on them.

    Parameters
    ----------
    outlines
        ``region, geometry`` (EPSG:4326 or any CRS), one row per region code.
    tolerance
        Simplification tolerance in degrees (0 keeps the outlines as they are).
    """

    def __init__(self, outlines: gpd.GeoDataFrame, *, tolerance: float = 0.0) -> None:
        frame = (
            outlines
            if outlines.crs is None or outlines.crs == "EPSG:4326"
            else (outlines.to_crs(4326))
        )
        geoms = frame.geometry.to_numpy()
        if tolerance > 0:
            geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
        geoms = shapely.transform(geoms, lambda c: np.round(c, DECIMALS))
        codes = [str(c) for c in frame["region"]]
        features = ",".join(
            '{"type":"Feature","properties":{"r":'
            + json_for_script(code)
            + '},"geometry":'
            + g
            + "}"
            for code, g in zip(codes, shapely.to_geojson(geoms), strict=True)
            if g and g != "null"
        )
        self.codes: tuple[str, ...] = tuple(codes)
        self.geojson = '{"type":"FeatureCollection","features":[' + features + "]}"

    def page(
        self,
        features: Mapping[str, Feature],
        *,
        title: str,
        legend: Sequence[tuple[str, str]],
        notes: Sequence[str] = (),
        alt: str = "",
        base_url: str = "/app/static/vendor",
        height: str = "100%",
    ) -> str:
        """A complete HTML page: the world with ``features`` coloured, and a legend.

        Parameters
        ----------
        features
            Region code → colour and escaped tooltip HTML; other regions are drawn in
            :data:`NO_DATA`.
        title
            Legend title and page title (plain text; escaped here).
        legend
            ``(colour, label)`` rows (plain text; escaped here).
        notes
            Small lines under the legend (plain text; escaped here).
        alt
            Accessible name of the map (plain text; escaped here); default the title.
        base_url
            Where ``leaflet@1.9.3/dist/leaflet.js`` and ``leaflet.css`` are served.
        height
            CSS height of the map.
        """
        data = {code: [f.colour, f.tooltip] for code, f in features.items()}
        rows = "".join(
            f'<div class="ewt-row"><i style="background:{escape(c)}"></i>{escape(label)}</div>'
            for c, label in legend
        )
        small = "".join(f'<div class="ewt-note">{escape(n)}</div>' for n in notes if n)
        base = escape(base_url.rstrip("/"))
        (s_, w), (n, e) = VIEW
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title>"
            f'<link rel="stylesheet" href="{base}/leaflet@1.9.3/dist/leaflet.css">'
            f'<script src="{base}/leaflet@1.9.3/dist/leaflet.js"></script>'
            "<style>html,body{height:100%;margin:0;font:12px/1.3 sans-serif}"
            f"#map{{height:{escape(height)};background:#f4f8fb}}"
            ".ewt-legend{position:absolute;left:8px;bottom:16px;z-index:1000;"
            "background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
            "box-shadow:0 0 4px rgba(0,0,0,.3);max-width:46%}"
            ".ewt-legend b{display:block;margin-bottom:3px}"
            ".ewt-row i{display:inline-block;width:14px;height:11px;margin-right:5px;"
            "border:1px solid #777;vertical-align:middle}"
            ".ewt-note{color:#555;font-size:10px;margin-top:2px}</style></head><body>"
            f'<div id="map" role="region" aria-label="{escape(alt or title)}"></div>'
            f'<div class="ewt-legend" role="note"><b>{escape(title)}</b>{rows}{small}</div>'
            "<script>"
            f"var geo={self.geojson};var data={json_for_script(data)};"
            f"var map=L.map('map',{{preferCanvas:true,zoomSnap:0.25,minZoom:0,maxZoom:9,"
            f"attributionControl:false}}).fitBounds([[{s_},{w}],[{n},{e}]],{{padding:[0,0]}});"
            "L.geoJSON(geo,{style:function(f){var d=data[f.properties.r];"
            f"return {{fillColor:d?d[0]:'{NO_DATA}',color:'#666',weight:0.5,fillOpacity:0.9}};}},"
            "onEachFeature:function(f,l){var d=data[f.properties.r];"
            "if(d){l.bindTooltip(d[1],{sticky:true});}}}).addTo(map);"
            "</script></body></html>"
        )
