"""Checks a template ships, for `scalesim templates check` and for specs built from one.

A spec written by `scalesim new` starts with a header naming its template, version and
parameters (see `base._header`). From that header the template's expectations for those
parameters are rebuilt and evaluated against a simulation result of the spec, so
`scalesim simulate` can say whether the design still shows what the template promised.
The spec is compared with the template's after `--set` overrides: they change it as much
as an edit of the file does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from scalesim.spec.overrides import OverrideError, apply_override, parse_override
from scalesim.templates.base import Template
from scalesim.templates.expect import Check, Expect, evaluate
from scalesim.templates.params import ParamError
from scalesim.templates.registry import UnknownTemplateError, get_template

_MADE_BY = re.compile(r"^# Made by `scalesim new ([a-z0-9-]+)` \(template v(\d+)\)")
_PARAMETERS = re.compile(r"^# Parameters: (.*)$")


@dataclass(frozen=True)
class Origin:
    """The template a spec was built from and what it expects of that spec."""

    template: Template[Any]
    version: int  # as written in the header; may be older than the template's
    expect: tuple[Expect, ...]
    # the spec is no longer what the template wrote for these parameters (comments aside):
    # the expectations describe the template's design, so a miss may be the edit at work
    edited: bool = False

    @property
    def current(self) -> bool:
        return self.version == self.template.version


def header_lines(text: str) -> list[str]:
    """The leading comment lines, wrapped lines ('#   ...') joined to the line they continue."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("#   ") and lines:
            lines[-1] += " " + line[4:].strip()
        else:
            lines.append(line.rstrip())
    return lines


def origin(text: str, overrides: Sequence[str] = ()) -> Origin | None:
    """The template behind a spec's text, or None when it has no (valid) `scalesim new`
    header: an unknown template, or parameters the template no longer accepts. `edited`
    compares the spec with `overrides` applied, as it was simulated."""
    lines = header_lines(text)
    made = next((m for m in map(_MADE_BY.match, lines) if m), None)
    given = next((m for m in map(_PARAMETERS.match, lines) if m), None)
    if made is None or given is None:
        return None
    values = dict(pair.split("=", 1) for pair in given.group(1).split(", ") if "=" in pair)
    try:
        template = get_template(made.group(1))
        params = template.validate(values)
        built = template.build(values)
    except (UnknownTemplateError, ParamError):
        return None
    return Origin(template, int(made.group(2)), template.scenario(params).expect,
                  _data(text, overrides) != _data(built.text))


def _data(text: str, overrides: Sequence[str] = ()) -> Any:
    """A spec's content without its comments and layout, `overrides` applied (None if it
    does not parse or an override does not apply)."""
    try:
        data = yaml.safe_load(text)
        for override in overrides:
            apply_override(data, *parse_override(override))
    except (yaml.YAMLError, OverrideError):
        return None
    return data


def check_against(text: str, result: dict[str, Any], overrides: Sequence[str] = ()
                  ) -> tuple[Origin, list[Check]] | None:
    """The template's expectations of this spec as simulated (`overrides` applied),
    evaluated on `result`; None if no template."""
    found = origin(text, overrides)
    return None if found is None else (found, evaluate(found.expect, result))
