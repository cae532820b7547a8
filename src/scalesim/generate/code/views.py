"""What the templates need to know about each service, worked out from the System once.

The templates only lay out text; every decision (which settings a call inherits, what a cache
miss or a queue means, names, ports, imports) is made here, in the simulator's terms, so the
generated service does what was simulated.
"""

from __future__ import annotations

import keyword
import re
from collections import defaultdict
from dataclasses import dataclass, field

from scalesim.generate.code import literals
from scalesim.generate.code.literals import Expr, call, lit, python, statement, tuple_of
from scalesim.generate.istio import mesh_routed
from scalesim.spec.dists import AnyDistribution, Constant
from scalesim.spec.model import (
    Call,
    Component,
    Kind,
    Operation,
    ParallelStep,
    Saga,
    SagaBlock,
    System,
)
from scalesim.spec.resilience import Fallback

FIRST_PORT = 8001
MAX_NAME = 60  # characters of a generated constant's name, before a numbering suffix
MAX_OPERATION = 40  # characters of an operation's part of its handler's name
THIRD_PARTY = frozenset({"fastapi"})


def env_var(component: str) -> str:
    """The variable that holds a component's base URL: ORDERS_URL, USER_DB_URL."""
    return component.upper().replace("-", "_") + "_URL"


def identifier(*parts: str) -> str:
    """A lower-case Python name from spec names ('check-out' -> 'check_out')."""
    name = "_".join(re.sub(r"[^0-9A-Za-z]+", "_", part).lower() for part in parts)
    return name if name.isidentifier() and not keyword.iskeyword(name) else f"op_{name}"


@dataclass
class Imports:
    """Names app.py takes from each generated module, so it imports exactly what it uses."""

    names: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, module: str, *names: str) -> None:
        self.names[module].update(names)

    def lines(self) -> list[str]:
        """Third-party imports, a blank line, then the service's own modules."""
        third, own = ([f"from {module} import {', '.join(sorted(names, key=_import_order))}"
                       for module, names in sorted(self.names.items())
                       if (module in THIRD_PARTY) == third_party]
                      for third_party in (True, False))
        return [*third, "", *own] if third and own else third + own


def _import_order(name: str) -> tuple[int, str]:
    """isort's order by type: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@dataclass(frozen=True)
class Definition:
    """A module-level constant of app.py: `name = expression`."""

    name: str
    expr: Expr

    @property
    def text(self) -> str:
        return f"{self.name} = {self.expr.render(0, len(self.name) + 3)}"


@dataclass(frozen=True)
class OperationView:
    name: str
    constant: Definition
    handler: str
    calls_function: str | None
    steps: tuple[str, ...]  # statements of the calls function
    serve: str  # the handler's statement
    summary: str


@dataclass(frozen=True)
class PoolView:
    """Envoy's limits towards a called component with a connection_pool (downstream.Pool)."""

    component: str
    expr: Expr

    @property
    def text(self) -> str:
        """`"name": Pool(...)` as a dict entry, without its comma."""
        key = python(self.component)
        return f"{key}: {self.expr.render(4, len(key) + 2, trailer=1)}"


@dataclass(frozen=True)
class ServiceView:
    name: str
    kind: str
    port: int
    env_var: str
    description: str
    constants: tuple[Definition, ...]
    operations: tuple[OperationView, ...]
    app: Definition  # `app = create_app(...)`: what the service is made of
    imports: tuple[str, ...]
    downstreams: tuple[tuple[str, str, int], ...]  # component, variable, local port
    pools: tuple[PoolView, ...]  # the called components with a connection_pool
    is_queue: bool
    has_saga: bool  # coordinates an orchestrated saga (saga.py)


def services(system: System) -> list[ServiceView]:
    """One view per component, in spec order; ports follow that order from FIRST_PORT."""
    ports = {name: FIRST_PORT + index for index, name in enumerate(system.components)}
    return [_Builder(system, ports, name, component).build()
            for name, component in system.components.items()]


