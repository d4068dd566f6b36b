"""The tracker store on both backends: versions, crash safety, concurrency, runs and exports.

Tests taking the ``store`` fixture run twice: on a new GeoPackage file and on a new
PostgreSQL/PostGIS store (skipped when no server can be had, see ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.submissions import geopackage
from ewaste_tracker.submissions.geopackage import GPKG_APPLICATION_ID, GPKG_USER_VERSION
from ewaste_tracker.submissions.store import (
    INDICATOR_COLUMNS,
    Store,
    compare_runs,
    export_run,
    fingerprint,
    history,
    record_run,
)
from ewaste_tracker.submissions.submit import INDICATORS, Codes, submit
from tests.conftest import REPO, TEST_DATA

BAD = TEST_DATA / "bad"
GOOD = TEST_DATA / "good"
CATALOG = GOOD / "catalog"
BAD_FILES = sorted(pd.read_csv(BAD / "index.csv", dtype=str)["file"])
YEARS = (1980, 2030)
N_BIG = 3200
CODES = Codes.from_tables(
    pd.read_csv(CATALOG / "countries.csv", dtype=str),
    pd.read_csv(CATALOG / "products.csv", dtype=str),
)

WRITER = """
import sys, time, pathlib
import pandas as pd
from ewaste_tracker.submissions import backend
from ewaste_tracker.submissions.submit import INDICATORS, Codes, submit
cat, store_path, flag = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
codes = Codes.from_tables(pd.read_csv(cat / "countries.csv", dtype=str),
                          pd.read_csv(cat / "products.csv", dtype=str))
if sys.argv[4] == "pause":
    def hook():
        flag.write_text("in transaction")
        time.sleep(300)
    backend._before_commit = hook
    submit(sys.argv[5], store=store_path, codes=codes, submitter="writer", years=(1980, 2030))
else:
    flag.write_text("started")
    for f in sys.argv[5:]:
        submit(f, store=store_path, codes=codes, submitter="writer", years=(1980, 2030))
