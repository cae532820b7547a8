"""The queues' and replica sets' time series cover the whole window, as the workloads' do:
the window end closes the last interval even when nothing is left in flight (the run stops
there), and an interval it cuts short gives rates over its own length."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim.sim import simulate

from .helpers import system

QUEUE = {
    "api": {"workers": 16, "operations": {"submit": {"work": "1ms",
                                                     "calls": [{"to": "jobs.publish"}]}}},
    "jobs": {"kind": "queue", "consumers": [{"to": "worker.process", "concurrency": 4}]},
    "worker": {"workers": 4, "operations": {"process": {"work": "2ms"}}},
}


def times(result: dict[str, Any], table: str) -> list[float]:
    return [row[0] for row in result["timeseries"][table]["rows"]]


@pytest.mark.parametrize("duration", ["20s", "22s"])
def test_queue_series_ends_at_the_window_end_with_rates_over_each_interval(duration: str
                                                                           ) -> None:
    spec = system(QUEUE, [{"name": "w", "to": "api.submit", "rate": "100/s"}],
                  duration=duration, warmup="0s", interval="5s")
    result = simulate(spec, with_series=True)
    assert times(result, "queues") == times(result, "workloads")
    assert times(result, "queues")[-1] == pytest.approx(float(duration[:-1]))
    rows = result["timeseries"]["queues"]["rows"]
    columns = result["timeseries"]["queues"]["columns"]
    rate = columns.index("published_rps")
    edges = [0.0, *times(result, "queues")]
    published = sum(row[rate] * (b - a) for row, a, b in zip(rows, edges, edges[1:],
                                                             strict=False))
    queue = result["queues"]["jobs->worker.process"]
    assert published == pytest.approx(queue["published"], abs=1e-6)


def test_replica_series_ends_at_the_window_end() -> None:
    components = {"api": {"replicas": 2, "workers": 8,
                          "autoscale": {"min": 2, "max": 4, "metrics": [{"cpu": "60%"}]},
                          "operations": {"get": {"work": "1ms"}}}}
    result = simulate(system(components, [{"name": "w", "to": "api.get", "rate": "10/s"}],
                             duration="20s", warmup="0s", interval="5s"), with_series=True)
    assert times(result, "replicas")[-1] == pytest.approx(20.0)
    assert times(result, "workloads")[-1] == pytest.approx(20.0)


RETRYING = {
    "api": {"workers": "unlimited", "operations": {"get": {"calls": [
        {"to": "db.q", "timeout": "50ms", "retry": {"attempts": 3, "backoff": "none"},
         "circuit_breaker": {"min_calls": 20, "window": 20, "open_for": "2s"},
         "on_failure": {"fallback": "1ms"}}]}}},
    "db": {"workers": 2, "operations": {"q": {"work": "10ms", "error_rate": "10%"}}},
}


@pytest.mark.parametrize("duration", ["20s", "22s"])
def test_each_calls_series_adds_up_to_its_totals(duration: str) -> None:
    # A call's rates over the intervals, times their lengths, are its counts in the window:
    # attempts, those its breaker refused, retries, failed attempts, timeouts, failed calls
    # and fallbacks; the series spans the window like the workloads'.
    spec = system(RETRYING, [{"name": "w", "to": "api.get", "rate": "150/s"}],
                  duration=duration, warmup="2s", interval="5s")
    result = simulate(spec, with_series=True)
    table = result["timeseries"]["calls"]
    assert times(result, "calls") == times(result, "workloads")
    edges = [2.0, *times(result, "calls")]

    def total(column: str) -> float:
        at = table["columns"].index(column)
        return sum(row[at] * (b - a)
                   for row, a, b in zip(table["rows"], edges[:-1], edges[1:], strict=True))

    edge = result["calls"][0]
    causes = edge["attempt_failures_by_cause"]
    assert edge["attempts"] > 0 and edge["retries"] > 0 and causes["circuit_open"] > 0
    for column, expected in [("attempts_rps", edge["attempts"]),
                             ("refused_here_rps", causes["circuit_open"]),
                             ("retries_rps", edge["retries"]),
                             ("attempt_failures_rps", sum(causes.values())),
                             ("timeouts_rps", edge["timeouts"]),
                             ("failed_rps", edge["failed"]),
                             ("fallbacks_rps", edge["fallbacks"])]:
        assert total(column) == pytest.approx(expected, abs=1e-4), column
