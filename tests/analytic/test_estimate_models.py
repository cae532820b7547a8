"""The estimate's models beyond the open M/M/c station, each against a closed form computed
here: balancer pools (a lower bound, never exact), closed loops (MVA's per-station waits and
the arrival theorem), the M/M/c/K sojourn distribution, served utilization, and the CPU as
processor sharing on `cores`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from scalesim.analytic import erlang_b, mg1_cv, mm1, mmc
from scalesim.analytic.capacity import PRECISION, saturation
from scalesim.analytic.caveats import caveats
from scalesim.analytic.chains import bounded, erlang_mixture, served
from scalesim.analytic.document import estimate_document
from scalesim.analytic.estimate import Model, backoff_mean, estimate
from scalesim.analytic.markovian import erlang_c
from scalesim.analytic.mva import MvaStation, mva
from scalesim.sim.mechanisms.backoff import Backoff
from scalesim.sim.random import uniforms
from scalesim.spec import load_spec_text
from scalesim.spec.resilience import Retry


def _spec(components: str, workloads: str) -> str:
    return f"scalesim: 1\nname: t\ncomponents:\n{components}workloads:\n{workloads}"


def _quantile(cdf, q: float, high: float = 5.0) -> float:  # type: ignore[no-untyped-def]
    return float(optimize.brentq(lambda t: cdf(t) - q, 0.0, high))


# -- balancers ------------------------------------------------------------------------------
LB = _spec("""  srv:
    replicas: 4
    workers: 1
    balancer: {balancer}
    operations: {{op: {{work: {{dist: exponential, mean: 1ms}}}}}}
""", "  - {{name: w, to: srv.op, rate: 3600/s}}\n")


@pytest.mark.parametrize("balancer", ["p2c", "least_requests"])
def test_a_pooled_balancer_is_a_lower_bound_not_exact(balancer: str) -> None:
    """4 replicas × 1 worker at ρ = 0.9: the shared M/M/4 queue is a lower bound of
    join-the-shortest-queue and p2c over four separate queues, so never `exact`."""
    system = load_spec_text(LB.format(balancer=balancer))
    found = estimate(system)
    assert found.workloads["w"].mean_s == pytest.approx(
        mmc(3600.0, 1000.0, 4).mean_sojourn_s, rel=1e-9)
    assert not found.workloads["w"].exact
    doc = estimate_document(system)
    assert not doc["workloads"]["w"]["exact"] and not doc["components"]["srv"]["exact"]
    assert "pooled-balancer" in {c.code for c in caveats(system, found)}


def test_random_balancing_stays_exact() -> None:
    system = load_spec_text(LB.format(balancer="random"))
    found = estimate(system)
    assert found.workloads["w"].exact and found.workloads["w"].percentiles_exact
    assert found.workloads["w"].mean_s == pytest.approx(mm1(900.0, 1000.0).mean_sojourn_s)
    assert "pooled-balancer" not in {c.code for c in caveats(system, found)}


REVISIT = _spec("""  front:
    workers: unlimited
    operations: {{go: {{calls: [{calls}]}}}}
  db:
    workers: 1
    operations: {{q: {{work: {{dist: exponential, mean: 2ms}}}}}}
  db2: {{workers: 1, operations: {{q: {{work: {{dist: exponential, mean: 2ms}}}}}}}}
  db3: {{workers: 1, operations: {{q: {{work: {{dist: exponential, mean: 2ms}}}}}}}}
""", "  - {{name: w, to: front.go, rate: 140/s}}\n")


def test_a_queue_met_three_times_keeps_its_mean_exact_not_its_percentiles() -> None:
    """Three calls in turn to one M/M/1 at ρ = 0.84: the mean is 3 × the M/M/1 sojourn
    (linearity), but the three sojourns are correlated, so their convolution was marked
    exact with a p99 of 105 ms where a simulation gives 173 ms (CI 162–188). Three
    different M/M/1 stations in tandem are independent (Burke), and stay exact."""
    system = load_spec_text(REVISIT.format(calls="{to: db.q}, {to: db.q}, {to: db.q}"))
    found = estimate(system)
    assert found.workloads["w"].mean_s == pytest.approx(
        3 * mm1(420.0, 500.0).mean_sojourn_s, rel=1e-9)
    assert found.workloads["w"].exact and not found.workloads["w"].percentiles_exact
    doc = estimate_document(system)["workloads"]["w"]
    assert doc["mean_exact"] and not doc["exact"]
    assert [c.where for c in caveats(system, found) if c.code == "repeat-visits"] == ["w->db"]
    tandem = load_spec_text(REVISIT.format(calls="{to: db.q}, {to: db2.q}, {to: db3.q}"))
    found = estimate(tandem)
    assert found.workloads["w"].percentiles_exact
    assert "repeat-visits" not in {c.code for c in caveats(tandem, found)}


# -- closed loops ---------------------------------------------------------------------------
CLOSED = _spec("""  srv:
    workers: 1
    operations: {op: {work: {dist: exponential, mean: 8ms}}}
