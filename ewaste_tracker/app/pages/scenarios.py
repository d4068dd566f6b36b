"""Scenarios page: set the levers, recompute the estimate, baseline and scenario side by side."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.figures.panels import compare_text, scenario_series_figure
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.views import scenarios as sviews
from ewaste_tracker.app.views.core import LABELS

SERIES = ("pom_t", "generated_t", "collected_formal_t", "stock_t")


@st.cache_resource(
    show_spinner="Re-running the estimate for every country with the levers…", max_entries=2
)
def _run(store: tuple, choices: sviews.Choices) -> Any:
    """The scenario estimate (every region; footprint included)."""
    from ewaste_tracker.scenario import scenario

    est = scenario(state.get_bundle().estimate, sviews.levers_from_choices(choices))
    est.indicators, est.footprint  # noqa: B018 - computed once, shared
    return est


def _controls(year: int) -> sviews.Choices | None:
    with st.form("levers"):
        c1, c2, c3 = st.columns(3)
        with c1:
            collect = st.slider(
                "Formal collection target (% of e-waste generated; 0 = as today)",
                0,
                100,
                0,
                key="lever_collection",
            )
            lifetime = st.slider("Lifetime extension (%)", 0, 100, 0, step=5, key="lever_lifetime")
            in_use = st.checkbox(
                "Devices already in use live longer too", value=True, key="lever_in_use"
            )
        with c2:
            refurb = st.slider(
                "Refurbishment (% of formal collection; 0 = as today)",
                0,
                100,
                0,
                key="lever_refurbishment",
            )
            recovery = st.slider(
                "Recovery efficiency: % of the way to best practice",
                0,
                100,
                0,
                key="lever_recovery",
            )
            export_on = st.checkbox("Set the export share", value=False, key="lever_export_on")
            export = st.slider(
                "Export share (% of collection shipped abroad)", 0, 100, 0, key="lever_export"
            )
        with c3:
            start = st.number_input(
                "Levers act from", 2000, 2030, min(max(year, 2024), 2030), key="lever_from"
            )
            ict = st.checkbox("ICT equipment only", value=False, key="lever_ict")
            run = st.form_submit_button("Run the scenario", type="primary")
    if not run:
        return None
    return sviews.Choices(
        collection_pct=float(collect) or None,
        lifetime_extension_pct=float(lifetime),
        lifetime_in_use=bool(in_use),
        refurbishment_pct=float(refurb) or None,
        recovery_gain_pct=float(recovery) or None,
        export_pct=float(export) if export_on else None,
        from_year=int(start),
        ict_only=bool(ict),
    )


def _side(ctx: state.Context, scen: Any, region: str, choices: sviews.Choices) -> None:
    b = ctx.bundle
    name = b.names.name(region)
    year = max(ctx.year, choices.from_year)
    table = sviews.compare(
        b.region_rows(region),
        scen.indicators[
            (scen.indicators["region"] == region)  # type: ignore[attr-defined]
            .to_numpy()
        ],
        region=region,
        year=year,
        elements=ctx.elements,
        base_fp=b.estimate.footprint,
        scen_fp=scen.footprint,  # type: ignore[attr-defined]
    )
    st.subheader(f"{name}, {year}")
    title = f"Baseline and scenario, {name}, {year}"
    state.show_table(
        common.readable(table.drop(columns="indicator"), labels=LABELS, units={"change_pct": "%"}),
        alt=title,
    )
    st.caption(compare_text(table, title=title))
    common.downloads(
        table.assign(region=region, year=year),
        name=f"scenario_{region}_{year}",
        what=f"scenario against the baseline, {name}",
        years=[year],
        elements=ctx.elements,
        sources=sviews.levers_text(choices),
        key=f"dl_scenario_{region}",
    )


def render(ctx: state.Context) -> None:
    """The scenarios page."""
    st.title("Scenarios")
    st.caption(
        "Levers change the estimate's inputs; the whole world is run again (trade links "
        "the countries), holding the service of the baseline: longer lives and "
        "refurbished devices replace new ones instead of adding to the stock."
    )
    new = _controls(ctx.year)
    if new is not None:
        st.session_state["scenario_choices"] = new
    choices = st.session_state.get("scenario_choices")
    if choices is None:
        st.info("Set the levers and press “Run the scenario” (about 10-20 s).")
        return
    st.markdown("**Levers:** " + "; ".join(sviews.levers_text(choices)))
    scen = _run(ctx.store, choices)
    left, right = st.columns(2, gap="medium")
    with left:
        _side(ctx, scen, ctx.country, choices)
    with right:
        _side(ctx, scen, "WLD", choices)
    rows = scen.indicators[(scen.indicators["region"] == ctx.country).to_numpy()]  # type: ignore[attr-defined]
    series = sviews.compare_series(
        ctx.bundle.region_rows(ctx.country), rows, indicators=SERIES, years=(2000, 2030)
    )
    name = ctx.bundle.names.name(ctx.country)
    title = f"Baseline (dotted) and scenario (solid), {name}"
    state.show_chart(
        scenario_series_figure(series, title=title, from_year=choices.from_year),
        key="scenario_chart",
        alt=f"Line chart: {title}, 2000-2030",
        text=f"{title}: put on market, e-waste generated, formal collection and "
        "equipment in use in both cases, 2000-2030.",
    )
