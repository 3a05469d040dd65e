#!/usr/bin/env bash
# System calls, context switches and user/system CPU per proxied request, nginx as a proxy
# against the gateway, same upstream, same run (plain route, no policies).
#
#   bench/syscalls.sh [seconds] [connections]
#   GATEWAY_BIN=/path/to/booking-rush bench/syscalls.sh   # another build
#   EVENT_LOOP_THREADS=1 bench/syscalls.sh                # the gateway on one event loop
#
# Counts come from `perf stat -e syscalls:sys_enter_*` on every thread of the process under test
# over one wrk run; CPU from /proc/PID/stat over the same run. Writes bench/results/syscalls.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-4}
connections=${2:-32}
source bench/lib.sh
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq; apt-get install -y -qq wrk nginx-light >/dev/null; }
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
upstream_port=18090; nginx_port=18091; gateway_port=18080
work=$(mktemp -d)
start_proxy_bench
printf '{"routes":[{"name":"plain","prefix":"/plain","upstreams":["http://127.0.0.1:%s"],"auth":"none"}]}\n' "$upstream_port" >"$work/routes.json"
bin=$(gateway_bin)
"$bin" migrate >/dev/null
LOG_FORMAT=text "$bin" gateway --port "$gateway_port" --routes "$work/routes.json" --log-level warning &
gateway=$!
wait_healthy "$gateway_port"
wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$gateway_port/plain/x" >/dev/null   # warm-up

events=syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,raw_syscalls:sys_enter,context-switches
# counted PID URL LABEL: one table row for the process PID serving URL.
counted() {
  local pid=$1 url=$2 label=$3 tids before after out n
  tids=$(ls "/proc/$pid/task" | paste -sd,)
  perf stat -x, -e "$events" -t "$tids" -o "$work/stat" -- sleep "$seconds" &
  local perf_pid=$!
  before=$(awk '{print $14, $15}' "/proc/$pid/stat")
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" "$url")
  after=$(awk '{print $14, $15}' "/proc/$pid/stat")
  wait "$perf_pid" || true
  n=$(requests "$out")
  python3 - "$work/stat" "$n" "$label" "$(rate "$out")" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import sys
path, n, label, rate, before, after, hz = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5].split(), sys.argv[6].split(), int(sys.argv[7])
counts = {}
for line in open(path):
    fields = line.strip().split(',')
    if len(fields) > 2 and fields[0].replace('.', '').isdigit():
        counts[fields[2]] = float(fields[0])
per = lambda *names: sum(counts.get(name, 0) for name in names) / max(1, n)
user, system = ((int(a) - int(b)) * 1e6 / hz / max(1, n) for a, b in zip(after, before))
print(f"| {label} | {rate} | {per('syscalls:sys_enter_read', 'syscalls:sys_enter_recvfrom'):.2f} | "
      f"{per('syscalls:sys_enter_write', 'syscalls:sys_enter_writev'):.2f} | {per('syscalls:sys_enter_epoll_wait'):.2f} | "
      f"{per('raw_syscalls:sys_enter'):.2f} | {per('context-switches'):.2f} | {user:.1f} | {system:.1f} |")
PY
}
nginx_worker=$(pgrep -P "$(cat "$work/proxy.pid")" | head -1)
rows=$(
  counted "$nginx_worker" "http://127.0.0.1:$nginx_port/plain/x" "nginx proxy_pass (1 worker)"
  counted "$gateway" "http://127.0.0.1:$gateway_port/plain/x" "gateway, no policies (${EVENT_LOOP_THREADS:-default} event loops)"
)
mkdir -p bench/results
{
  echo "# System calls per proxied request: nginx vs the gateway"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; wrk -t1 -c$connections -d${seconds}s each; the same upstream (nginx, 1 worker, 200 from memory)."
  echo "Counts: \`perf stat\` on every thread of the process under test; CPU: /proc/PID/stat over the same run."
  echo
  echo "| process | req/s | reads | writes | epoll_wait | all syscalls | context switches | user µs | system µs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "$rows"
  echo
  echo "Reproduce: \`bench/syscalls.sh $seconds $connections\`"
} | tee bench/results/syscalls.md
