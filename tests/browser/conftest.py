"""Headless Debian Chromium through Playwright; skipped where no chromium is installed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"])
        yield instance
        instance.close()


@pytest.fixture()
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture()
def two_widths():
    """A full-page screenshot at 375 px and one at 1280 px of the same page: NAME-375.png and
    NAME-1280.png (the wide one at one pixel per CSS pixel, to stay small and quick)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> None:
        # From the top: a full-page shot taken while scrolled paints the sticky top bar midway.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-375.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-1280.png"), full_page=True, scale="css")
        page.set_viewport_size(PHONE)

    return take


def phone_context(browser):
    return browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN",
                               is_mobile=True, has_touch=True)
