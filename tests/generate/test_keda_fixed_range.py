"""A default KEDA ScaledObject ranges from the consumer's `replicas` to max(replicas,
ceil(Σ concurrency / workers)) (docs/generate.md). When the replicas already run every
delivery at once the range is one count and KEDA could never scale: no ScaledObject is
written (in keda/ nor argo/), and the generate summary says which consumer and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.generate.helpers import OPTIONS, SPECS, by_kind, documents, system
from tests.generate.test_cli import run

from scalesim.generate import Target, render
from scalesim.spec import System, load_spec_text

SPEC = """\
scalesim: 1
name: pool
components:
  api: {{operations: {{submit: {{work: 1ms, calls: [{{to: jobs.publish}}]}}}}}}
  jobs:
    kind: queue
    consumers: [{{to: worker.process, concurrency: 32}}]
  worker: {{replicas: {replicas}, workers: 8, operations: {{process: {{work: 20ms}}}}}}
workloads: [{{name: w, to: api.submit, rate: 100/s}}]
"""


def scaled_objects(spec: System, target: Target) -> dict[str, dict[str, object]]:
    return by_kind(documents(render(spec, target, OPTIONS)), "ScaledObject")


@pytest.mark.parametrize("target", [Target.KEDA, Target.ARGO])
def test_a_consumer_whose_range_is_one_count_gets_no_scaled_object(target: Target) -> None:
    """4 replicas × 8 workers run the 32 deliveries: the range would be 4 to 4."""
    assert "worker" not in scaled_objects(load_spec_text(SPEC.format(replicas=4)), target)


def test_a_consumer_that_can_grow_keeps_its_scaled_object() -> None:
    """2 replicas × 8 workers: the 32 deliveries need 4, so KEDA scales from 2 to 4."""
    scaled = scaled_objects(load_spec_text(SPEC.format(replicas=2)), Target.KEDA)
    spec = scaled["worker"]["spec"]
    assert isinstance(spec, dict)
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 4)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_default_scaled_object_can_scale(name: str) -> None:
    spec = system(SPECS[name])
    for consumer, scaled in scaled_objects(spec, Target.KEDA).items():
        if spec.components[consumer].autoscale is None:
            body = scaled["spec"]
            assert isinstance(body, dict)
            assert body["minReplicaCount"] < body["maxReplicaCount"], consumer


def test_the_summary_names_the_consumer_left_unscaled(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(SPEC.format(replicas=4))
    result = run(str(path), "-o", str(tmp_path / "out"), "--target", "keda")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("keda: nothing to generate")
    assert lines[1].startswith("keda: worker: no ScaledObject: its default range would be "
                               "4 to 4 replicas")
    assert not (tmp_path / "out" / "keda").exists()
