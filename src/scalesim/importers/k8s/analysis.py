"""Argo AnalysisTemplates read as the spec's `analysis` (a Rollout's background analysis, an
analysis step, blue-green pre- and post-promotion analysis).

A metric is a check when its Prometheus query shows what it measures:
- `histogram_quantile(q, …)` → `p50` … `p999` (q = 0.5, 0.9, 0.95, 0.99, 0.999);
- a latency `_sum` over its `_count` → `mean`;
- requests with a 5xx code (`=~"5…"`) over all requests → `error_rate`; requests without
  one (`!~"5…"`) over all → a success rate, whose threshold s is the error rate 1 − s.
Latencies are in the unit the metric's name says (`_milliseconds`, `_seconds`,
`_microseconds`). `successCondition: result[0] <= X` is the check's `max`,
`failureCondition: result[0] > Y` its `fail_above` (a success rate's `>= s` and `< f`); with
only a failureCondition, a measurement is successful unless it matches, so Y is the `max`.
Argo sets interval, count, initialDelay and the limits per metric, the spec per analysis: the
first mapped metric's are taken and any other value is noted. Other providers (Datadog, web,
job…) and queries of anything else are noted.
"""

from __future__ import annotations

import re
from typing import Any

from scalesim.importers.draft import Block
from scalesim.importers.k8s.objects import Cluster, Manifest
from scalesim.importers.k8s.scaling import whole
from scalesim.importers.sizing import go_duration
from scalesim.importers.sources import Seen
from scalesim.spec.units import format_duration

GROUP = "argoproj.io"
PERCENTILES = {0.5: "p50", 0.9: "p90", 0.95: "p95", 0.99: "p99", 0.999: "p999"}
CHECKS = frozenset({"error_rate", "mean", *PERCENTILES.values()})
UNITS = {"milliseconds": "ms", "seconds": "s", "microseconds": "us"}
SETTINGS = (("interval", "interval"), ("count", "count"), ("initialDelay", "initial_delay"),
            ("failureLimit", "failure_limit"), ("inconclusiveLimit", "inconclusive_limit"),
            ("consecutiveErrorLimit", "consecutive_error_limit"))
_QUANTILE = re.compile(r"histogram_quantile\s*\(\s*([0-9.]+)")
_FIVE_XX = re.compile(r'(=~|!~)\s*"5')
_UNIT = re.compile(r"_(milliseconds|seconds|microseconds)_(?:bucket|sum|count)\b")
_RANGE = re.compile(r"\[(\d+(?:ms|s|m|h))\]")
_CONDITION = re.compile(r"result(?:\[0\])?\s*(<=|<|>=|>)\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)")


def read(cluster: Cluster, rollout: Manifest, ref: Any, seen: Seen) -> Block | None:
    """The spec analysis of `ref` (`{templates: [{templateName}, …]}`, written where `seen`
    says in the Rollout); None, noted, when none of its metrics maps."""
    where = seen.field
    templates = ref.get("templates") if isinstance(ref, dict) else None
    found: list[Manifest] = []
    for item in templates if isinstance(templates, list) else []:
        name = item.get("templateName") if isinstance(item, dict) else None
        template = None if not isinstance(name, str) else (
            cluster.find(GROUP, "ClusterAnalysisTemplate", None, name)
            if item.get("clusterScope") else
            cluster.find(GROUP, "AnalysisTemplate", rollout.namespace, name))
        if template is None:
            cluster.draft.note(f"{rollout.title}: {where} names the analysis template {name}, "
                               "which is not in the files")
        else:
            found.append(template)
    block = Block(f"{seen} ({', '.join(t.title for t in found) or 'no template'})")
    first: dict[str, Any] | None = None
    for template in found:
        metrics = template.spec.get("metrics")
        for index, metric in enumerate(metrics if isinstance(metrics, list) else []):
            path = f"spec.metrics[{index}]"
            reason = _check(block, template, metric, path) if isinstance(metric, dict) else \
                "is not a metric"
            if reason:
                cluster.draft.note(f"{template.title}: {path} {reason}; left out")
                continue
            if first is None:
                first = metric
                _settings(block, template, metric, path)
            elif any(metric.get(key) != first.get(key) for key, _ in SETTINGS):
                cluster.draft.note(f"{template.title}: {path} measures with other settings than "
                                   "the first metric; the spec's analysis takes the first's")
        if template.spec.get("dryRun"):
            cluster.draft.note(f"{template.title}: dryRun metrics are imported as real checks")
    if first is None:
        cluster.draft.note(f"{rollout.title}: {where}: no metric of its templates maps to a "
                           "spec check (error rate, mean or a percentile); left out")
        return None
    block.data = dict(sorted(block.data.items(), key=lambda item: item[0] in CHECKS))
    return block


