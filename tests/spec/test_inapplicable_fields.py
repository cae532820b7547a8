"""A setting that does not apply where it is written is an error at its own line that says
why and what would make it apply, not a value silently ignored."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text

PARTITIONED = """\
scalesim: 1
name: pp
components:
  api:
    workers: unlimited
    operations:
      get: {work: 1ms, calls: [{to: ev.publish}]}
  ev:
    kind: queue
    partitions: 4
    consumers: [{to: w.h, prefetch: 3}]
  w:
    replicas: 2
    operations:
      h: {work: 10ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "s.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_prefetch_on_a_partitioned_topic_is_refused_at_its_line() -> None:
    """The simulator ignores prefetch there: each group member takes one record at a time."""
    (issue,) = issues_of(PARTITIONED)
    assert issue.startswith("s.yaml:11:27: components.ev.consumers[0].prefetch: 'prefetch' "
                            "does not apply on a partitioned topic: each group member takes "
                            "one record at a time"), issue
    assert "raise 'partitions' or the subscription's 'concurrency'" in issue


def test_prefetch_without_partitions_still_loads() -> None:
    system = load_spec_text(PARTITIONED.replace("    partitions: 4\n", ""))
    assert system.components["ev"].consumers[0].prefetch == 3


IGNORED = """\
scalesim: 1
name: ign
components:
  api:
    replicas: 2
    rate_limit: {rate: 100/s, window: 60s}
    load_shedding: {max_queue_wait: 100ms, codel_interval: 50ms}
    operations:
      get:
        work: 1ms
        calls:
          - {to: ev.publish, timeout: 1s, bulkhead: {max_concurrent: 2, queue: 10, size: 5},
             circuit_breaker: {open_for_max: 10s}}
          - {to: w.h, bulkhead: {type: threadpool, max_wait: 1s}}
  ev:
    kind: queue
    delivery: {guarantee: at_least_once, dedup_window: 1m}
    consumers: [w.h]
  w:
    replicas: 2
    rate_limit: {rate: 100/s, algorithm: sliding_window, burst: 10}
    replication: {mode: async, writes: [h], acks: 1}
    operations:
      h: {work: 1ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
"""


def test_each_setting_that_does_not_apply_is_refused_at_its_own_line() -> None:
    """Each names the field, why it does not apply and what would make it apply."""
    calls = "components.api.operations.get.calls"
    assert issues_of(IGNORED) == [
        "s.yaml:6:31: components.api.rate_limit.window: 'window' does not apply to a token "
        "bucket; it applies with algorithm: sliding_window",
        "s.yaml:7:44: components.api.load_shedding.codel_interval: 'codel_interval' does not "
        "apply with 'max_queue_wait'; it applies to CoDel: 'codel_target' in place of "
        "'max_queue_wait'",
        f"s.yaml:12:73: {calls}[0].bulkhead.queue: 'queue' does not apply to a semaphore "
        "bulkhead; it applies to a thread pool (type: threadpool)",
        f"s.yaml:12:84: {calls}[0].bulkhead.size: 'size' does not apply to a semaphore "
        "bulkhead; it applies to a thread pool (type: threadpool)",
        f"s.yaml:13:32: {calls}[0].circuit_breaker.open_for_max: 'open_for_max' does not "
        "apply to a constant wait (open_for_multiplier 1): it caps a growing one; it applies "
        "with 'open_for_multiplier' above 1",
        f"s.yaml:14:52: {calls}[1].bulkhead.max_wait: 'max_wait' does not apply to a "
        "threadpool bulkhead; it applies to a semaphore (type: semaphore, the default)",
        "s.yaml:17:42: components.ev.delivery.dedup_window: 'dedup_window' does not apply to "
        "at_least_once delivery: only an effectively-once consumer skips what it processed; "
        "it applies with guarantee: effectively_once",
        "s.yaml:21:58: components.w.rate_limit.burst: 'burst' does not apply to a sliding "
        "window; it applies with algorithm: token_bucket (the default)",
        "s.yaml:22:45: components.w.replication.acks: 'acks' does not apply to async "
        "replication"]


def test_what_applies_loads_and_defaults_are_never_refused() -> None:
    """The same settings where they apply; and a type whose other fields keep their
    defaults (a threadpool's max_concurrent of 25, say) is no error."""
    fixed = (IGNORED.replace("{rate: 100/s, window: 60s}",
                             "{rate: 100/s, algorithm: sliding_window, window: 60s}")
             .replace("max_queue_wait: 100ms", "codel_target: 5ms")
             .replace("bulkhead: {max_concurrent: 2, queue: 10, size: 5}",
                      "bulkhead: {type: threadpool, queue: 10, size: 5}")
             .replace("{open_for_max: 10s}", "{open_for_multiplier: 2, open_for_max: 10s}")
             .replace("{type: threadpool, max_wait: 1s}", "{max_concurrent: 3, max_wait: 1s}")
             .replace("at_least_once, dedup_window", "effectively_once, dedup_window")
             .replace("algorithm: sliding_window, burst: 10", "burst: 10")
             .replace("mode: async, writes: [h], acks: 1", "mode: sync, writes: [h], acks: 1"))
    system = load_spec_text(fixed)
    call = system.components["api"].operations["get"].calls[0]
    assert call.bulkhead is not None and call.bulkhead.max_concurrent == 25  # its default


LIVENESS = """\
scalesim: 1
name: live
components:
  w:
    replicas: 2
    health: {readiness: {success_threshold: 2}, liveness: {success_threshold: 5}}
    operations:
      h: {work: 1ms}
workloads:
  - {name: w, to: w.h, rate: 10/s}
"""


def test_a_liveness_success_threshold_other_than_one_is_refused() -> None:
    """Kubernetes requires 1 for liveness; generate used to write 1 over the spec's 5."""
    assert issues_of(LIVENESS) == [
        "s.yaml:6:60: components.w.health.liveness.success_threshold: a liveness probe's "
        "'success_threshold' must be 1: Kubernetes requires 1 for liveness and startup probes "
        "(one success ends a failure streak); use it on readiness"]
    system = load_spec_text(LIVENESS.replace("liveness: {success_threshold: 5}",
                                             "liveness: {success_threshold: 1}"))
    health = system.components["w"].health
    assert health is not None and health.readiness is not None
    assert health.readiness.success_threshold == 2


COMMITS = """\
scalesim: 1
name: ci
components:
  api:
    operations:
      get: {work: 1ms, calls: [{to: jobs.publish}]}
  jobs:
    kind: queue
    tech: kafka
    delivery: {guarantee: at_least_once, commit_interval: 1s}
    consumers: [w.h]
  w:
    operations:
      h: {work: 1ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
"""


def test_a_commit_interval_without_partitions_is_refused_at_its_line() -> None:
    """Only a topic's group members commit offsets: a queue without partitions acknowledges
    each message, and the simulator never read the interval there."""
    assert issues_of(COMMITS) == [
        "s.yaml:10:42: components.jobs.delivery.commit_interval: 'commit_interval' does not "
        "apply to a queue without 'partitions', which acknowledges each message on its own; "
        "it applies to a Kafka topic (a queue with 'partitions'), whose consumers commit "
        "offsets"]
    topic = load_spec_text(COMMITS.replace("    tech: kafka\n", "    partitions: 4\n"))
    delivery = topic.components["jobs"].delivery
    assert delivery is not None and delivery.commit_interval == 1.0
    # its default is never refused
    queue = load_spec_text(COMMITS.replace(", commit_interval: 1s", ""))
    assert queue.components["jobs"].partitions is None


POLLED = """\
scalesim: 1
name: poll
components:
  api:
    autoscale: {max: 4, polling: 10s, cooldown: 1m}
    operations:
      get: {work: 1ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
"""


def test_polling_and_cooldown_without_a_queue_metric_are_refused_at_their_lines() -> None:
    """They are KEDA's, which only a queue metric brings in; the HPA scales on cpu or rps."""
    why = ("does not apply without a 'queue' metric: KEDA polls to activate and scale to "
           "zero, and 1 to N replicas is the HPA's (every sync_period); it applies with a "
           "'queue' metric (KEDA)")
    assert issues_of(POLLED) == [
        f"s.yaml:5:25: components.api.autoscale.polling: 'polling' {why}",
        f"s.yaml:5:39: components.api.autoscale.cooldown: 'cooldown' {why}"]
    keda = POLLED.replace("{max: 4,", "{max: 4, metrics: [{queue: {of: q, backlog: 5}}],") \
        .replace("workloads:", "  q: {kind: queue, consumers: [api.get]}\nworkloads:")
    autoscale = load_spec_text(keda).components["api"].autoscale
    assert autoscale is not None and (autoscale.polling, autoscale.cooldown) == (10.0, 60.0)


ROLLED = """\
scalesim: 1
name: roll
components:
  api:
    replicas: 4
    versions: {v2: {}}
    rollout:
      to: v2
      steps: [{pause: 1s}]
      preview_replicas: 2
    operations:
      get: {work: 1ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
"""


def test_each_field_another_rollout_strategy_reads_is_refused_at_its_line() -> None:
    assert issues_of(ROLLED) == [
        "s.yaml:9:7: components.api.rollout.steps: 'steps' does not apply to strategy "
        "'rolling'",
        "s.yaml:10:7: components.api.rollout.preview_replicas: 'preview_replicas' does not "
        "apply to strategy 'rolling'"]
