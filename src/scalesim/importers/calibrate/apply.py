"""Fitted values as changes to the spec, and the report of fitted against observed.

A change is a path in the spec and the value to write there; `write` edits the spec's own
text where each changed value is, so its comments, order and layout stay.

Where an operation's own time goes: with `cores` the CPU demand (`cpu`/`work`) is the load
test's to fit, so the traces set `wait` to the own time the CPU demand and `post_work` (at
the speed of the replica's cores) do not explain; otherwise the one field that holds the
time gets the fitted distribution, and when several do they are scaled together to the
observed mean; either way less the runtime's overhead, which the simulator charges inside
the visit (per request, and per call before each call is sent). The network per hop is what
a call's interval holds beyond its callee's visit, less, where a CLIENT span gives that
interval, the overhead a real client and server spend outside the server span (half the
callee's per-request, half the caller's per-call); ScaleSim's exports time the hop from the
send, which holds none. A call's
fallback time is the gap its failure leaves in the caller's span, less what the spec says
fills the rest of it (the next call's per-call overhead, or the post_work before the end).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scalesim.importers.calibrate import CalibrationError
from scalesim.importers.calibrate.fit import (
    FEW,
    MIN_SAMPLES,
    Fit,
    Shape,
    duration,
    fit,
    scaled,
)
from scalesim.importers.calibrate.loadtest import LoadFit
from scalesim.importers.calibrate.mechanisms import coalesced_backend, modelled
from scalesim.importers.calibrate.sites import Path, cache_calls, call_sites, saga_calls
from scalesim.importers.calibrate.traces import DOOR, NS, OperationStats
from scalesim.spec.demand import overhead_s
from scalesim.spec.errors import counted
from scalesim.spec.model import Call, Component, Kind, Operation, System
from scalesim.spec.resilience import Fallback

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")  # an operation's name in a spec
PLACEHOLDER = re.compile(r"[ \t]*#[ \t]*PLACEHOLDER\b[^\n]*")  # `scalesim import`'s mark


@dataclass
class Change:
    path: Path
    value: Any  # None: remove the key
    why: str


@dataclass
class Calibration:
    changes: list[Change] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, path: Path, value: Any, why: str) -> None:
        self.changes.append(Change(path, value, why))


def _fit_report(found: Fit) -> dict[str, Any]:
    return {"n": found.n, "observed_mean_ms": round(found.mean_s * 1e3, 4),
            "family": found.family, "fitted": found.spec,
            "ks_distance": {k: round(v, 4) for k, v in found.ks.items()},
            "p_value": None if found.p_value is None else round(found.p_value, 4)}


def _listed(names: list[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _check_matched(system: System, observed: dict[str, OperationStats]) -> None:
    """Traces of another system fit nothing: refuse them rather than write the spec back
    unchanged as if it had been calibrated."""
    spec = [f"{c}.{o}" for c, s in system.components.items() for o in s.effective_operations]
    if not set(spec) & set(observed):
        raise CalibrationError(
            f"no operation of the spec is in the traces: they hold "
            f"{_listed(sorted(observed))}; the spec has {_listed(spec)}")


def calibrate_traces(system: System, observed: dict[str, OperationStats],
                     calibration: Calibration) -> None:
    _check_matched(system, observed)
    operations: dict[str, Any] = {}
    hops: list[float] = []
    seen_hops = [hop for stats in observed.values() for _, hop, _ in stats.hops_s]
    hop = sum(seen_hops) / len(seen_hops) if seen_hops else system.defaults.network.mean_s
    for ref, stats in sorted(observed.items()):
        component, _, name = ref.partition(".")
        spec = system.components.get(component)
        if spec is None or name not in spec.effective_operations:
            if NAME.match(name):  # not a framework's own span such as "POST /orders"
                calibration.notes.append(f"{ref}: in the traces, not in the spec (left out)")
            continue
        if not stats.visits:
            continue
        operations[ref] = _operation(system, component, name, stats, calibration,
                                     (observed, hop))
        _, call = system.overhead(component)
        for target, seconds, spanned in stats.hops_s:
            callee = target.split(".", 1)[0]
            request = system.overhead(callee)[0].mean_s if callee in system.components \
                else 0.0
            hops.append(seconds - (request + call.mean_s) / 2.0 if spanned else seconds)
    for ref in (f"{c}.{o}" for c, s in system.components.items()
                for o in s.effective_operations):
        if ref not in observed or not observed[ref].visits:
            spans = observed[ref].not_visits if ref in observed else {}
            calibration.notes.append(f"{ref}: no visit in the traces{_none_of(spans)} "
                                     "(unchanged)")
    calibration.report["operations"] = operations
    if len(hops) >= MIN_SAMPLES:
        network = fit([max(0.0, h) for h in hops])
        calibration.set(("defaults", "network"), network.spec,
                        f"one-way network per hop, from {network.n} calls")
        calibration.report["network"] = _fit_report(network)
    elif hops:
        calibration.notes.append(f"only {len(hops)} traced calls: defaults.network unchanged")


def _none_of(spans: Mapping[str, int]) -> str:
    """What the spans of an operation that are no visits were, for the report."""
    if not spans:
        return ""
    return ", only spans that are not: " + ", ".join(
        f"{count} {why}" for why, count in sorted(spans.items()))


Seen = tuple[Mapping[str, OperationStats], float]  # every operation's stats, the mean hop (s)


def _operation(system: System, component: str, name: str, stats: OperationStats,
               calibration: Calibration, seen: Seen) -> dict[str, Any]:
    spec = system.components[component]
    op = spec.effective_operations[name]
    base: Path = ("components", component, "operations", name)
    entry: dict[str, Any] = {"visits": stats.visits, "not_visits": dict(stats.not_visits),
                             "fell_back": stats.fell_back, "unlinked": stats.unlinked,
                             "skewed": stats.skewed_visits}
    refused = stats.not_visits[DOOR]
    if refused:
        entry["refusals"] = _refusals(spec, f"{component}.{name}", stats, calibration,
                                      _admitted(component, stats.refused_at, seen[0]))
    working = spec.kind is not Kind.QUEUE  # a broker's accepting a message is no work to fit
    if working and stats.ok_own_s:
        own = _own_time(system, component, name, stats, base, calibration, seen)
        if own is not None:
            entry["own_time"] = own
    elif working and stats.fell_back and not stats.unlinked + stats.skewed_visits:
        calibration.notes.append(f"{component}.{name}: each successful visit followed a "
                                 "failed call (its time holds the fallback): own time "
                                 "unchanged")
    if working and stats.unlinked:
        calibration.notes.append(
            f"{component}.{name}: {stats.unlinked} successful visits may have made a call "
            "whose span is missing (their trace has spans cut off from its root): "
            "their own time is left out" + _kept(stats))
    if working and stats.skewed_visits:
        calibration.notes.append(
            f"{component}.{name}: {stats.skewed_visits} successful visits made a call whose "
            "callee's span lies outside theirs (clock skew between their hosts): their own "
            "time is left out" + _kept(stats))
    rate = stats.own_errors / stats.visits if stats.visits else 0.0
    entry["error_rate"] = {"observed": round(rate, 5), "spec": op.error_rate}
    if abs(rate - op.error_rate) > 1e-9:
        calibration.set((*base, "error_rate"), round(rate, 5),
                        f"{stats.own_errors} of {stats.visits} visits failed on their own")
    entry["calls"] = _calls(system, component, name, stats, calibration)
    shape, count = stats.shapes.most_common(1)[0] if stats.shapes else ((), 0)
    entry["shape"] = {"steps": [list(group) for group in shape],
                      "share": round(count / stats.visits, 4) if stats.visits else 0.0}
    return entry


def _kept(stats: OperationStats) -> str:
    """What leaving visits out of the own time's fit left: the end of a note."""
    return "" if stats.ok_own_s else ", so it is unchanged"


