"""The CPU model (sim/cpu.py) against hand-computed traces and exact queueing results.

The processors are first driven alone by a bare kernel (nothing scheduled), which gives each
job's own size and sojourn time; then the whole engine runs specs with `cores` and is
checked against the M/M/1-PS and M/M/c results that hold for processor sharing:

- M/G/1-PS: E[T | size x] = x / (1 − ρ) for every x, so E[T] = E[S] / (1 − ρ), the M/M/1
  mean whatever the service distribution (Kleinrock).
- M/M/1-PS sojourn variance: (2 + ρ) / ((2 − ρ) μ² (1 − ρ)²), larger than FCFS's
  1 / (μ² (1 − ρ)²) by (2 + ρ)/(2 − ρ) (from Coffman, Muntz and Trotter's conditional
  variance, averaged over exponential sizes): the mean is the same, the distribution is not.
- c cores shared by PS, each job at most one core, is a symmetric queue with service rate
  min(n, c) μ: its number in system is that of M/M/c, for any service distribution with the
  same mean (insensitivity), so the mean sojourn is M/M/c's even for constant sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from tests.engine.simstats import check, interval, replicate

from scalesim.analytic import mm1, mmc
from scalesim.sim.compile import compile_system
from scalesim.sim.cpu import Cores, EventLoop, Processor, SharedCores
from scalesim.sim.kernel import Kernel
from scalesim.spec import load_spec_text

MINIMAL = """
scalesim: 1
name: bare
components: {s: {operations: {op: {work: 1ms}}}}
workloads: [{name: w, to: s, rate: 1/s}]
"""


def bare_kernel() -> Kernel:
    """A kernel with nothing scheduled: its clock, heap and handlers drive the processors
    alone (the real kernel, compiled or not, not a stand-in the compiled cpu.py refuses)."""
    system = load_spec_text(MINIMAL)
    sim = system.simulation
    return Kernel(compile_system(system, 1, 0), sim.warmup, sim.duration, sim.interval,
                  sim.limits)


def drain(kernel: Kernel) -> None:
    """Every scheduled event in time order, as `Kernel.run` does, without its workloads."""
    while kernel.heap:
        event = kernel.heap.pop()
        kernel.now = event.t
        kernel.handlers[event.kind](event.obj)


def sojourns(make: Callable[[Cores], Processor], jobs: list[tuple[float, float]],
             wait: float = 0.0) -> list[float]:
    """Each job's time from arrival to the end of its burst (and `wait`), in job order:
    `jobs` are (arrival time, CPU demand)."""
    kernel = bare_kernel()
    area = Cores()
    area.attach(kernel)
    processor = make(area)
    ended: dict[int, float] = {}

    def done(job: object) -> None:
        assert isinstance(job, int)
        ended[job] = kernel.now

    def start(job: object) -> None:
        assert isinstance(job, int)
        processor.run(kernel, job, jobs[job][1], wait, finished)

    finished = kernel.add_handler(done)
    started = kernel.add_handler(start)
    for index, (at, _) in enumerate(jobs):
        kernel.push(at, started, index)
    drain(kernel)
    return [ended[i] - at for i, (at, _) in enumerate(jobs)]


def test_two_jobs_share_one_core_by_hand() -> None:
    # A (3 ms) alone for 1 ms; then A and B (1 ms) at half speed each: B ends at 3 ms
    # (2 ms after it came), A has 1 ms left and ends alone at 4 ms.
    assert sojourns(lambda a: SharedCores(a, 1.0), [(0.0, 3.0), (1.0, 1.0)]) == \
        pytest.approx([4.0, 2.0], abs=1e-12)


def test_three_jobs_on_two_cores_by_hand() -> None:
    # A and B (4 each) at full speed for 1; then three on two cores, 2/3 each: C (1) ends
    # 1.5 later, at 2.5; A and B have 2 left, at full speed again: they end at 4.5.
    assert sojourns(lambda a: SharedCores(a, 2.0), [(0.0, 4.0), (0.0, 4.0), (1.0, 1.0)]) == \
        pytest.approx([4.5, 4.5, 1.5], abs=1e-12)


def test_half_a_core_and_a_wait_after_the_burst() -> None:
    # 0.5 cores: one job computes at half speed; the wait (no CPU) follows the burst.
    assert sojourns(lambda a: SharedCores(a, 0.5), [(0.0, 1.0)], wait=3.0) == \
        pytest.approx([5.0], abs=1e-12)


def test_an_event_loop_runs_bursts_in_turn() -> None:
    # One thread: A (3) runs to its end, B (1) waits for it: both take 3.
    assert sojourns(lambda a: EventLoop(a, 1.0), [(0.0, 3.0), (1.0, 1.0)]) == \
        pytest.approx([3.0, 3.0], abs=1e-12)


def test_equal_jobs_end_together() -> None:
    # Ten equal jobs at once on one core: all end at 10, none early, none twice.
    assert sojourns(lambda a: SharedCores(a, 1.0), [(0.0, 1.0)] * 10) == \
        pytest.approx([10.0] * 10, abs=1e-9)


def poisson_jobs(seed: int, lam: float, mean: float, n: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n))
    return list(zip(arrivals.tolist(), rng.exponential(mean, n).tolist(), strict=True))


RHO = 0.6
JOBS = 40_000
WARM = 2_000  # jobs left out at the start: the queue starts empty


def test_mm1_ps_conditional_mean_and_variance() -> None:
    """μ = 1, ρ = 0.6, 20 replications of 40,000 jobs. Known answers: E[T | x] = x/(1 − ρ)
    (checked on jobs of size in [0.5, 1) and [2, 3), as E[T]/E[x] in the bin), E[T] = 2.5,
    Var[T] = 2.6 / (1.4 · 0.16) = 11.61 — against 6.25 for FCFS on the same jobs."""
    small: list[float] = []
    large: list[float] = []
    means: list[float] = []
    variances: list[float] = []
    fcfs: list[float] = []
    for seed in range(20):
        jobs = poisson_jobs(seed, RHO, 1.0, JOBS)
        times = np.array(sojourns(lambda a: SharedCores(a, 1.0), jobs)[WARM:])
        sizes = np.array([d for _, d in jobs][WARM:])
        for low, high, out in ((0.5, 1.0, small), (2.0, 3.0, large)):
            chosen = (sizes >= low) & (sizes < high)
            out.append(times[chosen].mean() / sizes[chosen].mean())
        means.append(times.mean())
        variances.append(times.var())
        fcfs.append(np.array(sojourns(lambda a: EventLoop(a, 1.0), jobs)[WARM:]).var())
    slowdown = 1.0 / (1.0 - RHO)
    for values, what in ((small, "E[T|x]/x, x in [0.5, 1)"), (large, "E[T|x]/x, x in [2, 3)")):
        found = interval(values)
        print(f"{what}: analytic {slowdown:.5g}, simulated {found}")
        assert found.covers(slowdown), f"{what}: {slowdown} outside {found}"
    assert interval(means).covers(1.0 / (1.0 - RHO))
    ps_var = (2.0 + RHO) / ((2.0 - RHO) * (1.0 - RHO) ** 2)
    found = interval(variances)
    fcfs_found = interval(fcfs)
    print(f"Var[T]: PS analytic {ps_var:.5g}, simulated {found}; FCFS analytic "
          f"{1.0 / (1.0 - RHO) ** 2:.5g}, simulated {fcfs_found}")
    assert found.covers(ps_var), f"PS variance {ps_var:.4g} outside {found}"
    assert fcfs_found.covers(1.0 / (1.0 - RHO) ** 2), f"FCFS variance outside {fcfs_found}"
    assert found.low > fcfs_found.high  # same mean, wider spread


def station(cpu: str, rate: str, cores: str = "1", extra: str = "", workers: str = "unlimited",
            duration: str = "40s") -> str:
    return f"""
