#!/usr/bin/env bash
# Reservations, one run on this machine: reserves/s straight to the booking service, through the
# gateway (access token + rate limit, then also an idempotency key), and booking_reserve.lua
# under redis-benchmark (the ceiling). Afterwards the persister drains and `booking-rush
# reconcile` checks that Redis and Postgres agree on every seat.
#
#   bench/booking.sh [seconds] [connections]
#   BOOKING_RUSH_BIN=/path/to/booking-rush bench/booking.sh   # another build of the services
#   PERF_DATA=/tmp/booking.perf bench/booking.sh   # perf record -g the booking service during the direct run
#   PERF_GATEWAY_DATA=/tmp/gateway.perf bench/booking.sh   # ... and the gateway during the token + rate limit run
#   PERF_IDEMPOTENT_DATA=/tmp/idem.perf bench/booking.sh   # ... and the gateway during the Idempotency-Key run
#   PERF_CALL_GRAPH='--call-graph dwarf,8192' PERF_FREQUENCY=299 PERF_DATA=... bench/booking.sh   # callers through libc (malloc)
#   WARMUP=0 bench/booking.sh   # no unmeasured warm-up run before each path (default 2 s)
#
# Prints a table and writes bench/results/booking.md. The services run in a Redis key space of the
# run's own (REDIS_KEY_SPACE=bench-RUN); it, the events and their bookings are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
source bench/lib.sh
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
booking_port=18081; gateway_port=18080
users=5000
work=$(mktemp -d)
export INTERNAL_SECRET=bench-internal-secret-0123456789abcdef ADMIN_TOKEN=bench-admin-token-0123456789 LOG_FORMAT=text

cat >"$work/routes.json" <<ROUTES
{
  "routes": [
    { "name": "bookings", "prefix": "/api/v1/bookings", "upstreams": ["http://127.0.0.1:$booking_port"], "service": "booking",
      "auth": "required", "idempotency": "optional",
      "rate_limits": [ { "name": "per-user", "key": "user", "limit": 1000000, "period_s": 1 } ] }
  ]
}
ROUTES

[ -n "${BOOKING_RUSH_BIN:-}" ] || scripts/release-build --product booking-rush >/dev/null
scripts/release-build --product rush-load >/dev/null
bin_dir=$(scripts/release-build --show-bin-path)
service_bin=${BOOKING_RUSH_BIN:-$bin_dir/booking-rush}
"$service_bin" migrate >/dev/null
pids=()
run=$(date +%s)
# The services keep their Redis keys in a key space of the run's own, dropped whole at the end.
export REDIS_KEY_SPACE=bench-$run
bench_events=("bench-direct-$run" "bench-gateway-$run" "bench-idempotent-$run")
cleanup() { stop_services_and_drop "${bench_events[@]}"; }
trap cleanup EXIT
"$service_bin" booking --port "$booking_port" --log-level warning & pids+=($!); booking_pid=$!
"$service_bin" gateway --port "$gateway_port" --routes "$work/routes.json" --log-level warning & pids+=($!); gateway_pid=$!
wait_healthy "$booking_port"; wait_healthy "$gateway_port"

# One event per path (publish_bench_event), dropped with all its bookings when the script ends.
for kind in direct gateway idempotent; do publish_bench_event "$booking_port" "bench-$kind-$run"; done
# Signed for the direct run's one request body; a signature is good for 60 s, so they are made just before it.
bench/identities.py "$INTERNAL_SECRET" "$users" "bench-user-$run-" customer POST /api/v1/bookings/reserve \
  "{\"event_id\":\"bench-direct-$run\",\"zone_id\":\"floor\",\"quantity\":1}" >"$work/identities.tsv"
"$bin_dir/rush-load" tokens --count "$users" --prefix "bench-user-$run-" >"$work/tokens.txt"

