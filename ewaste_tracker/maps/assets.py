"""Local copies of the map scripts, so that maps draw with no internet.

folium (and branca, and streamlit-folium) write ``<script src>`` and ``<link href>`` tags that
point at public CDNs: Leaflet, jQuery, Bootstrap, Leaflet.awesome-markers, Font Awesome,
Leaflet.markercluster and d3. With no internet the ``leaflet.js`` request fails and the page
stays blank. ``scripts/fetch_map_assets.sh`` copies those packages from the npm registry into
``static/vendor/<name>@<version>/`` (same folder layout as the npm package); this module

* finds that folder (:func:`assets_dir`),
* rewrites the CDN references of a rendered page to local ones (:func:`localise_html`), either
  relative paths beside a saved HTML file (the files are copied with :func:`copy_assets`) or
  ``/app/static/vendor/...`` URLs that Streamlit serves when
  ``server.enableStaticServing = true``,
* points a folium map's own ``default_js`` / ``default_css`` at the local copies before
  rendering (:func:`use_local_assets`; streamlit-folium reads those lists),
* finds any remaining remote reference (:func:`remote_references`, :func:`assert_offline`).

Folium's default Bootstrap, Font Awesome and Leaflet.awesome-markers are dropped from every
page: no map of this package uses icons or Bootstrap widgets. The folder is
``$EWASTE_TRACKER_ASSETS`` when set, else the shipped one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ewaste_tracker.maps.errors import AssetsMissingError, OfflineAssetError

if TYPE_CHECKING:
    import folium

logger = logging.getLogger(__name__)

ASSETS_ENV = "EWASTE_TRACKER_ASSETS"
STREAMLIT_BASE_URL = "/app/static/vendor"
VENDOR = Path(__file__).resolve().parent / "vendor"
"""The shipped copies (package data)."""
_FETCH_HINT = "reinstall ewaste-tracker, or run scripts/vendor_map_assets.sh, or set $" + ASSETS_ENV

# CDN addresses folium 0.20 / branca 0.8 / streamlit-folium use that are not of the form
# <cdn>/npm/<package>@<version>/<path>, mapped to files inside static/vendor.
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"
_KNOWN: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/dist/jquery.min.js",
    _CDNJS + "leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster@1.1.0/dist/leaflet.markercluster.js"
    ),
    _CDNJS + "leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster@1.1.0/dist/MarkerCluster.css"
    ),
    _CDNJS + "leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster@1.1.0/dist/MarkerCluster.Default.css"
    ),
}
# Scripts and style sheets folium adds by default that no map of this package uses
# (Bootstrap, Font Awesome, awesome-markers icons, glyphicons, icon rotation): dropped.
_DROPPABLE = (
    "bootstrap.bundle.min.js",
    "bootstrap.min.css",
    "bootstrap-glyphicons.css",
    "fontawesome-free@6.2.0/css/all.min.css",
    "leaflet.awesome-markers.js",
    "leaflet.awesome-markers.css",
    "leaflet.awesome.rotate.min.css",
)
_NPM_CDN = re.compile(r"^https?://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/+(.+)$")
_SCRIPT_SRC = re.compile(r"(<script\b[^>]*?\bsrc=)([\"'])(.*?)\2([^>]*>\s*</script>)", re.I | re.S)
_LINK_HREF = re.compile(r"(<link\b[^>]*?\bhref=)([\"'])(.*?)\2([^>]*>)", re.I | re.S)
_CSS_REMOTE = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])(https?:)?//[^\s\"')]+", re.I)


def assets_dir(*, required: bool = True) -> Path | None:
    """Return the folder holding the local copies of the map scripts.

    Parameters
    ----------
    required
        Raise when no folder is found (default); otherwise return ``None``.

    Returns
    -------
    pathlib.Path or None
        ``$EWASTE_TRACKER_ASSETS`` when set, else the shipped :data:`VENDOR`, if it holds a
        Leaflet copy.

    Raises
    ------
    AssetsMissingError
        When ``required`` and no folder holds ``leaflet@1.9.3/dist/leaflet.js``.
    """
    env = os.environ.get(ASSETS_ENV)
    candidates = [Path(env)] if env else [VENDOR]
    for folder in candidates:
        if (folder / "leaflet@1.9.3" / "dist" / "leaflet.js").is_file():
            return folder
    if required:
        tried = ", ".join(str(c) for c in candidates)
        raise AssetsMissingError(f"no local Leaflet copy in {tried}: {_FETCH_HINT}")
    return None


def local_path(url: str, *, folder: Path | None = None) -> str | None:
    """Map a CDN address to the matching file inside the assets folder.

    Parameters
    ----------
    url
        An address found in a ``<script src>`` or ``<link href>``.
    folder
        Assets folder; defaults to :func:`assets_dir`.

    Returns
    -------
    str or None
        Path relative to the assets folder (e.g. ``"leaflet@1.9.3/dist/leaflet.js"``), or
        ``None`` when the address is not a known CDN file or the copy is missing.
    """
    folder = assets_dir() if folder is None else folder
    rel = _KNOWN.get(url)
    if rel is None:
        match = _NPM_CDN.match(url)
        if match is None:
            return None
        rel = match.group(1).split("?")[0].split("#")[0]
    assert folder is not None
    return rel if (folder / rel).is_file() else None


def _droppable(url: str) -> bool:
    return url.startswith(("http://", "https://", "//")) and url.endswith(_DROPPABLE)


def _is_remote(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://", "//"))


def localise_html(html: str, *, base_url: str, folder: Path | None = None) -> tuple[str, list[str]]:
    """Rewrite the CDN script and style-sheet references of a page to local copies.

    Parameters
    ----------
    html
        The rendered page.
    base_url
        Prefix of the local addresses: ``"lib"`` for files copied beside a saved page,
        :data:`STREAMLIT_BASE_URL` for Streamlit's static serving.
    folder
        Assets folder; defaults to :func:`assets_dir`.

    Returns
    -------
    html : str
        The page with local references; unused folium defaults (see ``_DROPPABLE``) removed.
    used : list of str
        The asset files referenced, relative to the assets folder (for :func:`copy_assets`).
    """
    folder = assets_dir() if folder is None else folder
    base = base_url.rstrip("/")
    used: list[str] = []

    def _swap(match: re.Match[str]) -> str:
        url = match.group(3)
        if not _is_remote(url):
            return match.group(0)
        rel = local_path(url, folder=folder)
        if rel is None:
            if _droppable(url):
                logger.debug("dropping unused remote style sheet %s", url)
                return ""
            logger.warning("no local copy of %s; the map may not work offline", url)
            return match.group(0)
        used.append(rel)
        return f"{match.group(1)}{match.group(2)}{base}/{rel}{match.group(2)}{match.group(4)}"

    html = _SCRIPT_SRC.sub(_swap, html)
    html = _LINK_HREF.sub(_swap, html)
    return html, list(dict.fromkeys(used))


def use_local_assets(
    m: folium.Map, *, base_url: str = STREAMLIT_BASE_URL, folder: Path | None = None
) -> folium.Map:
    """Point the script and style-sheet lists of every element of a map at local copies.

    Sets instance attributes (``default_js`` / ``default_css``) on the map and on each child
    that loads resources, so the class-level lists folium shares between Streamlit sessions
    are never modified. streamlit-folium reads these lists to load the scripts; a saved page is
    better served by :func:`localise_html`, which also catches links added at render time.

    Parameters
    ----------
    m
        The map (changed in place).
    base_url
        Prefix of the local addresses (default: Streamlit static serving).
    folder
        Assets folder; defaults to :func:`assets_dir`.

    Returns
    -------
    folium.Map
        The same map, for chaining.
    """
    from folium.elements import JSCSSMixin

    folder = assets_dir() if folder is None else folder
    base = base_url.rstrip("/")

    def _relink(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for name, url in pairs:
            rel = local_path(url, folder=folder) if _is_remote(url) else None
            if rel is not None:
                out.append((name, f"{base}/{rel}"))
            elif not _droppable(url):
                out.append((name, url))
        return out

    stack: list[object] = [m]
    while stack:
        elem = stack.pop()
        if isinstance(elem, JSCSSMixin):
            elem.default_js = _relink(elem.default_js)
            elem.default_css = _relink(elem.default_css)
        stack.extend(getattr(elem, "_children", {}).values())
    return m


def copy_assets(used: Iterable[str], dest: str | Path, *, folder: Path | None = None) -> Path:
    """Copy the packages holding the given asset files into ``dest``.

    Whole package folders are copied (they are small) so that style sheets find the images
    and fonts they reference relatively (Leaflet's ``images/``, Font Awesome's
    ``webfonts/``).

    Parameters
    ----------
    used
        Asset files relative to the assets folder, as returned by :func:`localise_html`.
    dest
        Target folder (e.g. ``DIR/lib`` beside ``DIR/map.html``); created when missing.
    folder
        Assets folder; defaults to :func:`assets_dir`.

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    folder = assets_dir() if folder is None else folder
    assert folder is not None
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    packages = set()
    for rel in used:
        parts = Path(rel).parts
        packages.add(Path(*parts[:2]) if parts[0].startswith("@") else Path(parts[0]))
    for package in sorted(packages):
        shutil.copytree(folder / package, dest / package, dirs_exist_ok=True)
    return dest


def remote_references(html: str) -> list[str]:
    """List the remote addresses a page would load scripts, styles or fonts from.

    Hyperlinks (``<a href>``) and text are not counted: only ``<script src>``,
    ``<link href>`` and CSS ``url(...)`` / ``@import``.

    Parameters
    ----------
    html
        The page.

    Returns
    -------
    list of str
        Remote addresses, in page order, each once.
    """
    found = [m.group(3) for m in _SCRIPT_SRC.finditer(html) if _is_remote(m.group(3))]
    found += [m.group(3) for m in _LINK_HREF.finditer(html) if _is_remote(m.group(3))]
    found += [m.group(0) for m in _CSS_REMOTE.finditer(html) if "//" in m.group(0)]
    return list(dict.fromkeys(found))


def assert_offline(html: str) -> None:
    """Raise when a page still loads anything from the internet.

    Raises
    ------
    OfflineAssetError
        Listing the remote addresses.
    """
    urls = remote_references(html)
    if urls:
        raise OfflineAssetError(urls)
