"""Anchor the within-category product shares to published world unit sales.

Rewrites ``share_2019`` of ``data/pom_product_shares.csv`` for the products of
``data/unit_sales.csv`` (``role = fit``) and the rest of their categories
(:func:`ewaste_tracker.defaults.units.anchored_shares`), then prints the model's world pieces
next to every published figure, fitted and held out.

The category masses come from the fitted model, and the fit (``scripts/calibrate_defaults.py``)
sees the shares through the lifetimes, so alternate the two until the shares stop moving::

    python scripts/anchor_product_shares.py && python scripts/calibrate_defaults.py
    python scripts/anchor_product_shares.py --check
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ewaste_tracker import catalog  # noqa: E402
from ewaste_tracker.defaults import pom  # noqa: E402
from ewaste_tracker.defaults.units import (  # noqa: E402
    anchored_shares,
    category_targets,
    pieces_check,
    unit_sales,
)
from ewaste_tracker.files import atomic_path  # noqa: E402

logger = logging.getLogger("anchor_product_shares")
NOTE = "anchored to unit sales (scripts/anchor_product_shares.py; data/unit_sales.csv): "
RESPREAD = "; scaled with the rest of its category when its anchored products were set"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only print the piece check")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    run = pom.default_run(range(1970, 2031))
    if not args.check:
        path = catalog.data_path(pom.SHARES_FILE)
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        out = anchored_shares(table, run)
        units = unit_sales()
        fit = units[(units["role"] == "fit") & (units["year"] == 2019)]
        targets = {k for scope in category_targets()["scope"] for k in scope.split("+")}
        for key, n, what in zip(fit["unu_key"], fit["units"], fit["what"], strict=True):
            i = int((out["unu_key"] == key).to_numpy().argmax())
            how = (
                "; the category's 2019 mass is a target of the fit (its products keep their "
                "unit-sales proportions)"
                if key in targets
                else ""
            )
            out.loc[i, "source"] = f"{NOTE}{n / 1e6:,.0f} M {what} in 2019{how}"
            out.loc[i, "status"] = "estimate"
        cats = set(out.loc[out["unu_key"].isin(fit["unu_key"]), "eu6_category"])
        rest = out["eu6_category"].isin(cats) & ~out["unu_key"].isin(fit["unu_key"])
        rest &= out["curve"] == "ramp"
        rest &= ~out["source"].str.contains(RESPREAD, regex=False)
        out.loc[rest, "source"] = out.loc[rest, "source"] + RESPREAD
        with atomic_path(path) as tmp:
            out.to_csv(tmp, index=False)
        moved = pd.DataFrame({"unu_key": table["unu_key"], "before": table["share_2019"],
                              "after": out["share_2019"]})  # fmt: skip
        moved = moved[
            moved["before"].astype(float).round(5) != moved["after"].astype(float).round(5)
        ]
        logger.info("shares moved:\n%s", moved.to_string(index=False))
        run = pom.default_run(range(1970, 2031))
    check = pieces_check(run)
    logger.info(
        "world pieces (M) vs published:\n%s",
        check.assign(units=check["units"] / 1e6, model=check["model"] / 1e6)
        .round(3)
        .to_string(index=False),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
