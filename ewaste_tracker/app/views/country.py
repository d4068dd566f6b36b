"""Tables of the country profile, in the style of the Global E-waste Monitor's country pages.

Every function takes the rows of one region of :attr:`ewaste_tracker.Estimate.indicators`
(``region, year, indicator, element, value, unit, status, source``; any further columns such
as ``p5``/``p95`` are carried along) or the other public tables, and returns a plain frame:

* :func:`headline`: kg per inhabitant, put on market, e-waste generated, documented
  collection and its rate, in use, each with its status and source;
* :func:`categories`: the six categories (:func:`ewaste_tracker.jobs.categories.eu6_table`);
* :func:`trend`: the series 1990-2030 with each point's status, and the range columns
  ``p5``/``p95`` when the indicator table has them;
* :func:`minerals`: per element, in e-waste generated, recovered, lost (t and USD), the
  end-of-life recycling rate;
* :func:`group_partners`: the Sankey of an importing or exporting country kept readable
  (at most ``top`` partners by name each way, the others pooled by UN region);
* :func:`sources`: where every number shown comes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ewaste_tracker.app.views.core import ViewError

__all__ = [
    "HEADLINE",
    "TREND_INDICATORS",
    "categories",
    "group_partners",
    "headline",
    "minerals",
    "sources",
    "trend",
]

HEADLINE: Mapping[str, str] = {
    "generated_kg_per_inh": "E-waste generated per inhabitant",
    "generated_t": "E-waste generated",
    "pom_t": "Put on market",
    "pom_kg_per_inh": "Put on market per inhabitant",
    "collected_formal_t": "Documented formal collection",
    "collection_rate": "Documented collection rate (of e-waste generated)",
    "collection_rate_on_basis": "Collection rate, EU basis (of put on market, 3 years before)",
    "stock_t": "Equipment in use",
    "population": "Population",
}
"""The headline figures, in the order shown, with their labels."""
TREND_INDICATORS: Mapping[str, str] = {
    "pom_t": "put on market",
    "generated_t": "e-waste generated",
    "collected_formal_t": "documented collection",
    "stock_t": "in use",
}
"""Series of the trend chart."""
RANGE_COLUMNS = ("p5", "p50", "p95")
"""Range columns carried when the indicator table has them (the Monte Carlo ranges)."""


def _rows(rows: pd.DataFrame, region: str) -> pd.DataFrame:
    if rows.empty:
        raise ViewError(f"region {region!r} is not in the estimate")
    return rows


def _plain(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows without an element (not per-element indicators)."""
    if "element" in rows.columns:
        return rows[rows["element"].isna().to_numpy()]
    return rows


def headline(rows: pd.DataFrame, *, region: str, year: int) -> pd.DataFrame:
    """The headline figures of one region and year.

    Returns
    -------
    pandas.DataFrame
        ``indicator, label, value, unit, status, source`` (plus range columns when present)
        in the order of :data:`HEADLINE`; rates are fractions (unit ``fraction``).
    """
    sub = _plain(_rows(rows, region))
    sub = sub[sub["year"].to_numpy() == int(year)]
    if sub.empty:
        raise ViewError(f"{region} has no indicators in {year}")
    sub = sub.assign(indicator=sub["indicator"].astype(str)).drop_duplicates("indicator")
    sub = sub.set_index("indicator")
    order = [k for k in HEADLINE if k in sub.index]
    extra = [c for c in RANGE_COLUMNS if c in sub.columns]
    out = pd.DataFrame(
        {
            "indicator": order,
            "label": [HEADLINE[k] for k in order],
            "value": sub.loc[order, "value"].to_numpy(float),
            "unit": sub.loc[order, "unit"].astype(str).to_numpy(),
            **{c: sub.loc[order, c].to_numpy(float) for c in extra},
            "status": sub.loc[order, "status"].astype(str).to_numpy(),
            "source": sub.loc[order, "source"].astype(str).to_numpy(),
        }
    )
    return out


def categories(eu6: pd.DataFrame, *, region: str, year: int) -> pd.DataFrame:
    """The six categories of one region and year, with each one's share of e-waste generated.

    Returns
    -------
    pandas.DataFrame
        ``category, name, pom_t, generated_t, stock_t, generated_share`` (fraction).
    """
    sel = (eu6["region"].astype(str).to_numpy() == region) & (eu6["year"].to_numpy() == year)
    sub = eu6[sel]
    if sub.empty:
        raise ViewError(f"no category figures for {region} in {year}")
    total = float(sub["generated_t"].sum())
    out = sub[["category", "name", "pom_t", "generated_t", "stock_t"]].reset_index(drop=True)
    out["generated_share"] = out["generated_t"] / total if total > 0 else np.nan
    return out


