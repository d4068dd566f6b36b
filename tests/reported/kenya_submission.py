"""A filled Kenya submission (EU-6 template): plausible figures and one implausible value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# plausible: each figure a few per cent off the model's default, with the uncertainty a
# ministry would state for its source (registers tight, surveys loose)
FACTORS = {"pom": (1.06, 10), "collected_formal": (1.15, 10), "treated_preprocessing": (0.9, 15),
           "exported_ewaste": (1.1, 25)}  # fmt: skip
YEARS = (2020, 2022)  # not consecutive: the year-on-year check is not what finds it
BAD = ("4a", 2022, "collected_formal")
"""The implausible cell: formal collection of large equipment at 10x its e-waste generated."""


def fill_template(template: Path, out: Path, generated_4a_2022: float) -> Path:
    """Fill the template's ``value`` and ``uncertainty_pct`` and write it to ``out``."""
    t = pd.read_csv(template, dtype={"product": str, "value": str, "uncertainty_pct": str})
    t["product"] = t["product"].astype(str)
    keep = t["indicator"].isin(list(FACTORS)) & t["year"].isin(YEARS)
    factor = t["indicator"].map({k: v[0] for k, v in FACTORS.items()})
    pct = t["indicator"].map({k: v[1] for k, v in FACTORS.items()})
    t["value"] = np.where(keep, (t["default_t"] * factor).round(3).astype(str), "")
    t["uncertainty_pct"] = np.where(keep, pct.astype("Int64").astype(str), "")
    bad = (t["product"] == BAD[0]) & (t["year"] == BAD[1]) & (t["indicator"] == BAD[2])
    t.loc[bad, "value"] = f"{10 * generated_4a_2022:.3f}"
    t.to_csv(out, index=False)
    return out
