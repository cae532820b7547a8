"""A retry's back-off cap defaults to 10 × its base, as Envoy's max_interval does, so a base
given alone keeps doubling (Envoy: 100 ms → 200, 400, 800, 1,000 ms) instead of stopping
at a fixed 250 ms, and a base above 250 ms needs no `max` of its own."""

from __future__ import annotations

import pytest
import yaml

from scalesim.sim.compile import compile_system
from scalesim.spec import load_spec_text
from scalesim.spec.resilience import Retry


def test_without_max_the_cap_is_ten_bases_as_envoys() -> None:
    retry = Retry.model_validate({"backoff": "envoy", "base": "100ms"})
    assert retry.max == pytest.approx(1.0)
    assert [retry.longest_wait(n) for n in range(1, 7)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_the_defaults_keep_envoys_25_and_250_ms() -> None:
    assert (Retry().base, Retry().max) == pytest.approx((0.025, 0.25))


@pytest.mark.parametrize("backoff", ["constant", "exponential", "envoy"])
def test_a_base_above_250ms_alone_is_valid(backoff: str) -> None:
    assert Retry.model_validate({"backoff": backoff, "base": "1s"}).max == pytest.approx(10.0)


def test_a_written_max_is_kept() -> None:
    retry = Retry.model_validate({"base": "100ms", "max": "300ms"})
    assert retry.max == pytest.approx(0.3)
    assert "max" in retry.model_fields_set


def test_the_kernel_draws_below_the_derived_cap() -> None:
    spec = {"scalesim": 1, "name": "t",
            "components": {"a": {"operations": {"op": {"calls": [
                {"to": "b", "retry": {"attempts": 6, "backoff": "envoy", "base": "100ms"}}]}}},
                "b": {"operations": {"op": {"work": "1ms"}}}},
            "workloads": [{"name": "w", "to": "a", "rate": "1/s"}]}
    plan = compile_system(load_spec_text(yaml.safe_dump(spec)), 1, 0)
    backoff = next(call.backoff for call in plan.calls if call.backoff is not None)
    assert backoff.cap == pytest.approx(1.0)
    # Retry 5 waits U(0, min(1 s, 100 ms·2⁴)): 1,000 draws all below 0.8 s has probability
    # 0.8^1000; under the old fixed 250 ms cap none could pass it.
    waits = [backoff.delay(5, 0.0) for _ in range(1000)]
    assert max(waits) > 0.8
    assert max(waits) <= 1.0
