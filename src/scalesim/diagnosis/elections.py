"""Two leaders at once: a leader paused past its lease (or election timeout) is replaced, and
when it runs again it leads on in its own eyes until its renewals have failed for
`renew_deadline` (a Raft leader: until it hears the new term). A leader cut off from the
others leads on too: a Raft leader until its quorum check fails (or, without CheckQuorum, the
cut heals), a Lease holder until `renew_deadline`, which outlasts the lease when
`lease_duration` < `renew_deadline` + `retry_period`."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from scalesim.diagnosis.context import (
    NOTABLE,
    OUTAGE_BASE,
    OUTAGE_MAX,
    SPAN,
    Run,
    dotted,
    fault_text,
    flow,
    tries_outlasting,
)
from scalesim.diagnosis.degradation import retry_set
from scalesim.diagnosis.finding import Finding, Fix, share
from scalesim.spec.checks import iter_calls
from scalesim.spec.consistency import JITTER_FACTOR, SPREAD_ROUND_TRIPS, LeaderElection
from scalesim.spec.model import Call, Component, Fault
from scalesim.spec.resilience import Retry


def split_brains(run: Run) -> Iterator[Finding]:
    for name, entry in run.result.get("elections", {}).items():
        seconds = entry.get("split_brain_s") or 0.0
        if not seconds:
            continue
        election = run.system.components[name].leader_election
        times = entry["split_brains"]
        numbers: dict[str, float | None] = {"split_brain_s": seconds, "split_brains": times}
        head = (f"{name}: two replicas acted as leader for {seconds:.1f} s ({times} "
                f"time{'s' if times != 1 else ''}): a leader ")
        if election is None or election.type != "lease":
            yield _raft_split_brain(run, name, head, numbers)
            continue
        cuts = _cuts(run, name)
        if cuts:
            yield _lease_cut_split_brain(run, name, head, numbers)
            continue
        summary = head + "paused past its lease was replaced and led on "
        pauses = [f for f in run.faults_on(name) if f.pause is not None]
        longest = max((_pause_length(f) for f in pauses), default=0.0)
        # client-go refuses a RenewDeadline at or below 1.2 × RetryPeriod (JITTER_FACTOR):
        # the shortest window it allows, to the next 100 ms.
        above = round(JITTER_FACTOR * election.retry_period, 6)
        shortest = round(math.floor(above * 10) / 10 + 0.1, 1)
        evidence = [f"lease_duration {election.lease_duration:g} s, renew_deadline "
                    f"{election.renew_deadline:g} s, retry_period {election.retry_period:g} s",
                    *(fault_text(f, run.end_s) + f" (pauses of {_pause_length(f):g} s)"
                      for f in pauses)]
        fence = ("fence what the leader writes with the lease's transition count (a fencing "
                 "token), so that a deposed leader's writes are refused; the settings can only "
                 "shrink the window or make it rarer: ")
        longer = (f"a lease_duration above the longest pause ({longest:g} s) so that no pause "
                  f"ends a term, at the price of slower failovers after a crash")
        if election.renew_deadline > shortest and shortest < election.lease_duration:
            fix = Fix(fence + f"renew_deadline {shortest:g} s (the least client-go allows), "
                      f"or {longer}",
                      (f"components.{name}.leader_election.renew_deadline="
                       f"{round(shortest * 1000)}ms",))
        else:
            fix = Fix(fence + longer)
        yield Finding("split_brain", "problem", name, summary + "until renew_deadline passed",
                      "lease", tuple(evidence), fix, numbers)


def _pause_length(fault: Fault) -> float:
    """How long each of the fault's pauses lasts: a pause ends with the fault's window."""
    assert fault.pause is not None
    if fault.for_ is None:
        return fault.pause.for_
    return min(fault.pause.for_, fault.for_)


def failovers(run: Run) -> Iterator[Finding]:
    """Time without a leader that the callers felt: 1 % or more of the visits to an elected
    component met no leader and were refused `unavailable` (and failed, or were retried
    until a leader came: then the tail of the latency is the failover). When its elections
    kept splitting, that is the cause, and a shorter detection would not help."""
    for name, entry in run.result.get("elections", {}).items():
        refused = entry.get("refused_no_leader") or 0
        visits = sum(op["requests"]["total"]
                     for op in run.result["components"][name]["operations"].values())
        if not visits or refused / visits < NOTABLE:
            continue
        if _splitting(entry):
            yield _split_votes(run, name, entry, refused, visits)
        elif entry.get("failovers") or _unfinished(run, name, entry) is not None:
            yield _failover(run, name, entry, refused, visits)


# The events that end the current leader's term (docs/results.md, `elections`).
_LOSSES = {"crashed", "stopped", "released", "lease_lost", "stepped_down", "quorum_lost"}


def _unfinished(run: Run, name: str, entry: dict[str, Any]) -> float | None:
    """When the leader of `name`, with a fault on it, was lost and none was elected by the
    window's end (the first replication's events): a failover still in progress, which the
    measured failovers do not count; None when it has a leader at the end."""
    events = entry.get("events") or []
    leader = next((e["replica"] for e in reversed(events) if e["event"] == "elected"), None)
    lost = next((e for e in reversed(events) if e["event"] == "elected"
                 or (e["event"] in _LOSSES and e["replica"] == leader)), None)
    if lost is None or lost["event"] == "elected" or not run.faults_on(name) \
            or not _electable(run, name):
        return None
    return float(lost["t_s"])


def _electable(run: Run, name: str) -> bool:
    """Whether enough members of `name` are up at the window's end to elect a leader: one
    for a Lease (the API server arbitrates), a majority for Raft. A group that cannot is
    waiting for its members, not on its detection settings."""
    component = run.system.components[name]
    election = component.leader_election
    down = {f.replica for f in run.faults_on(name)
            if f.crash and (f.for_ is None or f.at + f.for_ >= run.end_s)}
    if None in down:
        return False
    need = 1 if election is not None and election.type == "lease" \
        else component.replicas // 2 + 1
    return component.replicas - len(down) >= need


def _splitting(entry: dict[str, Any]) -> bool:
    """More split votes than failovers (and two at least): on average a new leader came
    only after more than one election without a winner, or never."""
    splits: int = entry.get("split_votes") or 0
    return splits >= 2 and splits > (entry.get("failovers") or 0)


def _timeouts(election: LeaderElection) -> str:
    """The range the election timeouts are drawn from, or that there is none."""
    low, high = election.election_timeout, election.timeout_max
    if high == low:
        return (f"every election timeout {_ms(low)} (election_timeout_max = "
                "election_timeout): no range at all")
    return f"election timeouts drawn from {_ms(low)} to {_ms(high)}: a range of {_ms(high - low)}"


def _split_votes(run: Run, name: str, entry: dict[str, Any], refused: int,
                 visits: int) -> Finding:
    """Raft elections that keep splitting: the followers' timers fire too close together,
    so several stand in the same term and none gets a majority. The fix widens the range
    they are drawn from (`LeaderElection.spread_timeout_max`) and retries the callers over
    the one failover that still leaves (`_retry_advice`)."""
    election = run.system.components[name].leader_election
    assert election is not None
    splits, elections, won = entry["split_votes"], entry["elections"], entry["failovers"]
    failed = run.result["requests"]["failed_by_cause"].get("unavailable", 0)
    round_trip = 2.0 * run.system.defaults.network.mean_s
    spread = election.timeout_max - election.election_timeout
    evidence = [f"{elections} elections, {splits} without a winner (split votes), "
                f"{won} failover{'s' if won != 1 else ''}: no leader for "
                f"{entry['leaderless_s']:.2f} s ({share(entry['leaderless_share'])} of the "
                "window)",
                f"{_timeouts(election)} against a vote round trip of {_ms(round_trip)} (two "
                "network hops)",
                f"{refused:,} of the {visits:,} visits to {name} refused unavailable "
                f"({share(refused / visits)}); {failed:,} requests failed unavailable",
                *(fault_text(f, run.end_s) for f in run.faults_on(name))]
    wider = election.spread_timeout_max(round_trip)
    # Even one election leaves no leader for up to the longest timeout drawn (the Raft
    # paper: never under half the shortest), so the requests refused meanwhile need retries.
    retry, retries = _retry_advice(run, name, max(wider, election.timeout_max))
    then = f"; a crash then still leaves {name} without a leader for up to the longest " \
        f"timeout, {_ms(max(wider, election.timeout_max))}" + (f": {retry}" if retry else "")
    if wider > election.timeout_max:
        fix = Fix(f"election_timeout_max {_ms(wider)} (now {_ms(election.timeout_max)}): "
                  f"timeouts drawn over {_ms(wider - election.election_timeout)}, "
                  f"election_timeout or {SPREAD_ROUND_TRIPS} vote round trips, whichever is "
                  "more (etcd draws from [T, 2T), the Raft paper from 150–300 ms), so that one "
                  f"follower times out first and wins before the others stand{then}",
                  (f"components.{name}.leader_election.election_timeout_max="
                   f"{wider * 1000:g}ms", *retries))
    else:
        fix = Fix(f"the range ({_ms(spread)}) is {SPREAD_ROUND_TRIPS} vote round trips or more "
                  f"already: a wider one spreads the followers' timers further apart{then}",
                  retries)
    return Finding("split_votes", "problem", name,
                   f"{name} went {entry['leaderless_s']:.2f} s without a leader: {splits} of "
                   f"its {elections} elections split the vote (followers timed out together "
                   f"and each stood), {refused:,} visits refused ({share(refused / visits)} "
                   "of its visits)", None, tuple(evidence), fix,
                   {"leaderless_s": entry["leaderless_s"], "elections": elections,
                    "split_votes": splits, "refused_no_leader": refused,
                    "refused_share": refused / visits, "failed_unavailable": failed})


def _failover(run: Run, name: str, entry: dict[str, Any], refused: int,
              visits: int) -> Finding:
    election = run.system.components[name].leader_election
    assert election is not None
    since = _unfinished(run, name, entry)
    open_ms = 0.0 if since is None else (run.end_s - since) * 1e3
    longest = max(entry["failover_ms"]["max"] or 0.0, open_ms)
    latency = run.result["latency_ms"]
    requests = run.result["requests"]
    failed = requests["failed_by_cause"].get("unavailable", 0)
    times = entry["failovers"]
    ongoing = "" if since is None else (
        f"; one still in progress, without a leader since {since:g} s "
        f"({open_ms / 1e3:.2f} s to the window's end)")
    finished = (f"{times} failover{'s' if times != 1 else ''}, the longest "
                f"{entry['failover_ms']['max'] / 1e3:.2f} s" if times else "no failover finished")
    evidence = [f"{finished}{ongoing}: no leader for {entry['leaderless_s']:.2f} s "
                f"({share(entry['leaderless_share'])} of the window)",
                f"{refused:,} of the {visits:,} visits to {name} refused unavailable "
                f"({share(refused / visits)}); {failed:,} of the {requests['total']:,} "
                f"requests failed unavailable ({share(failed / max(1, requests['total']))})",
                f"latency p50 {latency.get('p50', math.nan):.1f} ms, p99 "
                f"{latency.get('p99', math.nan):.1f} ms: requests that met the failover "
                "waited it out or failed",
                *(fault_text(f, run.end_s) for f in run.faults_on(name))]
    budget, why = _gap_budget(run, longest / 1e3, refused / visits, failed)
    detect, overrides, span = _detection(run, name, budget, why)
    retry, retries = _retry_advice(run, name, span or longest / 1e3)
    meanwhile = _served_without_leader(run.system.components[name])
    fix = Fix(f"{detect}; {retry}" + (f"; {', '.join(meanwhile)}, served without a leader, "
                                      "go on meanwhile" if meanwhile else ""),
              (*overrides, *retries))
    unfinished = "" if since is None else " (its failover still in progress at the end)"
    return Finding("failover", "warning", name,
                   f"{name} went {entry['leaderless_s']:.2f} s without a leader{unfinished}: "
                   f"{refused:,} visits refused ({share(refused / visits)} of its visits), "
                   f"{failed:,} requests failed unavailable", None, tuple(evidence), fix,
                   {"leaderless_s": entry["leaderless_s"], "refused_no_leader": refused,
                    "refused_share": refused / visits, "failed_unavailable": failed,
                    "failover_ms_max": longest, "failover_budget_s": budget,
                    "failover_in_progress_s": open_ms / 1e3 if since is not None else None})


def _gap_budget(run: Run, longest_s: float, refused_share: float,
                failed: int) -> tuple[float, str]:
    """The longest failover the run affords, and why: what is refused (and fails) grows
    with the time without a leader, so the measured longest failover scaled by the share
    allowed over the share measured — of the requests failing `unavailable`, what the
    error-rate SLO of all requests leaves beside the other failures; without one (or when
    the other failures alone miss it), of the visits refused, NOTABLE, under which this
    finding is not made."""
    requests = run.result["requests"]
    failed_share = failed / max(1, requests["total"])
    check = run.error_check("all")
    if check is not None and failed_share > 0:
        room = check["target"] - (check["actual"] - failed_share)
        if room > 0:
            return longest_s * room / failed_share, (
                f"the error-rate SLO ({share(check['target'])}) leaves the failovers "
                f"{share(room)} of the requests")
    return longest_s * NOTABLE / refused_share, (
        f"keeps the visits refused under {share(NOTABLE)}")


def _detection(run: Run, name: str, budget: float,
               why: str) -> tuple[str, tuple[str, ...], float | None]:
    """The detection settings, sized so that a crashed leader is replaced within `budget`
    seconds: the advice, its `--set` overrides, and the longest failover they leave (none,
    and None, when no shorter setting exists)."""
    election = run.system.components[name].leader_election
    assert election is not None
    if election.type == "lease":
        return _lease_fix(name, election, budget, why)
    return _raft_fix(run, name, election, budget, why)


def _lease_fix(name: str, election: LeaderElection, budget: float,
               why: str) -> tuple[str, tuple[str, ...], float | None]:
    """The longest lease (`_shorter_leases`) whose worst failover after a crash
    (`failover_bounds`) fits `budget`; else the shortest, which the retries must complete."""
    now = (f"{election.lease_duration:g} s / {_ms(election.renew_deadline)} / "
           f"{_ms(election.retry_period)}")
    leases = _shorter_leases(election)
    if not leases:
        return (f"the lease ({now}) is as short as the spec allows; detection cannot be "
                "sooner", (), None)
    fits = [lease for lease in leases if lease.failover_bounds()[1] <= budget]
    chosen = fits[0] if fits else leases[-1]
    worst = chosen.failover_bounds()[1]
    settings = (f"lease_duration {chosen.lease_duration:g} s, renew_deadline "
                f"{_ms(chosen.renew_deadline)}, retry_period {_ms(chosen.retry_period)} (now "
                f"{now}, scaled alike: lease_duration > renew_deadline > 1.2 × retry_period, as "
                "client-go requires)")
    outcome = (f"a crashed leader is then replaced within {worst:.3g} s (lease_duration + "
               f"4.4 × retry_period), under the {budget:.3g} s that {why}" if fits else
               f"even this, the shortest, lets a failover last up to {worst:.3g} s, over the "
               f"{budget:.3g} s that {why}, so the retries must wait out the rest")
    path = f"components.{name}.leader_election"
    return (f"{settings}: {outcome}, at the price of a renewal every "
            f"{_ms(chosen.retry_period)} against the API server",
            (f"{path}.lease_duration={chosen.lease_duration:g}s",
             f"{path}.renew_deadline={round(chosen.renew_deadline * 1000)}ms",
             f"{path}.retry_period={round(chosen.retry_period * 1000)}ms"), worst)


def _shorter_leases(election: LeaderElection) -> list[LeaderElection]:
    """The leases with a whole-second lease_duration below the current one, longest first,
    with renew_deadline and retry_period scaled alike (down to the millisecond), that keep
    client-go's rules (lease_duration > renew_deadline > 1.2 × retry_period)."""
    found = []
    for seconds in range(math.ceil(election.lease_duration) - 1, 0, -1):
        scale = seconds / election.lease_duration
        renew = math.floor(election.renew_deadline * scale * 1000) / 1000
        retry = math.floor(election.retry_period * scale * 1000) / 1000
        if retry > 0 and seconds > renew > JITTER_FACTOR * retry:
            found.append(election.model_copy(update={
                "lease_duration": float(seconds), "renew_deadline": renew,
                "retry_period": retry}))
    return found


