r"""Piece counts of the default model checked against published unit sales.

The default model (:mod:`ewaste_tracker.defaults.pom`) is a mass model: it splits each EU-6
category's put on market (POM) between the UNU-KEYs with the shares :math:`s_p` of
data/pom_product_shares.csv. Pieces are mass over the UNU-KEY's average unit weight
:math:`u_p` (products.csv), so per-piece factors (embodied emissions, use-phase electricity,
mercury per lamp, metals per phone) are only as good as these shares.

Anchoring
---------
For a product :math:`a` with published world unit sales :math:`n_a` in the reference year
:math:`t_0` (data/unit_sales.csv, ``role = fit``), the anchored share is

.. math::

    s_a = \frac{n_a\, u_a}{f_a\, M_k(t_0)}

with :math:`M_k(t_0)` the model's world POM of category :math:`k` (t) and :math:`f_a` the
fraction of a substitution pair's combined share that falls on :math:`a` in :math:`t_0`
(1 for a ramp; :meth:`~ewaste_tracker.defaults.pom.ProductShares.profile`). The remainder
:math:`1 - \sum_a s_a` is spread over the category's other products in their current
proportions, so the category masses, and with them the calibration of the category levels
to the Global E-waste Monitor, do not move. Where a category has nothing left to spread the
remainder over (screens: TVs, monitors and laptops are the whole category besides the CRT
pairs), the anchored products keep their unit-sales proportions and the category mass is
brought to :math:`\sum_a n_a u_a` by a put-on-market target of the fit
(:data:`ewaste_tracker.defaults.calibration.TARGETS`).

Rows with ``role = held_out`` are not used by :func:`anchored_shares`; :func:`pieces_check`
reports them next to the fitted ones.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.defaults.pom import DefaultRun, DefaultsError, ProductShares

__all__ = ["UNITS_FILE", "anchored_shares", "pieces_check", "unit_sales", "world_pieces"]

logger = logging.getLogger(__name__)

UNITS_FILE = "unit_sales.csv"


def unit_sales() -> pd.DataFrame:
    """Published world unit sales (data/unit_sales.csv) with their sources.

    Returns
    -------
    pandas.DataFrame
        ``unu_key, year, units, role, what, source, status``.

    Raises
    ------
    DefaultsError
        A missing column, an unknown UNU-KEY, a number that is not positive or a role other
        than fit/held_out.
    """
    path = catalog.data_path(UNITS_FILE)
    df = pd.read_csv(path, dtype={"unu_key": str}, keep_default_na=False)
    need = ["unu_key", "year", "units", "role", "source"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DefaultsError(f"{path}: missing column(s) {missing}")
    units = pd.to_numeric(df["units"], errors="coerce")
    bad = np.flatnonzero(~(units > 0))
    if bad.size:
        raise DefaultsError(f"{path}, line {bad[0] + 2}, column 'units': expected a number > 0")
    unknown = np.flatnonzero(~df["unu_key"].isin(catalog.products()["unu_key"]))
    if unknown.size:
        raise DefaultsError(
            f"{path}, line {unknown[0] + 2}, column 'unu_key': not in products.csv: "
            f"{df['unu_key'].iloc[unknown[0]]!r}"
        )
    role_bad = np.flatnonzero(~df["role"].isin(["fit", "held_out"]))
    if role_bad.size:
        raise DefaultsError(f"{path}, line {role_bad[0] + 2}, column 'role': fit or held_out")
    return df.assign(units=units.astype(float), year=df["year"].astype(int))


def world_pieces(run: DefaultRun, years: list[int] | None = None) -> pd.DataFrame:
    """World put on market in pieces, :math:`\\sum_c POM_{c,p,t} / u_p`, by UNU-KEY and year.

    Returns
    -------
    pandas.DataFrame
        Index: UNU-KEY; columns: years; values: pieces.
    """
    weights = catalog.products().set_index("unu_key")["unit_weight_kg"].astype(float)
    keys = list(run.dims.products)
    w = weights.reindex(keys).to_numpy(float)
    pieces = run.pom.sum(axis=0) * 1e3 / w[:, None]
    out = pd.DataFrame(pieces, index=keys, columns=[int(y) for y in run.dims.years])
    return out if years is None else out[list(years)]


def pieces_check(run: DefaultRun, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Model pieces next to every published figure of data/unit_sales.csv.

    Returns
    -------
    pandas.DataFrame
        ``unu_key, year, role, units, model, ratio`` (``ratio`` = model / published).
    """
    units = unit_sales() if units is None else units
    pieces = world_pieces(run).to_numpy(float)
    row = {k: i for i, k in enumerate(run.dims.products)}
    col = {int(y): i for i, y in enumerate(run.dims.years)}
    model = [
        pieces[row[k], col[int(y)]] for k, y in zip(units["unu_key"], units["year"], strict=True)
    ]
    out = units[["unu_key", "year", "role", "units"]].assign(model=model)
    return out.assign(ratio=out["model"] / out["units"])


