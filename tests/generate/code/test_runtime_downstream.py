"""The generated call path (downstream.py) in a service's own process, against an in-memory
HTTP transport: what happens to permits when an attempt is cut short."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests.generate.code._support import PAIR_SPEC, generate, run_in_service


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(PAIR_SPEC, tmp_path_factory.mktemp("downstream")) / "front"


def run(front: Path, body: str) -> list[str]:
    prelude = """
        import asyncio

        import httpx

        import downstream
        from downstream import Dependency, Pool, parallel
        from resilience import CircuitBreaker

        async def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/slow":
                await asyncio.sleep(30)
            if request.url.path == "/busy":
                await asyncio.sleep(0.2)
            return httpx.Response(200)
        """
    script = textwrap.dedent(prelude) + textwrap.dedent(body)
    return run_in_service(front, script)


def test_a_half_open_probe_cancelled_by_parallel_gives_its_permit_back(front: Path) -> None:
    # One half-open probe is allowed. The probe goes to the slow branch of a wait_for: any
    # step; the fast branch answers first and parallel() cancels the probe. Its outcome is
    # unknown, so it is recorded as neither success nor failure (Resilience4j's ignored
    # calls) and its permit returns: the next call may probe again. Before, the breaker
    # stayed half-open refusing every call, for good.
    lines = run(front, """
        async def main() -> None:
            now = [0.0]
            breaker = CircuitBreaker(window=2, min_calls=2, open_for=10.0, half_open_calls=1,
                                     clock=lambda: now[0])
            breaker.record(True, 0.01)
            breaker.record(True, 0.01)
            now[0] = 11.0  # the open wait is over: the next call is the half-open probe
            slow = Dependency("op", "slow.get", "http://slow/slow", breaker=breaker)
            fast = Dependency("op", "fast.get", "http://fast/fast")
            await downstream.TRANSPORT.open(transport=httpx.MockTransport(answer))
            await parallel(1, fast, slow)
            await asyncio.sleep(0.1)  # the cancelled probe unwinds
            print(breaker.state, breaker.admitted, breaker.window.total)
            print(breaker.try_acquire())

        asyncio.run(main())
        """)
    assert lines == ["2 0 0", "True"]  # HALF_OPEN, no permit held, nothing recorded


def test_a_connection_pool_queues_its_pending_calls_and_refuses_the_rest(front: Path) -> None:
    # Envoy's limits towards slow: 1 request in flight, 1 pending; a third is an overflow
    # (refused at once, counted), and the pending one goes out once the first is done.
    lines = run(front, """
        async def main() -> None:
            await downstream.TRANSPORT.open({"slow": Pool(1, pending=1)},
                                            transport=httpx.MockTransport(answer))
            call = Dependency("op", "slow.get", "http://slow/busy", timeout=1.0)
            first = asyncio.create_task(call.call())
            second = asyncio.create_task(call.call())
            await asyncio.sleep(0.05)
            print(await call.call())
            print(await first, await second)

        asyncio.run(main())
        """)
    assert lines == ["overflow", "None None"]
