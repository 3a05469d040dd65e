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
# The gateway binary to measure: $GATEWAY_BIN when set (a build saved earlier), else this
# checkout's release build, made first.
gateway_bin() {
  if [ -n "${GATEWAY_BIN:-}" ]; then
    echo "$GATEWAY_BIN"
  else
    scripts/release-build --product booking-rush >/dev/null
    echo "$(scripts/release-build --show-bin-path)/booking-rush"
  fi
}
# A release-build gateway alone on $BENCH_GATEWAY_PORT (18080), with the bench secrets (GATEWAY_BIN
# runs another build instead, e.g. one saved from an earlier commit): sets $port,
# $gateway (its pid) and admin() (METHOD PATH [JSON] against /admin/v1); its output goes to $GATEWAY_LOG
# when set; GATEWAY_ROUTES names a routes file for its proxy. The caller kills it.
start_gateway() {
  port=${BENCH_GATEWAY_PORT:-18080}
  export ADMIN_TOKEN=bench-admin-token-0123456789
  export VISITOR_TICKET_SECRET=bench-visitor-ticket-secret-0123456789abcdef
  command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
  local bin
  bin=$(gateway_bin)
  local args=(gateway --port "$port" --log-level warning ${GATEWAY_ROUTES:+--routes "$GATEWAY_ROUTES"})
  if [ -n "${GATEWAY_LOG:-}" ]; then
    "$bin" "${args[@]}" >"$GATEWAY_LOG" 2>&1 &
  else
    "$bin" "${args[@]}" &
  fi
  gateway=$!
}
admin() { curl -fs -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' "http://127.0.0.1:$port/admin/v1/$2" ${3:+-d "$3"} >/dev/null; }
# CPU time used so far by the processes $@ (utime + stime from /proc/PID/stat), in clock ticks.
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }
# The machine's CPU so far, from /proc/stat, in clock ticks: "busy idle" (idle counts iowait).
machine_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
# Redis's pid, and Postgres's: the postmaster and its live processes (a backend that has exited
# is counted in the postmaster's children's time, see postgres_ticks).
redis_pid() { redis-cli -p "$redis_port" info server | awk -F: '/^process_id:/ {print $2+0}'; }
postgres_ticks() {
  local master total=0 pid
  master=$(pgrep -o -x postgres) || { echo 0; return; }
  total=$(awk '{print $16 + $17}' "/proc/$master/stat")
  for pid in $(pgrep -x postgres); do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
  echo "$total"
}
# Where the machine's CPU went during a run: `cpu_split_start GROUP...` before it (each GROUP
# one pid, or several in one word: "PID PID"), then `cpu_split_end REQUESTS` after it prints, in
# µs per request, each group's CPU, Redis's, Postgres's, the rest (wrk, the kernel's softirqs,
# anything else), all of it, and the share of the machine that was busy.
cpu_split_start() {
  split_machine=$(machine_ticks); split_redis=$(cpu_ticks "$(redis_pid)"); split_postgres=$(postgres_ticks)
  split_pids=(); split_ticks=()
  local group; for group in "$@"; do split_pids+=("$group"); split_ticks+=("$(cpu_ticks $group)"); done
}
cpu_split_end() {
  local requests=$1 machine busy idle own=0 i fields=()
  read -r busy idle <<<"$(machine_ticks)"
  read -r machine_busy machine_idle <<<"$split_machine"
  busy=$((busy - machine_busy)); idle=$((idle - machine_idle))
  for i in "${!split_pids[@]}"; do
    local used=$(( $(cpu_ticks ${split_pids[$i]}) - split_ticks[i] ))
    own=$((own + used)); fields+=("$(cpu_us "$used" "$requests")")
  done
  local redis=$(( $(cpu_ticks "$(redis_pid)") - split_redis )) postgres=$(( $(postgres_ticks) - split_postgres ))
  fields+=("$(cpu_us "$redis" "$requests")" "$(cpu_us "$postgres" "$requests")" "$(cpu_us $((busy - own - redis - postgres)) "$requests")")
  fields+=("$(cpu_us "$busy" "$requests")" "$(python3 -c "print(f'{100 * $busy / max(1, $busy + $idle):.0f} %')")")
  echo "${fields[*]}"
}
# From wrk's output: how many requests completed.
requests() { awk '/requests in/ {print $1}' <<<"$1"; }
# CPU µs per request: ticks used ($1) over the requests wrk completed ($2).
cpu_us() { python3 -c "print(f'{$1 * 1e6 / $(getconf CLK_TCK) / max(1, $2):.1f}')"; }
# Unlinks every Redis key matching the pattern $1, in SCAN steps.
unlink_matching() {
  redis-cli -p "$redis_port" --scan --pattern "$1" | xargs -r -n 1000 redis-cli -p "$redis_port" unlink >/dev/null
}
# Removes events a bench created, with everything filed under them, from make run's stores: their
# Redis keys (SPACE:{evt:ID}:*, SPACE being $REDIS_KEY_SPACE or bk, and their entry in the booking
# persister's set of events), then their Postgres rows (drop_bench_rows). Benches leave nothing
# behind: a million leftover holds slow every later run (AOF rewrites, sweeps).
drop_bench_events() {
  [ $# -gt 0 ] || return 0
  local event space=${REDIS_KEY_SPACE:-bk}
  redis-cli -p "$redis_port" srem "$space:booking-events" "$@" >/dev/null
  for event in "$@"; do unlink_matching "$space:{evt:$event}:*"; done
  drop_bench_rows "$@"
}
# Removes the Postgres rows of the events $@: payments, sagas, outbox, bookings, zones, events.
drop_bench_rows() {
  [ $# -gt 0 ] || return 0
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -v events="{$(IFS=,; echo "$*")}" >/dev/null <<'SQL'
BEGIN;
CREATE TEMP TABLE dropped_bookings ON COMMIT DROP AS
  SELECT id FROM booking.bookings WHERE event_id = ANY (:'events'::text[]);
DELETE FROM payments.webhook_deliveries WHERE payment_id IN (SELECT id FROM payments.intents WHERE event_id = ANY (:'events'::text[]));
DELETE FROM payments.intents WHERE event_id = ANY (:'events'::text[]);
DELETE FROM booking.outbox WHERE booking_id IN (SELECT id FROM dropped_bookings);
DELETE FROM booking.sagas WHERE event_id = ANY (:'events'::text[]);
DELETE FROM booking.bookings WHERE event_id = ANY (:'events'::text[]);
DELETE FROM booking.events WHERE id = ANY (:'events'::text[]);
COMMIT;
SQL
}
# profiled FILE PID COMMAND...: runs COMMAND while `perf record -g` samples PID into FILE for
# $seconds (when FILE is set). PERF_CALL_GRAPH (default -g, frame pointers) and PERF_FREQUENCY
# (default 999 Hz) change the sampling: `--call-graph dwarf,8192` also walks libc's frames, so
# malloc's callers show, at a lower frequency to keep the data small.
profiled() {
  local file=$1 pid=$2 perf_pid=
  shift 2
  if [ -n "$file" ]; then perf record -F ${PERF_FREQUENCY:-999} ${PERF_CALL_GRAPH:--g} -p "$pid" -o "$file" -- sleep "$seconds" >/dev/null 2>&1 & perf_pid=$!; fi
  "$@"
  if [ -n "$perf_pid" ]; then wait "$perf_pid" || true; fi
}

# nginx as the proxies' baseline, run from $work (1 worker each): an upstream on $upstream_port
# answering 200 from memory, and a proxy on $nginx_port in front of it with upstream keep-alive.
# Sets $proxy_pids and $upstream_pids (each one's master and worker); stop_nginx_pair stops both.
start_nginx_pair() {
  local name
  nginx_conf() { # $1 name, $2 server block
    printf 'worker_processes 1;\npid %s/%s.pid;\nerror_log %s/%s-error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  upstream backend { server 127.0.0.1:%s; keepalive 128; }\n  %s\n}\n' \
      "$work" "$1" "$work" "$1" "$upstream_port" "$2" >"$work/$1.conf"
  }
  nginx_conf upstream "server { listen 127.0.0.1:$upstream_port; location / { default_type application/json; return 200 '{\"ok\":true}'; } }"
  nginx_conf proxy "server { listen 127.0.0.1:$nginx_port; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
  for name in upstream proxy; do nginx -p "$work" -c "$work/$name.conf"; done
  sleep 0.2
  proxy_pids=$(cat "$work/proxy.pid"; pgrep -P "$(cat "$work/proxy.pid")")
  upstream_pids=$(cat "$work/upstream.pid"; pgrep -P "$(cat "$work/upstream.pid")")
}
stop_nginx_pair() { local name; for name in upstream proxy; do nginx -p "$work" -c "$work/$name.conf" -s stop 2>/dev/null || true; done; }

# The booking benches' end: kills the processes in ${pids[@]}, then drops the run's Redis key space
# ($REDIS_KEY_SPACE), the Postgres rows of the events $@, and $work.
stop_services_and_drop() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  unlink_matching "$REDIS_KEY_SPACE:*"
  drop_bench_rows "$@" || echo "could not drop the bench's events $*" >&2
  rm -rf "$work"
}
# publish_bench_event PORT EVENT: the event EVENT on the booking service at PORT, with one zone
# "floor" of 1,000,000 seats and 100 seats per user, created and published by an organizer whose
# identity is signed with $INTERNAL_SECRET.
publish_bench_event() {
  local port=$1 event=$2
  organizer_post "$port" /api/v1/events "{\"id\":\"$event\",\"name\":\"Bench\",\"venue\":\"Loopback\",\"starts_at\":\"2030-01-01T20:00:00Z\",\"max_per_user\":100,\"zones\":[{\"id\":\"floor\",\"name\":\"Floor\",\"price_minor\":5000,\"currency\":\"EUR\",\"capacity\":1000000}]}"
  organizer_post "$port" "/api/v1/events/$event/publish"
}
# organizer_post PORT PATH [JSON]: POST to the booking service at PORT as a signed organizer.
organizer_post() {
  local user request signature
  IFS=$'\t' read -r user request signature < <(bench/identities.py "$INTERNAL_SECRET" 1 bench-organizer organizer POST "$2" "${3:-}")
  curl -fs -X POST "http://127.0.0.1:$1$2" -H 'Content-Type: application/json' -H "X-Gateway-User-Id: $user" \
    -H 'X-Gateway-User-Roles: organizer' -H "X-Request-Id: $request" -H "X-Gateway-Signature: $signature" ${3:+-d "$3"} >/dev/null
}
