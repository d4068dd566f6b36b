"""Where the numbers of a run come from: reported or estimated, and from which files.

* :func:`provenance_from_pom` reads the put-on-market table of a run (``status`` reported /
  estimated and ``source`` per row) into one status and source per region and year;
* :func:`country_provenance` turns that into the rows the app shows for a country: runs of
  consecutive years with the same status and source, then the other inputs (lifetimes,
  transfer coefficients, composition, recovery, prices), which are estimates in every year;
* :func:`element_sources` gives the text cited beside element values (composition, recovery
  and price files, with the price's published source).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ewaste_tracker.app.views import ViewError

logger = logging.getLogger(__name__)

__all__ = ["country_provenance", "element_sources", "provenance_from_pom"]


def provenance_from_pom(pom: pd.DataFrame) -> pd.DataFrame:
    """Status and source of each region and year from the put-on-market table.

    Parameters
    ----------
    pom
        ``region, product, year, pom_t`` with optional ``status`` and ``source``.

    Returns
    -------
    pandas.DataFrame
        ``region, year, status, source``: ``reported`` when any product of that region and
        year was reported, else ``estimated``; the distinct sources joined by " || ".
    """
    n = len(pom)
    region = pd.Categorical(pom["region"])
    year = pom["year"].to_numpy().astype("int64")
    reported = (
        (pom["status"].to_numpy(dtype=object) == "reported")
        if "status" in pom.columns
        else np.zeros(n, dtype=bool)
    )
    if "source" in pom.columns:
        source = pd.Categorical(pom["source"])
        src_codes, src_names = source.codes, np.asarray(source.categories, dtype=object)
    else:
        src_codes, src_names = np.zeros(n, dtype=np.int64), np.array(["put on market input"])
    # one integer per (region, year): codes, not strings (the table has ~800,000 rows)
    y0 = int(year.min()) if n else 0
    ny = int(year.max()) - y0 + 1 if n else 0
    cell = region.codes.astype(np.int64) * ny + (year - y0)
    cells, inverse = np.unique(cell, return_inverse=True)
    any_reported = np.zeros(len(cells), dtype=bool)
    np.logical_or.at(any_reported, inverse, reported)
    # distinct sources per cell in order of first appearance (as the rows list them)
    pair = inverse.astype(np.int64) * (len(src_names) + 1) + (src_codes + 1)
    pairs, first = np.unique(pair, return_index=True)
    order = np.lexsort((first, pairs // (len(src_names) + 1)))
    pair_cell, pair_src = np.divmod(pairs[order], len(src_names) + 1)
    labels = np.append(src_names.astype(str), "nan")[pair_src - 1]
    joined = pd.Series(labels).groupby(pair_cell, sort=True).agg(" || ".join)
    names = np.asarray(region.categories, dtype=object)
    out = pd.DataFrame(
        {
            "region": names[cells // max(ny, 1)].astype(str),
            "year": (cells % max(ny, 1) + y0).astype("int64"),
            "status": np.where(any_reported, "reported", "estimated"),
            "source": joined.to_numpy(),
        }
    )
    return out.sort_values(["region", "year"], ignore_index=True)


def element_sources(
    elements: Sequence[str], prices: pd.DataFrame, *, price_year: int = 2022
) -> dict[str, str]:
    """Source text of the element values of each element.

    Parameters
    ----------
    elements
        Element symbols.
    prices
        ``element, year, source`` (:func:`ewaste_tracker.catalog.prices`).
    price_year
        Year of the price used by the run.

    Returns
    -------
    dict
        Element → "composition data/composition.csv; recovery data/recovery.csv; price: …".
    """
    sub = prices[prices["year"].astype("int64") == price_year]
    cite = dict(zip(sub["element"].astype(str), sub["source"].astype(str), strict=True))
    base = "composition data/composition.csv; recovery data/recovery.csv"
    return {
        e: f"{base}; price data/prices.csv ({cite[e]})" if e in cite else base for e in elements
    }


def country_provenance(
    provenance: pd.DataFrame,
    *,
    region: str,
    years: tuple[int, int],
    model_sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Which inputs of one country are reported and which estimated, with their sources.

    Parameters
    ----------
    provenance
        :func:`provenance_from_pom` output.
    region
        Country code.
    years
        First and last year shown.
    model_sources
        Other inputs (lifetimes, transfer coefficients, composition ...) → source text; all
        are estimates for every year.

    Returns
    -------
    pandas.DataFrame
        ``input, status, first_year, last_year, source``: one row per run of consecutive
        put-on-market years with the same status and source, then one per other input.
    """
    sub = provenance[
        (provenance["region"].astype(str) == region)
        & provenance["year"].astype("int64").between(*years)
    ].sort_values("year")
    if sub.empty:
        raise ViewError(f"no put-on-market provenance for region {region!r} in {years}")
    key = sub["status"].astype(str) + "\x00" + sub["source"].astype(str)
    run = (key != key.shift()).cumsum().to_numpy()
    pom = (
        sub.assign(run=run)
        .groupby("run", sort=True)
        .agg(
            status=("status", "first"),
            first_year=("year", "min"),
            last_year=("year", "max"),
            source=("source", "first"),
        )
        .reset_index(drop=True)
    )
    pom.insert(0, "input", "put on market")
    model_sources = model_sources or {}
    other = pd.DataFrame(
        {
            "input": list(model_sources),
            "status": "estimated",
            "first_year": years[0],
            "last_year": years[1],
            "source": list(model_sources.values()),
        }
    )
    return pd.concat([pom, other], ignore_index=True)
