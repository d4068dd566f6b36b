"""Benchmark writing the world estimate's outputs: today's writer against 0.1.0's.

Workload: the all-country default estimate (239 countries × 54 UNU-KEYs × 1970-2030 × 21
elements; 2.5 M indicator rows), built once. Timed in the same process, best of
``--repeat``:

* **ours**: :meth:`ewaste_tracker.estimate.Estimate.to_folder` as ``run`` calls it for the
  world (Parquet, flows and stocks summed over products along the array axis, the vectorised
  input fingerprint, ``datapackage.json``);
* **peer**: what 0.1.0's ``run`` did to write the same estimate, rebuilt here step by step:
  the lifecycle graph's tables (``graph_to_frames``) grouped over products, the status merged
  by region-year, every table written with ``DataFrame.to_csv`` (10 significant digits), and
  the input fingerprint from the ``repr`` of every cell, sorted.

Both write into fresh temporary folders; the figure is wall time of the writing alone (the
estimate is not recomputed). The ratio peer / ours is printed with the machine's load.

Usage::

    .venv/bin/python benchmarks/outputs.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewaste_tracker.estimate import Estimate, estimate
from ewaste_tracker.flows.balance import graph_to_frames
from ewaste_tracker.model.run import inputs_fingerprint_tables


def _old_fingerprint(tables: dict[str, pd.DataFrame]) -> str:
    """0.1.0's fingerprint: the shortest ``repr`` of every cell, rows sorted."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        cols = sorted(str(c) for c in df.columns)
        cells = []
        for c in cols:
            s = df[c]
            if pd.api.types.is_numeric_dtype(s):
                v = s.to_numpy(dtype=float, na_value=np.nan) + 0.0
                cells.append(["" if np.isnan(x) else repr(float(x)) for x in v])
            else:
                cells.append(["" if pd.isna(x) else str(x) for x in s.to_numpy(dtype=object)])
        rows = sorted("\x1f".join(r) for r in zip(*cells, strict=True))
        h.update(("\x1d" + name + "\x1e" + "\x1f".join(cols) + "\x1e").encode())
        h.update("\x1e".join(rows).encode())
    return h.hexdigest()


def _old_write(est: Estimate, out: Path) -> None:
    """0.1.0's ``write_run(detail="total")`` on the same estimate."""
    flows, stocks = graph_to_frames(est.graph())
    keys = ["region_from", "stage_from", "region_to", "stage_to", "year"]
    flows = flows.groupby(keys, observed=True, as_index=False)[["value_t"]].sum()
    stocks = stocks.groupby(["region", "stage", "year"], observed=True, as_index=False)[
        ["stock_t", "stock_change_t"]
    ].sum()
    status = est.indicators[["region", "year", "status"]].drop_duplicates(["region", "year"])
    key = pd.MultiIndex.from_frame(status[["region", "year"]].astype({"region": str}))
    lookup = pd.Series(status["status"].astype(str).to_numpy(), index=key)

    def with_status(table: pd.DataFrame, owner: np.ndarray) -> pd.DataFrame:
        rows = pd.MultiIndex.from_arrays([owner, table["year"].to_numpy(dtype="int64")])
        return table.assign(status=lookup.reindex(rows).fillna("").to_numpy())

    elements = est.result.element_table()
    flows = with_status(flows, flows["region_from"].astype(str).to_numpy())
    stocks = with_status(stocks, stocks["region"].astype(str).to_numpy())
    elements = with_status(elements, elements["region"].astype(str).to_numpy())
    meta = {"fingerprint": _old_fingerprint(inputs_fingerprint_tables(est.inputs))}
    out.mkdir()
    est.indicators.to_csv(out / "indicators.csv", index=False, float_format="%.10g")
    flows.to_csv(out / "flows.csv", index=False, float_format="%.10g")
    stocks.to_csv(out / "stocks.csv", index=False, float_format="%.10g")
    elements.to_csv(out / "element_flows.csv", index=False, float_format="%.10g")
    (out / "run.json").write_text(json.dumps(meta), encoding="utf-8")


def _fresh(est: Estimate) -> Estimate:
    """The same estimate with its table caches emptied (each write builds its tables)."""
    return Estimate(est.inputs, est.result, est.reported, est.gaps, est.kind, est.countries,
                    est.passes)  # fmt: skip


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    est = estimate(store=Path(tempfile.gettempdir()) / "no-store.gpkg")
    print(f"world estimate built in {time.perf_counter() - t0:.1f} s: "
          f"{len(est.result.indicators):,} indicator rows")  # fmt: skip
    ours, peer = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            a = Path(tmp) / f"new{i}"
            t = time.perf_counter()
            _fresh(est).to_folder(a)
            ours.append(time.perf_counter() - t)
            b = Path(tmp) / f"old{i}"
            t = time.perf_counter()
            _old_write(_fresh(est), b)
            peer.append(time.perf_counter() - t)
        new_mb, old_mb = _size(a) / 1e6, _size(b) / 1e6
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores")
    print(f"ours (Parquet + datapackage, dense totals, vectorised fingerprint): "
          f"{min(ours):.2f} s, {new_mb:.0f} MB")  # fmt: skip
    print(f"peer (0.1.0: graph tables + groupby + to_csv + repr fingerprint): "
          f"{min(peer):.2f} s, {old_mb:.0f} MB")  # fmt: skip
    print(f"ratio peer / ours = {min(peer) / min(ours):.1f}x (goal >= 4x)")


if __name__ == "__main__":
    main()
