"""Everything the app's pages read, computed once per estimate and kept on disk with it.

:func:`build_bundle` runs the default estimate (:func:`ewaste_tracker.estimate`: the
catalogue defaults with the store's accepted submissions in place) and derives, vectorised,
what the pages need: the estimate's tables (indicators, element flows, footprint), the six
categories of every region (:func:`ewaste_tracker.jobs.categories.eu6_table`), the names,
the row positions of each region in the indicator and element tables (so a country's rows
are a slice, not a scan), and the sources of the model's inputs. :func:`load_bundle` returns
the copy kept by :mod:`ewaste_tracker.app.persist` when its key (version, code, data,
submissions) matches, else builds one. Pages slice the bundle; they never recompute the
estimate.

What only some pages read is made when first read (:meth:`Bundle.complete` makes it all):
the year tables of the world page, the element totals of ``WLD`` and the UN regions, the
footprint and the ICT trajectory. A new bundle (a first start, or a submission just stored)
is thus ready for the country profile after the estimate's world run and its indicator and
element tables (about half of the whole build); the rest is made in the background before
the bundle is kept on disk, so a restart finds every piece.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.app.names import CountryNames, country_names

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

__all__ = ["BUNDLE_FORMAT", "Bundle", "build_bundle", "load_bundle", "positions"]

logger = logging.getLogger(__name__)

BUNDLE_FORMAT = "bundle-4"
"""Part of the cache key: bump when :class:`Bundle` changes."""
YEARS = (1990, 2030)
"""Years the pages show."""
NOT_MAPPED = ("ATA",)
"""Catalogue areas left out of the country lists, rankings and world maps: Antarctica (research
stations only; its per-inhabitant figures are meaningless)."""


@dataclass
class Bundle:
    """The estimate and the tables derived from it (read-only, shared by every session).

    Attributes
    ----------
    estimate
        The default estimate.
    names
        Official names and aliases.
    countries
        Modelled countries, in the alphabetical order of their names.
    aggregates
        ``WLD`` and the UN regions.
    groups
        Country → UN region.
    elements, default_elements
        Elements tracked; those shown first (EU critical raw materials and Au, Ag, Cu).
    eu6
        :func:`ewaste_tracker.jobs.categories.eu6_table`.
    model_sources
        Input → source text of the model's other inputs.
    element_sources
        Element → source text of its values.
    rows, element_rows
        Region → row positions in ``estimate.indicators`` and ``estimate.element_flows``.
    element_totals
        Element flows of ``WLD`` and the UN regions (sums of their countries), the columns
        of ``estimate.element_flows`` (made when first read: :meth:`region_elements`).
    year_tables
        Year → :func:`ewaste_tracker.app.views.core.year_table`, filled as years are read
        (:meth:`year_table`).
    footprint_rows
        Region → row positions in ``estimate.footprint`` (made when first read).
    built_seconds
        How long building took.
    key
        The key it is kept under (:func:`ewaste_tracker.app.persist.cache_key`); objects
        derived from it (grids) are kept under keys made from it.
    """

    estimate: Estimate
    names: CountryNames
    countries: tuple[str, ...]
    aggregates: tuple[str, ...]
    groups: dict[str, str]
    elements: tuple[str, ...]
    default_elements: tuple[str, ...]
    eu6: pd.DataFrame
    model_sources: dict[str, str]
    element_sources: dict[str, str]
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    element_rows: dict[str, np.ndarray] = field(default_factory=dict)
    element_totals: pd.DataFrame | None = None
    year_tables: dict[int, pd.DataFrame] = field(default_factory=dict)
    footprint_rows: dict[str, np.ndarray] | None = None
    ict_trajectory: pd.DataFrame | None = None
    built_seconds: float = 0.0
    key: str = ""

    @property
    def indicators(self) -> pd.DataFrame:
        """The estimate's indicator table."""
        return self.estimate.indicators

    @property
    def target(self) -> float:
        """The estimate's collection target (fraction)."""
        return float(self.estimate.inputs.collection_target)

    def region_rows(self, region: str) -> pd.DataFrame:
        """Indicator rows of one region (a slice by position)."""
        pos = self.rows.get(region)
        if pos is None:
            return self.indicators.iloc[0:0]
        return self.indicators.iloc[pos]

    def region_footprint(self, region: str) -> pd.DataFrame:
        """Footprint rows of one region."""
        table = self.estimate.footprint
        if self.footprint_rows is None:
            self.footprint_rows = positions(table)
        pos = self.footprint_rows.get(region)
        return table.iloc[0:0] if pos is None else table.iloc[pos]

    @property
    def trajectory(self) -> pd.DataFrame:
        """:func:`ewaste_tracker.scenario.ict_trajectory` of the estimate (made when first read)."""
        if self.ict_trajectory is None:
            from ewaste_tracker.scenario import ict_trajectory

            self.ict_trajectory = ict_trajectory(self.estimate)
        return self.ict_trajectory

    def year_table(self, year: int) -> pd.DataFrame:
        """Indicators of one year, a row per region (kept, or pivoted now and kept)."""
        table = self.year_tables.get(int(year))
        if table is None:
            from ewaste_tracker.app.views.core import year_table

            table = year_table(self.indicators, int(year))
            self.year_tables[int(year)] = table
        return table

    def complete(self) -> None:
        """Make every piece made when first read (before the bundle is kept on disk)."""
        from ewaste_tracker.app.views.core import year_tables

        t0 = time.perf_counter()
        missing = [y for y in range(YEARS[0], YEARS[1] + 1) if y not in self.year_tables]
        self.year_tables.update(year_tables(self.indicators, missing))
        self.region_elements("WLD")
        self.region_footprint("WLD")
        self.trajectory  # noqa: B018 - made now, kept with the bundle
        logger.info("app bundle completed in %.1f s", time.perf_counter() - t0)

    def region_elements(self, region: str) -> pd.DataFrame:
        """Element-flow rows of one region, ``WLD`` or UN region."""
        table = self.estimate.element_flows
        pos = self.element_rows.get(region)
        if pos is None and region not in self.countries:
            if self.element_totals is None:
                self.element_totals = element_totals(table, self.groups)
            tot = self.element_totals
            return tot[(tot["region"] == region).to_numpy()]
        return table.iloc[0:0] if pos is None else table.iloc[pos]


