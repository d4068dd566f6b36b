"""The one estimate behind every entry point: defaults, reported data and user inputs.

:func:`estimate` is the only path by which the command line (``run``, ``map``,
``template``, ``plan-sites``), the Streamlit app and a notebook get numbers:

1. **inputs**: the all-country default (:func:`ewaste_tracker.defaults.inputs.default_inputs`:
   the default put-on-market model, default fates, the catalogue's lifetimes, composition,
   recovery and prices), or a user's folder of tables
   (:func:`ewaste_tracker.model.folder.read_inputs_folder`);
2. **reported data**: for the default estimate, the latest published submission of every
   country in the store replaces or constrains the defaults
   (:func:`ewaste_tracker.reported.apply.apply_reported`);
3. **the engine**: stocks, the lifecycle system, minerals and indicators
   (:func:`ewaste_tracker.model.run.run_model`), every region at once. The world is always
   run: trade links the countries, so a country's figures do not depend on which other
   countries a user asks to see; ``countries`` only selects what the tables show.

The :class:`Estimate` it returns exposes tidy tables with documented columns
(:attr:`Estimate.indicators`, :attr:`Estimate.flows`, :attr:`Estimate.stocks`,
:attr:`Estimate.element_flows`), the lifecycle graph (:meth:`Estimate.graph`) and writes
everything to a folder (:meth:`Estimate.to_folder`: Parquet or CSV with a Frictionless
``datapackage.json``).

Examples
--------
>>> import ewaste_tracker as et
>>> est = et.estimate(countries=["KEN"])  # doctest: +SKIP
>>> est.value("KEN", "generated_t", 2022)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError

if TYPE_CHECKING:
    import networkx as nx

    from ewaste_tracker.model.run import ModelInputs, RunResult
    from ewaste_tracker.uncertainty.bands import Bands

__all__ = ["INDICATOR_COLUMNS", "Estimate", "estimate"]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
INDICATOR_COLUMNS = ("region", "year", "indicator", "element", "value", "unit", "status",
                     "source")  # fmt: skip
"""Columns of :attr:`Estimate.indicators`."""

MODEL_SOURCES = {
    "pom_t": "default put-on-market model (data/pom_model.csv: population and GDP per "
    "capita, calibrated to the Global E-waste Monitor)",
    "generated_t": "sales-lifespan model: put on market x Weibull lifetimes "
    "(data/lifetimes.csv, EU WEEE Calculation Tool)",
    "stock_t": "sales-lifespan model: cumulative put on market - e-waste generated",
    "collected_formal_t": "default fates (data/default_transfer_coefficients.csv)",
    "recycled_formal_t": "default fates (data/transfer_coefficients.csv)",
    "population": "data/population_gdp_timeseries.csv",
    "element": "composition (data/composition.csv) x flows x recovery (data/recovery.csv)",
    "usd": "element flows x prices of the same year, nominal USD (data/prices.csv: USGS "
    "Mineral Commodity Summaries 2025 for 2022-2023, World Bank annual averages 1990-2019 for "
    "Au Ag Pd Pt Cu Al Ni Sn Pb, recalled; linear between price years, flat outside them)",
    "mci": "Material Circularity Indicator (Ellen MacArthur Foundation 2015) of the flows",
}
"""Where the model's value of each indicator comes from (files in ``ewaste_tracker/data``)."""


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def _model_sources(names: Iterable[str], kind: str, paths: dict[str, str]) -> dict[str, str]:
    out = {}
    for name in names:
        if kind == "inputs":
            origin = paths.get("pom", "inputs folder")
            out[name] = f"model on user inputs ({Path(origin).parent if origin else ''})"
            continue
        if name in MODEL_SOURCES:
            out[name] = MODEL_SOURCES[name]
        elif name.endswith("_kg_per_inh"):
            base = MODEL_SOURCES.get(name.replace("_kg_per_inh", "_t"), "model")
            out[name] = f"{base}; per inhabitant: {MODEL_SOURCES['population']}"
        elif name.startswith("collection_") or name == "recycling_rate":
            out[name] = MODEL_SOURCES["collected_formal_t"] + "; EU WEEE Directive Art. 7(1)"
        elif name.endswith("_usd"):
            out[name] = MODEL_SOURCES["usd"]
        elif name in ("lfi", "mci"):
            out[name] = MODEL_SOURCES["mci"]
        else:
            out[name] = MODEL_SOURCES["element"]
    return out