commits() { psql "$DATABASE_URL" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
commits_before=$(commits)

# wrk_run "$@" while measuring the CPU of the booking service and the gateway: sets $out,
# $cpu ("<booking µs> / <gateway µs>" per request) and $split (cpu_split_end's fields).
measured() {
  cpu_split_start "$booking_pid" "$gateway_pid"
  out=$(wrk_run "$@")
  split=$(cpu_split_end "$(requests "$out")")
  read -r booking_us gateway_us _ <<<"$split"
  cpu="$booking_us / $gateway_us"
}
# Each path first runs ${WARMUP:-2} s unmeasured, so every row is a steady state: connections and
# upstream pools open, every user's access token verified once (the gateway's token cache warm, as
# a few seconds into a sale).
warm_up() { wrk -t2 -c"$connections" -d"${WARMUP:-2}s" "$@" >/dev/null; }
IDENTITIES=$work/identities.tsv EVENT=bench-direct-$run warm_up -s bench/wrk/reserve.lua "http://127.0.0.1:$booking_port/api/v1/bookings/reserve"
IDENTITIES=$work/identities.tsv EVENT=bench-direct-$run profiled "${PERF_DATA:-}" "$booking_pid" \
  measured -s bench/wrk/reserve.lua "http://127.0.0.1:$booking_port/api/v1/bookings/reserve"
direct_out=$out; direct_cpu=$cpu; direct_split=$split
IDENTITIES=$work/tokens.txt EVENT=bench-gateway-$run warm_up -s bench/wrk/reserve.lua "http://127.0.0.1:$gateway_port/api/v1/bookings/reserve"
IDENTITIES=$work/tokens.txt EVENT=bench-gateway-$run profiled "${PERF_GATEWAY_DATA:-}" "$gateway_pid" \
  measured -s bench/wrk/reserve.lua "http://127.0.0.1:$gateway_port/api/v1/bookings/reserve"
gateway_out=$out; gateway_cpu=$cpu; gateway_split=$split
IDEMPOTENCY=1 IDENTITIES=$work/tokens.txt EVENT=bench-idempotent-$run warm_up -s bench/wrk/reserve.lua "http://127.0.0.1:$gateway_port/api/v1/bookings/reserve"
IDEMPOTENCY=1 IDENTITIES=$work/tokens.txt EVENT=bench-idempotent-$run profiled "${PERF_IDEMPOTENT_DATA:-}" "$gateway_pid" \
  measured -s bench/wrk/reserve.lua "http://127.0.0.1:$gateway_port/api/v1/bookings/reserve"
idempotent_out=$out; idempotent_cpu=$cpu; idempotent_split=$split
booking_rss=$(rss "$booking_pid"); gateway_rss=$(rss "$gateway_pid")

# The ceiling: the same script on an event that exists only in Redis (redis-benchmark draws each
# __rand_int__ on its own, so booking ids repeat; nothing of it goes to Postgres).
keys() { for k in "$@"; do printf '%s:{evt:bench-rb-%s}:%s ' "$REDIS_KEY_SPACE" "$run" "$k"; done; }
redis-cli -p "$redis_port" hset "$REDIS_KEY_SPACE:{evt:bench-rb-$run}:sale" status published max_per_user 100 hold_ms 600000 >/dev/null
redis-cli -p "$redis_port" hset "$REDIS_KEY_SPACE:{evt:bench-rb-$run}:zone:floor" capacity 1000000 available 1000000 held 0 sold 0 price 5000 currency EUR >/dev/null
sha=$(redis-cli -p "$redis_port" script load "$(cat Lua/booking_reserve.lua)")
rb_redis_before=$(cpu_ticks "$(redis_pid)")
rb_out=$(redis-benchmark -p "$redis_port" -c 50 -P 1 -q -n 100000 -r 100000000 evalsha "$sha" 6 \
  $(keys sale zone:floor user-seats booking:__rand_int__ holds stream) __rand_int__ u:__rand_int__ floor 1 | tr '\r' '\n' | grep 'requests per second' | tail -1)
rb_rate=$(sed -E 's/.*: ([0-9.]+) requests per second.*/\1/' <<<"$rb_out")
rb_redis_us=$(cpu_us $(( $(cpu_ticks "$(redis_pid)") - rb_redis_before )) 100000)

# Let the booking service's persister catch up, then compare Redis and Postgres seat by seat.
events=(); for kind in direct gateway idempotent; do events+=(--event "bench-$kind-$run"); done
drain_started=$(date +%s)
for _ in $(seq 1 300); do
  pending=$({ "$bin_dir/booking-rush" reconcile "${events[@]}" --json 2>/dev/null || true; } | python3 -c 'import json,sys; print(sum(z["unpersisted"] for z in json.load(sys.stdin)["zones"]))')
  [ "$pending" = 0 ] && break; sleep 1
done
commits_after=$(commits)
drain_seconds=$(($(date +%s) - drain_started))
reconcile_out=$("$bin_dir/booking-rush" reconcile "${events[@]}" || true)
held=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM booking.bookings WHERE event_id LIKE 'bench-%-$run'")

n=$(rate "$direct_out")
mkdir -p bench/results
{
  echo "# Reservations: straight to the booking service, through the gateway, and the Lua script alone"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk, the gateway and booking service (release builds), Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) and Postgres; wrk -t2 -c$connections -d${seconds}s after ${WARMUP:-2} s of warm-up per path, one seat per request, $users users; redis-benchmark -c 50 -P 1."
  echo
  echo "| path | reserves/s | p50 ms | p99 ms | vs straight | CPU µs/request: booking / gateway | errors |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for row in "booking service, straight (signed identity)|direct" "gateway: access token + rate limit|gateway" "gateway: access token + rate limit + Idempotency-Key|idempotent"; do
    label=${row%%|*}; var=${row##*|}_out; out=${!var}; cpu_var=${row##*|}_cpu
    echo "| $label | $(rate "$out") | $(pct "$out" 50%) | $(pct "$out" 99%) | $(ratio "$(rate "$out")" "$n")× | ${!cpu_var} | $(errors "$out") |"
  done
  echo "| redis-benchmark EVALSHA booking_reserve.lua (ceiling) | ${rb_rate%.*} | | | $(ratio "$rb_rate" "$n")× | | |"
  echo
  echo "Where the machine's CPU went, µs per reserve (\`/proc\` over each run; the rest is wrk, the kernel's softirqs and"
  echo "anything else), and what it allows: with every core busy at that cost, $(nproc) cores serve at most"
  echo "$(nproc) s / (all µs) reserves per second."
  echo
  echo "| path | booking | gateway | Redis | Postgres | the rest | all | machine busy | at most, every core busy | vs ceiling |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "straight|direct" "gateway|gateway" "gateway + Idempotency-Key|idempotent"; do
    var=${row##*|}_split; read -r b g r p rest all busy <<<"${!var}"
    most=$(python3 -c "print(int($(nproc) * 1e6 / $all))")
    echo "| ${row%%|*} | $b | $g | $r | $p | $rest | $all | $busy | $most | $(ratio "$most" "$rb_rate")× |"
  done
  echo
  echo "The ceiling's Redis spent ${rb_redis_us} µs per script: one core of Redis serves at most $(python3 -c "print(int(1e6 / $rb_redis_us))") per second."
  echo
  echo "RSS after the runs: booking service ${booking_rss} KiB, gateway ${gateway_rss} KiB."
  echo
  echo "Persistence: $held bookings reached Postgres in $((commits_after - commits_before)) committed transactions (every transaction on the database during the runs, readiness checks included): the persister batches up to 500 stream events per transaction. Postgres had every booking ${drain_seconds} s after the last run ended."
  echo
  echo "Reconciliation after the persister drained (\`booking-rush reconcile\`):"
  echo
  echo '```'
  echo "$reconcile_out"
  echo '```'
  echo
  echo "Reproduce: \`bench/booking.sh $seconds $connections\`"
} | tee bench/results/booking.md
