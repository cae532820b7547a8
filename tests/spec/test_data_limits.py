"""Messaging settings follow the documented limits of the systems they mirror
(docs/data.md): a value the real queue refuses is refused here too, with the reason."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text


def queue_spec(delivery: str) -> str:
    return f"""\
scalesim: 1
name: sqs
components:
  jobs:
    kind: queue
    consumers: [{{to: worker.process}}]
    delivery: {delivery}
  worker:
    operations: {{process: {{work: 10ms}}}}
workloads:
  - {{name: w, to: jobs.publish, rate: 10/s}}
simulation: {{duration: 1s}}
"""


@pytest.mark.parametrize("timeout", ["12h", "43200s"])
def test_sqs_maximum_visibility_timeout_is_accepted(timeout: str) -> None:
    system = load_spec_text(queue_spec(f"{{guarantee: at_least_once, "
                                       f"visibility_timeout: {timeout}}}"))
    delivery = system.components["jobs"].delivery
    assert delivery is not None and delivery.visibility_timeout == 12 * 3600


@pytest.mark.parametrize("timeout", ["13h", "43201s"])
def test_a_visibility_timeout_above_12h_is_refused_with_the_reason(timeout: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text(queue_spec(f"{{guarantee: at_least_once, visibility_timeout: "
                                  f"{timeout}}}"), "s.yaml")
    assert [str(issue) for issue in caught.value.issues] == [
        "s.yaml:7:42: components.jobs.delivery.visibility_timeout: 'visibility_timeout' is "
        "at most 12h (SQS's maximum VisibilityTimeout)"]
