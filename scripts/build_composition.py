"""Rebuild ``data/composition.csv``: grams of element per tonne of product, per UNU-KEY.

One row per UNU-KEY x element (54 x 21, with ``plastics`` as a material group), with low /
central / high, a source and ``status`` (``published`` or ``estimate``). Each value comes from
the first of these layers that has one:

1. **Product literature** (``published``): ``composition_literature.csv`` and
   ``device_metal_content.csv`` in ``--reference`` plus the published tables in
   :data:`PUBLISHED` (values recalled from the cited tables, marked so). Per-unit values are
   divided by the device mass the source states (e.g. "laptop (3 kg)") or else by
   :data:`REFERENCE_MASS_KG`/the UNU average unit weight; per-tonne-of-PCB values are multiplied
   by the product's PCB share (from the same literature: component masses in Leon 2010,
   21 % for phones in the Chalmers 2018 study). Several values: central = median, low/high =
   the extremes; a single value gets a +/-30 % band.
2. **Product estimates** (:data:`OVERRIDES`, ``estimate``): values derived here for known gaps
   (lead in CRT glass, terbium in fluorescent phosphors, indium in LCD glass, batteries).
3. **Proxy** (``estimate``): the literature of a similar UNU-KEY (:data:`PROXY`).
4. **Circuit boards** for Au, Ag, Pd, Pt, Sn, Ta, Ga: ``c = s_PCB * c_board`` with the
   product's PCB share ``s_PCB`` and the metal content of its board grade
   (:data:`BOARD_GRADE`, after Hagelüken 2006). ``published`` only when both factors are.
5. **EU-6 category defaults** (:data:`CATEGORY`, ``estimate``) for bulk metals, batteries,
   magnets, indium, antimony and plastics.

Estimates get low = c/3, high = 3c (trace, c < 1 %) or c/2 .. 1.5c (bulk). If the central
values of a product add up to more than one tonne per tonne, its estimate rows are scaled
down so that the total is 0.98 t/t (noted in their source).

Run::

    python scripts/build_composition.py --reference ../shared/reference
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from build_reference import DEFAULT_REFERENCE, ELEMENTS, REPO

logger = logging.getLogger(__name__)

HAG06 = (
    "Hagelüken C. (2006) Improving metal returns and eco-efficiency in electronics recycling, "
    "IEEE ISEE 218-223, Table 1 (as reproduced in Cui J. & Zhang L. (2008) J. Hazard. Mater. "
    "158:228-256; recalled, not re-read here)"
)
BUCHERT = (
    "Buchert M. et al. (2012) Recycling critical raw materials from WEEE, Oeko-Institut, "
    "notebook table (per notebook; recalled, not re-read here), divided by 2.5 kg per notebook"
)
CHALMERS = (
    "(2018) Analysis of the metal content of small-size WEEE printed circuit boards part 1 "
    "(Chalmers)"
)
LEON = "Leon J. (2010) e-waste guide, Table 7 component masses"
EST = "estimate (this project): "
SYMBOL = {
    "gold": "Au", "silver": "Ag", "palladium": "Pd", "platinum": "Pt", "copper": "Cu",
    "cobalt": "Co", "neodymium": "Nd", "praseodymium": "Pr",
}  # fmt: skip
PCB_ELEMENTS = ("Au", "Ag", "Pd", "Pt", "Sn", "Ta", "Ga")

# Metal content of circuit boards by grade, g per tonne of board: low = TV board, medium = PC
# board (Hagelüken 2006); high = phone boards (mean of the smartphone and feature-phone boards
# of the Chalmers 2018 study). Pt, Sn, Ta, Ga: estimates (Pt = 0.02 x Pd after the USGS 2006
# phone; Sn solder 1.5-3.5 %; Ta capacitors; Ga in ICs and LEDs).
BOARD_GRADE = {
    "low": {"Au": 20, "Ag": 280, "Pd": 10, "Pt": 0.2, "Sn": 14000, "Ta": 50, "Ga": 5},
    "medium": {"Au": 250, "Ag": 1000, "Pd": 110, "Pt": 2.2, "Sn": 30000, "Ta": 300, "Ga": 20},
    "high": {"Au": 1067, "Ag": 2707, "Pd": 87, "Pt": 1.7, "Sn": 35000, "Ta": 800, "Ga": 40},
}
BOARD_SOURCE = {
    "low": HAG06 + " TV board",
    "medium": HAG06 + " PC board",
    "high": CHALMERS + " phone boards",
}
BOARD_PUBLISHED = {"Au", "Ag", "Pd"}

# PCB share (mass fraction) and board grade by UNU-KEY; shares in LITERATURE_PCB are computed
# from the reference. The rest are estimates.
PCB_ESTIMATE = {
    "0001": (0.01, "low"), "0002": (0.005, "low"), "0101": (0.01, "low"), "0102": (0.01, "low"),
    "0103": (0.01, "low"), "0104": (0.01, "low"), "0105": (0.01, "low"), "0106": (0.01, "low"),
    "0108": (0.005, "low"), "0109": (0.005, "low"), "0111": (0.01, "low"), "0112": (0.01, "low"),
    "0113": (0.01, "low"), "0114": (0.02, "low"), "0201": (0.02, "low"), "0202": (0.02, "low"),
    "0203": (0.02, "low"), "0204": (0.02, "low"), "0205": (0.03, "low"), "0301": (0.15, "medium"),
    "0304": (0.04, "low"), "0305": (0.15, "medium"), "0307": (0.15, "medium"),
    "0401": (0.10, "low"), "0402": (0.10, "low"), "0403": (0.05, "low"), "0404": (0.08, "low"),
    "0405": (0.01, "low"), "0406": (0.15, "medium"), "0407": (0.06, "low"), "0408": (0.06, "low"),
    "0501": (0.02, "low"), "0502": (0.05, "low"), "0503": (0.01, "low"), "0504": (0.01, "low"),
    "0505": (0.10, "low"), "0506": (0.02, "low"), "0507": (0.02, "low"), "0601": (0.01, "low"),
    "0602": (0.02, "low"), "0701": (0.05, "low"), "0702": (0.15, "medium"), "0703": (0.03, "low"),
    "0801": (0.10, "low"), "0802": (0.05, "medium"), "0901": (0.10, "low"),
    "0902": (0.05, "medium"),
    "1001": (0.02, "low"), "1002": (0.01, "low"),
}  # fmt: skip
GRADE_OF = {"0302": "medium", "0303": "medium", "0306": "high", "0308": "low", "0309": "low"}

# EU-6 category defaults, g/t (estimates informed by the material shares reported in the Global
# E-waste Monitors and the ProSUM project; not read here).
_CAT_COLS = (
    "Cu",
    "Al",
    "Fe",
    "Ni",
    "Pb",
    "Co",
    "Li",
    "Nd",
    "Pr",
    "Dy",
    "Tb",
    "In",
    "Sb",
    "plastics",
)
CATEGORY = {
    "1": (40000, 30000, 450000, 1000, 100, 0, 0, 60, 15, 3, 0.5, 0.1, 50, 250000),
    "2": (20000, 40000, 200000, 500, 1000, 10, 5, 20, 5, 1, 0.2, 30, 1500, 300000),
    "3": (5000, 40000, 20000, 200, 300, 0, 0, 0, 0, 0, 0, 0.5, 0, 100000),
    "4a": (30000, 40000, 500000, 3000, 200, 5, 2, 30, 8, 2, 0.3, 0.1, 100, 200000),
    "4b": (10000, 80000, 10000, 100, 500, 0, 0, 0, 0, 0, 0, 1, 0, 100000),
    "5": (50000, 30000, 300000, 500, 500, 200, 30, 100, 25, 5, 0.5, 1, 500, 400000),
    "6": (70000, 50000, 200000, 5000, 2000, 3000, 500, 300, 60, 15, 2, 5, 1500, 350000),
}
CATEGORY_SOURCE = EST + (
    "EU-6 category default (order of magnitude after GEM 2020/2024 and ProSUM 2017 material "
    "shares; not read here)"
)

# Published whole-device tables (g/t) recalled from the cited source.
PUBLISHED = [
    (
        "0306",
        HAG06 + " mobile phone",
        {
            "Fe": 50000,
            "Cu": 130000,
            "Al": 10000,
            "Pb": 3000,
            "Ni": 1000,
            "Ag": 1380,
            "Au": 350,
            "Pd": 210,
        },
    ),
    (
        "0402",
        HAG06 + " portable audio scrap",
        {
            "Fe": 230000,
            "Cu": 210000,
            "Al": 10000,
            "Pb": 1400,
            "Ni": 300,
            "Ag": 150,
            "Au": 10,
            "Pd": 4,
        },
    ),
    (
        "0404",
        HAG06 + " DVD player scrap",
        {
            "Fe": 620000,
            "Cu": 50000,
            "Al": 20000,
            "Pb": 3000,
            "Ni": 500,
            "Ag": 115,
            "Au": 15,
            "Pd": 4,
        },
    ),
    (
        "0303",
        BUCHERT,
        {"Co": 26000, "Nd": 840, "Pr": 108, "Dy": 24, "Ta": 680, "In": 16, "Ga": 0.52},
    ),
]
# Product-level estimates: (central, low, high, derivation).
OVERRIDES = {
    ("0308", "Pb"): (
        30000,
        15000,
        60000,
        (
            "CRT funnel/neck glass ~22-25 % PbO, funnel ~1/3 of the 6.45 kg tube of a 12 kg "
            "monitor (Leon 2010)"
        ),
    ),
    ("0407", "Pb"): (30000, 15000, 60000, "as 0308: leaded CRT funnel glass"),
    ("0502", "Tb"): (
        100,
        30,
        300,
        "tri-band phosphor (~1 g per CFL, green LAP phosphor ~10 % Tb2O3 of ~1/3 of the blend)",
    ),
    ("0503", "Tb"): (100, 30, 300, "tri-band phosphor, as 0502"),
    ("0504", "Tb"): (50, 10, 200, "part of special lamps use tri-band phosphor"),
    ("0505", "Ga"): (10, 1, 50, "GaN/InGaN LED chips and driver ICs"),
    ("0309", "In"): (30, 10, 100, "ITO in LCD panels, ~0.2 g In per m2 of panel"),
    ("0408", "In"): (30, 10, 100, "ITO in LCD panels, as 0309"),
    ("0002", "Ag"): (
        500,
        200,
        1000,
        (
            "c-Si cell metallisation ~10-20 mg Ag per W; <0.1 % Ag (Institute for Sustainable "
            "Futures, reference row)"
        ),
    ),
    ("0002", "Sn"): (1000, 300, 2000, "tin-coated Cu ribbons"),
    ("0002", "Pb"): (500, 100, 1000, "Pb in ribbon solder of pre-2020 modules"),
    ("0306", "Li"): (
        1000,
        500,
        2000,
        "Li-ion cell ~0.02 kg Li per kWh (~0.1 kg LCE/kWh), 5-15 Wh per phone of 0.09-0.17 kg",
    ),
    ("0303", "Li"): (400, 200, 800, "Li-ion pack ~50 Wh at ~0.02 kg Li per kWh, 2.5 kg notebook"),
    ("0406", "Co"): (5000, 2000, 10000, "Li-ion camera batteries (LCO)"),
    ("0406", "Li"): (800, 300, 1500, "Li-ion camera batteries"),
    ("0402", "Co"): (3000, 1000, 8000, "Li-ion batteries of portable players and e-readers"),
    ("0402", "Li"): (500, 200, 1000, "Li-ion batteries of portable players and e-readers"),
    ("0601", "Co"): (2000, 500, 5000, "cordless tool battery packs"),
    ("0601", "Li"): (400, 100, 1000, "cordless tool battery packs"),
    ("0703", "Co"): (5000, 1000, 10000, "e-bike battery packs (NMC)"),
    ("0703", "Li"): (1500, 500, 3000, "e-bike battery packs"),
    ("0405", "Nd"): (200, 20, 1000, "mostly ferrite magnets; NdFeB in small and premium speakers"),
    ("0405", "Pr"): (50, 5, 250, "as Nd (NdFeB ~25 % Pr of the Nd+Pr)"),
    ("0111", "Nd"): (150, 30, 500, "NdFeB in inverter (BLDC) compressors and fan motors"),
}
PROXY = {"0109": "0108", "0407": "0308", "0408": "0309", "0401": "0402"}
# Literature rows judged wrong and replaced (value, low, high, derivation).
REPLACE = {
    ("0303", "Cu"): (
        41100,
        27400,
        61650,
        "laptop copper: Leon (2010) Table 7 gives 14 g per 3 kg laptop (4,667 g/t), about a "
        "tenth of its own desktop figure per tonne and of the board copper alone; here PCB share "
        "0.137 (Leon 2010) x PC-board Cu 20 % (" + HAG06 + ") = 27,400 g/t on the boards "
        "(low), plus 50 % for cables, heat pipes and fan motors (estimate)",
    ),
}
# Device mass (kg) for per-unit values when the source gives none (UNU weight otherwise).
REFERENCE_MASS_KG = {"smartphone": 0.12, "notebook": 2.5}


def _unit_mass(product: str, key: str, weights: pd.Series) -> float:
    """Device mass in kg: stated in the product text, a reference mass, or the UNU weight."""
    m = re.search(r"\((?:~)?([\d.]+)\s*kg\)", product) or re.search(r"~([\d.]+)\s*kg", product)
    if m:
        return float(m.group(1))
    g = re.search(r"~(\d+)\s*g\b", product)
    if g:
        return float(g.group(1)) / 1000
    for word, mass in REFERENCE_MASS_KG.items():
        if word in product.lower():
            return mass
    return float(weights[key])


def _read_loose(path: Path) -> pd.DataFrame:
    """Read a transcription CSV whose second-last free-text field may hold unquoted commas."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        header, *body = list(csv.reader(fh))
    n = len(header)
    fixed = [[*r[: n - 2], ",".join(r[n - 2 : -1]), r[-1]] if len(r) > n else r for r in body if r]
    return pd.DataFrame(fixed, columns=header)


