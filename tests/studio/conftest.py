from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scalesim.studio import StudioConfig, create_app
from scalesim.templates import get_template

Client = TestClient


@pytest.fixture(scope="session")
def breaker_spec() -> str:
    return get_template("circuit-breaker").build().text


def make_client(**settings: Any) -> TestClient:
    return TestClient(create_app(StudioConfig(**settings)))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture
def studio() -> Callable[..., TestClient]:
    """A client for a studio with other settings (entered; closed at the end)."""
    opened: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        c = make_client(**settings)
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def wait(client: TestClient, run_id: str, until: Callable[[dict[str, Any]], bool],
         timeout: float = 60.0) -> dict[str, Any]:
    """Poll a run until `until` holds (bounded in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if until(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not reach the state in {timeout} s: {state}")


def finished(state: dict[str, Any]) -> bool:
    return state["status"] not in ("queued", "running")


SLOW_OVERRIDE = ("simulation:\n  duration: 100000s\n  warmup: 0s\n  interval: 10s\n")


def slow_spec(spec: str) -> str:
    """The breaker template made to run for minutes: cancel it or let a limit stop it. Within
    the run budget (about 80 s estimated) and the studio's series limit (50,000 points)."""
    head, _, _ = spec.partition("simulation:")
    return head + SLOW_OVERRIDE
