"""The result sections of replication, leader election and caches (docs/results.md).

In two steps, so replications can run anywhere: `consistency_parts` turns one run's areas
into small picklable parts (plain numbers, histograms, the first run's events), and
`consistency_results` pools the parts of every replication into the JSON sections
(counts summed, histograms merged, events from the first replication)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scalesim.sim.area import Area
from scalesim.sim.data.cache import CacheArea
from scalesim.sim.data.election import Election
from scalesim.sim.data.replication import QUORUM, ReplicatedStore
from scalesim.sim.metrics import Histogram, combined
from scalesim.sim.rounded import clean, latency_summary

MODES = ("async", "semi_sync", "sync", "quorum", "raft")
READS = ("leader", "followers", "any")
POLICIES = ("invalidate", "write_through", "write_behind", "none")
STAMPEDES = ("none", "coalesce", "xfetch")
# A read issued this long after a write's commit sees it with the probability reported.
AFTER = (("0ms", 0.0), ("1ms", 0.001), ("10ms", 0.01), ("100ms", 0.1), ("1s", 1.0),
         ("10s", 10.0))


def _ms(hists: list[Histogram]) -> dict[str, float | None]:
    return latency_summary(combined(hists))


def _share(part: int, whole: int) -> float | None:
    return clean(part / whole) if whole else None


@dataclass
class ReplicationPart:
    mode: int
    reads_from: int
    n: int
    w: int
    r: int
    acks: int
    writes: int
    reads: int
    stale: int
    unavailable: int
    fallbacks: int
    lost: int
    backlog_max: int
    commit_wait: Histogram
    read_wait: Histogram
    lag: Histogram
    visibility: Histogram


def replication_part(store: ReplicatedStore) -> ReplicationPart:
    return ReplicationPart(store.mode, store.reads, store.n, store.w, store.r, store.acks,
                           store.writes, store.reads_seen, store.stale, store.unavailable,
                           store.fallbacks, store.lost, store.backlog_max, store.commit_wait,
                           store.read_wait, store.lag, store.visibility)


def replication_section(parts: list[ReplicationPart]) -> dict[str, Any]:
    first = parts[0]
    reads = sum(p.reads for p in parts)
    stale = sum(p.stale for p in parts)
    visibility = combined([p.visibility for p in parts])
    entry: dict[str, Any] = {"mode": MODES[first.mode]}
    if first.mode == QUORUM:
        entry.update(n=first.n, w=first.w, r=first.r)
    else:
        entry.update(read_from=READS[first.reads_from], acks=first.acks)
    entry.update({
        "writes": sum(p.writes for p in parts),
        "reads": reads,
        "stale_reads": stale,
        "stale_read_share": _share(stale, reads),
        "unavailable": sum(p.unavailable for p in parts),
        "commit_wait_ms": _ms([p.commit_wait for p in parts]),
        "read_wait_ms": _ms([p.read_wait for p in parts]),
        "lag_ms": _ms([p.lag for p in parts]),
        "p_consistent": {label: clean(visibility.fraction_at_most(t)) for label, t in AFTER},
        "t_visibility_ms": {name: clean(visibility.quantile(q) * 1e3) if visibility.count
                            else None for name, q in (("p99", 0.99), ("p999", 0.999))},
        "semi_sync_fallbacks": sum(p.fallbacks for p in parts),
        "lost_on_failover": sum(p.lost for p in parts),
        "backlog_max": max(p.backlog_max for p in parts),
    })
    return entry


@dataclass
class ElectionPart:
    kind: str
    changes: int
    refused: int
    leaderless_s: float
    elections: int
    split_votes: int
    failover: Histogram
    events: list[tuple[float, str, int, int]] = field(default_factory=list)
    split_brains: int = 0
    split_brain_s: float = 0.0


def election_part(election: Election) -> ElectionPart:
    leadership = election.leadership
    return ElectionPart(election.kind, leadership.changes, leadership.refused,
                        leadership.leaderless, election.elections, election.split_votes,
                        leadership.failover, list(leadership.events), election.split_brains,
                        election.split_brain_s)


def election_section(parts: list[ElectionPart], span: float) -> dict[str, Any]:
    first = parts[0]
    failover = combined([p.failover for p in parts])
    leaderless = sum(p.leaderless_s for p in parts)
    entry: dict[str, Any] = {
        "type": first.kind,
        "leader_changes": sum(p.changes for p in parts),
        "failovers": failover.count,
        "failover_ms": latency_summary(failover),
        "leaderless_s": clean(leaderless),
        "leaderless_share": clean(leaderless / span) if span else None,
        "refused_no_leader": sum(p.refused for p in parts),
    }
    if first.kind == "raft":
        entry["elections"] = sum(p.elections for p in parts)
        entry["split_votes"] = sum(p.split_votes for p in parts)
    if first.kind != "fixed":
        entry["split_brains"] = sum(p.split_brains for p in parts)
        entry["split_brain_s"] = clean(sum(p.split_brain_s for p in parts))
    entry["events"] = [{"t_s": clean(t), "event": event, "replica": replica, "term": term}
                       for t, event, replica, term in first.events]
    return entry


@dataclass
class CachePart:
    ttl: float
    policy: int
    stampede: int
    counts: dict[str, int]
    burst_max: int
    staleness: Histogram
    load_time: Histogram
    exposure: Histogram


CACHE_COUNTS = ("reads", "hits", "misses", "coalesced", "early", "refreshed", "stale",
                "bursts", "burst_loads", "writes", "flushed", "lost", "evicted", "expired")


def cache_part(area: CacheArea) -> CachePart:
    return CachePart(area.ttl, area.policy, area.stampede,
                     {name: int(getattr(area, name)) for name in CACHE_COUNTS},
                     area.burst_max, area.staleness, area.load_time, area.exposure)


def cache_section(parts: list[CachePart], budget: float | None = None) -> dict[str, Any]:
    """A cache's section; `budget` is its `max_staleness` (seconds), None without one."""
    first = parts[0]
    total = {name: sum(p.counts[name] for p in parts) for name in CACHE_COUNTS}
    reads = total["reads"]
    staleness = combined([p.staleness for p in parts])
    over = None if budget is None else _over(staleness, budget)
    return {
        "ttl_s": clean(first.ttl),
        "write_policy": POLICIES[first.policy],
        "stampede": STAMPEDES[first.stampede],
        "reads": reads,
        "hits": total["hits"],
        "misses": total["misses"],
        "coalesced": total["coalesced"],
        "early_refreshes": total["early"],
        "refreshes": total["refreshed"],
        "hit_ratio": _share(total["hits"], reads),
        "stale_reads": total["stale"],
        "stale_read_share": _share(total["stale"], reads),
        "staleness_ms": latency_summary(staleness),
        "max_staleness_s": clean(budget) if budget is not None else None,
        "stale_over_budget": over,
        "stale_over_budget_share": None if over is None else _share(over, reads),
        "load_ms": _ms([p.load_time for p in parts]),
        "loads_per_burst": {"mean": clean(total["burst_loads"] / total["bursts"])
                            if total["bursts"] else None,
                            "max": max(p.burst_max for p in parts)},
        "writes": total["writes"],
        "flushed": total["flushed"],
        "lost_writes": total["lost"],
        "exposure_ms": _ms([p.exposure for p in parts]),
        "evicted": total["evicted"],
        "expired": total["expired"],
    }


