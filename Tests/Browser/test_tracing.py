"""OpenTelemetry traces across gateway → payments → booking: `booking-rush dev` exports OTLP over
HTTP (JSON here) to a collector in this test, enabled by the standard OTEL_* variables, and the
W3C trace context ties the services' server spans into one trace."""
import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import start_dev, stop
from test_faults import call

SPANS = []


def hex_id(value: str) -> str:
    """OTLP/JSON ids as hex, whether the exporter wrote hex or (protobuf JSON mapping) base64."""
    if len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    return base64.b64decode(value).hex()


class Collector(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            for resource in json.loads(body).get("resourceSpans", []):
                for scope in resource.get("scopeSpans", []):
                    SPANS.extend(scope.get("spans", []))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_one_trace_spans_gateway_payments_and_booking(tmp_path):
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    dev = start_dev(tmp_path, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_SERVICE_NAME": "booking-rush-trace-test"}, open_routes=True)
    system, base = dev.process, dev.base
    try:
        headers = dev.admin_headers()
        event = dev.published_event(headers, "trace", 5, max_per_user=4)
        status, booking, _ = call(f"{base}/api/v1/bookings/reserve", "POST", {"event_id": event, "zone_id": "a", "quantity": 1},
                                  dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}))
        assert status == 201
        trace_id = "4bf92f3577b34da6a3ce929d0e0e" + uuid.uuid4().hex[:4]
        status, intent, _ = call(f"{base}/api/v1/payments/intent", "POST", {"booking_id": booking["booking_id"]},
                                 dict(headers, **{"Idempotency-Key": uuid.uuid4().hex, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}))
        assert status == 201, intent

        deadline = time.monotonic() + 15
        while True:
            trace = [span for span in SPANS if hex_id(span.get("traceId", "")) == trace_id]
            servers = [span for span in trace if span.get("kind") in (2, "SPAN_KIND_SERVER")]
            clients = [span for span in trace if span.get("kind") in (3, "SPAN_KIND_CLIENT")]
            if len(servers) >= 3 and len(clients) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        names = sorted(span.get("name") for span in trace)
        assert len(servers) >= 3, f"gateway, payments and booking each served a span of the caller's trace: {names}"
        assert len(clients) >= 2, f"the gateway's call to payments and payments' call to booking are client spans: {names}"
        by_id = {hex_id(span["spanId"]): span for span in trace}
        root_children = [span for span in servers if span.get("parentSpanId") and hex_id(span["parentSpanId"]) == "00f067aa0ba902b7"]
        assert root_children, "the gateway's server span continues the caller's traceparent"
        for span in servers:
            if span not in root_children:
                parent = by_id.get(hex_id(span.get("parentSpanId") or ""))
                assert parent is not None and parent.get("kind") in (3, "SPAN_KIND_CLIENT"), f"{span.get('name')} is the child of a client span"
    finally:
        stop(system)
        collector.shutdown()
