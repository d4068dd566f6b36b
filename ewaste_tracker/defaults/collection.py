r"""Documented formal collection by country: the Monitor's figures and a prior for the rest.

Published figures
-----------------
The Global E-waste Monitor 2024 annex (Baldé et al. 2024) gives the documented formal
collection :math:`C^{pub}_c` of 84 countries in 2022; the Monitor's collection rate is
:math:`C_c / WG_c` (documented formal collection over e-waste generated, the same year). For
those countries the default model takes the rate :math:`r_c = C^{pub}_c / WG^{pub}_c`.

Prior for the other countries
-----------------------------
A ridge regression on the logit of the 84 published rates,

.. math::

    \operatorname{logit} r_c = b_0 + \sum_g b_g [\text{income}_c = g]
        + \sum_u b_u [\text{region}_c = u] + b_L L_c + b_E E_c + b_T T_c + b_R R_c,

with the World Bank income group (reference: high income), the UN region (reference:
Europe) and the annex flags legislation :math:`L`, extended producer responsibility
:math:`E`, a collection target :math:`T` and a recycling target :math:`R` (1 = yes),
minimising :math:`\sum_c (\operatorname{logit} r_c - x_c b)^2 + \lambda \lVert b_{-0} \rVert^2`.
:math:`\lambda` is chosen by leave-one-out error, and the leave-one-out predictions (exact for
a linear smoother: :math:`e_c / (1 - H_{cc})`) give the prior's cross-validated error in
tonnes, :math:`\hat C^{loo}_c / C^{pub}_c - 1`, reported by :func:`fit_collection_prior`.
Territories outside the annex have no flags (taken as 0).

Time profile
------------
Every country's rate is scaled by :math:`h(t) = R(t) / R(2022)`, capped at 0.95, with
:math:`R(t) = C^{pub}(t) / \widehat{WG}(t)` the world's published documented tonnes over the
model's world e-waste generated of the same year (so the anchors reproduce the published
tonnes): 0 in 1995 (before Directive 2002/96/EC generalised take-back), 8 Mt in 2010 (GEM
2024), 8.9 Mt in 2016 (GEM 2017), 9.3 Mt in 2019 (GEM 2020), 13.8 Mt in 2022 (GEM 2024) and the
rate 20 % in 2030 (GEM 2024 projection); linear between anchors. The 2022 anchor is the
model's own world rate (published countries and the prior), so every anchor year's world
tonnes are the published ones. The anchors are written by
``scripts/calibrate_defaults.py`` to ``data/collection_history.csv``. Each edition's world
figure is checked leave-one-out (``benchmarks/fidelity.py``: the history rebuilt without it).

The rest of e-waste generated
-----------------------------
:func:`collection_split` keeps the Monitor 2024 partition of 2022 (Baldé et al. 2024: 13.8 Mt
documented, 16 Mt outside formal systems in high- and upper-middle-income countries, 18 Mt
handled mostly informally in poorer countries, 14 Mt residual waste): poorer countries put
:data:`RESIDUAL_RATE_POOR` of their non-formal e-waste into residual waste; richer countries
the share :math:`q` that makes the world residual :math:`14 / 61.8` of e-waste generated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.special import expit, logit

__all__ = [
    "FEATURES",
    "HISTORY_FILE",
    "PUBLISHED_HISTORY",
    "RATES_FILE",
    "collection_design",
    "collection_split",
    "fit_collection_prior",
    "formal_rate_history",
    "history_rates",
    "history_without",
]

logger = logging.getLogger(__name__)

RATES_FILE = "collection_rates.csv"
"""Per-country 2022 formal collection rates (written by scripts/calibrate_defaults.py)."""
FEATURES = ("legislation", "epr", "collection_target", "recycling_target")
"""Annex flags used by the prior."""
INCOME = ("Upper middle income", "Lower middle income", "Low income")
REGIONS = ("Africa", "Americas", "Asia", "Oceania")
HISTORY_FILE = "collection_history.csv"
PUBLISHED_HISTORY: tuple[tuple[int, float, float, str], ...] = (
    (1995, 0.0, 1.0, "assumption: before Directive 2002/96/EC generalised take-back"),
    (2010, 8.0e6, 34.0e6, "GEM 2024: 8 Mt documented of 34 Mt"),
    (2016, 8.9e6, 44.7e6, "GEM 2017: 8.9 Mt documented of 44.7 Mt"),
    (2019, 9.3e6, 53.6e6, "GEM 2020: 9.3 Mt documented of 53.6 Mt"),
    (2022, 13.8e6, 62.0e6, "GEM 2024: 13.8 Mt documented of 62 Mt"),
    (2030, 0.20, 1.0, "GEM 2024 projection: documented rate 20 %"),
)
"""Published world documented collection: year, tonnes (a rate for 1995 and 2030), the same
edition's e-waste generated, source."""
RATE_ONLY = (1995, 2030)


Anchors = tuple[tuple[int, float, str], ...]


def history_rates(
    model_generated: dict[int, float] | None = None, model_collected_2022: float | None = None
) -> Anchors:
    """:math:`R(t)`: published documented tonnes over the model's (or the edition's) WG.

    With ``model_collected_2022`` the 2022 anchor is the model's own world rate (published
    countries plus the prior elsewhere), so that :math:`h(t) = R(t)/R(2022)` applied to every
    country's 2022 rate gives the published world tonnes of each anchor year.
    """
    out = []
    for year, c, wg, src in PUBLISHED_HISTORY:
        if year in RATE_ONLY or model_generated is None:
            out.append((year, c / wg, src))
        elif year == 2022 and model_collected_2022 is not None:
            out.append((year, model_collected_2022 / model_generated[year],
                        "the model's 2022 world rate: the annex's 84 published countries and the "
                        "prior elsewhere"))  # fmt: skip
        else:
            out.append((year, c / model_generated[year], src + " (over the model's WG)"))
    return tuple(out)


