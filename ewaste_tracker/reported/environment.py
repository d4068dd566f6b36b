"""ICT-sector operators' energy use and scope 1-2 emissions: defaults and reported data.

A ministry's accepted environmental submission (:mod:`ewaste_tracker.submissions.environment`)
replaces the default estimate of its operators' energy use and scope 1 and 2 emissions
wherever it reports a value, exactly as an e-waste submission replaces the default put on
market (:mod:`ewaste_tracker.reported.overlay`):

* a value reported for a ``segment`` (``networks`` or ``data_centres``) replaces that
  segment's default; a ``total`` replaces every segment;
* a country-year is ``reported`` when every segment (or the total) of the indicator is
  reported, ``mixed`` when some are, ``estimated`` otherwise; an aggregate (``WLD``, a UN
  region) with a reporting member is ``mixed``.

Default (named assumption ``operators_default``)
    world networks 242 TWh and data centres 245 TWh a year from 2015 (Malmodin J.,
    Lundén D. (2018) The energy and carbon footprint of the global ICT and E&M sectors
    2010-2015, Sustainability 10:3027; recalled, not re-read here), held flat over
    2010-2030 (the study found ICT electricity roughly flat 2010-2015) and ramped linearly
    from 0 in 1990 to 2010, allocated to countries by their share of the world's ICT
    use-phase electricity; scope 2 = energy x the grid's carbon intensity (location based);
    scope 1 (diesel generators, refrigerant leaks) = 0 unless reported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "ENV_COLUMNS",
    "OPERATOR_INDICATORS",
    "SEGMENTS",
    "WORLD_OPERATORS_TWH",
    "default_operators",
    "overlay_operators",
]

logger = logging.getLogger(__name__)

SEGMENTS: tuple[str, ...] = ("networks", "data_centres")
WORLD_OPERATORS_TWH: Mapping[str, float] = {"networks": 242.0, "data_centres": 245.0}
"""World operators' electricity, TWh a year (2015; named assumption ``operators_default``)."""
OPERATOR_INDICATORS: Mapping[str, str] = {
    "energy": "operators_energy_gwh",
    "scope1": "operators_scope1_t_co2e",
    "scope2": "operators_scope2_t_co2e",
}
"""Submission indicator → footprint indicator."""
ENV_COLUMNS = ["country", "year", "segment", "indicator", "value_std", "source"]
"""Columns of the accepted environmental values (``value_std`` in GWh or t CO2e)."""
DEFAULT_SOURCE = (
    "default: world networks 242 TWh + data centres 245 TWh (Malmodin & Lundén 2018, "
    "recalled) allocated by the country's share of ICT use-phase electricity; scope 2 = "
    "energy x data/grid_intensity.csv; scope 1 = 0 (named assumption operators_default)"
)


def default_operators(
    ict_use_gwh: np.ndarray, grid_g_per_kwh: np.ndarray, years: Sequence[int] | np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Default operators' energy and emissions per region, segment and year.

    Parameters
    ----------
    ict_use_gwh
        ``(R, N)`` use-phase electricity of the ICT devices in use (the allocation key).
    grid_g_per_kwh
        ``(R, N)`` carbon intensity, gCO2e/kWh.
    years
        Years of the N axis.

    Returns
    -------
    dict
        indicator (``energy``, ``scope1``, ``scope2``) → segment → ``(R, N)`` in GWh or
        t CO2e.
    """
    use = np.asarray(ict_use_gwh, dtype=float)
    years = np.asarray(years, dtype=float)
    world = use.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(world > 0, use / np.where(world > 0, world, 1.0), 0.0)
    ramp = np.clip((years - 1990.0) / 20.0, 0.0, 1.0)[None, :]
    out: dict[str, dict[str, np.ndarray]] = {"energy": {}, "scope1": {}, "scope2": {}}
    for seg in SEGMENTS:
        energy = share * ramp * WORLD_OPERATORS_TWH[seg] * 1e3
        out["energy"][seg] = energy
        out["scope1"][seg] = np.zeros_like(energy)
        out["scope2"][seg] = energy * np.asarray(grid_g_per_kwh, dtype=float)
    return out


def overlay_operators(
    default: Mapping[str, Mapping[str, np.ndarray]],
    reported: pd.DataFrame,
    *,
    regions: Sequence[str],
    years: Sequence[int] | np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Reported operators' values in place of the defaults.

    Parameters
    ----------
    default
        :func:`default_operators`.
    reported
        Accepted environmental values (:data:`ENV_COLUMNS`; may be empty).
    regions, years
        Axis labels.

    Returns
    -------
    values, status, source : dict
        indicator → ``(R, N)`` totals over segments; ``status`` codes 0 estimated,
        1 mixed, 2 reported; ``source`` the submission label per cell ('' = default).
    """
    years = np.asarray(years, dtype=np.int64)
    index = {r: i for i, r in enumerate(regions)}
    values: dict[str, np.ndarray] = {}
    status: dict[str, np.ndarray] = {}
    source: dict[str, np.ndarray] = {}
    for ind, segs in default.items():
        arrays = {s: np.array(a, dtype=float, copy=True) for s, a in segs.items()}
        shape = next(iter(arrays.values())).shape
        covered = np.zeros(shape, dtype=np.int8)  # segments reported per cell
        src = np.full(shape, "", dtype=object)
        rep = reported[reported["indicator"] == ind] if len(reported) else reported
        if len(rep):
            r = rep["country"].map(index)
            n = rep["year"].astype("int64").to_numpy() - int(years[0])
            ok = r.notna().to_numpy() & (n >= 0) & (n < len(years))
            rep, ri, n = rep[ok], r[ok].to_numpy(int), n[ok]
            total = (rep["segment"] == "total").to_numpy()
            for seg in SEGMENTS:  # "total" replaces every segment, split by the defaults
                sel = (rep["segment"] == seg).to_numpy()
                arrays[seg][ri[sel], n[sel]] = rep["value_std"].to_numpy(float)[sel]
                np.add.at(covered, (ri[sel], n[sel]), 1)
            if total.any():
                rt, nt = ri[total], n[total]
                dsum = sum(np.asarray(segs[s], dtype=float)[rt, nt] for s in SEGMENTS)
                for seg in SEGMENTS:
                    part = np.asarray(segs[seg], dtype=float)[rt, nt]
                    frac = np.where(dsum > 0, part / np.where(dsum > 0, dsum, 1.0),
                                    1.0 / len(SEGMENTS))  # fmt: skip
                    arrays[seg][rt, nt] = rep["value_std"].to_numpy(float)[total] * frac
                covered[rt, nt] = len(SEGMENTS)
            src[ri, n] = rep["source"].astype(str).to_numpy()
        values[ind] = sum((arrays[s] for s in SEGMENTS), start=np.zeros(shape))
        status[ind] = np.where(covered >= len(SEGMENTS), 2, np.where(covered > 0, 1, 0))
        source[ind] = src
    if len(reported):
        logger.info("reported operators' data for %s", sorted(set(reported["country"])))
    return values, status, source
