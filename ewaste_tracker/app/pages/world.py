"""World page: an indicator map, the gap to a collection target as its own map, rankings."""

from __future__ import annotations

import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.figures.world import map_text, world_page
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.views.core import LABELS, ViewError
from ewaste_tracker.app.views.world import (
    WORLD_INDICATORS,
    classes_for,
    gap_classes,
    gap_values,
    ranking,
    world_values,
)


@st.cache_resource(show_spinner=False, max_entries=64)
def _indicator(
    store: tuple, year: int, key: str, elements: tuple[str, ...], unit: str
) -> tuple[object, str, str]:
    """Values, map page and map text of one indicator (cached per year, elements, unit)."""
    bundle = state.get_bundle()
    spec = WORLD_INDICATORS[key]
    status_name = (
        f"{spec.indicator}_{'usd' if unit == 'USD' else 't'}"
        if spec.per_element
        else (spec.indicator)
    )
    values = world_values(
        common.year_table(store, year),
        spec,
        countries=bundle.countries,
        elements=elements,
        unit=unit,
        status=common.statuses(store, year, status_name),
    )
    shown_unit = str(values["unit"].iloc[0]) if len(values) else spec.unit
    classes = classes_for(spec, values["value"].to_numpy(float), unit=shown_unit)
    title = spec.label + (f" ({', '.join(elements)})" if spec.per_element else "")
    names = bundle.names.names
    html = world_page(common.world_template(), values, classes, title=title, year=year, names=names)
    return values, html, map_text(values, classes, names=names, title=title, year=year)


@st.cache_resource(show_spinner=False, max_entries=64)
def _gap(store: tuple, year: int, target: float) -> tuple[object, str, str]:
    bundle = state.get_bundle()
    values = gap_values(
        common.year_table(store, year),
        target=target,
        countries=bundle.countries,
        status=common.statuses(store, year, "collection_rate_on_basis"),
    )
    classes = gap_classes()
    title = f"Gap to a {100 * target:.0f} % collection target"
    names = bundle.names.names
    html = world_page(common.world_template(), values, classes, title=title, year=year, names=names)
    return values, html, map_text(values, classes, names=names, title=title, year=year)


def render(ctx: state.Context) -> None:
    """The world page."""
    st.title(f"The world in {ctx.year}")
    left, right = st.columns(2, gap="medium")
    with left:
        key = st.selectbox(
            "Indicator",
            list(WORLD_INDICATORS),
            format_func=lambda k: WORLD_INDICATORS[k].label,
            key="world_indicator",
        )
        spec = WORLD_INDICATORS[key]
        values = None
        try:
            values, html, text = _indicator(ctx.store, ctx.year, key, ctx.elements, ctx.unit)
        except ViewError as exc:
            st.info(
                f"{exc}: the sidebar's element list is empty. The other indicators and "
                "the gap map still show."
            )
        if values is not None:
            state.show_map(html, alt=f"World map: {spec.label}, {ctx.year}", text=text)
    with right:
        pct = st.slider(
            "Collection target (% of the average put on market of the three "
            "preceding years, EU WEEE Directive Art. 7)",
            0,
            100,
            key="target",
            value=round(100 * ctx.bundle.target),
        )
        gaps, gap_html, gap_text = _gap(ctx.store, ctx.year, pct / 100.0)
        state.show_map(
            gap_html,
            alt=f"World map: gap to the {pct} % collection target, {ctx.year}",
            text=gap_text,
        )
    names = ctx.bundle.names.names
    left, right = st.columns(2, gap="medium")
    with left:
        if values is not None:
            st.subheader("Ranking: " + spec.label)
            ranked = ranking(values, names=names, descending=spec.better != "lower")  # type: ignore[arg-type]
            state.show_table(
                common.readable(ranked, labels=LABELS),
                height=350,
                alt=f"Countries ranked by {spec.label}, {ctx.year}",
            )
            common.downloads(
                ranked,
                name=f"world_{key}_{ctx.year}",
                what=spec.label,
                years=[ctx.year],
                elements=ctx.elements if spec.per_element else (),
                units={"value": str(values["unit"].iloc[0])},  # type: ignore[index]
                sources=list(ranked["source"].unique()[:5]),
                key="dl_world",
            )
    with right:
        st.subheader("Ranking: largest shortfall first")
        gap_ranked = ranking(gaps, names=names, descending=True)  # type: ignore[arg-type]
        state.show_table(
            common.readable(gap_ranked, labels=LABELS),
            height=350,
            alt=f"Countries by gap to the {pct} % target, {ctx.year}",
        )
        common.downloads(
            gap_ranked,
            name=f"world_gap_{pct}pct_{ctx.year}",
            what=f"gap to a {pct} % collection target",
            years=[ctx.year],
            units={"value": "percentage points", "gap_t": "t"},
            sources=list(gap_ranked["source"].unique()[:5]),
            key="dl_gap",
        )