# A Raft election timeout at least this many heartbeats (etcd's advice: 5 to 10; SS604
# needs more than one heartbeat and a round trip).
HEARTBEATS = 10


def _raft_fix(run: Run, name: str, election: LeaderElection, budget: float,
              why: str) -> tuple[str, tuple[str, ...], float | None]:
    """The longest election timeout whose longest draw (`timeout_max`, scaled alike) fits
    `budget`, at least HEARTBEATS heartbeats (and above a heartbeat and a round trip)."""
    ratio = election.timeout_max / election.election_timeout
    floor_s = max(HEARTBEATS * election.heartbeat,
                  election.heartbeat + 2.0 * run.system.defaults.network.mean_s)
    timeout = max(math.floor(budget / ratio * 1000) / 1000, math.ceil(floor_s * 1000) / 1000)
    now = f"{_ms(election.election_timeout)}"
    if timeout >= election.election_timeout:
        return (f"the election timeout ({now}) is {HEARTBEATS} heartbeats or less already: "
                "shorter, healthy leaders are deposed; a shorter heartbeat would allow a "
                "shorter timeout", (), None)
    path = f"components.{name}.leader_election"
    overrides = [f"{path}.election_timeout={round(timeout * 1000)}ms"]
    if election.election_timeout_max is not None:
        overrides.append(f"{path}.election_timeout_max={round(timeout * ratio * 1000)}ms")
    fits = timeout * ratio <= budget
    outcome = (f"followers then stand within about {timeout * ratio:.3g} s of a crash, under "
               f"the {budget:.3g} s that {why}" if fits else
               f"the shortest that keeps {HEARTBEATS} heartbeats; followers still take up to "
               f"about {timeout * ratio:.3g} s, over the {budget:.3g} s that {why}, so the "
               "retries must wait out the rest")
    return (f"election_timeout {_ms(timeout)} (now {now}): {outcome}; shorter, healthy "
            "leaders are deposed", tuple(overrides), timeout * ratio)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:g} ms" if seconds < 1 else f"{seconds:g} s"


