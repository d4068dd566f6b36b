r"""Calibration of the default model (:mod:`ewaste_tracker.defaults.pom`) to the Global E-waste
Monitor.

Put-on-market parameters and country factors
--------------------------------------------
:func:`fit_pom_model` fits :math:`\ln A_k` (7 categories), a common elasticity :math:`\beta`,
the trends :math:`\gamma` and :math:`\gamma_f \ge 0`, :math:`\ln \rho_r` (5 UN regions) and
the screens' trend offset :math:`\delta_2`
with :func:`scipy.optimize.least_squares` on weighted log residuals of two kinds:

* the **cross-section** of the Global E-waste Monitor 2024 annex (Baldé et al. 2024; 193
  countries, 2022): :math:`w_{cs} \ln(\widehat{WG}_{c,2022} / WG^{pub}_c)` — income and
  region explain what they can, which is the prior of a country without an annex row;
* the **time and product structure** after the country factors
  :math:`\kappa_c = WG^{pub}_c / \widehat{WG}_{c,2022}` are applied (so every annex country's
  2022 figure is met): world e-waste generated in 2010 (34 Mt, GEM 2024) and the 2030
  projection (82 Mt, GEM 2024), the 2019 EU-6 shares of the Global E-waste Monitor 2020,
  the 2019 put on market of photovoltaic panels (estimate) and of screens (world unit sales
  of TVs, monitors, laptops and tablets times their unit weights,
  :func:`ewaste_tracker.defaults.units.category_targets`),

plus the prior :math:`w_\rho \ln \rho_r` that keeps the regional factors near 1.
Not used in any fit, and reported as the back-cast error (``benchmarks/fidelity.py``): the
world totals of 2016 (GEM 2017) and 2019 (GEM 2020), the 2019 regional and country figures of
GEM 2020 (``data/published_figures.csv``, ``role = held_out``).

The engine reports e-waste generated net of equipment that returns to use, so
:func:`refine_country_factors` corrects :math:`\kappa_c` by the engine's own 2022 figure
(a fixed point, a few passes: imports of used equipment couple the countries).

Cross-validated residuals (:func:`cv_residuals`): :math:`\ln \kappa_c` is the residual of
country :math:`c` in the cross-section; its leave-one-out (PRESS) value
:math:`e_c / (1 - h_{cc})`, with :math:`h` the hat matrix of the linearised cross-section
(intercept, :math:`\ln y_c`, UN-region dummies), is the error of the put-on-market model for a
country the annex does not cover. They are written by income group to
``data/pom_cv_residuals.csv``.

The collection split and its prior are calibrated in :mod:`ewaste_tracker.defaults.collection`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ewaste_tracker import catalog
from ewaste_tracker.defaults.pom import (
    CATEGORIES,
    DefaultRun,
    DefaultsError,
    PomModel,
    ProductShares,
    _drivers,
    country_factors,
    generation,
    pom_array,
)

__all__ = [
    "TARGETS",
    "annex_targets",
    "cv_residuals",
    "cv_summary",
    "factors_frame",
    "fit_pom_model",
    "fit_targets",
    "model_figures",
    "pom_model_to_frame",
    "refine_country_factors",
]

logger = logging.getLogger(__name__)

GEM24 = "Baldé C.P. et al. (2024) Global E-waste Monitor 2024, UNITAR/ITU"
GEM20 = "Forti V., Baldé C.P. et al. (2020) The Global E-waste Monitor 2020, UNU/UNITAR/ITU/ISWA"

TARGETS = pd.DataFrame(
    [
        # name, scope, year, value, unit, weight, source
        ("wg_world", "World", 2010, 34.0, "Mt", 4.0, GEM24),
        ("wg_world", "World", 2030, 82.0, "Mt", 2.0, GEM24 + " (projection)"),
        ("wg_category_share", "5", 2019, 17.4 / 53.6, "1", 1.5, GEM20 + " (17.4 of 53.6 Mt)"),
        ("wg_category_share", "4", 2019, 13.1 / 53.6, "1", 1.5, GEM20 + " (4a + 4b, 13.1 Mt)"),
        ("wg_category_share", "1", 2019, 10.8 / 53.6, "1", 1.5, GEM20 + " (10.8 Mt)"),
        ("wg_category_share", "2", 2019, 6.7 / 53.6, "1", 1.5, GEM20 + " (6.7 Mt)"),
        ("wg_category_share", "6", 2019, 4.7 / 53.6, "1", 1.5, GEM20 + " (4.7 Mt)"),
        ("wg_category_share", "3", 2019, 0.9 / 53.6, "1", 1.5, GEM20 + " (0.9 Mt)"),
        (
            "pom_product",
            "0002",
            2019,
            7.0,
            "Mt",
            1.0,
            "estimate (this project): ~100 GW of PV modules installed in 2019 (IRENA Renewable "
            "Capacity Statistics 2020, recalled) x ~70 t/MW (module mass, recalled)",
        ),
    ],
    columns=["name", "scope", "year", "value", "unit", "weight", "source"],
)
"""Time and product targets of the fit (each with its source); the country factors fix 2022.

