"""The layers of a country map, built from a model run and the :mod:`maps` package.

Helpers of :func:`ewaste_tracker.jobs.map.country_map_to_folder`; each returns GeoDataFrames in
EPSG:4326 whose columns carry units (``*_t`` tonnes, ``unit`` beside ``value``) and a
``source`` column, so tooltips in the page and rows in the GeoPackage say where each number
comes from. Readers of user files raise the geospatial layer's ``ValueError`` subclasses;
the caller turns them into :class:`~ewaste_tracker.errors.InputError` naming the option and file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ewaste_tracker.maps.errors import MapInputError
from ewaste_tracker.maps.raster_io import Raster
from ewaste_tracker.model.run import RunResult

logger = logging.getLogger(__name__)

EU6 = ("1", "2", "3", "4", "5", "6")
"""EU-6 WEEE categories (Directive 2012/19/EU, Annex III); UNU-KEY categories 4a and 4b
(large equipment, photovoltaic panels) form category 4."""
EU6_BANDS = tuple(f"eu6_{c}" for c in EU6)
TARGET_CELLS = 3e4
"""Cells wanted inside the country (the grid is kept between 1e4 and 1e5 where possible)."""
ARCSEC30 = 1 / 120
"""Finest grid step (30″, the land mask's resolution), degrees."""
NEIGHBOUR_MARGIN_DEG = 5.0
"""Minimum margin around the country's box within which neighbours are shown."""
ELEMENT_COMMODITIES: dict[str, tuple[str, ...]] = {
    "Ag": ("Silver",), "Al": ("Aluminium", "Aluminum", "Bauxite", "Alumina"),
    "Au": ("Gold",), "Co": ("Cobalt",), "Cu": ("Copper",), "Fe": ("Iron", "Iron ore"),
    "Ga": ("Gallium",), "In": ("Indium",), "Li": ("Lithium",), "Ni": ("Nickel",),
    "Pb": ("Lead",), "Pd": ("Palladium", "PGM"), "Pt": ("Platinum", "PGM"),
    "Sb": ("Antimony",), "Sn": ("Tin",), "Ta": ("Tantalum", "Coltan"),
    "Dy": ("Dysprosium", "Rare earths", "REE"), "Nd": ("Neodymium", "Rare earths", "REE"),
    "Pr": ("Praseodymium", "Rare earths", "REE"), "Tb": ("Terbium", "Rare earths", "REE"),
}  # fmt: skip
"""Commodity names under which mine tables (e.g. fineprint) list each element's ore."""
SITE_TOLERANCE_DEG = 0.1
"""Sites this close (degrees, ≈11 km) to the country's outline count as inside it: coastal
and border sites may fall just outside a generalised outline."""


NEAR_SIMPLIFY_DEG = 0.01
"""Tolerance (≈1 km) to which neighbours' outlines are simplified."""
WORLD_SIMPLIFY_DEG = 0.05
"""Tolerance (≈5 km) for world-wide layers (producing countries, trade partners)."""


def _world(tolerance: float = WORLD_SIMPLIFY_DEG) -> gpd.GeoDataFrame:
    """Catalogue outlines as ``region, name, geometry``, simplified and rounded to 1e-4°."""
    from ewaste_tracker import catalog

    world = catalog.outlines().rename(columns={"iso3": "region"})
    geoms = shapely.simplify(world.geometry.to_numpy(), tolerance, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 4))
    return world.set_geometry(geoms)


@dataclass
class ContextLayers:
    """Outline of the country, all outlines, and the indicator choropleths around it."""

    outline: gpd.GeoDataFrame
    world: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]
    summary: dict[str, Any]