def literature(ref: Path, weights: pd.Series) -> tuple[pd.DataFrame, dict[str, tuple[float, str]]]:
    """Product literature in g/t (key, element, low, central, high, source) and PCB shares."""
    c = pd.read_csv(ref / "composition_literature.csv", dtype=str, keep_default_na=False)
    num = {k: pd.to_numeric(c[f"value_{k}"], errors="coerce") for k in ("low", "central", "high")}
    comp = c["element"].str.endswith("_component")
    pcb: dict[str, tuple[float, str]] = {}
    for (prod, key), grp in c[comp & (c["element"] == "PCB_component")].groupby(
        ["product", "unu_key_guess"]
    ):
        pcb[key] = (
            float(num["central"][grp.index[0]]) / 1000 / _unit_mass(prod, key, weights),
            LEON,
        )
    pcb["0306"] = (0.21, CHALMERS + " (PCB = 21 % of phone mass)")
    rows = []
    for i, r in c[~comp].iterrows():
        el, unit = r["element"], r["unit"]
        if el not in ELEMENTS:
            continue
        key = r["unu_key_guess"][:4]
        if r["unu_key_guess"].startswith("0302+0308"):
            key = "0302"
        vals = np.array([num[k][i] for k in ("low", "central", "high")], dtype=float)
        if unit == "g/unit":
            mass = _unit_mass(r["product"], key, weights)
            vals, note = vals / mass * 1000, f" [g/unit / {mass} kg x 1000]"
        elif unit == "g/t of PCB":
            status = "published"
            if "router" in r["product"]:  # routers are one kind of 0301 (with mice, keyboards)
                key, share, status = "0301", PCB_ESTIMATE["0301"][0], "estimate"
                note = f" [router board x estimated 0301 PCB share {share} (routers: 0.43)]"
            else:
                share = pcb[key][0]
                note = f" [g/t of PCB x PCB share {share:.3f}]"
            rows.append((key, el, *(vals * share), r["source"] + note, status))
            continue
        elif unit == "g/t of magnet":
            keys_masses = {"0302": 0.015 / 10.0, "0303": 0.003 / 3.0}
            for k2, share in keys_masses.items():
                rows.append(
                    (
                        k2,
                        el,
                        *(vals * share),
                        r["source"]
                        + (
                            f" [x magnet share {share:.4f}: est. 15 g NdFeB per 3.5-inch HDD, 3 g "
                            f"per 2.5-inch]"
                        ),
                        "estimate",
                    )
                )
            continue
        else:
            note = ""
        if key == "0108" and unit == "g/unit":  # appliance mass not stated (US-size units)
            continue
        rows.append((key, el, *vals, r["source"] + note, "published"))
    d = _read_loose(ref / "device_metal_content.csv")
    for _, r in d.iterrows():
        el = SYMBOL.get(r["metal"])
        try:
            g = float(r["grams_per_unit"])
        except ValueError:
            continue
        if el is None or r["basis"] == "per battery":
            continue
        key = "0302" if r["device"].startswith("desktop") else "0306"
        v = g if "per tonne" in r["basis"] else g / _unit_mass(r["device"], key, weights) * 1000
        rows.append(
            (
                key,
                el,
                np.nan,
                v,
                np.nan,
                r["source"] + " (device_metal_content)",
                "published" if r["confidence"] != "low" else "estimate",
            )
        )
    for key, src, values in PUBLISHED:
        for el, v in values.items():
            rows.append((key, el, np.nan, v, np.nan, src, "published"))
    lit = pd.DataFrame(
        rows, columns=["product", "element", "low", "central", "high", "source", "status"]
    )
    lit["central"] = (
        lit["central"].fillna(np.sqrt(lit["low"] * lit["high"])).fillna(lit["high"] / 2)
    )
    lit = lit.dropna(subset=["central"]).round({"low": 6, "central": 6, "high": 6})
    return lit.drop_duplicates(subset=["product", "element", "central"]), pcb


