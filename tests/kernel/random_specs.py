"""Seeded random systems: valid specs that mix the kernel's mechanisms in random topologies,
for the compiled-versus-reference test and the benchmark's large topology.

Components form a random recursive tree under the entry service `s0` (each one's parent is
drawn among those before it, so depth grows as log n and no call cycles); a call to a child
is made with a drawn probability, so the load reaching each component is known, and its
workers are sized to a drawn utilization of that load (stable, yet some queues are busy).
"""

from __future__ import annotations

import math
import random
from typing import Any

BALANCERS = ["round_robin", "random", "least_requests", "p2c", "hash"]


def _work(rng: random.Random, mean_ms: float) -> Any:
    shape = rng.choice(["constant", "exponential", "gamma", "lognormal", "uniform"])
    if shape == "constant":
        return f"{mean_ms:.3f}ms"
    if shape == "exponential":
        return {"dist": "exponential", "mean": f"{mean_ms:.3f}ms"}
    if shape == "gamma":
        return {"dist": "gamma", "mean": f"{mean_ms:.3f}ms", "cv": round(rng.uniform(0.3, 2), 2)}
    if shape == "lognormal":
        return {"dist": "lognormal", "median": f"{mean_ms * 0.7:.3f}ms",
                "p99": f"{mean_ms * rng.uniform(3, 8):.3f}ms"}
    return {"dist": "uniform", "min": f"{mean_ms * 0.5:.3f}ms", "max": f"{mean_ms * 1.5:.3f}ms"}


def _call(rng: random.Random, to: str, probability: float, resilient: bool) -> dict[str, Any]:
    call: dict[str, Any] = {"to": to}
    if probability < 1:
        call["probability"] = round(probability, 3)
    if resilient and rng.random() < 0.5:
        call["timeout"] = f"{rng.choice([20, 50, 200])}ms"
        if rng.random() < 0.5:
            call["retry"] = {"attempts": rng.randint(2, 3),
                             "jitter": rng.choice(["full", "decorrelated"])}
    if resilient and rng.random() < 0.3:
        call["circuit_breaker"] = {"window": 20, "min_calls": 10, "failure_rate": "40%",
                                   "open_for": "1s"}
        call["on_failure"] = rng.choice([{"fallback": "1ms"}, "continue"])
    return call


def random_spec(seed: int, services: int, rate: float = 200.0, duration: float = 2.0,
                resilient: bool = True) -> dict[str, Any]:
    """A system of `services` components fed `rate` requests/s at `s0.op` for `duration`
    seconds; `resilient` adds timeouts, retries, breakers, error rates and a fault."""
    rng = random.Random(seed)
    parents = [-1] + [rng.randrange(i) for i in range(1, services)]
    children: list[list[int]] = [[] for _ in range(services)]
    for child, parent in enumerate(parents[1:], start=1):
        children[parent].append(child)
    chance = [1.0] + [rng.choice([1.0, 0.8, 0.5, 0.3]) for _ in range(1, services)]
    load = [rate] * services  # requests/s reaching each component
    for i in range(1, services):
        load[i] = load[parents[i]] * chance[i]
    queues: set[int] = set()  # a queue's consumers are services, never queues
    for i in range(1, services):
        if children[i] and parents[i] not in queues and rng.random() < 0.1:
            queues.add(i)
    mean_ms = [rng.uniform(0.2, 5.0) for _ in range(services)]
    blocking = [bool(children[i]) and rng.random() < 0.3 for i in range(services)]
    # Latency without queueing, from the leaves up: what a blocking caller holds a worker
    # for, and what a queue's consumers wait on (twice that, for the queueing on the way).
    latency = [0.0] * services
    for i in reversed(range(services)):
        if i not in queues:
            latency[i] = mean_ms[i] + sum(chance[c] * latency[c] for c in children[i]
                                          if c not in queues)
    components: dict[str, Any] = {}
    for i in range(services):
        name = f"s{i}"
        if i in queues:
            components[name] = {"kind": "queue", "capacity": 200, "consumers": [
                {"to": f"s{c}.op",
                 "concurrency": math.ceil(load[c] * 2 * latency[c] / 1e3 / 0.5)}
                for c in children[i]]}
            continue
        replicas = rng.randint(1, 3)
        utilization = rng.uniform(0.3, 0.75)
        held_ms = 2 * latency[i] if blocking[i] else mean_ms[i]
        workers = max(1, math.ceil(load[i] * held_ms / 1e3 / utilization / replicas))
        op: dict[str, Any] = {"work": _work(rng, mean_ms[i])}
        if resilient and rng.random() < 0.2:
            op["error_rate"] = f"{rng.choice([0.5, 2, 10])}%"
        calls = [_call(rng, f"s{c}.{'publish' if c in queues else 'op'}", chance[c],
                       resilient and c not in queues) | ({"async": True} if c in queues else {})
                 for c in children[i]]
        if len(calls) >= 2 and rng.random() < 0.4:
            calls = [{"parallel": {"wait_for": rng.choice(["all", "any", 1]), "calls": calls}}]
        if calls:
            op["calls"] = calls
        component: dict[str, Any] = {"replicas": replicas, "workers": workers,
                                     "queue": rng.choice([16, 64, 256]),
                                     "balancer": rng.choice(BALANCERS),
                                     "operations": {"op": op}}
        if not blocking[i]:
            component["io"] = "nonblocking"
        if not children[i]:
            component["kind"] = rng.choice(["service", "database", "external"])
            if component["kind"] == "external":
                component = {"kind": "external", "operations": {"op": op}}
        components[name] = component
    spec: dict[str, Any] = {
        "scalesim": 1, "name": f"random-{seed}-{services}", "components": components,
        "workloads": [{"name": "open", "to": "s0.op", "rate": f"{rate:g}/s"}],
        "simulation": {"duration": f"{duration:g}s", "warmup": "0s", "seed": seed},
    }
    if rng.random() < 0.5:
        spec["defaults"] = {"network": {"dist": "exponential", "mean": "0.1ms"}}
    if resilient and services > 1:
        target = rng.randrange(1, services)
        effect = rng.choice([{"error_rate": "50%"}, {"latency": "x3"}, {"crash": True}])
        spec["faults"] = [{"target": f"s{target}", "at": f"{duration / 4:g}s",
                           "for": f"{duration / 4:g}s",
                           **({"latency": "+2ms"} if target in queues else effect)}]
    return spec
