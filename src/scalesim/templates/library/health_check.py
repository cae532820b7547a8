"""Health check and failover: readiness probes take a dead replica out of rotation."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

WINDOW_S, OUTAGE_S = 30.0, 15.0


class Params(TemplateParams):
    with_probes: bool = param(True, "readiness probes on the replicas")
    replicas: int = param(3, "replicas behind the balancer", unit="replicas", ge=2, le=32)
    rps: float = param(300, "requests per second", unit="req/s", ge=1, le=20_000)
    period_s: float = param(2, "probe period", unit="s", ge=1, le=60)
    failure_threshold: int = param(2, "failed probes in a row before removal", unit="probes",
                                   ge=1, le=10)


def scenario(p: Params) -> Scenario:
    share = 1 / p.replicas
    expect: tuple[Expect, ...]
    if p.with_probes:
        detect_max = p.failure_threshold * p.period_s
        expect = (
            Expect("workloads.requests.failed_share", "<=", share * detect_max / WINDOW_S,
                   "requests fail only until the probes notice: at most failure_threshold × "
                   "period"),
            Expect("workloads.requests.failed_share", ">=",
                   share * (p.failure_threshold - 1) * p.period_s / WINDOW_S * 0.9,
                   "and at least (failure_threshold − 1) × period: detection is not free"),
        )
    else:
        expect = (Expect("workloads.requests.failed_share", "~", share * OUTAGE_S / WINDOW_S,
                         "without probes the dead replica gets its share for the whole outage",
                         tolerance=0.1),)
    return Scenario(
        story=f"{p.rps:g} req/s over {p.replicas} replicas; replica 0 crashes for "
              f"{OUTAGE_S:g} s of the {WINDOW_S:g} s window.",
        expect=expect,
        quick=())


TEMPLATE = Template(
    id="health-check", version=1, title="Health check and failover with readiness probes",
    summary="Readiness probes take a crashed replica out of rotation within failure_threshold "
            "× period, so clients stop failing after seconds instead of for the whole outage.",
    patterns=("health-check", "failover"),
    params=Params, scenario=scenario,
    assumptions=(
        "Kubernetes readiness semantics: the replica leaves rotation after "
        "failure_threshold failed probes and returns after one success.",
        "The balancer is round robin, so the crashed replica gets exactly 1/replicas of the "
        "requests until it is removed (a least-requests balancer would send it more: a "
        "replica that fails fast looks idle).",
        "Callers do not retry, so the failed share measures the detection time; a retry on "
        "another replica would hide it too.",
        "The scenario is already short (30 s, the probes need whole periods), so quick runs "
        "the full scenario.",
    ))
