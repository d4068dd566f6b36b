"""An estimate written to a folder: Parquet (or CSV) tables, ``run.json``, ``datapackage.json``.

:func:`write_estimate` writes, into a staging folder that replaces ``path`` whole only when
everything succeeded (:class:`ewaste_tracker.files.AtomicDir`):

=========================  ==================================================================
``indicators``             :attr:`ewaste_tracker.estimate.Estimate.indicators`
``flows``, ``stocks``      by product, or summed over products (``detail="total"``)
``element_flows``          elements by route, recovered and lost, tonnes and USD
``footprint``              life-cycle GHG, energy, water and hazardous substances (all / ict)
``footprint_factors``      the life-cycle factors per UNU-KEY with their sources
``reported_gaps``          reported values the model could not meet (when there are any)
``reconciliation``         reported values reconciled with the model's flows, their
                           normalised residuals and flags (when values were reconciled)
``reconciliation_chi2``    the chi-square test of each reconciled region and year
``run.json``               input fingerprint, years, regions, input files, named assumptions
``datapackage.json``       Frictionless Tabular Data Package: every file, every column with its
                           type, description and unit, and every source with its licence
=========================  ==================================================================

Tables are Parquet (``format="parquet"``, dictionary-encoded labels) or CSV (``"csv"``,
UTF-8, 10 significant digits).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.files import AtomicDir
from ewaste_tracker.model.run import ModelInputs, RunResult


class Estimate(Protocol):
    """What this module reads of an :class:`ewaste_tracker.estimate.Estimate` (the estimate
    sits above this module and imports it, not the other way round)."""

    inputs: ModelInputs
    result: RunResult
    reported: pd.DataFrame
    gaps: pd.DataFrame | None
    reconciliation: pd.DataFrame | None
    reconciliation_chi2: pd.DataFrame | None

    @property
    def kind(self) -> str: ...

    countries: tuple[str, ...] | None
    passes: int
    bands: Any

    @property
    def years(self) -> np.ndarray: ...
    @property
    def regions(self) -> tuple[str, ...]: ...
    @property
    def elements(self) -> tuple[str, ...]: ...
    @property
    def indicators(self) -> pd.DataFrame: ...
    @property
    def flows(self) -> pd.DataFrame: ...
    @property
    def stocks(self) -> pd.DataFrame: ...
    @property
    def element_flows(self) -> pd.DataFrame: ...
    @property
    def footprint(self) -> pd.DataFrame: ...
    @property
    def footprint_factors(self) -> pd.DataFrame: ...
    def totals(self) -> tuple[pd.DataFrame, pd.DataFrame]: ...
    def blocks(self, name: str, *, detail: str = ...) -> Iterator[pd.DataFrame]: ...


__all__ = ["FORMATS", "TABLES", "datapackage", "write_blocks", "write_estimate"]

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")

_PERCENTILES = (("p5", "5th percentile"), ("p50", "median"), ("p95", "95th percentile"))
_STATUS = ("status", "string", "reported / mixed / estimated / input (see the README)", None)
TABLES: dict[str, list[tuple[str, str, str, str | None]]] = {
    "indicators": [
        ("region", "string", "ISO3 code, WLD (world) or UN region", None),
        ("year", "integer", "calendar year", None),
        ("indicator", "string", "indicator name (definitions in README and the API docs)", None),
        ("element", "string", "element symbol of per-element indicators, else empty", None),
        ("value", "number", "the value, in the row's unit (the central run)", "see unit"),
        ("p5", "number", "5th percentile over the Monte Carlo draws (run --draws)", "see unit"),
        ("p50", "number", "median over the Monte Carlo draws (run --draws)", "see unit"),
        ("p95", "number", "95th percentile over the Monte Carlo draws (run --draws)", "see unit"),
        ("unit", "string", "unit of value: t, kg/inh, inh, fraction, USD, index", None),
        _STATUS,
        ("source", "string", "where the value comes from (a submission, a model, a file)", None),
    ],
    "flows": [
        ("region_from", "string", "origin region (sysenv = outside the system)", None),
        ("stage_from", "string", "origin lifecycle stage", None),
        ("region_to", "string", "destination region", None),
        ("stage_to", "string", "destination lifecycle stage", None),
        ("product", "string", "UNU-KEY (product detail only)", None),
        ("year", "integer", "calendar year", None),
        ("value_t", "number", "mass flow in the year", "t"),
        *[
            (
                f"value_t_{p}",
                "number",
                f"{label} of value_t over the Monte Carlo draws "
                "(run --draws; the countries asked, or every region while it fits)",
                "t",
            )
            for p, label in _PERCENTILES
        ],
        (
            "hs_code",
            "string",
            "trade edges: HS 2022 8549 for e-waste, the product's heading for "
            "used equipment; blank inside a region",
            None,
        ),
        (
            "basel_code",
            "string",
            "trade edges of e-waste: Basel A1181 (hazardous) / Y49 "
            "(other e-waste), in force from 2025; blank otherwise",
            None,
        ),
        _STATUS,
    ],
    "stocks": [
        ("region", "string", "region", None),
        ("stage", "string", "stage holding a stock (use, recovered, disposed, losses)", None),
        ("product", "string", "UNU-KEY (product detail only)", None),
        ("year", "integer", "calendar year", None),
        ("stock_t", "number", "stock at the end of the year", "t"),
        ("stock_change_t", "number", "change of the stock in the year", "t"),
        _STATUS,
    ],
    "element_flows": [
        ("region", "string", "region", None),
        ("year", "integer", "calendar year", None),
        ("element", "string", "element symbol (or plastics)", None),
        ("route", "string", "treatment route", None),
        ("input_t", "number", "element entering the route", "t"),
        ("recovered_t", "number", "element recovered on the route", "t"),
        ("lost_t", "number", "element lost on the route", "t"),
        (
            "recovered_usd",
            "number",
            "value of the element recovered, at the prices of the row's year",
            "USD",
        ),
        ("lost_usd", "number", "value of the element lost, at the prices of the row's year", "USD"),
        *[
            (f"{q}_{p}", "number", f"{label} of {q} over the Monte Carlo draws (run --draws)", "t")
            for q in ("input_t", "recovered_t", "lost_t")
            for p, label in _PERCENTILES
        ],
        _STATUS,
    ],
    "footprint": [
        ("region", "string", "ISO3 code, WLD (world) or UN region", None),
        ("year", "integer", "calendar year", None),
        ("group", "string", "all (every product) or ict (UNU-KEYs 0301-0309, 0407, 0408)", None),
        ("indicator", "string", "footprint indicator (README: The footprint)", None),
        ("value", "number", "the value, in the row's unit (the central run)", "see unit"),
        (
            "p5",
            "number",
            "5th percentile over the Monte Carlo draws of the flows and the "
            "factors (run --draws; empty for operators' rows)",
            "see unit",
        ),
        ("p50", "number", "median over the Monte Carlo draws (run --draws)", "see unit"),
        ("p95", "number", "95th percentile over the Monte Carlo draws (run --draws)", "see unit"),
        ("unit", "string", "unit of value: t CO2e, GWh, m3, TJ, t Sb-eq, t", None),
        ("status", "string", "reported / mixed / estimated / input", None),
        ("source", "string", "factor file, submission or named assumption behind the row", None),
    ],
    "footprint_factors": [
        ("product", "string", "UNU-KEY", None),
        ("description", "string", "UNU-KEY description", None),
        ("ict", "boolean", "in the ict group", None),
        ("unit_weight_kg", "number", "average unit weight (pieces = mass / weight)", "kg"),
        ("embodied_kg_co2e_per_piece", "number", "cradle-to-gate GHG, central", "kg CO2e"),
        ("embodied_kg_co2e_per_piece_low", "number", "cradle-to-gate GHG, low", "kg CO2e"),
        ("embodied_kg_co2e_per_piece_high", "number", "cradle-to-gate GHG, high", "kg CO2e"),
        ("embodied_kg_co2e_per_kg", "number", "cradle-to-gate GHG per kg", "kg CO2e/kg"),
        ("primary_energy_mj_per_piece", "number", "cradle-to-gate primary energy", "MJ"),
        ("water_m3_per_piece", "number", "cradle-to-gate blue water consumption", "m3"),
        ("adp_kg_sb_eq_per_piece", "number", "abiotic depletion of contained elements", "kg Sb-eq"),
        ("use_kwh_per_piece_year", "number", "use-phase electricity", "kWh/year"),
        ("refrigerants", "string", "refrigerants and blowing agents by sale years", None),
        (
            "refrigerant_kg_co2e_per_piece_latest",
            "number",
            "refrigerant content x GWP100 of the latest vintage",
            "kg CO2e",
        ),
        ("mercury_mg_per_piece_latest", "number", "mercury of the latest vintage", "mg"),
        ("bfr_plastics_kg_per_piece", "number", "plastics with brominated flame retardants", "kg"),
        ("reference_year", "integer", "year of the embodied-GHG data", None),
        ("system_boundary", "string", "system boundary of the embodied factors", None),
        ("status", "string", "published (read in the source) or estimate", None),
        ("source", "string", "source of the embodied GHG", None),
        ("other_sources", "string", "sources of the other factors of the row", None),
    ],
    "uncertainty": [
        ("input", "string", "the input drawn", None),
        ("distribution", "string", "its distribution in every draw", None),
        ("parameters", "string", "parameters of the distribution", None),
        ("source", "string", "data file or named assumption behind the spread", None),
    ],
    "reported_gaps": [
        ("country", "string", "ISO3 code", None),
        ("product", "string", "UNU-KEY", None),
        ("year", "integer", "calendar year", None),
        ("indicator", "string", "submission indicator", None),
        ("reported_t", "number", "reported value", "t"),
        ("modelled_t", "number", "value the model reaches", "t"),
        ("note", "string", "why the value cannot be met", None),
    ],
    "reconciliation": [
        ("region", "string", "ISO3 code", None),
        ("year", "integer", "calendar year", None),
        ("product", "string", "UNU-KEY or EU-6 category as reported", None),
        ("flow", "string", "submission indicator", None),
        ("reported", "number", "reported value", "t"),
        ("sd_reported", "number", "its standard deviation (stated, else the default)", "t"),
        ("model", "number", "the model's value without the reported data", "t"),
        ("reconciled", "number", "reconciled value (the system balances exactly)", "t"),
        ("sd_reconciled", "number", "standard deviation of the reconciled value", "t"),
        (
            "normalised_residual",
            "number",
            "|reconciled - reported| / sd of the adjustment (measurement test)",
            None,
        ),
        ("flagged", "boolean", "normalised residual beyond 3: an implausible value", None),
        ("clipped", "boolean", "fixed at zero by the non-negativity bound", None),
        ("source", "string", "the submission", None),
    ],
    "reconciliation_chi2": [
        ("region", "string", "ISO3 code", None),
        ("year", "integer", "calendar year", None),
        ("statistic", "number", "chi-square statistic of all reported values", None),
        ("dof", "integer", "degrees of freedom (rank of the balances)", None),
        ("p_value", "number", "P(chi-square >= statistic)", None),
        ("statistic_kept", "number", "statistic without the flagged values", None),
        ("p_value_kept", "number", "p-value without the flagged values", None),
        ("flagged", "integer", "reported values flagged", None),
    ],
}
"""Columns of every output table: name, Frictionless type, description, unit."""


PARQUET_ROW_GROUP = 1_000_000
"""Rows per Parquet row group (readers can skip whole groups by their statistics)."""
PARQUET_COMPRESSION = "lz4"
"""Codec of the output tables (``LZ4_RAW`` in the file, read by pyarrow, R arrow, DuckDB,
polars and GDAL). On 10 million rows of the district flows table: 0.74 s of CPU and 63.9 MB,
against 0.95 s and 63.4 MB with zstd (the values are byte-stream split first, so both
codecs see the same well-compressible bytes)."""


def write_blocks(
    blocks: Iterable[pd.DataFrame], path: Path, *, format: str = "parquet"
) -> tuple[int, pd.DataFrame]:
    """Stream blocks of one table into a file, never holding more than one block.

    Parquet: one file whose schema (with pandas' metadata, so categorical columns read back as
    categoricals) comes from the first block; every block becomes row groups of at most
    :data:`PARQUET_ROW_GROUP` rows, LZ4-compressed; label columns dictionary-encoded, the
    float columns stored as byte-stream-split doubles and integers delta-encoded (no
    dictionary: float values rarely repeat); no min/max statistics (they cost more than the
    encoding itself, and the tables are read whole). CSV: UTF-8, a header,
    10 significant digits.

    Parameters
    ----------
    blocks
        Frames with identical columns and dtypes (categoricals with the same categories).
    path
        File to write.
    format
        ``parquet`` or ``csv``.

    Returns
    -------
    rows, head
        Number of rows written, and the first block's first rows (its columns and dtypes).
    """
    rows, head = 0, None
    if format == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            for block in blocks:
                block.to_csv(fh, index=False, header=head is None, float_format="%.10g")
                head = block.iloc[:0] if head is None else head
                rows += len(block)
        return rows, head if head is not None else pd.DataFrame()
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    pending: Future[None] | None = None
    # one writer thread: pyarrow encodes and compresses a block (without the GIL) while
    # the next block is built; at most two blocks are alive at a time
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet") as pool:
        try:
            for block in blocks:
                if writer is None:
                    head = block.iloc[:0]
                    schema = pa.Schema.from_pandas(block, preserve_index=False)
                    floats = [f.name for f in schema if pa.types.is_floating(f.type)]
                    ints = [f.name for f in schema if pa.types.is_integer(f.type)]
                    labels = [f.name for f in schema if pa.types.is_dictionary(f.type)]
                    encoding = {**dict.fromkeys(floats, "BYTE_STREAM_SPLIT"),
                                **dict.fromkeys(ints, "DELTA_BINARY_PACKED")}  # fmt: skip
                    writer = pq.ParquetWriter(
                        path, schema, compression=PARQUET_COMPRESSION, use_dictionary=labels,
                        column_encoding=encoding,
                        write_statistics=False,
                    )  # fmt: skip
                table = pa.Table.from_pandas(block, schema=schema, preserve_index=False)
                rows += len(block)
                del block
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write_table, table, row_group_size=PARQUET_ROW_GROUP)
                del table
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                pending.exception()  # wait for the last write before closing the file
            if writer is not None:
                writer.close()
    if writer is None:  # no block at all: an empty table
        pd.DataFrame().to_parquet(path, index=False)
        return 0, pd.DataFrame()
    return rows, head if head is not None else pd.DataFrame()


class _Stopped(Exception):
    """The write of a table was abandoned (another table's write failed)."""


def _until(stop: threading.Event, blocks: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``blocks`` until ``stop`` is set (then :class:`_Stopped`: the file is abandoned)."""
    for block in blocks:
        if stop.is_set():
            raise _Stopped
        yield block


def _schema(name: str, frame: pd.DataFrame) -> dict[str, Any]:
    known = {c[0]: c for c in TABLES.get(name, [])}
    fields = []
    for col in frame.columns:
        _, typ, desc, unit = known.get(str(col), (col, "any", "", None))
        entry: dict[str, Any] = {"name": str(col), "type": typ, "description": desc}
        if unit is not None:
            entry["unit"] = unit
        fields.append(entry)
    return {"fields": fields}


def datapackage(
    est: Estimate, files: dict[str, tuple[str, pd.DataFrame]], *, format: str
) -> dict[str, Any]:
    """The Frictionless ``datapackage.json`` of a written estimate.

    Parameters
    ----------
    est
        The estimate.
    files
        Resource name → (file name, table written).
    format
        ``parquet`` or ``csv``.
    """
    from ewaste_tracker import __version__, catalog

    src = catalog.sources()
    sources = [
        {"title": f"{r.title}: {r.source}", "path": f"ewaste_tracker/data/{r.file}",
         "version": str(r.year), "licenses": [{"name": r.licence}]}
        for r in src.itertuples()
    ]  # fmt: skip
    if est.kind == "inputs":
        sources += [
            {"title": f"user input: {name}", "path": str(path)}
            for name, path in est.inputs.paths.items()
        ]
    if len(est.reported):
        for label in sorted(set(est.reported["source"].astype(str))):
            sources.append({"title": f"accepted national {label} (tracker store)"})
    media = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv"}[format]
    resources = [
        {
            "name": name,
            "path": file,
            "profile": "tabular-data-resource",
            "format": format,
            "mediatype": media,
            **({"encoding": "utf-8"} if format == "csv" else {}),
            "schema": _schema(name, frame),
        }
        for name, (file, frame) in files.items()
    ]
    return {
        "profile": "tabular-data-package",
        "name": "ewaste-tracker-estimate",
        "title": "ewaste-tracker estimate: e-waste, flows, stocks, minerals and indicators",
        "version": __version__,
        "created_with": f"ewaste-tracker {__version__}",
        "licenses": [{"name": "CC-BY-4.0", "title": "outputs; cite the sources listed"}],
        "resources": resources,
        "sources": sources,
    }


def _run_meta(est: Estimate, detail: str) -> dict[str, Any]:
    from ewaste_tracker.model.fingerprint import fingerprint, tool_version
    from ewaste_tracker.model.run import inputs_fingerprint_tables

    inputs = est.inputs
    return {
        "fingerprint": fingerprint(inputs_fingerprint_tables(inputs)),
        "tool_version": tool_version(),
        "kind": est.kind,
        "countries": list(est.countries) if est.countries else "all",
        "years": [int(est.years[0]), int(est.years[-1])],
        "regions": len(est.regions),
        "products": len(est.result.dims.products),
        "elements": list(est.elements),
        "inputs": inputs.paths,
        "reported": sorted(set(est.reported["country"])) if len(est.reported) else [],
        "model_passes": est.passes,
        "assumptions": {
            "second_life_half_scale": inputs.second_life is None,
            "recovery_central": "recovery" not in inputs.paths,
            "collection_target": inputs.collection_target,
            "generated_net_of_reuse": True,
        },
        "detail": detail,
        "uncertainty": _bands_meta(est.bands),
    }


def _bands_meta(bands: Any) -> dict[str, Any] | None:
    if bands is None:
        return None
    return {
        "draws": int(bands.draws), "seed": int(bands.seed), "batch": int(bands.batch),
        "workers": int(bands.workers), "scheduler": bands.scheduler,
        "quantiles": [0.05, 0.5, 0.95], "method": "exact percentiles over all draws "
        "(numpy.quantile, linear); draw d uses numpy.random.default_rng([seed, d])",
    }  # fmt: skip


def write_estimate(
    est: Estimate,
    path: str | Path,
    *,
    format: str = "parquet",
    detail: str = "product",
    progress: Callable[[str], None] | None = None,
    before_publish: Callable[[Path], None] | None = None,
) -> Path:
    """Write an estimate's tables into ``path`` (replaced whole; see the module docstring).

    Parameters
    ----------
    est
        The estimate.
    path
        Output folder: new, empty, or written by ewaste-tracker before (anything else is
        refused, :class:`ewaste_tracker.files.OutputExistsError`).
    format
        ``parquet`` (default) or ``csv``.
    detail
        ``product`` (flows and stocks by UNU-KEY) or ``total`` (summed over products).
    progress
        Called with the name of each file once it is written.
    before_publish
        Called with the staging folder when every file is written, before it replaces
        ``path`` (e.g. to keep the run in the store); if it raises, nothing is published.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if format not in FORMATS:
        raise InputError("unknown format", column="--format", value=format,
                         expected=" or ".join(FORMATS))  # fmt: skip
    if detail not in ("product", "total"):
        raise InputError("unknown detail", column="--detail", value=detail,
                         expected="product or total")  # fmt: skip
    names = ["indicators", "flows", "stocks", "element_flows", "footprint", "footprint_factors"]
    if est.gaps is not None and len(est.gaps):
        names.append("reported_gaps")
    for name in ("reconciliation", "reconciliation_chi2"):
        frame = getattr(est, name, None)
        if frame is not None and len(frame):
            names.append(name)
    if est.bands is not None:
        names.append("uncertainty")
    written: dict[str, tuple[str, pd.DataFrame]] = {}
    with AtomicDir(path, what="estimate") as stage:
        stop = threading.Event()

        def write(name: str) -> tuple[str, pd.DataFrame]:
            file = f"{name}.{format}"
            blocks = _until(stop, est.blocks(name, detail=detail))
            rows, head = write_blocks(blocks, stage / file, format=format)
            logger.debug("%s: %d rows", file, rows)
            return file, head

        # the flows (most of the rows at product level) are built and written in a thread of
        # their own while this one writes the other tables: two cores busy instead of one
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flows") as pool:
            flows = pool.submit(write, "flows")
            try:
                for name in names:
                    if flows.done() and flows.exception() is not None:
                        break  # the flows failed: their error is raised below
                    if name != "flows":
                        written[name] = write(name)
                        if progress is not None:
                            progress(written[name][0])
                written["flows"] = flows.result()
            except BaseException:
                stop.set()  # the flows thread stops at its next block
                raise
        if progress is not None:
            progress(written["flows"][0])
        files = {name: written[name] for name in names}
        (stage / "run.json").write_text(
            json.dumps(_run_meta(est, detail), indent=2, default=str), encoding="utf-8"
        )
        (stage / "datapackage.json").write_text(
            json.dumps(datapackage(est, files, format=format), indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
        if progress is not None:
            progress("run.json, datapackage.json")
        if before_publish is not None:
            before_publish(stage)
    logger.debug("tables written: %s", ", ".join(f for f, _ in files.values()))
    return Path(path)
