"""Social media feed: precomputed timelines read from a cache, fan-out on write."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    read_rps: float = param(3000, "feed reads per second", unit="req/s", ge=10, le=50_000)
    post_rps: float = param(100, "posts per second", unit="req/s", ge=1, le=5000)
    followers: int = param(50, "timelines one post is written to (mean)", unit="timelines",
                           ge=1, le=1000)
    hit_ratio: float = param(0.95, "timeline cache hit ratio", ge=0, le=0.999)


HOP_MS = 0.25
CACHE_MS, DB_READ_MS = 0.3, 4.0  # a timeline from the cache; from the database on a miss
DB_WRITE_MS = 2.0  # a fan-out's write to one timeline
PROFILE_MEDIAN_MS, PROFILE_P99_MS = 2.0, 15.0
ADS_TIMEOUT_MS = 30.0  # the longest an optional call holds a feed read (the ads' timeout)
FEED_WORK_MS = 0.5 + 0.5  # the feed's own work, before and after its calls
BUSY = 0.5  # the read path's pools: at most this busy


def profile_mean_ms() -> float:
    """The profiles' lognormal mean: median × exp(σ² / 2)."""
    sigma = math.log(PROFILE_P99_MS / PROFILE_MEDIAN_MS) / 2.3263
    return PROFILE_MEDIAN_MS * math.exp(sigma ** 2 / 2)


def derive(p: Params) -> dict[str, Any]:
    """The read path's threads for the reads, at most half busy (their fixed sizes at
    least): a feed read holds one for its work, the timeline and the optional calls, at
    most the ads' timeout (as in the incident)."""
    miss = 1 - p.hit_ratio
    timeline_ms = CACHE_MS + miss * (DB_READ_MS + 2 * HOP_MS)
    feed_ms = FEED_WORK_MS + 4 * HOP_MS + timeline_ms + ADS_TIMEOUT_MS
    db_calls = p.read_rps * miss + p.post_rps * p.followers
    db_ms = (p.read_rps * miss * DB_READ_MS + p.post_rps * p.followers * DB_WRITE_MS) / db_calls
    return {"feed_workers": sizing.threads(p.read_rps, feed_ms, 4, 64, BUSY),
            "timeline_db_workers": sizing.threads(db_calls, db_ms, 3, 32, BUSY),
            "timeline_workers": sizing.threads(p.read_rps, timeline_ms, 3, 64, BUSY),
            "profile_workers": sizing.threads(p.read_rps, profile_mean_ms(), 2, 64, BUSY)}


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.read_rps:g} feed reads/s and {p.post_rps:g} posts/s; the ads service "
              "hangs (+300 ms) from 8 s to 16 s.",
        expect=(
            Expect("workloads.read-feed.goodput_share", ">=", 0.999,
                   "reads never fail: ads and profiles are optional"),
            Expect("workloads.read-feed.latency_ms.p99", "<", 100,
                   "the feed is a cache read plus bounded optional calls"),
            Expect("workloads.read-feed.degraded_share", ">", 0.05,
                   "reads during the ads incident are served without ads"),
            Expect("workloads.post.latency_ms.p99", "<", 50,
                   "posting does not wait for the fan-out"),
            Expect("event_stores.post-log.projections[fanout-worker.push].p_visible.1s", ">=",
                   0.99, "a follower reading 1 s after a post sees it, 99 % of the time"),
        ),
        quick=("simulation.duration=8s", "simulation.warmup=1s", "faults.0.at=3s",
               "faults.0.for=3s"))


TEMPLATE = Template(
    id="social-feed", version=3, title="Social media feed (composite)",
    summary="Timelines are a CQRS read model precomputed on write (a projection of the post "
            "log fans out) and read from a cache, with profiles and ads fetched in parallel "
            "under tight timeouts: reads stay fast and an ads outage only drops the ads.",
    patterns=("materialized-view", "cqrs", "cache-aside", "graceful-degradation", "timeout"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Fan-out on write: one timeline write per follower; the per-post cost grows with "
        "followers (0.05 ms per timeline), so celebrities would need fan-out on read.",
        "Ads and profile enrichment are optional (fallback degraded); the timeline is not.",
        "The timeline cache misses read the timeline database.",
        "The read path's threads (feed, timeline cache, profiles, and the timeline "
        "database's, which the fan-out writes too) keep their sizes, or enough for the load "
        "at most 50 % busy, a feed read holding its thread for its work, the "
        "timeline and the optional calls (at most the ads' 30 ms timeout): at 50000 reads/s "
        "the fixed ones saturated and every read timed out.",
    ))
