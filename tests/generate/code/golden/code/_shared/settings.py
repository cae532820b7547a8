"""The settings file: the component's part of the spec, applied over the numbers in app.py.

The Kubernetes and Helm targets put the component's settings in a ConfigMap (its spec, and
in `effective_calls` each call with `defaults.calls` applied) and point SCALESIM_SETTINGS at
it, so the numbers can change without a new image. At startup the service reads that file
and applies, with the simulator's meaning:

- `workers`, `queue` and `io`; `cores` and `event_loop` (with either, `work` and
  `post_work` compute instead of sleeping, as the simulator's CPU model says); each
  operation's `cpu`, `work`, `wait`, `post_work` and `error_rate`;
- for each of `effective_calls`: `timeout`, `deadline`, `propagate_deadline`, `retry`,
  `circuit_breaker`, `bulkhead`, `on_failure`, `probability` and `async` (a setting left
  out is not configured, as in the spec); with SCALESIM_RETRIES=mesh (the Kubernetes and
  Helm targets set it when the Istio routes are generated too) the call's `retry` and
  per-attempt `timeout` are left to the sidecar, whose route retries with them, so that
  the tries do not multiply; a call to a database, cache or queue reached over TCP
  (`mesh_routed=False`) keeps them, since no mesh route times out or retries TCP;
- a cache's `hit_ratio` (without one every read loads: the stand-in keeps no entries);
  a queue's `capacity` and each consumer's `concurrency`.

What the code is made of stays as generated: its operations, its calls and their targets. A
file that names others, or a value the spec does not allow, stops the service at startup
with the file and the field named. Durations are in seconds and shares are fractions, as
the generated file writes them. The platform's settings (replicas, balancer, rate_limit,
load_shedding, connection_pool, outlier_detection, health) are not the code's, and hedge is
not in the generated code. `overhead` is the runtime's own CPU, which the process spends by
itself: nothing reads it here.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol

from dists import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
)
from downstream import Dependency, Fallback, OnFailure, Retry
from resilience import Backoff, Bulkhead, CircuitBreaker, RetryBudget
from server import Operation

VARIABLE = "SCALESIM_SETTINGS"
# Behind the generated Istio routes, which retry: the calls they route (HTTP) leave retries
# and per-attempt timeouts to the sidecar.
MESH_RETRIES = os.environ.get("SCALESIM_RETRIES") == "mesh"
CAUSES = (
    "timeout",
    "rejected",
    "error",
    "circuit_open",
    "crashed",
    "bulkhead_full",
    "overflow",
    "rate_limited",
    "shed",
    "unavailable",
)
DEFAULT_RETRY_ON = ("error", "timeout", "rejected", "crashed", "overflow", "unavailable")
FAMILIES: dict[str, type[Distribution]] = {
    "constant": Constant,
    "exponential": Exponential,
    "lognormal": Lognormal,
    "uniform": Uniform,
    "normal": Normal,
    "gamma": Gamma,
    "pareto": Pareto,
}
UNLIMITED_KINDS = ("external", "queue")  # workers default to unlimited, else to 1


class SettingsError(Exception):
    """The settings file does not fit this service's code, or holds a value the spec does
    not allow."""


class Deliveries(Protocol):
    """A queue's subscription (broker.Subscription)."""

    consumer: Dependency
    concurrency: int

    def deliver(self) -> Coroutine[Any, Any, None]: ...

    def resize(self, capacity: int | None) -> None: ...


