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
    frame = pd.DataFrame(
        {
            "region": pom["region"].astype(str).to_numpy(),
            "year": pom["year"].astype("int64").to_numpy(),
            "reported": (
                pom["status"].astype(str).eq("reported").to_numpy()
                if "status" in pom.columns
                else np.zeros(len(pom), dtype=bool)
            ),
            "source": (
                pom["source"].astype(str).to_numpy()
                if "source" in pom.columns
                else np.full(len(pom), "put on market input")
            ),
        }
    )
    out = frame.groupby(["region", "year"], sort=True)["reported"].any().reset_index()
    out["status"] = np.where(out.pop("reported"), "reported", "estimated")
    distinct = frame.drop_duplicates(["region", "year", "source"])
    sources = distinct.groupby(["region", "year"], sort=True)["source"].agg(" || ".join)
    out["source"] = sources.to_numpy()
    return out


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
