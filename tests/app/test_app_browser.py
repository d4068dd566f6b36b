"""The app in a real browser: ``ewaste-tracker app`` on 127.0.0.1 driven by headless Chromium.

Checks what AppTest cannot: a ministry uploads a filled template (written by
``ewaste-tracker template``) through the page and sees its country's figure change without a
restart; a scenario and a site plan run from their forms; the maps draw with the package's own
scripts. Chromium resolves every host but 127.0.0.1 to nothing (``--host-resolver-rules``, so a
request elsewhere is blocked) and the DevTools performance log records every request the pages
made: any host other than 127.0.0.1 fails the test. Screenshots are written to the test's
folder, or to ``$EWASTE_TRACKER_SCREENSHOTS`` when set (a folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.browser import (
    app_idle,
    free_port,
    have_chromium,
    offline_chromium,
    requested_hosts,
    start_app,
    stop_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOCAL_HOSTS = {"127.0.0.1"}
SHOTS_ENV = "EWASTE_TRACKER_SCREENSHOTS"
WAIT = 600  # the first page of a new server builds the default estimate (minutes when loaded)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on a free loopback port with its own store and cache; stopped afterwards.

    Kenya's filled template is written first (``folder/KEN_collection_2018-2022.csv``), so
    the CLI's estimate and the server's are not built at the same time."""
    from ewaste_tracker.maps.assets import assets_dir

    if not have_chromium():
        pytest.skip("headless Chromium (chromium, chromedriver) is not installed")
    if assets_dir(required=False) is None:
        pytest.skip("the package's map assets are not installed")
    pytest.importorskip("selenium")
    folder = tmp_path_factory.mktemp("app")
    _filled_template(folder, folder / "store.gpkg")
    port = free_port()
    proc = start_app(folder, port=port)
    try:
        yield f"http://127.0.0.1:{port}/", folder
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def browser(app: tuple[str, Path]) -> Iterator[object]:
    driver = offline_chromium(
        app[1] / "chromium-profile", allow_localhost=True, window="1400,1000",
        logs={"performance": "ALL"},
    )  # fmt: skip
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(driver, base: str, query: str, *, wait: float = WAIT) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + query)
    _settle(driver, wait)
    WebDriverWait(driver, wait).until(lambda d: d.find_elements(By.CSS_SELECTOR, "h1"))


def _settle(driver, wait: float = WAIT) -> None:
    """Wait until the page's run has finished (twice in a row, 0.5 s apart)."""
    from selenium.webdriver.support.ui import WebDriverWait

    time.sleep(0.5)
    WebDriverWait(driver, wait, poll_frequency=0.25).until(
        lambda d: app_idle(d) and (time.sleep(0.5) is None) and app_idle(d)
    )


def _find_metric(driver, label: str) -> str | None:
    from selenium.webdriver.common.by import By

    for m in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stMetric']"):
        if m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricLabel']").text == label:
            return str(m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricValue']").text)
    return None


def _metric(driver, label: str, wait: float = 120) -> str:
    """The value of a metric, once the page shows it (a rerun may still be drawing it)."""
    end = time.monotonic() + wait
    while (value := _find_metric(driver, label)) is None and time.monotonic() < end:
        time.sleep(0.5)
    if value is None:
        main = driver.find_elements("css selector", "[data-testid='stMain']")
        text = main[0].text[:800] if main else driver.page_source[:800]
        raise AssertionError(f"no metric {label!r} on the page; it shows: {text!r}")
    return value


def _slider(driver, label: str):
    """The keyboard input of the slider named ``label``."""
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"input[type='range'][aria-label='{label}']")


def _press(driver, label: str, key: str, times: int = 1) -> None:
    """Focus the slider named ``label`` and press ``key`` ``times`` times."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("arguments[0].focus();", _slider(driver, label))
    ActionChains(driver).send_keys(*([key] * times)).perform()


def _button(driver, text: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//button[contains(., '{text}')]")


def _shot(driver, folder: Path, name: str) -> Path:
    time.sleep(1.5)  # charts finish their transitions
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path))
    return path


def _assert_local(driver) -> None:
    hosts = requested_hosts(driver)
    assert "127.0.0.1" in hosts  # the log did record the pages' own requests
    outside = hosts - LOCAL_HOSTS
    assert not outside, f"the pages requested hosts outside 127.0.0.1: {sorted(outside)}"


def _filled_template(folder: Path, store: Path) -> Path:
    """``ewaste-tracker template`` for Kenya, with documented collection 2018-2022 filled in
    (three times the default, as a ministry's register might show)."""
    out = folder / "templates"
    env = {**os.environ, "EWASTE_TRACKER_STORE": str(store)}
    cmd = [sys.executable, "-m", "ewaste_tracker", "template", "--country", "KEN",
           "--out", str(out), "--by", "eu6"]  # fmt: skip
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=WAIT)
    table = pd.read_csv(out / "KEN_submission_eu6.csv", dtype={"product": str})
    rows = (table["indicator"] == "collected_formal") & table["year"].between(2018, 2022)
    table.loc[rows, "value"] = (3 * table.loc[rows, "default_t"]).round(1)
    path = folder / "KEN_collection_2018-2022.csv"
    table.to_csv(path, index=False)
    return path


