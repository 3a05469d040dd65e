#!/usr/bin/env bash
# Reverse-proxy throughput, one run on this machine: nginx proxying an upstream vs our gateway
# proxying the same upstream (a) with no policies and (b) with access token + rate limit +
# queue pass checked on every request. The upstream is nginx answering 200 from memory.
#
#   bench/gateway-vs-nginx.sh [seconds] [connections]
#
# Prints a table and writes bench/results/gateway-vs-nginx.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
source bench/lib.sh
command -v wrk >/dev/null && command -v nginx >/dev/null || apt-get install -y -qq wrk nginx-light >/dev/null
upstream_port=18090; nginx_port=18091; gateway_port=18080
work=$(mktemp -d)
export ADMIN_TOKEN=bench-admin-token-0123456789 BCRYPT_COST=10

cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$upstream_port; keepalive 128; }
  server { listen 127.0.0.1:$upstream_port; location / { default_type application/json; return 200 '{"ok":true}'; } }
  server {
    listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
gateway=
cleanup() {
  [ -n "$gateway" ] && kill "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null
  nginx -p "$work" -c "$work/nginx.conf" -s stop 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
nginx -p "$work" -c "$work/nginx.conf"

cat >"$work/routes.json" <<ROUTES
{
  "routes": [
    { "name": "plain", "prefix": "/plain", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "none" },
    { "name": "guarded", "prefix": "/guarded", "upstreams": ["http://127.0.0.1:$upstream_port"], "auth": "required",
      "rate_limits": [ { "name": "per-user", "key": "user", "limit": 1000000000, "period_s": 1 } ],
      "queue_pass": { "event_from": "path:1" } }
  ]
}
ROUTES

swift build -c release --product booking-rush >/dev/null
bin=$(swift build -c release --show-bin-path)/booking-rush
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


nginx_out=$(wrk_run "http://127.0.0.1:$nginx_port/plain/x")
health_out=$(wrk_run "$base/health")
plain_out=$(wrk_run "$base/plain/x")
guarded_out=$(wrk_run -H "Authorization: Bearer $token" -H "Queue-Pass: $pass" "$base/guarded/$event/x")
gateway_rss=$(awk '/VmRSS/ {print $2}' "/proc/$gateway/status")
curl -fs -X DELETE "$base/admin/v1/rooms/$event" -H "Authorization: Bearer $ADMIN_TOKEN" >/dev/null

n=$(rate "$nginx_out")
mkdir -p bench/results
{
  echo "# Reverse proxy: our gateway vs nginx, same upstream, same run"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk, both proxies, the upstream (nginx returning 200) and Redis; wrk -t2 -c$connections -d${seconds}s; nginx $(nginx -v 2>&1 | cut -d/ -f2) with 2 workers and upstream keepalive; gateway release build."
  echo
  echo "| proxy | req/s | p50 ms | p99 ms | vs nginx | errors |"
  echo "|---|---:|---:|---:|---:|---|"
  echo "| nginx proxy_pass | $n | $(pct "$nginx_out" 50%) | $(pct "$nginx_out" 99%) | 1.00× | $(errors "$nginx_out") |"
  for row in "gateway answering /health itself (no upstream; the HTTP stack ceiling):health_out" "gateway, no policies:plain_out" "gateway, access token + rate limit + queue pass:guarded_out"; do
    label=${row%%:*}; var=${row##*:}; out=${!var}
    echo "| $label | $(rate "$out") | $(pct "$out" 50%) | $(pct "$out" 99%) | $(ratio "$(rate "$out")" "$n")× | $(errors "$out") |"
  done
  echo
  echo "Gateway RSS after the runs: ${gateway_rss} KiB."
  echo
  echo "Reproduce: \`bench/gateway-vs-nginx.sh $seconds $connections\`"
} | tee bench/results/gateway-vs-nginx.md
