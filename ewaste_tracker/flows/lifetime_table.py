"""Lifetime parameter tables: validation of the tidy table and grouping onto the run's axes.

The model maths (distributions, conventions, discard matrices, lifetime extension) live in
:mod:`ewaste_tracker.flows.lifetimes`, which re-exports everything public from here. A lifetime
table holds, for each (region, product) cell, the index of one of G unique parameter groups; each
group has a distribution name and ``shape`` / ``scale`` arrays over cohort years (parameter meanings
are listed in :mod:`ewaste_tracker.flows.lifetimes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import pandas as pd

from ewaste_tracker.flows.dims import Dims

__all__ = [
    "DISTRIBUTIONS",
    "LifetimeError",
    "LifetimeExtension",
    "LifetimeTable",
    "extension_cells",
    "lifetime_table_from_frame",
    "unique_rows",
]

logger = logging.getLogger(__name__)

DISTRIBUTIONS: Final = ("weibull", "lognormal", "folded_normal", "fixed")


class LifetimeError(ValueError):
    """A lifetime table is invalid.

    Attributes
    ----------
    row
        0-based position of the offending data row in the table (the CSV line is ``row + 2``
        when the file has one header line), or ``None`` when no single row is to blame.
    column
        Name of the offending column, or ``None``.
    """

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        self.reason = message
        self.row = row
        self.column = column
        where = []
        if row is not None:
            where.append(f"data row {row} (CSV line {row + 2})")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"lifetime table, {', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class LifetimeExtension:
    """A lifetime-extension policy: from ``from_year`` on, devices age ``factor`` times slower.

    Parameters
    ----------
    from_year
        First calendar year in which the policy acts (from the start of that year).
    factor
        Lifetime multiplier, > 0 (1.2 = lifetimes 20 % longer; < 1 shortens them).
    products, regions
        Codes the policy applies to; ``None`` means all.
    """

    from_year: int
    factor: float
    products: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.factor) or self.factor <= 0:
            raise ValueError(f"LifetimeExtension: factor must be > 0, got {self.factor!r}")
        for name in ("products", "regions"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(str(v) for v in value))


@dataclass(frozen=True, eq=False)
class LifetimeTable:
    """Lifetime parameters of every (region, product, cohort), stored as G unique groups.

    Attributes
    ----------
    regions, products
        Labels of the region and product axes (as in :class:`ewaste_tracker.flows.dims.Dims`).
    cohort_years
        ``(C,)`` cohort years the parameter arrays run over.
    group
        ``(R, P)`` index of each cell's lifetime group.
    distribution
        ``(G,)`` distribution name of each group (one of :data:`DISTRIBUTIONS`).
    shape, scale
        ``(G, C)`` parameters by cohort (meaning per distribution: see the module docstring).
    extension
        ``(G,)`` lifetime-extension policy applied to each group, or ``None``.
    """

    regions: tuple[str, ...]
    products: tuple[str, ...]
    cohort_years: np.ndarray
    group: np.ndarray
    distribution: tuple[str, ...]
    shape: np.ndarray
    scale: np.ndarray
    extension: tuple[LifetimeExtension | None, ...] = ()

    def __post_init__(self) -> None:
        n_groups = len(self.distribution)
        if not self.extension:
            object.__setattr__(self, "extension", (None,) * n_groups)
        unknown = sorted(set(self.distribution) - set(DISTRIBUTIONS))
        if unknown:
            raise LifetimeError(f"unknown distribution(s) {unknown}", column="distribution")
        expected = (n_groups, np.asarray(self.cohort_years).size)
        if np.shape(self.shape) != expected or np.shape(self.scale) != expected:
            raise ValueError(f"LifetimeTable: shape and scale must be {expected} arrays")
        if np.shape(self.group) != (len(self.regions), len(self.products)):
            raise ValueError("LifetimeTable: group must be a (regions, products) array")
        if self.group.size and (self.group.min() < 0 or self.group.max() >= n_groups):
            raise ValueError("LifetimeTable: group indices out of range")
        if len(self.extension) != n_groups:
            raise ValueError("LifetimeTable: one extension entry per group is required")

    @property
    def n_groups(self) -> int:
        """Number of unique parameter groups G."""
        return len(self.distribution)

    @classmethod
    def from_arrays(
        cls,
        dims: Dims,
        distribution: str | list[str] | tuple[str, ...],
        shape: np.ndarray | float,
        scale: np.ndarray | float,
    ) -> LifetimeTable:
        """Build a table from dense parameters, grouping identical cells.

        Parameters
        ----------
        dims
            Region, product and (cohort) year labels.
        distribution
            One name for all products, or one per product.
        shape, scale
            Parameters broadcastable to ``(R, P, C)`` (numpy rules: a per-product array is
            ``(P, 1)``, a per-region one ``(R, 1, 1)``, a per-cohort one ``(C,)``).
        """
        n_r, n_p, n_c = dims.shape
        names = [distribution] * n_p if isinstance(distribution, str) else list(distribution)
        if len(names) != n_p:
            raise LifetimeError(f"expected {n_p} distributions (one per product)")
        codes = np.array([_code(d, None) for d in names])
        shp = np.broadcast_to(np.asarray(shape, dtype=float), (n_r, n_p, n_c))
        scl = np.broadcast_to(np.asarray(scale, dtype=float), (n_r, n_p, n_c))
        cell_codes = np.broadcast_to(codes[None, :], (n_r, n_p))
        _check_positive(shp, scl, cell_codes)
        return _grouped(dims.regions, dims.products, dims.years, cell_codes, shp, scl)

    def with_extension(self, extension: LifetimeExtension) -> LifetimeTable:
        """Return a table in which the cells targeted by ``extension`` carry that policy.

        Groups shared by targeted and untargeted cells are split, so the returned table may have
        more groups. A cell can carry one policy only.
        """
        hit = extension_cells(self, extension)
        key = self.group.astype(np.int64) * 2 + hit
        uniq, inverse = np.unique(key.ravel(), return_inverse=True)
        old, flagged = uniq // 2, uniq % 2 == 1
        clash = [int(g) for g in old[flagged] if self.extension[int(g)] is not None]
        if clash:
            raise ValueError(
                f"lifetime groups {clash[:5]} already carry a lifetime extension; "
                "combine the policies into one"
            )
        ext = tuple(
            extension if f else self.extension[int(g)] for g, f in zip(old, flagged, strict=True)
        )
        return replace(
            self,
            group=inverse.reshape(self.group.shape).astype(np.intp),
            distribution=tuple(self.distribution[int(g)] for g in old),
            shape=self.shape[old],
            scale=self.scale[old],
            extension=ext,
        )


def unique_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a 2-D float array by hashing (much faster than ``np.unique(axis=0)``).

    Each row's float64 bit patterns are combined with fixed odd 64-bit multipliers (integer
    arithmetic modulo 2**64, so identical rows always hash alike), the hashes are factorised,
    and the grouping is verified exactly; a hash collision falls back to ``np.unique``.

    Returns
    -------
    first, inverse
        Index of the first occurrence of each unique row (in order of appearance) and, for
        every row, the position of its unique row, so ``values[first][inverse] == values``.
    """
    rows = np.ascontiguousarray(values, dtype=np.float64) + 0.0  # + 0.0 folds -0.0 into 0.0
    bits = rows.view(np.uint64)
    mult = np.random.default_rng(20261124).integers(1, 2**63, rows.shape[1], dtype=np.uint64)
    hashed = (bits * (mult | np.uint64(1))).sum(axis=1, dtype=np.uint64)
    inverse, _ = pd.factorize(hashed)
    first = np.full(int(inverse.max()) + 1 if inverse.size else 0, -1, dtype=np.intp)
    first[inverse[::-1]] = np.arange(inverse.size, dtype=np.intp)[::-1]
    if not (bits == bits[first[inverse]]).all():  # a hash collision: sort instead
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return first, np.asarray(inverse, dtype=np.intp).ravel()


