"""What the Istio route makes of a call's retry beyond attempts, per-try timeout and causes:
the back-off base and `other_replica` it states (Istio 1.26's `retries.backoff` and
`retryIgnorePreviousHosts`), and the back-off and budget it cannot state, noted with the
numbers."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim.generate.envoy import route_timeout_s
from scalesim.generate.istio import virtual_service
from scalesim.spec import load_spec_text

SPEC = """
scalesim: 1
name: meshretry
components:
  front:
    workers: 16
    operations:
      a:
        work: 1ms
        calls:
          - to: slow.s
            timeout: 300ms
            retry: {attempts: 4, backoff: envoy}
  slow:
    workers: 8
    operations:
      s: {work: 10ms}
workloads: [{name: u, to: front.a, rate: 10/s}]
"""
RETRY = "components.front.operations.a.calls.0.retry"


def _service(*overrides: str) -> dict[str, Any]:
    return virtual_service(load_spec_text(SPEC, overrides=list(overrides)), "slow", "demo")


def _notes(service: dict[str, Any]) -> list[str]:
    annotations = service["metadata"].get("annotations", {})
    return [n for n in annotations.get("scalesim.io/not-mapped", "").split("; ") if n]


def _retries(service: dict[str, Any]) -> dict[str, Any]:
    route = service["spec"]["http"][0]
    assert route["name"] == "from-front"
    return dict(route["retries"])


def test_envoys_own_backoff_is_stated_by_nothing_and_noted_by_nothing() -> None:
    service = _service()
    assert _retries(service) == {"attempts": 3, "perTryTimeout": "300ms", "retryOn": (
        "5xx,gateway-error,reset,connect-failure,refused-stream,unavailable,503")}
    assert _notes(service) == []


def test_a_budget_the_mesh_cannot_enforce_is_noted() -> None:
    notes = _notes(_service(f"{RETRY}.budget={{ratio: 10%, min_per_s: 0}}"))
    assert notes == ["front.a -> slow retry budget (ratio 10%, min_per_s 0, window 10s): not "
                     "enforced: Envoy's retry budget bounds the retries in flight, not the "
                     "retries per window, and the service leaves retries to the route"]


def test_other_replica_false_lets_a_retry_reach_the_same_replica() -> None:
    retries = _retries(_service(f"{RETRY}.other_replica=false"))
    assert retries["retryIgnorePreviousHosts"] is False
    assert "retryIgnorePreviousHosts" not in _retries(_service())


def test_the_spec_base_is_envoys_base_and_the_rest_is_noted() -> None:
    """constant 1 s: the route states a 1 s base, so Envoy waits below 1, 2, 4 s (max 10 s),
    where the spec waits 1 s each time; the route timeout covers Envoy's waits."""
    service = _service(f"{RETRY}.backoff=constant", f"{RETRY}.base=1s", f"{RETRY}.max=1s")
    assert _retries(service)["backoff"] == "1s"
    assert service["spec"]["http"][0]["timeout"] == "8200ms"     # 4 × 300 ms + 1 + 2 + 4 s
    assert _notes(service) == [
        "front.a -> slow retry backoff constant (base 1s, max 1s, jitter full): the sidecar "
        "waits Envoy's, fully jittered below 1s, 2s, 4s (base 1s, max 10s), where the spec "
        "waits up to 1s, 1s, 1s"]


@pytest.mark.parametrize("settings", ["backoff=none", "base=0s"])
def test_a_backoff_envoy_cannot_run_keeps_envoys_default(settings: str) -> None:
    service = _service(f"{RETRY}.backoff=exponential", f"{RETRY}.{settings}")
    assert "backoff" not in _retries(service)
    [note] = _notes(service)
    assert "fully jittered below 25ms, 50ms, 100ms (base 25ms, max 250ms)" in note
    assert note.endswith("where the spec waits up to 0s, 0s, 0s")


def test_a_stated_base_round_trips_through_the_route_timeout() -> None:
    """Envoy's strategy from the spec's base is the spec's own when it says `backoff: envoy`
    with a 10 × max: the route timeout is then the simulator's tries and longest waits."""
    system = load_spec_text(SPEC, overrides=[f"{RETRY}.base=100ms", f"{RETRY}.max=1s"])
    call = system.components["front"].effective_operations["a"].calls[0]
    assert route_timeout_s(call) == pytest.approx(4 * 0.3 + 0.1 + 0.2 + 0.4)
    assert _notes(virtual_service(system, "slow", "demo")) == []
