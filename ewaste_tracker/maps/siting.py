"""Where to put e-waste collection points: inputs, models and results.

:func:`plan_sites` takes a road network (or a ready cost table), the demand (tonnes of
e-waste per grid cell, polygon or point, optionally with population and metal content per
tonne) and candidate sites (user points, existing facilities kept open, OSM shops and
recycling points, or a lattice), builds the demand × candidate travel-time matrix
(:mod:`ewaste_tracker.maps.travel`) and solves one of

* ``"pmedian"``: minimise tonne-minutes :math:`\\sum_i w_i \\min_{j\\,open} t_{ij}`
  (:mod:`ewaste_tracker.maps.pmedian`; capacitated variant in
  :mod:`ewaste_tracker.maps.siting_solvers`);
* ``"mclp"``: maximise the tonnes within ``minutes`` of an open site with ``p`` sites;
* ``"lscp"``: the fewest sites that put every reachable demand within ``minutes``;

to proven optimality with HiGHS, or to the time limit with the gap reported. The result
holds the chosen sites with the tonnes and element content (g) each would receive, the
assignments, the demand left out and the coverage before (existing sites) and after.

Demand columns: ``demand_id``, ``weight`` (t/yr); geometry or ``lon``/``lat`` unless a cost
table is given; optional ``population`` and ``<element>_g_per_t`` content columns.
Candidate columns: ``candidate_id``; geometry or ``lon``/``lat`` unless a cost table is given;
optional ``fixed`` (existing site kept open) and a capacity column (t/yr).
Cost table columns: ``demand_id,candidate_id,cost`` with cost in minutes; missing pairs are
unreachable.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.files import atomic_path
from ewaste_tracker.maps.pmedian import solve_pmedian
from ewaste_tracker.maps.siting_io import (
    CONTENT_SUFFIX,
    SitingInputError,
    _validate_candidates,
    _validate_costs,
    _validate_demand,
    read_candidates,
    read_costs,
    read_demand,
)
from ewaste_tracker.maps.siting_solvers import (
    Solution,
    solve_lscp,
    solve_mclp,
    solve_pmedian_capacitated,
)

logger = logging.getLogger(__name__)

MODELS = ("pmedian", "mclp", "lscp")
__all__ = [
    "MODELS",
    "SitingInputError",
    "SitingResult",
    "coverage",
    "plan_sites",
    "read_candidates",
    "read_costs",
    "read_demand",
]


# --------------------------------------------------------------------------- results


def coverage(
    cost: np.ndarray, is_open: np.ndarray, minutes: float, weight: np.ndarray, population=None
) -> dict[str, float | None]:
    """Share of weight (and population) within ``minutes`` of an open site.

    Returns
    -------
    dict
        ``minutes``, ``weight_share``, ``population_share`` (``None`` without population).
    """
    covered = (
        (cost[:, is_open] <= minutes).any(axis=1) if is_open.any() else np.zeros(len(cost), bool)
    )
    tot = float(weight.sum())
    out: dict[str, float | None] = {
        "minutes": float(minutes),
        "weight_share": float(weight[covered].sum() / tot) if tot > 0 else None,
        "population_share": None,
    }
    if population is not None and float(population.sum()) > 0:
        out["population_share"] = float(population[covered].sum() / population.sum())
    return out


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _atomic_write(path: Path, write: Any) -> None:
    with atomic_path(path, suffix=path.suffix) as tmp:
        tmp.unlink()  # GDAL and pandas create the file themselves
        write(tmp)


@dataclass
class SitingResult:
    """Chosen sites, assignments and coverage of a siting run.

    Attributes
    ----------
    model, objective, bound, gap, status, solve_seconds
        The model and how well it was solved (``status`` ``"optimal"`` or
        ``"time_limit"``; ``gap`` relative, 0 when proven optimal).
    chosen : list of str
        Open candidate ids (fixed ones included).
    sites : geopandas.GeoDataFrame
        One row per open site: ``candidate_id``, ``fixed``, ``tonnes``, ``n_demand``,
        ``<element>_g`` for every content column, geometry.
    assignments : pandas.DataFrame
        ``demand_id``, ``candidate_id``, ``cost`` (min), ``share``, ``tonnes``, ``covered``.
    unserved : pandas.DataFrame
        Demand left out: ``demand_id``, ``weight``, ``unserved_t``, ``reason``.
    coverage_before, coverage_after : dict or None
        :func:`coverage` of the existing (fixed) sites and of the chosen sites.
    params : dict
        ``p``, ``minutes``, ``capacity`` and counts.
    """

    model: str
    objective: float
    bound: float
    gap: float
    status: str
    solve_seconds: float
    chosen: list[str]
    sites: Any
    assignments: pd.DataFrame
    unserved: pd.DataFrame
    demand: Any = None
    coverage_before: dict | None = None
    coverage_after: dict | None = None
    params: dict = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The run in a JSON-ready dict (the content of ``summary.json``)."""
        what = {
            "pmedian": "sum of weight x travel minutes to the assigned site",
            "mclp": "weight within the time standard of an open site",
            "lscp": "number of open sites",
        }[self.model]
        return _json_safe(
            {
                "model": self.model,
                "objective": self.objective,
                "objective_meaning": what,
                "bound": self.bound,
                "gap": self.gap,
                "status": self.status,
                "solve_seconds": self.solve_seconds,
                "chosen": list(self.chosen),
                "served_t": float(self.assignments["tonnes"].sum()),
                "unserved_t": float(self.unserved["unserved_t"].sum()),
                "unserved": self.unserved.head(1000).to_dict(orient="records"),
                "coverage_before": self.coverage_before,
                "coverage_after": self.coverage_after,
                **self.params,
            }
        )

    def to_files(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``sites.geojson``, ``assignments.csv`` and ``summary.json`` atomically.

        Each file is written to a temporary file in ``out_dir`` and moved into place with
        :func:`os.replace`, so readers never see a partial file.

        Returns
        -------
        dict
            Paths written, keyed ``sites``, ``assignments``, ``summary``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "sites": out / "sites.geojson",
            "assignments": out / "assignments.csv",
            "summary": out / "summary.json",
        }
        _atomic_write(paths["sites"], lambda t: self.sites.to_file(t, driver="GeoJSON"))
        _atomic_write(paths["assignments"], lambda t: self.assignments.to_csv(t, index=False))
        text = json.dumps(self.summary(), indent=2)
        _atomic_write(paths["summary"], lambda t: Path(t).write_text(text, encoding="utf-8"))
        logger.debug("wrote %s", ", ".join(str(p) for p in paths.values()))
        return paths

    def to_map(self) -> Any:
        """A folium map (no tiles): demand coloured by service, sites sized by tonnes.

        Every id reaches the page through :func:`ewaste_tracker.maps.escape.escape`
        (tooltips are written by :func:`ewaste_tracker.maps.render.add_labelled_points`).
        """
        import folium
        import geopandas as gpd

        from ewaste_tracker.maps.render import add_labelled_points

        pts = self.sites[self.sites.geometry.notna()]
        dem = None if self.demand is None else self.demand[self.demand.geometry.notna()]
        allp = pts.geometry if dem is None else pd.concat([pts.geometry, dem.geometry])
        if len(allp) == 0:
            return folium.Map(tiles=None, location=[0, 0], zoom_start=2)
        w, s_, e, n = gpd.GeoSeries(allp, crs="EPSG:4326").total_bounds
        fmap = folium.Map(tiles=None, location=[(s_ + n) / 2, (w + e) / 2], zoom_start=13)
        fmap.options["maxZoom"] = 18  # marker clusters need it without tiles
        if dem is not None and len(dem):
            left = dict(zip(self.unserved["demand_id"].astype(str),
                            self.unserved["reason"].astype(str), strict=True))  # fmt: skip
            d = gpd.GeoDataFrame(
                {"name": dem["demand_id"].astype(str).to_numpy(),
                 "weight": dem["weight"].to_numpy(float)},
                geometry=dem.geometry.representative_point().to_numpy(), crs="EPSG:4326",
            )  # fmt: skip
            d["status"] = [left.get(i, "served") for i in d["name"]]
            served = (d["status"] == "served").to_numpy()
            for label, mask, colour in (("demand served", served, "#2b83ba"),
                                        ("demand not served", ~served, "#d7191c")):  # fmt: skip
                if mask.any():
                    group = folium.FeatureGroup(name=label)
                    group.add_to(fmap)
                    add_labelled_points(group, d[mask], title="name",
                                        fields=[("weight", "demand", "t/yr"),
                                                ("status", "status")],
                                        colour=colour, radius=3.0)  # fmt: skip
        if len(pts):
            top = max(float(pts["tonnes"].max()), 1e-9)
            sites = gpd.GeoDataFrame(
                {"name": pts["candidate_id"].astype(str).to_numpy(),
                 "tonnes": pts["tonnes"].to_numpy(float)},
                geometry=pts.geometry.to_numpy(), crs="EPSG:4326",
            )  # fmt: skip
            group = folium.FeatureGroup(name="chosen sites")
            group.add_to(fmap)
            add_labelled_points(group, sites, title="name", fields=[("tonnes", "receives", "t/yr")],
                                colour="#fdae61",
                                radius=5 + 10 * np.sqrt(sites["tonnes"].to_numpy() / top),
                                cluster=False)  # fmt: skip
        fmap.fit_bounds([[float(s_), float(w)], [float(n), float(e)]])
        folium.LayerControl().add_to(fmap)
        return fmap


