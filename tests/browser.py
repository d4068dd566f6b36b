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
