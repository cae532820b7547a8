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


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...]
    if p.with_bulkhead:
        expect = (
            Expect("workloads.stock.goodput_share", ">=", 0.999,
                   "the healthy path keeps its goodput while recommendations hang"),
            Expect("workloads.stock.latency_ms.p99", "<", 50,
                   "and its latency: at most pool size + queue threads wait on recs"),
            Expect("calls[gateway.recs->recommendations.get].bulkhead.rejected", ">", 0,
                   "excess recommendation calls are refused at once and fall back"),
        )
    else:
        expect = (Expect("workloads.stock.latency_ms.p99", ">=", 100,
                         "without the bulkhead recs calls take every shared thread, so the "
                         "healthy path queues behind them"),)
    return Scenario(
        story=f"{p.stock_rps:g} stock checks/s and {p.recs_rps:g} recommendation requests/s "
              "share one gateway; recommendations hang (+2 s) from 7 s to 17 s.",
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
        "The gateway is thread-per-request (io: blocking): a request waiting on a call "
        "holds its thread, which is how one slow dependency exhausts a shared pool.",
        "Resilience4j ThreadPoolBulkhead semantics: size threads, queue waiting calls, "
        "beyond that bulkhead_full at once.",
        "Recommendations are optional: a refused or timed-out call falls back to an empty "
        "list (degraded).",
    ))