""", "  - {name: w, to: srv.op, users: 10, think: {dist: exponential, mean: 50ms}}\n")


def test_closed_loop_waits_come_from_mva_and_the_arrival_theorem() -> None:
    """10 users, think 50 ms, one exponential 8 ms server: a product-form network of two
    stations. An arrival finds j at the server with the 9-user marginal, computed here from
    the normalising constants of the two-station network, and stays Erlang(j + 1, 1/8 ms)."""
    users, think, service = 10, 0.050, 0.008
    # P(j at the server | n users) ∝ D^j · Z^(n−j) / (n − j)!
    weights = np.array([service**j * think ** (users - 1 - j) / math.factorial(users - 1 - j)
                        for j in range(users)])
    seen = weights / weights.sum()
    expected = mva(users, think, [MvaStation(service)])
    assert (seen * (np.arange(users) + 1)).sum() * service == pytest.approx(
        expected.response_s, rel=1e-9)

    def cdf(t: float) -> float:
        return float(sum(p * stats.gamma.cdf(t, j + 1, scale=service)
                         for j, p in enumerate(seen)))

    system = load_spec_text(CLOSED)
    found = estimate(system)
    workload, srv = found.workloads["w"], found.components["srv"]
    assert workload.mean_s == pytest.approx(expected.response_s, rel=1e-9)
    assert srv.state.mean_wait_s == pytest.approx(expected.response_s - service, rel=1e-9)
    for q in (0.5, 0.9, 0.99):
        assert workload.quantile_s(q) == pytest.approx(_quantile(cdf, q), rel=3e-3)
    doc = estimate_document(system)
    assert doc["components"]["srv"]["wait_ms"] == pytest.approx(
        (expected.response_s - service) * 1e3, abs=1e-3)
    assert doc["components"]["srv"]["operations"]["op"]["mean"] == pytest.approx(
        expected.response_s * 1e3, abs=1e-3)
    # the mean is exact MVA, the percentiles are not claimed to be
    assert doc["workloads"]["w"]["mean_exact"] and not doc["workloads"]["w"]["exact"]


def test_mva_marginal_gives_the_mean_wait() -> None:
    result = mva(25, 0.2, [MvaStation(0.01), MvaStation(0.006), MvaStation(0.02, None)])
    for k, demand in enumerate((0.01, 0.006)):
        seen = result.seen[k]
        assert seen is not None and seen.sum() == pytest.approx(1.0)
        assert demand * (1 + (seen * np.arange(len(seen))).sum()) == pytest.approx(
            result.residence_s[k], rel=1e-9)
    assert result.seen[2] is None


PUBLISHING_LOOP = _spec("""  api:
    replicas: 2
    workers: 1
    operations:
      x: {work: 10ms, calls: [{to: jobs, async: true}, {to: log.append}]}
  jobs: {kind: queue, capacity: 100000, consumers: [{to: worker.y, concurrency: 1}]}
  worker: {replicas: 2, workers: 4, operations: {y: {work: 20ms}}}
  log:
    workers: 2
    event_store: {projections: [{to: reader.apply}]}
    operations: {append: {work: 5ms}}
  reader: {workers: 4, operations: {apply: {work: 30ms}}}
