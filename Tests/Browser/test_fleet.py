"""Three gateway processes behind one Redis: the release rate and rate limits hold for the fleet,
visitors move freely between instances, when one is killed mid-load the others carry on, and one
call reloads the route table of them all."""
import json
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_TOKEN, delete_key_space, free_port, new_key_space, start, stop
from test_faults import SlowUpstream, call

RATE = 20


class QuickUpstream(SlowUpstream):
    def do_GET(self):
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def released(base: str, event: str) -> int:
    _, body, _ = call(f"{base}/admin/v1/rooms/{event}/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    return body["stats"]["released_total"]


def test_three_gateways_share_one_release_rate_and_one_limit_and_survive_a_kill(tmp_path):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), QuickUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"routes": [{
        "name": "limited", "prefix": "/api/limited", "upstreams": [f"http://127.0.0.1:{upstream.server_port}"],
        "rate_limits": [{"name": "fleet-" + uuid.uuid4().hex[:6], "key": "route", "limit": 10, "period_s": 1, "burst": 10}]}]}))
    environment = {"ADMIN_TOKEN": ADMIN_TOKEN, "VISITOR_TICKET_SECRET": "fleet-visitor-ticket-secret-0123456789abcdef",
                   "INTERNAL_SECRET": "fleet-internal-secret-0123456789abcdef"}
    ports = [free_port() for _ in range(3)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    gateways = [start(["gateway", "--port", str(port), "--routes", str(routes), "--without-accounts"], environment, base)
                for port, base in zip(ports, bases)]
    try:
        event = "fleet-" + uuid.uuid4().hex[:8]
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
        room = {"mode": "paused", "release_rate": RATE, "max_active": 0, "pass_ttl": 300, "idle_timeout": 120}
        assert call(f"{bases[0]}/admin/v1/rooms/{event}", "PUT", room, admin)[0] == 200
        tickets = []
        for index in range(500):
            _, body, _ = call(f"{bases[index % 3]}/api/v1/queue/{event}/join", "POST")
            tickets.append(body["ticket"])
        _, place, _ = call(f"{bases[2]}/api/v1/queue/{event}/status", headers={"Visitor-Ticket": tickets[0]})
        assert place["position"] == 1, "a visitor who joined on one instance is known to the others"

        assert call(f"{bases[1]}/admin/v1/rooms/{event}/resume", "POST", None, admin)[0] == 200
        time.sleep(1)
        start_count, began = released(bases[0], event), time.monotonic()
        time.sleep(4)
        three = (released(bases[1], event) - start_count) / (time.monotonic() - began)
        assert abs(three - RATE) <= RATE * 0.15, f"three instances release {three:.1f}/s in all, not {RATE}/s each"

        gateways[1].send_signal(signal.SIGKILL)
        gateways[1].wait(timeout=10)
        start_count, began = released(bases[0], event), time.monotonic()
        time.sleep(4)
        two = (released(bases[2], event) - start_count) / (time.monotonic() - began)
        assert abs(two - RATE) <= RATE * 0.15, f"after a kill the others release {two:.1f}/s"
        _, place, _ = call(f"{bases[2]}/api/v1/queue/{event}/status", headers={"Visitor-Ticket": tickets[-1]})
        assert place["status"] == "waiting", "the queue lives on"

        # 60 requests at once, alternating between the two instances: one shared bucket (burst 10,
        # 10/s) lets about 10 through; a bucket per instance would let about 20 through.
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(lambda index: call(f"{bases[0 if index % 2 else 2]}/api/limited/{index}")[0], range(60)))
        elapsed = time.monotonic() - began
        assert elapsed < 1.5, f"the burst took {elapsed:.2f} s: too slow for the bound below to tell one bucket from two"
        allowed = statuses.count(200)
        assert statuses.count(429) == 60 - allowed, f"every refusal is a 429: {statuses}"
        ceiling = 10 + int(10 * elapsed) + 1
        assert 10 <= allowed <= ceiling, f"{allowed} of 60 allowed in {elapsed:.2f} s by two instances sharing one 10/s limit"
        call(f"{bases[0]}/admin/v1/rooms/{event}", "DELETE", None, admin)
    finally:
        for gateway in gateways:
            if gateway.poll() is None:
                stop(gateway)
        upstream.shutdown()


