r"""Calibration of the default model (:mod:`ewaste_tracker.defaults.pom`) to the Global E-waste
Monitor.

Put-on-market parameters
------------------------
:func:`fit_pom_model` fits :math:`\ln A_k` (7 categories), a common elasticity :math:`\beta`,
the trends :math:`\gamma` and :math:`\gamma_f \ge 0` (the bound keeps the 2030 projection
from forcing falling sales per inhabitant; the projection then stays a soft target) and
:math:`\ln \rho_r` (5 UN regions) with
:func:`scipy.optimize.least_squares` on weighted log residuals
:math:`w_i \ln(\hat x_i / x_i)` to the targets of :data:`TARGETS`, where regional kg per inhabitant
enter as ratios to the world's 7.3 kg/inh (GEM 2020): the Monitor's regional figures times our
populations add to 55 Mt, not 53.6 Mt, and the ratios keep the published order without fighting
the world total; plus the prior :math:`w_\rho \ln \rho_r` that keeps the regional factors
near 1 (income explains what it can).
The model is run from 1970 with no products on the market before, exactly as the engine runs it.

Collection split (``generated`` → ``collection_formal`` / ``collection_informal`` /
``residual``)
-----------------------------------------------------------------------------------------------
:func:`calibrate_collection_split` uses the model's 2022 WG :math:`W_c` and the Monitor 2024's
partition of the 62 Mt (Baldé et al. 2024): :math:`F` = 13.8 Mt documented formal collection,
:math:`I_r` = 16 Mt collected outside formal systems in high- and upper-middle-income
countries, :math:`I_p` = 18 Mt handled mostly informally in low- and lower-middle-income
countries, :math:`D` = 14 Mt in residual waste; the four (61.8 Mt) are scaled by
:math:`\sigma = \sum_c W_c / 61.8` so that they partition the model's WG. Formal rates
:math:`f_c`: Europe's high/upper-middle-income countries get the rate that makes Europe's total
42.8 % (GEM 2024), Africa 0.7 % (GEM 2024: "< 1 %"), other low/lower-middle-income countries
:data:`FORMAL_RATE_POOR` (prior), and the remaining rich countries the rate :math:`f_r` that
closes :math:`\sum_c f_c W_c = \sigma F`. Poor countries put the share
:data:`RESIDUAL_RATE_POOR` into residual waste and the rest into informal collection; their own
informal collection :math:`J_p` falls short of :math:`\sigma I_p`, and the gap
:math:`X = \sigma I_p - J_p` is e-waste shipped from richer countries' informal collection
(the Monitor's 18 Mt counts what poorer countries *handle*): rich countries' share of
``collection_informal`` → ``export`` becomes :math:`X / (\sigma I_r + X)`. Rich countries put
the share :math:`q` of their non-formal WG into residual waste, with :math:`q` solving
:math:`\sum_{rich} (1 - f_c) W_c q + \sum_{poor} r_p W_c = \sigma D`.

Years other than 2022: the formal rate of every country is scaled by
:math:`h(t) = R(t) / R(2022)`, :math:`R` the world documented collection rate, piecewise linear
through 0 in 1995 (before the first national take-back systems were generalised by
Directive 2002/96/EC), 8/34 in 2010 and 13.8/62 in 2022 (GEM 2024) and 20 % in 2030 (GEM 2024
projection), capped at 0.95; the non-formal remainder keeps each country's 2022
informal : residual ratio.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ewaste_tracker.catalog import TC_COLUMNS
from ewaste_tracker.defaults.pom import (
    CATEGORIES,
    DefaultRun,
    DefaultsError,
    PomModel,
    ProductShares,
    _drivers,
    generation,
    pom_array,
)

__all__ = [
    "TARGETS",
    "calibrate_collection_split",
    "fit_pom_model",
    "model_figures",
    "pom_model_to_frame",
]

logger = logging.getLogger(__name__)

GEM24 = "Baldé C.P. et al. (2024) Global E-waste Monitor 2024, UNITAR/ITU"
GEM20 = "Forti V., Baldé C.P. et al. (2020) The Global E-waste Monitor 2020, UNU/UNITAR/ITU/ISWA"
REC = "published value recalled by this project, not transcribed"

TARGETS = pd.DataFrame(
    [
        # name, scope, year, value, unit, weight, source
        ("wg_world", "World", 2022, 62.0, "Mt", 4.0, GEM24),
        ("wg_world", "World", 2019, 53.6, "Mt", 4.0, GEM20),
        ("wg_world", "World", 2010, 34.0, "Mt", 3.0, GEM24),
        ("wg_world", "World", 2030, 82.0, "Mt", 2.0, GEM24 + " (projection)"),
        ("wg_category", "5", 2019, 17.4, "Mt", 1.5, GEM20),
        ("wg_category", "4", 2019, 13.1, "Mt", 1.5, GEM20 + " (4a + 4b)"),
        ("wg_category", "1", 2019, 10.8, "Mt", 1.5, GEM20),
        ("wg_category", "2", 2019, 6.7, "Mt", 1.5, GEM20),
        ("wg_category", "6", 2019, 4.7, "Mt", 1.5, GEM20),
        ("wg_category", "3", 2019, 0.9, "Mt", 1.5, GEM20),
        ("wg_per_capita", "Europe", 2019, 16.2, "kg/inh", 3.0, GEM20),
        ("wg_per_capita", "Oceania", 2019, 16.1, "kg/inh", 3.0, f"{GEM20}; {REC}"),
        ("wg_per_capita", "Americas", 2019, 13.3, "kg/inh", 3.0, f"{GEM20}; {REC}"),
        ("wg_per_capita", "Asia", 2019, 5.6, "kg/inh", 3.0, f"{GEM20}; {REC}"),
        ("wg_per_capita", "Africa", 2019, 2.5, "kg/inh", 3.0, f"{GEM20}; {REC}"),
        ("wg_region", "Asia", 2019, 24.9, "Mt", 1.0, GEM20),
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
"""Calibration targets (each with its source)."""

WORLD_PER_CAPITA_2019 = 7.3
"""kg/inh generated in 2019 (GEM 2020): regional per-capita targets are fitted as ratios to it."""
UN_REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")
PRIOR_WEIGHT = 0.25
"""Weight :math:`w_\\rho` of the prior :math:`\\ln \\rho_r = 0`."""
RICH = ("High income", "Upper middle income")
POOR = ("Lower middle income", "Low income")
SPLIT_2022 = {"formal": 13.8, "informal_rich": 16.0, "informal_poor": 18.0, "residual": 14.0}
EUROPE_FORMAL = 0.428
AFRICA_FORMAL = 0.007
FORMAL_RATE_POOR = 0.02
"""Documented formal rate of low/lower-middle-income countries outside Africa (prior, estimate:
India reported about 0.5 Mt formally processed of ~3-4 Mt generated around 2021-22)."""
RESIDUAL_RATE_POOR = 0.02
"""Share of WG of low/lower-middle-income countries thrown away with residual waste (estimate:
little is binned where devices keep a resale or scrap value)."""


@dataclass(frozen=True)
class _Inputs:
    shares: ProductShares
    years: np.ndarray
    regions: tuple[str, ...]
    population: np.ndarray
    gdp: np.ndarray
    un_region: np.ndarray


def _inputs(years: Iterable[int] = range(1970, 2031)) -> _Inputs:
    yrs = np.asarray(list(years), dtype=np.int64)
    regs, pop, gdp, info = _drivers(None, yrs)
    return _Inputs(
        ProductShares.from_csv(), yrs, regs, pop, gdp, info["un_region"].fillna("").to_numpy(str)
    )


def _unpack(theta: np.ndarray) -> PomModel:
    n_k = len(CATEGORIES)
    return PomModel(
        level=dict(zip(CATEGORIES, np.exp(theta[:n_k]).tolist(), strict=True)),
        elasticity=dict.fromkeys(CATEGORIES, float(theta[n_k])),
        trend=float(theta[n_k + 1]),
        trend_future=float(theta[n_k + 2]),
        region_factor=dict(zip(UN_REGIONS, np.exp(theta[n_k + 3 :]).tolist(), strict=True)),
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
        pop, region = inputs_or_run.population, inputs_or_run.un_region
        category = ProductShares.from_csv().category
    else:
        years, products = inputs_or_run.years, inputs_or_run.shares.products
        pop, region = inputs_or_run.population, inputs_or_run.un_region
        category = inputs_or_run.shares.category
    eu6 = np.where(np.isin(category, ["4a", "4b"]), "4", category)
    col = {int(y): i for i, y in enumerate(years)}
    out = np.empty(len(targets))
    for i, (name, scope, year) in enumerate(targets[["name", "scope", "year"]].itertuples(False)):
        n = col[int(year)]
        if name == "wg_world":
            out[i] = wg[:, :, n].sum() / 1e6
        elif name == "wg_category":
            out[i] = wg[:, eu6 == scope, n].sum() / 1e6
        elif name == "wg_per_capita":
            sel = region == scope
            out[i] = wg[sel, :, n].sum() / pop[sel, n].sum() * 1e3
        elif name == "wg_region":
            out[i] = wg[region == scope, :, n].sum() / 1e6
        elif name == "pom_product":
            out[i] = pom[:, list(products).index(scope), n].sum() / 1e6
        else:
            raise DefaultsError(f"unknown calibration target {name!r}")
    return out


def fit_pom_model(
    years: Iterable[int] = range(1970, 2031), targets: pd.DataFrame = TARGETS
) -> tuple[PomModel, pd.DataFrame]:
    """Fit the put-on-market parameters (see the module docstring).

    Returns
    -------
    model, report
        The fitted :class:`~ewaste_tracker.defaults.pom.PomModel` and ``targets`` with a ``model``
        column.
    """
    inp = _inputs(years)
    weight = targets["weight"].to_numpy(float)
    log_target = np.log(targets["value"].to_numpy(float))

    def run(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pom = pom_array(
            _unpack(theta), inp.shares, inp.population, inp.gdp, inp.years, inp.un_region
        )
        return pom, generation(pom, inp.shares.products, inp.years)

    per_cap = (targets["name"] == "wg_per_capita").to_numpy()
    years_pc = targets.loc[per_cap, "year"].to_numpy(int)
    n_pc = np.searchsorted(inp.years, years_pc)

    def residuals(theta: np.ndarray) -> np.ndarray:
        pom, wg = run(theta)
        fit = np.log(model_figures(pom, wg, inp, targets)) - log_target
        # regional kg/inh relative to the world's (the Monitor's population base differs)
        world = wg[:, :, n_pc].sum(axis=(0, 1)) / inp.population[:, n_pc].sum(axis=0) * 1e3
        fit[per_cap] -= np.log(world / WORLD_PER_CAPITA_2019)
        fit *= weight
        return np.concatenate([fit, PRIOR_WEIGHT * theta[len(CATEGORIES) + 3 :]])

    start = np.r_[np.log([4.0, 1.5, 0.2, 4.0, 1.0, 5.0, 1.5]), 0.6, 0.03, 0.03, np.zeros(5)]
    lower = np.full(start.size, -np.inf)
    lower[len(CATEGORIES) + 2] = 0.0  # gamma_f >= 0: no falling sales per inhabitant after 2022
    result = least_squares(
        residuals, start, bounds=(lower, np.inf), x_scale=1.0, ftol=1e-12, xtol=1e-12, gtol=1e-12
    )
    logger.info("POM fit: %d evaluations, cost %.4g (%s)", result.nfev, result.cost, result.message)
    model = _unpack(result.x)
    model = PomModel(**{**model.__dict__, "fit_date": datetime.date.today().isoformat()})
    report = targets.assign(model=model_figures(*run(result.x), inp, targets))
    return model, report


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


def calibrate_collection_split(
    run: DefaultRun, *, year: int = 2022
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Shares out of ``generated`` by income group and region override (module docstring).

    Returns
    -------
    table, figures
        Rows ``income_group, un_region, product, year, from_stage, to_stage, share, source``
        (``un_region`` blank = every other region) and the calibration figures (Mt and rates).
    """
    n = int(np.flatnonzero(run.dims.years == year)[0])
    wg = run.wg[:, :, n].sum(axis=1) / 1e6
    grp, reg = run.income_group, run.un_region
    rich, poor = np.isin(grp, RICH), np.isin(grp, POOR)
    eu, af = reg == "Europe", reg == "Africa"
    sigma = wg.sum() / sum(SPLIT_2022.values())
    target = {k: v * sigma for k, v in SPLIT_2022.items()}
    f = np.where(poor, FORMAL_RATE_POOR, np.nan)
    f[af] = AFRICA_FORMAL
    eu_rich = eu & rich
    f_eu = (EUROPE_FORMAL * wg[eu].sum() - (f[eu & ~rich] * wg[eu & ~rich]).sum()) / wg[
        eu_rich
    ].sum()
    f[eu_rich] = f_eu
    other = np.isnan(f)
    f_rich = (target["formal"] - (f[~other] * wg[~other]).sum()) / wg[other].sum()
    f[other] = f_rich
    r_p = RESIDUAL_RATE_POOR
    own_poor = ((1.0 - f[poor] - r_p) * wg[poor]).sum()
    exported = max(target["informal_poor"] - own_poor, 0.0)
    q = (target["residual"] - r_p * wg[poor].sum()) / ((1.0 - f[rich]) * wg[rich]).sum()
    if not (0.0 <= f_rich < 1.0 and 0.0 <= f_eu < 1.0 and 0.0 <= q < 1.0):
        raise DefaultsError(f"collection split infeasible: f_rich={f_rich}, f_eu={f_eu}, q={q}")
    figures = {
        "wg_world_mt": float(wg.sum()),
        "wg_rich_mt": float(wg[rich].sum()),
        "wg_poor_mt": float(wg[poor].sum()),
        "formal_rate_europe_rich": float(f_eu),
        "formal_rate_rich_other": float(f_rich),
        "residual_share_of_nonformal_rich": float(q),
        "poor_own_informal_mt": float(own_poor),
        "exported_rich_to_poor_mt": float(exported),
        "rich_informal_export_share": float(exported / (target["informal_rich"] + exported)),
        "formal_mt": float((f * wg).sum()),
        "informal_rich_mt": float(((1 - f[rich]) * (1 - q) * wg[rich]).sum() - exported),
        "informal_poor_mt": float(own_poor + exported),
        "residual_mt": float(((1 - f[rich]) * q * wg[rich]).sum() + r_p * wg[poor].sum()),
    }
    basis = (
        f"calibrated by scripts/calibrate_defaults.py to {GEM24} 2022 split 13.8/16/18/14 Mt "
        f"with the default model's WG {wg.sum():.1f} Mt (rich {wg[rich].sum():.1f}, poor "
        f"{wg[poor].sum():.1f}); {{}}"
    )
    rows = []

    def add(group: str, region: str, formal: float, residual: float, note: str) -> None:
        shares = {
            "collection_formal": formal,
            "collection_informal": 1 - formal - residual,
            "residual": residual,
        }
        for to, share in shares.items():
            rows.append(
                (group, region, "", "", "generated", to, round(share, 6), basis.format(note))
            )

    for g in RICH:
        add(g, "", f_rich, (1 - f_rich) * q, "rich: formal rate closes the 13.8 Mt")
        add(g, "Europe", f_eu, (1 - f_eu) * q, "Europe documented rate 42.8 % (GEM 2024)")
    for g in POOR:
        add(g, "", FORMAL_RATE_POOR, r_p, "poor: formal and residual rates are priors (estimate)")
    for g in (*RICH, *POOR):
        res = (1 - AFRICA_FORMAL) * q if g in RICH else r_p
        add(g, "Africa", AFRICA_FORMAL, res, "Africa documented rate < 1 % (GEM 2024; 0.7 %)")
    x = figures["rich_informal_export_share"]
    for g in RICH:
        rows.append(
            (
                g,
                "",
                "",
                "",
                "collection_informal",
                "export",
                round(x, 6),
                basis.format(
                    f"exports {exported:.1f} Mt = 18 Mt handled in poorer countries minus "
                    "their own informal collection; other catalogue shares rescaled to 1 - export"
                ),
            )
        )
    cols = list(TC_COLUMNS)
    return pd.DataFrame(rows, columns=cols), figures
