"""Tables of the scenarios page: the levers in words, and before / after side by side.

A scenario is the estimate re-run with :class:`ewaste_tracker.model.levers.Levers`
(:func:`ewaste_tracker.scenario.scenario`); :func:`levers_from_choices` builds them from the
page's controls, :func:`compare` lines up the baseline's and the scenario's figures of one
region and year,

.. math:: \\Delta = x^{scenario} - x^{baseline}, \\qquad
          \\Delta\\% = 100\\,\\Delta / x^{baseline},

and :func:`compare_series` gives both time series for the chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ewaste_tracker.model.levers import ICT, Levers

__all__ = [
    "COMPARED",
    "Choices",
    "compare",
    "compare_series",
    "levers_from_choices",
    "levers_text",
]

COMPARED: Mapping[str, tuple[str, str]] = {
    "pom_t": ("Put on market", "t"),
    "stock_t": ("Equipment in use (the service)", "t"),
    "generated_t": ("E-waste generated", "t"),
    "collected_formal_t": ("Documented formal collection", "t"),
    "collection_rate": ("Documented collection rate", "fraction"),
    "recycled_formal_t": ("Formally recycled", "t"),
    "exported_t": ("Elements exported in e-waste", "t"),
    "recovered_t": ("Elements recovered", "t"),
    "lost_t": ("Elements lost", "t"),
    "recovered_usd": ("Value recovered", "USD"),
    "lost_usd": ("Value lost", "USD"),
}
"""Indicators compared (per-element ones summed over the chosen elements)."""
PER_ELEMENT = frozenset({"exported_t", "recovered_t", "lost_t", "recovered_usd", "lost_usd"})
FOOTPRINT: Mapping[str, tuple[str, str]] = {
    "embodied_ghg_t_co2e": ("Embodied GHG of equipment put on market", "t CO2e"),
    "use_phase_ghg_t_co2e": ("Use-phase GHG of equipment in use", "t CO2e"),
    "refrigerant_released_t_co2e": ("Refrigerants released", "t CO2e"),
}
"""Footprint indicators compared (group ``all``)."""


@dataclass(frozen=True)
class Choices:
    """The scenario page's controls, in the units a user sets them (per cent, years).

    ``None`` leaves a lever as it is in the baseline.
    """

    collection_pct: float | None = None
    lifetime_extension_pct: float = 0.0
    lifetime_in_use: bool = True
    refurbishment_pct: float | None = None
    recovery_gain_pct: float | None = None
    export_pct: float | None = None
    from_year: int = 2025
    ict_only: bool = False


def levers_from_choices(c: Choices) -> Levers:
    """:class:`~ewaste_tracker.model.levers.Levers` of the page's choices."""

    def share(v: float | None) -> float | None:
        return None if v is None else float(v) / 100.0

    return Levers(
        lifetime_scale=1.0 + float(c.lifetime_extension_pct) / 100.0,
        lifetime_in_use=bool(c.lifetime_in_use),
        refurbishment_share=share(c.refurbishment_pct),
        collection_share=share(c.collection_pct),
        export_share=share(c.export_pct),
        recovery_gain=share(c.recovery_gain_pct) or None,
        products=ICT if c.ict_only else None,
        from_year=int(c.from_year),
    )


def levers_text(c: Choices) -> list[str]:
    """The choices in words (one line per lever that changes something)."""
    what = "ICT equipment" if c.ict_only else "all equipment"
    out = []
    if c.collection_pct is not None:
        out.append(f"formal collection of at least {c.collection_pct:g} % of e-waste generated")
    if c.lifetime_extension_pct:
        who = "devices in use and new ones" if c.lifetime_in_use else "new devices only"
        out.append(f"lifetimes {c.lifetime_extension_pct:+g} % ({who})")
    if c.refurbishment_pct is not None:
        out.append(f"{c.refurbishment_pct:g} % of formal collection refurbished")
    if c.recovery_gain_pct:
        out.append(f"formal recovery {c.recovery_gain_pct:g} % of the way to best practice")
    if c.export_pct is not None:
        out.append(f"{c.export_pct:g} % of collection exported")
    if not out:
        return ["no lever changed: the scenario equals the baseline"]
    return [f"{line}, {what}, from {c.from_year}" for line in out]


