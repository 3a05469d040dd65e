#!/usr/bin/env bash
# Reverse-proxy cost, one run on this machine: nginx proxying an upstream vs our gateway proxying
# the same upstream, (a) with no policies and (b) with access token + rate limit + queue pass on
# every request (the limit checked in Redis per request, then leased 100 tokens at a time);
# throughput, latency and CPU µs per request of the proxy process alone (from /proc/PID/stat
# over each wrk run), p99 at half the gateway's top rate, and a perf profile of
# the gateway during a plain-proxy run (top 20 symbols, self time).
#
#   bench/gateway-vs-nginx.sh [seconds] [connections]
#   GATEWAY_BIN=/path/to/booking-rush PROFILE_LABEL=before bench/gateway-vs-nginx.sh   # another build
#   PROFILE_ROUTE=guarded bench/gateway-vs-nginx.sh   # profile the token + rate limit + pass route (or leased)
#   PERF_DATA=/tmp/gateway.perf bench/gateway-vs-nginx.sh   # keep the perf data for perf report
#   MALLOC_PROFILE=1 bench/gateway-vs-nginx.sh   # also count allocations per request (bench/malloc-profile.sh)
#
# The upstream is an nginx (1 worker) answering 200 from memory; the nginx proxy has 1 worker and
# upstream keep-alive. Prints a table and writes bench/results/gateway-vs-nginx.md and
# bench/results/gateway-profile-$PROFILE_LABEL.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
label=${PROFILE_LABEL:-after}
profile_route=${PROFILE_ROUTE:-plain}
source bench/lib.sh
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq; apt-get install -y -qq wrk nginx-light >/dev/null; }
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null || true
upstream_port=18090; nginx_port=18091; gateway_port=18080
work=$(mktemp -d)
export ADMIN_TOKEN=bench-admin-token-0123456789 BCRYPT_COST=10

gateway=
cleanup() {
  [ -n "$gateway" ] && kill "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null
  stop_nginx_pair
  rm -rf "$work"
}
trap cleanup EXIT
start_nginx_pair

cat >"$work/routes.json" <<ROUTES
{
  "routes": [
    { "name": "plain", "prefix": "/plain", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "none" },
    { "name": "guarded", "prefix": "/guarded", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "required",
      "rate_limits": [ { "name": "per-user", "key": "user", "limit": 1000000, "period_s": 1 } ],
      "queue_pass": { "event_from": "path:1" } },
    { "name": "leased", "prefix": "/leased", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "required",
      "rate_limits": [ { "name": "per-user", "key": "user", "limit": 1000000, "period_s": 1, "lease": 100 } ],
      "queue_pass": { "event_from": "path:1" } }
  ]
}
ROUTES

bin=$(gateway_bin)
"$bin" migrate >/dev/null
LOG_FORMAT=text "$bin" gateway --port "$gateway_port" --routes "$work/routes.json" --log-level warning &
gateway=$!
wait_healthy "$gateway_port"

# An account, a room in queue mode, and a pass for it.
event=bench-proxy-$(date +%s)
base="http://127.0.0.1:$gateway_port"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
email="bench-$(date +%s%N)@example.com"
curl -fs -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"bench password 123\"}" >/dev/null
token=$(curl -fs -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"bench password 123\"}" | json access_token)
curl -fs -X PUT "$base/admin/v1/rooms/$event" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d '{"mode":"queue","release_rate":1000,"max_active":0,"pass_ttl":3600,"idle_timeout":3600}' >/dev/null
ticket=$(curl -fs -X POST "$base/api/v1/queue/$event/join" | json ticket)
sleep 0.5
pass=$(curl -fs "$base/api/v1/queue/$event/status" -H "Visitor-Ticket: $ticket" | json pass)
curl -fs "$base/guarded/$event/x" -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" >/dev/null

