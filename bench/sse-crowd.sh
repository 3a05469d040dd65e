#!/usr/bin/env bash
# A crowd of Server-Sent Event streams on one gateway: N visitors wait in a paused room, each
# holding GET /api/v1/queue/{event}/events open; measures the gateway's RSS, Redis commands per
# second with and without the crowd (it should not grow with the crowd: the streams are fed from
# the room snapshot), and how soon each stream shows a change once the room starts releasing.
#
#   bench/sse-crowd.sh [streams] [hold seconds]
#   SSE_CONNECTIONS=fresh bench/sse-crowd.sh   # each stream on a connection of its own, not the page's
#
# Prints a table and writes bench/results/sse-crowd.md.
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-20000}
hold=${2:-10}
seconds=$hold connections=1
# Every stream is a file descriptor in the gateway and one in the client, two processes each under
# the open-files limit: all but a few of each one's descriptors can be streams. The gateway is told
# how many connections it may hold (GATEWAY_MAX_CONNECTIONS): by default it keeps an eighth of its
# descriptors for upstream connections, which a gateway serving only the waiting room never opens.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
export GATEWAY_MAX_CONNECTIONS=$(( $(ulimit -n) - 64 ))
fits=$(( $(ulimit -n) - 100 ))
if [ "$streams" -gt "$fits" ]; then
  echo "only $fits streams fit under this machine's open-files limit ($(ulimit -n)); measuring $fits" >&2
  streams=$fits
fi
source bench/lib.sh
start_gateway
work=$(mktemp -d)
trap 'kill $gateway 2>/dev/null; wait $gateway 2>/dev/null; rm -rf "$work"' EXIT
wait_healthy "$port"

room=bench-sse-$(date +%s)
admin PUT "rooms/$room" '{"mode":"paused","release_rate":0,"max_active":0,"pass_ttl":300,"idle_timeout":3600}'
bench/tickets.py "$VISITOR_TICKET_SECRET" "$streams" "http://127.0.0.1:$port/api/v1/queue/$room/join" >"$work/tickets"
stream_connections=${SSE_CONNECTIONS:-page}
result=$(python3 bench/sse_crowd.py "$work/tickets" 127.0.0.1 "$port" "$room" "$ADMIN_TOKEN" "$redis_port" "$gateway" "$hold" "$stream_connections")
admin DELETE "rooms/$room"

mkdir -p bench/results
python3 - "$result" "$streams" "$hold" "$(ulimit -n)" "$stream_connections" <<'PY' | tee bench/results/sse-crowd.md
import json, subprocess, sys, time
r, streams, hold, files, connections = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
print("# Server-Sent Event streams held on one gateway\n")
print(f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores shared by the client (Python asyncio), the gateway (release build) and Redis.\n")
print("| figure | value |")
print("|---|---:|")
print(f"| streams opened / answered 200 / failed | {r['streams']:,} / {r['connected']:,} / {r['failed']:,} |")
print(f"| time to open them all | {r['connect_seconds']} s |")
print(f"| gateway RSS with them open | {r['gateway_rss_kib']:,} KiB ({r['gateway_rss_kib'] * 1024 / max(1, r['connected']):,.0f} B per stream, the gateway's own baseline included) |")
print(f"| Redis commands/s over {hold} s, no streams | {r['redis_commands_per_s_without']:,} |")
print(f"| Redis commands/s over {hold} s, every stream open | {r['redis_commands_per_s_with']:,} |")
if "gateway_cpu_percent_with" in r:
    print(f"| gateway CPU over {hold} s (% of one core), no streams / every stream open and waiting | {r['gateway_cpu_percent_without']} / {r['gateway_cpu_percent_with']} |")
print(f"| streams that showed a change within 15 s of the room starting to release | {r['updated']:,} |")
print(f"| time to that change: p50 / p99 / max | {r['update_p50_ms']} / {r['update_p99_ms']} / {r['update_max_ms']} ms |")
if "admitted" in r:
    print(f"| streams admitted within 5 s of the release | {r['admitted']:,} |")
    print(f"| how late each heard of it (its `admitted` event after (position - 1) / rate): p50 / p99 / max | {r['admission_late_p50_ms']} / {r['admission_late_p99_ms']} / {r['admission_late_max_ms']} ms |")
print()
if connections == "page":
    print("Each stream is opened as a browser opens it: on the keep-alive connection that has just loaded the waiting-room")
    print("page (`GET /waiting-room/{event}`, which finds the visitor already in line).")
else:
    print("Each stream is opened on a connection of its own (`SSE_CONNECTIONS=fresh`).")
print("The room is paused while the streams open and are held, then switched to `queue` at 100/s (PATCH): every")
print("stream's position changes. Redis commands/s include the releaser's and the snapshot reads. The visitor at")
print("position p is released about (p - 1) / 100 s after the PATCH (the releaser runs every 100 ms); how late their")
print("stream's `admitted` event comes after that is the time the gateway took to tell them.")
print(f"Open files per process here: {files:,} (the hard limit, which this machine does not let a script raise); the")
print(f"gateway was told to hold at most {files - 64:,} client connections (GATEWAY_MAX_CONNECTIONS) and the client opens at most")
print(f"{files - 100:,} streams, so a larger crowd needs a higher limit.")
print()
print(f"Reproduce: `bench/sse-crowd.sh {streams} {hold}`")
PY
