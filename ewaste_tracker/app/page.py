"""The Streamlit app: seven pages behind one shareable link.

``?page=<name>&country=<ISO3>&year=<YYYY>`` opens any page (``world``, ``country``,
``minerals``, ``scenarios``, ``regions``, ``sites``, ``data``) on a country and year; the
sidebar moves between pages and the link follows every choice (:mod:`ewaste_tracker.app.state`).
Only the page shown is computed (:mod:`ewaste_tracker.app.pages`); the numbers come from the
one estimate (:func:`ewaste_tracker.estimate`, the store's accepted submissions in place),
built once per store state and kept on disk between restarts
(:mod:`ewaste_tracker.app.bundle`, :mod:`ewaste_tracker.app.persist`). Maps load Leaflet
from the package's vendored copies served at ``/app/static/vendor``, never from the internet.

Run with ``ewaste-tracker app`` (or ``make app``); ``app.py`` at the repository root is the
same page for ``streamlit run app.py``.
"""

from __future__ import annotations

import importlib
import logging
import time

import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.bundle import YEARS

logger = logging.getLogger(__name__)

TITLE = "E-waste tracker"


def sidebar(bundle: state.Bundle) -> state.Context:
    """Navigation and the choices every page shares; returns them."""
    names = bundle.names
    if "elements" not in st.session_state:
        st.session_state["elements"] = list(bundle.default_elements)
    with st.sidebar:
        st.header(TITLE)
        page = st.radio("Page", list(state.PAGES), format_func=state.PAGES.__getitem__, key="page")
        country = st.selectbox(
            "Country (type a name, a common name or the ISO3 code)",
            list(bundle.countries),
            format_func=names.label,
            key="country",
        )
        year = st.slider("Year", *YEARS, key="year")
        elements = st.multiselect(
            "Elements",
            list(bundle.elements),
            key="elements",
            help="Critical raw materials (EU 2023) and Au, Ag, Cu by "
            "default; the element figures sum the chosen ones.",
        )
        unit = st.radio("Minerals measured in", ["USD", "t"], horizontal=True, key="unit")
        st.caption(
            "Numbers: the ewaste-tracker estimate (UNU sales-lifespan model for every "
            "country, calibrated to the Global E-waste Monitor 2024) with the accepted "
            "national submissions in place. Each table says what is reported and what is "
            "estimated."
        )
    return state.Context(
        bundle, str(page), str(country), int(year), tuple(elements), str(unit), state.store_key()
    )


def _configure_logging() -> None:
    """The package's log lines on the server's stderr (once per process)."""
    from ewaste_tracker import settings

    root = logging.getLogger("ewaste_tracker")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(settings.LOG_LEVEL)


def main() -> None:
    """The app: link → state, sidebar, the chosen page, state → link."""
    t0 = time.perf_counter()
    _configure_logging()
    st.set_page_config(page_title="ewaste-tracker", layout="wide")
    bundle = state.get_bundle()
    state.read_link(bundle)
    ctx = sidebar(bundle)
    state.write_link(ctx.page, ctx.country, ctx.year)
    module = importlib.import_module(f"ewaste_tracker.app.pages.{ctx.page}")
    module.render(ctx)
    logger.info(
        "page %s (%s, %d) run in %.3f s", ctx.page, ctx.country, ctx.year, time.perf_counter() - t0
    )