def _aggregate(lit: pd.DataFrame) -> pd.DataFrame:
    """One row per (product, element): median central, extreme low/high, joined sources."""

    def agg(g: pd.DataFrame) -> pd.Series:
        c = float(g["central"].median())
        lo = float(np.nanmin(np.r_[g["low"].to_numpy(), g["central"].to_numpy()]))
        hi = float(np.nanmax(np.r_[g["high"].to_numpy(), g["central"].to_numpy()]))
        src = " | ".join(g["source"].unique())
        if len(g) == 1 and lo == hi:
            lo, hi, src = 0.7 * c, 1.3 * c, src + " (single value; low/high +/-30 %)"
        st = "published" if (g["status"] == "published").any() else "estimate"
        return pd.Series({"low": lo, "central": c, "high": hi, "source": src, "status": st})

    return lit.groupby(["product", "element"]).apply(agg, include_groups=False).reset_index()


def _band(c: float) -> tuple[float, float]:
    return (c / 3, 3 * c) if c < 10000 else (c / 2, min(1.5 * c, 1e6))


def build(ref: Path, products: pd.DataFrame) -> pd.DataFrame:
    """Assemble the composition table (see the module docstring for the layers)."""
    weights = products.set_index("unu_key")["unit_weight_kg"]
    lit_rows, pcb = literature(ref, weights)
    lit = _aggregate(lit_rows).set_index(["product", "element"])
    rows = []
    for key, cat in zip(products["unu_key"], products["eu6_category"], strict=True):
        share, grade = PCB_ESTIMATE.get(key, (np.nan, GRADE_OF.get(key, "low")))
        share_src, share_pub = f"PCB share {share} (estimate)", False
        if key in pcb:
            share, share_src, share_pub = (
                pcb[key][0],
                f"PCB share {pcb[key][0]:.3f} ({pcb[key][1]})",
                True,
            )
        grade = GRADE_OF.get(key, grade)
        cat_vals = dict(zip(_CAT_COLS, CATEGORY[cat], strict=True))
        for el in ELEMENTS:
            if (key, el) in REPLACE:
                c, lo, hi, why = REPLACE[(key, el)]
                rows.append((key, el, lo, c, hi, EST + why, "estimate"))
            elif (key, el) in lit.index:
                r = lit.loc[(key, el)]
                rows.append((key, el, r["low"], r["central"], r["high"], r["source"], r["status"]))
            elif (key, el) in OVERRIDES:
                c, lo, hi, why = OVERRIDES[(key, el)]
                rows.append((key, el, lo, c, hi, EST + why, "estimate"))
            elif key in PROXY and (PROXY[key], el) in lit.index:
                r = lit.loc[(PROXY[key], el)]
                rows.append(
                    (
                        key,
                        el,
                        r["low"],
                        r["central"],
                        r["high"],
                        f"proxy: UNU-KEY {PROXY[key]} | {r['source']}",
                        "estimate",
                    )
                )
            elif el in PCB_ELEMENTS:
                c = share * BOARD_GRADE[grade][el]
                pub = share_pub and el in BOARD_PUBLISHED
                lo, hi = (0.7 * c, 1.3 * c) if pub else _band(c)
                src = (
                    f"{share_src} x {grade}-grade board {BOARD_GRADE[grade][el]} g/t "
                    f"({BOARD_SOURCE[grade]})"
                )
                rows.append((key, el, lo, c, hi, src, "published" if pub else "estimate"))
            else:
                c = float(cat_vals[el])
                rows.append(
                    (
                        key,
                        el,
                        *_band(c)[:1],
                        c,
                        _band(c)[1],
                        f"{CATEGORY_SOURCE}, EU-6 category {cat}",
                        "estimate",
                    )
                )
    out = pd.DataFrame(
        rows,
        columns=[
            "product",
            "element",
            "low_g_per_t",
            "central_g_per_t",
            "high_g_per_t",
            "source",
            "status",
        ],
    )
    out = _cap_total(out)
    for col in ("low_g_per_t", "central_g_per_t", "high_g_per_t"):
        out[col] = out[col].astype(float).map(lambda v: float(f"{v:.4g}"))
    out["evidence"] = np.select(
        [(out["status"] == "published") & ~out["source"].str.contains("board"),
         out["status"] == "published"],
        ["measured", "derived"],
        "estimated",
    )  # fmt: skip
    return out


