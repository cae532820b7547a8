"""What every rule reads: the system, its call graph (built once) and the thresholds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from scalesim.analytic.estimate import Estimate, Model
from scalesim.analytic.overload import CpuLoad, closed_as_open, cpu_loads
from scalesim.lint.config import LintConfig
from scalesim.lint.estimates import drain_rates
from scalesim.lint.finding import Hit
from scalesim.lint.graph import CallGraph
from scalesim.lint.load import (
    Feed,
    Load,
    admitted,
    admitted_rates,
    delivered,
    let_in,
    open_part,
    passed,
)
from scalesim.spec.model import Component, Operation, System


@dataclass(frozen=True)
class Context:
    system: System
    config: LintConfig
    graph: CallGraph

    @classmethod
    def of(cls, system: System, config: LintConfig) -> Context:
        return cls(system, config, CallGraph(system))

    def component(self, op: str) -> Component:
        """The component of 'component.operation' (or of a bare component name)."""
        return self.system.components[op.partition(".")[0]]

    def operation(self, op: str) -> Operation:
        component, _, name = op.partition(".")
        return self.system.components[component].effective_operations[name]

    @cached_property
    def open_system(self) -> System:
        """The system with each closed loop at the throughput it reaches (Mean Value
        Analysis): a loop's users wait for their answers, so it offers at most what it gets
        through, not users / (think + a response without queueing)."""
        return closed_as_open(self.system)

    @cached_property
    def drains(self) -> dict[Feed, float]:
        """Deliveries per second each subscription can take (`lint.estimates.drain_rps`)."""
        return drain_rates(self)

    @cached_property
    def peak_system(self) -> tuple[System, frozenset[str]]:
        """The open system at its workloads' peak, each message delivered once and at most
        as fast as its subscription drains (`lint.load.delivered`): the load of a healthy
        system; and the components a drain caps."""
        return delivered(self.open_system, True, self.drains)

    @cached_property
    def sustained_system(self) -> tuple[System, frozenset[str]]:
        """As `peak_system`, the workloads at the rates they hold to the end."""
        return delivered(self.open_system, False, self.drains)

    @cached_property
    def peak(self) -> dict[str, Load]:
        """Admitted load of each worker-limited component, workloads at their peak."""
        return admitted(self.peak_system[0], True, self.peak_system[1])

    @cached_property
    def sustained(self) -> dict[str, Load]:
        """Admitted load, workloads at the rate they hold to the end."""
        return admitted(self.sustained_system[0], False, self.sustained_system[1])

    @cached_property
    def open_sustained(self) -> dict[str, Load] | None:
        """As `sustained`, from the open workloads alone (`lint.load.open_part`); None
        without a closed loop."""
        system = open_part(self.system)
        if system is None:
            return None
        fed, capped = delivered(system, False, self.drains)
        return admitted(fed, False, capped)

    def overloaded(self, name: str) -> bool:
        """The component's sustained ρ ≥ 1 is an overload: not the closed loops' doing (they
        bring it to its capacity at most, so the open workloads alone must reach ρ ≥ 1)."""
        load = self.sustained.get(name)
        if load is None or load.rho < 1.0:
            return False
        alone = self.open_sustained
        return alone is None or (name in alone and alone[name].rho >= 1.0)

    @cached_property
    def latencies(self) -> dict[str, float]:
        """No-queueing latencies of operations, filled in as lint/estimates.latency_s finds
        them: rules ask for many operations of one call tree, and each answer is the same
        for the whole run of the lint."""
        return {}

    @cached_property
    def shares(self) -> dict[str, float]:
        """The share of each operation's visits its rate limit lets in, where below 1, in
        `sustained_system` (`lint.load.let_in`)."""
        return let_in(self.sustained_system[0])

    @cached_property
    def peak_shares(self) -> dict[str, float]:
        """As `shares`, in `peak_system`."""
        return let_in(self.peak_system[0])

    @cached_property
    def rates(self) -> dict[str, float]:
        """Visits per second of every operation in `sustained_system`: the workloads at the
        rates they hold to the end, each subscription passing on at most what it drains. The
        rules that judge a rate rather than a load (SS204's retry budgets, SS208's breaker
        windows) read it, so that what a capped subscription feeds is judged at what it
        receives, as the capacity rules judge it; a rate limit's refusals make no calls
        (`lint.load.admitted_rates`). Infinite where calls loop back with no steady
        state."""
        return admitted_rates(self.sustained_system[0], self.shares)

    @cached_property
    def peak_rates(self) -> dict[str, float]:
        """As `rates`, in `peak_system`: the workloads at their peak."""
        return admitted_rates(self.peak_system[0], self.peak_shares)

    @cached_property
    def admits(self) -> dict[str, float]:
        """Requests per second each operation admits in `sustained_system`: its `rates`
        less what its rate limit refuses (`lint.load.passed`). SS402 reads it: a queue's
        own limit refuses publishes, which its subscriptions never get."""
        return passed(self.rates, self.shares)

    @cached_property
    def peak_admits(self) -> dict[str, float]:
        """As `admits`, in `peak_system`."""
        return passed(self.peak_rates, self.peak_shares)

    @cached_property
    def estimate(self) -> Estimate | None:
        """The analytic estimate with the storm its retries can hold the system in
        (`Estimate.storm`), for systems with a retried or hedged call waited on (None
        otherwise: nothing to find, and the estimate is the dearest thing a rule reads)."""
        if not any(edge.sync and edge.call is not None and edge.call.repeated
                   for edge in self.graph.edges):
            return None
        return Model(self.system).evaluate(storm=True)

    @cached_property
    def cpu(self) -> dict[str, CpuLoad]:
        """The sustained CPU load of each component with `cores`, at what it admits: what
        its rate limit lets in of what the limits before it let through (`admits`; the
        workers' `sustained` has the worker-limited components only)."""
        system = self.sustained_system[0]
        return cpu_loads(system, {
            name: sum(self.admits[f"{name}.{op}"] for op in component.effective_operations)
            for name, component in system.components.items()})


Check = Callable[[Context], Iterable[Hit]]
"""A rule: reads the context, yields a hit per problem found."""
