"""Admission integrity against requests the gateway and the booking service could read two ways, on
the whole system (gateway, booking service, Redis, Postgres): while an event's room queues,
`POST /api/v1/bookings//reserve` (which the booking service's router serves as the reserve handler)
needs a queue pass exactly as `/api/v1/bookings/reserve` does, and a body naming `event_id` twice
(the booking service reads the first, most parsers the last) is refused; no seat is held."""
import http.client
import json
import urllib.error
import urllib.request
import uuid


def status_of(system, method: str, path: str, body, headers) -> tuple:
    """(status, JSON answer) of a request whose body is `body` as JSON, or as it is when bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(system.base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def customer(system, prefix: str) -> dict:
    """The request fields of a newly registered customer: access token and JSON body."""
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    system.request_when_free("POST", "/api/v1/auth/register", {"email": email, "password": f"{prefix}-password"}, {"Content-Type": "application/json"})
    return {"Authorization": f"Bearer {system.login(email, f'{prefix}-password')}", "Content-Type": "application/json"}


def no_seat_held(system, event: str):
    """Checks that zone `a` of `event` still has its 5 seats; the event's room is deleted either way."""
    try:
        _, zones = system.request("GET", f"/api/v1/events/{event}")
        zone = next(z for z in zones["zones"] if z["id"] == "a")
        assert zone["available"] == 5, f"no seat was held without a pass: {zone}"
    finally:
        system.admin("DELETE", f"/rooms/{event}")


def test_a_reservation_spelt_another_way_still_needs_the_queue_pass(system):
    event = system.event([{"id": "a", "name": "A", "price_minor": 1000, "currency": "EUR", "capacity": 5}])
    headers = customer(system, "paths")
    body = {"event_id": event, "zone_id": "a", "quantity": 1}
    for path in ["/api/v1/bookings/reserve", "/api/v1/bookings//reserve", "/api/v1/bookings///reserve", "/api/v1/bookings/./reserve",
                 "/api/v1/bookings/x/../reserve", "/api/v1/bookings/%72eserve"]:
        status, problem = status_of(system, "POST", path, body, dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))
        assert status == 403, f"{path}: {status} {problem}"
        assert problem["type"].endswith("/queue-pass-required"), f"{path}: {problem}"
    no_seat_held(system, event)


def test_a_body_naming_the_event_twice_is_refused(system):
    event = system.event([{"id": "a", "name": "A", "price_minor": 1000, "currency": "EUR", "capacity": 5}])
    headers = customer(system, "twice")
    room_less = "no-room-" + uuid.uuid4().hex[:6]
    for raw in [f'{{"event_id":"{event}","zone_id":"a","quantity":1,"event_id":"{room_less}"}}',
                f'{{"event_id":"{event}","zone_id":"a","quantity":1,"event\\u005fid":"{room_less}"}}']:
        status, problem = status_of(system, "POST", "/api/v1/bookings/reserve", raw.encode(), dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))
        assert status == 400, f"{raw}: {status} {problem}"
        assert problem["type"].endswith("/invalid-body") and problem["field"] == "event_id", problem
    no_seat_held(system, event)


def raw_status_of(system, method: str, target: str, body: dict, headers: dict) -> tuple:
    """(status, JSON answer) of a request sent with `target` exactly as given (urllib would cut a
    fragment off before sending)."""
    host, port = system.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, target, body=json.dumps(body).encode(), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_a_target_with_a_fragment_is_refused_before_routing(system):
    event = system.event([{"id": "a", "name": "A", "price_minor": 1000, "currency": "EUR", "capacity": 5}])
    headers = customer(system, "fragment")
    body = {"event_id": event, "zone_id": "a", "quantity": 1}
    for target in ["/api/v1/bookings/reserve#x", "/api/v1/bookings/reserve#", "/api/v1/bookings/reserve?#x"]:
        status, problem = raw_status_of(system, "POST", target, body, dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))
        assert status == 400, f"{target}: {status} {problem}"
        assert problem["type"].endswith("/malformed-request"), f"{target}: {problem}"
    no_seat_held(system, event)
