"""The shipped reference catalogue: countries, products, lifetimes, composition and more.

Every table is a tidy CSV in the data folder (:func:`ewaste_tracker.settings.data_dir`, ``data/`` at
the repository root) with a ``source`` column; ``data/README.md`` lists each file's origin,
year, licence and derivation, and ``scripts/build_*.py`` rebuild them. Each loader reads its
file once per process (``functools.cache``) and returns a fresh copy, so callers may modify
what they get.

Tables
------
=================================  ===========================================================
:func:`countries`                  ISO3, names, UN region/sub-region, World Bank income group,
                                   population and GDP (Natural Earth 5.1.1, 2019)
:func:`country_names`              official short names (UN M49, as in the Global E-waste
                                   Monitor 2024) and the common names people search for
:func:`outlines`                   country outlines (GeoDataFrame, EPSG:4326)
:func:`population_gdp`             population and GDP per capita by country, 1970-2030
:func:`products`                   the 54 UNU-KEYs, EU-6 / EU-10 categories, unit weights
:func:`lifetimes`                  Weibull lifetime per UNU-KEY (EU WEEE Calculation Tool)
:func:`composition`                grams of element per tonne of product
:func:`recovery`                   recovery efficiency by route and element
:func:`prices`                     USD per kg of contained element, 2022-2023
:func:`crm`                        EU critical and strategic raw materials (2023)
:func:`mine_shares`                share of world mine production by country and element
:func:`default_transfer_coefficients`  lifecycle transfer coefficients by income group
:func:`footprint_factors`          life-cycle factors per UNU-KEY (embodied GHG, energy, water,
                                   abiotic depletion, use-phase electricity, refrigerants,
                                   mercury, plastics with brominated flame retardants)
:func:`refrigerant_gwp`            GWP100 of refrigerants and blowing agents (IPCC AR6)
:func:`element_footprint`          primary / secondary production GHG and ADP per element
:func:`grid_intensity`             carbon intensity of electricity per country (OWID / Ember)
:func:`gem2024_annex`              the Global E-waste Monitor 2024 country annex (2022 data)
:func:`published_figures`          other published figures (earlier Monitors, aggregates):
                                   the validation set
=================================  ===========================================================

Territories without a permanent population (:data:`UNINHABITED`) have no market: the default
model gives them no put on market, and they are left out of per-capita figures, rankings and
maps.

:func:`sources` lists every shipped file with its title, source, year and licence
(``data/sources.csv``, the machine-readable form of ``data/README.md``).

:func:`source_of` gives the citation of any value, e.g.
``source_of("composition", product="0306", element="Au")``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

__all__ = [
    "UNINHABITED",
    "CatalogError",
    "composition",
    "countries",
    "country_names",
    "crm",
    "data_path",
    "default_transfer_coefficients",
    "element_footprint",
    "footprint_factors",
    "gem2024_annex",
    "grid_intensity",
    "lifetimes",
    "mine_shares",
    "outlines",
    "population_gdp",
    "prices",
    "products",
    "published_figures",
    "recovery",
    "refrigerant_gwp",
    "source_of",
    "sources",
]

FILES: dict[str, str] = {
    "countries": "countries.csv",
    "country_names": "country_names.csv",
    "population_gdp": "population_gdp_timeseries.csv",
    "products": "products.csv",
    "lifetimes": "lifetimes.csv",
    "composition": "composition.csv",
    "recovery": "recovery.csv",
    "prices": "prices.csv",
    "crm": "crm_2023.csv",
    "mine_shares": "mine_shares.csv",
    "transfer_coefficients": "transfer_coefficients.csv",
    "footprint_factors": "footprint_factors.csv",
    "refrigerant_gwp": "refrigerant_gwp.csv",
    "element_footprint": "element_footprint.csv",
    "grid_intensity": "grid_intensity.csv",
    "gem2024_annex": "gem2024_country_annex.csv",
    "published_figures": "published_figures.csv",
}
"""Table name to file name in the data folder."""

# Code columns kept as text: UNU-KEYs have leading zeros; "NA" (Namibia) is not missing.
_TEXT = {"unu_key", "product", "iso3", "region", "eu6_category", "eu10_category", "elements",
         "factor", "substance", "aliases"}  # fmt: skip
LEVELS = ("low", "central", "high")
TC_COLUMNS = (
    "income_group", "un_region", "product", "year", "from_stage", "to_stage", "share", "source"
)  # fmt: skip
"""Columns of the income-group transfer-coefficient tables in ``data/``."""
DEFAULT_LIFETIME_PROFILE = "NL/FR/BE"
UNINHABITED: tuple[str, ...] = ("ATA", "ATF", "BVT", "HMD", "IOT", "SGS", "UMI")
"""Territories without a permanent population: Antarctica, the French Southern and Antarctic
Lands, Bouvet Island, Heard and McDonald Islands, the British Indian Ocean Territory, South
Georgia and the South Sandwich Islands, the U.S. Minor Outlying Islands (research stations and
military bases only; UN DESA World Population Prospects 2022 lists no population for them, and
the Global E-waste Monitor 2024 annex has no row for them)."""


class CatalogError(LookupError):
    """A catalogue file is missing or a requested value is not in the catalogue."""


def data_path(name: str) -> Path:
    """Path of a catalogue file by table name (see :data:`FILES`) or file name."""
    from ewaste_tracker.settings import data_dir

    return data_dir() / FILES.get(name, name)


@functools.cache
def _load(name: str) -> pd.DataFrame:
    path = data_path(name)
    if not path.is_file():
        raise CatalogError(
            f"catalogue file {path} is missing (table {name!r}); rebuild it with the "
            "scripts in scripts/build_*.py or set EWASTE_TRACKER_DATA to the data folder"
        )
    header = pd.read_csv(path, nrows=0).columns
    dtype = {c: str for c in header if c in _TEXT}
    df = pd.read_csv(
        path,
        dtype=dtype,
        keep_default_na=False,
        na_values={c: [""] for c in header if c not in _TEXT},
    )
    if "source" not in df.columns or (df["source"].astype(str).str.strip() == "").any():
        raise CatalogError(f"{path}: every row needs a non-empty 'source'")
    logger.debug("loaded %s (%d rows)", path, len(df))
    return df


def _table(name: str) -> pd.DataFrame:
    return _load(name).copy()


def countries() -> pd.DataFrame:
    """Countries and territories with ISO3 codes.

    Returns
    -------
    pandas.DataFrame
        ``iso3, name, un_region, un_subregion, income_group, population, pop_year,
        gdp_usd_million, gdp_year, source``; income groups are the four World Bank groups.
    """
    return _table("countries")


def country_names() -> pd.DataFrame:
    """Official short names of the countries and territories, with the names people search for.

    Returns
    -------
    pandas.DataFrame
        ``iso3, name, aliases, source``: ``name`` the UN M49 English short name as the
        Global E-waste Monitor 2024 writes it ("South Sudan", "Republic of Korea"),
        ``aliases`` other names separated by ``|`` (the Natural Earth map name such as
        "S. Sudan", common names such as "South Korea"; may be empty). One row per ISO3 of
        :func:`countries`.
    """
    return _table("country_names")


@functools.cache
def _outlines() -> gpd.GeoDataFrame:
    try:
        import geopandas as gpd
    except ImportError as exc:  # pragma: no cover - geopandas is a dependency
        raise ImportError("outlines() needs geopandas: pip install geopandas") from exc
    path = data_path("countries.gpkg")
    if not path.is_file():
        raise CatalogError(f"catalogue file {path} is missing; run scripts/build_countries.py")
    return gpd.read_file(path, layer="countries")


def outlines() -> gpd.GeoDataFrame:
    """Country outlines (Natural Earth 1:10m simplified), columns ``iso3, name, geometry``.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, one (multi)polygon per ISO3 of :func:`countries`.
    """
    return _outlines().copy()


def population_gdp() -> pd.DataFrame:
    """Population and GDP per capita by country and year, 1970-2030.

    Returns
    -------
    pandas.DataFrame
        ``region (ISO3), year, population, gdp_per_capita_usd, source, status``; GDP per
        capita in constant USD of the anchor year (2019 for most countries); ``status`` is
        ``published``, ``interpolated``, ``derived`` or ``estimate``.
    """
    return _table("population_gdp")


def products() -> pd.DataFrame:
    """The 54 UNU-KEYs.

    Returns
    -------
    pandas.DataFrame
        ``unu_key, description, eu6_category, eu6_name, eu10_category, unit_weight_kg,
        introduction_year, source``.
    """
    return _table("products")


def lifetimes(profile: str | None = DEFAULT_LIFETIME_PROFILE) -> pd.DataFrame:
    """Weibull lifetimes per UNU-KEY.

    The discard share at age :math:`k` of a cohort follows the WEEE Calculation Tool
    convention :math:`f(k + 0.5; \\alpha, \\beta)` with the Weibull density
    :math:`f(t) = \\frac{\\alpha}{\\beta}(t/\\beta)^{\\alpha-1}e^{-(t/\\beta)^\\alpha}`.

    Parameters
    ----------
    profile
        ``"NL/FR/BE"`` (default) or ``"IT"`` from the EU WEEE Calculation Tool manual
        (May 2023, Annex III); ``None`` returns both with the ``profile`` column.

    Returns
    -------
    pandas.DataFrame
        ``product, distribution, shape, scale, region, profile, source``.
    """
    df = _table("lifetimes")
    if profile is None:
        return df
    if profile not in set(df["profile"]):
        raise CatalogError(f"lifetime profile {profile!r} not in {sorted(set(df['profile']))}")
    return df[df["profile"] == profile].reset_index(drop=True)


def composition(level: str = "central") -> pd.DataFrame:
    """Content of each element per tonne of product.

    Parameters
    ----------
    level
        ``"low"``, ``"central"`` or ``"high"`` for one value column ``g_per_t``; ``"all"``
        for the three columns ``low_g_per_t, central_g_per_t, high_g_per_t``.

    Returns
    -------
    pandas.DataFrame
        ``product, element, g_per_t (or the three levels), source, status`` with status
        ``published`` or ``estimate``.
    """
    df = _table("composition")
    if level == "all":
        return df
    if level not in LEVELS:
        raise ValueError(f"composition level must be one of {(*LEVELS, 'all')}, got {level!r}")
    out = df[["product", "element", f"{level}_g_per_t", "source", "status"]]
    return out.rename(columns={f"{level}_g_per_t": "g_per_t"})


def recovery() -> pd.DataFrame:
    """Recovery efficiencies (fractions) by route and element.

    Routes: ``preprocessing`` (share reaching a recoverable fraction), ``endprocessing``
    (smelting/refining), ``informal``, ``residual`` and ``export`` (world view of shipped
    e-waste). Columns ``route, element, low, central, high, source, status``.
    """
    return _table("recovery")


def prices() -> pd.DataFrame:
    """Prices in USD per kg of contained element: ``element, usd_per_kg, year, basis, source,
    status`` (oxide and carbonate quotes converted with their molar-mass shares)."""
    return _table("prices")


def crm() -> pd.DataFrame:
    """EU critical raw materials 2023: ``raw_material, elements, critical, strategic, note,
    source`` (``elements`` lists the element symbols a raw material covers)."""
    return _table("crm")


def mine_shares() -> pd.DataFrame:
    """Share of world mine production by country: ``element, iso3, share, source`` (sums to 1
    per element)."""
    return _table("mine_shares")


def default_transfer_coefficients(regions: Sequence[str] | None = None) -> pd.DataFrame:
    """Default transfer coefficients by World Bank income group.

    Parameters
    ----------
    regions
        ISO3 codes. When given, the income-group table is expanded to one block per region
        (``region`` column, ``income_group`` kept) via :func:`countries`, giving the
        architecture's layout ``region, product, year, from_stage, to_stage, share``.

    Returns
    -------
    pandas.DataFrame
        ``income_group, un_region, product, year, from_stage, to_stage, share, source``
        (blank ``un_region``/``product``/``year`` = applies to all); shares out of each
        stage sum to 1 per income group.

    Raises
    ------
    CatalogError
        If a region is not in the catalogue or has no income group.
    """
    tc = _table("transfer_coefficients")
    for col in ("un_region", "product", "year"):
        tc[col] = tc[col].astype(object).where(tc[col].notna(), "").astype(str)
    if regions is None:
        return tc
    groups = countries().set_index("iso3")["income_group"]
    unknown = [r for r in regions if r not in groups.index or pd.isna(groups.get(r))]
    if unknown:
        raise CatalogError(f"region(s) {unknown} have no income group in {data_path('countries')}")
    sel = pd.DataFrame(
        {"region": list(regions), "income_group": groups.loc[list(regions)].to_numpy()}
    )
    out = sel.merge(tc, on="income_group", how="left")
    return out[
        ["region", "income_group", "product", "year", "from_stage", "to_stage", "share", "source"]
    ]


def footprint_factors() -> pd.DataFrame:
    """Life-cycle factors per UNU-KEY, one row per product and factor.

    Returns
    -------
    pandas.DataFrame
        ``product, factor, substance, unit, low, central, high, from_year, to_year,
        reference_year, system_boundary, source, status``. ``factor`` is one of
        ``embodied_kg_co2e_per_piece``, ``primary_energy_mj_per_piece``,
        ``water_m3_per_piece``, ``adp_kg_sb_eq_per_piece``, ``use_kwh_per_piece_year``,
        ``refrigerant_kg_per_piece`` (``substance``: the refrigerant or blowing agent),
        ``mercury_mg_per_piece`` and ``bfr_plastics_kg_per_piece``; ``from_year`` /
        ``to_year`` bound the years the equipment was put on the market (blank = all);
        ``status`` is ``published`` or ``estimate``. Built by
        ``scripts/build_footprint_factors.py``.
    """
    df = _table("footprint_factors")
    for col in ("from_year", "to_year", "reference_year"):
        df[col] = df[col].astype("Int64")
    return df


def refrigerant_gwp() -> pd.DataFrame:
    """GWP100 of refrigerants and foam blowing agents: ``substance, gwp100, note, source,
    status`` (IPCC AR6 WGI Table 7.SM.7; blends by mass fraction)."""
    return _table("refrigerant_gwp")


def element_footprint() -> pd.DataFrame:
    """Per element: ``element, factor, low, central, high, source, status`` with ``factor``
    ``primary_kg_co2e_per_kg``, ``secondary_kg_co2e_per_kg`` or ``adp_kg_sb_eq_per_kg``."""
    return _table("element_footprint")


def grid_intensity() -> pd.DataFrame:
    """Carbon intensity of electricity generation per country: ``region, year,
    g_co2e_per_kwh, generation_twh, source, status`` (``WLD`` is the world; ``year`` the
    latest year of the source for that country)."""
    return _table("grid_intensity")


def gem2024_annex() -> pd.DataFrame:
    """The Global E-waste Monitor 2024 country annex (Baldé et al. 2024, ITU/UNITAR; 2022 data).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, un_region, generated_kt, generated_kg_per_inh, collected_formal_kt,
        collected_status, legislation, epr, collection_target, recycling_target,
        collection_reference, source`` for 193 countries; ``generated_kt`` is blank where the
        Monitor rounds it to 0 (use ``generated_kg_per_inh``), ``collected_formal_kt`` blank
        where the country publishes none (``collected_status`` ``not available`` or
        ``confidential``); flags are ``Yes`` / ``No``.
    """
    df = _table("gem2024_annex")
    for col in ("collected_status", "legislation", "epr", "collection_target",
                "recycling_target", "collection_reference"):  # fmt: skip
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    return df


def published_figures() -> pd.DataFrame:
    """Published figures besides the annex: the validation set.

    Returns
    -------
    pandas.DataFrame
        ``edition, scope, year, indicator, value, unit, kind, role, source``: ``scope`` is
        ``WLD``, a UN region, an ISO3 code or ``EU6:<category>``; ``kind`` says how the value
        was read (``table``, ``text`` summary of the report, ``recalled`` by this project and
        not re-read); ``role`` is ``fit`` (used by the calibration), ``held_out`` (never used
        in a fit: the back-cast check) or ``check`` (same edition and year as the annex, implied
        by it).
    """
    return _table("published_figures")


def source_of(table: str, **keys: Any) -> str:
    """Citation of the value(s) identified by ``keys`` in a catalogue table.

    Parameters
    ----------
    table
        Table name as in :data:`FILES` (e.g. ``"composition"``, ``"prices"``).
    **keys
        Column values that select rows, e.g. ``product="0306", element="Au"``.

    Returns
    -------
    str
        The distinct ``source`` texts of the matching rows, joined with " || ".

    Raises
    ------
    CatalogError
        If the table is unknown or no row matches.
    ValueError
        If a key is not a column of the table.
    """
    if table not in FILES:
        raise CatalogError(f"unknown catalogue table {table!r}; choose from {sorted(FILES)}")
    df = _load(table)
    bad = sorted(set(keys) - set(df.columns))
    if bad:
        raise ValueError(f"{FILES[table]} has no column(s) {bad}; columns are {list(df.columns)}")
    mask = pd.Series(True, index=df.index)
    for col, val in keys.items():
        mask &= df[col].astype(str) == str(val)
    hits = df.loc[mask, "source"].drop_duplicates()
    if hits.empty:
        raise CatalogError(f"no row of {FILES[table]} matches {keys}")
    return " || ".join(hits.astype(str))


@functools.cache
def _sources() -> pd.DataFrame:
    return pd.read_csv(data_path("sources.csv"), dtype=str, keep_default_na=False)


def sources() -> pd.DataFrame:
    """Every shipped data file with its ``title, source, year, licence`` (``file`` first)."""
    return _sources().copy()