def anchored_shares(
    table: pd.DataFrame, run: DefaultRun, units: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``table`` (data/pom_product_shares.csv as read) with ``share_2019`` anchored to unit sales.

    Parameters
    ----------
    table
        The shares file, all columns as strings.
    run
        A default run that covers the reference year: its world category masses
        :math:`M_k(t_0)` do not depend on the shares.
    units
        Published unit sales (default :func:`unit_sales`); only ``role = fit`` rows of the
        reference year are used.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with new ``share_2019`` values (pairs: the predecessor and the
        successor get their parts of the pair's combined share in :math:`t_0`).
    """
    t0 = 2019
    units = unit_sales() if units is None else units
    fit = units[(units["role"] == "fit") & (units["year"] == t0)]
    shares = ProductShares.from_csv()
    keys = list(shares.products)
    if list(table["unu_key"]) != keys:
        raise DefaultsError("anchored_shares: table rows differ from the shares file")
    n0 = int(np.flatnonzero(run.dims.years == t0)[0])
    mass = run.pom[:, :, n0].sum(axis=0)  # world t per product in t0
    cat = shares.category
    cat_mass = pd.Series(mass).groupby(cat).transform("sum").to_numpy(float)
    unit_profile = ProductShares(**{**shares.__dict__, "share": np.ones(len(keys))})
    frac = unit_profile.profile(np.array([t0]), t0)[:, 0]  # f_p: part of the pair on p
    combined = shares.share.copy()
    anchored = np.zeros(len(keys), dtype=bool)
    for key, n in zip(fit["unu_key"], fit["units"], strict=True):
        i = keys.index(key)
        combined[i] = n * shares.unit_weight[i] * 1e-3 / (frac[i] * cat_mass[i])
        anchored[i] = True
    # a pair is one share: the anchored member's partner goes with it
    pair = shares.partner >= 0
    tied = np.zeros(len(keys), dtype=bool)
    tied[shares.partner[pair & anchored]] = True
    combined[tied] = combined[shares.partner[tied]]
    fixed = anchored | tied
    once = shares.curve != "predecessor"  # a pair's combined share counted on one row
    new = combined.copy()
    for k in np.unique(cat[anchored]):
        members = cat == k
        own, rest = members & fixed & once, members & ~fixed
        left = 1.0 - combined[own].sum()
        if (rest & once).any() and left > 0:
            new[rest] = shares.share[rest] * left / shares.share[rest & once].sum()
        else:
            # nothing left to spread over: keep the unit-sales proportions, sum to 1
            logger.warning(
                "category %s: anchored shares sum to %.3f with nothing to spread the rest "
                "over; kept in unit-sales proportions (the category mass is a fit target)",
                k,
                1.0 - left,
            )
            new[members] = combined[members] / combined[own].sum()
    out = table.copy()
    split = np.where(pair, new * frac, new)
    out["share_2019"] = [f"{v:.6g}" for v in split]
    return out


def category_targets(weight: float = 1.5) -> pd.DataFrame:
    """Put-on-market targets for the categories the anchoring cannot close by shares alone.

    A category whose products are all anchored (or pair partners of anchored products) has no
    remainder to take the difference; its 2019 world POM becomes a target of the fit,
    :math:`\\sum_a n_a u_a` over its anchored products (the rows of
    :data:`ewaste_tracker.defaults.calibration.TARGETS`).

    Returns
    -------
    pandas.DataFrame
        ``name, scope, year, value, unit, weight, source`` with ``scope`` the ``+``-joined
        UNU-KEYs and ``value`` in Mt.
    """
    units = unit_sales()
    fit = units[(units["role"] == "fit") & (units["year"] == 2019)]
    prod = catalog.products().set_index("unu_key")
    shares = ProductShares.from_csv()
    keys = list(shares.products)
    covered = set(fit["unu_key"])
    covered |= {keys[shares.partner[keys.index(k)]] for k in fit["unu_key"]
                if shares.partner[keys.index(k)] >= 0}  # fmt: skip
    rows = []
    for k in pd.unique(shares.category[[keys.index(a) for a in fit["unu_key"]]]):
        members = {p for p, c in zip(keys, shares.category, strict=True) if c == k}
        if not members <= covered:
            continue
        sub = fit[fit["unu_key"].isin(members)]
        mass = sub["units"].to_numpy(float) * prod.loc[list(sub["unu_key"]), "unit_weight_kg"]
        rows.append((
            "pom_product", "+".join(sub["unu_key"]), 2019, float(mass.sum()) / 1e9, "Mt", weight,
            "unit sales x unit weights of " + ", ".join(sub["unu_key"]) + " (data/unit_sales.csv)",
        ))  # fmt: skip
    return pd.DataFrame(
        rows, columns=["name", "scope", "year", "value", "unit", "weight", "source"]
    )
