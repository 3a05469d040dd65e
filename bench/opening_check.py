#!/usr/bin/env python3
"""Checks an opened pre-queue filled by bench/fill_room.py: the seed the gateway revealed matches
the commitment it published before opening, every queued visitor's score is their draw, and the
visitors admitted so far are, in admission order, the head of the order recomputed from the seed,
and the next 1,000 in line follow it. The room must be paused first, so nobody moves meanwhile.

usage: bench/opening_check.py REDIS_PORT EVENT COUNT COMMITMENT DRAW_JSON

Prints one JSON object: commitment_ok, admitted, admitted_in_draw_order, scores_checked, scores_ok, next_in_line_ok.
"""
import base64
import hashlib
import json
import subprocess
import sys

port, event, count, commitment, draw = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
key = lambda name: f"bk:{{evt:{event}}}:{name}"


def redis(*args: str) -> list[str]:
    return subprocess.run(["redis-cli", "-p", port, *args], capture_output=True, text=True, check=True).stdout.splitlines()


def visitor_id(index: int) -> str:
    return "t:" + base64.urlsafe_b64encode(hashlib.sha256(f"{event}:{index}".encode()).digest()[:16]).decode().rstrip("=")


seed = draw["seed"]
drawn = lambda visitor: int(hashlib.sha1(f"{seed}:{visitor}".encode()).hexdigest()[:13], 16)
order = sorted((drawn(v), v) for v in (visitor_id(i) for i in range(count)))

admitted = redis("zrange", key("active"), "0", "-1")
states = redis("hmget", key("visitors"), *admitted) if admitted else []
numbers = sorted((int(state.split(":")[2]), visitor) for state, visitor in zip(states, admitted))
in_order = [visitor for _, visitor in numbers] == [visitor for _, visitor in order[:len(numbers)]]

head = redis("zrange", key("prequeue"), "0", "999", "withscores")
pairs = list(zip(head[0::2], head[1::2]))
scores_ok = all(int(float(score)) == drawn(visitor) for visitor, score in pairs)
next_in_line = [visitor for visitor, _ in pairs] == [visitor for _, visitor in order[len(numbers):len(numbers) + len(pairs)]]
print(json.dumps({
    "commitment_ok": hashlib.sha256(seed.encode()).hexdigest() == commitment,
    "admitted": len(numbers), "admitted_in_draw_order": in_order,
    "scores_checked": len(pairs), "scores_ok": scores_ok, "next_in_line_ok": next_in_line,
}))
