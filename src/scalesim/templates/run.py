"""Build a template's spec, load it and simulate its scenario, checking the expectations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text
from scalesim.templates.base import Built, Template
from scalesim.templates.expect import Check, evaluate


def load_built(built: Built, quick: bool = False) -> System:
    """The built spec as a System; `quick` applies the scenario's shortening overrides."""
    overrides = built.scenario.quick if quick else ()
    return load_spec_text(built.text, f"{built.template_id}.yaml", overrides)


@dataclass(frozen=True)
class ScenarioRun:
    built: Built
    result: dict[str, Any]
    checks: list[Check]

    @property
    def met(self) -> bool:
        return all(check.met for check in self.checks)


def run_scenario(template: Template[Any], values: Mapping[str, Any] | None = None,
                 quick: bool = False, seed: int | None = None) -> ScenarioRun:
    built = template.build(values)
    result = simulate(load_built(built, quick), seed)
    return ScenarioRun(built, result, evaluate(built.scenario.expect, result))