def _served_without_leader(component: Component) -> list[str]:
    """The operations any replica serves, which a failover leaves alone: those outside
    `leader_election.operations`, or with leader-based replication the reads when they go
    to the followers (or any replica)."""
    election, replication = component.leader_election, component.replication
    if election is not None and election.operations is not None:
        only = set(election.operations)
    elif replication is not None and replication.reads != "leader":
        only = set(replication.writes)
    else:
        return []
    return [op for op in component.effective_operations if op not in only]


def _retry_advice(run: Run, name: str, longest_s: float) -> tuple[str, tuple[str, ...]]:
    """Retries on `unavailable` for the callers of `name` that lack them; for callers that
    have them and still fail, retries that last out the failover: the text, and the
    overrides of the callers' retries (`_spanning`) that span `longest_s`, the longest
    failover. The workloads that send to `name` directly have no caller to retry: one in
    front of it would."""
    callers = [(f"{caller}.{operation}", path, call) for caller, operation, path, call
               in iter_calls(run.system)
               if run.system.resolve(call.to)[0] == name and not call.async_]
    direct = sorted(w.name for w in run.system.workloads if run.system.resolve(w.to)[0] == name)
    bare = [(ref, path, call) for ref, path, call in callers if call.retry is None
            or call.retry.attempts < 2 or "unavailable" not in call.retry.on]
    advice, overrides = [], []
    spans = (f"the back-offs' longest waits to add up to {SPAN:g}× the longest failover "
             f"({longest_s:.2f} s; a full jitter waits half as long on average)")
    if bare:
        overrides = [o for _, path, call in bare for o in _spanning(run, path, call, longest_s)]
        advice.append("callers that retry unavailable with a back-off ("
                      f"{', '.join(sorted({ref for ref, _, _ in bare}))} do not) wait the "
                      f"failover out instead of failing: give them tries enough for {spans}")
    elif callers and _failed_through_callers(run, direct) >= NOTABLE:
        overrides = [o for _, path, call in callers for o in _spanning(run, path, call, longest_s)]
        advice.append("its callers retry unavailable already, but give up before a leader "
                      f"comes: let their retries span the longest failover, tries enough for "
                      f"{spans}")
    elif callers:
        advice.append("its callers retry unavailable already and wait the failover out")
    if direct:
        advice.append(f"nothing retries the requests of {', '.join(direct)}, sent to {name} "
                      "directly: a caller in front of it that retries unavailable with a "
                      f"back-off spanning the longest failover ({longest_s:.2f} s) would wait "
                      "it out instead of failing")
    return "; ".join(advice), tuple(dict.fromkeys(overrides))


