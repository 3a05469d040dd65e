#!/usr/bin/env bash
# Direct reserves (signed identity, straight to the booking service) on two builds running side by
# side, in short wrk runs that alternate between them, so the machine's noise falls on both alike:
#
#   bench/booking-direct-ab.sh BEFORE_BIN AFTER_BIN [rounds=6] [seconds=4] [connections=64]
#
# Each build serves its own event (one zone of 1,000,000 seats) on the same Redis and Postgres.
# Every round signs new identities (a signature is good for 60 s), then runs wrk against BEFORE and
# AFTER in turn, recording reserves/s and the booking service's CPU µs per reserve (/proc over
# the run). Prints every run and each build's medians, and appends them to
# bench/results/booking-direct-ab.md. The events, their bookings and the run's Redis key space are
# removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
before_bin=$1; after_bin=$2; rounds=${3:-6}; seconds=${4:-4}; connections=${5:-64}
source bench/lib.sh
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
users=5000
work=$(mktemp -d)
export INTERNAL_SECRET=bench-internal-secret-0123456789abcdef LOG_FORMAT=text
run=$(date +%s)
export REDIS_KEY_SPACE=bench-$run
labels=(before after); bins=("$before_bin" "$after_bin"); ports=(18091 18092); pids=()
events=("bench-ab-before-$run" "bench-ab-after-$run")
cleanup() { stop_services_and_drop "${events[@]}"; }
trap cleanup EXIT
"$after_bin" migrate >/dev/null
for i in 0 1; do
  "${bins[$i]}" booking --port "${ports[$i]}" --log-level warning & pids+=($!)
done
for i in 0 1; do wait_healthy "${ports[$i]}"; done

for i in 0 1; do publish_bench_event "${ports[$i]}" "${events[$i]}"; done

# identities I ROUND: users of round ROUND signed for build I's event, in $work/identities-I.tsv.
identities() {
  bench/identities.py "$INTERNAL_SECRET" "$users" "bench-user-$run-$2-" customer POST /api/v1/bookings/reserve \
    "{\"event_id\":\"${events[$1]}\",\"zone_id\":\"floor\",\"quantity\":1}" >"$work/identities-$1.tsv"
}
# reserves I SECONDS: wrk against build I, printing "reserves/s CPU-µs-per-reserve".
reserves() {
  local pid=${pids[$1]} ticks out
  ticks=$(cpu_ticks "$pid")
  out=$(IDENTITIES=$work/identities-$1.tsv EVENT=${events[$1]} wrk -t2 -c"$connections" -d"$2s" -s bench/wrk/reserve.lua \
    "http://127.0.0.1:${ports[$1]}/api/v1/bookings/reserve")
  echo "$(rate "$out") $(cpu_us $(( $(cpu_ticks "$pid") - ticks )) "$(requests "$out")")"
}

for i in 0 1; do identities "$i" 0; reserves "$i" 2 >/dev/null; done
results=$work/results
for round in $(seq 1 "$rounds"); do
  for i in 0 1; do
    identities "$i" "$round"
    read -r rate us <<<"$(reserves "$i" "$seconds")"
    echo "${labels[$i]} $rate $us" >>"$results"
    echo "round $round, ${labels[$i]}: $rate reserves/s, $us µs of booking CPU per reserve"
  done
done

mkdir -p bench/results
python3 - "$results" "$before_bin" "$after_bin" "$rounds" "$seconds" "$connections" <<'PY' | tee -a bench/results/booking-direct-ab.md
import statistics, sys, datetime
path, before, after, rounds, seconds, connections = sys.argv[1:]
runs = {"before": [], "after": []}
for line in open(path):
    label, rate, us = line.split()
    runs[label].append((int(rate), float(us)))
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
print(f"\n## {now}: {rounds} rounds of {seconds} s, wrk -t2 -c{connections}, builds alternating\n")
print(f"before = `{before}`, after = `{after}`\n")
print("| build | median reserves/s | median booking CPU µs per reserve | every run (reserves/s at µs) |")
print("|---|---:|---:|---|")
for label in ("before", "after"):
    rs = runs[label]
    cells = ", ".join(f"{r} at {u}" for r, u in rs)
    print(f"| {label} | {int(statistics.median(r for r, _ in rs))} | {statistics.median(u for _, u in rs):.1f} | {cells} |")
b = statistics.median(u for _, u in runs["before"]); a = statistics.median(u for _, u in runs["after"])
paired = [x[1] / y[1] for x, y in zip(runs["after"], runs["before"])]
print(f"\nCPU per reserve, after / before: {a / b:.3f} (medians); {statistics.median(paired):.3f} (median of each round's ratio);"
      f" after used less in {sum(r < 1 for r in paired)} of {len(paired)} rounds")
PY