def context_layers(indicators: pd.DataFrame, iso3: str, year: int) -> ContextLayers:
    """Generated kg/inh and collection rate of the country and its neighbours in ``year``.

    Neighbours are the countries whose outline meets the country's bounding box widened by
    half its size (at least :data:`NEIGHBOUR_MARGIN_DEG`).

    Parameters
    ----------
    indicators
        :attr:`ewaste_tracker.estimate.Estimate.indicators` (with ``status`` and ``source``).
    iso3, year
        The country and year.
    """
    from ewaste_tracker import catalog

    world = _world()
    near_world = _world(NEAR_SIMPLIFY_DEG)
    full = catalog.outlines().rename(columns={"iso3": "region"})
    outline = full[full["region"] == iso3].reset_index(drop=True)
    if outline.empty:
        raise MapInputError(f"{iso3} has no outline in the catalogue")
    w, s, e, n = outline.total_bounds
    pad = max(NEIGHBOUR_MARGIN_DEG, 0.5 * max(e - w, n - s))
    box = shapely.box(w - pad, s - pad, e + pad, n + pad)
    hit = shapely.intersects(near_world.geometry.to_numpy(), box)
    near = near_world[hit].reset_index(drop=True)
    ind = indicators
    wanted = ("generated_kg_per_inh", "collection_rate", "generated_t", "collected_formal_t")
    sel = ind[(ind["year"] == year) & ind["indicator"].isin(wanted) & ind["element"].isna()]
    sel = sel.assign(
        region=sel["region"].astype(str),
        indicator=sel["indicator"].astype(str),
        unit=sel["unit"].astype(str),
        status=sel["status"].astype(str),
        source=sel["source"].astype(str),
    )
    layers: dict[str, gpd.GeoDataFrame] = {}
    for indicator in ("generated_kg_per_inh", "collection_rate"):
        rows = sel[sel["indicator"] == indicator].set_index("region")
        gdf = near[["region", "name", "geometry"]].copy()
        gdf["indicator"] = indicator
        gdf["year"] = year
        gdf["value"] = rows["value"].reindex(gdf["region"]).to_numpy(dtype=float)
        gdf["unit"] = "kg/inh" if indicator.endswith("per_inh") else "fraction"
        gdf["status"] = rows["status"].reindex(gdf["region"]).fillna("").to_numpy(object)
        gdf["source"] = rows["source"].reindex(gdf["region"]).fillna("").to_numpy(object)
        layers[indicator] = gpd.GeoDataFrame(
            gdf[["region", "name", "indicator", "year", "value", "unit", "status", "source",
                 "geometry"]],
            geometry="geometry",
            crs=near.crs,
        )  # fmt: skip
    own = sel[sel["region"] == iso3].set_index("indicator")
    units = ("kg/inh", "fraction", "t", "t")
    summary: dict[str, Any] = {
        name: {
            "value": float(own["value"].get(name, np.nan)),
            "unit": unit,
            "status": str(own["status"].get(name, "")),
            "source": str(own["source"].get(name, "")),
        }
        for name, unit in zip(wanted, units, strict=True)
    }
    summary["neighbours_shown"] = sorted(set(near["region"]) - {iso3})
    summary["source"] = "ewaste-tracker estimate (ewaste_tracker.estimate)"
    return ContextLayers(outline, world, layers, summary)


@dataclass
class GridResult:
    """E-waste generated of one country downscaled to a population grid."""

    raster: Raster
    cells: gpd.GeoDataFrame
    total_t: float
    source: str
    summary: dict[str, Any] = field(default_factory=dict)


def grid_resolution(area_deg2: float, target: float = TARGET_CELLS) -> float:
    """Cell size (a multiple of 30″) giving about ``target`` cells over ``area_deg2``.

    .. math:: \\Delta = \\max\\bigl(1,\\ \\mathrm{round}(120\\sqrt{A / n})\\bigr) / 120

    with :math:`A` the country's area in square degrees and :math:`n` the target.
    """
    steps = max(1, round(np.sqrt(max(area_deg2, 0.0) / target) / ARCSEC30))
    return steps * ARCSEC30


