"""Tables the app shows, built from a model run (no Streamlit here).

Every function takes plain tables (the run's tidy indicator table, its element table, the
catalogue) and returns a DataFrame, so that the page script ``app.py`` only lays them out and
everything it shows is unit-tested. Figures and maps drawn from these tables are in
:mod:`ewaste_tracker.app.figures`, the status and sources of the inputs in
:mod:`ewaste_tracker.app.provenance`.

The central object is the *year table*: :func:`year_table` pivots the indicator table
``region,year,indicator,element,value,unit`` of one year into one row per region and one column
per indicator (``lost_usd:Au``, ``collection_rate`` ...). The other tables read from it.

Collection target
-----------------
The gap to a collection target is recomputed here for any target rate :math:`\\tau` chosen in
the app, from the basis the model wrote (``collection_basis_t``, by default the EU WEEE
Directive 2012/19/EU Art. 7(1) basis: average EEE put on market in the three preceding
years, :math:`B_n = (POM_{n-1} + POM_{n-2} + POM_{n-3})/3`):

.. math::

    \\text{gap}_{rate} = \\tau - C/B, \\qquad \\text{gap}_t = \\tau B - C

with :math:`C` the formally collected tonnes (positive gap = shortfall). At the model's own
target this equals the model's ``collection_gap_t`` (see :mod:`ewaste_tracker.flows.indicators`).

Provenance
----------
Each country row carries ``status`` (``reported`` when the country submitted put-on-market
data used in that year, else ``estimated``) and ``source`` (the put-on-market source and, for
element values, the composition, recovery and price files with the price citation), taken
from :func:`ewaste_tracker.app.provenance.provenance_from_pom` and
:func:`ewaste_tracker.app.provenance.element_sources`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

__all__ = [
    "LABELS",
    "SERIES_INDICATORS",
    "ViewError",
    "circularity_table",
    "country_series",
    "default_elements",
    "display",
    "element_balance",
    "element_routes",
    "lost_minerals_table",
    "ranked_countries",
    "year_table",
    "year_tables",
]

WORLD = "WLD"
SERIES_INDICATORS = ("pom_t", "generated_t", "stock_t", "collected_formal_t")
"""Indicators of the country time series: put on market, generated, in use, collected."""
INDICATOR_NAMES: Mapping[str, str] = {
    "pom_t": "put on market",
    "generated_t": "e-waste generated",
    "stock_t": "in use (stock)",
    "collected_formal_t": "collected formally",
}
"""Readable names of the series indicators."""
ALWAYS_ELEMENTS = ("Au", "Ag", "Cu")
"""Elements shown by default besides the EU critical raw materials (valuable in e-waste)."""

LABELS: Mapping[str, str] = {
    "region": "Code",
    "name": "Country / region",
    "level": "Level",
    "element": "Element",
    "route": "Route",
    "rank": "Rank",
    "lost_t": "Lost (t)",
    "lost_usd": "Lost (USD)",
    "recovered_t": "Recovered (t)",
    "recovered_usd": "Recovered (USD)",
    "input_t": "Into route (t)",
    "element_generated_t": "In e-waste generated (t)",
    "eol_rr_pct": "End-of-life recycling rate (%)",
    "generated_t": "E-waste generated (t)",
    "generated_kg_per_inh": "E-waste generated (kg/inh)",
    "collected_formal_t": "Collected formally (t)",
    "collection_rate_pct": "Collection rate, of generated (%)",
    "collection_rate_on_basis_pct": "Collection rate, of POM 3-yr avg (%)",
    "target_pct": "Target (%)",
    "gap_pct": "Gap to target (percentage points)",
    "gap_t": "Gap to target (t)",
    "recycling_rate_pct": "Recycling rate (%)",
    "mci": "MCI (index 0-1)",
    "status": "Status",
    "source": "Source",
    "year": "Year",
    "input": "Input",
    "first_year": "From",
    "last_year": "To",
    "indicator": "Indicator",
    "value": "Value",
    "unit": "Unit",
    "rate_pct": "Collection rate, EU basis (%)",
    "label": "Figure",
    "before": "Baseline",
    "after": "Scenario",
    "change": "Change",
    "change_pct": "Change (%)",
    "exported_t": "Exported (t)",
    "eol_rr": "End-of-life recycling rate",
    "lost_share": "Share of all lost",
    "share": "Share of world mine production",
    "mined_t": "Mined instead (t)",
    "pom_t": "Put on market (t)",
    "stock_t": "In use (t)",
    "generated_share": "Share of e-waste generated",
    "sites": "Sites",
    "n": "Number",
    "minutes": "Time standard (min)",
    "demand_within_share": "Demand within the time standard",
    "candidate_id": "Site",
    "kind": "Kind",
    "today": "Open today",
    "tonnes_t": "Receives (t/yr)",
    "demand_points_n": "Demand points served",
    "category": "Category",
}
"""Display names with units for the columns of the tables below."""


class ViewError(ValueError):
    """A table asked for a region, year or element the run does not have."""


def _names(names: Mapping[str, str] | pd.Series, codes: Iterable[str]) -> list[str]:
    lookup = dict(names)
    return [str(lookup.get(c, c)) for c in codes]


_DECIMALS = (("_usd", 0), ("_pct", 2), ("_kg_per_inh", 2), ("_t", 3), ("mci", 3))


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """Round numbers for reading and rename columns to their labels with units (:data:`LABELS`).

    USD are shown whole, per cents and kg/inh with 2 decimals, tonnes with 3 (1 kg).
    """
    out = frame.copy()
    for col in out.columns:
        digits = next((d for end, d in _DECIMALS if str(col).endswith(end)), None)
        if digits is not None and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    return out.rename(columns={c: LABELS.get(c, c) for c in out.columns})


def default_elements(available: Sequence[str], crm: pd.DataFrame) -> list[str]:
    """EU critical raw materials (2023) among the modelled elements, plus Au, Ag and Cu.

    Parameters
    ----------
    available
        Elements of the run.
    crm
        ``raw_material, elements, critical, ...`` (:func:`ewaste_tracker.catalog.crm`); ``elements``
        lists symbols separated by spaces.

    Returns
    -------
    list of str
        In the order of ``available``.
    """
    crit = crm[crm["critical"].astype(str).str.lower() == "true"]
    symbols = {s for text in crit["elements"].astype(str) for s in text.split()}
    keep = symbols | set(ALWAYS_ELEMENTS)
    return [e for e in available if e in keep]


def year_table(indicators: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per region, one column per indicator, for one year.

    Parameters
    ----------
    indicators
        ``region, year, indicator, element, value, unit``
        (:attr:`ewaste_tracker.estimate.Estimate.indicators`).
    year
        The year.

    Returns
    -------
    pandas.DataFrame
        Index ``region`` (str), a column per indicator, named ``indicator:element`` for
        per-element indicators (``lost_usd:Au``); missing cells are NaN.

    Raises
    ------
    ViewError
        When the table has no row for ``year``.
    """
    years = indicators["year"].to_numpy()
    sub = indicators[years == year]
    if sub.empty:
        have = f"{int(years.min())}-{int(years.max())}" if years.size else "none"
        raise ViewError(f"the run has no indicators for year {year} (years {have})")
    names = sub["indicator"].astype(str).to_numpy(dtype=object)
    if "element" in sub.columns:
        el = sub["element"].astype(object).to_numpy()
        has = pd.notna(el)
        names = np.where(has, names + ":" + np.where(has, el, "").astype(str), names)
    wide = pd.DataFrame(
        {
            "region": sub["region"].astype(str).to_numpy(),
            "indicator": names,
            "value": sub["value"].to_numpy(dtype=float),
        }
    ).pivot(index="region", columns="indicator", values="value")
    wide.columns.name = None
    return wide


