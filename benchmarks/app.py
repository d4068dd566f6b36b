"""Speed of the app as a user sees it: headless Chromium against ``ewaste-tracker app``.

Measures, on a server on 127.0.0.1 with its own store and cache folder:

* **cold start**: the first page of a server with nothing cached (builds the default
  estimate for every country and keeps it on disk), reported, no goal;
* **restart**: the first page after a restart (the estimate read from disk);
* **new session**: a new browser session (page load, new websocket) on a running server
  with the model cached, until the country profile is drawn (goal: at most 3 s);
* **country switch** and **year switch**: choosing another country in the sidebar's search
  box, or the previous year on the slider, until the page shows the new country or year and
  has finished its run (goal: at most 0.3 s); every switch is to a country or year not yet
  shown in that session, so nothing is served from a page-level cache.

Each is the median of ``--runs`` runs. For each switch the benchmark also prints where the
time went: the server's own run of the page (its log line ``page ... run in``) and the
browser's main-thread work (the sum of its long tasks, ``PerformanceObserver``), so a slow
switch can be told apart as the script's or the drawing's.

The peer is a bare Streamlit page (a title, a select box and a line of text) served the same
way in the same run: its new session and switch times are the framework's floor on this
machine, and the ratios say how far the app is above it. The machine's load
(``os.getloadavg()``) is printed before and after: the times of a loaded machine are
inflated, the ratios much less.

Run: ``.venv/bin/python benchmarks/app.py [--runs 7]`` (needs chromium and chromedriver,
``make browser``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import (  # noqa: E402
    app_idle,
    free_port,
    have_chromium,
    offline_chromium,
    start_app,
    stop_app,
    wait_for_port,
)

COUNTRIES = ["Viet Nam", "Germany", "Brazil", "Nigeria", "India", "Chile", "Japan", "Egypt",
             "Peru", "Kenya", "France", "Ghana"]  # fmt: skip
PEER_APP = """
import streamlit as st
st.title("Peer")
c = st.selectbox("Country", ["Kenya", "Viet Nam", "Germany", "Brazil", "Nigeria", "India",
                             "Chile", "Japan", "Egypt", "Peru", "France", "Ghana"])
st.title(c)
st.write("A bare Streamlit page: the framework's floor.")
"""


def _ready(driver, title: re.Pattern[str]) -> bool:
    """The page shows ``title`` and has finished its run, its charts drawn."""
    from selenium.webdriver.common.by import By

    heads = driver.find_elements(By.CSS_SELECTOR, "h1")
    if not any(title.fullmatch(h.text.strip()) for h in heads):
        return False
    return app_idle(driver)


def _until(driver, title: str, timeout: float = 900.0) -> float:
    """Seconds until the page is ready with ``title`` (polled every 20 ms)."""
    from selenium.webdriver.support.ui import WebDriverWait

    t0 = time.perf_counter()
    pattern = re.compile(title)
    WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: _ready(d, pattern))
    return time.perf_counter() - t0


def _load(driver, url: str, title: str) -> float:
    t0 = time.perf_counter()
    driver.get(url)
    _until(driver, title)
    return time.perf_counter() - t0


def _switch(driver, label_part: str, text: str, title: str, busy: bool = False) -> float:
    """Type ``text`` into the select box whose label contains ``label_part``, then time from
    pressing Enter until the page shows ``title`` (with ``busy``, the browser's long tasks
    of the typing are left out of what :data:`BUSY` reads next)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"input[aria-label*='{label_part}']")
    )
    box.click()
    box.send_keys(text)
    time.sleep(0.3)  # the list filters
    if busy:
        driver.execute_script(BUSY)
    t0 = time.perf_counter()
    box.send_keys(Keys.ENTER)
    _until(driver, title)
    return time.perf_counter() - t0


WATCH = """window.__ewtBusy = 0; new PerformanceObserver(
  (list) => { for (const e of list.getEntries()) window.__ewtBusy += e.duration; }
).observe({type: "longtask"});"""
BUSY = "const b = window.__ewtBusy || 0; window.__ewtBusy = 0; return b / 1000;"


def _server_run(log: Path) -> float:
    """Seconds of the server's last page run (the page log's last ``run in`` line)."""
    found = re.findall(r"run in ([0-9.]+) s", log.read_text(errors="replace"))
    return float(found[-1]) if found else float("nan")