"""


def big_submission(
    path: Path, *, country: str = "KEN", seed: int = 0, years: range = range(1981, 2021)
) -> Path:
    """A valid submission of every test product x indicator x 1981-2020 (3,200 rows)."""
    grid = pd.MultiIndex.from_product(
        [
            sorted(CODES.unu_keys),
            list(INDICATORS),
            years,
            [country],
        ],
        names=["product", "indicator", "year", "country"],
    ).to_frame(index=False)
    rng = np.random.default_rng(seed)
    grid["value"] = np.round(rng.uniform(10, 11, len(grid)), 6)
    grid["unit"] = "t"
    grid[["country", "year", "product", "indicator", "value", "unit"]].to_csv(path, index=False)
    return path


def counts(target: Path | str) -> tuple[int, int, int, bool]:
    """(#submissions, #values, sum of n_values, consistent) in one snapshot."""
    c = Store(target).check()
    return c["submissions"], c["values"], c["expected_values"], c["ok"]


def is_pg(target: Path | str) -> bool:
    return isinstance(target, str)


def start_writer(store: Path | str, flag: Path, mode: str, *files: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-c", WRITER, str(CATALOG), str(store), str(flag), mode]
    return subprocess.Popen([*args, *map(str, files)], env=env, cwd=REPO)


def wait_for(cond, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_versions_are_numbered_per_country(store: Path | str, tmp_path: Path) -> None:
    s = store
    r1 = submit(GOOD / "KEN_unu_long.csv", store=s, submitter="ministry", codes=CODES, years=YEARS)
    r2 = submit(GOOD / "GHA_eu6_wide.xlsx", store=s, codes=CODES, years=YEARS)
    r3 = submit(big_submission(tmp_path / "k.csv"), store=s, submitter="m2", codes=CODES)
    assert (r1.country, r1.version, r1.submitter) == ("KEN", 1, "ministry")
    assert (r2.country, r2.version) == ("GHA", 1)
    assert (r3.country, r3.version, r3.n_values) == ("KEN", 2, N_BIG)
    h = history("KEN", store=s)
    assert list(h["version"]) == [1, 2] and list(h["by"]) == ["ministry", "m2"]
    # the embedded store publishes at once; the shared one waits for review
    assert set(h["state"]) == ({"submitted"} if is_pg(s) else {"published"})
    assert h["time_utc"].str.endswith("Z").all()
    assert len(h["sha256"].iloc[0]) == 64


def test_default_store_path_comes_from_the_environment(
    store: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EWASTE_TRACKER_STORE", str(store))
    rec = submit(GOOD / "KEN_unu_long.csv", codes=CODES, years=YEARS)
    assert Store().exists() and str(Store().target) == str(store)
    if not is_pg(store):
        assert Path(os.environ["EWASTE_TRACKER_STORE"]).is_file()
    assert history("KEN").iloc[0]["id"] == rec.id


def test_resubmitting_the_same_content_adds_no_version(store: Path | str) -> None:
    a = submit(GOOD / "KEN_unu_long.csv", store=store, codes=CODES, years=YEARS)
    b = submit(GOOD / "KEN_unu_long.csv", store=store, codes=CODES, years=YEARS)
    assert b.new is False and b.version == a.version == 1 and b.id == a.id
    assert counts(store)[:2] == (1, a.n_values)


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_submission_stores_nothing(tmp_path: Path, name: str) -> None:
    s = tmp_path / "s.gpkg"
    with pytest.raises(InputErrors):
        submit(BAD / name, store=s, codes=CODES, years=YEARS)
    assert not s.exists() or counts(s)[:2] == (0, 0)


def test_a_bad_file_stores_nothing_on_either_backend(store: Path | str) -> None:
    with pytest.raises(InputErrors):
        submit(BAD / BAD_FILES[0], store=store, codes=CODES, years=YEARS)
    assert not Store(store).exists() or counts(store)[:2] == (0, 0)


def test_submitted_values_are_reported_and_versions_compare(
    store: Path | str, tmp_path: Path
) -> None:
    s = Store(store)
    submit(big_submission(tmp_path / "a.csv", seed=1), store=store, codes=CODES)
    submit(big_submission(tmp_path / "b.csv", seed=2), store=store, codes=CODES)
    v1 = s.submission_values("KEN", 1)
    assert set(v1["status"]) == {"reported"} and set(v1["source"]) == {"submission KEN v1"}
    latest = s.submission_values("ken")
    assert set(latest["version"]) == {2}
    cmp = s.compare_versions("KEN", 1, 2)
    assert len(cmp) == N_BIG
    np.testing.assert_allclose(cmp["diff_t"], cmp["value_t_b"] - cmp["value_t_a"])
    with pytest.raises(InputError, match="no such submission"):
        s.submission_values("KEN", 7)


def test_store_is_a_geopackage_gis_tools_can_open(tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    s = tmp_path / "s.gpkg"
    submit(GOOD / "KEN_unu_long.csv", store=s, submitter="ministry", codes=CODES, years=YEARS)
    con = sqlite3.connect(s)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == GPKG_APPLICATION_ID
        assert con.execute("PRAGMA user_version").fetchone()[0] == GPKG_USER_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        srs = {r[0] for r in con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
        assert {4326, -1, 0} <= srs
    finally:
        con.close()
    layers = set(pyogrio.list_layers(s)[:, 0])
    assert {"submissions", "submission_values", "audit", "runs", "run_regions"} <= layers
    df = pyogrio.read_dataframe(s, layer="submissions", read_geometry=False)
    assert list(df["submitter"]) == ["ministry"] and list(df["state"]) == ["published"]


def test_a_foreign_sqlite_file_is_not_taken_over(tmp_path: Path) -> None:
    p = tmp_path / "other.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="not a tracker store"):
        history("KEN", store=p)


@pytest.mark.slow
def test_writer_killed_inside_the_transaction_leaves_no_trace(
    store: Path | str, tmp_path: Path
) -> None:
    s, flag = store, tmp_path / "flag"
    first = submit(GOOD / "KEN_unu_long.csv", store=s, codes=CODES, years=YEARS)
    proc = start_writer(s, flag, "pause", big_submission(tmp_path / "big.csv"))
    try:
        wait_for(flag.exists)
        # while the writer holds its open transaction, a reader sees only the committed data
        assert counts(s)[:3] == (1, first.n_values, first.n_values)
        assert list(history("KEN", store=s)["version"]) == [1]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert counts(s) == (1, first.n_values, first.n_values, True)
    assert list(Store(s).audit()["submission_id"].dropna().unique()) == [first.id]
    again = submit(tmp_path / "big.csv", store=s, codes=CODES)  # the lock was released
    assert again.version == 2 and counts(s)[1] == first.n_values + N_BIG


@pytest.mark.slow
def test_writer_killed_between_or_during_submissions_keeps_whole_ones(
    store: Path | str, tmp_path: Path
) -> None:
    s, flag = store, tmp_path / "flag"
    files = [big_submission(tmp_path / f"f{i}.csv", seed=i) for i in range(12)]
    Store(s).init()  # create the schema before the writer starts
    proc = start_writer(s, flag, "loop", *files)
    try:
        wait_for(lambda: counts(s)[0] >= 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    n_sub, n_val, total, ok = counts(s)
    assert ok and n_val == total == N_BIG * n_sub
    assert list(history("KEN", store=s)["version"]) == list(range(1, n_sub + 1))


def test_concurrent_reader_sees_each_submission_whole_or_not_at_all(
    store: Path | str, tmp_path: Path
) -> None:
    s = store
    files = [big_submission(tmp_path / f"f{i}.csv", seed=i) for i in range(6)]
    submit(files[0], store=s, codes=CODES)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for f in files[1:]:
                submit(f, store=s, codes=CODES)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    seen = set()
    while writer.is_alive():
        n_sub, n_val, total, _ = counts(s)
        assert n_val == total == N_BIG * n_sub
        h = history("KEN", store=s)
        assert list(h["version"]) == list(range(1, len(h) + 1))
        seen.add(n_sub)
    writer.join()
    assert not errors
    assert counts(s)[:2] == (6, 6 * N_BIG)
    assert len(seen) >= 2  # the reader really ran while the writer wrote


def test_concurrent_writers_get_distinct_versions(store: Path | str, tmp_path: Path) -> None:
    s = store
    Store(s).init()
    files = [big_submission(tmp_path / f"f{i}.csv", seed=i) for i in range(6)]
    records = []

    def write(chunk: list[Path]) -> None:
        records.extend(submit(f, store=s, codes=CODES) for f in chunk)

    threads = [threading.Thread(target=write, args=(files[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.version for r in records) == [1, 2, 3, 4, 5, 6]
    assert counts(s) == (6, 6 * N_BIG, 6 * N_BIG, True)


def test_many_submitters_with_retries_lose_nothing_and_duplicate_nothing(
    store: Path | str, tmp_path: Path
) -> None:
    """Eight submitters (four countries, two each) send their file twice at once."""
    s = store
    Store(s).init()
    countries = ["KEN", "GHA", "NGA", "ZAF"]
    years = range(2011, 2021)  # 800 values a file
    files = [
        big_submission(tmp_path / f"{c}{k}.csv", country=c, seed=10 * i + k, years=years)
        for i, c in enumerate(countries)
        for k in range(2)
    ]
    n_values = 800
    records: list = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(files) * 2)

    def send(f: Path) -> None:
        try:
            barrier.wait()
            records.append(submit(f, store=s, codes=CODES, years=YEARS))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(f,)) for f in files for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.new for r in records) == len(files)  # each file stored once ...
    by_sha: dict[str, set[int]] = {}
    for r in records:
        by_sha.setdefault(r.sha256, set()).add(r.id)
    assert all(len(ids) == 1 for ids in by_sha.values())  # ... and its retry got the same one
    assert counts(s) == (len(files), len(files) * n_values, len(files) * n_values, True)
    subs = Store(s).submissions()
    for c in countries:
        assert sorted(subs.loc[subs["country"] == c, "version"]) == [1, 2]


def indicators(scale: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["KEN", "KEN", "GHA"],
            "year": [2021, 2022, 2022],
            "indicator": ["collection_rate", "generated_t", "generated_t"],
            "value": [0.05 * scale, 51000.0 * scale, 53000.0],
            "unit": ["share", "t", "t"],
        }
    )


def test_runs_are_fingerprinted_reused_and_compared(store: Path | str, tmp_path: Path) -> None:
    s = store
    inputs = {"pom": pd.DataFrame({"product": ["0306"], "year": [2020], "pom_t": [10.0]})}
    a = record_run(indicators(), inputs=inputs, parameters={"until": 2022}, store=s)
    same = record_run(indicators(), inputs=inputs, parameters={"until": 2022}, store=s)
    b = record_run(indicators(1.1), inputs=inputs, parameters={"until": 2030}, store=s)
    assert same.id == a.id and same.new is False
    assert b.id != a.id and b.fingerprint != a.fingerprint
    cmp = compare_runs(a.id, b.id, store=s)
    ken = cmp.loc[cmp["region"] == "KEN"].set_index("indicator")
    assert ken.loc["generated_t", "diff"] == pytest.approx(5100.0)
    assert ken.loc["generated_t", "rel_diff"] == pytest.approx(0.1)
    assert (cmp.loc[cmp["region"] == "GHA", "diff"] == 0).all()
    h = history("KEN", store=s)
    assert list(h["kind"]) == ["run", "run"] and h["version"].isna().all()
    assert list(history("GHA", store=s)["id"]) == [a.id, b.id]


table = st.lists(
    st.tuples(
        st.sampled_from(["0306", "0108", "0502"]), st.integers(1990, 2030), st.floats(0, 1e6)
    ),
    min_size=1,
    max_size=20,
)


@given(rows=table, seed=st.integers(0, 2**32 - 1))
def test_fingerprint_ignores_order_and_sees_every_value(rows: list, seed: int) -> None:
    df = pd.DataFrame(rows, columns=["product", "year", "pom_t"])
    params = {"until": 2030, "convention": "unu"}
    rng = np.random.default_rng(seed)
    shuffled = df.iloc[rng.permutation(len(df))][["pom_t", "product", "year"]]
    assert fingerprint({"pom": df}, params) == fingerprint({"pom": shuffled}, dict(params))
    changed = df.copy()
    changed.loc[0, "pom_t"] = changed.loc[0, "pom_t"] + 1.0
    assert fingerprint({"pom": df}, params) != fingerprint({"pom": changed}, params)
    assert fingerprint({"pom": df}, params) != fingerprint({"pom": df}, {**params, "until": 1})
    assert fingerprint({"pom": df}) != fingerprint({"other": df})


def test_export_run_to_csv_and_geopackage(store: Path | str, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    s = store
    run = record_run(indicators(), inputs={}, parameters={}, store=s, label="default")
    out_csv = export_run(str(run.id), tmp_path / "out" / "run.csv", store=s)
    got = pd.read_csv(out_csv)
    pd.testing.assert_frame_equal(got[indicators().columns], indicators())
    assert set(got["fingerprint"]) == {run.fingerprint}
    out_gpkg = export_run(run.id, tmp_path / "out" / "run.gpkg", store=s)
    assert {"indicators", "run"} <= set(pyogrio.list_layers(out_gpkg)[:, 0])
    layer = pyogrio.read_dataframe(out_gpkg, layer="indicators", read_geometry=False)
    np.testing.assert_allclose(layer["value"], indicators()["value"])
    assert sorted(p.name for p in out_gpkg.parent.iterdir()) == ["run.csv", "run.gpkg"]


def test_failed_export_leaves_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    s = tmp_path / "s.gpkg"
    run = record_run(indicators(), inputs={}, store=s)
    target = tmp_path / "run.gpkg"
    target.write_bytes(b"previous")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(geopackage, "write_attribute_tables", boom)
    with pytest.raises(OSError, match="disk full"):
        export_run(run.id, target, store=s)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run")) == []


def test_export_of_unknown_run_or_format_is_refused(store: Path | str, tmp_path: Path) -> None:
    s = store
    run = record_run(indicators(), inputs={}, store=s)
    with pytest.raises(InputError, match="no such run"):
        export_run(99, tmp_path / "x.csv", store=s)
    with pytest.raises(InputError, match="unsupported export format"):
        export_run(run.id, tmp_path / "x.parquet", store=s)
    with pytest.raises(InputError, match="not a number"):
        export_run("latest", tmp_path / "x.csv", store=s)


def test_reading_creates_nothing_and_the_first_write_creates_the_store(tmp_path: Path) -> None:
    p = Path(tempfile.mkdtemp(dir=tmp_path)) / "deep" / "store.gpkg"
    assert history("KEN", store=p).empty
    assert not p.parent.exists()  # a read never creates the store or its folder
    sub = tmp_path / "KEN.csv"
    sub.write_text("country,year,product,indicator,value,unit\nKEN,2020,0306,pom,10,t\n",
                   encoding="utf-8")  # fmt: skip
    submit(sub, store=p, codes=CODES, years=YEARS)
    assert p.is_file()


def test_a_default_run_is_kept_compactly_and_read_back(store: Path | str) -> None:
    """A run (100 regions x 60 years x 8 indicators x 3 elements) is one Parquet blob."""
    rng = np.random.default_rng(3)
    regions = [f"R{i:03d}" for i in range(100)]
    grid = pd.MultiIndex.from_product(
        [regions, range(1971, 2031), [f"ind{i}" for i in range(8)], ["Au", "Cu", None]],
        names=["region", "year", "indicator", "element"],
    ).to_frame(index=False)
    grid["value"] = rng.gamma(2.0, 1000.0, len(grid)).round(3)
    grid["unit"] = "t"
    grid["status"] = "estimated"
    grid["source"] = "model"
    rec = record_run(grid, inputs={"n": pd.DataFrame({"x": [1]})}, store=store)
    assert rec.n_rows == len(grid) == 144_000
    # a row of SQLite costs ~70 bytes here; the blob costs a few
    assert rec.size_bytes < 12 * len(grid)
    back = Store(store).run_indicators(rec.id)
    assert list(back.columns) == list(INDICATOR_COLUMNS)
    for c in ("region", "indicator", "element", "unit", "source"):
        got, want = back[c].to_numpy(object), grid[c].to_numpy(object)
        assert ((got == want) | (pd.isna(got) & pd.isna(want))).all(), c
    np.testing.assert_array_equal(back["year"], grid["year"])
    np.testing.assert_array_equal(back["value"], grid["value"])
    assert list(Store(store).runs("R007")["id"]) == [rec.id]
    h = history("R007", store=store)
    assert list(h["kind"]) == ["run"] and int(h["n_values"].iloc[0]) == 8 * 60 * 3
    assert (int(h["first_year"].iloc[0]), int(h["last_year"].iloc[0])) == (1971, 2030)


@pytest.mark.parametrize("kind", ["folder", "text", "foreign_gpkg", "foreign_sqlite"])
def test_the_store_opens_only_files_it_created(tmp_path: Path, kind: str) -> None:
    """A user's own file or folder given as --store is refused and left exactly as it was."""
    import pyogrio

    path = tmp_path / "mine.gpkg"
    if kind == "folder":
        path.mkdir()
    elif kind == "text":
        path.write_text("my notes", encoding="utf-8")
    elif kind == "foreign_sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE submissions (x TEXT)")  # a table name the store also uses
        con.commit()
        con.close()
    else:
        import geopandas as gpd
        import shapely

        gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(path)
    before = path.read_bytes() if path.is_file() else None
    sub = tmp_path / "KEN.csv"
    sub.write_text("country,year,product,indicator,value,unit\nKEN,2020,0306,pom,10,t\n",
                   encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError, match="--store"):
        submit(sub, store=path, codes=CODES, years=YEARS)
    with pytest.raises(InputError, match="--store"):
        Store(path).history("KEN")
    if before is not None:
        assert path.read_bytes() == before
    if kind == "foreign_gpkg":
        assert pyogrio.list_layers(path).tolist() == [["mine", "Point"]]