:func:`fit_targets` adds the unit-sales targets of
:func:`ewaste_tracker.defaults.units.category_targets`."""


def fit_targets() -> pd.DataFrame:
    """:data:`TARGETS` and the 2019 put on market of the categories anchored to unit sales."""
    from ewaste_tracker.defaults.units import category_targets

    return pd.concat([TARGETS, category_targets()], ignore_index=True)


UN_REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")
OFFSET_CATEGORIES: tuple[str, ...] = ("2",)
"""Categories with their own trend offset :math:`\\delta_k` (screens: flat unit sales)."""
PRIOR_WEIGHT = 0.25
"""Weight :math:`w_\\rho` of the prior :math:`\\ln \\rho_r = 0`."""
CROSS_SECTION_WEIGHT = 0.5
"""Weight :math:`w_{cs}` of each annex country's log residual in the fit."""
ANNEX_YEAR = 2022


@dataclass(frozen=True)
class _Inputs:
    shares: ProductShares
    years: np.ndarray
    regions: tuple[str, ...]
    population: np.ndarray
    gdp: np.ndarray
    un_region: np.ndarray
    income_group: np.ndarray
    target: np.ndarray
    """``(R,)`` annex e-waste generated in 2022 (t), NaN where the annex has no row."""
    inhabited: np.ndarray


def annex_targets(regions: Iterable[str], population_2022: np.ndarray) -> np.ndarray:
    """Annex e-waste generated in 2022 (t) for ``regions``; NaN without an annex row.

    Where the Monitor rounds the kilotonnes to 0 (blank), the target is its kg per inhabitant
    times the catalogue population.
    """
    annex = catalog.gem2024_annex().set_index("iso3")
    regs = list(regions)
    kt = annex["generated_kt"].reindex(regs).to_numpy(float)
    kg = annex["generated_kg_per_inh"].reindex(regs).to_numpy(float)
    return np.where(np.isfinite(kt), kt * 1e3, kg * np.asarray(population_2022) / 1e3)


def _inputs(years: Iterable[int] = range(1970, 2031)) -> _Inputs:
    yrs = np.asarray(list(years), dtype=np.int64)
    regs, pop, gdp, info = _drivers(None, yrs)
    n22 = int(np.flatnonzero(yrs == ANNEX_YEAR)[0])
    return _Inputs(
        ProductShares.from_csv(),
        yrs,
        regs,
        pop,
        gdp,
        info["un_region"].fillna("").to_numpy(str),
        info["income_group"].fillna("").to_numpy(str),
        annex_targets(regs, pop[:, n22]),
        country_factors(regs, calibrated=False) > 0,
    )


