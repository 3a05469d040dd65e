"""Fixtures for browser tests: a real gateway (or the whole system) on free ports, and headless Chromium."""
import json
import os
import resource
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ADMIN_TOKEN = "browser-test-admin-token-0123"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


def new_key_space() -> str:
    """A Redis key space (REDIS_KEY_SPACE) no other test names."""
    return "py-" + uuid.uuid4().hex[:12]


def delete_key_space(space: str):
    """Deletes every key of `space` from the tests' Redis (REDIS_URL)."""
    url = urllib.parse.urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:16379/1"))
    cli = ["redis-cli", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), "-n", url.path.strip("/") or "0"]
    if url.password:
        cli += ["-a", urllib.parse.unquote(url.password), "--no-auth-warning"]
    keys = subprocess.run(cli + ["--scan", "--pattern", space + ":*"], capture_output=True, text=True).stdout.split()
    for start in range(0, len(keys), 500):
        subprocess.run(cli + ["UNLINK", *keys[start:start + 500]], capture_output=True)


CREATED_DATABASES = []


def new_database() -> str:
    """A fresh, empty Postgres database beside the tests' own (DATABASE_URL), dropped when the
    session ends: a dev system's workers (payments webhooks, the saga outbox) take work from
    every row of their database, so two dev systems alive at once must not share one."""
    url = urllib.parse.urlparse(os.environ.get("DATABASE_URL", "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"))
    name = "br_test_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", url._replace(path="/postgres").geturl(), "-qAtc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    CREATED_DATABASES.append((url, name))
    return url._replace(path="/" + name).geturl()


