"""The studio on PostgreSQL (docs/studio.md: `--db postgresql+psycopg://…`): designs,
versions, a run and its result, the cascade on delete, and interrupted runs on restart, on a
real server: the database SCALESIM_TEST_PG names (which the test empties), e.g.
postgresql+psycopg://scalesim@localhost/scalesim_test, or else a throwaway server of its
own (tests/studio/postgres_server.py). SQLite runs the same API in every other studio test.
CI sets SCALESIM_REQUIRE_PG, which turns a missing server or driver into a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from tests.studio.conftest import finished, make_client, wait
from tests.studio.postgres_server import throwaway_server, unavailable

from scalesim.studio.store import Base, Store

URL = os.environ.get("SCALESIM_TEST_PG", "")
WHY_NOT = None if URL else unavailable()
if WHY_NOT is not None and os.environ.get("SCALESIM_REQUIRE_PG"):
    raise RuntimeError(f"SCALESIM_REQUIRE_PG is set, but PostgreSQL cannot be tested: {WHY_NOT}")
pytestmark = pytest.mark.skipif(
    WHY_NOT is not None, reason=f"PostgreSQL not tested: {WHY_NOT} (or set SCALESIM_TEST_PG "
                                "to a SQLAlchemy URL of a database the test may empty)")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if URL:
        yield URL
        return
    with throwaway_server() as url:
        yield url


@pytest.fixture
def pg(server: str) -> Iterator[str]:
    engine = create_engine(server)
    Base.metadata.drop_all(engine)
    engine.dispose()
    yield server
    engine = create_engine(server)
    Base.metadata.drop_all(engine)
    engine.dispose()


def test_designs_runs_and_results_round_trip(pg: str, breaker_spec: str) -> None:
    with make_client(db_url=pg) as client:
        assert client.get("/api/health").json()["database"] == "postgresql"
        design = client.post("/api/designs", json={"name": "shop", "spec": breaker_spec,
                                                   "layout": {"checkout": {"x": 1, "y": 2}}})
        assert design.status_code == 201
        design_id = design.json()["id"]
        changed = breaker_spec.replace("replicas: 2", "replicas: 3")
        assert client.put(f"/api/designs/{design_id}", json={"spec": changed}).json()[
            "version"] == 2
        assert client.get(f"/api/designs/{design_id}/versions/1").json()["spec"] == breaker_spec
        run = client.post("/api/runs", json={"spec": changed, "seed": 3, "design_id": design_id,
                                             "version": 2}).json()
        state = wait(client, run["id"], finished)
        assert state["status"] == "done"
    with make_client() as sqlite:  # the same spec and seed on SQLite: the same result
        other = sqlite.post("/api/runs", json={"spec": changed, "seed": 3}).json()
        assert wait(sqlite, other["id"], finished)["result"] == state["result"]
    with make_client(db_url=pg) as client:  # a new server on the same database
        assert client.get(f"/api/runs/{run['id']}").json()["result"] == state["result"]
        assert [r["id"] for r in client.get(f"/api/designs/{design_id}/runs").json()] == \
            [run["id"]]
        assert client.delete(f"/api/designs/{design_id}").status_code == 204
        assert client.get(f"/api/designs/{design_id}").status_code == 404


def test_runs_left_running_are_interrupted_on_restart(pg: str, breaker_spec: str) -> None:
    store = Store(pg)
    run_id = store.create_run("circuit-breaker", breaker_spec, None, None, None)
    store.set_status(run_id, "running")
    store.engine.dispose()
    with make_client(db_url=pg) as client:
        state = client.get(f"/api/runs/{run_id}").json()
        assert state["status"] == "failed" and "interrupted" in state["error"]

