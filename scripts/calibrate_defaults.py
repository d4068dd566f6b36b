"""Refit the default put-on-market model and the default collection split.

Rewrites ``data/pom_model.csv`` (parameters, targets and the model's values of them) and
``data/default_transfer_coefficients.csv`` (the calibrated ``generated`` split by income group
with the Europe and Africa overrides, and the rich countries' informal export share), then logs
the calibration figures and the country checks. See :mod:`ewaste_tracker.defaults.calibration` for
the method.

Run::

    python scripts/calibrate_defaults.py
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ewaste_tracker import catalog  # noqa: E402
from ewaste_tracker.defaults import pom as defaults  # noqa: E402
from ewaste_tracker.defaults.calibration import (  # noqa: E402
    calibrate_collection_split,
    fit_pom_model,
    pom_model_to_frame,
)
from ewaste_tracker.defaults.fates import TC_FILE  # noqa: E402

logger = logging.getLogger("calibrate_defaults")

COUNTRY_CHECKS = {
    # iso3: (WG 2019 in Mt, kg/inh) as recalled from the GEM 2020 country tables (not transcribed)
    "CHN": (10.1, 7.2),
    "USA": (6.9, 21.0),
    "IND": (3.2, 2.4),
    "JPN": (2.6, 20.4),
    "DEU": (1.6, 19.4),
    "GBR": (1.6, 23.9),
    "BRA": (2.1, 10.2),
    "NOR": (0.14, 26.0),
    "AUS": (0.55, 21.7),
    "NGA": (0.46, 2.3),
    "KEN": (0.05, 1.0),
}


def main(argv: list[str] | None = None) -> int:
    """Fit, write both files and log the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: data/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    model, report = fit_pom_model()
    for row in report.itertuples(index=False):
        logger.info(
            "%-14s %-8s %d  target %7.2f  model %7.2f %-6s (%+.1f %%)",
            row.name,
            row.scope,
            row.year,
            row.value,
            row.model,
            row.unit,
            100 * (row.model / row.value - 1),
        )
    model_path = (
        args.data / defaults.MODEL_FILE if args.data else catalog.data_path(defaults.MODEL_FILE)
    )
    pom_model_to_frame(model, report).to_csv(model_path, index=False)
    logger.info("wrote %s", model_path)
    run = defaults.default_run(model=model)
    table, figures = calibrate_collection_split(run)
    for key, value in figures.items():
        logger.info("collection split 2022: %-34s %.3f", key, value)
    tc_path = args.data / TC_FILE if args.data else catalog.data_path(TC_FILE)
    table.to_csv(tc_path, index=False)
    logger.info("wrote %s", tc_path)
    n = int(list(run.dims.years).index(2019))
    for iso, (mt, kg) in COUNTRY_CHECKS.items():
        r = run.dims.regions.index(iso)
        wg = run.wg[r, :, n].sum() / 1e6
        logger.info(
            "%s 2019: model %.2f Mt (%.1f kg/inh); GEM 2020 recalled %.2f Mt (%.1f kg/inh)",
            iso,
            wg,
            wg * 1e9 / run.population[r, n],
            mt,
            kg,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
