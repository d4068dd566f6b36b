"""Benchmark: minerals + indicators at the global size, against peers in the same run.

Workload: 250 regions x 54 products x 81 years (1970-2050) x 20 elements, seeded synthetic
data. Times (best of ``--repeat``) and the tracemalloc peak of:

* ``element_flows`` (batched BLAS matmul) vs ``np.einsum`` without path optimisation and vs
  the broadcast (R, P, N, E) product summed over products;
* ``recovery`` for four routes, ``element_flows_to_frame``;
* ``indicators_frame`` on the headline indicators vs a pandas ``groupby`` implementation of
  the same (long table, group sums, world and groups, ratio of sums);
* the whole minerals + indicators step (headline + collection target + 20 elements x 6 +
  MCI, world and six groups, and the element-flow frame).

Run from the repository root: ``python benchmarks/minerals_indicators.py``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewaste_tracker.flows.circularity import circularity_from_flows
from ewaste_tracker.flows.indicators import indicators_frame
from ewaste_tracker.flows.minerals import (
    ElementFlows,
    element_flows,
    element_flows_to_frame,
    recovery,
)

logger = logging.getLogger("benchmarks.minerals_indicators")
R, P, N, E = 250, 54, 81, 20


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mb(fn: Callable[[], object]) -> float:
    """tracemalloc peak of one call, MB (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    regions = [f"R{i:03d}" for i in range(R)]
    years = np.arange(1970, 1970 + N)
    elements = [f"E{i:02d}" for i in range(E)]
    pom = rng.gamma(2.0, 100.0, (R, P, N))
    gen = 0.8 * pom
    collected = 0.3 * gen
    comp = rng.uniform(0, 1000, (P, E, N))  # g/t, varying by year (the harder case)
    eff = {k: rng.uniform(0, 1, E) for k in ("formal_pre", "formal_end", "informal", "residual")}
    inputs = {
        "formal": 0.25 * gen,
        "informal": 0.1 * gen,
        "residual": 0.5 * gen,
        "exported": 0.05 * gen,
    }
    prices = rng.uniform(1, 1e3, E)
    pop = rng.uniform(1e5, 1e8, (R, N))
    groups = {r: f"G{i % 6}" for i, r in enumerate(regions)}
    flows = {
        ("market", "use"): pom,
        ("use", "generated"): gen,
        ("refurbishment", "use"): 0.05 * gen,
        ("collection_formal", "preprocessing"): collected,
        ("endprocessing", "recovered"): 0.2 * gen,
        ("generated", "residual"): 0.5 * gen,
    }

    def engine() -> tuple[pd.DataFrame, pd.DataFrame]:
        res = recovery(inputs, comp, eff, elements=elements)
        return all_indicators(res), element_flows_to_frame(
            res, regions=regions, years=years, prices=prices
        )

    def all_indicators(res: ElementFlows) -> pd.DataFrame:
        return indicators_frame(
            regions=regions,
            years=years,
            pom=pom,
            generated=gen,
            stock=5 * pom,
            collected_formal=collected,
            recycled_formal=0.8 * collected,
            population=pop,
            element_recovery=res,
            element_generated=element_flows(gen, comp),
            prices=prices,
            collection_target=0.65,
            circularity=circularity_from_flows(flows, recycled_content=0.1),
            groups=groups,
        )

    def einsum_plain() -> np.ndarray:
        return np.einsum("rpn,pen->ren", gen, comp) / 1e6

    def broadcast_rpne() -> np.ndarray:
        return (gen[:, :, :, None] * comp.transpose(0, 2, 1)[None]).sum(axis=1).transpose(0, 2, 1)

    def pandas_headline() -> pd.DataFrame:
        idx = pd.MultiIndex.from_product([regions, range(P), years], names=["region", "p", "year"])
        long = pd.DataFrame(
            {
                "pom_t": pom.ravel(),
                "generated_t": gen.ravel(),
                "collected_formal_t": collected.ravel(),
            },
            index=idx,
        ).reset_index()
        by_region = long.groupby(["region", "year"], as_index=False)[
            ["pom_t", "generated_t", "collected_formal_t"]
        ].sum()
        world = by_region.groupby("year", as_index=False).sum(numeric_only=True)
        world["region"] = "WLD"
        by_region["group"] = by_region["region"].map(groups)
        grp = by_region.groupby(["group", "year"], as_index=False).sum(numeric_only=True)
        grp = grp.rename(columns={"group": "region"})
        allr = pd.concat([by_region.drop(columns="group"), world, grp], ignore_index=True)
        allr["collection_rate"] = allr["collected_formal_t"] / allr["generated_t"]
        return allr.melt(id_vars=["region", "year"], var_name="indicator")

    ours = element_flows(gen, comp)
    np.testing.assert_allclose(ours, einsum_plain(), rtol=1e-9)
    frame, eframe = engine()
    print(f"rows: indicators {len(frame):,}, element flows {len(eframe):,}")
    t_ef = best(lambda: element_flows(gen, comp), args.repeat)
    t_es = best(einsum_plain, args.repeat)
    t_bc = best(broadcast_rpne, max(1, args.repeat // 2))
    print(
        f"element_flows (R,P,N)->(R,E,N): {t_ef * 1e3:7.1f} ms | einsum {t_es * 1e3:7.1f} ms "
        f"(x{t_es / t_ef:.1f}) | (R,P,N,E) broadcast {t_bc * 1e3:7.1f} ms (x{t_bc / t_ef:.1f})"
    )
    res = recovery(inputs, comp, eff, elements=elements)
    t_rec = best(lambda: recovery(inputs, comp, eff, elements=elements), args.repeat)
    t_efr = best(
        lambda: element_flows_to_frame(res, regions=regions, years=years, prices=prices),
        args.repeat,
    )
    print(
        f"recovery (4 routes): {t_rec * 1e3:7.1f} ms | element_flows_to_frame: "
        f"{t_efr * 1e3:7.1f} ms"
    )

    def ours_headline() -> pd.DataFrame:
        return indicators_frame(
            regions=regions,
            years=years,
            pom=pom,
            generated=gen,
            stock=5 * pom,
            collected_formal=collected,
            groups=groups,
        )

    t_oh = best(ours_headline, args.repeat)
    t_pd = best(pandas_headline, max(1, args.repeat // 2))
    print(
        f"headline indicators (pom, generated, collected, collection_rate; WLD + 6 groups): "
        f"indicators_frame {t_oh * 1e3:7.1f} ms | pandas groupby {t_pd * 1e3:7.1f} ms "
        f"(x{t_pd / t_oh:.1f})"
    )
    t_all = best(lambda: all_indicators(res), args.repeat)
    print(
        f"indicators_frame, all indicators incl. element_flows of WG and MCI inputs "
        f"(3.3 M rows): {t_all * 1e3:7.1f} ms"
    )
    t_eng = best(engine, args.repeat)
    print(f"minerals + indicators, everything (3.3 M + 1.6 M rows): {t_eng * 1e3:7.1f} ms")
    print(
        f"peak traced memory: engine {peak_mb(engine):.0f} MB | (R,P,N,E) broadcast "
        f"{peak_mb(broadcast_rpne):.0f} MB"
    )


if __name__ == "__main__":
    main()
