"""The footprint of an estimate: tidy table with status and source, and the ICT operators.

:func:`footprint_table` is what :attr:`ewaste_tracker.estimate.Estimate.footprint` shows: the
indicators of :mod:`ewaste_tracker.flows.footprint` computed on the estimate's flows with the
catalogue's factors (:mod:`ewaste_tracker.model.footprint`), plus the ICT-sector operators'
energy use and scope 1-2 emissions (defaults, or the store's accepted environmental
submissions: :mod:`ewaste_tracker.reported.environment`), for every region, the world ``WLD``
and the UN regions, in the groups ``all`` and ``ict``.

Columns :data:`FOOTPRINT_COLUMNS`; ``status`` is ``reported`` / ``mixed`` / ``estimated``
(``input`` for a user's inputs folder) and ``source`` names the factor file, the submission
or the named assumption behind the row. An estimate with Monte Carlo draws adds ``p5, p50,
p95`` after ``value`` (:mod:`ewaste_tracker.uncertainty.footprint`: the draws of the flows
and of the factors); the operators' rows, a published world total allocated by the ICT
devices' electricity, carry no band (NaN).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ewaste_tracker.flows.footprint import GROUPS, ICT_PRODUCTS, region_aggregator

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

__all__ = [
    "BAND_COLUMNS",
    "FOOTPRINT_COLUMNS",
    "FOOTPRINT_SOURCES",
    "footprint_arrays",
    "footprint_table",
]

FOOTPRINT_COLUMNS = ("region", "year", "group", "indicator", "value", "unit", "status", "source")
"""Columns of :attr:`ewaste_tracker.estimate.Estimate.footprint`."""
BAND_COLUMNS = ("p5", "p50", "p95")
"""Added after ``value`` when the estimate has Monte Carlo bands."""

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


def _operators(est: Estimate, ict_use: np.ndarray, agg: Any) -> pd.DataFrame:
    from ewaste_tracker.model.footprint import grid_for_regions
    from ewaste_tracker.reported.environment import (
        DEFAULT_SOURCE,
        ENV_COLUMNS,
        OPERATOR_INDICATORS,
        default_operators,
        overlay_operators,
    )

    dims = est.result.dims
    grid = grid_for_regions(dims.regions, len(dims.years))
    default = default_operators(ict_use, grid, dims.years)
    env = getattr(est, "environment", None)
    env = pd.DataFrame(columns=ENV_COLUMNS) if env is None else env
    values, status, source = overlay_operators(default, env, regions=dims.regions,
                                               years=dims.years)  # fmt: skip
    n_y, n_rows = len(dims.years), len(agg.labels)
    region = pd.Categorical.from_codes(
        np.repeat(np.arange(n_rows, dtype=np.int32), n_y),
        pd.Index(list(agg.labels)),
        validate=False,
    )
    status_labels = pd.Index(["estimated", "mixed", "reported"])
    frames: list[dict[str, Any]] = []
    n = n_rows * n_y
    for key, name in OPERATOR_INDICATORS.items():
        val = agg(values[key])
        st = np.asarray(status[key])
        any_rep = agg((st > 0).astype(float)) > 0
        code = np.concatenate([st, np.where(any_rep[st.shape[0] :], 1, 0)]).ravel()
        # the source text, worked out once per distinct (submission label, mixed) pair
        src_codes, src_labels = pd.factorize(np.asarray(source[key], dtype=object).ravel())
        n_src = len(src_labels)
        aggregate_src = np.where(any_rep[st.shape[0] :], n_src, -1).ravel()
        cell = np.concatenate([src_codes, aggregate_src])  # -1: no submission
        labels = [*src_labels, "sum of countries, some of them reported", ""]
        cell = np.where(cell < 0, n_src + 1, cell)
        pair, pair_of_row = np.unique(cell * 2 + (code == 1), return_inverse=True)
        texts = []
        for p in pair:
            text = labels[p // 2] or DEFAULT_SOURCE
            if p % 2 and not text.startswith("sum of"):
                text = f"{text} with {DEFAULT_SOURCE}"
            texts.append(text)
        text_codes, text_labels = pd.factorize(np.asarray(texts, dtype=object))
        src_col = pd.Categorical.from_codes(
            text_codes[pair_of_row.ravel()], pd.Index(text_labels), validate=False
        )
        status_col = pd.Categorical.from_codes(code.astype(np.int8), status_labels,
                                               validate=False)  # fmt: skip
        for group in ("all", "ict"):
            frames.append({
                "region": region, "year": np.tile(dims.years, n_rows), "group": _same(group, n),
                "indicator": _same(name, n), "value": val.ravel(),
                "unit": _same(OPERATOR_UNITS[name], n), "status": status_col, "source": src_col,
            })  # fmt: skip
    from pandas.api.types import union_categoricals

    return pd.DataFrame({
        col: union_categoricals([f[col] for f in frames]) if isinstance(frames[0][col],
             pd.Categorical) else np.concatenate([f[col] for f in frames])
        for col in frames[0]
    })  # fmt: skip


def _row_order(
    cols: dict[str, np.ndarray], rows: np.ndarray, n_regions: int, n_groups: int, n_ind: int
) -> np.ndarray:
    """``rows`` ordered by region, year, group and indicator code.

    Each row is one cell of that grid, so the order is read off the grid in one pass (a
    counting sort) instead of a four-key ``lexsort``; a grid with a cell used twice, or too
    large to hold, falls back to the sort.
    """
    year = cols["year"][rows]
    y0 = int(year.min()) if rows.size else 0
    n_years = int(year.max()) - y0 + 1 if rows.size else 0
    size = n_regions * n_years * n_groups * n_ind
    known = all(cols[c][rows].min(initial=0) >= 0 for c in ("region", "group", "indicator"))
    if rows.size and known and size <= 8 * rows.size + 1_000_000:
        key = ((cols["region"][rows] * n_years + (year - y0)) * n_groups
               + cols["group"][rows]) * n_ind + cols["indicator"][rows]  # fmt: skip
        slot = np.full(size, -1, dtype=np.int64)
        slot[key] = rows
        order = slot[slot >= 0]
        if order.size == rows.size:
            return order
    return rows[np.lexsort((cols["indicator"][rows], cols["group"][rows], cols["year"][rows],
                            cols["region"][rows]))]  # fmt: skip


def _same(label: str, n: int) -> pd.Categorical[str]:
    """``n`` rows of one label, as a categorical (no text column built row by row)."""
    return pd.Categorical.from_codes(np.zeros(n, np.int8), pd.Index([label]), validate=False)


def _sorted_categorical(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """Categorical of ``labels[codes]`` whose categories are the values present, sorted (as
    ``pd.Categorical`` of the text would give), built from the codes."""
    order = np.argsort(np.asarray(labels, dtype=object), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    sorted_labels = pd.Index(np.asarray(labels, dtype=object)[order])
    cat = pd.Categorical.from_codes(
        np.where(codes >= 0, rank[codes], -1), sorted_labels, validate=False
    )
    return cat.remove_unused_categories()


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
    from ewaste_tracker.flows.footprint import footprint_frame_from_sums
    from ewaste_tracker.model.footprint import footprint_sums_for_run

    dims = est.result.dims
    sums = footprint_sums_for_run(est.inputs, est.result, level=level, ict=ICT_PRODUCTS)
    frame = footprint_frame_from_sums(sums, regions=dims.regions, years=dims.years,
                                      groups=est.inputs.groups)  # fmt: skip
    agg = region_aggregator(dims.regions, est.inputs.groups)
    ops = _operators(est, sums["use_phase_energy_gwh"][1], agg)
    if est.kind == "inputs":
        ops = ops.assign(status="input")
    # both parts as codes over shared label lists (no text column is built row by row)
    regions = pd.Index(agg.labels)
    indicators = sorted({*frame["indicator"].cat.categories, *ops["indicator"].unique()})
    units = list(dict.fromkeys([*frame["unit"].cat.categories, *ops["unit"].unique()]))
    sources = list(dict.fromkeys([*FOOTPRINT_SOURCES.values(), *ops["source"].unique()]))

    def codes(values: pd.Series, labels: list[str] | pd.Index) -> np.ndarray:
        cat = pd.Categorical(values)
        return pd.Index(labels).get_indexer(cat.categories)[cat.codes]

    own_status = STATUS.index("input" if est.kind == "inputs" else "estimated")
    ind_frame = codes(frame["indicator"], indicators)
    source_of = np.array([sources.index(FOOTPRINT_SOURCES[n]) if n in FOOTPRINT_SOURCES else -1
                          for n in indicators])  # fmt: skip
    cols = {
        "region": np.concatenate([codes(frame["region"], regions), codes(ops["region"], regions)]),
        "year": np.concatenate([frame["year"].to_numpy(np.int64), ops["year"].to_numpy(np.int64)]),
        "group": np.concatenate(
            [codes(frame["group"], list(GROUPS)), codes(ops["group"], list(GROUPS))]
        ),
        "indicator": np.concatenate([ind_frame, codes(ops["indicator"], indicators)]),
        "value": np.concatenate([frame["value"].to_numpy(float), ops["value"].to_numpy(float)]),
        "unit": np.concatenate([codes(frame["unit"], units), codes(ops["unit"], units)]),
        "status": np.concatenate(
            [np.full(len(frame), own_status), codes(ops["status"], list(STATUS))]
        ),
        "source": np.concatenate([source_of[ind_frame], codes(ops["source"], sources)]),
    }
    keep = np.ones(len(cols["region"]), dtype=bool)
    if est.countries is not None:
        keep = np.isin(cols["region"], regions.get_indexer(pd.Index(list(est.countries))))
    order = _row_order(cols, np.flatnonzero(keep), len(regions), len(GROUPS), len(indicators))
    out = {k: v[order] for k, v in cols.items()}
    bands = getattr(est, "bands", None)
    band: dict[str, np.ndarray] = {}
    if bands is not None and getattr(bands, "footprint", None) is not None:
        q = np.concatenate([bands.footprint_band(len(frame)), np.full((len(ops), 3), np.nan)])
        band = {name: q[order, i] for i, name in enumerate(BAND_COLUMNS)}
    columns = list(FOOTPRINT_COLUMNS)
    if band:
        at = columns.index("value") + 1
        columns[at:at] = list(BAND_COLUMNS)
    return pd.DataFrame(
        {
            "region": _sorted_categorical(out["region"], list(regions)),
            "year": out["year"],
            "group": _sorted_categorical(out["group"], list(GROUPS)),
            "indicator": _sorted_categorical(out["indicator"], indicators),
            "value": out["value"],
            **band,
            "unit": _sorted_categorical(out["unit"], units),
            "status": pd.Categorical.from_codes(
                out["status"], pd.Index(list(STATUS)), validate=False
            ),
            "source": _sorted_categorical(out["source"], sources),
        },
        copy=False,
    )[columns]
