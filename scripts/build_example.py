"""Rebuild the worked example folder data/examples/east_africa/ for ``ewaste-tracker run``.

The example is a small national-scale system: Kenya, Uganda, Tanzania and Rwanda, five
UNU-KEYs (fridges, laptops, mobile phones, flat-panel TVs and CRT TVs), 1980-2022.

Provenance of every file:

* ``pom.csv`` — the default put-on-market model (ewaste_tracker.defaults.pom; data/pom_model.csv)
for
  these countries and products, rounded to 0.1 t (status: estimated).
* ``lifetimes.csv`` — the catalogue's Weibull lifetimes (EU WEEE Calculation Tool, NL/FR/BE).
* ``transfer_coefficients.csv`` — the calibrated defaults of the four countries' income groups,
  for 2022, applied to all years (a simplification for the example).
* ``exports.csv`` — illustrative assumption for the example: Kenya ships 60 % of its exports as
  used equipment to Uganda's use stage and 40 % as e-waste to Tanzania's informal recycling;
  the other countries' exports leave the modelled region (ROW).
* ``population.csv`` — the catalogue's population series.
* ``groups.csv`` — the East African Community members as one aggregate, ``EAC``.

Composition, recovery efficiencies and prices are left out so the run takes the catalogue's.

Usage: ``.venv/bin/python scripts/build_example.py``
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.defaults import pom as defaults

OUT = Path(__file__).resolve().parents[1] / "ewaste_tracker" / "data" / "examples" / "east_africa"
REGIONS = ["KEN", "RWA", "TZA", "UGA"]
PRODUCTS = ["0108", "0303", "0306", "0407", "0408"]
YEARS = range(1980, 2023)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pom = defaults.default_pom(range(1970, 2023), regions=REGIONS)
    pom = pom[pom["product"].isin(PRODUCTS) & pom["year"].isin(YEARS)]
    pom = pom.assign(pom_t=pom["pom_t"].round(1))[["region", "product", "year", "pom_t"]]
    pom.to_csv(OUT / "pom.csv", index=False)

    lt = catalog.lifetimes()
    lt[lt["product"].isin(PRODUCTS)][["product", "distribution", "shape", "scale"]].to_csv(
        OUT / "lifetimes.csv", index=False
    )
    tcs = defaults.default_transfer_coefficients(REGIONS, years=[2022])
    tcs = tcs[["region", "product", "year", "from_stage", "to_stage", "share"]].assign(year=pd.NA)
    tcs = tcs.drop_duplicates(["region", "product", "year", "from_stage", "to_stage"])
    tcs.to_csv(OUT / "transfer_coefficients.csv", index=False)

    pd.DataFrame(
        [("KEN", "UGA", "use", 0.6), ("KEN", "TZA", "recycling_informal", 0.4),
         ("RWA", "ROW", "", 1.0), ("TZA", "ROW", "", 1.0), ("UGA", "ROW", "", 1.0)],
        columns=["origin", "destination", "to_stage", "share"],
    ).to_csv(OUT / "exports.csv", index=False)  # fmt: skip
    pop = catalog.population_gdp()
    pop = pop[pop["region"].isin(REGIONS) & pop["year"].isin(YEARS)]
    pop[["region", "year", "population"]].to_csv(OUT / "population.csv", index=False)
    pd.DataFrame({"region": REGIONS, "group": "EAC"}).to_csv(OUT / "groups.csv", index=False)


if __name__ == "__main__":
    main()
