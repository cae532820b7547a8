"""Typed template parameters: one pydantic model per template, described for people.

A parameter is a pydantic field made with `param(...)`, so the type, default, range and help
live in one place and the CLI, the docs and the error messages all read them from there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from scalesim.spec.errors import did_you_mean


class TemplateParams(BaseModel):
    """Base of every template's parameters: unknown names are errors, values are frozen, and
    nan and infinity are no numbers (else `rps=nan` was refused as above the maximum)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def param(default: Any, help: str, *, unit: str | None = None, ge: float | None = None,
          le: float | None = None) -> Any:
    """A documented parameter field (the unit goes into the JSON schema and the docs)."""
    extra: dict[str, JsonValue] | None = {"unit": unit} if unit else None
    return Field(default, description=help, ge=ge, le=le, json_schema_extra=extra)


@dataclass(frozen=True)
class Param:
    """What a person needs to set one parameter: its type, unit, default and allowed values."""

    name: str
    type: str  # int, float, bool or choice
    unit: str | None
    default: Any
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]
    help: str

    def allowed(self) -> str:
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        kind = "an integer" if self.type == "int" else "a number"
        unit = f" ({self.unit})" if self.unit else ""
        if self.minimum is not None and self.maximum is not None:
            return f"{kind} from {number_text(self.minimum)} to {number_text(self.maximum)}{unit}"
        if self.minimum is not None:
            return f"{kind} ≥ {number_text(self.minimum)}{unit}"
        return f"{kind}{unit}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "unit": self.unit, "default": self.default,
                "minimum": self.minimum, "maximum": self.maximum, "choices": list(self.choices),
                "allowed": self.allowed(), "help": self.help}


def number_text(value: float) -> str:
    """A number as a person writes it: 200, not 200.0."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if get_origin(annotation) is Literal:
        return "choice", tuple(str(choice) for choice in get_args(annotation))
    raise TypeError(f"unsupported template parameter type {annotation!r}")


def describe(model: type[TemplateParams]) -> list[Param]:
    """The parameters of a template, in declaration order."""
    described = []
    for name, field in model.model_fields.items():
        kind, choices = _kind(field.annotation)
        bounds = {type(m): m for m in field.metadata}
        ge = bounds.get(annotated_types.Ge)
        le = bounds.get(annotated_types.Le)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        unit = extra.get("unit")
        described.append(Param(
            name=name, type=kind, unit=unit if isinstance(unit, str) else None,
            default=field.default, choices=choices, help=field.description or "",
            minimum=float(ge.ge) if isinstance(ge, annotated_types.Ge) else None,  # type: ignore[arg-type]
            maximum=float(le.le) if isinstance(le, annotated_types.Le) else None))  # type: ignore[arg-type]
    return described


class ParamError(ValueError):
    """Bad template parameters; every problem says what is allowed instead."""

    def __init__(self, template_id: str, problems: list[str]) -> None:
        self.template_id = template_id
        self.problems = problems
        super().__init__(f"{template_id}: " + "; ".join(problems))


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """['replicas=4', 'tech=mysql'] -> {'replicas': '4', 'tech': 'mysql'} (pydantic converts)."""
    values: dict[str, str] = {}
    for text in assignments:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set needs NAME=VALUE, got {text!r}")
        values[name.strip()] = value.strip()
    return values


def validate_params(template_id: str, model: type[TemplateParams],
                    values: Mapping[str, Any]) -> TemplateParams:
    """Validate values (typed, or strings from the command line) into the template's model."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise ParamError(template_id, _problems(model, error)) from None


def _problems(model: type[TemplateParams], error: ValidationError) -> list[str]:
    described = {p.name: p for p in describe(model)}
    problems = []
    for issue in error.errors():
        name = str(issue["loc"][0]) if issue["loc"] else ""
        found = described.get(name)
        if issue["type"] == "extra_forbidden":
            problems.append(f"unknown parameter '{name}'{did_you_mean(name, described)}; "
                            f"parameters: {', '.join(described)}")
        elif found is not None:
            problems.append(f"{name}={issue['input']}: {issue['msg'].lower()}; "
                            f"allowed: {found.allowed()}")
        else:  # a check across parameters (model validator)
            problems.append(str(issue["msg"]).removeprefix("Value error, "))
    return problems


__all__ = ["Param", "ParamError", "TemplateParams", "describe", "param", "parse_assignments",
           "validate_params"]
