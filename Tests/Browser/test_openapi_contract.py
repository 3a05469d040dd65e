"""The OpenAPI 3.1 document at /openapi.json is a valid document, and a running `booking-rush dev`
answers every documented operation as documented: each test drives operations through
`Contract`, which validates every real answer (status, content type, body schema, headers)
against the document; the last test fails if any documented operation was never driven."""
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
import uuid

import pytest
import requests
from openapi_spec_validator import validate as validate_spec

from conftest import ADMIN_TOKEN, binary, delete_key_space, new_key_space, start_dev, stop
from openapi_contract import Contract

INTERNAL_SECRET = "contract-test-internal-secret-" + "x" * 24
WEBHOOK_SECRET = "contract-test-webhook-secret-" + "y" * 24
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def signed_identity(user: str, roles: str, service: str):
    """Signs a service-to-service call to `service` as the gateway signs requests: the fields of
    Sources/ServiceKit/GatewaySignature.swift, each length-prefixed, under the scheme `v2`."""
    def sign(method: str, target: str, body: bytes) -> dict:
        timestamp, request_id = int(time.time()), str(uuid.uuid4())
        message = b"booking-rush-gateway-v2\n"
        for field in (str(timestamp), service, method, target, hashlib.sha256(body).hexdigest(), user, roles, request_id):
            message += str(len(field.encode())).encode() + b":" + field.encode()
        mac = hmac.new(INTERNAL_SECRET.encode(), message, hashlib.sha256).hexdigest()
        return {"X-Gateway-User-Id": user, "X-Gateway-User-Roles": roles, "X-Request-Id": request_id,
                "X-Gateway-Signature": f"t={timestamp},v2={mac}"}
    return sign


def webhook_signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class State:
    """What the steps hand on to each other, and what the teardown must delete."""

    def __init__(self, dev):
        self.dev = dev
        self.prefix = "contract-" + uuid.uuid4().hex[:8]
        self.rooms = []
        self.customer = None


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    space, folder = new_key_space(), tmp_path_factory.mktemp("contract")
    dev = start_dev(folder, {"INTERNAL_SECRET": INTERNAL_SECRET, "WEBHOOK_SECRET": WEBHOOK_SECRET, "REDIS_KEY_SPACE": space})
    document = requests.get(dev.base + "/openapi.json", timeout=10).json()
    contract = Contract(document, {"/": dev.base, "http://127.0.0.1:8081": dev.booking_base, "http://127.0.0.1:8082": dev.payments_base})
    state = State(dev)
    state.routes_path = os.path.join(str(folder), "routes.json")
    try:
        yield contract, state
    finally:
        for event in state.rooms:
            requests.delete(f"{dev.base}/admin/v1/rooms/{event}", headers=ADMIN, timeout=10)
        stop(dev.process)
        delete_key_space(space)


def test_the_document_is_valid_openapi_3_1_and_served_as_json(api):
    contract, _ = api
    response = contract.call("getOpenAPI", 200)
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    validate_spec(document)
    assert document["openapi"].startswith("3.1")
    assert len(contract.operations) >= 50


def test_operations_and_pages(api):
    contract, state = api
    event = state.prefix + "-page"
    contract.call("putRoom", 200, {"event": event}, headers=ADMIN, json_body={"mode": "queue"})
    state.rooms.append(event)
    assert contract.call("getHealth", 200).json() == {"status": "ok", "checks": {}}
    assert contract.call("getReadiness", 200).json()["status"] == "ready"
    assert "# TYPE gateway_proxy_duration_seconds histogram" in contract.call("getMetrics", 200).text
    assert contract.call("getPassKeys", 200).json()["keys"]
    assert contract.call("getHome", 302).headers["Location"] == "/shop/"
    assert "<html" in contract.call("getShop", 200).text.lower()
    assert "<html" in contract.call("getShopEvent", 200, {"event": event}).text.lower()
    assert "<html" in contract.call("getConsole", 200).text.lower()
    assert contract.call("getAsset", 200, {"file": "admin.js"}).text
    contract.call("getAsset", 404, {"file": "no-such-file.js"})
    assert event in contract.call("getWaitingRoomPage", 200, {"event": event}).text


