"""Rebuild ``data/grid_intensity.csv``: carbon intensity of electricity generation per country.

Source: PyPI ``codecarbon`` (MIT), file ``codecarbon/data/private_infra/global_energy_mix.json``,
which carries Our World in Data's electricity-mix data set (built on Ember's Yearly Electricity
Data and the Energy Institute's Statistical Review of World Energy): per ISO3 code the latest
year, the generation by source (TWh) and the life-cycle carbon intensity of generation
(gCO2e/kWh). Only the facts are transcribed: ISO3, year, gCO2e/kWh and total generation; the
tracker does not depend on codecarbon at run time.

Rows are added for the world (``WLD``: generation-weighted mean of every country in the file)
and for the catalogue countries the file lacks or gives no intensity for (their UN sub-region's
generation-weighted mean, ``status = estimate``).

Run::

    pip download --no-deps codecarbon -d /tmp/src
    python scripts/build_grid_intensity.py --codecarbon /tmp/src/codecarbon-3.3.2-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import json
import logging
import zipfile
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "ewaste_tracker" / "data"
MEMBER = "codecarbon/data/private_infra/global_energy_mix.json"
SOURCE = (
    "Our World in Data, electricity mix (Ember Yearly Electricity Data; Energy Institute "
    "Statistical Review of World Energy): carbon intensity of electricity generation, "
    "gCO2e/kWh, as shipped in PyPI codecarbon {version} ({member})"
)


def read_mix(wheel: Path) -> tuple[dict, str]:
    """The JSON mapping ISO3 → mix from a codecarbon wheel (or the JSON file itself)."""
    if wheel.suffix == ".json":
        return json.loads(wheel.read_text(encoding="utf-8")), "unknown version"
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read(MEMBER)), version


def build(mix: dict, version: str) -> pd.DataFrame:
    """Tidy table ``region, year, g_co2e_per_kwh, generation_twh, source, status``."""
    src = SOURCE.format(version=version, member=MEMBER)
    rows = [
        {
            "region": iso,
            "year": int(v["year"]),
            "g_co2e_per_kwh": float(v["carbon_intensity"]),
            "generation_twh": float(v.get("total_TWh") or 0.0),
            "source": src,
            "status": "published",
        }
        for iso, v in mix.items()
        if v.get("carbon_intensity") not in (None, 0, 0.0) and len(iso) == 3
    ]
    df = pd.DataFrame(rows)
    countries = pd.read_csv(DATA / "countries.csv", dtype=str, keep_default_na=False)
    weighted = df.assign(w=df["g_co2e_per_kwh"] * df["generation_twh"])
    world = weighted["w"].sum() / weighted["generation_twh"].sum()
    sub = weighted.merge(countries[["iso3", "un_subregion"]], left_on="region", right_on="iso3")
    sub = sub.groupby("un_subregion")[["w", "generation_twh"]].sum()
    sub_mean = (sub["w"] / sub["generation_twh"]).to_dict()
    extra = [
        {
            "region": "WLD",
            "year": int(df["year"].max()),
            "g_co2e_per_kwh": round(world, 3),
            "generation_twh": round(df["generation_twh"].sum(), 3),
            "source": f"generation-weighted mean of every country of {src}",
            "status": "derived",
        }
    ]
    have = set(df["region"])
    for c in countries.itertuples():
        if c.iso3 in have:
            continue
        value = sub_mean.get(c.un_subregion, world)
        where = c.un_subregion if c.un_subregion in sub_mean else "the world"
        extra.append(
            {
                "region": c.iso3,
                "year": int(df["year"].max()),
                "g_co2e_per_kwh": round(float(value), 3),
                "generation_twh": float("nan"),
                "source": f"estimate (this project): not in the source; generation-weighted mean "
                f"of {where} from {src}",
                "status": "estimate",
            }
        )
    out = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    return out.sort_values("region", ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codecarbon", type=Path, required=True, help="codecarbon wheel or JSON")
    parser.add_argument("--out", type=Path, default=DATA / "grid_intensity.csv")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    table = build(*read_mix(args.codecarbon))
    table.to_csv(args.out, index=False, float_format="%.6g")
    logger.info("wrote %s (%d rows)", args.out, len(table))


if __name__ == "__main__":
    main()
