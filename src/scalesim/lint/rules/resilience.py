"""Rules about how single calls protect their caller: timeouts, retries, breakers."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from scalesim.lint.context import Context
from scalesim.lint.estimates import ms
from scalesim.lint.finding import Hit
from scalesim.lint.graph import Edge, component_of
from scalesim.spec.checks import callees_first
from scalesim.spec.model import Call, Kind


def _calls(ctx: Context) -> Iterator[tuple[Edge, Call]]:
    """Edges written as calls (not cache misses)."""
    for edge in ctx.graph.edges:
        if edge.call is not None:
            yield edge, edge.call


def missing_timeouts(ctx: Context) -> Iterator[Hit]:
    """SS201: a synchronous call outside a fan-out with no timeout (fan-outs are SS301)."""
    for edge, call in _calls(ctx):
        if edge.sync and not edge.in_parallel and call.timeout is None:
            caller = ctx.component(edge.source)
            workers = caller.worker_limit
            held = ("its request open" if workers is None or caller.io == "nonblocking"
                    else f"one of its {caller.replicas * workers} workers")
            yield Hit(edge.path,
                      f"'{edge.source}' waits on '{call.to}' with no timeout: while "
                      f"'{component_of(edge.target)}' hangs, every call holds {held} "
                      "until it answers")


def retries_without_backoff(ctx: Context) -> Iterator[Hit]:
    """SS202: `backoff: none` retries immediately."""
    for edge, call in _calls(ctx):
        if call.retry and call.retry.attempts > 1 and call.retry.backoff == "none":
            yield Hit((*edge.path, "retry", "backoff"),
                      f"'{edge.source}' -> '{call.to}' makes up to {call.retry.attempts} "
                      "attempts with no wait between them: a struggling target gets "
                      f"{call.retry.attempts}x the load at once")


def retries_without_jitter(ctx: Context) -> Iterator[Hit]:
    """SS203: backoff without jitter keeps callers that failed together in step."""
    for edge, call in _calls(ctx):
        retry = call.retry
        if retry and retry.attempts > 1 and retry.backoff != "none" and retry.jitter == "none":
            yield Hit((*edge.path, "retry", "jitter"),
                      f"'{edge.source}' -> '{call.to}' retries with {retry.backoff} backoff "
                      f"from {ms(retry.base)} but no jitter: callers that failed together "
                      "retry together, in waves")


def retry_amplification(ctx: Context) -> Iterator[Hit]:
    """SS204: retries at 2+ layers of one synchronous chain multiply."""
    out = ctx.graph.sync_out

    @cache
    def worst(op: str, layers: int) -> tuple[int, tuple[Edge, ...]] | None:
        """The chain from `op` with the largest product of attempts among those with at
        least `layers` retrying calls."""
        best: tuple[int, tuple[Edge, ...]] | None = (1, ()) if layers == 0 else None
        for edge in out.get(op, []):
            rest = worst(edge.target, max(0, layers - (edge.attempts > 1)))
            if rest is not None and (best is None or edge.attempts * rest[0] > best[0]):
                best = (edge.attempts * rest[0], (edge, *rest[1]))
        return best

    for op in callees_first(ctx.system):  # fill the cache deepest first: no deep recursion
        for needed in range(3):
            worst(op, needed)
    seen: set[tuple[Edge, ...]] = set()
    for entry in ctx.graph.entries:
        found = worst(entry.op, 2)
        if found is None:
            continue
        factor, chain = found
        layers = tuple(edge for edge in chain if edge.attempts > 1)
        if layers in seen:
            continue
        seen.add(layers)
        steps = " x ".join(f"{e.source} -> {e.target} ({e.attempts} attempts)" for e in layers)
        yield Hit((*layers[0].path, "retry"),
                  f"retries at {len(layers)} layers of one chain from {entry.origin} "
                  f"multiply: {steps} = up to {factor} calls reach '{layers[-1].target}' "
                  "for one request")


def external_without_breaker(ctx: Context) -> Iterator[Hit]:
    """SS205: a call to a third party with no circuit breaker."""
    for edge, call in _calls(ctx):
        target = component_of(edge.target)
        if ctx.system.components[target].kind is Kind.EXTERNAL and call.circuit_breaker is None:
            wait = (f"its full timeout ({ms(call.timeout)})" if call.timeout
                    else "as long as it hangs")
            yield Hit(edge.path,
                      f"'{edge.source}' calls external '{target}' without a circuit breaker: "
                      f"while '{target}' is down or slow every call still goes out and waits "
                      f"{wait}")
