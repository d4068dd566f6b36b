"""Read and validate the folder of a ``run --inputs`` job.

The files and their columns are listed in README.md (section *run --inputs DIR*); each is
validated against its schema in :mod:`ewaste_tracker.model.inputs`, then across files (codes used in
one file must exist in ``pom.csv``; products need a lifetime; regions need transfer coefficients).
Missing optional files take the catalogue's defaults. Export destinations may come as
``exports.csv`` or as ``comtrade.csv``, bilateral trade as downloaded from UN Comtrade (HS 8549
e-waste rows; :func:`ewaste_tracker.model.comtrade.exports_from_comtrade`). Every problem found
is reported at once, with file, row and column.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.model.comtrade import exports_from_comtrade
from ewaste_tracker.model.run import ModelInputs
from ewaste_tracker.tables import read_table, row_errors, unknown_codes

logger = logging.getLogger(__name__)

#: Input files of a ``run --inputs`` folder: name → (schema attribute, required).
INPUT_FILES = {
    "pom": ("POM_SCHEMA", True),
    "lifetimes": ("LIFETIME_SCHEMA", False),
    "second_life": ("LIFETIME_SCHEMA", False),
    "transfer_coefficients": ("TC_SCHEMA", False),
    "exports": ("EXPORTS_SCHEMA", False),
    "composition": ("COMPOSITION_SCHEMA", False),
    "recovery": ("RECOVERY_SCHEMA", False),
    "prices": ("PRICES_SCHEMA", False),
    "population": ("POPULATION_SCHEMA", False),
    "groups": ("GROUPS_SCHEMA", False),
}
COMTRADE_FILE = "comtrade.csv"
"""A UN Comtrade export table (:mod:`ewaste_tracker.model.comtrade`) in place of ``exports.csv``."""


def read_inputs_folder(
    folder: str | Path,
    *,
    until: int | None = None,
    default_transfer_coefficients: Callable[..., pd.DataFrame] | None = None,
) -> ModelInputs:
    """Read and validate a ``run --inputs`` folder (see README for the files).

    Missing optional files take the catalogue's defaults (ISO3 regions and UNU-KEY products
    only). Every file is checked before any model work; all problems are reported at once.

    Parameters
    ----------
    folder
        The folder of CSV tables.
    until
        Last model year (default: the last put-on-market year).
    default_transfer_coefficients
        ``f(regions, *, years) -> table`` giving ISO3 regions their transfer coefficients
        when the folder has no ``transfer_coefficients.csv`` (the estimate passes
        :func:`ewaste_tracker.defaults.fates.default_transfer_coefficients`); without it that
        file is required.

    Raises
    ------
    InputErrors
        Naming file, row and column.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.model import inputs as schemas

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", path=folder, expected="a folder of CSV tables")
    tables: dict[str, pd.DataFrame] = {}
    paths: dict[str, str] = {}
    errors: list[InputError] = []
    for name, (schema_name, required) in INPUT_FILES.items():
        path = folder / f"{name}.csv"
        if not path.exists():
            if required:
                errors.append(
                    InputError(
                        "required file is missing", path=path, expected="region,product,year,pom_t"
                    )
                )
            continue
        try:
            tables[name] = read_table(path, getattr(schemas, schema_name))
            paths[name] = str(path)
        except InputErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise InputErrors(errors)

    pom = tables["pom"]
    regions = set(pom["region"].unique())  # (not a Python set built row by row)
    comtrade = folder / COMTRADE_FILE
    if comtrade.exists():
        if "exports" in tables:
            errors.append(InputError("give exports.csv or comtrade.csv, not both", path=comtrade,
                                     expected="one table of export destinations"))  # fmt: skip
        else:
            try:
                tables["exports"] = exports_from_comtrade(comtrade, regions=sorted(regions))
                paths["exports"] = str(comtrade)
            except InputErrors as exc:
                errors.extend(exc.errors)
            except InputError as exc:
                errors.append(exc)
    iso3 = set(catalog.countries()["iso3"])
    unu = set(catalog.products()["unu_key"])
    custom_regions = "transfer_coefficients" in tables
    if not custom_regions:
        errors += unknown_codes(
            pom,
            "region",
            iso3,
            path=folder / "pom.csv",
            what="region code",
            hint=" (not an ISO3 code of the catalogue; give "
            "transfer_coefficients.csv to model other regions)",
        )
    if custom_regions:
        tc_regions = tables["transfer_coefficients"]["region"]
        if not tc_regions.isna().any():  # no wildcard rows: every region needs its own
            errors += unknown_codes(
                pom,
                "region",
                set(tc_regions),
                path=folder / "pom.csv",
                what="region",
                hint=" (no transfer coefficients for it in transfer_coefficients.csv)",
            )
    lifetimes = tables.get("lifetimes")
    if lifetimes is None:
        errors += unknown_codes(
            pom,
            "product",
            unu,
            path=folder / "pom.csv",
            what="product code",
            hint=" (not a UNU-KEY; give lifetimes.csv for other products)",
        )
        lifetimes = catalogue_tables()["lifetimes"]
    else:
        missing = ~pom["product"].isin(set(lifetimes["product"]))
        errors += row_errors(pom, missing, "product", "no lifetime for this product",
                             path=folder / "pom.csv",
                             expected="a product listed in lifetimes.csv")  # fmt: skip
    for name, cols in (
        ("lifetimes", ["region"]),
        ("second_life", ["region"]),
        ("transfer_coefficients", ["region"]),
        ("exports", ["origin"]),
        ("population", ["region"]),
        ("groups", ["region"]),
    ):
        if name in tables:
            for col in cols:
                errors += unknown_codes(
                    tables[name],
                    col,
                    regions,
                    path=Path(paths[name]),
                    what="region",
                    hint=" (not in pom.csv)",
                )
    if "exports" in tables:
        errors += unknown_codes(
            tables["exports"],
            "destination",
            regions | {"ROW"},
            path=Path(paths["exports"]),
            what="destination",
            hint=" (not in pom.csv, nor ROW)",
        )
    if "groups" in tables:
        clash = tables["groups"]["group"].isin(regions | {"WLD"})
        errors += row_errors(tables["groups"], clash, "group",
                             "group code clashes with a region code or WLD",
                             path=paths["groups"])  # fmt: skip
    if errors:
        raise InputErrors(errors)

    first = int(pom["year"].min())
    last = int(pom["year"].max()) if until is None else int(until)
    if last < first:
        raise InputError(
            f"--until {last} is before the first put-on-market year {first}",
            column="--until",
            value=last,
        )
    tcs = tables.get("transfer_coefficients")
    if tcs is None:
        if default_transfer_coefficients is None:
            raise InputError(
                "required file is missing", path=folder / "transfer_coefficients.csv",
                expected="region,product,year,from_stage,to_stage,share",
            )  # fmt: skip
        tcs = default_transfer_coefficients(sorted(regions), years=range(first, last + 1))
        paths["transfer_coefficients"] = "calibrated defaults (ewaste_tracker.defaults.fates)"
    composition = tables.get("composition")
    if composition is None:
        composition = catalogue_tables()["composition"]
    recovery_t = tables.get("recovery")
    if recovery_t is None:
        recovery_t = catalogue_tables()["recovery"]
    prices = tables.get("prices")
    if prices is None:
        prices = catalogue_tables()["prices"]
    population = tables.get("population")
    if population is None and not custom_regions:
        population = catalog.population_gdp()[["region", "year", "population"]]
    groups = None
    if "groups" in tables:
        groups = dict(zip(tables["groups"]["region"], tables["groups"]["group"], strict=True))
    return ModelInputs(
        pom=pom,
        lifetimes=lifetimes,
        second_life=tables.get("second_life"),
        transfer_coefficients=tcs,
        exports=tables.get("exports"),
        composition=composition,
        recovery=recovery_t,
        prices=prices,
        population=population,
        groups=groups,
        years=(first, last),
        paths=paths,
    )


