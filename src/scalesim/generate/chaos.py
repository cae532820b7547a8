"""The spec's faults as Istio fault injection, in separate VirtualServices under
istio/chaos/ that replace the normal ones while an experiment runs.

Istio injects on every request of a route for as long as the object exists: it has no time
window, no single-replica target, no pause or partition. Those are listed in annotations, and
a component none of whose faults a route can inject, or that no HTTP request reaches, gets no
file (the deploy README says why).
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.argo import receives_requests
from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, notes_text, yaml_file
from scalesim.generate.istio import has_virtual_service, mesh_routed, virtual_service
from scalesim.generate.naming import dns_label, go_duration, istio_duration
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


def _no_file(system: System, name: str, faults: list[Fault]) -> str | None:
    """Why a component's faults get no chaos file, or None: Istio has no TCP fault
    injection; a route carries no request of a component nothing calls (a queue consumer
    pulls its deliveries); and a file for faults no route can inject (one replica, pause,
    partition) would be the normal VirtualService, injecting nothing."""
    if not mesh_routed(system, name):
        return "Istio has no TCP fault injection"
    if not receives_requests(system, name):
        return ("no HTTP request reaches it (no component or workload calls it, and it is "
                "no gateway), so no route carries its traffic")
    block, notes = http_fault(system, faults)
    if not block:
        return notes_text(notes) or "no delay or abort to inject"
    return None


def not_injected(system: System) -> list[str]:
    """`<c>: why` for each component with faults but no chaos file, for the deploy README."""
    reasons = []
    for name in system.components:
        faults = _faults(system, name)
        reason = _no_file(system, name, faults) if faults else None
        if reason is not None:
            reasons.append(f"{name}: {reason}")
    return reasons


def stop_command(system: System, name: str) -> str:
    """How to end `name`'s experiment: re-apply its normal VirtualService, which replaces
    the chaos one of the same name, or, when `istio/<c>.yaml` holds none (a gateway nothing
    in the spec calls), delete the chaos one."""
    if has_virtual_service(system, name):
        return f"kubectl apply -f istio/{dns_label(name)}.yaml"
    return f"kubectl delete -f {_path(name)}"


def _path(name: str) -> str:
    return f"istio/chaos/{dns_label(name)}.yaml"


def _injected(system: System) -> list[str]:
    """The components that get a chaos file, in spec order."""
    return [name for name in system.components
            if (faults := _faults(system, name)) and _no_file(system, name, faults) is None]


def experiments(system: System) -> list[tuple[str, str]]:
    """Each chaos file and the command that stops its experiment, for the deploy README."""
    return [(_path(name), stop_command(system, name)) for name in _injected(system)]


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    files = []
    for name in _injected(system):
        faults = _faults(system, name)
        block, notes = http_fault(system, faults)
        service = virtual_service(system, name, options.namespace)
        annotations = service["metadata"].setdefault("annotations", {})
        annotations[WINDOWS] = "; ".join(_window(fault) for fault in faults)
        if notes:
            annotations[NOT_MAPPED] = notes_text(filter(None, [annotations.get(NOT_MAPPED),
                                                                *notes]))
        for route in service["spec"]["http"]:
            route["fault"] = block
        comment = (banner(system.name, "istio") + "\nChaos experiment: apply to inject the "
                   f"spec's faults; to stop: {stop_command(system, name)}")
        files.append(yaml_file(_path(name), [service], comment, name))
    return files
