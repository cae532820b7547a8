"""How long a run must be before it pins down the mean at a busy component, and how long its
queue takes to forget that the run started empty.

Near saturation a queue's length drifts in long excursions, so the mean of a run depends on
which excursions it happened to catch: the spread between runs shrinks only as 1/√T, with a
constant that grows like 1/(1 − ρ)². The formulas are W. Whitt's planning formulas for the
M/M/1 queue ("Planning queueing simulations", Management Science 35(11), 1989), carried to c
servers and to general work by heavy-traffic scaling (the queue as a reflected Brownian
motion, whose variance is v = (c_a² + c_s²)/2 times the Markovian one and whose time scale is
the c servers' as one server c times as fast):

- relaxation time τ = S / (c·(1 − √ρ)²): Morse's for M/M/1, in which the distance to the
  steady state shrinks like e^(−t/τ);
- the asymptotic variance of the time-average number at one queue,
  σ² = 2·C·(1 + ρ)·v³·(S/c) / (1 − ρ)⁴, with C the probability of waiting (ρ for M/M/1,
  where the formula is exact);
- over T seconds at each of q queues run alike (replicas, replications), the relative
  standard deviation of the mean number σ/√(q·T) / L, L = λ_q·(S + W_q) by Little's law:
  the same for the mean latency there.

Against the simulator (tests/analytic/test_precision.py; 100 runs each) the formula gave 0.78
to 1.24 of the measured spread of the mean latency at ρ from 0.5 to 0.97, for M/M/1, M/M/4,
M/M/16, M/D/1, M/D/4 and round-robin replicas. A bounded queue that refuses more than
LOSSLESS, a closed loop's finite population and unlimited workers keep the excursions
short: they are left out, and so are components with `cores`, whose waits for a core the
formula has not been checked against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from scalesim.analytic.closed import in_loop
from scalesim.analytic.estimate import ComponentEstimate, Estimate
from scalesim.analytic.station import relaxation_time
from scalesim.spec.checks import reached, sync_edges
from scalesim.spec.model import Simulation, System

Z95 = NormalDist().inv_cdf(0.975)  # 1.96: the half-width of a 95 % interval in SDs
WARN_ABOVE = 0.10  # `simulate` warns before a run that pins its mean latency down more loosely
FORGET = 3.0  # relaxation times after which under 5 % (e^-3) of the empty start remains
# A bounded queue refusing more than this clips the excursions the formula counts on: at
# ρ = 0.95 the spread measured was 0.81 of the formula's with 0.03 % refused, 0.68 with
# 0.13 %, 0.32 with 0.7 %.
LOSSLESS = 1e-3


def relaxation_s(station: ComponentEstimate) -> float:
    """Seconds the component's queue takes to forget its start, to within 1/e."""
    return relaxation_time(station.service_mean_s, station.servers or 1,
                           station.state.utilization)


def relative_sd(station: ComponentEstimate, measured_s: float) -> float | None:
    """The relative standard deviation of the mean latency at the component measured over
    `measured_s` seconds (all replications together); None where the formula does not
    apply (no queue that can grow, or no traffic)."""
    state, servers = station.state, station.servers
    if servers is None or station.cores is not None or not state.stable \
            or station.arrival_rate_rps <= 0.0 or in_loop(state.model) \
            or state.loss > LOSSLESS:
        return None
    rho, hold = state.utilization, station.service_mean_s
    if not 0.0 < rho < 1.0 or hold <= 0.0:
        return None
    variance = 2.0 * state.p_wait * (1.0 + rho) * station.variability ** 3 * (hold / servers) \
        / (1.0 - rho) ** 4
    in_system = station.arrival_rate_rps / station.queues * (hold + state.mean_wait_s)
    return math.sqrt(variance / (station.queues * measured_s)) / in_system


def mean_latency_sd(estimate: Estimate, measured_s: float) -> float | None:
    """The relative standard deviation of the run's mean latency (all workloads' requests
    pooled, as `latency_ms.mean`) over `measured_s` seconds, all replications together; None
    when a workload's latency has no estimate."""
    return _pooled_sd(estimate, _spreads(estimate, measured_s))


