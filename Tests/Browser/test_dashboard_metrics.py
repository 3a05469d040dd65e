"""The Grafana dashboard in deploy/grafana plots only metrics the services really export: after
some traffic through `booking-rush dev`, every metric its queries name is on /metrics."""
import json
import os
import re
import time
import urllib.request
import uuid

DASHBOARD = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "grafana", "booking-rush.json")
# Exported only once an upstream fails or a visitor abandons; this test makes neither happen.
ONLY_ON_FAILURE = {"gateway_proxy_errors_total", "queue_abandoned_total"}


def dashboard_metrics() -> set:
    dashboard = json.load(open(DASHBOARD))
    names = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expression = re.sub(r"\bby \([^)]*\)", "", target["expr"])
            for name in re.findall(r"\b([a-z_]+)\s*(?:\{|\[|\))", expression):
                names.add(re.sub(r"_(bucket|count|sum)$", "", name))
    return names


def exported(base: str) -> set:
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    return {re.sub(r"_(bucket|count|sum)$", "", line.split("{")[0].split(" ")[0]) for line in text.splitlines() if line and not line.startswith("#")}


def test_every_dashboard_metric_is_exported(system):
    event = system.event([{"id": "a", "name": "A", "price_minor": 1000, "currency": "EUR", "capacity": 5}])
    _, joined = system.request("POST", f"/api/v1/queue/{event}/join")
    ticket = {"Visitor-Ticket": joined["ticket"]}
    deadline = time.monotonic() + 10
    while system.request("GET", f"/api/v1/queue/{event}/status", headers=ticket)[1]["status"] != "admitted":
        assert time.monotonic() < deadline, "the visitor was never admitted"
        time.sleep(0.2)
    system.admin("DELETE", f"/rooms/{event}")  # no room: reserving needs no pass
    email = f"metrics-{uuid.uuid4().hex[:8]}@example.com"
    system.request("POST", "/api/v1/auth/register", {"email": email, "password": "metrics-password"}, {"Content-Type": "application/json"})
    headers = {"Authorization": f"Bearer {system.login(email, 'metrics-password')}", "Content-Type": "application/json"}
    _, booking = system.request("POST", "/api/v1/bookings/reserve", {"event_id": event, "zone_id": "a", "quantity": 1},
                                dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))
    _, intent = system.request("POST", "/api/v1/payments/intent", {"booking_id": booking["booking_id"]},
                               dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))
    system.request("POST", "/api/v1/payments/intent/confirm", {"payment_id": intent["payment_id"], "payment_method": "pm_card_visa"},
                   dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))

    wanted = dashboard_metrics()
    assert {"queue_waiting", "booking_reservations_total", "http_server_request_duration"} <= wanted
    deadline = time.monotonic() + 20
    while True:
        missing = wanted - exported(system.base) - ONLY_ON_FAILURE
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, f"the dashboard plots metrics nobody exports: {sorted(missing)}"
