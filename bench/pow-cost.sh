#!/usr/bin/env bash
# What a room's proof of work costs a queue-stuffing bot: joins per bot CPU-second without it
# (the baseline, same run) and at several difficulties, with the gateway's CPU per join beside it
# (verifying a solution is one SHA-256 and one HMAC). A Python bot (hashlib) is measured; a native
# bot is estimated from `openssl speed sha256` on this machine, since it hashes faster.
#
#   bench/pow-cost.sh [bot CPU seconds per difficulty] [difficulties…]
#
# Prints a table and writes bench/results/pow-cost.md.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-5}
shift || true
difficulties=${*:-0 12 16 18 20}
seconds=$budget connections=1
source bench/lib.sh
start_gateway
trap 'kill $gateway 2>/dev/null; wait $gateway 2>/dev/null' EXIT
wait_healthy "$port"

# SHA-256 of 64-byte inputs per second on one core, as a native bot would hash.
native=$(openssl speed -seconds 2 -bytes 64 sha256 2>/dev/null | awk '$1 == "sha256" {sub(/k$/, "", $2); printf "%d", $2 * 1000 / 64}')
rows=()
for bits in $difficulties; do
  rows+=("$(python3 bench/pow_bot.py "http://127.0.0.1:$port" "$ADMIN_TOKEN" "$gateway" "$bits" "$budget")")
done

mkdir -p bench/results
ROWS=$(printf '%s\n' "${rows[@]}") python3 - "$native" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" <<'EOF' | tee bench/results/pow-cost.md
import json, os, sys
native, when, cores = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = [json.loads(line) for line in os.environ["ROWS"].splitlines() if line.strip()]
base = next((r for r in rows if r["difficulty"] == 0), None)
base_rate = base["joins"] / base["bot_cpu_s"] if base else None
print("# Proof of work: what a join costs a bot\n")
print(f"{when}, {cores} cores shared by the bot, the gateway (release build) and Redis. Each row: one fresh room, one")
print("Python bot joining as a new visitor each time (GET challenge, solve with hashlib, POST join) until it has used")
print(f"its CPU budget. Native estimate: 2^bits hashes per join at {native:,} SHA-256/s (openssl speed, 64-byte input, one core).\n")
print("| proof_of_work bits | joins | refused | bot CPU s | joins per bot CPU-second | vs no proof | hashes per join (expected 2^bits) | native bot, joins per CPU-second (est.) | gateway CPU µs per join |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    rate = r["joins"] / r["bot_cpu_s"] if r["bot_cpu_s"] else 0
    versus = f"{rate / base_rate:.4f}×" if base_rate else "–"
    per_join = f"{r['hashes'] / max(1, r['joins']):,.0f} ({2 ** r['difficulty']:,})" if r["difficulty"] else "–"
    est = f"{native / 2 ** r['difficulty']:,.1f}" if r["difficulty"] else "–"
    print(f"| {r['difficulty']} | {r['joins']} | {r['refused']} | {r['bot_cpu_s']:.2f} | {rate:,.1f} | {versus} | {per_join} | {est} | {r['gateway_cpu_us_per_join']} |")
print()
print("Rows with few joins carry the luck of the draw: hashes per solution follow a geometric distribution with mean 2^bits.")
print("Gateway CPU per join is all the gateway's CPU over the row divided by its joins, so where joins are few it is mostly")
print("the gateway's idle background work (release loops, metrics); the rows with many joins show the cost of a challenge plus a join.")
print("Reproduce: `bench/pow-cost.sh 5 0 12 16 18 20`.")
EOF
