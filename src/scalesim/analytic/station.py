"""One queueing station of the estimate: c servers fed at rate λ with a general service time.

- Unbounded FCFS queue: the Allen–Cunneen approximation of G/G/c,
  Wq ≈ C(c, a) / (cμ − λ) · (ca² + cs²) / 2, with C the Erlang C probability of waiting. It
  is exact for M/M/c (ca² = cs² = 1) and for M/G/1 (it is then Pollaczek–Khinchine).
  For M/D/1 the waiting time's whole distribution is exact too (Erlang's, `dam`).
- Bounded queue (K = c + queue places): M/M/c/K, exact for exponential service (loss, mean
  wait, and the waiting time's distribution: an admitted arrival that finds n ≥ c jobs waits
  Erlang(n − c + 1, cμ)), its mean wait scaled by (ca² + cs²)/2 otherwise; a refused arrival
  is lost, so the station stays stable under any load.
- One exponential server fed every k-th arrival of a Poisson stream (round robin over k
  queues, `StationLoad.turns`): Erlang-k interarrivals, E_k/M/1, exact by the G/M/1
  equation σ = A*(μ(1 − σ)); an arrival waits with probability σ, then Exp(μ(1 − σ)).
  Other arrivals of scv 1/k have another shape: Allen–Cunneen.
- Unlimited servers: no waiting at all (an infinite-server station).

Otherwise the waiting time is taken to be 0 with probability 1 − P(wait) and exponential
with the mean that gives Wq: the exact M/M/c law, and the standard shape of the others' tail.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from scalesim.analytic.chains import bounded, erlang_mixture
from scalesim.analytic.dam import md1_wait_reach, md1_wait_tail
from scalesim.analytic.hashing import Split
from scalesim.analytic.lattice import (
    LEAF_POINTS,
    TAIL,
    Lattice,
    exponential_wait,
    from_cdf,
    mixture,
    zero,
)
from scalesim.analytic.markovian import erlang_arrivals_wait, erlang_c


@dataclass(frozen=True)
class StationLoad:
    arrival_rate: float  # λ per queue (a replica, or the whole pool)
    servers: int | None  # c per queue; None = unlimited
    capacity: int | None  # c + queue places per queue; None = unbounded
    service_mean_s: float
    service_scv: float  # cs²
    arrival_scv: float = 1.0  # ca²; 1 for Poisson
    # k ≥ 2 when the queue takes every k-th arrival of a Poisson stream (round robin over k
    # queues, `in_turn`): Erlang-k interarrivals, ca² = 1/k; 1 for any other arrivals,
    # which ca² alone describes
    turns: int = 1

    @classmethod
    def in_turn(cls, arrival_rate: float, servers: int | None, capacity: int | None,
                service_mean_s: float, service_scv: float, turns: int) -> StationLoad:
        """A queue fed every `turns`-th arrival of a Poisson stream (1: the stream itself),
        so its arrivals' shape and ca² come from one number."""
        return cls(arrival_rate, servers, capacity, service_mean_s, service_scv, 1.0 / turns,
                   turns)


@dataclass(frozen=True)
class StationState:
    utilization: float  # ρ = carried λ·E[S]/c; 0 with unlimited servers
    offered: float  # λ·E[S]/c before any loss; ≥ 1 means it cannot keep up unbounded
    p_wait: float
    mean_wait_s: float  # inf when unstable
    loss: float  # share of arrivals refused (bounded queue)
    wait: Lattice | None  # None when unstable
    exact: bool  # the formula is exact for this station (M/M/c, M/G/1, M/M/c/K)
    model: str  # e.g. "M/M/4", "M/G/1", "G/G/8 (Allen–Cunneen)", "M/M/2/10", "M/G/∞"

    @property
    def stable(self) -> bool:
        return self.wait is not None


