"""Tables of the world page: one indicator for every country, the gap to a target, rankings.

:data:`WORLD_INDICATORS` declares what the world map can show: the indicator (or the sum of
a per-element indicator over the chosen elements), its unit, its class scheme and whether
more is better. :func:`world_values` reads one year of it from the year table
(:func:`ewaste_tracker.app.views.core.year_table`), with each country's status and source
from :attr:`ewaste_tracker.Estimate.indicators`; :func:`gap_values` computes the gap to a
collection target in percentage points of the EU basis,

.. math:: gap = 100\\,(\\tau - C / B),

(:math:`C` documented collection, :math:`B` average put on market of the three preceding
years, EU WEEE Directive 2012/19/EU Art. 7(1); positive = short of the target);
:func:`ranking` orders either for the rankings table. :func:`classes_for` picks the map
classes: fixed thresholds for rates (the EU targets as edges), natural breaks otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ewaste_tracker.app.views.core import ViewError
from ewaste_tracker.maps.classes import (
    BLUES_GOOD,
    BUPU,
    DIVERGING_GAP,
    YLORRD,
    Classes,
    fixed_classes,
    natural_classes,
)

__all__ = [
    "GAP_EDGES",
    "RATE_EDGES",
    "WORLD_INDICATORS",
    "WorldIndicator",
    "classes_for",
    "gap_classes",
    "gap_values",
    "ranking",
    "status_of",
    "world_values",
]

RATE_EDGES = (0.0, 5.0, 10.0, 20.0, 45.0, 65.0, np.inf)
"""Collection-rate classes (%): under 5 and 5-10 (most countries outside Europe), 10-20,
20-45 (the world documented rate was 22.3 % in 2022, Global E-waste Monitor 2024), then the
EU WEEE Directive's targets, 45 % from 2016 and 65 % from 2019 (Art. 7(1))."""
GAP_EDGES = (-np.inf, 0.0, 15.0, 30.0, 45.0, np.inf)
"""Gap classes (percentage points short of the target): met, then steps of 15 points."""


@dataclass(frozen=True)
class WorldIndicator:
    """An indicator the world map can show.

    Attributes
    ----------
    key, label
        Identifier and readable name.
    indicator
        Column of the year table, or the per-element indicator summed over the chosen
        elements (``per_element``).
    unit
        Unit of the values shown (``%`` for rates, which are stored as fractions).
    per_element
        Summed over the chosen elements (``lost``, ``recovered``); its unit follows the
        page's unit choice (USD or t).
    scheme
        ``"rate"`` (fixed thresholds :data:`RATE_EDGES`) or ``"natural"``.
    colours
        Class colours, light to dark; dark means more.
    better
        ``"higher"``, ``"lower"`` or ``""`` (no direction), for the rankings' wording.
    """

    key: str
    label: str
    indicator: str
    unit: str
    per_element: bool = False
    scheme: str = "natural"
    colours: tuple[str, ...] = BUPU
    better: str = ""


WORLD_INDICATORS: dict[str, WorldIndicator] = {
    w.key: w
    for w in (
        WorldIndicator(
            "generated_kg_per_inh",
            "E-waste generated per inhabitant",
            "generated_kg_per_inh",
            "kg/inh",
        ),
        WorldIndicator("generated_t", "E-waste generated", "generated_t", "t"),
        WorldIndicator(
            "pom_kg_per_inh", "Put on market per inhabitant", "pom_kg_per_inh", "kg/inh"
        ),
        WorldIndicator(
            "collection_rate",
            "Documented collection rate (of e-waste generated)",
            "collection_rate",
            "%",
            scheme="rate",
            colours=BLUES_GOOD,
            better="higher",
        ),
        WorldIndicator(
            "collection_rate_on_basis",
            "Collection rate, EU basis (of average put on market, 3 years before)",
            "collection_rate_on_basis",
            "%",
            scheme="rate",
            colours=BLUES_GOOD,
            better="higher",
        ),
        WorldIndicator(
            "lost",
            "Critical minerals lost",
            "lost",
            "USD",
            per_element=True,
            colours=YLORRD,
            better="lower",
        ),
        WorldIndicator(
            "recovered",
            "Critical minerals recovered",
            "recovered",
            "USD",
            per_element=True,
            colours=BLUES_GOOD[1:],
            better="higher",
        ),
        WorldIndicator(
            "mci",
            "Material Circularity Indicator (0-1)",
            "mci",
            "index",
            colours=BLUES_GOOD[1:],
            better="higher",
        ),
    )
}
"""The indicators of the world map, by key."""


def _unit(spec: WorldIndicator, unit: str) -> str:
    return unit if spec.per_element else spec.unit


def status_of(indicators: pd.DataFrame, *, year: int, indicator: str) -> pd.DataFrame:
    """Status and source of one indicator in one year, per region.

    Per-element indicators take the status of their first element row (every element of a
    region and year shares it).

    Returns
    -------
    pandas.DataFrame
        Index ``region``; columns ``status``, ``source``.
    """
    in_year = indicators[indicators["year"].to_numpy() == int(year)]
    sub = in_year[(in_year["indicator"] == indicator).to_numpy(dtype=bool)]  # compares codes
    out = pd.DataFrame(
        {
            "region": sub["region"].astype(str).to_numpy(),
            "status": sub["status"].astype(str).to_numpy(),
            "source": sub["source"].astype(str).to_numpy(),
        }
    ).drop_duplicates("region")
    return out.set_index("region")


