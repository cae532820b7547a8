"""Calls to other services as the spec configures them: per-attempt timeout, deadline,
retries with back-off, circuit breaker, bulkhead, the callee's connection pool, on_failure,
async and probability.

The order follows the simulator: each attempt is cut to what is left of the call's deadline
and of the caller's propagated deadline, asks the breaker, then the bulkhead, then the
connection pool; a bulkhead or pool refusal counts as a failure in the breaker (Resilience4j
records every exception). A retry is made only for a cause in `retry.on`, when the deadline
leaves time for its back-off (else the call fails with a timeout when the deadline comes, as
Envoy's route timeout does), and when the retry budget and the concurrent-retry cap allow it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

import httpx
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode

from dists import RNG, Distribution
from resilience import Backoff, Bulkhead, CircuitBreaker, RetryBudget
from telemetry import (
    ATTEMPTS,
    BREAKER_STATE,
    BULKHEAD_REJECTIONS,
    FAILURES,
    NOT_PERMITTED,
    POOL_OVERFLOWS,
    RETRIES,
    TRACER,
)

DEADLINE_HEADER = "x-scalesim-deadline-ms"
REQUEST_DEADLINE: ContextVar[float | None] = ContextVar("request_deadline", default=None)
BACKGROUND: set[asyncio.Task[None]] = set()  # async calls in flight, kept from the GC


def service_url(component: str, port: int, path: str = "") -> str:
    """<COMPONENT>_URL from the environment, else the component's local port; then `path`."""
    variable = component.upper().replace("-", "_") + "_URL"
    return os.environ.get(variable, f"http://localhost:{port}").rstrip("/") + path


def cause_of(status: int) -> str | None:
    """The failure cause an HTTP status stands for; None for success."""
    if status < 400:
        return None
    if status == 429:
        return "rate_limited"
    if status == 503:
        return "rejected"  # the callee's workers and queue were full
    return "error"


class Pool:
    """The connections this process keeps to one component it calls.

    `size` connections at most (None: any number). Without `pending`, `size` is the most
    calls the spec lets this service have in flight to that component at once, so the pool
    never limits on its own (httpx's default of 100 would). With `pending`, they are the
    component's connection_pool (Envoy's limits, per calling replica): calls beyond `size`
    wait, at most `pending` of them, and the others are refused as overflow.
    """

    def __init__(self, size: int | None, pending: int | None = None) -> None:
        self.limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self.gate = (
            None
            if pending is None or size is None
            else Bulkhead(size, max_wait=None, max_queue=pending)
        )


UNBOUNDED = Pool(None)


