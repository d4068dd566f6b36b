"""One colour per route, fate, status and series, the same in every chart and map.

Routes (where e-waste goes) and fates (what becomes of its elements) keep their colour in the
Sankey diagram, the element bars, the route bars and the scenario charts, so "recovered" is
always green and "informal" always orange. Statuses (reported, mixed, estimated ...) keep
theirs wherever data points are marked. Colours are ColorBrewer Paired / Set1 tones (Brewer
2003), chosen to stay distinct for the common forms of colour blindness when paired with the
labels every chart carries.
"""

from __future__ import annotations

__all__ = [
    "FATE_COLOURS",
    "NEUTRAL",
    "ROUTE_COLOURS",
    "SCENARIO_COLOURS",
    "SERIES_COLOURS",
    "STAGE_ROUTE",
    "STATUS_COLOURS",
    "stage_colour",
]

ROUTE_COLOURS = {
    "formal": "#1f78b4",
    "scrap": "#a6cee3",
    "informal": "#ff7f00",
    "residual": "#7f7f7f",
    "exported": "#6a3d9a",
}
"""Routes of e-waste (element table ``route``); ``scrap`` is e-waste mixed with metal scrap
outside documented collection (shredded with it: the formal plant's pre-processing)."""
FATE_COLOURS = {"recovered": "#1a9641", "lost": "#d7191c"}
"""What becomes of the elements."""
STATUS_COLOURS = {
    "reported": "#08519c",
    "published": "#4292c6",
    "mixed": "#9ecae1",
    "estimated": "#969696",
    "input": "#525252",
    "aggregate": "#737373",
}
"""Status of a value (``Estimate.indicators.status``)."""
SERIES_COLOURS = {
    "pom_t": "#252525",
    "generated_t": "#b15928",
    "stock_t": "#cab2d6",
    "collected_formal_t": ROUTE_COLOURS["formal"],
}
"""Lines of the country trend."""
SCENARIO_COLOURS = {"baseline": "#969696", "scenario": "#1f78b4"}
"""Before and after."""
NEUTRAL = "#636363"
"""Stages before collection (market, use, generated) and anything unclassified."""

STAGE_ROUTE = {
    "collection_formal": "formal",
    "preprocessing": "formal",
    "endprocessing": "formal",
    "refurbishment": "formal",
    "collection_informal": "informal",
    "recycling_informal": "informal",
    "residual": "residual",
    "disposed": "residual",
    "export": "exported",
}
"""The route each lifecycle stage belongs to."""


def stage_colour(stage: str) -> str:
    """Colour of a lifecycle stage (or a partner node, ``"partner"``)."""
    if stage in ("recovered",):
        return FATE_COLOURS["recovered"]
    if stage in ("losses", "lost"):
        return FATE_COLOURS["lost"]
    if stage in ("partner", "sysenv_out"):
        return ROUTE_COLOURS["exported"]
    route = STAGE_ROUTE.get(stage)
    return ROUTE_COLOURS[route] if route else NEUTRAL