def year_tables(indicators: pd.DataFrame, years: Sequence[int]) -> dict[int, pd.DataFrame]:
    """:func:`year_table` of several years at once (one pivot of all their rows).

    Returns
    -------
    dict
        Year → year table; years without rows are left out.
    """
    y = indicators["year"].to_numpy()
    sub = indicators[np.isin(y, np.asarray(list(years)))]
    if sub.empty:
        return {}
    names = sub["indicator"].astype(str).to_numpy(dtype=object)
    if "element" in sub.columns:
        el = sub["element"].astype(object).to_numpy()
        has = pd.notna(el)
        names = np.where(has, names + ":" + np.where(has, el, "").astype(str), names)
    frame = pd.DataFrame(
        {
            "year": sub["year"].to_numpy(),
            "region": sub["region"].astype(str).to_numpy(),
            "indicator": names,
            "value": sub["value"].to_numpy(dtype=float),
        }
    )
    wide = frame.pivot(index=["year", "region"], columns="indicator", values="value")
    wide.columns.name = None
    out = {}
    for year, part in wide.groupby(level="year", sort=True):
        table = part.droplevel("year")
        table.index.name = "region"
        out[int(year)] = table  # type: ignore[call-overload]
    return out


def _col(wide: pd.DataFrame, name: str) -> np.ndarray:
    if name in wide.columns:
        return wide[name].to_numpy(dtype=float)
    return np.full(len(wide), np.nan)


