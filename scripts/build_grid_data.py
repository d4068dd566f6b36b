"""Build ``data/grid/land_300s.npz``: land cells per 5′ cell from the 30″ global land mask.

Source: PyPI ``global-land-mask`` (MIT), ``globe_combined_mask_compressed.npz``, a 30″
(21,600 x 43,200) land/water mask derived from NOAA GLOBE (True = water). Each 5′ cell holds
10 x 10 mask cells; the file stores how many of them are land (uint8, 0-100), rows from 90°N
southwards and columns from 180°W eastwards (transform ``(1/12, 0, -180, 0, -1/12, 90)``).

Run from the repository root::

    .venv/bin/python scripts/build_grid_data.py
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ewaste_tracker.maps.raster_io import SHIPPED_LAND_FRACTION, _mask_rows  # noqa: E402

logger = logging.getLogger("build_grid_data")


def main() -> None:
    """Stream the package mask once and write the 5′ land counts."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    counts = _mask_rows(0, 21600, slice(0, 43200), 10).astype(np.uint8)
    SHIPPED_LAND_FRACTION.parent.mkdir(parents=True, exist_ok=True)
    tmp = SHIPPED_LAND_FRACTION.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, land=counts, subcells=np.uint8(100))
    tmp.replace(SHIPPED_LAND_FRACTION)
    logger.info(
        "wrote %s: %s cells, land share %.4f, %d bytes",
        SHIPPED_LAND_FRACTION,
        counts.shape,
        counts.mean() / 100,
        SHIPPED_LAND_FRACTION.stat().st_size,
    )


if __name__ == "__main__":
    main()
