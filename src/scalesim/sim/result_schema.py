"""The shape of a result document (docs/results.md), checked when a result is read back.

Diagrams, reports, comparisons and exports read `result.json` files that a person may have
edited. Every key they read is typed here, and the names that refer to each other (a call's
components, a trace's workload and parent spans, the rows of the time series) are checked,
so a bad file is one clear error instead of a KeyError deep in a renderer. Keys the readers
do not use may be added freely.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic import Strict as NoCoercion

from scalesim.sim.timeseries import (
    BREAKER_COLUMNS,
    CALL_COLUMNS,
    COMPONENT_COLUMNS,
    WORKLOAD_COLUMNS,
)
from scalesim.spec.data import Guarantee

Count = Annotated[int, NoCoercion(), Field(ge=0)]
Number = Annotated[float, NoCoercion()]
Maybe = Number | None
Name = Annotated[str, Field(min_length=1)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, populate_by_name=True)


class Latency(_Part):
    mean: Maybe = None
    p50: Maybe = None
    p90: Maybe = None
    p95: Maybe = None
    p99: Maybe = None
    p999: Maybe = None
    max: Maybe = None


class Requests(_Part):
    total: Count
    ok: Count
    failed: Count
    degraded: Count = 0
    failed_by_cause: dict[str, Count]


class WorkloadResult(_Part):
    requests: Requests
    throughput_rps: Maybe
    goodput_rps: Maybe
    latency_ms: Latency


class OperationResult(_Part):
    requests: Requests
    latency_ms: Latency


class Pool(_Part):
    overflow: Count
    max_active: Count


class Busiest(_Part):
    replica: Count
    utilization: Maybe


class ComponentResult(_Part):
    kind: Name
    replicas: Count
    throughput_rps: Maybe
    utilization: Maybe
    cpu: Maybe
    concurrency_mean: Maybe
    queue_mean: Maybe
    queue_max: Count
    rejected: Count
    refused_by_cause: dict[str, Count]
    latency_ms: Latency
    operations: dict[str, OperationResult]
    busiest_replica: Busiest | None = None
    ejections: Count | None = None
    connection_pool: Pool | None = None


State = Literal["closed", "open", "half_open"]


class Transition(_Part):
    t_s: Maybe
    replica: Count | None
    from_: State = Field(alias="from")
    to: State


class Breaker(_Part):
    not_permitted: Count
    transitions: list[Transition]


class BulkheadResult(_Part):
    rejected: Count
    max_active: Count
    limit: Count


class CallResult(_Part):
    from_: Name = Field(alias="from")
    to: Name
    async_: Annotated[bool, NoCoercion()] = Field(alias="async")
    attempts: Count
    retries: Count
    hedges: Count
    failed: Count
    timeouts: Count
    fallbacks: Count
    attempt_failures_by_cause: dict[str, Count]
    amplification: Maybe
    hedge_wins: Count | None = None
    retry_budget_exhausted: Count | None = None
    retry_overflow: Count | None = None
    degraded: Count | None = None
    bulkhead: BulkheadResult | None = None
    circuit_breaker: Breaker | None = None


class QueueResult(_Part):
    delivered: Count
    failed: Count
    delivered_rps: Maybe
    backlog_end: Count
    lag_ms: Latency
    dead_lettered: Count = 0
    guarantee: Guarantee | None = None
    dead_letter: Name | None = None
    max_deliveries: Annotated[int, NoCoercion(), Field(ge=1)] | None = None


class EventStoreResult(_Part):
    projections: dict[str, QueueResult]


class Event(_Part):
    t_s: Maybe
    component: Name
    replica: Count
    event: Name


class FaultWindow(_Part):
    target: Name
    start_s: Number
    end_s: Maybe
    effects: list[str]


class Span(_Part):
    span_id: Name
    parent_span_id: Name | None
    component: Name
    operation: Name
    replica: Count | None
    sent_s: Maybe
    start_s: Maybe
    end_s: Maybe
    status: Name
    attempt: Count
    kind: Name


class Trace(_Part):
    trace_id: Name
    workload: Name
    kind: Name
    status: Name
    start_s: Maybe
    duration_ms: Maybe
    spans: list[Span] = Field(min_length=1)

    @model_validator(mode="after")
    def _spans_form_a_tree(self) -> Trace:
        ids = [span.span_id for span in self.spans]
        if len(set(ids)) != len(ids):
            raise ValueError("span_id values repeat")
        unknown = {s.parent_span_id for s in self.spans} - {None, *ids}
        if unknown:
            raise ValueError(f"parent_span_id {sorted(map(str, unknown))[0]!r} is not a span "
                             "of this trace")
        return self


class Check(_Part):
    name: Name
    met: Annotated[bool, NoCoercion()]
    target_ms: Maybe = None
    actual_ms: Maybe = None
    target: Maybe = None
    actual: Maybe = None


class SloResult(_Part):
    met: Annotated[bool, NoCoercion()]
    checks: list[Check]


Interval = Annotated[list[Maybe], Field(min_length=2, max_length=2)]


class Ci95(_Part):
    latency_ms: dict[str, Interval]
    throughput_rps: Interval
    goodput_rps: Interval
    error_rate: Interval


Cell = Annotated[str, NoCoercion()] | Number | None


class Table(_Part):
    columns: list[str]
    rows: list[list[Cell]]

    def problem(self, columns: list[str], key: str) -> str | None:
        """Why the table is not one of `columns` keyed by the name in column `key`."""
        if self.columns != columns:
            return f"columns must be {', '.join(columns)}"
        where = columns.index(key)
        for index, row in enumerate(self.rows):
            if len(row) != len(columns):
                return f"row {index} has {len(row)} cells, not {len(columns)}"
            numbers = [cell for at, cell in enumerate(row) if at != where]
            if not isinstance(row[where], str) or row[0] is None \
                    or any(isinstance(cell, str) for cell in numbers):
                return f"row {index}: '{key}' is a name, t_s and the other cells are numbers"
        return None


class Series(_Part):
    workloads: Table
    components: Table
    breakers: Table
    calls: Table | None = None  # results written before calls had a series have none

    @model_validator(mode="after")
    def _tables_fit(self) -> Series:
        for name, table, columns, key in (
                ("workloads", self.workloads, WORKLOAD_COLUMNS, "workload"),
                ("components", self.components, COMPONENT_COLUMNS, "component"),
                ("breakers", self.breakers, BREAKER_COLUMNS, "call"),
                ("calls", self.calls, CALL_COLUMNS, "call")):
            problem = table.problem(columns, key) if table is not None else None
            if problem:
                raise ValueError(f"{name}: {problem}")
        return self


class ResultDocument(_Part):
    scalesim: str
    system: Name
    seed: Count
    replications: Annotated[int, NoCoercion(), Field(ge=1)]
    simulated_s: Annotated[float, NoCoercion(), Field(gt=0.0)]
    requests: Requests
    throughput_rps: Maybe
    goodput_rps: Maybe
    error_rate: Maybe
    latency_ms: Latency
    workloads: dict[str, WorkloadResult]
    components: dict[str, ComponentResult]
    calls: list[CallResult]
    events: list[Event] = []
    faults: list[FaultWindow] = []
    queues: dict[str, QueueResult] | None = None
    event_stores: dict[str, EventStoreResult] | None = None
    slo: SloResult | None = None
    ci95: Ci95 | None = None
    traces: list[Trace] = []
    timeseries: Series | None = None

    @model_validator(mode="after")
    def _names_refer_to_something(self) -> ResultDocument:
        components = self.components
        for index, call in enumerate(self.calls):
            for end, ref in (("from", call.from_), ("to", call.to)):
                if ref.partition(".")[0] not in components:
                    raise ValueError(f"calls[{index}].{end}: no component "
                                     f"'{ref.partition('.')[0]}' in components")
        for name, queue in (self.queues or {}).items():
            if queue.dead_letter is not None and queue.dead_letter not in components:
                raise ValueError(f"queues.{name}.dead_letter: no component "
                                 f"'{queue.dead_letter}' in components")
        for index, event in enumerate(self.events):
            if event.component not in components:
                raise ValueError(f"events[{index}].component: no component "
                                 f"'{event.component}' in components")
        for index, trace in enumerate(self.traces):
            if trace.workload not in self.workloads:
                raise ValueError(f"traces[{index}].workload: no workload '{trace.workload}' "
                                 "in workloads")
        return self


def check_result(data: Any) -> list[str]:
    """Every problem of a result document as 'path: message' (empty when it is fine)."""
    try:
        ResultDocument.model_validate(data)
    except ValidationError as error:
        return [f"{_dotted(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                for e in error.errors()]
    return []


def _dotted(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
