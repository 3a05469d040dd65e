#!/usr/bin/env bash
# Redis client throughput: our client (rush-load redis) vs redis-benchmark, same Redis, same run.
#
#   bench/redis-client.sh [requests] [clients]
#
# Both use N concurrent callers that each wait for a reply before sending again (-P 1), so the
# figures compare like with like. Prints a table and writes bench/results/redis-client.md.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-200000}
clients=${2:-50}
eval "$(scripts/services up | sed 's/^/export /')"
port=$(sed -E 's#.*:([0-9]+)/.*#\1#' <<<"$REDIS_URL")

scripts/release-build --product rush-load >/dev/null
rush_load=$(scripts/release-build --show-bin-path)/rush-load

sha=$(redis-cli -p "$port" script load "$(cat Lua/lease_release.lua)")
redis-cli -p "$port" set key:__rand_int__ xxx >/dev/null

# redis-benchmark -q prints "SET: 123456.79 requests per second, p50=0.199 msec"
rb() { redis-benchmark -p "$port" -c "$clients" -P 1 -n "$requests" -q "$@" | tr '\r' '\n' | grep 'requests per second' | tail -1; }
rb_rate() { sed -E 's/.*: ([0-9.]+) requests per second.*/\1/' <<<"$1"; }
rb_p50() { sed -nE 's/.*p50=([0-9.]+) msec.*/\1/p' <<<"$1"; }

declare -A ours_rate ours_p50 ours_p99 theirs_rate theirs_p50
while IFS= read -r line; do
  test=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["test"])' "$line")
  ours_rate[$test]=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["opsPerSecond"]))' "$line")
  ours_p50[$test]=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["p50Microseconds"]))' "$line")
  ours_p99[$test]=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["p99Microseconds"]))' "$line")
  rss=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["peakRssKiB"])' "$line")
done < <("$rush_load" redis --url "$REDIS_URL" --requests "$requests" --clients "$clients" --json)

out=$(rb -t set); theirs_rate[set]=$(rb_rate "$out"); theirs_p50[set]=$(rb_p50 "$out")
out=$(rb -t get); theirs_rate[get]=$(rb_rate "$out"); theirs_p50[get]=$(rb_p50 "$out")
out=$(rb evalsha "$sha" 1 bench:lease owner); theirs_rate[evalsha]=$(rb_rate "$out"); theirs_p50[evalsha]=$(rb_p50 "$out")

mkdir -p bench/results
{
  echo "# Redis client vs redis-benchmark"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(redis-server --version | awk '{print $3}'), $requests requests, $clients concurrent callers, one reply awaited per caller (-P 1)."
  echo
  echo "| command | rush-load (req/s) | p50 µs | p99 µs | redis-benchmark (req/s) | p50 µs | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for test in set get evalsha; do
    ratio=$(python3 -c "print(f'{${ours_rate[$test]} / ${theirs_rate[$test]}:.2f}')")
    theirs_p50_us=$(python3 -c "print(round(${theirs_p50[$test]:-0} * 1000))")
    echo "| ${test^^} | ${ours_rate[$test]} | ${ours_p50[$test]} | ${ours_p99[$test]} | ${theirs_rate[$test]%.*} | $theirs_p50_us | ${ratio}× |"
  done
  echo
  echo "Peak RSS of rush-load (client, 50 callers, latency samples included): ${rss} KiB."
  echo
  echo "Reproduce: \`bench/redis-client.sh $requests $clients\`"
} | tee bench/results/redis-client.md