class _Builder:
    def __init__(self, system: System, ports: dict[str, int], name: str,
                 component: Component) -> None:
        self.system = system
        self.ports = ports
        self.name = name
        self.component = component
        self.imports = Imports()
        self.constants: list[Definition] = []
        self.taken: set[str] = set()
        self.last_suffix: dict[str, int] = {}  # by stem, its last name's (lower ones are taken)
        self.stems: set[str] = set()
        self.downstreams: set[str] = set()
        self.calls: list[str] = []  # call constants in the spec's order (effective_calls)
        self.miss: str | None = None  # a cache's call to its backend
        self.subscriptions: list[str] = []

    def build(self) -> ServiceView:
        component = self.component
        self.imports.add("fastapi", "Request", "Response")
        self.imports.add("server", "Operation")
        self.imports.add("service", "create_app")
        if component.kind is Kind.QUEUE:
            self._subscriptions()
        workers = self._workers()
        operations = tuple(self._operation(name, operation, workers)
                           for name, operation in component.effective_operations.items())
        pools = tuple(pool for target in sorted(self.downstreams)
                      if (pool := self._pool(target)) is not None)
        return ServiceView(
            name=self.name, kind=component.kind.value, port=self.ports[self.name],
            env_var=env_var(self.name), description=self._description(),
            constants=tuple(self.constants), operations=operations,
            app=self._app(operations, pools), imports=tuple(self.imports.lines()),
            downstreams=tuple((target, env_var(target), self.ports[target])
                              for target in sorted(self.downstreams)),
            pools=pools, is_queue=component.kind is Kind.QUEUE,
            has_saga="saga" in self.imports.names)

    def _app(self, operations: tuple[OperationView, ...],
             pools: tuple[PoolView, ...]) -> Definition:
        """`app = create_app(...)` with everything the settings file may change."""
        options: dict[str, Expr] = {}
        if self.calls:
            options["calls"] = tuple_of(*map(Expr, self.calls))
        if self.miss is not None:
            options["miss"] = Expr(self.miss)
        if self.subscriptions:
            options["subscriptions"] = tuple_of(*map(Expr, self.subscriptions))
        if pools:
            options["connection_pools"] = Expr("CONNECTION_POOLS")
        everything = tuple_of(*(Expr(operation.constant.name) for operation in operations))
        return Definition("app", call("create_app", lit(self.name), everything, **options))

    def _pool(self, target: str) -> PoolView | None:
        """Envoy's limits when the target has a connection_pool (a queue's deliveries are
        not calls, so they have none, as in the simulator). Without one, the service sizes
        the pool at startup for every call it may make at once."""
        limits = self.system.components[target].connection_pool
        if limits is None or self.component.kind is Kind.QUEUE:
            return None
        self.imports.add("downstream", "Pool")
        size = (limits.max_requests if limits.http2
                else min(limits.max_connections, limits.max_requests))
        pending = 0 if limits.http2 else limits.max_pending_requests
        return PoolView(target, call("Pool", lit(size), pending=lit(pending)))

    def _description(self) -> str:
        kind = self.component.kind
        if kind in (Kind.SERVICE, Kind.GATEWAY):
            return f"a {kind.value}"
        tech = f" ({self.component.tech})" if self.component.tech else ""
        return f"a stand-in for a {kind.value}{tech}"

    def _constant(self, base: str, expr: Expr) -> str:
        # Short enough that `await NAME.run()` and `NAME = Head(` always fit on a line.
        # The first free of STEM, STEM_2, STEM_3, …: a name once taken stays taken, so the
        # search goes on from where the stem's last one ended (a parallel step of a
        # thousand calls to one callee searched from 2 each time: quadratic).
        stem = base.upper()[:MAX_NAME].rstrip("_")
        suffix = self.last_suffix.get(stem, 1)  # 1: the bare stem
        name = stem if suffix == 1 else f"{stem}_{suffix}"
        while name in self.taken:
            suffix += 1
            name = f"{stem}_{suffix}"
        self.last_suffix[stem] = suffix
        self.taken.add(name)
        self.constants.append(Definition(name, expr))
        return name

    def _workers(self) -> str | None:
        """Workers per replica and their queue, as one bulkhead; None when unlimited."""
        limit = self.component.worker_limit
        if limit is None:
            return None
        self.imports.add("resilience", "Bulkhead")
        queue = self.component.queue
        return self._constant("workers", call("Bulkhead", lit(limit), max_wait=lit(None),
                                              max_queue=lit(queue)))

    def _operation(self, name: str, operation: Operation, workers: str | None) -> OperationView:
        keywords: dict[str, Expr] = {}
        if operation.cpu is not None and not _is_zero(operation.cpu):
            keywords["cpu"] = self._dist(operation.cpu)
        if not _is_zero(operation.work):
            keywords["work"] = self._dist(operation.work)
        if not _is_zero(operation.wait):
            keywords["wait"] = self._dist(operation.wait)
        if not _is_zero(operation.post_work):
            keywords["post_work"] = self._dist(operation.post_work)
        if operation.error_rate > 0.0:
            keywords["error_rate"] = lit(operation.error_rate)
        if self.component.io == "nonblocking":
            keywords["blocking"] = lit(False)
        if self.component.core_limit is not None:
            keywords["computes"] = lit(True)
        stem = self._operation_stem(name)
        constant = Definition(f"OP_{identifier(stem).upper()}",
                              call("Operation", lit(self.name), lit(name),
                                   Expr(workers or "None"), **keywords))
        steps = self._steps(name, operation)
        calls_function = identifier("calls", stem) if steps else None
        serve = call(f"return await {constant.name}.serve", Expr("request"),
                     *([Expr(calls_function)] if calls_function else []))
        return OperationView(
            name=name, constant=constant, handler=identifier("serve", stem),
            calls_function=calls_function, steps=steps, serve=statement(serve),
            summary=_summary(self.name, name, steps))

    def _operation_stem(self, name: str) -> str:
        """The operation's part of its Python names, short enough that its handler's
        signature fits on a line, and distinct within the service."""
        stem = re.sub(r"[^0-9A-Za-z]+", "_", name).lower()[:MAX_OPERATION].rstrip("_") or "op"
        unique, suffix = stem, 2
        while unique in self.stems:
            unique, suffix = f"{stem}_{suffix}", suffix + 1
        self.stems.add(unique)
        return unique

    def _steps(self, name: str, operation: Operation) -> tuple[str, ...]:
        steps: list[str] = []
        component = self.component
        if component.kind is Kind.QUEUE:
            self.imports.add("broker", "publish")
            return (statement(call("publish", *map(Expr, self.subscriptions))),)
        caching = component.caching
        if caching is not None and caching.write_to is not None and name in caching.writes:
            write = self._dependency(name, self.system.resolve(caching.write_to), 1.0)
            steps.append(statement(Expr(f"await {write}.run()"), "the write to the backend"))
        elif component.kind is Kind.CACHE and component.backend is not None:
            # A TTL cache's stand-in keeps no entries: every read loads (docs/generate.md).
            hits = component.hit_ratio if component.hit_ratio is not None else 0.0
            miss = self._dependency(name, self.system.resolve(component.backend),
                                    probability=round(1.0 - hits, 12))
            self.miss = miss
            steps.append(statement(Expr(f"await {miss}.run()"), "a cache miss"))
        for step in operation.calls:
            if isinstance(step, ParallelStep):
                branches = [Expr(self._call(name, branch)) for branch in step.parallel.calls]
                wait_for = step.parallel.wait_for
                need = (len(branches) if wait_for == "all" else 1 if wait_for == "any"
                        else int(wait_for))
                self.imports.add("downstream", "parallel")
                steps.append(statement(call("await parallel", lit(need), *branches),
                                       f"wait_for: {wait_for}"))
            elif isinstance(step, SagaBlock):
                steps.append(self._saga(name, step.saga))
            else:
                comment = "through an outbox: a relay publishes it" if step.outbox else None
                steps.append(statement(Expr(f"await {self._call(name, step)}.run()"), comment))
        return tuple(steps)

    def _saga(self, operation: str, saga: Saga) -> str:
        """An orchestrated saga becomes a Saga of this service (the coordinator) over the
        participants' operations and their compensation endpoints; a choreographed one is
        the participants' business (see docs/generate.md)."""
        if saga.coordination == "choreography":
            return (f"pass  # a choreographed saga through '{saga.via}': its participants "
                    "react to each other's events; not generated")
        self.imports.add("saga", "Saga", "Step")
        steps = []
        for step in saga.steps:
            forward = Expr(self._call(operation, saga.with_policy(step.as_call())))
            undo = {} if step.compensate is None else {
                "compensation": Expr(self._call(operation, saga.with_policy(step.compensate)))}
            steps.append(call("Step", lit(step.label), forward, **undo))
        expr = call("Saga", lit(f"{self.name}.{operation}"), tuple_of(*steps),
                    lit(saga.pivot))
        return f"await {self._constant(f'saga_{identifier(operation)}', expr)}.run()"

    def _call(self, operation: str, spec: Call) -> str:
        """A Dependency constant with the call's own settings, else the defaults' (an async
        call inherits none, as in the simulator)."""
        effective = self.system.effective(spec)
        keywords: dict[str, Expr] = {}
        if effective.timeout is not None:
            keywords["timeout"] = lit(effective.timeout)
        if spec.deadline is not None:
            keywords["deadline"] = lit(spec.deadline)
        if spec.propagate_deadline:
            keywords["propagate_deadline"] = lit(True)
        if effective.retry is not None:
            keywords["retry"], used = literals.retry(effective.retry)
            self.imports.add("downstream", "Retry")
            self.imports.add("resilience", *used)
        if effective.circuit_breaker is not None:
            keywords["breaker"] = literals.breaker(effective.circuit_breaker)
            self.imports.add("resilience", "CircuitBreaker")
        if effective.bulkhead is not None:
            keywords["bulkhead"] = literals.bulkhead(effective.bulkhead)
            self.imports.add("resilience", "Bulkhead")
        if isinstance(spec.on_failure, Fallback):
            keywords["on_failure"] = call("Fallback", self._dist(spec.on_failure.fallback))
            self.imports.add("downstream", "Fallback")
        elif spec.on_failure == "continue":
            keywords["on_failure"] = lit("continue")
        if spec.async_ or spec.outbox is not None:
            keywords["fire_and_forget"] = lit(True)
        target = self.system.resolve(spec.to)
        if not mesh_routed(self.system, target[0]):  # TCP: the mesh cannot time it out
            keywords["mesh_routed"] = lit(False)
        name = self._dependency(operation, target, probability=spec.probability, **keywords)
        self.calls.append(name)
        return name

    def _dependency(self, operation: str, target: tuple[str, str], probability: float,
                    **keywords: Expr) -> str:
        component, target_op = target
        if probability < 1.0:
            keywords["probability"] = lit(probability)
        self.downstreams.add(component)
        self.imports.add("downstream", "Dependency", "service_url")
        url = _url(component, self.ports[component], target_op)
        expr = call("Dependency", lit(operation), lit(f"{component}.{target_op}"), url,
                    **keywords)
        return self._constant(f"call_{identifier(operation, component, target_op)}", expr)

    def _subscriptions(self) -> None:
        """Queue only: one Subscription per consumer, delivered while the app runs (a queue
        without consumers imports none: an unused import is not ruff-clean)."""
        if self.component.consumers:
            self.imports.add("broker", "Subscription")
        for consumer in self.component.consumers:
            component, target_op = self.system.resolve(consumer.to)
            self.downstreams.add(component)
            self.imports.add("downstream", "Dependency", "service_url")
            url = _url(component, self.ports[component], target_op)
            dependency = call("Dependency", lit("deliver"), lit(f"{component}.{target_op}"),
                              url)
            self.subscriptions.append(self._constant(
                f"sub_{identifier(component, target_op)}",
                call("Subscription", dependency, lit(self.component.capacity),
                     lit(consumer.concurrency))))

    def _dist(self, dist: AnyDistribution) -> Expr:
        expr, used = literals.distribution(dist)
        self.imports.add("dists", *used)
        return expr


def _url(component: str, port: int, operation: str) -> Expr:
    return call("service_url", lit(component), lit(port), lit("/" + operation))


def _is_zero(dist: AnyDistribution) -> bool:
    return isinstance(dist, Constant) and dist.value == 0.0


def _summary(component: str, operation: str, steps: tuple[str, ...]) -> str:
    calls = len(steps)
    return f"{component}.{operation}" + (f": {calls} call step{'s' * (calls != 1)}."
                                          if calls else ".")
