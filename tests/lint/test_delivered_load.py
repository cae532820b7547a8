"""The load lint passes through a subscription: each message once (a healthy system, no
redeliveries), and at most what the subscription drains."""

from __future__ import annotations

import pytest
from tests.lint.helpers import LintYaml, only, rules

from scalesim.lint import LintConfig, lint_system
from scalesim.lint.context import Context
from scalesim.spec import load_spec_text
from scalesim.templates import get_template

# 4500/s published at least once; the consumer fails half its deliveries, and each comes
# back up to max_deliveries 5: the analytic layer counts 4500 × (1 + ½ + ¼ + ⅛ + 1/16)
# = 8719/s deliveries.
REDELIVERED = """
components:
  p: {replicas: 2, workers: 100, health: {readiness: {}},
      operations: {x: {calls: [{to: q, async: true}]}}}
  q:
    kind: queue
    replicas: 2
    capacity: 100000
    delivery: {guarantee: at_least_once, max_deliveries: 5, dead_letter: dlq}
    consumers: [{to: d.y, concurrency: 100, idempotent: true}]
  dlq: {kind: queue, replicas: 2, capacity: 1000}
  d: {replicas: 1, workers: 50, health: {readiness: {}},
      operations: {y: {work: 10ms, error_rate: 50%}}}
workloads: [{name: w, to: p.x, rate: 4500/s}]
"""


def _context(text: str) -> Context:
    """The lint context of a spec body (the header added)."""
    return Context.of(load_spec_text("scalesim: 1\nname: t\n" + text), LintConfig())


def test_load_leaves_redeliveries_out(lint_yaml: LintYaml) -> None:
    """docs/lint.md: retries and failures are left out. d gets 4500/s × 10 ms = 45 busy
    workers of 50 (ρ 0.9, SS502); counting redeliveries it was 8719/s, ρ 1.74 (SS501)."""
    findings = lint_yaml(REDELIVERED)
    assert "SS501" not in rules(findings)
    message = only(findings, "SS502").message
    assert "'d' is offered 4,500/s × 10 ms held per request = 45 busy workers against 1 " \
        "replica × 50 workers: ρ ≈ 0.90" in message


def test_the_consumer_gets_each_message_once() -> None:
    assert _context(REDELIVERED).sustained["d"].rate == pytest.approx(4500.0)  # was 8719


# d takes q's messages 8 at once, 100 ms each: at most 80/s, whatever q receives (100/s).
CAPPED = """
components:
  a: {replicas: 2, health: {readiness: {}}, operations: {x: {calls: [{to: q, async: true}]}}}
  q: {kind: queue, replicas: 2, capacity: 100000, consumers: [{to: d.y, concurrency: 8}]}
  d: {replicas: 1, workers: 8, operations: {y: {work: 100ms}}}
workloads: [{name: w, to: a.x, rate: 100/s}]
"""


def test_a_consumer_is_offered_at_most_what_its_subscription_drains(
        lint_yaml: LintYaml) -> None:
    """SS501 said d is offered 100/s, ρ 1.25, 'the smallest change is 2 replicas', which
    changes nothing: 8 in flight hold 8 workers (ρ 1). SS402 tells the story."""
    load = _context(CAPPED).sustained["d"]
    assert load.rate == pytest.approx(80.0) and load.rho == pytest.approx(1.0)
    findings = lint_yaml(CAPPED)
    assert not {"SS501", "SS502"} & rules(findings)
    message = only(findings, "SS402").message
    assert "takes at most 80/s (8 at once, 100 ms each" in message
    # 100/s × 100 ms / 0.8 = 12.5 → 13 in flight: 2 replicas of 8 workers, concurrency 13
    assert message.endswith("13 at once keep it 80% busy: 'd' 2 replicas and concurrency 13")


