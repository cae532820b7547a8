"""Cache-aside: reads hit the cache first; only misses reach the database."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(3000, "reads per second", unit="req/s", ge=1, le=100_000)
    hit_ratio: float = param(0.9, "share of reads the cache answers", ge=0, le=0.999)
    cache_ms: float = param(0.3, "a cache lookup", unit="ms", ge=0.01, le=100)
    db_ms: float = param(8, "a database read (mean, exponential)", unit="ms", ge=0.1, le=1000)


def scenario(p: Params) -> Scenario:
    miss = 1 - p.hit_ratio
    return Scenario(
        story=f"{p.rps:g} reads/s; the cache answers {p.hit_ratio:.0%} of them.",
        expect=(
            Expect("components.db.throughput_rps", "~", miss * p.rps,
                   "the database sees only the misses: (1 − hit ratio) × reads",
                   tolerance=0.1),
            Expect("workloads.reads.goodput_share", ">=", 0.999, "every read is answered"),
            Expect("workloads.reads.latency_ms.mean", "~",
                   1.0 + 0.5 + 0.5 + p.cache_ms + miss * (1.0 + p.db_ms),
                   "mean read = app + cache lookup + the miss share of a database round trip",
                   tolerance=0.1),
        ),
        quick=("simulation.duration=5s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="cache-aside", version=1, title="Cache-aside reads",
    summary="The application reads the cache and only on a miss the database: the database "
            "load falls to the miss share and the mean read approaches the cache's latency.",
    patterns=("cache-aside", "caching-strategies"),
    params=Params, scenario=scenario,
    assumptions=(
        "A steady hit ratio (a warm cache, a stable working set); a cold start or an "
        "eviction storm lowers it for a while.",
        "The miss path is modelled by ScaleSim's cache kind: on a miss the cache component "
        "calls the database. In cache-aside the application makes that call and writes the "
        "value back; the load and latency are the same, the write-back is not modelled.",
        "Invalidation on writes is not modelled (reads only).",
    ))
