"""Rules about replication, elections and caches: commits that wait on another region, a
hot key that stampedes its backend when it expires, cache entries that can stay stale
forever, and Raft timeouts that heartbeats cannot keep up with."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from scalesim.analytic.caching import key_weights, stampede_loads
from scalesim.analytic.load import cache_reads
from scalesim.analytic.quorum import quorum_sizes, quorums_overlap, wars_needed
from scalesim.lint.context import Context
from scalesim.lint.estimates import ms
from scalesim.lint.finding import Hit
from scalesim.lint.graph import component_of
from scalesim.spec.checks import cached_data_writes
from scalesim.spec.consistency import SPREAD_ROUND_TRIPS, Caching, Replication
from scalesim.spec.errors import counted
from scalesim.spec.model import Keys

REGION_RTT_S = 0.02  # a replica round trip this long is another region (etcd: ~50 ms across
# the US, under a few ms within one); within a region it is well under 10 ms
STAMPEDE_LOADS = 2.0  # loads per expiry of the hottest key from which a stampede is reported


def sync_replication_across_regions(ctx: Context) -> Iterator[Hit]:
    """SS601: sync or semi-sync replication whose follower round trip is region-scale.
    ScaleSim has no regions: the replica latencies the spec states (W + A) are the link."""
    network = ctx.system.defaults.network.mean_s
    for name, component in ctx.system.components.items():
        replication = component.replication
        if replication is None or replication.mode not in ("sync", "semi_sync"):
            continue
        out = replication.write.mean_s if replication.write is not None else network
        back = replication.ack.mean_s if replication.ack is not None else network
        if out + back < REGION_RTT_S:
            continue
        what = ("waits for it" if replication.mode == "sync" else
                f"waits for it (up to {ms(replication.semi_sync_timeout)}, then silently "
                "falls back to async)")
        yield Hit(("components", name, "replication", "mode"),
                  f"'{name}' replicates {replication.mode.replace('_', '-')} to followers "
                  f"{ms(out + back)} away (write + ack): a cross-region round trip that every "
                  f"commit {what}; replicate asynchronously across regions (and read there "
                  "with a bounded lag), or keep the synchronous standby in the leader's "
                  "region")


def _hottest(rates: list[tuple[float, Keys | None]]) -> float:
    """Requests per second of the most requested key (key 0 is the most popular)."""
    return sum(rate * float(key_weights(keys)[0][0]) for rate, keys in rates
               if keys is not None and 0.0 < rate < math.inf)


def cache_stampede(ctx: Context) -> Iterator[Hit]:
    """SS602: a TTL cache without stampede protection whose hottest key gets one more
    request or more while its reload runs (or whose TTL is shorter than that reload)."""
    system = ctx.system
    for name, component in system.components.items():
        caching = component.caching
        if caching is None or caching.ttl is None or caching.stampede != "none" \
                or caching.refresh_ahead is not None or component.backend is None:
            continue
        rates, load, _ = cache_reads(system, name)
        hot = _hottest(rates)
        loads = stampede_loads(hot, load)
        if caching.ttl <= load:
            yield Hit(("components", name, "caching", "ttl"),
                      f"'{name}' keeps entries {ms(caching.ttl)}, no longer than a reload "
                      f"from '{component.backend}' takes ({ms(load)}): keys expire as fast "
                      "as they load, so every read of them misses and reloads")
        elif hot > 0.0 and loads >= STAMPEDE_LOADS:
            yield Hit(("components", name, "caching", "stampede"),
                      f"the hottest key of '{name}' is read {hot:,.4g}/s; when it expires "
                      f"every read in the {ms(load)} a reload of '{component.backend}' takes "
                      f"misses too: about {loads:,.3g} loads at once every "
                      f"{ms(caching.ttl)}; coalesce them (one load per key) or refresh "
                      "early (XFetch, refresh-ahead)")


def _stale_writes(ctx: Context, name: str, caching: Caching) -> str | None:
    """How writes can leave a cached entry stale: under its write policy (None when they
    update it: write-through, write-behind), or by reaching what it caches past it."""
    ways = []
    if caching.writes and caching.write_policy == "none":
        ways.append(f"its writes ({', '.join(caching.writes)}) go to '{caching.write_to}' "
                    "without touching the cache")
    elif caching.writes and caching.write_policy == "invalidate":
        ways.append("a load that read the old value before a write can store it after the "
                    "write deleted the entry (the cache-aside race)")
    written = set(cached_data_writes(ctx.system, name))
    past = [edge for edge in ctx.graph.edges
            if edge.target in written and component_of(edge.source) != name]
    if past:
        bypass = sorted({edge.source for edge in past})
        targets = sorted({edge.target for edge in past})
        ways.append(f"{', '.join(bypass)} write{'s' if len(bypass) == 1 else ''} "
                    f"{', '.join(targets)} past the cache, which never hears of it")
    return "; ".join(ways) or None


def cache_without_expiry(ctx: Context) -> Iterator[Hit]:
    """SS603: a cache whose entries never expire although writes can leave them stale."""
    for name, component in ctx.system.components.items():
        caching = component.caching
        if caching is None or caching.ttl is not None:
            continue
        how = _stale_writes(ctx, name, caching)
        if how is None:
            continue
        then = (", so a cached value is stale from the first write on, forever"
                if caching.write_policy == "none" or not caching.writes
                else ", and it then stays forever")
        yield Hit(("components", name, "caching"),
                  f"entries of '{name}' never expire: {how}{then}; give them a 'ttl' as long "
                  "as the data may be stale")


def ttl_beyond_staleness_budget(ctx: Context) -> Iterator[Hit]:
    """SS605: entries that writes can leave stale live longer than the data may be stale
    (entries that never expire are SS603's)."""
    for name, component in ctx.system.components.items():
        caching = component.caching
        if caching is None or caching.max_staleness is None or caching.ttl is None \
                or caching.ttl <= caching.max_staleness:
            continue
        how = _stale_writes(ctx, name, caching)
        if how is None:
            continue
        budget = ms(caching.max_staleness)
        yield Hit(("components", name, "caching", "ttl"),
                  f"entries of '{name}' live {ms(caching.ttl)} but its staleness budget is "
                  f"{budget}: {how}, so readers can be served values older than the budget; "
                  f"set 'ttl' to at most {budget}"
                  + (" or write through the cache" if caching.write_policy == "none" else ""))


def election_timeout_too_short(ctx: Context) -> Iterator[Hit]:
    """SS604: a Raft election timeout within one heartbeat plus a round trip."""
    round_trip = 2.0 * ctx.system.defaults.network.mean_s
    for name, component in ctx.system.components.items():
        election = component.leader_election
        if election is None or election.type != "raft":
            continue
        needed = election.heartbeat + round_trip
        if election.election_timeout > needed:
            continue
        yield Hit(("components", name, "leader_election", "election_timeout"),
                  f"'{name}' followers stand for election after {ms(election.election_timeout)}"
                  f" without a heartbeat, but heartbeats come every {ms(election.heartbeat)} "
                  f"plus a {ms(round_trip)} round trip: followers time out between heartbeats "
                  "and depose a healthy leader again and again; etcd asks for a timeout of "
                  "at least 10 round trips and 5 heartbeats")


def election_timeouts_split_votes(ctx: Context) -> Iterator[Hit]:
    """SS609: Raft election timeouts drawn from a range narrower than SPREAD_ROUND_TRIPS
    vote round trips, or from none (identical timers fire together even with no network
    delay), in a group with two followers or more (one alone cannot split)."""
    hop = ctx.system.defaults.network.mean_s
    for name, component in ctx.system.components.items():
        election = component.leader_election
        if election is None or election.type != "raft" or component.replicas < 3:
            continue
        spread = election.timeout_max - election.election_timeout
        if spread > 0.0 and spread >= SPREAD_ROUND_TRIPS * 2.0 * hop:
            continue
        low = ms(election.election_timeout)
        drawn = (f"'{name}' followers all wait the same {low} for a heartbeat "
                 "(election_timeout_max = election_timeout): after a leader fails only the "
                 "heartbeats' network jitter sets their timeouts apart, so they can stand "
                 "together and split the vote again and again (the Raft paper measured "
                 "elections of over 10 s with no randomness)" if spread == 0 else
                 f"'{name}' draws election timeouts from {low} to {ms(election.timeout_max)}, a "
                 f"range of {ms(spread)}: followers whose timers fire within a network hop "
                 f"({ms(hop)}) of each other both stand and split the vote")
        wider = election.spread_timeout_max(2.0 * hop)
        set_max = ("election_timeout_max",) if election.election_timeout_max is not None else ()
        here = f"{ms(SPREAD_ROUND_TRIPS * 2.0 * hop)} here; " if hop else ""
        yield Hit(("components", name, "leader_election", *set_max),
                  f"{drawn}; Raft keeps split votes rare with a range of {SPREAD_ROUND_TRIPS} "
                  f"vote round trips or more ({here}the paper's 150–300 ms against a 15 ms "
                  "round trip); set "
                  f"'election_timeout_max: {wider * 1000:g}ms' (a range of "
                  f"{ms(wider - election.election_timeout)})")


def lease_shorter_than_renewal(ctx: Context) -> Iterator[Hit]:
    """SS606: lease_duration < renew_deadline + retry_period (client-go's renew loop)."""
    for name, component in ctx.system.components.items():
        election = component.leader_election
        if election is None or election.type != "lease":
            continue
        gives_up = election.holder_gives_up_s
        if election.lease_duration >= gives_up:
            continue
        yield Hit(("components", name, "leader_election", "renew_deadline"),
                  f"a '{name}' leader cut off from the API server leads on for up to "
                  f"{ms(gives_up)} after its last renewal (its first failed one comes a "
                  f"retry_period of {ms(election.retry_period)} later, and it gives up "
                  f"renew_deadline {ms(election.renew_deadline)} after that), but candidates "
                  f"may take the lease after {ms(election.lease_duration)}: for up to "
                  f"{ms(gives_up - election.lease_duration)} two replicas act as leader; set "
                  f"'renew_deadline' to at most "
                  f"{ms(election.lease_duration - election.retry_period)} (lease_duration − "
                  "retry_period), or fence the leader's writes")


def raft_without_check_quorum(ctx: Context) -> Iterator[Hit]:
    """SS607: a Raft election with check_quorum: false."""
    for name, component in ctx.system.components.items():
        election = component.leader_election
        if election is None or election.type != "raft" or election.check_quorum:
            continue
        yield Hit(("components", name, "leader_election", "check_quorum"),
                  f"a '{name}' leader cut off from the other members keeps acting as leader "
                  "until the cut heals, beside the one they elect, and accepts writes it "
                  "cannot commit; set 'check_quorum: true' so that it steps down within two "
                  f"election timeouts ({ms(2 * election.election_timeout)})")


PBS_SAMPLES = 20_000  # WARS draws for SS608's figure: its share within about ±0.7 points


def partial_quorum(ctx: Context) -> Iterator[Hit]:
    """SS608: leaderless quorums with R + W ≤ N, whose read and write quorums need not
    overlap, so a read may miss the latest write."""
    for name, component in ctx.system.components.items():
        replication = component.replication
        if replication is None or replication.mode != "quorum":
            continue
        if quorums_overlap(replication, component.replicas):
            continue
        n, w, r = quorum_sizes(replication, component.replicas)
        yield Hit(("components", name, "replication"),
                  f"'{name}' writes to {w} and reads from {r} of the {counted(n, 'replica')} of a "
                  "key: "
                  f"R + W = {r + w} ≤ N = {n}, so a read's replicas need not include one that "
                  f"has the latest write and it can return an older value"
                  f"{_pbs_staleness(ctx, replication, n)}; make R + W > N (e.g. 'r: "
                  f"{n - w + 1}') if reads must see the latest write")


def _pbs_staleness(ctx: Context, replication: Replication, n: int) -> str:
    """The PBS figure for SS608 (`analytic.quorum.wars_needed`: W, and A = R = S, exponential
    at the spec's means, A, R and S averaged), or '' when those delays are all 0."""
    network = ctx.system.defaults.network.mean_s
    write, *ars = (network if dist is None else dist.mean_s for dist in (
        replication.write, replication.ack, replication.read, replication.response))
    others = sum(ars) / len(ars)
    needed = wars_needed(write, others, n, replication.w, replication.r, samples=PBS_SAMPLES)
    stale = float((needed > 0.0).mean())
    if stale == 0.0:
        return ""
    return (f" (PBS, W exponential of mean {ms(write)} and A, R, S of {ms(others)}: a read "
            f"right after a write's commit misses it {stale:.0%} of the time, and 99.9% of "
            f"reads see it {ms(float(np.quantile(needed, 0.999)))} after)")
