"""Adaptive release against a real upstream whose latency rises with its request rate (the
harness of bench/adaptive_sale.py): a gateway process admits a waiting crowd, each admitted
visitor calls the upstream through it, and the controller must settle near the rate the upstream
sustains within its p99 target, not overshoot it by more than the bound, and climb again when the
upstream gets faster."""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))

from adaptive_sale import DEFAULT_ADAPTIVE, Sale  # noqa: E402
from conftest import binary  # noqa: E402

TARGET = DEFAULT_ADAPTIVE["p99_target_ms"]
STEP = DEFAULT_ADAPTIVE["increase_step"]


def test_the_controller_converges_under_the_target_and_recovers_when_the_upstream_speeds_up(tmp_path):
    sale = Sale(binary(), str(tmp_path), capacity=15, adaptive=DEFAULT_ADAPTIVE, start_rate=4)
    try:
        slow_limit = sale.upstream.sustainable_rate(TARGET)
        began = sale.start()
        sale.run_for(30, began)
        slow = [point for point in sale.timeline if point["t"] >= 10]
        sale.upstream.capacity = 30
        fast_limit = sale.upstream.sustainable_rate(TARGET)
        sale.run_for(25, began)
        fast = [point for point in sale.timeline if point["capacity"] == 30]
        decisions = sale.decisions()
    finally:
        sale.close()

    rates = [point["rate"] for point in slow]
    assert max(rates) <= slow_limit + 2 * STEP, f"overshoot: up to {max(rates)}/s where {slow_limit:.1f}/s is sustainable"
    assert 0.4 * slow_limit <= statistics.mean(rates) <= slow_limit, f"mean rate {statistics.mean(rates):.1f}/s against {slow_limit:.1f}/s"
    measured = [point["p99_ms"] for point in slow if point["p99_ms"] is not None]
    assert statistics.median(measured) <= TARGET, f"the upstream's p99 mostly above target: {measured}"
    assert any(d["action"] == "decrease" and "over the 200 ms target" in d["reason"] for d in decisions), decisions
    assert min(point["rate"] for point in sale.timeline) >= DEFAULT_ADAPTIVE["min_rate"]

    recovered = max(point["rate"] for point in fast)
    assert recovered >= slow_limit + 6, f"after the upstream sped up the rate rose only to {recovered}/s"
    assert recovered <= fast_limit + 2 * STEP, f"overshoot after recovery: {recovered}/s where {fast_limit:.1f}/s is sustainable"
    assert all(decision["instance"] for decision in decisions)
