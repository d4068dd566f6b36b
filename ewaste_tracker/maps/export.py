"""Files out of the geospatial layer: stand-alone offline map pages and GeoPackages.

Both writers are atomic: the content goes to a temporary file in the target folder, which then
replaces the target with ``os.replace``, so a reader never sees a half-written file and a
failure leaves the previous file intact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ewaste_tracker.files import atomic_path, write_text_atomic
from ewaste_tracker.maps.assets import assert_offline, copy_assets, localise_html
from ewaste_tracker.maps.errors import MapInputError

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

logger = logging.getLogger(__name__)

_LAYER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write a map as a stand-alone HTML page.

    With ``offline=True`` (default) the scripts and style sheets are copied from the local
    assets into ``lib/`` beside the page and referenced relatively, so the folder works with
    no internet (open the file, or serve the folder); the page is checked to load nothing
    from the internet. The page is written to a temporary file, then renamed.

    Parameters
    ----------
    m
        The map.
    path
        Target ``.html`` file; its folder is created when missing.
    offline
        Localise the page's scripts (default) or keep folium's CDN links.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ewaste_tracker.maps.errors.AssetsMissingError
        When the local copies are not installed.
    ewaste_tracker.maps.errors.OfflineAssetError
        When some script or style sheet has no local copy.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = m.get_root().render()
    if offline:
        page, used = localise_html(page, base_url="lib")
        assert_offline(page)
        copy_assets(used, path.parent / "lib")
    write_text_atomic(path, page)
    logger.debug("map written to %s", path)
    return path


def layers_to_geopackage(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write named layers into one GeoPackage, atomically.

    All layers go to a temporary file in the target folder, which then replaces ``path``
    (``os.replace``), so readers never see a half-written file and a failure leaves any
    previous file intact.

    Parameters
    ----------
    layers
        Layer name (letters, digits, underscore; not starting with a digit or ``gpkg_``)
        -> GeoDataFrame with a CRS.
    path
        Target ``.gpkg`` file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    MapInputError
        Bad layer name, a layer that is not a GeoDataFrame, or one without CRS.
    """
    path = Path(path)
    if not layers:
        raise MapInputError("no layers to write", path=path)
    for name, gdf in layers.items():
        if not _LAYER_NAME.match(name) or name.lower().startswith("gpkg_"):
            raise MapInputError(
                "layer names must be letters, digits and underscores, not starting with a digit "
                "or 'gpkg_'",
                path=path,
                value=name,
            )
        if not hasattr(gdf, "geometry") or getattr(gdf, "crs", None) is None:
            raise MapInputError("layer must be a GeoDataFrame with a CRS", path=f"{path}:{name}")
    with atomic_path(path, suffix=".gpkg") as tmp:
        tmp.unlink()
        for name, gdf in layers.items():
            geometry_type = None if len(gdf) else "Unknown"
            gdf.to_file(
                tmp, layer=name, driver="GPKG", engine="pyogrio", geometry_type=geometry_type
            )
    logger.debug("%d layer(s) written to %s", len(layers), path)
    return path
