"""Figures of the minerals, scenarios and sites pages (plotly; no Streamlit here).

* :func:`route_losses_figure`: one element's tonnes lost and recovered by route, in the
  route colours of every other chart (lost hatched);
* :func:`mined_figure`: where the lost tonnes would be mined instead;
* :func:`scenario_series_figure`: baseline and scenario series side by side;
* :func:`compare_text`, :func:`route_text`, :func:`mined_text`: the same in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ewaste_tracker.app.colours import (
    FATE_COLOURS,
    ROUTE_COLOURS,
    SCENARIO_COLOURS,
    SERIES_COLOURS,
)
from ewaste_tracker.app.figures.core import LAYOUT, escape_label
from ewaste_tracker.app.format import quantity

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "compare_text",
    "mined_figure",
    "mined_text",
    "route_losses_figure",
    "route_text",
    "scenario_series_figure",
]


def route_losses_figure(routes: pd.DataFrame, *, element: str, title: str) -> go.Figure:
    """Stacked bars per route: tonnes of ``element`` recovered and lost."""
    import plotly.graph_objects as go

    fig = go.Figure()
    x = [escape_label(r) for r in routes["route"]]
    for fate in ("recovered", "lost"):
        values = routes[f"{fate}_t"].to_numpy(float)
        fig.add_bar(
            x=x,
            y=values,
            name=f"{fate} (t of {escape_label(element)})",
            marker={
                "color": [ROUTE_COLOURS.get(str(r), "#636363") for r in routes["route"]],
                "pattern": {"shape": "/" if fate == "lost" else ""},
                "line": {"color": FATE_COLOURS[fate], "width": 2},
            },
            customdata=[escape_label(quantity(v, "t")) for v in values],
            hovertemplate="%{x}: %{customdata} " + fate + "<extra></extra>",
        )
    fig.update_layout(barmode="stack", title=escape_label(title), yaxis_title="t", **LAYOUT)
    return fig


def route_text(routes: pd.DataFrame, *, element: str, title: str) -> str:
    """:func:`route_losses_figure` in words."""
    parts = [
        f"{r}: {quantity(rec, 't')} recovered, {quantity(lost, 't')} lost"
        for r, rec, lost in zip(
            routes["route"], routes["recovered_t"], routes["lost_t"], strict=True
        )
    ]
    return f"{title}. " + "; ".join(parts) + "."


def mined_figure(mined: pd.DataFrame, *, element: str, title: str) -> go.Figure:
    """Horizontal bars: tonnes each country would mine to replace the lost ``element``."""
    import plotly.graph_objects as go

    part = mined.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            y=[escape_label(n) for n in part["name"]],
            x=part["mined_t"],
            orientation="h",
            marker_color="#8c6d31",
            name=f"t of {escape_label(element)} mined",
            customdata=[
                [escape_label(quantity(t, "t")), escape_label(quantity(s, "fraction"))]
                for t, s in zip(part["mined_t"], part["share"], strict=True)
            ],
            hovertemplate="%{y}: %{customdata[0]} (%{customdata[1]} of world mine output)"
            "<extra></extra>",
        )
    )
    fig.update_layout(
        title=escape_label(title),
        xaxis_title="t",
        **{**LAYOUT, "height": 460, "margin": {"l": 200, "r": 40, "t": 50, "b": 40}},
    )
    return fig


def mined_text(mined: pd.DataFrame, *, element: str, title: str, top: int = 5) -> str:
    """:func:`mined_figure` in words."""
    parts = [
        f"{n} {quantity(t, 't')} ({quantity(s, 'fraction')})"
        for n, t, s in zip(
            mined["name"][:top], mined["mined_t"][:top], mined["share"][:top], strict=True
        )
    ]
    return f"{title}. " + "; ".join(parts) + "."


def scenario_series_figure(series: pd.DataFrame, *, title: str, from_year: int) -> go.Figure:
    """Baseline (grey, dashed) and scenario (blue) of each series; the levers' start marked."""
    import plotly.graph_objects as go

    from ewaste_tracker.app.views.scenarios import COMPARED

    fig = go.Figure()
    for (case, ind), part in series.groupby(["case", "indicator"], sort=False):
        label = COMPARED.get(str(ind), (str(ind), ""))[0]
        fig.add_scatter(
            x=part["year"],
            y=part["value"],
            mode="lines",
            name=f"{escape_label(label)}: {case}",
            line={
                "color": SERIES_COLOURS.get(str(ind), SCENARIO_COLOURS[str(case)]),
                "dash": "dot" if case == "baseline" else "solid",
                "width": 1.5 if case == "baseline" else 2.5,
            },
            customdata=[escape_label(quantity(v, "t")) for v in part["value"]],
            hovertemplate=f"{escape_label(label)} ({case}) %{{x}}: %{{customdata}}<extra></extra>",
        )
    fig.add_vline(x=from_year, line_dash="dash", line_color="#999")
    fig.update_layout(title=escape_label(title), yaxis_title="t", xaxis_title="year", **LAYOUT)
    return fig


def compare_text(table: pd.DataFrame, *, title: str) -> str:
    """A before/after table in words."""
    parts = [
        f"{lbl}: {quantity(b, u)} → {quantity(a, u)}"
        for lbl, b, a, u in zip(
            table["label"], table["before"], table["after"], table["unit"], strict=True
        )
    ]
    return f"{title}. " + "; ".join(parts) + "."
