"""A template: a named, versioned builder of a commented system spec, with a scenario.

A template is data plus two small functions of its typed parameters: `derive` computes the
numbers the spec needs, `scenario` states what the shipped workload shows and how to check
it. Building renders `specs/<id>.yaml.j2`; the result always loads with `load_spec_text`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from scalesim.templates.expect import Expect
from scalesim.templates.params import (
    Param,
    TemplateParams,
    describe,
    number_text,
    validate_params,
)
from scalesim.templates.writer import render

P = TypeVar("P", bound=TemplateParams)


@dataclass(frozen=True)
class Scenario:
    """The workload (and faults) a template ships, what they show, and how to check it.

    `quick` are spec overrides (`PATH=VALUE`) that shorten the run for tests while keeping
    the story: fault windows move with the duration."""

    story: str
    expect: tuple[Expect, ...]
    quick: tuple[str, ...] = ()


def _nothing(_: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Template(Generic[P]):
    id: str
    version: int
    title: str
    summary: str
    patterns: tuple[str, ...]
    params: type[P]
    scenario: Callable[[P], Scenario]
    assumptions: tuple[str, ...]
    derive: Callable[[P], Mapping[str, Any]] = field(default=_nothing)

    @property
    def spec_file(self) -> str:
        return f"{self.id}.yaml.j2"

    def parameters(self) -> list[Param]:
        return describe(self.params)

    def validate(self, values: Mapping[str, Any]) -> P:
        """Typed parameters from values (typed or command-line strings); raises ParamError."""
        return validate_params(self.id, self.params, values)  # type: ignore[return-value]

    def build(self, values: Mapping[str, Any] | None = None) -> Built:
        params = self.validate(values or {})
        header = _header(self, params)
        body = render(self.spec_file, {"p": params, **self.derive(params)})
        return Built(self.id, params, header + body, self.scenario(params))


@dataclass(frozen=True)
class Built:
    """A built spec: its text (the user's to own and edit) and the scenario it carries."""

    template_id: str
    params: TemplateParams
    text: str
    scenario: Scenario


def _header(template: Template[Any], params: TemplateParams) -> str:
    values = ", ".join(f"{name}={_show(value)}" for name, value in params.model_dump().items())
    lines = [f"# Made by `scalesim new {template.id}` (template v{template.version}): "
             f"{template.title}.",
             f"# Parameters: {values}",
             "# Yours to edit: `scalesim simulate` this file, then change it to your design.",
             f"# Expected: {'; '.join(str(e) for e in template.scenario(params).expect)}"]
    return "\n".join(_wrap(line) for line in lines) + "\n"


def _show(value: Any) -> str:
    """A parameter's value in the header: as it was given (rps=200 whether it came as 200
    or 200.0), booleans in YAML's lower case."""
    if isinstance(value, bool):
        return str(value).lower()
    return number_text(value) if isinstance(value, int | float) else str(value)


def _wrap(line: str, width: int = 98) -> str:
    """Wrap one comment line at spaces, continuing with '#   '."""
    words, out, current = line.split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = "#  "
        current = f"{current} {word}" if current else word
    out.append(current)
    return "\n".join(out)
