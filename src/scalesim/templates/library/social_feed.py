"""Social media feed: precomputed timelines read from a cache, fan-out on write."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    read_rps: float = param(3000, "feed reads per second", unit="req/s", ge=10, le=50_000)
    post_rps: float = param(100, "posts per second", unit="req/s", ge=1, le=5000)
    followers: int = param(50, "timelines one post is written to (mean)", unit="timelines",
                           ge=1, le=1000)
    hit_ratio: float = param(0.95, "timeline cache hit ratio", ge=0, le=0.999)


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
    id="social-feed", version=2, title="Social media feed (composite)",
    summary="Timelines are a CQRS read model precomputed on write (a projection of the post "
            "log fans out) and read from a cache, with profiles and ads fetched in parallel "
            "under tight timeouts: reads stay fast and an ads outage only drops the ads.",
    patterns=("materialized-view", "cqrs", "cache-aside", "graceful-degradation", "timeout"),
    params=Params, scenario=scenario,
    assumptions=(
        "Fan-out on write: one timeline write per follower; the per-post cost grows with "
        "followers (0.05 ms per timeline), so celebrities would need fan-out on read.",
        "Ads and profile enrichment are optional (fallback degraded); the timeline is not.",
        "The timeline cache misses read the timeline database.",
    ))
