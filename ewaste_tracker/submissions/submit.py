"""National submissions: read, validate and accept a ministry's data.

A submission is a table in long format, one reported number per row::

    country,year,product,indicator,value,unit
    KEN,2021,0306,pom,412.5,t

``product`` is a UNU-KEY (``"0306"``) or an EU-6 category (``"1"``, ``"2"``, ``"3"``, ``"4a"``,
``"4b"``, ``"5"``, ``"6"``), one level per file; ``indicator`` is one of :data:`INDICATORS`;
``unit`` is ``t``, ``kg`` or ``pieces`` (pieces are converted with the UNU-KEY's average unit
weight, so they need a UNU-KEY product). The same content may come as an Excel workbook, either
as a long sheet with those columns or in the wide layout written by
:func:`ewaste_tracker.submissions.templates.write_templates` (one sheet per indicator, years as
columns, the country on an ``about`` sheet).

Validation reports every problem at once: :func:`read_submission` raises one
:class:`~ewaste_tracker.errors.InputErrors` whose items each name the file (``file:sheet`` for
Excel), the row a person sees (header = row 1), the column, the value and what was expected.
Plausibility findings (a series jumping more than ``jump_factor`` times from one year to the next)
are :class:`SubmissionWarning` items returned beside the accepted data.

Published data (in the embedded store every valid submission is published at once; in a
shared store after review, :mod:`ewaste_tracker.submissions.workflow`) overrides the model's
defaults for that country
(:func:`ewaste_tracker.reported.overlay.overlay_reported`) and is marked ``status = "reported"``.
"""

from __future__ import annotations

import getpass
import logging
import unicodedata
from pathlib import Path

import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.submissions import templates
from ewaste_tracker.submissions.plausibility import implausible_values, impossible_values
from ewaste_tracker.submissions.rules import (
    ACCEPTED_COLUMNS,
    EU6_CATEGORIES,
    FIELDS,
    INDICATORS,
    UNIT_ALIASES,
    Codes,
    SubmissionWarning,
    default_years,
    jump_warnings,
    validate_records,
)
from ewaste_tracker.submissions.store import Store, SubmissionRecord, history

__all__ = [
    "ACCEPTED_COLUMNS",
    "EU6_CATEGORIES",
    "FIELDS",
    "INDICATORS",
    "UNIT_ALIASES",
    "Codes",
    "SubmissionRecord",
    "SubmissionWarning",
    "default_years",
    "history",
    "jump_warnings",
    "read_submission",
    "submit",
    "validate_records",
]

logger = logging.getLogger(__name__)


def read_submission(
    path: str | Path,
    *,
    codes: Codes | None = None,
    years: tuple[int, int] | None = None,
    jump_factor: float = 5.0,
    confirm_outliers: bool = False,
    population: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[SubmissionWarning]]:
    """Read and validate a national submission (CSV or Excel).

    Parameters
    ----------
    path
        ``.csv`` (long format) or ``.xlsx`` (long sheet or the wide template layout).
    codes
        Accepted countries and products; default :meth:`Codes.from_catalog`.
    years
        Inclusive accepted year range; default :func:`default_years`.
    jump_factor
        A series changing by more than this factor between consecutive years is a warning.
    confirm_outliers
        Accept values beyond the plausibility bounds
        (:func:`~ewaste_tracker.submissions.plausibility.implausible_values`) as warnings
        instead of refusing the file.
    population
        ``region, year, population`` for the per-inhabitant bounds; default the catalogue's
        when ``codes`` is the catalogue's.

    Returns
    -------
    accepted : pandas.DataFrame
        Columns :data:`ACCEPTED_COLUMNS`; ``value_t`` in tonnes, ``status = "reported"``.
    warnings : list of SubmissionWarning

    Raises
    ------
    InputErrors
        Listing every problem found, each with file/sheet, row, column, value and expectation.
    """
    path = Path(path)
    if population is None and codes is None:
        from ewaste_tracker import catalog

        population = catalog.population_gdp()[["region", "year", "population"]]
    codes = Codes.from_catalog() if codes is None else codes
    years = default_years() if years is None else years
    raw, errors, warnings = templates.records_from_file(path)
    if not errors:
        accepted, more_errors, more_warnings = validate_records(
            raw,
            codes=codes,
            years=years,
            jump_factor=jump_factor,
            source=path.name,
            file_label=str(path),
        )
        errors += more_errors
        warnings += more_warnings
    if not errors:
        errors += impossible_values(accepted, path=str(path))
        outliers = implausible_values(accepted, population=population, path=str(path))
        if confirm_outliers:
            warnings += [SubmissionWarning(f"confirmed outlier: {e.reason}", str(e.path), e.row,
                                           e.column, e.value) for e in outliers]  # fmt: skip
        else:
            errors += outliers
    if errors:
        raise InputErrors(errors)
    for w in warnings:
        logger.debug("%s", w)
    if warnings:
        logger.warning("%s: %d warning(s), first: %s", path, len(warnings), warnings[0])
    logger.info("%s: accepted %d values", path, len(accepted))
    return accepted, warnings


def check_submitter(submitter: str | None) -> None:
    """Refuse a submitter name with control characters (terminal escape codes) or none."""
    if submitter is not None and (
        not submitter.strip() or any(unicodedata.category(c)[0] == "C" for c in submitter)
    ):
        raise InputError(
            "control characters or an empty name", column="--submitter", value=submitter,
            expected="a name in plain text, e.g. 'Ministry of Environment'",
        )  # fmt: skip


def submit(
    path: str | Path,
    *,
    store: str | Path | Store | None = None,
    submitter: str | None = None,
    codes: Codes | None = None,
    years: tuple[int, int] | None = None,
    confirm_outliers: bool = False,
    draft: bool = False,
    review: bool = False,
    user: str | None = None,
    again: bool = False,
) -> SubmissionRecord:
    """Validate a submission file and keep it in the store as the country's next version.

    Nothing is stored when the file has any error (:class:`~ewaste_tracker.errors.InputErrors` is
    raised). Sending a file the country already has in the store (same content) stores nothing
    new and returns that submission, unless ``again``.

    In the embedded GeoPackage the local user's submission is accepted and published at once
    (each step in the audit trail), so the next estimate uses it, unless ``review`` or
    ``draft``; on PostgreSQL a reviewer accepts and publishes it
    (:mod:`ewaste_tracker.submissions.workflow`).

    Parameters
    ----------
    path
        Submission file (CSV or Excel).
    store
        Store path or URL; default :func:`ewaste_tracker.settings.store_target`.
    submitter
        Who submits when the store's admin submits on a ministry's behalf; default the
        operating-system user. A registered user (``user``) always submits as themself.
    codes, years, confirm_outliers
        As in :func:`read_submission`.
    draft
        Keep it as a draft, not yet sent for review.
    review
        Leave it submitted for review (GeoPackage; on PostgreSQL review is always required).
    user
        Act as this registered user of the store (its role and country rules apply).
    again
        Store the file as a new version even if the country has it already (to go back to an
        earlier file).
    """
    path = Path(path)
    check_submitter(submitter)
    accepted, warnings = read_submission(
        path, codes=codes, years=years, confirm_outliers=confirm_outliers
    )
    if submitter is None:
        try:
            submitter = getpass.getuser()
        except (KeyError, OSError):
            submitter = "unknown"
    st = Store(store, user=user) if user is not None or not isinstance(store, Store) else store
    return st.add_submission(
        accepted,
        content=path.read_bytes(),
        file_name=path.name,
        submitter=submitter,
        warnings=[str(w) for w in warnings],
        draft=draft,
        review=review,
        again=again,
    )
