"""What HorizontalPodAutoscalers and KEDA ScaledObjects share, read back in the spec's terms:
the scaling behavior, CPU and request-rate targets, and the controller flags.

- **Behavior.** `behavior.scaleUp/scaleDown` (KEDA: `advanced.horizontalPodAutoscalerConfig.
  behavior`) become `scale_up`/`scale_down` field by field; what a direction leaves out keeps
  Kubernetes' default, which is the spec's.
- **CPU.** The HPA measures utilization against the container's CPU request; the spec's
  target is the share of a replica's cores in use: its `cores` (component.json), else one
  core per worker. The same cores per replica give cpu = utilization × request / those
  cores — the inverse of generate's averageUtilization = cpu × cores / request — computed
  on the quantities as written and rounded to a whole percent, a half up, at most 100 %.
- **Requests per second.** A per-pod average of a metric that counts requests.
- **Controller flags** (`sync_period`, `tolerance`, …) are not fields of any object; ScaleSim's
  generator lists them in the `scalesim.io/not-mapped` annotation when they differ from
  Kubernetes' defaults, and they are read back from there.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from scalesim.importers import own_settings
from scalesim.importers.draft import Block, Component
from scalesim.importers.k8s.objects import Cluster, Manifest
from scalesim.importers.sizing import cores_text

SELECT = {"Max": "max", "Min": "min", "Disabled": "disabled"}
POLICY_TYPES = ("Pods", "Percent")
DIRECTIONS = (("scaleUp", "scale_up"), ("scaleDown", "scale_down"))
NOT_MAPPED = "scalesim.io/not-mapped"
_FLAG = re.compile(r"^(sync_period|tolerance|cpu_initialization|initial_readiness_delay|window) "
                   r"(\d+(?:\.\d*)?(?:e[+-]?\d+)?)(s|%) ")
REQUEST_WORDS = ("request", "rps", "qps")     # a metric name counting requests
SIGNIFICANT = 12     # digits of a CPU quantity kept as written (1m of 1e6 cores is 10)


def whole(value: Any) -> int | None:
    """An integer field's value (not a bool, not text)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def counts_requests(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in REQUEST_WORDS)


def flags(block: Block, manifest: Manifest) -> None:
    """The controller settings ScaleSim's generator notes when they differ from Kubernetes'."""
    annotations = manifest.data["metadata"].get("annotations")
    text = annotations.get(NOT_MAPPED) if isinstance(annotations, dict) else None
    if not isinstance(text, str):
        return
    seen = manifest.seen_in(annotations, NOT_MAPPED, f"metadata.annotations.{NOT_MAPPED} "
                            "(a controller flag, not a field of the object)")
    for part in text.split(";"):
        match = _FLAG.match(part.strip())
        if match is not None:
            name, number, unit = match.groups()
            block.put((name,), f"{float(number):g}{unit}", seen)


def behavior(block: Block, manifest: Manifest, cluster: Cluster, node: Any, path: str) -> None:
    """Both directions of an HPA `behavior` found at `path` of the object."""
    if not isinstance(node, dict):
        return
    for k8s_name, spec_name in DIRECTIONS:
        rules = node.get(k8s_name)
        if not isinstance(rules, dict):
            continue
        here = f"{path}.{k8s_name}"
        window = whole(rules.get("stabilizationWindowSeconds"))
        if window is not None:
            block.put((spec_name, "stabilization"), f"{window}s", manifest.seen_in(
                rules, "stabilizationWindowSeconds", f"{here}.stabilizationWindowSeconds"))
        select = str(rules.get("selectPolicy"))
        if select in SELECT:
            block.put((spec_name, "select"), SELECT[select], manifest.seen_in(
                rules, "selectPolicy", f"{here}.selectPolicy"))
        policies = rules.get("policies")
        written = 0
        for index, policy in enumerate(policies if isinstance(policies, list) else []):
            value = _policy(policy)
            if value is None:
                cluster.draft.note(f"{manifest.title}: {here}.policies[{index}] is not a Pods or "
                                   "Percent policy with a value and periodSeconds; left out")
                continue
            block.put((spec_name, "policies", written), value,
                      manifest.seen_in(policies, index, f"{here}.policies[{index}]"))
            written += 1
        if "tolerance" in rules:
            cluster.draft.note(f"{manifest.title}: {here}.tolerance (alpha) is not imported: "
                               "the spec has one tolerance for both directions (the flag)")


def _policy(policy: Any) -> dict[str, Any] | None:
    if not isinstance(policy, dict):
        return None
    value, period = whole(policy.get("value")), whole(policy.get("periodSeconds"))
    if value is None or value < 1 or period is None or period < 1:
        return None
    if policy.get("type") == "Pods":
        return {"pods": value, "period": f"{period}s"}
    if policy.get("type") == "Percent":
        return {"percent": f"{value}%", "period": f"{period}s"}
    return None


def cpu_share(component: Component, percent: float | None = None,
              cores: float | None = None) -> tuple[str | None, str]:
    """The spec's `cpu` for a target of `percent` of the CPU request, or of `cores` per
    replica; (None, why) when the files cannot say it."""
    if percent is not None:
        if component.cpu_request is None:
            return None, ("the workload sets no CPU request, which a CPU utilization is "
                          "measured against")
        request = component.cpu_request.value
        used = written(percent) / 100 * written(request)
        how = (f"{percent:g}% of the CPU request of {cores_text(request)} is "
               f"{cores_text(float(used))} per replica")
    else:
        assert cores is not None
        used = written(cores)
        how = f"{cores_text(cores)} per replica"
    measured, over = _measured_against(component)
    if measured is None:
        return None, over
    share = half_up(used / measured * 100)
    how += f"; {over}"
    if share > 100:
        return "100%", how + f": {share}%, capped at 100% (more CPU than it is measured against)"
    return f"{max(1, share)}%", how


def _measured_against(component: Component) -> tuple[Fraction | None, str]:
    """(cores, how) the simulator measures a replica's CPU use against (spec's core_limit):
    the cores of `component.json`, else a core per worker; (None, why) when unlimited."""
    limit = own_settings.core_limit(component)
    if limit is not None:
        return written(limit), (f"over its {cores_text(limit)} (component.json: a CPU target "
                                "is the share of a replica's cores in use)")
    workers = component.workers.value if component.workers is not None else 1
    if workers == "unlimited":
        return None, ("its workers are unlimited: no worker time for a CPU target to be a "
                      "share of")
    return Fraction(workers), (f"over {workers} worker{'s' if workers != 1 else ''} (a "
                               "computing worker is one core)")


def written(value: float) -> Fraction:
    """The decimal a quantity was written as, exactly: parsing ('700m' is 700 × 0.001) leaves
    an error in the 16th digit, which would tip a percent ending in .5 either way."""
    return Fraction(f"{value:.{SIGNIFICANT}g}")


def half_up(value: Fraction) -> int:
    """The nearest whole number, a half rounded up (52.5 % is 53 %, as 37.5 % is 38 %)."""
    return math.floor(value + Fraction(1, 2))


def rps(value: float) -> str:
    return f"{value:g}/s"


def take(block: Block, manifest: Manifest, cluster: Cluster, kind: str, value: str,
         seen: Any) -> bool:
    """Add a cpu or rps metric unless the block has that kind already (the spec takes each
    once); False when it was left out."""
    metrics = block.data.get("metrics", [])
    if any(kind in metric for metric in metrics):
        cluster.draft.note(f"{manifest.title}: a second {kind} metric is left out (the spec "
                           "takes each kind once)")
        return False
    block.put(("metrics", len(metrics), kind), value, seen)
    return True

