"""Axis labels that travel beside the dense arrays of the flow engine.

Every dense array in :mod:`flows` is ordered ``(region, product, year)`` (see
``docs/architecture.md``); :class:`Dims` holds the labels of those axes plus the element axis
used by the mineral arrays ``(region, element, year)``.

Examples
--------
>>> import numpy as np
>>> dims = Dims(regions=("NLD", "KEN"), products=("0306", "0302"), years=np.arange(2000, 2031))
>>> dims.shape
(2, 2, 31)
>>> dims.product_index(["0302"])
array([1])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Dims", "Labels"]

#: Codes to look up: a single code, a sequence, an array or a pandas Series.
Labels = Sequence[object] | str | np.ndarray | pd.Series


def _labels(values: Iterable[object], axis: str) -> tuple[str, ...]:
    labels = tuple(str(v) for v in values)
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise ValueError(f"Dims: duplicated {axis} label {label!r}")
        seen.add(label)
    return labels


@dataclass(frozen=True, eq=False)
class Dims:
    """Labels of the region, product, year and element axes.

    Parameters
    ----------
    regions
        Region codes (ISO3 or user codes for sub-national runs), unique.
    products
        Product codes (UNU-KEY strings such as ``"0306"``), unique.
    years
        Calendar years, strictly increasing integers. Stored as a read-only ``int64`` array.
    elements
        Element symbols (``"Au"``, ``"Cu"`` ...), unique; empty when no mineral layer is used.
    """

    regions: tuple[str, ...]
    products: tuple[str, ...]
    years: np.ndarray
    elements: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "regions", _labels(self.regions, "region"))
        object.__setattr__(self, "products", _labels(self.products, "product"))
        object.__setattr__(self, "elements", _labels(self.elements, "element"))
        raw = np.asarray(self.years)
        if raw.ndim != 1 or raw.size == 0:
            raise ValueError("Dims: years must be a non-empty 1-D sequence")
        years = raw.astype(np.int64)
        if not np.array_equal(years, raw):
            raise ValueError(f"Dims: years must be whole numbers, got {raw.tolist()}")
        if np.any(np.diff(years) <= 0):
            raise ValueError("Dims: years must be strictly increasing")
        years.setflags(write=False)
        object.__setattr__(self, "years", years)

    # --- sizes -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """``(R, P, N)``: the shape of a dense region × product × year array."""
        return (len(self.regions), len(self.products), int(self.years.size))

    @property
    def sizes(self) -> dict[str, int]:
        """Length of every axis by name."""
        return {
            "regions": len(self.regions),
            "products": len(self.products),
            "years": int(self.years.size),
            "elements": len(self.elements),
        }

    @property
    def annual(self) -> bool:
        """True when the years are consecutive (a step of exactly one year)."""
        return bool(np.all(np.diff(self.years) == 1))

    # --- index lookup ------------------------------------------------------------------------
    @staticmethod
    def _lookup(labels: tuple[str, ...], wanted: Labels, axis: str) -> np.ndarray:
        items = [wanted] if isinstance(wanted, str) else wanted
        # factorize the values as they are (C hashing of the many values, no text built per
        # value), then look up the few distinct ones as text; a missing value is a distinct
        # one and is reported unknown
        series = (
            items if isinstance(items, pd.Series) else pd.Series(np.asarray(items, dtype=object))
        )
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
        pos = pd.Index(labels).get_indexer(
            pd.Index(np.asarray(uniques, dtype=object)).astype("str")
        )
        if (pos < 0).any():
            missing = [str(u) for u in np.asarray(uniques, dtype=object)[pos < 0]]
            raise KeyError(f"Dims: unknown {axis} {missing[:5]} (known: {list(labels)[:8]}...)")
        return pos[codes].astype(np.intp)

    def region_index(self, regions: Labels) -> np.ndarray:
        """Positions of ``regions`` on the region axis; raises ``KeyError`` naming unknown codes."""
        return self._lookup(self.regions, regions, "region")

    def product_index(self, products: Labels) -> np.ndarray:
        """Positions of ``products`` on the product axis."""
        return self._lookup(self.products, products, "product")

    def element_index(self, elements: Labels) -> np.ndarray:
        """Positions of ``elements`` on the element axis."""
        return self._lookup(self.elements, elements, "element")

    def year_index(self, years: Sequence[int] | np.ndarray | int) -> np.ndarray:
        """Positions of ``years`` on the year axis; raises ``KeyError`` for years outside it."""
        wanted = np.atleast_1d(np.asarray(years, dtype=np.int64))
        pos = np.searchsorted(self.years, wanted)
        ok = (pos < self.years.size) & (self.years[np.minimum(pos, self.years.size - 1)] == wanted)
        if not np.all(ok):
            raise KeyError(
                f"Dims: years {wanted[~ok].tolist()[:5]} are not on the year axis "
                f"({int(self.years[0])}-{int(self.years[-1])})"
            )
        return pos.astype(np.intp)

    # --- value semantics ---------------------------------------------------------------------
    def _key(self) -> tuple[object, ...]:
        return (self.regions, self.products, tuple(self.years.tolist()), self.elements)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dims):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        years = f"{int(self.years[0])}-{int(self.years[-1])}"
        return (
            f"Dims(regions={len(self.regions)}, products={len(self.products)}, "
            f"years={years} ({self.years.size}), elements={len(self.elements)})"
        )