def _refusals(spec: Component, ref: str, stats: OperationStats, calibration: Calibration,
              admitted: float | None) -> dict[str, Any]:
    """Requests turned away at the operation's door, which are none of its work or errors:
    how many, their share of the requests that reached it, the component's visits per second
    that got through meanwhile, and, when the spec turns nothing away there, a note on what
    to model, with that rate as a rate limit to start from."""
    refused, visits = stats.not_visits[DOOR], stats.visits
    share = refused / (refused + visits)
    if spec.rate_limit is None and spec.load_shedding is None and spec.queue is None:
        calibration.notes.append(
            f"{ref}: {refused} of {refused + visits} requests ({share:.2%}) were refused at "
            "the door (HTTP 429 or 503, gRPC RESOURCE_EXHAUSTED or UNAVAILABLE) and the spec "
            f"refuses none there: give {ref.split('.')[0]} a rate_limit, load_shedding or a "
            f"bounded queue{_starting_limit(ref.split('.')[0], admitted)}")
    out: dict[str, Any] = {"count": refused, "share": round(share, 4)}
    if admitted is not None:
        out["admitted_rps"] = round(admitted, 2)
    return out


def _admitted(component: str, refused_at: list[int],
              observed: Mapping[str, OperationStats]) -> float | None:
    """Visits per second of the component (all its operations: a rate limit counts them
    all) that started between its first and last door refusal, the span widened by one
    mean gap between refusals (n refusals mark n − 1 gaps); None for fewer than two."""
    if len(refused_at) < 2 or max(refused_at) == min(refused_at):
        return None
    first, last = min(refused_at), max(refused_at)
    window = (last - first) * len(refused_at) / (len(refused_at) - 1) * NS
    inside = sum(1 for ref, stats in observed.items() if ref.partition(".")[0] == component
                 for start in stats.started if first <= start <= last)
    return inside / window


