"""A queue's consumer gets what its subscription drains, not what is published: 100/s into a
queue whose subscription has 2 deliveries in flight of 100 ms feed `d` at 20/s. The estimate
fed it the full 100/s (250 % busy, overloaded, the queue losing every message) where the
simulation has it 50 % busy and the full queue refusing 1 − 20/100 of the messages."""

from __future__ import annotations

import pytest
import yaml

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

WORK_S, IN_FLIGHT, PUBLISHED = 0.1, 2, 100.0
DRAIN = IN_FLIGHT / WORK_S  # no network time: a delivery is held for the work alone


def slow_consumer(replicas: int = 1, capacity: int | None = 1000,
                  rate: float = PUBLISHED) -> System:
    """`a` publishes every request (`rate` a second) to `q`; its one subscription (2 in
    flight) feeds `d` (`replicas` × 4 workers, 100 ms), which calls `e` on every visit."""
    queue: dict[str, object] = {"kind": "queue", "consumers": [
        {"to": "d.y", "concurrency": IN_FLIGHT}]}
    if capacity is not None:
        queue["capacity"] = capacity
    spec = {"scalesim": 1, "name": "drained", "defaults": {"network": "0ms"},
            "components": {
                "a": {"operations": {"x": {"calls": [{"to": "q", "async": True}]}}},
                "q": queue,
                "d": {"replicas": replicas, "workers": 4, "operations": {"y": {
                    "work": f"{WORK_S * 1000:g}ms", "calls": [{"to": "e.z"}]}}},
                "e": {"workers": "unlimited", "operations": {"z": {"work": "0ms"}}}},
            "workloads": [{"name": "w", "to": "a.x", "rate": f"{rate:g}/s"}],
            "simulation": {"duration": "30s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False))


@pytest.mark.parametrize("replicas", [1, 3])
def test_the_consumer_and_what_it_calls_get_the_drain_rate(replicas: int) -> None:
    found = estimate(slow_consumer(replicas))
    d = found.components["d"]
    assert d.arrival_rate_rps == pytest.approx(DRAIN)
    assert d.state.utilization == pytest.approx(DRAIN * WORK_S / (4 * replicas))
    assert found.components["e"].arrival_rate_rps == pytest.approx(DRAIN)


def test_the_full_queue_refuses_what_the_subscription_cannot_take() -> None:
    """M/D/2/1002 offered ρ 5: nearly always full, so it carries c/S = 20/s and refuses
    1 − 20/100 of the messages; the overload is the queue's, not d's."""
    system = slow_consumer()
    found = estimate(system)
    sub = found.subscriptions["q->d.y"]
    assert sub.state.offered == pytest.approx(PUBLISHED / DRAIN)
    assert sub.state.loss == pytest.approx(1 - DRAIN / PUBLISHED, abs=1e-6)
    overloaded = {c.where: c.message for c in caveats(system, found) if c.code == "overloaded"}
    assert set(overloaded) == {"q->d.y"}
    assert "refuses 80.0% of the messages" in overloaded["q->d.y"]


def test_an_unbounded_queue_falls_behind_at_the_drain_rate() -> None:
    system = slow_consumer(capacity=None)
    found = estimate(system)
    assert found.components["d"].arrival_rate_rps == pytest.approx(DRAIN)
    overloaded = {c.where: c.message for c in caveats(system, found) if c.code == "overloaded"}
    assert "backlog grows without bound" in overloaded["q->d.y"]


def test_a_subscription_that_keeps_up_passes_everything_on() -> None:
    found = estimate(slow_consumer(rate=10.0))
    assert found.components["d"].arrival_rate_rps == pytest.approx(10.0)


def test_the_simulation_agrees() -> None:
    """Its 2 deliveries always busy once the backlog builds (it does at once): d 50 % busy."""
    result = simulate(slow_consumer())
    assert result["components"]["d"]["utilization"] == pytest.approx(
        DRAIN * WORK_S / 4, abs=0.01)
