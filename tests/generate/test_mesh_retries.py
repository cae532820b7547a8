"""What the Istio route makes of a call's retry beyond attempts, per-try timeout and causes:
the back-off, budget and `other_replica` the VirtualService cannot state (the schema in
shared/schemas/crds has no back-off field), each noted with the numbers."""

from __future__ import annotations

from typing import Any

import pytest

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


def test_other_replica_false_is_noted_and_states_nothing() -> None:
    service = _service(f"{RETRY}.other_replica=false")
    assert _retries(service) == _retries(_service())
    assert _notes(service) == [
        "front.a -> slow retry other_replica false: the sidecar still sends each retry to "
        "another replica when it can (Istio sets Envoy's previous-hosts predicate on every "
        "retrying route)"]


def test_a_backoff_envoy_does_not_run_is_noted_and_the_timeout_counts_envoys() -> None:
    """constant 1 s: the route keeps Envoy's default back-off, which waits below 25, 50,
    100 ms, where the spec waits 1 s each time; the route timeout covers Envoy's waits."""
    service = _service(f"{RETRY}.backoff=constant", f"{RETRY}.base=1s", f"{RETRY}.max=1s")
    assert "backoff" not in _retries(service)
    assert service["spec"]["http"][0]["timeout"] == "1375ms"  # 4 × 300 ms + 25 + 50 + 100 ms
    assert _notes(service) == [
        "front.a -> slow retry backoff constant (base 1s, max 1s, jitter full): the sidecar "
        "waits Envoy's, fully jittered below 25ms, 50ms, 100ms (base 25ms, max 250ms), where "
        "the spec waits up to 1s, 1s, 1s"]


@pytest.mark.parametrize("settings", ["backoff=none", "base=0s"])
def test_a_backoff_that_never_waits_is_noted(settings: str) -> None:
    service = _service(f"{RETRY}.backoff=exponential", f"{RETRY}.{settings}")
    assert "backoff" not in _retries(service)
    [note] = _notes(service)
    assert "fully jittered below 25ms, 50ms, 100ms (base 25ms, max 250ms)" in note
    assert note.endswith("where the spec waits up to 0s, 0s, 0s")
