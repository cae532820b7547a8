"""Caching strategies with known answers: the TTL hit ratio of Poisson requests per key,
λT / (1 + λ(T + L)) with a load time L (1 − 1/(1 + λT) when loads are instant); a hot key's
stampede of 1 + λL loads per expiry, one with coalescing, almost none early with XFetch;
refresh-ahead hiding expiry; LRU's M/K for uniform keys; write-behind exposure of half the
flush interval and the writes a crash loses; what each write policy leaves stale."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml
from tests.kernel.helpers import binomial_bound, run

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text


def cache(caching: dict[str, Any], load: str = "0ms", write: str = "1ms",
          replicas: int = 1) -> dict[str, Any]:
    return {
        "app": {"replicas": 2, "workers": "unlimited", "operations": {
            "get": {"calls": [{"to": "cache.get"}]}, "put": {"calls": [{"to": "cache.put"}]}}},
        "cache": {"kind": "cache", "replicas": replicas, "workers": "unlimited",
                  "backend": "db.read", "operations": {"get": {}, "put": {}},
                  "caching": caching},
        "db": {"kind": "database", "replicas": 2, "workers": "unlimited",
               "operations": {"read": {"work": load}, "write": {"work": write}}},
    }


def reads(rate: str, keys: int | None) -> list[dict[str, Any]]:
    workload: dict[str, Any] = {"name": "reads", "to": "app.get", "rate": rate}
    if keys is not None:
        workload["keys"] = keys
    return [workload]


@pytest.mark.parametrize(("per_key_rate", "ttl", "load"), [
    (1.0, 0.5, 0.0), (2.0, 1.0, 0.0), (10.0, 1.0, 0.0), (5.0, 1.0, 0.1)])
def test_ttl_hit_ratio_for_poisson_requests_per_key(per_key_rate: float, ttl: float,
                                                    load: float) -> None:
    """A key's cycle: a miss, its load (L), then every request for T hits; the next request
    misses. Requests per cycle 1 + λ(T + L) of which λT hit."""
    keys = 400
    r = run(cache({"ttl": f"{ttl}s"}, load=f"{load}s"),
            reads(f"{per_key_rate * keys}/s", keys), duration="60s", warmup="5s")
    c = r["caches"]["cache"]
    lam = per_key_rate
    expected = lam * ttl / (1 + lam * (ttl + load))
    cycles = c["reads"] / (1 + lam * (ttl + load))
    assert c["hit_ratio"] == pytest.approx(expected, abs=binomial_bound(int(cycles), expected))
    if load == 0.0:
        assert c["hit_ratio"] == pytest.approx(1 - 1 / (1 + lam * ttl), abs=0.01)


def test_a_cache_without_keys_never_hits() -> None:
    r = run(cache({"ttl": "60s"}), reads("200/s", None), duration="5s")
    assert r["caches"]["cache"]["hits"] == 0


@pytest.mark.parametrize(("stampede", "expected"), [("none", 1 + 200 * 0.05),
                                                    ("coalesce", 1.0)])
def test_a_hot_key_stampedes_when_it_expires(stampede: str, expected: float) -> None:
    """Every request in the 50 ms a reload takes misses too and loads again: 1 + λL loads
    per expiry (Poisson arrivals in L); coalescing makes it one, the others wait for it."""
    r = run(cache({"ttl": "1s", "stampede": stampede}, load="50ms"), reads("200/s", 1),
            duration="200s", warmup="2s")
    c = r["caches"]["cache"]
    bursts = c["reads"] / (1 + 200 * 1.05)
    assert c["loads_per_burst"]["mean"] == pytest.approx(
        expected, abs=4 * math.sqrt(200 * 0.05 / bursts) + 1e-9)
    if stampede == "coalesce":
        assert c["coalesced"] == pytest.approx(200 * 0.05 * bursts, rel=0.15)
        assert c["loads_per_burst"]["max"] == 1


def test_stampede_protection_cuts_the_origin_load() -> None:
    """What the database serves, as renewal rates. Coalesced: one load per cycle of
    L + T + 1/λ (the load, the entry's life, the wait for the next read). Unprotected:
    1 + λL loads per cycle, and the entry lives T after the last of them ends — that load
    started at the last arrival in the first load's L, on average L − (1 − e^(−λL))/λ in."""
    rate, ttl, load, duration = 200.0, 1.0, 0.05, 200.0
    served: dict[str, int] = {}
    for stampede in ("none", "coalesce"):
        r = run(cache({"ttl": f"{ttl}s", "stampede": stampede}, load=f"{load * 1e3:g}ms"),
                reads(f"{rate:g}/s", 1), duration=f"{duration:g}s", warmup="2s")
        served[stampede] = r["components"]["db"]["operations"]["read"]["requests"]["total"]
    cycles = duration / (load + ttl + 1 / rate)
    assert served["coalesce"] == pytest.approx(cycles, abs=2)  # a cycle varies by 1/λ only
    last = load - (1 - math.exp(-rate * load)) / rate
    cycles = duration / (load + last + ttl + 1 / rate)
    loads = cycles * (1 + rate * load)
    assert served["none"] == pytest.approx(loads, abs=4 * math.sqrt(rate * load * cycles))
    assert served["none"] / served["coalesce"] > 9


@pytest.mark.parametrize("stampede", ["none", "coalesce"])
def test_the_estimate_loads_the_origin_as_the_stampede_policy_does(stampede: str) -> None:
    """The estimate's database load: 1 + λL loads a cycle unprotected, one coalesced (the
    reads during the load wait for it). It counted 1 + λL either way, 11 times the
    coalesced load here, and called healthy coalescing caches overloaded."""
    rate, ttl, load = 200.0, 1.0, 0.05
    spec = {"scalesim": 1, "name": "t", "workloads": reads(f"{rate:g}/s", 1),
            "components": cache({"ttl": f"{ttl:g}s", "stampede": stampede}, load="50ms")}
    system = load_spec_text(yaml.safe_dump(spec, sort_keys=False))
    loads = rate * (1 + rate * load if stampede == "none" else 1.0) / (1 + rate * (ttl + load))
    found = estimate(system)
    assert found.components["db"].arrival_rate_rps == pytest.approx(loads, rel=1e-9)
    named = [c.message for c in caveats(system, found) if c.code == "coalesced-reads"]
    if stampede == "coalesce":  # the simulation's renewal rate, as in the test above
        assert loads == pytest.approx(1 / (load + ttl + 1 / rate), rel=1e-9)
        waiting = rate * load / (1 + rate * (ttl + load))  # reads a cycle waiting: λL of them
        assert named == [f"{waiting:.1%} of its reads come while their key loads and wait for "
                         "that load (stampede: coalesce): they load nothing, as counted, but "
                         "are served as hits, without their wait of about half a load (25 ms):"
                         f" the mean latency of its reads is optimistic by about "
                         f"{waiting * load / 2 * 1e3:.2g} ms"]
    else:
        assert named == []


def test_xfetch_recomputes_early_and_removes_the_stampede() -> None:
    """XFetch (β = 1): a read recomputes with probability exp(−time left / δ). At 200
    requests/s and δ = 50 ms the first one comes about δ·ln(λδ) ≈ 115 ms before expiry; a
    refresh starts too late (under δ before expiry) with probability exp(−λδ/e) ≈ 2.5 %,
    so misses are rare, and the early loads per expiry few (about 11 without XFetch)."""
    r = run(cache({"ttl": "1s", "stampede": "xfetch"}, load="50ms"), reads("200/s", 1),
            duration="200s", warmup="2s")
    c = r["caches"]["cache"]
    cycles = 200 / (1 - 0.115 + 0.05)
    late = math.exp(-200 * 0.05 / math.e)
    assert c["misses"] <= 4 * late * cycles * (1 + 200 * 0.05)
    assert 1.0 <= c["early_refreshes"] / cycles < 4.0
    assert c["hit_ratio"] > 0.98


def test_refresh_ahead_reloads_before_expiry() -> None:
    """Coherence refresh-ahead-factor 0.5: the first hit after half the TTL reloads in the
    background, so a hot key never expires and every read hits."""
    r = run(cache({"ttl": "1s", "refresh_ahead": 0.5}, load="50ms"), reads("200/s", 5),
            duration="60s", warmup="2s")
    c = r["caches"]["cache"]
    assert c["misses"] == 0 and c["hit_ratio"] == 1.0
    # A refresh about every 0.5 s + the time to the next hit + the load, per key.
    assert c["refreshes"] == pytest.approx(60 * 5 / (0.5 + 1 / 40 + 0.05), rel=0.05)


def refresh_ahead_cycle(lam: float, ttl: float, load: float, share: float
                        ) -> tuple[float, float]:
    """(mean cycle, loads a cycle) of one key with refresh-ahead, unprotected: the first
    read in the band B = (1 − f)T − L after fT reloads in time (probability 1 − e^(−λB));
    else the entry expires, the next read misses with 1 + λL loads, plus a late reload when
    a read lands in the entry's last L."""
    band = (1 - share) * ttl - load
    kept = 1 - math.exp(-lam * band)
    to_read = 1 / lam - band * math.exp(-lam * band) / kept  # E[Exp(λ) | < B]
    late = 1 - math.exp(-lam * load)
    cycle = kept * (share * ttl + to_read + load) + (1 - kept) * (ttl + 1 / lam + load)
    return cycle, kept + (1 - kept) * (1 + lam * load + late)


@pytest.mark.parametrize("keys", [1, 100])
def test_the_estimate_loads_the_origin_as_refresh_ahead_does(keys: int) -> None:
    """refresh_ahead 0.5, TTL 1 s, 50 ms loads, 200 reads/s: one hot key is reloaded once
    every fT + 1/λ + L = 0.555 s and never expires (1.8 loads/s; the estimate counted 10.4
    as if unprotected); over 100 keys (2 reads/s each) a read lands in the 0.45 s band only
    59 % of the time. The renewal rate is the estimate's and the simulation's."""
    rate, ttl, load, share = 200.0, 1.0, 0.05, 0.5
    spec = {"scalesim": 1, "name": "t", "workloads": reads(f"{rate:g}/s", keys),
            "components": cache({"ttl": "1s", "refresh_ahead": share}, load="50ms"),
            "simulation": {"duration": "100s", "warmup": "5s", "seed": 1}}
    system = load_spec_text(yaml.safe_dump(spec, sort_keys=False))
    cycle, loads = refresh_ahead_cycle(rate / keys, ttl, load, share)
    expected = keys * loads / cycle
    found = estimate(system)
    assert found.components["db"].arrival_rate_rps == pytest.approx(expected, rel=1e-9)
    served = simulate(system)["components"]["db"]["throughput_rps"]
    cycles = 100 * keys / cycle
    assert served == pytest.approx(expected, abs=4 * math.sqrt(cycles) * loads / 100)
    named = [c.code for c in caveats(system, found)]
    assert ("refresh-ahead" in named) == (keys == 100)  # 1 key: 0.9 % refresh, under 1 %


def xfetch_cycle(lam: float, ttl: float, load: float, draws: int = 400_000,
                 seed: int = 3) -> tuple[float, float]:
    """(mean cycle, loads a cycle) of one hot key with XFetch (β = 1, T ≫ βL), by Monte Carlo
    of the first recomputation: its time left R is where the hazard λ·e^(−r/L) adds up to an
    Exp(1) draw E (R = L·ln(λL/E)); during its load the reads recompute too, Poisson of mean
    ∫ λ·e^(−r/L) dr over the L before R − L: E·(e − 1) when R ≥ L; else those until the
    expiry, λL − E of them, and every read after it (λ(L − R)); the cycle ends at the
    first load's store, T − R + L."""
    e = np.random.default_rng(seed).exponential(1.0, draws)
    e = e[e < lam * load]  # beyond: no recomputation, e^(−λL) of the time (4.5e-5 here)
    left = load * np.log(lam * load / e)
    loads = np.where(left >= load, 1 + e * (math.e - 1),
                     1 + (lam * load - e) + lam * (load - left))
    return float(np.mean(ttl - left + load)), float(np.mean(loads))


def test_the_estimate_loads_the_origin_as_xfetch_does() -> None:
    """XFetch, one key at 200 reads/s, TTL 1 s, 50 ms loads: the first recomputation about
    L·(ln λL + γ) = 144 ms before the expiry, 1 + (e − 1) loads a cycle: 2.99 loads/s where
    the estimate counted 10.4 as if unprotected. The estimate's quadrature is the Monte
    Carlo's, and the simulation's rate within its noise: the loads of a cycle vary as
    1 + E·(e − 1), variance (e − 1) + (e − 1)² with E ~ Exp(1) (3 standard deviations)."""
    spec = {"scalesim": 1, "name": "t", "workloads": reads("200/s", 1),
            "components": cache({"ttl": "1s", "stampede": "xfetch"}, load="50ms"),
            "simulation": {"duration": "200s", "warmup": "5s", "seed": 1}}
    system = load_spec_text(yaml.safe_dump(spec, sort_keys=False))
    cycle, loads = xfetch_cycle(200.0, 1.0, 0.05)
    found = estimate(system)
    assert found.components["db"].arrival_rate_rps == pytest.approx(loads / cycle, rel=0.005)
    served = simulate(system)["components"]["db"]["throughput_rps"]
    cycles = 200 / cycle
    spread = 3 * math.sqrt(cycles * ((math.e - 1) + (math.e - 1) ** 2)) / 200
    assert served == pytest.approx(loads / cycle, abs=spread)
    assert not [c for c in caveats(system, found) if c.code == "xfetch"]
    short = load_spec_text(yaml.safe_dump({**spec, "components": cache(
        {"ttl": "100ms", "stampede": "xfetch"}, load="50ms")}, sort_keys=False))
    assert [c.where for c in caveats(short, estimate(short)) if c.code == "xfetch"] == \
        ["cache"]


def test_the_replicas_share_one_key_space_and_a_crash_empties_one_node() -> None:
    """docs/data.md: the replicas are one cluster's nodes, so the hit ratio does not depend
    on how many there are (the same reads hit and miss); with `balancer: hash` a key lives
    on one node, and that node's crash loses its share of the keys: about 1/4 of 400 keys
    read 10 times a second, each missing once more after the crash."""
    ratios = []
    for replicas in (1, 2, 4):
        r = run(cache({"ttl": "60s"}, replicas=replicas), reads("4000/s", 400),
                duration="5s")
        ratios.append(r["caches"]["cache"]["hit_ratio"])
    assert ratios[0] == ratios[1] == ratios[2]
    hashed = cache({"ttl": "60s"}, replicas=4)
    hashed["cache"]["balancer"] = "hash"
    misses = [run(hashed, reads("4000/s", 400), duration="5s", faults=faults)["caches"][
        "cache"]["misses"] for faults in ([], [{"target": "cache[1]", "at": "3s",
                                                "crash": True, "for": "10ms"}])]
    assert misses[1] - misses[0] == pytest.approx(100, abs=4 * math.sqrt(100 * 0.75))


def test_lru_hit_ratio_of_uniform_keys_is_capacity_over_keys() -> None:
    """Independent uniform requests over K keys and room for M: hit ratio M/K."""
    r = run(cache({"max_keys": 300}), reads("2000/s", 1000), duration="30s", warmup="5s")
    c = r["caches"]["cache"]
    assert c["hit_ratio"] == pytest.approx(0.3, abs=binomial_bound(c["reads"], 0.3))
    assert c["evicted"] == pytest.approx(c["misses"], rel=0.01)


def writes_too(rate: str, keys: int | None, read_rate: str = "500/s",
               read_keys: int = 50) -> list[dict[str, Any]]:
    put: dict[str, Any] = {"name": "writes", "to": "app.put", "rate": rate}
    if keys is not None:
        put["keys"] = keys
    return [*reads(read_rate, read_keys), put]


def test_write_behind_exposes_writes_for_half_the_flush_interval() -> None:
    """Writes at uniform times wait U(0, I) for the next flush, then the backend write:
    exposure I/2 + write time on average."""
    r = run(cache({"ttl": "10s", "writes": ["put"], "write_to": "db.write",
                   "write_policy": "write_behind", "flush_interval": "2s"}, write="10ms"),
            writes_too("100/s", None), duration="60s", warmup="2s")
    c = r["caches"]["cache"]
    n = c["flushed"]
    assert c["exposure_ms"]["mean"] == pytest.approx(
        1000 + 10, abs=4 * 2000 / math.sqrt(12 * n))
    assert c["exposure_ms"]["max"] <= 2000 + 10 + 1


def test_write_behind_flushes_a_hot_key_once_per_flush_and_exposes_each_write() -> None:
    """One key written 10/s, flushed every 2 s: each flush writes it to the backend once,
    whatever number of writes it merged (`flushed` is backend writes: 29 or 30 flushes in
    the 58 s window), and each write is exposed from its own answer to that flush: I/2 +
    write time on average, as with keys written once (it was the first write's, about I)."""
    r = run(cache({"ttl": "10s", "writes": ["put"], "write_to": "db.write",
                   "write_policy": "write_behind", "flush_interval": "2s"}, write="10ms"),
            writes_too("10/s", 1), duration="60s", warmup="2s")
    c = r["caches"]["cache"]
    assert c["flushed"] in (29, 30)
    n = c["writes"]
    assert c["exposure_ms"]["mean"] == pytest.approx(
        1000 + 10, abs=4 * 2000 / math.sqrt(12 * n))
    assert c["exposure_ms"]["max"] <= 2000 + 10 + 1


def test_a_crash_loses_the_writes_since_the_last_flush() -> None:
    """Over the flush's random phase, a crash loses rate × I/2 writes on average."""
    lost = []
    for seed in range(1, 31):
        r = run(cache({"ttl": "10s", "writes": ["put"], "write_to": "db.write",
                       "write_policy": "write_behind", "flush_interval": "1s"}),
                writes_too("200/s", None), duration="6s", seed=seed,
                faults=[{"target": "cache", "at": "4s", "crash": True, "for": "1s"}])
        lost.append(r["caches"]["cache"]["lost_writes"])
    expected = 200 * 0.5
    # Poisson writes in a uniform share of the interval: variance λI/2 + λ²I²/12.
    sd = math.sqrt(expected + 200**2 / 12)
    assert np.mean(lost) == pytest.approx(expected, abs=4 * sd / math.sqrt(len(lost)))


@pytest.mark.parametrize(("policy", "stale"), [
    ("write_through", False), ("none", True), ("write_behind", False)])
def test_what_a_write_policy_leaves_stale(policy: str, stale: bool) -> None:
    """Writes that update the cache (write-through, write-behind) leave nothing stale when
    no load races them (instant loads); writes that bypass it (`none`) leave the old value
    until it expires: never older than the TTL."""
    r = run(cache({"ttl": "2s", "writes": ["put"], "write_to": "db.write",
                   "write_policy": policy}),
            writes_too("50/s", 50), duration="30s", warmup="2s")
    c = r["caches"]["cache"]
    if stale:
        assert c["stale_read_share"] > 0.2
        assert c["staleness_ms"]["max"] <= 2000
    else:
        assert c["stale_reads"] == 0


@pytest.mark.parametrize("path", ["replicated write", "write_to called directly"])
def test_writes_that_bypass_the_cache_leave_its_entries_stale(path: str) -> None:
    """The application writes the database itself, past a cache with no TTL (the backend
    declares the write in `replication.writes`, or it is the cache's `write_to`): an entry
    loaded at the key's first read T₁ ~ Exp(r) is stale from the key's next write on
    (rate w), so a read at t is a stale hit with probability
    (1 − e^(−rt)) − r/(r − w)·(e^(−wt) − e^(−rt)); averaged over a run of D seconds from
    empty, 0.525 here. Eight seeds spread 0.0045 around it (the keys' states are shared by
    their reads, so not binomial); 4 of that bounds one run."""
    keys, read_rps, write_rps, duration = 4000, 400.0, 40.0, 200.0
    r, w = read_rps / keys, write_rps / keys
    expected = 1 - (1 - math.exp(-r * duration)) / (r * duration) - r / (r - w) * (
        (1 - math.exp(-w * duration)) / w - (1 - math.exp(-r * duration)) / r) / duration
    db: dict[str, Any] = {"kind": "database", "replicas": 2, "workers": "unlimited",
                          "operations": {"read": {"work": "2ms"}, "write": {"work": "2ms"}}}
    caching: dict[str, Any] = {}
    if path == "replicated write":
        db["replication"] = {"mode": "async", "writes": ["write"]}
    else:  # the cache's own writes go through `put`; the application's do not
        caching = {"writes": ["put"], "write_to": "db.write", "write_policy": "write_through"}
    components = cache(caching)
    components["db"] = db
    components["app"]["operations"]["update"] = {"calls": [{"to": "db.write"}]}
    result = run(components, [*reads(f"{read_rps}/s", keys),
                              {"name": "updates", "to": "app.update",
                               "rate": f"{write_rps}/s", "keys": keys}],
                 duration=f"{duration}s")
    c = result["caches"]["cache"]
    assert c["writes"] == 0  # none went through the cache
    assert c["stale_read_share"] == pytest.approx(expected, abs=4 * 0.0045)


def test_reads_past_the_staleness_budget_are_counted() -> None:
    """`stale_over_budget`: the reads served a value stale for longer than `max_staleness`.
    With writes that bypass the cache (`none`), an entry loaded at the start of its cycle is
    stale from the key's first write X ~ Exp(w) on, so a hit at u, uniform over the TTL T, is
    past the budget b when u − X > b: λT/(1 + λT) × ((T − b) − (1 − e^(−w(T − b)))/w) / T of
    the reads (0.304 here). Per cycle that share has a standard deviation of 0.32 (X's
    spread), so 4 of it over the run's cycles bounds it."""
    lam, ttl, budget, w = 10.0, 10.0, 1.0, 0.1
    r = run(cache({"ttl": "10s", "writes": ["put"], "write_to": "db.write",
                   "write_policy": "none", "max_staleness": "1s"}),
            writes_too("2/s", 20, read_rate="200/s", read_keys=20), duration="300s",
            warmup="10s")
    c = r["caches"]["cache"]
    expected = lam * ttl / (1 + lam * ttl) * \
        ((ttl - budget) - (1 - math.exp(-w * (ttl - budget))) / w) / ttl
    cycles = c["reads"] / (1 + lam * ttl)
    assert c["max_staleness_s"] == 1.0
    assert c["stale_over_budget_share"] == pytest.approx(expected,
                                                         abs=4 * 0.32 / math.sqrt(cycles))
    assert c["stale_over_budget_share"] == round(c["stale_over_budget"] / c["reads"], 4)
    assert c["stale_over_budget"] < c["stale_reads"]


def test_invalidation_races_with_loads() -> None:
    """Cache-aside: a load that read the old value before a write can store it after the
    write deleted the entry; it stays stale until it expires. Instant loads cannot race."""
    slow = run(cache({"ttl": "2s", "writes": ["put"], "write_to": "db.write"}, load="20ms"),
               writes_too("200/s", 20, read_rate="2000/s", read_keys=20), duration="20s")
    instant = run(cache({"ttl": "2s", "writes": ["put"], "write_to": "db.write"}),
                  writes_too("200/s", 20, read_rate="2000/s", read_keys=20), duration="20s")
    assert slow["caches"]["cache"]["stale_reads"] > 0
    assert slow["caches"]["cache"]["staleness_ms"]["max"] <= 2000
    assert instant["caches"]["cache"]["stale_reads"] == 0


def test_invalidating_writes_shorten_an_entrys_life_in_the_estimate() -> None:
    """Writes of the key at rate w delete its entry (`write_policy: invalidate`), so an
    entry lives E[min(T, Exp(w))] = (1 − e^(−wT))/w, and a coalesced cycle is L + that
    + 1/λ: the database's reads. The estimate ignored the writes (one load per 1.22 s
    where the simulation makes one per 0.23 s here)."""
    rate, writes, ttl, load, duration = 200.0, 5.0, 1.0, 0.02, 200.0
    caching = {"ttl": f"{ttl:g}s", "stampede": "coalesce", "writes": ["put"],
               "write_to": "db.write", "write_policy": "invalidate"}
    workloads = [*reads(f"{rate:g}/s", 1),
                 {"name": "writes", "to": "app.put", "rate": f"{writes:g}/s", "keys": 1}]
    components = cache(caching, load=f"{load * 1e3:g}ms")
    life = -math.expm1(-writes * ttl) / writes
    cycle = load + life + 1 / rate
    spec = {"scalesim": 1, "name": "t", "workloads": workloads, "components": components}
    found = estimate(load_spec_text(yaml.safe_dump(spec, sort_keys=False)))
    assert found.components["db"].arrival_rate_rps - writes == pytest.approx(1 / cycle,
                                                                            rel=1e-9)
    r = run(components, workloads, duration=f"{duration:g}s", warmup="2s")
    served = r["components"]["db"]["operations"]["read"]["requests"]["total"]
    # cycles are independent, each's length sd below its mean: 4 standard errors
    assert served == pytest.approx(duration / cycle, rel=4 / math.sqrt(duration / cycle))


@pytest.mark.parametrize(("ttl", "once"), [(None, 0), ("10s", 0), (None, 100), ("1s", 100)])
def test_the_estimate_evicts_as_lru_does(ttl: str | None, once: int) -> None:
    """1000 Zipf(1) keys at 1000/s, room for 50, 10 ms loads: Che's approximation (46 %
    hits with instant loads) with the TTL bounding each entry's life. The estimate ignored
    `max_keys` (100 % hits without a TTL, 92 % with 10 s; 45.7 % simulated). `once`: reads
    a second without keys, whose entries are never read again but take room until evicted
    or expired."""
    caching: dict[str, Any] = {"max_keys": 50} | ({"ttl": ttl} if ttl else {})
    components = cache(caching, load="10ms")
    workloads = [{"name": "reads", "to": "app.get", "rate": "1000/s",
                  "keys": {"count": 1000, "skew": 1}}]
    if once:
        workloads.append({"name": "once", "to": "app.get", "rate": f"{once}/s"})
    spec = {"scalesim": 1, "name": "t", "workloads": workloads, "components": components}
    found = estimate(load_spec_text(yaml.safe_dump(spec, sort_keys=False)))
    expected = 1.0 - found.components["db"].arrival_rate_rps / (1000.0 + once)
    c = run(components, workloads, duration="20s", warmup="5s")["caches"]["cache"]
    assert c["hit_ratio"] == pytest.approx(expected, abs=binomial_bound(c["reads"], expected))


@pytest.mark.parametrize(("ahead", "name"), [({"refresh_ahead": 0.5}, "refresh_ahead"),
                                             ({"stampede": "xfetch"}, "xfetch")])
def test_eviction_under_refresh_ahead_or_xfetch_is_a_caveat(ahead: dict[str, Any],
                                                            name: str) -> None:
    """Their cycles leave `max_keys` out: a caveat when it cannot hold the keys read, sized
    by eviction without them (the estimate of test_the_estimate_evicts_as_lru_does)."""
    def evicted(room: int) -> list[str]:
        components = cache({"ttl": "10s", "max_keys": room} | ahead, load="10ms")
        workloads = [{"name": "reads", "to": "app.get", "rate": "1000/s",
                      "keys": {"count": 1000, "skew": 1}}]
        spec = {"scalesim": 1, "name": "t", "workloads": workloads, "components": components}
        system = load_spec_text(yaml.safe_dump(spec, sort_keys=False))
        return [c.message for c in caveats(system, estimate(system)) if c.code == "evicted"]

    assert not evicted(2000)
    [message] = evicted(50)
    assert f"the {name} cycle" in message