def _values(rows: pd.DataFrame, year: int, elements: Sequence[str]) -> dict[str, float]:
    sub = rows[rows["year"].to_numpy() == int(year)]
    ind = sub["indicator"].astype(str).to_numpy()
    el = sub["element"].astype("string").fillna("").to_numpy() if "element" in sub else ""
    v = sub["value"].to_numpy(float)
    out: dict[str, float] = {}
    for key in COMPARED:
        if key in PER_ELEMENT:
            hit = (ind == key) & np.isin(el, list(elements))
            out[key] = float(v[hit].sum()) if elements else np.nan
        else:
            hit = (ind == key) & (el == "")
            out[key] = float(v[hit][0]) if hit.any() else np.nan
    return out


def _footprint(fp: pd.DataFrame | None, region: str, year: int) -> dict[str, float]:
    if fp is None or fp.empty:
        return {}
    sel = (
        (fp["region"].astype(str).to_numpy() == region)
        & (fp["year"].to_numpy() == year)
        & (fp["group"].astype(str).to_numpy() == "all")
    )
    sub = fp[sel]
    return dict(zip(sub["indicator"].astype(str), sub["value"].to_numpy(float), strict=False))


def compare(
    base_rows: pd.DataFrame,
    scen_rows: pd.DataFrame,
    *,
    region: str,
    year: int,
    elements: Sequence[str],
    base_fp: pd.DataFrame | None = None,
    scen_fp: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Baseline and scenario figures of one region and year side by side.

    Parameters
    ----------
    base_rows, scen_rows
        Indicator rows of ``region`` in the baseline and the scenario.
    elements
        Elements summed for the element indicators.
    base_fp, scen_fp
        Footprint tables (:attr:`ewaste_tracker.Estimate.footprint`), or ``None``.

    Returns
    -------
    pandas.DataFrame
        ``indicator, label, before, after, change, change_pct, unit``.
    """
    a, b = _values(base_rows, year, elements), _values(scen_rows, year, elements)
    fa, fb = _footprint(base_fp, region, year), _footprint(scen_fp, region, year)
    rows = [(k, label, a[k], b[k], unit) for k, (label, unit) in COMPARED.items()]
    rows += [
        (k, label, fa.get(k, np.nan), fb.get(k, np.nan), unit)
        for k, (label, unit) in FOOTPRINT.items()
        if k in fa
    ]
    out = pd.DataFrame(rows, columns=["indicator", "label", "before", "after", "unit"])
    out["change"] = out["after"] - out["before"]
    with np.errstate(divide="ignore", invalid="ignore"):
        base = out["before"].abs()
        out["change_pct"] = np.where(base > 0, 100.0 * out["change"] / base, np.nan)
    return out[["indicator", "label", "before", "after", "change", "change_pct", "unit"]]


def compare_series(
    base_rows: pd.DataFrame,
    scen_rows: pd.DataFrame,
    *,
    indicators: Sequence[str],
    years: tuple[int, int],
) -> pd.DataFrame:
    """Both cases' series of ``indicators`` (no element), long form.

    Returns
    -------
    pandas.DataFrame
        ``case (baseline / scenario), indicator, year, value, unit``.
    """
    parts = []
    for case, rows in (("baseline", base_rows), ("scenario", scen_rows)):
        y = rows["year"].to_numpy()
        plain = rows["element"].isna().to_numpy() if "element" in rows else np.ones(len(rows), bool)
        sel = (
            plain
            & (y >= years[0])
            & (y <= years[1])
            & rows["indicator"].astype(str).isin(indicators).to_numpy()
        )
        sub = rows[sel]
        parts.append(
            pd.DataFrame(
                {
                    "case": case,
                    "indicator": sub["indicator"].astype(str),
                    "year": sub["year"].astype("int64"),
                    "value": sub["value"].to_numpy(float),
                    "unit": sub["unit"].astype(str),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
