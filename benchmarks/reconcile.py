"""Benchmark: batched reconciliation of many lifecycle systems, against one solve per system.

The system is the one :mod:`ewaste_tracker.reported.reconcile` writes for each country, year and
product (27 flows, 10 balances). ``--systems`` systems (default 239 regions x 30 years x 7 EU-6
categories = 50,190) get balanced non-negative flows (random splits of every node), perturbed
by log-normal noise with 30 % relative standard deviation, and are reconciled by
:func:`ewaste_tracker.flows.reconcile.reconcile` (stacked small matrices, numpy batched
pseudo-inverses, non-negativity by active set). The peer is the same closed form solved one
system at a time in a Python loop with numpy (``numpy.linalg.pinv`` of each 10 x 10 matrix),
timed on ``--peer`` systems and scaled to all of them. The ratio of times is printed, with the
largest difference between the two solutions (no bounds in the peer; systems with a clipped
flow are left out of the comparison).

Run::

    .venv/bin/python benchmarks/reconcile.py [--systems 50190] [--peer 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ewaste_tracker.flows.reconcile import reconcile  # noqa: E402
from ewaste_tracker.reported.reconcile import FLOWS, balance_matrix  # noqa: E402


def _systems(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced non-negative lifecycle flows (random splits of every node), then noise."""
    idx = {name: i for i, name in enumerate(FLOWS)}
    x = np.zeros((n, len(FLOWS)))

    def split(total: np.ndarray, names: list[str]) -> None:
        share = rng.dirichlet(np.ones(len(names)), size=n)
        for j, name in enumerate(names):
            x[:, idx[name]] = total * share[:, j]

    def put(name: str, value: np.ndarray) -> None:
        x[:, idx[name]] = value

    put("pom", rng.lognormal(9.0, 1.5, n))
    put("generated", x[:, idx["pom"]] * rng.uniform(0.3, 0.9, n))
    split(x[:, idx["generated"]], ["collected_formal", "collected_informal", "generated_residual"])
    split(x[:, idx["collected_formal"]],
          ["formal_refurbishment", "formal_preprocessing", "formal_export"])  # fmt: skip
    split(x[:, idx["collected_informal"]], ["informal_refurbishment", "informal_preprocessing",
          "informal_recycling", "informal_residual", "informal_export"])  # fmt: skip
    for name in ("imported_used", "imported_refurbishment", "imported_preprocessing",
                 "imported_informal"):  # fmt: skip
        put(name, 0.02 * x[:, idx["pom"]] * rng.uniform(0, 1, n))
    refurb = x[:, [idx["formal_refurbishment"], idx["informal_refurbishment"],
                   idx["imported_refurbishment"]]].sum(axis=1)  # fmt: skip
    split(refurb, ["reused", "refurbished_preprocessing"])
    into_pre = ["formal_preprocessing", "informal_preprocessing", "refurbished_preprocessing",
                "imported_preprocessing"]  # fmt: skip
    pre = x[:, [idx[c] for c in into_pre]].sum(axis=1)
    split(pre, ["preprocessing_endprocessing", "preprocessing_residual"])
    split(x[:, idx["formal_export"]] + x[:, idx["informal_export"]],
          ["exported_used", "exported_ewaste"])  # fmt: skip
    put("treated_preprocessing", pre)
    put("treated_informal", x[:, idx["informal_recycling"]] + x[:, idx["imported_informal"]])
    put("treated_residual", x[:, [idx["generated_residual"], idx["informal_residual"],
                                  idx["preprocessing_residual"]]].sum(axis=1))  # fmt: skip
    put("stock_change", x[:, [idx["pom"], idx["reused"], idx["imported_used"]]].sum(axis=1)
        - x[:, idx["generated"]])  # fmt: skip
    A = balance_matrix()
    assert np.abs(np.einsum("mk,bk->bm", A, x)).max() < 1e-6 * np.abs(x).max()
    y = x * rng.lognormal(0.0, 0.3, size=x.shape)
    var = (0.3 * np.abs(y) + 10.0) ** 2
    return y, var, A


def _one_by_one(y: np.ndarray, var: np.ndarray, A: np.ndarray) -> np.ndarray:
    out = np.empty_like(y)
    for b in range(len(y)):  # the peer: a Python loop over systems
        SA = var[b][:, None] * A.T
        out[b] = y[b] - SA @ np.linalg.pinv(A @ SA, hermitian=True) @ (A @ y[b])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=239 * 30 * 7)
    parser.add_argument("--peer", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    y, var, A = _systems(args.systems, rng)
    nonneg = np.asarray([kind != "stock_change" for _, kind in FLOWS.values()])
    t0 = time.perf_counter()
    ours = reconcile(y, var, A, nonnegative=nonneg)
    t_ours = time.perf_counter() - t0
    k = min(args.peer, args.systems)
    t0 = time.perf_counter()
    peer = _one_by_one(y[:k], var[:k], A)
    t_peer = (time.perf_counter() - t0) * args.systems / k
    free = ~ours.clipped[:k].any(axis=1)
    diff = np.abs(ours.x[:k][free] - peer[free]).max() if free.any() else float("nan")
    print(f"systems: {args.systems} ({len(FLOWS)} flows, {A.shape[0]} balances each)")
    print(f"batched (ours): {t_ours:.2f} s, {1e6 * t_ours / args.systems:.1f} us per system; "
          f"{int(ours.clipped.any(axis=1).sum())} systems with a clipped flow")  # fmt: skip
    print(f"one by one (peer, {k} timed, scaled): {t_peer:.2f} s")
    print(f"speed-up: {t_peer / t_ours:.1f}x; largest difference {diff:.2e} t")
    print(f"largest |A x| of ours: {np.abs(np.einsum('mk,bk->bm', A, ours.x)).max():.2e} t")


if __name__ == "__main__":
    main()
