#!/usr/bin/env python3
"""PINGs Redis every 10 ms on its own connection for SECONDS and prints one JSON object: pings,
the worst and the 99th-percentile round trip (ms), how many took over 20 ms, and any error replies
(a BUSY reply would show here).

usage: bench/redis_probe.py REDIS_PORT SECONDS
"""
import json
import socket
import sys
import time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
connection = socket.create_connection(("127.0.0.1", port))
connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
round_trips, errors = [], []
deadline = time.monotonic() + seconds
next_ping = time.monotonic()
while time.monotonic() < deadline:
    started = time.perf_counter()
    connection.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += connection.recv(256)
    round_trips.append((time.perf_counter() - started) * 1000)
    if not reply.startswith(b"+PONG"):
        errors.append(reply.decode(errors="replace").strip())
    next_ping += 0.010
    time.sleep(max(0.0, next_ping - time.monotonic()))
round_trips.sort()
print(json.dumps({
    "pings": len(round_trips),
    "worst_ms": round(round_trips[-1], 2) if round_trips else None,
    "p99_ms": round(round_trips[int(len(round_trips) * 0.99) - 1], 2) if round_trips else None,
    "over_20ms": sum(1 for rt in round_trips if rt > 20),
    "errors": errors[:5],
}))
