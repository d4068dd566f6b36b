"""Refit the default put-on-market model, the country factors and the default fates.

Writes, in the data folder:

* ``pom_model.csv``: parameters of the put-on-market model, its targets and the model's values;
* ``pom_country_factors.csv``: the country factors that make every annex country's 2022 e-waste
  generated (the engine's ``generated_t``) equal the Global E-waste Monitor 2024 annex, with
  the cross-section residuals and their leave-one-out values;
* ``pom_cv_residuals.csv``: the cross-validated log residuals of put on market by income group
  (the spread of the put-on-market model);
* ``collection_rates.csv``: every country's 2022 formal collection rate (published or prior)
  and the share of the ``generated`` stage that meets it in the engine;
* ``default_transfer_coefficients.csv``: the residual share of non-formal e-waste by income
  group and the richer countries' export shares (controlled, uncontrolled), calibrated to the
  Monitor 2024's residual 14 Mt (2022) and the GTEFM's 1.8 + 3.3 Mt (2019).

The engine couples the countries (imports of used equipment, exports), so the factors and
shares are refined by a fixed point on full default runs until every annex figure is met to
:data:`TOLERANCE` or :data:`PASSES` passes are done (the last run met every figure within
0.02 %; the formal shares capped at 0.95 and the residual split move a few countries a little
on every pass). See :mod:`ewaste_tracker.defaults.calibration` and
:mod:`ewaste_tracker.defaults.collection`.

Run::

    python scripts/calibrate_defaults.py
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ewaste_tracker import catalog  # noqa: E402
from ewaste_tracker.defaults import collection as coll  # noqa: E402
from ewaste_tracker.defaults import pom as defaults  # noqa: E402
from ewaste_tracker.defaults.calibration import (  # noqa: E402
    GEM24,
    cv_residuals,
    cv_summary,
    fit_pom_model,
    pom_model_to_frame,
    refine_country_factors,
)
from ewaste_tracker.defaults.fates import TC_FILE  # noqa: E402

logger = logging.getLogger("calibrate_defaults")
TOLERANCE = 1e-6
PASSES = 12
GTEFM = "Baldé C.P. et al. (2022) Global Transboundary E-waste Flows Monitor 2022, UNITAR"
CONTROLLED_2019, UNCONTROLLED_2019 = 1.8e6, 3.3e6


def _engine(until: int = 2030):
    """One full default run (no store): the engine's result."""
    from ewaste_tracker.defaults.inputs import default_inputs
    from ewaste_tracker.model.run import run_model

    return run_model(default_inputs(until=until))


def _rates_frame(regions, info, annex, rate, basis, share, collected, prior_src) -> pd.DataFrame:
    src = np.where(
        basis == "published",
        f"{GEM24} annex: documented formal collection / e-waste generated (2022); reference: "
        + annex["collection_reference"].reindex(regions).fillna("").to_numpy(object),
        np.where(basis == "prior", prior_src, "no permanent population: no e-waste"),
    )
    return pd.DataFrame(
        {
            "iso3": regions,
            "income_group": info["income_group"].reindex(regions).fillna("").to_numpy(),
            "rate_2022": rate,
            "formal_share_2022": share,
            "collected_t_2022": collected,
            "basis": basis,
            "source": src,
        }
    )