def test_accounts(api):
    contract, state = api
    email, password = f"{state.prefix}@example.com", "contract-password-1"
    contract.call("register", 400, json_body={"email": "not an email", "password": password})
    account = contract.call("register", 201, json_body={"email": email, "password": password}).json()
    contract.call("register", 409, json_body={"email": email, "password": password})
    contract.call("login", 401, json_body={"email": email, "password": "wrong-password-1"})
    tokens = contract.call("login", 200, json_body={"email": email, "password": password}).json()
    rotated = contract.call("refreshTokens", 200, json_body={"refresh_token": tokens["refresh_token"]}).json()
    contract.call("refreshTokens", 401, json_body={"refresh_token": tokens["refresh_token"]})
    me = contract.call("getMe", 200, headers={"Authorization": f"Bearer {rotated['access_token']}"}).json()
    assert me == account
    contract.call("getMe", 401)
    contract.call("logout", 204, json_body={"refresh_token": rotated["refresh_token"]})
    contract.call("refreshTokens", 401, json_body={"refresh_token": rotated["refresh_token"]})
    state.customer = {"id": account["id"], "email": email, "password": password,
                      "headers": {"Authorization": f"Bearer {rotated['access_token']}"}}


def test_admin_rooms(api):
    contract, state = api
    event = state.prefix + "-admin"
    contract.call("putRoom", 401, {"event": event}, json_body={"mode": "queue"})
    room = contract.call("putRoom", 200, {"event": event}, headers=ADMIN, json_body={"mode": "queue", "release_rate": 5}).json()
    state.rooms.append(event)
    assert room["room"]["configuration"]["release_rate"] == 5 and room["room"]["configuration"]["pass_ttl"] == 300
    problem = contract.call("putRoom", 422, {"event": event}, headers=ADMIN, json_body={"release_rate": -1}).json()
    assert problem["field"] == "release_rate"
    patched = contract.call("patchRoom", 200, {"event": event}, headers=ADMIN, json_body={"max_active": 7}).json()
    assert patched["room"]["configuration"]["max_active"] == 7 and patched["room"]["configuration"]["release_rate"] == 5
    assert contract.call("getRoom", 200, {"event": event}, headers=ADMIN).json() == patched
    contract.call("getRoom", 404, {"event": state.prefix + "-none"}, headers=ADMIN)
    assert event in [r["event"] for r in contract.call("listRooms", 200, headers=ADMIN).json()["rooms"]]
    assert contract.call("getRoomStats", 200, {"event": event}, headers=ADMIN).json()["stats"]["waiting"] == 0
    adaptive = {"min_rate": 1, "max_rate": 4, "p99_target_ms": 300, "interval_s": 1, "min_samples": 0}
    contract.call("patchRoom", 422, {"event": event}, headers=ADMIN, json_body={"adaptive": dict(adaptive, max_rate=0.5)})
    patched = contract.call("patchRoom", 200, {"event": event}, headers=ADMIN, json_body={"mode": "queue", "adaptive": adaptive}).json()
    assert patched["room"]["configuration"]["adaptive"]["decrease_factor"] == 0.7
    deadline, status = time.monotonic() + 10, {"decisions": []}
    while time.monotonic() < deadline and not status["decisions"]:
        time.sleep(0.3)
        status = contract.call("getRoomAdaptive", 200, {"event": event}, query={"limit": 5}, headers=ADMIN).json()
    assert status["decisions"][0]["action"] == "clamp" and status["release_rate"] == 4, status
    contract.call("patchRoom", 200, {"event": event}, headers=ADMIN, json_body={"adaptive": None})
    history = contract.call("getRoomHistory", 200, {"event": event}, query={"limit": 10}, headers=ADMIN).json()
    assert history["interval_s"] == 5 and history["decisions"][0]["action"] == "clamp"
    contract.call("getRoomHistory", 404, {"event": state.prefix + "-none"}, headers=ADMIN)
    for operation, mode in [("pauseRoom", "paused"), ("resumeRoom", "queue"), ("closeRoom", "closed"), ("openRoom", "open")]:
        assert contract.call(operation, 200, {"event": event}, headers=ADMIN).json()["room"]["configuration"]["mode"] == mode
    assert contract.call("getTraffic", 200, headers=ADMIN).json()["scope"] == "fleet"
    assert contract.call("getTraffic", 200, query={"scope": "instance"}, headers=ADMIN).json()["scope"] == "instance"
    kid = contract.call("rotatePassKey", 200, headers=ADMIN).json()["kid"]
    assert kid in [key["kid"] for key in contract.call("getPassKeys", 200).json()["keys"]]
    account = contract.call("setAccountRoles", 200, {"id": state.customer["id"]}, headers=ADMIN,
                            json_body={"roles": ["customer", "organizer"]}).json()
    assert account["roles"] == ["customer", "organizer"]
    contract.call("setAccountRoles", 422, {"id": state.customer["id"]}, headers=ADMIN, json_body={"roles": ["emperor"]})
    contract.call("deleteRoom", 204, {"event": event}, headers=ADMIN)
    contract.call("getRoom", 404, {"event": event}, headers=ADMIN)