def solve(load: StationLoad, points: int = LEAF_POINTS) -> StationState:
    """The station's measures; its waiting time on about `points` grid points."""
    lam, mean = load.arrival_rate, load.service_mean_s
    arrivals = "M" if abs(load.arrival_scv - 1.0) < 1e-12 else "G"
    service = "M" if abs(load.service_scv - 1.0) < 1e-12 else "D" \
        if load.service_scv < 1e-12 else "G"
    if load.servers is None:
        return StationState(0.0, 0.0, 0.0, 0.0, 0.0, zero(), True, f"{arrivals}/{service}/∞")
    c = load.servers
    if not math.isfinite(mean):  # the work never ends: nothing gets through
        return StationState(math.inf, math.inf, 1.0, math.inf,
                            1.0 if load.capacity is not None else 0.0, None, False,
                            f"{arrivals}/{service}/{c}")
    offered = lam * mean / c
    if lam == 0.0 or mean == 0.0:
        return StationState(0.0, offered, 0.0, 0.0, 0.0, zero(), True,
                            f"{arrivals}/{service}/{c}")
    if load.capacity is not None:
        return _bounded(load, offered, f"{arrivals}/{service}/{c}/{load.capacity}", points)
    model = f"{arrivals}/{service}/{c}"
    if offered >= 1.0 or c / mean - lam <= 0.0:  # (the second: offered rounds just below 1)
        return StationState(offered, offered, 1.0, math.inf, 0.0, None, False, model)
    if load.turns >= 2 and service == "M" and c == 1:
        sigma = erlang_arrivals_wait(load.turns, lam, 1.0 / mean)
        mean_wait = sigma * mean / (1.0 - sigma)
        return StationState(offered, offered, sigma, mean_wait, 0.0,
                            exponential_wait(sigma, mean_wait, points), True,
                            f"E{load.turns}/M/1")
    if service == "D" and arrivals == "M" and c == 1:
        return StationState(offered, offered, offered, _md1_mean_wait(offered, mean), 0.0,
                            md1_wait(offered, mean, points), True, model)
    p_wait = erlang_c(c, lam * mean)
    variability = (load.arrival_scv + load.service_scv) / 2.0
    mean_wait = p_wait / (c / mean - lam) * variability
    exact = arrivals == "M" and (service == "M" or c == 1)
    if not exact:
        model += " (Allen–Cunneen)"
    return StationState(offered, offered, p_wait, mean_wait, 0.0,
                        exponential_wait(p_wait, mean_wait, points), exact, model)


def _md1_mean_wait(rho: float, service_s: float) -> float:
    """Pollaczek–Khinchine for constant work: ρD / (2(1 − ρ))."""
    return rho * service_s / (2.0 * (1.0 - rho))


def md1_wait(rho: float, service_s: float, points: int = LEAF_POINTS) -> Lattice:
    """The M/D/1 waiting time exactly (`dam.md1_wait_tail`, Erlang's formula), with its exact
    mean and E[W²] = 2E[W]² + λD³ / (3(1 − ρ))."""
    mean = _md1_mean_wait(rho, service_s)
    second = 2.0 * mean * mean + rho * service_s**2 / (3.0 * (1.0 - rho))
    upper = md1_wait_reach(rho, TAIL) * service_s
    return from_cdf(lambda x: 1.0 - md1_wait_tail(rho, x / service_s), upper, mean, second,
                    points=points)


def _bounded(load: StationLoad, offered: float, model: str, points: int) -> StationState:
    """M/M/c/K: the stationary distribution of the birth-death chain gives the loss (PASTA:
    an arrival sees state K with probability p_K) and the mean wait by Little's law on the
    queue, with arrivals that get in."""
    c, capacity = load.servers, load.capacity
    assert c is not None and capacity is not None
    p = bounded(load.arrival_rate * load.service_mean_s, float(c), capacity)
    loss = float(p[capacity])
    carried = load.arrival_rate * (1.0 - loss)
    queue_length = float(((np.arange(capacity + 1) - c).clip(0) * p).sum())
    mean_wait = queue_length / carried if carried > 0.0 else 0.0
    # an admitted arrival waits when it finds all c servers busy (and a place free)
    p_wait = float(p[c:capacity].sum()) / (1.0 - loss) if loss < 1.0 else 1.0
    variability = (load.arrival_scv + load.service_scv) / 2.0
    exact = model.startswith("M/M/")
    if exact and loss < 1.0:
        # an admitted arrival finding n ≥ c waits for n − c + 1 completions at rate cμ
        seen = p[:capacity] / (1.0 - loss)
        weights = np.concatenate([[seen[:c].sum()], seen[c:]])
        wait = erlang_mixture(weights, c / load.service_mean_s, points)
    else:
        wait = exponential_wait(p_wait, mean_wait * variability, points)
    return StationState(carried * load.service_mean_s / c, offered, p_wait,
                        mean_wait * variability, loss, wait, exact,
                        model if exact else model + " (M/M/c/K scaled)")


# Replicas solved one by one at most: past it, those of similar shares are solved together
# at their mean share, the busiest alone.
MAX_GROUPS = 16


def uneven(load: StationLoad, split: Split, points: int = LEAF_POINTS) -> StationState:
    """Replicas of one component fed unevenly (`split`: a hash ring's shares of the arrivals,
    and how bursty each replica's are), `load` being a replica's at an even split: each
    replica's station solved on its own. A request lands on replica i with its share, so
    the wait is the mixture of the replicas' (of the arrivals each admits) and so are
    P(wait), the mean wait and the loss; the utilization and the offered load are the
    busiest replica's, which is the first to run out."""
    shares = split.shares
    total = load.arrival_rate * len(shares)
    groups = _groups(split.shares)
    states = [solve(dataclasses.replace(load, arrival_rate=total * share, turns=1,
                                        arrival_scv=_dispersion(split, load, total, share,
                                                                members)), points)
              for share, members in groups]
    fed = [share * len(members) for share, members in groups]
    low, high = float(shares.min()), float(shares.max())
    return combined(states, fed, f"{states[-1].model} ×{len(shares)}, a replica "
                    f"{low:.0%}–{high:.0%} of the keys")


