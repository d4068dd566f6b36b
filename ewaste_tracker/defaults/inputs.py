"""The inputs of the all-country default estimate: the catalogue plus the default models.

:func:`default_inputs` gathers, for every country of the catalogue, the default put on market
(:mod:`ewaste_tracker.defaults.pom`), the default fates and export destinations
(:mod:`ewaste_tracker.defaults.fates`), and the catalogue's lifetimes, composition, recovery,
prices and population, with the UN regions as aggregation groups beside the world ``WLD``.
Reported data are not applied here: :func:`ewaste_tracker.estimate` puts the accepted
submissions in place (:mod:`ewaste_tracker.reported`), the same way for every entry point.
"""

from __future__ import annotations

from ewaste_tracker import catalog
from ewaste_tracker.defaults import fates, pom
from ewaste_tracker.errors import InputError
from ewaste_tracker.model.folder import catalogue_tables
from ewaste_tracker.model.run import EU_COLLECTION_TARGET, ModelInputs

__all__ = ["FIRST_YEAR", "LAST_YEAR", "default_inputs"]


def _resident_population():
    """Population by region and year, without the territories that have no permanent
    population (:data:`ewaste_tracker.catalog.UNINHABITED`): they get no per-capita figures."""
    pop = catalog.population_gdp()[["region", "year", "population"]]
    return pop[~pop["region"].isin(catalog.UNINHABITED)].reset_index(drop=True)


FIRST_YEAR = 1970
"""First year of the default estimate (no equipment on the market before; the Monitor's
series start in 1980-1990, so a decade of run-in precedes the first reported year)."""
LAST_YEAR = 2030
"""Last year of the driver table (population and GDP projections)."""


def default_inputs(
    *,
    until: int = LAST_YEAR,
    first: int = FIRST_YEAR,
    collection_target: float = EU_COLLECTION_TARGET,
) -> ModelInputs:
    """Inputs of the default estimate for every catalogue country.

    Parameters
    ----------
    until
        Last model year, from ``first`` to :data:`LAST_YEAR`.
    first
        First model year (at least :data:`FIRST_YEAR`).
    collection_target
        Target collection rate for the gap indicators (EU WEEE Directive: 0.65).

    Returns
    -------
    ModelInputs
        ``pom`` with ``status`` estimated and the default model's ``source``.

    Raises
    ------
    InputError
        A year range outside the driver table (naming ``--until``).
    """
    last = int(until)
    if not FIRST_YEAR <= int(first) <= last <= LAST_YEAR:
        raise InputError(
            f"the default estimate covers {FIRST_YEAR}-{LAST_YEAR}",
            column="--until",
            value=until,
            expected=f"a year from {max(first, FIRST_YEAR)} to {LAST_YEAR}",
        )
    years = range(int(first), last + 1)
    pom_table = pom.default_pom(years)
    regions = sorted(pom_table["region"].unique())
    countries = catalog.countries()
    un = countries.set_index("iso3")["un_region"].dropna()
    groups = {r: str(un[r]) for r in regions if r in un.index and str(un[r])}
    tables = catalogue_tables()
    return ModelInputs(
        pom=pom_table,
        transfer_coefficients=fates.default_transfer_coefficients(regions, years=years),
        exports=fates.default_exports(regions),
        lifetimes=tables["lifetimes"],
        composition=tables["composition"],
        recovery=tables["recovery"],
        prices=tables["prices"],
        population=_resident_population(),
        groups=groups,
        years=(int(first), last),
        collection_target=collection_target,
        paths={
            "pom": "default model (ewaste_tracker.defaults.pom, data/pom_model.csv)",
            "transfer_coefficients": "default fates (ewaste_tracker.defaults.fates, "
            "data/default_transfer_coefficients.csv, data/transfer_coefficients.csv)",
        },
    )
