"""Field values the importer reads, checked as the API server, the CRD or its controller
would check them.

A value the real cluster refuses (`replicas: three`, `periodSeconds: -5`, Istio
`attempts: many`, `maxEjectionPercent: 250`, Kong `second: lots`, an HPA policy of
`periodSeconds: 3600`, a KEDA `lagThreshold: "ten"`, an Argo `setWeight: 150`) is bad
input, named by file, line, object and field, never read as "not set" with its default. Only
the fields the importer reads are checked: a spec is not a full validation of the manifests.
Where each limit comes from is said beside its rule and in docs/import.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scalesim.importers import envoy
from scalesim.importers.checks import (
    Check,
    as_whole,
    boolean,
    count,
    duration,
    field_problem,
    int_or_percent,
    is_text,
    is_zero,
    one_of,
    percentage,
    positive_number,
    positive_quantity,
    resource_quantity,
)
from scalesim.importers.errors import Problem
from scalesim.importers.k8s import brokers, hpa, keda, links, scaling, streams
from scalesim.importers.k8s.analysis import GROUP as ARGO
from scalesim.importers.k8s.objects import Manifest, mapping
from scalesim.importers.sizing import go_duration, quantity
from scalesim.importers.sources import dig, line_of

Where = Callable[[Any], bool]
Kind = tuple[str, str]              # (API group, kind)


@dataclass(frozen=True)
class Rule:
    """The field at dotted `path` (`[]` steps into every item of a list, those that pass
    `where` when it is given) must pass `check` when it is set."""

    path: str
    check: Check
    where: Where | None = None


@dataclass(frozen=True)
class Ordered:
    """`low` must not be more than `high` (`default` when `high` is unset); reported at
    `high`, or at `low` when `high` is the default."""

    low: str
    high: str
    default: int | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return self.low, self.high

    def problems(self, manifest: Manifest) -> list[Problem]:
        low, low_line = dig(manifest.data, self.low)
        high, high_line = dig(manifest.data, self.high)
        least, most = as_whole(low), as_whole(high)
        if least is None:
            return []
        if high is None:
            if self.default is None or least <= self.default:
                return []
            return [field_problem(manifest.file, low_line, manifest.title, self.low,
                                  f"{least} is out of range: it must be at most {self.high} "
                                  f"({self.default} when unset)")]
        if most is None or least <= most:
            return []
        return [field_problem(manifest.file, high_line, manifest.title, self.high,
                              f"{most} is out of range: it must be at least {self.low} "
                              f"({least})")]


@dataclass(frozen=True)
class NotBothZero:
    """Two int-or-percent fields that cannot both be 0; reported at `at`."""

    at: str
    other: str

    @property
    def paths(self) -> tuple[str, ...]:
        return self.at, self.other

    def problems(self, manifest: Manifest) -> list[Problem]:
        value, line = dig(manifest.data, self.at)
        other, _ = dig(manifest.data, self.other)
        if not (is_zero(value) and is_zero(other)):
            return []
        return [field_problem(manifest.file, line, manifest.title, self.at,
                              f"{value!r} is out of range: it may not be 0 when "
                              f"{self.other.rsplit('.', 1)[1]} is 0")]


Cross = Ordered | NotBothZero

# -- Kubernetes: the API server's validation (pkg/apis/*/validation) -------------------------

def one_success(value: Any) -> str | None:
    """A liveness or startup probe's successThreshold: Kubernetes requires 1 (validation:
    "must be 1"; 0 is defaulted to 1 first), as one success ends a failure streak."""
    problem = count(0)(value)
    if problem is None and value > 1:
        return (f"{value} is out of range: Kubernetes requires 1 for a liveness or startup "
                "probe (one success ends a failure streak); a readiness probe may need more")
    return problem


PROBE_RULES = [*(Rule(f"{probe}.{field}", count(0))
                 for probe in ("readinessProbe", "livenessProbe", "startupProbe")
                 for field in ("periodSeconds", "timeoutSeconds", "failureThreshold",
                               "initialDelaySeconds")),
               Rule("readinessProbe.successThreshold", count(0)),
               Rule("livenessProbe.successThreshold", one_success),
               Rule("startupProbe.successThreshold", one_success)]
RESOURCE_RULES = [Rule(f"resources.{which}.{resource}", resource_quantity)
                  for which in ("requests", "limits") for resource in ("cpu", "memory")]
CONTAINER_RULES = PROBE_RULES + RESOURCE_RULES
CONTAINERS = "spec.template.spec.containers[].resources"


def requests_over_limits(manifest: Manifest) -> list[Problem]:
    """A container's cpu or memory request above its limit: the API server refuses the pod
    ("must be less than or equal to cpu limit"), so the workload never runs."""
    found = []
    for parent, key, path in _fields(manifest.data, CONTAINERS.split("."), "", None):
        resources = parent[key]
        requests, limits = (resources.get(which) if isinstance(resources, dict) else None
                            for which in ("requests", "limits"))
        if not isinstance(requests, dict) or not isinstance(limits, dict):
            continue
        for resource in ("cpu", "memory"):
            request, limit = quantity(requests.get(resource)), quantity(limits.get(resource))
            if request is not None and limit is not None and request > limit:
                found.append(field_problem(
                    manifest.file, line_of(requests, resource) or manifest.line,
                    manifest.title, f"{path}.requests.{resource}",
                    f"{requests[resource]!r} is out of range: it must be at most the "
                    f"{resource} limit ({limits[resource]!r}), as the API server requires"))
    return found
WORKLOAD_RULES = [Rule("spec.replicas", count()),
                  *(Rule(f"spec.template.spec.containers[].{rule.path}", rule.check)
                    for rule in CONTAINER_RULES)]
ROLLING = "spec.strategy.rollingUpdate"
DEPLOYMENT_RULES = [*WORKLOAD_RULES,
                    Rule("spec.strategy.type", one_of("Recreate", "RollingUpdate")),
                    Rule(f"{ROLLING}.maxSurge", int_or_percent()),
                    Rule(f"{ROLLING}.maxUnavailable", int_or_percent(max_percent=100))]
DEPLOYMENT_CROSS: list[Cross] = [NotBothZero(f"{ROLLING}.maxUnavailable", f"{ROLLING}.maxSurge")]


def behavior_rules(prefix: str) -> list[Rule]:
    """An HPA `behavior` at `prefix` (autoscaling validation: MaxStabilizationWindowSeconds
    3600, MaxPeriodSeconds 1800, a policy's value > 0)."""
    return [rule for direction, _ in scaling.DIRECTIONS for rule in (
        Rule(f"{prefix}.{direction}.stabilizationWindowSeconds", count(0, 3600)),
        Rule(f"{prefix}.{direction}.selectPolicy", one_of(*scaling.SELECT)),
        Rule(f"{prefix}.{direction}.policies[].type", one_of(*scaling.POLICY_TYPES)),
        Rule(f"{prefix}.{direction}.policies[].value", count(1)),
        Rule(f"{prefix}.{direction}.policies[].periodSeconds", count(1, 1800)))]


def _metric(field: str) -> Where:
    return lambda metric: hpa.reads_target(metric, field)


# minReplicas 0 is allowed behind the alpha gate HPAScaleToZero (hpa.py reads it as 1).
HPA_RULES = [
    Rule("spec.minReplicas", count(0)), Rule("spec.maxReplicas", count(1)),
    Rule("spec.targetCPUUtilizationPercentage", count(1)),             # autoscaling/v1
    *(rule for field in ("resource", "containerResource") for rule in (
        Rule(f"spec.metrics[].{field}.target.averageUtilization", count(1), _metric(field)),
        Rule(f"spec.metrics[].{field}.targetAverageUtilization", count(1), _metric(field)),
        Rule(f"spec.metrics[].{field}.target.averageValue", positive_quantity, _metric(field)),
        Rule(f"spec.metrics[].{field}.targetAverageValue", positive_quantity, _metric(field)))),
    *(rule for field in ("pods", "object") for rule in (
        Rule(f"spec.metrics[].{field}.target.averageValue", positive_quantity, _metric(field)),
        Rule(f"spec.metrics[].{field}.targetAverageValue", positive_quantity, _metric(field)))),
    *behavior_rules("spec.behavior")]
HPA_CROSS: list[Cross] = [Ordered("spec.minReplicas", "spec.maxReplicas")]

# -- Istio and Kong: their CRDs' field types and documented ranges ---------------------------

POOL = "spec.trafficPolicy.connectionPool"
OUTLIER = "spec.trafficPolicy.outlierDetection"
DESTINATION_RULE_RULES = [
    *(Rule(f"{POOL}.{field}", count()) for field in (
        "tcp.maxConnections", "http.http1MaxPendingRequests", "http.http2MaxRequests",
        "http.maxRetries", "http.maxRequestsPerConnection")),
    *(Rule(f"{OUTLIER}.{field}", count()) for field in (
        "consecutive5xxErrors", "consecutiveErrors", "consecutiveGatewayErrors")),
    Rule(f"{OUTLIER}.interval", duration), Rule(f"{OUTLIER}.baseEjectionTime", duration),
    Rule(f"{OUTLIER}.maxEjectionPercent", count(0, 100)),
    Rule(f"{OUTLIER}.minHealthPercent", count(0, 100))]


def istio_duration(value: Any) -> str | None:
    """A duration Istio's validation takes for a route's timeouts (ValidateDuration): at
    least 1 ms, in whole milliseconds."""
    problem = duration(value)
    seconds = go_duration(value)
    if problem is not None or seconds is None:
        return problem
    if seconds < 0.001:
        return f"{value!r} is out of range: Istio takes a duration of at least 1ms"
    if abs(seconds * 1000 - round(seconds * 1000)) > 1e-6:
        return f"{value!r} is finer than Istio takes: whole milliseconds"
    return None


VIRTUAL_SERVICE_RULES = [
    Rule("spec.http[].timeout", istio_duration), Rule("spec.http[].retries.attempts", count()),
    Rule("spec.http[].retries.perTryTimeout", istio_duration),
    Rule("spec.http[].retries.backoff", duration),
    Rule("spec.http[].retries.retryOn", envoy.retry_on_problem),
    Rule("spec.http[].fault.delay.fixedDelay", duration),
    Rule("spec.http[].fault.delay.percentage.value", percentage),
    Rule("spec.http[].fault.abort.percentage.value", percentage)]
KONG_WINDOWS = ("second", "minute", "hour", "day", "month", "year")
KONG_RATE_LIMIT_RULES = [Rule(f"config.{window}", positive_number) for window in KONG_WINDOWS]

# -- KEDA: the ScaledObject CRD, and what its scalers parse ----------------------------------

_JSON_INTEGER = re.compile(r"^-?(?:0|[1-9]\d*)$")
_JSON_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$")


def _parsed(pattern: re.Pattern[str]) -> Callable[[str], float | None]:
    return lambda text: float(text) if pattern.match(text) else None


def _metadata(parse: Callable[[str], float | None], what: str, positive: bool) -> Check:
    """A trigger's metadata value: text (the CRD holds metadata as a map of strings) that
    the scaler can `parse`; with `positive`, above 0, as KEDA makes it the target of the HPA
    it creates and Kubernetes takes only positive targets."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{value!r} is not text: KEDA's trigger metadata holds strings " \
                   f"(write {str(value)!r})"
        number = parse(value.strip())
        if number is None:
            return f"{value!r} is not {what}"
        if positive and number <= 0:
            return f"{value!r} is out of range: it must be greater than 0"
        return None
    return check


# KEDA's typed config reads int64 and float64 parameters with encoding/json; the cpu
# scaler reads a Utilization with strconv.ParseInt and an AverageValue as a quantity.
KEDA_INT, KEDA_FLOAT = _parsed(_JSON_INTEGER), _parsed(_JSON_NUMBER)
PERCENT_INT = _parsed(re.compile(r"^[+-]?\d+$"))


def _trigger(kind: str, extra: Where | None = None) -> Where:
    return lambda trigger: keda.reads_metadata(trigger, kind) and (extra is None or extra(trigger))


def _trigger_rules() -> list[Rule]:
    rules = []
    for kind, trigger in keda.QUEUES.items():
        parse, what = (KEDA_INT, "a whole number") if trigger.whole else (KEDA_FLOAT,
                                                                         "a number")
        rules += [Rule(f"spec.triggers[].metadata.{trigger.target}",
                       _metadata(parse, what, positive=True), _trigger(kind)),
                  Rule(f"spec.triggers[].metadata.{trigger.activation}",
                       _metadata(parse, what, positive=False), _trigger(kind))]
    legacy, _ = keda.RABBITMQ_LEGACY        # read when `value` is not set; a float64 in KEDA
    rules.append(Rule(f"spec.triggers[].metadata.{legacy}",
                      _metadata(KEDA_FLOAT, "a number", positive=True),
                      _trigger("rabbitmq", lambda t: "value" not in mapping(t.get("metadata")))))
    cpu = "spec.triggers[].metadata.value"
    rules += [Rule(cpu, _metadata(PERCENT_INT, "a whole number (a percent)", positive=True),
                   _trigger("cpu", lambda t: keda.target_type(t) != "AverageValue")),
              Rule(cpu, _metadata(quantity, "a quantity (e.g. '500m', '2')", positive=True),
                   _trigger("cpu", lambda t: keda.target_type(t) == "AverageValue"))]
    return rules


KEDA_RULES = [Rule("spec.minReplicaCount", count(0)), Rule("spec.maxReplicaCount", count(1)),
              Rule("spec.pollingInterval", count(1)), Rule("spec.cooldownPeriod", count(0)),
              *behavior_rules("spec.advanced.horizontalPodAutoscalerConfig.behavior"),
              *_trigger_rules()]
KEDA_CROSS: list[Cross] = [Ordered("spec.minReplicaCount", "spec.maxReplicaCount",
                                   keda.DEFAULT_MAX)]

# -- Argo Rollouts: the CRDs' types and the controller's validation --------------------------

CANARY = "spec.strategy.canary"
BLUE_GREEN = "spec.strategy.blueGreen"
WHOLE_NUMBER = count(None)          # the CRD's int32, with no range of its own


def pause_duration(value: Any) -> str | None:
    """A pause step's duration as Argo reads it (RolloutPause.DurationSeconds): seconds (a
    number, or text of digits) or a Go duration, not negative."""
    seconds: float | None = as_whole(value, text=True)
    if seconds is None and isinstance(value, str):
        seconds = go_duration(value)
    if seconds is None:
        return f"{value!r} is not a duration (seconds, or a number with a unit: '30s', '10m')"
    return None if seconds >= 0 else f"{value!r} is out of range: it must not be negative"


ROLLOUT_RULES = [
    *WORKLOAD_RULES,
    Rule(f"{CANARY}.steps[].setWeight", count(0, 100)),
    Rule(f"{CANARY}.steps[].pause.duration", pause_duration),
    Rule(f"{CANARY}.maxSurge", int_or_percent()),
    Rule(f"{CANARY}.maxUnavailable", int_or_percent()),
    Rule(f"{CANARY}.analysis.startingStep", WHOLE_NUMBER),
    *(Rule(f"{strategy}.{field}", WHOLE_NUMBER) for strategy in (CANARY, BLUE_GREEN)
      for field in ("scaleDownDelaySeconds", "abortScaleDownDelaySeconds")),
    Rule(f"{BLUE_GREEN}.previewReplicaCount", WHOLE_NUMBER),
    Rule(f"{BLUE_GREEN}.autoPromotionSeconds", WHOLE_NUMBER),
    Rule(f"{BLUE_GREEN}.autoPromotionEnabled", boolean)]
ROLLOUT_CROSS: list[Cross] = [NotBothZero(f"{CANARY}.maxSurge", f"{CANARY}.maxUnavailable")]


def _argument_or(check: Check) -> Check:
    """Text with `{{args.…}}` passes: Argo puts the argument in when the analysis runs."""
    return lambda value: None if isinstance(value, str) and "{{" in value else check(value)


def _limit(minimum: int) -> Check:
    """An int-or-string limit: a number is checked; text passes (Argo reads it as an
    argument to fill in, and the importer reads numbers only)."""
    return lambda value: None if isinstance(value, str) else count(minimum)(value)


ANALYSIS_RULES = [Rule("spec.metrics[].interval", _argument_or(duration)),
                  Rule("spec.metrics[].initialDelay", _argument_or(duration)),
                  Rule("spec.metrics[].failureLimit", _limit(-1)),        # -1: no limit
                  Rule("spec.metrics[].inconclusiveLimit", _limit(0)),
                  Rule("spec.metrics[].consecutiveErrorLimit", _limit(0))]
ANALYSIS_KINDS = {(ARGO, "AnalysisTemplate"), (ARGO, "ClusterAnalysisTemplate")}
# Where a Rollout names the templates the importer reads (rollout.py, analysis.read).
ANALYSIS_REFS = (f"{CANARY}.analysis", f"{CANARY}.steps[].analysis",
                 f"{BLUE_GREEN}.prePromotionAnalysis", f"{BLUE_GREEN}.postPromotionAnalysis")

# -- brokers' topic and queue objects: their CRDs, what they take (brokers.py, streams.py) ---

def regex(value: Any) -> str | None:
    """A policy's pattern: a regular expression (RabbitMQ: rabbit_parameter_validation
    regex, re:compile)."""
    if not isinstance(value, str):
        return f"{value!r} is not text"
    try:
        re.compile(value)
    except re.error as error:
        return f"{value!r} is not a regular expression: {error}"
    return None


def operator_refuses(key: str) -> Check:
    """A key RabbitMQ takes in a policy and not in an operator policy: the stream keys are
    registered as policy validators only (rabbit_policies.erl), and rabbit_policy.erl
    `validation_op` refuses a key no operator-policy validator knows."""
    return lambda value: f"{value!r}: an operator policy cannot set {key} (RabbitMQ: not a " \
                         "recognised operator policy setting; a Policy can)"


# The topology operator's CRDs (rabbitmq/messaging-topology-operator api/v1beta1): a
# policy's applyTo enum and integer priority; the definition's keys as RabbitMQ takes them.
POLICY_RULES = [Rule("spec.pattern", regex), Rule("spec.priority", count(None)),
                *(Rule(f"spec.definition.{key}", check) for key, check in brokers.RABBIT_KEYS)]
RABBIT_RULES: dict[Kind, list[Rule]] = {
    ("rabbitmq.com", "Policy"): [*POLICY_RULES, Rule("spec.applyTo", one_of(
        "queues", "classic_queues", "quorum_queues", "streams", "exchanges", "all")),
        *(Rule(f"spec.definition.{key}", check) for key, check in streams.STREAM_POLICY_KEYS)],
    ("rabbitmq.com", "OperatorPolicy"): [*POLICY_RULES, Rule("spec.applyTo", one_of(
        "queues", "classic_queues", "quorum_queues", "streams")),
        *(Rule(f"spec.definition.{key}", operator_refuses(key))
          for key, _ in streams.STREAM_POLICY_KEYS)],
    **{kind: [Rule(path, check) for path, check in rules]
       for kind, rules in links.FIELD_RULES.items()},
    ("rabbitmq.com", "Exchange"): [Rule("spec.name", brokers.nonempty),
                                   Rule("spec.type", brokers.nonempty)],
    ("rabbitmq.com", "Binding"): [Rule("spec.source", is_text),
                                  Rule("spec.destination", is_text),
                                  Rule("spec.destinationType", one_of("exchange", "queue")),
                                  Rule("spec.routingKey", is_text)],
    ("rabbitmq.com", "Vhost"): [Rule("spec.defaultQueueType", one_of("quorum", "classic",
                                                                     "stream"))],
    # the cluster operator's RabbitmqCluster (replicas: Minimum 0)
    ("rabbitmq.com", "RabbitmqCluster"): [Rule("spec.replicas", count(0)),
                                          Rule("spec.rabbitmq.additionalConfig",
                                               is_text)]}
# Strimzi (KafkaClusterSpec up to 0.45: replicas Minimum 1; KafkaNodePoolSpec: replicas
# Minimum 0; its roles are checked in clusters.py)
STRIMZI_RULES: dict[Kind, list[Rule]] = {
    ("kafka.strimzi.io", "Kafka"): [Rule("spec.kafka.replicas", count(1))],
    ("kafka.strimzi.io", "KafkaNodePool"): [Rule("spec.replicas", count(0))]}
BROKER_RULES: dict[Kind, list[Rule]] = {
    ("kafka.strimzi.io", "KafkaTopic"): [Rule(p, c) for p, c in brokers.KAFKA_TOPIC_RULES],
    ("rabbitmq.com", "Queue"): [Rule(p, c) for p, c in brokers.RABBIT_QUEUE_RULES],
    streams.SUPER_STREAM: [Rule(p, c) for p, c in streams.SUPER_STREAM_RULES],
    ("sqs.services.k8s.aws", "Queue"): [Rule(p, c) for p, c in brokers.SQS_QUEUE_RULES],
    **RABBIT_RULES, **STRIMZI_RULES}

# -- which rules apply to which objects ------------------------------------------------------

WORKLOADS = {("apps", kind) for kind in ("StatefulSet", "DaemonSet", "ReplicaSet")}
RULES: dict[Kind, list[Rule]] = {
    **{kind: WORKLOAD_RULES for kind in WORKLOADS},
    ("apps", "Deployment"): DEPLOYMENT_RULES,
    ("networking.istio.io", "DestinationRule"): DESTINATION_RULE_RULES,
    ("networking.istio.io", "VirtualService"): VIRTUAL_SERVICE_RULES,
    ("autoscaling", "HorizontalPodAutoscaler"): HPA_RULES,
    ("keda.sh", "ScaledObject"): KEDA_RULES,
    (ARGO, "Rollout"): ROLLOUT_RULES,
    **{kind: ANALYSIS_RULES for kind in ANALYSIS_KINDS},
    **BROKER_RULES}
POD_TEMPLATES = {*WORKLOADS, ("apps", "Deployment"), (ARGO, "Rollout")}
CROSS: dict[Kind, list[Cross]] = {
    ("apps", "Deployment"): DEPLOYMENT_CROSS,
    ("autoscaling", "HorizontalPodAutoscaler"): HPA_CROSS,
    ("keda.sh", "ScaledObject"): KEDA_CROSS, (ARGO, "Rollout"): ROLLOUT_CROSS}


def _rules(manifest: Manifest) -> list[Rule]:
    if manifest.kind == "KongPlugin" and manifest.data.get("plugin") == "rate-limiting":
        return KONG_RATE_LIMIT_RULES
    return RULES.get((manifest.group, manifest.kind), [])


def _fields(node: Any, parts: list[str], path: str,
            where: Where | None) -> Iterator[tuple[Any, str | int, str]]:
    """(parent, key, dotted path) of every value `parts` reaches from `node`."""
    part, rest = parts[0], parts[1:]
    many = part.endswith("[]")
    key = part.removesuffix("[]")
    if not isinstance(node, dict) or key not in node:
        return
    here = f"{path}.{key}" if path else key
    if not many:
        if rest:
            yield from _fields(node[key], rest, here, where)
        else:
            yield node, key, here
        return
    items = node[key]
    for index, item in enumerate(items if isinstance(items, list) else []):
        if rest and (where is None or where(item)):
            yield from _fields(item, rest, f"{here}[{index}]", where)


Template = tuple[str, str | None, str]      # kind, namespace (None: cluster-wide), name


def _named_templates(manifests: Sequence[Manifest]) -> set[Template]:
    """The analysis templates the Rollouts name."""
    named: set[Template] = set()
    for rollout in manifests:
        if (rollout.group, rollout.kind) != (ARGO, "Rollout"):
            continue
        for ref in ANALYSIS_REFS:
            for item, key, _ in _fields(rollout.data, f"{ref}.templates[].templateName".split(
                    "."), "", None):
                if isinstance(item, dict) and item.get("clusterScope") is True:
                    named.add(("ClusterAnalysisTemplate", None, str(item[key])))
                else:
                    named.add(("AnalysisTemplate", rollout.namespace, str(item[key])))
    return named


def field_problems(manifests: Sequence[Manifest]) -> list[Problem]:
    """Every field the importer reads whose value the real API, CRD or controller refuses:
    of each object, and of each analysis template a Rollout names (the others are not read)."""
    named = _named_templates(manifests)
    problems = []
    for manifest in manifests:
        if (manifest.group, manifest.kind) in ANALYSIS_KINDS and (manifest.kind, (
                None if manifest.kind == "ClusterAnalysisTemplate" else manifest.namespace),
                manifest.name) not in named:
            continue        # not read: no Rollout names it
        refused = set()
        for rule in _rules(manifest):
            for parent, key, path in _fields(manifest.data, rule.path.split("."), "",
                                             rule.where):
                value = parent[key]
                if value is None:
                    continue  # null is "not set" in the API too
                problem = rule.check(value)
                if problem is not None:
                    refused.add(path)
                    problems.append(field_problem(manifest.file, line_of(parent, key) or
                                                  manifest.line, manifest.title, path, problem))
        for cross in CROSS.get((manifest.group, manifest.kind), []):
            if refused.isdisjoint(cross.paths):     # a refused value is said once
                problems += cross.problems(manifest)
        if (manifest.group, manifest.kind) in POD_TEMPLATES:
            problems += requests_over_limits(manifest)
    return problems
