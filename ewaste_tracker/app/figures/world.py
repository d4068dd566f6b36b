"""World maps of the world page and their text alternatives (no Streamlit here).

:func:`world_page` colours a :class:`ewaste_tracker.maps.world.WorldMap` by a
:func:`ewaste_tracker.app.views.world.world_values` table and its classes; every tooltip line
(name, value with unit, year, status, source) is escaped. :func:`map_text` is the same map in
words (what a screen reader says and what the page prints under the map): the classes with
how many countries each holds, the highest and lowest countries, and how many have no value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ewaste_tracker.app.format import quantity
from ewaste_tracker.maps.classes import Classes
from ewaste_tracker.maps.escape import escape
from ewaste_tracker.maps.world import NO_DATA, Feature, WorldMap

__all__ = ["map_features", "map_text", "world_page"]

SOURCE_CHARS = 140
"""Tooltips cut sources longer than this."""


def _short(text: str, n: int = SOURCE_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def map_features(
    values: pd.DataFrame,
    classes: Classes | None,
    *,
    names: Mapping[str, str],
    title: str,
    year: int,
) -> dict[str, Feature]:
    """Colour and escaped tooltip of every region of ``values`` (``region, value, unit,
    status, source``)."""
    v = values["value"].to_numpy(float)
    cls = classes.classify(v) if classes is not None else np.full(v.size, -1)
    colours = np.array([*(classes.colours if classes else ()), NO_DATA], dtype=object)
    out = {}
    for region, value, unit, status, source, c in zip(
        values["region"],
        v,
        values["unit"],
        values["status"],
        values["source"],
        cls,
        strict=True,
    ):
        lines = [
            f"<b>{escape(names.get(region, region))}</b> ({escape(region)})",
            f"{escape(title)}: {escape(quantity(value, unit))}",
            f"{int(year)} · {escape(status)}",
        ]
        if source:
            lines.append(f"source: {escape(_short(str(source)))}")
        out[str(region)] = Feature(str(colours[c]), "<br>".join(lines))
    return out


def world_page(
    world: WorldMap,
    values: pd.DataFrame,
    classes: Classes | None,
    *,
    title: str,
    year: int,
    names: Mapping[str, str],
    base_url: str = "/app/static/vendor",
) -> str:
    """The map page of one indicator and year (see :meth:`WorldMap.page`)."""
    feats = map_features(values, classes, names=names, title=title, year=year)
    legend = list(zip(classes.colours, classes.labels, strict=True)) if classes else []
    if classes is None or (classes.classify(values["value"].to_numpy(float)) < 0).any():
        legend.append((NO_DATA, "no data"))
    notes = [str(year)] + ([f"classes: {classes.method}"] if classes else [])
    return world.page(
        feats,
        title=title,
        legend=legend,
        notes=notes,
        alt=f"Map of {title} by country, {year}",
        base_url=base_url,
    )


def map_text(
    values: pd.DataFrame,
    classes: Classes | None,
    *,
    names: Mapping[str, str],
    title: str,
    year: int,
    top: int = 3,
) -> str:
    """The map in words: classes and their counts, the highest and lowest, the gaps."""
    v = values["value"].to_numpy(float)
    ok = np.isfinite(v)
    if not ok.any():
        return f"{title}, {year}: no country has a value."
    unit = str(values["unit"].iloc[0]) if len(values) else ""
    order = np.argsort(-v[ok], kind="stable")
    regions = values["region"].to_numpy()[ok]

    def who(idx: np.ndarray) -> str:
        return ", ".join(
            f"{names.get(regions[i], regions[i])} ({quantity(v[ok][i], unit)})" for i in idx
        )

    parts = [f"{title} by country, {year}: {int(ok.sum())} of {len(v)} countries have a value."]
    if classes is not None:
        counts = classes.counts(v)
        listed = "; ".join(f"{lb}: {n}" for lb, n in zip(classes.labels, counts, strict=True))
        parts.append(f"Classes ({classes.method}): {listed}.")
    parts.append(f"Highest: {who(order[:top])}.")
    parts.append(f"Lowest: {who(order[::-1][:top])}.")
    return " ".join(parts)
