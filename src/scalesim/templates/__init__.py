"""Pattern -> system spec builders with typed parameters, shipped scenarios and expected
outcomes. See docs/templates.md."""

from typing import TYPE_CHECKING, Any

from scalesim.templates.base import Built, Scenario, Template
from scalesim.templates.check import Origin, check_against, origin
from scalesim.templates.expect import Check, Expect, evaluate, metric
from scalesim.templates.params import Param, ParamError, TemplateParams, param
from scalesim.templates.registry import (
    TEMPLATES,
    UnknownTemplateError,
    get_template,
    template_ids,
    templates_for_pattern,
)

if TYPE_CHECKING:
    from scalesim.templates.run import ScenarioRun, load_built, run_scenario


def __getattr__(name: str) -> Any:
    """Running a scenario needs the simulator (numpy): import it only when asked for, so
    listing and building templates stays quick."""
    if name in ("ScenarioRun", "load_built", "run_scenario"):
        from scalesim.templates import run

        return getattr(run, name)
    raise AttributeError(f"module 'scalesim.templates' has no attribute {name!r}")


__all__ = ["TEMPLATES", "Built", "Check", "Expect", "Origin", "Param", "ParamError",
           "Scenario", "ScenarioRun", "Template", "TemplateParams", "UnknownTemplateError",
           "check_against", "evaluate", "get_template", "load_built", "metric", "origin",
           "param", "run_scenario", "template_ids", "templates_for_pattern"]