def _history_file() -> tuple[tuple[int, float, str], ...]:
    from ewaste_tracker import catalog

    path = catalog.data_path(HISTORY_FILE)
    if not path.is_file():
        return history_rates()
    df = pd.read_csv(path, keep_default_na=False)
    return tuple(zip(df["year"].astype(int), df["rate"].astype(float), df["source"],
                     strict=True))  # fmt: skip


RATE_BOUNDS = (1e-4, 0.95)
RESIDUAL_RATE_POOR = 0.02
"""Share of non-formal e-waste of low/lower-middle-income countries thrown away with residual
waste (estimate: little is binned where devices keep a resale or scrap value)."""
RICH = ("High income", "Upper middle income")
SPLIT_2022 = {"formal": 13.8, "informal_rich": 16.0, "informal_poor": 18.0, "residual": 14.0}


def formal_rate_history(
    years: Iterable[int], history: tuple[tuple[int, float, str], ...] | None = None
) -> np.ndarray:
    """:math:`h(t) = R(t)/R(2022)`, the factor applied to the 2022 formal rates.

    ``history`` defaults to ``data/collection_history.csv`` (the published anchors without
    it).
    """
    history = _history_file() if history is None else history
    x = np.array([h[0] for h in history], dtype=float)
    y = np.array([h[1] for h in history], dtype=float)
    ref = float(np.interp(2022.0, x, y))
    return np.interp(np.asarray(list(years), float), x, y, left=0.0) / ref


def history_without(year: int) -> tuple[tuple[int, float, str], ...]:
    """The history without the anchor of ``year`` (leave-one-out back-cast check)."""
    return tuple(h for h in _history_file() if h[0] != year)


def collection_design(info: pd.DataFrame) -> np.ndarray:
    """Design matrix of the prior: intercept, income and region dummies, the four flags.

    ``info`` has ``income_group, un_region`` and the flag columns (``Yes`` / ``No`` / blank).
    """
    cols: list[np.ndarray] = [np.ones(len(info))]
    cols += [np.asarray(info["income_group"] == g, dtype=float) for g in INCOME]
    cols += [np.asarray(info["un_region"] == u, dtype=float) for u in REGIONS]
    cols += [np.asarray(info[f].astype(str) == "Yes", dtype=float) for f in FEATURES]
    return np.column_stack(cols)


def _ridge(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    pen = lam * np.eye(x.shape[1])
    pen[0, 0] = 0.0
    inv = np.linalg.inv(x.T @ x + pen)
    coef = inv @ x.T @ y
    hat = np.einsum("ij,jk,ik->i", x, inv, x)
    return coef, hat


def fit_collection_prior(
    info: pd.DataFrame,
    rate: np.ndarray,
    generated: np.ndarray,
    *,
    lambdas: Iterable[float] = (0.01, 0.1, 0.3, 1.0, 3.0, 10.0),
) -> tuple[np.ndarray, float, pd.DataFrame]:
    """Fit the prior on the countries with a published rate (module docstring).

    Parameters
    ----------
    info
        Rows of the countries with a published figure (see :func:`collection_design`).
    rate, generated
        Their published rate and e-waste generated (t).

    Returns
    -------
    coef, lam, loo
        Coefficients (order of :func:`collection_design`), the chosen :math:`\\lambda`, and
        per country ``rate, rate_loo, collected_t, collected_loo_t, error`` (relative error
        of the leave-one-out tonnes).
    """
    x = collection_design(info)
    y = logit(np.clip(rate, *RATE_BOUNDS))
    best = None
    for lam in lambdas:
        coef, hat = _ridge(x, y, lam)
        loo = y - (y - x @ coef) / (1.0 - hat)
        err = np.median(np.abs(expit(loo) / np.clip(rate, *RATE_BOUNDS) - 1.0))
        if best is None or err < best[0]:
            best = (err, lam, coef, loo)
    assert best is not None
    _, lam, coef, loo = best
    table = pd.DataFrame(
        {
            "iso3": info["iso3"].to_numpy(),
            "income_group": info["income_group"].to_numpy(),
            "rate": rate,
            "rate_loo": expit(loo),
            "collected_t": rate * generated,
            "collected_loo_t": expit(loo) * generated,
        }
    )
    table["error"] = table["collected_loo_t"] / table["collected_t"] - 1.0
    logger.info("collection prior: lambda %g, LOO median |error| %.1f %%", lam,
                100 * table["error"].abs().median())  # fmt: skip
    return coef, lam, table


def collection_split(
    income_group: np.ndarray, formal_share: np.ndarray, generated: np.ndarray
) -> float:
    """Residual share :math:`q` of richer countries' non-formal e-waste (module docstring).

    Parameters
    ----------
    income_group, formal_share, generated
        ``(R,)``: income group, share of ``generated`` collected formally, e-waste reaching
        the ``generated`` stage in 2022 (t).
    """
    rich = np.isin(income_group, RICH)
    target = SPLIT_2022["residual"] / sum(SPLIT_2022.values()) * generated.sum()
    poor_part = RESIDUAL_RATE_POOR * ((1.0 - formal_share) * generated)[~rich].sum()
    q = (target - poor_part) / ((1.0 - formal_share) * generated)[rich].sum()
    if not 0.0 <= q < 1.0:
        raise ValueError(f"collection split infeasible: residual share q = {q}")
    return float(q)
