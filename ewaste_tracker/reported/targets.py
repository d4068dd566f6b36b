r"""Reported treatment routes, exports and stock surveys imposed on the model as targets.

A country's accepted submission holds tonnes by UNU-KEY (or EU-6 category, split over its
UNU-KEYs by the model's own estimates, :func:`ewaste_tracker.reported.overlay.overlay_reported`)
and year. :func:`route_overrides` turns the route indicators of one pass into transfer-coefficient
rows (``region, product, year`` specific, so they win over the defaults) for the three nodes that
route e-waste: ``generated``, ``collection_formal`` and ``collection_informal``. For every reported
cell, with :math:`G` the e-waste generated and :math:`t` the current shares,

.. math::

   C_f &= \min(R_{cf}, G) \text{ (else the model's)}, \qquad U = G - C_f, \\
   g_{res} &= \min\bigl(\tfrac{g_{res}}{g_{res} + C_i} U,\; R_{res} - t_{pre,res} P\bigr)
           \text{ (residual reported)}, \qquad C_i = U - g_{res}, \\
   x_f &= \min(w_f X, C_f (1 - t_{cf,ref})), \qquad p_f = C_f (1 - t_{cf,ref}) - x_f, \\
   p_i &= P - p_f - t_{ref,pre}(t_{cf,ref} C_f + t_{ci,ref} C_i + I_{ref}) - I_{pre},
   \quad r_i = R_{inf} - I_{inf}, \quad x_i = X - x_f,
   \quad s_i = R_{res} - t_{pre,res} P - g_{res},

where :math:`P, R_{inf}, R_{res}, X` are the reported tonnes entering preprocessing, informal
recycling and residual and leaving via export, :math:`I_s` the imports arriving in stage
:math:`s` and :math:`w_f` formal collection's part of the current exports. The informal node
gives :math:`C_i (1 - t_{ci,ref})` to the reported routes first; the rest goes to the
unreported routes in their current proportions. Where the reported routes need more than the
node holds (or less, with every route reported) they are scaled to fit: the target is then
infeasible and shows in :func:`reported_gaps`. Shares are ratios of these non-negative tonnes,
so each node's shares stay in [0, 1] and sum to 1. All cells are solved at once (arrays).

Reported exports split into used equipment (``exported_used``: links into a destination's
``use`` or ``refurbishment``) and e-waste (``exported_ewaste``: all other links, ROW included).
:func:`export_overrides` sets, per (origin, product), the used share of the export table to
:math:`\sum_n R_{used} / \sum_n (R_{used} + R_{ewaste})` over the reported years (the export
table has no year axis, so differing yearly splits are met on average and the years that miss
are gaps).

A stock survey (``stock``: tonnes in use at the end of a year) calibrates the first-life
lifetime of the country and product: the Weibull scale :math:`\beta` becomes :math:`k\beta`
with :math:`k \in [0.2, 5]` minimising

.. math:: \sum_{n \in surveys} \bigl(S^{(1)}_n(k) + S^{(2)}_n - R^{stock}_n\bigr)^2,
          \qquad S^{(1)}_n(k) = \sum_{c \le n} POM_c \Bigl(1 - \sum_{m \le n} M_k[m, c]\Bigr),

(sales-lifespan stock with the discard matrix :math:`M_k` of the UNU convention, Forti et al.
2018, *E-waste statistics: guidelines on classification, reporting and indicators*, 2nd ed.;
:math:`S^{(2)}` the second-life stock of the last pass) by a golden-section search on
:math:`\log k`, vectorised over all reported pairs.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetime_table import lifetime_table_from_frame
from ewaste_tracker.flows.lifetimes import discard_matrix
from ewaste_tracker.flows.stocks import inflow_driven
from ewaste_tracker.flows.transfer import TransferCoefficients
from ewaste_tracker.model.inputs import dense_pom
from ewaste_tracker.model.run import ModelInputs, RunResult
from ewaste_tracker.reported.overlay import overlay_reported

logger = logging.getLogger(__name__)

ROUTE_INDICATORS = ("collected_formal", "treated_preprocessing", "treated_informal",
                    "treated_residual", "exported_used", "exported_ewaste")  # fmt: skip
TARGET_INDICATORS = (*ROUTE_INDICATORS, "stock")
K_BOUNDS = (0.2, 5.0)
GAP_COLUMNS = ["country", "product", "year", "indicator", "reported_t", "modelled_t", "note"]
USED_STAGES = ("use", "refurbishment")
GAP_RTOL = 1e-6
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
_SEARCH_STEPS = 48
_TINY = 1e-12


def _used_share(result: RunResult) -> np.ndarray:
    """``(R, P)`` share of each origin's exports going to a destination's use/refurbishment."""
    ex, dims = result.system.exports, result.dims
    out = np.zeros((len(dims.regions), len(dims.products)))
    if ex is None:
        return out
    used = np.isin(np.asarray(ex.to_stage), USED_STAGES)  # incl. used equipment to ROW
    links = np.flatnonzero(used)
    np.add.at(out, np.asarray(ex.origin)[links], np.broadcast_to(ex.shares[links], (links.size,
              out.shape[1])))  # fmt: skip
    return out


def used_share(result: RunResult) -> np.ndarray:
    """``(R, P)`` share of each origin's exports going to a destination's use/refurbishment."""
    return _used_share(result)


def indicator_values(
    result: RunResult, r: np.ndarray, p: np.ndarray, n: np.ndarray
) -> dict[str, np.ndarray]:
    """The model's value of every submission indicator at cells ``(r, p, n)`` (tonnes).

    ``treated_*`` are all mass entering the stage (local flows and imports), ``exported_used``
    the exports going to destinations' ``use`` or ``refurbishment`` links, ``exported_ewaste``
    the rest of the exports, ``stock`` the in-use stock at the end of the year.
    """
    system = result.system
    flows = system.flows

    def into(stage: str) -> np.ndarray:
        total = np.zeros(r.shape)
        for (_, b), v in flows.items():
            if b == stage:
                total = total + v[r, p, n]
        if stage in system.imports:
            total = total + system.imports[stage][r, p, n]
        return total

    exported = (flows[("collection_formal", "export")][r, p, n]
                + flows[("collection_informal", "export")][r, p, n])  # fmt: skip
    used = exported * _used_share(result)[r, p]
    return {
        "pom": flows[("market", "use")][r, p, n],
        "collected_formal": flows[("generated", "collection_formal")][r, p, n],
        "treated_preprocessing": into("preprocessing"),
        "treated_informal": into("recycling_informal"),
        "treated_residual": into("residual"),
        "exported_used": used,
        "exported_ewaste": exported - used,
        "stock": system.use_stock[r, p, n],
    }


def submission_indicators(result: RunResult, country: str) -> pd.DataFrame:
    """The model's value of every submission indicator for one region, all products and years.

    Returns
    -------
    pandas.DataFrame
        ``country, year, product, indicator, value_t`` (see :func:`indicator_values`), what a
        submission template shows beside its empty cells.
    """
    dims = result.dims
    n_p, n_y = len(dims.products), len(dims.years)
    r = np.full(n_p * n_y, int(dims.region_index([country])[0]))
    p = np.repeat(np.arange(n_p), n_y)
    n = np.tile(np.arange(n_y), n_p)
    values = indicator_values(result, r, p, n)
    years = np.tile(dims.years, n_p)
    products = np.repeat(np.asarray(dims.products, dtype=object), n_y)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "country": country,
                    "year": years,
                    "product": products,
                    "indicator": name,
                    "value_t": arr,
                }
            )
            for name, arr in values.items()
        ],
        ignore_index=True,
    )


def _cells(result: RunResult, frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    dims = result.dims
    return (dims.region_index(frame["country"]), dims.product_index(frame["product"]),
            dims.year_index(frame["year"].astype(int).to_numpy()))  # fmt: skip


def targets_by_unu_key(result: RunResult, reported: pd.DataFrame) -> pd.DataFrame:
    """Reported route, export and stock tonnes by UNU-KEY (EU-6 totals split by the model).

    Returns
    -------
    pandas.DataFrame
        ``country, product, year, indicator, value_t`` for modelled countries and years.
        Formal collection is split by e-waste generated, the other indicators by the model's
        own estimate of the indicator (equally where those are all zero).
    """
    dims = result.dims
    rep = reported[reported["indicator"].isin(TARGET_INDICATORS)
                   & reported["country"].isin(set(dims.regions))
                   & reported["year"].astype(int).between(int(dims.years[0]),
                                                          int(dims.years[-1]))]  # fmt: skip
    cols = ["country", "product", "year", "indicator", "value_t"]
    if rep.empty:
        return pd.DataFrame(columns=cols)
    cells = rep[["country", "year"]].drop_duplicates()
    n_p = len(dims.products)
    grid = pd.DataFrame({
        "country": np.repeat(cells["country"].to_numpy(), n_p),
        "year": np.repeat(cells["year"].astype(int).to_numpy(), n_p),
        "product": np.tile(np.asarray(dims.products, dtype=object), len(cells)),
    })  # fmt: skip
    r, p, n = _cells(result, grid)
    values = indicator_values(result, r, p, n)
    values["collected_formal"] = result.system.generated[r, p, n]
    est = pd.concat([grid.assign(indicator=k, value_t=values[k])
                     for k in sorted(set(rep["indicator"]))], ignore_index=True)  # fmt: skip
    merged = overlay_reported(est, rep)
    out = merged.loc[merged["status"] == "reported", cols]
    out = out[out["product"].isin(set(dims.products))]
    return out.astype({"year": int}).reset_index(drop=True)


def _allocate(total: np.ndarray, need: np.ndarray, mask: np.ndarray, weight: np.ndarray):
    """Split ``total`` (C,) over routes (C, K): reported needs first, the rest by weight.

    Needs that do not fit (or, with every route reported, that leave mass over) are scaled to
    the total, so the allocation always sums to ``total`` and is never negative.
    """
    need = np.where(mask, np.maximum(need, 0.0), 0.0)
    req = need.sum(axis=1)
    free = np.where(mask, 0.0, weight)
    fw = free.sum(axis=1)
    rem = total - req
    fill = (rem >= 0) & (fw > 0)
    out = need + np.where(fill, rem / np.where(fw > 0, fw, 1.0), 0.0)[:, None] * free
    scale = ~fill & (req > 0)
    out = np.where(scale[:, None], need * (total / np.where(req > 0, req, 1.0))[:, None], out)
    rest = ~fill & ~scale  # nothing needed and no free weight: keep the weights' proportions
    wsum = weight.sum(axis=1)
    even = np.where(
        wsum[:, None] > 0, weight / np.where(wsum > 0, wsum, 1.0)[:, None], 1 / weight.shape[1]
    )
    return np.where(rest[:, None], total[:, None] * even, out)


def route_overrides(result: RunResult, inputs: ModelInputs, targets: pd.DataFrame) -> pd.DataFrame:
    """Transfer-coefficient rows meeting the reported routes (equations in the module doc)."""
    cols = ["country", "product", "year"]
    wide = targets[targets["indicator"].isin(ROUTE_INDICATORS)].pivot_table(
        index=cols, columns="indicator", values="value_t", aggfunc="sum")  # fmt: skip
    if wide.empty:
        return pd.DataFrame(
            columns=["region", "product", "year", "from_stage", "to_stage", "share"]
        )
    cells = wide.index.to_frame(index=False)
    r, p, n = _cells(result, cells)
    dims, system = result.dims, result.system
    tcs = TransferCoefficients.from_frame(inputs.transfer_coefficients, dims)

    def rep(name: str) -> np.ndarray:
        return wide[name].to_numpy(float) if name in wide else np.full(len(wide), np.nan)

    def t(a: str, b: str) -> np.ndarray:
        return np.broadcast_to(tcs.share(a, b), dims.shape)[r, p, n]

    def f(a: str, b: str) -> np.ndarray:
        return system.flows[(a, b)][r, p, n]

    def imp(stage: str) -> np.ndarray:
        return system.imports[stage][r, p, n] if stage in system.imports else np.zeros(len(r))

    now = indicator_values(result, r, p, n)
    g = system.generated[r, p, n]
    want = {k: rep(k) for k in ROUTE_INDICATORS}
    has = {k: np.isfinite(v) for k, v in want.items()}
    cf = np.where(has["collected_formal"], np.minimum(want["collected_formal"], g),
                  f("generated", "collection_formal"))  # fmt: skip
    u_left = np.maximum(g - cf, 0.0)
    gres_now, ci_now = f("generated", "residual"), f("generated", "collection_informal")
    tg = t("generated", "residual") + t("generated", "collection_informal")
    ratio = np.where(
        gres_now + ci_now > 0,
        gres_now / np.maximum(gres_now + ci_now, _TINY),
        np.where(tg > 0, t("generated", "residual") / np.maximum(tg, _TINY), 0.0),
    )
    pre = np.where(has["treated_preprocessing"], want["treated_preprocessing"],
                   now["treated_preprocessing"])  # fmt: skip
    res_u = np.maximum(want["treated_residual"] - t("preprocessing", "residual") * pre, 0.0)
    gres = ratio * u_left
    gres = np.where(has["treated_residual"], np.minimum(gres, res_u), gres)
    ci = u_left - gres
    f_ref, i_ref = t("collection_formal", "refurbishment") * cf, t(
        "collection_informal", "refurbishment") * ci  # fmt: skip
    a_f, a_i = cf - f_ref, ci - i_ref
    # exports: the total the reported used / e-waste parts imply at the current used share
    used = _used_share(result)[r, p]
    both = has["exported_used"] & has["exported_ewaste"]
    x = np.where(both, want["exported_used"] + want["exported_ewaste"], np.nan)
    only_e = has["exported_ewaste"] & ~both
    x = np.where(only_e, want["exported_ewaste"] / np.where(used < 1, 1 - used, 1.0), x)
    only_u = has["exported_used"] & ~both
    x = np.where(only_u, want["exported_used"] / np.where(used > 0, used, 1.0), x)
    has_x = has["exported_used"] | has["exported_ewaste"]
    fx, ix = f("collection_formal", "export"), f("collection_informal", "export")
    w_f = np.where(fx + ix > 0, fx / np.maximum(fx + ix, _TINY),
                   a_f / np.maximum(a_f + a_i, _TINY))  # fmt: skip
    f_exp = np.where(has_x, np.minimum(w_f * np.nan_to_num(x), a_f),
                     t("collection_formal", "export") * cf)  # fmt: skip
    f_pre = a_f - f_exp
    ref_in = f_ref + i_ref + imp("refurbishment")
    routes = ("preprocessing", "recycling_informal", "export", "residual")
    need = np.stack([
        pre - f_pre - t("refurbishment", "preprocessing") * ref_in - imp("preprocessing"),
        want["treated_informal"] - imp("recycling_informal"),
        np.nan_to_num(x) - f_exp,
        res_u - gres,
    ], axis=1)  # fmt: skip
    mask = np.stack([has["treated_preprocessing"], has["treated_informal"], has_x,
                     has["treated_residual"]], axis=1)  # fmt: skip
    weight = np.stack([t("collection_informal", s) for s in routes], axis=1)
    alloc = _allocate(a_i, np.nan_to_num(need), mask, weight)

    def shares(total: np.ndarray, parts: dict[str, np.ndarray], node: str) -> dict:
        ok = total > _TINY
        raw = {k: np.where(ok, v / np.where(ok, total, 1.0), t(node, k)) for k, v in parts.items()}
        s = np.add.reduce(list(raw.values()))
        return {k: v / s for k, v in raw.items()}

    nodes = {
        "generated": shares(g, {"collection_formal": cf, "collection_informal": ci,
                                "residual": gres}, "generated"),
        "collection_formal": shares(cf, {"refurbishment": f_ref, "preprocessing": f_pre,
                                         "export": f_exp}, "collection_formal"),
        "collection_informal": shares(ci, {"refurbishment": i_ref, **dict(zip(
            routes, alloc.T, strict=True))}, "collection_informal"),
    }  # fmt: skip
    frames = [
        pd.DataFrame({"region": cells["country"].to_numpy(), "product": cells["product"].to_numpy(),
                      "year": cells["year"].astype(int).to_numpy(), "from_stage": node,
                      "to_stage": to, "share": value})
        for node, out in nodes.items() for to, value in out.items()
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def export_overrides(
    result: RunResult, inputs: ModelInputs, targets: pd.DataFrame
) -> pd.DataFrame | None:
    """The export table with the reported used share of exports per (origin, product).

    Links into ``use``/``refurbishment`` (in a modelled region, or used equipment to ROW) are
    scaled to the used share, the other links to the rest. An origin whose exports are all of
    one kind gets a ROW link of the missing kind.
    """
    base = inputs.exports
    t = targets[targets["indicator"].isin(("exported_used", "exported_ewaste"))]
    if base is None or t.empty:
        return base
    wide = t.pivot_table(index=["country", "product", "year"], columns="indicator",
                         values="value_t", aggfunc="sum").dropna()  # fmt: skip
    if wide.empty or "exported_used" not in wide or "exported_ewaste" not in wide:
        return base
    pair = wide.groupby(level=["country", "product"]).sum()
    total = pair["exported_used"] + pair["exported_ewaste"]
    want = (pair["exported_used"] / total.where(total > 0)).dropna()
    ex, dims = result.system.exports, result.dims
    if ex is None or want.empty:
        return base
    ro = dims.region_index(want.index.get_level_values(0).to_numpy())
    pi = dims.product_index(want.index.get_level_values(1).to_numpy())
    cur = _used_share(result)[ro, pi]
    nolink = (cur <= 0) | (cur >= 1)
    keep = np.flatnonzero(~nolink)
    origin, dest = np.asarray(ex.origin), np.asarray(ex.destination)
    stage, shares = (
        np.asarray(ex.to_stage),
        np.broadcast_to(ex.shares, (len(origin), len(dims.products))),
    )
    is_used = np.isin(stage, USED_STAGES)
    # links of each kept (origin, product) pair: one vectorised gather via a link-by-pair match
    lk, k = np.nonzero(origin[:, None] == ro[keep][None, :])
    ppos = pi[keep][k]
    u_new, u_cur = want.to_numpy()[keep][k], cur[keep][k]
    factor = np.where(is_used[lk], u_new / u_cur, (1 - u_new) / np.maximum(1 - u_cur, _TINY))
    rows = pd.DataFrame({
        "origin": np.asarray(dims.regions, dtype=object)[origin[lk]],
        "destination": np.where(dest[lk] >= 0, np.asarray(dims.regions, dtype=object)[dest[lk]],
                                "ROW"),
        "to_stage": np.where(dest[lk] >= 0, stage[lk], np.where(is_used[lk], "use", "")),
        "share": shares[lk, ppos] * factor,
        "product": np.asarray(dims.products, dtype=object)[ppos],
    })  # fmt: skip
    # origins whose exports are all of one kind get a ROW link of the missing kind (used
    # equipment leaves as a "use" link, e-waste as a plain ROW link) and the rest scaled down
    add = np.flatnonzero(nolink)
    if add.size:
        u_add, c_add = want.to_numpy()[add], cur[add]
        new_share = np.where(c_add <= 0, u_add, 1 - u_add)
        lk2, k2 = np.nonzero(origin[:, None] == ro[add][None, :])
        p2 = pi[add][k2]
        scaled = pd.DataFrame({
            "origin": np.asarray(dims.regions, dtype=object)[origin[lk2]],
            "destination": np.where(dest[lk2] >= 0,
                                    np.asarray(dims.regions, dtype=object)[dest[lk2]], "ROW"),
            "to_stage": np.where(dest[lk2] >= 0, stage[lk2],
                                 np.where(is_used[lk2], "use", "")),
            "share": shares[lk2, p2] * (1 - new_share[k2]),
            "product": np.asarray(dims.products, dtype=object)[p2],
        })  # fmt: skip
        extra = pd.DataFrame({
            "origin": np.asarray(dims.regions, dtype=object)[ro[add]],
            "destination": "ROW",
            "to_stage": np.where(c_add <= 0, "use", ""),
            "share": new_share,
            "product": np.asarray(dims.products, dtype=object)[pi[add]],
        })  # fmt: skip
        rows = pd.concat([rows, scaled, extra], ignore_index=True)
        logger.info("added ROW links of the missing export kind for %s",
                    sorted(set(extra["origin"])))  # fmt: skip
    out = pd.concat([base.assign(product=base.get("product", "")), rows], ignore_index=True)
    return out.drop_duplicates(["origin", "destination", "to_stage", "product"], keep="last")


def stock_pairs(targets: pd.DataFrame) -> pd.DataFrame:
    rows = targets[targets["indicator"] == "stock"]
    return rows[["country", "product"]].drop_duplicates().reset_index(drop=True)


def _pair_lifetimes(base: pd.DataFrame, pairs: pd.DataFrame, k: np.ndarray) -> pd.DataFrame:
    """Region rows for each (country, product) pair: the base rows with the scale times ``k``."""
    frame = base.assign(region=base["region"].fillna("") if "region" in base else "")
    generic = frame[frame["region"] == ""].drop(columns="region")
    own = frame.merge(pairs.rename(columns={"country": "region"}), on=["region", "product"])
    rows = pairs.assign(_pair=np.arange(len(pairs))).merge(generic, on="product")
    rows = rows.rename(columns={"country": "region"})
    if len(own):  # a country's own rows replace the generic ones
        mine = own.merge(pairs.assign(_pair=np.arange(len(pairs))).rename(
            columns={"country": "region"}), on=["region", "product"])  # fmt: skip
        rows = pd.concat([mine, rows[~rows["_pair"].isin(set(mine["_pair"]))]], ignore_index=True)
    rows["scale"] = rows["scale"].astype(float) * k[rows["_pair"].to_numpy()]
    rows["stock_factor"] = k[rows["_pair"].to_numpy()]
    return rows


def _first_life_stock(
    inputs: ModelInputs, dims: Dims, pairs: pd.DataFrame, k: np.ndarray
) -> np.ndarray:
    """``(pairs, N)`` first-life stock of each pair with its Weibull scale times ``k``."""
    sub = Dims(tuple(sorted(set(pairs["country"]))), tuple(sorted(set(pairs["product"]))),
               dims.years)  # fmt: skip
    rows = _pair_lifetimes(inputs.lifetimes, pairs, k).drop(columns=["_pair"])
    lt = inputs.lifetimes
    base = lt.assign(region=lt["region"].fillna("") if "region" in lt else "")
    base = base[(base["region"] == "") & base["product"].isin(set(sub.products))]
    frame = pd.concat([base, rows], ignore_index=True)
    table = lifetime_table_from_frame(frame, sub)
    pom = inputs.pom[inputs.pom["region"].isin(set(sub.regions))
                     & inputs.pom["product"].isin(set(sub.products))]  # fmt: skip
    stock = inflow_driven(dense_pom(pom, sub), table.group,
                          discard_matrix(table, dims.years)).stock  # fmt: skip
    return stock[sub.region_index(pairs["country"]), sub.product_index(pairs["product"])]


def calibrate_stock(
    result: RunResult,
    inputs: ModelInputs,
    base: pd.DataFrame,
    targets: pd.DataFrame,
    k_now: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Lifetimes with the Weibull scale of every surveyed (country, product) fitted to its stock.

    Parameters
    ----------
    result, inputs
        The last pass (its second-life stock is held fixed) and its inputs.
    base
        The lifetimes before calibration.
    targets
        UNU-KEY targets; the ``stock`` rows are used.
    k_now
        The factors of the last pass (ones at first), one per pair of :func:`_stock_pairs`.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        Lifetimes with region rows for the pairs (``source`` says "calibrated to the stock
        survey", ``stock_factor`` gives k) and the fitted factors.
    """
    pairs = stock_pairs(targets)
    rows = targets[targets["indicator"] == "stock"].merge(pairs.assign(_pair=np.arange(
        len(pairs))), on=["country", "product"])  # fmt: skip
    pair = rows["_pair"].to_numpy()
    dims = result.dims
    r, p, n = _cells(result, rows)
    fit = replace(inputs, lifetimes=base)
    first_now = _first_life_stock(fit, dims, pairs, k_now)[pair, n]
    second = result.system.use_stock[r, p, n] - first_now
    goal = rows["value_t"].to_numpy(float) - second

    def sse(logk: np.ndarray) -> np.ndarray:
        got = _first_life_stock(fit, dims, pairs, np.exp(logk))[pair, n]
        return np.bincount(pair, weights=(got - goal) ** 2, minlength=len(pairs))

    lo, hi = np.full(len(pairs), np.log(K_BOUNDS[0])), np.full(len(pairs), np.log(K_BOUNDS[1]))
    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    fc, fd = sse(c), sse(d)
    for _ in range(_SEARCH_STEPS):  # golden section, all pairs at once
        left = fc < fd
        hi, lo = np.where(left, d, hi), np.where(left, lo, c)
        new = np.where(left, hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo))
        fnew = sse(new)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new),
                        np.where(left, fnew, fd), np.where(left, fc, fnew))  # fmt: skip
    k = np.exp(np.where(fc < fd, c, d))
    k = np.where(sse(np.log(np.full_like(k, K_BOUNDS[1]))) < np.minimum(fc, fd), K_BOUNDS[1], k)
    k = np.where(sse(np.log(np.full_like(k, K_BOUNDS[0]))) < np.minimum(fc, fd), K_BOUNDS[0], k)
    own = _pair_lifetimes(base, pairs, k)
    years = rows.groupby("_pair")["year"].agg(lambda y: ", ".join(map(str, sorted(y))))
    own["source"] = [f"calibrated to the stock survey ({c} {years[i]}; scale x {kk:.4g})"
                     for c, i, kk in zip(own["region"], own["_pair"], own["stock_factor"],
                                         strict=True)]  # fmt: skip
    frame = base.assign(region=base["region"].fillna("") if "region" in base else "")
    mine = frame.set_index(["region", "product"]).index.isin(
        pd.MultiIndex.from_frame(pairs.rename(columns={"country": "region"})))  # fmt: skip
    out = pd.concat([frame[~mine], own.drop(columns="_pair")], ignore_index=True)
    return out, k


