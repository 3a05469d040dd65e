#!/usr/bin/env python3
"""Gathers the headline figures of bench/results/*.md into one table: bench/results/README.md.
Each row names its baseline from the same script run (the scripts measure both together)."""
import os, re, sys

RESULTS = os.path.join(os.path.dirname(__file__), "results")


def table(name):
    """The first markdown table of results/NAME as a list of {header: cell}, and the file's date line."""
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return [], "not run"
    lines = open(path).read().splitlines()
    stamp = next((l.split(",")[0] for l in lines if re.match(r"^\d{4}-\d\d-\d\dT", l)), "")
    first = next((i for i, l in enumerate(lines) if l.startswith("|")), len(lines))
    rows = []
    for l in lines[first:]:
        if not l.startswith("|"):
            break
        rows.append(l)
    if len(rows) < 3:
        return [], stamp
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    return [dict(zip(header, [c.strip() for c in r.strip("|").split("|")])) for r in rows[2:]], stamp


out = ["# Benchmark results: headline figures", "",
       "Collected by `bench/summary.py` from the files beside this one; each figure's baseline was measured in the same",
       "script run on the same machine (2 shared cores). Dates say when each script last ran: compare a figure with its own",
       "baseline, not with another file's (these machines are noisy).", "",
       "| figure | ours | p50 ms | p99 ms | baseline, same run | ours / baseline | run |", "|---|---:|---:|---:|---:|---:|---|"]

rows, stamp = table("redis-client.md")
for r in rows:
    out.append(f"| Redis client {r['command']} (req/s, 50 callers) | {r['rush-load (req/s)']} | {float(r['p50 µs'])/1000:.2f} | {float(r['p99 µs'])/1000:.2f} | redis-benchmark {r['redis-benchmark (req/s)']} | {r['ratio']} | {stamp} |")
rows, stamp = table("waiting-room.md")
for r in rows:
    extra = f"; {r['gateway CPU µs/request']} CPU µs and {r['Redis commands/request']} Redis commands per request" if "Redis commands/request" in r else ""
    out.append(f"| waiting room {dict(join='joins', status='status polls').get(r['operation'], r['operation'])} (req/s through the gateway{extra}) | {r['gateway (req/s)']} | {r['p50 ms']} | {r['p99 ms']} | same Lua script in redis-benchmark {r['redis-benchmark, same script (req/s)']} | {r['gateway / script']} | {stamp} |")
rows, stamp = table("gateway-vs-nginx.md")
nginx = next((r for r in rows if r["proxy"].startswith("nginx")), None)
for r in rows:
    if r is nginx or nginx is None:
        continue
    cpu = f", {r['CPU µs/request']} CPU µs/request vs nginx's {nginx['CPU µs/request']}" if "CPU µs/request" in r else ""
    same = r.get("vs nginx, same requests", "–")
    ratio = r["vs nginx"] if same in ("–", r["vs nginx"]) else f"{r['vs nginx']} ({same} of nginx proxying the same requests)"
    out.append(f"| proxy: {r['proxy']} (req/s{cpu}) | {r['req/s']} | {r['p50 ms']} | {r['p99 ms']} | nginx {nginx['req/s']} | {ratio} | {stamp} |")
rows, stamp = table("booking.md")
ceiling = next((r for r in rows if "ceiling" in r["path"]), None)
for r in rows:
    if r is ceiling:
        continue
    ratio = f"{int(r['reserves/s']) / int(ceiling['reserves/s']):.2f}×" if ceiling else ""
    cpu_key = "CPU µs/request: booking / gateway"
    cpu = f" ({r[cpu_key]} CPU µs/request: booking / gateway)" if r.get(cpu_key) else ""
    out.append(f"| reserves/s: {r['path']}{cpu} | {r['reserves/s']} | {r['p50 ms']} | {r['p99 ms']} | booking_reserve.lua in redis-benchmark {ceiling['reserves/s'] if ceiling else ''} | {ratio} | {stamp} |")

out += ["", "## Growth with the crowd (`scaling.md`)", "",
        "| waiting visitors | Redis bytes / visitor | join p50 / p99 ms | status p50 / p99 ms | gateway RSS KiB | Redis RSS KiB |", "|---:|---:|---:|---:|---:|---:|"]
rows, stamp = table("scaling.md")
for r in rows:
    out.append(f"| {r['waiting visitors']} | {r['Redis bytes / visitor']} | {r['join p50 ms']} / {r['join p99 ms']} | {r['status p50 ms']} / {r['status p99 ms']} | {r['gateway RSS KiB']} | {r['Redis RSS KiB']} |")
out += ["", f"Run: {stamp}.", "", "## Flash sales end to end (`flash-sale.md`)", "",
        "| scenario | visitors / seats | sold+held / capacity | oversold | duplicates | definite inversions | Kendall tau | reserve p99 ms | errors |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
rows, stamp = table("flash-sale.md")
for r in rows:
    if "seats" not in r:
        continue
    out.append(f"| {r['scenario']} | {r['visitors']} / {r['seats']} | {r['sold+held / capacity']} | {r['oversold']} | {r['duplicate bookings']} | {r['definite inversions']} | {r['Kendall tau']} | {r['reserve p50 / p99 ms'].split('/')[-1].strip()} | {r['errors']} |")
out += ["", f"Run: {stamp}.", "", "## Proof of work: a bot's joins per CPU-second (`pow-cost.md`)", "",
        "| proof_of_work bits | Python bot, joins per CPU-second | vs no proof | native bot (est.) | gateway CPU µs per join |", "|---:|---:|---:|---:|---:|"]
rows, stamp = table("pow-cost.md")
for r in rows:
    out.append(f"| {r['proof_of_work bits']} | {r['joins per bot CPU-second']} | {r['vs no proof']} | {r['native bot, joins per CPU-second (est.)']} | {r['gateway CPU µs per join']} |")
out += ["", f"Run: {stamp}.", "", "## Opening a 1,000,000-visitor pre-queue (`opening.md`)", "", "| figure | value | target |", "|---|---:|---|"]
rows, stamp = table("opening.md")
for r in rows:
    out.append(f"| {r['figure']} | {r['value']} | {r['target']} |")
out += ["", f"Run: {stamp}.", "", "## Server-Sent Event streams held on one gateway (`sse-crowd.md`)", "", "| figure | value |", "|---|---:|"]
rows, stamp = table("sse-crowd.md")
for r in rows:
    out.append(f"| {r['figure']} | {r['value']} |")
out += ["", f"Run: {stamp}.", "", "## Adaptive release against a congested upstream (`adaptive-release.txt`)", ""]
adaptive = os.path.join(RESULTS, "adaptive-release.txt")
if os.path.exists(adaptive):
    out += [line for line in open(adaptive).read().splitlines()[:5] if line.strip()]
else:
    out.append("not run")
out += ["", "Reproduce everything: `make bench` (runs every script, then this summary)."]
open(os.path.join(RESULTS, "README.md"), "w").write("\n".join(out) + "\n")
print("\n".join(out))
