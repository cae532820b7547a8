"""The serving side: one request of an operation, from admission to its answer.

A request needs one of the component's workers (waiting in its queue, refused with 503 when
the queue is full). With blocking io it holds the worker throughout; with nonblocking io it
lets go while it waits on its calls and needs one again for post_work. A failed call ends
the request with 502; the operation's own error rate is drawn at the end, as the simulator
does, and answers 500. A malformed x-scalesim-deadline-ms header answers 400: the caller
asked for something it cannot mean, and ignoring it would hide that.

Time is spent as the simulator spends it: `cpu` computes (a busy loop on this thread's CPU
clock, which blocks the event loop as real computation does), `wait` sleeps (no CPU), and
`work` and `post_work` compute when the component models its cores (`computes`) and sleep
otherwise, as a CPU that nothing contends for would. The runtime's own overhead (HTTP, JSON,
tracing) is whatever this process really spends: nothing is added for it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel, Field

from dists import RNG, Constant, Distribution
from downstream import DEADLINE_HEADER, REQUEST_DEADLINE, DependencyFailed
from resilience import Bulkhead
from telemetry import IN_FLIGHT, LATENCY, REQUESTS, TRACER

Outcome = tuple[str, int, dict[str, str]]  # outcome label, HTTP status, detail
REJECTED: Outcome = ("rejected", 503, {})
NO_WORK = Constant(0.0)


class Rejected(Exception):
    """The request cannot be taken in (e.g. a full queue)."""


class Faults(BaseModel):
    """Injected by POST /chaos: added to every operation's error rate, and seconds added to
    its work."""

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency: float = Field(default=0.0, ge=0.0)


CHAOS = Faults()


def burn(seconds: float) -> None:
    """Compute for `seconds` of this thread's CPU time: calibrated by the CPU clock itself,
    so it uses that much CPU however busy the machine is (it takes longer when it has to
    share a core, as the simulator's processor sharing says)."""
    if seconds <= 0.0:
        return
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class Operation:
    """One operation of this service: its CPU, waits, post_work and error rate, as in the
    spec."""

    def __init__(
        self,
        service: str,
        name: str,
        workers: Bulkhead | None,
        *,
        cpu: Distribution = NO_WORK,
        work: Distribution = NO_WORK,
        wait: Distribution = NO_WORK,
        post_work: Distribution | None = None,
        error_rate: float = 0.0,
        blocking: bool = True,
        computes: bool = False,
    ) -> None:
        self.service = service
        self.name = name
        self.workers = workers
        self.cpu = cpu
        self.work = work
        self.wait = wait
        self.post_work = post_work
        self.error_rate = error_rate
        self.blocking = blocking
        self.computes = computes  # work and post_work use the CPU (the spec has `cores`)

    async def serve(
        self, request: Request, calls: Callable[[], Awaitable[None]] | None = None
    ) -> Response:
        """Answer one request, traced and measured."""
        started = time.monotonic()
        try:
            deadline = request_deadline(request.headers.get(DEADLINE_HEADER), started)
        except ValueError as bad:
            REQUESTS.labels(self.name, "bad_request").inc()
            return JSONResponse(
                {"operation": self.name, "outcome": "bad_request", "detail": str(bad)},
                status_code=400,
            )
        context = propagate.extract(dict(request.headers))
        token = REQUEST_DEADLINE.set(deadline)
        in_flight = IN_FLIGHT.labels(self.name)
        in_flight.inc()
        try:
            with TRACER.start_as_current_span(
                f"{self.service}.{self.name}", context=context, kind=SpanKind.SERVER
            ) as span:
                outcome, status, detail = await self._run(calls)
                span.set_attribute("scalesim.outcome", outcome)
                if status >= 500:
                    span.set_status(StatusCode.ERROR, outcome)
        finally:
            in_flight.dec()
            REQUEST_DEADLINE.reset(token)
        REQUESTS.labels(self.name, outcome).inc()
        LATENCY.labels(self.name).observe(time.monotonic() - started)
        return JSONResponse(
            {"operation": self.name, "outcome": outcome, **detail}, status_code=status
        )

    async def _run(self, calls: Callable[[], Awaitable[None]] | None) -> Outcome:
        workers = self.workers
        if workers is not None and not await workers.acquire():
            return REJECTED
        held = workers is not None
        try:
            burn(self.cpu.sample(RNG))
            work = self.work.sample(RNG)
            if self.computes:
                burn(work)
                work = 0.0
            await asyncio.sleep(work + self.wait.sample(RNG) + CHAOS.latency)
            if calls is not None:
                if workers is not None and held and not self.blocking:
                    workers.release()
                    held = False
                await calls()
            if self.post_work is not None:
                if workers is not None and not held:
                    held = await workers.acquire()
                    if not held:
                        return REJECTED
                post_work = self.post_work.sample(RNG)
                if self.computes:
                    burn(post_work)
                else:
                    await asyncio.sleep(post_work)
        except DependencyFailed as failure:
            return (
                "failed_dependency",
                502,
                {"dependency": failure.dependency, "cause": failure.cause},
            )
        except Rejected:
            return REJECTED
        finally:
            if workers is not None and held:
                workers.release()
        error_rate = min(1.0, self.error_rate + CHAOS.error_rate)
        if error_rate > 0.0 and RNG.random() < error_rate:
            return "error", 500, {}
        return "ok", 200, {}


def request_deadline(header: str | None, now: float) -> float | None:
    """When the caller stops waiting (monotonic seconds), from its deadline header; a value
    that is not a finite number of milliseconds >= 0 is the caller's error (ValueError)."""
    if header is None:
        return None
    try:
        milliseconds = float(header)
    except ValueError:
        milliseconds = math.nan
    if not math.isfinite(milliseconds) or milliseconds < 0.0:
        raise ValueError(
            f"{DEADLINE_HEADER} must be a finite number of milliseconds >= 0, not {header!r}"
        )
    return now + milliseconds / 1000.0
