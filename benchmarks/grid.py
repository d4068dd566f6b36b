"""Benchmark: downscale one country at 30″ and aggregate to 500 polygons, against rasterstats.

Germany (Natural Earth outline) on a 30″ grid (> 1 million cells) weighted by the default
population grid; its e-waste generated (Europe's 17.6 kg per inhabitant in 2022, Global
E-waste Monitor 2024, times Natural Earth's population) is downscaled to cells and summed into
500 Voronoi polygons around the largest GeoNames towns. The same sums are computed with
``rasterstats.zonal_stats`` and with ``exactextract`` (``exact_extract(..., "sum")`` on the
same array; it weights each cell by the fraction the polygon covers, where ours and
rasterstats take the cells whose centres fall inside, so its sums differ along the borders)
in the same run, and the ratios of times are printed with the machine's load average. Goal:
ours <= 2 s.

``--usa`` times the United States at 30″ (about 80 million cells over its bounds, Alaska
included): the first build of the default population grid (in row blocks, straight into the
memory-mapped file of a temporary cache folder) with its CPU time and peak memory, then a
second map's grid read back from that cache plus the downscaling of the country's e-waste onto
it (goal <= 5 s warm), against the floor of one read and one write of the grid in the same
run. ``--usa-reference`` also builds the grid whole (the build before row blocks, kept in
``tests/maps/legacy_population.py``) and prints how close the two are; ``--usa-only`` skips
Germany.

``--validate`` also compares the default 5′ grid, summed to 1°, with CIESIN GPW v4 (2020,
1°) when ``../shared/data`` is present: Pearson correlation over populated cells and the
share of population in the right cell, Σ min(d, g) / Σ g with both grids scaled to shares
(and unscaled).

Run::

    .venv/bin/python benchmarks/grid.py [--usa [--usa-reference]] [--usa-only] [--validate]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ewaste_tracker.maps.grid import aggregate, downscale  # noqa: E402
from ewaste_tracker.maps.population import (  # noqa: E402
    cities_from_geonames,
    default_population_grid,
)
from ewaste_tracker.maps.raster_io import grid_from_geotiff  # noqa: E402

logger = logging.getLogger("benchmarks.grid")

EUROPE_KG_PER_INHABITANT = 17.6  # Global E-waste Monitor 2024, Europe, 2022
GPW = ROOT.parent / "shared" / "data" / "gpw_v4_population_count_rev11_2020_1_deg.asc"


def natural_earth() -> gpd.GeoDataFrame:
    """Natural Earth 1:110m countries shipped in pyogrio's test fixtures, with ``iso3``."""
    import pyogrio

    path = Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres"
    ne = gpd.read_file(path / "naturalearth_lowres.shp")
    ne["iso3"] = ne["iso_a3"].where(ne["iso_a3"] != "-99", ne["name"])
    return ne


def voronoi_zones(country: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """``n`` Voronoi polygons around the country's largest towns, clipped to its outline."""
    outline = country.geometry.union_all()
    towns = cities_from_geonames()
    pts = gpd.GeoSeries(gpd.points_from_xy(towns["lon"], towns["lat"]), crs=4326)
    inside = towns[pts.within(outline).to_numpy()].nlargest(n, "population")
    if len(inside) < n:
        raise RuntimeError(f"only {len(inside)} towns in the outline, need {n}")
    seeds = shapely.multipoints(np.c_[inside["lon"], inside["lat"]])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline.envelope))
    cells = shapely.intersection(cells, outline)
    frame = gpd.GeoDataFrame({"zone": np.arange(len(cells))}, geometry=cells, crs=4326)
    return frame[~frame.is_empty & frame.geom_type.isin(["Polygon", "MultiPolygon"])]


