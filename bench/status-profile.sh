#!/usr/bin/env bash
# Profiles the gateway answering waiting-room status polls: 10,000 joined visitors poll at random
# with their place tokens (answered from the room snapshot) under wrk while `perf record -g` samples
# the gateway; writes the top of `perf report --no-children` to bench/results/status-profile-LABEL.txt.
#
#   bench/status-profile.sh LABEL [seconds] [connections]
#   NO_PLACE=1 bench/status-profile.sh LABEL   # polls by ticket alone (no place token: queue_status.lua per poll)
#   GATEWAY_BIN=/path/to/booking-rush bench/status-profile.sh LABEL   # another build
#   PERF_DATA=/tmp/status.perf bench/status-profile.sh LABEL   # keep the perf data for perf report
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:?label}
seconds=${2:-10}
connections=${3:-64}
source bench/lib.sh
start_gateway
work=$(mktemp -d)
trap 'kill $gateway 2>/dev/null; wait $gateway 2>/dev/null; rm -rf "$work"' EXIT
wait_healthy "$port"
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null

room=bench-profile-$(date +%s)
admin PUT "rooms/$room" '{"mode":"paused","release_rate":0,"max_active":0,"pass_ttl":300,"idle_timeout":3600}'
bench/tickets.py "$VISITOR_TICKET_SECRET" 10000 "http://127.0.0.1:$port/api/v1/queue/$room/join" | if [ -n "${NO_PLACE:-}" ]; then cut -f1; else cat; fi >"$work/tickets"
perf record -g -o "$work/perf.data" -p "$gateway" -- sleep "$seconds" >/dev/null 2>&1 &
recorder=$!
ticks=$(cpu_ticks "$gateway")
out=$(TICKETS=$work/tickets wrk_run -s bench/wrk/status.lua "http://127.0.0.1:$port/api/v1/queue/$room/status")
used=$(( $(cpu_ticks "$gateway") - ticks ))
wait "$recorder" || true
admin DELETE "rooms/$room"
[ -n "${PERF_DATA:-}" ] && cp "$work/perf.data" "$PERF_DATA"
mkdir -p bench/results
{
  echo "# gateway status polls ($([ -n "${NO_PLACE:-}" ] && echo "ticket alone, queue_status.lua" || echo "place tokens, room snapshot")): $(rate "$out") req/s, $(cpu_us "$used" "$(requests "$out")") µs CPU per request, p99 $(pct "$out" 99%) ms"
  echo "# $(date -u +%Y-%m-%dT%H:%MZ), wrk -t2 -c$connections -d${seconds}s, release build; perf report --no-children, top entries"
  perf report -i "$work/perf.data" --no-children --stdio --percent-limit 0.5 -g none --sort dso,symbol 2>/dev/null | grep -v '^#' | grep -v '^$' | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//' | head -45
} | tee "bench/results/status-profile-$label.txt"
