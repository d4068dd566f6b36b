r"""Plausibility bounds of a national submission: what is refused unless the submitter confirms.

Validation (:mod:`ewaste_tracker.submissions.rules`) checks that every cell is well formed;
this module checks that the numbers are possible, in two tiers:

**Impossible** (always an error): a value above :data:`MAX_TONNES` in one cell. No country
puts a billion tonnes of one product on the market in a year; such a number is a typo (a
missing decimal separator, kilograms given as tonnes a thousandfold over) or an attack, and
accepted it would turn every later estimate of the country and the world into nonsense.

**Implausible** (an error unless the submitter confirms with ``--confirm-outliers``; then a
warning kept with the submission): for a country with population :math:`P` in year :math:`n`,

.. math::

    \frac{10^3\, v}{P} > B_{ind}, \qquad
    B_{flow} = 10 \times 26.8\ \mathrm{kg/inh}, \qquad B_{stock} = 10\ \mathrm{yr} \times B_{flow},

where 26.8 kg/inh is the highest e-waste generated per inhabitant of any country in the
Global E-waste Monitor 2024 annex (Norway, 2022; Baldé et al. 2024); flows are put on market,
collection, treatment and exports, none of which can durably exceed what a country puts on
the market; the stock bound holds ten years of the flow bound (named assumption
``plausibility_stock_years``), that is a hundred years of the highest flow any country
reports, more than any device's mean lifetime; and a year-on-year change of one series by more than
:data:`HARD_JUMP` times (a 50-fold jump is a unit or decimal mistake far more often than a
market event). Changes above the softer ``jump_factor`` (default 5) stay warnings
(:func:`ewaste_tracker.submissions.rules.jump_warnings`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError

__all__ = [
    "HARD_JUMP",
    "MAX_TONNES",
    "PER_CAPITA_BOUND_KG",
    "implausible_values",
    "impossible_values",
]

MAX_TONNES = 1e9
"""Largest value of one cell, in tonnes (a thousand times China's e-waste of 2022)."""
PER_CAPITA_BOUND_KG = {"flow": 10 * 26.8, "stock": 10 * 10 * 26.8}
"""Kilograms per inhabitant and year (flows) or in use (stock) above which a value is
implausible (see the module docstring)."""
HARD_JUMP = 50.0
"""Year-on-year factor above which a change is implausible."""
CONFIRM = "if the figure is right, submit again with --confirm-outliers"


def _where(accepted: pd.DataFrame, path: str, i: int) -> tuple[str, int | None]:
    sheet = accepted["source_sheet"].iloc[i] if "source_sheet" in accepted else ""
    row = accepted["source_row"].iloc[i] if "source_row" in accepted else None
    return (f"{path}:{sheet}" if sheet else path), (None if row is None else int(row))


def impossible_values(accepted: pd.DataFrame, *, path: str) -> list[InputError]:
    """Errors for cells above :data:`MAX_TONNES` (never accepted)."""
    big = np.flatnonzero(accepted["value_t"].to_numpy(float) > MAX_TONNES)
    out = []
    for i in big:
        where, row = _where(accepted, path, int(i))
        out.append(InputError(
            f"impossible value: {accepted['value_t'].iloc[i]:.3g} t in one cell",
            path=where, row=row, column="value", value=accepted["value"].iloc[i],
            expected=f"at most {MAX_TONNES:.0e} t (check the unit and the decimal separator)",
        ))  # fmt: skip
    return out


def implausible_values(
    accepted: pd.DataFrame, *, population: pd.DataFrame | None, path: str
) -> list[InputError]:
    """Values beyond the per-inhabitant bounds or jumping more than :data:`HARD_JUMP` times.

    Parameters
    ----------
    accepted
        ``country, year, product, indicator, value, value_t`` (+ ``source_sheet``,
        ``source_row``) of a submission.
    population
        ``region, year, population``; countries and years it lacks are not checked per
        inhabitant.
    path
        File named in the messages.

    Returns
    -------
    list of InputError
        Each names the cell and says how to confirm the value.
    """
    out: list[InputError] = []
    if accepted.empty:
        return out
    if population is not None and len(population):
        pop = population.set_index(["region", "year"])["population"]
        key = pd.MultiIndex.from_arrays(
            [accepted["country"].astype(str), accepted["year"].astype("int64")]
        )
        people = pop.reindex(key).to_numpy(float)
        # a country's submission is at one product level; its total per year is what counts
        total = accepted.groupby(["country", "year", "indicator"])["value_t"].transform("sum")
        kg = 1e3 * total.to_numpy(float) / np.where(people > 0, people, np.nan)
        kind = np.where(accepted["indicator"].astype(str) == "stock", "stock", "flow")
        bound = np.where(kind == "stock", PER_CAPITA_BOUND_KG["stock"], PER_CAPITA_BOUND_KG["flow"])
        over = np.flatnonzero(np.nan_to_num(kg) > bound)
        seen: set[tuple[str, int, str]] = set()
        for i in over:
            cell = (str(accepted["country"].iloc[i]), int(accepted["year"].iloc[i]),
                    str(accepted["indicator"].iloc[i]))  # fmt: skip
            if cell in seen:
                continue
            seen.add(cell)
            where, row = _where(accepted, path, int(i))
            out.append(InputError(
                f"implausible {cell[2]} for {cell[1]}: {kg[i]:,.0f} kg per inhabitant "
                f"(bound {bound[i]:,.0f}); {CONFIRM}",
                path=where, row=row, column="value", value=accepted["value"].iloc[i],
            ))  # fmt: skip
    series = ["country", "product", "indicator"]
    s = accepted.assign(_i=np.arange(len(accepted))).sort_values([*series, "year"])
    prev_v = s.groupby(series, sort=False)["value_t"].shift()
    prev_y = s.groupby(series, sort=False)["year"].shift()
    both = (s["year"].astype(float) - prev_y == 1) & (s["value_t"] > 0) & (prev_v > 0)
    ratio = (s["value_t"] / prev_v).where(both)
    jump = both & ((ratio > HARD_JUMP) | (ratio < 1.0 / HARD_JUMP))
    for i, r in zip(s.loc[jump, "_i"], ratio[jump], strict=True):
        where, row = _where(accepted, path, int(i))
        out.append(InputError(
            f"implausible change of {accepted['product'].iloc[i]} "
            f"{accepted['indicator'].iloc[i]} in {accepted['year'].iloc[i]}: x{r:.3g} on the "
            f"year before (bound x{HARD_JUMP:g}); {CONFIRM}",
            path=where, row=row, column="value", value=accepted["value"].iloc[i],
        ))  # fmt: skip
    return out
