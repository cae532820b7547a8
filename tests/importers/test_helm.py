"""Helm charts render (with the helm binary, else Helm's Go SDK) and import with their values."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from scalesim.generate import GenerateOptions, Target, render
from scalesim.importers import ImportFailed, import_helm
from scalesim.importers import helm as helm_module
from scalesim.spec import System, load_spec, load_spec_text
from scalesim.spec.model import Kind

ROOT = Path(__file__).resolve().parents[2]
HAS_BINARY = shutil.which("helm") is not None
HAS_SDK = importlib.util.find_spec("helm_python") is not None
needs_helm = pytest.mark.skipif(
    not (HAS_BINARY or HAS_SDK),
    reason="neither the helm binary nor helm-python-sdk is installed (pip install "
    "'scalesim[helm]' or the dev extra installs the SDK)")

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: storefront\nversion: 1.2.0\n",
    "values.yaml": """\
image: {registry: ghcr.io/acme, tag: "1.0"}
services:
  api: {replicas: 2, port: 8080, calls: [catalog, db]}
  catalog: {replicas: 1, port: 8080, calls: [db]}
  worker: {replicas: 1, port: 8080, calls: [db, queue]}
ingress: {enabled: false, service: api}
db: {image: "postgres:16", resources: {limits: {cpu: "2"}}}
""",
    "templates/_helpers.tpl": """\
{{- define "storefront.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: {{ .root.Chart.Name }}
{{- end }}
""",
    "templates/services.yaml": """\
{{- range $name, $svc := .Values.services }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "storefront.labels" (dict "name" $name "root" $) | nindent 4 }}
spec:
  replicas: {{ $svc.replicas }}
  selector:
    matchLabels: {app: {{ $name }}}
  template:
    metadata:
      labels: {app: {{ $name }}}
    spec:
      containers:
        - name: app
          image: "{{ $.Values.image.registry }}/{{ $name }}:{{ $.Values.image.tag }}"
          ports: [{containerPort: {{ $svc.port }}}]
          env:
          {{- range $svc.calls }}
            - name: {{ upper . }}_URL
              value: "http://{{ . }}.{{ $.Release.Namespace }}.svc.cluster.local"
          {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
spec:
  selector: {app: {{ $name }}}
  ports: [{name: http, port: 80, targetPort: {{ $svc.port }}}]
{{- end }}
""",
    "templates/data.yaml": """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: postgres
          image: {{ .Values.db.image | quote }}
          {{- with .Values.db.resources }}
          resources: {{ toJson . }}
          {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: tcp-postgres, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: queue
spec:
  serviceName: queue
  selector:
    matchLabels: {app: queue}
  template:
    metadata:
      labels: {app: queue}
    spec:
      containers:
        - name: rabbitmq
          image: rabbitmq:3.13
---
apiVersion: v1
kind: Service
metadata:
  name: queue
spec:
  selector: {app: queue}
  ports: [{name: tcp-amqp, port: 5672}]
""",
    "templates/ingress.yaml": """\
{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: storefront
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: {{ .Values.ingress.service }}, port: {number: 80}}
{{- end }}
""",
}
PRODUCTION = """\
services:
  api: {replicas: 6}
ingress: {enabled: true}
"""


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    folder = tmp_path / "storefront"
    for name, text in CHART.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (tmp_path / "production.yaml").write_text(PRODUCTION)
    return folder


@needs_helm
def test_chart_with_values_overrides_imports_as_expected(chart: Path) -> None:
    imported = import_helm(str(chart), [str(chart.parent / "production.yaml")],
                           ["services.worker.replicas=3"], namespace="shop")
    system = imported.system
    assert system.name == "storefront"
    assert {name: (c.kind, c.replicas) for name, c in system.components.items()} == {
        "api": (Kind.GATEWAY, 6),           # the override, and the Ingress it enables
        "catalog": (Kind.SERVICE, 1), "worker": (Kind.SERVICE, 3),   # --set
        "db": (Kind.DATABASE, 1), "queue": (Kind.QUEUE, 1)}
    assert system.components["db"].workers == 2        # 2 cores
    calls = {name: [c.to for c in op.calls] for name, component in system.components.items()
             for op in component.operations.values()}
    assert calls["api"] == ["catalog", "db"]
    assert calls["catalog"] == ["db"]
    assert calls["worker"] == ["db"]
    assert [c.to for c in system.components["queue"].consumers] == ["worker"]
    assert [w.to for w in system.workloads] == ["api"]
    assert "# from helm:storefront/templates/services.yaml:" in imported.text


@needs_helm
def test_default_values_render_without_the_ingress(chart: Path) -> None:
    system = import_helm(str(chart)).system
    assert system.components["api"].kind is Kind.SERVICE
    assert system.components["api"].replicas == 2


def write_chart(system: System, folder: Path) -> None:
    """The chart `generate --target helm` writes, under `folder`/helm/<name>."""
    for file in render(system, Target.HELM, GenerateOptions()):
        target = folder / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content)


@needs_helm
def test_generated_chart_imports_with_a_changed_value(tmp_path: Path) -> None:
    system = load_spec(ROOT / "examples" / "shop.yaml")
    write_chart(system, tmp_path)
    back = import_helm(str(tmp_path / "helm" / "shop"),
                       sets=["components.orders.replicas=7"]).system
    assert back.components["orders"].replicas == 7
    assert {n: c.replicas for n, c in back.components.items() if n != "orders"} == \
        {n: c.replicas for n, c in system.components.items()
         if n != "orders" and c.kind is not Kind.EXTERNAL} | {"payments": 1}


AUTOSCALED = """
scalesim: 1
name: started
components:
  api:
    replicas: 6
    autoscale: {min: 3, max: 20, metrics: [{cpu: 70%}]}
    operations: {get: {work: 5ms}}
workloads: [{name: users, to: api, rate: 10/s}]
"""


@needs_helm
def test_a_generated_chart_brings_back_an_autoscaled_start(tmp_path: Path) -> None:
    """The chart gives an autoscaled workload no replicas value; the spec's start, 6 and
    not the minimum 3, comes back from component.json."""
    write_chart(load_spec_text(AUTOSCALED, "started.yaml"), tmp_path)
    api = import_helm(str(tmp_path / "helm" / "started")).system.components["api"]
    assert api.autoscale is not None
    assert (api.replicas, api.autoscale.min) == (6, 3)


@needs_helm
def test_a_template_that_does_not_render_names_its_file_and_line(chart: Path) -> None:
    (chart / "templates" / "broken.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nothing.here }}\n")
    with pytest.raises(ImportFailed) as caught:
        import_helm(str(chart))
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(chart / "templates" / "broken.yaml"), 4)
    assert "does not render" in problem.message


def test_a_malformed_values_file_names_its_line(chart: Path) -> None:
    bad = chart.parent / "bad.yaml"
    bad.write_text("services:\n  api: {replicas: 2\n")
    with pytest.raises(ImportFailed) as caught:
        import_helm(str(chart), [str(bad)])
    # the parser runs out of text at line 3; the file's last is 2 (it said 3)
    assert (caught.value.problems[0].file, caught.value.problems[0].line) == (str(bad), 2)


def test_a_folder_that_is_not_a_chart(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=r"not a Helm chart folder: no Chart\.yaml"):
        import_helm(str(tmp_path))


def test_without_helm_the_error_says_how_to_get_it(chart: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm_module.shutil, "which", lambda _: None)
    monkeypatch.setitem(sys.modules, "helm_python", None)   # makes the import fail
    with pytest.raises(ImportFailed) as caught:
        import_helm(str(chart))
    message = caught.value.problems[0].message
    assert "install the helm binary" in message and "scalesim[helm]" in message
    assert "helm template NAME CHART | scalesim import k8s -" in message


def test_values_merge_as_helm_merges_them() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 1}
    # a null is kept: coalescing with the chart's own values.yaml deletes the key there
    assert helm_module.merge(base, {"a": {"c": 3}, "d": [3], "e": None}) == \
        {"a": {"b": 1, "c": 3}, "d": [3], "e": None}


@needs_helm
@pytest.mark.parametrize(("values", "sets"), [
    (["db: {resources: null}"], []), ([], ["db.resources=null"]),
    (["db: {resources: {limits: {cpu: '4'}}}"], ["db.resources=null"]),
    (["db: {resources: {limits: {cpu: '4'}}}", "db: {resources: null}"], [])])
def test_a_null_value_deletes_the_charts_default(chart: Path, values: list[str],
                                                 sets: list[str]) -> None:
    """As Helm does, even over a value an earlier file set: the chart's default CPU limit
    is gone, so db's workers are those of a container with no CPU request or limit (1),
    not its 2 cores."""
    files = []
    for index, text in enumerate(values):
        files.append(chart.parent / f"override-{index}.yaml")
        files[-1].write_text(text + "\n")
    db = import_helm(str(chart), [str(file) for file in files], sets).system.components["db"]
    assert db.workers == 1


FAKE_HELM = """#!/bin/sh
# Stands in for `helm template`: records its arguments, prints what helm would.
printf '%s\\n' "$@" > "$(dirname "$0")/args"
if [ -n "$FAIL" ]; then
  echo 'Error: template: storefront/templates/services.yaml:12:20: executing "x"' >&2
  exit 1
fi
cat <<'OUT'
---
# Source: storefront/templates/services.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 4
  template:
    spec:
      containers: [{name: api, image: acme/api}]
OUT
"""


def test_the_helm_binary_is_used_when_installed(chart: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "bin" / "helm"
    binary.parent.mkdir()
    binary.write_text(FAKE_HELM)
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", f"{binary.parent}:/usr/bin:/bin")
    values = chart.parent / "production.yaml"
    imported = import_helm(str(chart), [str(values)], ["a=1"], release="r1", namespace="ns")
    args = (binary.parent / "args").read_text().split()
    assert args == ["template", "r1", str(chart), "--namespace", "ns", "--values", str(values),
                    "--set", "a=1"]
    assert imported.system.components["api"].replicas == 4
    assert "# from helm:storefront/templates/services.yaml:8: Deployment api, spec.replicas" \
        in imported.text
    monkeypatch.setenv("FAIL", "1")
    with pytest.raises(ImportFailed) as caught:
        import_helm(str(chart))
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(chart / "templates" / "services.yaml"), 12)


@pytest.mark.parametrize(("message", "line", "text"), [
    # Helm's `required` and `fail`: the place in parentheses, the message after it
    ("execution error at (shop/templates/api.yaml:19:40): api.image is required", 19,
     "the chart does not render: api.image is required"),
    ('template: shop/templates/api.yaml:4:14: executing "shop/templates/api.yaml" at '
     "<.Values.a.b>: nil pointer", 4, 'the chart does not render: executing '
     '"shop/templates/api.yaml" at <.Values.a.b>: nil pointer'),
])
def test_a_render_error_names_the_template_line_and_helms_message(
        message: str, line: int, text: str) -> None:
    """Not '): api.image is required' (the parenthesis was read as part of the message)."""
    problem = helm_module._render_error("charts/shop", message).problems[0]
    assert (problem.file, problem.line, problem.message) == \
        (str(Path("charts/shop") / "templates" / "api.yaml"), line, text)
