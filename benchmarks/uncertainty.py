"""Monte Carlo bands of the global model: time per draw, 1 → 2 Dask workers, memory, coverage.

Usage::

    python benchmarks/uncertainty.py [--draws 40] [--batch 4] [--coverage-draws 100]
                                     [--skip-dask] [--skip-coverage]

Prints the machine's load (the machine may be shared: compare the ratios printed, measured in
the same run), then

* **time per draw** of the 239-region world model in one process, batches of ``--batch``
  draws as one tiled engine run, against the central run (one draw's peer);
* **1 → 2 workers**: the same draws on a ``LocalCluster`` of one, then two single-threaded
  worker processes; the speed-up is the ratio of the two wall times;
* **peak memory** (maximum resident set of this process, so of one batch plus the kept
  cells) and the projection for 10,000 draws;
* **coverage**: the share of held-out published figures (``data/published_figures.csv``,
  ``role = held_out``: GEM 2017 and GEM 2020 figures not used in any fit) inside the 5-95 %
  band, and the median relative width ``(p95 - p5) / p50`` of e-waste generated over every
  country in 2019 and 2022.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import resource
import time

import numpy as np
import pandas as pd

import ewaste_tracker as et
from ewaste_tracker import catalog
from ewaste_tracker.model.run import run_model
from ewaste_tracker.uncertainty.bands import run_bands
from ewaste_tracker.uncertainty.draws import Spreads

SCALE = {"Mt": 1e6, "kt": 1e3, "t": 1.0}


def peak_gb() -> float:
    """Maximum resident set size of this process so far, GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def coverage(est: et.Estimate) -> tuple[pd.DataFrame, float]:
    """Held-out figures with the band, and the median relative width of generated_t."""
    ind = est.indicators
    ind = ind[ind["element"].isna()].set_index(["region", "indicator", "year"])
    pub = catalog.published_figures()
    pub = pub[pub["role"] == "held_out"]
    rows = []
    for p in pub.to_dict("records"):
        key = (str(p["scope"]), str(p["indicator"]), int(p["year"]))
        if key not in ind.index:
            continue
        r = ind.loc[key]
        value = float(p["value"]) * SCALE.get(str(p["unit"]), 1.0)
        rows.append({"edition": p["edition"], "scope": key[0], "indicator": key[1],
                     "year": key[2], "published": value, "value": float(r["value"]),
                     "p5": float(r["p5"]), "p50": float(r["p50"]), "p95": float(r["p95"]),
                     "inside": bool(r["p5"] <= value <= r["p95"])})  # fmt: skip
    table = pd.DataFrame(rows)
    gen = ind.reset_index()
    gen = gen[(gen["indicator"] == "generated_t") & gen["year"].isin([2019, 2022])
              & (gen["region"].str.len() == 3) & (gen["region"] != "WLD")]  # fmt: skip
    width = float(np.nanmedian((gen["p95"] - gen["p5"]) / gen["p50"]))
    return table, width


class TreeMemory:
    """Samples the resident memory of this process and its children (the Dask scheduler's
    workers) twice a second; ``peak`` is the largest total seen, ``peak_main`` this
    process's."""

    def __init__(self) -> None:
        import threading

        import psutil

        self.proc, self.peak, self.peak_main = psutil.Process(), 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.stop.wait(0.5):
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for q in procs:
                    with contextlib.suppress(psutil.Error):
                        total += q.memory_info().rss
                self.peak = max(self.peak, total)
                self.peak_main = max(self.peak_main, self.proc.memory_info().rss)
            except psutil.Error:
                continue

    def close(self) -> tuple[float, float]:
        self.stop.set()
        self.thread.join()
        return self.peak / 2**30, self.peak_main / 2**30


