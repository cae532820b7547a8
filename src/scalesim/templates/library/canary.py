"""Canary release with automated analysis: a bad version is rolled back, a good one promoted."""

from __future__ import annotations

import math
from typing import Any

from scalesim.spec.control import ERROR_RETRY
from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param

AT = 60  # the rollout starts
TAIL = 60  # the run goes on this long after the rollout ends
MAX_ERROR_RATE = 0.02  # the analysis fails a measurement above this error rate
WORK_MS = 5.0  # a request's mean work (the stable version's, and the bad one's)
MIN_WORKERS, UTILIZATION = 8, 0.5  # threads per replica: at least, and at most this busy


class Params(TemplateParams):
    bad: bool = param(True, "the new version fails requests (false: it is healthy)")
    bad_error_rate: float = param(0.2, "share of requests the bad version fails",
                                  unit="share", ge=0.03, le=1)
    weight: int = param(10, "the canary's first traffic share", unit="%", ge=1, le=99)
    pause_s: int = param(60, "each pause between weights (at most 600: the run lasts until "
                         "the rollout ends, up to 2 pauses + 2 min)", unit="s", ge=1, le=600)
    interval_s: int = param(10, "analysis interval", unit="s", ge=1, le=600)
    failure_limit: int = param(1, "failed measurements tolerated", ge=0, le=100)
    replicas: int = param(10, "replicas", unit="replicas", ge=2, le=200)
    rps: float = param(1000, "offered load", unit="req/s", ge=10, le=200_000)
    traffic_routing: bool = param(True, "a mesh splits traffic by weight (false: by "
                                  "replica counts)")


def abort_at(p: Params) -> float:
    """The measurement of the failure past failure_limit. The analysis starts with the
    rollout and measures at once, before the canary served anything: no data, an error,
    retried 10 s later (the first failure); then one every interval."""
    return AT + ERROR_RETRY + p.interval_s * p.failure_limit


def promote_at(p: Params) -> float:
    """When the two pauses are over and the steps complete."""
    return AT + 2 * p.pause_s


def aborts(p: Params) -> bool:
    """The bad version is caught before its pauses are over. A measurement due at the very
    moment the last pause ends comes too late: the steps complete first, and the background
    analysis ends with the rollout (Argo)."""
    return p.bad and abort_at(p) < promote_at(p)


def ended_at(p: Params) -> float:
    return abort_at(p) if aborts(p) else promote_at(p)


def share(p: Params, weight: int) -> float:
    """The canary's traffic share at a set weight: exact with traffic routing, else its
    share of the replicas (Argo's counts at the default 25 % maxSurge and maxUnavailable)."""
    if p.traffic_routing:
        return weight / 100.0
    # the simulator's package loads numpy: not at `templates list`
    from scalesim.sim.control.counts import approximate_weight, fenceposts
    surge, _ = fenceposts(p.replicas, "25%", "25%")
    new, old = approximate_weight(p.replicas, weight, surge)
    return new / (new + old)


def exposed(p: Params) -> float:
    """Requests the new version gets until the rollout ends: the first weight for one pause,
    then 50 %, then (promoted) all of them until the run ends."""
    end = ended_at(p)
    first = min(end - AT, p.pause_s)
    second = max(0.0, min(end, promote_at(p)) - AT - p.pause_s)
    after = 0.0 if aborts(p) else TAIL
    return p.rps * (share(p, p.weight) * first + share(p, 50) * second + after)


def measured(p: Params) -> float:
    """The canary's requests in one analysis interval at its first (smallest) weight."""
    return p.rps * share(p, p.weight) * p.interval_s


def always_measured(p: Params) -> bool:
    """Every interval has the canary's requests (their count is above 0 by 4 Poisson σ);
    without them a measurement is an error, and 5 in a row abort the rollout (Argo's
    consecutiveErrorLimit 4), a healthy version too."""
    return measured(p) > SIGMAS ** 2


def always_fails(p: Params) -> bool:
    """Every measurement of the bad version fails: its failures exceed 2 % of its requests
    by 4 standard deviations (failures and successes independent Poisson counts), so the
    abort comes at the first measurement past the failure limit."""
    n, rate = measured(p), p.bad_error_rate
    margin = n * (rate - MAX_ERROR_RATE)
    spread = math.sqrt(n * ((1 - MAX_ERROR_RATE) ** 2 * rate + MAX_ERROR_RATE ** 2 * (1 - rate)))
    return always_measured(p) and margin > SIGMAS * spread


def promoted_exposure(p: Params) -> float:
    """Requests the new version gets if nothing stops it: the first weight for one pause,
    50 % for the next, then all of them until the run ends."""
    return p.rps * p.pause_s * (share(p, p.weight) + share(p, 50)) + p.rps * TAIL


def derive(p: Params) -> dict[str, Any]:
    return {"at": AT, "duration": math.ceil(ended_at(p)) + TAIL,
            "workers": sizing.threads(p.rps, WORK_MS, p.replicas, MIN_WORKERS, UTILIZATION)}


