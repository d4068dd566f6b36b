r"""Monte Carlo bands of an estimate: batches of draws, on one process or a Dask cluster.

:func:`run_bands` prepares the central run once, splits draws ``0 .. N-1`` into batches of
``batch`` draws, runs every batch as one tiled engine run (:func:`batch_values`) and keeps,
per draw, only the indicator cells of the central table (float32). The 5th, 50th and 95th
percentiles are exact over all draws (``numpy.quantile``, linear interpolation) while the
kept draws fit in :data:`EXACT_LIMIT_BYTES` of memory, or, beyond, in a temporary file of up
to :data:`DISK_LIMIT_BYTES` (and half the free space), read back a block of cells at a time;
beyond that, each cell folds its draws into a fixed histogram
(:mod:`ewaste_tracker.uncertainty.sketch`: 2.6 % bins, memory independent of the number of
draws).

Memory: a batch holds the engine's arrays for ``batch`` copies of the world (about
0.3-0.5 GB per draw of the 239-region model, measured by ``benchmarks/uncertainty.py``),
and the reduction holds :math:`N \times C` float32 indicator cells (:math:`C` = 2.8 million
for the world: 11 MB per draw) in memory or on disk. Peak memory is therefore
:math:`\approx B \cdot m_{draw} + \min(4 N C, 516\,C)` bytes (exact, or the sketch's window
of 258 ``uint16`` counters per cell); ``countries=`` keeps only the shown regions' cells.
The element and flow tables of every region (4.6 and 34 million cells for the world; the
flows summed over products alone, 1.3 million, when those by product do not fit) get bands
while their draws fit the exact budget; with the sketch (10,000 draws of the world), only for
the countries asked for.

Distribution: with ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) the batches
are tasks of that ``dask.distributed`` cluster; with ``workers`` (or more than
:data:`LOCAL_CLUSTER_DRAWS` draws) a ``LocalCluster`` of that many single-threaded worker
processes is started and closed. The draw space is scattered once to every worker; each
task returns its batch's kept cells. Draw :math:`d` has its own generator, so the bands are
identical whatever the batch size or the number of workers.

Footprint: with ``footprint=True`` each batch also computes the footprint table's cells on
the same draws' systems with drawn life-cycle factors
(:mod:`ewaste_tracker.uncertainty.footprint`); they travel beside the indicator cells
through the same exact or sketch percentiles (:attr:`Bands.footprint`).
"""

from __future__ import annotations

import itertools
import logging
import mmap
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.flows.balance import check_mass_balance
from ewaste_tracker.flows.system import system_to_graph
from ewaste_tracker.model.run import ModelInputs, compute_run, prepare_run
from ewaste_tracker.settings import tune_allocator
from ewaste_tracker.uncertainty.draws import (
    DrawSpace,
    Spreads,
    draw,
    draw_space,
    provenance,
    tile_batch,
)
from ewaste_tracker.uncertainty.elements import ElementCells, element_cells, element_values
from ewaste_tracker.uncertainty.flows import FlowCells, flow_cells, flow_values
from ewaste_tracker.uncertainty.footprint import (
    FootprintSpace,
    batch_footprint,
    footprint_draw,
    footprint_provenance,
    footprint_space,
)
from ewaste_tracker.uncertainty.sketch import PILOT, HistogramSketch

__all__ = ["QUANTILES", "Bands", "batch_values", "run_bands"]

logger = logging.getLogger(__name__)

QUANTILES = (0.05, 0.5, 0.95)
"""The band: p5, p50, p95."""
DEFAULT_BATCH = 4
LOCAL_CLUSTER_DRAWS = 1000
"""Above this many draws (and with no scheduler), a LocalCluster runs the batches."""
EXACT_LIMIT_BYTES = 3 * 2**30
"""Kept draws held in memory for exact percentiles."""
DISK_LIMIT_BYTES = 24 * 2**30
"""Kept draws held in a temporary file for exact percentiles (beyond: the sketch)."""
QUANTILE_BLOCK_BYTES = 256 * 2**20
IN_FLIGHT = 3
"""Batches submitted ahead per worker (the rest wait on the client, not in the workers)."""
CONNECT_TIMEOUT = "10s"
"""How long to wait for a scheduler before telling the user it cannot be reached."""