@dataclass(eq=False)
class Estimate:
    """An estimate: its inputs, the engine's result, the reported data in place, its tables.

    Do not build one directly: call :func:`estimate`.

    Attributes
    ----------
    inputs
        The model's inputs, with reported override rows in place.
    result
        The engine's dense result (:class:`ewaste_tracker.model.run.RunResult`).
    reported
        The published submission values applied (``country, year, product, product_level,
        indicator, value_t, source``; empty when none).
    gaps
        Reported values the model could not meet (``reported_gaps``), or ``None``.
    kind
        ``"default"`` (catalogue defaults and reported data) or ``"inputs"`` (a user's tables).
    countries
        The countries the tables show (``None``: every region and the aggregates).
    passes
        Model runs after the first, to meet reported targets.
    environment
        Accepted environmental submissions (ICT operators' energy and scope 1-2 emissions,
        :data:`ewaste_tracker.reported.environment.ENV_COLUMNS`), or ``None``.
    reconciliation, reconciliation_chi2
        Reported values reconciled with the model and the chi-square test per region and year
        (:mod:`ewaste_tracker.reported.reconcile`), or ``None`` (hard targets only).
    bands
        Monte Carlo percentiles of the indicators (``estimate(draws=...)``,
        :class:`ewaste_tracker.uncertainty.bands.Bands`), or ``None``.
    """

    inputs: ModelInputs
    result: RunResult
    reported: pd.DataFrame
    gaps: pd.DataFrame | None
    kind: Literal["default", "inputs"]
    countries: tuple[str, ...] | None = None
    passes: int = 0
    environment: pd.DataFrame | None = None
    reconciliation: pd.DataFrame | None = None
    reconciliation_chi2: pd.DataFrame | None = None
    bands: Bands | None = None
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------------------- labels

    @property
    def years(self) -> np.ndarray:
        """Model years."""
        return self.result.dims.years

    @property
    def regions(self) -> tuple[str, ...]:
        """Modelled regions (every region, whatever :attr:`countries` selects)."""
        return self.result.dims.regions

    @property
    def elements(self) -> tuple[str, ...]:
        """Elements tracked."""
        return self.result.dims.elements

    @property
    def groups(self) -> dict[str, str]:
        """Region → aggregate (UN region) besides the world ``WLD``."""
        return dict(self.inputs.groups or {})

    @property
    def aggregates(self) -> list[str]:
        """Aggregate codes of the indicator table: ``WLD`` and the groups."""
        return ["WLD", *sorted(set(self.groups.values()))]

    def _shown(self) -> list[str] | None:
        return None if self.countries is None else list(self.countries)

    # ----------------------------------------------------------------------------- tables

    @property
    def indicators(self) -> pd.DataFrame:
        """Indicators of every shown region (and the aggregates when all are shown).

        Columns :data:`INDICATOR_COLUMNS`: ``region`` (ISO3, or ``WLD`` and UN regions),
        ``year``, ``indicator`` (definitions in :mod:`ewaste_tracker.flows.indicators`),
        ``element`` (symbol of per-element indicators, else missing), ``value``, ``unit``,
        ``status`` (``reported`` / ``mixed`` / ``published`` / ``estimated`` / ``input``; see
        :mod:`ewaste_tracker.reported.overlay`) and ``source``; with Monte Carlo draws also
        ``p5``, ``p50``, ``p95`` after ``value`` (``value`` stays the central run).
        """
        if "indicators" not in self._cache:
            from ewaste_tracker.reported.overlay import indicator_status

            table = self.result.indicators
            if self.bands is not None:
                band = self.bands.frame(len(table))
                at = list(table.columns).index("value") + 1
                table = pd.concat([table.iloc[:, :at], band, table.iloc[:, at:]], axis=1)
            shown = self._shown()
            if shown is not None:
                table = table[table["region"].isin(shown)].reset_index(drop=True)
            names = list(pd.Categorical(table["indicator"]).categories)
            sources = _model_sources(names, self.kind, self.inputs.paths)
            if self.kind == "inputs":
                ind = pd.Categorical(table["indicator"])
                status = pd.Categorical.from_codes(
                    np.zeros(len(table), np.int8), pd.Index(["input"])
                )
                labels = list(dict.fromkeys(sources[n] for n in ind.categories))
                code = np.array([labels.index(sources[n]) for n in ind.categories], np.int32)
                source = pd.Categorical.from_codes(
                    code[ind.codes], pd.Index(labels), validate=False
                )
            else:
                from ewaste_tracker import catalog
                from ewaste_tracker.reported.overlay import published_cells

                status, source = indicator_status(
                    table, self.reported, self.groups,
                    products=len(self.result.dims.products), sources=sources,
                    published=published_cells(catalog.gem2024_annex()),
                )  # fmt: skip
            self._cache["indicators"] = table.assign(status=status, source=source)
        return self._cache["indicators"]

    def _status_grid(self) -> tuple[np.ndarray, pd.Index]:
        """Status code of every (region, year): rows the modelled regions, then ``sysenv``
        and the aggregates; codes index the status categories (see :meth:`_with_status`)."""
        if "status_grid" not in self._cache:
            labels = pd.Index([*self.regions, "sysenv", *self.aggregates])
            grid = np.full((len(labels), len(self.years)), 2, dtype=np.int8)  # estimated
            if self.kind == "default" and len(self.reported):
                from ewaste_tracker.reported.overlay import status_by_region_year

                cells = status_by_region_year(self.reported, self.groups)
                r = labels.get_indexer(pd.Index(cells["region"].astype(str)))
                n = cells["year"].to_numpy("int64") - int(self.years[0])
                ok = (r >= 0) & (n >= 0) & (n < len(self.years))
                code = np.where(cells["status"].to_numpy(object) == "reported", 0, 1)
                grid[r[ok], n[ok]] = code[ok]
            self._cache["status_grid"] = pd.DataFrame(grid, index=labels)
        table = self._cache["status_grid"]
        return table.to_numpy(), table.index

    def _with_status(self, table: pd.DataFrame, owner: str | tuple[str, str]) -> pd.DataFrame:
        """Attach the region-year ``status`` to a block of flows / stocks / elements.

        ``owner`` names the region column (for flows, ``(region_from, region_to)``: the origin,
        or the destination of a feed from the boundary).
        """
        if self.kind == "inputs":
            codes = np.zeros(len(table), dtype=np.int8)
            return table.assign(status=pd.Categorical.from_codes(codes, pd.Index(["input"])))
        grid, labels = self._status_grid()
        if isinstance(owner, tuple):
            src, dst = (self._label_codes(table[c], labels) for c in owner)
            boundary = labels.get_loc("sysenv")
            rows = np.where(src == boundary, dst, src)
        else:
            rows = self._label_codes(table[owner], labels)
        years = table["year"].to_numpy("int64") - int(self.years[0])
        status = grid[rows, years]
        categories = pd.Index(["reported", "mixed", "estimated"])
        return table.assign(status=pd.Categorical.from_codes(status, categories, validate=False))

    @staticmethod
    def _label_codes(column: pd.Series, labels: pd.Index) -> np.ndarray:
        """Positions of a categorical column's values in ``labels`` (through its categories)."""
        cat = pd.Categorical(column)
        lookup = labels.get_indexer(cat.categories)
        return lookup[cat.codes]

    def blocks(self, name: str, *, detail: str = "product") -> Iterator[pd.DataFrame]:
        """A table in blocks of rows, for writing it without holding it whole.

        Parameters
        ----------
        name
            ``flows``, ``stocks`` or ``element_flows`` (blocks of regions, each a frame of
            about :data:`ewaste_tracker.flows.tables.BLOCK_ROWS` rows); any other table of
            :data:`ewaste_tracker.outputs.TABLES` comes as one block.
        detail
            ``product`` or ``total`` (flows and stocks summed over products).

        Yields
        ------
        pandas.DataFrame
            Blocks with the table's columns; concatenated, they hold the rows of the
            property of the same name (:attr:`flows`, :attr:`stocks`, :meth:`totals`,
            :attr:`element_flows`), region block by region block.
        """
        from ewaste_tracker.flows.tables import flow_blocks, stock_blocks

        by_product = detail == "product"
        shown = self._shown()
        if name == "flows":
            bands = self._flow_band_rows(by_product)
            for block in flow_blocks(self.result.system, regions=shown, by_product=by_product):
                if bands is not None:
                    block = bands(block)
                yield self._with_status(block, ("region_from", "region_to"))
        elif name == "stocks":
            for block in stock_blocks(self.result.system, regions=shown, by_product=by_product):
                yield self._with_status(block, "region")
        elif name == "element_flows":
            yield from self._element_blocks()
        elif name == "reported_gaps":
            if self.gaps is not None:
                yield self.gaps
        elif name == "uncertainty":  # the input distributions of the Monte Carlo bands
            if self.bands is not None:
                yield self.bands.provenance
        else:
            yield getattr(self, name)

    def _flow_band_rows(self, by_product: bool) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
        """A function adding ``value_t_p5/_p50/_p95`` to the successive blocks of the flows
        table (their rows: region blocks of edge key, region, product, year, then the trade
        edges; layout of :mod:`ewaste_tracker.uncertainty.flows`), or ``None`` without bands."""
        bands = self.bands
        if bands is None or bands.flows is None:
            return None
        from ewaste_tracker.uncertainty.flows import trade_edges

        system = self.result.system
        n_r, n_p, n_n = self.result.dims.shape
        shown = self._shown()
        sel = np.arange(n_r) if shown is None else np.flatnonzero(np.isin(self.regions, shown))
        n_keys = len(system.flows)
        n_edges = trade_edges(system, sel)[1]
        inner = n_p * n_n if by_product else n_n
        s_w, s_t = n_keys * n_r * n_p * n_n, n_edges * n_p * n_n
        base_w, base_t = (0, s_w) if by_product else (s_w + s_t, s_w + s_t + n_keys * n_r * n_n)
        at = {"region": 0, "edge": 0}

        def add(block: pd.DataFrame) -> pd.DataFrame:
            assert bands is not None
            if at["region"] < sel.size:  # a block of regions: key, region, inner
                regs = sel[at["region"] : at["region"] + len(block) // (n_keys * inner)]
                at["region"] += regs.size
                j = np.arange(n_keys)[:, None, None]
                cell = (j * n_r + regs[None, :, None]) * inner + np.arange(inner)[None, None]
                index = base_w + cell.ravel()
            else:  # a block of trade edges: edge, inner
                edges = at["edge"] + np.arange(len(block) // inner)
                at["edge"] += edges.size
                index = base_t + (edges[:, None] * inner + np.arange(inner)[None]).ravel()
            q = bands.flow_band(index)
            cols = list(block.columns)
            pos = cols.index("value_t") + 1
            out = block.assign(value_t_p5=q[:, 0], value_t_p50=q[:, 1], value_t_p95=q[:, 2])
            return out[[*cols[:pos], "value_t_p5", "value_t_p50", "value_t_p95", *cols[pos:]]]

        return add

    def _element_blocks(self) -> Iterator[pd.DataFrame]:
        from ewaste_tracker.flows.minerals import ElementFlows, RouteResult
        from ewaste_tracker.flows.minerals import element_flows_to_frame as to_frame
        from ewaste_tracker.flows.tables import BLOCK_ROWS

        res, dims = self.result, self.result.dims
        regions = pd.Index(dims.regions)
        shown = self._shown()
        sel = (
            np.arange(len(regions))
            if shown is None
            else np.sort(regions.get_indexer(pd.Index(shown)))
        )
        elements = res.elements
        per_region = len(elements.routes) * len(dims.elements) * len(dims.years)
        step = max(1, BLOCK_ROWS // max(per_region, 1))
        for start in range(0, len(sel), step):
            block = sel[start : start + step]
            lo, hi = int(block[0]), int(block[-1]) + 1
            if hi - lo != len(block):  # a scattered selection: gather its rows
                take: slice | np.ndarray = block
            else:
                take = slice(lo, hi)
            sub = ElementFlows(
                elements.elements,
                {k: RouteResult(np.asarray(r.input_t)[take], np.asarray(r.recovered_t)[take],
                                np.asarray(r.lost_t)[take])
                 for k, r in elements.routes.items()},
            )  # fmt: skip
            frame = to_frame(sub, regions=[dims.regions[i] for i in block], years=dims.years,
                             prices=res.prices)  # fmt: skip
            codes = regions.get_indexer(frame["region"].cat.categories)[frame["region"].cat.codes]
            frame["region"] = pd.Categorical.from_codes(codes, regions, validate=False)
            if self.bands is not None and self.bands.elements is not None:
                frame = self._element_band_columns(frame, block)
            yield self._with_status(frame, "region")

    def _element_band_columns(self, frame: pd.DataFrame, block: np.ndarray) -> pd.DataFrame:
        """``<quantity>_p5/_p50/_p95`` of the element rows of a block of regions (their order:
        route, region, element, year; layout of :mod:`ewaste_tracker.uncertainty.elements`)."""
        from ewaste_tracker.flows.minerals import ROUTES
        from ewaste_tracker.uncertainty.elements import QUANTITIES

        assert self.bands is not None
        n_r, n_e, n_n = len(self.regions), len(self.elements), len(self.years)
        k = np.arange(len(ROUTES))[:, None, None, None]
        r = np.asarray(block, dtype=np.int64)[None, :, None, None]
        e = np.arange(n_e)[None, None, :, None]
        n = np.arange(n_n)[None, None, None, :]
        index = (((k * n_r + r) * n_e + e) * n_n + n).ravel()
        step = len(ROUTES) * n_r * n_e * n_n
        columns = {}
        for q, name in enumerate(QUANTITIES):
            band = self.bands.element_band(q * step + index)
            for i, p in enumerate(("p5", "p50", "p95")):
                columns[f"{name}_{p}"] = band[:, i]
        return frame.assign(**columns)

    def _frames(self, detail: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        key = f"frames:{detail}"
        if key not in self._cache:
            for name in ("flows", "stocks"):
                self._cache[f"{key}:{name}"] = _concat(list(self.blocks(name, detail=detail)))
            self._cache[key] = pd.DataFrame()
        return self._cache[key + ":flows"], self._cache[key + ":stocks"]

    @property
    def flows(self) -> pd.DataFrame:
        """Every flow of the shown regions by product and year (tonnes).

        Columns ``region_from, stage_from, region_to, stage_to, product, year, value_t,
        status``; the boundary is region and stage ``sysenv`` (stages:
        :class:`ewaste_tracker.flows.system.Stage`). Trade edges appear when their origin or
        destination is shown.
        """
        return self._frames("product")[0]

    @property
    def stocks(self) -> pd.DataFrame:
        """Stocks of the shown regions: ``region, stage, product, year, stock_t,
        stock_change_t, status`` (``use`` is the in-use stock, the final sinks accumulate)."""
        return self._frames("product")[1]

    def totals(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:attr:`flows` and :attr:`stocks` summed over products (no ``product`` column)."""
        return self._frames("total")

    @property
    def element_flows(self) -> pd.DataFrame:
        """Elements by route: ``region, year, element, route, input_t, recovered_t, lost_t,
        recovered_usd, lost_usd, status`` (tonnes of element; USD at the run's prices); with
        Monte Carlo draws also ``input_t_p5 .. lost_t_p95`` before ``status``."""
        if "elements" not in self._cache:
            self._cache["elements"] = _concat(list(self._element_blocks()))
        return self._cache["elements"]

    @property
    def footprint(self) -> pd.DataFrame:
        """Life-cycle footprint: ``region, year, group, indicator, value, unit, status,
        source`` for the groups ``all`` and ``ict`` (see :mod:`ewaste_tracker.footprint`);
        with Monte Carlo draws also ``p5, p50, p95`` after ``value``."""
        if "footprint" not in self._cache:
            from ewaste_tracker.footprint import footprint_table

            self._cache["footprint"] = footprint_table(self)
        return self._cache["footprint"]

    @property
    def footprint_factors(self) -> pd.DataFrame:
        """The life-cycle factors per UNU-KEY behind :attr:`footprint`, with their sources
        (:func:`ewaste_tracker.model.footprint.factors_table`)."""
        from ewaste_tracker.model.footprint import factors_table

        return factors_table()

    # ----------------------------------------------------------------------------- access

    def value(self, region: str, indicator: str, year: int, element: str | None = None) -> float:
        """One indicator value (``nan`` when the cell is undefined).

        Parameters
        ----------
        region
            ISO3 code, ``WLD`` or a UN region.
        indicator
            Indicator name, e.g. ``"generated_t"``, ``"lost_usd"``.
        year
            Calendar year.
        element
            Element symbol for per-element indicators.
        """
        t = self.indicators
        sel = (t["region"] == region) & (t["indicator"] == indicator) & (t["year"] == int(year))
        sel &= t["element"].isna() if element is None else t["element"] == element
        rows = t.loc[sel, "value"]
        return float(rows.iloc[0]) if len(rows) else float("nan")

    def graph(self, year: int | None = None) -> nx.DiGraph:
        """The lifecycle graph (networkx) of every region.

        Parameters
        ----------
        year
            One year: edge ``flow`` and node ``stock`` / ``stock_change`` arrays are ``(P, 1)``
            slices of that year (``G.graph["years"]`` is ``[year]``), so mass balance, tables
            and Sankey diagrams work on it unchanged. Default all years ``(P, N)``.

        Returns
        -------
        networkx.DiGraph
            Nodes ``(region, stage)``; see :func:`ewaste_tracker.flows.system.system_to_graph`.
        """
        G = self.result.graph()
        if year is None:
            return G
        n = self._year_index(year, option="year")
        sl = slice(n, n + 1)
        G.graph["years"] = self.years[sl]
        for _, _, data in G.edges(data=True):
            data["flow"] = data["flow"][:, sl]
        for _, data in G.nodes(data=True):
            for name in ("stock", "stock_change"):
                if name in data:
                    data[name] = data[name][:, sl]
        return G

    def _year_index(self, year: int, *, option: str) -> int:
        years = self.years
        if not int(years[0]) <= int(year) <= int(years[-1]):
            raise InputError(
                "year outside the estimate", column=option, value=year,
                expected=f"a year from {int(years[0])} to {int(years[-1])}",
            )  # fmt: skip
        return int(year) - int(years[0])

    def to_folder(
        self,
        path: str | Path,
        *,
        format: Literal["parquet", "csv"] = "parquet",
        detail: Literal["product", "total"] | None = None,
        progress: Progress | None = None,
        before_publish: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write every table, ``run.json`` and ``datapackage.json`` into ``path``.

        See :func:`ewaste_tracker.outputs.write_estimate`. ``detail`` defaults to
        ``"total"`` (flows and stocks summed over products) when every country of the world
        is shown, ``"product"`` otherwise.
        """
        from ewaste_tracker.outputs import write_estimate

        if detail is None:
            detail = "total" if self.countries is None and self.kind == "default" else "product"
        return write_estimate(
            self, path, format=format, detail=detail, progress=progress,
            before_publish=before_publish,
        )  # fmt: skip


_RECENT: OrderedDict[tuple, tuple[pd.DataFrame, Any]] = OrderedDict()
"""The last :data:`RECENT_ESTIMATES` default estimates of this process, keyed on what they
were computed from (the store's identity, the last year, the collection target): entry
points in one process (a test session, the map and the app in one server, a notebook
comparing stores) reuse them instead of recomputing."""
RECENT_ESTIMATES = 3


def store_identity(store: str | Path | None = None) -> tuple | None:
    """A key of the store's published data (see
    :func:`ewaste_tracker.reported.overlay.store_identity`): estimates computed for the same
    key are the same. ``None`` when the store does not exist yet (no submissions: the same
    estimate as ``reported=False``)."""
    from ewaste_tracker.reported.overlay import store_identity as _identity

    key = _identity(store)
    return None if key[-2:] == (-1, -1) else key


def _countries(
    countries: Iterable[str] | str | None, known: Iterable[str]
) -> tuple[str, ...] | None:
    if countries is None:
        return None
    items = [countries] if isinstance(countries, str) else list(countries)
    codes = [c.strip().upper() for item in items for c in str(item).split(",") if c.strip()]
    if not codes:
        raise InputError(
            "no country given", column="--countries", expected="ISO3 codes such as KEN,NGA"
        )
    have = set(known)
    unknown = [c for c in codes if c not in have]
    if unknown:
        raise InputError(
            "unknown or unmodelled country", column="--countries", value=",".join(unknown),
            expected="ISO3 codes of the modelled regions, e.g. KEN",
        )  # fmt: skip
    return tuple(dict.fromkeys(codes))


def estimate(
    countries: Iterable[str] | str | None = None,
    *,
    until: int | None = None,
    store: str | Path | None = None,
    inputs: str | Path | ModelInputs | None = None,
    reported: bool = True,
    collection_target: float = 0.65,
    progress: Progress | None = None,
    reported_mode: Literal["auto", "reconcile", "targets"] = "auto",
    draws: int | None = None,
    seed: int = 0,
    scheduler: str | None = None,
    batch: int | None = None,
    workers: int | None = None,
) -> Estimate:
    """Estimate put on market, stocks, e-waste, flows, minerals and indicators.

    Parameters
    ----------
    countries
        ISO3 codes (a list, or one comma-separated string) the tables show; default every
        region with the world ``WLD`` and the UN regions. The model always runs every region.
    until
        Last year (default 2030 for the default estimate, the last put-on-market year for
        user inputs).
    store
        The tracker store whose published submissions apply: a GeoPackage path or a
        ``postgresql://`` URL (default :func:`ewaste_tracker.settings.store_target`; a store
        that does not exist means "no submissions").
    inputs
        A folder of input tables (see README, ``run --inputs``) or validated
        :class:`~ewaste_tracker.model.run.ModelInputs`, instead of the catalogue defaults.
        Store submissions are not applied to user inputs.
    reported
        Apply the store's submissions to the default estimate (default ``True``).
    collection_target
        Target collection rate of the gap indicators (EU WEEE Directive: 0.65).
    progress
        Called with a short text after each step (reading, each model run).
    reported_mode
        How submissions enter: ``"targets"`` (met exactly), ``"reconcile"`` (reconciled with
        the model's flows first, :mod:`ewaste_tracker.reported.reconcile`) or ``"auto"``
        (reconciled for countries whose submission states uncertainties; the default).
    draws, seed
        Monte Carlo draws of the inputs (default none: one central run, no cost); each
        indicator row then gets ``p5``, ``p50``, ``p95`` (:mod:`ewaste_tracker.uncertainty`).
        The same seed gives the same bands whatever ``batch``, ``workers`` or ``scheduler``.
    scheduler
        Address of a running ``dask.distributed`` scheduler to run the draws on.
    batch
        Draws per engine run (memory grows with it).
    workers
        Worker processes of a local Dask cluster.

    Returns
    -------
    Estimate

    Raises
    ------
    InputError
        Bad inputs, an unknown country or a year outside the range; nothing was computed.
    """
    from ewaste_tracker.model.run import ModelInputs, run_model
    from ewaste_tracker.reported.overlay import REPORTED_COLUMNS, reported_values
    from ewaste_tracker.reported.reconcile import MODES, apply_reconciled

    def tick(text: str) -> None:
        if progress is not None:
            progress(text)

    if not 0.0 <= float(collection_target) <= 1.0:
        raise InputError(
            "must be a rate", column="collection_target", value=collection_target,
            expected="a number from 0 to 1",
        )  # fmt: skip
    if reported_mode not in MODES:
        raise InputError("unknown reported mode", column="reported_mode", value=reported_mode,
                         expected=" or ".join(MODES))  # fmt: skip
    empty = pd.DataFrame(columns=REPORTED_COLUMNS)
    if inputs is not None:
        if isinstance(inputs, ModelInputs):
            model_inputs = inputs
        else:
            from ewaste_tracker.defaults.fates import default_transfer_coefficients
            from ewaste_tracker.model.folder import read_inputs_folder

            model_inputs = read_inputs_folder(
                inputs, until=until, default_transfer_coefficients=default_transfer_coefficients
            )
        model_inputs.collection_target = float(collection_target)
        tick("inputs read")
        shown = _countries(countries, model_inputs.pom["region"].unique())
        result = run_model(model_inputs)
        tick("model run")
        est = Estimate(model_inputs, result, empty, None, "inputs", shown)
        return _with_bands(est, draws, seed, scheduler, batch, workers, tick)

    from ewaste_tracker.defaults.inputs import LAST_YEAR, default_inputs

    last = LAST_YEAR if until is None else int(until)
    key = (store_identity(store) if reported else None, last, float(collection_target),
           reported_mode)  # fmt: skip
    if key in _RECENT:
        _RECENT.move_to_end(key)
        values, run = _RECENT[key]
        tick("estimate reused (same defaults and store)")
    else:
        base = default_inputs(until=last, collection_target=collection_target)
        values = reported_values(store) if reported else empty
        tick("defaults and submissions read")
        run = apply_reconciled(base, values, mode=reported_mode, progress=tick)
        _RECENT[key] = (values, run)
        while len(_RECENT) > RECENT_ESTIMATES:
            _RECENT.popitem(last=False)
    shown = _countries(countries, run.result.dims.regions)
    gaps = run.gaps if len(values) else None
    from ewaste_tracker.submissions.environment import environment_values

    env = environment_values(store) if reported else None
    logger.info(
        "estimate: %d regions x %d products x %d years, %d reported values from %d countries",
        *run.result.dims.shape, len(values), values["country"].nunique() if len(values) else 0,
    )  # fmt: skip
    est = Estimate(run.inputs, run.result, values, gaps, "default", shown, run.passes, env,
                   reconciliation=run.reconciliation,
                   reconciliation_chi2=run.reconciliation_chi2)  # fmt: skip
    return _with_bands(est, draws, seed, scheduler, batch, workers, tick)


def _with_bands(
    est: Estimate,
    draws: int | None,
    seed: int,
    scheduler: str | None,
    batch: int | None,
    workers: int | None,
    tick: Progress,
) -> Estimate:
    """The estimate with Monte Carlo bands of its shown indicator rows (none for 0 draws)."""
    if draws is None or (draws == 0 and not isinstance(draws, bool)):
        return est
    from ewaste_tracker.uncertainty.bands import run_bands

    table = est.result.indicators
    keep = None
    if est.countries is not None:
        keep = table["region"].isin(est.countries).to_numpy()
    bands = run_bands(
        est.inputs, draws=draws, seed=seed, batch=batch, scheduler=scheduler,
        workers=workers, keep=keep, progress=tick, footprint=True,
        footprint_regions=est.countries, elements=True, element_regions=est.countries,
        flows=True, flow_regions=est.countries,
    )  # fmt: skip
    tick(f"{draws} draws")
    est.bands = bands
    est._cache.clear()
    return est
