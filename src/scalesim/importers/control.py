"""A component's control blocks — `autoscale`, `rollout`, and the `versions` and `startup`
they need, and its `leader_election` — fitted to the spec once the roles are known.

What the objects said is kept where the spec can hold it: a queue metric must watch a queue
this component consumes, a CPU target needs workers, an external component is neither scaled
nor rolled out. A block the spec still rejects (a bound the real API also refuses) is left
out and noted with the reason, so a strange file never makes an invalid spec.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from scalesim.importers import own_settings
from scalesim.importers.checks import spec_problem
from scalesim.importers.draft import MARK, NEW_VERSION, Block, Component, Draft
from scalesim.importers.roles import Roles
from scalesim.spec.consistency import LeaderElection
from scalesim.spec.control import Autoscale, Rollout
from scalesim.spec.model import Kind

STARTUP = "10s"
MEASURE_STARTUP = (f"{MARK}: how long a new replica takes to take traffic (scheduling, image "
                   "pull, boot); measure it from the pods' events")
MODELS: dict[str, type[BaseModel]] = {"autoscale": Autoscale, "rollout": Rollout,
                                      "leader_election": LeaderElection}


def fit(draft: Draft, key: str, component: Component, kind: Kind, roles: Roles,
        name_of: dict[str, str]) -> Block:
    """The control fields of one component, as a block of component fields in the order
    they are written (empty when it has none)."""
    blocks = {name: block for name, block in (("autoscale", component.autoscale),
                                              ("rollout", component.rollout),
                                              ("leader_election", component.leader_election))
              if block}
    out = Block("")
    if blocks and kind is Kind.EXTERNAL:
        draft.note(f"{component.name}: an external component is neither autoscaled, rolled "
                   f"out nor elected; its {' and '.join(blocks)} are left out")
        return out
    replicas = component.replicas.value if component.replicas is not None else 1
    if "leader_election" in blocks and replicas < 2:
        draft.note(f"{component.name}: its leader election "
                   f"({blocks['leader_election'].origin}) is left out: with {replicas} "
                   "replica there is no one to take over (the spec needs at least 2); "
                   "scale it out to model a failover")
        del blocks["leader_election"]
    fitted: dict[str, Block] = {}
    for name, block in blocks.items():
        block = _named(block, name_of)
        if name == "autoscale":
            _fit_metrics(draft, key, component, kind, roles, block, name_of)
        problem = spec_problem(MODELS[name], block.data)
        if problem:
            draft.note(f"{component.name}: its {name} ({block.origin}) does not fit the spec: "
                       f"{problem}; left out")
        else:
            fitted[name] = block
    if fitted.keys() & {"autoscale", "rollout"}:
        startup, why = own_settings.startup(component) or (STARTUP, MEASURE_STARTUP)
        out.put(("startup",), startup, why)
    if "autoscale" in fitted:
        out.graft(("autoscale",), fitted["autoscale"])
    if "rollout" in fitted:
        out.put(("versions", NEW_VERSION), {}, f"{MARK}: the version the rollout moves to; "
                "give it what it changes (operations' work, error_rate)")
        out.graft(("rollout",), fitted["rollout"])
    if "leader_election" in fitted:
        out.graft(("leader_election",), fitted["leader_election"])
    return out


def scales_to_zero(control: Block) -> bool:
    """KEDA may take the component to zero replicas."""
    return bool(control.data.get("autoscale", {}).get("min") == 0)


def _named(block: Block, name_of: dict[str, str]) -> Block:
    """A copy whose component keys are spec names."""
    named = Block(block.seen, block.origin, copy.deepcopy(block.data),
                  {path: list(texts) for path, texts in block.comments.items()},
                  list(block.refs))
    for path in named.refs:
        node: Any = named.data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = name_of[node[path[-1]]]
    return named


def _fit_metrics(draft: Draft, key: str, component: Component, kind: Kind, roles: Roles,
                 block: Block, name_of: dict[str, str]) -> None:
    """Leave out metrics the spec cannot measure on this component (noted)."""
    consumed = {name_of[queue] for queue, consumers in roles.consumers.items()
                if key in consumers and roles.kinds.get(queue) is Kind.QUEUE}
    metrics = block.data.get("metrics", [])
    kept: list[int] = []
    for index, metric in enumerate(metrics):
        queue = metric.get("queue")
        if queue is not None and queue["of"] not in consumed:
            draft.note(f"{component.name}: its queue metric on {queue['of']} is left out: "
                       "not a queue it consumes")
        elif "cpu" in metric and kind in (Kind.QUEUE, Kind.EXTERNAL):
            draft.note(f"{component.name}: its cpu metric is left out: a {kind.value} has no "
                       "workers to measure it against")
        else:
            kept.append(index)
    if len(kept) == len(metrics):
        return
    renumber = {old: new for new, old in enumerate(kept)}
    block.comments = {
        path if path[:1] != ("metrics",) else ("metrics", renumber[int(path[1])], *path[2:]):
        texts for path, texts in block.comments.items()
        if path[:1] != ("metrics",) or int(path[1]) in renumber}
    block.data["metrics"] = [metrics[index] for index in kept]
    if not kept:
        del block.data["metrics"]
        block.comment((), f"{MARK}: none of its metrics fits (see the notes); the spec's "
                      "default, 80% of worker time, stands in")