""", "  - {name: w, to: api.x, users: 2, think: 0s}\n")


def test_a_closed_loop_waits_only_for_what_it_waits_on() -> None:
    """Two users, no think time, on a 10 ms operation (two single-worker replicas) that
    publishes async to a queue (its consumer takes 20 ms) and appends to an event store
    (5 ms, two workers) whose projection takes 30 ms: a user waits for the 10 ms and the
    5 ms only (no network in this spec; a server for each user everywhere: nobody waits), so
    X = 2 / 15 ms exactly, and the projection gets X; the queue's consumer what its one
    delivery in flight drains, 1 / 20 ms (the queue holds the rest). The estimate had put
    the consumer's and the projection's time into the cycle."""
    found = estimate(load_spec_text(PUBLISHING_LOOP))
    loop = found.workloads["w"]
    assert loop.rate_rps == pytest.approx(2.0 / 0.015, rel=1e-9)
    assert loop.latency is not None and loop.latency.mean == pytest.approx(0.015, rel=1e-6)
    assert found.components["reader"].arrival_rate_rps == pytest.approx(2.0 / 0.015, rel=1e-9)
    assert found.components["worker"].arrival_rate_rps == pytest.approx(1.0 / 0.020, rel=1e-9)


# -- bounded queues -------------------------------------------------------------------------
MMCK = _spec("""  srv:
    workers: 2
    queue: 3
    operations: {op: {work: {dist: exponential, mean: 4ms}}}
""", "  - {name: w, to: srv.op, rate: 600/s}\n")


def _mmck(lam: float, mu: float, c: int, k: int) -> np.ndarray:
    p = np.array([math.prod(lam / (mu * min(i, c)) for i in range(1, n + 1))
                  for n in range(k + 1)])
    return p / p.sum()


def test_mmck_sojourn_percentiles_and_served_utilization() -> None:
    """M/M/2/5 at λ = 600, μ = 250: an admitted arrival that finds n ≥ 2 waits
    Erlang(n − 1, 2μ), then is served Exp(μ)."""
    lam, mu, c, k = 600.0, 250.0, 2, 5
    p = _mmck(lam, mu, c, k)
    admitted = p[:k] / (1.0 - p[k])

    def cdf(t: float) -> float:
        total = admitted[:c].sum() * stats.expon.cdf(t, scale=1 / mu)
        for n in range(c, k):
            total += admitted[n] * integrate.quad(
                lambda x, n=n: stats.gamma.pdf(x, n - c + 1, scale=1 / (c * mu))
                * stats.expon.cdf(t - x, scale=1 / mu), 0.0, t)[0]
        return float(total)

    system = load_spec_text(MMCK)
    found = estimate(system)
    workload = found.workloads["w"]
    for q in (0.5, 0.9, 0.99):
        assert workload.quantile_s(q) == pytest.approx(_quantile(cdf, q, 1.0), rel=3e-3)
    doc = estimate_document(system)
    served_util = lam * (1.0 - p[k]) / mu / c
    assert doc["components"]["srv"]["utilization"] == pytest.approx(served_util, abs=1e-4)
    assert doc["components"]["srv"]["offered_load"] == pytest.approx(lam / mu / c, abs=1e-4)
    assert doc["bottleneck"]["utilization"] == pytest.approx(served_util, abs=1e-4)


# -- birth-death chains ---------------------------------------------------------------------
@pytest.mark.parametrize(("a", "m"), [(0.6, 1.0), (1.6, 2.0), (3.4, 4.0)])
def test_served_chain_with_whole_servers_is_mmc(a: float, m: float) -> None:
    expected = mmc(a, 1.0, int(m))
    chain = served(a, m)
    assert chain.in_system == pytest.approx(expected.mean_in_system, rel=1e-12)
    assert chain.busy == pytest.approx(expected.wait_probability, rel=1e-12)
    assert served(a, m, int(m)).loss == pytest.approx(erlang_b(int(m), a), rel=1e-12)


def test_served_chain_below_one_server_is_a_slower_mm1() -> None:
    """Half a core: M/M/1 at half speed, L = ρ/(1 − ρ) with ρ = a/0.5."""
    assert served(0.3, 0.5).in_system == pytest.approx(0.6 / 0.4, rel=1e-12)


# -- cores ----------------------------------------------------------------------------------
EXP = "operations: {op: {cpu: {dist: exponential, mean: 1ms}}}"
CPU = _spec(f"""  a: {{workers: unlimited, cores: 1, {EXP}}}
  b: {{workers: unlimited, cores: 0.5, {EXP}}}
  c:
    workers: unlimited
    cores: 2
    operations: {{op: {{cpu: {{dist: lognormal, mean: 2ms, p99: 15ms}}}}}}
  d:
    workers: unlimited
    event_loop: true
    operations: {{op: {{cpu: {{dist: gamma, mean: 1ms, cv: 2}}}}}}
  e:
    replicas: 2
    workers: unlimited
    cores: 2
    balancer: random
    operations: {{op: {{cpu: {{dist: exponential, mean: 2ms}}, wait: 5ms}}}}
  f: {{workers: 2, cores: 1, {EXP}}}
