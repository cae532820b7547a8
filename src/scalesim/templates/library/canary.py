"""Canary release with automated analysis: a bad version is rolled back, a good one promoted."""

from __future__ import annotations

from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

AT = 60  # the rollout starts


class Params(TemplateParams):
    bad: bool = param(True, "the new version fails requests (false: it is healthy)")
    bad_error_rate: float = param(0.2, "share of requests the bad version fails",
                                  unit="share", ge=0.03, le=1)
    weight: int = param(10, "the canary's first traffic share", unit="%", ge=1, le=99)
    pause_s: int = param(60, "each pause between weights", unit="s", ge=1, le=3600)
    interval_s: int = param(10, "analysis interval", unit="s", ge=1, le=600)
    failure_limit: int = param(1, "failed measurements tolerated", ge=0, le=100)
    replicas: int = param(10, "replicas", unit="replicas", ge=2, le=200)
    rps: float = param(1000, "offered load", unit="req/s", ge=10, le=200_000)
    traffic_routing: bool = param(True, "a mesh splits traffic by weight (false: by "
                                  "replica counts)")


def abort_at(p: Params) -> float:
    """The first measurement after failure_limit + 1 failures."""
    return AT + p.interval_s * (p.failure_limit + 1)


def derive(p: Params) -> dict[str, Any]:
    return {"at": AT}


def scenario(p: Params) -> Scenario:
    if p.bad:
        exposed = p.weight / 100.0 * p.rps * (abort_at(p) - AT)
        return Scenario(
            story=f"At {AT} s {p.weight}% of {p.rps:g} req/s go to a version that fails "
                  f"{p.bad_error_rate:.0%} of them; the analysis measures its error rate every "
                  f"{p.interval_s} s and aborts after {p.failure_limit + 1} failures.",
            expect=(
                Expect("rollouts[api].final_weight", "<=", 0,
                       "the bad version is rolled back automatically"),
                Expect("rollouts[api].ended_s", "~", abort_at(p),
                       "at the first measurement past the failure limit", tolerance=0.001),
                Expect("components.api.versions.v2.requests", "<=", 1.3 * exposed,
                       "the blast radius: about weight × rate × time requests reached it"),
                Expect("requests.failed", "<=", 1.3 * exposed * p.bad_error_rate,
                       "and only its share of them failed"),
            ))
    return Scenario(
        story=f"At {AT} s a healthy version takes {p.weight}%, then 50% of {p.rps:g} req/s, "
              f"with {p.pause_s} s pauses, while the analysis watches it.",
        expect=(
            Expect("rollouts[api].final_weight", ">=", 100, "the good version is promoted"),
            Expect("rollouts[api].ended_s", "~", AT + 2 * p.pause_s,
                   "when its pauses are over", tolerance=0.001),
            Expect("requests.failed", "<=", 0, "nothing failed on the way"),
        ))


TEMPLATE = Template(
    id="canary", version=1, title="Canary release with automated rollback (Argo Rollouts)",
    summary="A new version gets a small share of the traffic while an analysis measures its "
            "own error rate and latency; past the failure limit the rollout aborts and all "
            "traffic goes back to the stable version.",
    patterns=("canary-release",),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Argo Rollouts canary: setWeight and pause steps, background analysis from the first "
        "step, failureLimit failures tolerated; an abort sets the weight to 0 at once.",
        "With traffic routing (Istio) the weights are exact and the stable stays fully "
        "scaled; without it the weight is the canary's share of the replicas.",
        "The analysis sees only the canary's requests at this service: error rate and p99 "
        "over each interval.",
    ))
