"""HPA, KEDA and Argo Rollouts strategies: the control objects of a component.

Today the spec has no `autoscale` or `rollout` (they arrive with issue 8), so these objects
say only what the spec can hold already: a KEDA ScaledObject scaling a Deployment on a
queue's backlog shows that the Deployment consumes that queue. Everything else they set is
reported as not imported. Their mapping onto `autoscale`/`rollout` belongs in this module.
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers

# KEDA trigger type -> the metadata key naming the queue (or its address)
QUEUE_KEYS = {"rabbitmq": ("hostFromEnv", "host"), "kafka": ("bootstrapServers",),
              "nats-jetstream": ("natsServerMonitoringEndpoint",), "redis": ("address",)}


def _target(cluster: Cluster, manifest: Manifest, ref: Any) -> str | None:
    if not isinstance(ref, dict) or ref.get("name") is None:
        return None
    key = f"{manifest.namespace}/{ref['name']}"
    return key if key in cluster.draft.components else None


def _queue(cluster: Cluster, manifest: Manifest, consumer: str,
           trigger: dict[str, Any]) -> str | None:
    """The queue component a trigger watches: by its address, or by the trigger's name."""
    metadata = trigger.get("metadata") or {}
    component = cluster.component(consumer)
    for field_name in QUEUE_KEYS.get(str(trigger.get("type")), ()):
        value = metadata.get(field_name)
        if field_name == "hostFromEnv":
            value = next((r.host for r in component.references
                          if r.seen.field.endswith(f".env.{value}")), None)
        if isinstance(value, str):
            host = value.split("://", 1)[-1].rsplit("@", 1)[-1].split(",")[0].split(":")[0]
            found = cluster.service_hosts(host, manifest.namespace)
            if found:
                return found[0]
    name = trigger.get("name")
    return cluster.draft.resolve(str(name), manifest.namespace) if name else None


def scaled_object(manifest: Manifest, cluster: Cluster) -> None:
    consumer = _target(cluster, manifest, manifest.spec.get("scaleTargetRef"))
    if consumer is None:
        cluster.draft.note(f"{manifest.title}: its scale target is not in the files")
        return
    triggers = manifest.spec.get("triggers") or []
    for index, trigger in enumerate(triggers if isinstance(triggers, list) else []):
        if not isinstance(trigger, dict):
            continue
        queue = _queue(cluster, manifest, consumer, trigger)
        if queue is not None and queue != consumer:
            cluster.component(consumer).consumes[queue] = manifest.seen_in(
                triggers, index, f"spec.triggers[{index}] (scales the consumer on its backlog)")
    cluster.draft.note(f"{manifest.title}: autoscaling is not imported yet (the spec's "
                       "autoscale arrives with issue 8)")


def hpa(manifest: Manifest, cluster: Cluster) -> None:
    cluster.draft.note(f"{manifest.title}: autoscaling is not imported yet (the spec's "
                       "autoscale arrives with issue 8)")


def rollout_strategy(manifest: Manifest, cluster: Cluster) -> None:
    cluster.draft.note(f"{manifest.title}: the rollout strategy is not imported yet (the "
                       "spec's rollout arrives with issue 8)")


KINDS: Mappers = {("keda.sh", "ScaledObject"): scaled_object,
         ("autoscaling", "HorizontalPodAutoscaler"): hpa,
         ("argoproj.io", "Rollout"): rollout_strategy}
