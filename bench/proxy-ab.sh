#!/usr/bin/env bash
# The plain proxy route, two saved release builds alternating in one session, nginx proxying the
# same upstream measured in every round as the yardstick:
#   bench/proxy-ab.sh BEFORE_BIN AFTER_BIN [rounds=3] [seconds=10] [connections=32]
# The upstream is an nginx (1 worker) answering 200 from memory; wrk -t1 as in
# bench/gateway-vs-nginx.sh. Prints req/s and CPU µs per request of the proxy process alone
# (/proc/PID/stat over the run) and appends them to bench/results/proxy-ab.txt.
# With PERF_DIR=DIR, the proxy is also recorded by `perf record -g` during each measured run (the
# figures then include perf's cost), and DIR/before-N.tally, DIR/after-N.tally hold each run's
# samples by our innermost frame with its request count: bench/perf_diff.py compares them per request.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1; after=$2; rounds=${3:-3}; seconds=${4:-10}; connections=${5:-32}
source bench/lib.sh
command -v nginx >/dev/null || { apt-get update -qq; apt-get install -y -qq nginx-light >/dev/null; }
out_file=bench/results/proxy-ab.txt
upstream_port=18090; nginx_port=18091
work=$(mktemp -d)
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$upstream_port; keepalive 128; }
  server { listen 127.0.0.1:$upstream_port; location / { default_type application/json; return 200 '{"ok":true}'; } }
  server { listen 127.0.0.1:$nginx_port; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGINX
cat >"$work/routes.json" <<ROUTES
{ "routes": [ { "name": "plain", "prefix": "/plain", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "none" } ] }
ROUTES
gateway=
cleanup() {
  [ -n "$gateway" ] && kill "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null
  nginx -p "$work" -c "$work/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
nginx -p "$work" -c "$work/nginx.conf"
sleep 0.2
# nginx's one worker serves both the upstream and the proxy server: its CPU is for both.
nginx_pids=$(cat "$work/nginx.pid"; pgrep -P "$(cat "$work/nginx.pid")")
echo "# $(date -u +%Y-%m-%dT%H:%MZ) before=$before after=$after wrk -t1 -c$connections -d${seconds}s /plain/x" | tee -a "$out_file"

# wrk against $2.. while measuring the CPU of the pids in $1: "<req/s> req/s, <µs> us/req".
# With a third argument (a file name) the pids are recorded by perf meanwhile, and the request count
# is written to NAME.requests beside NAME.data.
measured() {
  local pids=$1 record=${3:-} ticks out perf_pid=
  ticks=$(cpu_ticks $pids)
  if [ -n "$record" ]; then
    perf record -q -F 2999 -g -o "$record.data" -p "${pids// /,}" -- sleep "$seconds" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" "$2")
  [ -n "$perf_pid" ] && { wait "$perf_pid" || true; requests "$out" >"$record.requests"; }
  echo "$(rate "$out") req/s, $(cpu_us $(( $(cpu_ticks $pids) - ticks )) "$(requests "$out")") us/req $(errors "$out")"
}

one_run() {
  local record=
  GATEWAY_BIN=$1 GATEWAY_ROUTES=$work/routes.json start_gateway
  wait_healthy "$port"
  wrk -t1 -c"$connections" -d3s "http://127.0.0.1:$port/plain/x" >/dev/null
  [ -n "${PERF_DIR:-}" ] && record=$PERF_DIR/$2-$3
  echo "$2 $(measured "$gateway" "http://127.0.0.1:$port/plain/x" $record)" | tee -a "$out_file"
  if [ -n "$record" ]; then
    { cat "$record.requests"; perf script -i "$record.data" -F ip,sym,dso 2>/dev/null | python3 bench/perf_tally.py 400 | swift demangle --simplified --compact; } >"$record.tally"
  fi
  kill "$gateway"; wait "$gateway" 2>/dev/null || true
  gateway=
}

[ -n "${PERF_DIR:-}" ] && mkdir -p "$PERF_DIR"
for round in $(seq 1 "$rounds"); do
  echo "nginx (proxy + upstream) $(measured "$nginx_pids" "http://127.0.0.1:$nginx_port/plain/x")" | tee -a "$out_file"
  one_run "$before" before "$round"
  one_run "$after" after "$round"
done
