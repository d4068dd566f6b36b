"""Minerals page: per element, where it is lost, what is recoverable, where it would be mined."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ewaste_tracker import catalog
from ewaste_tracker.app import state
from ewaste_tracker.app.figures.panels import (
    mined_figure,
    mined_text,
    route_losses_figure,
    route_text,
)
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.views import minerals as mviews
from ewaste_tracker.app.views.core import LABELS, ViewError


@st.cache_resource(show_spinner=False)
def _catalog() -> tuple[Any, Any]:
    return catalog.recovery(), catalog.mine_shares()


def _where(ctx: state.Context) -> str:
    return (
        st.segmented_control(
            "Show",
            ["WLD", ctx.country],
            default="WLD",
            key="mineral_where",
            format_func=ctx.bundle.names.name,
        )
        or "WLD"
    )


def render(ctx: state.Context) -> None:
    """The minerals page."""
    b = ctx.bundle
    st.title(f"Minerals in e-waste, {ctx.year}")
    choices = list(ctx.elements) or list(b.default_elements)
    if not ctx.elements:
        st.info("No element chosen in the sidebar: every critical raw material is offered.")
    element = st.selectbox("Element", choices, key="mineral")
    where = _where(ctx)
    name = b.names.name(where)
    recovery, shares = _catalog()
    rows = b.region_rows(where)
    left, right = st.columns(2, gap="medium")
    with left:
        st.subheader(f"Where {element} is lost, {name}")
        routes = mviews.losses_by_route(
            b.region_elements(where), region=where, year=ctx.year, element=element
        )
        title = f"{element} recovered and lost by route, {name}, {ctx.year}"
        state.show_chart(
            route_losses_figure(routes, element=element, title=title),
            key="route_losses_chart",
            alt=f"Stacked bar chart: {title}",
            text=route_text(routes, element=element, title=title),
        )
        state.show_table(common.readable(routes, labels=LABELS), alt=title)
    with right:
        st.subheader(f"What is recoverable, {name}")
        lost_t = float(routes["lost_t"].sum())
        price = (
            float(routes["lost_usd"].sum()) / lost_t
            if lost_t > 0 and "lost_usd" in routes
            else None
        )
        rec = mviews.recoverable(
            rows,
            region=where,
            year=ctx.year,
            element=element,
            recovery=recovery,
            price_usd_per_t=price,
        )  # type: ignore[arg-type]
        state.show_table(
            common.readable(
                rec,
                units={"t": "t", "usd": "USD"},
                labels={"t": "Tonnes", "usd": "Value (USD)", "quantity": "Quantity"},
            ),
            alt=f"Recoverable {element}, {name}, {ctx.year}",
        )
        st.caption(
            "Best practice: the high pre-processing and refining efficiencies of "
            "data/recovery.csv (literature ranges) applied to all e-waste generated."
        )
        st.subheader(f"Where the lost {element} would be mined instead")
        try:
            mined = mviews.mined_instead(
                lost_t,
                element=element,
                mine_shares=shares,  # type: ignore[arg-type]
                names=b.names.names,
            )
        except ViewError as exc:
            st.info(str(exc))
        else:
            title = f"Mining to replace the {element} lost by {name}, {ctx.year}"
            state.show_chart(
                mined_figure(mined, element=element, title=title),
                key="mined_chart",
                alt=f"Bar chart: {title}",
                text=mined_text(mined, element=element, title=title),
            )
    st.subheader(f"Countries losing the most {element}, {ctx.year}")
    ranked = mviews.element_ranking(
        common.year_table(ctx.store, ctx.year),
        element=element,
        countries=b.countries,
        names=b.names.names,
    )
    state.show_table(
        common.readable(ranked, labels=LABELS),
        height=320,
        alt=f"Countries by {element} lost, {ctx.year}",
    )
    common.downloads(
        ranked.assign(element=element, year=ctx.year),
        name=f"{element}_lost_{ctx.year}",
        what=f"{element} lost by country",
        years=[ctx.year],
        elements=[element],
        units={"lost_t": "t", "lost_usd": "USD", "recovered_t": "t", "eol_rr": "fraction"},
        sources=[b.element_sources.get(element, "")],
        key="dl_minerals",
    )
