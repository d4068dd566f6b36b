"""Benchmark the whole engine on the global workload and the stock step against flodym.

Workload: 250 regions × 54 UNU-KEYs × 1970–2050 × the catalogue's elements (21: 19 metals,
lead and plastics), with the catalogue's Weibull lifetimes, the calibrated default transfer
coefficients of the four income groups spread over the regions, second-life lifetimes, used
equipment shipped from richer to poorer regions, composition, recovery and prices. Put on
market is drawn once from a seeded generator with a realistic range (tonnes per region,
product and year growing over time).

Steps timed (one process, best of ``--repeat``): reading nothing from disk, the run goes
through :func:`ewaste_tracker.model.run.run_model` — lifetime tables and discard matrices, stocks
and the lifecycle system with reuse and trade, the graph, minerals by route, and the indicator
table. Peak memory is the process's resident high-water mark over the timed runs (reset after the
inputs are built, Linux ``clear_refs``; each run's result is dropped before the next), so it
counts the inputs, the libraries and one run's result and temporaries.

**Floor.** The run's hardware floor is measured in the same process: every array the run
returns (flows, stocks and stock changes, trade, imports, element routes, the indicator
table's columns) is copied once into preallocated arrays of the same size (``np.copyto``, best
of ``--repeat``): a run cannot cost less than writing its results once. The ratio run /
floor is printed against the goal of 3x, with the machine's load average (other processes
share the cores: figures under load are inflated, the ratio less so).

The stock step is also timed against flodym's ``InflowDrivenDSM`` at full size in the same run
(:mod:`benchmarks.stocks`), and the ratio printed.

Usage::

    .venv/bin/python benchmarks/engine.py [--repeat 3] [--regions 250]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewaste_tracker import catalog
from ewaste_tracker.model.folder import catalogue_tables
from ewaste_tracker.model.run import ModelInputs, RunResult, run_model

GROUPS = ("High income", "Upper middle income", "Lower middle income", "Low income")


def workload(n_regions: int = 250, first: int = 1970, last: int = 2050) -> ModelInputs:
    """Build the global workload's input tables (seeded)."""
    rng = np.random.default_rng(20261124)
    regions = [f"R{i:03d}" for i in range(n_regions)]
    products = catalog.products()["unu_key"].tolist()
    years = np.arange(first, last + 1)
    idx = pd.MultiIndex.from_product(
        [regions, products, years], names=["region", "product", "year"]
    )
    level = rng.lognormal(mean=6.0, sigma=1.5, size=(n_regions, len(products), 1))
    growth = np.exp(0.04 * (years - first))[None, None, :]
    pom = level * growth * rng.uniform(0.8, 1.2, (n_regions, len(products), len(years)))
    pom_frame = pd.DataFrame({"pom_t": pom.ravel()}, index=idx).reset_index()

    income = {r: GROUPS[i % 4] for i, r in enumerate(regions)}
    base = catalog.default_transfer_coefficients(None)
    rows = []
    for r in regions:
        sub = base[base["income_group"] == income[r]].drop(columns=["income_group"])
        rows.append(sub.assign(region=r))
    tcs = pd.concat(rows, ignore_index=True)
    tcs = tcs.drop(columns=[c for c in ("un_region", "source") if c in tcs.columns])

    rich = [r for r in regions if income[r] == "High income"]
    poor = [r for r in regions if income[r] in ("Low income", "Lower middle income")][:8]
    exports = pd.DataFrame(
        [
            (o, d, stage, 1.0 / (2 * len(poor)))
            for o in rich
            for d in poor
            for stage in ("use", "recycling_informal")
        ],
        columns=["origin", "destination", "to_stage", "share"],
    )
    return ModelInputs(
        pom=pom_frame,
        transfer_coefficients=tcs,
        exports=exports,
        **catalogue_tables(),
        population=None,
        groups={r: income[r] for r in regions},
        years=(first, last),
    )


def _timed(fn, repeat: int, cpu: list[float] | None = None):
    """Best wall time of ``fn()`` over ``repeat`` calls and the last result; the previous
    result is dropped before each call (one run's memory, not two); the best CPU time
    (process, both cores) is appended to ``cpu``."""
    best, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        out = None
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    if cpu is not None:
        cpu.append(best_cpu)
    return best, out


