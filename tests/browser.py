"""Debian's Chromium driven by Selenium through chromium-driver, for the console's browser tests.

Found at /usr/bin/chromium and /usr/bin/chromedriver (``apt-get install chromium chromium-driver``;
.ci/run installs them) or where CARAVAN_CHROMIUM and CARAVAN_CHROMEDRIVER say. Without them the
browser tests are skipped, and the report's header and its skip summary say so.
"""

from __future__ import annotations

import os
import shutil
import tempfile

CHROMIUM = os.environ.get("CARAVAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CARAVAN_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(path) and os.access(path, os.X_OK))]
    if missing:
        return f"Chromium not found ({', '.join(missing)}): apt-get install chromium chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def start_chromium(accept_language: str = "zh-CN,zh;q=0.9"):
    """A headless Chromium with a fresh profile, its console log kept for the tests to read."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="caravan-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.caravan_profile = profile
    return driver


def stop_chromium(driver) -> None:
    driver.quit()
    shutil.rmtree(getattr(driver, "caravan_profile", ""), ignore_errors=True)
