"""Rules about how single calls protect their caller: timeouts, retries, breakers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cache

from scalesim.budget import amount
from scalesim.lint.context import Context
from scalesim.lint.estimates import ms, pct, per_s
from scalesim.lint.finding import Hit
from scalesim.lint.graph import Edge, component_of
from scalesim.spec.checks import callees_first
from scalesim.spec.errors import counted
from scalesim.spec.model import Call, Component, Kind
from scalesim.spec.resilience import CircuitBreaker


def running_replicas(component: Component) -> int:
    """The replicas a component runs with: `replicas: 0` (legal with `autoscale.min: 0`) is
    a component idle until the autoscaler starts it, and when it runs it has up to
    `autoscale.max`; a rule dividing by zero replicas would crash on a valid spec."""
    return component.replicas or component.most_replicas


def at_scale(component: Component) -> str:
    """' at autoscale.max N' for an autoscaled component, whose rules count its most
    replicas (what it can reach, as the capacity rules do), so the message says so."""
    return f" at autoscale.max {component.most_replicas}" if component.autoscale else ""


def _calls(ctx: Context) -> Iterator[tuple[Edge, Call]]:
    """Edges written as calls (not cache misses)."""
    for edge in ctx.graph.edges:
        if edge.call is not None:
            yield edge, edge.call


def _written_calls(ctx: Context) -> Iterator[tuple[Edge, Call]]:
    """As `_calls`, a choreographed saga's steps and compensations with their own timeout,
    retry and breaker (`CallGraph.choreographed`), for the rules on those settings."""
    written = ctx.graph.choreographed
    for edge, call in _calls(ctx):
        yield edge, written.get(edge.path, call)


def missing_timeouts(ctx: Context) -> Iterator[Hit]:
    """SS201: a synchronous call outside a fan-out with no timeout and no deadline (fan-outs
    are SS301; a deadline bounds the call as well, all its tries together)."""
    for edge, call in _calls(ctx):
        if edge.sync and not edge.in_parallel and call.timeout is None and call.deadline is None:
            caller = ctx.component(edge.source)
            workers = caller.worker_limit
            held = ("its request open" if workers is None or caller.io == "nonblocking"
                    else _one_worker(running_replicas(caller) * workers))
            yield Hit(edge.path,
                      f"'{edge.source}' waits on '{call.to}' with no timeout: while "
                      f"'{component_of(edge.target)}' hangs, every call holds {held} "
                      "until it answers")


def _one_worker(workers: int) -> str:
    """What a waiting call holds of `workers`: 'its only worker', 'one of its 8 workers'."""
    return "its only worker" if workers == 1 else f"one of its {counted(workers, 'worker')}"


def retries_without_backoff(ctx: Context) -> Iterator[Hit]:
    """SS202: `backoff: none` retries immediately. A single retry steered away from the
    replica that failed (`other_replica`, with another replica to go to) is failover: the
    replica that failed is not tried again for that request (what the extra attempt does to
    a whole service near capacity is SS204's and SS211's). With more attempts a retry avoids
    only the replica that just failed, so a third goes back to the first."""
    for edge, call in _written_calls(ctx):
        retry = call.retry
        if retry is None or retry.attempts < 2 or retry.backoff != "none":
            continue
        callee = component_of(edge.target)
        elsewhere = retry.other_replica and running_replicas(ctx.component(edge.target)) > 1
        if elsewhere and retry.attempts == 2:
            continue
        tries = f"'{edge.source}' -> '{call.to}' makes up to " \
            f"{counted(retry.attempts, 'attempt')} with no wait between them"
        yield Hit((*edge.path, "retry", "backoff"),
                  f"{tries}: each retry avoids only the replica that just failed, so the "
                  "third attempt can go back at once to the first, and when "
                  f"'{callee}' as a whole struggles it gets {retry.attempts}x the load at once"
                  if elsewhere else
                  f"{tries}: a struggling target gets {retry.attempts}x the load at once")


def retries_without_jitter(ctx: Context) -> Iterator[Hit]:
    """SS203: backoff without jitter keeps callers that failed together in step."""
    for edge, call in _written_calls(ctx):
        retry = call.retry
        if retry and retry.attempts > 1 and retry.backoff != "none" and retry.jitter == "none":
            yield Hit((*edge.path, "retry", "jitter"),
                      f"'{edge.source}' -> '{call.to}' retries with {retry.backoff} backoff "
                      f"(first wait {ms(retry.longest_wait(1))}) but no jitter: callers "
                      "that failed together retry together, in waves")


MULTIPLIES = 2.0  # a retrying layer that can at least double its calls multiplies load


def retry_factor(ctx: Context, edge: Edge) -> float:
    """Most calls per original call a retrying edge can send: its attempts, or less when a
    retry budget binds: 1 + ratio + (calling replicas × min_per_s) / the edge's call rate,
    the rate the caller receives in the load model (`Context.rates`: behind a queue, what
    its subscription drains), since the floor weighs more the fewer calls it has to ride."""
    call = edge.call
    if call is None or call.retry is None:
        return 1.0
    retry = call.retry
    if retry.budget is None:
        return float(retry.attempts)
    rate = ctx.rates[edge.source] * edge.probability
    floor = running_replicas(ctx.component(edge.source)) * retry.budget.min_per_s
    if rate <= 0.0:
        allowed = math.inf if floor > 0.0 else 1.0 + retry.budget.ratio
    else:
        allowed = 1.0 + retry.budget.ratio + floor / rate
    return min(float(retry.attempts), allowed)


def retry_amplification(ctx: Context) -> Iterator[Hit]:
    """SS204: retries at 2+ layers of one synchronous chain multiply; or a layer whose
    retries can double the load of a component already near capacity. A layer whose retry
    budget holds it under doubling does not count."""
    out = ctx.graph.sync_out
    factor = {edge: retry_factor(ctx, edge) for edge in ctx.graph.edges}

    @cache
    def worst(op: str, layers: int) -> tuple[float, tuple[Edge, ...]] | None:
        """The chain from `op` with the largest product of retry factors among those with
        at least `layers` multiplying calls."""
        best: tuple[float, tuple[Edge, ...]] | None = (1.0, ()) if layers == 0 else None
        for edge in out.get(op, []):
            rest = worst(edge.target, max(0, layers - (factor[edge] >= MULTIPLIES)))
            if rest is not None and (best is None or factor[edge] * rest[0] > best[0]):
                best = (factor[edge] * rest[0], (edge, *rest[1]))
        return best

    for op in callees_first(ctx.system):  # fill the cache deepest first: no deep recursion
        for needed in range(3):
            worst(op, needed)
    seen: set[tuple[Edge, ...]] = set()
    for entry in ctx.graph.entries:
        found = worst(entry.op, 2)
        if found is None:
            continue
        product, chain = found
        layers = tuple(edge for edge in chain if factor[edge] > 1.0)
        if layers in seen:
            continue
        seen.add(layers)
        steps = " x ".join(f"{e.source} -> {e.target} ({factor[e]:.3g} attempts)"
                           for e in layers)
        yield Hit((*layers[0].path, "retry"),
                  f"retries at {counted(len(layers), 'layer')} of one chain from {entry.origin} "
                  f"multiply: {steps} = up to {amount(product)} calls reach '{layers[-1].target}' "
                  "for one request")
    yield from _retries_into_saturation(ctx, factor)


def _retries_into_saturation(ctx: Context, factor: dict[Edge, float]) -> Iterator[Hit]:
    threshold = ctx.config.utilization
    for edge, call in _calls(ctx):
        target = component_of(edge.target)
        load = ctx.peak.get(target)
        if load is None or factor[edge] < MULTIPLIES or not load.rho >= threshold:
            continue
        retried = call.retry.on if call.retry else []
        if not {"timeout", "rejected", "overflow"} & set(retried):
            continue
        yield Hit((*edge.path, "retry"),
                  f"'{edge.source}' retries '{target}' up to {factor[edge]:.3g} attempts on "
                  f"{', '.join(retried)}, and '{target}' is already offered ρ ≈ "
                  f"{load.rho:.2f}: once it slows, each request can become "
                  f"{factor[edge]:.3g} calls, up to ρ ≈ {load.rho * factor[edge]:.2f}, and "
                  "the retries keep it overloaded (a retry storm); bound them with a retry "
                  "budget or a breaker")


def metastable_retries(ctx: Context) -> Iterator[Hit]:
    """SS211: the estimate finds a second steady state (`Estimate.storm`) in which the
    attempts of retried or hedged calls overload a component that the calm state does not:
    reported at each such call into it."""
    calm = ctx.estimate
    if calm is None or calm.storm is None:
        return
    storm, overloads = calm.storm, calm.storm_overloads()
    for edge, call in _calls(ctx):
        target = component_of(edge.target)
        if not (edge.sync and call.repeated and target in overloads):
            continue
        before, after = calm.components[target], storm.components[target]
        failing = "every request failing" if storm.error_rate >= 1.0 \
            else f"{pct(storm.error_rate)} of requests failing"
        load = f"ρ ≈ {after.state.offered:.2f}" if math.isfinite(after.state.offered) \
            else "an unbounded load"
        sends = []
        if call.retry is not None and call.retry.attempts > 1:
            sends.append(counted(call.retry.attempts, "attempt"))
        if call.hedge is not None:
            sends.append(counted(call.hedge.max, "hedge"))
        yield Hit((*edge.path, "retry" if call.retry is not None else "hedge"),
                  f"'{edge.source}' sends '{target}' up to {' and '.join(sends)} a call: "
                  f"calm, '{target}' gets {per_s(before.arrival_rate_rps)} "
                  f"(ρ ≈ {before.state.offered:.2f}), but once a burst or a slow spell makes "
                  "attempts late, they hold it at "
                  f"{per_s(after.arrival_rate_rps)} ({load}), {failing}, after the cause is "
                  "gone; a retry budget, fewer attempts or a longer timeout removes that "
                  "second steady state")


def external_without_breaker(ctx: Context) -> Iterator[Hit]:
    """SS205: a call to a third party with no circuit breaker."""
    for edge, call in _written_calls(ctx):
        target = component_of(edge.target)
        if ctx.system.components[target].kind is Kind.EXTERNAL and call.circuit_breaker is None:
            wait = (f"its full timeout ({ms(call.timeout)})" if call.timeout
                    else "as long as it hangs")
            yield Hit(edge.path,
                      f"'{edge.source}' calls external '{target}' without a circuit breaker: "
                      f"while '{target}' is down or slow every call still goes out and waits "
                      f"{wait}")


def bound_s(call: Call) -> float | None:
    """How long the caller waits for one attempt: the per-try timeout, or the call's deadline
    when that is shorter (or the only bound)."""
    bounds = [b for b in (call.timeout, call.deadline) if b is not None]
    return min(bounds) if bounds else None


def _inner_calls(ctx: Context, op: str) -> Iterator[tuple[Edge, Call]]:
    """The synchronous calls `op` makes (not cache misses), in spec order."""
    for edge in ctx.graph.sync_out.get(op, []):
        if edge.call is not None:
            yield edge, edge.call


def _outlived(call: Call) -> float | None:
    """How long a caller waits on `call`, when the work below it can outlast that: None when
    it does not wait (async), has no bound, or passes its deadline down (the callee's own
    calls are then cut at what is left of it, as the kernel and gRPC do)."""
    return None if call.async_ or call.propagate_deadline else bound_s(call)


def _must_finish(edge: Edge) -> bool:
    """A saga's step or compensation: the coordinator drives it to its end whether or not
    the request that started the saga still waits (a compensation must succeed)."""
    return "saga" in edge.path


def timeout_inversions(ctx: Context) -> Iterator[Hit]:
    """SS206: a callee waits longer on its own dependency than its caller waits for it."""
    for outer, call in _calls(ctx):
        outer_bound = _outlived(call)
        if not outer.sync or outer_bound is None:
            continue
        for inner, inner_call in _inner_calls(ctx, outer.target):
            inner_bound = bound_s(inner_call)
            if inner_bound is not None and inner_bound >= outer_bound and \
                    not _must_finish(inner):
                yield Hit(inner.path,
                          f"'{inner.source}' waits up to {ms(inner_bound)} per attempt on "
                          f"'{inner_call.to}', but its caller '{outer.source}' gives up on it "
                          f"after {ms(outer_bound)}: the caller times out first and the "
                          f"work below goes on for nobody (timeouts must shrink down a chain)")


def _retry_time_s(call: Call) -> float | None:
    """Least time a call can spend when every attempt times out: attempts × timeout (backoff
    ignored, so this is a lower bound), capped by its deadline. None without a timeout."""
    if call.timeout is None or call.retry is None or call.retry.attempts < 2:
        return None
    total = call.retry.attempts * call.timeout
    return min(total, call.deadline) if call.deadline is not None else total


def attempts_within(deadline: float, timeout: float) -> int:
    """Timed-out attempts that fit in a deadline (at least the first). Durations are
    binary fractions: 1.0 // 0.1 is 9.0 and 3 × 0.2 > 0.6, so the quotient gets a
    tolerance before it is floored (100 ms in 1 s is 10, 200 ms in 600 ms is 3)."""
    return max(1, math.floor(deadline / timeout + 1e-9))


def retries_outlast_caller(ctx: Context) -> Iterator[Hit]:
    """SS207: retries × per-try timeout longer than the call's deadline, or than the time
    the caller one level up waits (with the tolerance of `attempts_within`: 3 × 200 ms is
    not longer than 600 ms)."""
    for edge, call in _calls(ctx):
        retry = call.retry
        if retry is None or call.timeout is None or call.deadline is None:
            continue
        fit = attempts_within(call.deadline, call.timeout)
        if retry.attempts > fit:
            yield Hit((*edge.path, "deadline"),
                      f"'{edge.source}' -> '{call.to}' allows "
                      f"{counted(retry.attempts, 'attempt')} of "
                      f"{ms(call.timeout)} = {ms(retry.attempts * call.timeout)}, but its "
                      f"deadline is {ms(call.deadline)}: it holds only "
                      f"{counted(fit, 'timed-out attempt')}, "
                      "so the retries configured after that never happen")
    for outer, call in _calls(ctx):
        outer_bound = _outlived(call)
        if not outer.sync or outer_bound is None:
            continue
        for inner, inner_call in _inner_calls(ctx, outer.target):
            spent = _retry_time_s(inner_call)
            if spent is not None and spent > outer_bound * (1.0 + 1e-9) and (
                    bound_s(inner_call) or 0.0) < outer_bound and not _must_finish(inner):
                attempts = inner_call.retry.attempts if inner_call.retry else 1
                yield Hit((*inner.path, "retry"),
                          f"'{inner.source}' retries '{inner_call.to}' up to {attempts} × "
                          f"{ms(inner_call.timeout or 0.0)} = at least {ms(spent)} when it "
                          f"keeps timing out, but '{outer.source}' waits only "
                          f"{ms(outer_bound)} for it: the caller gives up (and may retry, "
                          "adding work) while the retries below are still running")


def calls_in_window(breaker: CircuitBreaker, rate: float, replicas: int) -> float:
    """The calls one breaker holds in a time window, at `rate` calls/s from `replicas`
    calling replicas (each has its own breaker unless its scope is the service)."""
    return (rate / replicas if breaker.scope == "replica" else rate) * breaker.window


def never_opens(breaker: CircuitBreaker, seen: float) -> bool:
    """A time-window breaker whose window holds fewer than `min_calls` calls never decides,
    so never opens, however many fail (SS208)."""
    return breaker.window_type == "time" and seen < breaker.min_calls


def breakers_that_never_decide(ctx: Context) -> Iterator[Hit]:
    """SS208: a breaker whose minimum number of calls does not do what it says: capped by a
    smaller count window, or never reached in a time window at the rate its caller receives
    in the load model (`Context.rates`: behind a queue, no more than its subscription
    drains, however fast the workloads publish)."""
    for edge, call in _calls(ctx):
        breaker = call.circuit_breaker
        if breaker is None:
            continue
        path = (*edge.path, "circuit_breaker", "min_calls")
        if breaker.window_type == "count" and breaker.min_calls > breaker.window:
            yield Hit(path,
                      f"the breaker on '{edge.source}' -> '{call.to}' asks for min_calls "
                      f"{breaker.min_calls} over a window of {counted(breaker.window, 'call')}: "
                      "the window never holds that many, so Resilience4j decides after "
                      f"{counted(breaker.window, 'call')} instead; set min_calls to at most "
                      "the window")
        elif breaker.window_type == "time":
            rate = ctx.rates[edge.source] * edge.probability
            # each replica's breaker sees rate / replicas: fewest at the most replicas
            caller = ctx.component(edge.source)
            replicas = caller.most_replicas
            seen = calls_in_window(breaker, rate, replicas)
            if rate > 0.0 and never_opens(breaker, seen):
                who = (f"each of the {replicas} calling replicas' breakers"
                       if breaker.scope == "replica" and replicas > 1 else "the breaker")
                yield Hit(path,
                          f"the breaker on '{edge.source}' -> '{call.to}' needs "
                          f"{counted(breaker.min_calls, 'call')} in its {breaker.window} s window, "
                          "but at "
                          f"the offered {per_s(rate)} {who} sees about {amount(seen)}"
                          f"{at_scale(caller)}: it can "
                          "never open, however many calls fail")


def bulkheads_larger_than_callee(ctx: Context) -> Iterator[Hit]:
    """SS209: a bulkhead that admits more concurrent calls than the callee has workers, both
    at their most replicas (an autoscaled caller's bulkheads add up as it scales out)."""
    for edge, call in _calls(ctx):
        bulkhead = call.bulkhead
        target = ctx.component(edge.target)
        workers = target.worker_limit
        if bulkhead is None or workers is None or target.kind is Kind.EXTERNAL:
            continue
        size = bulkhead.max_concurrent if bulkhead.type == "semaphore" else bulkhead.size
        caller = ctx.component(edge.source)
        callers = caller.most_replicas if bulkhead.scope == "replica" else 1
        capacity = target.most_replicas * workers
        if size * callers > capacity:
            field = "max_concurrent" if bulkhead.type == "semaphore" else "size"
            total = (f"{counted(callers, 'caller replica')} × {size} = {size * callers}"
                     if callers > 1 else f"{size}")
            yield Hit((*edge.path, "bulkhead", field),
                      f"the bulkhead on '{edge.source}' -> '{call.to}' admits {total} calls "
                      f"at once{at_scale(caller) if callers > 1 else ''}, but "
                      f"'{component_of(edge.target)}' serves only {capacity} "
                      f"({target.most_replicas} × {counted(workers, 'worker')}"
                      f"{at_scale(target)}): it "
                      "still caps what "
                      f"'{component_of(edge.source)}' can have stuck on it, but the excess "
                      f"fills '{component_of(edge.target)}''s queue, where every other "
                      "caller waits behind it; size it to at most "
                      f"{capacity // callers} per "
                      f"{'caller replica' if callers > 1 else 'caller'} to refuse that "
                      "excess at the caller instead")


def retried_non_idempotent(ctx: Context) -> Iterator[Hit]:
    """SS210: retries or hedges of a call to an operation marked `idempotent: false`."""
    for edge, call in _calls(ctx):
        if ctx.operation(edge.target).idempotent:
            continue
        repeats = []
        if call.retry is not None and call.retry.attempts > 1:
            repeats.append(f"retries it (up to {counted(call.retry.attempts, 'attempt')})")
        if call.hedge is not None:
            repeats.append(f"hedges it (up to {counted(call.hedge.max, 'extra attempt')})")
        if repeats:
            yield Hit(edge.path,
                      f"'{edge.source}' {' and '.join(repeats)}, but '{edge.target}' is "
                      "marked idempotent: false: an attempt that timed out may have "
                      "succeeded, so the repeat applies it twice (a second charge, a "
                      "duplicate order)")
