"""The footprint of an estimate: tidy table with status and source, and the ICT operators.

:func:`footprint_table` is what :attr:`ewaste_tracker.estimate.Estimate.footprint` shows: the
indicators of :mod:`ewaste_tracker.flows.footprint` computed on the estimate's flows with the
catalogue's factors (:mod:`ewaste_tracker.model.footprint`), plus the ICT-sector operators'
energy use and scope 1-2 emissions (defaults, or the store's accepted environmental
submissions: :mod:`ewaste_tracker.reported.environment`), for every region, the world ``WLD``
and the UN regions, in the groups ``all`` and ``ict``.

Columns :data:`FOOTPRINT_COLUMNS`; ``status`` is ``reported`` / ``mixed`` / ``estimated``
(``input`` for a user's inputs folder) and ``source`` names the factor file, the submission
or the named assumption behind the row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ewaste_tracker.flows.footprint import ICT_PRODUCTS, footprint_frame, region_aggregator

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

__all__ = ["FOOTPRINT_COLUMNS", "FOOTPRINT_SOURCES", "footprint_arrays", "footprint_table"]

FOOTPRINT_COLUMNS = ("region", "year", "group", "indicator", "value", "unit", "status", "source")
"""Columns of :attr:`ewaste_tracker.estimate.Estimate.footprint`."""

_F = "data/footprint_factors.csv"
FOOTPRINT_SOURCES = {
    "embodied_ghg_t_co2e": f"put on market x embodied GHG per piece ({_F}, cradle-to-gate)",
    "embodied_energy_tj": f"put on market x primary energy per piece ({_F}; named assumption "
    "primary_energy_per_ghg)",
    "embodied_water_m3": f"put on market x water per piece ({_F}; named assumption water_per_ghg)",
    "embodied_adp_t_sb_eq": f"put on market x abiotic depletion per piece ({_F}: contained "
    "elements x CML-IA)",
    "use_phase_energy_gwh": f"mid-year stock in use x kWh per piece and year ({_F}; named "
    "assumption use_stock_mid_year)",
    "use_phase_ghg_t_co2e": "use-phase electricity x data/grid_intensity.csv (Our World in "
    "Data / Ember via codecarbon; named assumption grid_intensity_constant)",
    "refrigerant_in_ewaste_t_co2e": f"e-waste treated x refrigerant content by vintage ({_F}) "
    "x GWP100 (data/refrigerant_gwp.csv, IPCC AR6; named assumption vintage_first_life)",
    "refrigerant_released_t_co2e": "refrigerant of e-waste not formally treated + formal "
    "losses (named assumptions capture_formal, row_exports_untreated)",
    "refrigerant_avoided_t_co2e": "refrigerant recaptured by formal treatment (named "
    "assumption capture_formal)",
    "mining_avoided_t_co2e": "formal pre-processing x composition x recovery x (primary - "
    "secondary GHG) (data/element_footprint.csv; named assumption "
    "mining_avoided_formal_route)",
    "mercury_released_t": f"mercury of lamps and CCFL screens not formally treated ({_F}; "
    "named assumption capture_formal)",
    "bfr_plastics_released_t": f"plastics with brominated flame retardants not formally "
    f"treated ({_F}; named assumption capture_formal)",
}
"""Where each footprint indicator comes from."""
OPERATOR_UNITS = {"operators_energy_gwh": "GWh", "operators_scope1_t_co2e": "t CO2e",
                  "operators_scope2_t_co2e": "t CO2e"}  # fmt: skip
STATUS = ("reported", "mixed", "estimated", "input")


def footprint_arrays(est: Estimate, *, level: str = "central") -> dict[str, np.ndarray]:
    """The estimate's footprint indicators as ``(R, P, N)`` arrays (every region)."""
    from ewaste_tracker.model.footprint import footprint_arrays_for_run

    return footprint_arrays_for_run(est.inputs, est.result, level=level)


