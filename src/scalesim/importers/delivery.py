"""A queue's `partitions`, `delivery` and `group`, as its broker's objects gave them
(k8s/brokers.py), fitted to the spec once the kinds are known.

Only a queue holds them; a dead letter must go to another queue of the spec; a consumer
group needs partitions. What does not fit is noted and left out, so a strange file never
makes an invalid spec.
"""

from __future__ import annotations

import copy
from typing import Any

from scalesim.importers.checks import spec_problem
from scalesim.importers.draft import Block, Component, Draft
from scalesim.spec.data import ConsumerGroup, Delivery
from scalesim.spec.model import Kind

DEAD_LETTER: tuple[str, str] = ("delivery", "dead_letter")


def fit(draft: Draft, key: str, component: Component, kinds: dict[str, Kind]) -> Block | None:
    """The component's broker settings that the spec can hold, or None. A dead letter is
    kept as the key of its queue component (a reference: written as its spec name)."""
    block = component.broker
    if block is None:
        return None
    if kinds[key] is not Kind.QUEUE:
        draft.note(f"{component.name}: its delivery settings ({block.origin}) are left out: "
                   f"it is imported as a {kinds[key].value}, not a queue")
        return None
    fitted = Block(block.seen, block.origin, copy.deepcopy(block.data),
                   {path: list(texts) for path, texts in block.comments.items()},
                   list(block.refs))
    delivery = fitted.data.get("delivery", {})
    target = delivery.get("dead_letter")
    if target is not None and (target == key or kinds.get(target) is not Kind.QUEUE):
        what = "itself" if target == key else \
            f"{draft.components[target].name}, a {kinds[target].value}"
        draft.note(f"{component.name}: its dead-letter queue is {what}, not another queue; "
                   "dead_letter left out")
        _drop(fitted, DEAD_LETTER)
    if "group" in fitted.data and "partitions" not in fitted.data:
        draft.note(f"{component.name}: its consumer-group settings ({block.origin}) are left "
                   "out: a spec `group` needs `partitions`")
        _drop(fitted, ("group",))
    for field, model in (("delivery", Delivery), ("group", ConsumerGroup)):
        values = fitted.data.get(field)
        if values is None:
            continue
        problem = spec_problem(model, {**values, "dead_letter": "queue"}
                           if "dead_letter" in values else values)
        if problem:
            draft.note(f"{component.name}: its {field} ({block.origin}) does not fit the spec: "
                       f"{problem}; left out")
            _drop(fitted, (field,))
    for field in ("delivery", "group"):
        if fitted.data.get(field) == {}:
            _drop(fitted, (field,))
    return fitted if fitted.data else None


def dead_letter(block: Block | None) -> str | None:
    """The key of the queue a fitted block dead-letters to."""
    return None if block is None else block.data.get("delivery", {}).get("dead_letter")


def named(block: Block, name_of: dict[str, str]) -> dict[str, Any]:
    """The block's data with its dead letter written as a spec name."""
    data = copy.deepcopy(block.data)
    if dead_letter(block) is not None:
        data["delivery"]["dead_letter"] = name_of[data["delivery"]["dead_letter"]]
    return data


def _drop(block: Block, path: tuple[str, ...]) -> None:
    node: Any = block.data
    for part in path[:-1]:
        node = node[part]
    node.pop(path[-1], None)
    block.comments = {p: t for p, t in block.comments.items() if p[:len(path)] != path}
    block.refs = [p for p in block.refs if p[:len(path)] != path]