# --- building a table from a tidy frame ------------------------------------------------------
_REQUIRED: Final = ("product", "distribution", "shape", "scale")


def _code(name: object, row: int | None) -> int:
    text = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    text = {"foldednormal": "folded_normal", "log_normal": "lognormal"}.get(text, text)
    if text not in DISTRIBUTIONS:
        raise LifetimeError(
            f"unknown distribution {name!r} (expected one of {list(DISTRIBUTIONS)})",
            row=row,
            column="distribution",
        )
    return DISTRIBUTIONS.index(text)


def _check_positive(shape: np.ndarray, scale: np.ndarray, codes: np.ndarray) -> None:
    fixed = np.broadcast_to((codes == DISTRIBUTIONS.index("fixed"))[..., None], shape.shape)
    for column, values, skip in (("shape", shape, fixed), ("scale", scale, False)):
        bad = ~(np.isfinite(values) & (values > 0)) & ~skip
        if np.any(bad):
            raise LifetimeError(f"{int(bad.sum())} non-positive or missing values", column=column)


def _blank(series: pd.Series) -> np.ndarray:
    text = series.astype("string").str.strip()
    return np.asarray(text.isna() | (text == ""), dtype=bool)


def lifetime_table_from_frame(frame: pd.DataFrame, dims: Dims) -> LifetimeTable:
    """Validate a tidy lifetime table and group it onto ``dims``.

    Parameters
    ----------
    frame
        Columns ``product, distribution, shape, scale`` and optionally ``region`` and
        ``cohort_year``. A blank region applies to all regions; a region's own rows replace the
        blank-region rows for that product. Rows for one (region, product) with different
        ``cohort_year`` form a step function: a row applies from its cohort year until the next
        row's; the earliest row (or a blank cohort year) also covers all earlier cohorts. The
        distribution must be the same in all rows of a (region, product). ``shape`` is ignored
        (may be blank) for ``fixed``. Rows for products or regions outside ``dims`` are
        ignored. Read CSV files with ``dtype=str`` for the codes, or leading zeros of
        UNU-KEYs such as ``"0306"`` are lost.
    dims
        Regions, products and years of the run; the years are the cohort years.

    Returns
    -------
    LifetimeTable

    Raises
    ------
    LifetimeError
        Missing column, unknown distribution, non-numeric or non-positive parameter, a duplicated
        (region, product, cohort_year) key, a distribution that changes between cohort rows, or a
        product with no lifetime in some region. ``row`` and ``column`` name the culprit.
    """
    for column in _REQUIRED:
        if column not in frame.columns:
            raise LifetimeError(
                f"missing required column (have {list(frame.columns)})", column=column
            )
    n = len(frame)
    product = frame["product"].astype("string").str.strip().fillna("").to_numpy(dtype=str)
    region = (
        np.where(_blank(frame["region"]), "", frame["region"].astype("string").str.strip())
        if "region" in frame.columns
        else np.full(n, "")
    ).astype(str)
    codes = np.array([_code(d, i) for i, d in enumerate(frame["distribution"])], dtype=np.int64)
    params = {}
    for column in ("shape", "scale"):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        skip = (codes == DISTRIBUTIONS.index("fixed")) if column == "shape" else np.zeros(n, bool)
        bad = ~(np.isfinite(values) & (values > 0)) & ~skip
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise LifetimeError(
                f"{frame[column].iloc[i]!r} is not a positive number", row=i, column=column
            )
        params[column] = np.where(skip, 1.0, values)
    if "cohort_year" in frame.columns:
        blank = _blank(frame["cohort_year"])
        cohort = pd.to_numeric(frame["cohort_year"], errors="coerce").to_numpy(dtype=float)
        bad = ~blank & ~(np.isfinite(cohort) & (cohort == np.round(cohort)))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise LifetimeError(
                f"{frame['cohort_year'].iloc[i]!r} is not a whole year", row=i, column="cohort_year"
            )
        cohort = np.where(blank, -np.inf, cohort)
    else:
        cohort = np.full(n, -np.inf)

    keys = pd.DataFrame({"region": region, "product": product, "cohort": cohort})
    dup = keys.duplicated(keep=False).to_numpy()
    if np.any(dup):
        rows = np.flatnonzero(dup)
        first = rows[0]
        again = rows[1:][(keys.iloc[rows[1:]] == keys.iloc[first]).all(axis=1).to_numpy()][0]
        raise LifetimeError(
            f"duplicated key (region={region[first]!r}, product={product[first]!r}, "
            f"cohort_year={'' if np.isinf(cohort[first]) else int(cohort[first])}) "
            f"also in data row {first}",
            row=int(again),
            column="product",
        )

    p_pos = {p: i for i, p in enumerate(dims.products)}
    r_pos = {r: i for i, r in enumerate(dims.regions)}
    keep = np.array(
        [p in p_pos and (r == "" or r in r_pos) for p, r in zip(product, region, strict=True)]
    )
    if not np.all(keep):
        logger.debug(
            "lifetime table: %d rows outside the run's regions/products ignored", int((~keep).sum())
        )
    rows = np.flatnonzero(keep)
    # one key per (region, product); rows sorted by key then cohort year
    key_frame = keys.iloc[rows][["region", "product"]]
    key_id = key_frame.groupby(["region", "product"], sort=True).ngroup().to_numpy()
    order = np.lexsort((cohort[rows], key_id))
    rows, key_id = rows[order], key_id[order]
    n_keys = int(key_id.max()) + 1 if rows.size else 0
    start = np.searchsorted(key_id, np.arange(n_keys))
    mixed = codes[rows] != codes[rows[start[key_id]]]
    if np.any(mixed):
        i = int(rows[np.flatnonzero(mixed)[0]])
        raise LifetimeError(
            f"distribution differs from the other rows of region {region[i]!r}, "
            f"product {product[i]!r}",
            row=i,
            column="distribution",
        )
    # step functions: the last row of the key with cohort_year <= year (else the key's first)
    years = dims.years.astype(float)
    span = 1e5
    lo = np.where(np.isinf(cohort[rows]), 0.0, cohort[rows] - years.min() + 1e4)
    sorted_val = key_id * span + np.clip(lo, 0.0, span - 1)
    query = np.arange(n_keys)[:, None] * span + (years - years.min() + 1e4)[None, :]
    pick = np.searchsorted(sorted_val, query, side="right") - 1
    pick = np.maximum(pick, start[:, None])
    key_shape = params["shape"][rows[pick]]
    key_scale = params["scale"][rows[pick]]
    key_code = codes[rows[start]]
    key_region = region[rows[start]]
    key_product = np.array([p_pos[p] for p in product[rows[start]]], dtype=np.intp)

    n_r, n_p = len(dims.regions), len(dims.products)
    cell_key = np.full((n_r, n_p), -1, dtype=np.intp)
    generic = key_region == ""
    cell_key[:, key_product[generic]] = np.flatnonzero(generic)[None, :]
    spec = np.flatnonzero(~generic)
    if spec.size:
        spec_r = np.array([r_pos[r] for r in key_region[spec]], dtype=np.intp)
        cell_key[spec_r, key_product[spec]] = spec
    if np.any(cell_key < 0):
        _, p_i = np.argwhere(cell_key < 0)[0]
        missing = [dims.regions[i] for i in np.flatnonzero(cell_key[:, p_i] < 0)]
        raise LifetimeError(
            f"no lifetime for product {dims.products[p_i]!r} in region(s) {missing[:8]}",
            column="product",
        )
    return _grouped(
        dims.regions,
        dims.products,
        dims.years,
        key_code[cell_key],
        key_shape[cell_key],
        key_scale[cell_key],
    )