def trend(
    rows: pd.DataFrame,
    *,
    region: str,
    years: tuple[int, int],
    names: Sequence[str] = tuple(TREND_INDICATORS),
) -> pd.DataFrame:
    """The series of one region with each point's status (and ranges when present).

    Returns
    -------
    pandas.DataFrame
        ``indicator, year, value, unit, status`` (and ``p5``/``p50``/``p95`` when the
        indicator table has them), by indicator then year.
    """
    sub = _plain(_rows(rows, region))
    y = sub["year"].to_numpy()
    sub = sub[
        (y >= years[0]) & (y <= years[1]) & sub["indicator"].astype(str).isin(names).to_numpy()
    ]
    extra = [c for c in RANGE_COLUMNS if c in sub.columns]
    out = pd.DataFrame(
        {
            "indicator": sub["indicator"].astype(str).to_numpy(),
            "year": sub["year"].astype("int64").to_numpy(),
            "value": sub["value"].to_numpy(float),
            "unit": sub["unit"].astype(str).to_numpy(),
            "status": sub["status"].astype(str).to_numpy(),
            **{c: sub[c].to_numpy(float) for c in extra},
        }
    )
    order = {n: i for i, n in enumerate(names)}
    out["_o"] = out["indicator"].map(order)
    return out.sort_values(["_o", "year"], kind="stable").drop(columns="_o").reset_index(drop=True)


_MINERAL_VALUES = ("element_generated_t", "recovered_t", "lost_t", "exported_t",
                   "recovered_usd", "lost_usd", "eol_rr")  # fmt: skip
"""The value columns of :func:`minerals`, in their order."""


def minerals(
    rows: pd.DataFrame, *, region: str, year: int, elements: Sequence[str]
) -> pd.DataFrame:
    """Elements in the e-waste generated, recovered and lost (t and USD), one row each.

    Returns
    -------
    pandas.DataFrame
        ``element, element_generated_t, recovered_t, lost_t, exported_t, recovered_usd,
        lost_usd, eol_rr`` (fraction recovered of generated, UNEP 2011), ``status,
        source``; elements in the order given.
    """
    sub = _rows(rows, region)
    sub = sub[(sub["year"].to_numpy() == int(year)) & sub["element"].notna().to_numpy()]
    if sub.empty or not elements:
        return pd.DataFrame(columns=["element", *_MINERAL_VALUES, "status", "source"])
    names = list(elements)
    el = sub["element"].astype(str).to_numpy()
    sub = sub[np.isin(el, names)]
    el = sub["element"].astype(str).to_numpy()
    ind = sub["indicator"].astype(str).to_numpy()
    val = sub["value"].to_numpy(float)
    out = pd.DataFrame({"element": names})
    row = pd.Index(names).get_indexer(el)
    for c in _MINERAL_VALUES:  # seven columns, each one vectorised take of the first value
        col = np.full(len(names), np.nan)
        hit = np.flatnonzero(ind == c)
        first = hit[np.unique(row[hit], return_index=True)[1]]
        col[row[first]] = val[first]
        out[c] = col
    first = sub.assign(element=el).drop_duplicates("element")
    first = first.set_index("element").reindex(names)
    out["status"] = first["status"].astype(str).to_numpy()
    out["source"] = first["source"].astype(str).to_numpy()
    return out


