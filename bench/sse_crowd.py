#!/usr/bin/env python3
"""Holds a crowd of Server-Sent Event streams open on one gateway and measures what they cost:
Redis commands and gateway CPU per second with and without them, and how soon each stream shows a change after
the room starts releasing.

usage: bench/sse_crowd.py TICKETS HOST PORT EVENT ADMIN_TOKEN REDIS_PORT GATEWAY_PID HOLD_SECONDS [page|fresh]

TICKETS has "ticket<TAB>place" per visitor (bench/tickets.py). Each stream is opened as a browser opens it: on
the connection that loaded the waiting-room page (`page`, the default), or on a connection of its own (`fresh`).
Prints one JSON object.
"""
import asyncio, json, re, subprocess, sys, time, urllib.request

from proc_stat import cpu_seconds

tickets_file, host, port, event, admin_token, redis_port, gateway_pid, hold = sys.argv[1:9]
port, hold = int(port), float(hold)
via_page = (sys.argv[9] if len(sys.argv) > 9 else "page") == "page"
visitors = [line.rstrip("\n").split("\t") for line in open(tickets_file) if line.strip()]


class Crowd:
    def __init__(self):
        self.connected = 0
        self.failed = 0
        self.released_at = None
        self.first_after_release = {}
        self.events = 0
        self.position = {}        # stream -> its position in the last status before the release
        self.admitted_after = {}  # stream -> seconds from the release to its `admitted` event


def redis_commands():
    info = subprocess.run(["redis-cli", "-p", redis_port, "info", "stats"], capture_output=True, text=True).stdout
    return next(int(line.split(":")[1]) for line in info.splitlines() if line.startswith("total_commands_processed:"))


def rss_kib():
    with open(f"/proc/{gateway_pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def admin(method, path, body):
    request = urllib.request.Request(
        f"http://{host}:{port}/admin/v1/{path}", method=method, data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


async def stream(index, ticket, place, crowd):
    try:
        reader, writer = await asyncio.open_connection(host, port)
        if via_page:
            writer.write(f"GET /waiting-room/{event} HTTP/1.1\r\nHost: {host}\r\nVisitor-Ticket: {ticket}\r\n\r\n".encode())
            await writer.drain()
            page = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", page, re.I)
            if b" 200 " not in page.split(b"\r\n", 1)[0] or not length:
                crowd.failed += 1
                return
            await reader.readexactly(int(length.group(1)))
        writer.write((f"GET /api/v1/queue/{event}/events HTTP/1.1\r\nHost: {host}\r\nVisitor-Ticket: {ticket}\r\n"
                      f"Queue-Place: {place}\r\nAccept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0] or b"chunked" not in head.lower():
            crowd.failed += 1
            return
        crowd.connected += 1
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                break
            chunk = await reader.readexactly(size + 2)
            crowd.events += 1
            if crowd.released_at is None:
                found = POSITION.search(chunk)
                if found:
                    crowd.position[index] = int(found.group(1))
                continue
            since = time.monotonic() - crowd.released_at
            crowd.first_after_release.setdefault(index, since)
            if chunk.startswith(b"event: admitted"):
                crowd.admitted_after[index] = since
    except (OSError, asyncio.IncompleteReadError, ValueError):
        crowd.failed += 1


POSITION = re.compile(rb'"position":(\d+)')
RELEASE_RATE = 100  # per second, set by the PATCH that starts the release


def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000) if values else None


async def main():
    crowd = Crowd()
    idle_before, idle_cpu = redis_commands(), cpu_seconds(gateway_pid)
    await asyncio.sleep(hold)
    idle_rate = (redis_commands() - idle_before) / hold
    idle_cpu = (cpu_seconds(gateway_pid) - idle_cpu) / hold
    started = time.monotonic()
    tasks = []
    for batch in range(0, len(visitors), 500):
        for index, (ticket, place) in enumerate(visitors[batch:batch + 500], start=batch):
            tasks.append(asyncio.create_task(stream(index, ticket, place, crowd)))
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + 120
    while crowd.connected + crowd.failed < len(visitors) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(2)
    held_before, held_cpu = redis_commands(), cpu_seconds(gateway_pid)
    await asyncio.sleep(hold)
    held_rate = (redis_commands() - held_before) / hold
    held_cpu = (cpu_seconds(gateway_pid) - held_cpu) / hold
    rss = rss_kib()
    crowd.released_at = time.monotonic()
    admin("PATCH", f"rooms/{event}", {"mode": "queue", "release_rate": RELEASE_RATE})
    deadline = time.monotonic() + 15
    while len(crowd.first_after_release) < crowd.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    latencies = list(crowd.first_after_release.values())
    # Admissions go on at the release rate: give them 5 s from the release in all.
    await asyncio.sleep(max(0.0, crowd.released_at + 5 - time.monotonic()))
    # How late each admitted stream heard of it: the release reaches position p about (p - 1) / rate
    # seconds after it started (the releaser runs every 100 ms).
    lateness = [after - (crowd.position[i] - 1) / RELEASE_RATE for i, after in crowd.admitted_after.items() if i in crowd.position]
    for task in tasks:
        task.cancel()
    print(json.dumps({
        "streams": len(visitors), "connected": crowd.connected, "failed": crowd.failed,
        "connect_seconds": round(connect_seconds, 1), "gateway_rss_kib": rss,
        "redis_commands_per_s_without": round(idle_rate), "redis_commands_per_s_with": round(held_rate),
        "gateway_cpu_percent_without": round(idle_cpu * 100, 1), "gateway_cpu_percent_with": round(held_cpu * 100, 1),
        "updated": len(latencies), "update_p50_ms": percentile(latencies, 0.5),
        "update_p99_ms": percentile(latencies, 0.99), "update_max_ms": percentile(latencies, 1.0),
        "admitted": len(lateness), "admission_late_p50_ms": percentile(lateness, 0.5),
        "admission_late_p99_ms": percentile(lateness, 0.99), "admission_late_max_ms": percentile(lateness, 1.0),
    }))


asyncio.run(main())
