"""Lifecycle stages, the allowed transfers between them, and transfer-coefficient tables.

The structure of the lifecycle system is declared once, here (in the spirit of flodym's
``MFADefinition``): :class:`Stage` names the nodes of every region and :data:`STRUCTURE` lists
the out-transfers each stage may have. Yearly data then fill that structure:

* :class:`TransferCoefficients` hold the share of the outflow of a stage that goes to each
  allowed target, by region, product and year, read from a tidy table
  ``region,product,year,from_stage,to_stage,share``.
* :class:`ExportDestinations` hold where the ``export`` stage of each region ships to, read from
  ``origin,destination,to_stage,share`` (optional ``product``).

Both tables are validated when they are read (the boundary); the engine trusts them afterwards.

Precedence of table rows
------------------------
A blank ``region``, ``product`` or ``year`` is a wildcard. For one stage and one
(region, product, year) cell, the rows of the **most specific key** win: a key is more specific
when it gives more of region/product/year; between keys giving equally many, region beats product
beats year. The winning key replaces the *whole distribution* of that stage in that cell
(transfers it does not list are zero), so a region-specific set of shares never mixes with a
global default. Year-specific rows for years outside the modelled range are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import pandas as pd

from ewaste_tracker.flows.errors import TransferCoefficientError

__all__ = [
    "BOUNDARY",
    "IMPORT_STAGES",
    "ROW",
    "SINKS",
    "STRUCTURE",
    "TABLE_STAGES",
    "DimsLike",
    "ExportDestinations",
    "Stage",
    "TransferCoefficients",
]

log = logging.getLogger(__name__)

#: Share tolerance: the shares out of a node must sum to one within this.
SHARE_ATOL = 1e-9
#: Name of the boundary node ("sysenv", "sysenv") and of destinations outside the model.
BOUNDARY = "sysenv"
ROW = "ROW"


class Stage(StrEnum):
    """Lifecycle stages; every region has one node per stage (see docs/architecture.md)."""

    MANUFACTURE = "manufacture"
    MARKET = "market"
    USE = "use"
    GENERATED = "generated"
    COLLECTION_FORMAL = "collection_formal"
    COLLECTION_INFORMAL = "collection_informal"
    REFURBISHMENT = "refurbishment"
    PREPROCESSING = "preprocessing"
    ENDPROCESSING = "endprocessing"
    RECYCLING_INFORMAL = "recycling_informal"
    RESIDUAL = "residual"
    EXPORT = "export"
    RECOVERED = "recovered"
    DISPOSED = "disposed"
    LOSSES = "losses"


S = Stage
#: Allowed out-transfers of every stage (within a region). ``use`` discards by lifetimes,
#: ``export`` ships by :class:`ExportDestinations`; sinks have none.
STRUCTURE: dict[Stage, tuple[Stage, ...]] = {
    S.MANUFACTURE: (S.MARKET,),
    S.MARKET: (S.USE,),
    S.USE: (S.GENERATED,),
    S.GENERATED: (S.COLLECTION_FORMAL, S.COLLECTION_INFORMAL, S.RESIDUAL),
    S.COLLECTION_FORMAL: (S.REFURBISHMENT, S.PREPROCESSING, S.EXPORT),
    S.COLLECTION_INFORMAL: (
        S.REFURBISHMENT,
        S.PREPROCESSING,
        S.RECYCLING_INFORMAL,
        S.RESIDUAL,
        S.EXPORT,
    ),
    S.REFURBISHMENT: (S.USE, S.PREPROCESSING),
    S.PREPROCESSING: (S.ENDPROCESSING, S.RESIDUAL),
    S.ENDPROCESSING: (S.RECOVERED, S.LOSSES),
    S.RECYCLING_INFORMAL: (S.RECOVERED, S.LOSSES),
    S.RESIDUAL: (S.DISPOSED,),
    S.EXPORT: (),
    S.RECOVERED: (),
    S.DISPOSED: (),
    S.LOSSES: (),
}
#: Stages whose out-shares come from the transfer-coefficient table.
TABLE_STAGES: tuple[Stage, ...] = tuple(
    s for s, out in STRUCTURE.items() if out and s not in (S.USE, S.EXPORT)
)
#: Final sinks: their stock is the cumulative inflow.
SINKS: tuple[Stage, ...] = (S.RECOVERED, S.DISPOSED, S.LOSSES)
#: Stages of a destination region that can receive exports.
IMPORT_STAGES: tuple[Stage, ...] = (S.USE, S.REFURBISHMENT, S.PREPROCESSING, S.RECYCLING_INFORMAL)

_STAGE_NAMES = frozenset(s.value for s in Stage)


class DimsLike(Protocol):
    """Anything carrying axis labels like :class:`ewaste_tracker.flows.dims.Dims`."""

    @property
    def regions(self) -> Sequence[str]: ...
    @property
    def products(self) -> Sequence[str]: ...
    @property
    def years(self) -> np.ndarray: ...


def _blank(col: pd.Series) -> np.ndarray:
    """True where a key cell is a wildcard (missing or empty string)."""
    isna = col.isna().to_numpy()
    text = col.astype(object).where(~isna, "").astype(str).str.strip()
    return isna | (text == "").to_numpy()


def _codes(
    table: pd.DataFrame, column: str, labels: Sequence[str], *, wildcard: bool = True
) -> np.ndarray:
    """Index of each cell of ``column`` in ``labels`` (-1 for a wildcard); raise if unknown."""
    n = len(table)
    if column not in table.columns:
        if wildcard:
            return np.full(n, -1, dtype=np.intp)
        raise TransferCoefficientError(f"missing required column {column!r}", column=column)
    col = table[column]
    blank = _blank(col)
    if blank.any() and not wildcard:
        row = int(np.flatnonzero(blank)[0])
        raise TransferCoefficientError("value is required", row=row, column=column)
    text = col.astype(object).where(~blank, "").astype(str).str.strip().to_numpy()
    idx = pd.Index(list(labels), dtype=object).get_indexer(pd.Index(text)).astype(np.intp)
    idx[idx < 0] = -2
    idx[blank] = -1
    bad = np.flatnonzero(idx == -2)
    if bad.size:
        row = int(bad[0])
        raise TransferCoefficientError(
            f"unknown code {text[row]!r} (expected one of {len(labels)} modelled codes, "
            f"e.g. {list(labels)[:5]})",
            row=row,
            column=column,
        )
    return idx


def _shares(table: pd.DataFrame) -> np.ndarray:
    """Numeric, finite, non-negative ``share`` column."""
    if "share" not in table.columns:
        raise TransferCoefficientError("missing required column 'share'", column="share")
    share = pd.to_numeric(table["share"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(share) | (share < 0))
    if bad.size:
        row = int(bad[0])
        raise TransferCoefficientError(
            f"share must be a finite number >= 0, got {table['share'].iloc[row]!r}",
            row=row,
            column="share",
        )
    return share


def _stages(table: pd.DataFrame, column: str) -> np.ndarray:
    """Stage names of ``column`` as a string array; raise on an unknown stage."""
    if column not in table.columns:
        raise TransferCoefficientError(f"missing required column {column!r}", column=column)
    text = table[column].astype(str).str.strip().to_numpy(dtype=object)
    bad = np.flatnonzero(~np.isin(text, sorted(_STAGE_NAMES)))
    if bad.size:
        raise TransferCoefficientError(
            f"unknown stage {text[bad[0]]!r} (expected one of {sorted(_STAGE_NAMES)})",
            row=int(bad[0]),
            column=column,
        )
    return text


def _check_duplicates(keys: pd.DataFrame, what: str) -> None:
    dup = keys.duplicated(keep="first").to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise TransferCoefficientError(f"duplicate {what} (same key as an earlier row)", row=row)


@dataclass(frozen=True)
class TransferCoefficients:
    """Resolved transfer coefficients.

    Attributes
    ----------
    regions, products, years
        Axis labels the shares were resolved against.
    shares
        ``{(from_stage, to_stage): array}`` with arrays broadcastable to ``(R, P, N)``: an axis
        along which the table does not vary has length 1 (never copied to full size).
    """

    regions: tuple[str, ...]
    products: tuple[str, ...]
    years: np.ndarray
    shares: Mapping[tuple[Stage, Stage], np.ndarray]

    def share(self, source: str, target: str) -> np.ndarray:
        """Share ``source -> target``, broadcastable to ``(R, P, N)``."""
        return self.shares[(Stage(source), Stage(target))]

    def at(self, *, product: int, year: int) -> dict[tuple[Stage, Stage], np.ndarray]:
        """All shares for one product index and year index, as ``(R,)`` arrays."""
        shape = (len(self.regions), len(self.products), len(self.years))
        return {k: np.broadcast_to(v, shape)[:, product, year] for k, v in self.shares.items()}

    def check_labels(self, dims: DimsLike) -> None:
        """Raise if these coefficients were resolved against other axis labels than ``dims``."""
        same = (
            tuple(dims.regions) == self.regions
            and tuple(dims.products) == self.products
            and np.array_equal(np.asarray(dims.years), self.years)
        )
        if not same:
            raise TransferCoefficientError(
                "transfer coefficients were resolved for other regions/products/years than the "
                "system; resolve them again with TransferCoefficients.from_frame(table, dims)"
            )

    @classmethod
    def from_frame(cls, table: pd.DataFrame, dims: DimsLike) -> TransferCoefficients:
        """Validate and resolve a tidy table ``region,product,year,from_stage,to_stage,share``.

        Parameters
        ----------
        table
            One row per transfer. ``region``, ``product`` and ``year`` may be blank (or the
            column absent) = applies to all; see the module docstring for precedence.
        dims
            Axis labels (regions, products, years) to resolve against.

        Raises
        ------
        TransferCoefficientError
            Unknown stage or region/product code, a transfer the structure does not allow,
            a negative share, duplicate keys, a (region, product, year) cell with no
            coefficients for a stage, or shares out of a stage not summing to 1 within 1e-9.
        """
        regions, products = tuple(dims.regions), tuple(dims.products)
        years = np.asarray(dims.years, dtype=int)
        table = table.reset_index(drop=True)
        src = _stages(table, "from_stage")
        dst = _stages(table, "to_stage")
        pair = src + "->" + dst
        allowed_pairs = [f"{a}->{b}" for a in TABLE_STAGES for b in STRUCTURE[a]]
        bad_rows = np.flatnonzero(~np.isin(pair, allowed_pairs))
        if bad_rows.size:
            i = int(bad_rows[0])
            a, b = str(src[i]), str(dst[i])
            if Stage(a) not in TABLE_STAGES:
                hint = {
                    "use": "use discards come from the lifetime discard matrices",
                    "export": "exports are routed by the export-destination table",
                }.get(a, "it has no out-transfers")
                raise TransferCoefficientError(
                    f"stage {a!r} takes no transfer coefficients ({hint})",
                    row=i,
                    column="from_stage",
                    node=a,
                )
            if Stage(b) not in STRUCTURE[Stage(a)]:
                allowed = [t.value for t in STRUCTURE[Stage(a)]]
                raise TransferCoefficientError(
                    f"transfer {a} -> {b} is not allowed (from {a!r} only to {allowed})",
                    row=i,
                    column="to_stage",
                    node=a,
                )
        share = _shares(table)
        ri = _codes(table, "region", regions)
        pi = _codes(table, "product", products)
        yi = np.full(len(table), -1, dtype=np.intp)
        keep = np.ones(len(table), dtype=bool)
        if "year" in table.columns:
            yblank = _blank(table["year"])
            yval = pd.to_numeric(table["year"].where(~yblank), errors="coerce").to_numpy()
            bad = np.flatnonzero(~yblank & (~np.isfinite(yval) | (yval != np.round(yval))))
            if bad.size:
                raise TransferCoefficientError(
                    f"year must be an integer or blank, got {table['year'].iloc[bad[0]]!r}",
                    row=int(bad[0]),
                    column="year",
                )
            pos = np.searchsorted(years, np.where(yblank, years[0], yval).astype(int))
            pos = np.clip(pos, 0, len(years) - 1)
            inside = years[pos] == np.where(yblank, years[0], yval)
            keep = yblank | inside
            yi = np.where(yblank, -1, pos)
            if (~keep).any():
                log.info(
                    "ignoring %d transfer-coefficient rows for years outside %d-%d",
                    int((~keep).sum()),
                    years[0],
                    years[-1],
                )
        keys = pd.DataFrame({"r": ri, "p": pi, "y": yi, "s": src, "t": dst})
        _check_duplicates(keys[keep], "transfer-coefficient row")

        shares: dict[tuple[Stage, Stage], np.ndarray] = {}
        for node in TABLE_STAGES:
            rows = np.flatnonzero(keep & (src == node.value))
            arr = _resolve_node(node, rows, ri, pi, yi, dst, share, regions, products, years)
            for k, target in enumerate(STRUCTURE[node]):
                view = arr[k]
                view.flags.writeable = False
                shares[(node, target)] = view
        return cls(regions, products, years, shares)

    def to_frame(self) -> pd.DataFrame:
        """Fully specific tidy table of every share (inverse of :meth:`from_frame`)."""
        shape = (len(self.regions), len(self.products), len(self.years))
        r, p, n = np.indices(shape).reshape(3, -1)
        parts = []
        for (a, b), arr in self.shares.items():
            parts.append(
                pd.DataFrame(
                    {
                        "region": np.asarray(self.regions, dtype=object)[r],
                        "product": np.asarray(self.products, dtype=object)[p],
                        "year": self.years[n],
                        "from_stage": a.value,
                        "to_stage": b.value,
                        "share": np.broadcast_to(arr, shape).ravel(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)


def _resolve_node(
    node: Stage,
    rows: np.ndarray,
    ri: np.ndarray,
    pi: np.ndarray,
    yi: np.ndarray,
    dst: np.ndarray,
    share: np.ndarray,
    regions: tuple[str, ...],
    products: tuple[str, ...],
    years: np.ndarray,
) -> np.ndarray:
    """Shares of one stage as ``(T, R|1, P|1, N|1)``, most specific key winning per cell."""
    targets = STRUCTURE[node]
    if rows.size == 0:
        if len(targets) == 1:
            return np.ones((1, 1, 1, 1))
        raise TransferCoefficientError(
            f"no transfer coefficients for stage {node.value!r} (needs shares to "
            f"{[t.value for t in targets]})",
            node=node.value,
        )
    full = (len(regions), len(products), len(years))
    given = np.stack([ri[rows] >= 0, pi[rows] >= 0, yi[rows] >= 0], axis=1)
    vary: np.ndarray = np.asarray(given.any(axis=0), dtype=bool)
    shape = tuple(n if v else 1 for n, v in zip(full, vary, strict=True))
    arr = np.zeros((len(targets), *shape))
    covered = np.zeros(shape, dtype=bool)
    tpos = [t.value for t in targets]
    patterns = sorted({tuple(g) for g in given.tolist()}, key=lambda g: (sum(g), *g))
    codes = (ri, pi, yi)
    for pattern in patterns:
        sel = rows[(given == pattern).all(axis=1)]
        index = tuple(codes[a][sel] if pattern[a] else slice(None) for a in range(3))
        arr[(slice(None), *index)] = 0.0
        covered[index] = True
        tidx = pd.Index(tpos).get_indexer(pd.Index(dst[sel])).astype(np.intp)
        nslices = 3 - sum(pattern)
        arr[(tidx, *index)] = share[sel].reshape((-1,) + (1,) * nslices)
    if not covered.all():
        r, p, n = (int(v[0]) for v in np.nonzero(~covered))
        raise TransferCoefficientError(
            f"no transfer coefficients for stage {node.value!r} in this cell",
            node=node.value,
            region=regions[r] if vary[0] else None,
            product=products[p] if vary[1] else None,
            year=int(years[n]) if vary[2] else None,
        )
    total = arr.sum(axis=0)
    bad = np.abs(total - 1.0) > SHARE_ATOL
    if bad.any():
        r, p, n = (int(v[0]) for v in np.nonzero(bad))
        raise TransferCoefficientError(
            f"shares out of stage {node.value!r} sum to {total[r, p, n]:.12g}, not 1",
            node=node.value,
            region=regions[r] if vary[0] else None,
            product=products[p] if vary[1] else None,
            year=int(years[n]) if vary[2] else None,
        )
    return arr


@dataclass(frozen=True)
class ExportDestinations:
    """Where each region's ``export`` stage ships, as ``L`` links.

    Attributes
    ----------
    regions, products
        Axis labels.
    origin, destination
        ``(L,)`` region indices; ``destination == -1`` is outside the modelled regions (ROW,
        the boundary).
    to_stage
        ``(L,)`` receiving stage names (``"sysenv"`` for ROW links).
    shares
        ``(L, P)`` or ``(L, 1)`` share of the origin's export going to the link.
    """

    regions: tuple[str, ...]
    products: tuple[str, ...]
    origin: np.ndarray
    destination: np.ndarray
    to_stage: tuple[str, ...]
    shares: np.ndarray

    def check_labels(self, dims: DimsLike) -> None:
        """Raise if these destinations were resolved against other regions/products."""
        if self.regions != tuple(dims.regions) or self.products != tuple(dims.products):
            raise TransferCoefficientError(
                "export destinations were resolved for other regions/products than the "
                "system; resolve them again with ExportDestinations.from_frame(table, dims)",
                node="export",
            )

    @classmethod
    def to_rest_of_world(cls, dims: DimsLike) -> ExportDestinations:
        """Every region ships all its exports out of the system (the default)."""
        nr = len(dims.regions)
        return cls(
            tuple(dims.regions),
            tuple(dims.products),
            np.arange(nr),
            np.full(nr, -1),
            (BOUNDARY,) * nr,
            np.ones((nr, 1)),
        )

    @classmethod
    def from_frame(cls, table: pd.DataFrame, dims: DimsLike) -> ExportDestinations:
        """Validate and resolve ``origin,destination,to_stage,share`` (optional ``product``).

        A blank product applies to all products; product-specific rows of an origin replace
        its blank-product rows for that product. ``destination`` ``ROW`` leaves the system;
        there ``to_stage`` only says whether the shipment is used equipment (``use`` or
        ``refurbishment``: a ``use`` link) or e-waste (anything else: a ``sysenv`` link).
        Origins absent from the table ship everything to ROW.

        Raises
        ------
        TransferCoefficientError
            Unknown origin/destination/product, a destination equal to its origin, a
            ``to_stage`` outside {use, refurbishment, preprocessing, recycling_informal},
            negative shares, duplicate keys, or shares of an origin not summing to 1.
        """
        regions, products = tuple(dims.regions), tuple(dims.products)
        table = table.reset_index(drop=True)
        oi = _codes(table, "origin", regions, wildcard=False)
        dest_text = table["destination"].astype(str).str.strip() if "destination" in table else None
        if dest_text is None:
            raise TransferCoefficientError("missing required column 'destination'")
        is_row = (dest_text == ROW).to_numpy()
        di = _codes(
            table.assign(destination=dest_text.where(~is_row, regions[0])),
            "destination",
            regions,
            wildcard=False,
        )
        di[is_row] = -1
        same = np.flatnonzero(di == oi)
        if same.size:
            raise TransferCoefficientError(
                "destination equals origin",
                row=int(same[0]),
                column="destination",
                region=regions[oi[same[0]]],
                node="export",
            )
        if "to_stage" not in table.columns:  # may be omitted when every row is ROW
            table = table.assign(to_stage=BOUNDARY)
        # ROW rows keep one distinction: used equipment (to_stage use or refurbishment) leaves
        # as a "use" link, anything else as e-waste (the boundary)
        raw_stage = table["to_stage"].astype("string").str.strip().fillna("")
        row_used = is_row & raw_stage.isin([S.USE.value, S.REFURBISHMENT.value]).to_numpy()
        stage = _stages(
            table.assign(to_stage=table["to_stage"].where(~is_row, S.USE.value)), "to_stage"
        )
        bad = [i for i, s in enumerate(stage) if not is_row[i] and Stage(s) not in IMPORT_STAGES]
        if bad:
            raise TransferCoefficientError(
                f"exports cannot arrive in stage {stage[bad[0]]!r} (expected one of "
                f"{[s.value for s in IMPORT_STAGES]})",
                row=bad[0],
                column="to_stage",
            )
        share = _shares(table)
        pi = _codes(table, "product", products)
        stage = np.where(is_row, np.where(row_used, S.USE.value, BOUNDARY), stage)
        _check_duplicates(
            pd.DataFrame({"o": oi, "d": di, "s": stage, "p": pi}), "export-destination row"
        )
        links = pd.DataFrame({"o": oi, "d": di, "s": stage}).drop_duplicates()
        missing = sorted(set(range(len(regions))) - set(oi.tolist()))
        if missing:
            log.info(
                "%d origins have no export destinations: their exports go to ROW", len(missing)
            )
            links = pd.concat(
                [links, pd.DataFrame({"o": missing, "d": -1, "s": BOUNDARY})], ignore_index=True
            )
        links = links.sort_values(["o", "d", "s"], ignore_index=True)
        link_of = {k: i for i, k in enumerate(zip(links.o, links.d, links.s, strict=True))}
        lidx = np.array([link_of[k] for k in zip(oi, di, stage, strict=True)], dtype=np.intp)
        specific = pi >= 0
        arr = np.zeros((len(links), len(products) if specific.any() else 1))
        wild = ~specific
        np.add.at(arr, lidx[wild], share[wild][:, None])
        miss_links = np.flatnonzero(np.isin(links.o.to_numpy(), missing))
        arr[miss_links] = 1.0
        if specific.any():
            # zero the blank-product distribution of (origin, product) pairs given explicitly
            lorig = links.o.to_numpy()
            pairs = np.unique(np.stack([oi[specific], pi[specific]], axis=1), axis=0)
            for o, p in pairs:
                arr[lorig == o, p] = 0.0
            np.add.at(arr, (lidx[specific], pi[specific]), share[specific])
        total = np.zeros((len(regions), arr.shape[1]))
        np.add.at(total, links.o.to_numpy(), arr)
        bad2 = np.abs(total - 1.0) > SHARE_ATOL
        if bad2.any():
            o, p = (int(v[0]) for v in np.nonzero(bad2))
            raise TransferCoefficientError(
                f"export shares of origin sum to {total[o, p]:.12g}, not 1",
                region=regions[o],
                product=products[p] if arr.shape[1] > 1 else None,
                node="export",
            )
        arr.flags.writeable = False
        return cls(
            regions,
            products,
            links.o.to_numpy(np.intp),
            links.d.to_numpy(np.intp),
            tuple(links.s),
            arr,
        )