bench_wrk() { wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@"; }
# Runs wrk against $2.. while measuring the CPU of the pids in $1; sets $out, $us, and $split
# (cpu_split_end's fields: those pids, the upstream nginx, Redis, Postgres, the rest, all, busy).
measured() {
  local pids=$1; shift
  cpu_split_start "$pids" "$upstream_pids"
  out=$(bench_wrk "$@")
  split=$(cpu_split_end "$(requests "$out")")
  us=${split%% *}
}
bench_wrk "$base/plain/x" >/dev/null   # warm-up: connections, pools, caches
measured "$proxy_pids" "http://127.0.0.1:$nginx_port/plain/x"; nginx_out=$out; nginx_us=$us; nginx_split=$split
measured "$gateway" "$base/health"; health_out=$out; health_us=$us; health_split=$split
measured "$gateway" "$base/plain/x"; plain_out=$out; plain_us=$us; plain_split=$split
measured "$proxy_pids" -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" "http://127.0.0.1:$nginx_port/guarded/$event/x"; nginx_guarded_out=$out; nginx_guarded_split=$split
measured "$gateway" -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" "$base/guarded/$event/x"; guarded_out=$out; guarded_us=$us; guarded_split=$split
lease_waits() { curl -fs "$base/metrics" | awk '/^gateway_rate_limit_lease_waits_total\{route="leased"\}/ {print $2}' | grep . || echo 0; }
waits_before=$(lease_waits)
measured "$gateway" -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" "$base/leased/$event/x"; leased_out=$out; leased_us=$us; leased_split=$split
leased_waits=$(( $(lease_waits) - waits_before ))

# p99 at about half the gateway's top plain-proxy rate: each connection waits between requests.
half=$(( $(rate "$plain_out") / 2 ))
pace=$(python3 -c "print(max(1, round($connections * 1000 / max(1, $half))))")
printf 'function delay() return %s end\n' "$pace" >"$work/pace.lua"
measured "$gateway" -s "$work/pace.lua" "$base/plain/x"; paced_out=$out; paced_us=$us; paced_split=$split

profile=bench/results/gateway-profile-$label.txt
mkdir -p bench/results
if perf record -F 999 -g -p "$gateway" -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1 & perf_pid=$!; then
  if [ "$profile_route" != plain ]; then
    bench_wrk -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" "$base/$profile_route/$event/x" >/dev/null
  else
    bench_wrk "$base/plain/x" >/dev/null
  fi
  wait "$perf_pid" || true
  [ -n "${PERF_DATA:-}" ] && cp "$work/perf.data" "$PERF_DATA"
  {
    echo "# perf profile of the gateway ($label), $profile_route route under wrk -t1 -c$connections, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "# perf record -F 999 -g -p PID; perf report --no-children --sort symbol (self time, top 20)"
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/[[:space:]-]*$//' | head -20
  } >"$profile" || true
fi
if [ -n "${MALLOC_PROFILE:-}" ]; then   # allocations per request on each route: bench/results/malloc-profile-gateway-ROUTE.txt
  bench/malloc-profile.sh "$gateway" gateway-plain 5 -- -t1 -c"$connections" "$base/plain/x" >/dev/null
  for route in guarded leased; do
    bench/malloc-profile.sh "$gateway" "gateway-$route" 5 -- -t1 -c"$connections" -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" "$base/$route/$event/x" >/dev/null
  done
fi
gateway_rss=$(awk '/VmRSS/ {print $2}' "/proc/$gateway/status")
curl -fs -X DELETE "$base/admin/v1/rooms/$event" -H "Authorization: Bearer $ADMIN_TOKEN" >/dev/null

n=$(rate "$nginx_out"); ng=$(rate "$nginx_guarded_out")
{
  echo "# Reverse proxy: our gateway vs nginx, same upstream, same run"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk, the proxy under test, the upstream (nginx, 1 worker, 200 from memory) and Redis; wrk -t1 -c$connections -d${seconds}s; nginx $(nginx -v 2>&1 | cut -d/ -f2) proxy with 1 worker and upstream keep-alive; gateway: $label build (release)."
  echo
  echo "| proxy | req/s | p50 ms | p99 ms | vs nginx | vs nginx, same requests | CPU µs/request | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  echo "| nginx proxy_pass | $n | $(pct "$nginx_out" 50%) | $(pct "$nginx_out" 99%) | 1.00× | 1.00× | $nginx_us | $(errors "$nginx_out") |"
  echo "| gateway answering /health itself (no upstream) | $(rate "$health_out") | $(pct "$health_out" 50%) | $(pct "$health_out" 99%) | $(ratio "$(rate "$health_out")" "$n")× | – | $health_us | $(errors "$health_out") |"
  echo "| gateway, no policies | $(rate "$plain_out") | $(pct "$plain_out" 50%) | $(pct "$plain_out" 99%) | $(ratio "$(rate "$plain_out")" "$n")× | $(ratio "$(rate "$plain_out")" "$n")× | $plain_us | $(errors "$plain_out") |"
  echo "| gateway, access token + rate limit + queue pass | $(rate "$guarded_out") | $(pct "$guarded_out" 50%) | $(pct "$guarded_out" 99%) | $(ratio "$(rate "$guarded_out")" "$n")× | $(ratio "$(rate "$guarded_out")" "$ng")× | $guarded_us | $(errors "$guarded_out") |"
  echo "| gateway, access token + rate limit leased 100 at a time + queue pass | $(rate "$leased_out") | $(pct "$leased_out" 50%) | $(pct "$leased_out" 99%) | $(ratio "$(rate "$leased_out")" "$n")× | $(ratio "$(rate "$leased_out")" "$ng")× | $leased_us | $(errors "$leased_out") |"
  echo "| gateway, no policies, paced at about half its top rate | $(rate "$paced_out") | $(pct "$paced_out" 50%) | $(pct "$paced_out" 99%) | – | – | $paced_us | $(errors "$paced_out") |"
  echo
  echo "Where the machine's CPU went, µs per request (\`/proc\` over each run): the proxy under test, the upstream nginx,"
  echo "Redis, Postgres, and the rest (wrk, the kernel's softirqs, anything else); with every core busy at that cost,"
  echo "$(nproc) cores serve at most $(nproc) s / (all µs) requests per second."
  echo
  echo "| run | proxy under test | upstream | Redis | Postgres | the rest | all | machine busy | at most, every core busy |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "nginx proxy_pass|nginx" "gateway /health|health" "gateway, no policies|plain" "nginx, guarded path|nginx_guarded" \
    "gateway, token + rate limit + pass|guarded" "gateway, leased|leased" "gateway, paced|paced"; do
    var=${row##*|}_split; read -r own up r p rest all busy <<<"${!var}"
    echo "| ${row%%|*} | $own | $up | $r | $p | $rest | $all | $busy | $(python3 -c "print(int($(nproc) * 1e6 / max(0.1, $all)))") |"
  done
  echo
  echo "nginx proxying the guarded path (no policies: the same upstream call) ran at $ng req/s. \"vs nginx, same requests\""
  echo "compares each gateway row with nginx proxying the very requests wrk sent it: the plain path for the plain"
  echo "row; for the guarded and leased rows, the guarded path with the same Authorization and Queue-Pass fields"
  echo "(nginx checks neither; it only carries their bytes). \"vs nginx\" compares every row with nginx's plain path."
  echo "Leased route: $leased_waits of $(requests "$leased_out") requests waited for a lease refill (their subject's tokens all spent while it was under way)."
  echo "Gateway RSS after the runs: ${gateway_rss} KiB. Profile: \`$profile\`."
  echo
  echo "Reproduce: \`bench/gateway-vs-nginx.sh $seconds $connections\`"
} | tee bench/results/gateway-vs-nginx.md
