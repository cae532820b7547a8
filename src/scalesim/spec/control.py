"""Control loops of a spec: autoscaling, versions and rollouts, and the cluster's nodes.

Each block mirrors a real controller with its field names and defaults: the Kubernetes HPA
(autoscaling/v2 `behavior`), KEDA ScaledObjects for queue metrics, Deployment rolling
updates, Argo Rollouts canary and blue-green with AnalysisTemplates, and the cluster
autoscaler. The facts are in shared/reference/resilience-semantics.md §5–§7; docs/control.md
explains each field and what ScaleSim simulates of it.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from scalesim.spec.dists import Distribution
from scalesim.spec.errors import FieldProblems, counted
from scalesim.spec.types import (
    Duration,
    Fraction,
    Name,
    PositiveDuration,
    Rate,
    Strict,
    refuse_unused,
)
from scalesim.spec.units import format_duration

MAX_POLICY_PERIOD = 1800.0  # HPAScalingPolicy.periodSeconds, validated by the API server
MAX_STABILIZATION = 3600.0  # HPAScalingRules.stabilizationWindowSeconds
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")


def _parse_ratio(value: object) -> float:
    """0.5 or '50%' -> 0.5, and unlike a fraction above 1 too ('200%' -> 2.0)."""
    if isinstance(value, bool):
        raise ValueError(f"not a percentage: {value!r}")
    if isinstance(value, int | float):
        ratio = float(value)
    elif isinstance(value, str) and _PERCENT.match(value):
        ratio = float(_PERCENT.match(value).group(1)) / 100.0  # type: ignore[union-attr]
    else:
        raise ValueError(f"not a percentage: {value!r}; use e.g. '100%' or 1.0")
    if ratio <= 0.0 or math.isinf(ratio) or math.isnan(ratio):
        raise ValueError(f"a percentage must be above 0%, got {value!r}")
    return ratio


Ratio = Annotated[
    float,
    BeforeValidator(_parse_ratio),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                              {"type": "string", "pattern": r"^\s*\d+(\.\d*)?\s*%\s*$"}],
                    "description": "a share that may pass 100%: 1.0 or '100%', '400%'"}),
]
IntOrPercent = Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern=r"^\d+%$")]


def whole_percent(value: float) -> int:
    """A share as the whole percent Kubernetes and Argo store (they take int32 percents)."""
    return round(value * 100.0)


def _check_whole_percent(value: float, what: str) -> None:
    if abs(value * 100.0 - round(value * 100.0)) > 1e-9:
        raise ValueError(f"{what} must be a whole percent (the real field is an integer), "
                         f"got {value * 100:g}%")


def _check_whole_seconds(value: float | None, what: str,
                         why: str = "the real field is an integer") -> None:
    if value is not None and abs(value - round(value)) > 1e-9:
        raise ValueError(f"{what} must be whole seconds ({why}), got {value:g}s")


def resolve_count(value: int | str, total: int, round_up: bool) -> int:
    """An int-or-percent of `total`, as Kubernetes resolves maxSurge (up) / maxUnavailable
    (down)."""
    if isinstance(value, int):
        return value
    exact = int(value.rstrip("%")) * total / 100.0
    return math.ceil(exact - 1e-9) if round_up else math.floor(exact + 1e-9)


# -- autoscaling ---------------------------------------------------------------------------


class ScalingPolicy(Strict):
    """One HPA rate policy: in any `period`, change by at most `pods` replicas or `percent` of
    the replicas at the period's start (HPAScalingPolicy type Pods / Percent)."""

    pods: int | None = Field(None, ge=1)
    percent: Ratio | None = None
    period: PositiveDuration = 15.0

    @model_validator(mode="after")
    def _one_kind(self) -> ScalingPolicy:
        if (self.pods is None) == (self.percent is None):
            raise ValueError("a scaling policy gives exactly one of 'pods' or 'percent'")
        if self.percent is not None:
            _check_whole_percent(self.percent, "'percent'")
        _check_whole_seconds(self.period, "'period'")
        if self.period > MAX_POLICY_PERIOD:
            raise ValueError(f"'period' is at most {MAX_POLICY_PERIOD:g}s (periodSeconds ≤ 1800)")
        return self


