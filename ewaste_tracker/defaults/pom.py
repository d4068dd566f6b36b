r"""Default put on market and e-waste generated for countries without data.

Where a country reports nothing, the Global E-waste Monitor models its put on market (POM) from
population and GDP per capita and its e-waste generated (WG) with the sales-lifespan model
(Forti et al. 2018, *E-waste statistics: guidelines on classification, reporting and
indicators*, 2nd ed., UNU-ViE SCYCLE, ch. 4; Baldé et al. 2024, *Global E-waste Monitor 2024*,
UNITAR/ITU, methodology annex). This module does the same for every country of
:func:`ewaste_tracker.catalog.countries` at once.

Put on market
-------------
Product :math:`p` (a UNU-KEY) of EU-6 category :math:`k`, country :math:`c`, year :math:`t`:

.. math::

    \mathrm{POM}_{c,p,t} = \kappa_c\, P_{c,t}\; A_k\, \rho_{r(c)}
        \left(\frac{y_{c,t}}{y_0}\right)^{\beta_k}
        e^{(\gamma + \delta_k)(\min(t, t_1) - t_0) + \gamma_f \max(t - t_1, 0)}\; s_p\, \Phi_p(t)

with the country factor :math:`\kappa_c` (data/pom_country_factors.csv: for the 193 countries of
the Global E-waste Monitor 2024 annex it makes the engine's 2022 e-waste generated equal the
annex figure; 1 elsewhere; 0 for the territories without a permanent population,
:data:`ewaste_tracker.catalog.UNINHABITED`), population :math:`P` and GDP per capita :math:`y`
(constant USD; ``population_gdp_timeseries.csv``), :math:`y_0` = 10,000 USD, :math:`t_0` =
2019, the level :math:`A_k` (kg per inhabitant per year for a country at :math:`y_0` in
:math:`t_0`), the income elasticity :math:`\beta_k`, a factor :math:`\rho_r` of the UN region
(Africa, Americas, Asia, Europe, Oceania; shrunk towards 1 in the fit, it carries what income
alone does not explain, such as Europe's heating and cooling stock), a common
technology/affordability trend
:math:`\gamma` up to :math:`t_1` = 2022 (the last year of the Monitor's data) and
:math:`\gamma_f` after it, fitted to the Monitor's 2030 projection (data/pom_model.csv,
fitted by :mod:`ewaste_tracker.defaults.calibration`), and a category's own offset
:math:`\delta_k` of that trend (screens only: world TV and monitor unit sales have been
roughly flat since the mid-2000s while the income driver grows, so the category's 2019 mass,
held to unit sales, and its 2019 e-waste, much of it heavy CRTs sold long before, are met
together; :mod:`ewaste_tracker.defaults.units`). The income term follows the
cross-country regressions of POM per capita on GDP per capita behind the Monitor's estimates
for data-poor countries (Baldé et al. 2015, *Global E-waste Monitor 2014*, annex; Forti et al.
2020, *Global E-waste Monitor 2020*, methodology).

:math:`s_p` is product :math:`p`'s share of its category's POM mass in :math:`t_0` and
:math:`\Phi_p` its time profile relative to :math:`t_0` (data/pom_product_shares.csv):

* ``ramp`` (diffusion after introduction):
  :math:`\Phi_p(t) = \sigma((t - m_p)/w_p) / \sigma((t_0 - m_p)/w_p)` with the logistic
  :math:`\sigma`, midpoint :math:`m_p` (default: introduction year + 5) and width :math:`w_p`
  (default 1.7 years: 5 % to 95 % in 10 years).
* substitution pairs (CRT → flat-panel monitors and TVs, CFL → LED lamps): the *units* of the
  pair follow the category's driver and the new technology's unit share is
  :math:`L(t) = \sigma((t - m)/w)`; masses follow the unit weights :math:`u` of products.csv,

  .. math::

      \Phi_{old} = \frac{(1 - L)\, R_{old}\, u_{old}}{Z}, \quad
      \Phi_{new} = \frac{L\, u_{new}}{Z}, \quad
      Z = (1 - L(t_0))\, R_{old}(t_0)\, u_{old} + L(t_0)\, u_{new},

  applied to the pair's combined share :math:`s_{old} + s_{new}`, where :math:`R_{old}` is the
  old product's own diffusion ramp. The heavy CRT wave of 1990-2008 and the lighter screens
  since then come out of this without a separate series.

Every product is zero before its ``introduction_year`` (products.csv).

E-waste generated
-----------------
:math:`\mathrm{WG}_n = \sum_{c \le n} \mathrm{POM}_c\, f(n - c + 0.5)` with the Weibull
lifetimes of the catalogue (:func:`ewaste_tracker.catalog.lifetimes`; convention ``"unu"`` of
:func:`ewaste_tracker.flows.lifetimes.discard_matrix`), run from the first modelled year (no POM
before it).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from ewaste_tracker import catalog
from ewaste_tracker.flows.dims import Dims
from ewaste_tracker.flows.lifetimes import discard_matrix, lifetime_table_from_frame
from ewaste_tracker.flows.stocks import inflow_driven

__all__ = [
    "CATEGORIES",
    "DefaultRun",
    "DefaultsError",
    "PomModel",
    "ProductShares",
    "country_factors",
    "default_pom",
    "default_run",
    "generation",
    "pom_array",
]

logger = logging.getLogger(__name__)

CATEGORIES: tuple[str, ...] = ("1", "2", "3", "4a", "4b", "5", "6")
"""EU-6 categories of products.csv (``4b`` = photovoltaic panels, part of large equipment)."""
MODEL_FILE = "pom_model.csv"
FACTORS_FILE = "pom_country_factors.csv"
SHARES_FILE = "pom_product_shares.csv"
RAMP_OFFSET = 5.0
"""Default diffusion midpoint, years after the introduction year."""
RAMP_WIDTH = 1.7
"""Default logistic width (years): 5 % to 95 % of full diffusion in 10 years."""
STATUS = "estimated"


class DefaultsError(ValueError):
    """A default-model file is invalid; the message names the file, row and column."""


def _read(name: str, required: Sequence[str]) -> tuple[pd.DataFrame, Path]:
    path = catalog.data_path(name)
    if not path.is_file():
        raise DefaultsError(f"{path} is missing; run scripts/calibrate_defaults.py")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DefaultsError(f"{path}: missing column(s) {missing}")
    return df, path


def _floats(df: pd.DataFrame, column: str, path: Path, *, blank: float | None = None) -> np.ndarray:
    text = df[column].str.strip()
    if blank is not None:
        text = text.where(text != "", str(blank))
    values = pd.to_numeric(text, errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raise DefaultsError(
            f"{path}, line {row + 2}, column {column!r}: expected a number, got {text.iloc[row]!r}"
        )
    return values


@dataclass(frozen=True)
class PomModel:
    """Parameters of the put-on-market model (see the module docstring).

    Attributes
    ----------
    level
        :math:`A_k`, kg per inhabitant per year at :math:`y_0` in the reference year, by category.
    elasticity
        :math:`\\beta_k` by category.
    trend
        :math:`\\gamma`, per year.
    trend_offset
        :math:`\\delta_k` by category (0 where absent), per year, added to :math:`\\gamma` up
        to :math:`t_1`.
    gdp_ref, reference_year
        :math:`y_0` (USD) and :math:`t_0`.
    fit_date
        When the parameters were fitted (ISO date), for provenance.
    """

    level: dict[str, float]
    elasticity: dict[str, float]
    trend: float
    trend_future: float
    region_factor: dict[str, float] = field(default_factory=dict)
    trend_offset: dict[str, float] = field(default_factory=dict)
    gdp_ref: float = 10_000.0
    reference_year: int = 2019
    last_data_year: int = 2022
    fit_date: str = ""
    targets: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    @classmethod
    def from_csv(cls, path: Path | str | None = None) -> PomModel:
        """Read ``data/pom_model.csv`` (rows ``kind=parameter`` give the parameters).

        Raises
        ------
        DefaultsError
            If a parameter is missing or not a number.
        """
        if path is None:
            df, src = _read(MODEL_FILE, ("kind", "name", "category", "value"))
        else:
            src = Path(path)
            df = pd.read_csv(src, dtype=str, keep_default_na=False)
        par = df[df["kind"] == "parameter"].reset_index(drop=True)
        values = _floats(par, "value", src)
        level, beta, rho, delta, scalars = {}, {}, {}, {}, {}
        for name, cat, value in zip(par["name"], par["category"], values, strict=True):
            if name == "delta":
                delta[cat] = float(value)
            elif name == "A":
                level[cat] = float(value)
            elif name == "beta":
                beta[cat] = float(value)
            elif name == "rho":
                rho[cat] = float(value)
            else:
                scalars[name] = float(value)
        missing = [f"A[{k}]" for k in CATEGORIES if k not in level]
        missing += [f"beta[{k}]" for k in CATEGORIES if k not in beta]
        names = ("gamma", "gamma_future", "gdp_ref", "reference_year", "last_data_year")
        missing += [s for s in names if s not in scalars]
        if missing:
            raise DefaultsError(f"{src}: missing parameter row(s) {missing}")
        dates = par.get("fit_date", pd.Series([""]))
        return cls(
            level=level,
            elasticity=beta,
            trend=scalars["gamma"],
            trend_future=scalars["gamma_future"],
            region_factor=rho,
            trend_offset=delta,
            last_data_year=int(scalars["last_data_year"]),
            gdp_ref=scalars["gdp_ref"],
            reference_year=int(scalars["reference_year"]),
            fit_date=str(dates.iloc[0]) if len(dates) else "",
            targets=df[df["kind"] == "target"].reset_index(drop=True),
        )


@dataclass(frozen=True, eq=False)
class ProductShares:
    """Within-category shares and time profiles of the UNU-KEYs (data/pom_product_shares.csv).

    Attributes
    ----------
    products, category
        UNU-KEYs and their EU-6 category.
    share
        :math:`s_p`, 2019 mass share within the category (pairs: the pair's combined share).
    curve
        ``ramp``, ``predecessor`` or ``successor``.
    partner
        Index of the pair partner (-1 for ramps).
    midpoint, width, introduction, unit_weight
        Curve parameters, introduction year and unit weight (kg) per product.
    """

    products: tuple[str, ...]
    category: np.ndarray
    share: np.ndarray
    curve: np.ndarray
    partner: np.ndarray
    midpoint: np.ndarray
    width: np.ndarray
    introduction: np.ndarray
    unit_weight: np.ndarray

    @classmethod
    def from_csv(cls, path: Path | str | None = None) -> ProductShares:
        """Read the shares and join introduction years and unit weights from products.csv.

        Raises
        ------
        DefaultsError
            Unknown UNU-KEY or curve, a pair without its partner, or shares of a category
            that do not sum to 1.
        """
        cols = ("unu_key", "eu6_category", "share_2019", "curve", "partner", "midpoint", "width")
        if path is None:
            df, src = _read(SHARES_FILE, cols)
        else:
            src = Path(path)
            df = pd.read_csv(src, dtype=str, keep_default_na=False)
        prod = catalog.products().set_index("unu_key")
        unknown = sorted(set(df["unu_key"]) - set(prod.index))
        if unknown:
            raise DefaultsError(f"{src}, column 'unu_key': not in products.csv: {unknown}")
        keys = tuple(df["unu_key"])
        curve = df["curve"].str.strip().to_numpy(str)
        bad = np.flatnonzero(~np.isin(curve, ["ramp", "predecessor", "successor"]))
        if bad.size:
            raise DefaultsError(f"{src}, line {bad[0] + 2}, column 'curve': got {curve[bad[0]]!r}")
        share = _floats(df, "share_2019", src)
        cat = df["eu6_category"].to_numpy(str)
        sums = pd.Series(share).groupby(cat).sum()
        off = sums[(sums - 1.0).abs() > 1e-6]
        if len(off):
            raise DefaultsError(f"{src}: shares of categories {off.round(4).to_dict()} != 1")
        index = {k: i for i, k in enumerate(keys)}
        partner = np.array([index.get(p, -1) if p else -1 for p in df["partner"]], dtype=np.intp)
        lonely = np.flatnonzero((curve != "ramp") & (partner < 0))
        if lonely.size:
            raise DefaultsError(f"{src}, line {lonely[0] + 2}, column 'partner': unknown")
        pair = curve != "ramp"
        share = np.where(pair, share + np.where(pair, share[np.maximum(partner, 0)], 0.0), share)
        intro = prod.loc[list(keys), "introduction_year"].to_numpy(float)
        return cls(
            products=keys,
            category=cat,
            share=share,
            curve=curve,
            partner=partner,
            midpoint=_floats(df, "midpoint", src, blank=-1.0),
            width=_floats(df, "width", src, blank=RAMP_WIDTH),
            introduction=intro,
            unit_weight=prod.loc[list(keys), "unit_weight_kg"].to_numpy(float),
        )

    def profile(self, years: np.ndarray, reference_year: int = 2019) -> np.ndarray:
        """:math:`s_p \\Phi_p(t)` as a ``(P, N)`` array (zero before introduction)."""
        t = np.asarray(years, dtype=float)[None, :]
        t0 = float(reference_year)
        own_mid = np.where(self.midpoint < 0, self.introduction + RAMP_OFFSET, self.midpoint)
        ramp_mid = np.where(self.curve == "ramp", own_mid, self.introduction + RAMP_OFFSET)
        ramp_w = np.where(self.curve == "ramp", self.width, RAMP_WIDTH)[:, None]
        ramp = expit((t - ramp_mid[:, None]) / ramp_w)
        ramp0 = expit((t0 - ramp_mid[:, None]) / ramp_w)
        # unit share of the new technology in each pair, evaluated on the pair's own row
        sub = expit((t - own_mid[:, None]) / self.width[:, None])
        sub0 = expit((t0 - own_mid[:, None]) / self.width[:, None])
        old = np.where(self.curve == "predecessor", np.arange(len(self.curve)), self.partner)
        new = np.where(self.curve == "successor", np.arange(len(self.curve)), self.partner)
        pair = self.curve != "ramp"
        old, new = np.where(pair, old, 0), np.where(pair, new, 0)
        u_old, u_new = self.unit_weight[old][:, None], self.unit_weight[new][:, None]
        z = (1.0 - sub0) * ramp0[old] * u_old + sub0 * u_new
        pred = (1.0 - sub) * ramp[old] * u_old / z
        succ = sub * u_new / z
        phi = np.select(
            [self.curve[:, None] == "predecessor", self.curve[:, None] == "successor"],
            [pred, succ],
            ramp / ramp0,
        )
        phi = np.where(t < self.introduction[:, None], 0.0, phi)
        return self.share[:, None] * phi


def pom_array(
    model: PomModel,
    shares: ProductShares,
    population: np.ndarray,
    gdp_per_capita: np.ndarray,
    years: np.ndarray,
    un_region: Sequence[str] | np.ndarray | None = None,
    factor: np.ndarray | None = None,
) -> np.ndarray:
    """Put on market in tonnes, ``(R, P, N)`` (equation in the module docstring).

    Parameters
    ----------
    population, gdp_per_capita
        ``(R, N)`` inhabitants and constant USD per inhabitant (> 0).
    years
        ``(N,)`` calendar years.
    un_region
        ``(R,)`` UN region of each row for :math:`\\rho_r`; ``None``: all factors 1.
    factor
        ``(R,)`` country factors :math:`\\kappa_c`; ``None``: all 1.
    """
    cats = shares.category
    level = np.array([model.level[k] for k in cats])
    beta = np.array([model.elasticity[k] for k in cats])
    years = np.asarray(years)
    log_y = np.log(np.maximum(gdp_per_capita, 1.0) / model.gdp_ref)  # (R, N)
    t1 = model.last_data_year
    delta = np.array([model.trend_offset.get(k, 0.0) for k in cats])
    trend = np.exp(
        (model.trend + delta[:, None]) * (np.minimum(years, t1) - model.reference_year)[None, :]
        + model.trend_future * np.maximum(years - t1, 0)[None, :]
    )  # (P, N)
    rho = np.ones(population.shape[0])
    if un_region is not None:
        rho = np.array([model.region_factor.get(str(r), 1.0) for r in un_region])
    if factor is not None:
        rho = rho * np.asarray(factor, dtype=float)
    per_cap = np.exp(beta[None, :, None] * log_y[:, None, :])  # (R, P, N)
    per_cap *= (level[:, None] * shares.profile(years, model.reference_year) * trend)[None]
    return per_cap * (population * (rho[:, None] * 1e-3))[:, None, :]


@functools.cache
def _discard(products: tuple[str, ...], first: int, last: int) -> np.ndarray:
    years = np.arange(first, last + 1)
    dims = Dims(("*",), products, years)
    frame = catalog.lifetimes()
    frame = frame[frame["product"].isin(products)].assign(region="")
    table = lifetime_table_from_frame(frame, dims)
    m = discard_matrix(table, years)
    return m[table.group[0]]  # (P, N, N), one matrix per product


def generation(pom: np.ndarray, products: Sequence[str], years: np.ndarray) -> np.ndarray:
    """E-waste generated ``(R, P, N)`` in tonnes from ``pom`` with the catalogue lifetimes."""
    years = np.asarray(years)
    m = _discard(tuple(products), int(years[0]), int(years[-1]))
    group = np.broadcast_to(np.arange(len(products)), pom.shape[:2])
    return inflow_driven(pom, group, m).outflow


@dataclass(frozen=True, eq=False)
class DefaultRun:
    """The default model for many countries: labels, drivers and results (tonnes)."""

    dims: Dims
    population: np.ndarray
    gdp_per_capita: np.ndarray
    pom: np.ndarray
    wg: np.ndarray
    un_region: np.ndarray
    income_group: np.ndarray


def _drivers(regions: Sequence[str] | None, years: np.ndarray):
    ts = catalog.population_gdp()
    ts = ts[ts["year"].isin(years)]
    known = pd.unique(ts["region"])
    regions = tuple(known) if regions is None else tuple(regions)
    missing = sorted(set(regions) - set(known))
    if missing:
        raise DefaultsError(
            f"no population/GDP in {catalog.data_path('population_gdp')} for {missing[:10]}"
        )

    def wide(column: str) -> np.ndarray:
        table = ts.pivot_table(index="region", columns="year", values=column)
        return table.reindex(index=list(regions), columns=years).to_numpy(float)

    pop, gdp = wide("population"), wide("gdp_per_capita_usd")
    gaps = np.argwhere(~np.isfinite(pop) | (pop < 0))
    if gaps.size:
        r, n = gaps[0]
        raise DefaultsError(f"population missing for region {regions[r]}, year {years[n]}")
    info = catalog.countries().set_index("iso3").reindex(list(regions))
    bad = ~np.isfinite(gdp) | (gdp <= 0)
    if bad.any():
        # a territory without usable GDP gets its UN sub-region's per-capita mean of that year
        sub = info["un_subregion"].fillna("").to_numpy(str)
        mass = pd.DataFrame(np.where(bad, 0.0, gdp * pop)).groupby(sub).transform("sum")
        heads = pd.DataFrame(np.where(bad, 0.0, pop)).groupby(sub).transform("sum")
        fill = (mass / heads.where(heads > 0)).to_numpy(float)
        fill = np.where(np.isfinite(fill), fill, np.nanmedian(np.where(bad, np.nan, gdp)))
        logger.warning(
            "no usable GDP per capita for %s: using the UN sub-region mean",
            sorted({regions[i] for i in np.flatnonzero(bad.any(axis=1))}),
        )
        gdp = np.where(bad, fill, gdp)
    return regions, pop, gdp, info


def country_factors(
    regions: Sequence[str], factors: pd.DataFrame | None = None, *, calibrated: bool = True
) -> np.ndarray:
    """:math:`\\kappa_c` for ``regions``: the calibrated factor, 1 without one, 0 uninhabited.

    Parameters
    ----------
    regions
        ISO3 codes.
    factors
        ``iso3, factor`` (default data/pom_country_factors.csv when ``calibrated``).
    calibrated
        ``False``: the regression model alone (1 everywhere but the uninhabited territories).
    """
    out = np.ones(len(regions))
    if calibrated:
        if factors is None:
            df, src = _read(FACTORS_FILE, ("iso3", "factor"))
            df = df.assign(factor=_floats(df, "factor", src))
        else:
            df = factors
        known = dict(zip(df["iso3"], df["factor"].astype(float), strict=True))
        out = np.array([known.get(r, 1.0) for r in regions])
    out[np.isin(np.asarray(regions, dtype=object), catalog.UNINHABITED)] = 0.0
    return out


def default_run(
    years: Iterable[int] = range(1970, 2031),
    *,
    regions: Sequence[str] | None = None,
    model: PomModel | None = None,
    shares: ProductShares | None = None,
    factors: pd.DataFrame | None = None,
    calibrated: bool = True,
) -> DefaultRun:
    """Run the default POM and WG model for ``regions`` (default: every catalogue country).

    ``factors`` replaces data/pom_country_factors.csv; ``calibrated=False`` runs the
    regression model without country factors (the prior of a country without an annex row).
    """
    yrs = np.asarray(list(years), dtype=np.int64)
    model = PomModel.from_csv() if model is None else model
    shares = ProductShares.from_csv() if shares is None else shares
    regs, pop, gdp, info = _drivers(regions, yrs)
    dims = Dims(regs, shares.products, yrs)
    un_region = info["un_region"].fillna("").to_numpy(str)
    kappa = country_factors(regs, factors, calibrated=calibrated)
    pom = pom_array(model, shares, pop, gdp, yrs, un_region, kappa)
    wg = generation(pom, shares.products, yrs)
    logger.info(
        "default model: %d regions x %d products x %d years, WG %d = %.1f Mt",
        *dims.shape,
        int(yrs[-1]),
        wg[:, :, -1].sum() / 1e6,
    )
    return DefaultRun(
        dims=dims,
        population=pop,
        gdp_per_capita=gdp,
        pom=pom,
        wg=wg,
        un_region=un_region,
        income_group=info["income_group"].fillna("").to_numpy(str),
    )


def _source(model: PomModel) -> str:
    return (
        f"default model (ewaste_tracker.defaults.pom; data/pom_model.csv fitted "
        f"{model.fit_date or 'n/a'}): "
        "country factor (data/pom_country_factors.csv: 2022 e-waste generated = the Global "
        "E-waste Monitor 2024 annex) x population x A_k (GDP per capita / 10,000 USD)^beta_k x "
        "exp(gamma (t - 2019)) x product share and diffusion (data/pom_product_shares.csv)"
    )


def default_pom(
    years: Iterable[int] = range(1970, 2031),
    *,
    regions: Sequence[str] | None = None,
    model: PomModel | None = None,
) -> pd.DataFrame:
    """Default put on market by country, UNU-KEY and year.

    Parameters
    ----------
    years
        Consecutive calendar years within 1970-2030 (the driver table's range).
    regions
        ISO3 codes; default every country of the catalogue.
    model
        Parameters; default data/pom_model.csv.

    Returns
    -------
    pandas.DataFrame
        ``region, product, year, pom_t, status, source`` with status ``"estimated"``.
    """
    model = PomModel.from_csv() if model is None else model
    yrs = np.asarray(list(years), dtype=np.int64)
    shares = ProductShares.from_csv()
    regs, pop, gdp, info = _drivers(regions, yrs)
    kappa = country_factors(regs)
    pom = pom_array(model, shares, pop, gdp, yrs, info["un_region"].fillna("").to_numpy(str), kappa)
    n_r, n_p, n_y = pom.shape
    # labels as categoricals: a million rows of repeated strings cost seconds as str columns
    n = n_r * n_p * n_y
    return pd.DataFrame(
        {
            "region": pd.Categorical.from_codes(
                np.repeat(np.arange(n_r), n_p * n_y), categories=pd.Index(list(regs), dtype=str)
            ),
            "product": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(n_p), n_y), n_r),
                categories=pd.Index(list(shares.products), dtype=str),
            ),
            "year": np.tile(yrs, n_r * n_p),
            "pom_t": pom.ravel(),
            "status": pd.Categorical.from_codes(
                np.zeros(n, dtype=np.int8), categories=pd.Index([STATUS], dtype=str)
            ),
            "source": pd.Categorical.from_codes(
                np.zeros(n, dtype=np.int8), categories=pd.Index([_source(model)], dtype=str)
            ),
        }
    )