def test_an_upload_changes_the_country_figure_without_a_restart(app, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, folder = app
    filled = folder / "KEN_collection_2018-2022.csv"
    country = "?page=country&country=KEN&year=2020"
    _open(browser, base, country)
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Kenya (KEN), 2020"
    before = _metric(browser, "Documented formal collection")
    _shot(browser, shots, "country_before")

    _open(browser, base, "?page=data&country=KEN&year=2020")
    browser.find_element(By.CSS_SELECTOR, "[data-testid='stFileUploader'] input[type='file']")
    upload = browser.find_element(By.CSS_SELECTOR, "input[type='file']")
    upload.send_keys(str(filled))
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.XPATH, "//*[contains(text(), 'The file is valid')]")
    )
    _settle(browser)
    _shot(browser, shots, "data_upload_checked")
    _button(browser, "Store it and use it in the estimate").click()
    # the store changed: the estimate is rebuilt with the submission, no restart
    WebDriverWait(browser, WAIT, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.XPATH, "//*[contains(text(), 'The estimate now uses it')]")
    )
    _settle(browser)
    changed = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text
    moved = re.search(r"\((\d+) figures of Kenya changed\)", changed)
    assert moved and int(moved.group(1)) > 0, changed[:500]
    _shot(browser, shots, "data_stored")
    _open(browser, base, country)
    after = _metric(browser, "Documented formal collection")
    assert after != before, (before, after)
    page = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text
    assert "reported" in page
    _shot(browser, shots, "country_after_upload")
    _assert_local(browser)


def test_a_scenario_runs_from_its_form(app, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = app
    _open(browser, base, "?page=scenarios&country=KEN&year=2030")
    assert "Run the scenario" in browser.page_source
    _press(browser, "Lifetime extension (%)", Keys.ARROW_RIGHT, 6)  # 6 steps of 5 %
    chosen = int(_slider(browser, "Lifetime extension (%)").get_attribute("value") or 0)
    assert chosen == 30
    _button(browser, "Run the scenario").click()
    WebDriverWait(browser, WAIT, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.XPATH, "//*[contains(text(), 'Kenya, 2030')]")
    )
    _settle(browser)
    text = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text
    assert f"lifetimes +{chosen} % (devices in use and new ones)" in text
    assert "World, 2030" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-testid='stDataFrame']")) >= 2
    _shot(browser, shots, "scenario")
    _assert_local(browser)


def test_a_site_plan_runs_on_the_demo_city(app, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = app
    _open(browser, base, "?page=sites&country=FIN&year=2022")
    _button(browser, "Plan the sites").click()
    WebDriverWait(browser, WAIT, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.XPATH, "//*[contains(text(), 'Solved to')]")
    )
    _settle(browser)
    frames = browser.find_elements(By.CSS_SELECTOR, "iframe")
    assert frames
    browser.switch_to.frame(frames[0])
    WebDriverWait(browser, 60).until(
        lambda d: (
            len(d.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path")) > 10
            or len(d.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane canvas")) > 0
        )
    )
    browser.switch_to.default_content()
    text = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text
    assert "Demand:" in text and "sites chosen" in browser.page_source
    _shot(browser, shots, "sites")
    _assert_local(browser)


def test_the_world_map_draws_offline(app, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = app
    _open(browser, base, "?page=world&country=KEN&year=2022")
    frame = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))
    browser.switch_to.frame(frame[0])
    WebDriverWait(browser, 60).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, ".leaflet-pane")
            and d.execute_script("return typeof L !== 'undefined'")
        )
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".ewt-legend")
    browser.switch_to.default_content()
    _shot(browser, shots, "world")
    _assert_local(browser)
