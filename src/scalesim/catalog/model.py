"""The schema of one pattern file: what every catalog entry must say, checked on load."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

PatternId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(min_length=20, strip_whitespace=True)]
Line = Annotated[str, StringConstraints(min_length=3, strip_whitespace=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(StrEnum):
    ARCHITECTURE_STYLE = "architecture-style"
    DECOMPOSITION_MIGRATION = "decomposition-migration"
    API_EDGE = "api-edge"
    COMMUNICATION = "communication"
    MESSAGING = "messaging"
    DATA_MANAGEMENT = "data-management"
    SCALABILITY_PERFORMANCE = "scalability-performance"
    PARTITIONING = "partitioning"
    REPLICATION_STORAGE = "replication-storage"
    COORDINATION_TIME = "coordination-time"
    RESILIENCE = "resilience"
    DEPLOYMENT_TOPOLOGY = "deployment-topology"
    STRUCTURAL = "structural"
    OBSERVABILITY = "observability"
    SECURITY = "security"
    PLATFORM_OPERATIONS = "platform-operations"
    BATCH_PROCESSING = "batch-processing"
    DOMAIN_SPECIALIZED = "domain-specialized"
    ANTI_PATTERN = "anti-pattern"


class Layer(StrEnum):
    """Where in a system the pattern lives."""

    INFRASTRUCTURE = "infrastructure"  # machines, network, storage engines, brokers
    PLATFORM = "platform"  # orchestration, mesh, gateways, shared runtime services
    APPLICATION = "application"  # code and design inside services
    CROSS_CUTTING = "cross-cutting"  # spans every layer (observability, security, process)


class Problem(StrEnum):
    """The problems a reader arrives with; each pattern names the ones it addresses."""

    AVAILABILITY = "availability"
    FAULT_TOLERANCE = "fault-tolerance"
    SCALABILITY = "scalability"
    PERFORMANCE = "performance"
    CONSISTENCY = "consistency"
    DATA_MANAGEMENT = "data-management"
    DECOUPLING = "decoupling"
    INTEGRATION = "integration"
    DEPLOYMENT = "deployment"
    OBSERVABILITY = "observability"
    SECURITY = "security"
    COORDINATION = "coordination"
    MIGRATION = "migration"
    COST = "cost"
    MAINTAINABILITY = "maintainability"


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Maturity(StrEnum):
    ESTABLISHED = "established"
    EMERGING = "emerging"
    NICHE = "niche"


class LearningLevel(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Effort(StrEnum):
    """Rough time for one team to implement the pattern the first time."""

    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class Forces(Strict):
    """Trade-offs as levels, so patterns can be compared in a matrix.

    consistency: how strong the consistency the pattern keeps (high = strong).
    latency: how much latency it adds to a request (high = adds a lot).
    throughput: how much it raises achievable throughput (high = a lot).
    availability: how much it raises availability (high = a lot).
    complexity: how hard it is to build and reason about.
    operational_cost: how much running it costs in people and infrastructure.
    """

    consistency: Level
    latency: Level
    throughput: Level
    availability: Level
    complexity: Level
    operational_cost: Level
    notes: Text | None = None


class FailureMode(Strict):
    mode: Line
    mitigation: Line


class Metric(Strict):
    name: Line
    healthy: Line  # what a healthy value or trend looks like


class Implementation(Strict):
    tech: Line  # e.g. "Resilience4j", "Envoy/Istio", "Kafka"
    notes: Text


class EffortEstimate(Strict):
    implement: Effort
    maintenance: Level


class Conflict(Strict):
    """A combination to avoid: the other pattern, and in one line why the two work against
    each other (shown wherever the relation is, so a reader never meets a bare 'conflicts')."""

    id: PatternId
    reason: Line


class Relations(Strict):
    """Typed links to other pattern ids; each must resolve."""

    requires: list[PatternId] = Field(default_factory=list)
    often_with: list[PatternId] = Field(default_factory=list)
    alternative_to: list[PatternId] = Field(default_factory=list)
    specializes: list[PatternId] = Field(default_factory=list)
    composed_of: list[PatternId] = Field(default_factory=list)
    conflicts_with: list[Conflict] = Field(default_factory=list)
    evolves_into: list[PatternId] = Field(default_factory=list)

    def all(self) -> list[tuple[str, str]]:
        """Every (relation kind, target id) pair, in a stable order."""
        return [(kind, target.id if isinstance(target, Conflict) else target)
                for kind, targets in self if isinstance(targets, list) for target in targets]

    def reason(self, kind: str, target: str) -> str | None:
        """The one-line reason a relation carries (conflicts always have one), else None."""
        if kind != "conflicts_with":
            return None
        return next((c.reason for c in self.conflicts_with if c.id == target), None)


SourceKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class Figure(Strict):
    """A number a source gives for the pattern, kept with what it measures and who says so:
    a rule of thumb to check against your own design, not a guarantee."""

    value: Line  # e.g. "< 1 ms"
    measures: Line  # what the number is about, e.g. "time the breaker adds to a call"
    source: SourceKey


class Source(Strict):
    """One entry of the legend (sources.yaml): a public catalog and where to read it."""

    name: Line
    url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")]
    note: Line | None = None


class AntiPatternInfo(Strict):
    symptoms: list[Line] = Field(min_length=1)
    causes: list[Line] = Field(min_length=1)
    fixed_by: list[PatternId] = Field(min_length=1)


class Pattern(Strict):
    id: PatternId
    name: Line
    aliases: list[str] = Field(default_factory=list)
    category: Category
    also_in: list[Category] = Field(default_factory=list)
    layers: list[Layer] = Field(min_length=1)
    problems: list[Problem] = Field(min_length=1)
    summary: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    problem: Text
    solution: Text
    use_when: list[Line] = Field(min_length=1)
    avoid_when: list[Line] = Field(min_length=1)
    forces: Forces
    failure_modes: list[FailureMode] = Field(min_length=1)
    monitor: list[Line] = Field(min_length=1)
    metrics: list[Metric] = Field(min_length=1)
    implementations: list[Implementation] = Field(default_factory=list)
    known_uses: list[Line] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    maturity: Maturity
    level: LearningLevel
    effort: EffortEstimate
    sources: list[SourceKey] = Field(min_length=1)
    relations: Relations
    anti_pattern: AntiPatternInfo | None = None

    @model_validator(mode="after")
    def _anti_pattern_section_matches_category(self) -> Pattern:
        is_anti = self.category is Category.ANTI_PATTERN
        if is_anti and self.anti_pattern is None:
            raise ValueError("an anti-pattern needs an 'anti_pattern' section")
        if not is_anti and self.anti_pattern is not None:
            raise ValueError("only category anti-pattern may have an 'anti_pattern' section")
        if not self.relations.all():
            raise ValueError("a pattern needs at least one relation")
        if self.id in {target for _, target in self.relations.all()}:
            raise ValueError("a pattern cannot relate to itself")
        return self
