"""Draws kept on disk do not stay in the process's resident memory."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import ewaste_tracker.uncertainty.bands as bands


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_disk_store_is_written_and_read_without_keeping_its_pages(monkeypatch) -> None:
    monkeypatch.setattr(bands, "EXACT_LIMIT_BYTES", 1024)
    draws, cells = 40, 1_250_000  # 200 MB of float32
    store = bands._draw_store(draws, cells)
    assert isinstance(store, np.memmap)
    before = _rss_mb()
    rng = np.random.default_rng(0)
    for a in range(0, draws, 4):
        store[a : a + 4] = rng.random((4, cells), dtype=np.float32) + a
        bands._release(store)
    assert _rss_mb() - before < 60  # 200 MB written, at most a batch or two resident
    monkeypatch.setattr(bands, "QUANTILE_BLOCK_BYTES", 16 * 2**20)
    q = bands._quantiles(store)
    assert _rss_mb() - before < 100
    exact = np.quantile(np.asarray(store[:, :1000]), bands.QUANTILES, axis=0).T
    np.testing.assert_allclose(q[:1000], exact)
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()