def _up_policies() -> list[ScalingPolicy]:
    return [ScalingPolicy.model_validate({"pods": 4, "period": "15s"}),
            ScalingPolicy.model_validate({"percent": "100%", "period": "15s"})]


def _down_policies() -> list[ScalingPolicy]:
    return [ScalingPolicy.model_validate({"percent": "100%", "period": "15s"})]


class ScalingRules(Strict):
    """HPAScalingRules of one direction: recommendations are stabilized over `stabilization`,
    then the change is limited by the policies (`select` max: the largest change allowed,
    min: the smallest, disabled: never scale in this direction)."""

    stabilization: Duration = 0.0
    select: Literal["max", "min", "disabled"] = "max"
    policies: list[ScalingPolicy] = Field(default_factory=_up_policies, min_length=1,
                                          max_length=10)

    @model_validator(mode="after")
    def _check(self) -> ScalingRules:
        _check_whole_seconds(self.stabilization, "'stabilization'")
        if self.stabilization > MAX_STABILIZATION:
            raise ValueError("'stabilization' is at most 3600s (stabilizationWindowSeconds)")
        return self


class ScaleDownRules(ScalingRules):
    """Scale-down rules; Kubernetes' defaults differ from scale-up's."""

    stabilization: Duration = 300.0
    policies: list[ScalingPolicy] = Field(default_factory=_down_policies, min_length=1,
                                          max_length=10)


class QueueMetric(Strict):
    """KEDA's queue trigger: `backlog` unacknowledged messages per replica is the target
    (RabbitMQ `value` in QueueLength mode, Kafka `lagThreshold`); the consumer is active —
    and scaled from zero — while more than `activation` messages wait."""

    of: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")]
    backlog: int = Field(ge=1)
    activation: int = Field(0, ge=0)