class Node:
    """A value of the file and where it is in it, for error messages."""

    def __init__(self, value: object, where: str) -> None:
        self.value = value
        self.where = where

    def fail(self, problem: str) -> NoReturn:
        raise SettingsError(f"{self.where or 'the top level'}: {problem}")

    def has(self, key: str) -> bool:
        return self.fields().get(key) is not None

    def get(self, key: str, default: object = None) -> Node:
        value = self.fields().get(key)
        return Node(default if value is None else value, f"{self.where}.{key}".lstrip("."))

    def fields(self) -> dict[str, object]:
        if not isinstance(self.value, dict):
            self.fail(f"must be an object, not {self.value!r}")
        return self.value

    def items(self) -> list[Node]:
        if not isinstance(self.value, list):
            self.fail(f"must be a list, not {self.value!r}")
        return [Node(item, f"{self.where}[{index}]") for index, item in enumerate(self.value)]

    def number(self, low: float = 0.0, high: float = math.inf) -> float:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"must be a number, not {value!r}")
        if not low <= value <= high:
            self.fail(f"must be between {low:g} and {high:g}, not {value!r}")
        return float(value)

    def whole(self, low: int = 0) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < low:
            self.fail(f"must be a whole number >= {low}, not {self.value!r}")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"must be true or false, not {self.value!r}")
        return self.value

    def choice(self, *options: str) -> str:
        if self.value not in options:
            self.fail(f"must be one of {', '.join(options)}, not {self.value!r}")
        return str(self.value)


class Settings:
    """What the settings file may change in this service: its operations, its calls in the
    order of `effective_calls` (the spec's order), a cache's call to its backend on a miss
    and a queue's subscriptions."""

    def __init__(
        self,
        operations: Sequence[Operation],
        calls: Sequence[Dependency] = (),
        miss: Dependency | None = None,
        subscriptions: Sequence[Deliveries] = (),
    ) -> None:
        self.operations = {operation.name: operation for operation in operations}
        self.calls = calls
        self.miss = miss
        self.subscriptions = subscriptions

    def apply_file(self, path: str | None) -> None:
        """Apply the file at `path`; nothing without one."""
        if not path:
            return
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise SettingsError(f"{VARIABLE}={path}: cannot be read: {error.strerror}") from None
        except ValueError as error:
            raise SettingsError(f"{VARIABLE}={path}: not JSON: {error}") from None
        try:
            self.apply(Node(data, ""))
        except SettingsError as error:
            raise SettingsError(f"{VARIABLE}={path}: {error}") from None

    def apply(self, data: Node) -> None:
        kind = data.get("kind", "service").value
        workers = _workers(data, unlimited=kind in UNLIMITED_KINDS)
        blocking = data.get("io", "blocking").choice("blocking", "nonblocking") == "blocking"
        computes = _computes(data)
        # A queue without operations accepts publish, as in the spec.
        operations = data.get("operations", {"publish": {}} if kind == "queue" else {})
        if kind == "queue" and not operations.fields():
            operations = Node({"publish": {}}, operations.where)
        named = set(operations.fields())
        if named != set(self.operations):
            operations.fail(
                f"names {sorted(named)}, but this service's code has "
                f"{sorted(self.operations)}: generate the code and the settings from one spec"
            )
        for name, operation in self.operations.items():
            _operation(operation, operations.get(name), workers, blocking, computes)
        calls = data.get("effective_calls", []).items()
        _same_count(data.get("effective_calls"), len(calls), len(self.calls), "calls")
        for node, dependency in zip(calls, self.calls, strict=True):
            _call(node, dependency)
        if self.miss is not None:
            # No hit_ratio (a cache with `caching`): the stand-in keeps no entries, so every
            # read loads, as generated.
            hits = data.get("hit_ratio", 0.0).number(0.0, 1.0)
            self.miss.probability = round(1.0 - hits, 12)
        consumers = data.get("consumers", []).items()
        _same_count(data.get("consumers"), len(consumers), len(self.subscriptions), "consumers")
        capacity = data.get("capacity").whole(1) if data.has("capacity") else None
        for node, subscription in zip(consumers, self.subscriptions, strict=True):
            _same_target(node, subscription.consumer, "to")
            subscription.concurrency = node.get("concurrency", 1).whole(1)
            subscription.resize(capacity)