# --------------------------------------------------------------------------- planning


def _load(obj: Any, reader: Any, what: str, **kw: Any) -> Any:
    if obj is None:
        return None
    if isinstance(obj, str | Path):
        return reader(obj, **kw)
    validators: dict[str, Any] = {
        "demand": _validate_demand,
        "candidates": _validate_candidates,
        "costs": _validate_costs,
    }
    return validators[what](obj, what, **kw)


def _solve(model, cost, w, *, p, minutes, fixed_idx, cap, time_limit) -> Solution:
    if model == "pmedian":
        if p is None:
            raise SitingInputError("the p-median model needs p (number of sites)")
        if cap is None:
            return solve_pmedian(cost, w, p, fixed=fixed_idx, time_limit=time_limit)
        return solve_pmedian_capacitated(cost, w, p, cap, fixed=fixed_idx, time_limit=time_limit)
    if minutes is None:
        raise SitingInputError(f"the {model} model needs minutes (the time standard)")
    if model == "mclp":
        if p is None:
            raise SitingInputError("the MCLP model needs p (number of sites)")
        return solve_mclp(cost, w, p, minutes, fixed=fixed_idx, capacity=cap,
                          time_limit=time_limit)  # fmt: skip
    return solve_lscp(cost, minutes, w=w, fixed=fixed_idx, capacity=cap, time_limit=time_limit)