""", """  - {name: wa, to: a.op, rate: 700/s}
  - {name: wb, to: b.op, rate: 300/s}
  - {name: wc, to: c.op, rate: 800/s}
  - {name: wd, to: d.op, rate: 500/s}
  - {name: we, to: e.op, rate: 1200/s}
  - {name: wf, to: f.op, rate: 600/s}
""")


def test_cores_are_processor_sharing_in_the_mean() -> None:
    """M/G/1-PS: S/(1 − ρ) (any work distribution); half a core: the same at half speed; two
    cores, each burst at most one: the M/M/2 mean (insensitive); an event loop: P-K; CPU then
    a 5 ms wait: the M/M/2 CPU part plus the wait; two workers on one core: M/M/1."""
    found = estimate(load_spec_text(CPU)).workloads
    assert found["wa"].mean_s == pytest.approx(0.001 / (1 - 0.7), rel=1e-9)
    assert found["wb"].mean_s == pytest.approx(0.002 / (1 - 0.6), rel=1e-9)
    assert found["wc"].mean_s == pytest.approx(mmc(800.0, 500.0, 2).mean_sojourn_s, rel=1e-9)
    assert found["wd"].mean_s == pytest.approx(mg1_cv(500.0, 0.001, 2.0).mean_sojourn_s,
                                               rel=1e-9)
    assert found["we"].mean_s == pytest.approx(mmc(600.0, 500.0, 2).mean_sojourn_s + 0.005,
                                               rel=1e-9)
    assert found["wf"].mean_s == pytest.approx(mm1(600.0, 1000.0).mean_sojourn_s, rel=1e-9)
    assert not any(w.exact for w in found.values())


CPUOVER = _spec(f"""  a: {{workers: 8, cores: 1, {EXP}}}
""", "  - {name: wa, to: a.op, rate: 1500/s}\n")


def test_cores_bound_saturation_utilization_and_the_bottleneck() -> None:
    """8 workers on one core with 1 ms of CPU per request: 1000/s, not 8000/s."""
    system = load_spec_text(CPUOVER)
    model = Model(system)
    found = model.evaluate()
    assert not found.stable
    assert found.bottleneck() == ("a", pytest.approx(1.5))
    limit = saturation(model, "wa")
    assert limit.rate_rps == pytest.approx(1000.0, rel=3e-3) and limit.bottleneck == "a"
    doc = estimate_document(system.model_copy(update={"workloads": [
        system.workloads[0].model_copy(update={"rate": 600.0})]}))
    assert doc["components"]["a"]["utilization"] == pytest.approx(0.6)
    assert doc["workloads"]["wa"]["latency_ms"]["mean"] == pytest.approx(2.5, abs=1e-4)


@pytest.mark.parametrize(("backoff", "jitter"), [
    ("exponential", "full"), ("exponential", "equal"), ("exponential", "none"),
    ("exponential", "decorrelated"), ("constant", "full"), ("envoy", "full")])
def test_the_estimates_back_off_is_the_kernels_mean(backoff: str, jitter: str) -> None:
    # The estimate adds the mean wait before each retry; the kernel draws them. Each mean of
    # 20,000 draws (the previous draw carried, as a call's retries do) within 5 standard
    # errors, bounded by the cap: decorrelated's mean is the recursion's, which ignores that
    # its cap clips the uniform (a bias under 2 % here, inside the tolerance).
    retry = Retry.model_validate({"attempts": 6, "backoff": backoff, "jitter": jitter,
                                  "base": "10ms", "max": "1s"})
    kernel = Backoff(backoff, jitter, 0.01, 1.0, uniforms(np.random.default_rng(5)))
    draws = np.zeros((20_000, 5))
    for row in range(len(draws)):
        previous = 0.0
        for retry_number in range(1, 6):
            previous = kernel.delay(retry_number, previous)
            draws[row, retry_number - 1] = previous
    for retry_number in range(1, 6):
        column = draws[:, retry_number - 1]
        tolerance = 5 * column.std() / np.sqrt(len(column)) + 0.02 * column.mean()
        assert backoff_mean(retry, retry_number) == pytest.approx(column.mean(), abs=tolerance)


def test_the_wait_in_a_full_queue_of_many_places_is_its_erlang_mixture() -> None:
    """M/M/1/20000 at a = 1.2: an admitted arrival waits for the ~20,000 completions ahead of
    it, a mixture of Erlangs of orders near 20,000 (summed over a window of the Poisson terms
    around each point, not all 20,000 of them), against scipy's gamma CDFs."""
    capacity, rate = 20_000, 100.0
    p = bounded(1.2, 1.0, capacity)
    seen = p[:capacity] / (1.0 - p[capacity])
    weights = np.concatenate([[seen[:1].sum()], seen[1:]])
    wait = erlang_mixture(weights, rate)
    orders = [j for j in np.flatnonzero(weights > 1e-18) if j > 0]

    def cdf(t: float) -> float:
        return float(weights[0] + sum(weights[j] * stats.gamma.cdf(t, j, scale=1.0 / rate)
                                      for j in orders))

    for q in (0.01, 0.5, 0.99):
        assert wait.quantile(q) == pytest.approx(_quantile(cdf, q, 400.0), abs=wait.h)
    assert wait.mean == pytest.approx(float((np.arange(capacity) * weights).sum()) / rate,
                                      rel=1e-12)


