"""The Streamlit page: lost critical minerals, circularity gaps and a country's detail.

Layout and widgets only: the numbers come from :func:`ewaste_tracker.estimate` (the same
estimate as ``run``, ``map`` and ``template``: defaults with the store's published submissions
in place), the tables from :mod:`ewaste_tracker.app.views`, the figures from
:mod:`ewaste_tracker.app.figures`. The estimate is built once per server process and store
state (``st.cache_resource`` keyed on the store file's identity, so a new submission shows
without a restart) and shared read-only by every session; per-user choices are widget state.
Maps load Leaflet from the package's vendored copies served at ``/app/static/vendor``, never
from the internet.

Run with ``ewaste-tracker app`` (or ``make app``); ``app.py`` at the repository root is the
same page for ``streamlit run app.py``.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from ewaste_tracker import catalog, settings
from ewaste_tracker.app import figures, provenance, views

logger = logging.getLogger(__name__)

YEARS = (1990, 2030)
DEFAULT_YEAR = 2022
TITLE = "E-waste tracker: lost critical minerals and circularity gaps"


def store_key() -> tuple:
    """The store and its state (file identity, or the database's published submissions): a
    newly published submission changes it."""
    from ewaste_tracker.estimate import store_identity

    target = settings.store_target()
    return (str(target), *(store_identity(target) or ()))


def load_run() -> dict[str, Any]:
    """The estimate and what every page needs, for the store as it is now (shared)."""
    return _load_run(store_key())


@st.cache_resource(show_spinner="Running the estimate for every country…", max_entries=2)
def _load_run(store: tuple) -> dict[str, Any]:
    """Run the estimate once per store state and gather what every page needs (read-only)."""
    from ewaste_tracker.estimate import estimate
    from ewaste_tracker.scenario import ict_trajectory

    est = estimate(store=store[0])
    inputs, result = est.inputs, est.result
    countries = catalog.countries()
    names = dict(zip(countries["iso3"], countries["name"], strict=True))
    aggregates = ["WLD", *sorted(set((inputs.groups or {}).values()))]
    names["WLD"] = "World"
    outlines = figures.region_outlines(catalog.outlines())
    model_sources = {
        "lifetimes": _cite("lifetimes", catalog.lifetimes()),
        "transfer coefficients": _cite(
            "transfer_coefficients", catalog.default_transfer_coefficients()
        ),
        "composition": _cite("composition", catalog.composition()),
        "recovery": _cite("recovery", catalog.recovery()),
        "prices": _cite("prices", catalog.prices()),
    }
    logger.info("default run ready: %d regions", len(result.dims.regions))
    return {
        "estimate": est,
        "indicators": est.indicators,
        "result": result,
        "target": float(inputs.collection_target),
        "countries": list(result.dims.regions),
        "aggregates": aggregates,
        "names": names,
        "elements": list(result.dims.elements),
        "defaults": views.default_elements(result.dims.elements, catalog.crm()),
        "provenance": provenance.provenance_from_pom(inputs.pom),
        "sources": provenance.element_sources(result.dims.elements, catalog.prices()),
        "outlines": outlines,
        "model_sources": model_sources,
        "element_table": est.element_flows,
        "footprint": est.footprint,
        "trajectory": ict_trajectory(est),
    }


def _cite(name: str, table: pd.DataFrame) -> str:
    """File of a catalogue table and its first cited source (and how many there are)."""
    sources = table["source"].astype(str).drop_duplicates()
    more = f" (+{len(sources) - 1} more sources in the file)" if len(sources) > 1 else ""
    return f"data/{catalog.data_path(name).name}: {sources.iloc[0]}{more}"


def lifecycle_graph() -> Any:
    """The networkx lifecycle graph of the estimate (shared, read-only)."""
    return _lifecycle_graph(store_key())


@st.cache_resource(show_spinner="Building the lifecycle graph…", max_entries=2)
def _lifecycle_graph(store: tuple) -> Any:
    return _load_run(store)["estimate"].graph()


def year_table(year: int) -> pd.DataFrame:
    """Indicators of one year, one row per region."""
    return _year_table(store_key(), year)


@st.cache_data(show_spinner=False, max_entries=16)
def _year_table(store: tuple, year: int) -> pd.DataFrame:
    return views.year_table(_load_run(store)["indicators"], year)


def lost_minerals_tab(run: dict[str, Any], year: int, elements: list[str], unit: str) -> None:
    """Map, ranked tables and world / UN-region bars of elements lost and recovered."""
    wide = year_table(year)
    table = views.lost_minerals_table(
        wide,
        year=year,
        elements=elements,
        countries=run["countries"],
        names=run["names"],
        provenance=run["provenance"],
        sources=run["sources"],
    )
    by = "lost_usd" if unit == "USD" else "lost_t"
    ranked = views.ranked_countries(table, by=by)
    what = "Value" if unit == "USD" else "Tonnes"
    st.subheader(f"{what} of critical minerals lost in e-waste, {year}")
    st.caption(
        f"Elements: {', '.join(elements)}. Lost = not recovered on any route, in USD "
        "at 2022 prices or tonnes of element."
    )
    layer = figures.choropleth_layer(
        ranked, run["outlines"], column=by, unit=unit, indicator=f"lost ({unit})", year=year
    )
    st_map(layer, f"lost ({unit})", run["outlines"], "lost")
    st.markdown("**Countries ranked by loss** (sum over the chosen elements)")
    st.dataframe(views.display(ranked), hide_index=True, height=300)
    st.markdown("**By country and element**")
    st.dataframe(views.display(table), hide_index=True, height=300)
    place = st.selectbox(
        "World or UN region",
        run["aggregates"],
        format_func=lambda c: run["names"].get(c, c),
        key="bar_region",
    )
    balance = views.element_balance(wide, region=place, elements=elements)
    st.plotly_chart(
        figures.element_bar_figure(
            balance,
            unit=unit,
            title=f"Recovered vs lost, {run['names'].get(place, place)}, {year}",
        ),
        key="bar_chart",
    )
    st.dataframe(views.display(balance), hide_index=True)


def gaps_tab(run: dict[str, Any], year: int, target: float) -> None:
    """Collection against the target, recycling rate, MCI and kg/inh: aggregates, map, table."""
    table = views.circularity_table(
        year_table(year),
        year=year,
        target=target,
        countries=run["countries"],
        aggregates=run["aggregates"],
        names=run["names"],
        provenance=run["provenance"],
    )
    st.subheader(f"Collection against a {100 * target:.0f} % target, {year}")
    st.caption(
        "Target basis: average EEE put on market in the three preceding years (EU WEEE "
        "Directive 2012/19/EU, Art. 7(1)). Gap = target − collection rate; positive = shortfall."
    )
    agg = table[table["level"] != "country"]
    st.dataframe(views.display(agg), hide_index=True)
    ctry = table[table["level"] == "country"]
    layer = figures.choropleth_layer(
        ctry,
        run["outlines"],
        column="collection_rate_on_basis_pct",
        unit="%",
        indicator="collection rate (% of POM 3-yr avg)",
        year=year,
    )
    st_map(layer, "collection rate (%)", run["outlines"], "gaps")
    if ctry["mci"].isna().all():
        st.caption("MCI: not computed by the default run (no material inputs for it yet).")
    st.dataframe(views.display(ctry), hide_index=True, height=350)


def country_tab(run: dict[str, Any], year: int, region: str, elements: list[str]) -> None:
    """Series, lifecycle Sankey, element fates by route and provenance of one country."""
    from ewaste_tracker.flows.balance import graph_to_sankey

    name = run["names"].get(region, region)
    st.subheader(f"{name} ({region})")
    series = views.country_series(run["indicators"], region=region, years=YEARS)
    st.plotly_chart(
        figures.series_figure(series, title=f"Put on market, generated, in use, collected: {name}"),
        key="series_chart",
    )
    nodes, links = graph_to_sankey(lifecycle_graph(), region=region, year=year)
    st.plotly_chart(
        figures.sankey_figure(
            nodes, links, region=region, title=f"Lifecycle of EEE, {name}, {year} (t)"
        ),
        key="sankey_chart",
    )
    routes = views.element_routes(run["element_table"], region=region, year=year, elements=elements)
    st.plotly_chart(
        figures.routes_figure(routes, title=f"Where the elements end, {name}, {year}"),
        key="routes_chart",
    )
    st.dataframe(views.display(routes), hide_index=True)
    st.markdown("**Provenance**")
    prov = provenance.country_provenance(
        run["provenance"], region=region, years=YEARS, model_sources=run["model_sources"]
    )
    st.dataframe(views.display(prov), hide_index=True)
    st.caption(
        "Element values: "
        + " | ".join(f"{e}: {run['sources'].get(e, '')}" for e in elements[:3])
        + (" …" if len(elements) > 3 else "")
    )
    with st.expander(f"Footprint of {name}'s electronics, {year}", expanded=False):
        footprint_section(run, year, region, name)


def footprint_section(run: dict[str, Any], year: int, region: str, name: str) -> None:
    """GHG, energy, water and hazardous substances of a country, and its ICT trajectory."""
    st.dataframe(
        views.display(views.country_footprint(run["footprint"], region=region, year=year)),
        hide_index=True,
    )
    if region in set(run["trajectory"]["region"]):
        st.plotly_chart(
            figures.trajectory_figure(
                run["trajectory"], region=region,
                title=f"ICT emissions against ITU-T L.1470, {name}",
            ),
            key="trajectory_chart",
        )  # fmt: skip
    st.caption(
        "Life-cycle factors per UNU-KEY: data/footprint_factors.csv (sources and status on "
        "every row); grid intensity: data/grid_intensity.csv (Our World in Data / Ember)."
    )


def st_map(layer: Any, name: str, outlines: Any, key: str) -> None:
    """Show a choropleth (scripts served locally; no returned events, so no reruns)."""
    from streamlit_folium import st_folium

    from ewaste_tracker.maps.errors import AssetsMissingError

    try:
        m = figures.world_map(layer, name=name, basemap=outlines)
    except AssetsMissingError as exc:
        st.warning(f"Map not shown: {exc}")
        return
    st_folium(m, height=520, use_container_width=True, returned_objects=[], key=f"map_{key}")


def main() -> None:
    """Sidebar choices, then the three tabs."""
    st.set_page_config(page_title="ewaste-tracker", layout="wide")
    st.title(TITLE)
    run = load_run()
    with st.sidebar:
        st.header("Choices")
        year = st.slider("Year", *YEARS, value=DEFAULT_YEAR, key="year")
        elements = st.multiselect(
            "Elements", run["elements"], default=run["defaults"], key="elements"
        )
        unit = st.radio("Loss measured in", ["USD", "t"], horizontal=True, key="unit")
        target_pct = st.slider(
            "Collection target (% of POM, 3-yr average)",
            0,
            100,
            round(100 * run["target"]),
            key="target",
        )
        codes = sorted(run["countries"], key=lambda c: run["names"].get(c, c))
        region = st.selectbox(
            "Country",
            codes,
            index=codes.index("KEN") if "KEN" in codes else 0,
            format_func=lambda c: f"{run['names'].get(c, c)} ({c})",
            key="country",
        )
        st.caption("Default estimate: UNU sales–lifespan model for every country; see README.")
    if not elements:
        st.warning("Choose at least one element.")
        return
    lost, gaps, country = st.tabs(["Lost critical minerals", "Circularity gaps", "Country"])
    with lost:
        lost_minerals_tab(run, year, elements, unit)
    with gaps:
        gaps_tab(run, year, target_pct / 100.0)
    with country:
        country_tab(run, year, region, elements)
