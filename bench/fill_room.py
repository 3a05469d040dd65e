#!/usr/bin/env python3
"""Fills an event's waiting room with COUNT visitors straight through queue_join.lua (redis-cli
--pipe), as if they had joined through the gateway, and prints signed visitor tickets for SAMPLE
of them spread evenly over the queue (v1.<id>.<HMAC-SHA256>, the gateway's format), each with the
place token the gateway would have given it in a fresh room without a pre-queue ("ticket<TAB>place").

usage: bench/fill_room.py REDIS_PORT EVENT SCRIPT_SHA COUNT SECRET SAMPLE
"""
import base64, hashlib, hmac, subprocess, sys

port, event, sha, count, secret, sample = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].encode(), int(sys.argv[6])
keys = [f"bk:{{evt:{event}}}:{name}" for name in ("room", "seq", "waiting", "seen", "prequeue", "visitors", "active", "stats", "pow:-")]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def visitor_id(index: int) -> str:
    return b64url(hashlib.sha256(f"{event}:{index}".encode()).digest()[:16])


def resp(*parts: str) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


pipe = subprocess.Popen(["redis-cli", "-p", port, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
batch = []
for index in range(count):
    batch.append(resp("EVALSHA", sha, "9", *keys, "t:" + visitor_id(index), "", "0"))
    if len(batch) == 10_000:
        pipe.stdin.write(b"".join(batch))
        batch = []
pipe.stdin.write(b"".join(batch))
pipe.stdin.close()
if pipe.wait() != 0:
    sys.exit("redis-cli --pipe failed")

step = max(1, count // sample)
for index in range(0, count, step)[:sample]:
    payload = "v1." + visitor_id(index)
    ticket = payload + "." + b64url(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    place = f"w{index + 1}"
    mac = hmac.new(secret, f"q1:{event}:t:{visitor_id(index)}:{place}".encode(), hashlib.sha256).digest()[:16]
    print(f"{ticket}\tq1.{place}.{b64url(mac)}")
