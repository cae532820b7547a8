"""Names two components' generated objects or files would share, found before any is written.

Kubernetes keeps one object per kind, namespace and name, so an object whose name is derived
from one component (`<c>-preview`, `<c>-canary`, `<c>-settings`, `<c>-step-0`…) and equals
another component's object of the same kind would replace it when applied; a file path two
components' files share would keep only one of them. Either is refused, naming both, as two
component names that become equal are. Objects of one component that share a name (its HPA
in k8s/ and again in argo/, aimed at the Rollout) are one object on purpose. A Service name
must also be an RFC 1035 label, which a suffix can push past 63 characters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from scalesim.generate.base import GeneratedFile
from scalesim.generate.errors import Problem
from scalesim.generate.naming import label_problem


def collision_problems(files: Sequence[GeneratedFile], system_name: str) -> list[Problem]:
    """Objects and files of different owners that share a name, and Service names
    Kubernetes cannot take. `files` are the Kubernetes objects' manifests of every target,
    each with its owner (the component, or None for the system's). Two components of one
    Kubernetes name share every object; that is the names' problem (`name_problems`), not
    repeated here for each."""
    return [*_shared_paths(files, system_name), *_shared_objects(files, system_name),
            *_bad_service_names(files)]


def _distinct(first: str | None, second: str | None) -> bool:
    """Owners whose objects may not share a name: not one, nor two components whose names
    are one Kubernetes name."""
    return first != second and (first is None or second is None
                                or first.lower() != second.lower())


def _owners(first: str | None, second: str | None, system_name: str) -> str:
    """'components 'a' and 'b'', or 'system 's' and component 'c''."""
    if first is not None and second is not None:
        return f"components '{first}' and '{second}'"
    return " and ".join(f"component '{owner}'" if owner is not None
                        else f"system '{system_name}'" for owner in (first, second))


def _place(first: str | None, second: str | None) -> tuple[str, ...]:
    """Where a clash is reported: the second component, or the first when the second is
    the system."""
    component = second if second is not None else first
    return ("components", component) if component is not None else ()


def path_clash(first: str | None, second: str | None, system_name: str,
               path: str) -> Problem:
    """Two owners' files at one path (None: the system's own file)."""
    return Problem(f"{_owners(first, second, system_name)} are both written to {path}: one "
                   "would be lost; rename the component", _place(first, second))


def _shared_paths(files: Sequence[GeneratedFile], system_name: str) -> Iterator[Problem]:
    seen: dict[str, GeneratedFile] = {}
    for file in files:
        first = seen.setdefault(file.path, file)
        if first is not file and _distinct(first.owner, file.owner):
            yield path_clash(first.owner, file.owner, system_name, file.path)


def _key(document: dict[str, Any]) -> tuple[str, str, str]:
    """What Kubernetes tells objects apart by: kind, namespace and name."""
    meta = document["metadata"]
    return str(document["kind"]), str(meta.get("namespace", "")), str(meta["name"])


def _shared_objects(files: Sequence[GeneratedFile], system_name: str) -> Iterator[Problem]:
    seen: dict[tuple[str, str, str], GeneratedFile] = {}
    reported: set[tuple[tuple[str, str, str], str | None]] = set()
    for file in files:
        for document in file.objects:
            key = _key(document)
            first = seen.setdefault(key, file)
            if _distinct(first.owner, file.owner) and (key, file.owner) not in reported:
                reported.add((key, file.owner))
                kind, _, name = key
                yield Problem(f"{_owners(first.owner, file.owner, system_name)} both make the "
                              f"{kind} '{name}' ({first.path}, {file.path}): applied, the "
                              "second would replace the first; rename one",
                              _place(first.owner, file.owner))


def _bad_service_names(files: Sequence[GeneratedFile]) -> Iterator[Problem]:
    """A Service's name is its DNS label: a derived one (`<c>-preview`) must still be one."""
    for file in files:
        for document in file.objects:
            name = str(document["metadata"]["name"])
            problem = label_problem(name) if document["kind"] == "Service" else None
            if problem is not None and file.owner is not None:
                yield Problem(f"component '{file.owner}' makes the Service '{name}' "
                              f"({file.path}), which cannot be a Kubernetes name (an RFC 1035 "
                              f"label): {problem}", ("components", file.owner))