def plan_sites(
    network: Any = None,
    demand: Any = None,
    candidates: Any = None,
    costs: Any = None,
    *,
    model: str,
    p: int | None = None,
    minutes: float | None = None,
    capacity: str | None = None,
    fixed: Iterable[str] | None = None,
    time_limit: float | None = None,
    composition: Mapping[str, float] | None = None,
    network_type: str = "drive",
    access_speed_kph: float | None = None,
    lattice_spacing_m: float = 500.0,
    max_snap_m: float | None = 1000.0,
) -> SitingResult:
    """Choose collection sites for e-waste and report what each would receive.

    Parameters
    ----------
    network
        osmnx graph with ``travel_time``, a ``.osm``/``.osm.bz2``/``.osm.pbf`` path, or
        ``None`` when ``costs`` is given.
    demand
        GeoDataFrame/DataFrame or file (see module notes).
    candidates
        GeoDataFrame/DataFrame or file; ``None`` takes the candidates named in ``costs``,
        else a lattice over the network (:func:`ewaste_tracker.maps.network.lattice_candidates`).
    costs
        ``demand_id,candidate_id,cost`` table or file (minutes); replaces the network.
    model
        ``"pmedian"``, ``"mclp"`` or ``"lscp"``.
    p
        Number of open sites (existing fixed sites included) for p-median and MCLP.
    minutes
        Time standard for MCLP/LSCP and for the coverage figures.
    capacity
        Candidate column with capacity in t/yr.
    fixed
        Candidate ids kept open, in addition to those flagged in a ``fixed`` column.
    time_limit
        Seconds; the best solution and its gap are returned when it runs out.
    composition
        ``{element: g per t}`` applied to all demand when it has no content columns.
    network_type, access_speed_kph, lattice_spacing_m
        Passed to :func:`ewaste_tracker.maps.network.graph_from_file`,
        :func:`ewaste_tracker.maps.travel.travel_time_matrix` and the lattice.
    max_snap_m
        Demand points and candidates farther than this from the nearest network node are not
        snapped to it: demand there is unserved (listed with its distance), candidates there
        cannot be chosen (``None``: no limit).

    Returns
    -------
    SitingResult
    """
    if model not in MODELS:
        raise SitingInputError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    if demand is None:
        raise SitingInputError("demand is required")
    if network is None and costs is None:
        raise SitingInputError("give a network or a cost table")
    by_cost = costs is not None
    dem = _load(demand, read_demand, "demand", needs_location=not by_cost)
    cost_tab = _load(costs, read_costs, "costs")
    G = None
    if not by_cost:
        from ewaste_tracker.maps.network import graph_from_file, lattice_candidates

        G = graph_from_file(network, network_type=network_type) if isinstance(
            network, str | Path) else network  # fmt: skip
        if candidates is None:
            candidates = lattice_candidates(G, spacing_m=lattice_spacing_m)
    if candidates is None:
        ids = pd.unique(cost_tab["candidate_id"])
        candidates = pd.DataFrame({"candidate_id": ids})
    cand = _load(candidates, read_candidates, "candidates", capacity=capacity,
                 needs_location=not by_cost)  # fmt: skip
    d_ids, c_ids = dem["demand_id"].to_numpy(), cand["candidate_id"].to_numpy()
    if by_cost:
        from ewaste_tracker.maps.travel import long_to_matrix

        unknown = ~cost_tab["demand_id"].isin(d_ids) | ~cost_tab["candidate_id"].isin(c_ids)
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise SitingInputError(
                f"pair ({cost_tab['demand_id'].iloc[i]}, {cost_tab['candidate_id'].iloc[i]}) "
                "names a demand or candidate that is not in the inputs",
                path="costs", row=i + 2,
            )  # fmt: skip
        cost, _, _ = long_to_matrix(cost_tab, d_ids, c_ids)
    else:
        from ewaste_tracker.maps.travel import NetworkIndex, TravelError, travel_time_matrix

        try:
            index = NetworkIndex(G)
        except TravelError as exc:
            raise SitingInputError(f"unusable road network: {exc}", path=_name(network)) from exc
        if index.csr.nnz == 0:
            raise SitingInputError("the road network has no usable edges", path=_name(network))
        cut = None if model == "pmedian" else minutes
        cost = travel_time_matrix(index, dem, cand, cutoff=cut, access_speed_kph=access_speed_kph,
                                  max_snap_m=max_snap_m)  # fmt: skip
        snap_m = index.snap(dem, what="demand")[1]
    fixed_mask = cand["fixed"].to_numpy(bool).copy()
    if fixed is not None:
        pos = pd.Index(c_ids).get_indexer(list(map(str, fixed)))
        if (pos < 0).any():
            missing = [f for f, q in zip(fixed, pos, strict=True) if q < 0]
            raise SitingInputError(f"fixed site(s) not among the candidates: {missing}")
        fixed_mask[pos] = True
    w = dem["weight"].to_numpy(float)
    cap = None if capacity is None else cand[capacity].to_numpy(float)
    usable = int(np.isfinite(cost).any(axis=0).sum()) if cost.size else 0
    if p is not None and model in ("pmedian", "mclp") and p > len(c_ids):
        raise SitingInputError(f"p = {p} sites asked for, but there are only {len(c_ids)} "
                               "candidates", column="--p")  # fmt: skip
    if usable == 0:
        raise SitingInputError("no candidate site can be reached from any demand point",
                               column="--candidates")  # fmt: skip
    if cap is not None and model == "pmedian":
        reach = np.isfinite(cost).any(axis=1)
        need, have = float(w[reach].sum()), float(np.sort(cap)[::-1][: p or len(cap)].sum())
        if need > have * (1 + 1e-9):
            raise SitingInputError(
                f"the {p} largest capacities hold {have:.6g} t, the demand is {need:.6g} t: "
                "a capacitated p-median must serve all of it (raise --p or the capacities, "
                "or use mclp)", column="--capacity",
            )  # fmt: skip
    sol = _solve(model, cost, w, p=p, minutes=minutes, fixed_idx=np.flatnonzero(fixed_mask),
                 cap=cap, time_limit=time_limit)  # fmt: skip
    logger.info("%s: objective %.6g, gap %.3g, %s in %.2f s", model, sol.objective, sol.gap,
                sol.status, sol.seconds)  # fmt: skip
    result = _result(model, sol, dem, cand, cost, fixed_mask, minutes, composition,
                     {"p": p, "capacity": capacity, "max_snap_m": max_snap_m})  # fmt: skip
    if not by_cost and max_snap_m is not None and len(result.unserved):
        dist = pd.Series(snap_m, index=d_ids.astype(str))
        far = result.unserved["demand_id"].astype(str).map(dist) > max_snap_m
        result.unserved.loc[far.to_numpy(), "reason"] = [
            f"{m:,.0f} m from the road network (more than {max_snap_m:g} m)"
            for m in result.unserved["demand_id"].astype(str).map(dist)[far]
        ]
    return result


