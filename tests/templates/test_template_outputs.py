"""Every template's spec feeds the siblings downstream: valid Kubernetes manifests from
`scalesim.generate` and a diagram from `scalesim.render` showing every component."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from scalesim.generate import GenerateOptions, Target, render
from scalesim.render.graph import architecture
from scalesim.render.mermaid import flowchart
from scalesim.templates import TEMPLATES, load_built

IDS = [t.id for t in TEMPLATES]
OPTIONS = GenerateOptions()


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_generates_kubernetes_manifests_that_validate(template):
    system = load_built(template.build())
    docs = [doc for file in render(system, Target.K8S, OPTIONS)
            if file.path.endswith((".yaml", ".yml"))
            for doc in yaml.safe_load_all(file.content) if doc]
    assert {"Deployment", "StatefulSet"} & {doc["kind"] for doc in docs}
    for doc in docs:
        kubernetes_validate.validate(doc, OPTIONS.k8s_version, strict=True)


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_diagram_shows_every_component(template):
    system = load_built(template.build())
    diagram = flowchart(architecture(system))
    assert diagram.startswith("flowchart")
    assert [n for n in system.components if f'"{n}<br/>' not in diagram] == []
