"""The service's app: what starts and stops with it, and the endpoints every service has
(/health, /ready, /metrics; /chaos when SCALESIM_CHAOS=1).

At startup it applies the settings file (SCALESIM_SETTINGS, see settings.py), gives each
component it calls a connection pool large enough for every call the settings allow at once
(or that component's connection_pool), opens the HTTP clients and starts a queue's
deliveries; at shutdown it stops them in the reverse order.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from downstream import TRANSPORT, Dependency, Pool
from server import CHAOS, Faults, Operation
from settings import VARIABLE, Deliveries, Settings
from telemetry import REGISTRY, start_tracing


def create_app(
    service: str,
    operations: Sequence[Operation],
    *,
    calls: Sequence[Dependency] = (),
    miss: Dependency | None = None,
    subscriptions: Sequence[Deliveries] = (),
    connection_pools: Mapping[str, Pool] | None = None,
) -> FastAPI:
    """The app of `service`: its operations, its calls in the spec's order, a cache's call
    on a miss, a queue's subscriptions, and the pools of the components it calls that have
    a connection_pool."""
    settings = Settings(operations, calls, miss, subscriptions)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.apply_file(os.environ.get(VARIABLE))
        provider = start_tracing(service)
        every_call = [*calls, *([miss] if miss is not None else [])]
        pools = sized_pools(operations, every_call, subscriptions)
        await TRANSPORT.open({**pools, **(connection_pools or {})})
        jobs = [asyncio.create_task(subscription.deliver()) for subscription in subscriptions]
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await TRANSPORT.close()
            provider.shutdown()

    app = FastAPI(title=service, lifespan=lifespan)
    app.state.settings = settings
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/ready", ready, methods=["GET"])
    app.add_api_route("/metrics", metrics, methods=["GET"])
    if os.environ.get("SCALESIM_CHAOS") == "1":
        app.add_api_route("/chaos", chaos, methods=["POST"])
    return app


def sized_pools(
    operations: Sequence[Operation],
    calls: Sequence[Dependency],
    subscriptions: Sequence[Deliveries] = (),
) -> dict[str, Pool]:
    """A pool per component called, with room for every call in flight at once: one per
    worker holding its request (blocking io) at each call site, fewer with a bulkhead, one
    per delivery worker of a subscription; no bound when nothing bounds them (async calls,
    nonblocking io or unlimited workers, without a bulkhead)."""
    by_name = {operation.name: operation for operation in operations}
    bounds: defaultdict[str, list[int | None]] = defaultdict(list)
    for call in calls:
        operation = by_name[call.operation]
        workers = operation.workers
        holding = workers.limit if workers is not None and operation.blocking else None
        gate = call.bulkhead.limit if call.bulkhead is not None else None
        if call.fire_and_forget or holding is None:
            bounds[call.component].append(gate)
        else:
            bounds[call.component].append(holding if gate is None else min(gate, holding))
    for subscription in subscriptions:
        bounds[subscription.consumer.component].append(subscription.concurrency)
    return {
        component: Pool(None if None in sizes else sum(size or 0 for size in sizes))
        for component, sizes in bounds.items()
    }


async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


async def ready() -> Response:
    """Readiness: started, with its HTTP clients open."""
    if TRANSPORT.is_open:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "starting"}, status_code=503)


async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def chaos(faults: Faults) -> Faults:
    """Set the injected faults (for chaos tests); zeros switch them off."""
    CHAOS.error_rate = faults.error_rate
    CHAOS.latency = faults.latency
    return CHAOS