def bench(repeat: int) -> None:
    """Time downscale + aggregate against rasterstats.zonal_stats."""
    from rasterstats import zonal_stats

    ne = natural_earth()
    deu = ne[ne["iso3"] == "DEU"]
    t0 = time.perf_counter()
    weights = default_population_grid(deu, resolution=1 / 120, bounds=tuple(deu.total_bounds))
    t_default = time.perf_counter() - t0
    zones = voronoi_zones(deu, 500)
    total = pd.Series({"DEU": float(deu["pop_est"].iloc[0]) * EUROPE_KG_PER_INHABITANT / 1000.0})
    print(f"grid {weights.shape} = {weights.shape[0] * weights.shape[1]:,} cells at 30″")
    print(f"default population grid for DEU at 30″ built in {t_default:.2f} s")
    print(f"{len(zones)} Voronoi polygons; e-waste total {total.iloc[0]:,.0f} t")

    ours = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        grid = downscale(total, deu, weights, id_column="iso3")
        sums = aggregate(grid, zones, id_column="zone")
        ours.append(time.perf_counter() - t0)
    t_ours = min(ours)

    t0 = time.perf_counter()
    grid = downscale(total, deu, weights, id_column="iso3")
    t_down = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        stats = zonal_stats(zones, grid.data, affine=grid.transform, stats=["sum"], nodata=-1.0)
        t_peer = time.perf_counter() - t0 + t_down
    peer = pd.Series([s["sum"] or 0.0 for s in stats], index=zones["zone"].to_numpy())
    diff = float((sums.reindex(peer.index) - peer).abs().max())
    covered = sums.sum() + sums.attrs["uncovered"]
    print(
        f"conservation: |sum(cells) - total| = {abs(grid.data.sum() - total.iloc[0]):.3g} t; "
        f"polygons + uncovered = {covered:,.3f} t"
    )
    print(f"ours  downscale + aggregate: {t_ours:.3f} s (best of {repeat}; goal <= 2 s)")
    print(f"peer  downscale + rasterstats.zonal_stats: {t_peer:.3f} s")
    print(f"ratio peer / ours = {t_peer / t_ours:.1f}x; max |difference| of sums = {diff:.3g} t")
    try:
        from exactextract import exact_extract
        from exactextract.raster import NumPyRasterSource
    except ImportError:
        print("exactextract is not installed: its comparison is skipped")
    else:
        tr, (rows, cols) = grid.transform, grid.data.shape
        xmin, ymax = tr.c, tr.f
        xmax, ymin = xmin + tr.a * cols, ymax + tr.e * rows
        t0 = time.perf_counter()
        grid = downscale(total, deu, weights, id_column="iso3")
        raster = NumPyRasterSource(grid.data, xmin, ymin, xmax, ymax, nodata=-1.0)
        frame = exact_extract(raster, zones, "sum", include_cols=["zone"], output="pandas")
        t_exact = time.perf_counter() - t0
        exact = pd.Series(frame["sum"].to_numpy(), index=frame["zone"].to_numpy())
        rel = float(((sums.reindex(exact.index) - exact).abs() / exact.abs().clip(lower=1e-9))
                    .median())  # fmt: skip
        print(f"peer  downscale + exactextract (fractional coverage): {t_exact:.3f} s; "
              f"ratio exactextract / ours = {t_exact / t_ours:.1f}x; median relative "
              f"difference of polygon sums {rel:.2%} (partial border cells)")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def validate() -> None:
    """Compare the default 5′ grid, summed to 1°, with GPW v4 2020 at 1°."""
    if not GPW.is_file():
        print(f"skipped validation: {GPW} is absent")
        return
    ne = natural_earth()
    gpw = np.nan_to_num(grid_from_geotiff(GPW).data)
    empty = pd.DataFrame({"lon": [], "lat": [], "population": []})
    for label, kwargs in [("default model", {}), ("land only (no cities)", {"cities": empty})]:
        grid = default_population_grid(ne, **kwargs)
        d = grid.data.reshape(180, 12, 360, 12).sum(axis=(1, 3))
        populated = (gpw > 0) | (d > 0)
        r = np.corrcoef(d[populated], gpw[populated])[0, 1]
        r_log = np.corrcoef(np.log1p(d[populated]), np.log1p(gpw[populated]))[0, 1]
        share = np.minimum(d / d.sum(), gpw / gpw.sum()).sum()
        share_abs = np.minimum(d, gpw).sum() / gpw.sum()
        print(
            f"{label:>22}: Pearson r = {r:.3f} (log1p {r_log:.3f}) over {populated.sum():,} "
            f"populated 1° cells; right-cell share {share:.3f} (as shares), "
            f"{share_abs:.3f} (counts; totals {d.sum() / 1e9:.2f} vs {gpw.sum() / 1e9:.2f} bn)"
        )


