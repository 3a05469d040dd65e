#!/usr/bin/env bash
# bench/booking.sh with two saved release builds alternating in one session, so a change to the
# services is measured against the build before it under the same machine noise:
#   bench/booking-ab.sh BEFORE_BIN AFTER_BIN [rounds=2] [seconds=8] [connections=32]
# Each round runs booking.sh with BEFORE, then with AFTER (BOOKING_RUSH_BIN); bench/results/booking.md
# is left as it was. Prints each run's table rows (reserves/s, p50, p99, ratio, CPU µs per request
# of the booking service / gateway) and appends them to bench/results/booking-ab.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1; after=$2; rounds=${3:-2}; seconds=${4:-8}; connections=${5:-32}
out_file=bench/results/booking-ab.txt
kept=$(mktemp)
[ -f bench/results/booking.md ] && cp bench/results/booking.md "$kept"
restore() { [ -s "$kept" ] && cp "$kept" bench/results/booking.md; rm -f "$kept"; }
trap restore EXIT

{
  echo "# bench/booking.sh $seconds $connections, BOOKING_RUSH_BIN alternating: before = $before, after = $after. CPU µs/request: booking service / gateway. $(date -u +%Y-%m-%dT%H:%MZ)"
  for round in $(seq 1 "$rounds"); do
    for label in before after; do
      echo "== $label (round $round)"
      BOOKING_RUSH_BIN=${!label} bench/booking.sh "$seconds" "$connections" | grep -E '^\| (booking service|gateway|redis-benchmark)'
    done
  done
} | tee -a "$out_file"