def _starting_limit(component: str, admitted: float | None) -> str:
    """The note's advice on a rate limit's value: the rate that got through."""
    if admitted is None:
        return ""
    if admitted <= 0.0:
        return ("; no visit got through while they were refused, so the traces give no rate "
                "to start a rate limit from")
    rate = f"{admitted:.0f}/s" if admitted >= 10.0 else f"{admitted:.2g}/s"
    return (f". {admitted:.4g} visits/s of {component} got through while they were refused: "
            f"a rate limit to start from, --set components.{component}.rate_limit.rate={rate} "
            f"(in YAML, rate_limit: {{rate: {rate}}} under components.{component}); from "
            "sampled traces, divide it by the share of requests sampled")


def _speed(spec: Component) -> float:
    """The share of a core one burst of CPU work gets (1 without a CPU model)."""
    cores = spec.core_limit
    return 1.0 if cores is None else min(1.0, cores)


def _own_time(system: System, component: str, name: str, stats: OperationStats, base: Path,
              calibration: Calibration, seen: Seen) -> dict[str, Any] | None:
    spec = system.components[component]
    op = spec.effective_operations[name]
    loaded = _loaders(system, component, name, stats, calibration)
    own = _unbiased(loaded if loaded is not None else
                    _unqueued(f"{component}.{name}", spec, stats, calibration))
    if stats.untraced:
        calls_s = _untraced_calls_s(system, component, name, seen)
        if calls_s is None:
            calibration.notes.append(
                f"{component}.{name}: {stats.untraced} visits (queue deliveries) trace none "
                "of their calls, and a callee the spec has it wait for has no traced visit "
                "to take their time from: own time unchanged")
            return None
        mean = sum(own) / len(own)
        own, factor = _less(own, calls_s)
        calibration.notes.append(
            f"{component}.{name}: {stats.untraced} visits (queue deliveries) trace none of "
            f"their calls: own time is their times scaled by {factor:.4g} ({mean * 1e3:.4g} "
            f"ms mean less {calls_s * 1e3:.4g} ms, what the delivery's hops and the calls the "
            "spec has it wait for take: their callees' mean traced visit and hops)")
    less = _less_mechanisms(system, component, name, own, calibration)
    if less is None:
        return None
    own = less
    demand, wait, post = op.demand.mean_s, op.wait.mean_s, op.post_work.mean_s
    overhead = overhead_s(system, component, name) / _speed(spec)  # CPU, at a burst's speed
    dumped = op.model_dump(mode="json", by_alias=True)
    ref = f"{component}.{name}"
    if spec.core_limit is not None and demand + post > 0.0:
        computing = (demand + post) / _speed(spec) + overhead
        found = _few_noted(_less(own, computing)[0], (dumped["wait"], wait), ref,
                           "successful visits", calibration)
        calibration.set((*base, "wait"), found.spec, "own time beyond the CPU demand, "
                        "post_work and overhead (the CPU is the load test's to fit)")
        return {"field": "wait", **_fit_report(found)}
    held = {key: mean for key, mean in (("cpu" if op.cpu is not None else "work", demand),
                                        ("wait", wait), ("post_work", post)) if mean > 0.0}
    if len(held) <= 1:
        key = next(iter(held), "work")
        found = _few_noted(_less(own, overhead)[0], (dumped[key], held.get(key, 0.0)), ref,
                           "successful visits", calibration)
        calibration.set((*base, key), found.spec, f"own time of {found.n} successful visits")
        return {"field": key, **_fit_report(found)}
    found = fit(_less(own, overhead)[0])
    factor = found.mean_s / sum(held.values())
    for key in held:
        calibration.set((*base, key), scaled(dumped[key], factor),
                        f"scaled by {factor:.4g} to the observed own time")
    return {"field": "+".join(held), "scaled_by": round(factor, 4), **_fit_report(found)}


