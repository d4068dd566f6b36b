"""Offline headless Chromium for the browser tests (Debian's chromium and chromedriver).

Every test that drives a browser starts it here, with the flags this machine needs
(no background networking, a fresh profile) and with the network cut: every host name fails
to resolve (``127.0.0.1`` excepted when ``allow_localhost``) and no proxy is reachable, so a
page that still points at a CDN shows it as a failure, not as a slow load.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def have_chromium() -> bool:
    """Whether Chromium and ChromeDriver are installed."""
    return Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()


def offline_chromium(
    profile: Path,
    *,
    allow_localhost: bool = False,
    window: str = "1200,800",
    logs: dict[str, str] | None = None,
) -> Any:
    """Start headless Chromium with the network cut off; skip the test when it is missing.

    Parameters
    ----------
    profile
        A fresh folder for the browser profile.
    allow_localhost
        Let ``127.0.0.1`` resolve (a local server under test); everything else still fails.
    window
        Window size ``"W,H"``.
    logs
        ``goog:loggingPrefs``, e.g. ``{"browser": "ALL"}`` or ``{"performance": "ALL"}``.

    Returns
    -------
    selenium.webdriver.Chrome
        The driver; the caller quits it.
    """
    if not have_chromium():
        pytest.skip("chromium / chromedriver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    rules = "MAP * ~NOTFOUND" + (", EXCLUDE 127.0.0.1" if allow_localhost else "")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--window-size={window}", f"--host-resolver-rules={rules}",
        f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(arg)
    if not allow_localhost:
        options.add_argument("--proxy-server=http://127.0.0.1:9")
    if logs:
        options.set_capability("goog:loggingPrefs", logs)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: Any, timeout: float = 60.0) -> None:
    """Wait until ``proc`` listens on ``127.0.0.1:port`` (raise if it exits first)."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def start_app(folder: Path, *, port: int, env: dict[str, str] | None = None) -> Any:
    """``ewaste-tracker app`` on ``127.0.0.1:port``, with its cache and store in ``folder``.

    Returns the process (its log is ``folder/streamlit.log``); the caller stops it with
    :func:`stop_app`.
    """
    import os
    import subprocess
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "streamlit.log").open("a")
    run_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "XDG_CACHE_HOME": str(folder / "cache"),
        "EWASTE_TRACKER_STORE": str(folder / "store.gpkg"),
    }
    run_env.pop("EWASTE_TRACKER_CACHE", None)
    run_env.update(env or {})
    cmd = [sys.executable, "-m", "ewaste_tracker", "app", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=run_env)
    proc.log = log  # type: ignore[attr-defined]
    wait_for_port(port, proc)
    return proc


def stop_app(proc: Any) -> None:
    """Stop a server started by :func:`start_app` (its own process only)."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log.close()


def requested_hosts(driver: Any) -> set[str]:
    """Hosts of every request the page made (from the DevTools performance log)."""
    import json
    from urllib.parse import urlparse

    hosts = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                hosts.add(urlparse(url).hostname or "")
    return hosts


def app_idle(driver: Any) -> bool:
    """Whether the Streamlit page has finished its run (no status widget, no stale blocks)."""
    from selenium.webdriver.common.by import By

    if driver.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget'] button"):
        return False
    return not driver.find_elements(By.CSS_SELECTOR, "[data-stale='true']")
