"""EVENT_LOOP_THREADS sets how many event loops (the threads of NIO's singleton group, NIO-SGLTN-…) a process runs; a value
out of range stops it at start with a message, before it serves anything."""
import os
import subprocess

import pytest

from conftest import ADMIN_TOKEN, binary, free_port, start, stop


def event_loop_threads(pid: int) -> int:
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/comm") as file:
            names.append(file.read().strip())
    return sum(1 for name in names if name.startswith("NIO-SGLTN-"))


@pytest.mark.parametrize("threads", [None, 1, 3])
def test_the_gateway_runs_the_event_loops_it_is_given(threads):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {"ADMIN_TOKEN": ADMIN_TOKEN, "EVENT_LOOP_THREADS": str(threads) if threads else ""}
    process = start(["gateway", "--port", str(port), "--without-accounts"], environment, base)
    try:
        assert event_loop_threads(process.pid) == (threads or len(os.sched_getaffinity(0)))
    finally:
        stop(process)


@pytest.mark.parametrize("value", ["0", "257", "two", "-1"])
def test_an_event_loop_count_out_of_range_stops_the_process_with_a_message(value):
    run = subprocess.run([binary(), "gateway", "--port", str(free_port()), "--without-accounts"],
                         env=dict(os.environ, ADMIN_TOKEN=ADMIN_TOKEN, EVENT_LOOP_THREADS=value),
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 64, run.stderr[-500:]
    assert f"EVENT_LOOP_THREADS must be a whole number from 1 to 256, not {value}" in run.stderr
