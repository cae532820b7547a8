"""How a workload rolls out a new version, as the spec's `rollout`: an Argo Rollout's canary
or blue-green strategy, or a Deployment's rolling update.

The files say how a new version would roll out, never that one does, nor what it changes:
each imported rollout goes to the version `next` (a PLACEHOLDER that changes nothing until
it is given work or error rates) at a PLACEHOLDER time. A Deployment's rolling update is
imported only when it is not Kubernetes' default (25 %/25 %): the default says nothing more
than any Deployment does. An Argo Rollout that takes a Deployment over decides instead of
that Deployment's strategy.

- canary: `steps` (setWeight, pause, analysis), `maxSurge`, `maxUnavailable`,
  `trafficRouting` (any provider: exact weights), background `analysis` with `startingStep`,
  `scaleDownDelaySeconds` (with traffic routing), `abortScaleDownDelaySeconds`; a canary
  without steps is a rolling update;
- blueGreen: `previewReplicaCount`, `autoPromotionEnabled`, `autoPromotionSeconds`,
  `scaleDownDelaySeconds`, `abortScaleDownDelaySeconds`, pre- and post-promotion analysis.

The Rollout `scalesim generate --target argo` writes for a component whose spec has no
rollout (labelled managed-by scalesim, with exactly the default steps below and at most the
SLO's analysis) is that default, not a rollout: it is noted.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim.importers.draft import MARK, NEW_VERSION, Block, Component
from scalesim.importers.k8s import analysis
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping
from scalesim.importers.k8s.scaling import whole
from scalesim.importers.sizing import go_duration
from scalesim.importers.sources import Seen
from scalesim.spec.units import format_duration

START = "30s"
PAUSE = "60s"
K8S_DEFAULT = "25%"
# The argo target's steps for a component without a spec rollout (generate/argo.py).
SUGGESTED_STEPS = [{"setWeight": 20}, {"pause": {"duration": "60s"}}, {"setWeight": 50},
                   {"pause": {"duration": "60s"}}, {"setWeight": 100}]
NOT_MODELLED_STEPS = ("setCanaryScale", "setHeaderRoute", "setMirrorRoute", "experiment",
                      "plugin")
NOT_MODELLED_CANARY = ("dynamicStableScale", "minPodsPerReplicaSet", "pingPong")


def _block(manifest: Manifest, path: str, strategy: str) -> Block:
    block = Block(manifest.seen(path), manifest.title)
    block.put(("to",), NEW_VERSION, f"{MARK}: the files say how a new version rolls out, not "
              "what it changes: give `versions.next` its work and error rates")
    block.put(("at",), START, f"{MARK}: when the rollout starts in the run (the files do not "
              "say when one happens)")
    block.put(("strategy",), strategy, manifest.seen(path))
    return block


def _surge(block: Block, manifest: Manifest, node: dict[str, Any], path: str) -> None:
    for argo_name, spec_name in (("maxSurge", "max_surge"),
                                 ("maxUnavailable", "max_unavailable")):
        value = node.get(argo_name)     # a count or a percent (k8s/fields.py checks which)
        if whole(value) is not None or isinstance(value, str):
            block.put((spec_name,), value, manifest.seen_in(node, argo_name,
                                                           f"{path}.{argo_name}"))


def deployment_strategy(manifest: Manifest, cluster: Cluster) -> None:
    key = cluster.workload_key(manifest.namespace, manifest.name, manifest.kind)
    strategy = manifest.spec.get("strategy")
    if key not in cluster.draft.components or not isinstance(strategy, dict):
        return
    if strategy.get("type") == "Recreate":
        cluster.draft.note(f"{manifest.title}: strategy Recreate (all old replicas stop before "
                           "new ones start) has no spec rollout; not imported")
        return
    rolling = strategy.get("rollingUpdate")
    if not isinstance(rolling, dict) or all(
            str(rolling.get(name, K8S_DEFAULT)) == K8S_DEFAULT
            for name in ("maxSurge", "maxUnavailable")):
        return
    block = _block(manifest, "spec.strategy", "rolling")
    _surge(block, manifest, rolling, "spec.strategy.rollingUpdate")
    cluster.component(key).rollout = block


def rollout_strategy(manifest: Manifest, cluster: Cluster) -> None:
    ref = manifest.spec.get("workloadRef")
    name, kind = (ref.get("name"), ref.get("kind", "Deployment")) if isinstance(ref, dict) \
        else (manifest.name, manifest.kind)
    key = cluster.workload_key(manifest.namespace, str(name), kind)
    if key not in cluster.draft.components:
        return
    component = cluster.component(key)
    component.rollout = None        # the Rollout decides, not its Deployment's strategy
    strategy = manifest.spec.get("strategy")
    canary = strategy.get("canary") if isinstance(strategy, dict) else None
    blue_green = strategy.get("blueGreen") if isinstance(strategy, dict) else None
    if isinstance(canary, dict):
        if _suggested(manifest, canary):
            cluster.draft.note(f"{manifest.title}: the argo target's default canary for a "
                               "component whose spec has no rollout; not imported as a rollout")
            return
        _canary(manifest, cluster, component, canary)
    elif isinstance(blue_green, dict):
        _blue_green(manifest, cluster, component, blue_green)
    else:
        cluster.draft.note(f"{manifest.title}: no canary or blueGreen strategy; no rollout")


def _suggested(manifest: Manifest, canary: dict[str, Any]) -> bool:
    labels = manifest.data["metadata"].get("labels")
    return isinstance(labels, dict) and labels.get("app.kubernetes.io/managed-by") == \
        "scalesim" and set(canary) <= {"steps", "analysis"} and \
        canary.get("steps") == SUGGESTED_STEPS


def _canary(manifest: Manifest, cluster: Cluster, component: Component,
            canary: dict[str, Any]) -> None:
    path = "spec.strategy.canary"
    steps = canary.get("steps") if isinstance(canary.get("steps"), list) else []
    routed = isinstance(canary.get("trafficRouting"), dict)
    block = _block(manifest, path, "canary" if steps else "rolling")
    _surge(block, manifest, canary, path)
    if not steps:
        dropped = [name for name in ("trafficRouting", "analysis") if name in canary]
        if dropped:
            cluster.draft.note(f"{manifest.title}: a canary without steps is a rolling update; "
                               f"its {' and '.join(dropped)} are not imported")
        component.rollout = block
        return
    if routed:
        provider = ", ".join(canary["trafficRouting"]) or "a provider"
        block.put(("traffic_routing",), True, manifest.seen_in(
            canary, "trafficRouting", f"{path}.trafficRouting ({provider}: exact weights)"))
    kept_before = []        # per Argo step: the spec steps before it (some are left out)
    for index, step in enumerate(steps):
        kept_before.append(len(block.data.get("steps", [])))
        _step(block, ("steps", kept_before[-1]), manifest, cluster, step,
              manifest.seen_in(steps, index, f"{path}.steps[{index}]"))
    background = canary.get("analysis")
    if isinstance(background, dict):
        found = analysis.read(cluster, manifest, background, manifest.seen_in(
            canary, "analysis", f"{path}.analysis"))
        if found is not None:
            block.graft(("analysis",), found)
            start = whole(background.get("startingStep"))
            if start is not None and start >= 0:
                kept = kept_before[start] if start < len(kept_before) else \
                    len(block.data.get("steps", []))
                seen = manifest.seen_in(background, "startingStep",
                                        f"{path}.analysis.startingStep")
                block.put(("analysis", "starting_step"), kept, seen if kept == start else
                          f"{seen}: {start}, which is {kept} without the steps left out")
    _delays(block, manifest, cluster, canary, path, routed)
    for name in NOT_MODELLED_CANARY:
        if canary.get(name):
            cluster.draft.note(f"{manifest.title}: {path}.{name} is not simulated; left out")
    component.rollout = block


def _step(block: Block, at: tuple[str, int], manifest: Manifest, cluster: Cluster,
          step: Any, seen: Seen) -> None:
    """Put one canary step at `at`, or note why the spec has no such step."""
    if not isinstance(step, dict) or len(step) != 1:
        cluster.draft.note(f"{manifest.title}: {seen.field} is not one step; left out")
        return
    kind, body = next(iter(step.items()))
    if kind == "setWeight" and whole(body) is not None and 0 <= body <= 100:
        block.put((*at, "set_weight"), f"{body}%", seen)
        return
    if kind == "pause":
        duration = mapping(body).get("duration")   # a bare number is seconds
        seconds = go_duration(f"{duration}s" if whole(duration) is not None or (
            isinstance(duration, str) and duration.isdigit()) else duration)
        if seconds:
            _pause(block, at, manifest, cluster, duration, seconds, seen)
        else:
            block.put((*at, "pause"), PAUSE, f"{MARK}: {seen.file}:{seen.line} pauses until "
                      "someone runs `kubectl argo rollouts promote`: how long until they do")
        return
    if kind == "analysis":
        found = analysis.read(cluster, manifest, body, seen)
        if found is not None:
            block.graft((*at, "analysis"), found)
        return
    reason = "is not simulated" if kind in NOT_MODELLED_STEPS else "is not a step the spec has"
    cluster.draft.note(f"{manifest.title}: {seen.field} ({kind}) {reason}; left out")


def _pause(block: Block, at: tuple[str, int], manifest: Manifest, cluster: Cluster,
           duration: Any, seconds: float, seen: Seen) -> None:
    """A pause as Argo waits it: whole seconds, truncated (RolloutPause.DurationSeconds), so
    1500ms pauses 1 s, and 500ms not at all: left out, noted (the spec's pause is whole
    seconds, as Argo's)."""
    waited = math.trunc(round(seconds, 9))
    if waited == 0:
        cluster.draft.note(f"{manifest.title}: {seen.field} pauses {duration}, which Argo "
                           "truncates to 0 s (no pause); left out")
        return
    block.put((*at, "pause"), format_duration(waited), seen if waited == seconds else
              f"{seen}: {duration}, which Argo truncates to whole seconds")


def _delays(block: Block, manifest: Manifest, cluster: Cluster, node: dict[str, Any],
            path: str, applies: bool) -> None:
    for argo_name, spec_name in (("scaleDownDelaySeconds", "scale_down_delay"),
                                 ("abortScaleDownDelaySeconds", "abort_scale_down_delay")):
        seconds = whole(node.get(argo_name))
        if seconds is None:
            continue
        if spec_name == "scale_down_delay" and not applies:
            cluster.draft.note(f"{manifest.title}: {path}.{argo_name} applies only with "
                               "traffic routing; left out")
            continue
        block.put((spec_name,), f"{seconds}s", manifest.seen_in(node, argo_name,
                                                               f"{path}.{argo_name}"))


def _blue_green(manifest: Manifest, cluster: Cluster, component: Component,
                blue: dict[str, Any]) -> None:
    path = "spec.strategy.blueGreen"
    block = _block(manifest, path, "blue_green")
    preview = whole(blue.get("previewReplicaCount"))
    if preview is not None and preview >= 1:
        block.put(("preview_replicas",), preview, manifest.seen_in(
            blue, "previewReplicaCount", f"{path}.previewReplicaCount"))
    if isinstance(blue.get("autoPromotionEnabled"), bool):
        block.put(("auto_promotion",), blue["autoPromotionEnabled"], manifest.seen_in(
            blue, "autoPromotionEnabled", f"{path}.autoPromotionEnabled"))
    after = whole(blue.get("autoPromotionSeconds"))
    if after is not None:
        block.put(("auto_promotion_after",), f"{after}s", manifest.seen_in(
            blue, "autoPromotionSeconds", f"{path}.autoPromotionSeconds"))
    _delays(block, manifest, cluster, blue, path, True)
    for argo_name, spec_name in (("prePromotionAnalysis", "pre_promotion_analysis"),
                                 ("postPromotionAnalysis", "post_promotion_analysis")):
        if isinstance(blue.get(argo_name), dict):
            found = analysis.read(cluster, manifest, blue[argo_name], manifest.seen_in(
                blue, argo_name, f"{path}.{argo_name}"))
            if found is not None:
                block.graft((spec_name,), found)
    component.rollout = block


KINDS: Mappers = {("argoproj.io", "Rollout"): rollout_strategy}
LATER: Mappers = {("apps", "Deployment"): deployment_strategy}
