"""The ``plan-sites`` command: collection-site planning from files to an output folder.

Validates the files at the boundary (:mod:`ewaste_tracker.maps.siting_io` readers raise errors
naming file, row and column; they become :class:`~ewaste_tracker.errors.InputError`), loads the road
network offline when one is given (:mod:`ewaste_tracker.maps.network`), solves the chosen model to
proven optimality with HiGHS (:mod:`ewaste_tracker.maps.siting`), and writes ``sites.geojson``,
``assignments.csv``, ``summary.json`` and ``map.html`` into ``--out`` only when everything
succeeded.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ewaste_tracker.errors import InputError
from ewaste_tracker.tables import AtomicDir

logger = logging.getLogger(__name__)


def _check_file(path: Path | None, option: str) -> None:
    if path is not None and not Path(path).is_file():
        raise InputError("file not found", path=path, column=option)


def plan_sites_to_folder(
    *,
    network: Path | None,
    demand: Path,
    candidates: Path | None,
    costs: Path | None,
    model: str,
    p: int | None,
    minutes: float | None,
    capacity: str | None,
    time_limit: float | None,
    out: Path,
) -> Path:
    """Run :func:`ewaste_tracker.maps.siting.plan_sites` on files and write its results into
    ``out``.

    Raises
    ------
    InputError
        For missing files, inconsistent options (a model's required ``--p`` or
        ``--minutes``, neither ``--network`` nor ``--costs``) and invalid rows; nothing is
        written then.
    """
    from ewaste_tracker.maps.network import NetworkError
    from ewaste_tracker.maps.siting import SitingInputError, plan_sites

    for path, option in ((network, "--network"), (demand, "--demand"),
                         (candidates, "--candidates"), (costs, "--costs")):  # fmt: skip
        _check_file(path, option)
    if network is None and costs is None:
        raise InputError("give a road network (--network) or a cost table (--costs)",
                         column="--network")  # fmt: skip
    if model in ("pmedian", "mclp") and (p is None or p < 1):
        raise InputError(f"the {model} model needs the number of sites", column="--p",
                         value=p, expected="a whole number >= 1")  # fmt: skip
    if model in ("mclp", "lscp") and (minutes is None or minutes <= 0):
        raise InputError(f"the {model} model needs a coverage time", column="--minutes",
                         value=minutes, expected="minutes > 0")  # fmt: skip
    try:
        result = plan_sites(
            network=network, demand=demand, candidates=candidates, costs=costs, model=model,
            p=p, minutes=minutes, capacity=capacity, time_limit=time_limit,
        )  # fmt: skip
    except SitingInputError as exc:
        raise InputError(str(exc).split(": ", 1)[-1], path=exc.path, row=exc.row,
                         column=exc.column) from exc  # fmt: skip
    except NetworkError as exc:
        raise InputError(str(exc), path=network, column="--network") from exc
    with AtomicDir(out) as stage:
        result.to_files(stage)
        from ewaste_tracker.maps.export import save_map

        save_map(result.to_map(), stage / "map.html", offline=True)
    summary = result.summary()
    logger.info("%s: objective %.6g, gap %.3g, %s site(s) chosen, %.2f s", model,
                summary["objective"], summary["gap"], len(summary["chosen"]),
                summary["solve_seconds"])  # fmt: skip
    return Path(out)
