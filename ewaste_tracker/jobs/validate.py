"""The default estimate against every published figure the project holds.

:func:`fidelity` lines up each figure of the Global E-waste Monitor 2024 annex
(``data/gem2024_country_annex.csv``) and of the validation set
(``data/published_figures.csv``: earlier Monitors, the GTEFM 2022, aggregates) with the
estimate's value of the same indicator, scope and year, and gives the relative error
:math:`\\hat x / x - 1`. Each row keeps the figure's ``role``:

``fit``
    used by the calibration (the annex countries, GEM 2024's 2010 world figure, the 2030
    projection, the GEM 2020 EU-6 shares, the GTEFM totals);
``held_out``
    never used in a fit: the back-cast check (GEM 2017 and GEM 2020 world, regional and
    country figures);
``cv``
    the world documented-collection anchors of the formal-rate history: each is predicted
    with the history rebuilt *without it* (leave one out,
    :func:`ewaste_tracker.defaults.collection.history_without`), so its error is a
    cross-validated one;
``check``
    same edition and year as the annex (implied by it, not fitted separately).

:func:`collection_prior_cv` gives the leave-one-out error of the collection prior
(:mod:`ewaste_tracker.defaults.collection`) on the 84 published countries, and
:func:`summary` the median and largest absolute errors by indicator and role, income group
and year. ``benchmarks/fidelity.py`` prints them; README's table comes from it.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.defaults import collection as coll
from ewaste_tracker.estimate import Estimate

__all__ = ["collection_prior_cv", "fidelity", "summary"]

SCALE = {"Mt": 1e6, "kt": 1e3, "t": 1.0}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def _lookup(est: Estimate) -> pd.Series:
    t = est.result.indicators
    t = t[t["element"].isna()]
    return t.set_index(["region", "indicator", "year"])["value"]


def fidelity(est: Estimate) -> pd.DataFrame:
    """Every published figure with the estimate's value (module docstring).

    Returns
    -------
    pandas.DataFrame
        ``edition, scope, year, indicator, published, model, error, role, kind,
        income_group, source`` (values in t, kg/inh, fraction or USD).
    """
    values = _lookup(est)
    info = catalog.countries().set_index("iso3")
    rows: list[tuple[Any, ...]] = []
    for a in _records(catalog.gem2024_annex()):
        kt, kg, col = (float(a[k]) for k in ("generated_kt", "generated_kg_per_inh",
                                              "collected_formal_kt"))  # fmt: skip
        if np.isfinite(kt):
            rows.append(("GEM 2024 annex", a["iso3"], 2022, "generated_t", kt * 1e3, "fit",
                         "table", a["source"]))  # fmt: skip
        else:
            rows.append(("GEM 2024 annex", a["iso3"], 2022, "generated_kg_per_inh", kg, "fit",
                         "table", a["source"]))  # fmt: skip
        if np.isfinite(col):
            rows.append(("GEM 2024 annex", a["iso3"], 2022, "collected_formal_t", col * 1e3,
                         "fit", "table", a["source"]))  # fmt: skip
    anchors = {h[0] for h in coll.PUBLISHED_HISTORY} - {1995, 2022, 2030}
    for p in _records(catalog.published_figures()):
        value = float(p["value"]) * SCALE.get(str(p["unit"]), 1.0)
        role = p["role"]
        if (p["indicator"] in ("collected_formal_t", "collection_rate") and p["scope"] == "WLD"
                and int(p["year"]) in anchors):  # fmt: skip
            role = "cv"
        rows.append((p["edition"], p["scope"], int(p["year"]), p["indicator"], value, role,
                     p["kind"], p["source"]))  # fmt: skip
    table = pd.DataFrame(rows, columns=["edition", "scope", "year", "indicator", "published",
                                        "role", "kind", "source"])  # fmt: skip
    table["model"] = [_model(est, values, r) for r in _records(table)]
    table["error"] = table["model"] / table["published"] - 1.0
    table["income_group"] = table["scope"].map(info["income_group"]).fillna("")
    cols = ["edition", "scope", "year", "indicator", "published", "model", "error", "role",
            "kind", "income_group", "source"]  # fmt: skip
    return table[cols]


def _model(est: Estimate, values: pd.Series, r: dict[str, Any]) -> float:
    res = est.result
    year, indicator, scope = int(r["year"]), str(r["indicator"]), str(r["scope"])
    n = year - int(res.dims.years[0])
    if indicator == "generated_share":
        cat = catalog.products().set_index("unu_key").loc[list(res.dims.products), "eu6_category"]
        codes = cat.replace({"4b": "4a"}).str.replace("4a", "4").to_numpy()
        gen = float(values.get(("WLD", "generated_t", year), np.nan))
        from ewaste_tracker.model.run import generated_net_of_reuse

        net = generated_net_of_reuse(res.system)[:, :, n].sum(axis=0)
        return float(net[codes == scope.split(":")[1]].sum() / gen)
    if indicator.startswith("exported"):
        f = res.system.flows
        controlled = f[("collection_formal", "export")][:, :, n].sum()
        total = float(res.system.trade_flows[:, :, n].sum())
        return {"exported_t": total, "exported_controlled_t": float(controlled),
                "exported_uncontrolled_t": total - float(controlled)}[indicator]  # fmt: skip
    value = float(values.get((scope, indicator, year), np.nan))
    if r["role"] == "cv":  # the history without this anchor, as a ratio of h
        h = coll.formal_rate_history([year])[0]
        h_loo = coll.formal_rate_history([year], coll.history_without(year))[0]
        value *= h_loo / h if h > 0 else np.nan
    return value


def collection_prior_cv() -> pd.DataFrame:
    """Leave-one-out error of the collection prior on the countries with a published figure."""
    annex = catalog.gem2024_annex()
    info = catalog.countries().set_index("iso3")
    pub = annex[annex["collected_formal_kt"].notna() & annex["generated_kt"].notna()].copy()
    pub["income_group"] = pub["iso3"].map(info["income_group"]).fillna("")
    rate = (pub["collected_formal_kt"] / pub["generated_kt"]).to_numpy(float)
    _, _, loo = coll.fit_collection_prior(pub.reset_index(drop=True), rate,
                                          pub["generated_kt"].to_numpy(float) * 1e3)  # fmt: skip
    return loo


def summary(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Count, median and largest absolute error (in %) and the share within 2 % / 5 %."""
    t = table.assign(abs_pct=100 * table["error"].abs())
    g = t.groupby(by, observed=True)["abs_pct"]
    return pd.DataFrame(
        {
            "n": g.size(),
            "median_abs_pct": g.median().round(2),
            "max_abs_pct": g.max().round(2),
            "within_2pct": g.apply(lambda s: float((s < 2).mean())).round(3),
            "within_5pct": g.apply(lambda s: float((s < 5).mean())).round(3),
        }
    ).reset_index()
