"""Where a generated Kubernetes object takes its tunable numbers from.

The Kubernetes target writes the spec's values; the Helm target writes placeholders that
become `{{ ... }}` expressions over values.yaml. One builder serves both, so the chart
renders exactly the objects the Kubernetes target writes.
"""

from __future__ import annotations

from typing import Any, Protocol

from scalesim.generate.documents import to_json


class Params(Protocol):
    namespace: str
    instance: str

    def value(self, component: str, key: str, concrete: Any) -> Any:
        """The value of dotted `key` of `component`, or what stands for it."""

    def json(self, component: str, key: str, concrete: Any) -> str:
        """`concrete` as compact JSON text, or what stands for it."""


class Literal:
    """The spec's values themselves (the Kubernetes target)."""

    def __init__(self, namespace: str, instance: str) -> None:
        self.namespace = namespace
        self.instance = instance

    def value(self, component: str, key: str, concrete: Any) -> Any:
        return concrete

    def json(self, component: str, key: str, concrete: Any) -> str:
        return to_json(concrete)
