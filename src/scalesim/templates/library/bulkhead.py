"""Bulkhead: a separate thread pool per dependency keeps one slow dependency contained."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    with_bulkhead: bool = param(True, "give the recommendations call its own thread pool")
    pool_size: int = param(8, "threads of the recommendations pool", unit="threads", ge=1,
                           le=64)
    pool_queue: int = param(8, "calls that may wait for that pool", unit="calls", ge=0, le=512)
    workers: int = param(32, "the gateway's request threads (shared by every route)",
                         unit="threads", ge=4, le=512)
    stock_rps: float = param(200, "stock checks per second (the healthy dependency)",
                             unit="req/s", ge=1, le=5000)
    recs_rps: float = param(100, "recommendation requests per second (the slow one)",
                            unit="req/s", ge=1, le=5000)


STOCK_MS = 1.0 + 0.5 + 5.0  # a stock check holds a gateway thread: work, trip, the check
RECS_MS = 1.0 + 0.5 + 20.0  # a recommendation, normally
HUNG_MS = 1.0 + 500.0  # ... while recommendations hang: until the 500 ms timeout
REFUSED_MS = 1.0 + 1.0  # ... refused by a full bulkhead: its work and the fallback
BUSY = 0.7  # threads a path may keep busy on average and still answer promptly
OVERLOAD = 1.5  # demand past the threads by this much refuses requests for sure


def recs_threads(p: Params, hold_ms: float) -> float:
    """Gateway threads recommendations hold, each for hold_ms: with the bulkhead at most its
    pool and queue (their callers wait on it) and, past that, the refused ones for their
    work and fallback."""
    demand = p.recs_rps * hold_ms / 1000.0
    room = p.pool_size + p.pool_queue
    if not p.with_bulkhead or demand <= room:
        return demand
    return room + p.recs_rps * REFUSED_MS / 1000.0


def held_by_recs(p: Params) -> float:
    """Gateway threads recommendations hold while they hang (until the timeout)."""
    return recs_threads(p, HUNG_MS)


def stock_threads(p: Params) -> float:
    return p.stock_rps * STOCK_MS / 1000.0


def normal_threads(p: Params) -> float:
    """Threads both paths hold on average before the incident."""
    return stock_threads(p) + recs_threads(p, RECS_MS)


def healthy(p: Params) -> bool:
    """Both paths fit in the shared threads before the incident."""
    return normal_threads(p) <= p.workers


def isolated(p: Params) -> bool:
    """The threads recs can hold leave the stock path enough."""
    return stock_threads(p) <= BUSY * (p.workers - held_by_recs(p))


def starved(p: Params) -> bool:
    """Recs hold every shared thread: stock checks queue behind them."""
    return held_by_recs(p) >= p.workers


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...] = ()
    if healthy(p) and isolated(p):
        expect = (
            Expect("workloads.stock.goodput_share", ">=", 0.999,
                   "the healthy path keeps its goodput while recommendations hang"),
            Expect("workloads.stock.latency_ms.p99", "<", 50,
                   "and its latency: at most pool size + queue threads wait on recs"),
        )
        if p.with_bulkhead and p.recs_rps * HUNG_MS / 1000.0 > 1.2 * (p.pool_size +
                                                                     p.pool_queue):
            expect += (Expect("calls[gateway.recs->recommendations.get].bulkhead.rejected",
                              ">", 0, "excess recommendation calls are refused at once and "
                              "fall back"),)
    elif healthy(p) and starved(p):
        expect = (Expect("workloads.stock.latency_ms.p99", ">=", 100,
                         ("the bulkhead's pool and queue are not smaller than the shared "
                          "threads" if p.with_bulkhead else "without the bulkhead") +
                         ": recs calls take every shared thread, so the healthy path queues "
                         "behind them"),)
    elif normal_threads(p) >= OVERLOAD * p.workers:
        expect = (Expect("workloads.stock.goodput_share", "<", 0.999,
                         f"the two paths need about {normal_threads(p):.3g} threads even "
                         f"before the incident, past the gateway's {p.workers}: requests are "
                         "refused whatever the bulkhead (size workers for the load)"),)
    return Scenario(
        story=f"{p.stock_rps:g} stock checks/s and {p.recs_rps:g} recommendation requests/s "
              f"share one gateway's {p.workers} threads; recommendations hang (+2 s, cut at "
              f"the 500 ms timeout) from 7 s to 17 s, holding about "
              f"{held_by_recs(p):.3g} threads.",
        expect=expect,
        quick=("simulation.duration=10s", "simulation.warmup=1s", "faults.0.at=3s",
               "faults.0.for=5s"))


TEMPLATE = Template(
    id="bulkhead", version=1, title="Bulkhead: a thread pool per dependency",
    summary="Calls to each dependency run in their own bounded thread pool, so when one "
            "dependency hangs only its pool fills; the shared request threads and the other "
            "routes are untouched.",
    patterns=("bulkhead", "fallback", "cascading-failure"),
    params=Params, scenario=scenario,
    assumptions=(
        "The claims follow the threads: a stock check holds a gateway thread about 6.5 ms, "
        "a recommendation 21.5 ms, and one while they hang 501 ms (the timeout), at most "
        "pool size + queue of them with the bulkhead (the refused ones 2 ms more: their "
        "work and the fallback), in normal times too. The stock path keeps its goodput and "
        "p99 when it needs at most 70 % of the threads recs leave it (and both paths fit "
        "before the incident); it queues (p99 ≥ 100 ms) when recs can hold every thread; "
        "when both paths need 1.5 × the threads even before, stock checks are refused; "
        "otherwise no claim is made. "
        "Refusals are expected when the hang's demand exceeds pool + queue by 20 %.",
        "The gateway is thread-per-request (io: blocking): a request waiting on a call "
        "holds its thread, which is how one slow dependency exhausts a shared pool.",
        "Resilience4j ThreadPoolBulkhead semantics: size threads, queue waiting calls, "
        "beyond that bulkhead_full at once.",
        "Recommendations are optional: a refused or timed-out call falls back to an empty "
        "list (degraded).",
    ))
