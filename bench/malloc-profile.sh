#!/usr/bin/env bash
# Allocations per request of one process: a uprobe on libc's malloc records every call (with its
# call graph) while wrk runs, then the calls are counted per request and by the first caller
# outside the allocator and the Swift runtime. Allocation counts do not depend on machine noise,
# so they show a change that CPU µs per request is too noisy to show.
#
#   bench/malloc-profile.sh PID LABEL [seconds] -- WRK_ARGS...
#   e.g. bench/malloc-profile.sh "$gateway" plain 5 -- -t1 -c32 http://127.0.0.1:18080/plain/x
#   MALLOC_CALLER_DEPTH=3 bench/malloc-profile.sh ...   # the first 3 callers outside the allocator, not 1
#
# Writes the table to bench/results/malloc-profile-LABEL.txt. The uprobe slows the process
# many times over: the throughput of such a run means nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
pid=$1; label=$2; seconds=${3:-5}
shift 3; [ "${1:-}" = "--" ] && shift
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
libc=$(awk '/libc\.so/ {print $6; exit}' "/proc/$pid/maps")
# The probe is defined for this run only (an earlier one's is reused, and left as it was).
malloc_probe() { perf probe -l 2>/dev/null | awk '/:malloc/ {print $1; exit}'; }
event=$(malloc_probe); defined_here=
if [ -z "$event" ]; then
  perf probe -q -x "$libc" malloc 2>/dev/null || true
  event=$(malloc_probe); defined_here=1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -z "$defined_here" ] || perf probe -q -d "$event" 2>/dev/null || true' EXIT
perf record -q -e "$event" -g -p "$pid" -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1 &
recorder=$!
sleep 0.2
out=$(wrk -d"$((seconds - 1))s" "$@")
wait "$recorder" || true
requests=$(awk '/requests in/ {print $1}' <<<"$out")
perf script -i "$work/perf.data" -F ip,sym 2>/dev/null >"$work/stacks"
mkdir -p bench/results
python3 - "$work/stacks" "$requests" "$label" "${MALLOC_CALLER_DEPTH:-1}" <<'PY' | tee "bench/results/malloc-profile-$label.txt"
import collections, sys
stacks, requests, label = open(sys.argv[1]).read().split('\n\n'), max(1, int(sys.argv[2] or 0)), sys.argv[3]
depth = max(1, int(sys.argv[4]))
skip = ('swift_', '_swift', 'swift::', 'malloc', '$ss', '$sS', '[unknown]')
callers, total = collections.Counter(), 0
for stack in stacks:
    frames = [line.split(None, 1)[1] for line in stack.strip().split('\n') if len(line.split(None, 1)) > 1]
    if not frames: continue
    total += 1
    named = [f[:150] for f in frames[1:] if not f.startswith(skip)] or ['?']
    callers[' <- '.join(named[:depth])] += 1
print(f"# malloc calls per request ({label}): {total / requests:.1f} ({total} calls over {requests} requests, all threads of the process)")
callers_named = "first caller" if depth == 1 else f"first {depth} callers (innermost first)"
print(f"# per request, by {callers_named} outside the allocator and the Swift runtime ('?': a frame perf could not name)")
for caller, count in callers.most_common(25): print(f"{count / requests:7.2f}  {caller}")
PY
