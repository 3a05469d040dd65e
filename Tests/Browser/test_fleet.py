"""Three gateway processes behind one Redis: the release rate and rate limits hold for the fleet,
visitors move freely between instances, and when one is killed mid-load the others carry on."""
import json
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

from conftest import ADMIN_TOKEN, free_port, start, stop
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