def _unpack(theta: np.ndarray) -> PomModel:
    n_k, n_r = len(CATEGORIES), len(UN_REGIONS)
    rho = theta[n_k + 3 : n_k + 3 + n_r]
    return PomModel(
        level=dict(zip(CATEGORIES, np.exp(theta[:n_k]).tolist(), strict=True)),
        elasticity=dict.fromkeys(CATEGORIES, float(theta[n_k])),
        trend=float(theta[n_k + 1]),
        trend_future=float(theta[n_k + 2]),
        region_factor=dict(zip(UN_REGIONS, np.exp(rho).tolist(), strict=True)),
        trend_offset=dict(zip(OFFSET_CATEGORIES, theta[n_k + 3 + n_r :].tolist(), strict=True)),
    )


def model_figures(
    pom: np.ndarray,
    wg: np.ndarray,
    inputs_or_run: _Inputs | DefaultRun,
    targets: pd.DataFrame = TARGETS,
) -> np.ndarray:
    """Model values of ``targets`` (same units) from POM and WG arrays in tonnes."""
    if isinstance(inputs_or_run, DefaultRun):
        years, products = inputs_or_run.dims.years, inputs_or_run.dims.products
        category = ProductShares.from_csv().category
    else:
        years, products = inputs_or_run.years, inputs_or_run.shares.products
        category = inputs_or_run.shares.category
    eu6 = np.where(np.isin(category, ["4a", "4b"]), "4", category)
    col = {int(y): i for i, y in enumerate(years)}
    out = np.empty(len(targets))
    for i, (name, scope, year) in enumerate(targets[["name", "scope", "year"]].itertuples(False)):
        n = col[int(year)]
        if name == "wg_world":
            out[i] = wg[:, :, n].sum() / 1e6
        elif name == "wg_category_share":
            out[i] = wg[:, eu6 == scope, n].sum() / wg[:, :, n].sum()
        elif name == "pom_product":
            idx = [list(products).index(k) for k in str(scope).split("+")]
            out[i] = pom[:, idx, n].sum() / 1e6
        else:
            raise DefaultsError(f"unknown calibration target {name!r}")
    return out


def _factors(wg: np.ndarray, inp: _Inputs) -> np.ndarray:
    """:math:`\\kappa_c` that makes 2022 WG equal the annex (1 without an annex row)."""
    n22 = int(np.flatnonzero(inp.years == ANNEX_YEAR)[0])
    model = wg[:, :, n22].sum(axis=1)
    has = np.isfinite(inp.target) & (model > 0)
    kappa = np.where(has, inp.target / np.where(has, model, 1.0), 1.0)
    return np.where(inp.inhabited, kappa, 0.0)


