"""What every rule reads: the system, its call graph (built once) and the thresholds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from scalesim.lint.config import LintConfig
from scalesim.lint.finding import Hit
from scalesim.lint.graph import CallGraph
from scalesim.lint.load import Load, admitted
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
    def peak(self) -> dict[str, Load]:
        """Admitted load of each worker-limited component, workloads at their peak."""
        return admitted(self.system, peak=True)

    @cached_property
    def sustained(self) -> dict[str, Load]:
        """Admitted load, workloads at the rate they hold to the end."""
        return admitted(self.system, peak=False)


Check = Callable[[Context], Iterable[Hit]]
"""A rule: reads the context, yields a hit per problem found."""
