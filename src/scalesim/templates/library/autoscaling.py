"""Autoscaling: a CPU-based HPA follows a daily ramp and a flash crowd, at a cost."""

from __future__ import annotations

import math
from typing import Any

from pydantic import model_validator

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

# The run, in seconds: quiet, the daily ramp up, the peak, the ramp down, quiet for longer
# than the 300 s scale-down window (the fleet shrinks back), a flash crowd, quiet again. The
# quick run keeps that shape, the window included, in a third of the time.
FULL = (300, 1200, 1500, 1800, 2400, 2580, 3000)
QUICK = (60, 300, 360, 480, 840, 960, 1080)


class Params(TemplateParams):
    base_rps: float = param(200, "quiet-hours load", unit="req/s", ge=10, le=50_000)
    peak_rps: float = param(2000, "daily peak load", unit="req/s", ge=10, le=200_000)
    flash_rps: float = param(1600, "the flash crowd's load (a sudden jump from quiet hours)",
                             unit="req/s", ge=10, le=200_000)
    workers: int = param(4, "requests one replica serves at once", unit="threads", ge=1,
                         le=256)
    service_ms: float = param(10, "mean CPU time of one request (exponential)", unit="ms",
                              ge=0.1, le=1000)
    # A whole percent: it is written to the HPA's averageUtilization, an integer field. At
    # most 90: a saturated replica reports 100 %, and 100 / target must leave the HPA's 10 %
    # tolerance (100 / 91 = 1.099 does not), or the fleet never grows.
    cpu_target: int = param(50, "the HPA's CPU utilization target (averageUtilization, a "
                            "whole percent); at most 90, since a saturated replica reports "
                            "100 % and 100 / target must exceed the 10 % tolerance for any "
                            "scale-up", unit="%", ge=10, le=90)
    startup_s: float = param(20, "median time a new replica takes to start (lognormal, p99 "
                             "3× the median)", unit="s", ge=0, le=600)
    min_replicas: int = param(2, "the HPA's minimum", unit="replicas", ge=1, le=100)
    max_replicas: int = param(30, "the HPA's maximum (at least min_replicas)",
                              unit="replicas", ge=1, le=1000)
    cost_per_hour: float = param(0.10, "price of one replica-hour", unit="$", ge=0, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> Params:
        """Kubernetes rejects an HPA whose maxReplicas is below its minReplicas."""
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be at least min_replicas (Kubernetes rejects "
                             f"maxReplicas < minReplicas); got {self.max_replicas} < "
                             f"{self.min_replicas}")
        return self


def capacity(p: Params) -> float:
    """Requests per second one replica serves when fully busy."""
    return p.workers * 1000.0 / p.service_ms


def unclamped(p: Params, rps: float) -> int:
    """Replicas a load needs at the target, whatever the HPA's bounds."""
    return math.ceil(rps / (capacity(p) * p.cpu_target / 100))


def needed(p: Params, rps: float) -> int:
    """Replicas the HPA settles on for a load: utilization at the target."""
    return max(p.min_replicas, min(p.max_replicas, unclamped(p, rps)))


STARTUP_P99 = 3  # a replica's p99 start-up, × its median


def quick_start(p: Params) -> bool:
    """New replicas start (p99) within the quick run's ramp, so the fleet can follow it."""
    return STARTUP_P99 * p.startup_s <= QUICK[1] - QUICK[0]


def shrinks(p: Params) -> bool:
    """The quiet hours need at most half the peak's replicas: only then is the fleet well
    below the peak's on average and cheaper than a fixed one."""
    return needed(p, p.base_rps) <= needed(p, p.peak_rps) / 2


def serves(p: Params) -> bool:
    """The bounds let the fleet serve the quiet hours and the peak at its target and the
    flash at all, and new replicas come in time."""
    return (unclamped(p, max(p.base_rps, p.peak_rps)) <= p.max_replicas and
            p.flash_rps <= p.max_replicas * capacity(p) and quick_start(p))


def outruns(p: Params) -> bool:
    """The flash crowd is more than the quiet hours' fleet can serve."""
    return p.flash_rps > needed(p, p.base_rps) * capacity(p)


def derive(p: Params) -> dict[str, Any]:
    t = FULL
    return {"capacity": capacity(p), "peak_replicas": needed(p, p.peak_rps),
            "t": t, "duration": t[-1],
            "fixed_cost": needed(p, p.peak_rps) * t[-1] / 3600.0 * p.cost_per_hour}


def scenario(p: Params) -> Scenario:
    peak = needed(p, p.peak_rps)
    quick = ["simulation.duration=" + f"{QUICK[-1]}s"]
    for index, at in enumerate(QUICK[:-1]):
        quick.append(f"workloads.0.profile.{index + 1}.at={at}s")
    # A fixed fleet sized for the peak costs peak × price per hour whatever the run's length;
    # the autoscaled one's cost per simulated second is compared with it (no price, no cost).
    fixed_per_s = peak * p.cost_per_hour / 3600.0
    cost = (Expect("components.web.scaling.cost_usd", "<", fixed_per_s,
                   f"the autoscaled fleet costs less than a fixed fleet sized for the peak "
                   f"({peak} replicas × ${p.cost_per_hour:g}/h = ${peak * p.cost_per_hour:g}/h, "
                   "per simulated second here): it shrinks in quiet hours",
                   per="simulated_s"),) if p.cost_per_hour > 0 and shrinks(p) else ()
    return Scenario(
        story=f"{p.base_rps:g} req/s ramps to {p.peak_rps:g} req/s and back (a day in "
              f"{FULL[3] // 60} minutes), then a flash crowd jumps to {p.flash_rps:g} req/s. "
              f"Each replica serves {capacity(p):g} req/s at most; at a "
              f"{p.cpu_target}% CPU target the peak needs {peak} replicas.",
        expect=(
            *((Expect("components.web.scaling.replicas.max", ">=", peak,
                      "the fleet grows to what the peak needs"),) if quick_start(p) else ()),
            *((Expect("components.web.scaling.replicas.mean", "<", 0.8 * peak,
                      "on average the fleet is well below the peak's"),) if shrinks(p)
              else ()),
            *cost,
            *((Expect("workloads.users.goodput_share", ">=", 0.9,
                      "the daily ramp is followed closely enough to serve nearly "
                      "everything"),) if serves(p) else ()),
            *((Expect("workloads.users.failed_share", ">=", 0.005,
                      "but the flash crowd outruns the HPA — a sync period and a cold start "
                      "late, with starting replicas counted as idle — and some requests are "
                      "refused meanwhile"),) if outruns(p) else ()),
        ),
        quick=tuple(quick))


TEMPLATE = Template(
    id="autoscaling", version=2, title="Horizontal autoscaling on CPU (Kubernetes HPA)",
    summary="A CPU-based HorizontalPodAutoscaler follows a daily ramp and a flash crowd: "
            "replicas track the load a sync period and a cold start late, p99 rises during "
            "the lag, and the fleet costs less than one sized for the peak.",
    patterns=("auto-scaling", "replicated-load-balanced-service", "finops"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Kubernetes HPA defaults: 15 s sync period, 10 % tolerance, scale up by max(4 pods, "
        "100 %) per 15 s, scale down after a 300 s stabilization window; CPU measured over "
        "15 s windows like metrics-server.",
        "CPU-bound work: a busy worker uses one core, so CPU utilization is the share of "
        "worker time spent computing; a saturated replica reports 100 %, which caps each "
        "scale-up at 1 / target × the current replicas.",
        "A new replica takes `startup` (scheduling, image pull, boot) before it gets traffic; "
        "each replica queues at most 20 requests per worker and refuses beyond that.",
        "Cost counts every replica from the moment it is scheduled until it has terminated.",
        "Each claim has its condition: the fleet reaches the peak's size when new replicas "
        "start (p99, 3 × the median) within the quick run's 240 s ramp; it is well below "
        "that on average, and cheaper than a fixed fleet, when the quiet hours need at most "
        "half the peak's replicas; nearly everything is served when the quiet hours and "
        "the peak fit in max_replicas at the target, the flash in max_replicas at all, and "
        "replicas start in time; the flash crowd is refused in part when it is more than "
        "the quiet fleet serves. min_replicas=1 still misses the 90 % (88.5 %: one replica "
        "meets the flash).",
    ))