def _cap_total(out: pd.DataFrame) -> pd.DataFrame:
    """Keep every level physically possible (each product's contents <= 0.98 t/t).

    Central: estimate rows of a product whose central contents exceed 1 t/t are scaled down
    (low and high with them). High: each row's excess over its central value is shrunk by
    one factor per product until the high contents add up to at most 0.98 t/t (so
    low <= central <= high still holds row by row); low is at most central, so it follows.
    """
    total = out.groupby("product")["central_g_per_t"].transform("sum")
    pub = out.groupby("product")["central_g_per_t"].transform(
        lambda s: s[out.loc[s.index, "status"] == "published"].sum()
    )
    est = total - pub
    factor = np.where((total > 1e6) & (est > 0), np.clip((0.98e6 - pub) / est, 0, 1), 1.0)
    scale = (out["status"] == "estimate") & (factor < 1)
    for col in ("low_g_per_t", "central_g_per_t", "high_g_per_t"):
        out.loc[scale, col] = out.loc[scale, col] * factor[scale]
    out.loc[scale, "source"] = out.loc[scale, "source"] + [
        f" (scaled x{f:.2f} to keep the total <= 1 t/t)" for f in factor[scale]
    ]
    central = out.groupby("product")["central_g_per_t"].transform("sum")
    high = out.groupby("product")["high_g_per_t"].transform("sum")
    room = (0.98e6 - central).clip(lower=0.0)
    g = np.where(high > 0.98e6, room / (high - central).where(high > central, 1.0), 1.0)
    g = np.clip(g, 0.0, 1.0)
    shrink = g < 1
    out.loc[shrink, "high_g_per_t"] = out.loc[shrink, "central_g_per_t"] + g[shrink] * (
        out.loc[shrink, "high_g_per_t"] - out.loc[shrink, "central_g_per_t"]
    )
    out.loc[shrink, "source"] = out.loc[shrink, "source"] + [
        f" (high: excess over central x{f:.2f} so the high level stays <= 0.98 t/t)"
        for f in g[shrink]
    ]
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: write data/composition.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=REPO / "ewaste_tracker" / "data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    products = pd.read_csv(args.out / "products.csv", dtype={"unu_key": str, "eu6_category": str})
    table = build(args.reference, products)
    table.to_csv(args.out / "composition.csv", index=False)
    logger.info(
        "wrote composition.csv (%d rows, %d published)",
        len(table),
        (table.status == "published").sum(),
    )


if __name__ == "__main__":
    main()