class Metric(Strict):
    """One autoscaling metric; give exactly one of its fields."""

    cpu: Fraction | None = Field(
        None, description="average share of worker time in work and post_work (the HPA's "
        "resource utilization of CPU)")
    rps: Rate | None = Field(None, description="average requests per second per replica "
                             "(a Pods metric)")
    queue: QueueMetric | None = None

    @model_validator(mode="after")
    def _one(self) -> Metric:
        given = [name for name in ("cpu", "rps", "queue") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a metric is exactly one of 'cpu', 'rps' or 'queue'")
        if self.cpu is not None and self.cpu <= 0.0:
            raise ValueError("a 'cpu' target must be above 0%")
        if self.cpu is not None:
            _check_whole_percent(self.cpu, "'cpu'")
        return self

    @property
    def kind(self) -> str:
        return "cpu" if self.cpu is not None else "rps" if self.rps is not None else "queue"


def _default_metrics() -> list[Metric]:
    return [Metric(cpu=0.8)]  # the HPA's default: 80 % CPU utilization


class Autoscale(Strict):
    """A HorizontalPodAutoscaler (and, with a queue metric, a KEDA ScaledObject) on the
    component. Defaults are Kubernetes' and KEDA's."""

    min: int = Field(1, ge=0, description="minReplicas; 0 only with a queue metric (KEDA)")
    max: int = Field(ge=1, le=100_000, description="maxReplicas")
    metrics: list[Metric] = Field(default_factory=_default_metrics, min_length=1,
                                  description="the HPA takes the largest proposal")
    sync_period: PositiveDuration = Field(
        15.0, description="--horizontal-pod-autoscaler-sync-period")
    tolerance: Fraction = Field(0.1, description="no change while |ratio − 1| ≤ tolerance")
    window: PositiveDuration = Field(
        15.0, description="metrics are averaged over this window ending at the sync "
        "(metrics-server's resolution); at most sync_period, or a multiple of it")
    cpu_initialization: Duration = Field(
        300.0, description="--horizontal-pod-autoscaler-cpu-initialization-period")
    initial_readiness_delay: Duration = Field(
        30.0, description="--horizontal-pod-autoscaler-initial-readiness-delay")
    scale_up: ScalingRules = Field(default_factory=ScalingRules)
    scale_down: ScaleDownRules = Field(default_factory=ScaleDownRules)
    polling: PositiveDuration = Field(30.0, description="KEDA pollingInterval (queue metrics)")
    cooldown: Duration = Field(300.0, description="KEDA cooldownPeriod: idle this long "
                               "before scaling to zero")

    @model_validator(mode="after")
    def _keda_of_a_queue_metric(self) -> Autoscale:
        """KEDA's loop (activation, scaling to zero) runs for queue metrics only: without
        one the HPA alone scales and the simulator never reads polling or cooldown."""
        if not self.queue_metrics:
            refuse_unused(self, {"polling", "cooldown"}, "without a 'queue' metric: KEDA "
                          "polls to activate and scale to zero, and 1 to N replicas is the "
                          "HPA's (every sync_period)", "with a 'queue' metric (KEDA)")
        return self

    @model_validator(mode="after")
    def _check(self) -> Autoscale:
        if self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is more than 'max' ({self.max})")
        if self.min == 0 and not self.queue_metrics:
            raise ValueError("'min: 0' needs a 'queue' metric: only KEDA scales to zero")
        kinds = [m.kind for m in self.metrics if m.kind != "queue"]
        if len(kinds) != len(set(kinds)):
            raise ValueError("each of 'cpu' and 'rps' may appear once in 'metrics'")
        for name in ("polling", "cooldown"):
            _check_whole_seconds(getattr(self, name), f"'{name}'")
        ratio = self.window / self.sync_period
        if self.window > self.sync_period and abs(ratio - round(ratio)) > 1e-9:
            raise self._window_off_the_syncs()
        return self

    def _window_off_the_syncs(self) -> FieldProblems:
        """The window must fit the syncs. A user who wrote only `sync_period` never chose the
        window: say, at `sync_period`, that it kept its default, and which window fits."""
        window, sync = format_duration(self.window), format_duration(self.sync_period)
        rule = f"'window' ({window}) must be at most 'sync_period' ({sync}) or a whole " \
            "multiple of it"
        if "window" in self.model_fields_set:
            return FieldProblems([(("window",), rule)])
        return FieldProblems([(("sync_period",), (
            f"{rule}, and 'window' was left at its default (metrics-server's resolution): "
            f"set window: {sync} (or a whole multiple of it)"))])

    @property
    def queue_metrics(self) -> list[QueueMetric]:
        return [m.queue for m in self.metrics if m.queue is not None]

    @property
    def cpu_out_of_reach(self) -> tuple[int, float] | None:
        """(index, target) of a CPU metric the HPA never scales up on: a replica uses at most
        its CPU request (a saturated one reads 100 %), and usage / target ≤ 1 + tolerance
        stays in the band at a target of 1 / (1 + tolerance) or more. None when it can."""
        return next(((index, m.cpu) for index, m in enumerate(self.metrics)
                     if m.cpu is not None and 1.0 / m.cpu <= 1.0 + self.tolerance), None)

    @property
    def highest_reachable_cpu(self) -> int:
        """The whole-percent CPU target below which a saturated fleet scales up."""
        return whole_percent(1.0 / (1.0 + self.tolerance))


# -- versions and rollouts -----------------------------------------------------------------


class VersionOperation(Strict):
    """What a version changes in one operation; unset fields keep the component's."""

    work: Distribution | None = None
    cpu: Distribution | None = Field(None, description="the other name of `work`")
    wait: Distribution | None = None
    post_work: Distribution | None = None
    error_rate: Fraction | None = None

    @model_validator(mode="after")
    def _cpu_or_work(self) -> VersionOperation:
        if self.cpu is not None and self.work is not None:
            raise ValueError("give 'cpu' or its shorthand 'work', not both")
        return self


class Version(Strict):
    """A new version of a component: overrides of its operations' work and error rate."""

    operations: dict[Name, VersionOperation] = Field(default_factory=dict)
    startup: Distribution | None = Field(None, description="default: the component's")


class LatencyCheck(Strict):
    """A latency criterion: successful when ≤ `max`; with `fail_above`, failed only above it
    and inconclusive in between (Argo successCondition / failureCondition)."""

    max: PositiveDuration
    fail_above: PositiveDuration | None = None

    @model_validator(mode="after")
    def _order(self) -> LatencyCheck:
        if self.fail_above is not None and self.fail_above < self.max:
            raise ValueError("'fail_above' must be at least 'max'")
        return self


class RateCheck(Strict):
    """An error-rate criterion, like LatencyCheck."""

    max: Fraction
    fail_above: Fraction | None = None

    @model_validator(mode="after")
    def _order(self) -> RateCheck:
        if self.fail_above is not None and self.fail_above < self.max:
            raise ValueError("'fail_above' must be at least 'max'")
        return self


# Argo's DefaultErrorRetryInterval: a metric is measured again this long after a measurement
# error, whatever its interval.
ERROR_RETRY = 10.0
ANALYSIS_LATENCIES = ("mean", "p50", "p90", "p95", "p99", "p999")


class Analysis(Strict):
    """An Argo AnalysisTemplate measured on the new version's own requests at this component:
    the first measurement at once (after `initial_delay`), then one per `interval` (10 s
    after an error), each over the interval before it."""

    interval: PositiveDuration = 60.0
    count: int | None = Field(None, ge=1, description="measurements; default: until the "
                              "rollout ends (background) or 1 (a step)")
    initial_delay: Duration = 0.0
    failure_limit: int = Field(0, ge=-1, description="failed when failures > limit; -1 never")
    inconclusive_limit: int = Field(0, ge=0)
    consecutive_error_limit: int = Field(4, ge=0, description="measurements without data")
    starting_step: int | None = Field(None, ge=0, description="background analysis of a "
                                      "canary starts at this step (Argo startingStep)")
    error_rate: RateCheck | None = None
    mean: LatencyCheck | None = None
    p50: LatencyCheck | None = None
    p90: LatencyCheck | None = None
    p95: LatencyCheck | None = None
    p99: LatencyCheck | None = None
    p999: LatencyCheck | None = None

    @model_validator(mode="after")
    def _has_a_metric(self) -> Analysis:
        if not self.checks:
            raise ValueError("an analysis needs at least one of 'error_rate', "
                             + ", ".join(f"'{n}'" for n in ANALYSIS_LATENCIES))
        return self

    @property
    def checks(self) -> list[tuple[str, RateCheck | LatencyCheck]]:
        """(metric name, criterion) in a fixed order: error rate, then latencies."""
        names = ("error_rate", *ANALYSIS_LATENCIES)
        return [(name, getattr(self, name)) for name in names if getattr(self, name)]


class CanaryStep(Strict):
    """One canary step: exactly one of `set_weight`, `pause` or `analysis`."""

    set_weight: Fraction | None = None
    pause: PositiveDuration | None = None
    analysis: Analysis | None = None

    @model_validator(mode="after")
    def _one(self) -> CanaryStep:
        given = [n for n in ("set_weight", "pause", "analysis") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a step is exactly one of 'set_weight', 'pause' or 'analysis'")
        if self.set_weight is not None:
            _check_whole_percent(self.set_weight, "'set_weight'")
        # Argo reads a pause as int32 seconds, truncated (RolloutPause.DurationSeconds):
        # 1.5s would pause 1 s, 500ms not at all.
        _check_whole_seconds(self.pause, "'pause'",
                             "Argo Rollouts truncates a pause to whole seconds")
        return self


STRATEGY_FIELDS = {
    "rolling": {"max_surge", "max_unavailable"},
    "canary": {"max_surge", "max_unavailable", "steps", "traffic_routing", "analysis",
               "abort_scale_down_delay", "scale_down_delay"},
    "blue_green": {"preview_replicas", "auto_promotion", "auto_promotion_after",
                   "scale_down_delay", "pre_promotion_analysis", "post_promotion_analysis",
                   "abort_scale_down_delay"},
}


class Rollout(Strict):
    """A change of version during the run: a Deployment rolling update, or an Argo Rollouts
    canary or blue-green. Defaults are Kubernetes' and Argo's."""

    to: Name = Field(description="the version to roll out (a key of 'versions')")
    at: Duration = Field(0.0, description="when the rollout starts")
    strategy: Literal["rolling", "canary", "blue_green"] = "rolling"
    max_surge: IntOrPercent = Field("25%", description="extra replicas allowed (rounded up)")
    max_unavailable: IntOrPercent = Field("25%", description="replicas that may be "
                                          "unavailable (rounded down)")
    steps: list[CanaryStep] = Field(default_factory=list)
    traffic_routing: bool = Field(False, description="canary: exact weights by a mesh "
                                  "(Istio); otherwise weights are replica counts")
    analysis: Analysis | None = Field(None, description="canary: background analysis")
    abort_scale_down_delay: Duration = 30.0
    preview_replicas: int | None = Field(None, ge=1, description="blue-green "
                                         "previewReplicaCount; default: all")
    auto_promotion: bool = True
    auto_promotion_after: Duration | None = Field(None, description="autoPromotionSeconds")
    scale_down_delay: Duration = Field(30.0, description="the old version stays this long "
                                       "after the switch or a routed canary's promotion "
                                       "(scaleDownDelaySeconds)")
    pre_promotion_analysis: Analysis | None = None
    post_promotion_analysis: Analysis | None = None

    @model_validator(mode="after")
    def _check(self) -> Rollout:
        others = set().union(*STRATEGY_FIELDS.values()) - STRATEGY_FIELDS[self.strategy]
        refuse_unused(self, others, f"to strategy '{self.strategy}'")
        if self.max_surge in (0, "0%") and self.max_unavailable in (0, "0%"):
            raise ValueError("'max_surge' and 'max_unavailable' cannot both be 0")
        for name in ("abort_scale_down_delay", "auto_promotion_after", "scale_down_delay"):
            _check_whole_seconds(getattr(self, name), f"'{name}'")
        if self.analysis is not None and self.analysis.starting_step is not None and \
                self.analysis.starting_step > len(self.steps):
            raise ValueError(f"'analysis.starting_step' {self.analysis.starting_step} is past "
                             f"the {counted(len(self.steps), 'step')}")
        return self


# -- the cluster ---------------------------------------------------------------------------


class Cluster(Strict):
    """Node capacity shared by every component's replicas: a replica that finds no free slot
    stays Pending until the cluster autoscaler's new node is ready."""

    nodes: int = Field(ge=1, description="nodes at the start")
    pods_per_node: int = Field(ge=1)
    min_nodes: int | None = Field(None, ge=1, description="default: nodes")
    max_nodes: int | None = Field(None, ge=1, description="default: nodes (no autoscaler)")
    provision: PositiveDuration = Field(90.0, description="a new node is ready after this")
    scale_down_after: PositiveDuration = Field(
        600.0, description="a node unneeded this long is removed (scale-down-unneeded-time)")
    scan_interval: PositiveDuration = Field(10.0, description="the cluster autoscaler's loop")

    @model_validator(mode="after")
    def _check(self) -> Cluster:
        if self.lowest > self.nodes or self.highest < self.nodes:
            raise ValueError("need min_nodes ≤ nodes ≤ max_nodes")
        return self

    @property
    def lowest(self) -> int:
        return self.nodes if self.min_nodes is None else self.min_nodes

    @property
    def highest(self) -> int:
        return self.nodes if self.max_nodes is None else self.max_nodes

