"""An autoscaled component's Argo Rollout, like its Deployment, states no `replicas`: the
HPA or KEDA ScaledObject in the same file, aimed at the Rollout, owns the count (Kubernetes'
HPA docs; Argo Rollouts' scale subresource lets an HPA scale a Rollout)."""

from __future__ import annotations

from tests.generate.helpers import CONTROL, documents, generate, system

from scalesim.generate import Target


def test_autoscaled_rollouts_state_no_replicas_and_others_keep_theirs() -> None:
    docs = documents(generate(CONTROL, Target.ARGO))
    rollouts = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "Rollout"}
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in docs
              if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")
              and d["spec"]["scaleTargetRef"]["kind"] == "Rollout"}
    components = system(CONTROL).components
    autoscaled = {name for name in rollouts if components[name].autoscale is not None}
    assert len(autoscaled) >= 3 and autoscaled <= scaled   # HPAs and a KEDA consumer
    assert len(rollouts) > len(autoscaled)
    for name, spec in rollouts.items():
        if name in autoscaled:
            assert "replicas" not in spec, name
        else:
            assert spec["replicas"] == components[name].replicas, name


def test_a_rollout_states_replicas_exactly_when_its_deployment_does() -> None:
    deployments = {d["metadata"]["name"]: d["spec"]
                   for d in documents(generate(CONTROL, Target.K8S))
                   if d["kind"] == "Deployment"}
    for d in documents(generate(CONTROL, Target.ARGO)):
        if d["kind"] == "Rollout":
            name = d["metadata"]["name"]
            assert d["spec"].get("replicas") == deployments[name].get("replicas"), name