def reset_peak_memory() -> bool:
    """Reset the process's resident high-water mark (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory_mb() -> float:
    """Resident high-water mark since :func:`reset_peak_memory` (else since start), MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def result_arrays(result: RunResult) -> list[np.ndarray]:
    """Every array a run returns (the bytes it must write at least once)."""
    system = result.system
    arrays = [*system.flows.values(), *system.stocks.values(), *system.stock_changes.values(),
              system.trade_flows, *system.imports.values(), result.element_generated]  # fmt: skip
    for route in result.elements.routes.values():
        arrays += [route.input_t, route.recovered_t, route.lost_t, *route.losses.values()]
    for column in result.indicators.columns:
        values = result.indicators[column].array
        arrays.append(np.asarray(getattr(values, "codes", values)))
    return [np.ascontiguousarray(a) for a in arrays if isinstance(a, np.ndarray) and a.size]


def floor_copy(arrays: list[np.ndarray], repeat: int) -> tuple[float, int]:
    """Best time of copying ``arrays`` once into preallocated arrays, and their bytes."""
    dest = [np.empty_like(a) for a in arrays]
    for d in dest:
        d.fill(0)  # fault the pages in before timing
    best = np.inf
    for _ in range(max(repeat, 5)):
        t0 = time.perf_counter()
        for a, d in zip(arrays, dest, strict=True):
            np.copyto(d, a)
        best = min(best, time.perf_counter() - t0)
    return best, sum(a.nbytes for a in arrays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regions", type=int, default=250)
    parser.add_argument("--skip-flodym", action="store_true")
    args = parser.parse_args(argv)

    load0 = os.getloadavg()[0]
    inputs = workload(args.regions)
    n_el = inputs.composition["element"].nunique()
    print(
        f"workload: {args.regions} regions x 54 products x 1970-2050 x {n_el} elements, "
        f"{len(inputs.pom):,} POM rows"
    )
    run_model(inputs)  # warm-up (imports, caches)
    # peak memory of one run: the inputs, the libraries and one run's result and
    # temporaries (the high-water mark is reset after the inputs are built)
    exact_peak = reset_peak_memory()
    cpu: list[float] = []
    t_run, result = _timed(lambda: run_model(inputs), args.repeat, cpu)
    peak_mb = peak_memory_mb()
    assert isinstance(result, RunResult)
    t_graph, G = _timed(result.graph, args.repeat)
    print(
        f"whole run (stocks, system with reuse and trade, minerals, indicators): "
        f"{t_run * 1e3:8.1f} ms   (goal <= 1000 ms); CPU {cpu[0] * 1e3:.1f} ms"
    )
    print(
        f"lifecycle graph (networkx, {G.number_of_nodes()} nodes, "
        f"{G.number_of_edges()} edges):          {t_graph * 1e3:8.1f} ms"
    )
    print(
        f"whole run + graph:  {(t_run + t_graph) * 1e3:8.1f} ms;  peak memory of one run "
        f"{peak_mb:,.0f} MB{'' if exact_peak else ' (process maximum)'} (goal <= 1024 MB)"
    )
    print(f"indicator rows: {len(result.indicators):,}")
    t_floor, nbytes = floor_copy(result_arrays(result), args.repeat)
    print(
        f"floor (one copy of the run's {nbytes / 2**30:.2f} GiB of result arrays, "
        f"{2 * nbytes / 2**30 / t_floor:.1f} GiB/s read + write): {t_floor * 1e3:8.1f} ms; "
        f"ratio run / floor {t_run / t_floor:.1f}x (goal <= 3x)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (before: {load0:.1f})")

    if not args.skip_flodym:
        import stocks as stock_bench

        s = stock_bench.run(n_regions=args.regions, n_products=54, years=(1970, 2050))
        print(
            f"stock step: ours {s['ours_s'] * 1e3:.1f} ms, flodym {s['flodym_s'] * 1e3:.1f} ms"
            f"{' (extrapolated from subsets)' if s['flodym_extrapolated'] else ' (measured)'}; "
            f"ratio flodym/ours {s['ratio']:.1f}x (goal >= 20x); "
            f"max relative WG difference {s['max_rel_diff']:.1e}"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
