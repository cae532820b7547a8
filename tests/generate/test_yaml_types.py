"""Strings stay strings for the YAML 1.1 readers that deploy the files.

kubectl and Helm read manifests and values with go-yaml v2, a YAML 1.1 reader: a plain `y`,
`n`, `on` or `off` is a boolean there (yaml.org/type/bool.html), and `1e3` or `0x1F` a
number. `Yaml11Loader` is PyYAML's safe loader (YAML 1.1) with what it leaves out of those
rules added, so a name that would not come back as the same string fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import yaml
from tests.generate.helpers import OPTIONS
from tests.generate.test_helm import rendered_chart

from scalesim.generate import GenerateOptions, Target, render
from scalesim.generate.documents import reads_as_non_string, to_yaml
from scalesim.spec import load_spec_text
from scalesim.templates import get_template, load_built


class Yaml11Loader(yaml.SafeLoader):
    """PyYAML's YAML 1.1 loader plus the booleans y/Y/n/N and go-yaml's numbers without a
    dot (1e3) or with an 0o/0X/0B prefix, which PyYAML's resolver reads as strings."""

    bool_values: ClassVar[dict[str, bool]] = {**yaml.SafeLoader.bool_values,
                                              "y": True, "n": False}


Yaml11Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"),
                                   list("yYnN"))
Yaml11Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                                   re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
                                   list("-+0123456789"))
Yaml11Loader.add_implicit_resolver("tag:yaml.org,2002:int",
                                   re.compile(r"^[-+]?0[oOXB][0-9a-fA-F]+$"), list("-+0"))

# Every name is one a YAML 1.1 reader would take for a boolean or a number, written plain.
TRICKY = """
scalesim: 1
name: "no"
components:
  y:
    kind: gateway
    operations:
      get: {work: 1ms, calls: [{to: "on.1e3"}, {to: "on.0x1F"}]}
  "on":
    operations: {1e3: {work: 1ms}, "0x1F": {work: 1ms}, 08: {work: 1ms}}
  "off":
    kind: database
    replicas: 3
    replication: {mode: quorum, writes: ["true"], w: 2, r: 2}
    operations: {"true": {work: 1ms}}
workloads: [{name: w, to: y.get, rate: 10/s}]
"""
NAMES = {"y", "on", "off"}


def _keys(node: Any) -> Iterator[Any]:
    """Every mapping key of a loaded document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


@pytest.mark.parametrize("text", ["y", "Y", "n", "N", "yes", "No", "ON", "off", "True",
                                  "false", "null", "~", "", "1e3", "1E-3", "0x1F", "0o17",
                                  "0b101", "1_000", "08", ".inf", "-.Inf", ".nan", "3.5",
                                  "2024-01-31"])
def test_text_a_yaml11_reader_takes_for_another_type_is_quoted(text: str) -> None:
    assert reads_as_non_string(text)
    written = to_yaml([{text: text}])
    assert yaml.load(written, Yaml11Loader) == {text: text}
    assert yaml.safe_load(written) == {text: text}


@pytest.mark.parametrize("text", ["api", "y-settings", "no-op", "yaml", "e3", "x1F",
                                  "registry.local/scalesim/y:latest", "1.2.3", "10Gi"])
def test_plain_strings_stay_unquoted(text: str) -> None:
    assert not reads_as_non_string(text)
    assert to_yaml([{"k": text}]) == f"k: {text}\n"


def test_every_generated_yaml_keeps_its_names_strings() -> None:
    system = load_spec_text(TRICKY)
    options = GenerateOptions(namespace="n", image_registry=OPTIONS.image_registry)
    files = render(system, Target.ALL, options)
    loaded = [doc for file in files if file.path.endswith(".yaml")
              and "/templates/" not in file.path
              for doc in yaml.load_all(file.content, Yaml11Loader) if doc]
    assert loaded == [doc for file in files if file.path.endswith(".yaml")
                      and "/templates/" not in file.path
                      for doc in yaml.safe_load_all(file.content) if doc]
    assert not [key for doc in loaded for key in _keys(doc) if not isinstance(key, str)]
    objects = [doc for doc in loaded if "metadata" in doc]
    assert {doc["metadata"]["namespace"] for doc in objects
            if doc["kind"] != "Namespace"} == {"n"}
    assert next(doc for doc in objects if doc["kind"] == "Namespace")["metadata"]["name"] \
        == "n"
    assert {doc["metadata"]["labels"]["app.kubernetes.io/name"] for doc in objects
            if doc["kind"] == "Deployment"} == {"y", "on"}
    assert {doc["metadata"]["labels"]["app.kubernetes.io/part-of"] for doc in objects
            if "labels" in doc["metadata"]} == {"no"}
    values = next(doc for doc in loaded if "components" in doc)
    assert set(values["components"]) == NAMES
    assert set(values["components"]["on"]["settings"]["operations"]) == {"1e3", "0x1F", "08"}


def test_the_helm_chart_renders_the_replication_n_of_a_template() -> None:
    system = load_built(get_template("replicated-database").build())
    files = render(system, [Target.K8S, Target.HELM], OPTIONS)
    values = yaml.load(next(f.content for f in files if f.path.endswith("/values.yaml")),
                       Yaml11Loader)
    expected = [doc for f in files if f.path.startswith("k8s/") and f.path.endswith(".yaml")
                for doc in yaml.load_all(f.content, Yaml11Loader)
                if doc and doc["kind"] != "Namespace"]
    docs = rendered_chart(files, OPTIONS.namespace, values)
    assert docs == expected
    replicated = [value for doc in docs if doc["kind"] == "ConfigMap"
                  for key, value in doc["data"].items() if key == "consistency.json"]
    assert replicated and all('"n":3' in value for value in replicated)
