"""The ICT trajectory: ICT emissions against ITU-T L.1470, and scenario levers on it.

ITU-T L.1470 (01/2020), *Greenhouse gas emissions trajectories for the information and
communication technology sector compatible with the UNFCCC Paris Agreement*, sets the ICT
sector's path at a 45 % cut from 2020 to 2030 (in line with the IPCC SR1.5 1.5 °C pathways).
:func:`ict_trajectory` sets, for every region, the ICT emissions of the estimate

.. math:: E_n = G^{emb}_n + G^{use}_n + G^{ops}_n

(embodied GHG of ICT equipment put on market, use-phase GHG of the ICT stock, operators'
scope 1 + 2; :attr:`ewaste_tracker.estimate.Estimate.footprint`, group ``ict``) against the
straight path :math:`T_n = E_{2020} (1 - 0.45 (n - 2020) / 10)` for 2020-2030.

:func:`scenario` re-runs an estimate with :class:`~ewaste_tracker.model.levers.Levers`
(lifetime extension, refurbishment, collection) applied to its inputs, and
:func:`lever_effect` puts the baseline and the scenario trajectories side by side; the app
calls these. :func:`scenario_bands` runs the baseline and the scenario with the same Monte
Carlo draws (common random numbers: draw :math:`d` of both uses
``default_rng([seed, d])``), so the difference after − before has its own p5/p50/p95,
narrower than the two bands side by side because what both share cancels draw by draw.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ewaste_tracker.model.levers import Levers, apply_levers

if TYPE_CHECKING:  # the estimate module is imported by name only (see ewaste_tracker.__init__)
    from ewaste_tracker.estimate import Estimate

__all__ = [
    "L1470_REDUCTION",
    "Levers",
    "ict_trajectory",
    "lever_effect",
    "scenario",
    "scenario_bands",
]

L1470_REDUCTION = 0.45
"""ITU-T L.1470: ICT-sector GHG cut from 2020 to 2030."""
PARTS = {
    "embodied_ghg_t_co2e": "embodied_t_co2e",
    "use_phase_ghg_t_co2e": "use_phase_t_co2e",
    "operators_scope1_t_co2e": "operators_t_co2e",
    "operators_scope2_t_co2e": "operators_t_co2e",
}
TRAJECTORY_COLUMNS = (
    "region", "year", "embodied_t_co2e", "use_phase_t_co2e", "operators_t_co2e",
    "ict_t_co2e", "trajectory_t_co2e", "gap_t_co2e",
)  # fmt: skip


def ict_trajectory(
    est: Estimate, *, base_year: int = 2020, target_year: int = 2030,
    reduction: float = L1470_REDUCTION,
) -> pd.DataFrame:  # fmt: skip
    """ICT emissions of every shown region against the L.1470 path.

    Returns
    -------
    pandas.DataFrame
        :data:`TRAJECTORY_COLUMNS` for ``base_year`` to the estimate's last year (at most
        ``target_year``); ``gap_t_co2e = ict - trajectory`` (positive: above the path).
    """
    last = min(int(est.years[-1]), int(target_year))
    if not int(est.years[0]) <= base_year <= last:
        from ewaste_tracker.errors import InputError

        raise InputError("base year outside the estimate", column="base_year", value=base_year,
                         expected=f"{int(est.years[0])} to {last}")  # fmt: skip
    fp = est.footprint
    sel = (fp["group"] == "ict") & fp["indicator"].isin(list(PARTS)) & fp["year"].between(
        base_year, last)  # fmt: skip
    part = fp.loc[sel, ["region", "year", "indicator", "value"]].astype(
        {"region": str, "indicator": str}
    )
    part["part"] = part["indicator"].map(PARTS)
    wide = part.pivot_table(index=["region", "year"], columns="part", values="value",
                            aggfunc="sum", observed=True).reset_index()  # fmt: skip
    for col in ("embodied_t_co2e", "use_phase_t_co2e", "operators_t_co2e"):
        if col not in wide:
            wide[col] = 0.0
    wide["ict_t_co2e"] = wide[["embodied_t_co2e", "use_phase_t_co2e", "operators_t_co2e"]].sum(
        axis=1)  # fmt: skip
    base = wide[wide["year"] == base_year].set_index("region")["ict_t_co2e"]
    frac = 1.0 - reduction * (wide["year"] - base_year) / float(target_year - base_year)
    wide["trajectory_t_co2e"] = wide["region"].map(base).to_numpy(float) * frac.to_numpy(float)
    wide["gap_t_co2e"] = wide["ict_t_co2e"] - wide["trajectory_t_co2e"]
    wide.columns.name = None
    return wide[list(TRAJECTORY_COLUMNS)].reset_index(drop=True)


def scenario(est: Estimate, levers: Levers, *, hold_service: bool = True) -> Estimate:
    """The estimate re-run with ``levers`` applied to its inputs (same regions shown).

    With ``hold_service`` (named assumption ``levers_hold_service``) longer lifetimes and
    refurbishment replace new equipment instead of adding to the stock
    (:func:`ewaste_tracker.model.levers.hold_service_pom`,
    :func:`~ewaste_tracker.model.levers.displace_pom`).
    """
    from ewaste_tracker.model.levers import displace_pom, hold_service_pom
    from ewaste_tracker.model.run import run_model

    inputs = apply_levers(est.inputs, levers)
    if hold_service:
        inputs = hold_service_pom(est.inputs, est.result, inputs, levers)
    result = run_model(inputs)
    if hold_service and levers.refurbishment_share is not None:
        inputs = displace_pom(inputs, est.result, result, levers)
        result = run_model(inputs)
    return replace(est, inputs=inputs, result=result, _cache={})


def lever_effect(est: Estimate, levers: Levers, **kwargs: int | float) -> pd.DataFrame:
    """Baseline and scenario ICT trajectories side by side.

    Returns
    -------
    pandas.DataFrame
        ``region, year, ict_t_co2e, scenario_t_co2e, trajectory_t_co2e, effect_t_co2e``
        (scenario - baseline; the path is the baseline's).
    """
    a = ict_trajectory(est, **kwargs)  # type: ignore[arg-type]
    b = ict_trajectory(scenario(est, levers), **kwargs)  # type: ignore[arg-type]
    m = a.merge(b[["region", "year", "ict_t_co2e"]].rename(
        columns={"ict_t_co2e": "scenario_t_co2e"}), on=["region", "year"])  # fmt: skip
    m["effect_t_co2e"] = m["scenario_t_co2e"] - m["ict_t_co2e"]
    return m[["region", "year", "ict_t_co2e", "scenario_t_co2e", "trajectory_t_co2e",
              "effect_t_co2e"]].astype({"effect_t_co2e": float})  # fmt: skip


KEYS = ["region", "year", "indicator", "element"]
SCENARIO_BAND_COLUMNS = (
    "region", "year", "indicator", "element", "unit", "before", "after", "difference",
    "difference_p5", "difference_p50", "difference_p95",
)  # fmt: skip


def scenario_bands(
    est: Estimate,
    levers: Levers,
    *,
    draws: int,
    seed: int = 0,
    hold_service: bool = True,
    batch: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    indicators: list[str] | None = None,
) -> pd.DataFrame:
    """The scenario's effect on every indicator with its Monte Carlo range.

    Parameters
    ----------
    est
        The baseline estimate.
    levers
        The scenario (:class:`~ewaste_tracker.model.levers.Levers`).
    draws, seed, batch, scheduler, workers
        As for :func:`ewaste_tracker.estimate.estimate`; both runs use the same draws.
    hold_service
        As for :func:`scenario`.
    indicators
        Indicators to keep (default every one of the shown regions).

    Returns
    -------
    pandas.DataFrame
        :data:`SCENARIO_BAND_COLUMNS`: central before and after, their difference and the
        5th, 50th and 95th percentiles of the difference over the draws.
    """
    from ewaste_tracker.uncertainty.bands import run_bands

    after = scenario(est, levers, hold_service=hold_service)
    tables = [est.result.indicators, after.result.indicators]
    keeps = []
    for table in tables:
        keep = np.ones(len(table), dtype=bool)
        if est.countries is not None:
            keep &= table["region"].isin(est.countries).to_numpy()
        if indicators is not None:
            keep &= table["indicator"].isin(indicators).to_numpy()
        keeps.append(keep)
    bands = [
        run_bands(e.inputs, draws=draws, seed=seed, batch=batch, scheduler=scheduler,
                  workers=workers, keep=k, method="exact")
        for e, k in zip((est, after), keeps, strict=True)
    ]  # fmt: skip
    sides = []
    for table, b, name in zip(tables, bands, ("before", "after"), strict=True):
        side = table.iloc[b.rows][[*KEYS, "unit", "value"]].rename(columns={"value": name})
        sides.append(side.assign(**{f"col_{name}": np.arange(len(b.rows))}))
    pair = sides[0].merge(sides[1].drop(columns="unit"), on=KEYS, how="inner")
    before_draws, after_draws = bands[0].values, bands[1].values
    assert before_draws is not None and after_draws is not None  # method="exact"
    diff = (
        after_draws[:, pair["col_after"].to_numpy()]
        - before_draws[:, pair["col_before"].to_numpy()]
    ).astype(np.float64)
    q = np.nanquantile(diff, [0.05, 0.5, 0.95], axis=0)
    out = pair.assign(
        difference=pair["after"] - pair["before"],
        difference_p5=q[0], difference_p50=q[1], difference_p95=q[2],
    )  # fmt: skip
    return out[list(SCENARIO_BAND_COLUMNS)].reset_index(drop=True)