def _cite(name: str, table: pd.DataFrame) -> str:
    """File of a catalogue table and its first cited source (and how many there are)."""
    sources = table["source"].astype(str).drop_duplicates()
    more = f" (+{len(sources) - 1} more sources in the file)" if len(sources) > 1 else ""
    return f"data/{catalog.data_path(name).name}: {sources.iloc[0]}{more}"


def positions(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Region → row positions of ``table`` (its ``region`` column), in table order."""
    codes = pd.Categorical(table["region"])
    order = np.argsort(codes.codes, kind="stable")
    counts = np.bincount(codes.codes[order], minlength=len(codes.categories))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return {str(c): order[bounds[i] : bounds[i + 1]] for i, c in enumerate(codes.categories)}


def element_totals(table: pd.DataFrame, groups: dict[str, str]) -> pd.DataFrame:
    """Element flows summed to ``WLD`` and to each group (region, year, element, route)."""
    values = [c for c in table.columns if c.endswith(("_t", "_usd"))]
    region = table["region"].astype(str)
    parts = []
    for key in (pd.Series("WLD", index=table.index), region.map(groups)):
        sub = table.assign(region=key.to_numpy())
        sub = sub[sub["region"].notna().to_numpy()]
        g = sub.groupby(["region", "year", "element", "route"], observed=True, sort=False)
        parts.append(g[values].sum().reset_index())
    out = pd.concat(parts, ignore_index=True)
    out["status"] = "aggregate"
    for col in ("element", "route"):
        out[col] = out[col].astype(str)
    return out


def build_bundle(est: Estimate | None = None, *, store: str | Path | None = None) -> Bundle:
    """Run the default estimate (unless given) and derive the pages' tables from it."""
    from ewaste_tracker.app import provenance
    from ewaste_tracker.app.views.core import default_elements
    from ewaste_tracker.jobs.categories import eu6_table

    t0 = time.perf_counter()
    if est is None:
        from ewaste_tracker.estimate import estimate

        est = estimate(store=store)
    indicators, elements_table = est.indicators, est.element_flows
    names = country_names()
    known = set(catalog.countries()["iso3"]) - set(NOT_MAPPED)
    countries = tuple(names.sorted_codes([r for r in est.regions if r in known]))
    elements = tuple(est.elements)
    bundle = Bundle(
        estimate=est,
        names=names,
        countries=countries,
        aggregates=tuple(est.aggregates),
        groups=est.groups,
        elements=elements,
        default_elements=tuple(default_elements(elements, catalog.crm())),
        eu6=eu6_table(est),
        model_sources={
            "lifetimes": _cite("lifetimes", catalog.lifetimes()),
            "transfer coefficients": _cite(
                "transfer_coefficients", catalog.default_transfer_coefficients()
            ),
            "composition": _cite("composition", catalog.composition()),
            "recovery": _cite("recovery", catalog.recovery()),
            "prices": _cite("prices", catalog.prices()),
        },
        element_sources=provenance.element_sources(elements, catalog.prices()),
        rows=positions(indicators),
        element_rows=positions(elements_table),
    )
    bundle.built_seconds = time.perf_counter() - t0
    logger.info("app bundle built in %.1f s", bundle.built_seconds)
    return bundle


def load_bundle(
    *, store: str | Path | None = None, write: Callable[[Callable[[], Any]], Any] | None = None
) -> tuple[Bundle, str]:
    """The kept bundle for the store's current submissions, or a new one (then kept).

    Returns
    -------
    Bundle, str
        The bundle and ``"loaded"`` or ``"built"``.
    """
    from ewaste_tracker.app.persist import cache_key, load_or_build

    key = cache_key(store, extra=BUNDLE_FORMAT)
    built: list[Bundle] = []

    def build() -> Bundle:
        built.append(build_bundle(store=store))
        return built[0]

    def complete_then(job: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            from ewaste_tracker import settings

            if settings.cache_dir() is not None:  # nothing is kept when caching is off
                for bundle in built:
                    bundle.complete()
            return job()

        return run

    keep = None if write is None else (lambda job: write(complete_then(job)))
    bundle, how = load_or_build(build, key=key, write=keep or (lambda job: complete_then(job)()))
    bundle.key = key
    return bundle, how
