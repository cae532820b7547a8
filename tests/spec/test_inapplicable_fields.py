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
