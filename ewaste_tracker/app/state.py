"""What every page shares: the cached bundle, the shareable link, the sidebar, show helpers.

Caching (one server process, every session):

* the bundle (:func:`ewaste_tracker.app.bundle.load_bundle`) is a ``st.cache_resource``
  keyed on the store file's identity (path, modification time, size), so a submission
  stored by any session makes the next rerun of every session load the new estimate; the
  kept copy on disk makes a restart load it in about a second instead of computing it;
* per-year tables, per-region slices and the map pages are cached per (store, year,
  elements, unit, indicator) with ``st.cache_resource`` (read-only objects, never copied),
  so a switch recomputes only what the visible page shows.

The link ``?page=<name>&country=<ISO3>&year=<YYYY>`` is read when a session starts (and
whenever it changes) into the widgets' state, and written back after every run
(``st.query_params``), so the address bar can always be shared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import streamlit as st

from ewaste_tracker import settings
from ewaste_tracker.app.bundle import YEARS, Bundle, load_bundle
from ewaste_tracker.maps.escape import escape

logger = logging.getLogger(__name__)

PAGES = {
    "world": "World",
    "country": "Country profile",
    "minerals": "Minerals",
    "scenarios": "Scenarios",
    "regions": "Regions",
    "sites": "Collection sites",
    "data": "Data",
}
"""Page names (in the link) and their titles."""
DEFAULT = {"page": "world", "country": "KEN", "year": 2022}
"""What a link without parameters shows."""


@dataclass(frozen=True)
class Context:
    """The choices every page reads."""

    bundle: Bundle
    page: str
    country: str
    year: int
    elements: tuple[str, ...]
    unit: str
    store: tuple


def store_key() -> tuple:
    """The store and the state of its published submissions (file identity, or the
    database's published versions): a newly published submission changes it.

    Every missing store is the same (no submissions: the defaults alone).
    """
    from ewaste_tracker.estimate import store_identity

    target = settings.store_target()
    identity = store_identity(target)
    return ("", 0, 0) if identity is None else (str(target), *identity)


def _in_background(job: Callable[[], Any]) -> None:
    threading.Thread(target=job, name="ewaste-tracker-keep-estimate", daemon=True).start()


@st.cache_resource(show_spinner="Loading the estimate for every country…", max_entries=2)
def _bundle(store: tuple) -> Bundle:
    bundle, how = load_bundle(write=_in_background)
    logger.info("estimate %s for store %s", how, store[0])
    return bundle


def kept(name: str, parts: tuple[object, ...], build: Callable[[], Any], *, keep: int = 32) -> Any:
    """``build()`` kept on disk under a key made of ``parts`` (see
    :func:`ewaste_tracker.app.persist.load_or_build`); written in the background."""
    import hashlib

    from ewaste_tracker.app.persist import load_or_build

    key = hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()
    obj, how = load_or_build(build, key=key, name=name, keep=keep, write=_in_background)
    logger.info("%s %s", name, how)
    return obj


def get_bundle() -> Bundle:
    """The bundle of the store as it is now (shared by every session)."""
    return _bundle(store_key())


def _valid(bundle: Bundle, key: str, raw: str) -> Any:
    if key == "page":
        value = raw.strip().lower()
        return value if value in PAGES else None
    if key == "country":
        code = raw.strip().upper()
        if code in bundle.countries:
            return code
        hits = bundle.names.search(raw, bundle.countries, limit=1)
        return hits[0] if hits else None
    if key == "year":
        try:
            year = int(raw)
        except ValueError:
            return None
        return year if YEARS[0] <= year <= YEARS[1] else None
    return None


def read_link(bundle: Bundle) -> None:
    """Put the link's page, country and year into the widgets' state (valid values only).

    Done when the session starts and when the link changes under it (a pasted address);
    afterwards the widgets own the state and :func:`write_link` follows them.
    """
    pending = st.session_state.pop("_pending", None)
    if pending:
        for key, value in pending.items():
            st.session_state[key] = value
    params = {k: st.query_params.get(k) for k in DEFAULT}
    seen = st.session_state.get("_link")
    if seen == params:
        return
    for key, raw in params.items():
        value = _valid(bundle, key, raw) if raw is not None else None
        if value is not None:
            st.session_state[key] = value
        elif key not in st.session_state:
            st.session_state[key] = DEFAULT[key]
    st.session_state["_link"] = params


def request(key: str, value: Any) -> None:
    """Set a sidebar widget's value on the next run (e.g. the country a submission is for)."""
    st.session_state.setdefault("_pending", {})[key] = value


def write_link(page: str, country: str, year: int) -> None:
    """Write the current choices into the address bar (only what changed)."""
    want = {"page": page, "country": country, "year": str(int(year))}
    if {k: st.query_params.get(k) for k in want} != want:
        st.query_params.update(want)
    st.session_state["_link"] = want


def show_table(
    frame: pd.DataFrame, *, alt: str, height: int | Literal["auto"] = "auto", key: str | None = None
) -> None:
    """A read-only table with an accessible name."""
    st.dataframe(frame, hide_index=True, height=height, alt=alt, key=key)


def show_static_table(frame: pd.DataFrame, *, alt: str, key: str) -> None:
    """A small read-only table as a plain HTML ``<table>`` (its first column the row
    headers) under a caption that names it.

    Drawn with the page, unlike :func:`show_table`'s canvas grid, whose script and drawing
    cost every new session and every switch; for the short tables of a profile.
    """
    with st.container(key=key):
        st.caption(alt)
        st.table(frame.set_index(frame.columns[0]), border="horizontal")


def show_chart(fig: Any, *, alt: str, text: str, key: str) -> None:
    """A plotly chart with an accessible name and its text alternative under it."""
    st.plotly_chart(fig, key=key, alt=alt, config={"displaylogo": False})
    st.caption(text)


def show_svg(svg: str, *, alt: str, text: str, key: str) -> None:
    """An inline SVG chart (:mod:`ewaste_tracker.app.figures.svg`: its ``<title>`` and
    ``<desc>`` are its accessible name and text alternative) and its words under it.

    ``alt`` names the chart's container (``aria-label``) and ``key`` becomes its CSS class
    (``st-key-<key>``), so a test or a stylesheet can find it. Shown with ``st.markdown``
    (raw HTML allowed): ``st.html`` sanitises with DOMPurify's HTML profile, which removes
    SVG. The SVG is the server's own markup with every label escaped, and holds no script.
    """
    with st.container(key=key):
        st.markdown(
            f'<figure aria-label="{escape(alt)}" style="margin:0">{svg}</figure>',
            unsafe_allow_html=True,
        )
        st.caption(text)


def show_map(html: str, *, alt: str, text: str, height: int = 480) -> None:
    """A map page in a frame (scripts served locally), its accessible name and its words."""
    st.iframe(html, height=height, alt=alt)
    st.caption(text)


def download(label: str, data: Callable[[], bytes], file_name: str, mime: str, key: str) -> None:
    """A download button whose file is made only when clicked."""
    st.download_button(label, data=data, file_name=file_name, mime=mime, key=key, on_click="ignore")


MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "json": "application/json",
    "html": "text/html",
}
