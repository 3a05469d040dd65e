#!/usr/bin/env bash
# Waiting room throughput: joins/s and status polls/s through the gateway (wrk), next to
# redis-benchmark running the same Lua scripts (the ceiling), all in one run on this machine.
#
#   bench/waiting-room.sh [seconds] [connections]
#   PERF_JOIN_DATA=/tmp/join.perf PERF_STATUS_DATA=/tmp/status.perf bench/waiting-room.sh   # perf record -g the gateway
#   during the join run and the snapshot status run
#   PERF_CALL_GRAPH='--call-graph dwarf,8192' PERF_FREQUENCY=299 ... bench/waiting-room.sh   # callers through libc (malloc)
#
# Prints a table and writes bench/results/waiting-room.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
source bench/lib.sh
start_gateway
trap 'kill $gateway 2>/dev/null; wait $gateway 2>/dev/null' EXIT
wait_healthy "$port"

paused='{"mode":"paused","release_rate":0,"max_active":0,"pass_ttl":300,"idle_timeout":3600}'
run=$(date +%s)
join_room=bench-join-$run; status_room=bench-status-$run; rb_room=bench-rb-$run
admin PUT "rooms/$join_room" "$paused"; admin PUT "rooms/$status_room" "$paused"; admin PUT "rooms/$rb_room" "$paused"

# wrk --latency: "Requests/sec: 12345.67" and "50%  1.23ms" / "99%  4.56ms"

redis_commands() { redis-cli -p "$redis_port" info stats | awk -F: '/^total_commands_processed:/ {print $2+0}'; }
# Runs wrk with "$@", setting ${1}_out, ${1}_cpu (gateway CPU µs per request) and ${1}_redis (Redis commands per request).
# Also sets ${1}_split (cpu_split_end's fields: the gateway, Redis, Postgres, the rest, all, busy).
measure() {
  local name=$1 commands out split
  shift
  commands=$(redis_commands)
  cpu_split_start "$gateway"
  out=$(wrk_run "$@")
  split=$(cpu_split_end "$(requests "$out")")
  printf -v "${name}_out" '%s' "$out"
  printf -v "${name}_split" '%s' "$split"
  printf -v "${name}_cpu" '%s' "${split%% *}"
  printf -v "${name}_redis" '%s' "$(python3 -c "print(f'{($(redis_commands) - $commands) / max(1, $(requests "$out")):.2f}')")"
}
profiled "${PERF_JOIN_DATA:-}" "$gateway" measure join -s bench/wrk/join.lua "http://127.0.0.1:$port/api/v1/queue/$join_room/join"
join_rss=$(rss "$gateway")
tickets=$(mktemp)
bench/tickets.py "$VISITOR_TICKET_SECRET" 10000 "http://127.0.0.1:$port/api/v1/queue/$status_room/join" >"$tickets"
TICKETS=$tickets profiled "${PERF_STATUS_DATA:-}" "$gateway" measure status -s bench/wrk/status.lua "http://127.0.0.1:$port/api/v1/queue/$status_room/status"
status_rss=$(rss "$gateway")
cut -f1 "$tickets" >"$tickets.bare"
TICKETS=$tickets.bare measure redis_status -s bench/wrk/status.lua "http://127.0.0.1:$port/api/v1/queue/$status_room/status"

keys() { for k in "$@"; do printf 'bk:{evt:%s}:%s ' "$rb_room" "$k"; done; }
join_sha=$(redis-cli -p "$redis_port" script load "$(cat Lua/queue_join.lua)")
status_sha=$(redis-cli -p "$redis_port" script load "$(cat Lua/queue_status.lua)")
rb() { redis-benchmark -p "$redis_port" -c 50 -P 1 -q "$@" | tr '\r' '\n' | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'; }
# Joins: fresh visitors from a large random space. Status: 10,000 visitors who joined first.
rb_join=$(rb -n 200000 -r 100000000 evalsha "$join_sha" 9 $(keys room seq waiting seen prequeue visitors active stats pow:-) 'v:__rand_int__' '' 0)
redis-benchmark -p "$redis_port" -c 50 -n 10000 -q evalsha "$join_sha" 9 $(keys room seq waiting seen prequeue visitors active stats pow:-) 'p:__rand_int__' '' 0 -r 10000 >/dev/null
rb_status=$(rb -n 200000 -r 10000 evalsha "$status_sha" 7 $(keys room waiting seen prequeue visitors stats ended) 'p:__rand_int__')

for room in "$join_room" "$status_room" "$rb_room"; do admin DELETE "rooms/$room"; done
rm -f "$tickets" "$tickets.bare"

mkdir -p bench/results
{
  echo "# Waiting room: joins and status polls through the gateway vs the Lua scripts alone"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared by wrk, the gateway (release build) and Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2); wrk -t2 -c$connections -d${seconds}s; redis-benchmark -c 50 -P 1."
  echo
  echo "| operation | gateway (req/s) | p50 ms | p99 ms | gateway CPU µs/request | Redis commands/request | errors | redis-benchmark, same script (req/s) | gateway / script |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for op in join status redis_status; do
    out_var=${op}_out; cpu_var=${op}_cpu; redis_var=${op}_redis; rb_var=rb_${op#redis_}
    out=${!out_var}; ceiling=${!rb_var}
    label=$op; [ "$op" = status ] && label="status, from the room snapshot (place token)"; [ "$op" = redis_status ] && label="status, from Redis (no place token)"
    echo "| $label | $(rate "$out") | $(pct "$out" 50%) | $(pct "$out" 99%) | ${!cpu_var} | ${!redis_var} | $(errors "$out") | ${ceiling%.*} | $(ratio "$(rate "$out")" "$ceiling") |"
  done
  echo
  echo "Where the machine's CPU went, µs per request (\`/proc\` over each run; the rest is wrk, the kernel's softirqs and"
  echo "anything else); with every core busy at that cost, $(nproc) cores serve at most $(nproc) s / (all µs) requests per second."
  echo
  echo "| operation | gateway | Redis | Postgres | the rest | all | machine busy | at most, every core busy |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for op in join status redis_status; do
    var=${op}_split; read -r g r p rest all busy <<<"${!var}"
    echo "| $op | $g | $r | $p | $rest | $all | $busy | $(python3 -c "print(int($(nproc) * 1e6 / max(0.1, $all)))") |"
  done
  echo
  echo "Gateway RSS: ${join_rss} KiB after the join run, ${status_rss} KiB after the status run."
  echo
  echo "Joins: each request is a new visitor (the gateway issues a signed ticket and sets a cookie)."
  echo "Status: 10,000 joined visitors polling at random, by Visitor-Ticket header, first with the place token their join"
  echo "returned (answered from the gateway's room snapshot, read once per 250 ms tick), then without it (queue_status.lua per poll)."
  echo "Redis commands/request: all commands Redis processed during the run (the releaser's and snapshot reads included) over requests."
  echo
  echo "Reproduce: \`bench/waiting-room.sh $seconds $connections\`"
} | tee bench/results/waiting-room.md