def _operators(est: Estimate, arrays: dict[str, np.ndarray], agg: Any) -> pd.DataFrame:
    from ewaste_tracker.model.footprint import grid_for_regions
    from ewaste_tracker.reported.environment import (
        DEFAULT_SOURCE,
        ENV_COLUMNS,
        OPERATOR_INDICATORS,
        default_operators,
        overlay_operators,
    )

    dims = est.result.dims
    mask = np.isin(np.asarray(dims.products, dtype=object), list(ICT_PRODUCTS))
    ict_use = arrays["use_phase_energy_gwh"][:, mask].sum(axis=1)
    grid = grid_for_regions(dims.regions, len(dims.years))
    default = default_operators(ict_use, grid, dims.years)
    env = getattr(est, "environment", None)
    env = pd.DataFrame(columns=ENV_COLUMNS) if env is None else env
    values, status, source = overlay_operators(default, env, regions=dims.regions,
                                               years=dims.years)  # fmt: skip
    frames = []
    n_y = len(dims.years)
    for key, name in OPERATOR_INDICATORS.items():
        val = agg(values[key])
        st = np.asarray(status[key])
        any_rep = agg((st > 0).astype(float)) > 0
        code = np.concatenate([st, np.where(any_rep[st.shape[0] :], 1, 0)])
        src = np.concatenate([source[key], np.where(any_rep[st.shape[0]:], "sum of countries, "
                                                    "some of them reported", "")])  # fmt: skip
        labels = np.repeat(np.asarray(agg.labels, dtype=object), n_y)
        text = np.where(src.ravel() == "", DEFAULT_SOURCE, src.ravel())
        mixed = code.ravel() == 1
        text = np.where(mixed & ~np.char.startswith(text.astype(str), "sum of"),
                        text + " with " + DEFAULT_SOURCE, text)  # fmt: skip
        status_text = np.array(["estimated", "mixed", "reported"], dtype=object)[code.ravel()]
        for group in ("all", "ict"):
            frames.append(pd.DataFrame({
                "region": labels, "year": np.tile(dims.years, len(agg.labels)), "group": group,
                "indicator": name, "value": val.ravel(), "unit": OPERATOR_UNITS[name],
                "status": status_text, "source": text,
            }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def footprint_table(est: Estimate, *, level: str = "central") -> pd.DataFrame:
    """Footprint of every shown region (and the aggregates when all are shown).

    Parameters
    ----------
    est
        The estimate.
    level
        ``low``, ``central`` or ``high`` factors.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FOOTPRINT_COLUMNS`, ordered region, year, group, indicator.
    """
    dims = est.result.dims
    arrays = footprint_arrays(est, level=level)
    frame = footprint_frame(
        arrays, regions=dims.regions, products=dims.products, years=dims.years,
        groups=est.inputs.groups, ict=ICT_PRODUCTS,
    )  # fmt: skip
    frame = frame.assign(
        status="input" if est.kind == "inputs" else "estimated",
        source=frame["indicator"].astype(str).map(FOOTPRINT_SOURCES),
    )
    agg = region_aggregator(dims.regions, est.inputs.groups)
    ops = _operators(est, arrays, agg)
    if est.kind == "inputs":
        ops = ops.assign(status="input")
    out = pd.concat([frame.astype({"region": str, "group": str, "indicator": str,
                                   "unit": str}), ops], ignore_index=True)  # fmt: skip
    shown = None if est.countries is None else list(est.countries)
    if shown is not None:
        out = out[out["region"].isin(shown)]
    order = {r: i for i, r in enumerate(agg.labels)}
    out = out.assign(_r=out["region"].map(order)).sort_values(
        ["_r", "year", "group", "indicator"], kind="stable"
    )
    out = out.drop(columns="_r").reset_index(drop=True)
    for col in ("region", "group", "indicator", "unit", "source"):
        out[col] = pd.Categorical(out[col])
    out["status"] = pd.Categorical(out["status"], categories=list(STATUS))
    return out[list(FOOTPRINT_COLUMNS)]
