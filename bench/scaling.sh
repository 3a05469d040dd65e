#!/usr/bin/env bash
# How the waiting room's cost grows with the crowd: for 10k, 100k and 1M waiting visitors,
# Redis memory per visitor, and join and status latency through the gateway at that depth
# (wrk, fixed load; polls carry place tokens, so the gateway answers them from its room snapshot),
# with the RSS of the gateway and of Redis. One run on this machine.
#
#   bench/scaling.sh [seconds] [connections] [sizes...]
#
# Prints a table and writes bench/results/scaling.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
connections=${2:-32}
shift $(( $# < 2 ? $# : 2 ))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
source bench/lib.sh
start_gateway
work=$(mktemp -d)
trap 'kill $gateway 2>/dev/null; wait $gateway 2>/dev/null; rm -rf "$work"' EXIT
wait_healthy "$port"

used_memory() { redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ {print $2+0}'; }
redis_pid=$(redis-cli -p "$redis_port" info server | awk -F: '/^process_id:/ {print $2+0}')
join_sha=$(redis-cli -p "$redis_port" script load "$(cat Lua/queue_join.lua)")
paused='{"mode":"paused","release_rate":0,"max_active":0,"pass_ttl":300,"idle_timeout":86400}'
run=$(date +%s)
rows=()
for size in "${sizes[@]}"; do
  room=bench-scale-$size-$run
  admin PUT "rooms/$room" "$paused"
  before=$(used_memory)
  fill_start=$(date +%s.%N)
  bench/fill_room.py "$redis_port" "$room" "$join_sha" "$size" "$VISITOR_TICKET_SECRET" 2000 >"$work/tickets"
  fill_seconds=$(python3 -c "import time; print(f'{time.time() - $fill_start:.1f}')")
  waiting=$(redis-cli -p "$redis_port" zcard "bk:{evt:$room}:waiting")
  per_visitor=$(( ($(used_memory) - before) / waiting ))
  status_out=$(TICKETS=$work/tickets wrk_run -s bench/wrk/status.lua "http://127.0.0.1:$port/api/v1/queue/$room/status")
  join_out=$(wrk_run -s bench/wrk/join.lua "http://127.0.0.1:$port/api/v1/queue/$room/join")
  rows+=("| $waiting | $per_visitor | $fill_seconds | $(rate "$join_out") | $(pct "$join_out" 50%) | $(pct "$join_out" 99%) | $(rate "$status_out") | $(pct "$status_out" 50%) | $(pct "$status_out" 99%) | $(rss "$gateway") | $(rss "$redis_pid") | $(errors "$join_out$status_out") |")
  admin DELETE "rooms/$room"
done

mkdir -p bench/results
{
  echo "# Waiting room at scale: cost per waiting visitor, 10k → 1M"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk, the gateway (release build) and Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2); wrk -t2 -c$connections -d${seconds}s per figure."
  echo
  echo "| waiting visitors | Redis bytes / visitor | fill time s (queue_join.lua via redis-cli --pipe) | joins/s at the back | join p50 ms | join p99 ms | status polls/s | status p50 ms | status p99 ms | gateway RSS KiB | Redis RSS KiB | errors |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "The room is paused, so nobody leaves while it is measured. Status polls come from 2,000 visitors spread"
  echo "evenly through the queue, with the place tokens their joins would have returned (answered from the gateway's room"
  echo "snapshot, no Redis call per poll); joins add new visitors at the back."
  echo "Redis bytes / visitor is the growth of used_memory divided by the visitors added (waiting zset, last-seen zset, state hash)."
  echo
  echo "Reproduce: \`bench/scaling.sh $seconds $connections ${sizes[*]}\`"
} | tee bench/results/scaling.md
