#!/usr/bin/env bash
# Writes the top of a perf profile two ways: `perf report --no-children` by symbol (self time), and
# the samples attributed to the innermost frame of our own code (bench/perf_tally.py).
#
#   bench/profile-report.sh PERF_DATA "TITLE" [top=25] > bench/results/NAME.txt
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; title=$2; top=${3:-25}
echo "# $title"
echo "# perf report --no-children --sort dso,symbol (self time, top 20)"
perf report -i "$data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/[[:space:]-]*$//' | head -20 || true
echo
echo "# samples by the innermost frame of our code (bench/perf_tally.py; kernel: of it, time in the kernel)"
perf script -i "$data" -F ip,sym,dso 2>/dev/null | python3 bench/perf_tally.py "$top"
