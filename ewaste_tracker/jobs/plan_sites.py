"""The ``plan-sites`` command: collection-site planning from files to an output folder.

Validates the files at the boundary (:mod:`ewaste_tracker.maps.siting_io` readers raise errors
naming file, row and column; they become :class:`~ewaste_tracker.errors.InputError`), loads the road
network offline when one is given (:mod:`ewaste_tracker.maps.network`), solves the chosen model to
proven optimality with HiGHS (:mod:`ewaste_tracker.maps.siting`), and writes ``sites.geojson``,
``assignments.csv``, ``summary.json`` and ``map.html`` into ``--out`` only when everything
succeeded.

Without ``--demand``, the demand is the estimate's e-waste generated in a country
(``--country``, ``--year``; :func:`ewaste_tracker.estimate`) within the network's reach
(:func:`demand_from_estimate`): the country's tonnes are spread over its population grid
(:func:`ewaste_tracker.jobs.map_layers.generated_grid`), each cell's tonnes, times the share of
the cell inside the network's convex hull, are spread over the network nodes in that cell
(road-node density as the finer dasymetric weight), and nodes are pooled into demand points
of ``spacing_m``. The element content of the demand is the country's average in e-waste
generated that year.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ewaste_tracker.errors import InputError
from ewaste_tracker.files import AtomicDir

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

logger = logging.getLogger(__name__)


def _check_file(path: Path | None, option: str) -> None:
    if path is not None and not Path(path).is_file():
        raise InputError("file not found", path=path, column=option)


def demand_from_estimate(
    est: Estimate, iso3: str, year: int, graph: Any, *, spacing_m: float = 250.0
) -> tuple[Any, dict[str, float], dict[str, Any]]:
    """Demand points of a road network from the estimate's e-waste generated in a country.

    Parameters
    ----------
    est
        The estimate.
    iso3, year
        Country and year whose e-waste generated is the demand.
    graph
        The road network (osmnx graph, EPSG:4326).
    spacing_m
        Size of the square bins that pool network nodes into demand points.

    Returns
    -------
    demand : geopandas.GeoDataFrame
        ``demand_id, weight`` (t/yr) and point geometry (EPSG:4326).
    composition : dict
        Element → g per t of the country's e-waste generated in ``year``.
    summary : dict
        Where the demand came from (country total, tonnes within reach, status, source).
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from ewaste_tracker import catalog
    from ewaste_tracker.jobs.map_layers import generated_grid

    est._year_index(year, option="--year")
    if iso3 not in est.regions:
        raise InputError("not a modelled country", column="--country", value=iso3,
                         expected="an ISO3 code of the estimate, e.g. FIN")  # fmt: skip
    outline = catalog.outlines().rename(columns={"iso3": "region"})
    outline = outline[outline["region"] == iso3].reset_index(drop=True)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    ids = np.array([str(n) for n in graph.nodes], dtype=object)
    inside = shapely.contains_xy(outline.geometry.union_all(), xy[:, 0], xy[:, 1])
    if not inside.any():
        raise InputError(f"the network lies outside {iso3}", column="--country", value=iso3,
                         expected="the country the network is in")  # fmt: skip
    hull = shapely.convex_hull(shapely.multipoints(xy[inside]))
    grid = generated_grid(est.result, iso3, int(year), outline)
    raster = grid.raster
    total = raster.data.sum(axis=0)
    inv = ~raster.transform
    col, row = inv @ (xy[:, 0], xy[:, 1])
    row, col = np.floor(row).astype(int), np.floor(col).astype(int)
    ok = inside & (row >= 0) & (row < total.shape[0]) & (col >= 0) & (col < total.shape[1])
    cell = np.where(ok, row * total.shape[1] + col, -1)
    used = np.unique(cell[ok])
    r_u, c_u = np.divmod(used, total.shape[1])
    a = raster.transform
    boxes = shapely.box(a.c + a.a * c_u, a.f + a.e * (r_u + 1), a.c + a.a * (c_u + 1),
                        a.f + a.e * r_u)  # fmt: skip
    share = shapely.area(shapely.intersection(boxes, hull)) / np.maximum(shapely.area(boxes), 1e-30)
    if hull.area == 0:  # a network on one line: its cells count whole
        share = np.ones(len(used))
    cell_t = total.ravel()[used] * np.clip(share, 0.0, 1.0)
    pos = np.searchsorted(used, cell[ok])
    count = np.bincount(pos, minlength=len(used))
    node_t = cell_t[pos] / count[pos]
    # pool nodes into square bins of spacing_m (local equirectangular metres)
    lat0 = float(np.mean(xy[ok, 1]))
    mx = xy[ok, 0] * 111_320.0 * np.cos(np.radians(lat0))
    my = xy[ok, 1] * 110_540.0
    bins = pd.DataFrame({"bx": np.floor(mx / spacing_m), "by": np.floor(my / spacing_m),
                         "x": xy[ok, 0], "y": xy[ok, 1], "t": node_t, "id": ids[ok]})  # fmt: skip
    g = bins.groupby(["bx", "by"], sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), weight=("t", "sum"), first=("id", "first"),
        nodes=("id", "size"),
    )  # fmt: skip
    g = g[g["weight"] > 0]
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"d{i}-{n}" for i, n in enumerate(g["first"])],
         "weight": g["weight"].to_numpy(float), "nodes": g["nodes"].to_numpy(int)},
        geometry=gpd.points_from_xy(g["x"], g["y"]), crs="EPSG:4326",
    )  # fmt: skip
    n = est._year_index(year, option="--year")
    r = est.regions.index(iso3)
    gen_el = est.result.element_generated[r, :, n]
    gen_t = float(total.sum())
    composition = {
        el: float(1e6 * v / gen_t) for el, v in zip(est.elements, gen_el, strict=True) if gen_t
    }
    ind = est.indicators
    row_ = ind[(ind["region"] == iso3) & (ind["year"] == int(year))
               & (ind["indicator"] == "generated_t") & ind["element"].isna()]  # fmt: skip
    summary = {
        "country": iso3,
        "year": int(year),
        "country_generated_t": gen_t,
        "demand_t": float(demand["weight"].sum()),
        "demand_points": len(demand),
        "status": str(row_["status"].iloc[0]) if len(row_) else "",
        "source": (f"{row_['source'].iloc[0] if len(row_) else 'estimate'}; {grid.source}; "
                   "within each cell spread over road nodes, cells clipped to the network's "
                   "convex hull"),
    }  # fmt: skip
    return demand, composition, summary


