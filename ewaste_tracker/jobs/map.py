"""A country's flows on the map: the ``map`` command (HTML page, GeoPackage, GeoTIFF).

:func:`country_map_to_folder` puts every flow the engine computes for one country in a place,
for one year of the estimate (:func:`ewaste_tracker.estimate`, with the store's accepted
submissions in place; the world is run because trade partners matter):

=========================  ==================================================================
layer (GeoPackage name)    what, and where the number comes from
=========================  ==================================================================
``country``                the country's outline (catalogue, Natural Earth)
``generated_kg_per_inh``   e-waste generated per inhabitant of the country and its
                           neighbours (model: sales-lifespan method on default put on market)
``collection_rate``        formal collection / e-waste generated (model transfer coefficients)
``generated_cells``        e-waste generated of the country spread over a population grid
                           (dasymetric downscaling, :func:`ewaste_tracker.maps.grid.downscale`), per
                           EU-6 category; also ``generated_t.tif`` (band 1 total, then EU-6)
``subnational``            (``--boundaries``) the grid summed into the user's polygons,
                           rescaled so the polygons hold the national total exactly
``facilities``             (``--facilities``) sites with the tonnes of their straight-line
``catchments``             catchment (nearest site), capacity use and unserved tonnes
``trade``                  exports and imports between modelled countries (tonnes, year)
``footprint``              life-cycle GHG per inhabitant (embodied + use phase + refrigerants
                           released) of the country and its neighbours
                           (:attr:`ewaste_tracker.estimate.Estimate.footprint`)
``replacement_mining``     the elements the country loses (not recovered at home) allotted to
                           the producing countries by their share of world mine production
``mines``                  (``--mines``) mines producing those elements
=========================  ==================================================================

Everything is staged in a temporary folder and moved into ``out`` only when all succeeded
(:class:`ewaste_tracker.files.AtomicDir`): ``map.html`` (+ ``lib/``, works offline),
``layers.gpkg``, ``generated_t.tif`` and ``summary.json`` (what was mapped, totals, sources).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import numpy as np
import shapely

from ewaste_tracker.errors import InputError
from ewaste_tracker.jobs.map_inputs import (
    read_boundaries,
    read_facilities,
    read_mines,
    read_population,
)
from ewaste_tracker.jobs.map_layers import (
    EU6_BANDS,
    FOOTPRINT_PARTS,
    ContextLayers,
    context_layers,
    facility_layers,
    footprint_layer,
    generated_grid,
    mine_layer,
    mining_layers,
    subnational_layer,
    trade_layer,
)

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

logger = logging.getLogger(__name__)

__all__ = ["country_map_to_folder"]

T = TypeVar("T")


def _checked_file(path: str | Path | None, option: str) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path, column=option, expected="an existing file")
    return path


def _wrap(option: str, path: Path, load: Callable[[], T]) -> T:
    """Call ``load``; re-raise the geospatial layer's ``ValueError`` as :class:`InputError`."""
    try:
        return load()
    except InputError:
        raise
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot use this file: {exc}", path=path, column=option) from exc


def _country(country: str) -> tuple[str, str]:
    from ewaste_tracker import catalog

    code = str(country).strip().upper()
    table = catalog.countries()
    names = dict(zip(table["iso3"], table["name"], strict=True))
    if code not in names:
        raise InputError(
            "unknown country",
            column="--country",
            value=country,
            expected="an ISO 3166-1 alpha-3 code of the catalogue, e.g. KEN",
        )
    return code, str(names[code])


