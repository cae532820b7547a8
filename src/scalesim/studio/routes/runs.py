"""Runs: start (queued when the server is busy), read, cancel, follow as server-sent events,
and compare two finished runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator, Field

from scalesim.render.compare import deltas
from scalesim.studio import specs
from scalesim.studio.routes.deps import RunsDep, StoreDep
from scalesim.studio.runner import QueueFull
from scalesim.studio.store import NotFound

router = APIRouter(tags=["runs"])
EVENT_POLL_S = 0.1
KEEPALIVE_S = 15.0


def _digits(value: Any) -> Any:
    """A seed given as its decimal digits, as a browser must send one past 2⁵³ (JavaScript's
    numbers keep 53 bits: 9223372036854775807 would arrive as 9223372036854775808)."""
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() \
        else value


class RunRequest(BaseModel):
    spec: str = Field(description="the spec as YAML text")
    seed: Annotated[int | None, BeforeValidator(_digits)] = Field(
        None, ge=0, lt=2**63, strict=True,
        description="overrides simulation.seed: a whole number, or its digits as a string")
    design_id: str | None = Field(
        None, max_length=64,
        description="record the run under this saved design, as a run of one of its versions: "
                    "`spec` must be that version's spec, byte for byte (409 naming the first "
                    "line that differs)")
    version: int | None = Field(
        None, ge=1, lt=2**63, strict=True,
        description="the design's version it runs (needs design_id; omitted: the latest)")
    force: bool = Field(False, strict=True,
                        description="run even when it is estimated over the run budget or "
                                    "past the studio's wall-clock limit, as `scalesim "
                                    "simulate --force` does")


@router.post("/runs", status_code=202)
def start_run(body: RunRequest, runs: RunsDep, store: StoreDep) -> dict[str, Any]:
    """Validate the spec (400 with located errors), check what it would cost (422 with the
    estimate: over the run budget or past the wall-clock limit, naming each, unless
    `force`, or a result too large to keep), check
    that it is the spec of the design's version it names (404 for none, 409 for another
    spec), then queue the run: {id, status}."""
    system = specs.load(body.spec)
    if body.version is not None and body.design_id is None:
        raise HTTPException(400, "bad request: version: needs design_id, the design it is a "
                                 "version of")
    specs.check_run(system, body.force, runs.time_limit_s)
    try:
        run_id = runs.submit(body.spec, system.name, body.seed, body.design_id, body.version)
    except QueueFull as error:
        raise HTTPException(429, str(error)) from None
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    active = runs.active(run_id)
    return {"id": run_id, "status": active[0] if active is not None else _stored(store, run_id)
            ["status"]}


@router.get("/runs")
def list_runs(store: StoreDep, design_id: str | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Newest first, without results (their summary only)."""
    return store.list_runs(design_id, limit)


def _stored(store: Any, run_id: str, with_result: bool = True) -> dict[str, Any]:
    found: dict[str, Any] | None = store.get_run(run_id, with_result)
    if found is None:
        raise HTTPException(404, f"no run {run_id!r}")
    return found


def _state(runs: RunsDep, store: StoreDep, run_id: str, with_result: bool) -> dict[str, Any]:
    active = runs.active(run_id)
    if active is not None:
        stored = _stored(store, run_id, with_result=False)
        return {**stored, "status": active[0], "progress": active[1]}
    stored = _stored(store, run_id, with_result)
    stored["progress"] = 1.0 if stored["status"] == "done" else 0.0
    return stored


@router.get("/runs/{run_id}")
def get_run(run_id: str, runs: RunsDep, store: StoreDep,
            result: Annotated[bool, Query(
                description="false: leave the result out (its summary stays), for a "
                            "client that needs the run's state only")] = True
            ) -> dict[str, Any]:
    """{status: queued|running|done|failed|cancelled, progress, result?, error?, spec, ...}"""
    return _state(runs, store, run_id, with_result=result)


@router.delete("/runs/{run_id}")
def cancel_run(run_id: str, runs: RunsDep, store: StoreDep) -> dict[str, Any]:
    """Cancel a queued or running run (409 when it has finished already)."""
    stored = _stored(store, run_id, with_result=False)
    if not runs.cancel(run_id):
        raise HTTPException(409, f"run {run_id!r} has already finished ({stored['status']})")
    return _state(runs, store, run_id, with_result=False)


@router.get("/runs/{run_id}/events")
async def run_events(run_id: str, request: Request, runs: RunsDep,
                     store: StoreDep) -> StreamingResponse:
    """Server-sent events: `progress` {status, progress} whenever it changes, then one `end`
    {status, error} and the stream closes."""
    _stored(store, run_id, with_result=False)

    async def events() -> AsyncIterator[str]:
        last: tuple[str, float] | None = None
        quiet = 0.0
        while True:
            active = runs.active(run_id)
            if active is None:
                final = _stored(store, run_id, with_result=False)
                yield _event("end", {"status": final["status"], "error": final["error"],
                                     "progress": 1.0 if final["status"] == "done" else 0.0})
                return
            now = (active[0], round(active[1], 3))
            if now != last:
                last, quiet = now, 0.0
                yield _event("progress", {"status": now[0], "progress": now[1]})
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return
            await anyio.sleep(EVENT_POLL_S)
            quiet += EVENT_POLL_S

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/compare")
def compare(a: str, b: str, store: StoreDep) -> dict[str, Any]:
    """Deltas between two finished runs (B relative to A), each with better/worse/same, and
    the seeds the two drew from (their results' `seed`, the spec's when none was given) as
    decimal digits, which a JavaScript number past 2**53 would round."""
    first, second = _stored(store, a), _stored(store, b)
    for run in (first, second):
        if "result" not in run:
            raise HTTPException(409, f"run {run['id']!r} has no result ({run['status']})")
    return {"a": {k: v for k, v in first.items() if k != "result"},
            "b": {k: v for k, v in second.items() if k != "result"},
            "seeds": {"a": str(first["result"]["seed"]), "b": str(second["result"]["seed"])},
            "deltas": [d.to_json() for d in deltas(first["result"], second["result"])]}