@dataclass
class Bands:
    """Percentiles of every kept indicator cell over the draws.

    Attributes
    ----------
    quantiles
        ``(C, 3)`` p5, p50, p95 of the cells ``cells`` of the central indicator array, in
        the order of the central indicator table (its rows ``rows``).
    rows
        Positions in the central indicator table (``RunResult.indicators``) of the cells.
    draws, seed, batch
        What was run.
    spreads
        The spreads of the input distributions.
    values
        ``(N, C)`` float32 draws of the kept cells (for differences between runs with the
        same draws: :func:`ewaste_tracker.scenario.scenario_bands`); ``None`` when the
        percentiles come from the bounded-memory sketch.
    method
        ``exact`` or ``sketch`` (:mod:`ewaste_tracker.uncertainty.sketch`).
    footprint
        ``(F, 3)`` p5, p50, p95 of the kept footprint cells (``run_bands(footprint=True)``),
        or ``None``.
    footprint_rows
        Positions of those cells among the rows of the central footprint table before
        operators' rows are added (:func:`ewaste_tracker.flows.footprint.footprint_values`
        layout), or ``None``.
    footprint_values
        ``(N, F)`` float32 draws of those cells (for sums and differences of footprint rows
        within each draw); ``None`` without footprint or with the sketch.
    elements, element_rows
        ``(X, 3)`` p5, p50, p95 of the kept element-table cells and their positions in the
        element layout (:mod:`ewaste_tracker.uncertainty.elements`), or ``None``.
    flows, flow_rows
        The same for the flows table (flow layout, :mod:`ewaste_tracker.uncertainty.flows`).
    """

    quantiles: np.ndarray
    rows: np.ndarray
    draws: int
    seed: int
    batch: int
    spreads: Spreads
    values: np.ndarray | None
    workers: int = 1
    scheduler: str | None = None
    method: str = "exact"
    footprint: np.ndarray | None = None
    footprint_rows: np.ndarray | None = None
    footprint_values: np.ndarray | None = None
    elements: np.ndarray | None = None
    element_rows: np.ndarray | None = None
    flows: np.ndarray | None = None
    flow_rows: np.ndarray | None = None

    @property
    def provenance(self) -> pd.DataFrame:
        """The distributions of the draws and their sources (the ``uncertainty`` table)."""
        table = provenance(self.spreads)
        if self.footprint is None:
            return table
        return pd.concat([table, footprint_provenance(self.spreads.footprint)], ignore_index=True)

    def frame(self, n_rows: int) -> pd.DataFrame:
        """``p5, p50, p95`` columns for a table of ``n_rows`` rows (NaN where not kept)."""
        out = np.full((n_rows, 3), np.nan)
        out[self.rows] = self.quantiles
        return pd.DataFrame(out, columns=["p5", "p50", "p95"])

    def element_band(self, index: np.ndarray) -> np.ndarray:
        """``(len(index), 3)`` p5, p50, p95 of element-layout cells (NaN where not kept)."""
        return _lookup(self.elements, self.element_rows, index)

    def flow_band(self, index: np.ndarray) -> np.ndarray:
        """``(len(index), 3)`` p5, p50, p95 of flow-layout cells (NaN where not kept)."""
        return _lookup(self.flows, self.flow_rows, index)

    def footprint_band(self, n_rows: int) -> np.ndarray:
        """``(n_rows, 3)`` p5, p50, p95 of the footprint rows (NaN where not kept)."""
        out = np.full((n_rows, 3), np.nan)
        if self.footprint is not None and self.footprint_rows is not None:
            out[self.footprint_rows] = self.footprint
        return out


