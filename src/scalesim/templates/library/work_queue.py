"""Work queue: producers enqueue jobs, a pool of workers competes to process them."""

from __future__ import annotations

from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    jobs_rps: float = param(1200, "jobs submitted per second", unit="jobs/s", ge=1,
                            le=100_000)
    burst_factor: float = param(2, "the submit rate during a 5 s burst, × jobs_rps", unit="×",
                                ge=1, le=10)
    worker_replicas: int = param(4, "worker instances", unit="instances", ge=1, le=128)
    threads: int = param(8, "jobs one worker instance runs at once", unit="threads", ge=1,
                         le=256)
    job_ms: float = param(20, "mean time of one job (gamma, cv 0.5)", unit="ms", ge=0.1,
                          le=60_000)
    keda: bool = param(False, "scale the workers with KEDA on the backlog, from zero and back "
                       "to zero after the jobs stop (worker_replicas becomes the maximum)")


KEDA_POLLING_S = 5
KEDA_COOLDOWN_S = 30
KEDA_STOP_S = 20  # the jobs stop here, so the pool can go back to zero
# (measured seconds, the burst's seconds, seconds after it): the full and the quick run
FULL, QUICK = (28.0, 5.0, 17.0), (13.0, 3.0, 7.0)
RAMP_SHARE = 0.03  # jobs started in the window but not done: at most this share of it


def capacity(p: Params) -> float:
    return p.worker_replicas * p.threads * 1000.0 / p.job_ms


def left_at_end(p: Params, run: tuple[float, float, float]) -> float:
    """Jobs still queued at the end of a run (sizing.left_behind)."""
    return sizing.left_behind(p.jobs_rps, p.burst_factor * p.jobs_rps, capacity(p), run)


def backlog_expect(p: Params) -> tuple[Expect, ...]:
    """Worked off when the fluid backlog is gone by the end of the quick run; when it is
    left in both runs, at least half of the smaller leftover remains; else no claim."""
    metric = "queues[jobs->worker.process].backlog_end"
    if left_at_end(p, QUICK) <= 0:
        return (Expect(metric, "<=", p.jobs_rps * 0.05,
                       "the burst's backlog is worked off by the end: "
                       "under 5 % of a second's submissions left"),)
    left = min(left_at_end(p, QUICK), left_at_end(p, FULL))
    if left <= 0:
        return ()
    return (Expect(metric, ">=", left / 2,
                   "the pool cannot work the backlog off in time: at least half of what it "
                   "falls behind (as a fluid) is left at the end"),)


def delivered_expect(p: Params) -> tuple[Expect, ...]:
    """The pool's throughput, when its jobs are short enough that those still running at the
    end of the quick run's window are at most 3 % of it."""
    if p.job_ms / 1000.0 > RAMP_SHARE * QUICK[0]:
        return ()
    return (Expect("queues[jobs->worker.process].delivered_rps", ">=", min(
        0.97 * p.jobs_rps, 0.97 * capacity(p)),
        "the pool keeps up with the submit rate (1000+ jobs/s at the defaults)"),)


def derive(p: Params) -> dict[str, Any]:
    return {"capacity": capacity(p), "concurrency": p.worker_replicas * p.threads,
            "backlog_per_replica": p.threads * 25, "polling": KEDA_POLLING_S,
            "cooldown": KEDA_COOLDOWN_S, "stop": KEDA_STOP_S}


def scenario(p: Params) -> Scenario:
    if p.keda:
        return Scenario(
            story=f"{p.jobs_rps:g} jobs/s with a burst, then none from {KEDA_STOP_S} s; KEDA "
                  f"starts the pool from zero on the first backlog, scales it out on the "
                  f"backlog, and back to zero {KEDA_COOLDOWN_S} s after the queue is empty.",
            expect=(
                Expect("queues[jobs->worker.process].failed", "<=", 0, "no job is lost"),
                Expect("queues[jobs->worker.process].backlog_end", "<=", 0,
                       "every job is done by the end"),
                Expect("components.worker.scaling.replicas.max", ">=", 2,
                       "the backlog scales the pool out"),
                Expect("components.worker.scaling.replicas.final", "<=", 0,
                       "and back to zero once the queue has been idle for the cooldown"),
            ),
            quick=("workloads.0.profile.1.at=4s", "workloads.0.profile.2.at=7s"))
    return Scenario(
        story=f"{p.jobs_rps:g} jobs/s, with a burst (5 s; 3 s in the quick run) at "
              f"{p.burst_factor:g}× that rate; the pool processes {capacity(p):g} jobs/s at most.",
        expect=(
            *delivered_expect(p),
            *backlog_expect(p),
            Expect("workloads.submit.latency_ms.p99", "<", 10,
                   "submitting stays fast during the burst: the queue absorbs it"),
            Expect("queues[jobs->worker.process].failed", "<=", 0,
                   "no job is lost"),
        ),
        quick=("simulation.duration=14s", "simulation.warmup=1s",
               "workloads.0.profile.1.at=4s", "workloads.0.profile.2.at=7s"))


TEMPLATE = Template(
    id="work-queue", version=1, title="Work queue with a worker pool",
    summary="Producers put jobs on a queue and return at once; a pool of workers takes them "
            "as fast as it can, so a burst becomes a backlog that drains instead of errors.",
    patterns=("work-queue", "competing-consumers", "queue-based-load-leveling"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Pool capacity = instances × threads / job time (4 × 8 / 20 ms = 1600 jobs/s); the "
        "default 1200 jobs/s keeps it 75 % busy; a 5 s burst at 2× leaves 4000 jobs that "
        "drain in about 10 s.",
        "The broker is not the bottleneck (unlimited, unbounded buffer); delivery to the "
        "workers is limited to their total threads, like a prefetch limit.",
        "The backlog is claimed worked off when, as a fluid, the pool clears it before the "
        "quick run ends (its 3 s burst, 7 s after it; the defaults need 6 s); when the pool "
        "cannot (burst_factor=10, worker_replicas=1, threads=1), at least half of what it "
        "falls behind is claimed left at the end. The throughput is claimed when the jobs "
        "still running at the end are at most 3 % of the quick run's 13 s (job_ms up to "
        "390 ms).",
        "A failed job is dropped (the queue delivers at most once; the dead-letter-queue "
        "template shows redelivery); none fail here.",
    ))
