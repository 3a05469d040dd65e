#!/usr/bin/env bash
# Connections whose clients leave: does the gateway give back what they held? In rounds, COUNT
# visitors each load the waiting-room page and open its event stream on that connection (as a
# browser does), then all close; and COUNT clients each send a proxied request that an upstream
# answers after 1 s, closing after 0.2 s. Prints the gateway's RSS after every round: memory left
# behind by each connection shows as RSS growing round after round (the ticket cache, bounded at
# 100,000 visitors, grows by the new visitors of each round).
#
#   bench/connection-churn.sh [count] [rounds]
#   GATEWAY_BIN=/path/to/booking-rush bench/connection-churn.sh   # another build
#
# Prints a table and writes bench/results/connection-churn.md.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3000}
rounds=${2:-4}
ulimit -n "$(ulimit -Hn)"
source bench/lib.sh
work=$(mktemp -d)
upstream_port=${BENCH_UPSTREAM_PORT:-18099}
python3 - "$upstream_port" <<'PY' &
import asyncio, sys
async def answer(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(1.0)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except Exception:
        writer.close()
async def main():
    server = await asyncio.start_server(answer, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
upstream=$!
cat >"$work/routes.json" <<ROUTES
{ "routes": [ { "name": "plain", "prefix": "/plain", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "none" } ] }
ROUTES
room=bench-churn-$(date +%s)
gateway=
trap 'kill $gateway $upstream 2>/dev/null; wait $gateway 2>/dev/null; rm -rf "$work"' EXIT
# Each part on a gateway of its own, so that neither reuses memory the other freed.
GATEWAY_ROUTES=$work/routes.json start_gateway
wait_healthy "$port"
admin PUT "rooms/$room" '{"mode":"paused","release_rate":0,"max_active":0,"pass_ttl":300,"idle_timeout":3600}'
streams=$(python3 bench/connection_churn.py streams 127.0.0.1 "$port" "$gateway" "$count" "$rounds" "$room")
admin DELETE "rooms/$room"
kill "$gateway"; wait "$gateway" 2>/dev/null || true
GATEWAY_ROUTES=$work/routes.json start_gateway
wait_healthy "$port"
aborts=$(python3 bench/connection_churn.py aborts 127.0.0.1 "$port" "$gateway" "$count" "$rounds")

mkdir -p bench/results
python3 - "$streams" "$aborts" "$count" "$rounds" <<'PY' | tee bench/results/connection-churn.md
import json, subprocess, sys, time
streams, aborts, count, rounds = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("# Connections whose clients leave: gateway RSS round after round\n")
print(f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; the gateway (release build), Redis, a Python client and upstream.\n")
print(f"Each round: {count:,} connections, then all closed and 3 s of rest; RSS in KiB.\n")
print("| round | page + event stream, closed | proxied request, client gone before the answer |")
print("|---|---:|---:|")
print(f"| before the first | {streams['start']:,} | {aborts['start']:,} |")
for index in range(rounds):
    print(f"| {index + 1} | {streams['rounds'][index]:,} | {aborts['rounds'][index]:,} |")
def per_connection(run):
    grown = run["rounds"][-1] - run["rounds"][0]
    return grown * 1024 / max(1, count * (rounds - 1))
print(f"| growth per connection after the first round | {per_connection(streams):,.0f} B | {per_connection(aborts):,.0f} B |")
print()
print("Each column is a gateway of its own. The first round grows the heap to what a round")
print(f"needs; a gateway that frees what a gone client held stays flat after it, but for the visitor-ticket cache (new")
print(f"visitors every round; bounded at 100,000).")
print()
print(f"Reproduce: `bench/connection-churn.sh {count} {rounds}`")
PY