def _year_back(driver) -> None:
    """Focus the year slider and press the left arrow (one year back)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    thumb = driver.find_element(By.CSS_SELECTOR, "input[type='range'][aria-label='Year']")
    driver.execute_script("arguments[0].focus();", thumb)
    ActionChains(driver).send_keys(Keys.ARROW_LEFT).perform()


def _app_times(base: str, folder: Path, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"new session": [], "country switch": [], "year switch": []}
    for what in ("country switch", "year switch"):
        out[f"{what}: server run"], out[f"{what}: browser busy"] = [], []
    driver = offline_chromium(folder / "profile-app", allow_localhost=True, window="1400,1000")
    try:
        link = base + "?page=country&country=KEN&year=2022"
        _load(driver, link, r"Kenya \(KEN\), 2022")  # warm (the process has the model)
        for _ in range(runs):
            driver.get("about:blank")
            out["new session"].append(_load(driver, link, r"Kenya \(KEN\), 2022"))
        year = 2022
        for i in range(runs):
            name = COUNTRIES[i % len(COUNTRIES)]
            driver.get("about:blank")
            _load(driver, base + f"?page=country&country=KEN&year={year}", r"Kenya .*")
            driver.execute_script(WATCH)
            title = re.escape(name) + r" \(\w{3}\), " + str(year)
            out["country switch"].append(_switch(driver, "Country", name, title, busy=True))
            out["country switch: browser busy"].append(driver.execute_script(BUSY))
            out["country switch: server run"].append(_server_run(folder / "streamlit.log"))
            t0 = time.perf_counter()
            _year_back(driver)
            _until(driver, re.escape(name) + r" \(\w{3}\), " + str(year - 1))
            out["year switch"].append(time.perf_counter() - t0)
            out["year switch: browser busy"].append(driver.execute_script(BUSY))
            out["year switch: server run"].append(_server_run(folder / "streamlit.log"))
            year -= 1
    finally:
        driver.quit()
    return out


def _peer_times(folder: Path, runs: int) -> dict[str, list[float]]:
    import subprocess

    script = folder / "peer.py"
    script.write_text(PEER_APP)
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true",
           "--server.address=127.0.0.1", f"--server.port={port}",
           "--browser.gatherUsageStats=false"]  # fmt: skip
    log = (folder / "peer.log").open("w")
    proc = subprocess.Popen(cmd, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    out: dict[str, list[float]] = {"new session": [], "country switch": []}
    driver = offline_chromium(folder / "profile-peer", allow_localhost=True, window="1400,1000")
    try:
        wait_for_port(port, proc)
        base = f"http://127.0.0.1:{port}/"
        _load(driver, base, "Peer")
        for _ in range(runs):
            driver.get("about:blank")
            out["new session"].append(_load(driver, base, "Peer"))
        for i in range(runs):
            name = COUNTRIES[1 + i % (len(COUNTRIES) - 1)]
            driver.get("about:blank")
            _load(driver, base, "Peer")
            out["country switch"].append(_switch(driver, "Country", name, re.escape(name)))
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    return out


def _wait_kept(cache: Path, timeout: float = 300.0) -> float:
    """Seconds until the server has kept its estimate on disk (its file renamed into place)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if any(cache.glob("ewaste-tracker/estimates/estimate-*.pkl")):
            return time.perf_counter() - t0
        time.sleep(0.5)
    return float("nan")


def _load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min) on {os.cpu_count()} cores"


def _report(app: dict[str, list[float]], peer: dict[str, list[float]] | None, runs: int) -> None:
    goals = {"new session": 3.0, "country switch": 0.3, "year switch": 0.3}
    print(f"median of {runs} runs   app (s)   peer (s)   ratio   goal")
    for what, goal in goals.items():
        a = statistics.median(app[what])
        p = statistics.median(peer[what]) if peer and what in peer else None
        ratio = f"{a / p:6.1f}" if p else "     -"
        ptxt = f"{p:8.2f}" if p is not None else "       -"
        ok = "met" if a <= goal else "NOT met"
        print(f"{what:<18} {a:9.2f} {ptxt}   {ratio}   <= {goal:g} s {ok}")
        print(f"    runs: {', '.join(f'{v:.2f}' for v in app[what])}")
        for part in ("server run", "browser busy"):
            if f"{what}: {part}" in app:
                vals = app[f"{what}: {part}"]
                print(f"    {part}: median {statistics.median(vals):.2f} s "
                      f"({', '.join(f'{v:.2f}' for v in vals)})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measure (median)")
    parser.add_argument("--cache", help="a cache folder to reuse (else a new one: cold start)")
    args = parser.parse_args()
    if not have_chromium():
        print("chromium / chromedriver are not installed (make browser)")
        return 2
    print(f"machine load before: {_load_text()}")
    folder = Path(tempfile.mkdtemp(prefix="ewt-bench-app-"))
    try:
        env = {"XDG_CACHE_HOME": args.cache} if args.cache else {}
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        link = base + "?page=country&country=KEN&year=2022"
        proc = start_app(folder, port=port, env=env)
        driver = offline_chromium(folder / "profile-cold", allow_localhost=True)
        try:
            cold = _load(driver, link, r"Kenya \(KEN\), 2022")
        finally:
            driver.quit()
        print(f"first page, nothing cached{' (given cache)' if args.cache else ''}: {cold:.1f} s")
        kept = _wait_kept(folder / "cache")  # the bundle is completed and written in the background
        print(f"estimate kept on disk {kept:.1f} s after the first page")
        stop_app(proc)
        proc = start_app(folder, port=port, env=env)
        driver = offline_chromium(folder / "profile-restart", allow_localhost=True)
        try:
            restart = _load(driver, link, r"Kenya \(KEN\), 2022")
        finally:
            driver.quit()
        print(f"first page after a restart (estimate read from disk): {restart:.1f} s")
        try:
            app = _app_times(base, folder, args.runs)
        finally:
            stop_app(proc)
        _report(app, None, args.runs)
        try:
            peer = _peer_times(folder, args.runs)
        except Exception as exc:
            print(f"peer not measured: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        else:
            _report(app, peer, args.runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"machine load after: {_load_text()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
