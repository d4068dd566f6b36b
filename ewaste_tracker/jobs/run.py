"""The ``run`` subcommand: an estimate (defaults and submissions, or a folder of inputs) to files.

:func:`run_to_folder` calls :func:`ewaste_tracker.estimate` and
:meth:`ewaste_tracker.estimate.Estimate.to_folder`, behind a progress bar that advances with
each model pass and each file written, and keeps the run in the store with ``--keep`` (the
folder is published only when that succeeded too).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ewaste_tracker.estimate import Estimate, estimate

__all__ = ["run_to_folder"]

logger = logging.getLogger(__name__)


def run_to_folder(
    inputs_dir: str | Path | None,
    out: str | Path,
    *,
    countries: str | list[str] | None = None,
    until: int | None = None,
    store: str | Path | None = None,
    keep: bool = False,
    format: str = "parquet",
    detail: str | None = None,
) -> Estimate:
    """Run an estimate and write it into ``out`` (see :mod:`ewaste_tracker.outputs`).

    Parameters
    ----------
    inputs_dir
        Folder of input tables, or ``None`` for the all-country default estimate with the
        store's published submissions in place.
    out
        Output folder (new, empty, or written by ewaste-tracker before; replaced whole).
    countries
        ISO3 codes to write (default every region and the aggregates).
    until
        Last year.
    store
        Tracker store (default :func:`ewaste_tracker.settings.store_path`).
    keep
        Also record the run (indicators and input fingerprint) in the store.
    format
        ``parquet`` or ``csv``.
    detail
        ``product`` or ``total``; default ``total`` for the whole world, else ``product``.
    """
    from tqdm import tqdm

    from ewaste_tracker.files import check_output_folder
    from ewaste_tracker.outputs import FORMATS

    check_output_folder(out)  # before any work: a user's file or folder is never touched

    if format not in FORMATS:
        from ewaste_tracker.errors import InputError

        raise InputError("unknown format", column="--format", value=format,
                         expected=" or ".join(FORMATS))  # fmt: skip
    with tqdm(total=3, desc="ewaste-tracker run", unit="step", disable=None) as bar:

        def step(text: str) -> None:
            if bar.n + 1 >= bar.total:
                bar.total = bar.n + 2  # the passes to meet reported data are not known ahead
                bar.refresh()
            bar.set_postfix_str(text)
            bar.update()

        est = estimate(countries, until=until, store=store, inputs=inputs_dir, progress=step)
        files = 7 + (est.gaps is not None and len(est.gaps) > 0) + int(keep)
        bar.total = bar.n + files
        bar.refresh()

        def keep_run(_stage: Path) -> None:
            from ewaste_tracker.model.run import inputs_fingerprint_tables
            from ewaste_tracker.submissions.store import record_run

            record_run(
                est.indicators,
                inputs=inputs_fingerprint_tables(est.inputs),
                label=str(inputs_dir or "default"),
                store=store,
            )
            step("kept in the store")

        est.to_folder(
            out, format=format, detail=detail, progress=step,  # type: ignore[arg-type]
            before_publish=keep_run if keep else None,
        )  # fmt: skip
    logger.debug("run finished: %s", Path(out).resolve())
    return est
