"""A leader behind least_requests or p2c: the leader alone serves the writes (placed, not
balanced), and the balancer, which compares the requests at every replica, sends the reads
away from a leader busier than the rest (sim/mechanisms/balancer.py). The estimate gives the
leader what evens out the replicas' busy workers, never less than its own operations."""

from __future__ import annotations

import pytest

from scalesim.analytic import mmc
from scalesim.analytic.capacity import PRECISION, saturation
from scalesim.analytic.estimate import Model
from scalesim.analytic.quorum import steered_share
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

SPEC = """scalesim: 1
name: t
defaults: {network: 0ms}
components:
  kv:
    replicas: 3
    workers: 4
    balancer: BALANCER
    replication: {mode: async, writes: [put], reads: any}
    operations:
      put: {work: {dist: exponential, mean: MEAN}}
      get: {work: {dist: exponential, mean: MEAN}}
workloads:
  - {name: w, to: kv.put, rate: PUTS/s}
  - {name: r, to: kv.get, rate: GETS/s}
simulation: {duration: 20s, warmup: 2s, seed: 3}
"""


def _spec(balancer: str, puts: int, gets: int, mean: str = "1ms") -> str:
    return SPEC.replace("BALANCER", balancer).replace("PUTS", str(puts)) \
        .replace("GETS", str(gets)).replace("MEAN", mean)


def test_the_steered_share_evens_the_replicas_out() -> None:
    """Each replica ends with (own + others) / replicas busy workers when the leader's own
    operations leave room for that; none of the others when they do not."""
    own, others, replicas = 0.5, 2.5, 3
    share = steered_share(own, others, replicas)
    assert own + share * others == pytest.approx((own + others) / replicas)
    assert (1 - share) * others / (replicas - 1) == pytest.approx((own + others) / replicas)
    assert steered_share(1.5, 1.5, 3) == 0.0
    assert steered_share(1.5, 0.0, 3) == 0.0


@pytest.mark.parametrize("balancer", ["least_requests", "p2c"])
@pytest.mark.parametrize(("puts", "gets", "share"), [
    (1500, 1500, 0.0),  # the puts alone keep the leader busier than an even split
    (500, 2500, 0.2),  # (0.5 + 0.2 · 2.5) = 1 busy worker on each replica
])
def test_a_steered_leader_takes_what_evens_the_replicas(balancer: str, puts: int, gets: int,
                                                        share: float) -> None:
    """The leader is an M/M/4 fed every put and its steered share of the gets, the followers
    one pooled M/M/8 (as least_requests over replicas is taken) fed the rest; the puts
    saturate when they alone fill the leader's workers (4000/s: the balancer then sends it
    no get), not when they and a third of the gets do."""
    model = Model(load_spec_text(_spec(balancer, puts, gets)))
    found = model.evaluate().components["kv"]
    at_leader = puts + share * gets
    followers = mmc(gets * (1 - share), 1000.0, 8)
    assert found.state.offered == pytest.approx(max(at_leader / 4000, gets * (1 - share) / 8000))
    put, get = found.responses["kv.put"], found.responses["kv.get"]
    assert put is not None and get is not None
    assert put.mean == pytest.approx(mmc(at_leader, 1000.0, 4).mean_wait_s + 1e-3, rel=1e-6)
    assert get.mean == pytest.approx(share * mmc(at_leader, 1000.0, 4).mean_wait_s
                                     + (1 - share) * followers.mean_wait_s + 1e-3, rel=1e-6)
    assert saturation(model, "w").rate_rps == pytest.approx(4000, rel=PRECISION)


def test_the_simulated_leader_is_no_less_busy_than_the_estimate() -> None:
    """500 puts and 1000 gets a second of 5 ms on 3 × 4 workers: a third of the gets would
    put the leader at ρ 1.04 (overloaded); the simulator's least_requests keeps it at about
    0.8 (measured 0.78), and the estimate's even split, 0.625, is its low side (it still
    sends the leader some reads)."""
    spec = _spec("least_requests", 500, 1000, "5ms")
    found = Model(load_spec_text(spec)).evaluate().components["kv"]
    assert found.state.offered == pytest.approx(0.625)
    simulated = simulate(load_spec_text(spec))["components"]["kv"]["busiest_replica"]
    assert simulated["replica"] == 0
    assert found.state.offered <= simulated["utilization"] < (500 + 1000 / 3) * 0.005 / 4
