"""Benchmark the shared store: 50 ministries submitting at once through the HTTP API.

Workload: 50 countries of the catalogue, each with its own submitter user and token, each
sending one national submission at the same moment (a barrier releases 50 client threads):
put on market and formal collection for the 54 UNU-KEYs over 2013-2022, 1,080 values per
file (a CSV of ~33 kB). Then every client sends its file again at once (a retry storm),
which must return the same 50 submissions.

Paths timed in the same run, on the same machine:

``http``
    ``ewaste-tracker serve`` (uvicorn, one process, in a subprocess) and 50 client threads,
    one HTTP connection per submission: authentication, upload, the CLI's validation
    (``read_submission``) and the store's transaction;
``direct``
    the peer: the same 50 files of a last round (new values, so new versions) straight
    into the store from 50 threads of one process, as ``ewaste-tracker submit --as USER``
    would (validation and store, no HTTP).

The HTTP path runs with 1 and with 2 worker processes (``serve --workers``): validating a file
is CPU work in Python, so one process is bound by one core.

Each path runs on PostgreSQL/PostGIS (a throwaway server, or ``--store`` / the
``EWASTE_TRACKER_TEST_DATABASE`` server in a new schema) and on the embedded GeoPackage.
Printed: wall time, throughput (submissions/s), latency p50/p95/max of each submission, and
the ratios; afterwards the store is checked: every round's 50 submissions are there once
(versions 1, 2, ... per country), with every value (none lost, none doubled).

Usage::

    .venv/bin/python benchmarks/submissions_api.py [--n 50] [--store postgresql://...]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ewaste_tracker import catalog  # noqa: E402
from ewaste_tracker.submissions.store import Store  # noqa: E402
from ewaste_tracker.submissions.submit import Codes, submit  # noqa: E402

YEARS = range(2013, 2023)


def countries(n: int) -> list[str]:
    """``n`` catalogue countries, in a fixed order."""
    iso = sorted(catalog.countries()["iso3"])
    return iso[:: max(1, len(iso) // n)][:n]


def write_files(folder: Path, iso3: list[str], seed: int) -> list[Path]:
    """One submission per country: pom and collected_formal x 54 UNU-KEYs x 10 years."""
    rng = np.random.default_rng(seed)
    keys = catalog.products()["unu_key"].tolist()
    out = []
    for c in iso3:
        grid = pd.MultiIndex.from_product(
            [[c], YEARS, keys, ["pom", "collected_formal"]],
            names=["country", "year", "product", "indicator"],
        ).to_frame(index=False)
        # a level per series, growing 3 %/yr with +-10 % noise (no implausible jumps)
        series = grid.groupby(["product", "indicator"]).ngroup().to_numpy()
        level = rng.lognormal(5.0, 1.0, series.max() + 1)[series]
        trend = 1.03 ** (grid["year"].to_numpy() - YEARS[0])
        grid["value"] = np.round(level * trend * rng.uniform(0.9, 1.1, len(grid)), 3)
        grid.loc[grid["indicator"] == "collected_formal", "value"] *= 0.2
        grid["unit"] = "t"
        path = folder / f"{c}_{seed}.csv"
        grid.to_csv(path, index=False)
        out.append(path)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, token: str, path: Path) -> tuple[int, float]:
    """POST one file; return (status, seconds)."""
    body = path.read_bytes()
    t0 = time.perf_counter()
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        con.request("POST", f"/v1/submissions?file_name={path.name}", body=body, headers=headers)
        resp = con.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - t0
    finally:
        con.close()


def concurrently(jobs: list, fn) -> tuple[list, float]:
    """Run ``fn(*job)`` for every job in its own thread, all released at once."""
    results: list = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs) + 1)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = fn(*jobs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def direct(store: Store, user: str, path: Path, codes: Codes) -> tuple[int, float]:
    t0 = time.perf_counter()
    rec = submit(path, store=store.as_user(user), codes=codes)
    return (201 if rec.new else 200), time.perf_counter() - t0


def row(backend: str, path: str, results: list, wall: float) -> dict:
    lat = np.array([r[1] for r in results]) * 1000
    return {
        "backend": backend, "path": path, "n": len(results), "wall_s": wall,
        "per_s": len(results) / wall, "p50_ms": np.percentile(lat, 50),
        "p95_ms": np.percentile(lat, 95), "max_ms": lat.max(),
        "status": ",".join(f"{k}x{v}" for k, v in
                           sorted(pd.Series([r[0] for r in results]).value_counts().items())),
    }  # fmt: skip


def run_backend(
    backend: str, target: str | Path, n: int, folder: Path, workers: tuple[int, ...]
) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    st = Store(target)
    iso3 = countries(n)
    tokens = {}
    for c in iso3:
        name = "m_" + c.lower()
        st.add_user(name, "submitter", country=c)
        tokens[c] = st.create_token(name)
    rounds = [write_files(folder, iso3, seed=k) for k in range(len(workers) + 1)]
    rows = []
    for k, n_workers in enumerate(workers):
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        server = subprocess.Popen(
            [sys.executable, "-m", "ewaste_tracker", "-q", "serve", "--store", str(target),
             "--port", str(port), "--workers", str(n_workers)], env=env, cwd=REPO,
        )  # fmt: skip
        try:
            wait_until_up(port, server)
            jobs = [(port, tokens[c], p) for c, p in zip(iso3, rounds[k], strict=True)]
            res, wall = concurrently(jobs, post)
            rows.append(row(backend, f"http, {n_workers} worker(s)", res, wall))
            res, wall = concurrently(jobs, post)  # every client retries at once
            rows.append(row(backend, f"http retry, {n_workers} worker(s)", res, wall))
        finally:
            server.terminate()
            server.wait(timeout=60)
    codes = Codes.from_catalog()  # read once, as the server does
    jobs = [(st, "m_" + c.lower(), p, codes) for c, p in zip(iso3, rounds[-1], strict=True)]
    res, wall = concurrently(jobs, direct)
    rows.append(row(backend, "direct", res, wall))
    check = st.check()
    subs = st.submissions()
    k = len(rounds)
    assert check["ok"] and check["submissions"] == k * n, check
    assert check["values"] == check["expected_values"] == k * n * 54 * 2 * len(YEARS), check
    versions = subs.groupby("country")["version"].agg(lambda v: sorted(v))
    assert all(list(v) == list(range(1, k + 1)) for v in versions), versions
    return rows


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/v1/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the API server did not start")
        time.sleep(0.2)


def start_postgres(folder: Path) -> tuple[str, Path | None]:
    url = os.environ.get("EWASTE_TRACKER_TEST_DATABASE")
    if url:
        return url, None
    pg = Path(tempfile.mkdtemp(prefix="ewt-pg-", dir="/tmp"))
    done = subprocess.run(["bash", str(REPO / "scripts" / "postgres_for_tests.sh"), "start",
                           str(pg)], capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip().splitlines()[-1], pg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="concurrent submitters")
    ap.add_argument("--store", default=None, help="a PostgreSQL server URL (a new schema)")
    ap.add_argument("--workers", default="1,2", help="API worker processes to try, e.g. 1,2")
    args = ap.parse_args()
    workers = tuple(int(w) for w in args.workers.split(","))
    logging.getLogger("ewaste_tracker").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="ewt-bench-"))
    pg_dir = None
    if args.store:
        base = args.store
    else:
        base, pg_dir = start_postgres(folder)
    url = f"{base}{'&' if '?' in base else '?'}schema=bench_{uuid.uuid4().hex[:8]}"
    rows: list[dict] = []
    try:
        rows += run_backend("postgis", url, args.n, folder / "pg", workers)
        rows += run_backend("geopackage", folder / "bench.gpkg", args.n, folder / "gpkg", workers)
    finally:
        Store(url).drop()  # type: ignore[attr-defined]
        shutil.rmtree(folder, ignore_errors=True)
        if pg_dir is not None:
            subprocess.run(["bash", str(REPO / "scripts" / "postgres_for_tests.sh"), "stop",
                            str(pg_dir)], check=False)  # fmt: skip
            shutil.rmtree(pg_dir, ignore_errors=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.float_format", "{:.2f}".format):
        print(table.to_string(index=False))
    by = table.set_index(["backend", "path"])["per_s"]
    for b in ("postgis", "geopackage"):
        for w in workers:
            ratio = by[(b, f"http, {w} worker(s)")] / by[(b, "direct")]
            print(f"{b}: HTTP ({w} worker(s)) / direct throughput = {ratio:.2f}")
    one = f"http, {workers[0]} worker(s)"
    print(f"{one}: postgis / geopackage throughput = "
          f"{by[('postgis', one)] / by[('geopackage', one)]:.2f}")  # fmt: skip
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