def generated_grid(
    run: RunResult,
    iso3: str,
    year: int,
    outline: gpd.GeoDataFrame,
    *,
    population: Raster | None = None,
) -> GridResult:
    """Spread the country's e-waste generated per EU-6 category over its people.

    Population comes from :func:`ewaste_tracker.maps.population.default_population_grid`
    (country total of ``data/population_gdp.csv`` for ``year``, GLOBE land mask, GeoNames
    cities), built once per country, year and resolution and then read from the user's cache
    folder (:mod:`ewaste_tracker.jobs.grid_cache`); tonnes are downscaled with
    :func:`ewaste_tracker.maps.grid.downscale` (dasymetric, Mennis 2003), so the cells sum
    to the national total per category. Tonnes are e-waste generated net of reuse
    (:func:`ewaste_tracker.model.run.generated_net_of_reuse`), the ``generated_t`` indicator.
    ``population`` (a user raster such as WorldPop or GHSL, any resolution and CRS) replaces the
    default grid as the weights; the cells are then those of that raster.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.jobs.grid_cache import population_grid
    from ewaste_tracker.maps.grid import downscale
    from ewaste_tracker.model.run import generated_net_of_reuse

    r = run.dims.regions.index(iso3)
    n = int(year) - int(run.dims.years[0])
    products = catalog.products().set_index("unu_key")["eu6_category"].astype(str)
    cat = products.reindex(list(run.dims.products)).fillna("").str.slice(0, 1).to_numpy()
    wg = generated_net_of_reuse(run.system)[r, :, n]
    totals = pd.DataFrame(
        [[float(wg[cat == c].sum()) for c in EU6]], index=[iso3], columns=list(EU6_BANDS)
    )
    pop_table = catalog.population_gdp()
    pop = pop_table[(pop_table["region"] == iso3) & (pop_table["year"] == year)]["population"]
    people = float(pop.iloc[0]) if len(pop) else float("nan")
    if not np.isfinite(people):
        table = catalog.countries()
        people = float(pd.to_numeric(table.loc[table["iso3"] == iso3, "population"]).iloc[0])
    zone = outline.rename(columns={"region": "iso3"}).assign(population=people)
    area = float(shapely.area(zone.geometry.to_numpy()).sum())
    res = grid_resolution(area)
    w, s, e, n_ = zone.total_bounds
    bounds = (w - res, max(s - res, -90.0), e + res, min(n_ + res, 90.0))
    cached = False
    if population is None:
        weights, cached = population_grid(
            zone, resolution=res, bounds=bounds, id_column="iso3", pop_column="population"
        )
        weights_source = "dasymetric: country population, GLOBE land mask, GeoNames cities"
    else:
        weights = population
        weights_source = "the population raster given with --population"
    raster = downscale(totals, zone, weights, id_column="iso3", on_empty="point")
    total = raster.data.sum(axis=0)
    rows, cols = np.nonzero(total > 0)
    a = raster.transform
    x = a.c + a.a * (cols + 0.5) + a.b * (rows + 0.5)
    y = a.f + a.d * (cols + 0.5) + a.e * (rows + 0.5)
    source = (
        f"e-waste generated {year} (ewaste-tracker default estimate) spread by population "
        f"({weights_source})"
    )
    cells = gpd.GeoDataFrame(
        {
            "row": rows,
            "col": cols,
            "population": weights.data[rows, cols],
            "generated_t": total[rows, cols],
            **{b: raster.data[k, rows, cols] for k, b in enumerate(EU6_BANDS)},
        },
        geometry=shapely.points(x, y),
        crs=raster.crs or "EPSG:4326",
    ).to_crs("EPSG:4326")
    national = float(wg.sum())
    summary = {
        "resolution_deg": res,
        "shape": list(raster.shape),
        "cells_with_waste": len(cells),
        "population": people,
        "population_grid_cached": cached,
        "generated_t": national,
        "grid_sum_t": float(total.sum()),
        "by_eu6_t": {b: float(v) for b, v in zip(EU6_BANDS, totals.iloc[0], strict=True)},
        "source": source,
    }
    logger.info("%s: %d cells of %.4g° hold %.6g t", iso3, len(cells), res, total.sum())
    return GridResult(raster, cells, national, source, summary)


def subnational_layer(
    grid: GridResult,
    regions: gpd.GeoDataFrame,
    outline: gpd.GeoDataFrame,
    year: int,
    *,
    source: Path,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Sum the grid into sub-national polygons, conserving the national total.

    With :math:`S_z` the sum of the cells whose centre lies in polygon :math:`z`
    (:func:`ewaste_tracker.maps.grid.aggregate`) and :math:`T` the national total, each polygon gets
    :math:`T\\, S_z / \\sum_{z'} S_{z'}`: cells outside every polygon (outline mismatch
    between the user's boundaries and the catalogue's) are shared out in proportion.
    """
    from ewaste_tracker.maps.grid import aggregate

    geoms = regions.geometry.to_numpy()
    inside = shapely.intersects(geoms, outline.geometry.union_all())
    polys = regions[inside].reset_index(drop=True)
    if polys.empty:
        raise MapInputError(f"no polygon overlaps {outline['region'].iloc[0]}", path=source)
    sums = aggregate(grid.raster, polys, id_column="region")
    assert isinstance(sums, pd.DataFrame)
    covered = float(sums.to_numpy().sum())
    if covered <= 0:
        raise MapInputError(
            f"the polygons hold none of {outline['region'].iloc[0]}'s grid cells", path=source
        )
    scale = grid.total_t / covered
    out = polys.copy()
    scaled = sums.reindex(out["region"]).to_numpy() * scale
    out["indicator"] = "generated_t"
    out["year"] = year
    out["value"] = scaled.sum(axis=1)
    out["unit"] = "t"
    for k, band in enumerate(EU6_BANDS):
        out[band] = scaled[:, k]
    out["grid_t"] = sums.reindex(out["region"]).to_numpy().sum(axis=1)
    out["source"] = f"{grid.source}; summed into {source.name}"
    summary = {
        "file": source.name,
        "polygons": len(out),
        "total_t": float(out["value"].sum()),
        "outside_polygons_t": float(grid.total_t - covered),
        "empty_polygons": list(map(str, sums.attrs.get("empty_zones", []))),
    }
    return gpd.GeoDataFrame(out, geometry="geometry", crs=polys.crs), summary


