"""generate, then import: every example and template comes back with the same topology,
replicas, timeouts, retries and outlier settings; generating again gives the same files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim.generate import GeneratedFile, GenerateOptions, Target, render
from scalesim.generate.envoy import istio_retries, route_timeout_s
from scalesim.generate.istio import mesh_routed
from scalesim.generate.tech import runs_as_deployment
from scalesim.generate.topology import first_edge_per_caller
from scalesim.importers import import_compose, import_k8s
from scalesim.spec import System, load_spec
from scalesim.spec.checks import iter_calls
from scalesim.spec.model import Call, Kind
from scalesim.templates import TEMPLATES, load_built

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = GenerateOptions(namespace="demo", image_registry="registry.example/demo")
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CASES = [pytest.param(("example", path.stem), id=path.stem) for path in EXAMPLES] + \
    [pytest.param(("template", t.id), id=t.id) for t in TEMPLATES]


def original(case: tuple[str, str]) -> System:
    kind, name = case
    if kind == "example":
        return load_spec(ROOT / "examples" / f"{name}.yaml")
    return load_built(next(t for t in TEMPLATES if t.id == name).build())


def write(files: Iterable[GeneratedFile], folder: Path) -> None:
    for file in files:
        target = folder / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content)


def topology(system: System) -> set[tuple[str, str]]:
    """Who reaches whom, as component pairs: calls, cache misses and queue deliveries."""
    pairs = {(caller.lower(), system.resolve(call.to)[0].lower())
             for caller, _, _, call in iter_calls(system)}
    for name, component in system.components.items():
        if component.backend is not None:
            pairs.add((name.lower(), system.resolve(component.backend)[0].lower()))
        pairs |= {(name.lower(), system.resolve(c.to)[0].lower()) for c in component.consumers}
    return pairs


def call_between(system: System, caller: str, callee: str) -> Call:
    return next(call for name, _, _, call in iter_calls(system)
                if name == caller and system.resolve(call.to)[0] == callee)


def documents(files: Iterable[GeneratedFile]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for file in files
            if file.path.endswith(".yaml") and "/chaos/" not in file.path
            for doc in yaml.safe_load_all(file.content) if doc}


def imported_from_k8s(system: System, folder: Path) -> System:
    files = [f for target in (Target.K8S, Target.ISTIO, Target.KEDA)
             for f in render(system, target, OPTIONS)]
    write(files, folder)
    folders = [str(folder / name) for name in ("k8s", "istio", "keda")
               if (folder / name).is_dir()]
    return import_k8s(folders).system


@pytest.mark.parametrize("case", CASES)
def test_k8s_and_istio_round_trip(case: tuple[str, str], tmp_path: Path) -> None:
    system = original(case)
    back = imported_from_k8s(system, tmp_path)
    assert set(back.components) == {name.lower() for name in system.components}
    assert topology(back) == topology(system)
    for name, component in system.components.items():
        again = back.components[name.lower()]
        if component.kind is not Kind.EXTERNAL:
            assert again.replicas == component.replicas, name
        if component.kind in (Kind.GATEWAY, Kind.EXTERNAL) or not runs_as_deployment(component):
            assert again.kind is component.kind, name      # the objects say what it is
        if component.outlier_detection is not None:
            assert again.outlier_detection is not None
            assert again.outlier_detection.model_dump(exclude={"max_ejection_time"}) == \
                component.outlier_detection.model_dump(exclude={"max_ejection_time"})
        if not mesh_routed(system, name):
            continue
        for edge in first_edge_per_caller(system, name):
            call = edge.call
            back_call = back.effective(call_between(back, edge.caller.lower(), name.lower()))
            assert istio_retries(back_call) == istio_retries(call), (edge.caller, name)
            assert route_timeout_s(back_call) == pytest.approx(route_timeout_s(call)) \
                if route_timeout_s(call) is not None else route_timeout_s(back_call) is None
            if istio_retries(call) > 0:
                assert back_call.timeout == call.timeout, (edge.caller, name)
    generate_again(system, back)


# A Lease election's RBAC: leader_election is not imported (docs/import.md).
LEASE_RBAC = ("ServiceAccount", "Role", "RoleBinding")


def generate_again(system: System, back: System) -> None:
    """The mapping inverts the generator's: generating the import gives the same
    DestinationRules, routes and probes (for components that run the same way)."""
    same_kind = {name.lower() for name, c in system.components.items()
                 if back.components[name.lower()].kind is c.kind
                 and runs_as_deployment(back.components[name.lower()]) == runs_as_deployment(c)}
    before = documents(render(system, Target.ISTIO, OPTIONS) + render(system, Target.K8S, OPTIONS))
    after = documents(render(back, Target.ISTIO, OPTIONS) + render(back, Target.K8S, OPTIONS))
    for (kind, name), doc in before.items():
        if name.removesuffix("-settings") not in same_kind or kind in LEASE_RBAC:
            continue
        again = after[kind, name]
        if kind == "DestinationRule":
            assert again["spec"] == doc["spec"], name
        elif kind == "VirtualService":
            assert [(r["name"], r.get("timeout"), r["retries"]) for r in again["spec"]["http"]] \
                == [(r["name"], r.get("timeout"), r["retries"]) for r in doc["spec"]["http"]]
        elif kind in ("Deployment", "StatefulSet"):
            first, second = (d["spec"]["template"]["spec"]["containers"][0] for d in (doc, again))
            for probe in ("readinessProbe", "livenessProbe"):
                assert second.get(probe) == first.get(probe), (name, probe)
            assert sorted(e["name"] for e in second["env"]) == \
                sorted(e["name"] for e in first["env"]), name


@pytest.mark.parametrize("case", CASES)
def test_compose_round_trip(case: tuple[str, str], tmp_path: Path) -> None:
    system = original(case)
    files = render(system, Target.COMPOSE, OPTIONS)
    write(files, tmp_path)
    back = import_compose([str(tmp_path / "compose")]).system
    assert topology(back) == topology(system)
    for name, component in system.components.items():
        assert back.components[name.lower()].replicas == component.replicas, name
    compose = next(f.content for f in files if f.path == "compose/compose.yaml")
    again = next(f.content for f in render(back, Target.COMPOSE, OPTIONS)
                 if f.path == "compose/compose.yaml")
    assert again.split("\n", 2)[2] == compose.split("\n", 2)[2]   # all but the banner