def world_values(
    wide: pd.DataFrame,
    spec: WorldIndicator,
    *,
    countries: Sequence[str],
    elements: Sequence[str] = (),
    unit: str = "USD",
    status: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One value per country of ``spec`` in the year of ``wide``.

    Parameters
    ----------
    wide
        Year table (region × ``indicator[:element]``).
    spec
        What to show.
    countries
        Countries to keep (aggregates are left out of world maps).
    elements
        Elements summed for per-element indicators; none gives :class:`ViewError`.
    unit
        ``"USD"`` or ``"t"`` for per-element indicators.
    status
        :func:`status_of` of the indicator (or of its per-element rows).

    Returns
    -------
    pandas.DataFrame
        ``region, value, unit, status, source``; rates in per cent; NaN where undefined.
    """
    keep = [c for c in countries if c in wide.index]
    sub = wide.loc[keep]
    if spec.per_element:
        if not elements:
            raise ViewError("choose at least one element for this indicator")
        suffix = "usd" if unit == "USD" else "t"
        cols = [f"{spec.indicator}_{suffix}:{e}" for e in elements]
        missing = [c for c in cols if c not in sub.columns]
        if missing:
            raise ViewError(f"the estimate has no {', '.join(missing)}")
        value = sub[cols].to_numpy(float).sum(axis=1)
    elif spec.indicator in sub.columns:
        value = sub[spec.indicator].to_numpy(float)
    else:
        value = np.full(len(sub), np.nan)
    if spec.unit == "%":
        value = 100.0 * value
    st = (status if status is not None else pd.DataFrame(columns=["status", "source"])).reindex(
        keep
    )
    return pd.DataFrame(
        {
            "region": keep,
            "value": value,
            "unit": _unit(spec, unit),
            "status": st["status"].fillna("estimated").to_numpy(),
            "source": st["source"].fillna("").to_numpy(),
        }
    )


def gap_values(
    wide: pd.DataFrame,
    *,
    target: float,
    countries: Sequence[str],
    status: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Gap to a collection target, percentage points of the EU basis (module docstring).

    Returns
    -------
    pandas.DataFrame
        ``region, value (pp), unit, rate_pct, target_pct, gap_t, status, source``.
    """
    if not 0.0 <= target <= 1.0:
        raise ViewError(f"collection target must be a fraction in [0, 1], got {target!r}")
    keep = [c for c in countries if c in wide.index]
    sub = wide.loc[keep]

    def col(name: str) -> np.ndarray:
        return sub[name].to_numpy(float) if name in sub.columns else np.full(len(sub), np.nan)

    basis, collected = col("collection_basis_t"), col("collected_formal_t")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(basis > 0, collected / basis, np.nan)
    st = (status if status is not None else pd.DataFrame(columns=["status", "source"])).reindex(
        keep
    )
    return pd.DataFrame(
        {
            "region": keep,
            "value": 100.0 * (target - rate),
            "unit": "pp",
            "rate_pct": 100.0 * rate,
            "target_pct": 100.0 * target,
            "gap_t": target * basis - collected,
            "status": st["status"].fillna("estimated").to_numpy(),
            "source": st["source"].fillna("").to_numpy(),
        }
    )


def ranking(
    values: pd.DataFrame, *, names: Mapping[str, str], descending: bool = True
) -> pd.DataFrame:
    """Countries ranked by ``value`` (missing values last, ties share the lowest rank).

    Returns
    -------
    pandas.DataFrame
        ``rank, region, name`` and the columns of ``values``.
    """
    out = values.copy()
    out.insert(1, "name", [str(names.get(r, r)) for r in out["region"]])
    out = out.sort_values(
        ["value", "name"], ascending=[not descending, True], na_position="last", kind="stable"
    )
    rank = out["value"].rank(method="min", ascending=not descending)
    out.insert(0, "rank", rank.astype("Int64"))
    return out.reset_index(drop=True)


def classes_for(spec: WorldIndicator, values: np.ndarray, *, unit: str) -> Classes | None:
    """Map classes of ``spec``: fixed :data:`RATE_EDGES` for rates, else natural breaks."""
    if spec.scheme == "rate":
        return fixed_classes(
            RATE_EDGES,
            colours=spec.colours,
            unit="%",
            method="fixed thresholds (EU WEEE targets 45 % and 65 %)",
        )
    return natural_classes(values, colours=spec.colours, unit=unit)


def gap_classes() -> Classes:
    """Gap classes: blue where the target is met, yellow to red as the shortfall grows."""
    labels = (
        "target met",
        "0 – 15 pp short",
        "15 – 30 pp short",
        "30 – 45 pp short",
        "more than 45 pp short",
    )
    method = "fixed thresholds: target met, then steps of 15 points"
    return fixed_classes(
        GAP_EDGES, colours=DIVERGING_GAP, unit="pp", labels=labels, right=True, method=method
    )
