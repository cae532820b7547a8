"""The visits the data areas (sim/data) make are in the visit matrix (analytic/load.py
`call_matrix`), so the offered load, the analytic estimate and the run estimate see them: a
queue's failed deliveries again (up to `max_deliveries`, the consumer's `error_rate`, a
`poison` share at every delivery), dead letters to a dead-letter queue's consumers, an
event store's projections, a choreographed saga's events through its `via` queue and its
deliveries sent again. Known answers, each missed by the matrix before."""

from __future__ import annotations

import pytest

from scalesim.analytic.estimate import Model
from scalesim.analytic.load import offered_load, operation_rates
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

QUEUE = """scalesim: 1
name: redeliveries
defaults: {{network: 0.5ms}}
components:
  api:
    workers: 32
    operations:
      send: {{work: 1ms, calls: [{{to: jobs.publish}}]}}
  jobs:
    kind: queue
    tech: sqs
    delivery: {{guarantee: at_least_once, visibility_timeout: 1s, max_deliveries: 3,
               poison: {poison}{dead}}}
    consumers: [{{to: worker.run, concurrency: 64}}]
  jobs-dlq:
    kind: queue
    tech: sqs
    consumers: [{{to: auditor.keep, concurrency: 8}}]
  worker:
    replicas: 2
    workers: 16
    operations:
      run: {{work: 10ms, error_rate: 50%, calls: [{{to: db.put}}]}}
  auditor:
    workers: 4
    operations:
      keep: {{work: 1ms}}
  db:
    workers: 64
    operations:
      put: {{work: 1ms}}
workloads: [{{name: w, to: api.send, rate: 400/s}}]
simulation: {{duration: 20s}}
"""


def queue(poison: str = "0%", dead: str = "") -> System:
    return load_spec_text(QUEUE.format(poison=poison, dead=dead), "q.yaml")


def test_a_consumer_failing_half_its_deliveries_gets_each_message_up_to_three_times() -> None:
    rates = operation_rates(queue())
    assert rates["jobs.publish"] == pytest.approx(400.0)
    assert rates["worker.run"] == pytest.approx(400.0 * (1.0 + 0.5 + 0.25))
    assert rates["db.put"] == pytest.approx(400.0 * 1.75)  # every delivery makes its calls


def test_a_poison_message_is_delivered_every_time() -> None:
    rates = operation_rates(queue(poison="10%"))
    assert rates["worker.run"] == pytest.approx(400.0 * (0.9 * 1.75 + 0.1 * 3.0))


def test_dead_letters_reach_the_dead_letter_queue_s_consumers() -> None:
    """A message whose three deliveries all failed goes to jobs-dlq's subscriptions: an
    eighth of the healthy ones, every poison one; without `dead_letter` it is dropped."""
    rates = operation_rates(queue(poison="10%", dead=", dead_letter: jobs-dlq"))
    assert rates["auditor.keep"] == pytest.approx(400.0 * (0.9 * 0.125 + 0.1))
    assert rates["jobs-dlq.publish"] == 0.0  # a dead letter is no visit of the queue's
    assert operation_rates(queue(poison="10%"))["auditor.keep"] == 0.0


def test_the_estimate_gives_the_dead_letter_queue_the_rate_it_receives() -> None:
    """jobs-dlq receives an eighth of the healthy messages and every poison one, as the
    simulation's `dead_letters` counts them (it showed 0/s: a dead letter visits no
    operation); without `dead_letter` the queue receives nothing."""
    found = Model(queue(poison="10%", dead=", dead_letter: jobs-dlq")).evaluate()
    assert found.components["jobs-dlq"].arrival_rate_rps == \
        pytest.approx(400.0 * (0.9 * 0.125 + 0.1))
    assert found.components["jobs"].arrival_rate_rps == pytest.approx(400.0)
    assert Model(queue(poison="10%")).evaluate().components["jobs-dlq"].arrival_rate_rps \
        == 0.0


def test_the_estimate_and_the_offered_load_see_the_redeliveries() -> None:
    system = queue()
    # workers busy, of 2 × 16: a delivery holds one for its 10 ms and its call (blocking
    # io: a hop there and back, 0.5 ms each, and the put's 1 ms)
    busy = 400.0 * 1.75 * 0.012
    assert offered_load(system)["worker"].rho == pytest.approx(busy / 32.0)
    estimate = Model(system).evaluate()
    assert estimate.components["worker"].arrival_rate_rps == pytest.approx(700.0)
    assert estimate.components["worker"].state.utilization == pytest.approx(busy / 32.0,
                                                                             rel=1e-3)
    # the subscription's concurrency is taken by every delivery
    assert estimate.subscriptions["jobs->worker.run"].rate_rps == pytest.approx(700.0)


