"""Rendering a Helm chart to manifests, with the `helm` binary or Helm's Go SDK as a library.

`helm template` is used when `helm` is on the PATH; otherwise helm-python-sdk (`pip install
'scalesim[helm]'`), which binds Helm's own Go SDK, renders the chart the same way. Values
files merge as Helm merges them (maps key by key, later files win, a null removes a key),
then `--set` values apply. A template that does not render is reported at its file and line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scalesim.importers.errors import ImportFailed, Problem, fail
from scalesim.importers.sources import Document, parse, read_text

HOW_TO_GET_HELM = ("rendering a chart needs Helm: install the helm binary "
                   "(https://helm.sh/docs/intro/install/) or `pip install 'scalesim[helm]'`; "
                   "or render it yourself and import the output: "
                   "`helm template NAME CHART | scalesim import k8s -`")
# 'c/templates/x.yaml:12:3: executing …', or a `required`/`fail` error's
# 'execution error at (c/templates/x.yaml:19:40): api.image is required'
_TEMPLATE_AT = re.compile(r"([^\s:()]+\.(?:yaml|yml|tpl|json|txt)):(\d+)(?::\d+)?\)?:?\s*(.*)",
                          re.DOTALL)
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)
TIMEOUT_S = 120


def chart_name(chart: str) -> str:
    """The chart's name from its Chart.yaml; an error when the folder is not a chart."""
    chart_yaml = Path(chart) / "Chart.yaml"
    if not chart_yaml.is_file():
        raise fail(chart, 0, "not a Helm chart folder: no Chart.yaml")
    documents = parse(read_text(str(chart_yaml)), str(chart_yaml))
    data = documents[0].data if documents else None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise fail(str(chart_yaml), 1, "Chart.yaml needs a 'name'")
    return str(data["name"])


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's merging of the values given: maps merge, anything else replaces. A null is
    kept, not dropped: rendering coalesces it with the chart's own values.yaml, where it
    deletes the key (dropped here, the chart's default would come back)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def values_from(files: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for file in files:
        documents = parse(read_text(file), file)
        data = documents[0].data if documents else {}
        if not isinstance(data, dict):
            raise fail(file, documents[0].line if documents else 1,
                       "a values file is a YAML mapping")
        values = merge(values, _plain(data))
    return values


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (for JSON and the SDK)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def render(chart: str, values: Sequence[str], sets: Sequence[str], release: str,
           namespace: str) -> list[Document]:
    """Every document the chart renders to, labelled `helm:<template path>`."""
    chart_name(chart)
    binary = shutil.which("helm")
    if binary is not None:
        return _with_binary(binary, chart, values, sets, release, namespace)
    try:
        import helm_python
    except ImportError:
        raise fail(chart, 0, HOW_TO_GET_HELM) from None
    return _with_sdk(helm_python, chart, values, sets, release, namespace)


def _with_binary(binary: str, chart: str, values: Sequence[str], sets: Sequence[str],
                 release: str, namespace: str) -> list[Document]:
    values_from(values)  # located errors for a malformed values file, before Helm's
    command = [binary, "template", release, chart, "--namespace", namespace]
    for file in values:
        command += ["--values", file]
    for assignment in sets:
        command += ["--set", assignment]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise fail(chart, 0, f"helm template failed: {error}") from None
    if done.returncode != 0:
        raise _render_error(chart, done.stderr.strip() or done.stdout.strip())
    return _split(done.stdout)


def _with_sdk(sdk: Any, chart: str, values: Sequence[str], sets: Sequence[str], release: str,
              namespace: str) -> list[Document]:
    merged = values_from(values)
    try:
        for assignment in sets:
            merged = merge(merged, sdk.parse_set_string(assignment))
        loaded = sdk.Chart.load(chart)
        rendered: dict[str, str] = loaded.render(merged, name=release, namespace=namespace)
    except sdk.HelmError as error:
        raise _render_error(chart, str(error)) from None
    documents: list[Document] = []
    for path in sorted(rendered):
        if path.endswith((".yaml", ".yml", ".json")) and rendered[path].strip():
            documents += parse(rendered[path], f"helm:{path}")
    return documents


def _split(output: str) -> list[Document]:
    """`helm template` output, each document labelled by its `# Source:` template."""
    documents: list[Document] = []
    for chunk in re.split(r"^---\s*$", output, flags=re.MULTILINE):
        source = _SOURCE.search(chunk)
        if chunk.strip():
            documents += parse(chunk, f"helm:{source.group(1) if source else 'output'}")
    return documents


def _render_error(chart: str, message: str) -> ImportFailed:
    """Helm names the template and line that failed ('c/templates/x.yaml:12:3: executing')."""
    found = _TEMPLATE_AT.search(message)
    if found is not None:
        template = found.group(1)
        relative = template.split("/", 1)[1] if "/" in template else template
        return ImportFailed([Problem(str(Path(chart) / relative), int(found.group(2)),
                                     "the chart does not render: "
                                     + " ".join(found.group(3).split()))])
    return ImportFailed([Problem(chart, 0, f"the chart does not render: {message}")])