def _lookup(q: np.ndarray | None, rows: np.ndarray | None, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of the sorted kept positions ``rows`` with quantiles ``q`` (else NaN)."""
    index = np.asarray(index, dtype=np.int64)
    out = np.full((index.size, 3), np.nan)
    if q is None or rows is None or not rows.size:
        return out
    at = np.minimum(np.searchsorted(rows, index), rows.size - 1)
    hit = rows[at] == index
    out[hit] = q[at[hit]]
    return out


def check_draw_balance(system: object) -> None:
    """Mass balance of every node of every draw of a batch (raises on a violation)."""
    check_mass_balance(system_to_graph(system), rtol=1e-6)  # type: ignore[arg-type]


def batch_values(
    space: DrawSpace,
    seed: int,
    start: int,
    stop: int,
    cells: np.ndarray,
    check: bool = False,
    footprint: FootprintSpace | None = None,
    elements: ElementCells | None = None,
    flows: FlowCells | None = None,
) -> np.ndarray:
    """Kept indicator cells of draws ``start .. stop - 1``: ``(stop - start, C)`` float32.

    The draws run as one engine run over ``stop - start`` copies of the regions. With
    ``footprint``, the kept footprint cells of the same draws follow the indicator cells
    (``C + F`` columns); with ``elements``, the kept element-table cells follow them.
    """
    tune_allocator()  # in a Dask worker process too (settings.tune_allocator)
    draws = [draw(space, seed, i) for i in range(start, stop)]
    prep = tile_batch(space, draws)
    out = compute_run(prep)
    if check:
        check_draw_balance(out.system)
    flat = out.values.reshape(len(draws), -1)
    parts = [np.ascontiguousarray(flat[:, cells], dtype=np.float32)]
    if footprint is not None:
        assert out.first_life is not None
        fdraws = [footprint_draw(footprint, seed, i) for i in range(start, stop)]
        fp = batch_footprint(footprint, prep, out.system, out.first_life, draws=draws,
                             fdraws=fdraws)  # fmt: skip
        parts.append(fp.reshape(len(draws), -1)[:, footprint.cells].astype(np.float32))
    if elements is not None:
        parts.append(element_values(elements, out.elements, len(draws)))
    if flows is not None:
        parts.append(flow_values(flows, out.system, len(draws)))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


class _Clock:
    """Logs how many draws are done, at most once a minute (a long run says where it is)."""

    def __init__(self, draws: int, every: float = 60.0) -> None:
        self.draws, self.every, self.done = draws, every, 0
        self.start = self.last = time.monotonic()

    def tick(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.draws:
            self.last = now
            rate = (now - self.start) / max(self.done, 1)
            logger.info(
                "bands: %d of %d draws in %.0f s (%.3f s per draw, %.0f s to go)",
                self.done, self.draws, now - self.start, rate, rate * (self.draws - self.done),
            )  # fmt: skip


def _exact_budget() -> int:
    """Bytes of kept draws the exact percentiles may take: :data:`EXACT_LIMIT_BYTES` in
    memory, or up to :data:`DISK_LIMIT_BYTES` (and half the free space) in a temporary file."""
    try:
        free = shutil.disk_usage(tempfile.gettempdir()).free
    except OSError:
        return EXACT_LIMIT_BYTES
    return max(EXACT_LIMIT_BYTES, min(DISK_LIMIT_BYTES, free // 2))


def _draw_store(draws: int, cells: int) -> np.ndarray:
    """``(draws, cells)`` float32 for the kept draws: in memory up to
    :data:`EXACT_LIMIT_BYTES`, else memory-mapped on a temporary file that is unlinked at
    once (the mapping keeps it until the array is gone; nothing is left behind)."""
    if 4 * draws * cells <= EXACT_LIMIT_BYTES:
        return np.empty((draws, cells), dtype=np.float32)
    with tempfile.NamedTemporaryFile(prefix="ewaste-tracker-draws-", suffix=".f32") as tmp:
        tmp.truncate(4 * draws * cells)
        store = np.memmap(tmp.name, dtype=np.float32, mode="r+", shape=(draws, cells))
    logger.info("bands: %d draws of %d cells kept on disk (%.1f GB, bounded memory)",
                draws, cells, 4 * draws * cells / 2**30)  # fmt: skip
    return store


def _release(store: np.ndarray) -> None:
    """Drop the pages of a memory-mapped draw store from this process's resident memory.

    The mapping is shared and file-backed, so ``MADV_DONTNEED`` only unmaps the pages: what
    was written stays in the file (and the page cache, which the kernel can write back and
    evict), and a later read maps it again. Without this, every draw written or read counts
    in the process's resident set (6.3 GB for 200 draws of the world's cells). A no-op for
    arrays in memory and where ``madvise`` is missing.
    """
    mm = getattr(store, "_mmap", None)
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if mm is not None and advice is not None and hasattr(mm, "madvise"):
        mm.madvise(advice)


def _quantiles(values: np.ndarray) -> np.ndarray:
    """``(C, 3)`` percentiles of ``(D, C)`` draws, a block of cells at a time (a memory-mapped
    store is read one block of columns at a time)."""
    q = np.asarray(QUANTILES)
    out = np.empty((values.shape[1], q.size))
    step = max(1, QUANTILE_BLOCK_BYTES // (4 * max(values.shape[0], 1)))
    for a in range(0, values.shape[1], step):
        block = np.array(values[:, a : a + step])
        _release(values)
        if np.isnan(block).any():
            out[a : a + step] = np.nanquantile(block, q, axis=0).T
        else:
            out[a : a + step] = np.quantile(block, q, axis=0).T
    return out


def _check(draws: int, seed: int, batch: int | None, workers: int | None) -> None:
    for name, value, low in (("draws", draws, 1), ("seed", seed, 0),
                             ("batch", batch, 1), ("workers", workers, 1)):  # fmt: skip
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(
                "not a whole number in range", column=name, value=value,
                expected=f"a whole number >= {low}",
            )  # fmt: skip


def run_bands(
    inputs: ModelInputs,
    *,
    draws: int,
    seed: int = 0,
    batch: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    spreads: Spreads | None = None,
    keep: np.ndarray | None = None,
    check: bool = False,
    progress: Callable[[str], None] | None = None,
    method: str = "auto",
    footprint: bool = False,
    footprint_regions: Collection[str] | None = None,
    elements: bool = False,
    element_regions: Collection[str] | None = None,
    flows: bool = False,
    flow_regions: Collection[str] | None = None,
) -> Bands:
    """Monte Carlo bands of a run's indicators.

    Parameters
    ----------
    inputs
        The run's inputs (with reported values in place).
    draws, seed
        Number of draws and the seed (draw ``d`` uses ``default_rng([seed, d])``).
    batch
        Draws per engine run (default :data:`DEFAULT_BATCH`; memory grows with it).
    scheduler
        Address of a running ``dask.distributed`` scheduler.
    workers
        Worker processes of a LocalCluster (default: none below
        :data:`LOCAL_CLUSTER_DRAWS` draws, else ``os.cpu_count()``).
    spreads
        Spreads of the input distributions (default :class:`Spreads`).
    keep
        Boolean mask over the central indicator table's rows to keep (default all).
    check
        Check the mass balance of every draw (slower).
    method
        ``exact`` (every draw of every kept cell in memory), ``sketch``
        (:class:`~ewaste_tracker.uncertainty.sketch.HistogramSketch`, bounded memory) or
        ``auto``: exact up to :data:`EXACT_LIMIT_BYTES` of kept draws, else the sketch.
    footprint
        Also the bands of the footprint table (:mod:`ewaste_tracker.uncertainty.footprint`:
        the same draws of the flows, and drawn factors).
    footprint_regions
        Footprint rows to keep (region codes, ``WLD`` or UN regions; default every row).
    elements
        Also the bands of the element table's tonnes (:mod:`ewaste_tracker.uncertainty.elements`).
    element_regions
        Regions whose element rows are kept. With none (every region), the element bands are
        left out, with a warning, when their exact percentiles would not fit in
        :data:`EXACT_LIMIT_BYTES` (bounded memory: pass the countries you need).
    flows, flow_regions
        The same for the flows table (:mod:`ewaste_tracker.uncertainty.flows`).

    Returns
    -------
    Bands
    """
    _check(draws, seed, batch, workers)
    spreads = spreads or Spreads()
    batch = int(batch or DEFAULT_BATCH)
    base = prepare_run(inputs)
    central = compute_run(base)
    flat = central.values.reshape(-1)
    finite = np.flatnonzero(np.isfinite(flat))
    rows = np.arange(finite.size) if keep is None else np.flatnonzero(np.asarray(keep))
    cells = finite[rows]
    fspace = None
    central_kept = flat[cells]
    if footprint:
        assert central.first_life is not None
        fspace = footprint_space(inputs, base, central.system, central.first_life,
                                 regions=footprint_regions, k=spreads.footprint)  # fmt: skip
        central_kept = np.concatenate([central_kept, fspace.central])
    n_ind = cells.size
    n_fp = central_kept.size - n_ind
    optional: list[tuple[str, Any, Collection[str] | None]] = []
    if elements:  # the cells first, their central values once they are known to fit
        optional.append(("element", element_cells(central.elements, base.regions,
                                                  element_regions, central=False),
                         element_regions))  # fmt: skip
    if flows:
        optional.append(("flow", flow_cells(central.system, base.regions, flow_regions,
                                            central=False), flow_regions))  # fmt: skip
    kept_extra: dict[str, Any] = {}
    budget = _exact_budget()
    for name, extra, chosen in optional:
        fits = 4 * draws * (central_kept.size + extra.cells.size) <= budget
        if chosen is None and name == "flow" and not fits and method != "sketch":
            extra = flow_cells(central.system, base.regions, None, central=False,
                               totals_only=True)  # fmt: skip
            fits = 4 * draws * (central_kept.size + extra.cells.size) <= budget
            if fits:
                logger.warning(
                    "bands: %d draws of the flows of every region by product would not fit "
                    "in %.1f GB; the flows summed over products get bands (pass the "
                    "countries you need for the products)", draws, budget / 2**30,
                )  # fmt: skip
        if chosen is None and (method == "sketch" or not fits):
            logger.warning(
                "bands: %d draws of the %s table of every region would not fit in %.1f GB; "
                "its bands are left out (pass the countries you need)",
                draws, name, budget / 2**30,
            )  # fmt: skip
            continue
        if name == "element":
            extra.central = element_values(extra, central.elements, 1)[0]
        else:
            extra.central = flow_values(extra, central.system, 1)[0]
        kept_extra[name] = (extra, central_kept.size)
        central_kept = np.concatenate([central_kept, extra.central])
    espace = kept_extra.get("element", (None, 0))[0]
    flspace = kept_extra.get("flow", (None, 0))[0]
    del optional, central, flat  # the central run's arrays are not needed past this point
    n_kept = central_kept.size
    need = 4 * draws * n_kept
    if method not in ("auto", "exact", "sketch"):
        raise InputError("unknown method", column="method", value=method,
                         expected="auto, exact or sketch")  # fmt: skip
    sketch_mode = method == "sketch" or (method == "auto" and need > budget)
    if method == "exact" and need > budget:
        raise InputError(
            f"{draws} draws of {n_kept:,} cells need {need / 2**30:.1f} GB for "
            "exact percentiles", column="draws",
            expected=f"at most {budget // (4 * max(n_kept, 1)):,} draws, or "
            "method='auto' (a histogram sketch)",
        )  # fmt: skip
    space = draw_space(inputs, base, spreads)
    values = None if sketch_mode else _draw_store(draws, n_kept)
    sketch = None
    first = 0
    if sketch_mode:  # the pilot draws, always the same ones, fix the grid of zero cells
        first = min(PILOT, draws)
        pilot = np.concatenate([
            batch_values(space, seed, a, min(a + batch, first), cells, check, fspace, espace,
                         flspace)
            for a in range(0, first, batch)
        ])  # fmt: skip
        sketch = HistogramSketch(central_kept, pilot)
        sketch.add(pilot)
    starts = list(range(first, draws, batch))

    clock = _Clock(draws)

    def accept(a: int, result: np.ndarray) -> None:
        if values is not None:
            values[a : a + len(result)] = result
            _release(values)
        if sketch is not None:
            sketch.add(result)
        clock.tick(len(result))

    use_dask = scheduler is not None or workers is not None or draws > LOCAL_CLUSTER_DRAWS
    n_workers = 1
    if not use_dask:
        for a in starts:
            b = min(a + batch, draws)
            accept(a, batch_values(space, seed, a, b, cells, check, fspace, espace, flspace))
            if progress is not None:
                progress(f"draws {b}/{draws}")
    else:
        n_workers = _run_dask(space, seed, starts, batch, draws, cells, check, accept,
                              scheduler, workers, progress, fspace, espace,
                              flspace)  # fmt: skip
    if sketch is not None:
        quantiles = sketch.quantiles(QUANTILES)
        logger.info("bands: histogram sketch of %d cells (%d bins)", n_kept, sketch.bins)
    else:
        assert values is not None
        quantiles = _quantiles(values)
    return Bands(
        quantiles[:n_ind], rows, draws, seed, batch, spreads,
        None if values is None else values[:, :n_ind], n_workers, scheduler,
        "sketch" if sketch is not None else "exact",
        footprint=None if fspace is None else quantiles[n_ind : n_ind + n_fp],
        footprint_rows=None if fspace is None else fspace.cells,
        footprint_values=None if fspace is None or values is None
        else values[:, n_ind : n_ind + n_fp],
        elements=_part(quantiles, kept_extra, "element"),
        element_rows=None if espace is None else espace.cells,
        flows=_part(quantiles, kept_extra, "flow"),
        flow_rows=None if flspace is None else flspace.cells,
    )  # fmt: skip


def _part(quantiles: np.ndarray, kept: dict[str, Any], name: str) -> np.ndarray | None:
    """The quantiles of one optional table's cells (``None`` when it was left out)."""
    if name not in kept:
        return None
    cells, at = kept[name]
    return quantiles[at : at + cells.cells.size]


