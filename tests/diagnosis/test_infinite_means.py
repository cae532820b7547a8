"""A time with no finite mean (a Pareto tail with α ≤ 1, which the spec allows): the run is
diagnosed as usual, and where a fix would be a count sized from a mean (replicas, workers,
cores, pool slots, bulkhead slots, consumers) the finding says there is none to give and why,
instead of converting an infinite size to an integer (OverflowError)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text

PARETO = {"dist": "pareto", "min": "1ms", "alpha": 0.5}


def _system(components: dict[str, Any], rate: str = "50/s", **workload: Any) -> System:
    entry = next(iter(components))
    spec = {"scalesim": 1, "name": "t", "components": components,
            "workloads": [{"name": "w", "to": entry, "rate": rate, **workload}],
            "simulation": {"duration": "5s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "t.yaml")


def _callee(**settings: Any) -> dict[str, Any]:
    return {"workers": 200, **settings, "operations": {"get": {"work": PARETO}}}


CASES = {
    # a queue that refuses: _replicas_fix
    "replicas": ({"api": {"workers": 2, "queue": 10,
                          "operations": {"get": {"work": PARETO}}}}, "saturated", "api"),
    # an autoscaled fleet: _scaled_fix
    "autoscale": ({"api": {"workers": 2, "queue": 10,
                           "autoscale": {"min": 1, "max": 3, "metrics": [{"cpu": "60%"}]},
                           "operations": {"get": {"work": PARETO}}}}, "saturated", "api"),
    # cores: cpu_bound
    "cores": ({"api": {"workers": 8, "cores": 1, "operations": {"get": {"work": PARETO}}}},
              "saturated", "api"),
    # only the leader serves: _one_replica
    "leader": ({"db": {"kind": "database", "replicas": 3, "workers": 2,
                       "replication": {"mode": "async", "writes": ["put"], "reads": "leader"},
                       "operations": {"put": {"work": PARETO}, "get": {"work": "1ms"}}}},
               "saturated", "db"),
    # callers' connection pools: Little's law on an infinite round trip
    "pool": ({"gw": {"workers": 200, "operations": {"get": {"calls": [{"to": "api.get"}]}}},
              "api": _callee(connection_pool={"max_connections": 2, "max_pending_requests": 1,
                                              "max_requests": 2})}, "limit", "api"),
    # a bulkhead: the same for its slots
    "bulkhead": ({"gw": {"workers": 200, "operations": {"get": {"calls": [
        {"to": "api.get", "bulkhead": {"max_concurrent": 2}}]}}}, "api": _callee()},
        "limit", "gw.get→api.get"),
    # a queue's consumers: deliveries in flight and consumer replicas
    "queue": ({"gw": {"workers": "unlimited",
                      "operations": {"get": {"calls": [{"to": "jobs.publish", "async": True}]}}},
               "jobs": {"kind": "queue", "consumers": [{"to": "worker.run", "concurrency": 2}]},
               "worker": {"workers": 2, "operations": {"run": {"work": PARETO}}}},
              "backlog", "jobs->worker.run"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_finding_on_an_infinite_mean_says_no_count_can_be_sized(case: str) -> None:
    components, kind, subject = CASES[case]
    rate = "100/s" if case in ("pool", "bulkhead", "queue") else "50/s"
    system = _system(components, rate)
    found = diagnose(system, simulate(system))
    json.dumps(found, allow_nan=False)
    finding = next(f for f in found if (f["kind"], f["subject"]) == (kind, subject))
    assert finding["fix"] is not None, finding
    assert finding["fix"]["set"] == []
    assert "no count can be sized" in finding["fix"]["summary"]
    assert "infinite mean" in finding["fix"]["summary"]


def test_the_infinite_means_are_named_down_the_calls_a_visit_waits_on() -> None:
    from scalesim.diagnosis.context import infinite_means

    system = _system({"gw": {"workers": 4, "operations": {"get": {
        "work": "1ms", "calls": [{"to": "api.get"}, {"to": "jobs.publish", "async": True}]}}},
        "api": {"workers": 2, "operations": {"get": {"work": "1ms", "wait": PARETO,
                                                       "post_work": PARETO}}},
        "jobs": {"kind": "queue", "consumers": [{"to": "worker.run"}]},
        "worker": {"operations": {"run": {"work": PARETO}}}})
    assert infinite_means(system, "gw") == ["api.get wait", "api.get post_work"]
    assert infinite_means(system, "worker") == ["worker.run work"]
    assert infinite_means(system, "jobs") == []
