"""Names, labels, addresses and durations as Kubernetes, Istio and Compose spell them.

Spec names allow upper case and a leading digit; Kubernetes Service names are RFC 1035
labels (lower case, starting with a letter). One function decides, so every target agrees.
"""

from __future__ import annotations

import math

from scalesim.generate.errors import GenerateError, Problem
from scalesim.spec.errors import Path

HTTP_PORT = 8080
SETTINGS_DIR = "/etc/scalesim"
SETTINGS_FILE = "component.json"
BROKER_FILE = "broker.json"  # a queue's delivery settings in its broker's terms
READY_PATH, LIVE_PATH = "/ready", "/health"  # what generated services serve
PROMETHEUS = "http://prometheus.istio-system.svc.cluster.local:9090"  # Istio's addon
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


def label_problem(label: str) -> str | None:
    """The RFC 1035 label rule `label` breaks (checked as written, no case folding), or None."""
    if not label:
        return "it is empty"
    if len(label) > 63:
        return f"it has {len(label)} characters, at most 63 are allowed"
    bad = sorted({char for char in label if not ("a" <= char <= "z" or "0" <= char <= "9"
                                                 or char == "-")})
    if bad:
        shown = " ".join(repr(char) for char in bad)
        return f"it may hold only lower-case letters a-z, digits and '-', not {shown}"
    if not label[0].isalpha():
        return "it must start with a letter"
    if label[-1] == "-":
        return "it must end with a letter or digit"
    return None


def dns_label(name: str, what: str = "component", fold: bool = True,
              place: Path = ()) -> str:
    """'Orders' -> 'orders'; a name Kubernetes cannot take is an error, not a silent rename.

    `fold=False` takes the name as written (a namespace is used verbatim, so 'Prod' is
    refused rather than lower-cased). `place` is where the spec writes the name."""
    label = name.lower() if fold else name
    problem = label_problem(label)
    if problem is not None:
        folded = " once lower-cased" if fold and label != name else ""
        raise GenerateError([Problem(f"{what} '{name}' cannot be a Kubernetes name (an RFC "
                                     f"1035 label){folded}: {problem}", place)])
    return label


def system_label(name: str) -> str:
    """The system's name as a Kubernetes name (labels, the chart, the SLO template)."""
    return dns_label(name, "system name", place=("name",))


HELM_RELEASE_MAX = 53  # Helm refuses a longer release name (its Secret adds a prefix)


def release_name(name: str) -> str:
    """The Helm release the install steps name: the system's label, cut to the 53
    characters Helm takes (a 63-character name made a step Helm refuses)."""
    return system_label(name)[:HELM_RELEASE_MAX].rstrip("-")


def name_problems(names: list[str]) -> list[Problem]:
    """Every name that is no label once lower-cased, and every two that are one, each
    placed at the component that breaks the rule (the second of a pair)."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name in names:
        place = ("components", name)
        try:
            label = dns_label(name, place=place)
        except GenerateError as error:
            problems.extend(error.located)
            continue
        if label in seen:
            problems.append(Problem(f"components '{seen[label]}' and '{name}' are the same "
                                    "Kubernetes name once lower-cased", place))
        seen[label] = name
    return problems


def env_name(component: str, suffix: str) -> str:
    """('order-db', 'URL') -> 'ORDER_DB_URL'."""
    return f"{component.upper().replace('-', '_')}_{suffix}"


def fqdn(component: str, namespace: str) -> str:
    return service_host(dns_label(component), namespace)


def service_host(service: str, namespace: str) -> str:
    """The cluster DNS name of a Service. A derived name (`<c>-canary`) is not checked here:
    the collision check refuses it with its component and file when it is no label."""
    return f"{service}.{namespace}.svc.cluster.local"


def labels(component: str, kind: str, system: str, instance: str) -> dict[str, str]:
    """The recommended app.kubernetes.io labels."""
    return {NAME_LABEL: dns_label(component), INSTANCE_LABEL: instance,
            "app.kubernetes.io/component": kind, "app.kubernetes.io/part-of": system,
            "app.kubernetes.io/managed-by": "scalesim"}


def selector(component: str, instance: str) -> dict[str, str]:
    return {NAME_LABEL: dns_label(component), INSTANCE_LABEL: instance}


def go_duration(seconds: float, floor_s: float = 0.0) -> str:
    """Seconds -> Go/Istio duration text ('200ms', '2s', '250us'), at least `floor_s`."""
    micros = max(round(seconds * 1e6), round(floor_s * 1e6))
    if micros % 1_000_000 == 0:
        return f"{micros // 1_000_000}s"
    if micros % 1000 == 0:
        return f"{micros // 1000}ms"
    return f"{micros}us"


def istio_duration(seconds: float) -> str:
    """Istio rejects durations under 1 ms."""
    return go_duration(seconds, floor_s=0.001)


def whole_seconds(seconds: float, minimum: int = 1) -> int:
    """Kubernetes probe fields are whole seconds: round up, never below `minimum`."""
    return max(minimum, math.ceil(round(seconds, 9)))
