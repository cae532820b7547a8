"""`defaults.calls` counts: a timeout or breaker given there satisfies the per-call rules."""

from __future__ import annotations

import yaml

from scalesim.lint import lint_system
from scalesim.spec import load_spec_text


def _rules(defaults: dict | None) -> set[str]:
    spec = {"scalesim": 1, "name": "x",
            "defaults": {"calls": defaults} if defaults else {},
            "components": {"a": {"replicas": 2, "operations": {"op": {"calls": [{"to": "p"}]}}},
                           "p": {"kind": "external", "operations": {"pay": {"work": "5ms"}}}},
            "workloads": [{"name": "w", "to": "a", "rate": "1/s"}]}
    return {f.rule for f in lint_system(load_spec_text(yaml.safe_dump(spec)))}


def test_call_defaults_satisfy_timeout_and_breaker_rules() -> None:
    assert {"SS201", "SS205"} <= _rules(None)
    assert not {"SS201", "SS205"} & _rules({"timeout": "1s", "circuit_breaker": {}})
