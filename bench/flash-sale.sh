#!/usr/bin/env bash
# Every flash-sale scenario end to end through `booking-rush dev` (release build): throughput,
# latency per step, sold vs capacity, fairness. One run on this machine; rush-load runs beside.
#
#   bench/flash-sale.sh [scenario...]     (default: all)
#
# Prints a table and writes bench/results/flash-sale.md (JSON per scenario under bench/results/).
# The scenarios' events, rooms and bookings are removed when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=0 connections=0
source bench/lib.sh
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(smoke ramp-up sustained spike sold-out last-seat idempotent-retries abandonment)
gateway_port=18080; booking_port=18081; payments_port=18082
export ADMIN_TOKEN=bench-admin-token-0123456789 BCRYPT_COST=10 LOG_FORMAT=text
work=$(mktemp -d)

# The dev routes, without the per-address limits (every simulated visitor comes from 127.0.0.1).
cat >"$work/routes.json" <<ROUTES
{
  "routes": [
    { "name": "events", "prefix": "/api/v1/events", "upstreams": ["http://127.0.0.1:$booking_port"], "service": "booking", "auth": "optional" },
    { "name": "bookings", "prefix": "/api/v1/bookings", "upstreams": ["http://127.0.0.1:$booking_port"], "service": "booking", "timeout_ms": 5000,
      "auth": "required", "idempotency": "required",
      "rate_limits": [{ "name": "per-user", "key": "user", "limit": 5, "period_s": 1, "burst": 10 }],
      "queue_pass": { "event_from": "body:event_id" } },
    { "name": "payments", "prefix": "/api/v1/payments", "upstreams": ["http://127.0.0.1:$payments_port"], "service": "payments", "auth": "required",
      "idempotency": "required", "rate_limits": [{ "name": "per-user", "key": "user", "limit": 5, "period_s": 1 }] }
  ]
}
ROUTES

scripts/release-build --product booking-rush >/dev/null
scripts/release-build --product rush-load >/dev/null
bin_dir=$(scripts/release-build --show-bin-path)
"$bin_dir/booking-rush" dev --gateway-port $gateway_port --booking-port $booking_port --payments-port $payments_port \
  --routes "$work/routes.json" --log-level warning >/dev/null &
dev=$!
# Each scenario's event (its name is in the scenario's JSON): its room is deleted while the
# gateway runs, then the event and everything sold in it, once the services have stopped.
bench_events=()
cleanup() {
  local event
  for event in "${bench_events[@]}"; do
    curl -fs -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$gateway_port/admin/v1/rooms/$event" >/dev/null || true
  done
  kill $dev 2>/dev/null; wait $dev 2>/dev/null
  drop_bench_events "${bench_events[@]}" || echo "could not drop the bench's events ${bench_events[*]}" >&2
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$gateway_port/health" >/dev/null && break; sleep 0.1; done
redis_pid=$(redis-cli -p "$redis_port" info server | awk -F: '/^process_id:/ {print $2+0}')

mkdir -p bench/results
rows=()
for scenario in "${scenarios[@]}"; do
  json=bench/results/flash-sale-$scenario.json
  status=0
  "$bin_dir/rush-load" flash-sale --scenario "$scenario" --gateway "http://127.0.0.1:$gateway_port" --json "$json" >"$work/$scenario.txt" 2>&1 || status=$?
  cat "$work/$scenario.txt"
  [ -s "$json" ] || { echo "$scenario failed (exit $status)"; rows+=("| $scenario | failed (exit $status) |"); continue; }
  bench_events+=("$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["plan"]["event"])' "$json")")
  rows+=("$(python3 - "$json" "$(rss $dev)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); p = r["plan"]; c = r["counts"]; l = r["latency"]
def lat(step, q): return f'{l[step][q]:.0f}' if step in l else "–"
errors = sum(r["errors"].values())
print(f'| {p["scenario"]} | {p["users"]} | {p["seats"]} | {r["seconds"]:.1f} | {c.get("joined", 0) / r["seconds"]:.0f} | {lat("join", "p99_ms")} | '
      f'{lat("queue_wait", "p50_ms")} / {lat("queue_wait", "p99_ms")} | {lat("reserve", "p50_ms")} / {lat("reserve", "p99_ms")} | '
      f'{c.get("paid", 0) / r["seconds"]:.0f} | {r["sold"] + r["held"]} / {r["capacity"]} | {r["oversold"]} | {r["duplicate_bookings"]} | '
      f'{r["definite_inversions"]} | {r["kendall_tau"]:.4f} | {errors} | {sys.argv[2]} |')
PY
)")
done

{
  echo "# Flash sale end to end: rush-load against booking-rush dev"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by rush-load, booking-rush dev (gateway + booking + payments, release build), Redis and Postgres."
  echo
  echo "| scenario | visitors | seats | seconds | joins/s | join p99 ms | queue wait p50 / p99 ms | reserve p50 / p99 ms | paid/s | sold+held / capacity | oversold | duplicate bookings | definite inversions | Kendall tau | errors | dev RSS KiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Queue wait is from joining to holding a pass, and is set mostly by the release rate (the point of a waiting room)."
  echo "Per-scenario JSON (latency per step, errors by kind, abandonment outcomes): \`bench/results/flash-sale-*.json\`."
  echo
  echo "Reproduce: \`bench/flash-sale.sh ${scenarios[*]}\`"
} | tee bench/results/flash-sale.md