def _spanning(run: Run, path: tuple[str | int, ...], call: Call, longest_s: float) -> list[str]:
    """The overrides that make the call at `path` retry `unavailable` across a failover of
    `longest_s`: the least tries (at least its own, at least 2, at most 100) whose back-offs'
    longest waits add up to SPAN × `longest_s` (`tries_outlasting`); a call without a retry
    gets one of its own (exponential from OUTAGE_BASE to OUTAGE_MAX, full jitter, on
    `unavailable` only)."""
    retry = call.retry or Retry(base=OUTAGE_BASE, max=OUTAGE_MAX, on=["unavailable"])
    tries = tries_outlasting(retry, max(2, retry.attempts), longest_s)
    if call.retry is None:
        return [f"{dotted(path)}.retry=" + flow({
            "attempts": tries, "backoff": retry.backoff, "base": OUTAGE_BASE, "max": OUTAGE_MAX,
            "on": ["unavailable"]})]
    changes: dict[str, object] = {}
    if tries > retry.attempts:
        changes["attempts"] = tries
    if "unavailable" not in retry.on:
        changes["on"] = [*retry.on, "unavailable"]
    return [retry_set(run, path, field, value) for field, value in changes.items()]


def _failed_through_callers(run: Run, direct: list[str]) -> float:
    """The share of all requests that failed `unavailable`, less those of the workloads
    sent straight to the elected component (no caller of theirs gave up)."""
    requests = run.result["requests"]
    straight: int = sum(run.result["workloads"][w]["requests"]["failed_by_cause"].get(
        "unavailable", 0) for w in direct)
    failed: int = requests["failed_by_cause"].get("unavailable", 0) - straight
    total: int = requests["total"]
    return failed / max(1, total)