# -- leaders --------------------------------------------------------------------------------
LED = _spec("""  kv:
    replicas: 3
    workers: 4
    SERVING
    operations:
      put: {work: {dist: exponential, mean: 1ms}}
      get: {work: {dist: exponential, mean: 1ms}}
""", "  - {name: w, to: kv.put, rate: 1500/s}\n  - {name: r, to: kv.get, rate: 1500/s}\n")


@pytest.mark.parametrize(("serving", "servers", "offered"), [
    # the leader serves both operations: one M/M/4 at 3000/s × 1 ms, ρ 0.75; saturation
    # when w's 1500/s grows to 4000/s less r's 1500/s
    ("leader_election: {type: raft}", 4, 0.75),
    ("replication: {mode: async, writes: [put], reads: leader}", 4, 0.75),
    # the leader alone serves put, and the balancer sends it a third of get: 2000/s, ρ 0.5
    ("replication: {mode: async, writes: [put], reads: any}", 4, 0.5),
    ("leader_election: {type: lease, operations: [put]}", 4, 0.5),
])
def test_a_leader_serving_every_operation_is_one_station(
        serving: str, servers: int, offered: float) -> None:
    """Only the leader serves what `leader_served` names; when that is every operation
    the component is one replica's queue at the whole rate, as SS501 and the simulator
    count it (docs/capacity.md), not three at a third of it."""
    model = Model(load_spec_text(LED.replace("SERVING", serving)))
    found = model.evaluate().components["kv"]
    assert found.servers == servers
    assert found.state.offered == pytest.approx(offered)
    # the leader saturates when w's puts and its share of r's gets fill its 4 workers (to
    # the search's precision: its first guess spreads w's share over the replicas)
    leader_gets = 1500 if offered > 0.5 else 500
    assert saturation(model, "w").rate_rps == pytest.approx(4000 - leader_gets, rel=PRECISION)


@pytest.mark.parametrize(("serving", "share"), [
    ("leader_election: {type: lease, operations: [put]}", 1 / 3),
    ("replication: {mode: async, writes: [put], reads: any}", 1 / 3),
    ("replication: {mode: async, writes: [put], reads: followers}", 0.0),
])
def test_a_leader_of_some_operations_is_a_station_of_its_own(serving: str, share: float
                                                              ) -> None:
    """le3 of the QA pass in small: the leader serves every put and, as the simulator's
    balancer picks it among all replicas, its share of the gets (none with `reads:
    followers`, which go to the followers in turn). Random balancing keeps every stream
    Poisson: put waits at the leader's M/M/4, get at the leader with its share, else at a
    follower's; the component's utilization is the leader's."""
    spec = LED.replace("SERVING", serving).replace("workers: 4", "workers: 4\n    balancer: random")
    model = Model(load_spec_text(spec))
    found = model.evaluate().components["kv"]
    leader = mmc(1500 + 1500 * share, 1000.0, 4)
    assert found.state.offered == pytest.approx((1500 + 1500 * share) / 4000)
    gets = 1500 * (1 - share) / 2
    if share:
        follower_wait = mmc(gets, 1000.0, 4).mean_wait_s
    else:  # the followers take turns: Allen–Cunneen with c_a² = 1/2
        follower_wait = erlang_c(4, gets / 1000) / (4000 - gets) * (0.5 + 1) / 2
    responses = found.responses
    assert responses["kv.put"] is not None and responses["kv.get"] is not None
    assert responses["kv.put"].mean == pytest.approx(leader.mean_wait_s + 1e-3, rel=1e-6)
    assert responses["kv.get"].mean == pytest.approx(
        share * leader.mean_wait_s + (1 - share) * follower_wait + 1e-3, rel=1e-6)
    assert saturation(model, "w").rate_rps == pytest.approx(4000 - 1500 * share,
                                                            rel=PRECISION)


