#!/usr/bin/env bash
# Where a proxied request's CPU goes, beyond the profile: user and kernel CPU µs per request
# (utime and stime from /proc/PID/stat over the run) and context switches per request (voluntary
# and involuntary, summed over the process's threads) and system calls per request (`perf stat` on
# the process's threads over the same run: all of them, reads, writes, epoll_wait), for nginx
# proxying an upstream and for our gateway proxying the same upstream (plain route), each under
# the same wrk run, and the gateway again with one event loop (NIO_SINGLETON_GROUP_LOOP_COUNT=1,
# as nginx runs one worker).
#
#   bench/proxy-sched.sh [seconds] [connections] [rounds]
#   GATEWAY_BIN=/path/to/booking-rush bench/proxy-sched.sh   # another build
#
# Prints a table and writes bench/results/proxy-sched.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
connections=${2:-32}
rounds=${3:-2}
source bench/lib.sh
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq; apt-get install -y -qq wrk nginx-light >/dev/null; }
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null || true
upstream_port=18090; nginx_port=18091; gateway_port=18080
work=$(mktemp -d)
export ADMIN_TOKEN=bench-admin-token-0123456789
printf '{"routes":[{"name":"plain","prefix":"/plain","upstreams":["http://127.0.0.1:%s"],"auth":"none"}]}\n' "$upstream_port" >"$work/routes.json"
gateway=
stop_gateway() { [ -n "$gateway" ] && kill "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null; gateway=; }
cleanup() {
  stop_gateway || true
  stop_nginx_pair
  rm -rf "$work"
}
trap cleanup EXIT
start_nginx_pair
bin=$(gateway_bin)
start() { # $1: event loops (empty: one per core)
  NIO_SINGLETON_GROUP_LOOP_COUNT=${1:-$(nproc)} LOG_FORMAT=text "$bin" gateway --port "$gateway_port" --routes "$work/routes.json" --log-level warning &
  gateway=$!
  wait_healthy "$gateway_port"
  wrk -t1 -c"$connections" -d1s "http://127.0.0.1:$gateway_port/plain/x" >/dev/null
}
# "utime stime voluntary involuntary" of the processes $@, all threads.
counters() {
  local pid
  for pid in "$@"; do
    awk '{print $14, $15}' "/proc/$pid/stat"
    cat /proc/"$pid"/task/*/status | awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v, n}'
  done | paste -sd' ' | awk '{u=0; s=0; v=0; n=0; for (i = 1; i <= NF; i += 4) {u += $i; s += $(i+1); v += $(i+2); n += $(i+3)}; print u, s, v, n}'
}
syscalls=raw_syscalls:sys_enter,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait
# Runs wrk on $2 measuring the processes $1 (and counting their system calls, where perf can);
# prints a table row labelled $3.
row() {
  local pids=$1 url=$2 label=$3 before after out perf_pid=
  rm -f "$work/syscalls"
  if command -v perf >/dev/null; then
    perf stat -x, -e "$syscalls" -p "$(tr ' \n' ',,' <<<"$pids" | sed 's/,*$//')" -o "$work/syscalls" -- sleep "$seconds" 2>/dev/null & perf_pid=$!
  fi
  before=$(counters $pids)
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" "$url")
  after=$(counters $pids)
  if [ -n "$perf_pid" ]; then wait "$perf_pid" || true; fi
  python3 - "$before" "$after" "$(requests "$out")" "$(rate "$out")" "$label" "$(getconf CLK_TCK)" "$work/syscalls" <<'PY'
import os, sys
b = [int(x) for x in sys.argv[1].split()]; a = [int(x) for x in sys.argv[2].split()]
n = max(1, int(sys.argv[3])); tick = 1e6 / int(sys.argv[6])
d = [y - x for x, y in zip(b, a)]
counts = {}
if os.path.exists(sys.argv[7]):
    for line in open(sys.argv[7]):
        fields = line.strip().split(',')
        if len(fields) > 2 and fields[0].replace('.', '', 1).isdigit():
            counts[fields[2]] = float(fields[0])
def per(*events):
    return f"{sum(counts[e] for e in events) / n:.2f}" if all(e in counts for e in events) else "–"
print(f"| {sys.argv[5]} | {sys.argv[4]} | {d[0] * tick / n:.1f} | {d[1] * tick / n:.1f} | {(d[0] + d[1]) * tick / n:.1f} | {d[2] / n:.3f} | {d[3] / n:.3f} | "
      f"{per('raw_syscalls:sys_enter')} | {per('syscalls:sys_enter_read', 'syscalls:sys_enter_recvfrom')} | "
      f"{per('syscalls:sys_enter_write', 'syscalls:sys_enter_writev')} | {per('syscalls:sys_enter_epoll_wait')} |")
PY
}
rows=()
for round in $(seq 1 "$rounds"); do
  rows+=("$(row "$proxy_pids" "http://127.0.0.1:$nginx_port/plain/x" "nginx proxy_pass, 1 worker (round $round)")")
  start ""
  rows+=("$(row "$gateway" "http://127.0.0.1:$gateway_port/plain/x" "gateway, $(nproc) event loops (round $round)")")
  stop_gateway
  start 1
  rows+=("$(row "$gateway" "http://127.0.0.1:$gateway_port/plain/x" "gateway, 1 event loop (round $round)")")
  stop_gateway
done
mkdir -p bench/results
{
  echo "# Proxy CPU split: user and kernel time, context switches per request"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk (-t1 -c$connections -d${seconds}s), the proxy under test and the upstream (nginx, 1 worker, 200 from memory); plain route, no policies; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)."
  echo
  echo "| proxy | req/s | user µs/request | kernel µs/request | CPU µs/request | voluntary switches/request | involuntary switches/request | syscalls/request | reads | writes | epoll_wait |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Reproduce: \`bench/proxy-sched.sh $seconds $connections $rounds\`"
} | tee bench/results/proxy-sched.md
