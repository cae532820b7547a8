"""An open-loop load generator: Poisson arrivals scheduled independently of the answers.

Each request is sent at its scheduled time whether or not earlier ones have answered, and
its latency counts from that scheduled time (so a stalled client cannot hide queueing:
no coordinated omission). Bounded in count and in time; localhost only. A small asyncio
client, because the maintained Python load tools (Locust, and the like) drive closed
loops of users.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx
import numpy as np


@dataclass(frozen=True)
class Level:
    rate_rps: float  # offered
    sent: int
    ok: int
    failed: int
    seconds: float  # from the first scheduled send to the last answer
    latencies_s: list[float]  # of successful requests

    @property
    def throughput_rps(self) -> float:
        return (self.ok + self.failed) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, float]:
        lat = np.array(self.latencies_s) * 1e3
        return {"rate_rps": self.rate_rps, "throughput_rps": self.throughput_rps,
                "ok": self.ok, "failed": self.failed,
                "mean_ms": float(lat.mean()) if len(lat) else float("nan"),
                "p50_ms": float(np.quantile(lat, 0.5)) if len(lat) else float("nan"),
                "p99_ms": float(np.quantile(lat, 0.99)) if len(lat) else float("nan")}


async def _open_loop(url: str, rate: float, count: int, limit_s: float, seed: int,
                     timeout_s: float) -> Level:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
    latencies: list[float] = []
    failed = 0

    async def one(client: httpx.AsyncClient, scheduled: float) -> None:
        nonlocal failed
        try:
            answer = await client.post(url)
            ok = answer.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append(time.monotonic() - scheduled)
        else:
            failed += 1

    async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as client:
        start = time.monotonic()
        at = start
        tasks = []
        for _ in range(count):
            at += rng.expovariate(rate)
            if at - start > limit_s:
                break
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, at)))
        await asyncio.gather(*tasks)
        seconds = max(at, time.monotonic()) - start
    return Level(rate, len(tasks), len(latencies), failed, seconds, latencies)


def open_loop(url: str, rate: float, seconds: float, seed: int,
              timeout_s: float = 10.0) -> Level:
    """Send Poisson arrivals at `rate` to POST `url` for `seconds` (at most rate × seconds ×
    1.5 requests) and wait for every answer."""
    count = int(rate * seconds * 1.5) + 10
    return asyncio.run(_open_loop(url, rate, count, seconds, seed, timeout_s))


async def _saturate(url: str, concurrency: int, seconds: float) -> float:
    done = 0
    stop = time.monotonic() + seconds

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.monotonic() < stop:
            try:
                answer = await client.post(url)
                done += answer.status_code == 200
            except httpx.HTTPError:
                pass

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        start = time.monotonic()
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
        return done / (time.monotonic() - start)


def saturation(url: str, concurrency: int = 32, seconds: float = 8.0) -> float:
    """Answers per second with `concurrency` requests always outstanding: the throughput at
    saturation (a closed loop with no think time keeps the bottleneck busy)."""
    return asyncio.run(_saturate(url, concurrency, seconds))
