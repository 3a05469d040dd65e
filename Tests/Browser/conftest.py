"""Fixtures for browser tests: a real gateway process on a free port, and headless Chromium."""
import json
import os
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ADMIN_TOKEN = "browser-test-admin-token-0123"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gateway:
    def __init__(self, base: str):
        self.base = base

    def request(self, method: str, path: str, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")

    def admin(self, method: str, path: str, body=None):
        return self.request(method, "/admin/v1" + path, body,
                            {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})

    def room(self, **settings) -> str:
        event = "browser-" + uuid.uuid4().hex[:8]
        configuration = {"mode": "queue", "release_rate": 1, "max_active": 0, "pass_ttl": 120, "idle_timeout": 60}
        configuration.update(settings)
        self.admin("PUT", f"/rooms/{event}", configuration)
        return event


@pytest.fixture(scope="session")
def gateway():
    binary = os.environ.get("BOOKING_RUSH_BIN")
    if not binary:
        binary = subprocess.check_output(["swift", "build", "--show-bin-path"], text=True).strip() + "/booking-rush"
    port = free_port()
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN)
    process = subprocess.Popen([binary, "gateway", "--port", str(port), "--log-level", "warning"], env=environment)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health")
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the gateway did not start")
    yield Gateway(base)
    process.terminate()
    process.wait(timeout=30)


def make_browser(javascript: bool):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,700"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


@pytest.fixture
def browser():
    driver = make_browser(javascript=True)
    yield driver
    driver.quit()


@pytest.fixture
def browser_without_javascript():
    driver = make_browser(javascript=False)
    yield driver
    driver.quit()


def screenshot(driver, name: str):
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))