scalesim: 1
name: ps
components:
  s:
    workers: {workers}
    cores: {cores}
    {extra}
    operations: {{op: {{cpu: {cpu}}}}}
workloads: [{{name: w, to: s, rate: {rate}}}]
simulation: {{duration: {duration}, warmup: 2s}}
"""


def test_mm1_ps_mean_equals_fcfs() -> None:
    """λ = 700/s, mean demand 1 ms on one core shared by every request: W = 1/(μ − λ) =
    3.333 ms, the M/M/1 FCFS mean; cores_used and cpu = ρ = 0.7."""
    _, runs = replicate(station("{dist: exponential, mean: 1ms}", "700/s"), runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"], mm1(700.0, 1000.0).mean_sojourn_s * 1e3,
          "M/M/1-PS W ms")
    check(runs, lambda r: r["components"]["s"]["cores_used"], 0.7, "M/M/1-PS cores used")
    check(runs, lambda r: r["components"]["s"]["cpu"], 0.7, "M/M/1-PS cpu")


def test_two_cores_shared_by_constant_demands_give_the_mm2_mean() -> None:
    """Insensitivity: 2 cores by PS with constant 2 ms demands at 800/s (ρ = 0.8) has the
    M/M/2 mean sojourn, 5.556 ms — an M/D/2 queue (FCFS) would wait about half as long."""
    _, runs = replicate(station("2ms", "800/s", cores="2"), runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"], mmc(800.0, 500.0, 2).mean_sojourn_s * 1e3,
          "M/D/2-PS W ms (= M/M/2)")
    check(runs, lambda r: r["components"]["s"]["cpu"], 0.8, "2-core PS cpu")


def test_an_event_loop_is_fcfs_on_one_core() -> None:
    """event_loop: true serves the bursts one at a time: M/M/1 FCFS, W = 3.333 ms at ρ = 0.7
    and its exponential sojourn p99 = ln(100) · 3.333 ms."""
    _, runs = replicate(station("{dist: exponential, mean: 1ms}", "700/s",
                                extra="event_loop: true"), runs=20)
    w = mm1(700.0, 1000.0).mean_sojourn_s * 1e3
    check(runs, lambda r: r["latency_ms"]["mean"], w, "event loop W ms")
    check(runs, lambda r: r["latency_ms"]["p99"], w * math.log(100.0), "event loop p99 ms",
          slack=0.005 * w * math.log(100.0))


def test_wait_and_overhead() -> None:
    """Overhead 0.4 ms + an exponential 0.6 ms demand: 1 ms of CPU per request at 500/s, PS
    mean E[S]/(1 − ρ) = 2 ms (insensitive to the mixed shape); a constant 10 ms wait after
    the burst uses no core: W = 12 ms, cores used 0.5."""
    spec = station("{dist: exponential, mean: 0.6ms}", "500/s",
                   extra="overhead: {request: 0.4ms}").replace(
        "cpu: {dist: exponential, mean: 0.6ms}",
        "cpu: {dist: exponential, mean: 0.6ms}, wait: 10ms")
    _, runs = replicate(spec, runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"], 12.0, "W ms with wait and overhead")
    check(runs, lambda r: r["components"]["s"]["cores_used"], 0.5, "cores used")


MIXED = """
scalesim: 1
name: loop
components:
  s:
    workers: unlimited
    cores: 1
    event_loop: {loop}
    operations:
      light: {{cpu: 0.5ms}}
      heavy: {{cpu: 20ms}}
