"""Text UTF-8 cannot carry (a lone UTF-16 surrogate) is refused at every field, as written in
the file or set with --set: libyaml refused the escape "\\ud800", the Python parser read
again for its messages took it, and the text then crashed every command that writes a file
(docs/spec.md, Bounds)."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text
from scalesim.spec.yamlpos import YamlSyntaxError, load_with_positions

SPEC = """\
scalesim: 1
name: {name}
description: {description}
components:
  {component}:
    kind: {kind}
    tech: {tech}
    operations: {{get: {{work: 1ms}}}}
workloads: [{{name: {workload}, to: api.get, rate: 10/s}}]
"""
FIELDS = {"name": "demo", "description": "a demo", "component": "api", "kind": "service",
          "tech": "go", "workload": "w"}
SURROGATE = '"a\\ud800b"'  # as YAML writes it: an escape in double quotes


def issues(**changed: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.format(**{**FIELDS, **changed}), "s.yaml")
    return [str(issue) for issue in caught.value.issues]


WHY = r"not valid Unicode text: a lone UTF-16 surrogate (\ud800) at character 1"


@pytest.mark.parametrize(("field", "expected"), [
    ("description", f"s.yaml:3:1: description: {WHY}"),     # free text
    ("tech", f"s.yaml:7:5: components.api.tech: {WHY}"),     # free text
    ("name", f"s.yaml:2:1: name: {WHY}"),                    # a name with a pattern
    ("kind", f"s.yaml:6:5: components.api.kind: {WHY}"),     # a word of a list
    ("workload", f"s.yaml:9:14: workloads[0].name: {WHY}"),
])
def test_a_lone_surrogate_is_one_located_error_at_any_field(field: str, expected: str) -> None:
    assert issues(**{field: SURROGATE}) == [expected]


def test_a_key_with_a_lone_surrogate_is_named_at_its_line() -> None:
    found = issues(component=SURROGATE)
    assert rf"s.yaml:5:3: components.a\ud800b: this key is {WHY}" in found
    assert not any("unable to parse raw data" in issue for issue in found)


def test_other_problems_are_still_reported_with_it() -> None:
    found = issues(description=SURROGATE, kind="databse")
    assert len(found) == 2 and found[0].startswith("s.yaml:3:1: description: not valid")
    assert "components.api.kind: Input should be" in found[1]


@pytest.mark.parametrize("value", [
    'description="a\\ud800b"',  # the YAML escape, in an override's value
    "description=a\udcffb",     # an argument that is not UTF-8, as Python decodes it
])
def test_an_override_with_a_lone_surrogate_is_named_as_the_override(value: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.format(**FIELDS), "s.yaml", [value])
    [issue] = caught.value.issues
    assert (issue.file, issue.line, issue.path) == ("--set #1", 0, "description")
    assert issue.message.startswith("not valid Unicode text: a lone UTF-16 surrogate (\\ud")


def test_text_libyaml_cannot_be_handed_is_a_syntax_error_not_a_crash() -> None:
    """libyaml takes UTF-8: text holding a lone surrogate raised UnicodeEncodeError."""
    with pytest.raises(YamlSyntaxError, match="character #xdcff is not allowed"):
        load_with_positions("a: x\udcff")


def test_a_spec_without_surrogates_loads() -> None:
    system = load_spec_text(SPEC.format(**{**FIELDS, "description": '"caf\\u00e9 \\U0001F600"'}))
    assert system.description == "café \U0001f600"