def country_map_to_folder(
    country: str,
    out: str | Path,
    *,
    year: int = 2022,
    facilities: str | Path | None = None,
    boundaries: str | Path | None = None,
    mines: str | Path | None = None,
    population: str | Path | None = None,
    max_distance_km: float | None = None,
    store: str | Path | None = None,
    est: Estimate | None = None,
) -> Path:
    """Write a country's map, GeoPackage, GeoTIFF and summary into ``out`` (the ``map`` command).

    Parameters
    ----------
    country
        ISO3 code of the catalogue (case-insensitive).
    out
        Output folder (created; files are moved in only when everything succeeded).
    year
        Year of the default run to map.
    facilities
        Collection sites: GeoPackage / GeoJSON / Shapefile, CSV with ``lon,lat`` (optional
        ``facility_id``, ``name``, ``type``, ``capacity_t``), or an OpenStreetMap extract
        (``.osm``, ``.osm.pbf``, ``.osm.bz2``). Only sites inside the country are used.
    boundaries
        Sub-national polygons (any CRS) with a code column (``region``, ``code``, ``iso3``...).
    mines
        Mine points (``.xlsx`` sheet ``general`` as in the fineprint compilation, or CSV with
        ``longitude``, ``latitude``, ``mine_fac``, ``commodities_products``).
    population
        A population raster (WorldPop, GHSL, GPW GeoTIFF; any resolution and CRS) to spread
        e-waste over instead of the default grid.
    max_distance_km
        Distance beyond which generated e-waste counts as unserved by any site (none).
    store
        Tracker store whose accepted submissions the estimate includes.
    est
        An estimate already computed (default: :func:`ewaste_tracker.estimate` with ``store``).

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    InputError
        Unknown country, year outside the run, or an unusable file (naming the option and
        the file); nothing is written then.
    """
    from ewaste_tracker.files import AtomicDir, check_output_folder
    from ewaste_tracker.maps.export import layers_to_geopackage, save_map
    from ewaste_tracker.maps.raster_io import grid_to_geotiff
    from ewaste_tracker.maps.render import GridLayer, build_map

    check_output_folder(out)
    iso3, name = _country(country)
    paths = {
        "--facilities": _checked_file(facilities, "--facilities"),
        "--boundaries": _checked_file(boundaries, "--boundaries"),
        "--mines": _checked_file(mines, "--mines"),
        "--population": _checked_file(population, "--population"),
    }
    if max_distance_km is not None and not max_distance_km > 0:
        raise InputError("must be positive", column="max_distance_km", value=max_distance_km)
    bpath, fpath, mpath = paths["--boundaries"], paths["--facilities"], paths["--mines"]
    regions = _wrap("--boundaries", bpath, lambda: read_boundaries(bpath)) if bpath else None
    sites = _wrap("--facilities", fpath, lambda: read_facilities(fpath)) if fpath else None
    mine_points = _wrap("--mines", mpath, lambda: read_mines(mpath)) if mpath else None
    ppath = paths["--population"]
    people = _wrap("--population", ppath, lambda: read_population(ppath)) if ppath else None

    if est is None:
        from ewaste_tracker.estimate import estimate

        est = estimate(store=store)
    inputs, run = est.inputs, est.result
    years = run.dims.years
    if not int(years[0]) <= int(year) <= int(years[-1]):
        raise InputError(
            "year outside the model run",
            column="--year",
            value=year,
            expected=f"a year from {int(years[0])} to {int(years[-1])}",
        )
    if iso3 not in run.dims.regions:
        raise InputError(
            "country has no data in the default run",
            column="--country",
            value=iso3,
            expected="a modelled country",
        )
    year = int(year)
    ctx: ContextLayers = context_layers(est.indicators, iso3, year)
    if (
        regions is not None
        and not shapely.intersects(
            regions.geometry.to_numpy(), ctx.outline.geometry.union_all()
        ).any()
    ):
        raise InputError(f"no polygon overlaps {iso3}", path=bpath, column="--boundaries")
    if ppath is None:
        grid = generated_grid(run, iso3, year, ctx.outline)
    else:  # a user raster that does not cover the country is the user's to fix
        grid = _wrap(
            "--population", ppath,
            lambda: generated_grid(run, iso3, year, ctx.outline, population=people),
        )  # fmt: skip
    summary: dict[str, Any] = {
        "country": iso3,
        "name": name,
        "year": year,
        "model": {
            "run": "ewaste-tracker estimate (defaults with accepted submissions)",
            "years": [int(years[0]), int(years[-1])],
            "regions": len(run.dims.regions),
            "inputs": {
                k: Path(v).name if Path(v).is_file() else v for k, v in inputs.paths.items()
            },
        },
        "indicators": ctx.summary,
        "grid": grid.summary,
    }
    gpkg: dict[str, gpd.GeoDataFrame] = {"country": ctx.outline, **ctx.layers}
    shown: dict[str, gpd.GeoDataFrame] = {
        "e-waste generated per inhabitant": ctx.layers["generated_kg_per_inh"],
        "collection rate": ctx.layers["collection_rate"],
    }
    gpkg["generated_cells"] = grid.cells

    if regions is not None and bpath is not None:
        sub, sub_summary = _wrap(
            "--boundaries",
            bpath,
            lambda: subnational_layer(grid, regions, ctx.outline, year, source=bpath),
        )
        gpkg["subnational"] = sub
        shown[f"e-waste generated by {bpath.stem}"] = sub
        summary["subnational"] = sub_summary
    if sites is not None and fpath is not None:
        fac, catch, fac_summary = _wrap(
            "--facilities",
            fpath,
            lambda: facility_layers(
                grid, sites, ctx.outline, year, source=fpath, max_distance_km=max_distance_km
            ),
        )
        gpkg["catchments"], gpkg["facilities"] = catch, fac
        shown["catchments (nearest site)"] = catch
        summary["facilities"] = fac_summary

    trade, trade_summary = trade_layer(run, iso3, year, ctx.world)
    gpkg["trade"] = trade
    shown["trade (t)"] = trade
    summary["trade"] = trade_summary

    foot = footprint_layer(est.footprint, est.indicators, ctx.layers["generated_kg_per_inh"], year)
    gpkg["footprint"] = foot
    shown["life-cycle GHG per inhabitant (t CO2e)"] = foot
    own = foot[foot["region"] == iso3]
    summary["footprint"] = {
        "t_co2e_per_inh": float(own["value"].iloc[0]) if len(own) else float("nan"),
        **{c: float(own[c].iloc[0]) if len(own) else float("nan") for c in FOOTPRINT_PARTS},
        "source": str(foot["source"].iloc[0]) if len(foot) else "",
    }

    mining = mining_layers(run, iso3, year, ctx.world)
    gpkg["replacement_mining"] = mining.detail
    shown["replacement mining: value (USD)"] = mining.value
    for element, layer in mining.top.items():
        shown[f"replacement mining: {element} (t)"] = layer
    summary["replacement_mining"] = mining.summary
    if mine_points is not None and mpath is not None:
        mine_gdf, mine_summary = _wrap(
            "--mines", mpath, lambda: mine_layer(mine_points, mining.elements, source=mpath)
        )
        gpkg["mines"] = mine_gdf
        shown["mines of the lost elements"] = mine_gdf
        summary["mines"] = mine_summary
    if "facilities" in gpkg:  # drawn last, above the polygons
        shown["collection sites"] = gpkg["facilities"]
    shown["country"] = ctx.outline

    summary["layers"] = list(gpkg)
    summary["files"] = ["map.html", "lib/", "layers.gpkg", "generated_t.tif", "summary.json"]
    raster = grid.raster
    layer = GridLayer(
        values=raster.data.sum(axis=0),
        transform=raster.transform,
        crs=raster.crs,
        name=f"e-waste generated {year}, per cell",
        unit="t",
        source=grid.source,
    )
    # Open on the country and its neighbours with the main layers on (generated per cell and
    # per inhabitant, sites, trade); the rest wait in the layer control, legends with them.
    main = {"e-waste generated per inhabitant", "trade (t)", "collection sites", "country"}
    hidden = [key for key in shown if key not in main]
    near = ctx.layers["generated_kg_per_inh"]
    fig = build_map(
        shown, basemap=ctx.world, grid=layer, hidden=hidden,
        bounds=near.to_crs(4326).total_bounds,
    )  # fmt: skip
    with AtomicDir(out) as stage:
        total = raster.data.sum(axis=0)
        grid_to_geotiff(
            np.concatenate([total[None], raster.data]),
            raster.transform,
            raster.crs,
            stage / "generated_t.tif",
            band_names=("total", *EU6_BANDS),
            units="t",
        )
        layers_to_geopackage(gpkg, stage / "layers.gpkg")
        save_map(fig, stage / "map.html", offline=True)
        (stage / "summary.json").write_text(
            json.dumps(_jsonable(summary), indent=2, ensure_ascii=False), encoding="utf-8"
        )
    logger.debug("map of %s (%d) finished", iso3, year)
    return Path(out)


def _jsonable(value: Any) -> Any:
    """Plain JSON types (NumPy scalars and NaN become numbers or null)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
