"""The waiting-room page in a real headless Chromium: it shows a place, the place moves, and the
visitor lands on the room's target with a queue pass in a cookie, never in a URL — with
JavaScript, and without it."""
import base64
import json
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import screenshot


def position(driver) -> int:
    return int(driver.find_element(By.ID, "position").text)


def pass_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def landed(driver, target: str, seen: list) -> bool:
    """Records every URL the page is at, until it is the target."""
    seen.append(driver.current_url)
    return driver.current_url == target


def assert_pass_in_cookie_only(driver, event: str, seen: list):
    cookie = driver.get_cookie(f"br_pass_{event}")
    assert cookie, "the pass is handed over by cookie"
    assert cookie["httpOnly"], "scripts on the target cannot read it"
    claims = pass_claims(cookie["value"])
    assert claims["aud"] == [event] or claims["aud"] == event
    assert claims["token_use"] == "queue_pass"
    visited = list(seen)
    try:
        visited += driver.execute_script("return performance.getEntries().map(function (e) { return e.name; })") or []
    except Exception:  # noqa: BLE001 - a page without JavaScript has no script to ask
        pass
    assert not [url for url in visited if "queue_pass" in url or cookie["value"] in url], visited


def test_page_moves_and_lands_on_target(gateway, browser):
    event = gateway.room(release_rate=1, target_url="/health")
    for _ in range(3):
        gateway.request("POST", f"/api/v1/queue/{event}/join")
    browser.get(f"{gateway.base}/waiting-room/{event}")
    start = position(browser)
    assert start >= 3, "three visitors joined first"
    assert "queue" in browser.find_element(By.ID, "headline").text
    screenshot(browser, "waiting-room-joined")

    WebDriverWait(browser, 15, poll_frequency=0.2).until(lambda d: position(d) < start)
    screenshot(browser, "waiting-room-moving")
    width = browser.find_element(By.ID, "progress").get_attribute("style")
    assert "width" in width

    seen = []
    WebDriverWait(browser, 20, poll_frequency=0.2).until(lambda d: landed(d, f"{gateway.base}/health", seen))
    assert '"status":"ok"' in browser.page_source
    assert_pass_in_cookie_only(browser, event, seen)
    screenshot(browser, "waiting-room-landed")


def test_page_works_without_javascript(gateway, browser_without_javascript):
    driver = browser_without_javascript
    event = gateway.room(release_rate=1, target_url="/health")
    gateway.request("POST", f"/api/v1/queue/{event}/join")
    driver.get(f"{gateway.base}/waiting-room/{event}")
    assert position(driver) >= 1
    assert driver.find_elements(By.TAG_NAME, "noscript"), "the page refreshes itself without JavaScript"
    screenshot(driver, "waiting-room-no-javascript")
    seen = []
    WebDriverWait(driver, 30, poll_frequency=0.5).until(lambda d: landed(d, f"{gateway.base}/health", seen))
    assert_pass_in_cookie_only(driver, event, seen)
