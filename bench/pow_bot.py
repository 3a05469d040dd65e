#!/usr/bin/env python3
"""A queue-stuffing bot against one gateway: joins a fresh room as new visitors, solving the
room's proof of work (SHA-256 via hashlib, the cheapest a Python bot can do), and measures what
each join cost the bot (its own CPU) and the gateway (from /proc/PID/stat).

usage: bench/pow_bot.py BASE_URL ADMIN_TOKEN GATEWAY_PID DIFFICULTY [CPU_SECONDS] [MAX_JOINS]

Prints one JSON object: difficulty, joins, refused, bot_cpu_s, hashes, gateway_cpu_us_per_join.
"""
import hashlib
import http.client
import json
import sys
import time
import urllib.parse
import uuid

from proc_stat import cpu_seconds


def solve(challenge: str, difficulty: int) -> tuple[str, int]:
    """The first nonce whose solution hashes to `difficulty` leading zero bits, and the hashes tried."""
    base = hashlib.sha256((challenge + "~").encode())
    shift = 32 - difficulty
    nonce = 0
    while True:
        attempt = base.copy()
        attempt.update(str(nonce).encode())
        if int.from_bytes(attempt.digest()[:4], "big") >> shift == 0:
            return f"{challenge}~{nonce}", nonce + 1
        nonce += 1


def main():
    base, admin_token, pid, difficulty = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cpu_budget = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
    max_joins = int(sys.argv[6]) if len(sys.argv) > 6 else 5000
    url = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port)

    def call(method, path, headers=None, body=None):
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()

    event = f"bench-pow-{difficulty}-{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    room = {"mode": "queue", "release_rate": 0, "max_active": 0, "pass_ttl": 300, "idle_timeout": 3600, "proof_of_work": difficulty}
    status, body = call("PUT", f"/admin/v1/rooms/{event}", admin, json.dumps(room))
    assert status == 200, (status, body)

    joins = refused = hashes = 0
    start_cpu, start_gateway = time.process_time(), cpu_seconds(pid)
    while time.process_time() - start_cpu < cpu_budget and joins < max_joins:
        headers = {}
        if difficulty:
            status, body = call("GET", f"/api/v1/queue/{event}/challenge")
            challenge = json.loads(body)
            solution, tried = solve(challenge["challenge"], challenge["difficulty"])
            hashes += tried
            headers["Queue-Proof"] = solution
        status, body = call("POST", f"/api/v1/queue/{event}/join", headers)
        if status == 201:
            joins += 1
        else:
            refused += 1
    bot_cpu = time.process_time() - start_cpu
    gateway_cpu_us = (cpu_seconds(pid) - start_gateway) * 1e6
    call("DELETE", f"/admin/v1/rooms/{event}", admin)
    print(json.dumps({
        "difficulty": difficulty, "joins": joins, "refused": refused, "bot_cpu_s": round(bot_cpu, 3), "hashes": hashes,
        "gateway_cpu_us_per_join": round(gateway_cpu_us / max(1, joins), 1),
    }))


if __name__ == "__main__":
    main()
