"""Every lint rule, registered here and only here: id, name, severity, why it hurts, the
catalog patterns that fix it, the catalog entry that describes it, and the check.

Fix ids are catalog pattern ids (tests check each one exists), kept as plain strings so
linting never needs the catalog loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.lint.context import Check
from scalesim.lint.finding import Severity
from scalesim.lint.rules import (
    capacity,
    consistency,
    data,
    delivery,
    fanout,
    queues,
    resilience,
    topology,
)

INFO, WARNING, ERROR = Severity.INFO, Severity.WARNING, Severity.ERROR


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    why: str
    fixes: tuple[str, ...]
    see: str | None
    """Catalog id of the anti-pattern (or pattern) this rule detects, if there is one."""
    check: Check


RULES: tuple[Rule, ...] = (
    Rule("SS101", "deep-sync-chain", WARNING,
         "every synchronous hop adds its latency and its failures to the request, and a "
         "slow hop at the bottom holds a worker at every level above it",
         ("asynchronous-messaging", "materialized-view", "cache-aside", "deadline-propagation"),
         "synchronous-chains", topology.deep_chains),
    Rule("SS102", "distributed-monolith", ERROR,
         "services that call each other synchronously cannot be deployed, scaled or failed "
         "separately, and their blocking workers can wait on each other until both stall",
         ("decompose-by-subdomain", "asynchronous-messaging", "domain-event", "bulkhead"),
         "distributed-monolith", topology.component_cycles),
    Rule("SS103", "shared-database", WARNING,
         "services that share tables are coupled through the schema and contend for one "
         "database's connections, locks and capacity",
         ("database-per-service", "database-wrapping-service", "change-data-capture", "saga"),
         "shared-database", topology.shared_databases),
    Rule("SS104", "chatty-calls", WARNING,
         "each call pays a network round trip and a slot at the target; many small calls "
         "per request make latency and load grow with their count",
         ("request-batch", "gateway-aggregation", "cache-aside"),
         "chatty-io", topology.chatty_calls),
    Rule("SS105", "single-replica", WARNING,
         "a single replica on the request path is a single point of failure: every restart "
         "or crash of it is an outage",
         ("replicated-load-balanced-service", "load-balancing", "health-check", "failover"),
         "single-point-of-failure", topology.single_replicas),
    Rule("SS106", "missing-health-check", WARNING,
         "without a readiness probe the balancer keeps sending a share of the requests to a "
         "replica that hangs or fails, so having replicas does not buy availability",
         ("health-check", "load-balancing", "failover"),
         "single-point-of-failure", topology.missing_health_checks),
    Rule("SS107", "unreplicated-database", WARNING,
         "database replicas without replication are independent servers, each holding the "
         "writes sent to it: reads behind a balancer miss writes that went elsewhere, the "
         "copies diverge, and a crash loses what only that replica held",
         ("leader-and-followers", "majority-quorum", "sharding"),
         "single-point-of-failure", topology.unreplicated_databases),
    Rule("SS201", "missing-timeout", WARNING,
         "a call without a timeout waits as long as the target hangs, so a slow dependency "
         "exhausts the caller's workers and the failure spreads upstream",
         ("timeout", "deadline-propagation", "circuit-breaker", "bulkhead"),
         "blocked-threads", resilience.missing_timeouts),
    Rule("SS202", "retry-without-backoff", WARNING,
         "immediate retries hit a struggling service again at once and multiply its load "
         "just when it needs less",
         ("retry", "circuit-breaker"),
         "retry-storm", resilience.retries_without_backoff),
    Rule("SS203", "retry-without-jitter", WARNING,
         "backoff without jitter keeps clients that failed together synchronised, so their "
         "retries arrive as spikes",
         ("retry",),
         "dogpile", resilience.retries_without_jitter),
    Rule("SS204", "retry-amplification", WARNING,
         "retries nested in one chain multiply: the deepest service sees the product of the "
         "attempts of every retrying layer above it when it fails; and retries into a "
         "component near capacity multiply its load just as it slows down",
         ("retry", "circuit-breaker", "deadline-propagation", "load-shedding"),
         "retry-storm", resilience.retry_amplification),
    Rule("SS205", "external-without-breaker", WARNING,
         "a third party fails on its own schedule; without a breaker every request keeps "
         "paying for its outage instead of failing fast",
         ("circuit-breaker", "fallback", "timeout", "bulkhead"),
         "integration-point-failure", resilience.external_without_breaker),
    Rule("SS206", "timeout-inversion", WARNING,
         "when a callee waits longer on its dependency than its caller waits for it, the "
         "caller times out first and the callee keeps working on an answer nobody reads",
         ("timeout", "deadline-propagation"),
         "slow-responses", resilience.timeout_inversions),
    Rule("SS207", "retries-outlast-caller", WARNING,
         "retries that take longer than the caller (or the call's own deadline) waits are "
         "cut off: they add load without ever producing an answer anyone receives",
         ("deadline-propagation", "timeout", "retry"),
         "retry-storm", resilience.retries_outlast_caller),
    Rule("SS208", "breaker-never-decides", WARNING,
         "a circuit breaker decides only once its window holds min_calls calls; a minimum "
         "above a count window is silently capped, and one a time window never reaches at "
         "the offered rate means the breaker never opens",
         ("circuit-breaker",),
         "integration-point-failure", resilience.breakers_that_never_decide),
    Rule("SS209", "bulkhead-exceeds-callee", WARNING,
         "a bulkhead larger than the workers behind it refuses only past what the callee "
         "can serve: the excess queues at the callee, where every other caller of it waits "
         "behind this one (the caller's own threads stay capped)",
         ("bulkhead", "backpressure"),
         "blocked-threads", resilience.bulkheads_larger_than_callee),
    Rule("SS210", "retried-non-idempotent", ERROR,
         "an attempt that timed out may have succeeded; retrying or hedging an operation "
         "that must not run twice applies it twice (double charges, duplicate orders)",
         ("idempotent-receiver", "deduplication", "retry"),
         None, resilience.retried_non_idempotent),
    Rule("SS211", "metastable-retries", WARNING,
         "retries add load exactly when their target slows down; where a burst that makes "
         "attempts late is enough for every attempt to be sent and to overload the target, "
         "the retries keep it overloaded after the burst is gone: a second steady state in "
         "which requests fail until the load drops (a metastable failure)",
         ("retry", "circuit-breaker", "load-shedding", "timeout"),
         "retry-storm", resilience.metastable_retries),
    Rule("SS301", "fan-out-without-timeout", WARNING,
         "a fan-out is as slow as its slowest branch; without timeouts one slow branch "
         "decides the latency of every request",
         ("timeout", "deadline-propagation", "graceful-degradation"),
         "slow-responses", fanout.fan_out_without_timeout),
    Rule("SS302", "all-or-nothing-fan-out", INFO,
         "the request succeeds only if every branch does, so its availability is the product "
         "of the branches'; partial results would keep it answering",
         ("fallback", "graceful-degradation", "scatter-gather"),
         "cascading-failure", fanout.fan_out_all_or_nothing),
    Rule("SS401", "unbounded-queue", WARNING,
         "an unbounded queue hides overload as ever longer waits and memory growth instead "
         "of pushing back",
         ("backpressure", "load-shedding", "queue-based-load-leveling"),
         None, queues.unbounded_queues),
    Rule("SS402", "slow-consumers", ERROR,
         "when messages arrive faster than the consumers take them, the backlog grows until "
         "the queue is full or messages are too old to matter",
         ("competing-consumers", "auto-scaling", "backpressure", "queue-based-load-leveling"),
         "unbalanced-capacities", queues.slow_consumers),
    Rule("SS403", "no-dead-letter", INFO,
         "a message that always fails blocks or loops in the queue, or vanishes, unless it "
         "is moved aside where someone can look at it",
         ("dead-letter-channel", "invalid-message-channel", "idempotent-receiver"),
         None, data.no_dead_letter),
    Rule("SS404", "duplicates-without-idempotency", WARNING,
         "at-least-once delivery means some messages arrive twice; a consumer that is not "
         "idempotent then does the work twice",
         ("idempotent-receiver", "transactional-outbox", "dead-letter-channel"),
         None, data.duplicates_without_idempotency),
    Rule("SS405", "saga-step-without-compensation", WARNING,
         "a saga has no rollback: when a later step fails, only the compensations undo "
         "what earlier steps committed, so a step without one leaves the data half done",
         ("compensating-transaction", "saga"),
         "eventual-consistency", data.saga_steps_without_compensation),
    Rule("SS406", "partitions-without-kafka", WARNING,
         "the simulation orders and assigns a partitioned queue's messages as a Kafka topic "
         "does, but only Kafka has partitions and consumer groups: deployed on another "
         "broker, the queue behaves otherwise than simulated",
         ("event-streaming", "competing-consumers"),
         None, data.partitions_without_kafka),
    Rule("SS407", "delivery-outlives-visibility", WARNING,
         "at least once, a message becomes visible again when its visibility timeout ends "
         "unacknowledged: a delivery still running then is joined by a second one, which "
         "processes the message again and adds load just as the consumer is slow",
         ("idempotent-receiver", "competing-consumers", "dead-letter-channel"),
         None, data.deliveries_outlive_visibility),
    Rule("SS501", "overloaded", ERROR,
         "a component offered more work than its workers can do (ρ ≥ 1) has no steady state: "
         "its queue and its latency grow for as long as the load lasts, or a bounded queue "
         "refuses what it cannot hold",
         ("auto-scaling", "load-balancing", "load-shedding", "queue-based-load-leveling"),
         "unbalanced-capacities", capacity.overloaded),
    Rule("SS502", "near-capacity", WARNING,
         "queueing delay grows like ρ/(1-ρ): near full utilization a small spike or a slow "
         "dependency turns into long waits and timeouts",
         ("auto-scaling", "load-balancing", "load-shedding", "cache-aside"),
         "unbalanced-capacities", capacity.near_capacity),
    Rule("SS601", "sync-replication-across-regions", WARNING,
         "a synchronous commit waits for the slowest acknowledgement it needs; across "
         "regions that is a long round trip on every write, and a region outage stalls "
         "writes (or quietly drops to asynchronous)",
         ("geo-replication", "leader-and-followers", "follower-reads"),
         None, consistency.sync_replication_across_regions),
    Rule("SS602", "cache-stampede", WARNING,
         "when a hot key expires, every read until it is reloaded misses and reloads it: "
         "the backend gets a burst of identical queries just when it matters",
         ("caching-strategies", "read-through-cache", "cache-aside"),
         "dogpile", consistency.cache_stampede),
    Rule("SS603", "cache-without-expiry", WARNING,
         "an entry that never expires keeps whatever value it holds; if a write can miss "
         "it, readers see that old value until it is evicted",
         ("caching-strategies", "write-through-cache", "cache-aside"),
         "eventual-consistency", consistency.cache_without_expiry),
    Rule("SS604", "election-timeout-too-short", ERROR,
         "a follower that hears no heartbeat within its election timeout stands for "
         "election; if heartbeats cannot arrive in time, healthy leaders are deposed over "
         "and over and every election is time without a leader",
         ("leader-election", "heartbeat", "consensus"),
         None, consistency.election_timeout_too_short),
    Rule("SS605", "ttl-beyond-staleness-budget", WARNING,
         "a cached value that writes do not update is served until it expires; a TTL longer "
         "than the data may be stale serves readers values older than they can accept",
         ("caching-strategies", "write-through-cache", "cache-aside"),
         "eventual-consistency", consistency.ttl_beyond_staleness_budget),
    Rule("SS606", "lease-shorter-than-renewal", WARNING,
         "a Lease holder that loses the API server acts as leader until renew_deadline has "
         "passed since its first failed renewal, a retry_period after its last good one; "
         "candidates may take the lease lease_duration after that renewal: if that comes "
         "first, two replicas act as leader at once",
         ("lease", "leader-election", "split-brain-resolution"),
         None, consistency.lease_shorter_than_renewal),
    Rule("SS607", "raft-without-check-quorum", WARNING,
         "without CheckQuorum nothing tells a Raft leader cut off from its majority that it "
         "lost it: it acts as leader beside the one the others elect until the cut heals "
         "(etcd always runs CheckQuorum, which ends that within two election timeouts)",
         ("consensus", "leader-election", "split-brain-resolution"),
         None, consistency.raft_without_check_quorum),
    Rule("SS608", "partial-quorum", INFO,
         "when R + W ≤ N a read quorum need not overlap the last write's quorum: a read can "
         "answer with an older value than one already acknowledged, a trade of consistency "
         "for latency and availability to make knowingly",
         ("tunable-consistency", "majority-quorum", "read-repair"),
         "eventual-consistency", consistency.partial_quorum),
    Rule("SS609", "election-timeout-range-too-narrow", WARNING,
         "Raft draws each follower's election timeout at random so that one times out first "
         "and wins before the others stand; timers that fire within a network hop of each "
         "other all stand and split the vote, and the group stays without a leader for "
         "another timeout, as often as the draws fall that close",
         ("leader-election", "consensus"),
         None, consistency.election_timeouts_split_votes),
    Rule("SS701", "preview-analysis-without-traffic", WARNING,
         "analysis metrics are measured on the new version's own requests, and no workload "
         "with 'preview: true' sends requests to the blue-green preview: its measurements "
         "have no data, so the analysis ends in Error and aborts a rollout that may be fine",
         ("blue-green-deployment", "canary-release"),
         None, delivery.preview_analysis_without_traffic),
    Rule("SS702", "percent-read-as-multiple", WARNING,
         "a scaling policy's percent is a ratio, where a bare number is a multiple: "
         "'percent: 50' lets the autoscaler change the replicas by 5000% a period, "
         "which is no rate limit at all, and the HPA and KEDA objects get 5000",
         ("auto-scaling",),
         None, delivery.percent_read_as_multiple),
    Rule("SS703", "cpu-target-out-of-reach", WARNING,
         "a replica uses at most its CPU request, so a saturated fleet reads 100 %: with a "
         "target of 1 / (1 + tolerance) or more (91 % at the default 10 %) the ratio never "
         "leaves the tolerance band and the HPA never scales up on CPU",
         ("auto-scaling",),
         None, delivery.cpu_target_out_of_reach),
    Rule("SS704", "io-bound-cpu-metric", WARNING,
         "the HPA's CPU utilization is CPU used over the CPU request, and a worker waiting "
         "on a call or a 'wait' is busy without computing: an I/O-bound service runs out of "
         "workers at a low utilization, so a CPU target above it never adds replicas while "
         "requests queue, and the HPA scales the fleet down; requests per second, "
         "concurrency or a queue's backlog (a Pods metric, KEDA) measure its load",
         ("auto-scaling",),
         None, delivery.cpu_blind_to_waits),
)
