"""Requests a leaderless quorum refused: a write waits for `w` of its key's `n` replicas, a
read for `r` (Dynamo; Cassandra's consistency levels, docs/data.md), so with more than
n − w of them down no write can commit, however idle the replicas left are: each fails
`unavailable`, as Cassandra answers an UnavailableException. The quorum is the cause, not
load on the healthy replicas, and the fix is the quorum the replicas left can reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scalesim.diagnosis.components import at_limit, visited
from scalesim.diagnosis.context import Run, fault_end_s, fault_text
from scalesim.diagnosis.finding import Fix, count
from scalesim.spec.consistency import Replication
from scalesim.spec.model import Fault

# How each quorum is named in the text: the acknowledgements of a write, the answers of a read.
SIDES = {"w": "write", "r": "read"}


@dataclass(frozen=True)
class Shortfall:
    """A quorum that the replicas left up could not reach: component `name`'s `side` ("w" or
    "r") needs `needed` of a key's `n` replicas, and at most `n` − `down` were up (the crash
    `faults`); `refused` attempts of `calls` (edges, `from→to`) were refused `unavailable`."""

    name: str
    side: str
    needed: int
    n: int
    down: int
    faults: tuple[Fault, ...]
    refused: int
    calls: tuple[str, ...]

    @property
    def reachable(self) -> int:
        """The largest quorum that the replicas left up can reach."""
        return self.n - self.down

    def headline(self) -> str:
        down = ", ".join(sorted({f.target for f in self.faults}))
        return (f"{self.name}'s {SIDES[self.side]}s need {self.side} = {self.needed} of a key's "
                f"n = {self.n} replicas, and {down} {'was' if self.down == 1 else 'were'} down")


@dataclass(frozen=True)
class QuorumCause:
    """Why the calls failed (the shortfalls, one line) and the fix."""

    headline: str
    fix: Fix


def quorum_cause(run: Run, workload: str, calls: list[dict[str, Any]], evidence: list[str],
                 numbers: dict[str, float | None]) -> QuorumCause | None:
    """The quorums that those of `calls` the requests of `workload` make could not reach
    (`_shortfalls`): `evidence` gets each, `numbers` the first's, and the fix lowers each to
    what the replicas left up reach (`_fix`). None when no such call failed so, or no quorum
    can be reached (every replica of a key down)."""
    spec = next(w for w in run.system.workloads if w.name == workload)
    made = visited(run, ".".join(run.system.resolve(spec.to)))
    found = [s for s in _shortfalls(run, [c for c in calls if c["from"] in made])
             if s.reachable >= 1]
    if not found:
        return None
    busy = at_limit(run)
    for short in found:
        evidence.append(_evidence(run, short, short.name not in busy))
    first = found[0]
    numbers.update(quorum_n=first.n, quorum_needed=first.needed, replicas_down=first.down,
                   quorum_refused=first.refused)
    fixes = [_fix(run, name, [s for s in found if s.name == name])
             for name in dict.fromkeys(s.name for s in found)]
    return QuorumCause("; ".join(s.headline() for s in found),
                       Fix("; ".join(f.summary for f in fixes),
                           tuple(o for f in fixes for o in f.set)))


def _shortfalls(run: Run, calls: list[dict[str, Any]]) -> list[Shortfall]:
    """The quorums of `calls` to `quorum`-replicated components that crash faults left out of
    reach (more of a key's replicas down at once than n − w, or n − r), for calls with
    attempts refused `unavailable` as many as half their failed calls or more (the others
    met a crashed coordinator, which their retries may answer); the calls to one side of a
    component pooled."""
    pooled: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for call in calls:
        target, operation = call["to"].split(".", 1)
        replication = run.system.components[target].replication
        causes = call["attempt_failures_by_cause"]
        if replication is None or replication.mode != "quorum" \
                or not causes.get("unavailable") or 2 * causes["unavailable"] < call["failed"]:
            continue
        side = "w" if operation in replication.writes else "r"
        pooled.setdefault((target, side), []).append(call)
    found = []
    for (name, side), edges in pooled.items():
        replication = run.system.components[name].replication
        assert replication is not None
        n = _n(run, name, replication)
        needed = replication.w if side == "w" else replication.r
        down, faults = _most_down(run, name, n)
        if needed > n - down:
            found.append(Shortfall(name, side, needed, n, down, faults,
                                   sum(c["attempt_failures_by_cause"]["unavailable"]
                                       for c in edges),
                                   tuple(f"{c['from']}→{c['to']}" for c in edges)))
    return found


def _n(run: Run, name: str, replication: Replication) -> int:
    """A key's replicas: `n`, every replica by default."""
    return replication.n if replication.n is not None else run.system.components[name].replicas


def _most_down(run: Run, name: str, n: int) -> tuple[int, tuple[Fault, ...]]:
    """The most of one key's `n` replicas that crash faults on component `name` held down at
    once in the window (a key's replicas are n in a row on the ring, docs/data.md; a crash of
    the whole component takes them all), and those faults."""
    replicas = run.system.components[name].replicas
    warmup = run.system.simulation.warmup
    crashes = [f for f in run.faults_on(name) if f.crash and fault_end_s(run, f) > warmup]
    most = 0
    faults: tuple[Fault, ...] = ()
    for start in sorted({max(f.at, warmup) for f in crashes}):
        active = tuple(f for f in crashes if f.at <= start < fault_end_s(run, f))
        down = _replicas(active, replicas)
        for first in range(replicas):
            members = {(first + i) % replicas for i in range(min(n, replicas))}
            if len(down & members) > most:
                most, faults = len(down & members), active
    return most, faults


def _replicas(faults: Iterable[Fault], replicas: int) -> set[int]:
    """The replicas `faults` hold down (all of them for a fault on the whole component)."""
    down: set[int] = set()
    for fault in faults:
        down |= set(range(replicas)) if fault.replica is None else {fault.replica}
    return down


def _evidence(run: Run, short: Shortfall, room: bool) -> str:
    side = SIDES[short.side]
    down = "; ".join(fault_text(f, run.end_s) for f in short.faults)
    why = ("; the replicas up refused them too though they had room: the quorum, not load, "
           "failed them" if room else "")
    return (f"{short.name}'s {side}s wait for {short.side} = {short.needed} of a key's "
            f"n = {short.n} replicas ({_level(short.needed, short.n)}); {down}: with "
            f"{short.reachable} of {short.n} up no {side} could reach {short.side} = "
            f"{short.needed}, so {count(short.refused)} attempts of {', '.join(short.calls)} "
            f"were refused unavailable (Cassandra's UnavailableException){why}")


def _fix(run: Run, name: str, found: list[Shortfall]) -> Fix:
    """Component `name`'s quorums lowered to what the replicas left up reach (`found`: its
    shortfalls, one per side); when that breaks R + W > N, which the spec kept, the other
    quorum raised to keep it if the replicas up can reach that too, else the trade-off
    named: reads may then miss the last write (lint SS608)."""
    replication = run.system.components[name].replication
    assert replication is not None
    n, reachable = found[0].n, min(s.reachable for s in found)
    now = {"w": replication.w, "r": replication.r}
    new = dict(now)
    for short in found:
        new[short.side] = reachable
    lowered = [s.side for s in found]
    texts = [f"lower {name}'s {SIDES[side]} quorum {side} from {now[side]} to {new[side]} "
             f"({_level(new[side], n)}), the most that {reachable} of a key's {n} replicas up "
             "can answer" for side in lowered]
    if now["w"] + now["r"] > n >= new["w"] + new["r"]:
        lowest = " and ".join(f"{side} = {new[side]}" for side in lowered)
        stale = (f"R + W = {new['w'] + new['r']} ≤ N = {n}, so a read could miss the last "
                 "write (stale reads, lint SS608)")
        other = "r" if lowered == ["w"] else "w" if lowered == ["r"] else None
        kept = n + 1 - reachable
        if other is not None and kept <= reachable:
            new[other] = kept
            texts.append(f"raise {other} from {now[other]} to {kept}: {lowest} alone would "
                         f"leave {stale}; with w = {new['w']} and r = {new['r']}, "
                         f"R + W = {new['w'] + new['r']} > N = {n} keeps every read "
                         "overlapping the last write, and both still answer with "
                         f"{found[0].down} of a key's replicas down (keep {other} = "
                         f"{now[other]} instead if stale reads are acceptable)")
        else:
            texts.append(f"with {lowest}, {stale}: with {n - reachable} of {n} replicas down "
                         "no pair of quorums both answers and overlaps (that takes a majority "
                         "up)")
    sets = tuple(f"components.{name}.replication.{side}={new[side]}"
                 for side in ("w", "r") if new[side] != now[side])
    return Fix("; ".join(texts), sets)


def _level(quorum: int, n: int) -> str:
    """Cassandra's name for a quorum of `quorum` among `n` replicas."""
    if quorum == n:
        return "ALL"
    if quorum == 1:
        return "ONE"
    if quorum == n // 2 + 1:
        return f"QUORUM, ⌊{n}/2⌋ + 1"
    return f"{quorum} of {n}"