def _client(scheduler: str | None, workers: int | None):  # type: ignore[no-untyped-def]
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler ({exc.__class__.__name__})",
                column="--scheduler", value=scheduler,
                expected="the address of a running scheduler, e.g. tcp://127.0.0.1:8786",
            ) from exc  # fmt: skip
    n = int(workers or os.cpu_count() or 1)
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster), cluster


def _run_dask(  # type: ignore[no-untyped-def]
    space,
    seed,
    starts,
    batch,
    draws,
    cells,
    check,
    accept,
    scheduler,
    workers,
    progress,
    fspace=None,
    espace=None,
    flspace=None,
) -> int:
    from distributed import as_completed

    client, cluster = _client(scheduler, workers)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        space_f = client.scatter(space, broadcast=True)
        cells_f = client.scatter(cells, broadcast=True)
        fspace_f = None if fspace is None else client.scatter(fspace, broadcast=True)
        espace_f = None if espace is None else client.scatter(espace, broadcast=True)
        flspace_f = None if flspace is None else client.scatter(flspace, broadcast=True)

        def submit(a: int):  # type: ignore[no-untyped-def]
            return client.submit(batch_values, space_f, seed, a, min(a + batch, draws),
                                 cells_f, check, fspace_f, espace_f, flspace_f,
                                 pure=False)  # fmt: skip

        # A few batches in flight per worker, each released once folded in: a worker keeps
        # a task's result while the client holds its future, so 10,000 futures held to the
        # end would pile every batch's cells up in the workers' memory.
        todo = iter(starts)
        flying = {submit(a): a for a in itertools.islice(todo, IN_FLIGHT * n_workers)}
        queue = as_completed(list(flying), with_results=True)
        done = 0
        for fut, result in queue:
            a = flying.pop(fut)
            fut.release()
            nxt = next(todo, None)
            if nxt is not None:
                new = submit(nxt)
                flying[new] = nxt
                queue.add(new)
            accept(a, result)
            done += len(result)
            if progress is not None:
                progress(f"draws {done}/{draws}")
        logger.info("bands: %d draws in %d batches on %d workers", draws, len(starts), n_workers)
        return n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
