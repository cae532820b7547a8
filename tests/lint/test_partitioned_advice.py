"""SS402 on a partitioned topic: its parallelism is partitions × group members, so the change
it proposes raises those, never `prefetch` (which a Kafka member does not have)."""

from __future__ import annotations

from tests.lint.helpers import WriteSpec, only

from scalesim.lint import lint_system
from scalesim.spec import load_spec
from scalesim.spec.data import Consumer

TOPIC = """\
components:
  api:
    workers: unlimited
    operations:
      get: {work: 1ms, calls: [{to: ev.publish}]}
  ev:
    kind: queue
    tech: kafka
    capacity: 100000
    partitions: 4
    consumers: [w.h]
  w:
    replicas: 2
    workers: unlimited
    operations:
      h: {work: 10ms}
workloads:
  - {name: w, to: api.get, rate: 1000/s}
"""


def test_a_partitioned_topic_is_never_told_to_prefetch(write_spec: WriteSpec) -> None:
    """A system built in code may carry a prefetch the loader refuses; the advice is still
    partitions and members: 1000/s × 10 ms / 0.8 = 12.5 → 13 in flight, 13 partitions and
    ⌈13 / 2⌉ = 7 members a replica."""
    system = load_spec(write_spec(TOPIC))
    topic = system.components["ev"]
    prefetching = Consumer.model_validate({"to": "w.h", "prefetch": 3})
    system.components["ev"] = topic.model_copy(update={"consumers": [prefetching]})
    message = only(lint_system(system), "SS402").message
    assert message.endswith("13 at once keep it 80% busy: 13 partitions and concurrency 7 "
                            "a replica"), message