def test_queue(api):
    contract, state = api
    event = state.prefix + "-queue"
    contract.call("putRoom", 200, {"event": event}, headers=ADMIN, json_body={"mode": "paused"})
    state.rooms.append(event)
    challenge = contract.call("getJoinChallenge", 200, {"event": event}).json()
    assert challenge["difficulty"] == 0
    assert len(contract.call("getQueueDraw", 200, {"event": event}).json()["seed_commitment"]) == 64
    joined = contract.call("joinQueue", 201, {"event": event}).json()
    assert joined["status"] == "waiting" and joined["position"] == 1
    visitor = {"Visitor-Ticket": joined["ticket"], "Queue-Place": joined["place"]}
    assert contract.call("joinQueue", 200, {"event": event}, headers=visitor).json()["position"] == 1
    assert contract.call("getQueueStatus", 200, {"event": event}, headers=visitor).json()["status"] == "waiting"
    stream = contract.call("streamQueueEvents", 200, {"event": event}, headers=visitor, stream=True)
    try:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        name = next(line for line in lines if line.startswith("event:"))
        data = next(line for line in lines if line.startswith("data:"))
    finally:
        stream.close()
    assert name == "event: status"
    contract.validate(contract.schema("QueuePlace"), json.loads(data[len("data:"):]), "streamQueueEvents data")
    user = state.customer["headers"]
    assert contract.call("joinQueue", 201, {"event": event}, headers=user).json()["position"] == 2
    contract.call("removeVisitor", 204, {"event": event, "visitor": "u:" + state.customer["id"]}, headers=ADMIN)
    contract.call("removeVisitor", 404, {"event": event, "visitor": "u:" + state.customer["id"]}, headers=ADMIN)
    contract.call("leaveQueue", 204, {"event": event}, headers=visitor)
    contract.call("getQueueStatus", 404, {"event": event}, headers=visitor)
    contract.call("leaveQueue", 404, {"event": event}, headers=visitor)
    contract.call("closeRoom", 200, {"event": event}, headers=ADMIN)
    contract.call("joinQueue", 409, {"event": event})


