"""Caching strategies: a TTL, a write policy, and what protects a hot key when it expires."""

from __future__ import annotations

from typing import Any, Literal

from scalesim.spec.model import Keys
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

KEYS, SKEW = 10_000, 1.0
LOAD_MS = 20.0 + 0.5  # a database read and its round trip
FLUSH_S = 1.0


class Params(TemplateParams):
    write_policy: Literal["invalidate", "write_through", "write_behind", "none"] = param(
        "invalidate", "what a write does to the cache: delete the entry (cache-aside), "
        "update it with the database (write-through), update it now and the database later "
        "(write-behind), or nothing (the entry stays until it expires)")
    stampede: Literal["none", "coalesce", "xfetch"] = param(
        "coalesce", "when a hot key expires: every miss loads (none), misses wait for one "
        "load (coalesce), or reads refresh it early at random (xfetch)")
    ttl_s: float = param(10, "time an entry lives", unit="s", ge=1, le=3600)
    refresh_ahead: float = param(0, "reload in the background after this share of the TTL "
                                 "(0 = off; Coherence's refresh-ahead-factor)", ge=0, le=0.95)
    reads_rps: float = param(5000, "reads per second", unit="req/s", ge=10, le=100_000)
    writes_rps: float = param(50, "writes per second", unit="req/s", ge=1, le=10_000)


def hottest_rate(p: Params) -> float:
    """Requests per second for the most popular key (Zipf 1 over 10,000 keys)."""
    harmonic = sum(1.0 / k for k in range(1, KEYS + 1))
    return p.reads_rps / harmonic


def expected_hit_ratio(p: Params) -> float:
    from scalesim.analytic.caching import hit_ratio  # numpy: not at `templates list`

    return hit_ratio([(p.reads_rps, Keys(count=KEYS, skew=SKEW))], p.ttl_s, LOAD_MS / 1e3)


def derive(p: Params) -> dict[str, Any]:
    return {"keys": KEYS, "skew": SKEW, "flush_s": FLUSH_S}


def scenario(p: Params) -> Scenario:
    from scalesim.analytic.caching import stampede_loads

    cache = "caches.catalog"
    hot = stampede_loads(hottest_rate(p), LOAD_MS / 1e3)
    expect: list[Expect] = [
        Expect(f"{cache}.hit_ratio", ">=", expected_hit_ratio(p) - 0.05,
               "about λT/(1 + λ(T + L)) per key for Zipf keys (scalesim.analytic.caching), "
               "less what the writes and the crash cost"),
    ]
    if p.stampede == "none":
        expect.append(Expect(f"{cache}.loads_per_burst.max", ">=", hot / 2,
                             f"when the hottest key expires about 1 + λL ≈ {hot:.0f} reads "
                             "miss and load it at once (a stampede)"))
    elif p.stampede == "coalesce":
        expect.append(Expect(f"{cache}.loads_per_burst.max", "<=", 1,
                             "one load per key at a time: the other misses wait for it"))
    else:
        expect.append(Expect(f"{cache}.early_refreshes", ">", 0,
                             "hot keys are recomputed before they expire"))
    if p.write_policy == "none":
        expect += [Expect(f"{cache}.stale_read_share", ">", 0,
                          "writes do not reach the cache: reads see old values"),
                   Expect(f"{cache}.staleness_ms.max", "<=", p.ttl_s * 1e3 + LOAD_MS,
                          "but never older than the TTL and the load that filled the entry "
                          "(a write during the load is missed from the start)")]
    else:
        expect.append(Expect(f"{cache}.stale_read_share", "<", 0.05,
                             "writes reach the cache; only a load that read the database "
                             "before a write and stores after it leaves an old value (until "
                             "the next write or the TTL)"))
    if p.write_policy == "write_behind":
        expect += [Expect(f"{cache}.exposure_ms.mean", "~", FLUSH_S * 500 + 5.5,
                          "a write waits half the flush interval for the flush, then the "
                          "database write", tolerance=0.2),
                   Expect(f"{cache}.lost_writes", ">", 0,
                          "the crash loses the writes not flushed yet")]
    if p.refresh_ahead > 0:
        expect.append(Expect(f"{cache}.refreshes", ">", 0,
                             "entries read late in their life reload in the background"))
    return Scenario(
        story=f"{p.reads_rps:g} reads/s over {KEYS:,} products (Zipf: the hottest gets "
              f"{hottest_rate(p):.0f}/s) and {p.writes_rps:g} writes/s; entries live "
              f"{p.ttl_s:g} s; one of the two cache replicas restarts empty at 30 s.",
        expect=tuple(expect),
        quick=("simulation.duration=20s", "simulation.warmup=5s", "faults.0.at=15s"))


TEMPLATE = Template(
    id="caching-strategies", version=1, title="Cache TTLs, write policies and stampedes",
    summary="A product catalogue behind a Redis cache: a TTL gives a hit ratio per key that "
            "the popularity of keys decides; the write policy decides how stale a read can "
            "be and what a crash loses; a hot key's expiry sends a stampede of loads to the "
            "database unless misses are coalesced or refreshed early (XFetch).",
    patterns=("caching-strategies", "cache-aside", "read-through-cache", "write-through-cache",
              "write-behind-cache", "dogpile"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Requests for each key are Poisson; keys are Zipf-distributed (exponent 1).",
        "A load is a database read (20 ms) plus a round trip; the cache keeps every key it "
        "loads (no eviction) until its TTL ends.",
        "A cache replica that restarts loses its entries and its unflushed writes "
        "(Redis without persistence); requests sent to it meanwhile retry on the other.",
        "With write_policy none a read is claimed at most the TTL and the load (20.5 ms) "
        "out of date: a write during the load that filled an entry is missed from its "
        "start (10012.7 ms measured with a 10 s TTL). The hit ratio is the steady-state "
        "formula: a TTL longer than the run (3600 s), reads too rare to warm the cache "
        "within it (10/s) or writes invalidating entries faster than the TTL (10000/s) "
        "give less (0.90, 0.04 and 0.23 against 0.95, 0.25 and 0.84 in the quick run), and "
        "those ends miss it, as they miss the stale share below 5 % at 10000 writes/s "
        "(0.058).",
    ))
