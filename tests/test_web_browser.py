"""The web intake in a real browser: Debian's headless Chromium through Selenium against the
server process. A region opens its link, uploads the return it filled in LibreOffice with a
number typed as text, sees the verdict and the cell, downloads the annotated copy, uploads the
corrected return and sees it accepted; a federal user logs in and sees the region accepted and
the national value change.

With ``COS_XL_UPDATE_SCREENSHOTS=1`` the screenshots are written to docs/img/ (web-region.png,
web-federal.png) for the README; otherwise into the test's folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import require_tool
from web_helpers import PASSWORD, PERIOD, LiveServer, build_returns, prepare_ledger

from cos_xl.demo.sample import sample_inputs
from cos_xl.generate import generate
from cos_xl.ledger import open_ledger
from cos_xl.office import LibreOffice, libreoffice_available
from cos_xl.spec import load_form
from web_helpers import DEV_KEY

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "img"
EARLY = ["01", "10", "16", "23", "50", "52", "54", "61", "66", "78"]  # accepted before 77


@pytest.fixture(scope="module")
def browser():
    require_tool(Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file(),
                 "Chromium and its driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cos-xl-chromium-")
    downloads = Path(tempfile.mkdtemp(prefix="cos-xl-downloads-"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--window-size=1280,1000", "--lang=ru-RU"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    # the driver's path is given, so selenium-manager never runs (no downloads)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(downloads, ignore_errors=True)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """Region 77's return filled and saved by LibreOffice: with a number typed with spaces,
    and corrected."""
    require_tool(libreoffice_available(),
                 "LibreOffice headless (libreoffice-calc-nogui, python3-uno)")
    folder = tmp_path_factory.mktemp("libreoffice")
    (template,) = generate(PERIOD, folder / "templates", DEV_KEY, regions=["77"]).paths
    form = load_form()
    values = {k: v for k, v in sample_inputs(PERIOD)["77"].items()}
    wrong = {**values, "students_go": f"{values['students_go']:,}".replace(",", " ")}
    out = {}
    with LibreOffice() as office:
        for name, figures in (("wrong", wrong), ("right", values)):
            target = folder / name / "cos_2020Q3_77.xlsm"
            target.parent.mkdir()
            office.process(template, save_as=target, set_values={
                form.excel_name(k): v for k, v in figures.items()})
            out[name] = target
    return out


def screenshot(driver, tmp_path: Path, name: str) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height + 40, 700), 2400))
    target = (DOCS if os.environ.get("COS_XL_UPDATE_SCREENSHOTS") else tmp_path) / name
    driver.save_screenshot(str(target))
    driver.set_window_size(1280, 1000)
    return target


def wait_for(driver, part: str) -> None:
    """Wait until the browser has followed a form to an address containing ``part``."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 60).until(lambda d: part in d.current_url)


def national_value(driver, code: str) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, f'#national tr[data-code="{code}"] td.value').text


def status_of(driver, region: str) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, f'#status tr[data-region="{region}"]').text


def test_a_region_and_the_federal_team_in_the_browser(browser, filled, ledger_url, tmp_path):
    from selenium.webdriver.common.by import By

    secrets = prepare_ledger(ledger_url, [r for r in sample_inputs(PERIOD)])
    early = build_returns(tmp_path / "early", EARLY)
    with open_ledger(ledger_url) as ledger:
        for code, path in early.items():
            ledger.intake([path], DEV_KEY, allow_dev_key=True, period=PERIOD, region=code)
    with LiveServer(ledger_url, tmp_path / "server") as server:
        # the federal user logs in and sees the round before Moscow's return
        browser.get(f"{server.url}/federal/{PERIOD}")
        assert "/login" in browser.current_url
        browser.find_element(By.ID, "name").send_keys("analyst")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
        wait_for(browser, f"/federal/{PERIOD}")
        before = national_value(browser, "E4.03")
        assert "не получен" in status_of(browser, "77")

        # the region opens its link and uploads its return: rejected, the cell is named
        browser.get(f"{server.url}/r/{secrets['77']}")
        assert "г. Москва" in browser.find_element(By.TAG_NAME, "h1").text
        assert "15.10.2020" in browser.page_source
        browser.find_element(By.ID, "file").send_keys(str(filled["wrong"]))
        browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
        wait_for(browser, "/v/1")
        assert "Не принят" in browser.find_element(By.TAG_NAME, "h1").text
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR,
                                                         "table.findings td.cell")]
        assert any(c.startswith("Данные!") for c in cells), cells
        assert "value-as-text" in browser.page_source
        screenshot(browser, tmp_path, "web-region.png")

        # the annotated copy, downloaded by the browser
        browser.find_element(By.LINK_TEXT, "Скачать копию с замечаниями").click()
        copy = browser.downloads / "cos_2020Q3_77_v1_zamechaniya.xlsm"
        for _ in range(200):
            if copy.is_file() and not list(browser.downloads.glob("*.crdownload")):
                break
            time.sleep(0.05)
        with zipfile.ZipFile(copy) as book:
            assert "Замечания" in book.read("xl/workbook.xml").decode()

        # the corrected return: accepted
        browser.get(f"{server.url}/r/{secrets['77']}")
        browser.find_element(By.ID, "file").send_keys(str(filled["right"]))
        browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
        wait_for(browser, "/v/2")
        assert "Принят" in browser.find_element(By.TAG_NAME, "h1").text
        assert "учитывается в сводке" in browser.page_source

        # the federal page: Moscow accepted, the national value moved
        browser.get(f"{server.url}/federal/{PERIOD}")
        assert "принят" in status_of(browser, "77")
        after = national_value(browser, "E4.03")
        assert after != before, (before, after)
        screenshot(browser, tmp_path, "web-federal.png")