def _name(obj: Any) -> str:
    return str(obj) if isinstance(obj, str | Path) else "network"


def _result(model, sol, dem, cand, cost, fixed_mask, minutes, composition, params):
    import geopandas as gpd

    w = dem["weight"].to_numpy(float)
    d_ids, c_ids = dem["demand_id"].to_numpy(), cand["candidate_id"].to_numpy()
    tonnes = w[sol.rows] * sol.frac
    c = cost[sol.rows, sol.cols]
    asg = pd.DataFrame(
        {
            "demand_id": d_ids[sol.rows],
            "candidate_id": c_ids[sol.cols],
            "cost": c,
            "share": sol.frac,
            "tonnes": tonnes,
            "covered": (c <= minutes) if minutes is not None else np.ones(c.size, bool),
        }
    )
    served = np.bincount(sol.rows, weights=sol.frac, minlength=len(w))
    left = served < 1 - 1e-9
    reach = np.isfinite(cost).any(axis=1)
    reason = np.where(~reach, "unreachable", "not assigned")
    if minutes is not None:
        near = (cost <= minutes).any(axis=1)
        reason = np.where(reach & ~near, f"no candidate within {minutes:g} min", reason)
    uns = pd.DataFrame(
        {
            "demand_id": d_ids[left],
            "weight": w[left],
            "unserved_t": (w * (1 - np.minimum(served, 1)))[left],
            "reason": reason[left],
        }
    )
    m = len(c_ids)
    site_t = np.bincount(sol.cols, weights=tonnes, minlength=m)
    n_dem = np.bincount(sol.cols, minlength=m)
    sites = cand.loc[sol.open].copy()
    sites["fixed"] = fixed_mask[sol.open]
    sites["tonnes"] = site_t[sol.open]
    sites["n_demand"] = n_dem[sol.open]
    content = [col for col in dem.columns if col.endswith(CONTENT_SUFFIX)]
    for col in content:
        g = np.bincount(sol.cols, weights=tonnes * dem[col].to_numpy(float)[sol.rows], minlength=m)
        sites[col[: -len(CONTENT_SUFFIX)] + "_g"] = g[sol.open]
    if not content and composition:
        for el, gpt in composition.items():
            sites[f"{el.lower()}_g"] = sites["tonnes"] * float(gpt)
    keep = [col for col in sites.columns if col != sites.geometry.name] + [sites.geometry.name]
    sites = gpd.GeoDataFrame(sites[keep], geometry=sites.geometry.name, crs="EPSG:4326")
    pop = dem["population"].to_numpy(float) if "population" in dem.columns else None
    cov_b = cov_a = None
    if minutes is not None:
        cov_b = coverage(cost, fixed_mask, minutes, w, pop)
        cov_a = coverage(cost, sol.open, minutes, w, pop)
    params = {**params, "minutes": minutes, "n_demand": len(w), "n_candidates": m,
              "total_t": float(w.sum()), "solver": "HiGHS", **sol.info}  # fmt: skip
    return SitingResult(
        model, sol.objective, sol.bound, sol.gap, sol.status, sol.seconds,
        list(map(str, c_ids[sol.open])), sites.reset_index(drop=True), asg, uns, dem,
        cov_b, cov_a, params,
    )  # fmt: skip