def test_at_most_once_delivers_once() -> None:
    text = QUEUE.format(poison="0%", dead="").replace("at_least_once", "at_most_once")
    assert operation_rates(load_spec_text(text, "q.yaml"))["worker.run"] == \
        pytest.approx(400.0)


SAGA = """scalesim: 1
name: saga
defaults: {{network: 0.25ms}}
components:
  orders:
    workers: 64
    operations:
      place:
        work: 1ms
        calls:
          - saga:
              coordination: choreography
              via: events
              policy: {policy}
              steps:
                - {{name: create, to: db.insert}}
                - {{name: reserve, to: stock.reserve, timeout: 1s}}
                - {{name: ship, to: shipping.schedule}}
  db:
    workers: 32
    operations:
      insert: {{work: 2ms}}
  stock:
    workers: 32
    operations:
      reserve: {{work: 2ms}}
  shipping:
    workers: 32
    operations:
      schedule: {{work: 10ms, error_rate: 50%}}
  events:
    kind: queue
    tech: kafka
    operations:
      publish: {{work: 1ms}}
workloads: [{{name: w, to: orders.place, rate: 100/s}}]
simulation: {{duration: 20s}}
"""


def test_a_saga_s_queue_sees_one_visit_per_step_event() -> None:
    """Without retries, one event a step, each a visit of `via` before its target gets it."""
    rates = operation_rates(load_spec_text(SAGA.format(policy="none"), "s.yaml"))
    assert rates["events.publish"] == pytest.approx(3 * 100.0)
    assert rates["shipping.schedule"] == pytest.approx(100.0)
    assert rates["db.insert"] == pytest.approx(100.0)


def test_a_saga_s_failed_deliveries_go_through_the_queue_again() -> None:
    """Step Functions' policy: four tries, the shipping step failing half of them, so its
    event is delivered 1 + ½ + ¼ + ⅛ times on average, each through the queue."""
    system = load_spec_text(SAGA.format(policy="step_functions"), "s.yaml")
    rates = operation_rates(system)
    shipping = 1.0 + 0.5 + 0.25 + 0.125
    assert rates["shipping.schedule"] == pytest.approx(100.0 * shipping)
    assert rates["events.publish"] == pytest.approx(100.0 * (2.0 + shipping))
    estimate = Model(system).evaluate()
    assert estimate.components["events"].arrival_rate_rps == pytest.approx(
        100.0 * (2.0 + shipping))
    assert estimate.components["shipping"].state.utilization == pytest.approx(
        100.0 * shipping * 0.010 / 32.0)


STORE = """scalesim: 1
name: store
defaults: {network: 0.5ms}
components:
  commands:
    workers: 32
    operations:
      handle: {work: 1ms, calls: [{to: store.append}]}
  store:
    kind: database
    workers: 64
    event_store: {append: append, projections: [{to: projector.apply, concurrency: 8}]}
    operations:
      append: {work: 1ms}
  projector:
    workers: 8
    operations:
      apply: {work: 2ms, calls: [{to: view.upsert}]}
  view:
    workers: 16
    operations:
      upsert: {work: 1ms}
workloads: [{name: w, to: commands.handle, rate: 500/s}]
simulation: {duration: 20s}
"""


def test_an_event_store_s_projection_gets_a_delivery_of_each_append() -> None:
    system = load_spec_text(STORE, "e.yaml")
    rates = operation_rates(system)
    assert rates["projector.apply"] == pytest.approx(500.0)
    assert rates["view.upsert"] == pytest.approx(500.0)
    busy = 500.0 * 0.004  # its 2 ms and the upsert it waits on (1 ms and two 0.5 ms hops)
    assert offered_load(system)["projector"].rho == pytest.approx(busy / 8.0)
    assert Model(system).evaluate().components["projector"].state.utilization == \
        pytest.approx(busy / 8.0, rel=1e-3)


KAFKA = """scalesim: 1
name: kafka
components:
  orders: {{kind: queue, {queue}consumers: [{consumer}]}}
  worker: {{replicas: {replicas}, workers: unlimited, operations: {{process: {{work: 10ms}}}}}}
workloads: [{{name: w, to: orders.publish, rate: 300/s}}]
"""


