"""Where the minerals in e-waste come from, and where lost minerals would be mined instead.

* :func:`mineral_sources`: the producing countries of each element with their shares of world
  mine production, placed on the country outlines;
* :func:`mines_from_file` / :func:`mines_from_table` / :func:`select_mines`: mine points from a
  user table (e.g. the fineprint compilation, Jasansky et al. 2023);
* :func:`replacement_mining`: the tonnes of an element a region loses (not recovered from its
  e-waste, ``lost_t`` of the element-flows table) allotted to the countries where they would
  have to be mined instead.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ewaste_tracker.maps.errors import MapInputError
from ewaste_tracker.maps.regions import DEFAULT_CRS, join_regions

logger = logging.getLogger(__name__)


def _check_shares(shares: pd.DataFrame) -> pd.DataFrame:
    if "country" not in shares.columns and "iso3" in shares.columns:
        shares = shares.rename(columns={"iso3": "country"})
    need = {"element", "country", "share"}
    missing = need - set(shares.columns)
    if missing:
        raise MapInputError(f"shares table lacks column(s) {', '.join(sorted(missing))}")
    share = pd.to_numeric(shares["share"], errors="coerce")
    bad = share.isna() | (share < 0) | (share > 1)
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise MapInputError(
            f"row {first + 2}: share must be a number between 0 and 1",
            column="share",
            value=shares["share"].iloc[first],
        )
    dup = shares.duplicated(["element", "country"], keep=False)
    if dup.any():
        pairs = shares.loc[dup, ["element", "country"]].drop_duplicates().head(5)
        raise MapInputError(
            "several shares for " + ", ".join(f"{e}/{c}" for e, c in pairs.itertuples(index=False)),
            column="country",
        )
    total = share.groupby(shares["element"]).sum()
    over = total[total > 1 + 1e-4]  # rounded published shares may exceed 1 slightly
    if not over.empty:
        raise MapInputError(
            "shares sum above 1 for " + ", ".join(f"{e} ({v:.6f})" for e, v in over.items()),
            column="share",
        )
    return shares.assign(share=share.to_numpy(dtype=float))


def mineral_sources(shares: pd.DataFrame, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Place the producing countries of each element on their outlines.

    Parameters
    ----------
    shares
        ``element,country,share`` (``iso3`` is accepted for ``country``, as in the shipped
        ``data/mine_shares.csv``): share of world mine production by country (ISO3), e.g.
        from the British Geological Survey's World Mineral Production as compiled in premise
        (``mining_shares_mapping.xlsx``). Shares of one element may sum to less than 1
        (unlisted producers) but not more.
    regions
        Country outlines from :func:`ewaste_tracker.maps.regions.regions_from_frame`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``element, region, name, share, geometry`` for shares above zero.

    Raises
    ------
    MapInputError
        Bad columns or shares.
    UnknownRegionError
        Country codes without an outline.
    """
    shares = _check_shares(shares)
    rows = shares[shares["share"] > 0].rename(columns={"country": "region"})
    out = join_regions(rows[["element", "region", "share"]], regions, source="shares")
    return out[["element", "region", "name", "share", "geometry"]].reset_index(drop=True)


def replacement_mining(
    lost: pd.DataFrame, shares: pd.DataFrame, *, normalise: bool = True
) -> pd.DataFrame:
    """Allot the elements a region loses to the countries that would mine them instead.

    For region :math:`r`, year :math:`y`, element :math:`e` with lost tonnes
    :math:`L_{rye}` and producer shares :math:`s_{ec}`:

    .. math::

        M_{ryec} = L_{rye}\\, \\frac{s_{ec}}{\\sum_{c'} s_{ec'}}
        \\quad(\\text{normalise}), \\qquad \\text{else } M_{ryec} = L_{rye}\\, s_{ec},

    so that with normalisation :math:`\\sum_c M_{ryec} = L_{rye}` (mass conserved). The
    allotment follows current mine production shares: the marginal supplier is assumed to be
    the average one.

    Parameters
    ----------
    lost
        The element-flows table ``region,year,element,lost_t`` (extra columns such as
        ``route`` are summed over).
    shares
        ``element,country,share`` as in :func:`mineral_sources`.
    normalise
        Scale the shares of each element to sum to 1 (default); otherwise the tonnes of
        unlisted producers are left out.

    Returns
    -------
    pandas.DataFrame
        ``region, year, element, mined_in, mined_t`` (rows with ``mined_t`` > 0).

    Raises
    ------
    MapInputError
        Missing columns, negative tonnes, bad shares, or elements without shares.
    """
    need = {"region", "year", "element", "lost_t"}
    missing = need - set(lost.columns)
    if missing:
        raise MapInputError(f"lost table lacks column(s) {', '.join(sorted(missing))}")
    tonnes = pd.to_numeric(lost["lost_t"], errors="coerce")
    if tonnes.isna().any() or (tonnes < 0).any():
        raise MapInputError("lost tonnes must be non-negative numbers", column="lost_t")
    shares = _check_shares(shares)
    shares = shares[shares["share"] > 0]
    if normalise:
        shares = shares.assign(
            share=shares["share"] / shares.groupby("element")["share"].transform("sum")
        )
    no_shares = sorted(set(lost["element"]) - set(shares["element"]))
    if no_shares:
        raise MapInputError(f"no producer shares for element(s) {', '.join(map(str, no_shares))}")
    total = (
        lost.assign(lost_t=tonnes)
        .groupby(["region", "year", "element"], as_index=False)["lost_t"]
        .sum()
    )
    out = total.merge(shares[["element", "country", "share"]], on="element", how="inner")
    out["mined_t"] = out["lost_t"].to_numpy() * out["share"].to_numpy()
    out = out.rename(columns={"country": "mined_in"})
    out = out.loc[out["mined_t"] > 0, ["region", "year", "element", "mined_in", "mined_t"]]
    return out.sort_values(
        ["region", "year", "element", "mined_t"], ascending=[True, True, True, False]
    ).reset_index(drop=True)


