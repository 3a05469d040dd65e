#!/usr/bin/env bash
# Adaptive release against a deliberately slow upstream: a crowd in a waiting room, every
# admitted visitor calling an upstream whose latency rises with its request rate, the controller
# setting the release rate. Prints the release rate beside the upstream's p99 over time and every
# decision with its reason; writes bench/results/adaptive-release.txt.
#
#   bench/adaptive.sh [seconds per phase] [capacity]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
capacity=${2:-15}
scripts/services up >/dev/null
eval "$(scripts/services env | sed 's/^/export /')"
scripts/release-build --product booking-rush >/dev/null
python3 bench/adaptive_sale.py "$(scripts/release-build --show-bin-path)/booking-rush" --seconds "$seconds" --capacity "$capacity" \
  --output bench/results/adaptive-release.txt