def _loaders(system: System, component: str, name: str, stats: OperationStats,
             calibration: Calibration) -> list[float] | None:
    """The own times of a coalescing cache's reads that loaded their key themselves (called
    its backend): the others may have waited for another read's load, which the simulator
    draws itself. None, with a note, when too few loaded, or for any other operation."""
    backend = coalesced_backend(system, component, name)
    if backend is None:
        return None
    loaders = stats.called_own_s.get(backend, [])
    shown = f"{component}.{name}: {len(loaders)} of {len(stats.ok_own_s)} successful visits"
    if len(loaders) < MIN_SAMPLES:
        calibration.notes.append(
            f"WARNING {shown} loaded their key from {backend}, fewer than {MIN_SAMPLES}: "
            "own time fitted from all of them, so it includes the waits of reads coalesced "
            "with another's load (stampede: coalesce) and is too long")
        return None
    calibration.notes.append(
        f"{shown} loaded their key from {backend}: own time fitted from those, since the "
        "others may have waited for another read's load (stampede: coalesce), which the "
        "simulator adds itself")
    return loaders


def _less_mechanisms(system: System, component: str, name: str, own: list[float],
                     calibration: Calibration) -> list[float] | None:
    """Own times less the time the spec's mechanisms take in the visit (see mechanisms.py),
    which the simulator adds itself, with a note naming each: a fixed time taken off each
    visit (negatives then cleared as `_unbiased` does), the rest by scaling. None, with a
    warning, when their mean is no longer than that time: the traces then contradict the
    spec's model, and no own time is left to fit."""
    found = modelled(system, component, name)
    if not found:
        return own
    seconds = sum(m.seconds for m in found)
    fixed = sum(m.seconds for m in found if m.fixed)
    mean = sum(own) / len(own)
    parts = ", ".join(f"{m.what} {m.seconds * 1e3:.4g} ms" for m in found)
    if mean <= seconds:
        calibration.notes.append(
            f"WARNING {component}.{name}: its visits' own time, {mean * 1e3:.4g} ms mean, is "
            f"no longer than the {seconds * 1e3:.4g} ms the spec models apart ({parts}): "
            "they spent less in those than its mean, by chance where those vary much more "
            "than the own time (more visits narrow it), or because the traced visits are "
            "not the model's average (an event store's loaded only short streams, as a "
            "short run's requests without `keys` do): own time unchanged")
        return None
    less, factor = _less(_unbiased([t - fixed for t in own]), seconds - fixed)
    how = [f"{fixed * 1e3:.4g} ms off each"] if fixed > 0.0 else []
    how += [f"scaled by {factor:.4g}"] if seconds > fixed else []
    calibration.notes.append(
        f"{component}.{name}: own time is its times less {seconds * 1e3:.4g} ms the spec "
        f"models apart ({parts}): {mean * 1e3:.4g} ms mean, {' then '.join(how)}")
    return less


def _few_noted(samples: list[float], shape: Shape, what: str, of: str,
               calibration: Calibration) -> Fit:
    """`samples` fitted in the `shape` of the spec's distribution, with a note when they
    were too few to judge a shape by."""
    found = fit(samples, shape)
    if found.family == FEW:
        kept = "the spec's distribution kept, scaled to" if 0.0 < shape[1] < math.inf else \
            "the spec gives no time to scale: a constant,"
        calibration.notes.append(
            f"{what}: only {found.n} {of}, fewer than {MIN_SAMPLES} to judge a shape by: "
            f"{kept} their mean {found.mean_s * 1e3:.4g} ms")
    return found


def _less(own: list[float], seconds: float) -> tuple[list[float], float]:
    """Own times scaled down to their mean less `seconds` (time the spec fills otherwise),
    and the factor: scaled, not shifted, since a shift clipped at zero would leave a mean
    too long."""
    mean = sum(own) / len(own)
    factor = max(0.0, mean - seconds) / mean if mean > 0.0 else 0.0
    return [t * factor for t in own], factor