@pytest.mark.parametrize(("queue", "consumer", "replicas", "servers"), [
    # a partitioned topic: one record at a time per member, members beyond P idle
    ("partitions: 8, ", "{to: worker.process, concurrency: 1}", 4, 4),
    ("partitions: 2, ", "{to: worker.process, concurrency: 4}", 1, 2),
    # prefetch: per consumer replica
    ("", "{to: worker.process, prefetch: 10}", 3, 30),
    ("", "{to: worker.process, concurrency: 3}", 5, 3),
])
def test_a_subscription_has_the_deliveries_in_flight_the_simulator_runs(
        queue: str, consumer: str, replicas: int, servers: int) -> None:
    """The estimate took `concurrency` as the servers of every subscription: 8 partitions
    over 4 replicas × 1 were 1 server (saturated at 99.9/s where the simulation delivers
    300/s), 2 partitions over 4 consumers were 4 (75 % busy where 200/s is the most), and
    prefetch 10 over 3 replicas was 1, not 30."""
    system = load_spec_text(KAFKA.format(queue=queue, consumer=consumer, replicas=replicas))
    found = Model(system).evaluate().subscriptions["orders->worker.process"]
    assert found.state.offered == pytest.approx(300.0 * 0.010 / servers, rel=1e-9)


SWAMPED = """scalesim: 1
name: swamped
defaults: {{network: 0.5ms}}
components:
  api:
    workers: unlimited
    operations:
      send: {{work: 1ms, calls: [{{to: jobs.publish}}]}}
  jobs:
    kind: queue
    tech: sqs
    consumers: [{{to: worker.run, concurrency: {slots}}}]
  worker:
    workers: 2
    operations:
      run: {{work: 10ms}}
workloads:
  - {{name: w, to: api.send, rate: 300/s}}
"""


@pytest.mark.parametrize(("slots", "servers", "hold_s", "worker"),
                         [(2, 2, 0.011, 1.5), (4, 2, 0.010, 1.0)])
def test_a_subscription_whose_consumer_cannot_keep_up_has_a_finite_offered_load(
        slots: int, servers: int, hold_s: float, worker: float) -> None:
    """Its deliveries are held without end (no lag), but each is held at least the hops and
    the consumer's work: 300/s × 11 ms over the 2 slots. It read ∞ ('offered ∞', `behind`
    null), where capacity.md shows a percentage. 4 slots outnumber the 2 workers and cover
    their round trips (4 × 10 ms ≥ 2 × 11 ms): the workers are the servers, each held for
    its 10 ms (`load.consumer_pool`), fed the 200/s they take (simulated: 99.9 % busy)."""
    found = Model(load_spec_text(SWAMPED.format(slots=slots))).evaluate()
    sub = found.subscriptions["jobs->worker.run"]
    assert sub.state.offered == pytest.approx(300.0 * hold_s / servers, rel=1e-9)
    assert sub.lag is None and not sub.state.stable
    assert found.components["worker"].state.offered == pytest.approx(worker)


LOADING = """scalesim: 1
name: store
defaults: {{network: 0ms}}
components:
  store:
    kind: database
    workers: 64
    event_store: {{streams: {streams}, initial_events: {initial}, read_per_event: 20us,
                   snapshot_read: 500us{snapshots}}}
    operations:
      append: {{work: 1ms}}
workloads:
  - {{name: w, to: store.append, rate: 1000/s}}
"""


@pytest.mark.parametrize(("streams", "initial", "every", "load_s"), [
    # streams of (2i + 1)·5 events (5, 15, …, 995): with a snapshot every 50, the 95 of
    # 100 past 50 read one, and each replays e mod 50 (5, 15, …, 45: 25 on average)
    (100, 500, 50, 0.95 * 500e-6 + 25 * 20e-6),
    # no snapshots: the whole stream, 500 events on average
    (100, 500, None, 500 * 20e-6),
    # one stream of 40 events under a snapshot every 50: no snapshot yet, all 40
    (1, 40, 50, 40 * 20e-6),
])
def test_an_event_store_visit_loads_its_aggregate(streams: int, initial: int,
                                                  every: int | None, load_s: float) -> None:
    """Each append first loads its stream (docs/data.md): its latest snapshot, then the
    events after it, holding the worker. The estimate counted the work alone (event-sourcing:
    commands 1.50 ms against 2.46 ms simulated, the store 2.0 % busy against 5.7 %)."""
    snapshots = "" if every is None else f", snapshot_every: {every}"
    system = load_spec_text(LOADING.format(streams=streams, initial=initial,
                                         snapshots=snapshots))
    found = Model(system).evaluate()
    assert found.workloads["w"].mean_s == pytest.approx(0.001 + load_s, rel=1e-6)
    assert found.components["store"].state.utilization == pytest.approx(
        1000 * (0.001 + load_s) / 64, rel=1e-6)
