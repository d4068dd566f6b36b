"""Reported data: what a national submission overrides, and the status of every output value.

A ministry's published submission (kept in the store, :mod:`ewaste_tracker.submissions.store`)
replaces the default estimate for its country wherever it reports a value:

* **put on market** (``pom``) replaces the default model's put on market, by UNU-KEY and year
  (an EU-6 total is split over its UNU-KEYs by the default shares, :func:`overlay_reported`);
* **formal collection, treatment routes, exports and stock surveys** become targets the
  model is made to meet (:mod:`ewaste_tracker.reported.targets`,
  :func:`ewaste_tracker.reported.apply.apply_reported`).

Every indicator row then carries ``status`` and ``source`` (:func:`indicator_status`):

``reported``
    the value is the submitted figure (every product of the indicator reported);
``mixed``
    it combines submitted and modelled values: some products reported, a rate with a
    reported numerator or denominator, or an aggregate (``WLD``, a UN region) of countries
    some of which reported;
``published``
    the value is a figure of the Global E-waste Monitor 2024 country annex (Baldé et al. 2024;
    2022 e-waste generated and documented formal collection, and the collection rate formed
    from the two): the default model is calibrated to reproduce it (within 0.02 %), and the row's
    ``source`` cites the annex. A country's own submission overrides it (``reported`` /
    ``mixed``);
``estimated``
    the model's value (with the submissions in place where they feed it).

Flows, stocks and element tables carry the status of their region and year
(:func:`status_by_region_year`): ``reported`` where the country has accepted data that year.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ewaste_tracker.submissions.rules import Codes

if TYPE_CHECKING:
    from ewaste_tracker.submissions.store import Store

__all__ = [
    "DIRECT",
    "REPORTED_COLUMNS",
    "indicator_status",
    "overlay_reported",
    "overlay_reported_pom",
    "published_cells",
    "reported_values",
    "status_by_region_year",
    "store_identity",
]

logger = logging.getLogger(__name__)

REPORTED_COLUMNS = ["country", "year", "product", "product_level", "indicator", "value_t",
                    "source"]  # fmt: skip
"""Columns of :func:`reported_values`."""

DIRECT: dict[str, tuple[str, ...]] = {
    "pom": ("pom_t", "pom_kg_per_inh"),
    "collected_formal": ("collected_formal_t",),
    "stock": ("stock_t", "stock_kg_per_inh"),
}
"""Submission indicator → output indicators that *are* the submitted figure."""
DERIVED: dict[str, tuple[str, ...]] = {
    "pom": ("collection_basis_t", "collection_target_t", "collection_rate_on_basis",
            "collection_gap_t"),
    "collected_formal": ("collection_rate", "collection_rate_on_basis", "collection_gap_t"),
}  # fmt: skip
"""Submission indicator → output indicators computed from it and modelled values."""


def reported_values(store: str | Path | Store | None = None) -> pd.DataFrame:
    """Latest **published** submission of every country in the store (empty when none is).

    Drafts, submissions waiting for review, accepted but unpublished and rejected ones are not
    used (see :mod:`ewaste_tracker.submissions.workflow`). Only an existing store is read: a
    missing store means "defaults only".

    Parameters
    ----------
    store
        A GeoPackage path, a ``postgresql://`` URL or a
        :class:`~ewaste_tracker.submissions.store.Store`; default
        :func:`ewaste_tracker.settings.store_target`.

    Returns
    -------
    pandas.DataFrame
        :data:`REPORTED_COLUMNS` plus ``version``.
    """
    from ewaste_tracker.submissions.store import Store

    st = store if isinstance(store, Store) else Store(store)
    if not st.exists():
        return pd.DataFrame(columns=REPORTED_COLUMNS)
    values = st.published_values()
    if values.empty:
        return pd.DataFrame(columns=REPORTED_COLUMNS)
    return values.reset_index(drop=True)


def store_identity(store: str | Path | Store | None = None) -> tuple:
    """A key of the store's state that changes whenever its published data changes.

    The estimate and the app reuse a computed estimate while this key stays the same.
    """
    from ewaste_tracker.submissions.store import Store

    st = store if isinstance(store, Store) else Store(store)
    return (st.kind, *st.identity())


def overlay_reported(
    estimates: pd.DataFrame, reported: pd.DataFrame, *, codes: Codes | None = None
) -> pd.DataFrame:
    """Replace a country's estimates by its reported values and mark them ``reported``.

    Estimates are by UNU-KEY. A value reported for an EU-6 category ``c`` is split over the
    UNU-KEYs ``u ∈ c`` by the estimated shares,

    .. math:: x_u = R_c \\, \\frac{\\hat x_u}{\\sum_{u' \\in c} \\hat x_{u'}},

    or equally when the estimates of the category sum to zero, so the category total equals the
    reported value exactly.

    Parameters
    ----------
    estimates
        ``country, year, product, indicator, value_t`` (other columns are kept).
    reported
        Accepted submission rows (see :func:`ewaste_tracker.submissions.submit.read_submission`).
    codes
        Needed for the UNU-KEY → EU-6 mapping when ``reported`` holds EU-6 categories.

    Returns
    -------
    pandas.DataFrame
        The estimates with reported values in place, plus reported rows the estimates lacked;
        ``status`` is ``reported`` or ``estimated`` and ``source`` says where each came from.
    """
    key = ["country", "year", "product", "indicator"]
    est = estimates.copy()
    est["status"] = "estimated"
    if "source" not in est:
        est["source"] = "model estimate"
    elif isinstance(est["source"].dtype, pd.CategoricalDtype):  # reported sources are new
        est["source"] = est["source"].astype(str)
    rep = reported.loc[reported["product_level"] == "unu_key"]
    eu6 = reported.loc[reported["product_level"] == "eu6"]
    if len(eu6):
        codes = Codes.from_catalog() if codes is None else codes
        cat = est["product"].map(codes.unu_to_eu6)
        ckey = ["country", "year", "_cat", "indicator"]
        e = est.assign(_cat=cat)
        tot = e.groupby(ckey)["value_t"].transform("sum")
        n = e.groupby(ckey)["value_t"].transform("size")
        share = np.where(tot > 0, e["value_t"] / tot.where(tot > 0, 1.0), 1.0 / n)
        r = eu6.rename(columns={"product": "_cat"})[[*ckey, "value_t", "source"]]
        m = e.reset_index().merge(r, on=ckey, how="inner", suffixes=("", "_rep"))
        idx = m["index"].to_numpy()
        est.loc[idx, "value_t"] = m["value_t_rep"].to_numpy() * share[idx]
        est.loc[idx, "status"] = "reported"
        est.loc[idx, "source"] = m["source_rep"].astype(str).to_numpy() + " (EU-6 total split)"
    if len(rep):
        r = rep[[*key, "value_t", "source"]]
        m = est.reset_index().merge(r, on=key, how="inner", suffixes=("", "_rep"))
        idx = m["index"].to_numpy()
        est.loc[idx, "value_t"] = m["value_t_rep"].to_numpy()
        est.loc[idx, "status"] = "reported"
        est.loc[idx, "source"] = m["source_rep"].to_numpy()
        extra = r.merge(est[key], on=key, how="left", indicator=True)
        extra = extra.loc[extra["_merge"] == "left_only"].drop(columns="_merge")
        if len(extra):
            est = pd.concat([est, extra.assign(status="reported")], ignore_index=True)
    return est


def overlay_reported_pom(pom: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """Put on market with reported values in place (``status`` reported / estimated)."""
    rep = reported[reported["indicator"] == "pom"]
    if rep.empty:
        return pom.assign(status=pom.get("status", "estimated"))
    est = pom.rename(columns={"region": "country", "pom_t": "value_t"}).assign(indicator="pom")
    merged = overlay_reported(est, rep)
    merged = merged[merged["country"].isin(set(pom["region"]))]
    out = merged.rename(columns={"country": "region", "value_t": "pom_t"})
    logger.info("reported put-on-market data for %s", sorted(set(rep["country"])))
    return out[["region", "product", "year", "pom_t", "status", "source"]].reset_index(drop=True)


def _coverage(reported: pd.DataFrame, products: int, codes: Codes | None) -> pd.DataFrame:
    """``country, year, indicator, source, complete``: which submitted series cover every
    UNU-KEY of the run (EU-6 categories count for all their UNU-KEYs)."""
    rep = reported[reported["indicator"].isin(list(DIRECT) + list(DERIVED))]
    if rep.empty:
        return pd.DataFrame(columns=["country", "year", "indicator", "source", "complete"])
    n_keys = rep["product"].astype(str)
    if (rep["product_level"] == "eu6").any():
        codes = Codes.from_catalog() if codes is None else codes
        per_cat = pd.Series(codes.unu_to_eu6).value_counts()
        weight = np.where(
            rep["product_level"] == "eu6", n_keys.map(per_cat).fillna(0).to_numpy(), 1
        )
    else:
        weight = np.ones(len(rep))
    rep = rep.assign(_w=weight, year=rep["year"].astype("int64"))
    cov = rep.groupby(["country", "year", "indicator"], as_index=False).agg(
        _w=("_w", "sum"), source=("source", "first")
    )
    cov["complete"] = cov["_w"] >= products
    return cov.drop(columns="_w")


STATUSES = ("reported", "mixed", "published", "estimated")
"""Status categories of an indicator row, strongest first."""


def published_cells(annex: pd.DataFrame, *, year: int = 2022) -> pd.DataFrame:
    """Cells ``region, year, indicator, source`` that are the Monitor's own figures.

    Parameters
    ----------
    annex
        :func:`ewaste_tracker.catalog.gem2024_annex`.
    """
    cite = annex["source"].astype(str).str.split(";").str[0]
    rows = []
    kt = annex["generated_kt"].notna()
    rows.append(
        pd.DataFrame(
            {
                "region": annex["iso3"],
                "indicator": np.where(kt, "generated_t", "generated_kg_per_inh"),
                "source": cite + " annex: e-waste generated",
            }
        )
    )
    col = annex["collected_formal_kt"].notna()
    for name, what in (
        ("collected_formal_t", "documented formal collection"),
        ("collection_rate", "documented formal collection / e-waste generated"),
    ):
        rows.append(pd.DataFrame({"region": annex.loc[col, "iso3"], "indicator": name,
                                  "source": cite[col] + f" annex: {what}"}))  # fmt: skip
    out = pd.concat(rows, ignore_index=True)
    out.insert(1, "year", int(year))
    return out


def indicator_status(
    indicators: pd.DataFrame,
    reported: pd.DataFrame,
    groups: Mapping[str, str] | None,
    *,
    products: int,
    sources: Mapping[str, str],
    codes: Codes | None = None,
    published: pd.DataFrame | None = None,
) -> tuple[pd.Categorical[str], pd.Categorical[Any]]:
    """``status`` and ``source`` of every row of an indicator table (see the module docstring).

    Parameters
    ----------
    indicators
        ``region, year, indicator, ...`` (``indicator`` categorical or text).
    reported
        :func:`reported_values` (may be empty).
    groups
        Region → aggregate (UN region); ``WLD`` contains every region.
    products
        Number of products (UNU-KEYs) of the run, for the coverage of submitted series.
    sources
        Indicator name → source of the modelled value (a row whose name is missing gets
        ``"model"``).
    codes
        Catalogue codes (for EU-6 coverage); read when needed.
    published
        :func:`published_cells`: rows that are the Monitor's figures (``published`` unless a
        submission touches the cell).

    Returns
    -------
    (status, source)
        Two categoricals aligned with ``indicators``.
    """
    ind = pd.Categorical(indicators["indicator"])
    names = list(ind.categories)
    src_labels = list(dict.fromkeys(sources.get(n, "model") for n in names))
    src_of_name = np.array([src_labels.index(sources.get(n, "model")) for n in names])
    status_labels = list(STATUSES)
    reported_code, mixed_code = status_labels.index("reported"), status_labels.index("mixed")
    status = np.full(len(indicators), status_labels.index("estimated"), dtype=np.int8)
    source = src_of_name[ind.codes].astype(np.int32)
    if published is not None and len(published) and len(indicators):
        # only plain cells (no element) of the published years can be the Monitor's figures
        years = published["year"].astype("int64").to_numpy()
        year = indicators["year"].to_numpy(dtype="int64")
        plain = pd.isna(indicators["element"]).to_numpy() if "element" in indicators else True
        cand = np.flatnonzero(np.isin(year, np.unique(years)) & plain)
        if cand.size:
            reg_cat = pd.Categorical(indicators["region"])  # codes, not 2.8 M strings
            r_code = pd.Index(reg_cat.categories).get_indexer(published["region"].astype(str))
            i_code = pd.Index(names).get_indexer(published["indicator"].astype(str))
            ok = (r_code >= 0) & (i_code >= 0)
            pub_key = pd.Index(
                (r_code[ok].astype("int64") * len(names) + i_code[ok]) * 10_000 + years[ok]
            )
            row_key = (
                reg_cat.codes[cand].astype("int64") * len(names) + ind.codes[cand]
            ) * 10_000 + year[cand]
            pos = pub_key.get_indexer(row_key)
            hit = cand[pos >= 0]
            status[hit] = status_labels.index("published")
            cites, inverse = np.unique(
                published["source"].astype(str).to_numpy()[ok], return_inverse=True
            )
            source[hit] = len(src_labels) + inverse[pos[pos >= 0]]
            src_labels += list(cites)
    cov = _coverage(reported, products, codes)
    cells = _reported_cells(cov, groups)
    if len(cells):
        out_code = pd.Index(names).get_indexer(cells["out"])
        cells = cells[out_code >= 0].assign(_i=out_code[out_code >= 0])
    if len(cells):
        # only rows of regions that reported (or contain a reporter) are looked up
        region_cat = pd.Categorical(indicators["region"])
        touched = region_cat.categories.isin(set(cells["region"].astype(str)))
        rows = np.flatnonzero(touched[region_cat.codes])
        key_rows = pd.MultiIndex.from_arrays([
            np.asarray(region_cat.categories, dtype=object)[region_cat.codes[rows]],
            indicators["year"].to_numpy(dtype="int64")[rows],
            ind.codes[rows].astype("int64"),
        ])  # fmt: skip
        key_cells = pd.MultiIndex.from_arrays(
            [cells["region"].astype(str).to_numpy(), cells["year"].to_numpy("int64"),
             cells["_i"].to_numpy("int64")]
        )  # fmt: skip
        pos = key_cells.get_indexer(key_rows)
        hit, at = rows[pos >= 0], pos[pos >= 0]
        cell_status = cells["status"].to_numpy(object)[at]
        status[hit] = np.where(cell_status == "reported", reported_code, mixed_code)
        cell_src = cells["source"].astype(str).to_numpy(object)[at]
        model = np.asarray(src_labels, dtype=object)[source[hit]]
        text = np.where(
            (cell_status == "mixed") & ~np.char.startswith(cell_src.astype(str), "sum of"),
            cell_src + " with " + model, cell_src,
        )  # fmt: skip
        extra, inverse = np.unique(text.astype(str), return_inverse=True)
        source[hit] = len(src_labels) + inverse
        src_labels += list(extra)
    return (
        pd.Categorical.from_codes(status, categories=pd.Index(status_labels)),
        pd.Categorical.from_codes(source, categories=pd.Index(src_labels).astype(object)),
    )


def _reported_cells(cov: pd.DataFrame, groups: Mapping[str, str] | None) -> pd.DataFrame:
    """``region, year, out, status, source`` of every output cell a submission touches."""
    if cov.empty:
        return pd.DataFrame(columns=["region", "year", "out", "status", "source"])
    members: dict[str, set[str]] = {"WLD": set(cov["country"])}
    for reg, grp in (groups or {}).items():
        if reg in members["WLD"]:
            members.setdefault(grp, set()).add(reg)
    rows = []
    for sub_ind, outs, derived in [*((k, v, False) for k, v in DIRECT.items()),
                                   *((k, v, True) for k, v in DERIVED.items())]:  # fmt: skip
        part = cov[cov["indicator"] == sub_ind]
        for out in outs:
            st = np.where(part["complete"] & (not derived), "reported", "mixed")
            rows.append(pd.DataFrame({"region": part["country"], "year": part["year"],
                                      "out": out, "status": st,
                                      "source": part["source"]}))  # fmt: skip
            for agg, regs in members.items():
                sel = part[part["country"].isin(regs)]
                if len(sel):
                    yrs = sel.drop_duplicates("year")
                    rows.append(pd.DataFrame({"region": agg, "year": yrs["year"], "out": out,
                                              "status": "mixed",
                                              "source": "sum of countries, some of them "
                                              "reported"}))  # fmt: skip
    cells = pd.concat(rows, ignore_index=True)
    # "reported" beats "mixed" for the same cell
    return cells.sort_values("status", ascending=False).drop_duplicates(["region", "year", "out"])


def status_by_region_year(reported: pd.DataFrame, groups: Mapping[str, str] | None) -> pd.DataFrame:
    """Status of every region-year that is not purely estimated, for flows, stocks and elements.

    Returns
    -------
    pandas.DataFrame
        ``region, year, status``: ``reported`` for each country-year with accepted data,
        ``mixed`` for the aggregates (``WLD`` and the groups in ``groups``) containing one.
        Region-years not listed are ``estimated``.
    """
    cells = reported[["country", "year"]].drop_duplicates().astype({"year": "int64"})
    own = cells.rename(columns={"country": "region"}).assign(status="reported")
    member = pd.DataFrame({"country": list(groups or {}), "region": list((groups or {}).values())})
    agg = cells.merge(member, on="country")[["region", "year"]]
    agg = pd.concat([agg, cells[["year"]].assign(region="WLD")], ignore_index=True)
    agg = agg.drop_duplicates().assign(status="mixed")
    out = pd.concat([own, agg[["region", "year", "status"]]], ignore_index=True)
    return out.sort_values(["region", "year"], ignore_index=True)
