"""Country page: a one-page profile in the Global E-waste Monitor's style."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.figures import country as cfig
from ewaste_tracker.app.figures.core import (
    balance_figure,
    balance_text,
    routes_figure,
    trajectory_figure,
)
from ewaste_tracker.app.format import quantity
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.views import country as cviews
from ewaste_tracker.app.views.core import LABELS, country_footprint, element_routes
from ewaste_tracker.app.views.country import group_partners

YEARS = (1990, 2030)


@st.cache_resource(show_spinner=False, max_entries=2)
def _graph(store: tuple[str, int, int]) -> object:
    """The lifecycle graph of every region (all years; read-only)."""
    return state.get_bundle().estimate.graph()


@st.cache_resource(show_spinner=False, max_entries=64)
def _sankey(store: tuple[str, int, int], region: str, year: int) -> tuple[object, object]:
    from ewaste_tracker.flows.balance import graph_to_sankey

    bundle = state.get_bundle()
    nodes, links = graph_to_sankey(_graph(store), region=region, year=year)  # type: ignore[arg-type]
    return group_partners(
        nodes, links, region=region, names=bundle.names.names, groups=bundle.groups
    )


def _headline(ctx: state.Context, head: pd.DataFrame) -> None:
    """The headline figures as metrics, five a row."""
    rows = head.set_index("indicator")
    keys = [k for k in cviews.HEADLINE if k in rows.index and k != "population"]
    for start in range(0, len(keys), 4):
        cols = st.columns(4)
        for col, k in zip(cols, keys[start : start + 4], strict=False):
            r = rows.loc[k]
            col.metric(
                cviews.HEADLINE[k],
                quantity(r["value"], str(r["unit"])),
                help=f"{r['status']}: {r['source']}",
            )


def render(ctx: state.Context) -> None:
    """The country profile."""
    b = ctx.bundle
    iso3, year = ctx.country, ctx.year
    name = b.names.name(iso3)
    rows = b.region_rows(iso3)
    st.title(f"{name} ({iso3}), {year}")
    head = cviews.headline(rows, region=iso3, year=year)
    status = ", ".join(sorted(set(head["status"])))
    pop = head.set_index("indicator")["value"].get("population")
    st.caption(
        f"Population {quantity(pop, 'inh')}. Status of these figures: {status} "
        "(reported = from the country's accepted submission; estimated = the "
        "ewaste-tracker model)."
    )
    _headline(ctx, head)

    left, right = st.columns(2, gap="medium")
    with left:
        trend = cviews.trend(rows, region=iso3, years=YEARS)
        title = f"Put on market, e-waste generated, collected and in use, {name}"
        state.show_chart(
            cfig.trend_figure(trend, title=title),
            key="trend_chart",
            alt=f"Line chart: {title}, {YEARS[0]}-{YEARS[1]}",
            text=cfig.trend_text(trend, title=title, years=YEARS),
        )
    with right:
        cats = cviews.categories(b.eu6, region=iso3, year=year)
        title = f"E-waste by category, {name}, {year}"
        state.show_chart(
            cfig.categories_figure(cats, title=title),
            key="categories_chart",
            alt=f"Bar chart: {title}",
            text=cfig.categories_text(cats, title=title),
        )

    nodes, links = _sankey(ctx.store, iso3, year)
    title = f"Lifecycle of electrical and electronic equipment, {name}, {year} (t)"
    state.show_chart(
        cfig.sankey_figure(nodes, links, title=title),
        key="sankey_chart",
        alt=f"Sankey diagram: {title}",
        text=cfig.sankey_text(nodes, links, title=title),
    )  # type: ignore[arg-type]

    st.subheader("Minerals recovered and lost")
    if not ctx.elements:
        st.info("No element chosen in the sidebar: choose elements to see their fate.")
    else:
        mins = cviews.minerals(rows, region=iso3, year=year, elements=ctx.elements)
        left, right = st.columns(2, gap="medium")
        with left:
            title = f"Recovered and lost, {name}, {year} ({ctx.unit})"
            state.show_chart(
                balance_figure(mins, unit=ctx.unit, title=title),
                key="balance_chart",
                alt=f"Bar chart: {title}",
                text=balance_text(mins, unit=ctx.unit, title=title),
            )
        with right:
            routes = element_routes(
                b.region_elements(iso3), region=iso3, year=year, elements=ctx.elements
            )
            title = f"Where the elements end, {name}, {year}"
            state.show_chart(
                routes_figure(routes, title=title),
                key="routes_chart",
                alt=f"Stacked bar chart: {title}",
                text=f"{title}: share of each element by route and fate; "
                "the table below lists the tonnes.",
            )
        state.show_table(
            common.readable(mins, labels=LABELS), alt=f"Minerals recovered and lost, {name}, {year}"
        )

    with st.expander(f"Footprint of {name}'s electronics, {year}", expanded=False):
        fp = country_footprint(b.estimate.footprint, region=iso3, year=year)
        for col in ("All products", "ICT"):
            fp[col] = [quantity(v, u) for v, u in zip(fp[col], fp["Unit"], strict=True)]
        state.show_table(fp.drop(columns="Unit"), alt=f"Footprint, {name}, {year}")
        tr = b.trajectory
        if iso3 in set(tr["region"]):
            title = f"ICT emissions against ITU-T L.1470, {name}"
            state.show_chart(
                trajectory_figure(tr, region=iso3, title=title),
                key="trajectory_chart",
                alt=f"Bar chart: {title}",
                text=f"{title}: embodied, use-phase and operators' emissions by "
                "year against the -45 % path of 2020-2030.",
            )

    st.subheader("Where every number comes from")
    shown = rows[(rows["year"].between(*YEARS)).to_numpy()]
    shown = shown[
        shown["indicator"].astype(str).isin(list(cviews.HEADLINE)).to_numpy()
        | shown["element"].astype(str).isin(ctx.elements).to_numpy()
    ]
    src = cviews.sources(shown, model_sources=b.model_sources)
    state.show_table(src, alt=f"Status and source of the numbers of {name}")
    common.downloads(
        rows.reset_index(drop=True),
        name=f"{iso3}_indicators",
        key="dl_country",
        what=f"indicators of {name} ({iso3})",
        years=YEARS,
        elements=b.elements,
        sources=list(src["source"]),
    )