def _over(staleness: Histogram, budget: float) -> int:
    """The stale reads served a value stale longer than `budget` seconds, to the histogram's
    accuracy (its bucket holding the budget counts as within it)."""
    if not staleness.count:
        return 0
    return staleness.count - round(staleness.fraction_at_most(budget) * staleness.count)


@dataclass
class ConsistencyParts:
    """One replication's parts, by component name."""

    replication: dict[str, ReplicationPart] = field(default_factory=dict)
    elections: dict[str, ElectionPart] = field(default_factory=dict)
    caches: dict[str, CachePart] = field(default_factory=dict)


def consistency_parts(areas: list[Area]) -> ConsistencyParts:
    parts = ConsistencyParts()
    for area in areas:
        if isinstance(area, ReplicatedStore):
            parts.replication[area.comp.name] = replication_part(area)
        elif isinstance(area, Election):
            parts.elections[area.leadership.comp.name] = election_part(area)
        elif isinstance(area, CacheArea):
            parts.caches[area.comp.name] = cache_part(area)
    return parts


def consistency_results(runs: list[ConsistencyParts], span: float,
                        budgets: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The `replication`, `elections` and `caches` sections the runs have; `budgets`: the
    caches' staleness budgets (`max_staleness`, seconds), by name."""
    out: dict[str, Any] = {}
    first = runs[0]
    if first.replication:
        out["replication"] = {name: replication_section([r.replication[name] for r in runs])
                              for name in first.replication}
    if first.elections:
        out["elections"] = {name: election_section([r.elections[name] for r in runs], span)
                            for name in first.elections}
    if first.caches:
        out["caches"] = {name: cache_section([r.caches[name] for r in runs],
                                             (budgets or {}).get(name))
                         for name in first.caches}
    return out