def reported_gaps(inputs: ModelInputs, result: RunResult, reported: pd.DataFrame) -> pd.DataFrame:
    """Reported values the model does not meet within 1e-6 (relative), at the reported level.

    An EU-6 value is compared with the model's total over the category's UNU-KEYs. ``note``
    says why a target could not be met where that is known (stock factor at a bound).

    Returns
    -------
    pandas.DataFrame
        ``country, product, year, indicator, reported_t, modelled_t, note`` (the file
        ``reported_gaps.csv`` of a run).
    """
    from ewaste_tracker.submissions.rules import Codes

    dims = result.dims
    rep = reported[reported["indicator"].isin(TARGET_INDICATORS)
                   & reported["country"].isin(set(dims.regions))
                   & reported["year"].astype(int).between(int(dims.years[0]),
                                                          int(dims.years[-1]))]  # fmt: skip
    if rep.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    rep = rep.reset_index(drop=True).assign(_row=lambda d: np.arange(len(d)))
    unu = rep[rep["product_level"] == "unu_key"].assign(key=lambda d: d["product"])
    eu6 = rep[rep["product_level"] == "eu6"]
    if len(eu6):
        codes = pd.DataFrame(list(Codes.from_catalog().unu_to_eu6.items()), columns=["key", "cat"])
        codes = codes[codes["key"].isin(set(dims.products))]
        eu6 = eu6.merge(codes, left_on="product", right_on="cat").drop(columns="cat")
    long = pd.concat([unu, eu6], ignore_index=True)
    long = long[long["key"].isin(set(dims.products))]
    r, p, n = _cells(result, long.assign(product=long["key"]))
    values = indicator_values(result, r, p, n)
    got = np.zeros(len(long))
    for name in TARGET_INDICATORS:
        sel = (long["indicator"] == name).to_numpy()
        got[sel] = values[name][sel]
    modelled = np.bincount(long["_row"].to_numpy(), weights=got, minlength=len(rep))
    want = rep["value_t"].to_numpy(float)
    bad = np.abs(modelled - want) > GAP_RTOL * np.maximum(np.abs(want), _TINY)
    out = rep.assign(reported_t=want, modelled_t=modelled, note="")[bad]
    lt = inputs.lifetimes
    if "stock_factor" in lt:
        k = lt.dropna(subset=["stock_factor"]).drop_duplicates(["region", "product"])
        at = k[np.isclose(k["stock_factor"], K_BOUNDS[0]) | np.isclose(k["stock_factor"],
                                                                         K_BOUNDS[1])]  # fmt: skip
        hit = pd.MultiIndex.from_frame(out[["country", "product"]]).isin(
            pd.MultiIndex.from_frame(at[["region", "product"]]))  # fmt: skip
        out.loc[hit & (out["indicator"] == "stock").to_numpy(), "note"] = (
            "lifetime scale factor at its bound " + str(K_BOUNDS)
        )
    out.loc[(out["note"] == "") & (out["reported_t"] > out["modelled_t"]), "note"] = (
        "more than the model's flows can carry"
    )
    out.loc[out["note"] == "", "note"] = "less than the model's fixed flows"
    return out[GAP_COLUMNS].reset_index(drop=True)
