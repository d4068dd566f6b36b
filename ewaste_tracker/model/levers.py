r"""Scenario levers as changes to a run's inputs: lifetimes, refurbishment, collection,
recovery and exports.

:func:`apply_levers` returns new :class:`~ewaste_tracker.model.run.ModelInputs` (the input
tables are copied, never modified) in which

``lifetime_scale``
    multiplies the lifetimes of the lever's products from ``from_year``. By default only
    devices put on the market from then on live longer (a ``cohort_year`` row: the Weibull
    ``scale`` times the factor). With ``lifetime_in_use`` the devices *already in use* also
    age ``lifetime_scale`` times slower from the start of ``from_year`` (a
    :class:`~ewaste_tracker.flows.lifetimes.LifetimeExtension`: a cohort of age :math:`a_0`
    then has effective age :math:`a_0 + (a - a_0)/s`, its total discards conserved), which is
    what repair and product-care policies act on;
``refurbishment_share``
    is the share of formal collection sent to refurbishment (the other destinations of
    ``collection_formal`` are scaled so the shares still sum to 1);
``collection_share``
    is the share of e-waste generated that is formally collected (``generated →
    collection_formal``; informal collection and residual waste are scaled down together),
    never lowered below a region's own rate;
``export_share``
    is the share of formal and of informal collection shipped abroad (``collection_formal →
    export`` and ``collection_informal → export``; the other destinations are rescaled);
    0 is an export ban;
``recovery_gain``
    closes that share :math:`g` of the gap between each formal route's recovery efficiency
    and the best practice of ``data/recovery.csv`` (its ``high`` column), element by element:
    :math:`\eta' = \eta + g\,(\eta^{high} - \eta)` for pre-processing and
    end-processing (the informal route is left as it is).

Rows are written per lever product, so they win over the blank-product defaults ("more
specific rows win"); with ``products=None`` the levers act on every product: every row of
the stage (the defaults and any product- or region-specific rows, reported overrides
included) is rewritten. ``from_year`` limits the transfer-coefficient levers to later years.

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

from ewaste_tracker.flows.lifetimes import LifetimeExtension, discard_matrix
from ewaste_tracker.flows.stocks import inflow_driven, stock_driven
from ewaste_tracker.model.inputs import dense_pom, lifetime_table
from ewaste_tracker.model.run import ModelInputs, RunResult, extended_table

__all__ = ["FORMAL_ROUTES", "ICT", "Levers", "apply_levers", "displace_pom", "hold_service_pom"]

ICT = ("0301", "0302", "0303", "0304", "0305", "0306", "0307", "0308", "0309", "0407", "0408")
"""UNU-KEYs of ICT equipment (the default lever products)."""
FORMAL_ROUTES = ("preprocessing", "endprocessing")
"""Recovery routes of ``data/recovery.csv`` that ``recovery_gain`` improves."""


@dataclass(frozen=True)
class Levers:
    """Scenario levers (defaults change nothing).

    Attributes
    ----------
    lifetime_scale
        Factor on the lifetime scale (1.2 = 20 % longer lives).
    lifetime_in_use
        Whether the devices already in use at ``from_year`` live longer too (default only
        those put on the market from ``from_year``).
    refurbishment_share
        Share of formal collection refurbished (``None``: unchanged).
    collection_share
        Formal collection rate of e-waste generated (``None``: unchanged).
    export_share
        Share of formal and of informal collection exported (``None``: unchanged).
    recovery_gain
        Share of the gap to best-practice recovery closed on the formal routes, 0-1
        (``None`` or 0: unchanged; 1: the ``high`` values of ``data/recovery.csv``).
    products
        UNU-KEYs the levers apply to (default the ICT subset; ``None``: every product).
        ``recovery_gain`` acts on elements, whatever the product.
    from_year
        First year of the levers (``None``: every year).
    """

    lifetime_scale: float = 1.0
    refurbishment_share: float | None = None
    collection_share: float | None = None
    products: Sequence[str] | None = ICT
    from_year: int | None = None
    lifetime_in_use: bool = False
    export_share: float | None = None
    recovery_gain: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lifetime_scale) and self.lifetime_scale > 0):
            raise ValueError("lifetime_scale must be positive")
        for name in ("refurbishment_share", "collection_share", "export_share",
                     "recovery_gain"):  # fmt: skip
            v = getattr(self, name)
            if v is not None and not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{name} must be a share in [0, 1]")
        if self.products is not None:
            object.__setattr__(self, "products", tuple(str(p) for p in self.products))

    def product_mask(self, products: Sequence[str]) -> np.ndarray:
        """Which of ``products`` the levers act on (all when :attr:`products` is ``None``)."""
        if self.products is None:
            return np.ones(len(products), dtype=bool)
        return np.isin(np.asarray(products, dtype=object), list(self.products))


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


def _rewrite_stage(
    tc: pd.DataFrame, from_stage: str, to_stage: str, share: float, years: np.ndarray,
    from_year: int | None, *, at_least: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """Every row of ``from_stage`` (any region and product) with ``to_stage`` set to ``share``.

    Each (region, product, year) key's distribution is rewritten as a whole: ``to_stage``
    takes ``share`` (or keeps its own when ``at_least`` and it is higher), the other
    destinations are scaled by :math:`(1 - s')/(1 - s)` so the shares still sum to 1. With
    ``from_year``, blank-year rows are copied to every year from then on (earlier years keep
    the blank-year row) unless a year-specific key exists for that cell.
    """
    sel = (tc["from_stage"] == from_stage).to_numpy(bool)
    part = tc[sel]
    if part.empty:
        return tc
    key = ["region", "product", "year", "from_stage"]
    if from_year is not None:
        later = years[years >= int(from_year)]
        no_year = part["year"].isna().to_numpy(bool)
        dated = part[~no_year]
        dated = dated[dated["year"].astype("Int64").to_numpy() >= int(from_year)]
        spread = (
            part[no_year]
            .drop(columns="year")
            .merge(pd.DataFrame({"year": pd.array(later, dtype="Int64")}), how="cross")
        )
        have = dated[key].astype(str).drop_duplicates()
        clash = spread[key].astype(str).merge(have, how="left", indicator=True)["_merge"]
        spread = spread[(clash == "left_only").to_numpy()]
        part = pd.concat([spread, dated], ignore_index=True)
        if part.empty:
            return tc
    groups = [part[k].astype("string").fillna("\x00") for k in key]
    is_to = (part["to_stage"] == to_stage).to_numpy(bool)
    old = pd.Series(np.where(is_to, part["share"].to_numpy(float), 0.0), index=part.index)
    old_share = old.groupby(groups).transform("sum").to_numpy(float)
    new = np.maximum(old_share, share) if at_least else np.full(len(part), float(share))
    rest = 1.0 - old_share
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(rest > 0, (1.0 - new) / np.where(rest > 0, rest, 1.0), 0.0)
    rows = part.assign(
        share=np.where(is_to, new, part["share"].to_numpy(float) * scale),
        source=f"scenario lever: {from_stage} -> {to_stage} = {share:g}",
    )
    # keys without a to_stage row get one (its share was zero)
    has_to = pd.Series(is_to, index=part.index).groupby(groups).transform("any").to_numpy(bool)
    missing = rows[~has_to]
    first = ~missing.duplicated(key).to_numpy(bool)
    add = missing[first].assign(to_stage=to_stage, share=new[~has_to][first])
    out = pd.concat([tc, rows, add], ignore_index=True)
    out["year"] = out["year"].astype("Int64")
    return out.drop_duplicates([*key, "to_stage"], keep="last").reset_index(drop=True)


def _tc_lever(
    tc: pd.DataFrame, levers: Levers, products: list[str], from_stage: str, to_stage: str,
    share: float, years: np.ndarray, *, at_least: bool = False,
) -> pd.DataFrame:  # fmt: skip
    if levers.products is None:
        return _rewrite_stage(tc, from_stage, to_stage, share, years, levers.from_year,
                              at_least=at_least)  # fmt: skip
    return _set_share(tc, products, from_stage, to_stage, share, years, levers.from_year,
                      at_least=at_least)  # fmt: skip


def _recovery(recovery: pd.DataFrame, gain: float) -> pd.DataFrame:
    """Formal routes' efficiencies moved ``gain`` of the way to their ``high`` values."""
    out = recovery.copy()
    if "high" not in out.columns:
        raise ValueError("recovery_gain needs the recovery table's 'high' column")
    formal = out["route"].astype(str).isin(FORMAL_ROUTES).to_numpy(bool)
    eff = out["efficiency"].to_numpy(float)
    high = out["high"].to_numpy(float)
    best = np.where(np.isfinite(high), np.maximum(high, eff), eff)
    out["efficiency"] = np.where(formal, eff + float(gain) * (best - eff), eff)
    if "source" in out.columns:
        out["source"] = np.where(
            formal, out["source"].astype(str) + f"; scenario lever: recovery gain {gain:g}",
            out["source"].astype(str),
        )  # fmt: skip
    return out


