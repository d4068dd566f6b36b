"""Collection-sites page: a road network, today's coverage, optimised sites, tonnes per site."""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

import geopandas as gpd
import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.figures.core import folium_page
from ewaste_tracker.app.format import markdown_text, quantity
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.uploads import KINDS, save_upload
from ewaste_tracker.app.views import sites as sviews
from ewaste_tracker.app.views.core import LABELS
from ewaste_tracker.app.views.data import errors_table
from ewaste_tracker.errors import InputError

MODELS = {
    "pmedian": "p-median: least tonne-minutes of travel",
    "mclp": "MCLP: most tonnes within the time standard",
}


@st.cache_resource(show_spinner="Reading the road network…", max_entries=4)
def _network(digest: str, file_name: str, _data: bytes | None) -> sviews.Network | InputError:
    """The demo network (``_data`` None) or an uploaded extract (cached by content)."""
    from ewaste_tracker import __version__
    from ewaste_tracker.app.persist import code_fingerprint
    from ewaste_tracker.maps.network import NetworkError

    parts = (__version__, code_fingerprint(), digest)
    if _data is None:
        return state.kept(
            "network",
            parts,
            lambda: sviews.load_network(sviews.demo_path(), label=sviews.DEMO["label"]),
            keep=8,
        )
    try:
        path = save_upload("network", file_name, _data)
    except InputError as exc:
        return exc
    try:
        return state.kept(
            "network",
            parts,
            lambda: sviews.load_network(path, label=f"uploaded extract {file_name}"),
            keep=8,
        )
    except (NetworkError, ValueError, OSError) as exc:
        return InputError(f"the extract could not be read as a road network: {exc}", path=file_name)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@st.cache_resource(show_spinner="Planning the sites…", max_entries=8)
def _plan(
    store: tuple,
    digest: str,
    iso3: str,
    year: int,
    model: str,
    p: int,
    minutes: float,
    _network: sviews.Network,
) -> tuple[Any, dict, str] | InputError:
    b = state.get_bundle()
    try:
        result, origin = sviews.plan(
            b.estimate, _network, iso3=iso3, year=year, model=model, p=p, minutes=minutes
        )
    except (InputError, ValueError) as exc:
        return exc if isinstance(exc, InputError) else InputError(str(exc))
    html = folium_page(result.to_map(), title=f"Collection sites, {_network.label}")
    return result, origin, html


def render(ctx: state.Context) -> None:
    """The collection-sites page."""
    st.title("Collection sites")
    spec = KINDS["network"]
    source = st.radio(
        "Road network",
        ["demo", "upload"],
        horizontal=True,
        key="site_source",
        format_func={"demo": sviews.DEMO["label"], "upload": "my OSM extract"}.__getitem__,
    )
    iso3 = ctx.country
    if source == "demo":
        net = _network("demo", "", None)
        iso3 = str(sviews.DEMO["country"])
        st.caption(
            f"The demo lies in Finland: its demand is {ctx.bundle.names.name(iso3)}'s "
            f"estimated e-waste. Map data {sviews.DEMO['licence']}."
        )
    else:
        up = st.file_uploader(
            f"OSM extract (.osm, .osm.pbf or .osm.bz2, at most {spec.max_bytes // 2**20} MB) "
            f"inside {ctx.bundle.names.name(iso3)} (the country chosen in the sidebar)",
            type=["osm", "pbf", "bz2"],
            key="network_upload",
            max_upload_size=spec.max_bytes // 2**20,
        )
        if up is None:
            st.info("Upload an extract, e.g. from a national OSM mirror, cut to a city.")
            return
        data = up.getvalue()
        net = _network(hashlib.sha256(data).hexdigest(), up.name, data)
    if isinstance(net, InputError):
        st.error("The road network was refused.")
        state.show_table(errors_table(net), alt="Why the road network was refused")
        return
    existing = int(net.candidates["fixed"].sum())
    st.caption(
        f"{markdown_text(net.label)}: {net.nodes:,} road nodes, {net.edges:,} road "
        f"segments; {existing} recycling points today, "
        f"{len(net.candidates) - existing} candidate sites (shops, repairers and a "
        "500 m lattice of road nodes)."
    )
    with st.form("site_plan"):
        c1, c2, c3 = st.columns(3)
        model = c1.selectbox(
            "Model", list(MODELS), format_func=MODELS.__getitem__, key="site_model"
        )
        p = c2.number_input(
            "Sites open (today's included)",
            min_value=max(existing, 1),
            max_value=50,
            value=max(existing, 1) + 3,
            key="site_p",
        )
        minutes = c3.number_input(
            "Time standard (minutes by road)", 1.0, 60.0, 3.0, 0.5, key="site_minutes"
        )
        run = st.form_submit_button("Plan the sites", type="primary")
    if run:
        st.session_state["site_choice"] = (source, model, int(p), float(minutes))
    choice = st.session_state.get("site_choice")
    if choice is None or choice[0] != source:
        st.info("Choose the model and press “Plan the sites”.")
        return
    _, model, p, minutes = choice
    digest = "demo" if source == "demo" else hashlib.sha256(data).hexdigest()
    got = _plan(ctx.store, digest, iso3, ctx.year, model, p, minutes, net)
    if isinstance(got, InputError):
        st.error("The plan could not be made.")
        state.show_table(errors_table(got), alt="Why the site plan failed")
        return
    result, origin, html = got
    name = ctx.bundle.names.name(iso3)
    st.caption(
        f"Demand: {quantity(origin['demand_t'], 't')} per year within the network's "
        f"reach, of {quantity(origin['country_generated_t'], 't')} generated in {name} "
        f"in {ctx.year} ({origin['status']}); {origin['demand_points']} demand points."
    )
    left, right = st.columns([3, 2], gap="medium")
    with left:
        state.show_map(
            html,
            alt=f"Map: collection sites planned by {model}, {net.label}",
            text=f"{len(result.chosen)} sites chosen; circles grow with the tonnes "
            "each receives; demand points are coloured by whether they are "
            "served. The tables list every site.",
            height=520,
        )
    with right:
        cov = sviews.coverage_table(result, minutes=minutes)
        state.show_table(
            common.readable(cov, labels=LABELS),
            alt=f"Demand within {minutes:g} minutes: today and the plan",
        )
        st.caption(
            f"Solved to {result.status} with HiGHS in {result.solve_seconds:.1f} s "
            f"(gap {result.gap:.2%})."
        )
        sites = sviews.sites_table(result, net.candidates, elements=ctx.elements)
        state.show_table(
            common.readable(sites.drop(columns=["lon", "lat"]), labels={**LABELS, "name": "Name"}),
            alt="Tonnes per site",
            height=320,
        )
    table = sites.assign(year=ctx.year, model=model, country=iso3)
    geo = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326"
    )
    common.downloads(
        table,
        name=f"sites_{model}_{ctx.year}",
        what=f"collection sites ({MODELS[model]}), {net.label}",
        years=[ctx.year],
        elements=ctx.elements,
        units={"tonnes_t": "t/yr", "<element>_g": "g/yr"},
        sources=[origin["source"]],
        key="dl_sites",
        geo=geo,
        with_outlines=False,
    )