TRACE_G_PER_T = 1e4
"""Elements below 1 % of a product's mass in the central composition are its trace elements:
the ones a ``low`` or ``high`` scenario varies (named assumption ``composition_trace_levels``)."""


def catalogue_tables(*, level: str = "central") -> dict[str, pd.DataFrame]:
    """The catalogue's lifetimes, composition, recovery and prices in the model's columns.

    Parameters
    ----------
    level
        ``low``, ``central`` or ``high`` composition and recovery values (a scenario).

    Returns
    -------
    dict
        ``lifetimes``, ``composition``, ``recovery``, ``prices`` tables for
        :class:`ewaste_tracker.model.run.ModelInputs`.

    Notes
    -----
    Named assumption ``composition_trace_levels``: a ``low`` or ``high`` composition takes
    that level for the trace elements of each product (central content below
    :data:`TRACE_G_PER_T`, 1 % of its mass: the precious, critical and minor metals) and keeps
    the bulk materials (iron, aluminium, copper, plastics, and cobalt, lead or tin where they
    are 1 % or more) at their central values. The ranges of the bulk materials are not
    independent: they share the product's mass, and the ``high`` content of every element
    at once would make 42 of the 54 UNU-KEY products weigh more than themselves.
    """
    from ewaste_tracker import catalog

    composition = catalog.composition(level)  # validates the level
    if level != "central":
        both = catalog.composition("all")
        trace = both["central_g_per_t"] < TRACE_G_PER_T
        g_per_t = both[f"{level}_g_per_t"].where(trace, both["central_g_per_t"])
        composition = composition.assign(g_per_t=g_per_t.to_numpy())
    return {
        "lifetimes": catalog.lifetimes()[["product", "distribution", "shape", "scale"]],
        "composition": composition[["product", "element", "g_per_t"]],
        "recovery": catalog.recovery().rename(columns={level: "efficiency"}),
        "prices": default_prices(),
    }


def default_prices(year: int | None = None) -> pd.DataFrame:
    """Catalogue prices (USD/kg of contained element) by year, or of one ``year``.

    With every year (the default), ``element, usd_per_kg, year``: the engine interpolates
    them linearly to each model year and holds them flat outside the years given, so a
    year's value is at that year's prices (nominal USD).
    """
    from ewaste_tracker import catalog

    prices = catalog.prices()
    if year is None:
        return prices[["element", "usd_per_kg", "year"]].astype({"year": int})
    return prices[prices["year"].astype(int) == year][["element", "usd_per_kg"]]
