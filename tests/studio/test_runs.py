"""Runs in worker processes: at most N at once with the rest queued, cancel, the wall-clock
limit, and the event stream."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.studio.conftest import finished, slow_spec, wait


def test_at_most_n_run_at_once_and_the_rest_wait(studio: Callable[..., TestClient],
                                                  breaker_spec: str) -> None:
    client = studio(max_concurrent_runs=1)
    slow = slow_spec(breaker_spec)
    first = client.post("/api/runs", json={"spec": slow}).json()["id"]
    second = client.post("/api/runs", json={"spec": breaker_spec}).json()["id"]
    wait(client, first, lambda s: s["status"] == "running")
    assert client.get(f"/api/runs/{second}").json()["status"] == "queued"
    assert client.get("/api/health").json()["runs"] == {"running": 1, "queued": 1, "limit": 1}
    cancelled = client.delete(f"/api/runs/{first}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    done = wait(client, second, finished)
    assert done["status"] == "done" and done["result"]["latency_ms"]["p99"] > 0
    assert client.get(f"/api/runs/{first}").json()["error"] == "cancelled by the user"


def test_cancel_a_queued_run_and_a_finished_one(studio: Callable[..., TestClient],
                                                breaker_spec: str) -> None:
    client = studio(max_concurrent_runs=1)
    slow = slow_spec(breaker_spec)
    running = client.post("/api/runs", json={"spec": slow}).json()["id"]
    waiting = client.post("/api/runs", json={"spec": slow}).json()["id"]
    assert client.delete(f"/api/runs/{waiting}").json()["status"] == "cancelled"
    assert client.delete(f"/api/runs/{running}").json()["status"] == "cancelled"
    again = client.delete(f"/api/runs/{running}")
    assert again.status_code == 409 and "already finished" in again.json()["error"]
    assert client.get("/api/health").json()["runs"]["running"] == 0


def test_the_queue_is_bounded(studio: Callable[..., TestClient], breaker_spec: str) -> None:
    client = studio(max_concurrent_runs=1, max_queued_runs=1)
    slow = slow_spec(breaker_spec)
    ids = [client.post("/api/runs", json={"spec": slow}).json()["id"] for _ in range(2)]
    refused = client.post("/api/runs", json={"spec": slow})
    assert refused.status_code == 429 and "waiting" in refused.json()["error"]
    for run_id in reversed(ids):
        client.delete(f"/api/runs/{run_id}")


def test_wall_clock_limit_stops_a_run(studio: Callable[..., TestClient], breaker_spec: str) -> None:
    client = studio(run_time_limit_s=1.0)
    # forced: estimated past the limit, the run is refused up front otherwise
    run_id = client.post("/api/runs", json={"spec": slow_spec(breaker_spec),
                                            "force": True}).json()["id"]
    state = wait(client, run_id, finished, timeout=30)
    assert state["status"] == "failed"
    assert "wall-clock limit of 1 s" in state["error"]


def test_safety_limit_is_a_failed_run_with_the_reason(client: TestClient,
                                                      breaker_spec: str) -> None:
    spec = slow_spec(breaker_spec) + "  limits: {max_events: 1000}\n"
    # forced: the estimate is past max_events, which refuses the run up front otherwise
    run_id = client.post("/api/runs", json={"spec": spec, "force": True}).json()["id"]
    state = wait(client, run_id, finished)
    assert state["status"] == "failed"
    assert "simulation.limits.max_events" in state["error"]


def test_events_stream_progress_then_end(studio: Callable[..., TestClient],
                                         breaker_spec: str) -> None:
    # long enough for the worker to start and report several times on a loaded machine
    client = studio(run_time_limit_s=5.0)
    run_id = client.post("/api/runs", json={"spec": slow_spec(breaker_spec),
                                            "force": True}).json()["id"]
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in stream.iter_lines() if line]
    names = [line.split(": ", 1)[1] for line in lines if line.startswith("event:")]
    data = [line.split(": ", 1)[1] for line in lines if line.startswith("data:")]
    assert names[0] == "progress" and names[-1] == "end"
    assert names.count("progress") >= 2, "progress is streamed while the run goes on"
    assert '"status": "failed"' in data[-1]
