"""Mermaid text for docs: the architecture as a flowchart, a sampled request as a sequence
diagram, and circuit breakers as state diagrams with observed transition counts.

Identifiers are generated (n0, p1, b2…), never taken from names, and every label goes through
`mermaid_text`, so no name can change the diagram's structure.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import Any

from scalesim.render.escape import mermaid_text
from scalesim.render.graph import ROUTE_COLOURS, WORKLOAD, Architecture, Node

# (open, close) of each node shape: Mermaid flowchart syntax.
SHAPES = {
    "service": ("(", ")"),
    "gateway": ("{{", "}}"),
    "database": ("[(", ")]"),
    "cache": ("[[", "]]"),
    "queue": (">", "]"),
    "external": ("[/", "\\]"),
    WORKLOAD: ("([", "])"),
}
BREAKER_STATES = {"closed": "CLOSED", "open": "OPEN", "half_open": "HALF_OPEN"}
# Resilience4j's transitions, drawn even when not observed (count 0) so the machine is whole.
BREAKER_EDGES = (("closed", "open"), ("open", "half_open"), ("half_open", "open"),
                 ("half_open", "closed"))


def _label(lines: list[str] | tuple[str, ...]) -> str:
    return '"' + "<br/>".join(mermaid_text(line) for line in lines) + '"'


def flowchart(arch: Architecture) -> str:
    ids = {node.id: f"n{index}" for index, node in enumerate(arch.nodes)}
    out = ["flowchart LR"]
    if arch.description:
        out.append(f"  %% {mermaid_text(arch.description)}")

    def node_line(node: Node, indent: str) -> str:
        opening, closing = SHAPES[node.kind]
        lines = [node.name, node.detail] + ([node.metric] if node.metric else [])
        return f"{indent}{ids[node.id]}{opening}{_label(lines)}{closing}"

    keyed = sorted(enumerate(arch.nodes), key=lambda item: (item[1].group or "", item[0]))
    for number, (group, members) in enumerate(groupby(keyed, key=lambda item: item[1].group)):
        if group is None:
            out += [node_line(node, "  ") for _, node in members]
            continue
        out.append(f"  subgraph g{number}[{_label([group])}]")
        out += [node_line(node, "    ") for _, node in members]
        out.append("  end")
    for edge in arch.edges:
        arrow = "-.->" if edge.is_async else "-->"
        out.append(f"  {ids[edge.source]} {arrow}|{_label(edge.lines)}| {ids[edge.target]}")
    for number, edge in enumerate(arch.edges):  # a link's number is its place in the text
        colour = ROUTE_COLOURS.get(edge.route)
        if colour:
            out.append(f"  linkStyle {number} stroke:{colour},color:{colour}")
    for node in arch.nodes:
        if node.fill:
            out.append(f"  style {ids[node.id]} fill:{node.fill}")
    return "\n".join(out) + "\n"


def sequence(trace: dict[str, Any]) -> str:
    """One sampled request: a message per visit sent, an answer per visit finished, in time
    order, times in ms since the request was sent."""
    spans: list[dict[str, Any]] = trace["spans"]
    origin = trace["start_s"]
    by_id = {span["span_id"]: span for span in spans}
    participants = {"": "c"}
    for span in spans:
        participants.setdefault(span["component"], f"p{len(participants) - 1}")
    out = ["sequenceDiagram",
           f"  %% trace {mermaid_text(trace['trace_id'])}: {mermaid_text(trace['workload'])}, "
           f"{mermaid_text(trace['kind'])}, {mermaid_text(trace['status'])}, "
           f"{trace['duration_ms']:g} ms",
           f"  actor c as {mermaid_text(trace['workload'])}"]
    out += [f"  participant {pid} as {mermaid_text(name)}"
            for name, pid in participants.items() if name]
    events: list[tuple[float, int, str]] = []
    for order, span in enumerate(spans):
        parent = by_id.get(span["parent_span_id"] or "")
        caller = participants[parent["component"]] if parent else "c"
        callee = participants[span["component"]]
        notes = [] if span["replica"] is None else [f"replica {span['replica']}"]
        notes += [] if span["kind"] in ("entry", "call") else [span["kind"]]
        notes += [f"attempt {span['attempt']}"] if span["attempt"] > 1 else []
        arrow = "-)" if span["kind"] == "async" else "->>"
        sent = (span["sent_s"] - origin) * 1e3
        what = span["operation"] + (f" ({', '.join(notes)})" if notes else "")
        events.append((span["sent_s"], 2 * order,
                       f"  {caller}{arrow}{callee}: {mermaid_text(what)} at {sent:.1f} ms"))
        if span["end_s"] is not None and span["kind"] != "async":
            reply = "-->>" if span["status"] == "ok" else "--x"
            took = (span["end_s"] - span["sent_s"]) * 1e3
            events.append((span["end_s"], 2 * order + 1,
                           f"  {callee}{reply}{caller}: {mermaid_text(span['status'])} "
                           f"after {took:.1f} ms"))
    out += [line for _, _, line in sorted(events)]
    return "\n".join(out) + "\n"


def breaker_states(calls: list[dict[str, Any]]) -> str:
    """Every call's circuit breaker as a state machine; edges carry how often each
    transition happened (over all replicas' breakers) and the call its not-permitted count."""
    out = ["stateDiagram-v2"]
    breakers = [call for call in calls if "circuit_breaker" in call]
    if not breakers:
        out.append("  %% no circuit breakers in this system")
    for number, call in enumerate(breakers):
        breaker = call["circuit_breaker"]
        counts = Counter((t["from"], t["to"]) for t in breaker["transitions"])
        prefix = f"b{number}"
        title = (f"{call['from']} → {call['to']}: {breaker['not_permitted']:,} not permitted")
        out.append(f"  state {_label([title])} as {prefix} {{")
        for state, shown in BREAKER_STATES.items():
            out.append(f'    state "{shown}" as {prefix}_{state}')
        out.append(f"    [*] --> {prefix}_closed")
        edges = list(BREAKER_EDGES) + sorted(set(counts) - set(BREAKER_EDGES))
        for source, target in edges:
            out.append(f"    {prefix}_{source} --> {prefix}_{target}: "
                       f"{counts[(source, target)]}×")
        out.append("  }")
    return "\n".join(out) + "\n"
