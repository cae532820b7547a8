"""A backlog behind a full queue: the publishes it refused are part of the load, so the
fix is sized for what was sent, and one application of it keeps up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec, load_spec_text

SECONDS = 30
SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop.yaml"
# 1,500 checkouts a second: gateway and orders saturate, so gateway publishes only 592/s
# to events of the 1,500/s it will once they are relieved.
SHOP_SATURATED = ("simulation.duration=20s", "faults=[]", "workloads.0.rate=1500/s",
                  "simulation.seed=1")


def _full_queue(overrides: tuple[str, ...] = ()) -> System:
    """100/s published to a queue of 1,000 messages a subscription drained by 2 deliveries
    of 100 ms at a time (20/s): it fills within seconds and refuses most publishes."""
    spec = {"scalesim": 1, "name": "full",
            "components": {
                "a": {"replicas": 2, "operations": {"x": {"calls": [
                    {"to": "q", "async": True}]}}},
                "q": {"kind": "queue", "replicas": 2, "capacity": 1000,
                      "consumers": [{"to": "d.y", "concurrency": 2}]},
                "d": {"replicas": 1, "workers": 4, "operations": {"y": {"work": "100ms"}}}},
            "workloads": [{"name": "w", "to": "a.x", "rate": "100/s"}],
            "simulation": {"duration": f"{SECONDS}s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "full.yaml", overrides)


def _backlog(system: System, result: dict[str, Any]) -> dict[str, Any] | None:
    return next((f for f in diagnose(system, result) if f["kind"] == "backlog"), None)


def test_a_full_queue_counts_its_refused_publishes_as_refusals() -> None:
    result = simulate(_full_queue())
    queue = result["components"]["q"]
    refused = queue["operations"]["publish"]["requests"]["failed_by_cause"]["rejected"]
    assert refused > 0
    assert queue["refused_by_cause"]["rejected"] == refused
    assert queue["rejected"] == refused


def test_the_fix_is_sized_for_the_publishes_sent_and_keeps_up_once_applied() -> None:
    system = _full_queue()
    result = simulate(system)
    finding = _backlog(system, result)
    assert finding is not None
    numbers = finding["numbers"]
    sent = result["components"]["q"]["operations"]["publish"]["requests"]["total"] / SECONDS
    assert numbers["published_rps"] + numbers["refused_rps"] == pytest.approx(sent)
    assert numbers["published_rps"] < 0.6 * sent  # most were refused
    assert any("refused" in e and "were sent" in e for e in finding["evidence"])
    assert "sent (accepted and refused)" in finding["fix"]["summary"]
    fixed = _full_queue(tuple(finding["fix"]["set"]))
    after = simulate(fixed)
    assert after["components"]["q"]["rejected"] == 0
    assert _backlog(fixed, after) is None


def test_a_backlog_behind_saturated_publishers_is_sized_for_what_they_will_publish() -> None:
    """examples/shop.yaml at 1,500/s: sized for the 592/s published (concurrency 15, 2
    email replicas), the backlog was still there once all the first round's fixes were
    applied (1,520/s sent, 10,282 of them refused); sized for the 1,500/s the workloads
    offer, as orders' saturated fix is, one round keeps up."""
    system = load_spec(SHOP, SHOP_SATURATED)
    found = diagnose(system, simulate(system))
    [backlog] = [f for f in found if f["kind"] == "backlog"]
    assert "the 1,500/s the workloads offer" in backlog["fix"]["summary"]
    assert any("(gateway) are at their limit" in e for e in backlog["evidence"])
    fixed = load_spec(SHOP, (*SHOP_SATURATED,
                             *(s for f in found if f["fix"] for s in f["fix"]["set"])))
    assert _backlog(fixed, simulate(fixed)) is None