def _same_count(node: Node, found: int, expected: int, what: str) -> None:
    if found != expected:
        node.fail(f"has {found} {what}, this service's code {expected}")


def _same_target(node: Node, dependency: Dependency, key: str) -> None:
    """A call or consumer of the file is the code's: same target (and operation)."""
    target = node.get("target", node.get(key).value).value
    component = dependency.target.split(".", 1)[0]
    if target not in (dependency.target, component):
        node.fail(f"goes to {target!r}, the code's call here to {dependency.target!r}")
    operation = node.get("operation", dependency.operation).value
    if operation != dependency.operation:
        node.fail(f"is made by {operation!r}, the code's call here by {dependency.operation!r}")


def _workers(data: Node, unlimited: bool) -> Bulkhead | None:
    """The component's workers and their queue, shared by its operations; None: unlimited."""
    node = data.get("workers", "unlimited" if unlimited else 1)
    if node.value == "unlimited":
        return None
    queue = data.get("queue").whole(0) if data.has("queue") else None
    return Bulkhead(node.whole(1), max_wait=None, max_queue=queue)


def _computes(data: Node) -> bool:
    """The component models its cores (`cores` other than unlimited, or `event_loop`)."""
    cores = data.get("cores", "unlimited")
    if cores.value != "unlimited":
        cores.number(0.0)
    return cores.value != "unlimited" or data.get("event_loop", False).flag()


def _operation(
    operation: Operation, node: Node, workers: Bulkhead | None, blocking: bool, computes: bool
) -> None:
    operation.workers = workers
    operation.blocking = blocking
    operation.computes = computes
    if node.has("cpu") and node.has("work") and not _is_zero(node.get("work")):
        node.fail("gives both 'cpu' and its shorthand 'work'")
    operation.cpu = distribution(node.get("cpu", 0.0))
    operation.work = distribution(node.get("work", 0.0))
    operation.wait = distribution(node.get("wait", 0.0))
    post_work = node.get("post_work", 0.0)
    operation.post_work = None if _is_zero(post_work) else distribution(post_work)
    operation.error_rate = node.get("error_rate", 0.0).number(0.0, 1.0)


def _is_zero(node: Node) -> bool:
    value = node.value
    if isinstance(value, dict):
        return value.get("dist") == "constant" and value.get("value") == 0
    return value == 0


def distribution(node: Node) -> Distribution:
    """A sampler from the spec's form: {"dist": "exponential", "mean": 0.004}; a number is a
    constant."""
    if not isinstance(node.value, dict):
        return Constant(node.number())
    family = node.get("dist").choice(*FAMILIES, "empirical", "mixture")
    if family == "mixture":
        parts = tuple(
            (part.get("weight").number(0.0, 1.0), distribution(part.get("dist")))
            for part in node.get("of").items()
        )
        if not parts or abs(sum(weight for weight, _ in parts) - 1.0) > 1e-9:
            node.get("of").fail("needs weights that sum to 1")
        return Mixture(parts=parts)
    if family == "empirical":
        percentiles = node.get("percentiles", {})
        values = {key: percentiles.get(key).number() for key in percentiles.fields()}
        if not values or any(not _percentile_key(key) for key in values):
            percentiles.fail("needs keys like p50, p99, p999 or p99.5")
        return Empirical(percentiles=values)
    parameters = {key: node.get(key).number() for key in node.fields() if key != "dist"}
    try:
        return FAMILIES[family](**parameters)
    except (TypeError, ValueError) as error:
        node.fail(f"not a {family} distribution: {error}")


def _percentile_key(key: str) -> bool:
    digits = key[1:]
    try:
        return key.startswith("p") and 0.0 <= float(digits) <= 100.0
    except ValueError:
        return False