def full_run(draws: int, batch: int, workers: int) -> None:
    """``draws`` draws of the world's indicators on a LocalCluster, timed, with the peak
    memory of every process together (the 10,000-draw figure of README)."""
    watch = TreeMemory()
    est = et.estimate(reported=False)
    t0 = time.perf_counter()
    bands = run_bands(est.inputs, draws=draws, batch=batch, seed=7, workers=workers)
    wall = time.perf_counter() - t0
    total, main_gb = watch.close()
    q = bands.quantiles
    ordered = bool(np.all(q[:, 0] <= q[:, 1]) & np.all(q[:, 1] <= q[:, 2]))
    print(f"{draws:,} draws of the world ({q.shape[0]:,} indicator cells, {bands.method}) on "
          f"{bands.workers} workers, batch {batch}: {wall:.0f} s ({wall / 3600:.2f} h, "
          f"{wall / draws:.3f} s per draw); peak memory {total:.2f} GB for every process "
          f"together, {main_gb:.2f} GB of it the client; p5 <= p50 <= p95 in every cell: "
          f"{ordered}; load average after {os.getloadavg()}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--coverage-draws", type=int, default=100)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-coverage", action="store_true")
    parser.add_argument(
        "--full",
        type=int,
        default=0,
        metavar="N",
        help="only run N draws of the world on --workers LocalCluster workers",
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()} (shared machine)")
    if args.full:  # hours: say where it is (the draws' progress, once a minute)
        logging.basicConfig(format="%(asctime)s %(message)s", level=logging.WARNING)
        logging.getLogger("ewaste_tracker.uncertainty").setLevel(logging.INFO)
        full_run(args.full, args.batch, args.workers)
        return 0
    est = et.estimate(reported=False)
    t0 = time.perf_counter()
    run_model(est.inputs)
    central = time.perf_counter() - t0
    print(f"central run (peer, one draw's work): {central:.2f} s; peak {peak_gb():.2f} GB")

    t0 = time.perf_counter()
    # the bounded-memory mode 10,000 draws of the world use: its memory does not grow with N
    bands = run_bands(est.inputs, draws=args.draws, batch=args.batch, seed=1, method="sketch")
    local = time.perf_counter() - t0
    per_draw = (local - central) / args.draws  # run_bands also runs the central once
    cells = bands.quantiles.shape[0]
    print(f"{args.draws} draws in one process (batch {args.batch}): {local:.1f} s, "
          f"{per_draw:.2f} s per draw = {per_draw / central:.2f} x the central run")  # fmt: skip
    print(
        f"peak memory, histogram sketch of {cells:,} cells + batch {args.batch}: "
        f"{peak_gb():.2f} GB (independent of the number of draws: the same for 10,000)"
    )
    proj = 10_000 * per_draw
    print(f"10,000 draws projected: {proj / 3600:.1f} h on this machine in one process "
          f"(exact percentiles would keep {4e4 * cells / 2**30:.0f} GB of draws)")  # fmt: skip

    if not args.skip_dask:
        # exact percentiles: every draw goes to the workers (the sketch computes its first
        # PILOT draws in the client, which would dilute the comparison)
        times, quantiles = {}, {}
        for n in (1, 2):
            t0 = time.perf_counter()
            b = run_bands(est.inputs, draws=args.draws, batch=args.batch, seed=1, workers=n,
                          method="exact")  # fmt: skip
            times[n] = time.perf_counter() - t0
            quantiles[n] = b.quantiles
            print(f"LocalCluster {n} worker(s), {args.draws} draws: {times[n]:.1f} s "
                  f"(cluster start, scatter and the central run included)")  # fmt: skip
        same = np.array_equal(quantiles[1], quantiles[2])
        print(f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f}x (identical bands: {same})")

    if not args.skip_coverage:
        t0 = time.perf_counter()
        banded = et.estimate(reported=False, draws=args.coverage_draws, seed=7,
                             batch=args.batch)  # fmt: skip
        table, width = coverage(banded)
        print(f"\ncoverage ({args.coverage_draws} draws, {time.perf_counter() - t0:.0f} s):")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"held-out figures inside the 5-95 % band: {table['inside'].mean():.0%} "
              f"({int(table['inside'].sum())}/{len(table)})")  # fmt: skip
        print(f"median relative width (p95 - p5) / p50 of generated_t, countries 2019 and "
              f"2022: {width:.2f}")  # fmt: skip
        print(f"spreads: {Spreads()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