def _grouped(
    regions: tuple[str, ...],
    products: tuple[str, ...],
    years: np.ndarray,
    codes: np.ndarray,
    shape: np.ndarray,
    scale: np.ndarray,
) -> LifetimeTable:
    """Group (R, P) cells with identical (distribution, shape[C], scale[C]) rows."""
    n_r, n_p, n_c = shape.shape
    flat = np.concatenate(
        [codes.reshape(-1, 1).astype(float), shape.reshape(-1, n_c), scale.reshape(-1, n_c)],
        axis=1,
    )
    first, inverse = unique_rows(flat)
    uniq = flat[first]
    return LifetimeTable(
        regions=tuple(regions),
        products=tuple(products),
        cohort_years=np.asarray(years, dtype=np.int64).copy(),
        group=inverse.reshape(n_r, n_p).astype(np.intp),
        distribution=tuple(DISTRIBUTIONS[int(c)] for c in uniq[:, 0]),
        shape=uniq[:, 1 : 1 + n_c].copy(),
        scale=uniq[:, 1 + n_c :].copy(),
    )


def extension_cells(table: LifetimeTable, extension: LifetimeExtension) -> np.ndarray:
    """``(R, P)`` bool mask of the cells a policy targets; unknown codes raise ``KeyError``."""
    dims = Dims(table.regions, table.products, table.cohort_years)
    rows = (
        np.ones(len(table.regions), bool)
        if extension.regions is None
        else np.isin(np.arange(len(table.regions)), dims.region_index(list(extension.regions)))
    )
    cols = (
        np.ones(len(table.products), bool)
        if extension.products is None
        else np.isin(np.arange(len(table.products)), dims.product_index(list(extension.products)))
    )
    return rows[:, None] & cols[None, :]
