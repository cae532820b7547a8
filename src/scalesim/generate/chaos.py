"""The spec's faults as Istio fault injection, in separate VirtualServices under
istio/chaos/ that replace the normal ones while an experiment runs.

Istio injects on every request of a route for as long as the object exists: it has no time
window, no single-replica target, no pause or partition. Those are listed in annotations, and
a component none of whose faults a route can inject gets no file (the deploy README says why).
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, notes_text, yaml_file
from scalesim.generate.istio import mesh_routed, virtual_service
from scalesim.generate.naming import check_names, dns_label, go_duration, istio_duration
from scalesim.spec.model import Fault, System

WINDOWS = "scalesim.io/fault-windows"
NOT_MAPPED = "scalesim.io/not-mapped"


def _window(fault: Fault) -> str:
    end = f"for {go_duration(fault.for_)}" if fault.for_ is not None else "until the end"
    return f"{fault.target} at {go_duration(fault.at)} {end}"


def _added_delay_s(system: System, fault: Fault) -> float:
    """Mean extra time per request: an added distribution's mean, a factor's share of the
    mean work, and the fault's network latency on the way in and out."""
    seconds = 0.0
    if fault.latency is not None:
        if fault.latency.add is not None:
            seconds += fault.latency.add.mean_s
        if fault.latency.multiply is not None:
            ops = system.components[fault.component].effective_operations.values()
            mean_work = sum(op.demand.mean_s for op in ops) / len(ops)
            seconds += (fault.latency.multiply - 1.0) * mean_work
    if fault.network is not None:
        seconds += 2.0 * fault.network.mean_s
    return seconds


def http_fault(system: System, faults: list[Fault]) -> tuple[dict[str, Any], list[str]]:
    """One Istio fault block for a component's faults: the first delay and the strongest
    abort (a crash is 100 %); returns what could not be expressed."""
    fault_block: dict[str, Any] = {}
    notes: list[str] = []
    for fault in faults:
        if fault.replica is not None:
            notes.append(f"{fault.target}: a single replica cannot be targeted by a route")
            continue
        delay = _added_delay_s(system, fault)
        if delay > 0 and "delay" not in fault_block:
            fault_block["delay"] = {"fixedDelay": istio_duration(delay),
                                    "percentage": {"value": 100.0}}
        abort = 100.0 if fault.crash else (fault.error_rate or 0.0) * 100.0
        if abort > fault_block.get("abort", {}).get("percentage", {}).get("value", 0.0):
            fault_block["abort"] = {"httpStatus": 503, "percentage": {"value": abort}}
        notes += [f"{fault.target} {effect}: no Istio fault for it"
                  for effect in ("pause", "random_failures", "partition")
                  if getattr(fault, effect)]
    return fault_block, notes


def _faults(system: System, name: str) -> list[Fault]:
    return [fault for fault in system.faults if fault.component == name]


def not_injected(system: System) -> list[str]:
    """Why each component with faults has no chaos file, for the deploy README: Istio has no
    TCP fault injection, and a file for faults no route can inject (one replica, pause,
    partition) would be the normal VirtualService, injecting nothing."""
    reasons = []
    for name in system.components:
        faults = _faults(system, name)
        if not faults:
            continue
        if not mesh_routed(system, name):
            reasons.append(f"{name}: Istio has no TCP fault injection")
            continue
        block, notes = http_fault(system, faults)
        if not block:
            reasons.append(f"{name}: " + (notes_text(notes) or "no delay or abort to inject"))
    return reasons


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    check_names(list(system.components))
    comment = (banner(system.name, "istio") + "\nChaos experiment: apply to inject the spec's "
               "faults, re-apply istio/<name>.yaml to stop.")
    files = []
    for name in system.components:
        faults = _faults(system, name)
        if not faults or not mesh_routed(system, name):
            continue
        block, notes = http_fault(system, faults)
        if not block:  # see not_injected
            continue
        service = virtual_service(system, name, options.namespace)
        annotations = service["metadata"].setdefault("annotations", {})
        annotations[WINDOWS] = "; ".join(_window(fault) for fault in faults)
        if notes:
            annotations[NOT_MAPPED] = notes_text(filter(None, [annotations.get(NOT_MAPPED),
                                                                *notes]))
        for route in service["spec"]["http"]:
            route["fault"] = block
        files.append(yaml_file(f"istio/chaos/{dns_label(name)}.yaml", [service], comment,
                               name))
    return files