def group_partners(
    nodes: pd.DataFrame,
    links: pd.DataFrame,
    *,
    region: str,
    names: Mapping[str, str],
    groups: Mapping[str, str],
    top: int = 5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pool a Sankey's trade partners so that it stays readable.

    Links with another region at one end are grouped by partner: the ``top`` largest
    partners each way (by tonnes) keep a node of their own ("from China", "to Ghana"), the
    others are pooled by UN region ("from other countries in Asia"). Stages of the partner
    are dropped from the node (each link keeps its destination stage in ``stage_to``), so a
    country has at most ``2 (top + regions)`` partner nodes whatever its number of partners.
    Tonnes are conserved: the links are summed, never dropped.

    Parameters
    ----------
    nodes, links
        :func:`ewaste_tracker.flows.balance.graph_to_sankey` output.
    region
        The country drawn.
    names
        Code → name.
    groups
        Country → UN region.
    top
        Partners kept by name each way.

    Returns
    -------
    nodes : pandas.DataFrame
        ``node, region, stage, label`` (partner nodes have stage ``partner_in`` or
        ``partner_out``).
    links : pandas.DataFrame
        ``source, target, value_t, stage_from, stage_to``.
    """
    node_region = nodes["region"].astype(str).to_numpy()
    node_stage = nodes["stage"].astype(str).to_numpy()
    src = links["source"].to_numpy()
    tgt = links["target"].to_numpy()
    value = links["value_t"].to_numpy(float)
    own = (node_region == region) | (node_stage == "sysenv")
    inbound = ~own[src] & own[tgt]
    outbound = own[src] & ~own[tgt]

    def pooled(partners: np.ndarray, mask: np.ndarray) -> dict[str, str]:
        totals = pd.Series(value[mask]).groupby(partners[mask]).sum().sort_values(ascending=False)
        keep = set(totals.index[:top])
        return {p: (p if p in keep else f"other:{groups.get(p, 'other')}") for p in totals.index}

    in_key = pooled(node_region[src], inbound)
    out_key = pooled(node_region[tgt], outbound)

    def label(key: str, way: str) -> str:
        if key.startswith("other:"):
            g = key.split(":", 1)[1]
            where = f"other countries in {g}" if g != "other" else "other countries"
        else:
            where = str(names.get(key, key))
        return f"{way} {where}"

    keys: list[tuple[str, str, str]] = [
        (str(r), str(s), str(lbl))
        for r, s, lbl in zip(nodes["region"], nodes["stage"], nodes["label"], strict=True)
    ]
    new_index: dict[tuple[str, str, str], int] = {}
    order: list[tuple[str, str, str]] = []

    def idx(k: tuple[str, str, str]) -> int:
        if k not in new_index:
            new_index[k] = len(order)
            order.append(k)
        return new_index[k]

    rows = []
    for i in range(len(links)):  # a loop over the links of one country and year
        s, t = keys[src[i]], keys[tgt[i]]
        if inbound[i]:
            p = in_key[s[0]]
            s = (p, "partner_in", label(p, "from"))
        elif outbound[i]:
            p = out_key[t[0]]
            t = (p, "partner_out", label(p, "to"))
        rows.append((idx(s), idx(t), value[i], node_stage[src[i]], node_stage[tgt[i]]))
    ungrouped = pd.DataFrame(
        rows, columns=["source", "target", "value_t", "stage_from", "stage_to"]
    )
    grouped: pd.DataFrame = ungrouped.groupby(
        ["source", "target", "stage_from", "stage_to"], as_index=False, sort=False
    )["value_t"].sum()  # type: ignore[assignment]
    new_nodes = pd.DataFrame(
        {
            "node": np.arange(len(order)),
            "region": [k[0] for k in order],
            "stage": [k[1] for k in order],
            "label": [k[2] for k in order],
        }
    )
    return new_nodes, grouped[["source", "target", "value_t", "stage_from", "stage_to"]]


def sources(
    shown: pd.DataFrame,
    *,
    model_sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Where every number shown comes from: one row per (indicator, status, source).

    Parameters
    ----------
    shown
        Indicator rows shown on the page (any years), with ``status`` and ``source``.
    model_sources
        Other inputs behind every value (lifetimes, composition ...), listed after.

    Returns
    -------
    pandas.DataFrame
        ``what, status, years, source``.
    """
    sub = shown.assign(
        indicator=shown["indicator"].astype(str),
        element=shown["element"].astype("string").fillna("") if "element" in shown else "",
        status=shown["status"].astype(str),
        source=shown["source"].astype(str),
    )
    sub["what"] = np.where(sub["element"] != "", sub["indicator"] + " (elements)", sub["indicator"])
    g = sub.groupby(["what", "status", "source"], sort=False)["year"].agg(["min", "max"])
    out = g.reset_index()
    out["years"] = np.where(
        out["min"] == out["max"],
        out["min"].astype(str),
        out["min"].astype(str) + "–" + out["max"].astype(str),
    )
    out = out[["what", "status", "years", "source"]]
    if model_sources:
        more = pd.DataFrame(
            {
                "what": list(model_sources),
                "status": "estimated",
                "years": "all",
                "source": list(model_sources.values()),
            }
        )
        out = pd.concat([out, more], ignore_index=True)
    return out