def main(argv: list[str] | None = None) -> int:
    """Fit, refine on the engine, write the files and log the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=PASSES, help="fixed-point passes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    data = catalog.data_path("countries").parent
    model, report, factors = fit_pom_model()
    for row in report.itertuples(index=False):
        logger.info("%-18s %-6s %d  target %8.4f  model %8.4f %-3s (%+.1f %%)", row.name,
                    row.scope, row.year, row.value, row.model, row.unit,
                    100 * (row.model / row.value - 1))  # fmt: skip
    pom_model_to_frame(model, report).to_csv(data / defaults.MODEL_FILE, index=False)
    regions = list(factors["iso3"])
    info = catalog.countries().set_index("iso3").reindex(regions)
    annex = catalog.gem2024_annex().set_index("iso3")
    flags = annex.reindex(regions)[list(coll.FEATURES)].fillna("No")
    design_info = pd.concat([info[["income_group", "un_region"]].fillna(""), flags], axis=1)
    design_info.insert(0, "iso3", regions)
    wg_pub = factors.set_index("iso3")["annex_t_2022"].reindex(regions).to_numpy(float)
    c_pub = annex["collected_formal_kt"].reindex(regions).to_numpy(float) * 1e3
    published = np.isfinite(c_pub) & np.isfinite(wg_pub)
    coef, lam, loo = coll.fit_collection_prior(
        design_info[published], c_pub[published] / wg_pub[published], wg_pub[published]
    )
    for g, part in loo.groupby("income_group"):
        logger.info("collection prior LOO %-20s n=%2d median |error| %5.1f %%", g, len(part),
                    100 * part["error"].abs().median())  # fmt: skip
    logger.info("collection prior LOO all: median |error| %.1f %%, lambda %g",
                100 * loo["error"].abs().median(), lam)  # fmt: skip
    from scipy.special import expit

    prior_rate = expit(coll.collection_design(design_info) @ coef)
    inhabited = ~np.isin(regions, catalog.UNINHABITED)
    rate = np.where(published, c_pub / np.where(published, wg_pub, 1.0), prior_rate)
    rate = np.where(inhabited, rate, 0.0)
    basis = np.where(published, "published", np.where(inhabited, "prior", "none"))
    prior_src = (
        "prior (ewaste_tracker.defaults.collection): ridge logit regression on the 84 published "
        f"rates of the {GEM24} annex (income group, UN region, legislation/EPR/target flags); "
        f"leave-one-out median error {100 * loo['error'].abs().median():.0f} % in tonnes"
    )
    share = rate.copy()
    groups = ("High income", "Upper middle income", "Lower middle income", "Low income")
    s_c, s_u, q_rich = 0.19, 0.19, 0.3

    def write(share, collected, q_rich, s_c, s_u) -> None:
        _rates_frame(regions, info, annex, rate, basis, share, collected,
                     prior_src).to_csv(data / coll.RATES_FILE, index=False)  # fmt: skip
        rows = []
        for g in groups:
            rich = g in coll.RICH
            q = q_rich if rich else coll.RESIDUAL_RATE_POOR
            note = (
                f"calibrated by scripts/calibrate_defaults.py: residual waste 14 of 61.8 Mt "
                f"in 2022 ({GEM24})"
                if rich
                else "prior RESIDUAL_RATE_POOR (estimate)"
            )
            rows.append((g, "", "", "", "generated", "residual", q,
                         f"share of the non-formal remainder; {note}"))  # fmt: skip
            if rich:
                rows.append((g, "", "", "", "collection_formal", "export", s_c,
                             f"calibrated by scripts/calibrate_defaults.py: controlled movements "
                             f"1.8 Mt in 2019 ({GTEFM})"))  # fmt: skip
                rows.append((g, "", "", "", "collection_informal", "export", s_u,
                             f"calibrated by scripts/calibrate_defaults.py: uncontrolled "
                             f"movements 3.3 Mt in 2019 ({GTEFM})"))  # fmt: skip
        pd.DataFrame(rows, columns=list(catalog.TC_COLUMNS)).to_csv(data / TC_FILE, index=False)
        factors.to_csv(data / defaults.FACTORS_FILE, index=False)

    write(share, rate * np.nan_to_num(wg_pub), q_rich, s_c, s_u)
    income = info["income_group"].fillna("").to_numpy(str)
    rich = np.isin(income, coll.RICH)
    for k in range(args.passes):
        result = _engine()
        dims = result.dims
        assert list(dims.regions) == regions
        n22, n19 = dims.year_index([2022])[0], dims.year_index([2019])[0]
        ind = result.indicators
        gen = ind[(ind["indicator"] == "generated_t") & ind["element"].isna()
                  & (ind["year"] == 2022)].set_index("region")["value"]  # fmt: skip
        net = gen.reindex(regions).fillna(0.0).to_numpy(float)
        factors, worst_wg = refine_country_factors(factors, dims.regions, net)
        gross = result.system.generated[:, :, n22].sum(axis=1)
        coll_now = result.system.flows[("generated", "collection_formal")][:, :, n22].sum(axis=1)
        target_c = np.where(published, c_pub, rate * net)
        gap = np.abs(coll_now - target_c)[published] / np.maximum(target_c[published], 1.0)
        worst_c = float(gap.max())
        share = np.where(gross > 0, np.minimum(target_c / np.where(gross > 0, gross, 1.0), 0.95),
                         0.0)  # fmt: skip
        q_rich = coll.collection_split(income, share, gross)
        flows = result.system.flows
        exp_f = flows[("collection_formal", "export")][rich, :, n19].sum()
        exp_i = flows[("collection_informal", "export")][rich, :, n19].sum()
        # poorer countries' own (catalogue) exports count in the world totals too
        poor_f = flows[("collection_formal", "export")][~rich, :, n19].sum()
        poor_i = flows[("collection_informal", "export")][~rich, :, n19].sum()
        s_c *= (CONTROLLED_2019 - poor_f) / exp_f
        s_u *= (UNCONTROLLED_2019 - poor_i) / exp_i
        exp_f, exp_i = exp_f + poor_f, exp_i + poor_i
        logger.info("pass %d: worst WG gap %.2e, worst collection gap %.2e, exports 2019 "
                    "%.2f + %.2f Mt, q %.3f, s_c %.3f, s_u %.3f", k, worst_wg, worst_c,
                    exp_f / 1e6, exp_i / 1e6, q_rich, s_c, s_u)  # fmt: skip
        write(share, target_c, q_rich, s_c, s_u)
        world = ind[(ind["region"] == "WLD") & (ind["indicator"] == "generated_t")
                    & ind["element"].isna()].set_index("year")["value"]  # fmt: skip
        world_c = float(target_c.sum())
        hist = coll.history_rates({int(y): float(world[y]) for y in world.index}, world_c)
        pd.DataFrame(hist, columns=["year", "rate", "source"]).to_csv(
            data / coll.HISTORY_FILE, index=False
        )
        if max(worst_wg, worst_c) < TOLERANCE and abs(exp_f / CONTROLLED_2019 - 1) < 1e-4:
            break
    annexed = (factors["basis"] == "annex").to_numpy()
    cv = np.full(len(factors), np.nan)
    cv[annexed] = cv_residuals(
        factors.loc[annexed, "residual_ln"].to_numpy(float),
        np.log(defaults.default_run(years=range(2022, 2023)).gdp_per_capita[annexed, 0]),
        info["un_region"].fillna("").to_numpy(str)[annexed],
    )
    factors["cv_residual_ln"] = cv
    factors.to_csv(data / defaults.FACTORS_FILE, index=False)
    cvr = factors.loc[annexed, ["iso3", "income_group", "residual_ln", "cv_residual_ln"]]
    cvr = cvr.assign(
        source="leave-one-out (PRESS) log residual of put on market, annex cross-section "
        "(ewaste_tracker.defaults.calibration.cv_residuals)"
    )
    cvr.to_csv(data / "pom_cv_residuals.csv", index=False)
    for row in cv_summary(factors).itertuples(index=False):
        logger.info(
            "POM CV residuals %-20s n=%3d mean %+.3f sd %.3f median |%%| %.1f",
            *(row.income_group, row.n, row.mean_ln, row.sd_ln, row.median_abs_pct),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