def partitioned(load: StationLoad, shares: np.ndarray, members: int,
                points: int = LEAF_POINTS) -> StationState:
    """A consumer group on a partitioned topic, `load` being the whole subscription's and
    `shares` each partition's share of its records. Each partition is consumed in order,
    one record at a time, by the member that owns it (Kafka's RangeAssignor: consecutive
    ranges, the first P mod n members one more; members past the partitions idle), which
    takes its partitions in turn: one server fed their records, M/G/1 (with no switch-over
    time the order of service leaves the mean wait M/G/1's: the conservation law). A
    bounded topic's places are shared out by the members' shares."""
    count, extra = divmod(len(shares), members)
    ranges = np.cumsum([0] + [count + 1] * extra + [count] * (min(members, len(shares))
                                                              - extra))
    fed = np.add.reduceat(shares, ranges[:-1]) if len(shares) else shares
    groups = _groups(fed)
    total = load.arrival_rate
    states = [solve(dataclasses.replace(
        load, arrival_rate=total * share, servers=1, turns=1,
        capacity=None if load.capacity is None else 1 + math.ceil(
            (load.capacity - 1) * share)), points) for share, _ in groups]
    owned = "a partition" if count + (extra > 0) <= 1 else "its partitions"
    return combined(states, [share * len(run) for share, run in groups],
                    f"{states[-1].model} ×{len(fed)}, a member taking {owned} in order")


def combined(states: list[StationState], fed: list[float], model: str) -> StationState:
    """Stations that share one component's visits (`fed`: each one's share of them) as
    one: a visit lands on station i with its share, so the wait is the mixture of theirs
    (of the visits each admits) and so are P(wait), the mean wait and the loss; the
    utilization and the offered load are the busiest station's, the first to run out."""
    busiest = max(states, key=lambda state: state.offered)
    loss = sum(f * state.loss for f, state in zip(fed, states, strict=True))
    admitted = [f * (1.0 - state.loss) for f, state in zip(fed, states, strict=True)]
    kept = sum(admitted)
    exact = all(state.exact for state in states)
    waits = [state.wait for state, a in zip(states, admitted, strict=True) if a > 0.0]
    if kept <= 0.0:  # every station refuses all
        return dataclasses.replace(busiest, loss=loss, exact=exact, model=model)
    weights = [a / kept for a in admitted]
    p_wait = sum(w * state.p_wait for w, state in zip(weights, states, strict=True))
    if any(wait is None for wait in waits):
        return StationState(busiest.utilization, busiest.offered, p_wait, math.inf, loss, None,
                            exact, model)
    mean_wait = sum(w * state.mean_wait_s for w, state in zip(weights, states, strict=True)
                    if w > 0.0)
    wait = mixture([w for w in weights if w > 0.0], [w for w in waits if w is not None])
    return StationState(busiest.utilization, busiest.offered, p_wait, mean_wait, loss, wait,
                        exact, model)


def _dispersion(split: Split, load: StationLoad, total: float, share: float,
                members: np.ndarray) -> float:
    """The c_a² of the arrivals of a replica fed `share` of `total`: their index of
    dispersion over the visits that come in its queue's relaxation time (Morse's
    S / (c·(1 − √ρ)²), what its queue remembers), so that a queue near saturation sees how
    even the split is over thousands of visits and a light one over a few."""
    servers = load.servers or 1
    rho = total * share * load.service_mean_s / servers
    relaxation = relaxation_time(load.service_mean_s, servers, rho) if rho < 1.0 else math.inf
    return float(split.dispersion_over(members, total * relaxation).mean())


def relaxation_time(service_mean_s: float, servers: int, rho: float) -> float:
    """Seconds a queue of `servers` at utilization `rho` takes to forget its start, to
    within 1/e: Morse's S / (c·(1 − √ρ)²) for M/M/1, carried to c servers."""
    return service_mean_s / (servers * (1.0 - math.sqrt(rho)) ** 2)


def _groups(shares: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """The replicas fed at all, by share, as (share, their indexes): each alone when few,
    else MAX_GROUPS − 1 runs of about equal count at their mean share and the busiest
    alone."""
    order = np.argsort(shares, kind="stable")
    order = order[shares[order] > 0.0]
    if len(order) <= MAX_GROUPS:
        return [(float(shares[i]), order[at:at + 1]) for at, i in enumerate(order)]
    runs = np.array_split(order[:-1], MAX_GROUPS - 1)
    return [(float(shares[run].mean()), run) for run in runs if len(run)] \
        + [(float(shares[order[-1]]), order[-1:])]