def facility_layers(
    grid: GridResult,
    sites: gpd.GeoDataFrame,
    outline: gpd.GeoDataFrame,
    year: int,
    *,
    source: Path,
    max_distance_km: float | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """Sites in the country (within :data:`SITE_TOLERANCE_DEG` of its outline) with their
    nearest-site catchments on the grid.

    Tonnes per site, capacity use and unserved tonnes follow
    :func:`ewaste_tracker.maps.links.nearest_catchments`; catchment polygons are the grid cells
    assigned to each site, vectorised with :func:`rasterio.features.shapes`.
    """
    from rasterio.features import shapes

    from ewaste_tracker.maps.links import demand_from_grid, nearest_catchments

    country = outline.geometry.union_all()
    keep = shapely.dwithin(sites.geometry.to_numpy(), country, SITE_TOLERANCE_DEG)
    inside = sites[keep].reset_index(drop=True)
    if inside.empty:
        raise MapInputError(
            f"none of the {len(sites)} site(s) lies in {outline['region'].iloc[0]}", path=source
        )
    raster = grid.raster
    total = raster.data.sum(axis=0)
    demand = demand_from_grid(total, raster.transform, raster.crs)
    limit = None if max_distance_km is None else max_distance_km * 1e3
    result = nearest_catchments(demand, inside, max_distance_m=limit)
    fac = result.sites.copy()
    fac["year"] = year
    fac["source"] = fac["source"].astype(str) + f"; expected tonnes: {grid.source}"
    index = np.full(raster.shape, -1, dtype=np.int32)
    assigned = result.demand["facility_id"]
    pos = pd.Index(fac["facility_id"]).get_indexer(assigned.fillna(""))
    index[result.demand["row"].to_numpy(), result.demand["col"].to_numpy()] = pos
    parts = [
        (shapely.geometry.shape(geom), int(v))
        for geom, v in shapes(index, mask=index >= 0, transform=raster.transform)
    ]
    catch = gpd.GeoDataFrame(
        {"k": [v for _, v in parts]}, geometry=[g for g, _ in parts], crs=raster.crs
    ).dissolve(by="k")
    k = catch.index.to_numpy()
    catch = gpd.GeoDataFrame(
        {
            "facility_id": fac["facility_id"].to_numpy()[k],
            "name": fac["name"].to_numpy()[k],
            "indicator": "e-waste generated nearest to the site",
            "year": year,
            "value": fac["expected_t"].to_numpy()[k],
            "unit": "t/yr",
            "source": grid.source + "; straight-line nearest site",
        },
        geometry=catch.geometry.to_numpy(),
        crs=raster.crs,
    )
    summary = {
        "file": source.name,
        "sites_in_file": len(sites),
        "sites_in_country": len(fac),
        "total_t": result.total_t,
        "expected_t": float(fac["expected_t"].sum()),
        "served_t": float(fac["served_t"].sum()),
        "unserved_t": result.unserved_t,
        "over_capacity": list(map(str, fac.loc[fac["use"] > 1, "facility_id"])),
        "max_distance_km": max_distance_km,
    }
    return fac, catch, summary


def trade_layer(
    run: RunResult, iso3: str, year: int, world: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The country's exports and imports between modelled countries as lines (tonnes).

    Exports to destinations outside the modelled regions (``ROW``) have no place on the
    map; their tonnes are reported in the summary.
    """
    from ewaste_tracker.maps.links import trade_lines

    n = int(year) - int(run.dims.years[0])
    rows = [
        (o, d, s, float(f[:, n].sum()))
        for o, d, s, f in run.system.trade
        if iso3 in (o, d)  # the trade list has one entry per link, not per product or year
    ]
    flows = pd.DataFrame(rows, columns=["region_from", "region_to", "stage_to", "value_t"])
    flows = flows.assign(stage_from="export", year=year)
    outside = flows["region_to"].isin(["ROW", "sysenv"]) & (flows["region_from"] == iso3)
    lines = trade_lines(flows[~outside], world, year=year)
    lines["direction"] = np.where(lines["origin"] == iso3, "export", "import")
    lines["source"] = "ewaste-tracker default estimate: export destinations of the model run"
    summary = {
        "exports_t": float(flows.loc[flows["region_from"] == iso3, "value_t"].sum()),
        "exports_outside_modelled_regions_t": float(flows.loc[outside, "value_t"].sum()),
        "imports_t": float(flows.loc[flows["region_to"] == iso3, "value_t"].sum()),
        "lines": len(lines),
    }
    return lines, summary


@dataclass
class MiningLayers:
    """Replacement mining: per element and producer (``detail``), value per producer."""

    detail: gpd.GeoDataFrame
    value: gpd.GeoDataFrame
    top: dict[str, gpd.GeoDataFrame]
    elements: list[str]
    summary: dict[str, Any]


def mining_layers(
    run: RunResult, iso3: str, year: int, world: gpd.GeoDataFrame, *, top: int = 3
) -> MiningLayers:
    """Allot the country's lost elements to producing countries (:func:`replacement_mining`).

    Lost tonnes are the domestic routes' losses (formal, informal, residual) of
    :class:`ewaste_tracker.flows.minerals.ElementFlows`; producer shares are
    ``data/mine_shares.csv``. The value layer prices them at ``data/prices.csv`` (USD/kg); the
    ``top`` elements by value get a tonnes layer each on the map.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.maps.regions import join_regions
    from ewaste_tracker.maps.sources import replacement_mining

    r = run.dims.regions.index(iso3)
    n = int(year) - int(run.dims.years[0])
    elements = list(run.dims.elements)
    lost = run.elements.total("lost_t")[r, :, n]
    shares = catalog.mine_shares()
    known = set(shares["element"])
    lost_frame = pd.DataFrame({"region": iso3, "year": year, "element": elements, "lost_t": lost})
    usable = lost_frame[lost_frame["element"].isin(known)]
    mined = replacement_mining(usable, shares)
    price = (
        np.zeros(len(elements))
        if run.prices is None
        else np.nan_to_num(np.asarray(run.prices, dtype=float)[:, min(n, run.prices.shape[1] - 1)])
    )  # prices of the map's year
    usd_per_kg = pd.Series(price, index=elements)
    mined["usd"] = (
        mined["mined_t"].to_numpy() * 1e3 * usd_per_kg.reindex(mined["element"]).to_numpy()
    )
    src = shares.groupby("element")["source"].first()
    mined["source"] = (
        "lost in " + iso3 + " (ewaste-tracker default estimate); producer shares: "
    ) + src.reindex(mined["element"]).to_numpy()
    mined = mined.rename(columns={"region": "lost_in"}).rename(columns={"mined_in": "region"})
    detail = join_regions(mined, world, unknown="drop", source="mine_shares")
    detail = detail.rename(columns={"region": "mined_in"})
    polygons = detail.geometry
    detail = detail.set_geometry(shapely.point_on_surface(polygons.to_numpy()))
    per_country = (
        detail.groupby("mined_in", as_index=False)["usd"]
        .sum()
        .rename(columns={"mined_in": "region"})
    )
    value = join_regions(
        per_country.assign(
            indicator=f"value of {iso3}'s lost elements mined instead",
            year=year,
            value=per_country["usd"],
            unit="USD",
            source="lost tonnes x data/prices.csv; producer shares data/mine_shares.csv",
        ).drop(columns="usd"),
        world,
    )
    ranked = detail.groupby("element")["usd"].sum().sort_values(ascending=False)
    layers = {}
    for element in ranked.index[:top]:  # a few map layers, not a loop over data
        sub = detail[(detail["element"] == element).to_numpy()]
        layers[str(element)] = gpd.GeoDataFrame(
            sub.drop(columns="geometry").assign(indicator=f"{element} mined instead", unit="t"),
            geometry=polygons[sub.index].to_numpy(),
            crs=world.crs,
        )
    summary = {
        "lost_t": {e: float(v) for e, v in zip(elements, lost, strict=True)},
        "elements_without_producer_shares": sorted(set(elements) - known),
        "mined_t_by_element": {
            str(k): float(v) for k, v in mined.groupby("element")["mined_t"].sum().items()
        },
        "value_usd": float(mined["usd"].sum()),
        "top_producers": {
            str(e): list(g.nlargest(3, "mined_t")["region"]) for e, g in mined.groupby("element")
        },
        "routes": "formal, informal, residual (exported e-waste is lost where it is treated)",
    }
    used = sorted(set(usable.loc[usable["lost_t"] > 0, "element"]))
    return MiningLayers(detail, value, layers, used, summary)


def mine_layer(
    mines: gpd.GeoDataFrame, elements: list[str], *, source: Path
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Mines whose commodities include one of ``elements`` (:data:`ELEMENT_COMMODITIES`)."""
    from ewaste_tracker.maps.sources import select_mines

    tagged = mines.assign(_k=np.arange(len(mines)))
    hits = []
    for element in elements:  # ~20 elements, each a vectorised text match over all mines
        for name in ELEMENT_COMMODITIES.get(element, ()):
            hit = select_mines(tagged, name)
            hits.append(pd.DataFrame({"_k": hit["_k"].to_numpy(), "element": element}))
    if hits:
        pairs = pd.concat(hits).drop_duplicates()
        listed = pairs.groupby("_k")["element"].agg(lambda s: ", ".join(sorted(set(s))))
    else:
        listed = pd.Series(dtype=str)
    out = tagged.iloc[listed.index.to_numpy()].copy()
    out["elements"] = listed.to_numpy()
    keep = [
        c
        for c in ("mine", "commodities", "country", "elements", "source", "geometry")
        if c in out.columns
    ]
    out = gpd.GeoDataFrame(out[keep], geometry="geometry", crs=mines.crs).reset_index(drop=True)
    summary = {
        "file": source.name,
        "mines_in_file": len(mines),
        "mines_shown": len(out),
        "by_element": {
            e: int(out["elements"].str.contains(rf"\b{e}\b", regex=True).sum()) for e in elements
        },
    }
    return out, summary


FOOTPRINT_PARTS = ("embodied_ghg_t_co2e", "use_phase_ghg_t_co2e", "refrigerant_released_t_co2e")
"""The GHG indicators summed on the footprint map layer."""


def footprint_layer(
    footprint: pd.DataFrame, indicators: pd.DataFrame, near: gpd.GeoDataFrame, year: int,
    *, group: str = "all",
) -> gpd.GeoDataFrame:  # fmt: skip
    """Life-cycle GHG per inhabitant of the country and its neighbours in ``year``.

    ``value`` (t CO2e/inh) = (embodied GHG of equipment put on market + use-phase GHG of the
    stock + refrigerants released) / population, with the three parts in their own columns
    (t CO2e) and the status and sources of the footprint rows
    (:attr:`ewaste_tracker.estimate.Estimate.footprint`).
    """
    fp = footprint[(footprint["year"] == year) & (footprint["group"] == group)
                   & footprint["indicator"].isin(FOOTPRINT_PARTS)]  # fmt: skip
    fp = fp.assign(region=fp["region"].astype(str), indicator=fp["indicator"].astype(str))
    wide = fp.pivot_table(index="region", columns="indicator", values="value", observed=True)
    rows = indicators[(indicators["year"] == year) & (indicators["indicator"] == "population")]
    pop = rows.assign(region=rows["region"].astype(str)).set_index("region")["value"]
    status = fp.groupby("region")["status"].agg(lambda s: ", ".join(sorted(set(map(str, s)))))
    gdf = near[["region", "name", "geometry"]].copy()
    parts = wide.reindex(gdf["region"]).reindex(columns=list(FOOTPRINT_PARTS)).fillna(0.0)
    for col in FOOTPRINT_PARTS:
        gdf[col] = parts[col].to_numpy(float)
    total = parts.sum(axis=1).to_numpy(float)
    people = pop.reindex(gdf["region"]).to_numpy(float)
    gdf["indicator"] = "footprint_t_co2e_per_inh"
    gdf["year"] = year
    gdf["value"] = np.where(people > 0, total / np.where(people > 0, people, 1.0), np.nan)
    gdf["unit"] = "t CO2e/inh"
    gdf["status"] = status.reindex(gdf["region"]).fillna("").to_numpy(object)
    gdf["source"] = ("footprint (data/footprint_factors.csv, data/grid_intensity.csv) / "
                     "population (data/population_gdp_timeseries.csv)")  # fmt: skip
    cols = ["region", "name", "indicator", "year", "value", "unit", *FOOTPRINT_PARTS,
            "status", "source", "geometry"]  # fmt: skip
    return gpd.GeoDataFrame(gdf[cols], geometry="geometry", crs=near.crs)