def _unbiased(own: list[float]) -> list[float]:
    """Own times below 0 (an implied way back shorter than the way out: see traces'
    own_time) set to 0 and all scaled to keep the sample's mean, which those carry: the
    spec's times cannot be negative, and cutting them alone would leave the mean too long."""
    clipped = [max(0.0, t) for t in own]
    total = sum(clipped)
    factor = max(0.0, sum(own)) / total if total > 0.0 else 0.0
    return [t * factor for t in clipped]


def _unqueued(ref: str, spec: Component, stats: OperationStats,
              calibration: Calibration) -> list[float]:
    """The own times to fit the work from: those of the visits that found a worker free,
    when some arrived to busy workers (their spans hold the wait for one) and enough did
    not; else all of them, with a warning that the fit holds that wait."""
    if not stats.crowded_own_s:
        return stats.ok_own_s
    waited, free = len(stats.crowded_own_s), len(stats.free_own_s)
    workers = spec.worker_limit
    seen = (f"{ref}: {waited} of {waited + free} successful visits arrived while the "
            f"{workers} worker{'s' if workers != 1 else ''} of their replica "
            f"{'were' if workers != 1 else 'was'} busy with other traced visits: their spans "
            f"hold the wait for a worker (own time {_mean_ms(stats.crowded_own_s)} ms mean"
            + (f", against {_mean_ms(stats.free_own_s)} ms for the visits that found one "
               "free)" if free else ")"))
    if free >= MIN_SAMPLES:
        calibration.notes.append(
            f"{seen}; fitted from the {free} that found a worker free. That is the work "
            "alone when every visit to the replica is traced; sampled traces hide some of "
            "the load, so some waiting may remain: calibrate from traces taken at low load")
        return stats.free_own_s
    calibration.notes.append(
        f"WARNING {seen}; too few found a worker free to fit from them alone, so the fitted "
        "own time includes waiting for a worker and is too long: calibrate from traces "
        "taken at low load")
    return stats.ok_own_s


def _untraced_calls_s(system: System, component: str, name: str, seen: Seen
                      ) -> float | None:
    """Mean seconds a delivery spends beyond its consumer's own time when its calls are not
    traced: its two hops (from the queue and back), and each call the spec makes it wait
    for, one after another, at its probability: the callee's mean traced visit and two hops.
    None when a callee has no traced visit."""
    observed, hop = seen
    total = 2.0 * hop
    for target, sites in call_sites(system, component, name).items():
        callee = observed.get(target)
        for site in sites:
            if site.waiting.waited is False:
                continue
            if callee is None or not callee.ok_span_s:
                return None
            visit = sum(callee.ok_span_s) / len(callee.ok_span_s)
            total += site.call.probability * (visit + 2.0 * hop)
    return total


def _mean_ms(seconds: list[float]) -> str:
    return f"{sum(seconds) / len(seconds) * 1e3:.4g}"


def _calls(system: System, component: str, name: str, stats: OperationStats,
           calibration: Calibration) -> dict[str, Any]:
    sites = call_sites(system, component, name)
    out: dict[str, Any] = {}
    for target, seen in sorted(stats.calls.items()):
        probability = seen.callers / stats.visits if stats.visits else 0.0
        amplification = seen.attempts / seen.calls if seen.calls else 0.0
        out[target] = {"probability": round(probability, 4),
                       "calls_per_visit": round(seen.calls / stats.visits, 4),
                       "attempts_per_call": round(amplification, 4),
                       "max_attempts": seen.max_attempt,
                       "parallel_share": round(seen.in_parallel / seen.calls, 4)
                       if seen.calls else 0.0}
        places = [site.path for site in sites.get(target, [])]
        if not places and target in cache_calls(system, component, name):
            _hit_ratio(system, component, target, seen.callers, stats.visits, calibration)
            continue
        if not places and target in saga_calls(system, component, name):
            continue  # a saga's step: no probability to write, its retries the policy's
        if not places:
            calibration.notes.append(f"{component}.{name} calls {target}, which its spec "
                                     "does not: add the call to model it")
            continue
        if len(places) == 1:
            _probability(system, places[0], probability, stats.visits, calibration)
            gaps = stats.went_on.get(target, [])
            fallback = _fallback(system, component, name, places[0], gaps, calibration)
            if fallback is not None:
                out[target]["fallback"] = fallback
        for place in places:
            _attempts(system, place, seen.max_attempt, calibration)
    return out


