"""Reported data: what a national submission overrides, and the status of every output value.

A ministry's accepted submission (kept in the store, :mod:`ewaste_tracker.submissions.store`)
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

import numpy as np
import pandas as pd

from ewaste_tracker.submissions.rules import Codes

__all__ = [
    "DIRECT",
    "REPORTED_COLUMNS",
    "indicator_status",
    "overlay_reported",
    "overlay_reported_pom",
    "published_cells",
    "reported_values",
    "status_by_region_year",
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


def reported_values(store: str | Path | None = None) -> pd.DataFrame:
    """Latest accepted submission of every country in the store (empty when there is none).

    Only an existing store is read: a missing store means "defaults only".

    Returns
    -------
    pandas.DataFrame
        :data:`REPORTED_COLUMNS` plus ``version``.
    """
    from ewaste_tracker import settings
    from ewaste_tracker.submissions.store import Store

    path = Path(store) if store is not None else settings.store_path()
    empty = pd.DataFrame(columns=REPORTED_COLUMNS)
    if not path.exists():
        return empty
    st = Store(path)
    subs = st.submissions()
    if len(subs) == 0:
        return empty
    return pd.concat(
        [st.submission_values(c) for c in sorted(set(subs["country"]))], ignore_index=True
    )


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
) -> tuple[pd.Categorical, pd.Categorical]:
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
    model_src = np.array([sources.get(n, "model") for n in names], dtype=object)
    n = len(indicators)
    status = np.full(n, "estimated", dtype=object)
    source = model_src[ind.codes]
    fast_source: tuple[np.ndarray, list] | None = (ind.codes.astype("int64"), list(model_src))
    if published is not None and len(published) and n:
        # only plain 2022-style cells can be published: match on (region, indicator) codes
        years = set(published["year"].astype("int64"))
        year = indicators["year"].to_numpy(dtype="int64")
        plain = pd.isna(indicators["element"]).to_numpy() if "element" in indicators else True
        cand = np.flatnonzero(np.isin(year, list(years)) & plain)
        if cand.size:
            reg_cat = pd.Categorical(indicators["region"].to_numpy()[cand])
            r_code = pd.Index(reg_cat.categories).get_indexer(published["region"].astype(str))
            i_code = pd.Index(names).get_indexer(published["indicator"].astype(str))
            ok = (r_code >= 0) & (i_code >= 0)
            pub_key = pd.Index(
                (r_code[ok].astype("int64") * len(names) + i_code[ok]) * 10_000
                + published["year"].to_numpy("int64")[ok]
            )
            row_key = (
                reg_cat.codes.astype("int64") * len(names) + ind.codes[cand]
            ) * 10_000 + year[cand]
            pos = pub_key.get_indexer(row_key)
            hit = cand[pos >= 0]
            status[hit] = "published"
            pub_src = published["source"].astype(str).to_numpy(object)[ok]
            source_codes = ind.codes.astype("int64").copy()
            labels, code_of = list(model_src), {}
            for k in np.unique(pos[pos >= 0]):  # a few distinct citations
                text = str(pub_src[k])
                if text not in code_of:
                    code_of[text] = len(labels)
                    labels.append(text)
            src_code = np.array([code_of[str(t)] for t in pub_src], dtype="int64")
            source_codes[hit] = src_code[pos[pos >= 0]]
            source = np.asarray(labels, dtype=object)[source_codes]
            fast_source = (source_codes, labels)
    cov = _coverage(reported, products, codes)
    if len(cov):
        region = indicators["region"].astype(str).to_numpy()
        year = indicators["year"].to_numpy(dtype="int64")
        members: dict[str, set[str]] = {"WLD": set(cov["country"])}
        for reg, grp in (groups or {}).items():
            if reg in members["WLD"]:
                members.setdefault(grp, set()).add(reg)
        # the cells (region, year, output indicator) a submission touches, with their status
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
                        rows.append(pd.DataFrame({"region": agg, "year": yrs["year"],
                                                  "out": out, "status": "mixed",
                                                  "source": "sum of countries, some of them "
                                                  "reported"}))  # fmt: skip
        cells = pd.concat(rows, ignore_index=True)
        # "reported" beats "mixed" for the same cell
        cells = cells.sort_values("status", ascending=False).drop_duplicates(
            ["region", "year", "out"]
        )
        out_code = pd.Index(names).get_indexer(cells["out"])
        cells = cells[out_code >= 0].assign(_i=out_code[out_code >= 0])
        if len(cells):
            key_rows = pd.MultiIndex.from_arrays([region, year, ind.codes.astype("int64")])
            key_cells = pd.MultiIndex.from_arrays(
                [cells["region"].astype(str).to_numpy(), cells["year"].to_numpy("int64"),
                 cells["_i"].to_numpy("int64")]
            )  # fmt: skip
            pos = key_cells.get_indexer(key_rows)
            hit = pos >= 0
            status[hit] = cells["status"].to_numpy(object)[pos[hit]]
            src = cells["source"].astype(str).to_numpy(object)[pos[hit]]
            mixed = status[hit] == "mixed"
            src = np.where(mixed & ~np.char.startswith(src.astype(str), "sum of"),
                           src + " with " + source[hit], src)  # fmt: skip
            source[hit] = src
            fast_source = None
    if fast_source is not None:  # no submission touched a row: build from codes, not strings
        codes_, labels_ = fast_source
        uniq = list(dict.fromkeys(labels_))
        remap = np.array([uniq.index(x) for x in labels_], dtype="int64")
        return (
            pd.Categorical(status, categories=list(STATUSES)),
            pd.Categorical.from_codes(remap[codes_], categories=pd.Index(uniq, dtype=object)),
        )
    return (
        pd.Categorical(status, categories=list(STATUSES)),
        pd.Categorical(source),
    )


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
