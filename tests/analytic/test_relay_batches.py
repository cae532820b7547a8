"""A queue fed by an outbox relay receives a batch a poll, not a Poisson stream
(analytic/relay.py): the consumers' buffer wait is the batch's, which the estimate took as
Poisson's (outbox template: 2.5 ms lag against 30.9 ms simulated)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from scipy import stats

from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

RATE, SLOTS, WORK_S = 300.0, 4, 0.002


def relayed(outbox: dict[str, object] | None, direct: float = 0.0) -> dict[str, Any]:
    """Orders publish through `outbox` (None: straight to the broker); with `direct` a
    second operation publishes that share of the messages straight to the broker."""
    publish: dict[str, object] = {"to": "events.publish"}
    if outbox is not None:
        publish["outbox"] = outbox
    return {
        "orders": {"workers": "unlimited", "operations": {
            "place": {"work": "1ms", "calls": [publish]},
            "direct": {"work": "1ms", "calls": [{"to": "events.publish"}]}}},
        "events": {"kind": "queue", "operations": {"publish": {"work": "1ms"}},
                   "consumers": [{"to": "mailer.send", "concurrency": SLOTS}]},
        "mailer": {"workers": "unlimited", "operations": {
            "send": {"work": {"dist": "exponential", "mean": f"{WORK_S * 1000:g}ms"}}}},
    }


def workloads(direct: float) -> list[dict[str, object]]:
    out = [{"name": "w", "to": "orders.place", "rate": f"{RATE * (1.0 - direct):g}/s"}]
    if direct:
        out.append({"name": "d", "to": "orders.direct", "rate": f"{RATE * direct:g}/s"})
    return out


def system(outbox: dict[str, object] | None, direct: float = 0.0) -> System:
    spec = {"scalesim": 1, "name": "t", "defaults": {"network": "0ms"},
            "components": relayed(outbox), "workloads": workloads(direct),
            "simulation": {"duration": "40s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec))


def lag_s(outbox: dict[str, object] | None, direct: float = 0.0) -> tuple[float, float]:
    sub = estimate(system(outbox, direct)).subscriptions["events->mailer.send"]
    lag = sub.lag
    assert lag is not None
    return sub.lag_mean_s, lag.quantile(0.99)


def batch_wait_s(mean_batch: float) -> float:
    """A random message of a Poisson(m) batch on c free slots of Exp(μ) work: the one at
    place j waits (j − c + 1)⁺ completions at rate cμ, so
    E[wait] = E[(N − c)⁺ (N − c + 1)⁺] / (2 cμ E[N])."""
    n = stats.poisson(mean_batch)
    top = int(mean_batch * 3 + 50)
    total = sum(n.pmf(k) * max(0, k - SLOTS) * max(0, k - SLOTS + 1) for k in range(top))
    return total / (2.0 * SLOTS / WORK_S * mean_batch)


@pytest.mark.parametrize("interval", [0.005, 0.1, 0.5])
def test_a_polling_relays_batch_waits_for_the_slots(interval: float) -> None:
    mean, _ = lag_s({"relay": "polling", "interval": f"{interval * 1000:g}ms",
                     "batch": 1000})
    assert mean == pytest.approx(WORK_S + batch_wait_s(RATE * interval), rel=1e-3)


def test_a_full_batch_polls_again_so_the_intervals_rows_come_together() -> None:
    """300 rows a second, at most 30 a poll: the 300 rows of each second still go out within
    milliseconds, poll after poll (simulated 40 s: 70.1 ms against 75.0 ms)."""
    capped, _ = lag_s({"relay": "polling", "interval": "1s", "batch": 30})
    assert capped == pytest.approx(WORK_S + batch_wait_s(RATE), rel=1e-3)


def test_only_the_relays_share_of_the_messages_comes_in_batches() -> None:
    poisson, _ = lag_s(None)
    batched, _ = lag_s({"relay": "polling", "interval": "500ms", "batch": 1000})
    half, _ = lag_s({"relay": "polling", "interval": "500ms", "batch": 1000}, direct=0.5)
    relay_half = WORK_S + batch_wait_s(RATE * 0.5 * 0.5)
    assert half == pytest.approx(0.5 * poisson + 0.5 * relay_half, rel=1e-3)
    assert poisson < half < batched


def test_the_lag_matches_the_simulation() -> None:
    """Polling every 500 ms at 300/s: 150 rows a batch on 4 slots of Exp(2 ms); the lag
    counts from publication (the relay's own delay is the outbox's `delay_ms`)."""
    outbox = {"relay": "polling", "interval": "500ms", "batch": 1000}
    mean, p99 = lag_s(outbox)
    r = simulate(system(outbox))
    lag = r["queues"]["events->mailer.send"]["lag_ms"]
    assert lag["mean"] / 1000 == pytest.approx(mean, rel=0.05)
    assert lag["p99"] / 1000 == pytest.approx(p99, rel=0.1)