def _hit_ratio(system: System, component: str, target: str, missed: int, visits: int,
               calibration: Calibration) -> None:
    """A cache's `hit_ratio` from the share of its visits that called its backend (a miss),
    written as a call's probability is: the observed share, when it differs."""
    spec = system.components[component]
    if spec.hit_ratio is None or ".".join(system.resolve(spec.backend or "")) != target:
        return  # `caching`: the hits follow from its TTL and keys, nothing to write
    value = round(1.0 - missed / visits, 4)
    if value != spec.hit_ratio:
        calibration.set(("components", component, "hit_ratio"), value,
                        f"{visits - missed} of {visits} visits did not call {target}")


def _fallback(system: System, component: str, name: str, path: Path,
              gaps: list[tuple[float, bool]], calibration: Calibration) -> dict[str, Any] | None:
    """The call's fallback time, fitted from the gaps its visits went on after it failed,
    less what the spec says follows a fallback: the next call's per-call overhead, or the
    operation's post_work before the end."""
    on_failure = _call_at(system, path).on_failure
    if not isinstance(on_failure, Fallback) or not gaps:
        return None
    spec = system.components[component]
    op: Operation = spec.effective_operations[name]
    then = {False: system.overhead(component)[1].mean_s / _speed(spec),
            True: op.post_work.mean_s / _speed(spec)}
    found = _few_noted([max(0.0, gap - then[at_end]) for gap, at_end in gaps],
                       (on_failure.model_dump(mode="json")["fallback"],
                        on_failure.fallback.mean_s),
                       f"{component}.{name}'s fallback after {_call_at(system, path).to}",
                       "failed calls it went on after", calibration)
    calibration.set((*path, "on_failure", "fallback"), found.spec,
                    f"from {counted(found.n, 'failed call')} it went on after")
    return _fit_report(found)


def _call_at(system: System, path: Path) -> Call:
    node: Any = system
    for part in path:
        node = node[part] if isinstance(part, int) or isinstance(node, dict) else \
            getattr(node, part)
    assert isinstance(node, Call)
    return node


def _probability(system: System, path: Path, observed: float, visits: int,
                 calibration: Calibration) -> None:
    """The observed share, unless it is within two standard errors of certain."""
    call = _call_at(system, path)
    spread = 2.0 * math.sqrt(max(observed * (1.0 - observed), 1.0 / visits) / visits)
    value = 1.0 if observed >= 1.0 - spread else round(observed, 4)
    if value != call.probability:
        calibration.set((*path, "probability"), None if value == 1.0 else value,
                        f"called in {observed:.2%} of {visits} visits")


def _attempts(system: System, path: Path, seen: int, calibration: Calibration) -> None:
    call = system.effective(_call_at(system, path))
    allowed = call.retry.attempts if call.retry is not None else 1
    if seen > allowed:
        where = (*path, "retry", "attempts") if call.retry is not None and \
            _call_at(system, path).retry is not None else (*path, "retry")
        value: Any = seen if where[-1] == "attempts" else {"attempts": seen}
        calibration.set(where, value, f"up to {seen} attempts seen, the spec allows {allowed}")


def calibrate_load(system: System, load: LoadFit, calibration: Calibration) -> None:
    if load.cores_available is not None:
        for name, spec in system.components.items():
            cores = spec.core_limit
            if cores is not None and load.cores_available < cores:
                calibration.set(("components", name, "cores"),
                                round(load.cores_available, 3),
                                "the share of a core a busy process got on the machine")
    shared = {value for value in load.overhead.values()}
    if len(shared) == 1 and len(load.overhead) > 1:
        request, call = next(iter(shared))
        calibration.set(("defaults", "overhead"), _overhead(request, call),
                        f"runtime CPU per visit ({load.method})")
    else:
        for name, (request, call) in load.overhead.items():
            calibration.set(("components", name, "overhead"), _overhead(request, call),
                            f"runtime CPU per visit ({load.method})")
    calibration.report["load_test"] = {
        "method": load.method,
        "cpu_per_request_ms": {k: round(v * 1e3, 4) for k, v in load.demand_s.items()},
        "idle_cores": {k: round(v, 4) for k, v in load.idle_cores.items()},
        "overhead_ms": {k: {"request": round(r * 1e3, 4), "call": round(c * 1e3, 4)}
                        for k, (r, c) in load.overhead.items()},
        "saturation_rps": round(load.saturation_rps, 2) if math.isfinite(load.saturation_rps)
        else None,
        "cores_available": load.cores_available,
        "rows": [{"throughput_rps": r.throughput_rps, "mean_ms": r.mean_ms,
                  **({"predicted_mean_ms": round(p, 3)} if p is not None else {}),
                  "cpu": r.cpu}
                 for r, p in zip(load.rows, _predicted(load), strict=True)]}
    calibration.notes += load.notes + load.warnings


