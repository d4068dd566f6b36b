"""Rebuild the product, lifetime, recovery, price and critical-raw-material tables in ``data/``.

Inputs are the transcriptions in ``--reference`` (default ``../shared/reference``): each
transcribed row keeps its source. Values added here from other published sources, or
estimated, are written below with their citation and marked ``estimate`` where they are not a
published figure. The reference folder is needed only to rebuild; the tracker reads ``data/``.

Run::

    python scripts/build_reference.py --reference ../shared/reference

Writes ``products.csv``, ``lifetimes.csv``, ``recovery.csv``, ``prices.csv`` and
``crm_2023.csv``. See also ``build_composition.py``, ``build_mine_shares.py`` and
``build_transfer_coefficients.py``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"

ELEMENTS = (
    "Au", "Ag", "Pd", "Pt", "Cu", "Al", "Fe", "Co", "Li", "Ni", "Sn",
    "Nd", "Pr", "Dy", "Tb", "Ga", "In", "Ta", "Sb", "Pb", "plastics",
)  # fmt: skip
"""Elements (and the plastics material group) carried by every element-level table."""

CHANCEREL = (
    "Chancerel P., Meskers C.E.M., Hagelüken C., Rotter V.S. (2009) Assessment of precious "
    "metal flows during preprocessing of WEEE, J. Industrial Ecology 13(5):791-810"
)
HAGELUEKEN = (
    "Hagelüken C. (Umicore) interview 'More gold in waste than in mines', factory magazin; "
    "Hagelüken C. (2006) IEEE ISEE 218-223"
)
VALERO = "Valero Navazo J.M. et al. (2014) Int J LCA 19:567-579 (mobile phone MFA; 0.80-0.99)"
BUCHERT = "Buchert M. et al. (2012) Recycling critical raw materials from WEEE, Oeko-Institut"
MCC = "MCC (1996) Electronics Industry Environmental Roadmap (process recyclability, desktop PC)"
BATT_REG = (
    "Regulation (EU) 2023/1542 on batteries, Annex XII Part C: material recovery targets "
    "(Co, Ni, Cu 90 % by end 2027 and 95 % by 2031; Li 50 % by 2027 and 80 % by 2031)"
)
GTEFM = (
    "Baldé C.P. et al. (2022) Global Transboundary E-waste Flows Monitor: of 5.1 Mt crossing "
    "borders in 2019, 1.8 Mt controlled and 3.3 Mt uncontrolled"
)
EST = "estimate (this project): "

# (route, element) -> (low, central, high, source, status). Fractions of the element entering
# the route that end up recovered (preprocessing: reaching a fraction it can be recovered from).
PGM = ("Au", "Ag", "Pd", "Pt")
_REC: dict[tuple[str, str], tuple[float, float, float, str, str]] = {
    ("preprocessing", "Au"): (
        0.256,
        0.256,
        0.70,
        CHANCEREL + "; high = manual PCB removal (est.)",
        "published",
    ),
    ("preprocessing", "Ag"): (
        0.115,
        0.115,
        0.60,
        CHANCEREL + "; high = manual PCB removal (est.)",
        "published",
    ),
    ("preprocessing", "Pd"): (
        0.256,
        0.256,
        0.70,
        CHANCEREL + "; high = manual PCB removal (est.)",
        "published",
    ),
    ("preprocessing", "Pt"): (
        0.20,
        0.256,
        0.70,
        EST + "as Pd (same carriers), " + CHANCEREL,
        "estimate",
    ),
    ("preprocessing", "Cu"): (0.60, 0.60, 0.90, CHANCEREL, "published"),
    ("preprocessing", "Fe"): (
        0.85,
        0.92,
        0.97,
        EST + "magnetic separation of shredded WEEE",
        "estimate",
    ),
    ("preprocessing", "Al"): (0.55, 0.70, 0.85, EST + "eddy-current separation", "estimate"),
    ("preprocessing", "Co"): (
        0.50,
        0.80,
        0.95,
        EST + "batteries removed before shredding (Dir. 2012/19/EU Annex VII)",
        "estimate",
    ),
    ("preprocessing", "Li"): (0.50, 0.80, 0.95, EST + "as Co (battery removal)", "estimate"),
    ("preprocessing", "Ni"): (0.50, 0.70, 0.90, EST + "steel and battery fractions", "estimate"),
    ("preprocessing", "Sn"): (
        0.20,
        0.40,
        0.70,
        EST + "solder follows PCB and Cu fractions",
        "estimate",
    ),
    ("preprocessing", "Pb"): (0.20, 0.40, 0.70, EST + "as Sn (solder)", "estimate"),
    ("preprocessing", "Sb"): (
        0.10,
        0.30,
        0.60,
        EST + "flame retardant in plastics and PCBs",
        "estimate",
    ),
    ("preprocessing", "Nd"): (
        0.0,
        0.0,
        0.10,
        (
            "conference paper 'Rare earth elements in WEEE: case study of Neodymium' (shredding "
            "disperses magnets); high = HDD magnet dismantling (est.)"
        ),
        "published",
    ),
    ("preprocessing", "Pr"): (0.0, 0.0, 0.10, EST + "as Nd (same magnets)", "estimate"),
    ("preprocessing", "Dy"): (0.0, 0.0, 0.10, EST + "as Nd (same magnets)", "estimate"),
    ("preprocessing", "Tb"): (
        0.0,
        0.0,
        0.10,
        EST + "as Nd (magnets); lamp phosphor collection possible",
        "estimate",
    ),
    ("preprocessing", "Ga"): (
        0.0,
        0.0,
        0.05,
        BUCHERT + ": Ga and In not recycled from WEEE",
        "published",
    ),
    ("preprocessing", "In"): (
        0.0,
        0.0,
        0.05,
        BUCHERT + ": Ga and In not recycled from WEEE",
        "published",
    ),
    ("preprocessing", "Ta"): (
        0.0,
        0.05,
        0.20,
        EST + "capacitors go with PCBs but Ta is lost in Cu smelting",
        "estimate",
    ),
    ("preprocessing", "plastics"): (0.20, 0.40, 0.60, EST + "plastic sorting yields", "estimate"),
    ("endprocessing", "Au"): (0.80, 0.95, 0.99, HAGELUEKEN + "; range " + VALERO, "published"),
    ("endprocessing", "Ag"): (0.80, 0.95, 0.99, HAGELUEKEN + "; range " + VALERO, "published"),
    ("endprocessing", "Pd"): (0.80, 0.95, 0.99, HAGELUEKEN + "; range " + VALERO, "published"),
    ("endprocessing", "Pt"): (0.80, 0.95, 0.99, EST + "as Pd, " + HAGELUEKEN, "estimate"),
    ("endprocessing", "Cu"): (0.80, 0.95, 0.99, HAGELUEKEN + "; range " + VALERO, "published"),
    ("endprocessing", "Sn"): (
        0.70,
        0.90,
        0.99,
        HAGELUEKEN + "; " + VALERO + "; low " + MCC,
        "published",
    ),
    ("endprocessing", "Sb"): (0.0, 0.80, 0.95, VALERO + "; low " + MCC + " (0)", "published"),
    ("endprocessing", "Ni"): (0.80, 0.90, 0.99, VALERO + "; " + MCC + " (0.80)", "published"),
    ("endprocessing", "Pb"): (
        0.80,
        0.95,
        0.99,
        EST + "Pb is a collector metal in Cu-Pb smelters",
        "estimate",
    ),
    ("endprocessing", "Fe"): (
        0.80,
        0.95,
        0.98,
        EST + "steel scrap remelting; low " + MCC,
        "estimate",
    ),
    ("endprocessing", "Al"): (
        0.80,
        0.90,
        0.95,
        EST + "secondary Al smelting; low " + MCC,
        "estimate",
    ),
    ("endprocessing", "Co"): (0.85, 0.90, 0.95, BATT_REG + "; " + MCC + " (0.85)", "published"),
    ("endprocessing", "Li"): (
        0.0,
        0.50,
        0.80,
        BATT_REG + "; low: pyrometallurgy slags Li",
        "published",
    ),
    ("endprocessing", "Nd"): (
        0.0,
        0.0,
        0.01,
        "UNEP IRP (2011) Recycling Rates of Metals: REE end-of-life recycling < 1 %",
        "published",
    ),
    ("endprocessing", "Pr"): (
        0.0,
        0.0,
        0.01,
        "UNEP IRP (2011) Recycling Rates of Metals: REE end-of-life recycling < 1 %",
        "published",
    ),
    ("endprocessing", "Dy"): (
        0.0,
        0.0,
        0.01,
        "UNEP IRP (2011) Recycling Rates of Metals: REE end-of-life recycling < 1 %",
        "published",
    ),
    ("endprocessing", "Tb"): (
        0.0,
        0.0,
        0.01,
        "UNEP IRP (2011) Recycling Rates of Metals: REE end-of-life recycling < 1 %",
        "published",
    ),
    ("endprocessing", "Ga"): (0.0, 0.0, 0.01, BUCHERT + "; " + MCC + " (0)", "published"),
    ("endprocessing", "In"): (
        0.0,
        0.0,
        0.60,
        BUCHERT + " (0); high " + MCC + " (0.60)",
        "published",
    ),
    ("endprocessing", "Ta"): (
        0.0,
        0.0,
        0.01,
        MCC + " (0); Ta reports to slag in Cu smelting",
        "published",
    ),
    ("endprocessing", "plastics"): (0.10, 0.20, 0.40, MCC + " (0.20)", "published"),
    ("informal", "Au"): (
        0.10,
        0.25,
        0.30,
        (
            "Hagelüken, factory magazin interview: backyard gold recovery ~25 %; UNU/GeSI "
            "e-Waste Academy Accra 2012"
        ),
        "published",
    ),
}
# Informal route: elements without a published value (estimates, this project).
_INFORMAL = {
    "Ag": (0.10, 0.25, 0.30), "Pd": (0.0, 0.10, 0.25), "Pt": (0.0, 0.10, 0.25),
    "Cu": (0.50, 0.70, 0.90), "Fe": (0.60, 0.80, 0.90), "Al": (0.50, 0.70, 0.85),
    "Co": (0.0, 0.20, 0.50), "Li": (0.0, 0.0, 0.05), "Ni": (0.10, 0.30, 0.60),
    "Sn": (0.0, 0.20, 0.50), "Pb": (0.10, 0.30, 0.60), "Sb": (0.0, 0.0, 0.10),
    "Nd": (0.0, 0.0, 0.01), "Pr": (0.0, 0.0, 0.01), "Dy": (0.0, 0.0, 0.01),
    "Tb": (0.0, 0.0, 0.01), "Ga": (0.0, 0.0, 0.01), "In": (0.0, 0.0, 0.01),
    "Ta": (0.0, 0.0, 0.01), "plastics": (0.0, 0.10, 0.30),
}  # fmt: skip
# Residual waste: modelling convention 0 (landfill / incineration); ferrous and non-ferrous
# metals are partly recovered from incinerator bottom ash in some countries (high values).
_RESIDUAL_HIGH = {"Fe": 0.5, "Al": 0.3, "Cu": 0.3}
CONTROLLED_SHARE = 1.8 / 5.1


def recovery_table() -> pd.DataFrame:
    """Recovery efficiencies by route and element (fractions), with sources.

    The ``export`` route is what happens to an element shipped abroad, as seen from the
    world: a controlled share :math:`s_c = 1.8/5.1` (GTEFM 2022) is treated formally
    (:math:`\\eta^{pre}\\eta^{end}`), the rest informally:
    :math:`\\eta^{exp} = s_c \\eta^{pre}\\eta^{end} + (1-s_c)\\eta^{inf}`.
    """
    rows = []
    for (route, el), (lo, c, hi, src, st) in _REC.items():
        rows.append((route, el, lo, c, hi, src, st))
    for el, (lo, c, hi) in _INFORMAL.items():
        rows.append(
            (
                "informal",
                el,
                lo,
                c,
                hi,
                EST + "informal recovery (no published value read)",
                "estimate",
            )
        )
    for el in ELEMENTS:
        hi = _RESIDUAL_HIGH.get(el, 0.0)
        rows.append(
            (
                "residual",
                el,
                0.0,
                0.0,
                hi,
                (
                    "modelling convention: no recovery from residual waste; high = bottom-ash "
                    "metal recovery (est.)"
                ),
                "estimate",
            )
        )
    df = pd.DataFrame(
        rows, columns=["route", "element", "low", "central", "high", "source", "status"]
    )
    piv = df.set_index(["route", "element"])[["low", "central", "high"]]
    for el in ELEMENTS:
        pre, end, inf = (piv.loc[(r, el)] for r in ("preprocessing", "endprocessing", "informal"))
        v = CONTROLLED_SHARE * pre * end + (1 - CONTROLLED_SHARE) * inf
        src = (
            f"derived: {CONTROLLED_SHARE:.3f} x preprocessing x endprocessing + "
            f"{1 - CONTROLLED_SHARE:.3f} x informal; "
        ) + GTEFM
        rows.append(("export", el, *(round(float(x), 4) for x in v), src, "estimate"))
    return pd.DataFrame(rows, columns=df.columns).sort_values(
        ["route", "element"], ignore_index=True
    )


def products_table(ref: Path) -> pd.DataFrame:
    """The 54 UNU-KEYs with categories and average unit weights."""
    u = pd.read_csv(ref / "unu_keys.csv", dtype=str, keep_default_na=False)
    return pd.DataFrame(
        {
            "unu_key": u["unu_key"].str.zfill(4),
            "description": u["description"],
            "eu6_category": u["eu6_category"],
            "eu6_name": u["eu6_name"],
            "eu10_category": u["eu10_category"],
            "unit_weight_kg": pd.to_numeric(u["avg_weight_kg_2014"]),
            "introduction_year": pd.to_numeric(u["introduction_year"]).astype("int64"),
            "source": "Statistics Netherlands, UNU-KEY tables of the WEEE Calculation Tool "
            "(htbl_Key_Description, htbl_Key_Aggregates, htbl_Key_IntroductionYear, "
            "htbl_Key_Weight; weight = EU average 2014)",
        }
    )


def lifetimes_table(ref: Path) -> pd.DataFrame:
    """Weibull lifetimes per UNU-KEY; profile ``NL/FR/BE`` (default) and ``IT``."""
    w = pd.read_csv(ref / "weibull_unu_keys_eu_wct.csv", dtype=str, keep_default_na=False)
    out = pd.DataFrame(
        {
            "product": w["unu_key"].str.zfill(4),
            "distribution": "weibull",
            "shape": pd.to_numeric(w["weibull_shape_alpha"]),
            "scale": pd.to_numeric(w["weibull_scale_beta"]),
            "region": "",
            "profile": w["region"],
            "source": "EU WEEE Calculation Tool manual rev. May 2023 (EC ENV.B.3/SER/2019/0014), "
            "Annex III, profile " + w["region"] + " (data refer to 2016)",
        }
    )
    return out.sort_values(["profile", "product"], ignore_index=True)


# Molar-mass share of the element in the priced compound (IUPAC 2021 atomic weights).
_CONTAINED = {
    "Li2CO3": ("Li", 2 * 6.94 / 73.89),
    "Ta2O5": ("Ta", 2 * 180.95 / 441.89),
    "Nd2O3": ("Nd", 2 * 144.24 / 336.48),
    "Dy2O3": ("Dy", 2 * 162.50 / 373.00),
    "Tb4O7": ("Tb", 4 * 158.93 / 747.70),
}
USGS_2023 = "U.S. Geological Survey (2023) Mineral Commodity Summaries 2023"
_EXTRA_PRICES = [
    (
        "Al",
        2.70,
        2022,
        "LME primary aluminium cash, annual average ~2,700 USD/t (recalled)",
        "LME / " + USGS_2023,
        "estimate",
    ),
    (
        "Al",
        2.25,
        2023,
        "LME primary aluminium cash, annual average ~2,250 USD/t (recalled)",
        "LME / U.S. Geological Survey (2024) Mineral Commodity Summaries 2024",
        "estimate",
    ),
    (
        "Fe",
        0.40,
        2022,
        "heavy melting steel scrap, ~400 USD/t (recalled, order of magnitude)",
        EST + "scrap price, not read",
        "estimate",
    ),
    (
        "Pr",
        155.0,
        2022,
        "Pr assumed at the Nd contained price (NdPr oxide is traded as one)",
        EST + "proxy of Nd",
        "estimate",
    ),
    (
        "Pb",
        2.15,
        2022,
        "LME lead cash annual average ~2,150 USD/t (recalled)",
        "LME / " + USGS_2023,
        "estimate",
    ),
    (
        "plastics",
        0.30,
        2022,
        "mixed WEEE plastics, 0.1-0.5 USD/kg (order of magnitude)",
        EST + "not read in a source",
        "estimate",
    ),
]


def prices_table(ref: Path) -> pd.DataFrame:
    """Prices in USD per kg of contained element, 2022 and 2023."""
    p = pd.read_csv(ref / "prices_literature.csv", dtype=str, keep_default_na=False)
    p = p[~p["basis"].str.contains("alternative basis")]
    rows = []
    for _, r in p.iterrows():
        compound, price = r["element"], float(r["usd_per_kg"])
        basis = r["basis"]
        if basis.startswith("same row"):
            basis = f"{compound} price, {basis.removeprefix('same row as above, ')}"
        if compound in _CONTAINED:
            el, share = _CONTAINED[compound]
            basis = f"{basis}; converted to contained {el}: {price} / {share:.3f}"
            price = price / share
            compound = el
        rows.append((compound, round(price, 3), int(r["year"]), basis, r["source"], "published"))
    rows += _EXTRA_PRICES
    cols = ["element", "usd_per_kg", "year", "basis", "source", "status"]
    return pd.DataFrame(rows, columns=cols).sort_values(["element", "year"], ignore_index=True)


_CRM_ELEMENTS = {
    "aluminium/bauxite": "Al", "antimony": "Sb", "arsenic": "As", "beryllium": "Be",
    "bismuth": "Bi", "boron/borate": "B", "cobalt": "Co", "copper": "Cu", "gallium": "Ga",
    "germanium": "Ge", "hafnium": "Hf", "heavy rare earth elements (HREE)": "Dy Tb",
    "light rare earth elements (LREE)": "Nd Pr", "lithium": "Li", "magnesium": "Mg",
    "manganese": "Mn", "natural graphite": "C", "nickel": "Ni", "niobium": "Nb",
    "phosphorus": "P", "platinum group metals (Pd Pt Rh Ru Ir Os)": "Pd Pt",
    "scandium": "Sc", "silicon metal": "Si", "strontium": "Sr", "tantalum": "Ta",
    "titanium metal": "Ti", "tungsten": "W", "vanadium": "V", "gold": "Au", "silver": "Ag",
    "baryte": "Ba", "coking coal": "C", "fluorspar": "F", "helium": "He", "phosphate rock": "P",
    "feldspar": "Al K Na",
}  # fmt: skip


def crm_table(ref: Path) -> pd.DataFrame:
    """EU 2023 critical and strategic raw materials, with the element symbols they cover."""
    c = pd.read_csv(ref / "eu_crm_2023.csv", dtype=str, keep_default_na=False)
    out = pd.DataFrame(
        {
            "raw_material": c["raw_material"],
            "elements": c["raw_material"].map(_CRM_ELEMENTS).fillna(""),
            "critical": c["critical_2023"].str.startswith("yes"),
            "strategic": c["strategic_CRMA_annexI"].str.startswith("yes"),
            "note": c["critical_2023"] + "; " + c["typical_EEE_occurrence_note"],
            "source": "Regulation (EU) 2024/1252 (Critical Raw Materials Act) Annex I-II and the "
            "2023 CRM list; transcribed: " + c["source"].replace("-", "GEM 2024 (not on the list)"),
        }
    )
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=REPO / "ewaste_tracker" / "data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    tables = {
        "products.csv": products_table(args.reference),
        "lifetimes.csv": lifetimes_table(args.reference),
        "recovery.csv": recovery_table(),
        "prices.csv": prices_table(args.reference),
        "crm_2023.csv": crm_table(args.reference),
    }
    for name, table in tables.items():
        table.to_csv(args.out / name, index=False)
        logger.info("wrote %s (%d rows)", name, len(table))


if __name__ == "__main__":
    main()
