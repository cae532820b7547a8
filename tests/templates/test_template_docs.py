"""docs/templates.md states each template's scenario and expectations at the defaults as the
code builds them: its numbers had drifted (circuit-breaker's measured 25 s were 30 s,
strangler-fig's ± 10 % were ± 12.6491 % and ± 16.3299 %)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scalesim.templates import TEMPLATES, Template

DOC = (Path(__file__).parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
SECTIONS = {part.split("`", 1)[0]: part for part in re.split(r"^### `", DOC, flags=re.M)[1:]}


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.id for t in TEMPLATES])
def test_the_doc_states_the_scenario_and_expectations_the_code_builds(
        template: Template) -> None:
    section = SECTIONS[template.id]
    scenario = template.scenario(template.params())
    assert f"**Scenario.** {scenario.story}\n" in section
    assert [str(e) for e in scenario.expect if f"- `{e}` — " not in section] == []


@pytest.mark.parametrize("rps", [100, 2])
def test_circuit_breaker_says_how_long_it_measures(rps: float) -> None:
    """`simulation.duration` is measured after the warm-up (docs/spec.md); the story said
    25 s where the spec measures 30 s (and 105 s at 2 checkouts/s)."""
    built = next(t for t in TEMPLATES if t.id == "circuit-breaker").build({"rps": rps})
    duration = yaml.safe_load(built.text)["simulation"]["duration"]
    assert f"so the measured {duration.removesuffix('s')} s show" in built.scenario.story