def _call(node: Node, dependency: Dependency) -> None:
    _same_target(node, dependency, "to")
    optional = {key: node.get(key) for key in ("timeout", "deadline") if node.has(key)}
    dependency.timeout = optional["timeout"].number() if "timeout" in optional else None
    dependency.deadline = optional["deadline"].number() if "deadline" in optional else None
    dependency.propagate_deadline = node.get("propagate_deadline", False).flag()
    dependency.retry = retry(node.get("retry")) if node.has("retry") else None
    if MESH_RETRIES and dependency.mesh_routed:  # the sidecar's route retries and times out
        dependency.timeout = dependency.retry = None
    dependency.set_breaker(
        breaker(node.get("circuit_breaker")) if node.has("circuit_breaker") else None
    )
    dependency.bulkhead = bulkhead(node.get("bulkhead")) if node.has("bulkhead") else None
    dependency.on_failure = on_failure(node.get("on_failure", "fail"))
    dependency.probability = node.get("probability", 1.0).number(0.0, 1.0)
    dependency.fire_and_forget = node.get("async", False).flag()


def retry(node: Node) -> Retry:
    """The spec's retry, with the spec's defaults for what is left out."""
    budget = node.get("budget")
    on = node.get("on", list(DEFAULT_RETRY_ON))
    return Retry(
        attempts=node.get("attempts", 3).whole(1),
        backoff=Backoff(
            node.get("backoff", "exponential").choice("none", "constant", "exponential", "envoy"),
            node.get("jitter", "full").choice("none", "full", "equal", "decorrelated"),
            base=node.get("base", 0.025).number(),
            cap=node.get("max", 0.25).number(),
        ),
        on=frozenset(cause.choice(*CAUSES) for cause in on.items()),
        budget=None
        if budget.value is None
        else RetryBudget(
            ratio=budget.get("ratio", 0.2).number(0.0, 1.0),
            min_per_s=budget.get("min_per_s", 10.0).number(),
            window=budget.get("window", 10.0).number(),
        ),
        max_concurrent=node.get("max_concurrent").whole(0) if node.has("max_concurrent") else None,
    )


def breaker(node: Node) -> CircuitBreaker:
    """The spec's circuit breaker; what is left out takes Resilience4j's defaults."""
    return CircuitBreaker(
        window_type=node.get("window_type", "count").choice("count", "time"),
        window=node.get("window", 100).whole(1),
        min_calls=node.get("min_calls", 100).whole(1),
        failure_rate=node.get("failure_rate", 0.5).number(0.0, 1.0),
        slow_call_rate=node.get("slow_call_rate", 1.0).number(0.0, 1.0),
        slow_call_duration=node.get("slow_call_duration", 60.0).number(),
        open_for=node.get("open_for", 60.0).number(),
        open_for_multiplier=node.get("open_for_multiplier", 1.0).number(1.0),
        open_for_max=node.get("open_for_max").number() if node.has("open_for_max") else None,
        automatic_half_open=node.get("automatic_half_open", False).flag(),
        max_wait_in_half_open=node.get("max_wait_in_half_open", 0.0).number(),
        half_open_calls=node.get("half_open_calls", 10).whole(1),
    )


def bulkhead(node: Node) -> Bulkhead:
    """Semaphore: `max_concurrent` and `max_wait`; thread pool: `size` and a `queue` that
    waits as long as it takes (Resilience4j's defaults for what is left out)."""
    if node.get("type", "semaphore").choice("semaphore", "threadpool") == "semaphore":
        return Bulkhead(
            node.get("max_concurrent", 25).whole(1),
            max_wait=node.get("max_wait", 0.0).number(),
        )
    return Bulkhead(
        node.get("size", 10).whole(1), max_wait=None, max_queue=node.get("queue", 100).whole(0)
    )


def on_failure(node: Node) -> OnFailure:
    if isinstance(node.value, dict):
        return Fallback(distribution(node.get("fallback")))
    return "fail" if node.choice("fail", "continue") == "fail" else "continue"
