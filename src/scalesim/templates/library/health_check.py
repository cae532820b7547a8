"""Health check and failover: readiness probes take a dead replica out of rotation."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param

WINDOW_S, OUTAGE_S = 30.0, 15.0
WORK_MS = 5.0  # a request's mean work


class Params(TemplateParams):
    with_probes: bool = param(True, "readiness probes on the replicas")
    replicas: int = param(3, "replicas behind the balancer", unit="replicas", ge=2, le=32)
    rps: float = param(300, "requests per second", unit="req/s", ge=1, le=20_000)
    period_s: float = param(2, "probe period", unit="s", ge=1, le=60)
    failure_threshold: int = param(2, "failed probes in a row before removal", unit="probes",
                                   ge=1, le=10)


def derive(p: Params) -> dict[str, Any]:
    """Threads per replica: 32, or enough for the load on the replicas left while one is
    down, at most 70 % busy."""
    return {"workers": sizing.threads(p.rps, WORK_MS, p.replicas - 1, 32, 0.7)}


def failing_share(p: Params, seconds: float) -> float:
    """The share of the window's requests sent to the dead replica during `seconds`."""
    return seconds / p.replicas / WINDOW_S


def lower(p: Params, seconds: float) -> float:
    """A share at least: its Poisson count less 4 standard deviations."""
    count = p.rps * WINDOW_S * failing_share(p, seconds)
    return max(0.0, count - SIGMAS * math.sqrt(count)) / (p.rps * WINDOW_S)


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...]
    total = p.rps * WINDOW_S
    if p.with_probes:
        # Requests fail until the probes notice, or the outage ends first.
        most = min(p.failure_threshold * p.period_s, OUTAGE_S)
        least = min((p.failure_threshold - 1) * p.period_s, OUTAGE_S)
        expect = (
            Expect("workloads.requests.failed_share", "<=",
                   count_at_most(total * failing_share(p, most)) / total,
                   "requests fail only until the probes notice: at most min(failure_threshold "
                   f"× period, the {OUTAGE_S:g} s outage) of the dead replica's share"),
            Expect("workloads.requests.failed_share", ">=", lower(p, least),
                   "and at least min((failure_threshold − 1) × period, the outage): detection "
                   "is not free"),
        )
    else:
        expect = (Expect("workloads.requests.failed_share", "~", failing_share(p, OUTAGE_S),
                         "without probes the dead replica gets its share for the whole outage",
                         tolerance=max(0.1, SIGMAS / math.sqrt(
                             total * failing_share(p, OUTAGE_S)))),)
    notice = min(p.failure_threshold * p.period_s, OUTAGE_S)
    return Scenario(
        story=f"{p.rps:g} req/s over {p.replicas} replicas; replica 0 crashes for "
              f"{OUTAGE_S:g} s of the {WINDOW_S:g} s window"
              + (f"; the probes take it out within {notice:g} s." if p.with_probes and
                 notice < OUTAGE_S else
                 "; the probes cannot notice before it is back." if p.with_probes else "."),
        expect=expect,
        quick=())


TEMPLATE = Template(
    id="health-check", version=2, title="Health check and failover with readiness probes",
    summary="Readiness probes take a crashed replica out of rotation within failure_threshold "
            "× period, so clients stop failing after seconds instead of for the whole outage.",
    patterns=("health-check", "failover"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Kubernetes readiness semantics: the replica leaves rotation after "
        "failure_threshold failed probes and returns after one success.",
        "The balancer is round robin, so the crashed replica gets exactly 1/replicas of the "
        "requests until it is removed (a least-requests balancer would send it more: a "
        "replica that fails fast looks idle).",
        "Each replica has 32 threads, more when the load on the replicas left while one is "
        "down would keep them over 70 % busy (at 20000 req/s a fixed 32 on 2 of 3 replicas "
        "saturated and refused 17 % of the requests).",
        "Callers do not retry, so the failed share measures the detection time; a retry on "
        "another replica would hide it too.",
        "Failures last until the probes notice or the 15 s outage ends, whichever is first; "
        "the bounds are the Poisson counts of the dead replica's requests ± 4 σ.",
        "The scenario is already short (30 s, the probes need whole periods), so quick runs "
        "the full scenario.",
    ))
