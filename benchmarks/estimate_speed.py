"""How long `scalesim estimate` takes: every template (default parameters, its shipped
scenario) and every example, and the 200-service random topology with timeouts, retries and
breakers (tests/kernel/random_specs.py, seed 7), each the best of REPEATS runs of the whole
document (`estimate_document`: the estimate with its storm, every workload's saturation
search, the SLO's highest load). docs/capacity.md ("How fast") quotes it.

    python benchmarks/estimate_speed.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from tests.kernel.random_specs import random_spec  # noqa: E402

from estimate_vs_sim import specs  # noqa: E402
from scalesim.analytic.document import estimate_document  # noqa: E402
from scalesim.spec import System, load_spec_text  # noqa: E402

REPEATS = int(os.environ.get("SCALESIM_BENCH_REPEATS", "3"))


def large() -> System:
    spec = random_spec(seed=7, services=200, resilient=True)
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "random-200.yaml")


def fastest(system: System) -> float:
    """Seconds of the fastest of REPEATS estimates of `system`, CPU time (a shared
    machine's other jobs slow the wall clock, not this)."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        estimate_document(system)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    timed = [(name, fastest(system)) for name, system in specs()]
    slowest = max(timed, key=lambda item: item[1])
    print(f"{len(timed)} templates and examples: {sum(s for _, s in timed):.2f} s in all, "
          f"slowest {slowest[0]} {slowest[1]:.3f} s (CPU, best of {REPEATS})")
    print(f"200-service random topology (seed 7, resilient): {fastest(large()):.2f} s")


if __name__ == "__main__":
    main()
