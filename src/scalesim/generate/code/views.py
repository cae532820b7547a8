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
from scalesim.generate.code.literals import Expr, call, lit, python, tuple_of
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
    summary: str


@dataclass(frozen=True)
class ServiceView:
    name: str
    kind: str
    port: int
    env_var: str
    description: str
    constants: tuple[Definition, ...]
    operations: tuple[OperationView, ...]
    background: tuple[str, ...]  # jobs that run with the app (queue deliveries)
    imports: tuple[str, ...]
    downstreams: tuple[tuple[str, str, int], ...]  # component, variable, local port
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
        self.downstreams: set[str] = set()

    def build(self) -> ServiceView:
        component = self.component
        self.imports.add("fastapi", "Request", "Response")
        self.imports.add("server", "Operation", "create_app")
        background = self._subscriptions() if component.kind is Kind.QUEUE else []
        workers = self._workers()
        operations = tuple(self._operation(name, operation, workers)
                           for name, operation in component.effective_operations.items())
        return ServiceView(
            name=self.name, kind=component.kind.value, port=self.ports[self.name],
            env_var=env_var(self.name), description=self._description(),
            constants=tuple(self.constants), operations=operations,
            background=tuple(background), imports=tuple(self.imports.lines()),
            downstreams=tuple((target, env_var(target), self.ports[target])
                              for target in sorted(self.downstreams)),
            is_queue=component.kind is Kind.QUEUE, has_saga="saga" in self.imports.names)

    def _description(self) -> str:
        kind = self.component.kind
        if kind in (Kind.SERVICE, Kind.GATEWAY):
            return f"a {kind.value}"
        tech = f" ({self.component.tech})" if self.component.tech else ""
        return f"a stand-in for a {kind.value}{tech}"

    def _constant(self, base: str, expr: Expr) -> str:
        name = base.upper()
        suffix = 2
        while name in self.taken:
            name, suffix = f"{base.upper()}_{suffix}", suffix + 1
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
        if not _is_zero(operation.work):
            keywords["work"] = self._dist(operation.work)
        if not _is_zero(operation.post_work):
            keywords["post_work"] = self._dist(operation.post_work)
        if operation.error_rate > 0.0:
            keywords["error_rate"] = lit(operation.error_rate)
        if self.component.io == "nonblocking":
            keywords["blocking"] = lit(False)
        constant = Definition(f"OP_{identifier(name).upper()}",
                             call("Operation", lit(self.name), lit(name),
                                  Expr(workers or "None"), **keywords))
        steps = self._steps(name, operation)
        return OperationView(
            name=name, constant=constant, handler=identifier("serve", name),
            calls_function=identifier("calls", name) if steps else None, steps=steps,
            summary=_summary(self.name, name, steps))

    def _steps(self, name: str, operation: Operation) -> tuple[str, ...]:
        steps: list[str] = []
        component = self.component
        if component.kind is Kind.QUEUE:
            self.imports.add("broker", "publish")
            subscriptions = ", ".join(constant.name for constant in self.constants
                                      if constant.name.startswith("SUB_"))
            return (f"publish({subscriptions})",)
        if (component.kind is Kind.CACHE and component.backend is not None
                and component.hit_ratio is not None):
            miss = self._dependency(name, self.system.resolve(component.backend),
                                    probability=round(1.0 - component.hit_ratio, 12))
            steps.append(f"await {miss}.run()  # a cache miss")
        for step in operation.calls:
            if isinstance(step, ParallelStep):
                branches = [self._call(name, branch) for branch in step.parallel.calls]
                wait_for = step.parallel.wait_for
                need = (len(branches) if wait_for == "all" else 1 if wait_for == "any"
                        else int(wait_for))
                self.imports.add("downstream", "parallel")
                steps.append(f"await parallel({need}, {', '.join(branches)})"
                             f"  # wait_for: {wait_for}")
            elif isinstance(step, SagaBlock):
                steps.append(self._saga(name, step.saga))
            else:
                comment = "  # through an outbox: a relay publishes it" if step.outbox else ""
                steps.append(f"await {self._call(name, step)}.run(){comment}")
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
        call inherits only the bulkhead, as in the simulator)."""
        defaults = self.system.defaults.calls
        inherit = defaults is not None and not spec.async_
        timeout = spec.timeout if spec.timeout is not None else (
            defaults.timeout if inherit and defaults else None)
        retry = spec.retry if spec.retry is not None else (
            defaults.retry if inherit and defaults else None)
        breaker = spec.circuit_breaker if spec.circuit_breaker is not None else (
            defaults.circuit_breaker if inherit and defaults else None)
        bulkhead = spec.bulkhead if spec.bulkhead is not None else (
            defaults.bulkhead if defaults else None)
        keywords: dict[str, Expr] = {}
        if timeout is not None:
            keywords["timeout"] = lit(timeout)
        if spec.deadline is not None:
            keywords["deadline"] = lit(spec.deadline)
        if spec.propagate_deadline:
            keywords["propagate_deadline"] = lit(True)
        if retry is not None:
            keywords["retry"], used = literals.retry(retry)
            self.imports.add("downstream", "Retry")
            self.imports.add("resilience", *used)
        if breaker is not None:
            keywords["breaker"] = literals.breaker(breaker)
            self.imports.add("resilience", "CircuitBreaker")
        if bulkhead is not None:
            keywords["bulkhead"] = literals.bulkhead(bulkhead)
            self.imports.add("resilience", "Bulkhead")
        if isinstance(spec.on_failure, Fallback):
            keywords["on_failure"] = call("Fallback", self._dist(spec.on_failure.fallback))
            self.imports.add("downstream", "Fallback")
        elif spec.on_failure == "continue":
            keywords["on_failure"] = lit("continue")
        if spec.async_ or spec.outbox is not None:
            keywords["fire_and_forget"] = lit(True)
        return self._dependency(operation, self.system.resolve(spec.to),
                                probability=spec.probability, **keywords)

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

    def _subscriptions(self) -> list[str]:
        """Queue only: one Subscription per consumer, delivered in the background."""
        self.imports.add("broker", "Subscription")
        jobs = []
        for consumer in self.component.consumers:
            component, target_op = self.system.resolve(consumer.to)
            self.downstreams.add(component)
            self.imports.add("downstream", "Dependency", "service_url")
            url = _url(component, self.ports[component], target_op)
            dependency = call("Dependency", lit("deliver"), lit(f"{component}.{target_op}"),
                              url)
            name = self._constant(f"sub_{identifier(component, target_op)}",
                                  call("Subscription", dependency,
                                       lit(self.component.capacity),
                                       lit(consumer.concurrency)))
            jobs.append(f"{name}.deliver")
        return jobs

    def _dist(self, dist: AnyDistribution) -> Expr:
        expr, used = literals.distribution(dist)
        self.imports.add("dists", *used)
        return expr


def _url(component: str, port: int, operation: str) -> Expr:
    return Expr(f"service_url({python(component)}, {port}) + {python('/' + operation)}")


def _is_zero(dist: AnyDistribution) -> bool:
    return isinstance(dist, Constant) and dist.value == 0.0


def _summary(component: str, operation: str, steps: tuple[str, ...]) -> str:
    calls = len(steps)
    return f"{component}.{operation}" + (f": {calls} call step{'s' * (calls != 1)}."
                                          if calls else ".")
