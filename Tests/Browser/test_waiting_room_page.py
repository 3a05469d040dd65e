"""The waiting-room page in a real headless Chromium: it shows a place, the place moves, and the
visitor lands on the room's target with a queue pass in a cookie, never in a URL — with
JavaScript, and without it."""
import base64
import json
import re
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_TOKEN, Gateway, delete_key_space, free_port, new_key_space, screenshot, start, stop


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


def open_streams(base: str, event: str) -> float:
    """The room's live streams on the gateway at BASE, from its /metrics (0 before the first)."""
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    found = re.search(r'^gateway_queue_streams\{event="' + re.escape(event) + r'"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_page_opens_its_stream_again_after_its_gateway_restarts(browser):
    """A gateway shutting down ends its streams at once. The page opens its stream again on the gateway
    serving next (here the same port, restarted on the same Redis key space) rather than turning to polls,
    and the visitor still lands on the target."""
    port, space = free_port(), new_key_space()
    base = f"http://127.0.0.1:{port}"
    arguments, environment = ["gateway", "--port", str(port)], {"ADMIN_TOKEN": ADMIN_TOKEN, "REDIS_KEY_SPACE": space}
    process = start(arguments, environment, base)
    try:
        gateway = Gateway(base)
        event = gateway.room(mode="paused", release_rate=0, idle_timeout=120, target_url="/health")
        browser.get(f"{base}/waiting-room/{event}")
        assert position(browser) == 1
        WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: open_streams(base, event) == 1)

        stop(process)
        process = start(arguments, environment, base)
        WebDriverWait(browser, 20, poll_frequency=0.2).until(
            lambda d: open_streams(base, event) == 1, "the page's stream was not opened again on the restarted gateway")
        screenshot(browser, "waiting-room-stream-reopened")

        gateway.admin("PATCH", f"/rooms/{event}", {"mode": "queue", "release_rate": 5})
        seen = []
        WebDriverWait(browser, 20, poll_frequency=0.2).until(lambda d: landed(d, f"{base}/health", seen))
        assert_pass_in_cookie_only(browser, event, seen)
    finally:
        stop(process)
        delete_key_space(space)
