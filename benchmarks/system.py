"""Benchmark: the lifecycle system (dense flows, graph, mass balance) for the global workload.

Workload (synthetic but realistic, seeded): 250 regions x 54 products x 1970-2050. Lifetimes
as in ``benchmarks/stocks.py`` (Weibull shape/scale drawn from the range of the EU WEEE
Calculation Tool, Annex III; four regional regimes; 10 % shorter from 2005); the second life
of refurbished and imported used equipment has a third of the first-life scale. Transfer
coefficients are the shipped defaults ``ewaste_tracker/data/transfer_coefficients.csv`` (by
World Bank income group, calibrated to the Global E-waste Monitor 2024), regions assigned to
the four income groups in turn and written as region-specific rows. Exports: richer regions
ship 30 % of their exports as used EEE into a poorer region's use, 40 % into its informal
recycling and 30 % out of the system; poorer regions ship out of the system.

Peer: flodym's ``MFASystem`` computing the same lifecycle processes (t, r, p) from the same
coefficients, with e-waste generated *given* (taken from our result, so flodym does no
lifetime convolution and no reuse feedback) and exports to the boundary, followed by its
``check_mass_balance``. Ours does strictly more (lifetimes, second-life recurrence, trade);
both run without trade for the comparison and their flows must agree to 1e-9.

Run::

    .venv/bin/python benchmarks/system.py [--regions 250] [--products 54]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ewaste_tracker.flows.balance import check_mass_balance  # noqa: E402
from ewaste_tracker.flows.dims import Dims  # noqa: E402
from ewaste_tracker.flows.lifetimes import LifetimeTable, discard_matrix  # noqa: E402
from ewaste_tracker.flows.system import build_system, system_to_graph  # noqa: E402
from ewaste_tracker.flows.transfer import STRUCTURE, ExportDestinations, Stage, TransferCoefficients  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stocks import workload as stock_workload  # noqa: E402  (same seeded POM and lifetimes)

GROUPS = ("High income", "Upper middle income", "Lower middle income", "Low income")


def workload(n_regions: int, n_products: int, years: tuple[int, int] = (1970, 2050)):
    """Dims, POM, first- and second-life lifetimes, TCs and exports (seeded)."""
    dims, shape, scale, pom = stock_workload(n_regions, n_products, years)
    yrs = dims.years

    first = LifetimeTable.from_arrays(dims, "weibull", shape, scale)
    second = LifetimeTable.from_arrays(dims, "weibull", shape, scale / 3.0)
    lifetimes = (first.group, discard_matrix(first, yrs))
    second_life = (second.group, discard_matrix(second, yrs))

    group_of = [GROUPS[i % 4] for i in range(n_regions)]
    default = pd.read_csv(ROOT / "ewaste_tracker" / "data" / "transfer_coefficients.csv", dtype=str)
    default = default[default["un_region"].fillna("") == ""]
    table = pd.concat(
        [
            default[default.income_group == g].assign(region=r)
            for r, g in zip(dims.regions, group_of, strict=True)
        ],
        ignore_index=True,
    )[["region", "product", "year", "from_stage", "to_stage", "share"]]
    tcs = TransferCoefficients.from_frame(table, dims)

    poorer = [r for r, g in zip(dims.regions, group_of, strict=True) if g in GROUPS[2:]]
    rows = []
    for i, (r, g) in enumerate(zip(dims.regions, group_of, strict=True)):
        if g in GROUPS[:2]:
            dest = poorer[(7 * i) % len(poorer)]
            rows += [(r, dest, "use", 0.3), (r, dest, "recycling_informal", 0.4)]
            rows.append((r, "ROW", "", 0.3))
        else:
            rows.append((r, "ROW", "", 1.0))
    exports = ExportDestinations.from_frame(
        pd.DataFrame(rows, columns=["origin", "destination", "to_stage", "share"]), dims
    )
    return dims, pom, lifetimes, second_life, tcs, exports


def peer(dims: Dims, pom: np.ndarray, wg: np.ndarray, tcs: TransferCoefficients):
    """flodym MFASystem of the same processes, WG given; returns the system after its check."""
    import flodym as fd

    fdims = fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=[int(y) for y in dims.years]),
            fd.Dimension(name="region", letter="r", items=list(dims.regions)),
            fd.Dimension(name="product", letter="p", items=list(dims.products)),
        ]
    )
    trp = ("t", "r", "p")
    edges = [(a.value, b.value) for a, out in STRUCTURE.items() for b in out]
    edges += [("sysenv", "manufacture"), ("export", "sysenv")]
    processes = fd.make_processes(["sysenv", *(s.value for s in Stage)])
    flows = fd.make_empty_flows(
        processes,
        [fd.FlowDefinition(from_process=a, to_process=b, dim_letters=trp) for a, b in edges],
        fdims,
    )
    stock_defs = [
        fd.StockDefinition(name=s, process=s, dim_letters=trp, subclass=fd.SimpleFlowDrivenStock)
        for s in ("use", "recovered", "disposed", "losses")
    ]
    stocks = fd.make_empty_stocks(stock_defs, processes, fdims)
    shape = (len(dims.regions), len(dims.products), len(dims.years))
    params = {
        f"{a.value}->{b.value}": fd.Parameter(
            name=f"{a.value}->{b.value}",
            dims=fdims,
            values=np.moveaxis(np.broadcast_to(v, shape), -1, 0),
        )
        for (a, b), v in tcs.shares.items()
    }

    class Lifecycle(fd.MFASystem):
        def compute(self) -> None:
            f, p = self.flows, self.parameters
            to_t = lambda a: np.moveaxis(a, -1, 0)  # noqa: E731
            f["sysenv => manufacture"][...] = to_t(pom)
            f["manufacture => market"][...] = f["sysenv => manufacture"]
            f["market => use"][...] = f["manufacture => market"]
            f["use => generated"][...] = to_t(wg)
            order = ["generated", "collection_formal", "collection_informal", "refurbishment"]
            order += ["preprocessing", "endprocessing", "recycling_informal", "residual"]
            for node in order:
                inflow = sum(fl for fl in f.values() if fl.to_process.name == node)
                for target in STRUCTURE[Stage(node)]:
                    f[f"{node} => {target.value}"][...] = inflow * p[f"{node}->{target.value}"]
            f["export => sysenv"][...] = (
                f["collection_formal => export"] + f["collection_informal => export"]
            )
            for name, stock in self.stocks.items():
                stock.inflow[...] = sum(fl for fl in f.values() if fl.to_process.name == name)
                stock.outflow[...] = sum(fl for fl in f.values() if fl.from_process.name == name)
                stock.compute()

    mfa = Lifecycle(dims=fdims, parameters=params, processes=processes, flows=flows, stocks=stocks)
    mfa.compute()
    mfa.check_mass_balance()
    return mfa


def _best(fn, repeat: int) -> tuple[float, float, object]:
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu, out


def run(n_regions: int = 250, n_products: int = 54) -> dict:
    """Time build_system / system_to_graph / check_mass_balance and the flodym peer."""
    dims, pom, life, second, tcs, exports = workload(n_regions, n_products)
    kw = {"second_life": second, "exports": exports}
    build_system(pom, dims, tcs, life, **kw)  # warm-up
    out = {}
    out["build_wall"], out["build_cpu"], res = _best(
        lambda: build_system(pom, dims, tcs, life, **kw), 5
    )
    out["graph_wall"], out["graph_cpu"], G = _best(lambda: system_to_graph(res), 5)
    out["balance_wall"], out["balance_cpu"], _ = _best(lambda: check_mass_balance(G), 3)
    tracemalloc.start()
    build_system(pom, dims, tcs, life, **kw)
    out["build_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    out["iterations"] = res.iterations
    out["nodes"], out["edges"] = G.number_of_nodes(), G.number_of_edges()

    # comparison without trade (the peer has no inter-regional links)
    local = {"second_life": second}
    out["ours_wall"], out["ours_cpu"], res0 = _best(
        lambda: check_mass_balance(system_to_graph(build_system(pom, dims, tcs, life, **local))), 3
    )
    res0 = build_system(pom, dims, tcs, life, **local)
    out["peer_wall"], out["peer_cpu"], mfa = _best(lambda: peer(dims, pom, res0.generated, tcs), 2)
    diff = 0.0
    for (a, b), arr in res0.flows.items():
        theirs = np.moveaxis(mfa.flows[f"{a} => {b}"].values, 0, -1)
        diff = max(diff, float(np.max(np.abs(theirs - arr))))
    out["max_abs_diff_t"] = diff
    out["ratio"] = out["peer_wall"] / out["ours_wall"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=250)
    parser.add_argument("--products", type=int, default=54)
    args = parser.parse_args()
    r = run(args.regions, args.products)
    print(f"workload: {args.regions} regions x {args.products} products x 81 years")
    ms = {k: v * 1e3 for k, v in r.items() if k.endswith(("_wall", "_cpu"))}
    print(
        f"build_system       : {ms['build_wall']:7.1f} ms wall, {ms['build_cpu']:7.1f} ms CPU, "
        f"peak {r['build_peak_mb']:.0f} MB, same-year trade iterations {r['iterations']}"
    )
    print(
        f"system_to_graph    : {ms['graph_wall']:7.1f} ms wall, {ms['graph_cpu']:7.1f} ms CPU "
        f"({r['nodes']} nodes, {r['edges']} edges)"
    )
    print(
        f"check_mass_balance : {ms['balance_wall']:7.1f} ms wall, {ms['balance_cpu']:7.1f} ms CPU"
    )
    print(f"ours, no trade, build+graph+balance : {r['ours_wall'] * 1e3:8.1f} ms")
    print(f"flodym MFASystem (WG given) + check : {r['peer_wall'] * 1e3:8.1f} ms")
    print(f"ratio flodym / ours                 : {r['ratio']:8.2f}x")
    print(f"largest flow difference             : {r['max_abs_diff_t']:.2e} t")


if __name__ == "__main__":
    main()
