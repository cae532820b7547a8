"""A cache that served values older than its own staleness budget (`caching.max_staleness`,
docs/data.md): lint's SS605 warns before the run when the TTL lets that happen; this finding
is the run's measurement of it — how many reads, how old — and the change that bounds it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scalesim.analytic.load import miss_shares
from scalesim.diagnosis.context import NOTABLE, Run
from scalesim.diagnosis.finding import Finding, Fix, Limit, count, duration, rate, share
from scalesim.diagnosis.waits import round_down
from scalesim.spec.consistency import Caching
from scalesim.spec.overrides import changed


def stale_caches(run: Run) -> Iterator[Finding]:
    """Caches with a staleness budget that NOTABLE or more of their reads were served a
    value stale for longer than (`stale_over_budget` in the result)."""
    for name, measured in run.result.get("caches", {}).items():
        component = run.system.components.get(name)
        caching = None if component is None else component.caching
        over, reads = measured.get("stale_over_budget"), measured["reads"]
        if caching is None or caching.max_staleness is None or not over or not reads \
                or over / reads < NOTABLE:
            continue
        budget = caching.max_staleness
        stale = measured["stale_reads"]
        staleness = measured["staleness_ms"]
        median = (staleness.get("p50") or 0.0) / 1e3
        evidence = (
            f"{count(stale)} of its {count(reads)} reads ({share(stale / reads)}) were served a "
            f"value the backend had since overwritten, {count(over)} of them "
            f"({share(over / stale)}) stale for longer than the {duration(budget)} budget: "
            f"staleness p50 {duration(median)}, p99 "
            f"{duration((staleness.get('p99') or 0.0) / 1e3)}, max "
            f"{duration((staleness.get('max') or 0.0) / 1e3)}",
            _why(run, caching, measured))
        fix, limit = _remedy(run, name, caching, measured)
        yield Finding("staleness", "problem", name,
                      f"{name} served {share(over / reads)} of its reads older than its "
                      f"{duration(budget)} staleness budget ({count(over)} of {count(reads)}); "
                      f"the median stale read was {duration(median)} old",
                      limit, evidence, fix,
                      {"stale_over_budget": over, "stale_over_budget_share": over / reads,
                       "stale_read_share": stale / reads, "max_staleness_s": budget,
                       "staleness_p50_s": median})


def _load_s(measured: dict[str, Any]) -> float:
    """The longest load the cache measured: a load that read the old value just before a
    write stores it after, so an entry can be stale for its TTL and a load's time."""
    return ((measured.get("load_ms") or {}).get("max") or 0.0) / 1e3


# What each write policy does to the key's entry (docs/data.md).
_WRITES = {"invalidate": "delete the key's entry", "write_through": "store their value in it",
           "write_behind": "store their value in it"}


# Where lint's SS605 warns of a TTL beyond the budget: writes that can leave entries stale.
_SS605 = {"none": " (lint SS605)", "invalidate": " (lint SS605)", "write_through": "",
          "write_behind": ""}


def _why(run: Run, caching: Caching, measured: dict[str, Any]) -> str:
    """How the writes left entries stale, and for how long the TTL lets them stay so."""
    budget = caching.max_staleness or 0.0
    writes = measured["writes"]
    written = f"its {count(writes)} writes ({rate(writes / run.span_s)})"
    life = ("entries never expire (no ttl), so a stale one stays until it is evicted (lint "
            "SS603)" if caching.ttl is None else
            f"an entry lives {duration(caching.ttl)} (ttl), "
            + (f"{caching.ttl / budget:.3g}× the budget{_SS605[caching.write_policy]}"
               if caching.ttl > budget else "within the budget"))
    loads = f"loads took up to {duration(_load_s(measured))}"
    if caching.write_policy == "none":
        return (f"write_policy none: {written} go to {caching.write_to} only, so a key's entry "
                "serves the old value from the write until it expires (one loaded just before "
                f"a write, for up to its ttl and a load's time; {loads}); {life}")
    return (f"write_policy {caching.write_policy}: {written} "
            f"{_WRITES[caching.write_policy]}, but a load that read the old value just before "
            f"a write stores it after, stale for up to its ttl and a load's time ({loads}); "
            f"{life}")


def _remedy(run: Run, name: str, caching: Caching, measured: dict[str, Any]
            ) -> tuple[Fix, Limit | None]:
    """The smallest change that keeps the served values within the budget, and the limit it
    turns: a TTL of the budget less the longest load, when the entries live longer (what
    SS605 asks, `_shorter_ttl`); else, for writes that bypass the cache, writing through it;
    else (loads as long as the budget, racing the writes) no setting, only the ways out."""
    path = f"components.{name}.caching"
    budget, load = caching.max_staleness or 0.0, _load_s(measured)
    backend = run.system.components[name].backend
    ttl_ms = round_down((budget - load) * 1e3)
    if ttl_ms is not None and (caching.ttl is None or caching.ttl * 1e3 > ttl_ms):
        return _shorter_ttl(run, name, caching, measured, ttl_ms), "ttl"
    if caching.write_policy == "none":
        return Fix(f"write through {name} (write_policy: write_through): each write then "
                   "stores its value, and only a load racing a write can leave a stale one",
                   (f"{path}.write_policy=write_through",)), "write_policy"
    return Fix(f"the loads of {name} take up to {duration(load)}, the {duration(budget)} budget "
               "or more: a load that read the old value before a write stores it after, and "
               f"no ttl keeps that within the budget; faster loads from {backend}, "
               "or fills that never overwrite a newer value (a version check on the fill, as "
               "memcached's leases do), would"), None


def _shorter_ttl(run: Run, name: str, caching: Caching, measured: dict[str, Any],
                 ttl_ms: int) -> Fix:
    """A TTL of `ttl_ms`, with its cost in hits, and writing through as the other way for
    writes that bypass the cache."""
    ttl, load = ttl_ms / 1e3, _load_s(measured)
    now = f"from {duration(caching.ttl)} " if caching.ttl is not None else ""
    through = ("; or keep the ttl and write through the cache (write_policy: write_through), "
               "which stores each write's value and leaves stale only what a load racing a "
               "write stores" if caching.write_policy == "none" else "")
    return Fix(f"shorten the ttl of {name} {now}to {duration(ttl)}, its "
               f"{duration(caching.max_staleness or 0.0)} staleness budget less its longest "
               f"load ({duration(load)}; lint SS605 asks for at most the budget): no value is "
               "then served more than the budget after the write it missed; "
               f"{_cost(run, name, ttl, measured)}{through}",
               (f"components.{name}.caching.ttl={ttl_ms}ms",))


def _cost(run: Run, name: str, ttl: float, measured: dict[str, Any]) -> str:
    """What a TTL of `ttl` seconds costs: the hit ratio the analytic layer expects with it
    against the measured one, and the loads its backend then gets."""
    fixed = changed(run.system, ("components", name, "caching", "ttl"), ttl)
    expected = 1.0 - miss_shares(fixed)[name]
    reads_per_s = measured["reads"] / run.span_s
    backend = run.system.components[name].backend
    return (f"the hit ratio falls to about {share(expected)} (measured "
            f"{share(measured['hit_ratio'] or 0.0)}), and the loads from {backend} rise from "
            f"{rate(measured['misses'] / run.span_s)} to about "
            f"{rate(reads_per_s * (1.0 - expected))}")