def test_catalog_bookings_and_payments(api):
    contract, state = api
    organizer = state.dev.admin_headers()
    event = state.prefix + "-sale"
    zone = {"id": "a", "name": "Stalls", "price_minor": 2500, "currency": "EUR", "capacity": 20}
    body = {"id": event, "name": "Contract", "venue": "Loopback", "starts_at": "2031-01-01T20:00:00Z", "max_per_user": 6, "zones": [zone]}
    contract.call("createEvent", 401, json_body=body)
    problem = contract.call("createEvent", 400, headers=organizer, json_body=dict(body, zones=[dict(zone, capacity="many")])).json()
    assert problem["field"] == "zones.0.capacity"
    assert contract.call("createEvent", 201, headers=organizer, json_body=body).headers["Location"] == f"/api/v1/events/{event}"
    contract.call("createEvent", 409, headers=organizer, json_body=body)
    contract.call("getEvent", 404, {"id": event})
    contract.call("changeEvent", 204, {"id": event}, headers=organizer, json_body={"name": "Contract Night"})
    contract.call("publishEvent", 204, {"id": event}, headers=organizer)
    assert contract.call("getEvent", 200, {"id": event}).json()["name"] == "Contract Night"
    assert event in [e["id"] for e in contract.call("listEvents", 200).json()["events"]]
    contract.call("getEventInventory", 403, {"id": event}, headers=state.customer["headers"])
    contract.call("putRoom", 200, {"event": event}, headers=ADMIN, json_body={"mode": "queue", "release_rate": 50})
    state.rooms.append(event)

    user = state.customer["headers"]
    contract.call("joinQueue", 201, {"event": event}, headers=user)
    deadline, place = time.monotonic() + 20, {}
    while time.monotonic() < deadline and place.get("status") != "admitted":
        time.sleep(0.3)
        place = contract.call("getQueueStatus", 200, {"event": event}, headers=user).json()
    assert place["status"] == "admitted", place
    reserve = {"event_id": event, "zone_id": "a", "quantity": 2}
    key = lambda: {"Idempotency-Key": str(uuid.uuid4())}
    contract.call("reserveSeats", 403, headers={**user, **key()}, json_body=reserve)
    contract.call("reserveSeats", 400, headers={**user, "Queue-Pass": place["pass"]}, json_body=reserve)
    first_key = key()
    booking = contract.call("reserveSeats", 201, headers={**user, **first_key, "Queue-Pass": place["pass"]}, json_body=reserve).json()
    assert booking["status"] == "reserved" and booking["total"] == 5000
    replay = contract.call("reserveSeats", 201, headers={**user, **first_key, "Queue-Pass": place["pass"]}, json_body=reserve)
    assert replay.json() == booking and replay.headers["Idempotent-Replayed"] == "true"
    contract.call("reserveSeats", 422, headers={**user, **first_key, "Queue-Pass": place["pass"]}, json_body=dict(reserve, quantity=3))
    assert contract.call("getEventInventory", 200, {"id": event}, headers=organizer).json()["zones"][0]["held"] == 2
    deadline, history = time.monotonic() + 12, {"samples": []}
    while time.monotonic() < deadline and not any(s["zones"]["a"]["held"] == 2 for s in history["samples"]):
        time.sleep(0.5)
        history = contract.call("getEventSalesHistory", 200, {"id": event}, query={"limit": 10}, headers=organizer).json()
    assert history["interval_s"] == 5 and history["samples"][-1]["zones"]["a"] == {"sold": 0, "held": 2}, history
    contract.call("getEventSalesHistory", 403, {"id": event}, headers=user)
    assert contract.call("getBooking", 200, {"id": booking["booking_id"]}, headers=user).json() == booking
    contract.call("getBooking", 404, {"id": event + ":" + str(uuid.uuid4())}, headers=user)
    deadline, page = time.monotonic() + 10, {"bookings": []}
    while time.monotonic() < deadline and not page["bookings"]:
        time.sleep(0.3)
        page = contract.call("listBookings", 200, query={"page": 1, "per_page": 5}, headers=user).json()
    assert [b["booking_id"] for b in page["bookings"]] == [booking["booking_id"]]

    intent = contract.call("createPaymentIntent", 201, headers={**user, **key()}, json_body={"booking_id": booking["booking_id"]}).json()
    assert intent["amount"] == 5000 and intent["status"] == "requires_confirmation"
    assert contract.call("createPaymentIntent", 200, headers={**user, **key()}, json_body={"booking_id": booking["booking_id"]}).json() == intent
    assert contract.call("getPayment", 200, {"id": intent["payment_id"]}, headers=user).json() == intent
    contract.call("getPayment", 404, {"id": "pi_none"}, headers=user)
    paid = contract.call("confirmPaymentIntent", 200, headers={**user, **key()},
                         json_body={"payment_id": intent["payment_id"], "payment_method": "pm_card_visa"}).json()
    assert paid["status"] == "succeeded"
    deadline, confirmed = time.monotonic() + 15, booking
    while time.monotonic() < deadline and confirmed["status"] != "confirmed":
        time.sleep(0.3)
        confirmed = contract.call("getBooking", 200, {"id": booking["booking_id"]}, headers=user).json()
    assert confirmed["status"] == "confirmed" and confirmed["confirmation_code"]

    second = contract.call("reserveSeats", 201, headers={**user, **key(), "Queue-Pass": place["pass"]},
                           json_body=dict(reserve, quantity=1)).json()
    cancelled = contract.call("cancelBooking", 200, {"id": second["booking_id"]}, headers={**user, **key()}).json()
    assert cancelled["status"] == "cancelled"
    contract.call("cancelBooking", 409, {"id": second["booking_id"]}, headers={**user, **key()})
    contract.call("cancelBooking", 409, {"id": booking["booking_id"]}, headers={**user, **key()})
    state.sale = {"event": event, "user": user, "pass": place["pass"], "paid": paid}