def _pooled_sd(estimate: Estimate, spreads: dict[str, float]) -> float | None:
    """The components' spreads (`_spreads`) added as variances, relative to the pooled
    mean latency."""
    mean = _pooled_mean_s(estimate)
    return None if mean is None else math.sqrt(sum(sd ** 2 for sd in spreads.values())) / mean


def _pooled_mean_s(estimate: Estimate) -> float | None:
    workloads = estimate.workloads.values()
    total = sum(w.rate_rps for w in workloads)
    if total <= 0.0 or any(w.latency is None for w in workloads):
        return None
    mean = sum(w.rate_rps * w.mean_s for w in workloads) / total
    return mean if mean > 0.0 else None


def _spreads(estimate: Estimate, measured_s: float) -> dict[str, float]:
    """Each busy component's share of the spread of the pooled mean latency, in seconds:
    its own spread per visit times its visits per request of the workloads that wait on it
    (`waited_by`; the components' errors are taken as independent, so these add as
    variances)."""
    workloads = estimate.workloads
    total = sum(w.rate_rps for w in workloads.values())
    if total == 0.0:  # every workload sends nothing (a profile of 0/s): no latency to spread
        return {}
    waited = waited_by(estimate.system)
    out = {}
    for name, station in estimate.components.items():
        sd = relative_sd(station, measured_s)
        visits = sum(w.rate_rps * w.visits.get(name, 0.0) for key, w in workloads.items()
                     if name in waited[key]) / total
        if sd is None or not visits:
            continue
        out[name] = visits * (station.service_mean_s + station.state.mean_wait_s) * sd
    return out


def waited_by(system: System) -> dict[str, set[str]]:
    """Each workload's components that its requests wait on: reached from its entry by
    calls waited on (and cache misses and writes). An asynchronous consumer's queue adds
    nothing to a request's latency, however long it swings."""
    edges = sync_edges(system)
    return {workload.name: {ref.split(".", 1)[0] for ref in
                            reached(edges, [".".join(system.resolve(workload.to))])}
            for workload in system.workloads}


@dataclass(frozen=True)
class ShortRun:
    """A run that pins its mean latency down only loosely, and the component that does it."""

    half_width: float  # of the mean latency's 95 % interval, relative to it
    needed_s: float  # measured seconds, all replications, for ±`target`
    target: float
    busiest: str  # the component whose queue adds the most to the spread
    rho: float
    relaxation_s: float  # the longest of the busy components'

    def advice(self, simulation: Simulation, more_runs: str) -> str:
        """What the CLI's warning and the studio's finding say: how loosely, why, the time
        that would do, and a warm-up when the run's is shorter than FORGET relaxation times.
        `more_runs` says how to add replications, with `{n}` for how many in all."""
        measured = simulation.duration * simulation.replications
        runs = math.ceil(self.needed_s / simulation.duration)
        warmup = FORGET * self.relaxation_s
        start = "" if simulation.warmup >= warmup else (
            f" It starts empty: simulation.warmup {_seconds(warmup)} ({FORGET:g} relaxation "
            "times) leaves that out.")
        return (f"this run pins its mean latency down to about ±{self.half_width:.0%} (95 %): "
                f"'{self.busiest}' is busy (ρ ≈ {self.rho:.2f}) and its queue takes about "
                f"{_seconds(self.relaxation_s)} to forget where it was, against "
                f"{_seconds(measured)} simulated. About {_seconds(self.needed_s)} in all "
                f"gives ±{self.target:.0%}: a longer simulation.duration, or "
                f"{more_runs.format(n=runs)}.{start}")


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10.0 else f"{value:,.0f} s"


def short_run(estimate: Estimate, measured_s: float, target: float) -> ShortRun | None:
    """What `measured_s` seconds of simulated time (all replications) give when they pin the
    mean latency down to more than ±`target` (95 %); None when they do better."""
    spreads = _spreads(estimate, measured_s)
    sd = _pooled_sd(estimate, spreads)
    if sd is None or Z95 * sd <= target:
        return None
    busiest = max(spreads, key=lambda name: spreads[name])
    half = Z95 * sd
    return ShortRun(half, measured_s * (half / target) ** 2, target, busiest,
                    estimate.components[busiest].state.utilization,
                    max(relaxation_s(estimate.components[name]) for name in spreads))
