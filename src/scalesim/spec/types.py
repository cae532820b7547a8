"""Annotated field types shared by the spec model: unit strings in, floats out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic import Strict as NoCoercion

from scalesim.spec.errors import FieldProblems, Path
from scalesim.spec.units import (
    DURATION_PATTERN,
    RATE_PATTERN,
    parse_duration,
    parse_fraction,
    parse_rate,
)

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(ge=0.0),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN,
                    "description": "a duration: 250us, 5ms, 1.5s, 2m, 1h"}),
]
PositiveDuration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(gt=0.0),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN,
                    "description": "a positive duration: 250us, 5ms, 1.5s, 2m, 1h"}),
]
Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    Field(gt=0.0),
    WithJsonSchema({"type": "string", "pattern": RATE_PATTERN,
                    "description": "a positive rate: 500/s, 30/min, 2k/s, 1.5M/h"}),
]
NonNegativeRate = Annotated[
    float,
    BeforeValidator(parse_rate),
    Field(ge=0.0),
    WithJsonSchema({"type": "string", "pattern": RATE_PATTERN,
                    "description": "a rate, zero allowed: 0/s, 500/s, 2k/s"}),
]
Fraction = Annotated[
    float,
    BeforeValidator(parse_fraction),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                              {"type": "string", "pattern": r"^\s*\d+(\.\d*)?\s*%\s*$"}],
                    "description": "a fraction: 0.05 or 5%"}),
]
MAX_NAME = 63  # a DNS label's length: names become Kubernetes object names
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$", max_length=MAX_NAME)]
# Numbers are taken as written: `true` is not the count 1, and `2.0` is not a count at all.
Count = Annotated[int, NoCoercion()]
Number = Annotated[float, NoCoercion()]
Flag = Annotated[bool, NoCoercion()]


def _integer_as_written(value: object) -> object:
    """`value`, unless it is a bool or a float: a Literal[1] takes `true` and `1.0`, which
    equal 1 in Python, and `Strict` cannot be applied to a literal."""
    if isinstance(value, bool | float):
        raise ValueError("Input should be 1")
    return value


FormatVersion = Annotated[Literal[1], BeforeValidator(_integer_as_written)]


class Strict(BaseModel):
    """Base of every spec object: unknown fields are errors, objects are immutable, and
    numbers are finite (`.inf` and `.nan` are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


def refuse_unused(model: BaseModel, fields: Iterable[str], why: str, applies: str = "",
                  at: Path = ()) -> None:
    """Refuse each of `fields` that the user wrote (`model_fields_set`: never a default)
    though the model, as set, never reads it: a model validator's FieldProblems, one at each
    field, saying `why` ("to a semaphore bulkhead") and what makes it apply (`applies`).
    `at` is where `model` sits below the validating model, when the reason is outside it
    (a component refusing a field of its `delivery`)."""
    problems: list[tuple[Path, str]] = []
    for name in sorted(set(fields) & model.model_fields_set):
        written = type(model).model_fields[name].alias or name
        hint = f"; it applies {applies}" if applies else ""
        problems.append(((*at, written), f"'{written}' does not apply {why}{hint}"))
    if problems:
        raise FieldProblems(problems)