class _Memory:
    """Peak resident memory of this process, sampled every 20 ms from ``/proc/self/status``.

    ``RssAnon`` is the process's own memory (arrays, the interpreter); ``RssFile`` counts
    pages of mapped files, such as the kept grid being written, which the kernel can drop.
    """

    def __init__(self) -> None:
        import threading

        self.base = self.read()
        self.peak = dict(self.base)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def read() -> dict[str, float]:
        out = {"RssAnon": 0.0, "RssFile": 0.0}
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    key, _, value = line.partition(":")
                    if key in out:
                        out[key] = int(value.split()[0]) / 2**20  # kB -> GB
        except OSError:
            pass
        return out

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for key, value in self.read().items():
                self.peak[key] = max(self.peak[key], value)

    def __enter__(self) -> _Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def usa(reference: bool) -> None:
    """The United States at 30″: cold build (cached) and warm read + downscale."""
    import resource
    import tempfile

    from ewaste_tracker.jobs.grid_cache import population_grid

    ne = natural_earth()
    zone = ne[ne["iso3"] == "USA"][["iso3", "pop_est", "geometry"]]
    zone = zone.rename(columns={"pop_est": "population"})
    res = 1 / 120
    w, s_, e, n = zone.total_bounds
    bounds = (w - res, s_ - res, e + res, n + res)
    total = pd.Series({"USA": float(zone["population"].iloc[0]) * 21.0 / 1000.0})
    with tempfile.TemporaryDirectory() as folder:
        os.environ["EWASTE_TRACKER_CACHE"] = folder
        c0, t0 = _cpu(), time.perf_counter()
        with _Memory() as memory:
            grid, hit = population_grid(zone, resolution=res, bounds=bounds)
        t_cold, c_cold = time.perf_counter() - t0, _cpu() - c0
        cells = grid.shape[0] * grid.shape[1]
        if reference:
            from tests.maps.legacy_population import legacy_population_grid

            t0 = time.perf_counter()
            whole = legacy_population_grid(zone, resolution=res, bounds=bounds,
                                           pop_column="population")  # fmt: skip
            t_whole = time.perf_counter() - t0
            blocked = np.asarray(grid.data)
            diff = np.abs(blocked - whole.data)
            print(f"  whole-grid reference build {t_whole:.1f} s; blocked vs reference: max "
                  f"|difference| {diff.max():.3g} people ({diff.max() / whole.data.max():.2g} "
                  f"of the largest cell), {np.count_nonzero(diff):,} cells differ, totals "
                  f"{float(blocked.sum()):,.3f} vs {float(whole.data.sum()):,.3f}")  # fmt: skip
            del whole, diff
        del grid
        warm, floor, cpu = [], [], []
        for _ in range(3):
            c0, t0 = _cpu(), time.perf_counter()
            grid, hit = population_grid(zone, resolution=res, bounds=bounds)
            out = downscale(total, zone, grid, id_column="iso3")
            warm.append(time.perf_counter() - t0)
            cpu.append(_cpu() - c0)
            assert hit
            t0 = time.perf_counter()
            copy = np.multiply(np.asarray(grid.data), 1.0)  # the floor: read it, write as much
            floor.append(time.perf_counter() - t0)
            del copy
        err = abs(float(out.data.sum()) - total.iloc[0]) / total.iloc[0]
        size = sum(p.stat().st_size for p in Path(folder, "grids").iterdir()) / 1e9
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    best = int(np.argmin(warm))
    print(f"USA at 30″: {grid.shape} = {cells:,} cells; kept file {size:.2f} GB")
    print(f"  first build (default population grid, in row blocks into the kept file): "
          f"{t_cold:.1f} s wall, {c_cold:.1f} s CPU; peak process memory "
          f"{memory.peak['RssAnon']:.2f} GB ({memory.peak['RssAnon'] - memory.base['RssAnon']:.2f} "
          f"GB above the {memory.base['RssAnon']:.2f} GB before), plus up to "
          f"{memory.peak['RssFile'] - memory.base['RssFile']:.2f} GB of the kept file's pages "
          f"mapped (page cache)")  # fmt: skip
    print(f"  warm: grid read from the cache + downscale {warm[best]:.2f} s (best of 3, "
          f"{cpu[best]:.2f} s CPU; goal <= 5 s); floor (one read and one write of the grid) "
          f"{min(floor):.2f} s, ratio {warm[best] / min(floor):.1f}x; total kept to {err:.1e}; "
          f"max RSS of the run {max_rss:.2f} GB")  # fmt: skip


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--validate", action="store_true", help="compare with GPW at 1°")
    parser.add_argument("--usa", action="store_true", help="the United States at 30″, cached")
    parser.add_argument("--usa-reference", action="store_true",
                        help="with --usa, also build the USA grid whole (the reference) and "
                             "compare (about a minute and 6 GB)")  # fmt: skip
    parser.add_argument("--usa-only", action="store_true", help="skip the Germany benchmark")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.usa_only:
        bench(args.repeat)
    if args.usa or args.usa_only:
        usa(args.usa_reference)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.validate:
        validate()


if __name__ == "__main__":
    main()