class Transport:
    """The process's HTTP clients, one per component it calls, open while the app runs."""

    def __init__(self) -> None:
        self.pools: dict[str, Pool] = {}
        self._clients: dict[str, httpx.AsyncClient] | None = None
        self._transport: httpx.AsyncBaseTransport | None = None

    @property
    def is_open(self) -> bool:
        return self._clients is not None

    def client(self, component: str) -> httpx.AsyncClient:
        if self._clients is None:
            raise RuntimeError("the HTTP clients are not open; is the app started?")
        client = self._clients.get(component)
        if client is None:
            # Timeouts come from the spec only; a transport given to open() (tests) has
            # its own limits.
            client = httpx.AsyncClient(
                timeout=None, limits=self.pool(component).limits, transport=self._transport
            )
            self._clients[component] = client
        return client

    def pool(self, component: str) -> Pool:
        return self.pools.get(component, UNBOUNDED)

    async def open(
        self,
        pools: Mapping[str, Pool] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.pools = dict(pools or {})
        self._clients = {}
        self._transport = transport

    async def close(self) -> None:
        clients, self._clients = self._clients or {}, None
        for client in clients.values():
            await client.aclose()


TRANSPORT = Transport()


class DependencyFailed(Exception):
    def __init__(self, dependency: str, cause: str) -> None:
        super().__init__(f"{dependency}: {cause}")
        self.dependency = dependency
        self.cause = cause


@dataclass(frozen=True)
class Retry:
    attempts: int  # every try, the first included
    backoff: Backoff
    on: frozenset[str]
    budget: RetryBudget | None = None
    max_concurrent: int | None = None


@dataclass(frozen=True)
class Fallback:
    """Answer without the dependency after `delay` (e.g. a default or a cached value)."""

    delay: Distribution


OnFailure = Literal["fail", "continue"] | Fallback


class Dependency:
    """One call of one operation to `target` (component.operation) at `url`.

    `mesh_routed` is False for a callee that the cluster reaches over its own TCP protocol
    (a database, cache or queue), for which a mesh has no request timeout or retries: under
    SCALESIM_RETRIES=mesh such a call keeps its own timeout and retries.
    """

    def __init__(
        self,
        operation: str,
        target: str,
        url: str,
        *,
        timeout: float | None = None,
        deadline: float | None = None,
        propagate_deadline: bool = False,
        retry: Retry | None = None,
        breaker: CircuitBreaker | None = None,
        bulkhead: Bulkhead | None = None,
        on_failure: OnFailure = "fail",
        fire_and_forget: bool = False,
        probability: float = 1.0,
        mesh_routed: bool = True,
    ) -> None:
        self.operation = operation
        self.target = target
        self.component = target.split(".", 1)[0]
        self.url = url
        self.timeout = timeout
        self.deadline = deadline
        self.propagate_deadline = propagate_deadline
        self.retry = retry
        self.breaker: CircuitBreaker | None = None
        self.bulkhead = bulkhead
        self.on_failure = on_failure
        self.fire_and_forget = fire_and_forget
        self.probability = probability
        self.mesh_routed = mesh_routed
        self.labels = (operation, target)
        self.retries_active = 0
        self.set_breaker(breaker)

    def set_breaker(self, breaker: CircuitBreaker | None) -> None:
        """Use `breaker` (None: none), its state exported as a gauge."""
        if self.breaker is not None:
            BREAKER_STATE.remove(*self.labels)
        self.breaker = breaker
        if breaker is not None:
            BREAKER_STATE.labels(*self.labels).set_function(lambda: breaker.state)

    async def run(self) -> None:
        """Make the call; raise DependencyFailed when it fails and on_failure is fail."""
        cause = await self.outcome()
        if cause is not None:
            raise DependencyFailed(self.target, cause)

    async def outcome(self) -> str | None:
        """None when the caller may go on: success, skipped by `probability`, sent in the
        background, or a failure that on_failure absorbs; else the failure's cause."""
        if self.probability < 1.0 and RNG.random() >= self.probability:
            return None
        if self.fire_and_forget:
            task = asyncio.create_task(self._detached())
            BACKGROUND.add(task)
            task.add_done_callback(BACKGROUND.discard)
            return None
        cause = await self.call()
        if cause is None or self.on_failure == "continue":
            return None
        if isinstance(self.on_failure, Fallback):
            await asyncio.sleep(self.on_failure.delay.sample(RNG))
            return None
        return cause

    async def call(self) -> str | None:
        """Every attempt the retry policy allows; the cause of the last failure, or None."""
        retry = self.retry
        deadline = None if self.deadline is None else time.monotonic() + self.deadline
        if retry is not None and retry.budget is not None:
            retry.budget.record_call()
        attempt, delay = 1, 0.0
        cause = await self._attempt(attempt, deadline)
        while (
            cause is not None
            and retry is not None
            and attempt < retry.attempts
            and cause in retry.on
        ):
            delay = retry.backoff.delay(attempt, delay, RNG)
            if deadline is not None and time.monotonic() + delay >= deadline:
                # the back-off runs into the deadline, which fails the call when it comes
                await asyncio.sleep(max(0.0, deadline - time.monotonic()))
                cause = "timeout"
                break
            if retry.budget is not None and not retry.budget.try_retry():
                break
            if retry.max_concurrent is not None and self.retries_active >= retry.max_concurrent:
                break
            RETRIES.labels(*self.labels).inc()
            attempt += 1
            self.retries_active += 1
            try:
                await asyncio.sleep(delay)
                cause = await self._attempt(attempt, deadline)
            finally:
                self.retries_active -= 1
        if cause is not None:
            FAILURES.labels(*self.labels, cause).inc()
        return cause

    async def _detached(self) -> None:
        REQUEST_DEADLINE.set(None)  # the caller does not wait, so its deadline does not apply
        await self.call()

    async def _attempt(self, attempt: int, deadline: float | None) -> str | None:
        ATTEMPTS.labels(*self.labels).inc()
        timeout = self._timeout(deadline)
        if timeout is not None and timeout <= 0.0:
            return "timeout"
        breaker = self.breaker
        if breaker is not None and not breaker.try_acquire():
            NOT_PERMITTED.labels(*self.labels).inc()
            return "circuit_open"
        started = time.monotonic()
        finished = False
        try:
            with TRACER.start_as_current_span(f"call {self.target}", kind=SpanKind.CLIENT) as span:
                span.set_attribute("scalesim.dependency", self.target)
                span.set_attribute("scalesim.attempt", attempt)
                cause = await self._send(timeout)
                finished = True
                if cause is not None:
                    span.set_attribute("scalesim.cause", cause)
                    span.set_status(StatusCode.ERROR, cause)
        finally:
            if breaker is not None and finished:
                breaker.record(cause is not None, time.monotonic() - started)
            elif breaker is not None:
                # Cancelled (parallel() no longer needs it, or the request went away): the
                # permit goes back unrecorded, or a half-open breaker would wait forever.
                breaker.release()
        return cause

    def _timeout(self, deadline: float | None) -> float | None:
        """The per-attempt timeout, cut to what is left of the call's and the request's
        deadlines."""
        timeout = self.timeout
        now = time.monotonic()
        for limit in (deadline, REQUEST_DEADLINE.get()):
            if limit is not None and (timeout is None or limit - now < timeout):
                timeout = limit - now
        return timeout

    async def _send(self, timeout: float | None) -> str | None:
        """One attempt through the bulkhead, then the component's connection pool;
        `timeout` bounds it all, the waits included."""
        headers: dict[str, str] = {}
        propagate.inject(headers)
        if self.propagate_deadline and timeout is not None:
            headers[DEADLINE_HEADER] = repr(round(timeout * 1000.0, 3))
        try:
            async with (
                asyncio.timeout(timeout),
                permit(self.bulkhead, "bulkhead_full"),
                permit(TRANSPORT.pool(self.component).gate, "overflow"),
            ):
                response = await TRANSPORT.client(self.component).post(
                    self.url, headers=headers, timeout=timeout
                )
        except Refused as refused:
            REFUSALS[refused.cause].labels(*self.labels).inc()
            return refused.cause
        except (TimeoutError, httpx.TimeoutException):
            return "timeout"
        except httpx.ConnectError:
            return "unavailable"
        except httpx.TransportError:
            return "crashed"  # the connection broke without an answer
        return cause_of(response.status_code)


class Refused(Exception):
    """A gate on the way out (bulkhead, connection pool) refused the attempt."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


REFUSALS = {"bulkhead_full": BULKHEAD_REJECTIONS, "overflow": POOL_OVERFLOWS}


@asynccontextmanager
async def permit(gate: Bulkhead | None, cause: str) -> AsyncIterator[None]:
    """Hold one of the gate's permits for the block (none needed without a gate); raise
    Refused(cause) when the gate refuses."""
    if gate is None:
        yield
        return
    if not await gate.acquire():
        raise Refused(cause)
    try:
        yield
    finally:
        gate.release()


async def parallel(need: int, *branches: Dependency) -> None:
    """Run the branches at once and go on when `need` succeeded; fail as soon as that can no
    longer happen. Branches still running then are cancelled."""
    pending = {asyncio.ensure_future(branch.outcome()): branch for branch in branches}
    succeeded = failed = 0
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                branch = pending.pop(task)
                cause = task.result()
                if cause is None:
                    succeeded += 1
                    if succeeded >= need:
                        return
                else:
                    failed += 1
                    if failed > len(branches) - need:
                        raise DependencyFailed(branch.target, cause)
    finally:
        for task in pending:
            task.cancel()