def mines_from_table(
    table: pd.DataFrame,
    *,
    lon_column: str = "longitude",
    lat_column: str = "latitude",
    name_column: str = "mine_fac",
    commodity_column: str | None = "commodities_products",
    source: str = "user table",
) -> gpd.GeoDataFrame:
    """Make mine points from a table with longitude/latitude columns (WGS 84).

    Rows without coordinates are dropped (logged); coordinates out of range are an error.
    The defaults fit the fineprint mine compilation (Jasansky et al. 2023, *Scientific
    Data* 10, 52), sheet ``general``.

    Parameters
    ----------
    table
        One row per mine.
    lon_column, lat_column, name_column, commodity_column
        Column names (``commodity_column=None`` when absent).
    source
        Source label written into each row.

    Returns
    -------
    geopandas.GeoDataFrame
        ``mine, commodities, source, geometry`` in EPSG:4326 (the table's other columns are
        kept too).

    Raises
    ------
    MapInputError
        Missing columns or coordinates outside [-180, 180] × [-90, 90] (naming the row).
    """
    for col in (lon_column, lat_column, name_column, commodity_column):
        if col is not None and col not in table.columns:
            raise MapInputError(f"no column '{col}'", path=source)
    lon = pd.to_numeric(table[lon_column], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table[lat_column], errors="coerce").to_numpy(dtype=float)
    has = ~(np.isnan(lon) | np.isnan(lat))
    bad = has & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MapInputError(
            f"row {first + 2}: coordinates out of range",
            path=source,
            column=f"{lon_column}/{lat_column}",
            value=(lon[first], lat[first]),
        )
    if not has.all():
        logger.info(
            "%s: %d of %d mine(s) have no coordinates", source, int((~has).sum()), len(table)
        )
    kept = table.loc[has].reset_index(drop=True)
    out = kept.assign(
        mine=kept[name_column].astype("string"),
        commodities=kept[commodity_column].astype("string") if commodity_column else pd.NA,
        source=source,
    )
    return gpd.GeoDataFrame(out, geometry=shapely.points(lon[has], lat[has]), crs=DEFAULT_CRS)


def mines_from_file(
    path: str | Path, *, sheet: str | int = "general", **columns: str
) -> gpd.GeoDataFrame:
    """Read mine points from a spreadsheet (``.xlsx``) or CSV.

    Parameters
    ----------
    path
        The file.
    sheet
        Worksheet of a spreadsheet (default ``general``, as in the fineprint compilation).
    **columns
        Column names passed to :func:`mines_from_table`.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`mines_from_table`.

    Raises
    ------
    MapInputError
        Missing or unreadable file, missing sheet or columns.
    """
    path = Path(path)
    if not path.is_file():
        raise MapInputError("mines file not found", path=path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            table = pd.read_excel(path, sheet_name=sheet)
        else:
            table = pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise MapInputError(f"cannot read mines: {exc}", path=path) from exc
    return mines_from_table(table, source=path.name, **columns)


def select_mines(mines: gpd.GeoDataFrame, commodity: str) -> gpd.GeoDataFrame:
    """Keep the mines whose commodity list names ``commodity`` (whole word, any case).

    Parameters
    ----------
    mines
        From :func:`mines_from_table`.
    commodity
        E.g. ``"Cobalt"``, ``"Copper"``.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    pattern = rf"(?i)(?<![a-z]){commodity.strip()}(?![a-z])"
    hit = mines["commodities"].astype("string").str.contains(pattern, regex=True, na=False)
    return mines[hit.to_numpy(dtype=bool)].reset_index(drop=True)
