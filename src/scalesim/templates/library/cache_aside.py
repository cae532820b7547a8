"""Cache-aside: reads hit the cache first; only misses reach the database."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(3000, "reads per second", unit="req/s", ge=1, le=100_000)
    hit_ratio: float = param(0.9, "share of reads the cache answers", ge=0, le=0.999)
    cache_ms: float = param(0.3, "a cache lookup", unit="ms", ge=0.01, le=100)
    db_ms: float = param(8, "a database read (mean, exponential)", unit="ms", ge=0.1, le=1000)


APP_MS, HOP_MS = 1.0, 0.5  # the application's work, a round trip
DB_TRIP_MS = 1.0  # a miss's trip to the database and back, beyond the query
QUICK_S = 4.0  # the quick run's measured seconds: the fewest reads the tolerances allow for
UTILIZATION = 0.6  # every tier's threads: at most this busy on average
LATE = 0.0002  # the share of reads a database answer may miss the timeout by, at most


def miss(p: Params) -> float:
    return 1 - p.hit_ratio


def timeout_ms(p: Params) -> float:
    """The application's wait for the cache: 500 ms, or long enough that a miss's
    exponential database read outlasts it for at most LATE of the reads."""
    tail = p.db_ms * math.log(max(1.0, miss(p) / LATE))
    return max(500.0, math.ceil(p.cache_ms + HOP_MS + tail))


def threads(rps: float, hold_ms: float, replicas: int, least: int) -> int:
    """Threads per replica for rps requests held hold_ms each (Little's law)."""
    return sizing.threads(rps, hold_ms, replicas, least, UTILIZATION)


def derive(p: Params) -> dict[str, Any]:
    cache_hold = p.cache_ms + miss(p) * (DB_TRIP_MS + p.db_ms)
    return {"timeout_ms": timeout_ms(p),
            "db_workers": threads(miss(p) * p.rps, p.db_ms, 1, 32),
            "cache_workers": threads(p.rps, cache_hold, 2, 64),
            "app_workers": threads(p.rps, APP_MS + HOP_MS + cache_hold, 3, 64)}


def mean_read_ms(p: Params) -> float:
    return APP_MS + 0.5 + HOP_MS + p.cache_ms + miss(p) * (DB_TRIP_MS + p.db_ms)


def scenario(p: Params) -> Scenario:
    reads = p.rps * QUICK_S
    misses = miss(p) * reads
    # The mean read's standard error: a miss adds an exponential read (second moment 2·db²).
    spread = math.sqrt(max(0.0, miss(p) * 2 * (DB_TRIP_MS + p.db_ms) ** 2 -
                           (miss(p) * (DB_TRIP_MS + p.db_ms)) ** 2) / reads)
    db = (Expect("components.db.throughput_rps", "~", miss(p) * p.rps,
                 "the database sees only the misses: (1 − hit ratio) × reads (within 10 %, or "
                 "4 Poisson standard deviations)", tolerance=max(0.1, SIGMAS / math.sqrt(
                     misses))),) if misses >= 25 else \
        (Expect("components.db.throughput_rps", "<=", count_at_most(misses) / QUICK_S,
                "the database sees only the misses: (1 − hit ratio) × reads, at most"),)
    return Scenario(
        story=f"{p.rps:g} reads/s; the cache answers {p.hit_ratio:.0%} of them.",
        expect=(
            *db,
            Expect("workloads.reads.goodput_share", ">=", 0.999, "every read is answered"),
            Expect("workloads.reads.latency_ms.mean", "~", mean_read_ms(p),
                   "mean read = app + cache lookup + the miss share of a database round trip "
                   "(within 10 %, or 4 standard errors)",
                   tolerance=max(0.1, SIGMAS * spread / mean_read_ms(p))),
        ),
        quick=("simulation.duration=5s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="cache-aside", version=1, title="Cache-aside reads",
    summary="The application reads the cache and only on a miss the database: the database "
            "load falls to the miss share and the mean read approaches the cache's latency.",
    patterns=("cache-aside", "caching-strategies"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "A steady hit ratio (a warm cache, a stable working set); a cold start or an "
        "eviction storm lowers it for a while.",
        "The miss path is modelled by ScaleSim's cache kind: on a miss the cache component "
        "calls the database. In cache-aside the application makes that call and writes the "
        "value back; the load and latency are the same, the write-back is not modelled.",
        "Invalidation on writes is not modelled (reads only).",
        "Each tier's threads (app 64, cache 64, database 32 per replica, at least) grow so "
        "that the reads' holds keep them at most 60 % busy, and the application waits "
        "500 ms for the cache, or db_ms × ln(miss share / 0.0002) when longer, so a slow "
        "database does not fail reads by the timeout.",
    ))
