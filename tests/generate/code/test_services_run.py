"""Generated services run as real processes on localhost.

The pair: front calls back.get with a count-window breaker (window 4, min 4, 50 %, open 1 s, one
half-open probe) and 2 attempts. Chaos is injected with `POST /chaos {"error_rate": 1.0}`,
which back serves because it is started with SCALESIM_CHAOS=1. Known answers: request 1
succeeds (1 call recorded); request 2 fails twice (3 recorded, 2 failed, below the minimum);
request 3's first attempt makes 3 of 4 failed, so the breaker opens and refuses the retry;
after the open wait, one successful probe closes it again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.generate.code._support import PAIR_SPEC, Process, generate, listener, running


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(front URL, back URL) of the running services; both are stopped afterwards."""
    code = generate(PAIR_SPEC, tmp_path)
    back = Process("back", code / "back", listener(), {"SCALESIM_CHAOS": "1"})
    front = Process("front", code / "front", listener(), {"BACK_URL": back.url})
    with running([back, front], tmp_path) as urls:
        yield urls["front"], urls["back"]


def metric(metrics_text: str, name: str, default: float | None = None) -> float:
    """The first sample of `name`; `default` when there is none yet (a labelled metric has
    no sample before its first use)."""
    match = re.search(rf"^{name}\{{[^}}]*\}} (\S+)$", metrics_text, re.MULTILINE)
    if match is None and default is not None:
        return default
    assert match is not None, f"{name} not in /metrics"
    return float(match.group(1))


def test_breaker_opens_on_failures_and_closes_after_a_good_probe(
        pair: tuple[str, str]) -> None:
    front, back = pair
    with httpx.Client(timeout=10.0) as client:
        first = client.post(f"{front}/order")
        assert first.status_code == 200
        assert first.json() == {"operation": "order", "outcome": "ok"}

        assert client.post(f"{back}/chaos", json={"error_rate": 1.0}).status_code == 200
        answers = [client.post(f"{front}/order") for _ in range(2)]
        assert [a.status_code for a in answers] == [502, 502]
        assert [a.json()["cause"] for a in answers] == ["error", "circuit_open"]

        metrics = client.get(f"{front}/metrics").text
        assert metric(metrics, "scalesim_circuit_breaker_state") == 1.0  # open
        assert metric(metrics, "scalesim_circuit_breaker_not_permitted_calls_total") == 1.0
        assert metric(metrics, "scalesim_dependency_retries_total") == 2.0

        assert client.post(f"{back}/chaos", json={"error_rate": 0.0}).status_code == 200
        assert client.post(f"{front}/order").json()["cause"] == "circuit_open"  # still open
        time.sleep(1.1)  # open_for 1 s
        assert client.post(f"{front}/order").status_code == 200  # the half-open probe
        metrics = client.get(f"{front}/metrics").text
        assert metric(metrics, "scalesim_circuit_breaker_state") == 0.0  # closed again


def test_chaos_endpoint_exists_only_when_enabled(pair: tuple[str, str]) -> None:
    front, _ = pair
    with httpx.Client(timeout=10.0) as client:
        assert client.post(f"{front}/chaos", json={"error_rate": 1.0}).status_code == 404
        assert client.get(f"{front}/health").json() == {"status": "ok"}


WIDE_SPEC = """
scalesim: 1
name: wide
components:
  front:
    workers: 120
    operations:
      fan: {calls: [{to: back.slow, timeout: 30s}]}
  back:
    workers: unlimited
    operations:
      slow: {work: 3s}
workloads: [{name: w, to: front.fan, rate: 1/s}]
"""
WIDE = 120  # front's workers: more than httpx's default pool of 100 connections


@pytest.mark.slow
def test_every_call_the_spec_allows_is_in_flight_at_once(tmp_path: Path) -> None:
    # front may hold 120 calls to back at once (120 blocking workers), and back serves any
    # number: all 120 must be at back together. httpx's default pool would hold 20 back.
    code = generate(WIDE_SPEC, tmp_path)
    back = Process("back", code / "back", listener(), {})
    front = Process("front", code / "front", listener(), {"BACK_URL": back.url})
    with running([back, front], tmp_path) as urls:
        async def load_and_watch() -> tuple[float, list[int]]:
            limits = httpx.Limits(max_connections=None)
            async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
                requests = [asyncio.create_task(client.post(f"{urls['front']}/fan"))
                            for _ in range(WIDE)]
                peak, deadline = 0.0, time.monotonic() + 20.0
                while peak < WIDE and time.monotonic() < deadline:
                    metrics = (await client.get(f"{urls['back']}/metrics")).text
                    peak = max(peak, metric(metrics, "scalesim_requests_in_flight", 0.0))
                    await asyncio.sleep(0.1)
                answers = await asyncio.gather(*requests)
                return peak, [answer.status_code for answer in answers]

        peak, statuses = asyncio.run(load_and_watch())
    assert peak == WIDE
    assert statuses == [200] * WIDE
