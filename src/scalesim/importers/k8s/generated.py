"""`component.json`, the settings `scalesim generate --target k8s` writes for a component in
the `<c>-settings` ConfigMap its pod mounts (both labelled managed-by scalesim).

They are the spec's own numbers, which the import writes instead of placeholders
(importers/own_settings.py). A ConfigMap not labelled so is someone else's file: not read.
"""

from __future__ import annotations

from typing import Any

from scalesim.importers import own_settings
from scalesim.importers.checks import field_problem
from scalesim.importers.draft import Component, Fact
from scalesim.importers.errors import ImportFailed
from scalesim.importers.k8s.brokers import json_object
from scalesim.importers.k8s.objects import Cluster, Manifest, mapping, mounted_config_maps
from scalesim.importers.sources import Seen, line_of

SETTINGS_KEY = "component.json"
MANAGED_BY = "app.kubernetes.io/managed-by"


def generated_settings(manifest: Manifest, cluster: Cluster, component: Component,
                       template: dict[str, Any]) -> None:
    """The component's `component.json`, from a ScaleSim-labelled ConfigMap its pod mounts;
    its `workers` are the spec's own, which the CPU request (workers × the share of their
    time computing) understates for workers that wait on calls."""
    for name in mounted_config_maps(template):
        config = cluster.find("", "ConfigMap", manifest.namespace, name)
        labels = mapping(mapping(config.data["metadata"]).get("labels")) if config else {}
        if config is None or labels.get(MANAGED_BY) != "scalesim":
            continue
        data = mapping(config.data.get("data"))
        if SETTINGS_KEY not in data:
            continue
        settings = json_object(data[SETTINGS_KEY])
        line = line_of(data, SETTINGS_KEY) or config.line
        if isinstance(settings, str):
            cluster.draft.note(f"{config.file}:{line}: {config.title} data.{SETTINGS_KEY} is "
                               f"{settings}; its values are placeholders instead")
            continue
        component.generated = Fact(settings, Seen(config.file, line, config.title,
                                                  f"data.{SETTINGS_KEY}"))
        workers = own_settings.workers(component.generated)
        if isinstance(workers, str):
            raise _refused(config, line, "workers", workers)
        io_problem = own_settings.io_problem(component.generated)
        if io_problem is not None:
            raise _refused(config, line, "io", io_problem)
        limits_problem = own_settings.limits_problem(component.generated)
        if limits_problem is not None:
            raise _refused(config, line, *limits_problem)
        component.workers = workers
        cluster.settings_read.add((config.namespace, config.name))
        return


def _refused(config: Manifest, line: int, field: str, problem: str) -> ImportFailed:
    """A settings value the generated service refuses at startup: bad input."""
    return ImportFailed([field_problem(config.file, line, config.title,
                                       f"data.{SETTINGS_KEY} ({field})", problem)])
