# Shared by the bench scripts: sourced after `cd` to the repository, with $seconds and
# $connections set. Starts the local services and exports their URLs.
eval "$(scripts/services up | sed 's/^/export /')"
redis_port=$(sed -E 's#.*:([0-9]+)/.*#\1#' <<<"$REDIS_URL")

# wrk with latency percentiles, for the run's duration and connections.
wrk_run() { wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@"; }
# From wrk's output: "Requests/sec: 12345.67" → 12345.
rate() { awk '/Requests\/sec/ {printf "%d", $2}' <<<"$1"; }
# From wrk --latency's output: the percentile $2 ("50%", "99%") in milliseconds.
pct() { awk -v p="$2" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.2f", v}' <<<"$1"; }
# From wrk's output: its non-2xx and socket-error lines, if any.
errors() { awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$1"; }
# Resident memory of process $1 in KiB.
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# Waits up to 10 s for http://127.0.0.1:$1/health.
wait_healthy() { for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done; echo "port $1 never became healthy" >&2; return 1; }
# $1 / $2 with two decimals.
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
