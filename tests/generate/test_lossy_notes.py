"""Mappings that round or reshape a spec number say so, with both numbers, in the
object's `scalesim.io/not-mapped` annotation."""

from __future__ import annotations

from typing import Any

from scalesim.generate.istio import destination_rule
from scalesim.generate.kong import plugin
from scalesim.spec import System, load_spec_text

NOT_MAPPED = "scalesim.io/not-mapped"
SPEC = """
scalesim: 1
name: lossy
components:
  gw:
    kind: gateway
    workers: 4
    rate_limit: {algorithm: sliding_window, rate: 10/s, window: 10s}
    operations:
      get: {work: 1ms, calls: [{to: back.x}]}
  back:
    replicas: 3
    workers: 8
    outlier_detection: {consecutive_5xx: 3, max_ejection_percent: 0.4%}
    operations:
      x: {work: 2ms}
workloads: [{name: u, to: gw.get, rate: 5/s}]
"""


def _notes(document: dict[str, Any]) -> list[str]:
    return str(document["metadata"].get("annotations", {}).get(NOT_MAPPED, "")).split("; ")


def _system(*overrides: str) -> System:
    return load_spec_text(SPEC, overrides=list(overrides))


def test_a_rounded_max_ejection_percent_is_noted() -> None:
    rule = destination_rule(_system(), "back", "demo")
    assert rule["spec"]["trafficPolicy"]["outlierDetection"]["maxEjectionPercent"] == 1
    assert "max_ejection_percent 0.4%: Istio takes a whole percent (at least 1), so 1%" in \
        _notes(rule)


def test_a_whole_max_ejection_percent_is_not_noted() -> None:
    rule = destination_rule(
        _system("components.back.outlier_detection.max_ejection_percent=30%"), "back", "demo")
    assert rule["spec"]["trafficPolicy"]["outlierDetection"]["maxEjectionPercent"] == 30
    assert not any("max_ejection_percent" in note for note in _notes(rule))


def test_a_sliding_window_kong_lacks_names_both_counts() -> None:
    """100 per sliding 10 s has Kong's 10 per second: the same rate, not the same bursts."""
    system = _system()
    limit = system.components["gw"].rate_limit
    assert limit is not None
    document = plugin(system, "gw", limit, "demo")
    assert document["config"]["second"] == 10
    [note] = _notes(document)
    assert "fixed windows (10 per second)" in note
    assert "the spec allows 100 per 10s window" in note


def test_a_sliding_window_kong_has_keeps_its_count() -> None:
    system = _system("components.gw.rate_limit.window=1m")
    limit = system.components["gw"].rate_limit
    assert limit is not None
    document = plugin(system, "gw", limit, "demo")
    assert document["config"]["minute"] == 600
    assert _notes(document) == ["sliding window: Kong OSS counts fixed windows (600 per minute)"]