def _raft_split_brain(run: Run, name: str, head: str,
                      numbers: dict[str, float | None]) -> Finding:
    """A Raft leader led on after a pause (until it heard the new term) or cut off from
    the others (until its quorum check, or without CheckQuorum until the cut healed)."""
    election = run.system.components[name].leader_election
    check_quorum = election is None or election.check_quorum
    cuts = _cuts(run, name)
    how = ("cut off from the others was replaced and led on until "
           + ("its quorum check failed" if check_quorum else "the cut healed")) if cuts \
        else "paused past its election timeout was replaced and led on until it heard the " \
        "new term"
    fence = ("fence what the leader writes with its Raft term, so that a deposed leader's "
             "writes are refused, and serve reads through ReadIndex (a read confirmed by a "
             "majority)")
    if cuts and not check_quorum:
        fix = Fix(fence + "; CheckQuorum (which etcd always runs) ends the second leader "
                  "within two election timeouts instead of at the end of the cut",
                  (f"components.{name}.leader_election.check_quorum=true",))
    else:
        fix = Fix(fence)
    evidence = tuple(fault_text(f, run.end_s) for f in cuts)
    return Finding("split_brain", "problem", name, head + how, "lease", evidence, fix, numbers)


def _cuts(run: Run, name: str) -> list[Fault]:
    """The faults that cut a member of `name` off from the others."""
    return [f for f in run.faults_on(name) if f.partition is not None and f.partition.with_ == name]


