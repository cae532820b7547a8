"""Pattern -> system spec builders with typed parameters, shipped scenarios and expected
outcomes. See docs/templates.md."""

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
from scalesim.templates.run import ScenarioRun, load_built, run_scenario

__all__ = ["TEMPLATES", "Built", "Check", "Expect", "Origin", "Param", "ParamError",
           "Scenario", "ScenarioRun", "Template", "TemplateParams", "UnknownTemplateError",
           "check_against", "evaluate", "get_template", "load_built", "metric", "origin",
           "param", "run_scenario", "template_ids", "templates_for_pattern"]
