"""The app in a real browser: ``streamlit run app.py`` driven by headless Chromium.

Checks what AppTest cannot: the page draws its tables, charts and the Leaflet map (scripts
served from ``static/vendor``), and no request leaves 127.0.0.1. Chromium resolves every host
but 127.0.0.1 to nothing (``--host-resolver-rules``) and the DevTools performance log records
every request the page made. A screenshot is written to the test's tmp folder (and to
``$EWASTE_TRACKER_SCREENSHOT`` when set, e.g. ``docs/app.png``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import have_chromium, offline_chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}
SCREENSHOT_ENV = "EWASTE_TRACKER_SCREENSHOT"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_server(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not listen on port {port} within {timeout} s")


@pytest.fixture
def server(tmp_path: Path):
    """``ewaste-tracker app`` (the installed launcher) on a free loopback port; killed
    afterwards."""
    from ewaste_tracker.maps.assets import assets_dir

    if not have_chromium():
        pytest.skip("headless Chromium (/usr/bin/chromium, /usr/bin/chromedriver) is missing")
    if assets_dir(required=False) is None:
        pytest.skip("the package's map assets are not installed")
    pytest.importorskip("selenium")
    port = _free_port()
    cmd = [sys.executable, "-m", "ewaste_tracker", "app", "--port", str(port)]
    log = (tmp_path / "streamlit.log").open("w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for_server(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def browser(tmp_path: Path):
    driver = offline_chromium(
        tmp_path / "chromium-profile", allow_localhost=True, window="1400,1200",
        logs={"performance": "ALL"},
    )  # fmt: skip
    try:
        yield driver
    finally:
        driver.quit()


def _requested_hosts(driver) -> set[str]:
    hosts = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                hosts.add(urlparse(url).hostname or "")
    return hosts


def test_page_draws_tables_charts_and_map_offline(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    wait = WebDriverWait(browser, 90)  # the first page view runs the model (~15 s)
    wait.until(ec.presence_of_element_located((By.XPATH, "//h1[contains(., 'E-waste tracker')]")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid='stDataFrame']")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".js-plotly-plot")))
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe")))
    browser.switch_to.frame(frame)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".leaflet-pane")))
    paths = wait.until(
        lambda d: (
            len(d.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path")) > 100
            and d.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path")
        )
    )
    fills = {p.get_attribute("fill") for p in paths}
    assert len(fills) >= 3  # a choropleth: several classes, not one colour
    assert browser.find_elements(By.CSS_SELECTOR, ".ewt-legend")
    browser.switch_to.default_content()
    tabs = browser.find_elements(By.CSS_SELECTOR, "[role='tab']")
    assert [t.text for t in tabs] == ["Lost critical minerals", "Circularity gaps", "Country"]
    time.sleep(1.0)  # let the charts finish their transition before the picture
    shot = tmp_path / "app.png"
    assert browser.save_screenshot(str(shot))
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, os.environ[SCREENSHOT_ENV])
    hosts = _requested_hosts(browser)
    assert "127.0.0.1" in hosts  # the log did record the page's own requests
    outside = hosts - LOCAL_HOSTS
    assert not outside, f"the page requested hosts outside 127.0.0.1: {sorted(outside)}"