def plan_sites_to_folder(
    *,
    network: Path | None,
    demand: Path | None,
    candidates: Path | None,
    costs: Path | None,
    model: str,
    p: int | None,
    minutes: float | None,
    capacity: str | None,
    time_limit: float | None,
    out: Path,
    country: str | None = None,
    year: int = 2022,
    store: Path | None = None,
    max_snap_m: float | None = 1000.0,
) -> Path:
    """Run :func:`ewaste_tracker.maps.siting.plan_sites` on files and write its results into
    ``out``. Without ``demand``, ``country`` (and ``year``) take the demand from the
    estimate (:func:`demand_from_estimate`; needs ``network``).

    Raises
    ------
    InputError
        For missing files, inconsistent options (a model's required ``--p`` or
        ``--minutes``, neither ``--network`` nor ``--costs``) and invalid rows; nothing is
        written then.
    """
    from ewaste_tracker.files import check_output_folder
    from ewaste_tracker.maps.network import NetworkError
    from ewaste_tracker.maps.siting import SitingInputError, plan_sites

    check_output_folder(out)
    for path, option in ((network, "--network"), (demand, "--demand"),
                         (candidates, "--candidates"), (costs, "--costs")):  # fmt: skip
        _check_file(path, option)
    if network is None and costs is None:
        raise InputError("give a road network (--network) or a cost table (--costs)",
                         column="--network")  # fmt: skip
    if model in ("pmedian", "mclp") and (p is None or p < 1):
        raise InputError(f"the {model} model needs the number of sites", column="--p",
                         value=p, expected="a whole number >= 1")  # fmt: skip
    if model in ("mclp", "lscp") and (minutes is None or minutes <= 0):
        raise InputError(f"the {model} model needs a coverage time", column="--minutes",
                         value=minutes, expected="minutes > 0")  # fmt: skip
    graph: Any = network
    demand_data: Any = demand
    composition = None
    from_estimate = None
    if demand is None:
        if country is None or network is None:
            raise InputError("give a demand file (--demand), or a country (--country) and a "
                             "road network (--network) to take demand from the estimate",
                             column="--demand")  # fmt: skip
        from ewaste_tracker.estimate import estimate
        from ewaste_tracker.maps.network import graph_from_file

        try:
            graph = graph_from_file(network)
        except NetworkError as exc:
            raise InputError(str(exc), path=network, column="--network") from exc
        est = estimate(store=store)
        demand_data, composition, from_estimate = demand_from_estimate(
            est, str(country).strip().upper(), year, graph
        )
    try:
        result = plan_sites(
            network=graph, demand=demand_data, candidates=candidates, costs=costs,
            model=model, p=p, minutes=minutes, capacity=capacity, time_limit=time_limit,
            composition=composition, max_snap_m=max_snap_m,
        )  # fmt: skip
    except SitingInputError as exc:
        raise InputError(str(exc).split(": ", 1)[-1] if exc.path else str(exc), path=exc.path,
                         row=exc.row, column=exc.column) from exc  # fmt: skip
    except NetworkError as exc:
        raise InputError(str(exc), path=network, column="--network") from exc
    with AtomicDir(out, what="plan-sites") as stage:
        result.to_files(stage)
        if from_estimate is not None:
            import json

            (stage / "demand_source.json").write_text(
                json.dumps(from_estimate, indent=2), encoding="utf-8"
            )
        from ewaste_tracker.maps.export import save_map

        save_map(result.to_map(), stage / "map.html", offline=True)
    summary = result.summary()
    logger.info("%s: objective %.6g, gap %.3g, %s site(s) chosen, %.2f s", model,
                summary["objective"], summary["gap"], len(summary["chosen"]),
                summary["solve_seconds"])  # fmt: skip
    return Path(out)