def test_one_call_reloads_the_route_table_of_every_gateway_of_the_fleet(tmp_path, browser):
    """Three gateways, each with its own copy of the route file: one `reload?scope=fleet` on one of
    them puts the edited copies in force on all three within a second or two; the fleet's traffic
    view then shows each one's table, and a table that differs (one reloaded alone by SIGHUP) shows,
    in the console's Gateways table too, as does a reload that failed on one of them, until one takes."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), QuickUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{upstream.server_port}"
    table = {"routes": [{"name": "svc", "prefix": "/api/svc", "upstreams": [target]}]}
    files = [tmp_path / f"routes-{index}.json" for index in range(3)]
    for file in files:
        file.write_text(json.dumps(table))
    space = new_key_space()
    environment = {"ADMIN_TOKEN": ADMIN_TOKEN, "VISITOR_TICKET_SECRET": "fleet-visitor-ticket-secret-0123456789abcdef",
                   "INTERNAL_SECRET": "fleet-internal-secret-0123456789abcdef", "REDIS_KEY_SPACE": space,
                   "GATEWAY_FLEET": "reload-" + uuid.uuid4().hex[:8]}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ports = [free_port() for _ in range(3)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    gateways = [start(["gateway", "--port", str(port), "--routes", str(file), "--without-accounts"], environment, base)
                for port, base, file in zip(ports, bases, files)]

    def tables():
        return [call(f"{base}/admin/v1/routes", headers=admin)[1] for base in bases]

    def until(check, what: str):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not check():
            time.sleep(0.1)
        assert check(), what

    try:
        assert [call(f"{base}/api/extra/x")[0] for base in bases] == [404, 404, 404]
        table["routes"].append({"name": "extra", "prefix": "/api/extra", "upstreams": [target]})
        for file in files:
            file.write_text(json.dumps(table))
        status, body, _ = call(f"{bases[0]}/admin/v1/routes/reload?scope=fleet", "POST", None, admin)
        assert status == 200 and body["generation"] == 2, body
        until(lambda: [t["generation"] for t in tables()] == [2, 2, 2], f"every gateway reloads: {tables()}")
        assert len({t["digest"] for t in tables()}) == 1 and tables()[0]["digest"] == body["digest"]
        assert [call(f"{base}/api/extra/x")[0] for base in bases] == [200, 200, 200], "the new route serves on every gateway"

        table["routes"][1]["prefix"] = "/api/other"
        files[2].write_text(json.dumps(table))
        gateways[2].send_signal(signal.SIGHUP)
        until(lambda: tables()[2]["generation"] == 3, "SIGHUP reloads the one gateway it is sent to")
        assert [t["generation"] for t in tables()[:2]] == [2, 2], "the others keep theirs"

        def stamps():
            instances = call(f"{bases[0]}/admin/v1/traffic", headers=admin)[1]["instances"]
            return {i["instance"]: i.get("route_table") for i in instances}
        # Reports are up to half a second old: wait for the ones made after the reloads.
        until(lambda: sorted(s["generation"] for s in stamps().values()) == [2, 2, 3], f"every report shows its table: {stamps()}")
        now = stamps()
        assert len({now[t["instance"]]["digest"] for t in tables()[:2]}) == 1 and now[tables()[2]["instance"]]["digest"] == tables()[2]["digest"]
        assert now[tables()[2]["instance"]]["digest"] != now[tables()[0]["instance"]]["digest"], "the table that differs shows"
        browser.get(bases[0] + "/admin/")
        browser.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
        browser.find_element(By.ID, "signin-button").click()
        # Read in one script: the console redraws the table every second.
        rows = lambda: dict(browser.execute_script(
            "return Array.from(document.querySelectorAll('#traffic-instances tbody tr')).map(r => [r.cells[0].textContent, r.textContent])"))
        WebDriverWait(browser, 15).until(lambda d: len(rows()) == 3 and sum("(differs)" in text for text in rows().values()) == 1)
        assert "(differs)" in rows()[tables()[2]["instance"]] and "gen 3" in rows()[tables()[2]["instance"]], rows()

        # A fleet reload that fails on one gateway (its copy is broken): it keeps its table, and the
        # fleet's view and the console say why until a reload there takes.
        broken = tables()[1]["instance"]
        files[1].write_text('{"routes": [{"name": "svc", "prefix": "/api/svc", "upstreams": ["' + target + '"], "rate_limitz": []}]}')
        status, body, _ = call(f"{bases[0]}/admin/v1/routes/reload?scope=fleet", "POST", None, admin)
        assert status == 200 and body["generation"] == 3, body
        until(lambda: [t["generation"] for t in tables()] == [3, 2, 4], f"the others reload: {tables()}")
        until(lambda: "rate_limitz" in (stamps()[broken] or {}).get("reload_failed", ""), f"the failure shows in the fleet's view: {stamps()}")
        assert all("reload_failed" not in stamps()[t["instance"]] for t in (tables()[0], tables()[2]))
        WebDriverWait(browser, 15).until(lambda d: "last reload failed" in rows().get(broken, "") and "rate_limitz" in rows()[broken])
        assert sum("last reload failed" in text for text in rows().values()) == 1, rows()
        files[1].write_text(json.dumps(table))
        call(f"{bases[0]}/admin/v1/routes/reload?scope=fleet", "POST", None, admin)
        until(lambda: tables()[1]["generation"] == 3, f"the mended copy loads: {tables()}")
        until(lambda: "reload_failed" not in (stamps()[broken] or {}), f"the failure is gone: {stamps()}")
        WebDriverWait(browser, 15).until(lambda d: not any("last reload failed" in text for text in rows().values()))
        assert all(gateway.poll() is None for gateway in gateways)
    finally:
        for gateway in gateways:
            if gateway.poll() is None:
                stop(gateway)
        upstream.shutdown()
        delete_key_space(space)