def _lease_cut_split_brain(run: Run, name: str, head: str,
                           numbers: dict[str, float | None]) -> Finding:
    """A Lease holder cut off from the API server stops RenewDeadline after its first failed
    renewal, a RetryPeriod after its last good one; a candidate may take the lease
    LeaseDuration after the last renewal it saw. The holder has always stopped first when
    LeaseDuration ≥ RenewDeadline + RetryPeriod."""
    election = run.system.components[name].leader_election
    assert election is not None
    settings = (f"lease_duration {election.lease_duration:g} s, renew_deadline "
                f"{election.renew_deadline:g} s, retry_period {election.retry_period:g} s")
    evidence = (settings, *(fault_text(f, run.end_s) for f in _cuts(run, name)))
    summary = (head + "cut off from the API server was replaced and led on until "
               "renew_deadline passed: a candidate may take the lease lease_duration after "
               "the last renewal, the holder stops renew_deadline + retry_period after it")
    fence = ("fence what the leader writes with the lease's transition count (a fencing "
             "token); ")
    # The longest RenewDeadline that stops the holder first, to the 100 ms below, and client-go's
    # floor (above 1.2 × RetryPeriod).
    longest = math.floor(round((election.lease_duration - election.retry_period) * 10, 6)) / 10
    if longest > JITTER_FACTOR * election.retry_period:
        fix = Fix(fence + f"or renew_deadline {longest:g} s, at most lease_duration − "
                  "retry_period, so that the holder always stops before a candidate may take "
                  "over", (f"components.{name}.leader_election.renew_deadline="
                           f"{round(longest * 1000)}ms",))
    else:
        fix = Fix(fence + "or a lease_duration of at least renew_deadline + retry_period")
    return Finding("split_brain", "problem", name, summary, "lease", evidence, fix, numbers)