def _predicted(load: LoadFit) -> list[float | None]:
    return list(load.predicted_mean_ms) if load.predicted_mean_ms else [None] * len(load.rows)


def _overhead(request: float, call: float) -> dict[str, str]:
    out = {"request": duration(request)}
    if call > 0.0:
        out["call"] = duration(call)
    return out


# -- writing -----------------------------------------------------------------------------------
def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _commented(item)
        node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq([_commented(item) for item in value])
        seq.fa.set_flow_style()
        return seq
    return value


def as_yaml(value: Any) -> str:
    """A fitted value as `write` puts it in the spec, on one line: the report shows people
    what their spec gets, not Python's form of it."""
    if value is None:
        return "(removed)"
    out = io.StringIO()
    _yaml().dump(_commented(value), out)
    return out.getvalue().removesuffix("\n").removesuffix("\n...")


def write(text: str, changes: list[Change]) -> str:
    """The spec's text with the changes made. Each change edits the text only where its
    value is (found with ruamel.yaml's node marks), so every other line, its comments, order,
    flow style and line breaks included, stays as it was; a new value is written in flow
    style, wrapped after commas (nested collections too) to stay within the file's widest
    line."""
    width = max(80, *(len(line) for line in text.splitlines()))
    for change in changes:
        text = _changed(text, change, width)
    return text


def _changed(text: str, change: Change, width: int) -> str:
    node: Node = _yaml().compose(text)
    path = change.path
    for at, part in enumerate(path):
        if isinstance(part, int):
            node = node.value[part]
            continue
        if isinstance(node, ScalarNode):  # a call written as a bare target
            raise CalibrationError(f"{'.'.join(map(str, path))}: cannot change a call "
                                   "written as a plain string")
        if not isinstance(node, MappingNode):
            raise CalibrationError(f"{'.'.join(map(str, path))}: not a mapping at {part}")
        pair = next(((k, v) for k, v in node.value if k.value == part), None)
        if pair is None:
            return text if change.value is None else \
                _added(text, node, [str(p) for p in path[at:]], change.value, width)
        key, value = pair
        if at == len(path) - 1 or _is_null(value):
            if change.value is None:
                return _removed(text, node, key, value) if at == len(path) - 1 else text
            return _replaced(text, key, value, _nested(path[at + 1:], change.value), width,
                             change.why)
        node = value
    return text


def _nested(path: Sequence[str | int], value: Any) -> Any:
    """`value` under the keys of `path` ({retry: {attempts: 3}} for retry.attempts)."""
    for part in reversed(path):
        value = {part: value}
    return value


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _end(text: str, node: Node) -> int:
    """Where the text of a value ends: a block collection's own mark runs on to the next
    token, past comments and blank lines, so its last value's end is taken instead, unless
    that value is an alias (`*name`), whose node and marks are its anchor's, earlier in the
    text: then the end of the collection's last line of content."""
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        if isinstance(node, MappingNode):
            before, last = node.value[-1][0].end_mark.index, node.value[-1][1]
        else:
            before = node.value[-2].end_mark.index if len(node.value) > 1 else \
                node.start_mark.index
            last = node.value[-1]
        if last.start_mark.index < before:  # an alias
            return _content_end(text, int(node.end_mark.index))
        return _end(text, last)
    return int(node.end_mark.index)


def _content_end(text: str, index: int) -> int:
    """The end of the last line before `index` that holds more than blanks or a comment."""
    while index > 0:
        start = text.rfind("\n", 0, index) + 1
        line = text[start:index].strip()
        if line and not line.startswith("#"):
            return index
        index = max(0, start - 1)
    return index


