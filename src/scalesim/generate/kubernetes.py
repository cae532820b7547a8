"""Kubernetes objects for a system: one file per component plus the Namespace.

Services and gateways run as Deployments; databases, caches and queues as StatefulSets of
the image their `tech` names, behind a headless Service; external components are an
ExternalName Service. The numbers come through `Params`, so Helm reuses these builders.
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.autoscaling import hpa, hpa_managed, uses_keda
from scalesim.generate.base import GeneratedFile, GenerateOptions, k8s_minor
from scalesim.generate.brokers import (
    KAFKA_FS_GROUP,
    broker_settings,
    kafka_env,
    kafka_nodes,
    kafka_note,
    kafka_version_problem,
)
from scalesim.generate.consistency import (
    CONSISTENCY_FILE,
    consistency_settings,
    lease_rbac,
    uses_lease,
)
from scalesim.generate.documents import banner, notes_text, plain_numbers, yaml_file
from scalesim.generate.errors import GenerateError, Problem
from scalesim.generate.keda import keda_scaled
from scalesim.generate.naming import (
    BROKER_FILE,
    HTTP_PORT,
    LIVE_PATH,
    READY_PATH,
    SETTINGS_DIR,
    SETTINGS_FILE,
    dns_label,
    env_name,
    labels,
    selector,
    system_label,
    whole_seconds,
)
from scalesim.generate.params import Literal, Params
from scalesim.generate.resources import cpu_note, resources_for
from scalesim.generate.tech import (
    Tech,
    copies_note,
    placeholder_note,
    runs_as_deployment,
    tech_of,
)
from scalesim.generate.topology import dependencies, edges
from scalesim.spec.data import ConsumerGroup, Delivery
from scalesim.spec.model import Kind, System
from scalesim.spec.resilience import Probe

STORAGE = "10Gi"
# A queue's `delivery` and `group` left out are these defaults: component.json writes neither
# when it equals them, so leaving one out and writing its default deploy alike.
UNSET_QUEUE_FIELDS = {
    field: model().model_dump(mode="json", by_alias=True, exclude_none=True)
    for field, model in (("delivery", Delivery), ("group", ConsumerGroup))}
EXTERNAL_HOST_SUFFIX = "example.invalid"
KONG_PLUGINS_ANNOTATION = "konghq.com/plugins"


def kong_plugin_name(component: str) -> str:
    return f"{dns_label(component)}-rate-limit"


def url(system: System, name: str, options: GenerateOptions, namespace: str) -> str:
    """How a caller inside the cluster reaches component `name`."""
    tech = tech_of(name, system.components[name], options.image_registry)
    return f"{tech.scheme}://{dns_label(name)}.{namespace}.svc.cluster.local:{tech.port}"


def settings(system: System, name: str) -> dict[str, Any]:
    """The component's own settings plus the calls its code makes, with `defaults.calls`
    applied, each call and consumer with its `target` operation resolved (the generated
    service reads this file, `$SCALESIM_SETTINGS`, and matches them to its own calls in this
    order; a choreographed saga's steps are events, which its code does not send)."""
    component = system.components[name]
    data = component.model_dump(mode="json", by_alias=True, exclude_none=True)
    for field, unset in (("startup", {"dist": "constant", "value": 0}), ("versions", {}),
                         ("event_loop", False), *UNSET_QUEUE_FIELDS.items()):
        if data.get(field) == unset:
            del data[field]  # control fields left at their defaults say nothing
    for operation in data.get("operations", {}).values():
        if operation.get("wait") == {"dist": "constant", "value": 0}:
            del operation["wait"]  # nor does a wait of zero
    data["effective_calls"] = [
        {"operation": edge.operation, "target": ".".join(system.resolve(edge.call.to)),
         **edge.call.model_dump(mode="json", by_alias=True, exclude_none=True)}
        for edge in edges(system) if edge.caller == name and not edge.event]
    for consumer, dumped in zip(component.consumers, data["consumers"], strict=True):
        dumped["target"] = ".".join(system.resolve(consumer.to))
    result: dict[str, Any] = plain_numbers(data)
    return result


def autoscaled(system: System, name: str) -> bool:
    """Whether the spec's `autoscale` gives `name` a scaler that owns its replica count: its
    HPA, or KEDA's (a ScaledObject creates one). Its workload then states no `replicas`,
    which every apply would set back, undoing the scaler (the HPA's minimum is the floor)."""
    spec = system.components[name]
    return hpa_managed(spec) or (uses_keda(spec) and keda_scaled(system, name))


class KubernetesBuilder:
    """Builds the objects of one system; `params` decides literal values or placeholders."""

    def __init__(self, system: System, options: GenerateOptions, params: Params) -> None:
        self.system = system
        self.options = options
        self.params = params
        self.part_of = system_label(system.name)

    def namespace(self) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": self.params.namespace,
                             "labels": {"app.kubernetes.io/part-of": self.part_of,
                                        "app.kubernetes.io/managed-by": "scalesim"}}}

    def component(self, name: str) -> list[dict[str, Any]]:
        """Every object of one component, in apply order."""
        spec = self.system.components[name]
        tech = tech_of(name, spec, self.options.image_registry)
        if spec.kind is Kind.EXTERNAL:
            return [self._external_service(name, tech)]
        stateless = runs_as_deployment(spec)
        docs = lease_rbac(name, self.params.namespace, self._metadata(name)["labels"]) \
            if uses_lease(spec) else []
        docs += [self._config_map(name),
                self._deployment(name, tech) if stateless else self._stateful_set(name, tech),
                self._service(name, tech, headless=not stateless),
                self._disruption_budget(name)]
        if spec.kind is Kind.GATEWAY:
            docs.append(self._ingress(name))
        if hpa_managed(spec):
            docs.append(self.autoscaler(name, {
                "apiVersion": "apps/v1", "kind": "Deployment" if stateless else "StatefulSet",
                "name": dns_label(name)}))
        return docs

    def autoscaler(self, name: str, target: dict[str, str]) -> dict[str, Any]:
        """The HorizontalPodAutoscaler of `name` scaling `target`."""
        spec = self.system.components[name].autoscale
        assert spec is not None
        value = self.params.value
        return hpa(self.system, name, self.params.namespace, self._metadata(name)["labels"],
                   target, value(name, "autoscale.minReplicas", spec.min),
                   value(name, "autoscale.maxReplicas", spec.max))

    def _metadata(self, name: str, suffix: str = "",
                  annotations: dict[str, str] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": dns_label(name) + suffix, "namespace": self.params.namespace,
            "labels": labels(name, self.system.components[name].kind.value, self.part_of,
                             self.params.instance)}
        if annotations:
            meta["annotations"] = annotations
        return meta

    def _notes(self, name: str) -> dict[str, str] | None:
        """A note on each placeholder of the workload: its CPU request (`resources.cpu_note`)
        and the image of an unknown tech (`tech.placeholder_note`); on database servers that
        nothing copies data between (`tech.copies_note`); and on an autoscaled Kafka
        cluster, whose voters are fixed (`brokers.kafka_note`)."""
        component = self.system.components[name]
        notes = [note for note in (placeholder_note(name, component),
                                   copies_note(name, component),
                                   cpu_note(self.system, name),
                                   kafka_note(component) if self._runs_kafka(name) else None)
                 if note is not None]
        return {"scalesim.io/note": notes_text(notes)} if notes else None

    def _selector(self, name: str) -> dict[str, str]:
        return selector(name, self.params.instance)

    def _config_map(self, name: str) -> dict[str, Any]:
        data = {SETTINGS_FILE: self.params.json(name, "settings", settings(self.system, name))}
        broker = broker_settings(self.system, name)
        if broker is not None:
            data[BROKER_FILE] = self.params.json(name, "broker", broker)
        consistency = consistency_settings(self.system, name, self.params.namespace)
        if consistency is not None:
            data[CONSISTENCY_FILE] = self.params.json(name, "consistency", consistency)
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": self._metadata(name, "-settings"), "data": data}

    def _probe(self, name: str, which: str, probe: Probe,
               action: dict[str, Any]) -> dict[str, Any]:
        key = f"probes.{which}."
        value = self.params.value
        return {**action,
                "initialDelaySeconds": value(name, key + "initialDelaySeconds",
                                             whole_seconds(probe.initial_delay, minimum=0)),
                "periodSeconds": value(name, key + "periodSeconds", whole_seconds(probe.period)),
                "timeoutSeconds": value(name, key + "timeoutSeconds",
                                        whole_seconds(probe.timeout)),
                "successThreshold": value(name, key + "successThreshold",
                                          probe.success_threshold),
                "failureThreshold": value(name, key + "failureThreshold",
                                          probe.failure_threshold)}

    def _container(self, name: str, tech: Tech, image: str,
                   env: list[dict[str, Any]]) -> dict[str, Any]:
        spec = self.system.components[name]
        resources = resources_for(self.system, name).requests()
        value = self.params.value
        container: dict[str, Any] = {
            "name": dns_label(name), "image": value(name, "image", image),
            "ports": [{"name": tech.port_name, "containerPort": tech.port, "protocol": "TCP"}],
            "env": env,
            "resources": {"requests": {"cpu": value(name, "resources.cpu", resources["cpu"]),
                                       "memory": value(name, "resources.memory",
                                                       resources["memory"])},
                          "limits": {"memory": value(name, "resources.memory",
                                                     resources["memory"])}},
            "volumeMounts": [{"name": "settings", "mountPath": SETTINGS_DIR, "readOnly": True}]}
        health = spec.health
        readiness = health.readiness if health else None
        if readiness is None and not tech.http:
            readiness = Probe()          # a server that is not accepting yet is not ready
        for which, probe in (("readiness", readiness),
                             ("liveness", health.liveness if health else None)):
            if probe is not None:
                action = ({"httpGet": {"path": READY_PATH if which == "readiness"
                                       else LIVE_PATH, "port": tech.port_name}}
                          if tech.http else {"tcpSocket": {"port": tech.port_name}})
                container[f"{which}Probe"] = self._probe(name, which, probe, action)
        return container

    def _pod_template(self, name: str, container: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {"containers": [container],
                                "volumes": [{"name": "settings", "configMap": {
                                    "name": dns_label(name) + "-settings"}}]}
        if uses_lease(self.system.components[name]):
            spec["serviceAccountName"] = dns_label(name)  # may read and write its Lease
        return {"metadata": {"labels": self._metadata(name)["labels"]}, "spec": spec}

    def _app_env(self, name: str) -> list[dict[str, Any]]:
        env = [{"name": env_name(dep, "URL"),
                "value": url(self.system, dep, self.options, self.params.namespace)}
               for dep in dependencies(self.system, name)]
        env.append({"name": "SCALESIM_SETTINGS", "value": f"{SETTINGS_DIR}/{SETTINGS_FILE}"})
        env.append({"name": "PORT", "value": str(HTTP_PORT)})  # generated services listen here
        if self.options.mesh_retries:  # the Istio routes retry: the code tries once per call
            env.append({"name": "SCALESIM_RETRIES", "value": "mesh"})
        return sorted(env, key=lambda item: str(item["name"]))

    def _deployment(self, name: str, tech: Tech) -> dict[str, Any]:
        image = f"{self.options.image_registry}/{dns_label(name)}:latest"
        container = self._container(name, tech, image, self._app_env(name))
        spec: dict[str, Any] = {**self._replicas(name),
                                "selector": {"matchLabels": self._selector(name)}}
        rollout = self.system.components[name].rollout
        if rollout is not None and rollout.strategy == "rolling":
            spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {
                "maxSurge": rollout.max_surge, "maxUnavailable": rollout.max_unavailable}}
        spec["template"] = self._pod_template(name, container)
        return {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": self._metadata(name, "", self._notes(name)), "spec": spec}

    def _replicas(self, name: str) -> dict[str, Any]:
        """`replicas` for a workload's spec: the spec's count, or none when it is autoscaled;
        a Helm value but for a Kafka cluster, whose voters list its pods."""
        if autoscaled(self.system, name):
            return {}
        count = self.system.components[name].replicas
        if self._runs_kafka(name):
            return {"replicas": count}  # its voters are written for it: no Helm value
        return {"replicas": self.params.value(name, "replicas", count)}

    def _stateful_set(self, name: str, tech: Tech) -> dict[str, Any]:
        env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(tech.env.items())]
        if tech.password_env:
            env.append({"name": tech.password_env, "valueFrom": {"secretKeyRef": {
                "name": dns_label(name) + "-credentials", "key": "password"}}})
        kafka = self._runs_kafka(name)
        if kafka:
            env = self._kafka_env(name, tech)
        container = self._container(name, tech, tech.image, env)
        spec: dict[str, Any] = {
            "serviceName": dns_label(name), **self._replicas(name),
            "selector": {"matchLabels": self._selector(name)},
            "template": self._pod_template(name, container)}
        if kafka:
            # every voter must run for the quorum to form: start them together, not each
            # after the one before is ready; and the appuser must write the volume
            spec["podManagementPolicy"] = "Parallel"
            spec["template"]["spec"]["securityContext"] = {"fsGroup": KAFKA_FS_GROUP}
        if tech.data_path:
            container["volumeMounts"].append({"name": "data", "mountPath": tech.data_path})
            spec["volumeClaimTemplates"] = [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {
                    "storage": self.params.value(name, "storage", STORAGE)}}}}]
        return {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": self._metadata(name, "", self._notes(name)), "spec": spec}

    def _runs_kafka(self, name: str) -> bool:
        """Whether the component is a StatefulSet of the Kafka image (a service whose tech
        says kafka runs its own)."""
        component = self.system.components[name]
        return not runs_as_deployment(component) and tech_of(name, component, "").name == "kafka"

    def _kafka_env(self, name: str, tech: Tech) -> list[dict[str, Any]]:
        """The Kafka cluster's settings; refused where its pods cannot number themselves."""
        component = self.system.components[name]
        problem = kafka_version_problem(component, k8s_minor(self.options.k8s_version))
        if problem is not None:
            place = ("autoscale", "min") if component.autoscale else ("replicas",)
            raise GenerateError([Problem(problem, ("components", name, *place))])
        assert tech.data_path is not None
        return kafka_env(self.system, name, self.params.namespace, tech.port, tech.data_path,
                         resources_for(self.system, name).memory_mib)

    def _service(self, name: str, tech: Tech, headless: bool) -> dict[str, Any]:
        spec: dict[str, Any] = {"selector": self._selector(name), "ports": [
            {"name": tech.port_name, "port": tech.port, "targetPort": tech.port,
             "protocol": "TCP"}]}
        if headless:
            spec = {"clusterIP": "None", **spec}
        if self._runs_kafka(name):
            # a Kafka pod reaches the voters, itself included, by their DNS names before
            # any is ready: the headless Service publishes them from the start
            spec["publishNotReadyAddresses"] = True
        return {"apiVersion": "v1", "kind": "Service", "metadata": self._metadata(name),
                "spec": spec}

    def _external_service(self, name: str, tech: Tech) -> dict[str, Any]:
        host = f"{dns_label(name)}.{EXTERNAL_HOST_SUFFIX}"
        note = {"scalesim.io/note": f"placeholder: set spec.externalName to the real host "
                                    f"of '{name}' (the .invalid name never resolves)"}
        return {"apiVersion": "v1", "kind": "Service", "metadata": self._metadata(name, "", note),
                "spec": {"type": "ExternalName", "externalName": host,
                         "ports": [{"name": tech.port_name, "port": tech.port,
                                    "protocol": "TCP"}]}}

    def _disruption_budget(self, name: str) -> dict[str, Any]:
        """One pod down at a time; none of a Kafka cluster of 2 voters, which loses its
        KRaft majority with one down (a drain waits, where it would stall the cluster; one
        voter has no majority to keep, and 3 or more keep theirs with one down)."""
        most = 1
        if self._runs_kafka(name) and kafka_nodes(self.system.components[name]) == 2:
            most = 0
        return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": self._metadata(name),
                "spec": {"maxUnavailable": most,
                         "selector": {"matchLabels": self._selector(name)}}}

    def _ingress(self, name: str) -> dict[str, Any]:
        annotations = ({KONG_PLUGINS_ANNOTATION: kong_plugin_name(name)}
                       if self.system.components[name].rate_limit else None)
        backend = {"service": {"name": dns_label(name), "port": {"number": HTTP_PORT}}}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": self._metadata(name, "", annotations),
                "spec": {"rules": [{"http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": backend}]}}]}}


NAMESPACE_FILE = "k8s/namespace.yaml"


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    builder = KubernetesBuilder(system, options,
                                Literal(options.namespace, system_label(system.name)))
    comment = banner(system.name, "k8s")
    files = [yaml_file(NAMESPACE_FILE, [builder.namespace()], comment, None)]
    files += [yaml_file(f"k8s/{dns_label(name)}.yaml", builder.component(name), comment, name)
              for name in system.components]
    return files

