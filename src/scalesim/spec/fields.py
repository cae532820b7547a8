"""Which field names are allowed at a place in the spec, for "did you mean" hints.

pydantic reports an unknown field with its location; walking the model's type annotations
along that location gives the names that would have been accepted there.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from scalesim.spec.errors import Path


def allowed_fields(root: type[BaseModel], path: Path) -> set[str]:
    """Field names (and aliases) accepted by the object at `path`."""
    candidates: list[Any] = [root]
    for part in path:
        candidates = [nxt for tp in candidates for nxt in _step(tp, part)]
    names: set[str] = set()
    for tp in candidates:
        for member in _members(tp):
            if _is_model(member):
                for name, field in member.model_fields.items():
                    names.add(field.alias or name)
    return names


def container(root: type[BaseModel], path: Path) -> str | None:
    """'mapping' when the field at `path` maps names to items (`components`), 'list' when
    it lists them (`workloads`), None for a model or a value."""
    candidates: list[Any] = [root]
    for part in path:
        candidates = [nxt for tp in candidates for nxt in _step(tp, part)]
    origins = {get_origin(member) for tp in candidates for member in _members(tp)}
    return "mapping" if dict in origins else "list" if list in origins else None


def _members(tp: Any) -> list[Any]:
    """Flatten Annotated and unions into the concrete types they may hold."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _members(get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("dist")
    if field is not None and get_origin(field.annotation) is Literal:
        return str(get_args(field.annotation)[0])
    return None


def _step(tp: Any, part: str | int) -> list[Any]:
    members = _members(tp)
    tagged = [m for m in members if _is_model(m) and _tag(m) == part]
    if tagged:
        return tagged
    result: list[Any] = []
    for member in members:
        origin = get_origin(member)
        if _is_model(member):
            for name, field in member.model_fields.items():
                if part in (name, field.alias):
                    result.append(field.annotation)
        elif origin is dict:
            result.append(get_args(member)[1])
        elif origin is list and isinstance(part, int):
            result.append(get_args(member)[0])
    if not result and isinstance(part, str):
        return [m for m in members if _is_model(m) or get_origin(m) in (dict, list)]
    return result
