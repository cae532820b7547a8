"""The Compose file runs the generated system: it has the shapes the Compose Specification
requires (the schema itself is checked in test_compose_schema.py), every service is built
from a generated folder with a Dockerfile, and every address a service's code reads is set,
to a Compose service that serves HTTP on that port.

No Docker engine runs here: test_compose_runs.py starts the same services as processes with
the environment this file gives them.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from tests.generate.helpers import SPECS, generate

from scalesim.generate import GeneratedFile, Target
from scalesim.generate.resources import resources_for
from scalesim.spec import load_spec

TOP_LEVEL = {"version", "name", "services", "networks", "volumes", "configs", "secrets",
             "include", "models"}
SERVICE_KEYS = {"build", "image", "environment", "ports", "healthcheck", "deploy", "labels",
                "depends_on"}
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SERVICE_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
READS = re.compile(r'service_url\(\s*"([^"]+)",')  # what a generated app.py calls
CMD = re.compile(r'^CMD \["sh", "-c", "exec uvicorn app:app --host 0\.0\.0\.0 '
                 r'--port \$\{PORT\}"\]$', re.MULTILINE)


def files(spec: str) -> dict[str, str]:
    return {file.path: file.content for file in generate(SPECS[spec], Target.COMPOSE)}


def compose(generated: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(generated["compose/compose.yaml"])
    return data


def folder(service: dict[str, Any]) -> str:
    """The build context as a path of the generated tree."""
    return posixpath.normpath(posixpath.join("compose", service["build"]["context"]))


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_compose_structure(spec: str) -> None:
    data = compose(files(spec))
    assert set(data) <= TOP_LEVEL
    assert PROJECT_NAME.match(data["name"])
    services = data["services"]
    for name, service in services.items():
        assert SERVICE_NAME.match(name)
        assert set(service) <= SERVICE_KEYS and {"build", "image", "healthcheck"} <= set(service)
        assert all(isinstance(v, str) for v in service["environment"].values())
        assert all(isinstance(v, str) for v in service["labels"].values())
        assert isinstance(service["deploy"]["replicas"], int)
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in services and how["condition"] == "service_healthy"
        check = service["healthcheck"]
        assert check["test"][0] == "CMD"
        assert all(DURATION.match(check[k]) for k in ("interval", "timeout", "start_period"))
        assert isinstance(check["retries"], int) and check["retries"] >= 1


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_every_service_is_built_from_a_generated_folder_with_a_dockerfile(spec: str) -> None:
    generated = files(spec)
    services = compose(generated)["services"]
    assert set(services) == {name.lower() for name in
                             {path.split("/")[1] for path in generated if path.startswith("code/")
                              and path.count("/") == 2}}
    for name, service in services.items():
        context = folder(service)
        assert context == f"code/{name}"
        dockerfile = generated[f"{context}/Dockerfile"]
        assert f"{context}/app.py" in generated and f"{context}/requirements.txt" in generated
        assert CMD.search(dockerfile), dockerfile  # serves HTTP on $PORT
        assert "COPY *.py ./" in dockerfile


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_every_address_a_service_reads_is_an_http_service_on_its_port(spec: str) -> None:
    generated = files(spec)
    services = compose(generated)["services"]
    reads_checked = 0
    for service in services.values():
        environment = service["environment"]
        app = generated[f"{folder(service)}/app.py"]
        read = {component.upper().replace("-", "_") + "_URL" for component in READS.findall(app)}
        # Exactly what the code reads is set: nothing falls back to localhost, nothing extra.
        assert {key for key in environment if key.endswith("_URL")} == read
        for variable in read:
            address = urlparse(environment[variable])
            assert address.scheme == "http" and address.path == ""
            callee = services[str(address.hostname)]
            assert address.port == int(callee["environment"]["PORT"])  # where it listens
            assert folder(callee) == f"code/{address.hostname}"  # and it is that component
            reads_checked += 1
        check = " ".join(service["healthcheck"]["test"])
        assert f"http://localhost:{environment['PORT']}/ready" in check
    assert reads_checked >= 5


def test_no_component_needs_an_image_of_its_own() -> None:
    # Databases, caches, queues and external APIs are HTTP stand-ins: nothing runs a
    # registry-only or third-party image, and no password or volume is needed.
    for spec in SPECS:
        data = compose(files(spec))
        assert "volumes" not in data
        for service in data["services"].values():
            assert "build" in service
            assert not any("PASSWORD" in value for value in service["environment"].values())


def test_depends_on_has_no_cycle_and_entry_points_publish_their_port() -> None:
    services = compose(files("small"))["services"]
    graph = {name: set(s.get("depends_on", {})) for name, s in services.items()}

    def cyclic(node: str, path: tuple[str, ...]) -> bool:
        return node in path or any(cyclic(n, (*path, node)) for n in graph[node])

    assert not any(cyclic(name, ()) for name in graph)
    # worker publishes to tasks and tasks delivers to worker: one of the two edges goes.
    assert ("worker" in graph["tasks"]) != ("tasks" in graph["worker"])
    assert services["edge"]["depends_on"]["api"] == {"condition": "service_healthy"}
    assert services["edge"]["healthcheck"]["interval"] == "2s"
    assert services["edge"]["ports"] == ["8080"]
    assert [name for name, s in services.items() if "ports" in s] == ["edge"]
    assert services["edge"]["labels"] == {"kompose.service.type": "loadbalancer",
                                          "scalesim.io/kind": "gateway"}
    assert services["vendor"]["build"] == {"context": "../code/vendor"}
    assert services["api"]["environment"]["VENDOR_URL"] == "http://vendor:8080"
    assert services["api"]["environment"]["STORE_URL"] == "http://store:8080"


def test_the_compose_target_files_are_the_code_targets() -> None:
    compose_files = {f.path: f for f in generate(SPECS["small"], Target.COMPOSE)}
    code_files: list[GeneratedFile] = generate(SPECS["small"], Target.CODE)
    for file in code_files:
        assert compose_files[file.path] == file


def test_labels_name_kind_and_tech_and_cpus_are_the_k8s_cpu_request() -> None:
    """The stand-in images do not show what a component is, so the labels do; the CPU
    reservation is the request the k8s target writes, so both import back alike."""
    system = load_spec(SPECS["small"])
    services = compose(files("small"))["services"]
    for name, component in system.components.items():
        labels = services[name]["labels"]
        assert labels["scalesim.io/kind"] == component.kind.value
        assert labels.get("scalesim.io/tech") == component.tech
        reserved = services[name]["deploy"]["resources"]["reservations"]["cpus"]
        assert float(reserved) * 1000 == resources_for(system, name).cpu_m
