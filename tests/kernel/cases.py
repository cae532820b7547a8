"""The batch of specs that kernel-wide checks run: the feature specs (every kernel path),
every example, every template's default scenario and seeded random topologies, each shortened
to a budget of kernel events so that even the pure-Python reference runs it in about 0.5 s."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from tests.kernel.random_specs import random_spec

from scalesim.analytic.runtime import run_cost
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text
from scalesim.templates import get_template, template_ids

HERE = Path(__file__).parent
REPO = HERE.parents[1]
EVENTS_BUDGET = 100_000  # per spec, all replications: about 0.5 s in pure Python
RANDOM_SEEDS = range(24)


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    overrides: list[str]

    def system(self) -> System:
        return load_spec_text(self.text, self.name, self.overrides)

    def run(self) -> str:
        return json.dumps(simulate(self.system()), sort_keys=True)


def shortened(name: str, text: str, overrides: list[str]) -> Case:
    """The spec with its time line (duration, warm-up, fault windows, load profiles) scaled
    down so that its estimated events fit the budget; the story stays the same."""
    system = load_spec_text(text, name, overrides)
    events = run_cost(system).events
    if events <= EVENTS_BUDGET:
        return Case(name, text, overrides)
    share = EVENTS_BUDGET / events
    times = {"simulation.duration": system.simulation.duration,
             "simulation.warmup": system.simulation.warmup}
    for i, fault in enumerate(system.faults):
        times[f"faults.{i}.at"] = fault.at
        if fault.for_ is not None:
            times[f"faults.{i}.for"] = fault.for_
    for i, workload in enumerate(system.workloads):
        for j, point in enumerate(workload.profile or []):
            times[f"workloads.{i}.profile.{j}.at"] = point.at
    return Case(name, text, [*overrides, *(f"{path}={value * share:.6g}s"
                                           for path, value in times.items())])


def feature_cases() -> list[Case]:
    files = [HERE / "features.yaml", HERE / "data_features.yaml",
             HERE / "control_features.yaml", HERE / "cpu_features.yaml",
             REPO / "benchmarks" / "three_tier.yaml"]
    return [shortened(path.name, path.read_text(), []) for path in files]


def example_cases() -> list[Case]:
    return [shortened(path.name, path.read_text(), [])
            for path in sorted((REPO / "examples").glob("*.yaml"))]


def template_cases() -> list[Case]:
    cases = []
    for template_id in template_ids():
        built = get_template(template_id).build()
        cases.append(shortened(f"{template_id}.yaml", built.text, list(built.scenario.quick)))
    return cases


def random_cases() -> list[Case]:
    sizes = [3, 8, 20, 40]
    return [shortened(f"random-{seed}.yaml",
                      yaml.safe_dump(random_spec(seed, sizes[seed % len(sizes)], duration=20.0)),
                      [])
            for seed in RANDOM_SEEDS]