def test_service_routes(api):
    contract, state = api
    sale = state.sale
    held = contract.call("reserveSeats", 201, headers={**sale["user"], "Idempotency-Key": str(uuid.uuid4()), "Queue-Pass": sale["pass"]},
                         json_body={"event_id": sale["event"], "zone_id": "a", "quantity": 1}).json()
    contract.call("startBookingPayment", 401, {"id": held["booking_id"]})
    contract.call("startBookingPayment", 403, {"id": held["booking_id"]}, sign=signed_identity("someone", "customer", "booking"))
    extended = contract.call("startBookingPayment", 200, {"id": held["booking_id"]}, sign=signed_identity("payments", "service", "booking")).json()
    assert extended["status"] == "reserved" and extended["expires_at"] >= held["expires_at"]
    contract.call("startBookingPayment", 404, {"id": sale["event"] + ":" + str(uuid.uuid4())}, sign=signed_identity("payments", "service", "booking"))

    paid = sale["paid"]
    contract.call("refundPayment", 403, {"id": paid["payment_id"]}, sign=signed_identity("someone", "customer", "payments"))
    refunded = contract.call("refundPayment", 200, {"id": paid["payment_id"]}, sign=signed_identity("booking", "service", "payments")).json()
    assert refunded["status"] == "refunded"
    contract.call("refundPayment", 404, {"id": "pi_none"}, sign=signed_identity("booking", "service", "payments"))

    event = json.dumps({"id": f"evt_{state.prefix}", "type": "payment_intent.created", "created": int(time.time()), "data": paid}).encode()
    contract.call("receivePaymentEvent", 400, headers={"Content-Type": "application/json", "Booking-Rush-Signature": webhook_signature(event, "wrong-secret")},
                  data=event)
    receipt = contract.call("receivePaymentEvent", 200, headers={"Content-Type": "application/json", "Booking-Rush-Signature": webhook_signature(event)},
                            data=event).json()
    assert receipt["received"] is True
    again = contract.call("receivePaymentEvent", 200, headers={"Content-Type": "application/json", "Booking-Rush-Signature": webhook_signature(event)},
                          data=event).json()
    assert again["outcome"] == "duplicate"


def test_route_table(api):
    """The admin API shows the route table in force and reloads it from its file, as SIGHUP does; a
    file that does not load leaves the table in force; `booking-rush check-routes` says of a file what
    a reload would (the digest the gateway then shows, or why it refuses it). What is in force is seen in real answers: the
    events route pointed at a port nothing listens on answers 502, and 200 again once restored."""
    contract, state = api
    events = state.dev.base + "/api/v1/events"
    original = open(state.routes_path).read()

    def write(text):
        with open(state.routes_path, "w") as file:
            file.write(text)

    contract.call("getRoutes", 401)
    contract.call("reloadRoutes", 401)
    shown = contract.call("getRoutes", 200, headers=ADMIN).json()
    assert shown["source"] == state.routes_path
    assert "bookings-reserve" in [route["name"] for route in shown["table"]["routes"]]
    assert requests.get(events, timeout=10).status_code == 200
    try:
        table = json.loads(original)
        for route in table["routes"]:
            if route["name"] == "events":
                route["upstreams"] = ["http://127.0.0.1:1"]
        write(json.dumps(table))
        reloaded = contract.call("reloadRoutes", 200, headers=ADMIN).json()
        assert reloaded["generation"] == shown["generation"] + 1 and reloaded["digest"] != shown["digest"]
        contract.call("reloadRoutes", 400, query={"scope": "galaxy"}, headers=ADMIN)
        reloaded = contract.call("reloadRoutes", 200, query={"scope": "fleet"}, headers=ADMIN).json()
        assert reloaded["generation"] == shown["generation"] + 2
        assert requests.get(events, timeout=10).status_code == 502

        checked = subprocess.run([binary(), "check-routes", "--routes", state.routes_path], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0 and f"digest {reloaded['digest']}" in checked.stdout, (checked.stdout, checked.stderr)
        write('{"routes": [')
        checked = subprocess.run([binary(), "check-routes", "--routes", state.routes_path], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 65 and "route table not valid" in checked.stderr, (checked.returncode, checked.stderr)
        problem = contract.call("reloadRoutes", 422, headers=ADMIN).json()
        assert problem["type"] == "https://booking-rush.dev/problems/route-table-invalid"
        assert contract.call("getRoutes", 200, headers=ADMIN).json()["generation"] == reloaded["generation"]
        assert requests.get(events, timeout=10).status_code == 502, "the table in force stays"

        write(original)
        state.dev.process.send_signal(signal.SIGHUP)
        deadline, now = time.monotonic() + 10, reloaded
        while time.monotonic() < deadline and now["generation"] == reloaded["generation"]:
            time.sleep(0.1)
            now = contract.call("getRoutes", 200, headers=ADMIN).json()
        assert now["generation"] == reloaded["generation"] + 1 and now["digest"] == shown["digest"], now
        fleet = contract.call("getTraffic", 200, headers=ADMIN).json()
        assert [i["route_table"] for i in fleet["instances"]] == [{"generation": now["generation"], "digest": now["digest"]}], fleet["instances"]
        assert state.dev.process.poll() is None, "SIGHUP reloads, it does not stop the gateway"
        assert requests.get(events, timeout=10).status_code == 200
    finally:
        write(original)
        requests.post(state.dev.base + "/admin/v1/routes/reload", headers=ADMIN, timeout=10)


def test_every_documented_operation_was_driven(api):
    contract, _ = api
    assert contract.uncalled() == []
