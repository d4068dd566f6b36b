"""The kept estimate: written atomically, read back only for its own key and owner."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ewaste_tracker as et
from ewaste_tracker.app import persist

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "ewaste_tracker" / "data" / "examples" / "east_africa"
)


@pytest.fixture(scope="module")
def eac() -> et.Estimate:
    est = et.estimate(inputs=EXAMPLE)
    est.indicators, est.element_flows, est.footprint  # noqa: B018 - fill the table cache
    return est


def test_round_trip_keeps_tables_and_arrays(eac, tmp_path: Path) -> None:
    path = persist.write_cached({"estimate": eac}, "k1", folder=tmp_path)
    assert path is not None and path.read_bytes().startswith(persist.MAGIC)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    got = persist.read_cached("k1", folder=tmp_path)["estimate"]
    pd.testing.assert_frame_equal(got.indicators, eac.indicators)
    pd.testing.assert_frame_equal(got.footprint, eac.footprint)
    np.testing.assert_array_equal(got.result.system.use_stock, eac.result.system.use_stock)
    assert got.value("KEN", "generated_t", 2020) == eac.value("KEN", "generated_t", 2020)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_other_keys_and_foreign_files_are_not_loaded(eac, tmp_path: Path) -> None:
    persist.write_cached([1, 2], "k1", folder=tmp_path)
    assert persist.read_cached("k2", folder=tmp_path) is None
    # a file of the right name but with another key inside is refused
    src = next(tmp_path.glob("estimate-*.pkl"))
    src.rename(tmp_path / src.name.replace(src.name[9:41], "k2".ljust(32, "x")[:32]))
    assert persist.read_cached("k2".ljust(32, "x"), folder=tmp_path) is None


def test_a_pickle_calling_os_system_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    key = "evil"
    path = tmp_path / f"estimate-{key}.pkl"
    header = b'{"format": %d, "key": "evil"}\n' % persist.FORMAT
    path.write_bytes(persist.MAGIC + header + pickle.dumps(Evil(), protocol=5))
    os.chmod(path, 0o600)
    assert persist.read_cached(key, folder=tmp_path) is None
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(persist.CacheRefused):
        persist.RestrictedUnpickler(
            __import__("io").BytesIO(pickle.dumps(pd.DataFrame.eval, protocol=5))
        ).load()


def test_files_others_may_write_are_not_loaded(tmp_path: Path) -> None:
    path = persist.write_cached({"a": 1}, "k1", folder=tmp_path)
    assert persist.read_cached("k1", folder=tmp_path) == {"a": 1}
    os.chmod(path, 0o666)
    assert persist.read_cached("k1", folder=tmp_path) is None


def test_load_or_build_builds_once_then_loads(tmp_path: Path) -> None:
    calls = []

    def build():
        calls.append(1)
        return {"value": 42}

    store = tmp_path / "store.gpkg"
    assert persist.load_or_build(build, store=store, folder=tmp_path) == ({"value": 42}, "built")
    assert persist.load_or_build(build, store=store, folder=tmp_path) == ({"value": 42}, "loaded")
    assert persist.load_or_build(build, store=store, folder=tmp_path, extra="v2")[1] == "built"
    assert len(calls) == 2
    for _ in range(3):
        persist.load_or_build(build, store=store, folder=tmp_path, extra=str(len(calls)))
    assert len(list(tmp_path.glob("estimate-*.pkl"))) == persist.KEEP


def test_a_new_submission_changes_the_key(tmp_path: Path) -> None:
    from ewaste_tracker.submissions.submit import submit

    store = tmp_path / "store.gpkg"
    before = persist.cache_key(store)
    assert persist.cache_key(store) == before
    sub = tmp_path / "KEN.csv"
    sub.write_text("country,year,product,indicator,value,unit\nKEN,2021,0306,pom,412.5,t\n")
    submit(sub, store=store, submitter="test")
    assert persist.cache_key(store) != before


def test_caching_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", "off")
    assert persist.write_cached({"a": 1}, "k") is None
    assert persist.read_cached("k") is None


def test_arrays_are_kept_out_of_band_and_a_truncated_file_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"region": ["KEN", "UGA"] * 500, "value": np.arange(1000.0)})
    path = persist.write_cached({"frame": frame}, "k1", folder=tmp_path)
    assert path is not None
    header = __import__("json").loads(path.read_bytes().split(b"\n", 2)[1])
    assert header["buffers"] and all(o % persist.ALIGN == 0 for o, _ in header["buffers"])
    got = persist.read_cached("k1", folder=tmp_path)["frame"]
    pd.testing.assert_frame_equal(got, frame)
    got.loc[0, "value"] = -1.0  # copy-on-write: the file is not changed
    pd.testing.assert_frame_equal(persist.read_cached("k1", folder=tmp_path)["frame"], frame)
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size - 100)
    assert persist.read_cached("k1", folder=tmp_path) is None