@pytest.fixture(scope="session", autouse=True)
def created_databases():
    """Drops the databases `new_database` made, whatever the tests' outcome."""
    yield
    for url, name in CREATED_DATABASES:
        subprocess.run(["psql", url._replace(path="/postgres").geturl(), "-qAtc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


@pytest.fixture(autouse=True)
def key_space(monkeypatch):
    """Every process a test starts keeps its Redis keys in a space of the test's own (its rooms,
    events, streams and signing keys are no other test's), deleted when the test ends, passed or
    not. Fixtures that outlive a test name their own space."""
    space = new_key_space()
    monkeypatch.setenv("REDIS_KEY_SPACE", space)
    yield space
    delete_key_space(space)


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

    def request_when_free(self, method: str, path: str, body=None, headers=None, within: float = 15):
        """`request` for a test's set-up steps, which honours a 503's `Retry-After` as a client
        should (a login's rate limit fails closed when Redis answers slowly, as it may while the
        other suites load the machine); gives up with the problem's text after `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            try:
                return self.request(method, path, body, headers)
            except urllib.error.HTTPError as error:
                retry_after = error.headers.get("Retry-After")
                if error.code != 503 or retry_after is None or time.monotonic() > deadline:
                    raise AssertionError(f"{method} {path}: {error.code} {error.read().decode(errors='replace')}") from error
                time.sleep(min(1.0, float(retry_after)) if retry_after.isdigit() else 1.0)

    def admin(self, method: str, path: str, body=None):
        return self.request(method, "/admin/v1" + path, body,
                            {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})

    def room(self, **settings) -> str:
        event = "browser-" + uuid.uuid4().hex[:8]
        configuration = {"mode": "queue", "release_rate": 1, "max_active": 0, "pass_ttl": 120, "idle_timeout": 60}
        configuration.update(settings)
        self.admin("PUT", f"/rooms/{event}", configuration)
        return event


def binary() -> str:
    path = os.environ.get("BOOKING_RUSH_BIN")
    if path:
        return path
    return subprocess.check_output(["swift", "build", "--show-bin-path"], text=True).strip() + "/booking-rush"


def start(arguments, environment, base: str, timeout: float = 30, open_files: int | None = None):
    """Starts `booking-rush ARGUMENTS` (with at most `open_files` descriptors, soft and hard limit,
    when given) and waits until BASE/health answers."""
    def limit_open_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
    process = subprocess.Popen([binary()] + arguments + ["--log-level", "warning"], env=dict(os.environ, **environment),
                               preexec_fn=limit_open_files if open_files else None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/health")
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"booking-rush {' '.join(arguments)} did not start")


def stop(process):
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def gateway():
    port, space = free_port(), new_key_space()
    base = f"http://127.0.0.1:{port}"
    process = start(["gateway", "--port", str(port)], {"ADMIN_TOKEN": ADMIN_TOKEN, "REDIS_KEY_SPACE": space}, base)
    try:
        yield Gateway(base)
    finally:
        stop(process)
        delete_key_space(space)


class System(Gateway):
    """`booking-rush dev`: gateway, booking and payments in one process, with an admin account."""

    def __init__(self, base: str, admin_email: str, admin_password: str):
        super().__init__(base)
        self.admin_email = admin_email
        self.admin_password = admin_password
        self.admin_access_token = None

    def login(self, email: str, password: str) -> str:
        _, body = self.request_when_free("POST", "/api/v1/auth/login", {"email": email, "password": password},
                                         {"Content-Type": "application/json"})
        return body["access_token"]

    def as_admin(self, method: str, path: str, body=None):
        """Calls the gateway with the admin account's access token (logged in once: logins are rate limited)."""
        if self.admin_access_token is None:
            self.admin_access_token = self.login(self.admin_email, self.admin_password)
        return self.request_when_free(method, path, body, {"Authorization": f"Bearer {self.admin_access_token}", "Content-Type": "application/json"})

    def event(self, zones, max_per_user: int = 6) -> str:
        """A published event with the given zones, and a queueing room that sends admitted visitors to its shop page."""
        event = "flow-" + uuid.uuid4().hex[:8]
        self.as_admin("POST", "/api/v1/events", {
            "id": event, "name": f"Browser test {event}", "venue": "Headless Hall",
            "starts_at": "2031-06-01T19:00:00Z", "max_per_user": max_per_user, "zones": zones,
        })
        self.as_admin("POST", f"/api/v1/events/{event}/publish")
        self.admin("PUT", f"/rooms/{event}", {"mode": "queue", "release_rate": 2, "max_active": 0, "pass_ttl": 300,
                                              "idle_timeout": 60, "target_url": f"/shop/{event}"})
        return event


class Dev:
    """A running `booking-rush dev` on free ports, with its admin account."""

    def __init__(self, process, base: str, email: str, password: str, booking_base: str = "", payments_base: str = ""):
        self.process, self.base, self.email, self.password = process, base, email, password
        self.booking_base, self.payments_base = booking_base, payments_base

    def admin_headers(self) -> dict:
        """Headers with a fresh access token of the admin account."""
        data = json.dumps({"email": self.email, "password": self.password}).encode()
        request = urllib.request.Request(self.base + "/api/v1/auth/login", data=data, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            token = json.loads(response.read())["access_token"]
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def published_event(self, headers: dict, prefix: str, capacity: int, max_per_user: int) -> str:
        """A published event `PREFIX-<random>` with one zone `a` of `capacity` seats, made through the gateway."""
        event = f"{prefix}-{uuid.uuid4().hex[:8]}"
        for path, body, expected in [
            ("/api/v1/events", {"id": event, "name": prefix.title(), "venue": "Loopback", "starts_at": "2031-01-01T20:00:00Z",
                                "max_per_user": max_per_user,
                                "zones": [{"id": "a", "name": "A", "price_minor": 100, "currency": "EUR", "capacity": capacity}]}, 201),
            (f"/api/v1/events/{event}/publish", None, 204),
        ]:
            request = urllib.request.Request(self.base + path, data=json.dumps(body).encode() if body else None, method="POST", headers=headers)
            with urllib.request.urlopen(request) as response:
                assert response.status == expected, (path, response.status)
        return event


def start_dev(folder, environment=None, open_routes: bool = False) -> Dev:
    """`booking-rush dev` with config/routes.dev.json pointed at its ports, on a database of its
    own unless `environment` names one; `open_routes` drops the
    rate limits and queue-pass policies (for tests about something else). A start that fails
    (a port taken between choosing and binding it) is tried once more on new ports."""
    email, password = f"admin-{uuid.uuid4().hex[:8]}@booking-rush.test", "dev-admin-password"
    environment = dict(environment or {})
    environment.setdefault("DATABASE_URL", new_database())
    for attempt in range(2):
        gateway_port, booking_port, payments_port = free_port(), free_port(), free_port()
        routes = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "config", "routes.dev.json")))
        for route in routes["routes"]:
            if route.get("local"):
                route.pop("upstreams", None)
            else:
                route["upstreams"] = [u.replace(":8081", f":{booking_port}").replace(":8082", f":{payments_port}") for u in route["upstreams"]]
            if open_routes:
                route["rate_limits"] = []
                route.pop("queue_pass", None)
        routes_path = os.path.join(str(folder), "routes.json")
        with open(routes_path, "w") as file:
            json.dump(routes, file)
        base = f"http://127.0.0.1:{gateway_port}"
        try:
            process = start(
                ["dev", "--gateway-port", str(gateway_port), "--booking-port", str(booking_port),
                 "--payments-port", str(payments_port), "--routes", routes_path],
                dict({"ADMIN_TOKEN": ADMIN_TOKEN, "ADMIN_EMAIL": email, "ADMIN_PASSWORD": password, "BCRYPT_COST": "10"}, **environment),
                base, timeout=60,
            )
            return Dev(process, base, email, password, f"http://127.0.0.1:{booking_port}", f"http://127.0.0.1:{payments_port}")
        except pytest.fail.Exception:
            if attempt == 1:
                raise


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    space = new_key_space()
    dev = start_dev(tmp_path_factory.mktemp("system"), {"REDIS_KEY_SPACE": space})
    try:
        yield System(dev.base, dev.email, dev.password)
    finally:
        stop(dev.process)
        delete_key_space(space)


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
