"""The Compose file has the shapes the Compose Specification requires.

The official compose-spec JSON schema is not available offline here (no installed package
bundles it, and fetched files are not committed), so these are structural checks of the
parts we write: top-level keys, service keys, depends_on conditions, healthcheck durations,
named volumes, and that every address is a started service or an environment variable.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from tests.generate.helpers import SPECS, generate

from scalesim.generate import Target

TOP_LEVEL = {"version", "name", "services", "networks", "volumes", "configs", "secrets",
             "include", "models"}
SERVICE_KEYS = {"image", "environment", "ports", "volumes", "healthcheck", "deploy", "labels",
                "depends_on", "command", "build"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SERVICE_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")


def compose(spec: str) -> dict[str, Any]:
    (file,) = generate(SPECS[spec], Target.COMPOSE)
    data: dict[str, Any] = yaml.safe_load(file.content)
    return data


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_compose_structure(spec: str) -> None:
    data = compose(spec)
    assert set(data) <= TOP_LEVEL
    assert PROJECT_NAME.match(data["name"])
    services = data["services"]
    for name, service in services.items():
        assert SERVICE_NAME.match(name)
        assert set(service) <= SERVICE_KEYS and "image" in service
        assert all(isinstance(v, str) for v in service.get("environment", {}).values())
        assert all(isinstance(v, str) for v in service["labels"].values())
        assert isinstance(service["deploy"]["replicas"], int)
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in services and how["condition"] in CONDITIONS
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency]
        check = service.get("healthcheck")
        if check:
            assert check["test"][0] in ("CMD", "CMD-SHELL")
            assert all(DURATION.match(check[k]) for k in ("interval", "timeout", "start_period"))
            assert isinstance(check["retries"], int) and check["retries"] >= 1
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in data["volumes"]


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_addresses_are_services_or_variables(spec: str) -> None:
    services = compose(spec)["services"]
    for service in services.values():
        for name, value in service.get("environment", {}).items():
            if name.endswith("_URL") and not value.startswith("${"):
                assert urlparse(value).hostname in services


def test_depends_on_has_no_cycle_and_waits_for_health() -> None:
    services = compose("small")["services"]
    graph = {name: set(s.get("depends_on", {})) for name, s in services.items()}

    def cyclic(node: str, path: tuple[str, ...]) -> bool:
        return node in path or any(cyclic(n, (*path, node)) for n in graph[node])

    assert not any(cyclic(name, ()) for name in graph)
    assert services["edge"]["depends_on"]["api"] == {"condition": "service_healthy"}
    assert services["edge"]["healthcheck"]["interval"] == "2s"
    assert services["edge"]["labels"] == {"kompose.service.type": "loadbalancer"}
    assert services["sql"]["labels"]["kompose.controller.type"] == "statefulset"
    assert "vendor" not in services
    assert services["api"]["environment"]["VENDOR_URL"].startswith("${VENDOR_URL:?")
