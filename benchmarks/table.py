"""The speed table of `make bench`, written to benchmarks/results.md (docs/engine.md, "Speed",
says what each row measures).

Each row runs in its own process, so its peak memory (ru_maxrss) is its own: the process
imports, records its resident memory, runs the model once to count the kernel's events and
take the peak, then times it (best of REPEATS, from the loaded spec to the finished result)
and, where the model exists in SimPy, times that too in the same process. Requests are those
the workloads sent in the measured window.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

from tests.kernel.random_specs import random_spec  # noqa: E402

from run import ACTIVE_HPA, IDLE_HPA  # noqa: E402
from scalesim.sim import run_kernels, simulate  # noqa: E402
from scalesim.spec import System, load_spec, load_spec_text  # noqa: E402
from scalesim.templates import get_template, load_built  # noqa: E402
from simpy_models import mmc, three_tier  # noqa: E402

REPEATS = int(os.environ.get("SCALESIM_BENCH_REPEATS", "3"))
RESULTS = HERE / "results.md"
CALL = "components.app.operations.handle.calls.0"
RESILIENCE = [f"{CALL}.timeout=1s", f"{CALL}.retry={{attempts: 3, jitter: full}}",
              f"{CALL}.circuit_breaker={{window: 100, min_calls: 20}}"]
# Model (c) at a tenth of the rate with ten times the work: the same utilization, so the same
# requests in flight, over 2 minutes and over 2 hours of simulated time.
SLOW_C = ["workloads.0.rate=90/s",
          "components.app.operations.handle.work={dist: exponential, mean: 35ms}",
          "components.db.operations.query.work={dist: exponential, mean: 70ms}"]


@dataclass(frozen=True)
class Row:
    name: str
    system: Callable[[], System]
    simpy: Callable[[], float] | None = None  # the same model in SimPy; returns its mean W
    analytic_ms: float | None = None  # the model's exact mean response time


def model_c(extra: list[str]) -> Callable[[], System]:
    return lambda: load_spec(HERE / "three_tier.yaml", extra)


def topology() -> System:
    spec = random_spec(seed=7, services=200, rate=100.0, duration=100.0, resilient=False)
    return load_spec_text(yaml.safe_dump(spec), "random-200.yaml")


def load_balanced() -> System:
    return load_built(get_template("load-balanced-service").build())


ROWS = [
    Row("(a) M/M/1, 1M customers", lambda: load_spec(HERE / "mm1.yaml"),
        lambda: mmc(1_000_000, 0.9, 1) * 1e3, 10_000.0),
    Row("(b) M/M/8, 1M customers", lambda: load_spec(HERE / "mm8.yaml"),
        lambda: mmc(1_000_000, 7.2, 8) * 1e3, 1876.916),
    Row("(c) 3-tier, 200K requests", model_c([]), lambda: three_tier(200_000) * 1e3, 25.2459),
    Row("(c) resilience-heavy", model_c(RESILIENCE)),
    Row("(c) with an idle HPA (4 replicas, 90 % CPU target)", model_c(IDLE_HPA)),
    Row("(c) with an active HPA (2 → ~8 replicas, 40 % target)", model_c(ACTIVE_HPA)),
    Row("200-service random topology", topology),
    Row("load-balanced-service, 51.2K req/s", load_balanced),
    Row("(c) at 90 req/s, 2 min", model_c([*SLOW_C, "simulation.duration=120s"])),
    Row("(c) at 90 req/s, 2 h", model_c([*SLOW_C, "simulation.duration=7200s"])),
    Row("(c) at 90 req/s, 2 h, 60 s intervals",
        model_c([*SLOW_C, "simulation.duration=7200s", "simulation.interval=60s"])),
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def best(runs: list[Callable[[], float]]) -> list[tuple[float, float]]:
    """For each run, (seconds of its fastest of REPEATS, the value it returned). The runs
    take turns, so a slow spell of a shared machine slows both engines, not one, and their
    ratio holds."""
    fastest = [float("inf")] * len(runs)
    values = [float("nan")] * len(runs)
    for _ in range(REPEATS):
        for index, run in enumerate(runs):
            start = time.perf_counter()
            values[index] = run()
            fastest[index] = min(fastest[index], time.perf_counter() - start)
    return list(zip(fastest, values, strict=True))


def measure(row: Row) -> dict[str, Any]:
    """One row, in this process: events, peak memory, then the timed runs."""
    system = row.system()
    base_mb = rss_mb()
    events = sum(kernel.events for kernel in run_kernels(system))
    peak_mb = rss_mb()
    result: dict[str, Any] = {}

    def ours() -> float:
        result.update(simulate(system))
        return float(result["latency_ms"]["mean"])

    runs = [ours] if row.simpy is None else [ours, row.simpy]
    (seconds, mean_ms), *simpy = best(runs)
    out = {"seconds": seconds, "events": events, "requests": result["requests"]["total"],
           "mean_ms": mean_ms, "peak_mb": peak_mb, "base_mb": base_mb}
    if simpy:
        out["simpy_seconds"], out["simpy_mean_ms"] = simpy[0]
    return out


def machine() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
              if line.startswith("model name")]
    compiled = not __import__("scalesim.sim.kernel").sim.kernel.__file__.endswith(".py")
    return [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {models[0] if models else platform.processor()}, "
        f"{os.cpu_count()} logical cores",
        "- load average at start (1, 5, 15 min): "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"- Python {platform.python_version()}, scalesim {version('scalesim')} (kernel "
        f"{'compiled with mypyc' if compiled else 'pure Python'}), SimPy {version('simpy')}, "
        f"numpy {version('numpy')}",
        f"- best of {REPEATS} runs per row, each row in its own process",
    ]


def table(rows: list[tuple[Row, dict[str, Any]]]) -> list[str]:
    lines = ["| model | requests/s | events/s | events/request | × SimPy | mean W (ms) "
             "| analytic W | peak RSS (MB) | growth (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row, m in rows:
        ratio = (f"{m['simpy_seconds'] / m['seconds']:.2f}" if "simpy_seconds" in m
                 else "")
        analytic = f"{row.analytic_ms:g}" if row.analytic_ms else ""
        lines.append(
            f"| {row.name} | {m['requests'] / m['seconds']:,.0f} "
            f"| {m['events'] / m['seconds']:,.0f} | {m['events'] / m['requests']:.1f} "
            f"| {ratio} | {m['mean_ms']:.3f} | {analytic} | {m['peak_mb']:.0f} "
            f"| {m['peak_mb'] - m['base_mb']:.0f} |")
    simpy = [(row, m) for row, m in rows if "simpy_seconds" in m]
    if simpy:
        lines += ["", "SimPy on the same models, same processes: " + "; ".join(
            f"{row.name.split(',')[0]} {m['requests'] / m['simpy_seconds']:,.0f} requests/s, "
            f"W = {m['simpy_mean_ms']:.3f} ms" for row, m in simpy)]
    return lines


def main() -> None:
    if len(sys.argv) == 2:  # a row, in its own process
        print(json.dumps(measure(ROWS[int(sys.argv[1])])))
        return
    header = machine()
    rows = []
    for index, row in enumerate(ROWS):
        done = subprocess.run([sys.executable, __file__, str(index)], capture_output=True,
                              text=True, check=True)
        rows.append((row, json.loads(done.stdout)))
        print(f"  {row.name}: done", flush=True)
    text = "\n".join(["# Benchmarks (`make bench`)", "",
                      "Written by benchmarks/table.py; docs/engine.md (\"Speed\") says what each "
                      "row measures.", "", *header, "", *table(rows), ""])
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
