"""A Dynamo-style replicated database: N/R/W quorums and how stale a read can be."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect
from scalesim.templates.params import TemplateParams, param

if TYPE_CHECKING:  # numpy loads with the expectations, not at `templates list`
    import numpy as np

LEVELS = {"one": 1, "quorum": 2, "all": 3}  # Cassandra consistency levels on 3 replicas
NETWORK_MS = 1.0  # A, R and S: a message between the coordinator and a replica (mean)
KEYS = 1000
QUICK_WINDOW_S = 10  # the quick run's measured seconds, at least
MODEL_TOLERANCE = 0.05  # the WARS model's, for the share consistent at once


class Params(TemplateParams):
    consistency: Literal["one", "quorum", "all"] = param(
        "one", "replicas a write waits for and a read asks (Cassandra's consistency level "
        "on 3 replicas: ONE = 1, QUORUM = 2, ALL = 3; the driver's default is ONE)")
    write_ms: float = param(10, "a replica applying a write (W, mean, exponential)",
                            unit="ms", ge=0.05, le=1000)
    writes_rps: float = param(1000, "writes per second", unit="req/s", ge=1, le=50_000)
    reads_rps: float = param(3000, "reads per second", unit="req/s", ge=1, le=50_000)


def visibility(p: Params) -> np.ndarray:
    """WARS samples of the t after which a read sees a write: two thirds of the run on 3
    replicas, a third with one of them down (the others behave as N = 2)."""
    import numpy as np

    from scalesim.analytic.quorum import wars_needed

    write, network = p.write_ms / 1e3, NETWORK_MS / 1e3
    return np.concatenate([wars_needed(write, network, 3, 1, 1, samples=100_000),
                           wars_needed(write, network, 2, 1, 1, samples=50_000)])


def stale_expected(p: Params, needed: np.ndarray) -> float:
    """Stale reads in the quick run: reads of a key before its last write is visible there,
    the key's writes times the mean time a write stays unseen."""
    unseen_s = float(needed.clip(min=0.0).mean())
    return p.reads_rps * QUICK_WINDOW_S * p.writes_rps / KEYS * unseen_s


def consistent_tolerance(p: Params, share: float) -> float:
    """The model's 5 %, or 4 binomial standard errors over the quick run's writes."""
    writes = p.writes_rps * QUICK_WINDOW_S
    return max(MODEL_TOLERANCE, SIGMAS * math.sqrt((1 - share) / (writes * share)))


def scenario(p: Params) -> Scenario:
    import numpy as np

    level = LEVELS[p.consistency]
    db = "replication.db"
    staleness: tuple[Expect, ...]
    if level == 1:
        needed = visibility(p)
        now = float((needed <= 0.0).mean())
        t999 = float(np.quantile(needed, 0.999)) * 1e3
        stale = stale_expected(p, needed)
        staleness = (
            Expect(f"{db}.p_consistent.0ms", "~", now,
                   "a read right after a write sees it only this often: the PBS WARS "
                   "model (Bailis et al. 2012) for R=W=1 on 3 replicas (2 while one is "
                   "down, a third of the run)", tolerance=consistent_tolerance(p, now)),
            Expect(f"{db}.t_visibility_ms.p999", "~", t999,
                   "99.9 % of reads see a write this long after it committed",
                   tolerance=0.2),
            *((Expect(f"{db}.stale_reads", ">", 0,
                      "partial quorums (R + W ≤ N) read stale"),)
              if stale - SIGMAS * math.sqrt(stale) >= 1 else ()))
    else:
        staleness = (
            Expect(f"{db}.stale_reads", "<=", 0,
                   "R + W > N: every read quorum overlaps the last write's quorum"),
            Expect(f"{db}.p_consistent.0ms", ">=", 1.0, "consistent at once"))
    availability = (
        Expect("workloads.writes.failed_share", ">", 0.05,
               "ALL cannot write while a replica is down (UnavailableException)")
        if level == 3 else
        Expect(f"{db}.unavailable", "<=", 0,
               f"{p.consistency.upper()} still finds {level} of the 2 replicas left"))
    return Scenario(
        story=f"{p.writes_rps:g} writes/s and {p.reads_rps:g} reads/s over 1000 keys on 3 "
              f"replicas at consistency {p.consistency.upper()} (W = R = {level}); replica 2 "
              "is down from 10 s to 20 s.",
        expect=(*staleness, availability),
        quick=("simulation.duration=12s", "faults.0.at=4s", "faults.0.for=4s"))


def derive(p: Params) -> dict[str, int]:
    return {"level": LEVELS[p.consistency]}


TEMPLATE = Template(
    id="replicated-database", version=1, title="Quorum replication and stale reads",
    summary="A Dynamo-style store (Cassandra, Riak) keeps every key on 3 replicas; a write "
            "waits for W of them, a read for R. R + W ≤ N is fast but can read stale data — "
            "how often and for how long is Probabilistically Bounded Staleness; R + W > N "
            "never reads stale; ALL stops when a replica fails.",
    patterns=("majority-quorum", "tunable-consistency", "eventual-consistency"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "WARS latencies (PBS): W exponential with mean write_ms, A, R and S exponential "
        "with mean 1 ms; every key on all 3 replicas.",
        "The coordinator sends to all 3 replicas and waits for the first W (R); a read "
        "returns the newest of its R answers. Read repair, hinted handoff and anti-entropy "
        "are not modelled.",
        "A client retries a request whose coordinator is down on another replica.",
        "With few events the claims follow the counts: the share consistent at once is "
        "held to 5 %, or 4 binomial standard errors over the quick run's writes when "
        "wider; stale reads are claimed when the quick run expects at least one by 4 "
        "Poisson σ (reads × the key's writes × the mean time a write stays unseen: 159 at "
        "the defaults, measured 195; 0.16 at 1 write/s, 0.05 at 1 read/s). At "
        "write_ms=0.05 the p999 visibility time (61 µs by the model) measured 78 µs, a "
        "miss.",
    ))