def _status(provenance: pd.DataFrame | None, regions: Sequence[str], year: int) -> pd.DataFrame:
    idx = pd.Index(list(regions), name="region")
    if provenance is None:
        return pd.DataFrame({"status": "estimated", "source": ""}, index=idx)
    sub = provenance[provenance["year"].astype("int64") == year].set_index("region")
    out = sub[["status", "source"]].reindex(idx)
    out["status"] = out["status"].fillna("estimated")
    out["source"] = out["source"].fillna("")
    return out


def _level(code: str) -> str:
    return "world" if code == WORLD else "UN region"


def _check_elements(wide: pd.DataFrame, elements: Sequence[str]) -> None:
    have = {c.split(":", 1)[1] for c in wide.columns if c.startswith("lost_t:")}
    bad = [e for e in elements if e not in have]
    if bad:
        raise ViewError(f"element(s) {bad} are not in the run (have {sorted(have)})")


def lost_minerals_table(
    wide: pd.DataFrame,
    *,
    year: int,
    elements: Sequence[str],
    countries: Sequence[str],
    names: Mapping[str, str] | pd.Series,
    provenance: pd.DataFrame | None = None,
    sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Tonnes and USD of each element lost and recovered, per country, ranked by USD lost.

    Parameters
    ----------
    wide
        :func:`year_table` of ``year``.
    year
        The year (for provenance).
    elements
        Elements to show.
    countries
        Region codes to keep (the countries; aggregates are left out).
    names
        Code → display name.
    provenance
        :func:`ewaste_tracker.app.provenance.provenance_from_pom` output, or ``None`` (all
        estimated).
    sources
        Element → source text (:func:`ewaste_tracker.app.provenance.element_sources`).

    Returns
    -------
    pandas.DataFrame
        ``region, name, element, lost_t, lost_usd, recovered_t, recovered_usd, status,
        source``, sorted by ``lost_usd`` then ``lost_t`` (descending).
    """
    _check_elements(wide, elements)
    keep = [c for c in countries if c in wide.index]
    sub = wide.loc[keep]
    n, k = len(keep), len(elements)
    block = {
        q: np.column_stack([_col(sub, f"{q}:{e}") for e in elements]).reshape(-1)
        if k
        else np.zeros(0)
        for q in ("lost_t", "lost_usd", "recovered_t", "recovered_usd")
    }
    regions = np.repeat(np.asarray(keep, dtype=object), k)
    prov = _status(provenance, keep, year)
    src_el = np.tile(np.asarray([(sources or {}).get(e, "") for e in elements], dtype=object), n)
    pom_src = np.repeat(prov["source"].to_numpy(dtype=object), k)
    out = pd.DataFrame(
        {
            "region": regions,
            "name": np.repeat(np.asarray(_names(names, keep), dtype=object), k),
            "element": np.tile(np.asarray(elements, dtype=object), n),
            **{q: np.nan_to_num(v) for q, v in block.items()},
            "status": np.repeat(prov["status"].to_numpy(dtype=object), k),
            "source": [
                "; ".join(s for s in pair if s) for pair in zip(pom_src, src_el, strict=True)
            ],
        }
    )
    return out.sort_values(
        ["lost_usd", "lost_t", "region"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def ranked_countries(table: pd.DataFrame, *, by: str = "lost_usd") -> pd.DataFrame:
    """Sum a :func:`lost_minerals_table` over its elements and rank the countries.

    Parameters
    ----------
    table
        Output of :func:`lost_minerals_table`.
    by
        Column to rank by (``lost_usd`` or ``lost_t``).

    Returns
    -------
    pandas.DataFrame
        ``rank, region, name, lost_t, lost_usd, recovered_t, recovered_usd, status, source``,
        rank 1 = most lost; ties share the lowest rank.
    """
    if by not in ("lost_usd", "lost_t"):
        raise ViewError(f"rank by 'lost_usd' or 'lost_t', not {by!r}")
    values = ["lost_t", "lost_usd", "recovered_t", "recovered_usd"]
    g = table.groupby(["region", "name"], sort=False)
    out = g[values].sum().reset_index()
    first = g[["status", "source"]].first().reset_index(drop=True)
    out[["status", "source"]] = first.to_numpy()
    out = out.sort_values([by, "region"], ascending=[False, True], kind="stable")
    out.insert(0, "rank", out[by].rank(method="min", ascending=False).astype("int64"))
    return out.reset_index(drop=True)


def element_balance(wide: pd.DataFrame, *, region: str, elements: Sequence[str]) -> pd.DataFrame:
    """Recovered versus lost of each element for one region or aggregate.

    Returns
    -------
    pandas.DataFrame
        ``element, element_generated_t, recovered_t, lost_t, recovered_usd, lost_usd,
        eol_rr_pct`` (end-of-life recycling rate in %, UNEP 2011: recovered / generated).
    """
    if region not in wide.index:
        raise ViewError(f"region {region!r} is not in the run for this year")
    _check_elements(wide, elements)
    row = wide.loc[region]

    def get(q: str) -> np.ndarray:
        return np.array([row.get(f"{q}:{e}", np.nan) for e in elements], dtype=float)

    return pd.DataFrame(
        {
            "element": list(elements),
            "element_generated_t": np.nan_to_num(get("element_generated_t")),
            "recovered_t": np.nan_to_num(get("recovered_t")),
            "lost_t": np.nan_to_num(get("lost_t")),
            "recovered_usd": np.nan_to_num(get("recovered_usd")),
            "lost_usd": np.nan_to_num(get("lost_usd")),
            "eol_rr_pct": 100.0 * get("eol_rr"),
        }
    )


def circularity_table(
    wide: pd.DataFrame,
    *,
    year: int,
    target: float,
    countries: Sequence[str],
    aggregates: Sequence[str] = (),
    names: Mapping[str, str] | pd.Series,
    provenance: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Collection against a target, recycling rate, MCI and e-waste per inhabitant.

    ``gap_pct`` :math:`= 100(\\tau - C/B)` and ``gap_t`` :math:`= \\tau B - C` (module
    docstring); rates are in per cent.

    Parameters
    ----------
    wide
        :func:`year_table` of ``year``.
    year
        The year (for provenance).
    target
        Collection target :math:`\\tau` as a fraction of the basis (0.65 = EU 65 %).
    countries, aggregates
        Region codes of the country rows and of the world / UN-region rows (listed first).
    names
        Code → display name.
    provenance
        :func:`ewaste_tracker.app.provenance.provenance_from_pom` output, or ``None``.

    Returns
    -------
    pandas.DataFrame
        ``level, region, name, generated_t, generated_kg_per_inh, collected_formal_t,
        collection_rate_pct, collection_rate_on_basis_pct, target_pct, gap_pct, gap_t,
        recycling_rate_pct, mci, status, source``; countries sorted by ``gap_pct``
        (largest shortfall first).
    """
    if not 0.0 <= target <= 1.0:
        raise ViewError(f"collection target must be a fraction in [0, 1], got {target!r}")
    aggs = [a for a in aggregates if a in wide.index]
    ctry = [c for c in countries if c in wide.index]
    codes = aggs + ctry
    sub = wide.loc[codes]
    basis = _col(sub, "collection_basis_t")
    collected = _col(sub, "collected_formal_t")
    with np.errstate(divide="ignore", invalid="ignore"):
        on_basis = np.where(basis > 0, collected / basis, np.nan)
    prov = _status(provenance, codes, year)
    prov.loc[aggs, "status"] = "aggregate"
    prov.loc[aggs, "source"] = "sum of the countries below"
    out = pd.DataFrame(
        {
            "level": ["world" if a == WORLD else "UN region" for a in aggs]
            + ["country"] * len(ctry),
            "region": codes,
            "name": _names(names, codes),
            "generated_t": _col(sub, "generated_t"),
            "generated_kg_per_inh": _col(sub, "generated_kg_per_inh"),
            "collected_formal_t": collected,
            "collection_rate_pct": 100.0 * _col(sub, "collection_rate"),
            "collection_rate_on_basis_pct": 100.0 * on_basis,
            "target_pct": 100.0 * target,
            "gap_pct": 100.0 * (target - on_basis),
            "gap_t": target * basis - collected,
            "recycling_rate_pct": 100.0 * _col(sub, "recycling_rate"),
            "mci": _col(sub, "mci"),
            "status": prov["status"].to_numpy(),
            "source": prov["source"].to_numpy(),
        }
    )
    head, body = out.iloc[: len(aggs)], out.iloc[len(aggs) :]
    body = body.sort_values(["gap_pct", "region"], ascending=[False, True], na_position="last")
    return pd.concat([head, body], ignore_index=True)


def country_series(
    indicators: pd.DataFrame,
    *,
    region: str,
    names: Sequence[str] = SERIES_INDICATORS,
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Time series of some indicators of one region.

    Returns
    -------
    pandas.DataFrame
        ``year, indicator, value, unit`` sorted by indicator then year.
    """
    sel = (indicators["region"] == region).to_numpy(dtype=bool)
    if not sel.any():
        raise ViewError(f"region {region!r} is not in the run")
    sub = indicators[sel]
    keep = sub["indicator"].astype(str).isin(names).to_numpy().copy()
    if "element" in sub.columns:
        keep &= sub["element"].isna().to_numpy()
    sub = sub[keep]
    if years is not None:
        y = sub["year"].to_numpy()
        sub = sub[(y >= years[0]) & (y <= years[1])]
    out = pd.DataFrame(
        {
            "year": sub["year"].astype("int64").to_numpy(),
            "indicator": sub["indicator"].astype(str).to_numpy(),
            "value": sub["value"].to_numpy(dtype=float),
            "unit": sub["unit"].astype(str).to_numpy(),
        }
    )
    return out.sort_values(["indicator", "year"], kind="stable").reset_index(drop=True)


def element_routes(
    elements_table: pd.DataFrame, *, region: str, year: int, elements: Sequence[str]
) -> pd.DataFrame:
    """Element recovered and lost by route (formal, scrap, informal, residual, exported).

    Parameters
    ----------
    elements_table
        ``region, year, element, route, input_t, recovered_t, lost_t[, recovered_usd,
        lost_usd]`` (:meth:`ewaste_tracker.model.run.RunResult.element_table`).

    Returns
    -------
    pandas.DataFrame
        Same columns, rows of ``region``, ``year`` and ``elements``, with routes as text.
    """
    sel = (elements_table["region"] == region).to_numpy(dtype=bool)
    sel = sel & (elements_table["year"].to_numpy() == year)
    sub = elements_table[sel]
    sub = sub[sub["element"].astype(str).isin(elements).to_numpy()]
    if sub.empty:
        raise ViewError(f"no element flows for region {region!r}, year {year}, {list(elements)}")
    out = sub.drop(columns=["region", "year"]).copy()
    for col in ("element", "route"):
        out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


FOOTPRINT_NAMES: Mapping[str, str] = {
    "embodied_ghg_t_co2e": "embodied GHG of equipment put on market",
    "use_phase_ghg_t_co2e": "use-phase GHG of the stock",
    "use_phase_energy_gwh": "use-phase electricity",
    "embodied_water_m3": "embodied water",
    "embodied_energy_tj": "embodied primary energy",
    "embodied_adp_t_sb_eq": "abiotic depletion (elements)",
    "refrigerant_released_t_co2e": "refrigerants released",
    "refrigerant_avoided_t_co2e": "refrigerants recaptured (avoided)",
    "refrigerant_in_ewaste_t_co2e": "refrigerants in e-waste treated",
    "mining_avoided_t_co2e": "mining avoided by recycled metals",
    "mercury_released_t": "mercury released",
    "bfr_plastics_released_t": "plastics with BFR released",
    "operators_energy_gwh": "ICT operators' energy",
    "operators_scope1_t_co2e": "ICT operators' scope 1",
    "operators_scope2_t_co2e": "ICT operators' scope 2",
}
"""Display names of the footprint indicators."""


def country_footprint(footprint: pd.DataFrame, *, region: str, year: int) -> pd.DataFrame:
    """One region's footprint in one year, ``all`` and ``ict`` side by side.

    Returns
    -------
    pandas.DataFrame
        ``Indicator, All products, ICT, Unit, Status, Source`` in the order of
        :data:`FOOTPRINT_NAMES`; when the footprint has Monte Carlo bands, also
        ``All products p5, All products p95, ICT p5, ICT p95`` before ``Unit``.
    """
    sel = (footprint["region"] == region) & (footprint["year"] == int(year))
    sub = footprint[sel.to_numpy(dtype=bool)]
    if sub.empty:
        raise ViewError(f"region {region!r} has no footprint in {year}")
    sub = sub.assign(indicator=sub["indicator"].astype(str), group=sub["group"].astype(str))
    wide = sub.pivot_table(index="indicator", columns="group", values="value", observed=True)
    first = sub.drop_duplicates("indicator").set_index("indicator")
    order = [n for n in FOOTPRINT_NAMES if n in wide.index]
    ranges: dict[str, np.ndarray] = {}
    if {"p5", "p95"} <= set(sub.columns):
        for q in ("p5", "p95"):
            band = sub.pivot_table(index="indicator", columns="group", values=q,
                                   observed=True, dropna=False).reindex(order)  # fmt: skip
            for group, label in (("all", "All products"), ("ict", "ICT")):
                col = band[group] if group in band else pd.Series(np.nan, index=band.index)
                ranges[f"{label} {q}"] = col.to_numpy(float)
    ranges = {k: ranges[k] for k in sorted(ranges, key=lambda k: (k.startswith("ICT"), k))}
    return pd.DataFrame(
        {
            "Indicator": [FOOTPRINT_NAMES[n] for n in order],
            "All products": wide.reindex(order)["all"].to_numpy(float),
            "ICT": wide.reindex(order)["ict"].to_numpy(float),
            **ranges,
            "Unit": first.loc[order, "unit"].astype(str).to_numpy(),
            "Status": first.loc[order, "status"].astype(str).to_numpy(),
            "Source": first.loc[order, "source"].astype(str).to_numpy(),
        }
    )
