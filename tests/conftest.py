"""Shared pytest configuration: Hypothesis profiles and paths to development data."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
# CI: a fixed seed, so a run on a clean clone is reproducible (explore locally, pin in CI)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=100,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# The quick run (``-m "not slow ..."``): fewer examples, the same properties; the full suite
# (``make test``, CI) draws the profile above. Chosen in pytest_configure, once -m is known.
settings.register_profile(
    "quick",
    deadline=None,
    max_examples=15,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


QUICK = False
"""Whether this run leaves the slow tests out (set in :func:`pytest_configure`)."""


def pytest_configure(config: pytest.Config) -> None:
    """Load the ``quick`` Hypothesis profile when the run leaves the slow tests out."""
    global QUICK
    if "not slow" in (config.getoption("markexpr", "") or ""):
        QUICK = True
        settings.load_profile("quick")


def examples(n: int) -> int:
    """``n`` Hypothesis examples in the full suite, a quarter (at least 5) in the quick run."""
    return max(5, n // 4) if QUICK else n


REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Folder of real development files; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test touch the user's real tracker store or cache folder."""
    monkeypatch.setenv("EWASTE_TRACKER_STORE", str(tmp_path / "store.gpkg"))
    monkeypatch.setenv("EWASTE_TRACKER_CACHE", "off")


PG_SCRIPT = REPO / "scripts" / "postgres_for_tests.sh"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL server with PostGIS whose role may create schemas and roles.

    ``$EWASTE_TRACKER_TEST_DATABASE`` when set (``.ci/run`` starts one); else a throwaway
    cluster started in a temporary folder with the machine's ``initdb``/``pg_ctl``
    (``scripts/postgres_for_tests.sh``); else the test is skipped.
    """
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    url = os.environ.get("EWASTE_TRACKER_TEST_DATABASE")
    if url:
        _check_server(url)
        yield url
        return
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("bash") is None:
        pytest.skip("no PostgreSQL server: set EWASTE_TRACKER_TEST_DATABASE or install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="ewt-pg-", dir="/tmp"))  # short: a socket lives here
    done = subprocess.run(["bash", str(PG_SCRIPT), "start", str(folder)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    try:
        if done.returncode != 0:
            pytest.skip(f"cannot start PostgreSQL: {done.stderr.strip()[-300:]}")
        yield done.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(PG_SCRIPT), "stop", str(folder)], capture_output=True,
                       check=False)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _check_server(url: str) -> None:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=5) as con:  # fmt: skip
            ok = con.execute(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
    except psycopg.Error as exc:
        pytest.skip(f"the test database cannot be reached: {exc}")
    if not ok or not ok[0]:
        pytest.skip("the test database has no PostGIS")


def new_pg_store(base: str) -> str:
    """A URL of a new, empty store (its own schema) on the server ``base``."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema=t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL store (a schema of its own), dropped after the test."""
    from ewaste_tracker.submissions.store import Store

    url = new_pg_store(pg_url)
    yield url
    Store(url).drop()  # type: ignore[attr-defined]


@pytest.fixture(params=["geopackage", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """The same tests on both backends: a new GeoPackage path, or a new PostgreSQL store."""
    if request.param == "geopackage":
        yield tmp_path / "s.gpkg"
    else:
        yield request.getfixturevalue("pg_store")
