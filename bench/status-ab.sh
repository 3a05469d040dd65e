#!/usr/bin/env bash
# Status polls from the room snapshot, two saved release builds alternating in one session:
#   bench/status-ab.sh BEFORE_BIN AFTER_BIN [rounds=3] [seconds=10] [connections=64]
# Each run: a gateway of that build alone, a paused room, 10,000 joined visitors polling at random
# with ticket + place token (wrk, bench/wrk/status.lua); prints req/s and the gateway's CPU µs per
# poll (/proc/PID/stat over the run) and appends them to bench/results/status-ab.txt.
# NO_PLACE=1: the visitors poll with their ticket alone (no place token: queue_status.lua per poll).
# JOIN=1: joins instead of polls, every request a new visitor (bench/wrk/join.lua, as in
# bench/waiting-room.sh); the figures are per join.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1; after=$2; rounds=${3:-3}; seconds=${4:-10}; connections=${5:-64}
source bench/lib.sh
out_file=bench/results/status-ab.txt
polls=$([ -n "${NO_PLACE:-}" ] && echo "polls by ticket alone (no place token)" || echo "polls by ticket + place token")
[ -n "${JOIN:-}" ] && polls="joins of new visitors"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) before=$before after=$after wrk -t2 -c$connections -d${seconds}s, $polls" | tee -a "$out_file"

one_run() {
  GATEWAY_BIN=$1 start_gateway
  wait_healthy "$port"
  local room=status-ab-$(date +%s%N) tickets out ticks
  admin PUT "rooms/$room" '{"mode":"paused","release_rate":0,"max_active":0,"pass_ttl":300,"idle_timeout":3600}'
  if [ -n "${JOIN:-}" ]; then
    wrk -t2 -c"$connections" -d3s -s bench/wrk/join.lua "http://127.0.0.1:$port/api/v1/queue/$room/join" >/dev/null
    ticks=$(cpu_ticks "$gateway")
    out=$(wrk_run -s bench/wrk/join.lua "http://127.0.0.1:$port/api/v1/queue/$room/join")
    echo "$2 $(rate "$out") req/s, $(cpu_us $(( $(cpu_ticks "$gateway") - ticks )) "$(requests "$out")") us/join $(errors "$out")" | tee -a "$out_file"
    admin DELETE "rooms/$room" || true
    kill "$gateway"; wait "$gateway" 2>/dev/null || true
    return
  fi
  tickets=$(mktemp)
  bench/tickets.py "$VISITOR_TICKET_SECRET" 10000 "http://127.0.0.1:$port/api/v1/queue/$room/join" | if [ -n "${NO_PLACE:-}" ]; then cut -f1; else cat; fi >"$tickets"
  TICKETS=$tickets wrk -t2 -c"$connections" -d3s -s bench/wrk/status.lua "http://127.0.0.1:$port/api/v1/queue/$room/status" >/dev/null
  ticks=$(cpu_ticks "$gateway")
  out=$(TICKETS=$tickets wrk_run -s bench/wrk/status.lua "http://127.0.0.1:$port/api/v1/queue/$room/status")
  echo "$2 $(rate "$out") req/s, $(cpu_us $(( $(cpu_ticks "$gateway") - ticks )) "$(requests "$out")") us/poll $(errors "$out")" | tee -a "$out_file"
  admin DELETE "rooms/$room" || true
  rm -f "$tickets"
  kill "$gateway"; wait "$gateway" 2>/dev/null || true
}

for _ in $(seq 1 "$rounds"); do
  one_run "$before" before
  one_run "$after" after
done
