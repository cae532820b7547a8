"""Each component's operations, and which of them makes which call.

Files do not name endpoints, so a component gets one placeholder operation whose calls are
every call the files show it making. The `component.json` ScaleSim writes does name them:
its operations with their work, and the calls each makes, to which operation of which
component. A component whose settings hold operations gets them all, each call on the
operation that makes it (once per callee operation, but a saga's compensations: only
when a step fails) and to the callee's operation it names (when the callee has several); a
call the files show that the settings do not list goes to its first operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalesim.importers import own_settings
from scalesim.importers.draft import MARK, Draft
from scalesim.importers.roles import Roles
from scalesim.spec.model import Kind

OPERATION = {Kind.SERVICE: "handle", Kind.GATEWAY: "handle", Kind.DATABASE: "query",
             Kind.CACHE: "get", Kind.EXTERNAL: "call"}
WORK = {Kind.SERVICE: "5ms", Kind.GATEWAY: "1ms", Kind.DATABASE: "2ms", Kind.CACHE: "500us",
        Kind.EXTERNAL: "50ms"}
MEASURE_WORK = (f"{MARK}: compute time per request; profile it, or run `scalesim calibrate` "
                "with traces")

Listed = list[tuple[str, Any, str]]        # (operation, work, where it comes from)
Wanted = list[tuple[str, str | None]]      # (callee key, its operation; None: its first)


@dataclass(frozen=True)
class Operations:
    listed: dict[str, Listed]                # per component key, but queues'
    named: set[str]                          # the keys whose settings name their operations
    plans: dict[str, dict[str, Wanted]]      # key -> operation -> the calls it makes

    def reference(self, key: str, operation: str | None, name: str) -> str:
        """How a call or workload names the operation: the component alone when it is its
        only (or first) one."""
        own = [listed for listed, _, _ in self.listed.get(key, [])]
        return f"{name}.{operation}" if operation is not None and len(own) > 1 and \
            operation in own else name

    def entries(self, key: str) -> list[str | None]:
        """The operations of an entry point a workload sends to: those no call of the
        system reaches (each named), else its first (None)."""
        own = [listed for listed, _, _ in self.listed.get(key, [])]
        if len(own) < 2:
            return [None]
        called = {(callee, operation or own[0]) for plan in self.plans.values()
                  for wanted in plan.values() for callee, operation in wanted if callee == key}
        return [operation for operation in own if (key, operation) not in called] or [None]


def plan(draft: Draft, roles: Roles) -> Operations:
    """Every component's operations and calls, as its settings say, else the placeholder."""
    listed: dict[str, Listed] = {}
    named: set[str] = set()
    for key, component in draft.components.items():
        kind = roles.kinds[key]
        if kind is Kind.QUEUE:
            continue
        listed[key] = own_settings.operations(component)
        if listed[key]:
            named.add(key)
        else:
            listed[key] = [(OPERATION[kind], WORK[kind], MEASURE_WORK)]
    plans = {key: _calls(draft, roles, key, listed) for key in listed}
    return Operations(listed, named, plans)


def _calls(draft: Draft, roles: Roles, key: str, listed: dict[str, Listed]) -> dict[str, Wanted]:
    """Which operation of `key` makes which of its calls: as its settings say, in their
    order; the rest from its first operation."""
    own = [operation for operation, _, _ in listed[key]]
    out: dict[str, Wanted] = {operation: [] for operation in own}
    callees = [target for source, target in [*roles.calls, *roles.publishes] if source == key]
    placed: set[str] = set()
    for operation, target in own_settings.calls(draft.components[key]):
        name, _, callee_operation = target.partition(".")
        callee = next((c for c in callees if draft.components[c].name.lower() == name.lower()),
                      None)
        if callee is None or operation not in out:
            continue
        theirs = [listed_name for listed_name, _, _ in listed.get(callee, [])]
        wanted = (callee, callee_operation if callee_operation in theirs else None)
        if wanted not in out[operation]:
            out[operation].append(wanted)
        placed.add(callee)
    out[own[0]] += [(callee, None) for callee in callees if callee not in placed]
    return out