# -- replication waits ----------------------------------------------------------------------
REPLICATED = """scalesim: 1
name: t
defaults: {network: 0ms}
components:
  app:
    replicas: 2
    workers: 10
    operations:
      save: {work: 1ms, calls: [{to: db.put}]}
      load: {work: 1ms, calls: [{to: db.get}]}
  db:
    replicas: 3
    workers: unlimited
    replication: {REPLICATION, writes: [put], write: {dist: exponential, mean: 2ms}, ack: 0.25ms}
    operations: {put: {work: 0.1ms}, get: {work: 0.1ms}}
workloads:
  - {name: w, to: app.save, rate: 1000/s}
  - {name: r, to: app.load, rate: 1000/s}
"""


@pytest.mark.parametrize(("replication", "commit", "read"), [
    # the 3rd of 3 replicas' W + A: A + the largest of three Exp(2 ms), 2·(1 + 1/2 + 1/3);
    # a read the 2nd of R + S
    ("mode: quorum, n: 3, w: 3, r: 2, read: 0.25ms, response: 0.25ms",
     0.25 + 2.0 * (1 + 1 / 2 + 1 / 3), 0.5),
    # the first of two followers: A + 2/2; a read at the leader waits A + A (ReadIndex)
    ("mode: raft, reads: leader", 0.25 + 1.0, 0.5),
    ("mode: raft, reads: any", 0.25 + 1.0, 0.5 / 3),  # the leader's third of the reads
    ("mode: raft, reads: followers", 0.25 + 1.0, 0.0),
    ("mode: sync", 0.25 + 2.0 * (1 + 1 / 2), 0.0),  # both followers
    ("mode: semi_sync", 0.25 + 1.0, 0.0),
    ("mode: async", 0.0, 0.0),
])
def test_a_visit_waits_for_its_replicas_and_holds_its_caller(
        replication: str, commit: float, read: float) -> None:
    """docs/data.md's rules as order statistics: a write's commit and a read's wait (a
    quorum's r answers of R + S, a Raft leader's ReadIndex) are in the latency, and the
    blocking caller holds its worker through them: app's ρ is 1000/s × (1 ms + 0.1 ms +
    the wait) per operation over 2 × 10 workers."""
    system = load_spec_text(REPLICATED.replace("REPLICATION", replication))
    found = estimate(system)
    write_ms, read_ms = 1.1 + commit, 1.1 + read
    assert found.workloads["w"].mean_s * 1e3 == pytest.approx(write_ms, rel=1e-3)
    assert found.workloads["r"].mean_s * 1e3 == pytest.approx(read_ms, rel=1e-3)
    assert found.components["app"].state.offered == pytest.approx(
        (write_ms + read_ms) / 20.0, rel=1e-3)


def test_a_commit_waits_for_the_slowest_replica_of_an_all_quorum() -> None:
    """w = n = 3: the commit's p99 is A + the p99 of the largest of three Exp(2 ms),
    −2 ln(1 − 0.99^(1/3)) ms."""
    system = load_spec_text(REPLICATED.replace("REPLICATION", "mode: quorum, n: 3, w: 3"))
    slowest = -2.0 * math.log(1.0 - 0.99 ** (1 / 3))
    assert estimate(system).workloads["w"].quantile_s(0.99) * 1e3 == pytest.approx(
        1.1 + 0.25 + slowest, rel=5e-3)


@pytest.mark.parametrize(("reads", "refused"), [
    ("leader", "visits to put and get fail"), ("followers", "visits to put fail")])
def test_an_election_names_what_fails_without_a_leader(reads: str, refused: str) -> None:
    """The leader's placement refuses what only the leader serves (`leader_served`): the
    writes, and the reads too when they go to the leader."""
    system = load_spec_text(REPLICATED.replace(
        "REPLICATION", f"mode: raft, reads: {reads}").replace(
        "  db:\n", "  db:\n    leader_election: {type: raft}\n"))
    found = {c.code: c.message for c in caveats(system, estimate(system))}
    assert refused in found["leader-election"]
    assert "ReadIndex" in found["replication"] if reads == "leader" else \
        "ReadIndex" not in found["replication"]
