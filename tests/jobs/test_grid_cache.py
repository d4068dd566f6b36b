"""The default population grid is built once per country and read back from the cache."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from ewaste_tracker.jobs import grid_cache
from ewaste_tracker.jobs.grid_cache import population_grid

BOUNDS = (28.8, -2.9, 30.9, -1.0)


@pytest.fixture
def zone() -> gpd.GeoDataFrame:
    """A Rwanda-sized box with a population (coarse cells keep the build quick)."""
    return gpd.GeoDataFrame(
        {"iso3": ["RWA"], "population": [13.0e6]},
        geometry=[shapely.box(29.0, -2.8, 30.8, -1.1)],
        crs="EPSG:4326",
    )


def _grid(zone: gpd.GeoDataFrame):  # type: ignore[no-untyped-def]
    return population_grid(zone, resolution=5 / 60, bounds=BOUNDS)


def test_second_build_is_read_from_the_cache_and_equal(
    zone: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", str(tmp_path))
    first, hit1 = _grid(zone)
    second, hit2 = _grid(zone)
    assert (hit1, hit2) == (False, True)
    np.testing.assert_array_equal(np.asarray(second.data), first.data)
    assert second.transform == first.transform and second.crs == first.crs
    assert float(np.asarray(second.data).sum()) == pytest.approx(13.0e6, rel=1e-9)
    assert not second.data.flags.writeable  # the kept file cannot be changed through it
    assert len(list((tmp_path / "grids").glob("*.npy"))) == 1


def test_a_changed_population_or_outline_builds_a_new_grid(
    zone: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", str(tmp_path))
    _grid(zone)
    more, hit = _grid(zone.assign(population=14.0e6))
    assert not hit and float(more.data.sum()) == pytest.approx(14.0e6, rel=1e-9)
    moved = zone.set_geometry([shapely.box(29.1, -2.8, 30.8, -1.1)], crs=4326)
    _, hit = _grid(moved)
    assert not hit
    assert len(list((tmp_path / "grids").glob("*.npy"))) == 3


def test_nothing_is_kept_when_the_cache_is_off(
    zone: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", "off")
    monkeypatch.chdir(tmp_path)
    _, hit = _grid(zone)
    _, hit2 = _grid(zone)
    assert not hit and not hit2
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_file_is_rebuilt_and_other_files_are_never_removed(
    zone: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", str(tmp_path))
    first = np.array(_grid(zone)[0].data)  # a copy: the kept file is damaged in place below
    folder = tmp_path / "grids"
    (npy,) = folder.glob("*.npy")
    npy.write_bytes(b"not an array")
    mine = folder / "notes.json"
    mine.write_text("{}", encoding="utf-8")
    again, hit = _grid(zone)
    assert not hit
    np.testing.assert_array_equal(again.data, first)
    monkeypatch.setattr(grid_cache, "CACHE_LIMIT_BYTES", 0)  # prune all but the newest
    _grid(zone.assign(population=1.0e6))
    assert len(list(folder.glob("*.npy"))) == 1
    assert mine.read_text(encoding="utf-8") == "{}"
