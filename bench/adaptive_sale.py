#!/usr/bin/env python3
"""A flash sale with adaptive release against a congested upstream.

A gateway process fronts a small upstream whose latency rises with its request rate: every
request takes BASE ms plus SLOPE ms for each request/s above CAPACITY over the last second. A
crowd joins the event's waiting room; every visitor the room admits makes one request to the
upstream through the gateway, so the upstream's load is exactly the release rate the
controller sets. Every half second the timeline records the configured release rate, the
upstream's p99 over the last second as its clients saw it, and the controller's decisions.

Used by `bench/adaptive.sh` (prints the timeline, writes bench/results/adaptive-release.txt) and by
`Tests/Browser/test_adaptive_release.py` (asserts convergence and recovery).
"""
import argparse
import collections
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADMIN_TOKEN = "adaptive-sale-admin-token-0123"


class CongestedUpstream(ThreadingHTTPServer):
    """Answers after BASE + SLOPE × max(0, requests in the last second − CAPACITY) ms."""
    daemon_threads = True

    def __init__(self, capacity: float, base_ms: float = 5, slope_ms: float = 40):
        self.capacity, self.base_ms, self.slope_ms = capacity, base_ms, slope_ms
        self.arrivals = collections.deque()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), CongestedHandler)

    def delay(self) -> float:
        now = time.monotonic()
        with self.lock:
            self.arrivals.append(now)
            while self.arrivals and self.arrivals[0] < now - 1:
                self.arrivals.popleft()
            rate = len(self.arrivals)
        return (self.base_ms + self.slope_ms * max(0.0, rate - self.capacity)) / 1000

    def sustainable_rate(self, target_ms: float) -> float:
        """The request rate at which the latency reaches `target_ms`."""
        return self.capacity + (target_ms - self.base_ms) / self.slope_ms


class CongestedHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/health":
            time.sleep(self.server.delay())
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method: str, url: str, body=None, timeout: float = 10, admin: bool = True):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Sale:
    """The gateway, the upstream, the room and the crowd of one run; `run_for` records the timeline."""

    def __init__(self, binary: str, folder: str, capacity: float, adaptive: dict, start_rate: float, crowd: int = 2500):
        self.upstream = CongestedUpstream(capacity)
        threading.Thread(target=self.upstream.serve_forever, daemon=True).start()
        routes = os.path.join(folder, "adaptive-routes.json")
        with open(routes, "w") as file:
            json.dump({"routes": [{"name": "origin", "prefix": "/api/origin", "timeout_ms": 10000,
                                   "upstreams": [f"http://127.0.0.1:{self.upstream.server_port}"]}]}, file)
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, ADAPTIVE_WINDOW_SECONDS="2",
                           GATEWAY_FLEET="adaptive-" + uuid.uuid4().hex[:8])
        self.gateway = subprocess.Popen([binary, "gateway", "--port", str(port), "--routes", routes, "--without-accounts",
                                         "--log-level", "warning"], env=environment)
        self.wait_healthy()
        self.event = "adaptive-" + uuid.uuid4().hex[:8]
        self.adaptive = dict(adaptive, routes=["origin"])
        status, body = call("PUT", f"{self.base}/admin/v1/rooms/{self.event}", {
            "mode": "paused", "release_rate": start_rate, "pass_ttl": 600, "idle_timeout": 3600, "adaptive": self.adaptive})
        assert status == 200, body
        with ThreadPoolExecutor(max_workers=32) as pool:
            joins = list(pool.map(lambda _: call("POST", f"{self.base}/api/v1/queue/{self.event}/join", admin=False)[0], range(crowd)))
        assert joins.count(201) == crowd, f"joins answered {collections.Counter(joins)}"
        self.pool = ThreadPoolExecutor(max_workers=128)
        self.latencies = collections.deque()
        self.lock = threading.Lock()
        self.timeline = []

    def wait_healthy(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                return
            except OSError:
                if self.gateway.poll() is not None:
                    break
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the gateway did not start")

    def visit(self):
        """One admitted visitor's request to the upstream, timed as its client sees it."""
        began = time.monotonic()
        try:
            urllib.request.urlopen(f"{self.base}/api/origin/seats", timeout=15).read()
        except OSError:
            pass
        with self.lock:
            self.latencies.append((time.monotonic(), (time.monotonic() - began) * 1000))

    def client_p99(self, now: float):
        with self.lock:
            while self.latencies and self.latencies[0][0] < now - 1:
                self.latencies.popleft()
            recent = sorted(latency for _, latency in self.latencies)
        return recent[min(len(recent) - 1, int(0.99 * len(recent)))] if recent else None

    def run_for(self, seconds: float, began: float = None):
        """Sends one request per admission for `seconds`, recording the timeline every half second."""
        began = began if began is not None else time.monotonic()
        stats = f"{self.base}/admin/v1/rooms/{self.event}/stats"
        _, body = call("GET", stats)
        released = body["stats"]["released_total"]
        end, next_record = time.monotonic() + seconds, time.monotonic()
        while time.monotonic() < end:
            _, body = call("GET", stats)
            now_released = body["stats"]["released_total"]
            for _ in range(now_released - released):
                self.pool.submit(self.visit)
            released = now_released
            now = time.monotonic()
            if now >= next_record:
                self.timeline.append({"t": round(now - began, 1), "rate": body["room"]["configuration"]["release_rate"],
                                      "observed": body["stats"]["observed_rate"], "capacity": self.upstream.capacity,
                                      "p99_ms": self.client_p99(now)})
                next_record += 0.5
            time.sleep(0.1)

    def start(self):
        assert call("POST", f"{self.base}/admin/v1/rooms/{self.event}/resume")[0] == 200
        return time.monotonic()

    def decisions(self):
        _, body = call("GET", f"{self.base}/admin/v1/rooms/{self.event}/adaptive?limit=100")
        return list(reversed(body["decisions"]))

    def close(self):
        try:
            call("DELETE", f"{self.base}/admin/v1/rooms/{self.event}")
        except (OSError, AttributeError):
            pass
        if self.gateway.poll() is None:
            self.gateway.terminate()
            self.gateway.wait(timeout=30)
        if hasattr(self, "pool"):
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.upstream.shutdown()


DEFAULT_ADAPTIVE = {"min_rate": 2, "max_rate": 60, "p99_target_ms": 200, "error_budget": 0.02, "increase_step": 4,
                    "decrease_factor": 0.6, "hold_off_s": 3, "interval_s": 1, "min_samples": 5}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--seconds", type=float, default=30, help="seconds at the first capacity, then as long at twice it")
    parser.add_argument("--capacity", type=float, default=15)
    parser.add_argument("--output", default="bench/results/adaptive-release.txt")
    arguments = parser.parse_args()
    folder = os.path.dirname(os.path.abspath(arguments.output))
    sale = Sale(arguments.binary, folder, arguments.capacity, DEFAULT_ADAPTIVE, start_rate=4)
    target = DEFAULT_ADAPTIVE["p99_target_ms"]
    sustainable = sale.upstream.sustainable_rate(target)
    try:
        began = sale.start()
        sale.run_for(arguments.seconds, began)
        sale.upstream.capacity *= 2
        sale.run_for(arguments.seconds, began)
        decisions = sale.decisions()
    finally:
        sale.close()
    lines = [f"Adaptive release against a congested upstream: latency 5 ms + 40 ms per request/s above its capacity;",
             f"p99 target {target} ms, so the sustainable rate is {sustainable:.1f}/s, "
             f"then {sale.upstream.sustainable_rate(target):.1f}/s once the capacity doubles at t={arguments.seconds:.0f} s.",
             f"settings: {json.dumps(DEFAULT_ADAPTIVE)}"]
    for label, capacity, limit in [("slow upstream", arguments.capacity, sustainable), ("after it sped up", arguments.capacity * 2, sale.upstream.sustainable_rate(target))]:
        settled = [p for p in sale.timeline if p["capacity"] == capacity and p["t"] >= (10 if capacity == arguments.capacity else arguments.seconds + 10)]
        if settled:
            rates = [p["rate"] for p in settled]
            under = sum(1 for p in settled if p["p99_ms"] is not None and p["p99_ms"] <= target)
            lines.append(f"{label}: release rate mean {sum(rates) / len(rates):.1f}/s, max {max(rates):.1f}/s against {limit:.1f}/s sustainable; "
                         f"upstream p99 under target at {under} of {len(settled)} samples (after the first 10 s)")
    lines += ["",
             f"{'t (s)':>6} {'capacity':>9} {'release rate':>13} {'observed':>9} {'upstream p99 (ms)':>18}"]
    for point in sale.timeline:
        p99 = "-" if point["p99_ms"] is None else f"{point['p99_ms']:.0f}"
        lines.append(f"{point['t']:>6} {point['capacity']:>9.0f} {point['rate']:>13.1f} {point['observed']:>9.1f} {p99:>18}")
    lines += ["", "decisions (Redis time relative to the first):"]
    first = decisions[0]["at"] if decisions else 0
    for decision in decisions:
        p99 = "-" if decision.get("p99_ms") is None else f"{decision['p99_ms']:.0f} ms"
        lines.append(f"  +{(decision['at'] - first) / 1000:6.1f} s  {decision['action']:>8}  {decision['from']:6.1f} -> {decision['to']:6.1f}"
                     f"  p99 {p99:>8}  errors {decision['error_rate'] * 100:.1f}%  ({decision['reason']})")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(arguments.output, "w") as file:
        file.write(text)


if __name__ == "__main__":
    main()
