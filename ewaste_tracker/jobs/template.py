"""The ``template`` subcommand: submission templates pre-filled with the country's estimate."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.files import AtomicDir

__all__ = ["TEMPLATE_YEARS", "templates_from_estimate", "write_country_templates"]

logger = logging.getLogger(__name__)

TEMPLATE_YEARS = range(2015, 2026)
"""Years a template asks for."""


def write_country_templates(
    country: str, out: str | Path, *, by: str = "unu_key", store: str | Path | None = None
) -> list[Path]:
    """Write a country's submission templates, pre-filled with its current estimate.

    Writes ``<ISO3>_submission_<by>.csv`` (long) and ``.xlsx`` (a sheet per indicator), and
    beside them ``<ISO3>_environment.csv`` / ``.xlsx`` (ICT operators' energy use and scope
    1-2 emissions, :mod:`ewaste_tracker.submissions.environment`) into
    ``out`` (replaced whole, see :class:`ewaste_tracker.files.AtomicDir`), for the years
    2015-2025, with the estimate (:func:`ewaste_tracker.estimate`, the store's accepted
    submissions in place) beside the empty cells a ministry fills.

    Parameters
    ----------
    country
        ISO3 code of the catalogue.
    out
        Output folder.
    by
        ``unu_key`` (54 products) or ``eu6`` (7 categories).
    store
        Tracker store whose submissions the estimate includes.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.estimate import estimate
    from ewaste_tracker.files import check_output_folder

    check_output_folder(out)
    code = str(country).strip().upper()
    if code not in set(catalog.countries()["iso3"]):
        raise InputError(
            "unknown country",
            column="--country",
            value=country,
            expected="an ISO3 code of the catalogue, e.g. KEN",
        )
    est = estimate(store=store)
    with AtomicDir(out, what="template") as stage:
        written = templates_from_estimate(est, code, stage, by=by)
    return [Path(out) / p.name for p in written]


def templates_from_estimate(
    est: object, country: str, folder: str | Path, *, by: str = "unu_key"
) -> list[Path]:
    """Write ``country``'s submission and environment templates pre-filled from ``est``.

    The files of :func:`write_country_templates`, written into an existing ``folder``
    (the caller stages and publishes it); ``est`` is an estimate already made (the app's).
    """
    from ewaste_tracker.reported.targets import submission_indicators
    from ewaste_tracker.submissions.environment import write_environment_template
    from ewaste_tracker.submissions.templates import write_templates

    values = submission_indicators(est.result, country)  # type: ignore[attr-defined]
    values = values[values["year"].isin(TEMPLATE_YEARS)]
    env_defaults = _environment_defaults(est, country)
    written = write_templates(country, folder, values, by=by)  # type: ignore[arg-type]
    written += write_environment_template(country, folder, env_defaults, years=TEMPLATE_YEARS)
    return list(written)


def _environment_defaults(est: object, code: str) -> pd.DataFrame:
    """The estimate's operators' figures of one country: ``year, segment, indicator,
    default`` (segments in the default's world proportions)."""
    from ewaste_tracker.reported.environment import OPERATOR_INDICATORS, WORLD_OPERATORS_TWH

    fp = est.footprint  # type: ignore[attr-defined]
    names = {v: k for k, v in OPERATOR_INDICATORS.items()}
    sel = (fp["region"] == code) & (fp["group"] == "ict") & fp["indicator"].isin(list(names))
    rows = fp.loc[sel, ["year", "indicator", "value"]].astype({"indicator": str})
    total = sum(WORLD_OPERATORS_TWH.values())
    parts = [
        rows.assign(segment=seg, indicator=rows["indicator"].map(names),
                    default=rows["value"] * share / total)
        for seg, share in WORLD_OPERATORS_TWH.items()
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)[["year", "segment", "indicator", "default"]]