workloads:
  - {{name: light, to: s.light, rate: 400/s}}
  - {{name: heavy, to: s.heavy, rate: 10/s}}
simulation: {{duration: 60s, warmup: 2s}}
"""


@pytest.mark.parametrize("loop", [True, False])
def test_a_cpu_heavy_request_blocks_the_event_loop_but_not_shared_cores(loop: bool) -> None:
    """0.5 ms requests at 400/s and 20 ms ones at 10/s on one core (ρ = 0.4). An event loop
    runs each burst to its end, so a light request waits behind the heavy one in progress:
    M/G/1 FCFS, the same P-K wait λE[S²]/(2(1 − ρ)) = 3.417 ms for both classes, light
    3.917 ms. Shared by PS, a light request is slowed by 1/(1 − ρ) only: 0.833 ms; the
    heavy one 33.33 ms."""
    _, runs = replicate(MIXED.format(loop=str(loop).lower()), runs=20)
    rho = 400 * 0.0005 + 10 * 0.02
    wait = (400 * 0.0005**2 + 10 * 0.02**2) / (2 * (1 - rho)) * 1e3
    light, heavy = (wait + 0.5, wait + 20.0) if loop else (0.5 / (1 - rho), 20.0 / (1 - rho))
    mode = "event loop" if loop else "PS"
    check(runs, lambda r: r["workloads"]["light"]["latency_ms"]["mean"], light,
          f"{mode} light W ms")
    check(runs, lambda r: r["workloads"]["heavy"]["latency_ms"]["mean"], heavy,
          f"{mode} heavy W ms")
