r"""Tables of the minerals page: for one element, where it is lost, what could be recovered,
and where it would be mined instead.

* :func:`losses_by_route`: the element's tonnes (and USD) into each route (formal,
  informal, residual, exported abroad), recovered and lost, from
  :attr:`ewaste_tracker.Estimate.element_flows`.
* :func:`recoverable`: the element in e-waste generated :math:`G`, what is recovered now
  :math:`R`, and what best-practice formal recycling of all of it would recover,

  .. math:: R^{best} = G\, \eta^{high}_{pre}\, \eta^{high}_{end},

  with the ``high`` pre-processing and end-processing efficiencies of ``data/recovery.csv``
  (its literature ranges); :math:`R^{best} - R` is the recoverable gap.
* :func:`mined_instead`: every tonne lost has to be mined again; spread over today's mine
  production by country (``data/mine_shares.csv``, BGS World Mineral Production via premise),
  country :math:`k` would mine :math:`L\, s_k` of the lost :math:`L`.
* :func:`element_ranking`: countries by tonnes lost of the element.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ewaste_tracker.app.views.core import ViewError

__all__ = ["ROUTES", "element_ranking", "losses_by_route", "mined_instead", "recoverable"]

ROUTES = ("formal", "scrap", "informal", "residual", "exported")
"""Routes of the element table, in the order shown."""


def losses_by_route(
    element_flows: pd.DataFrame, *, region: str, year: int, element: str
) -> pd.DataFrame:
    """Tonnes of ``element`` into, recovered on and lost on each route.

    Returns
    -------
    pandas.DataFrame
        ``route, input_t, recovered_t, lost_t, lost_share`` (share of all the element
        lost) and ``recovered_usd, lost_usd`` when the table has prices; routes in
        :data:`ROUTES` order.
    """
    sel = (
        (element_flows["region"].astype(str).to_numpy() == region)
        & (element_flows["year"].to_numpy() == int(year))
        & (element_flows["element"].astype(str).to_numpy() == element)
    )
    sub = element_flows[sel]
    if sub.empty:
        raise ViewError(f"no flows of {element} for {region} in {year}")
    cols = [
        c
        for c in ("input_t", "recovered_t", "lost_t", "recovered_usd", "lost_usd")
        if c in sub.columns
    ]
    g = sub.groupby(sub["route"].astype(str))[cols].sum()
    g = g.reindex([r for r in ROUTES if r in g.index] + [r for r in g.index if r not in ROUTES])
    out = g.reset_index(names="route")
    total = float(out["lost_t"].sum())
    out.insert(4, "lost_share", out["lost_t"] / total if total > 0 else np.nan)
    return out


def best_practice(recovery: pd.DataFrame, element: str) -> float:
    """:math:`\\eta^{high}_{pre}\\,\\eta^{high}_{end}` of ``element`` (``data/recovery.csv``)."""
    sub = recovery[recovery["element"].astype(str) == element].set_index("route")
    try:
        pre, end = sub.loc["preprocessing", "high"], sub.loc["endprocessing", "high"]
        return float(pre) * float(end)  # type: ignore[arg-type]
    except KeyError as exc:
        raise ViewError(f"no formal recovery efficiencies for {element}") from exc


def recoverable(
    rows: pd.DataFrame,
    *,
    region: str,
    year: int,
    element: str,
    recovery: pd.DataFrame,
    price_usd_per_t: float | None = None,
) -> pd.DataFrame:
    """What is in the e-waste, what is recovered, what best practice would recover.

    Parameters
    ----------
    rows
        Indicator rows of ``region`` (:attr:`ewaste_tracker.Estimate.indicators`).
    recovery
        ``route, element, high`` (:func:`ewaste_tracker.catalog.recovery`).
    price_usd_per_t
        Price to value the amounts (the estimate's ``lost_usd / lost_t``), or ``None``.

    Returns
    -------
    pandas.DataFrame
        ``quantity, t, usd`` rows: in e-waste generated, recovered now, lost now in the
        country, exported, recoverable with best-practice formal recycling of all e-waste, the
        recoverable gap.
    """
    sub = rows[
        (rows["year"].to_numpy() == int(year))
        & (rows["element"].astype("string").fillna("").to_numpy() == element)
    ]
    if sub.empty:
        raise ViewError(f"no indicators of {element} for {region} in {year}")
    val = dict(zip(sub["indicator"].astype(str), sub["value"].to_numpy(float), strict=False))
    generated = val.get("element_generated_t", np.nan)
    now = val.get("recovered_t", np.nan)
    best = generated * best_practice(recovery, element)
    t = [
        generated,
        now,
        val.get("lost_t", np.nan),
        val.get("exported_t", np.nan),
        best,
        max(best - now, 0.0),
    ]
    what = [
        "in e-waste generated",
        "recovered now",
        "lost now in the country",
        "exported in e-waste (not recovered in the country)",
        "recoverable with best-practice formal recycling of all e-waste",
        "recoverable gap (best practice - now)",
    ]
    usd = [v * price_usd_per_t if price_usd_per_t else np.nan for v in t]
    return pd.DataFrame({"quantity": what, "t": t, "usd": usd})


def mined_instead(
    lost_t: float,
    *,
    element: str,
    mine_shares: pd.DataFrame,
    names: Mapping[str, str],
    top: int | None = 15,
) -> pd.DataFrame:
    """Where the lost tonnes would be mined instead (today's production shares).

    Returns
    -------
    pandas.DataFrame
        ``region, name, share, mined_t, source``, largest first; the rest of the world
        pooled in one row beyond ``top``.
    """
    sub = mine_shares[mine_shares["element"].astype(str) == element]
    if sub.empty:
        raise ViewError(f"no mine production shares for {element}")
    sub = sub.sort_values("share", ascending=False)
    out = pd.DataFrame(
        {
            "region": sub["iso3"].astype(str).to_numpy(),
            "name": [str(names.get(c, c)) for c in sub["iso3"].astype(str)],
            "share": sub["share"].to_numpy(float),
            "mined_t": float(lost_t) * sub["share"].to_numpy(float),
            "source": sub["source"].astype(str).to_numpy(),
        }
    )
    if top is not None and len(out) > top:
        rest = out.iloc[top:]
        tail = pd.DataFrame(
            {
                "region": ["other"],
                "name": [f"{len(rest)} other countries"],
                "share": [rest["share"].sum()],
                "mined_t": [rest["mined_t"].sum()],
                "source": [out["source"].iloc[0]],
            }
        )
        out = pd.concat([out.iloc[:top], tail], ignore_index=True)
    return out


def element_ranking(
    wide: pd.DataFrame,
    *,
    element: str,
    countries: Sequence[str],
    names: Mapping[str, str],
) -> pd.DataFrame:
    """Countries by tonnes of ``element`` lost, with recovered, USD and the recycling rate.

    Returns
    -------
    pandas.DataFrame
        ``rank, region, name, lost_t, lost_usd, recovered_t, eol_rr``.
    """
    keep = [c for c in countries if c in wide.index]
    sub = wide.loc[keep]

    def col(q: str) -> np.ndarray:
        name = f"{q}:{element}"
        return sub[name].to_numpy(float) if name in sub.columns else np.full(len(sub), np.nan)

    out = pd.DataFrame(
        {
            "region": keep,
            "name": [str(names.get(c, c)) for c in keep],
            "lost_t": col("lost_t"),
            "lost_usd": col("lost_usd"),
            "recovered_t": col("recovered_t"),
            "eol_rr": col("eol_rr"),
        }
    )
    out = out.sort_values(["lost_t", "name"], ascending=[False, True], na_position="last")
    out.insert(0, "rank", out["lost_t"].rank(method="min", ascending=False).astype("Int64"))
    return out.reset_index(drop=True)
