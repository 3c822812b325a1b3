"""Headless Chromium for the tests: Debian's ``chromium`` and ``chromedriver``, driven by Selenium.

Nothing is downloaded: the driver's path is given to Selenium, so selenium-manager never runs.
When the binaries are missing, root installs them with ``scripts/install_chromium.sh`` (as
``.ci/run`` does); anyone else gets a skip, or a failure when ``GRADER_REQUIRE_BROWSER=1``.
Screenshots go to ``$GRADER_TEST_ARTIFACTS/browser/`` (default ``<repo>/test-artifacts``).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_NAMES = ("chromium", "chromium-browser")
WINDOW = (1280, 1000)
# Every picture on the page: whether it finished loading, its decoded size and its size on screen.
IMAGES_SCRIPT = """return Array.from(document.images).map(img => ({
    src: img.src.slice(0, 60), complete: img.complete, naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight, shownWidth: img.getBoundingClientRect().width}));"""


def find_binaries() -> tuple[str, str] | None:
    """(chromium, chromedriver) on PATH, or None when either is missing."""
    browser = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def no_browser(reason: str) -> None:
    """Skip the test for ``reason``, or fail it when the run requires the browser (``GRADER_REQUIRE_BROWSER=1``)."""
    if os.environ.get("GRADER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GRADER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def browser_binaries() -> tuple[str, str]:
    """Chromium and its driver, installed first when root lacks them; skips (or fails) when they can't be had."""
    found = find_binaries()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = subprocess.run([str(REPO / "scripts" / "install_chromium.sh")], capture_output=True, text=True)
        if install.returncode != 0:
            no_browser(f"could not install Chromium with apt-get: {install.stderr.strip()[-500:]}")
        found = find_binaries()
    if found is None:
        no_browser("headless Chromium (chromium, chromedriver) is not installed, and installing it needs root and "
                   "apt-get: run scripts/install_chromium.sh as root, or apt-get install chromium chromium-driver")
    return found


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Selenium WebDriver on headless Chromium that records the browser console; quit at the end."""
    browser, driver_path = browser_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def artifacts_dir() -> Path:
    """Where the browser tests keep their screenshots: ``$GRADER_TEST_ARTIFACTS/browser``."""
    root = Path(os.environ.get("GRADER_TEST_ARTIFACTS") or REPO / "test-artifacts")
    return root / "browser"


@dataclass(frozen=True)
class PageReport:
    """What a page showed in the browser."""

    url: str
    images: list[dict[str, Any]]
    console: list[dict[str, Any]]
    screenshot: Path

    def severe(self) -> list[dict[str, Any]]:
        """The console entries at level SEVERE (console.error, failed loads, uncaught exceptions)."""
        return [entry for entry in self.console if entry.get("level") == "SEVERE"]

    def broken_images(self) -> list[dict[str, Any]]:
        """Pictures that did not load, decoded to nothing, or take no room on the page."""
        return [image for image in self.images if not (image["complete"] and image["naturalWidth"] > 0
                                                       and image["naturalHeight"] > 0 and image["shownWidth"] > 0)]


def full_screenshot(driver: Any, path: Path) -> Path:
    """Save the whole page, beyond the window's height, as a PNG (Chromium's DevTools screenshot)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": max(size["width"], 1), "height": max(size["height"], 1), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def inspect_page(driver: Any, name: str) -> PageReport:
    """Wait for the current page, read its pictures and console since the last read, screenshot it as ``name``."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    images = driver.execute_script(IMAGES_SCRIPT)
    screenshot = full_screenshot(driver, artifacts_dir() / f"{name}.png")
    return PageReport(driver.current_url, images, driver.get_log("browser"), screenshot)


def load_page(driver: Any, url: str, name: str) -> PageReport:
    """Open ``url`` and inspect it (``inspect_page``), ignoring what earlier pages logged."""
    driver.get_log("browser")
    driver.get(url)
    return inspect_page(driver, name)


def assert_page_renders(report: PageReport, pictures: int) -> None:
    """No console error, exactly ``pictures`` pictures, each loaded and non-empty, and a non-empty screenshot."""
    assert not report.severe(), f"{report.url}: console errors {report.severe()}"
    assert len(report.images) == pictures, f"{report.url}: {len(report.images)} picture(s), expected {pictures}"
    assert not report.broken_images(), f"{report.url}: broken pictures {report.broken_images()}"
    assert report.screenshot.stat().st_size > 0, f"empty screenshot {report.screenshot}"
    assert report.screenshot.read_bytes().startswith(b"\x89PNG")