def test_an_autoscaled_consumer_is_judged_at_its_autoscale_max(lint_yaml: LintYaml) -> None:
    """d autoscaled 1 to 3 replicas of 2 workers takes 3 × 2 = 6 at once at most: 60/s of
    the 100/s. The message said 'd' 7 replicas, which the autoscaler overrides; the change
    is its max, and the message says even the max falls behind. Simulated (60 s, seed 1):
    KEDA takes d from 1 to 3 replicas at 15 s and the backlog still grows to 3099."""
    spec = CAPPED.replace("concurrency: 8", "prefetch: 10").replace(
        "{replicas: 1, workers: 8,", "{replicas: 1, workers: 2, autoscale: {min: 1, max: 3, "
        "metrics: [{queue: {of: q, backlog: 20}}]},")
    message = only(lint_yaml(spec), "SS402").message
    assert "'d.y' takes at most 60/s even with 'd' scaled to its autoscale.max of 3 replicas " \
        "(autoscaled from 1; 6 at once, 100 ms each" in message
    # 100/s × 100 ms / 0.8 = 12.5 → 13 in flight: 7 replicas of 2 workers (prefetch 10 each)
    assert message.endswith("13 at once keep it 80% busy: 'd' autoscale.max 7")


def test_a_drained_consumer_with_other_load_is_still_overloaded(lint_yaml: LintYaml) -> None:
    """50/s more straight to d.y: 80/s + 50/s = 130/s × 100 ms = 13 busy of 8 workers."""
    spec = CAPPED.replace("workloads: [", "workloads: [{name: v, to: d.y, rate: 50/s}, ")
    message = only(lint_yaml(spec), "SS501").message
    assert "'d' is offered 130/s × 100 ms held per request = 13 busy workers against 1 " \
        "replica × 8 workers: ρ ≈ 1.62" in message
    assert "the smallest change is 3 replicas" in message  # 13 / (0.8 × 8) → 3


def test_a_partitioned_topic_has_one_delivery_in_flight_per_partition(
        lint_yaml: LintYaml) -> None:
    """2 consumer replicas × concurrency 4 = 8 members, but 3 partitions: 3 in flight, 30/s."""
    spec = CAPPED.replace("capacity: 100000,", "capacity: 100000, partitions: 3,").replace(
        "concurrency: 8", "concurrency: 4").replace("{replicas: 1, workers: 8,",
                                                    "{replicas: 2, workers: 8,")
    message = only(lint_yaml(spec), "SS402").message
    assert "takes at most 30/s (3 at once" in message
    assert message.endswith("13 at once keep it 80% busy: 13 partitions and concurrency 7 a "
                            "replica")  # 13 members over 2 replicas
    assert _context(spec).sustained["d"].rate == pytest.approx(30.0)


@pytest.mark.parametrize(("template", "consumer"), [
    ("work-queue", "worker"),  # peak 2400/s, drained at 32 / 20 ms = 1600/s
    ("iot-ingestion", "processor"),  # peak 12500/s, drained at 64 / 5.5 ms = 11636/s
    ("event-driven-batch", "processor"),  # peak 10000/s, drained at 64 / 15 ms = 4267/s
])
def test_templates_are_not_told_to_add_replicas_their_queue_cannot_use(
        template: str, consumer: str) -> None:
    """SS502 proposed 8, 6 and 24 replicas: the subscription's concurrency, not the
    consumer's replicas, caps what leaves the queue, which levels the burst."""
    system = load_spec_text(get_template(template).build().text)
    assert not [f for f in lint_system(system) if f.rule in ("SS501", "SS502")
                and f.path.startswith(f"components.{consumer}.")]
    peak = Context.of(system, LintConfig()).peak[consumer]
    assert peak.drained and peak.rho == pytest.approx(1.0)


def test_enough_members_only_need_more_partitions(lint_yaml: LintYaml) -> None:
    """3 partitions and 2 × 8 members: the partitions alone cap the 13 in flight needed."""
    spec = CAPPED.replace("capacity: 100000,", "capacity: 100000, partitions: 3,").replace(
        "{replicas: 1, workers: 8,", "{replicas: 2, workers: 8,")
    assert only(lint_yaml(spec), "SS402").message.endswith(
        "13 at once keep it 80% busy: 13 partitions")
