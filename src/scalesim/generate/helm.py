"""A Helm chart rendering the Kubernetes target's objects, tunable through values.yaml.

The Kubernetes builder runs with placeholder parameters; each placeholder becomes a
`{{ (index .Values.components "NAME").KEY }}` expression and its value goes to values.yaml,
so the chart with its default values renders exactly what `--target k8s` writes.
values.schema.json, derived from the values, makes Helm refuse a mistyped override.
"""

from __future__ import annotations

import json
from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, to_json, to_yaml
from scalesim.generate.kubernetes import KubernetesBuilder
from scalesim.generate.naming import dns_label, system_label
from scalesim.spec.model import System

RELEASE_NAMESPACE = "SCALESIMRELEASENAMESPACE"
RELEASE_NAME = "SCALESIMRELEASENAME"
MINIMUM = {"replicas": 1, "periodSeconds": 1, "timeoutSeconds": 1, "successThreshold": 1,
           "failureThreshold": 1, "initialDelaySeconds": 0, "minReplicas": 1,
           "maxReplicas": 1}


class Placeholders:
    """Params that record each value and stand in for it with a unique token."""

    def __init__(self) -> None:
        self.namespace = RELEASE_NAMESPACE
        self.instance = RELEASE_NAME
        self.values: dict[str, Any] = {"components": {}}
        self.expressions: dict[str, str] = {RELEASE_NAMESPACE: "{{ .Release.Namespace }}",
                                            RELEASE_NAME: "{{ .Release.Name }}"}
        self._tokens: dict[tuple[str, str], str] = {}

    def _token(self, component: str, key: str, concrete: Any, pipeline: str) -> str:
        if (component, key) not in self._tokens:
            node = self.values["components"].setdefault(component, {})
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = concrete
            token = f"SCALESIMVALUE{len(self._tokens):04d}X"
            self._tokens[component, key] = token
            self.expressions[token] = (f'{{{{ (index .Values.components "{component}").{key}'
                                       f"{pipeline} }}}}")
        return self._tokens[component, key]

    def value(self, component: str, key: str, concrete: Any) -> Any:
        return self._token(component, key, concrete, " | quote" if isinstance(concrete, str)
                           else "")

    def json(self, component: str, key: str, concrete: Any) -> str:
        """A JSON value in a ConfigMap: in values.yaml the object, overridable key by key and
        rendered with `toJson`; or, when it holds a null, its JSON text, since Helm deletes
        a key whose value is null from the values (Kafka's `max_attempts: null` would be
        lost). One that names the release (a Lease's namespace) holds Helm expressions in
        values.yaml, rendered by `tpl`, so values.yaml says where the release puts it and
        the chart renders what the Kubernetes target writes."""
        value = to_json(concrete) if holds_null(concrete) else concrete
        as_json = "" if isinstance(value, str) else " | toJson"
        text = json.dumps(value)
        if RELEASE_NAMESPACE not in text and RELEASE_NAME not in text:
            return self._token(component, key, value, f"{as_json} | quote")
        for marker in (RELEASE_NAMESPACE, RELEASE_NAME):
            text = text.replace(marker, self.expressions[marker])
        token = self._token(component, key, json.loads(text), "")
        expression = self.expressions[token].removeprefix("{{ ").removesuffix(" }}")
        if not expression.startswith("tpl "):
            self.expressions[token] = f"{{{{ tpl ({expression}{as_json}) $ | quote }}}}"
        return token

    def fill(self, text: str) -> str:
        """Tokens -> template expressions; longest first, so no token eats part of another."""
        for token in sorted(self.expressions, key=len, reverse=True):
            text = text.replace(token, self.expressions[token])
        return text


def holds_null(value: Any) -> bool:
    """Whether a JSON value has a null anywhere, which values.yaml cannot carry."""
    if isinstance(value, dict):
        return any(holds_null(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_null(item) for item in value)
    return value is None


def values_schema(value: Any, key: str = "") -> dict[str, Any]:
    """A strict JSON Schema of the values: every key required, no unknown keys; component
    settings, broker and consistency settings stay free-form (they are the spec's own
    objects, or the JSON text of one holding a null)."""
    if key in ("settings", "broker", "consistency"):
        return {"type": "string" if isinstance(value, str) else "object"}
    if isinstance(value, dict):
        return {"type": "object", "additionalProperties": False,
                "required": list(value),
                "properties": {k: values_schema(v, k) for k, v in value.items()}}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer", "minimum": min(MINIMUM.get(key, 0), value)}  # 0 replicas
    return {"type": "string", "minLength": 1}


def _objects(system: System, options: GenerateOptions,
             placeholders: Placeholders) -> dict[str, list[dict[str, Any]]]:
    """Each component's objects, with the placeholders' tokens for its values."""
    builder = KubernetesBuilder(system, options, placeholders)
    return {name: builder.component(name) for name in system.components}


def upgrade_setting(system: System, options: GenerateOptions) -> str | None:
    """A `--set` the values schema takes, for the README's `helm upgrade` example: the
    replicas of the first component that has them (an autoscaled one has none: its scaler
    owns the count), else a larger autoscale bound; None when no component has either."""
    placeholders = Placeholders()
    _objects(system, options, placeholders)
    components: dict[str, dict[str, Any]] = placeholders.values["components"]
    for key, values in components.items():
        if "replicas" in values:
            return f"components.{key}.replicas={values['replicas'] + 1}"
    for key, values in components.items():
        if "autoscale" in values:
            return (f"components.{key}.autoscale.maxReplicas="
                    f"{2 * values['autoscale']['maxReplicas']}")
    return None


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    placeholders = Placeholders()
    chart = system_label(system.name)
    comment = banner(system.name, "helm")
    templates = [GeneratedFile(f"helm/{chart}/templates/{dns_label(name)}.yaml",
                               placeholders.fill(to_yaml(objects, comment)))
                 for name, objects in _objects(system, options, placeholders).items()]
    chart_yaml = {"apiVersion": "v2", "name": chart,
                  "description": system.description or f"The {system.name} system",
                  "type": "application", "version": "0.1.0", "appVersion": "latest",
                  "kubeVersion": f">= {options.k8s_version}.0-0"}
    return [GeneratedFile(f"helm/{chart}/Chart.yaml", to_yaml([chart_yaml], comment)),
            GeneratedFile(f"helm/{chart}/values.yaml",
                          to_yaml([placeholders.values], comment)),
            GeneratedFile(f"helm/{chart}/values.schema.json",
                          json.dumps(values_schema(placeholders.values), indent=2) + "\n"),
            *templates]
