"""Each component's operations, and which of them makes which call.

Files do not name endpoints, so a component gets one placeholder operation whose calls are
every call the files show it making. The `component.json` ScaleSim writes does name them:
its operations with their work, and the calls each makes, to which operation of which
component. A component whose settings hold operations gets them all, each call on the
operation that makes it (once per callee operation, but a saga's compensations: only
when a step fails) and to the callee's operation it names (when the callee has several); a
call the files show that the settings do not list goes to its first operation.

Istio routes matched by `uri: {exact: /<operation>}` name operations too: a component whose
settings hold none gets the operations its routes name (placeholder work each), and a caller
calls, from its first operation, each operation of a callee that its routes (or any
caller's) name and no call of its settings reaches (a saga's compensation, a caller without
settings), so each such call takes its route's timeout and retries.
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
    routed: set[str]                         # the keys whose routes name them (no settings)
    plans: dict[str, dict[str, Wanted]]      # key -> operation -> the calls it makes
    # (caller, callee, operation): a call only a route shows, of a caller whose settings
    # name its operations and list no such call (a saga's compensation)
    unlisted: set[tuple[str, str, str | None]]

    def reference(self, key: str, operation: str | None, name: str) -> str:
        """How a call or workload names the operation: the component alone when it is its
        only (or first) one."""
        own = [listed for listed, _, _ in self.listed.get(key, [])]
        return f"{name}.{operation}" if operation is not None and len(own) > 1 and \
            operation in own else name

    def called(self, key: str, operation: str | None) -> str | None:
        """The operation a call to `key` reaches (None: its first), for its routes: None for
        a queue, which has none."""
        own = [listed for listed, _, _ in self.listed.get(key, [])]
        return operation or (own[0] if own else None)

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
    routed: set[str] = set()
    for key, component in draft.components.items():
        kind = roles.kinds[key]
        if kind is Kind.QUEUE:
            continue
        listed[key] = own_settings.operations(component)
        if listed[key]:
            named.add(key)
        elif component.routed_operations():
            routed.add(key)
            listed[key] = [(operation, WORK[kind], MEASURE_WORK)
                           for operation in component.routed_operations()]
        else:
            listed[key] = [(OPERATION[kind], WORK[kind], MEASURE_WORK)]
    plans: dict[str, dict[str, Wanted]] = {}
    unlisted: set[tuple[str, str, str | None]] = set()
    for key in listed:
        plans[key], shown = _calls(draft, roles, key, listed)
        if key in named:
            unlisted |= {(key, callee, operation) for callee, operation in shown}
    return Operations(listed, named, routed, plans, unlisted)


def _calls(draft: Draft, roles: Roles, key: str,
           listed: dict[str, Listed]) -> tuple[dict[str, Wanted], Wanted]:
    """Which operation of `key` makes which of its calls (as its settings say, in their
    order; the rest, and the calls only its routes show, from its first operation), and
    which calls only its routes show."""
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
    shown: Wanted = []
    for callee in callees:
        routed = _routed(draft, key, callee, listed, out)
        shown += [(callee, operation) for operation in routed]
        reached: list[str | None] = [*routed] or ([None] if callee not in placed else [])
        out[own[0]] += [(callee, operation) for operation in reached]
    return out, shown


def _routed(draft: Draft, caller: str, callee: str, listed: dict[str, Listed],
            planned: dict[str, Wanted]) -> list[str]:
    """The callee's operations the caller's routes (or any caller's) name, in route order,
    that no operation of the caller calls yet (a call to no operation reaches the first)."""
    theirs = [operation for operation, _, _ in listed.get(callee, [])]
    if not theirs:          # a queue: no operations
        return []
    reached = {operation or theirs[0] for wanted in planned.values()
               for target, operation in wanted if target == callee}
    return [operation for operation in draft.components[callee].routed_operations(caller)
            if operation in theirs and operation not in reached]
