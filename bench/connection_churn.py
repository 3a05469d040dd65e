#!/usr/bin/env python3
"""Opens and drops connections on one gateway in rounds and prints its RSS after each round: memory a
connection leaves behind once its client has gone shows as RSS growing round after round.

usage: bench/connection_churn.py streams|aborts HOST PORT GATEWAY_PID COUNT ROUNDS [EVENT]

streams: each connection loads the waiting-room page of EVENT, opens its event stream on the same
         connection (as a browser does), waits for the first event; then all are closed.
aborts:  each connection sends GET /plain/x (an upstream that answers after 1 s) and closes after 0.2 s,
         before its answer.
Prints one JSON object: {"start": KiB, "rounds": [KiB after each round]}.
"""
import asyncio, json, re, sys

mode, host, port, pid, count, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
event = sys.argv[7] if len(sys.argv) > 7 else ""


def rss_kib():
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


async def stream(held):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /waiting-room/{event} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    await reader.readexactly(int(re.search(r"content-length: *(\d+)", head, re.I).group(1)))
    cookies = "; ".join(re.findall(r"set-cookie: ([^;]+);", head, re.I))
    writer.write(f"GET /api/v1/queue/{event}/events HTTP/1.1\r\nHost: {host}\r\nCookie: {cookies}\r\n\r\n".encode())
    await writer.drain()
    await reader.readuntil(b"event: status")
    held.append(writer)


async def abort(held):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /plain/x HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()


async def main():
    start, after = rss_kib(), []
    for _ in range(rounds):
        held = []
        for first in range(0, count, 100):
            await asyncio.gather(*(stream(held) if mode == "streams" else abort(held) for _ in range(min(100, count - first))))
        for writer in held:
            writer.close()
        await asyncio.sleep(3)
        after.append(rss_kib())
    print(json.dumps({"start": start, "rounds": after}))


asyncio.run(main())
