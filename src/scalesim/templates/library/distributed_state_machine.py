"""A replicated state machine: a Raft log (etcd-like) on 3 or 5 nodes."""

from __future__ import annotations

import math

from pydantic import model_validator

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect
from scalesim.templates.params import TemplateParams, param

HOP_MS = 0.25
LEADER_MS = 0.2  # the leader's work per command (apply, encode, send)
QUICK_WINDOW_S = 10  # the quick run's measured seconds
MODEL_TOLERANCE = 0.1  # the commit wait's, at least


class Params(TemplateParams):
    nodes: int = param(3, "members of the cluster (odd: 3 tolerates 1 failure, 5 two)",
                       unit="nodes", ge=3, le=7)
    writes_rps: float = param(2000, "commands per second", unit="req/s", ge=1, le=40_000)
    reads_rps: float = param(2000, "linearizable reads per second", unit="req/s", ge=0,
                             le=40_000)
    persist_ms: float = param(2, "a follower receiving and persisting an entry (mean, "
                              "exponential: network + fdatasync)", unit="ms", ge=0.05, le=500)

    @model_validator(mode="after")
    def _odd(self) -> Params:
        if self.nodes % 2 == 0:
            raise ValueError("nodes must be odd: an even cluster tolerates no more failures "
                             "than the odd one below it")
        return self


def commit_ms(p: Params) -> float:
    """The (majority − 1)-th of the followers' Exp(persist) acknowledgements, plus the hop
    of each acknowledgement back: with all nodes for the first half of the run, and with
    one node down (n − 2 followers left) after the leader's crash at half time."""
    from scalesim.analytic.quorum import majority_commit_mean, order_statistic_mean

    before = majority_commit_mean(p.persist_ms, p.nodes)
    after = order_statistic_mean(p.persist_ms, p.nodes - 2, p.nodes // 2)
    return (before + after) / 2 + HOP_MS


def commit_tolerance(p: Params) -> float:
    """10 %, or 4 standard errors of a mean over the quick run's commands when wider: an
    order statistic of exponentials varies at most as much as its mean (cv ≤ 1)."""
    return max(MODEL_TOLERANCE, SIGMAS / math.sqrt(p.writes_rps * QUICK_WINDOW_S))


def capacity_rps() -> float:
    return 8 * 1000 / LEADER_MS  # the leader's workers / its work per command


def scenario(p: Params) -> Scenario:
    tolerated = (p.nodes - 1) // 2
    return Scenario(
        story=f"{p.writes_rps:g} commands/s and {p.reads_rps:g} linearizable reads/s on "
              f"{p.nodes} nodes (it survives {tolerated} failure"
              f"{'s' if tolerated > 1 else ''}); every command goes through the leader, "
              f"which can do at most {capacity_rps():,.0f} per second whatever the cluster "
              "size; the leader crashes at 20 s.",
        expect=(
            Expect("replication.kv.commit_wait_ms.mean", "~", commit_ms(p),
                   f"a command commits when {p.nodes // 2} of the followers have it: the "
                   f"order statistic m·Σ 1/(k−i) of k = {p.nodes - 1} exponential persist "
                   f"times, then of {p.nodes - 2} once the old leader is gone (half the run)",
                   tolerance=commit_tolerance(p)),
            Expect("elections.kv.failover_ms.max", "<", 5000,
                   "etcd's default timeouts (1–2 s) elect a new leader well within 5 s"),
            Expect("replication.kv.lost_on_failover", "<=", 0,
                   "a committed command survives the leader's crash (a majority holds it)"),
            Expect("workloads.writes.goodput_share", ">=", 0.999,
                   "clients retry while there is no leader: commands wait, none is lost"),
            Expect("replication.kv.stale_reads", "<=", 0,
                   "reads at the leader after a ReadIndex round are linearizable"),
        ),
        quick=("simulation.duration=12s", "faults.0.at=6s"))


TEMPLATE = Template(
    id="distributed-state-machine", version=1, title="Replicated state machine (Raft log)",
    summary="A key-value store replicated with a Raft log, as etcd is: a command commits "
            "once a majority holds it, so its latency is an order statistic of the "
            "followers' persist times; the leader does all the work, so throughput does not "
            "grow with nodes; a leader crash costs one election.",
    patterns=("replicated-log", "consensus", "leader-election", "majority-quorum",
              "leader-and-followers"),
    params=Params, scenario=scenario,
    assumptions=(
        "Each follower acknowledges an entry after Exp(persist_ms) plus a 0.25 ms hop; the "
        "leader counts itself. Entries are not batched (etcd batches under load: a "
        "throughput gain not modelled).",
        "Reads go to the leader, which first confirms its leadership with a majority round "
        "(ReadIndex); serializable reads from followers would skip it and may be stale.",
        "Elections: etcd's defaults (heartbeat 100 ms, timeout 1–2 s); the clients retry a "
        "refused command (no leader) with back-off, as etcd's client does.",
        "The commit wait is held to its model within 10 %, or 4 standard errors of a mean "
        "over the quick run's commands when wider (an order statistic of exponentials "
        "varies at most as much as its mean): ± 126 % at 1 command a second, where 10 % "
        "missed (1.37 ms against 1.75).",
    ))
