#!/usr/bin/env python3
"""Compares the profiles of two proxy builds per request, from the tallies `PERF_DIR=DIR
bench/proxy-ab.sh` writes (first line: the run's request count; then bench/perf_tally.py's lines).
Every run of a side is summed; samples are turned into CPU µs per request at perf's 2999 Hz, so
builds measured at different rates compare. Prints the total, then the frames whose cost moved most.

    python3 bench/perf_diff.py DIR [top=30]
"""
import glob, re, sys

HZ = 2999
line_re = re.compile(r'\s*([\d.]+)% \(kernel\s*([\d.]+)%\)\s+(.*)')


def side(directory, name):
    """µs per request by frame, over every run of one side; and the total."""
    samples, total_samples, requests = {}, 0, 0
    for path in sorted(glob.glob(f"{directory}/{name}-*.tally")):
        lines = open(path).read().splitlines()
        if len(lines) < 2 or not lines[0].strip().isdigit():
            continue
        requests += int(lines[0])
        run_samples = int(lines[1].split()[0])
        total_samples += run_samples
        for line in lines[2:]:
            match = line_re.match(line)
            if match:
                frame = match.group(3)
                samples[frame] = samples.get(frame, 0) + float(match.group(1)) * run_samples / 100
    if requests == 0:
        sys.exit(f"no tallies for {name} in {directory}")
    per_request = 1e6 / HZ / requests
    return {frame: count * per_request for frame, count in samples.items()}, total_samples * per_request


def main():
    directory = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    before, before_total = side(directory, "before")
    after, after_total = side(directory, "after")
    print(f"CPU µs per request while recorded (perf's own cost included): before {before_total:.2f}, after {after_total:.2f}, {after_total - before_total:+.2f}")
    print(f"{'before':>8} {'after':>8} {'change':>7}  innermost frame of ours")
    frames = sorted(set(before) | set(after), key=lambda f: -abs(after.get(f, 0) - before.get(f, 0)))
    for frame in frames[:top]:
        b, a = before.get(frame, 0), after.get(frame, 0)
        print(f"{b:8.3f} {a:8.3f} {a - b:+7.3f}  {frame[:140]}")


if __name__ == "__main__":
    main()