def _line_end(text: str, index: int) -> int:
    """The index just past the end of the line `index` is on (its newline included)."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _flow(value: Any, column: int, width: int, tail: int = 0) -> str:
    """`value` as one line of YAML or, for a collection that would pass `width` when it
    starts at `column` (with `tail` characters after it on its line), broken after commas
    with each further line under its first entry; an entry too long for a line of its own
    is broken the same way inside it."""
    line = as_yaml(value)
    if not isinstance(value, (dict, list)) or not value or column + len(line) + tail <= width:
        return line
    entries = _entries(value)
    inner = column + 1
    text, end = line[0], inner
    for at, (prefix, item) in enumerate(entries):
        after = 1 if at < len(entries) - 1 else tail + 1  # its comma, or the closing bracket
        start = end if at == 0 else end + 2
        if at > 0 and start + len(prefix) + len(as_yaml(item)) + after > width:
            text, start = text + ",\n" + " " * inner, inner
        elif at > 0:
            text += ", "
        piece = prefix + _flow(item, start + len(prefix), width, after)
        text += piece
        end = start + len(piece) if "\n" not in piece else len(piece.rsplit("\n", 1)[1])
    return text + line[-1]


def _entries(value: dict[Any, Any] | list[Any]) -> list[tuple[str, Any]]:
    """A flow collection's entries: each value with what precedes it (`key: `, or nothing
    in a sequence)."""
    if isinstance(value, dict):
        return [(f"{as_yaml(key)}: ", item) for key, item in value.items()]
    return [("", item) for item in value]


def _replaced(text: str, key: Node, value: Node, new: Any, width: int, why: str) -> str:
    """The value at `key` replaced by `new`; a PLACEHOLDER comment after it on its line (an
    importer's word that the value is a guess) becomes what it was calibrated from."""
    colon = text.index(":", key.end_mark.index)
    end = colon + 1 if _is_null(value) and value.start_mark.index == value.end_mark.index \
        else _end(text, value)
    column = colon + 2 - (text.rfind("\n", 0, colon) + 1)
    rest = text[end:]
    placeholder = PLACEHOLDER.match(rest)
    if placeholder is not None:
        rest = f" # calibrated: {why}{rest[placeholder.end():]}"
    after = len(rest.split("\n", 1)[0])  # a comment on its line
    return f"{text[:colon]}: {_flow(new, column, width, after)}{rest}"


def _removed(text: str, mapping: MappingNode, key: Node, value: Node) -> str:
    start, end = key.start_mark.index, _end(text, value)
    if mapping.flow_style:
        after = re.match(r"\s*,\s*", text[end:])
        if after is not None:
            return text[:start] + text[end + after.end():]
        before = re.search(r",\s*$", text[:start])
        return text[:before.start() if before else start] + text[end:]
    line = text.rfind("\n", 0, start) + 1
    if text[line:start].strip():  # the first key after a sequence's dash: the next key moves up
        pairs = [k for k, _ in mapping.value]
        following = pairs[pairs.index(key) + 1:]
        if following:
            return text[:start] + text[following[0].start_mark.index:]
    return text[:line] + text[_line_end(text, end):]


def _added(text: str, mapping: MappingNode, keys: list[str], new: Any, width: int) -> str:
    """`keys[0]` added to `mapping`, holding `new` under the rest of `keys`: in a flow
    mapping as one more flow entry, in a block one as lines at its keys' indent (any keys
    that were missing on the way as block mappings, two spaces deeper each)."""
    if mapping.flow_style:
        close = mapping.end_mark.index - 1
        head = text[:close].rstrip()
        entry = f"{keys[0]}: {as_yaml(_nested(keys[1:], new))}"
        joined = "" if head.endswith("{") else ", "
        column = len(head) - (head.rfind("\n") + 1) + len(joined)
        after = len(text[close:_line_end(text, close)].rstrip())
        if joined and column + len(entry) + after > width:
            column = mapping.value[0][0].start_mark.column  # on a line of its own
            joined = ",\n" + " " * column
        value = _flow(_nested(keys[1:], new), column + len(keys[0]) + 2, width, after)
        return f"{head}{joined}{keys[0]}: {value}{text[close:]}"
    indent = mapping.value[0][0].start_mark.column
    at = _line_end(text, _end(text, mapping.value[-1][1]))
    head = text[:at] if text[:at].endswith("\n") else text[:at] + "\n"
    lines = [" " * (indent + 2 * depth) + f"{key}:" for depth, key in enumerate(keys)]
    lines[-1] += " " + _flow(new, len(lines[-1]) + 1, width)
    return head + "\n".join(lines) + "\n" + text[at:]