def apply_levers(inputs: ModelInputs, levers: Levers) -> ModelInputs:
    """Inputs with the levers applied (see the module docstring); ``inputs`` is unchanged.

    Raises
    ------
    ValueError
        ``lifetime_in_use`` on inputs that already carry a lifetime-extension policy.
    """
    known = list(dict.fromkeys(inputs.pom["product"].astype(str)))
    products = [p for p, hit in zip(known, levers.product_mask(known), strict=True) if hit]
    first, last = inputs.years or (int(inputs.pom["year"].min()), int(inputs.pom["year"].max()))
    years = np.arange(first, last + 1)
    out = replace(inputs, paths=dict(inputs.paths))
    if levers.lifetime_scale != 1.0 and levers.lifetime_in_use:
        if inputs.lifetime_extension is not None:
            raise ValueError("the inputs already carry a lifetime extension; combine the two")
        start = int(levers.from_year if levers.from_year is not None else first)
        out.lifetime_extension = LifetimeExtension(
            start, float(levers.lifetime_scale),
            products=None if levers.products is None else tuple(products),
        )  # fmt: skip
    elif levers.lifetime_scale != 1.0:
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
        tc = _tc_lever(tc, levers, products, "generated", "collection_formal",
                       float(levers.collection_share), years, at_least=True)  # fmt: skip
    if levers.refurbishment_share is not None:
        tc = _tc_lever(tc, levers, products, "collection_formal", "refurbishment",
                       float(levers.refurbishment_share), years)  # fmt: skip
    if levers.export_share is not None:
        for stage in ("collection_formal", "collection_informal"):
            tc = _tc_lever(tc, levers, products, stage, "export", float(levers.export_share),
                           years)  # fmt: skip
    out.transfer_coefficients = tc
    if levers.recovery_gain:
        out.recovery = _recovery(inputs.recovery, float(levers.recovery_gain))
    return out


def _first_life(inputs: ModelInputs, result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    table = lifetime_table(inputs.lifetimes, result.dims, path="lifetimes")
    if inputs.lifetime_extension is not None:
        table = extended_table(table, inputs.lifetime_extension)
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
    lever = levers.product_mask(dims.products)[None, :, None]
    later = (dims.years >= cut)[None, None, :]
    return replace(new, pom=_pom_frame(np.where(lever & later, inflow, pom), dims, base.pom))


def displace_pom(new: ModelInputs, base: RunResult, run: RunResult, levers: Levers) -> ModelInputs:
    """``new`` with one new device fewer put on market for every extra refurbished device
    returned to use (lever products, from ``from_year``; never below zero)."""
    dims = run.dims
    key = ("refurbishment", "use")
    extra = np.maximum(run.system.flows[key] - base.system.flows[key], 0.0)
    cut = int(levers.from_year) if levers.from_year is not None else int(dims.years[0])
    lever = levers.product_mask(dims.products)[None, :, None]
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
