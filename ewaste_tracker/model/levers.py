"""Scenario levers as changes to a run's inputs: longer lifetimes, refurbishment, collection.

:func:`apply_levers` returns new :class:`~ewaste_tracker.model.run.ModelInputs` (the input
tables are copied, never modified) in which

``lifetime_scale``
    multiplies the Weibull (or other) ``scale`` of the first-life lifetimes of the lever's
    products put on the market from ``from_year`` (a ``cohort_year`` row: a longer-lived
    device, its discard curve stretched in time);
``refurbishment_share``
    is the share of formal collection sent to refurbishment (the other destinations of
    ``collection_formal`` are scaled so the shares still sum to 1);
``collection_share``
    is the share of e-waste generated that is formally collected (``generated →
    collection_formal``; informal collection and residual waste are scaled down together),
    never lowered below a region's own rate.

Rows are written per lever product, so they win over the blank-product defaults ("more
specific rows win"); ``from_year`` limits the transfer-coefficient levers to later years.

Holding the service (named assumption ``levers_hold_service``)
    With put on market given, a longer life or a refurbished device would only add devices
    to the stock. :func:`hold_service_pom` instead keeps the in-use stock (the service) of
    the baseline: the put on market of longer-lived cohorts is the stock-driven inflow
    (:func:`ewaste_tracker.flows.stocks.stock_driven`) that holds the baseline's first-life
    stock, and every extra device returned to use by refurbishment replaces a new one
    (:func:`displace_pom`, 1:1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ewaste_tracker.flows.lifetimes import discard_matrix
from ewaste_tracker.flows.stocks import inflow_driven, stock_driven
from ewaste_tracker.model.inputs import dense_pom, lifetime_table
from ewaste_tracker.model.run import ModelInputs, RunResult

__all__ = ["Levers", "apply_levers", "displace_pom", "hold_service_pom"]

ICT = ("0301", "0302", "0303", "0304", "0305", "0306", "0307", "0308", "0309", "0407", "0408")


@dataclass(frozen=True)
class Levers:
    """Scenario levers (defaults change nothing).

    Attributes
    ----------
    lifetime_scale
        Factor on the lifetime scale (1.2 = 20 % longer lives).
    refurbishment_share
        Share of formal collection refurbished (``None``: unchanged).
    collection_share
        Formal collection rate of e-waste generated (``None``: unchanged).
    products
        UNU-KEYs the levers apply to (default the ICT subset).
    from_year
        First year of the transfer-coefficient levers (``None``: every year).
    """

    lifetime_scale: float = 1.0
    refurbishment_share: float | None = None
    collection_share: float | None = None
    products: Sequence[str] = ICT
    from_year: int | None = None

    def __post_init__(self) -> None:
        if not self.lifetime_scale > 0:
            raise ValueError("lifetime_scale must be positive")
        for name in ("refurbishment_share", "collection_share"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{name} must be a share in [0, 1]")


def _set_share(
    tc: pd.DataFrame, products: Sequence[str], from_stage: str, to_stage: str, share: float,
    years: np.ndarray, from_year: int | None, *, at_least: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """Rows for ``products`` with the ``from_stage → to_stage`` share set, siblings rescaled."""
    base = tc[tc["from_stage"] == from_stage]
    blank = base["product"].isna() | (base["product"].astype("string").str.strip() == "")
    generic = base[blank.fillna(True).to_numpy(bool)]
    if generic.empty:
        return tc
    # expand blank-year rows to every year so a from_year cut applies
    no_year = generic["year"].isna()
    expanded = pd.concat(
        [generic[~no_year], generic[no_year].drop(columns="year").merge(
            pd.DataFrame({"year": pd.array(years, dtype="Int64")}), how="cross")],
        ignore_index=True,
    ) if from_year is not None else generic  # fmt: skip
    rows = expanded.merge(pd.DataFrame({"product": list(products)}), how="cross",
                          suffixes=("_old", ""))  # fmt: skip
    rows = rows.drop(columns=[c for c in rows.columns if c.endswith("_old")])
    key = ["region", "product", "year", "from_stage"]
    if from_year is not None:
        rows = rows[rows["year"].astype("Int64") >= int(from_year)]
    if rows.empty:
        return tc
    old = rows["share"].where(rows["to_stage"] == to_stage, 0.0)
    old_share = old.groupby([rows[k] for k in key], dropna=False).transform("sum")
    new = np.maximum(old_share, share) if at_least else pd.Series(share, index=rows.index)
    rest = 1.0 - old_share
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(rest > 0, (1.0 - new) / np.where(rest > 0, rest, 1.0), 0.0)
    rows = rows.assign(
        share=np.where(rows["to_stage"] == to_stage, new, rows["share"] * scale),
        source=f"scenario lever: {from_stage} -> {to_stage} = {share:g}",
    )
    # a zero-share destination that was missing cannot take the share: add it when absent
    have = rows[rows["to_stage"] == to_stage]
    if have.empty:
        add = rows.drop_duplicates(key).assign(to_stage=to_stage, share=share)
        rows = pd.concat([rows, add], ignore_index=True)
    out = pd.concat([tc, rows], ignore_index=True)
    out["year"] = out["year"].astype("Int64")
    return out.drop_duplicates([*key, "to_stage"], keep="last").reset_index(drop=True)


def apply_levers(inputs: ModelInputs, levers: Levers) -> ModelInputs:
    """Inputs with the levers applied (see the module docstring); ``inputs`` is unchanged."""
    products = [p for p in levers.products if p in set(inputs.pom["product"])]
    first, last = inputs.years or (int(inputs.pom["year"].min()), int(inputs.pom["year"].max()))
    years = np.arange(first, last + 1)
    out = replace(inputs, paths=dict(inputs.paths))
    if levers.lifetime_scale != 1.0:
        lt = inputs.lifetimes
        sel = lt["product"].astype(str).isin(products)
        if "cohort_year" in lt.columns:
            sel &= lt["cohort_year"].isna()
        rows = lt[sel].copy()
        rows["scale"] = rows["scale"].astype(float) * float(levers.lifetime_scale)
        rows["cohort_year"] = int(levers.from_year if levers.from_year is not None else first)
        out.lifetimes = pd.concat([lt, rows], ignore_index=True)
    tc = inputs.transfer_coefficients
    if levers.collection_share is not None:
        tc = _set_share(tc, products, "generated", "collection_formal",
                        float(levers.collection_share), years, levers.from_year,
                        at_least=True)  # fmt: skip
    if levers.refurbishment_share is not None:
        tc = _set_share(tc, products, "collection_formal", "refurbishment",
                        float(levers.refurbishment_share), years, levers.from_year)  # fmt: skip
    out.transfer_coefficients = tc
    return out


def _first_life(inputs: ModelInputs, result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    table = lifetime_table(inputs.lifetimes, result.dims, path="lifetimes")
    return table.group, discard_matrix(table, result.dims.years)


def hold_service_pom(
    base: ModelInputs, result: RunResult, new: ModelInputs, levers: Levers
) -> ModelInputs:
    """``new`` with the lever products' put on market that holds the baseline's first-life
    stock under the new lifetimes (see the module docstring); other products unchanged."""
    if levers.lifetime_scale == 1.0:
        return new
    dims = result.dims
    pom = dense_pom(base.pom, dims)
    g0, m0 = _first_life(base, result)
    stock = inflow_driven(pom, g0, m0).stock
    g1, m1 = _first_life(new, result)
    inflow = stock_driven(np.maximum(stock, 0.0), g1, m1).inflow
    cut = int(levers.from_year) if levers.from_year is not None else int(dims.years[0])
    lever = np.isin(np.asarray(dims.products), list(levers.products))[None, :, None]
    later = (dims.years >= cut)[None, None, :]
    return replace(new, pom=_pom_frame(np.where(lever & later, inflow, pom), dims, base.pom))


def displace_pom(new: ModelInputs, base: RunResult, run: RunResult, levers: Levers) -> ModelInputs:
    """``new`` with one new device fewer put on market for every extra refurbished device
    returned to use (lever products, from ``from_year``; never below zero)."""
    dims = run.dims
    key = ("refurbishment", "use")
    extra = np.maximum(run.system.flows[key] - base.system.flows[key], 0.0)
    cut = int(levers.from_year) if levers.from_year is not None else int(dims.years[0])
    lever = np.isin(np.asarray(dims.products), list(levers.products))[None, :, None]
    extra = np.where(lever & (dims.years >= cut)[None, None, :], extra, 0.0)
    pom = dense_pom(new.pom, dims)
    return replace(new, pom=_pom_frame(np.maximum(pom - extra, 0.0), dims, new.pom))


def _pom_frame(arr: np.ndarray, dims: object, like: pd.DataFrame) -> pd.DataFrame:
    regions, products, years = dims.regions, dims.products, dims.years  # type: ignore[attr-defined]
    r, p, n = np.meshgrid(np.arange(len(regions)), np.arange(len(products)),
                          np.arange(len(years)), indexing="ij")  # fmt: skip
    frame = pd.DataFrame({
        "region": np.asarray(regions, dtype=object)[r.ravel()],
        "product": np.asarray(products, dtype=object)[p.ravel()],
        "year": np.asarray(years)[n.ravel()], "pom_t": arr.ravel(),
    })  # fmt: skip
    frame["status"] = "estimated"
    frame["source"] = "scenario: put on market holding the baseline's service"
    return frame.reset_index(drop=True)
