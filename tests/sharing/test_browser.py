"""In a browser: the page signs wx.config, the stand-in's wx checks it and records the share
card carrying the sharer's own link; then the poster is made and shown. Screenshots at 375 px.

Playwright runs in a thread of its own: tests/browser keeps a session-wide Playwright open in
the main thread, and a second sync Playwright cannot share that thread's event loop."""
from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import CHROMIUM, SCREENSHOTS, phone_context


def _recorded(standin, token: str, wanted: int, timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        shares = requests.get(standin.base_url + "standin/jssdk/shares",
                              params={"link": f"/s/{token}/"}, timeout=5).json()["shares"]
        if len(shares) >= wanted or time.monotonic() > deadline:
            return shares
        time.sleep(0.2)


def _in_browser(scenario, main_thread_step=None, step_wanted=None) -> None:
    """Run scenario(browser) in a thread with its own Playwright; re-raise what it raised.
    When the scenario sets step_wanted, main_thread_step runs here (rq's worker installs
    signal handlers, which only the main thread may do)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    failure: list[BaseException] = []

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update"])
                try:
                    scenario(browser)
                finally:
                    browser.close()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread below
            failure.append(error)

    thread = threading.Thread(target=run, name="playwright-sharing")
    thread.start()
    if step_wanted is not None and step_wanted.wait(60):
        main_thread_step()
    thread.join(120)
    assert not thread.is_alive(), "the browser scenario did not finish in time"
    if failure:
        raise failure[0]


def test_share_card_and_poster_in_a_phone_browser(live_server, live_campaign, standin,
                                                  run_jobs):
    SCREENSHOTS.mkdir(exist_ok=True)
    seen: dict = {}
    campaign_id, title = live_campaign.id, live_campaign.title
    poster_asked = threading.Event()

    def scenario(browser) -> None:
        context = phone_context(browser)
        page = context.new_page()
        page.goto(f"{live_server}/c/{campaign_id}/share")
        panel = page.locator("[data-share-panel][data-share-token]")
        panel.wait_for(timeout=15_000)
        token = seen["token"] = panel.get_attribute("data-share-token")
        seen["shares"] = _recorded(standin, token, 2)
        page.wait_for_selector("#wx-standin-card")
        page.screenshot(path=str(SCREENSHOTS / "share-01-my-shares.png"), full_page=True)

        page.get_by_role("button", name="生成海报").click()
        page.wait_for_url(re.compile(r".*/posters/.*"), timeout=20_000)
        poster_asked.set()   # main thread: run_jobs() (with Redis the job waits for a worker)
        page.wait_for_url(re.compile(r".*/posters/[0-9a-f]{64}\?.*"), timeout=20_000)
        page.locator(".poster-view img").wait_for()
        page.wait_for_function("document.querySelector('.poster-view img').complete")
        seen["width"] = page.evaluate("document.querySelector('.poster-view img').naturalWidth")
        page.screenshot(path=str(SCREENSHOTS / "share-02-poster.png"), full_page=True)
        context.close()

    _in_browser(scenario, run_jobs, poster_asked)

    token = seen["token"]
    by_api = {item["api"]: item for item in seen["shares"]}
    chat = by_api["updateAppMessageShareData"]
    moments = by_api["updateTimelineShareData"]
    assert chat["title"] == moments["title"] == title
    assert chat["link"] == f"{live_server}/s/{token}/f"
    assert moments["link"] == f"{live_server}/s/{token}/m"
    assert "恳请帮帮 TA" in chat["desc"] and chat["imgUrl"].startswith(live_server + "/photos/")
    assert chat["url"] == f"{live_server}/c/{campaign_id}/share"
    assert any(c["ok"] and c["url"] == chat["url"] for c in standin.state.jssdk_configs)
    assert seen["width"] == 750