def fit_pom_model(
    years: Iterable[int] = range(1970, 2031), targets: pd.DataFrame | None = None
) -> tuple[PomModel, pd.DataFrame, pd.DataFrame]:
    """Fit the put-on-market parameters and the country factors (module docstring).

    Returns
    -------
    model, report, factors
        The fitted :class:`~ewaste_tracker.defaults.pom.PomModel`, ``targets`` with a
        ``model`` column, and the country factors (:func:`factors_frame`).
    """
    targets = fit_targets() if targets is None else targets
    inp = _inputs(years)
    weight = targets["weight"].to_numpy(float)
    log_target = np.log(targets["value"].to_numpy(float))
    n22 = int(np.flatnonzero(inp.years == ANNEX_YEAR)[0])
    annex = np.isfinite(inp.target) & inp.inhabited
    alive = inp.inhabited.astype(float)

    def run(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pom = pom_array(
            _unpack(theta), inp.shares, inp.population, inp.gdp, inp.years, inp.un_region, alive
        )
        return pom, generation(pom, inp.shares.products, inp.years)

    def residuals(theta: np.ndarray) -> np.ndarray:
        pom, wg = run(theta)
        kappa = _factors(wg, inp)
        cross = np.log(wg[annex, :, n22].sum(axis=1) / inp.target[annex])
        fit = np.log(model_figures(pom * kappa[:, None, None], wg * kappa[:, None, None], inp,
                                   targets)) - log_target  # fmt: skip
        return np.concatenate(
            [CROSS_SECTION_WEIGHT * cross, weight * fit,
             PRIOR_WEIGHT * theta[len(CATEGORIES) + 3 : len(CATEGORIES) + 3 + len(UN_REGIONS)]]
        )  # fmt: skip

    start = np.r_[np.log([3.1, 0.9, 0.2, 3.2, 1.0, 3.9, 0.9]), 0.56, 0.03, 0.01, np.zeros(5),
                  np.zeros(len(OFFSET_CATEGORIES))]  # fmt: skip
    lower = np.full(start.size, -np.inf)
    lower[len(CATEGORIES) + 2] = 0.0  # gamma_f >= 0: no falling sales per inhabitant after 2022
    result = least_squares(
        residuals, start, bounds=(lower, np.inf), x_scale=1.0, ftol=1e-10, xtol=1e-10, gtol=1e-10
    )
    logger.info("POM fit: %d evaluations, cost %.4g (%s)", result.nfev, result.cost, result.message)
    model = _unpack(result.x)
    model = PomModel(**{**model.__dict__, "fit_date": datetime.date.today().isoformat()})
    pom, wg = run(result.x)
    kappa = _factors(wg, inp)
    report = targets.assign(
        model=model_figures(pom * kappa[:, None, None], wg * kappa[:, None, None], inp, targets)
    )
    return model, report, factors_frame(inp, wg[:, :, n22].sum(axis=1), kappa, model.fit_date)


def factors_frame(
    inp: _Inputs, model_2022: np.ndarray, kappa: np.ndarray, fit_date: str
) -> pd.DataFrame:
    """Rows of ``data/pom_country_factors.csv`` with the cross-validated residuals."""
    n22 = int(np.flatnonzero(inp.years == ANNEX_YEAR)[0])
    annex = np.isfinite(inp.target) & inp.inhabited
    resid = np.full(len(inp.regions), np.nan)
    resid[annex] = np.log(kappa[annex])
    cv = np.full(len(inp.regions), np.nan)
    cv[annex] = cv_residuals(resid[annex], np.log(inp.gdp[annex, n22]), inp.un_region[annex])
    basis = np.where(annex, "annex", np.where(inp.inhabited, "model", "uninhabited"))
    src = np.where(
        annex,
        f"fitted by scripts/calibrate_defaults.py on {fit_date}: 2022 e-waste generated = "
        f"{GEM24} annex",
        np.where(
            inp.inhabited,
            "no annex row: the regression model alone (factor 1)",
            "no permanent population (ewaste_tracker.catalog.UNINHABITED): no market",
        ),
    )
    return pd.DataFrame(
        {
            "iso3": inp.regions,
            "income_group": inp.income_group,
            "factor": kappa,
            "basis": basis,
            "annex_t_2022": inp.target,
            "model_t_2022": model_2022,
            "residual_ln": resid,
            "cv_residual_ln": cv,
            "source": src,
        }
    )


def cv_residuals(resid: np.ndarray, log_gdp: np.ndarray, un_region: np.ndarray) -> np.ndarray:
    """Leave-one-out (PRESS) residuals :math:`e_c / (1 - h_{cc})` of the cross-section.

    Parameters
    ----------
    resid
        ``(C,)`` log residuals :math:`\\ln(WG^{pub}_c / \\widehat{WG}_c)`.
    log_gdp, un_region
        The regressors of the linearised cross-section (with an intercept).
    """
    dummies = pd.get_dummies(pd.Series(un_region)).to_numpy(float)
    x = np.column_stack([np.ones(len(resid)), log_gdp, dummies[:, 1:]])
    h = np.einsum("ij,jk,ik->i", x, np.linalg.pinv(x.T @ x), x)
    coef = np.linalg.lstsq(x, resid, rcond=None)[0]
    return (resid - x @ coef) / (1.0 - h)


def cv_summary(factors: pd.DataFrame) -> pd.DataFrame:
    """Cross-validated log residuals of put on market by income group (and all countries)."""
    rows = factors[factors["basis"] == "annex"]
    groups = [*sorted(set(rows["income_group"])), "All"]
    out = []
    for g in groups:
        r = rows if g == "All" else rows[rows["income_group"] == g]
        e = r["cv_residual_ln"].to_numpy(float)
        out.append(
            {
                "income_group": g,
                "n": len(e),
                "mean_ln": e.mean(),
                "sd_ln": e.std(ddof=1),
                "median_abs_pct": 100 * np.median(np.abs(np.expm1(e))),
                "p05_ln": np.quantile(e, 0.05),
                "p95_ln": np.quantile(e, 0.95),
            }
        )
    return pd.DataFrame(out)


def pom_model_to_frame(model: PomModel, report: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``data/pom_model.csv``: parameters, then the targets with model values."""
    src = (
        "fitted by scripts/calibrate_defaults.py "
        "(ewaste_tracker.defaults.calibration.fit_pom_model) "
        f"on {model.fit_date}"
    )
    rows = [
        ("parameter", "A", k, v, "kg/inh/yr at 10,000 USD in 2019", src)
        for k, v in model.level.items()
    ]
    rows += [
        ("parameter", "beta", k, v, "1", src + "; common to all categories")
        for k, v in model.elasticity.items()
    ]
    rows += [
        ("parameter", "rho", k, v, "1", src + "; prior ln rho = 0")
        for k, v in model.region_factor.items()
    ]
    rows += [
        ("parameter", "delta", k, v, "1/yr", src + "; the category's offset of gamma to 2022")
        for k, v in model.trend_offset.items()
    ]
    rows += [
        ("parameter", "gamma", "", model.trend, "1/yr", src),
        ("parameter", "gamma_future", "", model.trend_future, "1/yr", src + "; after 2022"),
        ("parameter", "gdp_ref", "", model.gdp_ref, "USD/inh", "definition"),
        ("parameter", "reference_year", "", model.reference_year, "year", "definition"),
        ("parameter", "last_data_year", "", model.last_data_year, "year", "GEM 2024 data year"),
    ]
    par = pd.DataFrame(rows, columns=["kind", "name", "category", "value", "unit", "source"])
    par["target"] = np.nan
    tgt = pd.DataFrame(
        {
            "kind": "target",
            "name": report["name"] + "_" + report["year"].astype(str),
            "category": report["scope"],
            "value": report["model"].round(4),
            "unit": report["unit"],
            "source": report["source"] + "; fit weight " + report["weight"].map("{:g}".format),
            "target": report["value"],
        }
    )
    out = pd.concat([par, tgt], ignore_index=True)
    out["fit_date"] = model.fit_date
    return out[["kind", "name", "category", "value", "target", "unit", "fit_date", "source"]]


def refine_country_factors(
    factors: pd.DataFrame, regions: tuple[str, ...], generated_2022: np.ndarray
) -> tuple[pd.DataFrame, float]:
    """One fixed-point pass :math:`\\kappa_c \\leftarrow \\kappa_c\\, WG^{pub}_c / WG^{eng}_c`.

    Parameters
    ----------
    factors
        :func:`factors_frame` rows.
    regions, generated_2022
        The engine's regions and its 2022 ``generated_t`` (net of reuse) per region.

    Returns
    -------
    factors, worst
        Updated factors and the largest relative gap before the update.
    """
    out = factors.copy()
    eng = pd.Series(generated_2022, index=list(regions)).reindex(out["iso3"]).to_numpy(float)
    annex = (out["basis"] == "annex").to_numpy()
    target = out["annex_t_2022"].to_numpy(float)
    ratio = np.where(annex & (eng > 0), target / np.where(eng > 0, eng, 1.0), 1.0)
    worst = float(np.max(np.abs(ratio[annex] - 1.0))) if annex.any() else 0.0
    out["factor"] = out["factor"].to_numpy(float) * ratio
    kappa = out["factor"].to_numpy(float)
    out.loc[annex, "residual_ln"] = np.log(kappa[annex])
    return out, worst
