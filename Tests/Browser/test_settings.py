"""A numeric setting from the environment that is not a number, or not one in its range, stops the
process at start with a message and status 64, before it serves anything: it is not silently replaced
by its default or moved into range (a gateway started with GATEWAY_PORT=80a0 listening on 8080, a hold
of HOLD_SECONDS=10m lasting 600 s, HOLD_SECONDS=5 lasting 30 s)."""
import os
import subprocess

import pytest

from conftest import ADMIN_TOKEN, binary


@pytest.mark.parametrize("command, name, value, message", [
    (["gateway", "--without-accounts"], "GATEWAY_PORT", "80a0", "GATEWAY_PORT must be a whole number from 0 to 65535, not 80a0"),
    (["gateway", "--without-accounts", "--port", "0"], "CONNECTION_IDLE_TIMEOUT_S", "2s", "CONNECTION_IDLE_TIMEOUT_S must be a whole number of seconds from 1 to 3600, not 2s"),
    (["booking", "--port", "0"], "HOLD_SECONDS", "10m", "HOLD_SECONDS must be a whole number of seconds from 30 to 3600, not 10m"),
    (["payments"], "PAYMENTS_PORT", "eighty", "PAYMENTS_PORT must be a whole number from 0 to 65535, not eighty"),
    (["gateway", "--without-accounts"], "GATEWAY_PORT", "80800", "GATEWAY_PORT must be a whole number from 0 to 65535, not 80800"),
    (["gateway", "--without-accounts", "--port", "0"], "CONNECTION_IDLE_TIMEOUT_S", "0", "CONNECTION_IDLE_TIMEOUT_S must be a whole number of seconds from 1 to 3600, not 0"),
    (["gateway", "--port", "0"], "BCRYPT_COST", "4", "BCRYPT_COST must be a whole number from 10 to 16, not 4"),
    (["booking", "--port", "0"], "HOLD_SECONDS", "5", "HOLD_SECONDS must be a whole number of seconds from 30 to 3600, not 5"),
    (["gateway", "--without-accounts", "--port", "0"], "GATEWAY_MAX_CONNECTIONS", "99999999", "GATEWAY_MAX_CONNECTIONS must be a whole number from 1 to "),
    (["booking", "--port", "0"], "PAYMENT_GRACE_SECONDS", "86400", "PAYMENT_GRACE_SECONDS must be a whole number of seconds from 60 to 3600, not 86400"),
])
def test_a_setting_that_is_not_a_number_in_its_range_stops_the_start_with_a_message(command, name, value, message):
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, **{name: value})
    run = subprocess.run([binary(), *command], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 64, f"{name}={value}: {run.returncode} {run.stderr[-500:]}"
    assert message in run.stderr, run.stderr[-500:]


@pytest.mark.parametrize("command, message", [
    (["gateway", "--without-accounts", "--port", "80800"], "--port must be a port number from 0 to 65535, not 80800"),
    (["booking", "--port", "70000"], "--port must be a port number from 0 to 65535, not 70000"),
    (["dev", "--payments-port=-5"], "--payments-port must be a port number from 0 to 65535, not -5"),
])
def test_a_port_option_out_of_range_stops_the_start_instead_of_wrapping(command, message):
    """A port past 65535 is not taken modulo 65536 by the socket (--port 80800 listening on 15264)."""
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN)
    run = subprocess.run([binary(), *command], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 64, f"{command}: {run.returncode} {run.stderr[-500:]}"
    assert message in run.stderr, run.stderr[-500:]


@pytest.mark.parametrize("command, name, value", [
    (["booking", "--port", "0"], "PAYMENTS_URL", "localhost:8082"),
    (["payments", "--port", "0"], "BOOKING_URL", "ftp://booking:8081"),
    (["payments", "--port", "0"], "PAYMENTS_WEBHOOK_URL", "http://booking:8081/webhooks?x=1"),
    (["booking", "--port", "0"], "PAYMENTS_URL", "http://payments:80820"),
    (["gateway", "--without-accounts", "--port", "0"], "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
    (["payments", "--port", "0"], "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "grpc://collector:4317"),
])
def test_a_service_url_that_is_not_one_stops_the_start(command, name, value):
    """A service URL without http(s):// and a host would fail every call to that service later (each
    refund, each webhook) instead of once, at start; a trace collector's would lose every span
    without a word."""
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, **{name: value})
    run = subprocess.run([binary(), *command], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 64, f"{name}={value}: {run.returncode} {run.stderr[-500:]}"
    assert f"{name} must be an http:// or https:// URL with a host" in run.stderr, run.stderr[-500:]


@pytest.mark.parametrize("name, value, message", [
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL may name http/protobuf or http/json in this build, not 'grpc'"),
    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/xml", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL may name http/protobuf or http/json in this build, not 'http/xml'"),
    ("OTEL_PROPAGATORS", "tracecontext, baggage", "OTEL_PROPAGATORS may name tracecontext or none in this build, not 'baggage'"),
    ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER may name otlp or none in this build, not 'zipkin'"),
])
def test_a_trace_component_this_build_has_not_stops_the_start(name, value, message):
    """The trace exporter library ends the process (SIGILL) when asked for OTLP over gRPC or a
    propagator it lacks, and fails with "Not implemented" for another exporter."""
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318", **{name: value})
    run = subprocess.run([binary(), "gateway", "--without-accounts", "--port", "0"], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 64, f"{name}={value}: {run.returncode} {run.stderr[-500:]}"
    assert message in run.stderr, run.stderr[-500:]


@pytest.mark.parametrize("command", [["gateway", "--without-accounts", "--port", "0"], ["booking", "--port", "0"], ["migrate"]])
def test_a_log_format_that_is_neither_json_nor_text_stops_the_start(command):
    """LOG_FORMAT=txt would otherwise log JSON lines to a collector set up for text."""
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, LOG_FORMAT="txt")
    run = subprocess.run([binary(), *command], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 64, f"{command}: {run.returncode} {run.stderr[-500:]}"
    assert "LOG_FORMAT is json or text, not txt" in run.stderr, run.stderr[-500:]


@pytest.mark.parametrize("name, value, message", [
    ("RATE_LIMIT_IPV6_PREFIX", "16", "RATE_LIMIT_IPV6_PREFIX must be a prefix length from 32 to 128, not 16"),
    ("ADAPTIVE_WINDOW_SECONDS", "60", "ADAPTIVE_WINDOW_SECONDS must be 1-30"),
    ("SECURE_COOKIES", "yes", "SECURE_COOKIES is on or off, not 'yes'"),
])
def test_a_gateway_setting_it_cannot_start_with_stops_it_with_status_64(name, value, message):
    environment = dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, **{name: value})
    run = subprocess.run([binary(), "gateway", "--without-accounts", "--port", "0"], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 64, f"{name}={value}: {run.returncode} {run.stderr[-500:]}"
    assert message in run.stderr, run.stderr[-500:]
