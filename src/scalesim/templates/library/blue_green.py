"""Blue-green deployment: the new version starts beside the old one, then traffic switches."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    replicas: int = param(10, "replicas of the active version", unit="replicas", ge=1,
                          le=200)
    preview_replicas: int = param(3, "replicas of the new version before the promotion "
                                  "(previewReplicaCount)", unit="replicas", ge=1, le=200)
    scale_down_delay_s: int = param(30, "how long the old version stays after the switch "
                                    "(scaleDownDelaySeconds)", unit="s", ge=0, le=3600)
    promote_after_s: int = param(30, "auto-promotion this long after the preview is ready "
                                 "(autoPromotionSeconds); the run grows with it",
                                 unit="s", ge=0, le=600)
    rps: float = param(4000, "offered load", unit="req/s", ge=10, le=200_000)
    workers: int = param(8, "requests one replica serves at once", unit="threads", ge=1,
                         le=256)
    service_ms: float = param(8, "mean work of a request on the old version", unit="ms",
                              ge=0.1, le=1000)
    new_service_ms: float = param(6, "mean work on the new version", unit="ms", ge=0.1,
                                  le=1000)
    startup_s: float = param(10, "median start-up of a replica (lognormal, p99 3×); the run "
                             "grows with it", unit="s", ge=0, le=120)
    smoke_rps: float = param(0, "a smoke test's requests to the preview Service "
                             "(previewService); with one, a pre-promotion analysis of its error "
                             "rate gates the promotion (0: none)", unit="req/s", ge=0, le=1000)


AT = 30  # the rollout starts
SERVED = 90  # the run goes on this long after the latest switch it allows for
SLOWEST_START = 4  # the slowest of the replicas starting at once, × the median start-up
SMOKE = 20  # the pre-promotion analysis: at most 20 s (the first measurement, at once, may
# find no data yet: an error, retried 10 s later; then 2 results 10 s apart)
RATED = 0.8  # a version's threads: at most this busy for 'no request fails'


def duration(p: Params) -> int:
    """Long enough for the switch and SERVED seconds after it: two start-ups (the preview,
    then the rest), each bounded by SLOWEST_START × the median (z = 2.9 of the lognormal
    whose p99 is 3× the median), the auto-promotion delay and the smoke test's analysis."""
    smoke = SMOKE if p.smoke_rps else 0
    return math.ceil(AT + 2 * SLOWEST_START * p.startup_s + p.promote_after_s + smoke + SERVED)


def capacity(p: Params, service_ms: float) -> float:
    """What the full replica set of a version serves at most."""
    return p.replicas * p.workers * 1000.0 / service_ms


def none_fail_expect(p: Params, failed: str) -> tuple[Expect, ...]:
    """No failure at the switch when both versions run below their rated load; past it they
    fail for want of threads, switch or not."""
    if p.rps > RATED * capacity(p, max(p.service_ms, p.new_service_ms)):
        return ()
    return (Expect(failed, "<=", 0, "no request fails at the switch: the old "
                   "replicas finish what they hold and stay until the delay is over"),)


def switched_expect(p: Params) -> Expect:
    """The new version's requests after the switch: half a minute of the rate, or of its
    capacity when that is lower."""
    return Expect("components.api.versions.v2.requests", ">",
                  0.5 * min(p.rps, capacity(p, p.new_service_ms)) * 60,
                  "and serves all traffic from the switch on (as much as it can serve)")


def derive(p: Params) -> dict[str, Any]:
    return {"at": AT, "utilization": p.rps * p.service_ms / 1000.0 / (p.replicas * p.workers),
            "duration": duration(p)}


def scenario(p: Params) -> Scenario:
    smoke = (f" A smoke test sends {p.smoke_rps:g} req/s to the preview Service: it fails "
             "until the preview replicas are ready, then its error rate gates the promotion."
             if p.smoke_rps else "")
    # With a smoke test the promise is about users: its requests to the preview fail until
    # the preview's replicas are ready (no endpoints yet), which is the test doing its job.
    failed = "workloads.users.requests.failed" if p.smoke_rps else "requests.failed"
    return Scenario(
        story=f"{p.rps:g} req/s on {p.replicas} replicas; at {AT} s the new version starts "
              f"{p.preview_replicas} preview replicas, is promoted {p.promote_after_s} s after "
              f"they are ready, scales to {p.replicas}, takes all traffic at once, and the old "
              f"replicas go {p.scale_down_delay_s} s later.{smoke}",
        expect=(
            *none_fail_expect(p, failed),
            Expect("rollouts[api].final_weight", ">=", 100, "the new version is promoted"),
            switched_expect(p),
            Expect("components.api.scaling.replicas.max", ">=", 2 * p.replicas,
                   "for a while both versions run in full: blue-green costs double capacity"),
        ))


TEMPLATE = Template(
    id="blue-green", version=1, title="Blue-green deployment (Argo Rollouts)",
    summary="The new version comes up beside the old one with a few preview replicas, is "
            "promoted to full size, and the active Service switches all traffic at once; the "
            "old version stays until the scale-down delay has passed.",
    patterns=("blue-green-deployment",),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Argo Rollouts blue-green: previewReplicaCount replicas first, autoPromotionSeconds "
        "after they are ready the preview scales to full size, then the active Service "
        "switches, and scaleDownDelaySeconds later the old ReplicaSet scales to zero.",
        "The switch is instant for new requests (ScaleSim does not model endpoint "
        "propagation); requests already at an old replica finish there.",
        "Only the smoke test (smoke_rps, a workload with 'preview: true') reaches the "
        "preview Service; without it the scenario has no pre-promotion analysis, which "
        "would see no data.",
        "'No request fails at the switch' is claimed when both versions' full replica sets "
        "run at most 80 % busy (replicas × workers / service time); past that they fail "
        "requests for want of threads, switch or not (replicas=1, workers=1, service_ms or "
        "new_service_ms=1000 at the defaults). The new version is claimed to serve half a "
        "minute of the rate after the switch, or of its capacity when that is lower.",
        "The run lasts 30 s + 2 × 4 × the median start-up + the auto-promotion delay (+ 20 s "
        "with a smoke test) + 90 s: the switch comes before its last 90 s.",
    ))