def thin(p: Params) -> Scenario:
    """Too few of the canary's requests per interval, or a bad version failing too close to
    the limit, for a sure verdict: claim only what no verdict can exceed."""
    radius = promoted_exposure(p)
    failed = (Expect("requests.failed", "<=", count_at_most(radius * p.bad_error_rate),
                     "and only its share of them failed") if p.bad else
              Expect("requests.failed", "<=", 0, "nothing failed on the way"))
    version = (f"a version that fails {p.bad_error_rate:.0%} of them" if p.bad else
               "a healthy version")
    return Scenario(
        story=f"At {AT} s {p.weight}% of {p.rps:g} req/s go to {version}; about "
              f"{measured(p):.3g} of its requests fall in each {p.interval_s} s "
              "interval: too few (or, for a bad version, failing too close to the "
              "analysis's 2 % limit) for a sure verdict. Measurements without requests "
              "are errors (5 in a row abort the rollout); a bad version's may pass.",
        expect=(
            Expect("components.api.versions.v2.requests", "<=", count_at_most(radius),
                   "the blast radius is at most a promotion's: weight × pause + 50 % × "
                   "pause + the 60 s after it, within 4 Poisson σ"),
            failed,
        ))


def scenario(p: Params) -> Scenario:
    if not (always_fails(p) if p.bad and aborts(p) else always_measured(p)):
        return thin(p)
    if p.bad and aborts(p):
        radius = exposed(p)
        return Scenario(
            story=f"At {AT} s {p.weight}% of {p.rps:g} req/s go to a version that fails "
                  f"{p.bad_error_rate:.0%} of them; the analysis measures its error rate every "
                  f"{p.interval_s} s and aborts after {p.failure_limit + 1} failures.",
            expect=(
                Expect("rollouts[api].final_weight", "<=", 0,
                       "the bad version is rolled back automatically"),
                Expect("rollouts[api].ended_s", "~", abort_at(p),
                       "at the first measurement past the failure limit: "
                       f"{AT} + 10 + interval × failure_limit s (the first measurement, at "
                       f"{AT} s, has no data yet: an error, retried 10 s later)",
                       tolerance=0.001),
                Expect("components.api.versions.v2.requests", "<=", count_at_most(radius),
                       "the blast radius: rate × (weight × time at the first weight + 50 % × "
                       "time at 50 %) requests reached it, within 4 Poisson σ"),
                Expect("requests.failed", "<=", count_at_most(radius * p.bad_error_rate),
                       "and only its share of them failed"),
            ))
    if p.bad:
        return Scenario(
            story=f"At {AT} s {p.weight}% of {p.rps:g} req/s go to a version that fails "
                  f"{p.bad_error_rate:.0%} of them; the analysis would abort after "
                  f"{p.failure_limit + 1} failures {p.interval_s} s apart "
                  f"({abort_at(p):g} s), but the pauses are over at {promote_at(p):g} s.",
            expect=(
                Expect("rollouts[api].final_weight", ">=", 100,
                       "the bad version is promoted: 10 + interval × failure_limit s is "
                       "not shorter than the two pauses, so the analysis ends with the rollout "
                       "before it fails"),
                Expect("rollouts[api].ended_s", "~", promote_at(p),
                       f"when its pauses are over ({AT} + 2 × pause s)", tolerance=0.001),
                Expect("requests.failed", ">", 0, "and its errors reach the users"),
            ))
    return Scenario(
        story=f"At {AT} s a healthy version takes {p.weight}%, then 50% of {p.rps:g} req/s, "
              f"with {p.pause_s} s pauses, while the analysis watches it.",
        expect=(
            Expect("rollouts[api].final_weight", ">=", 100, "the good version is promoted"),
            Expect("rollouts[api].ended_s", "~", promote_at(p),
                   f"when its pauses are over ({AT} + 2 × pause s)", tolerance=0.001),
            Expect("requests.failed", "<=", 0, "nothing failed on the way"),
        ))


TEMPLATE = Template(
    id="canary", version=2, title="Canary release with automated rollback (Argo Rollouts)",
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
        "over each interval; it ends with the rollout, so a failure limit that the pauses "
        "end before lets a bad version through.",
        "The run lasts until the rollout ends (abort or promotion) and 60 s more.",
        "Each replica has 8 threads, more when the load would keep them over 50 % busy (a "
        "rollout without traffic routing can take a quarter of the replicas away): at "
        "200000 req/s a fixed 8 on 10 replicas stopped the run with a million requests in "
        "flight.",
        "The outcome is claimed when the analysis has the canary's requests in every "
        "interval (more than 16 at the first weight, 0 by 4 Poisson σ) and, for a bad "
        "version to abort on time, when every measurement fails (its failures above 2 % "
        "by 4 standard deviations). Otherwise (rps=10, or weight=1 with interval_s=1) "
        "measurements pass by luck or have no data, which is an error — 5 in a row abort "
        "the rollout, a healthy version's too — and only the blast radius of a promotion "
        "is claimed.",
    ))