def _settings(block: Block, template: Manifest, metric: dict[str, Any], path: str) -> None:
    for argo_name, spec_name in SETTINGS:
        value = metric.get(argo_name)
        if value is None:
            continue
        seen = template.seen_in(metric, argo_name, f"{path}.{argo_name}")
        if argo_name in ("interval", "initialDelay"):
            seconds = go_duration(value)
            if seconds is not None:
                block.put((spec_name,), format_duration(seconds), seen)
        elif (number := whole(value)) is not None and (argo_name != "count" or number > 0):
            block.put((spec_name,), number, seen)     # count 0: until the rollout ends
    if "interval" not in metric and "count" not in metric:
        block.put(("count",), 1, f"{template.seen_in(metric, 'name', path)}: no interval "
                  "and no count: Argo measures once")
        query = _query(metric)
        window = _RANGE.search(query or "")
        if window is not None and (seconds := go_duration(window.group(1))) is not None:
            block.put(("interval",), format_duration(seconds), f"the query's range "
                      f"[{window.group(1)}]: each measurement covers it")


def _query(metric: dict[str, Any]) -> str | None:
    provider = metric.get("provider")
    prometheus = provider.get("prometheus") if isinstance(provider, dict) else None
    query = prometheus.get("query") if isinstance(prometheus, dict) else None
    return query if isinstance(query, str) else None


def _check(block: Block, template: Manifest, metric: dict[str, Any], path: str) -> str:
    """Add the check a metric is; the reason when it is none, else ''."""
    query = _query(metric)
    if query is None:
        provider = metric.get("provider")
        kinds = ", ".join(provider) if isinstance(provider, dict) else "none"
        return f"has no Prometheus query (provider {kinds})"
    quantile = _QUANTILE.search(query)
    five_xx = _FIVE_XX.search(query)
    unit = ""
    if quantile is not None or ("_sum" in query and "_count" in query):
        name = PERCENTILES.get(float(quantile.group(1))) if quantile else "mean"
        if name is None:
            return f"is quantile {quantile.group(1) if quantile else ''}, not one the spec checks"
        named = _UNIT.search(query)
        if named is None:
            return "measures a latency whose unit its name does not say"
        unit, higher_is_better = UNITS[named.group(1)], False
    elif five_xx is not None and "/" in query:
        name, higher_is_better = "error_rate", five_xx.group(1) == "!~"
    else:
        return "measures neither an error rate nor a latency"
    if name in block.data:
        return f"is a second {name} check"
    bounds = {}
    for condition in ("successCondition", "failureCondition"):
        text = metric.get(condition)
        if text is None:
            continue
        found = _CONDITION.findall(str(text))
        if len(found) != 1:
            return f"has a {condition} that is not one comparison of result[0] with a number"
        operator, number = found[0]
        upward = operator in (">", ">=")
        if upward != (higher_is_better == (condition == "successCondition")):
            return f"has a {condition} ({text}) pointing the other way"
        value = float(number)
        bounds[condition] = (1.0 - value if higher_is_better else value,
                             template.seen_in(metric, condition, f"{path}.{condition}"))
    if not bounds:
        return "has no successCondition or failureCondition (always inconclusive)"
    success = bounds.get("successCondition") or bounds["failureCondition"]
    values = {"max": success}
    if "successCondition" in bounds and "failureCondition" in bounds:
        if bounds["failureCondition"][0] < success[0]:
            return "fails below its success threshold"
        values["fail_above"] = bounds["failureCondition"]
    if name == "error_rate" and not all(0.0 <= value <= 1.0 for value, _ in values.values()):
        return "has an error-rate threshold outside 0–1"
    for key, (value, seen) in values.items():
        block.put((name, key), round(value, 9) if name == "error_rate" else
                  f"{value:.15g}{unit}", seen)  # in the metric's own unit
    return ""
