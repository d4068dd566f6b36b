"""Fidelity: the default estimate against every published figure the project holds.

Prints the error (model / published - 1) by indicator and role (fit / held_out / cv / check),
by income group for the annex countries and the held-out country figures, by year, the
leave-one-out error of the collection prior, and the cross-validated residuals of the
put-on-market model; ``--csv`` writes every row. README's tables come from this script.

Run::

    python benchmarks/fidelity.py [--csv fidelity.csv]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewaste_tracker import catalog
from ewaste_tracker.defaults.calibration import cv_summary
from ewaste_tracker.estimate import estimate
from ewaste_tracker.jobs.validate import collection_prior_cv, fidelity, summary


def main(argv: list[str] | None = None) -> int:
    """Run the default estimate, compare and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args(argv)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_rows", 200)
    t0 = time.perf_counter()
    est = estimate(store="/nonexistent/store.gpkg")
    table = fidelity(est)
    print(f"default estimate and comparison: {time.perf_counter() - t0:.1f} s, "
          f"{len(table)} published figures\n")  # fmt: skip
    print("== by indicator and role ==")
    print(summary(table, ["role", "indicator"]).to_string(index=False))
    annex = table[table["edition"] == "GEM 2024 annex"]
    print("\n== annex countries (fit) by indicator and income group ==")
    print(summary(annex, ["indicator", "income_group"]).to_string(index=False))
    held = table[table["role"].isin(["held_out", "cv"])]
    print("\n== held out and cross-validated, by indicator, kind and year ==")
    print(summary(held, ["indicator", "kind", "year"]).to_string(index=False))
    countries = held[held["income_group"] != ""]
    print("\n== held-out country figures by income group ==")
    print(summary(countries, ["income_group"]).to_string(index=False))
    wg = held[held["indicator"].str.startswith("generated")]
    cf = held[held["indicator"].isin(["collected_formal_t", "collection_rate"])]
    print(f"\nback-cast, e-waste generated: median |error| {100 * wg['error'].abs().median():.1f} %"
          f", max {100 * wg['error'].abs().max():.1f} % (n={len(wg)}); where the source is a "
          f"table or text (not recalled): max "
          f"{100 * wg[wg['kind'] != 'recalled']['error'].abs().max():.1f} %")  # fmt: skip
    print(f"back-cast, formal collection (leave-one-out): median |error| "
          f"{100 * cf['error'].abs().median():.1f} %, max {100 * cf['error'].abs().max():.1f} % "
          f"(n={len(cf)})")  # fmt: skip
    print("\n== every held-out and cross-validated figure ==")
    show = held.assign(error_pct=(100 * held["error"]).round(1))
    print(show[["edition", "scope", "year", "indicator", "published", "model", "error_pct",
                "kind", "role"]].to_string(index=False))  # fmt: skip
    loo = collection_prior_cv()
    print("\n== collection prior: leave-one-out error in tonnes (84 published countries) ==")
    loo = loo.assign(abs_pct=100 * loo["error"].abs())
    print(loo.groupby("income_group")["abs_pct"].agg(["size", "median"]).round(1).to_string())
    print(f"all: median |error| {loo['abs_pct'].median():.1f} %")
    factors = pd.read_csv(catalog.data_path("pom_country_factors.csv"), keep_default_na=False,
                          na_values=[""])  # fmt: skip
    print("\n== put on market: cross-validated log residuals by income group ==")
    print(cv_summary(factors).round(3).to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
