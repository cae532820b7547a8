"""Templates described as plain data: what the CLI's --json and the studio's API show."""

from __future__ import annotations

from typing import Any

from scalesim.templates.base import Template


def brief(template: Template[Any]) -> dict[str, Any]:
    """Id, version, title, summary and the catalog patterns it demonstrates."""
    return {"id": template.id, "version": template.version, "title": template.title,
            "summary": template.summary, "patterns": list(template.patterns)}


def details(template: Template[Any]) -> dict[str, Any]:
    """The brief plus parameters, assumptions, the scenario and its expected outcome at the
    defaults."""
    scenario = template.scenario(template.validate({}))
    return {**brief(template),
            "parameters": [p.as_dict() for p in template.parameters()],
            "assumptions": list(template.assumptions),
            "scenario": scenario.story,
            "expected": [{"metric": e.metric, "minus": e.minus, "per": e.per, "op": e.op,
                          "value": e.value, "tolerance": e.tolerance, "why": e.why,
                          "text": str(e)}
                         for e in scenario.expect]}
