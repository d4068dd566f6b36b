"""Rebuild ``data/gem2024_country_annex.csv`` from the shared transcription.

The Global E-waste Monitor 2024 country annex (Baldé et al. 2024, ITU/UNITAR; 2022 data, 193
countries) as transcribed in ``../shared/reference/gem2024_country_annex.csv``: e-waste
generated (kt, kg/inh), documented formal collection (kt; 84 countries publish it, two are
confidential), the legislation / EPR / collection-target / recycling-target flags and the
reference the Monitor gives for each collection figure. Values are copied unchanged; the
``source`` column is shortened to the citation and the transcription it was read from.

``data/country_centroids.csv``: a representative point (inside the outline) of every country
of ``data/countries.gpkg`` (Natural Earth, public domain), for the gravity model of the
default exports.

``data/published_figures.csv`` (the validation set of earlier editions and aggregates) is
written by hand: every row carries its source and how it was read.

Run::

    python scripts/build_published.py --reference ../shared/reference
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
CITATION = (
    "Baldé C.P., Kuehr R., Yamamoto T. et al. (2024) The Global E-waste Monitor 2024, ITU and "
    "UNITAR, Geneva/Bonn, annex country table (2022 data); transcribed from the public "
    "repository beginner23003/5260-final, file 'ewaste cleaned.csv', commit 84b6989 "
    "(decimal commas converted)"
)
COLUMNS = ["iso3", "country", "un_region", "generated_kt", "generated_kg_per_inh",
           "collected_formal_kt", "collected_status", "legislation", "epr",
           "collection_target", "recycling_target", "collection_reference", "source"]  # fmt: skip

logger = logging.getLogger("build_published")


def main(argv: list[str] | None = None) -> int:
    """Write data/gem2024_country_annex.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    src = pd.read_csv(args.reference / "gem2024_country_annex.csv", dtype=str,
                      keep_default_na=False)  # fmt: skip
    out = src.rename(columns={"region": "un_region",
                              "collection_data_reference": "collection_reference"})  # fmt: skip
    out["collection_reference"] = out["collection_reference"].str.replace(r"\s+", " ", regex=True)
    out["source"] = CITATION
    path = REPO / "ewaste_tracker" / "data" / "gem2024_country_annex.csv"
    out[COLUMNS].to_csv(path, index=False)
    logger.info("wrote %s (%d countries)", path, len(out))
    sys.path.insert(0, str(REPO))
    from ewaste_tracker import catalog

    shapes = catalog.outlines()
    pts = shapes.geometry.representative_point()
    cen = pd.DataFrame({"iso3": shapes["iso3"], "lon": pts.x.round(3), "lat": pts.y.round(3),
                        "source": "representative point of the Natural Earth 1:10m v5.1.1 "
                        "outline (data/countries.gpkg), public domain"})  # fmt: skip
    path = REPO / "ewaste_tracker" / "data" / "country_centroids.csv"
    cen.sort_values("iso3").to_csv(path, index=False)
    logger.info("wrote %s (%d points)", path, len(cen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
