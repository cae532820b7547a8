"""The API against bad input and bad timing: text JSON allows but UTF-8 cannot carry, numbers
JSON does not have, integers SQL cannot store, saves and deletes of one design at the same
moment, runs over the budget or with results too large to keep, and what a 500 does to the
client's connection. Each answer is a 4xx naming the field, with nothing half-written."""

from __future__ import annotations

import http.client
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState
from tests.studio.conftest import finished, make_client, slow_spec, wait

from scalesim.budget import estimate
from scalesim.spec import load_spec_text
from scalesim.studio import StudioConfig, create_app, specs
from scalesim.studio.config import MAX_SERIES_POINTS
from scalesim.studio.specs import FORCE
from scalesim.studio.store import Design, Store, Version
from scalesim.templates import get_template

JSON = {"Content-Type": "application/json"}


def raw(client: TestClient, method: str, route: str, body: str | bytes) -> Any:
    """Send the body as written (escapes such as \\ud800 reach the server unchanged)."""
    data = body.encode() if isinstance(body, str) else body
    return client.request(method, route, content=data, headers=JSON)


# -- 1 and 10: lone surrogates, NaN and Infinity ------------------------------------------------

@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client that sees a server's failure as a 500, and a server that does not log it:
    the failure's text may hold the lone surrogate, which pytest-xdist cannot send back from
    its worker, so that a regression would stop the test run instead of failing a test."""
    monkeypatch.setattr(logging.getLogger("scalesim.studio"), "disabled", True)
    with TestClient(create_app(StudioConfig()), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(("route", "body", "field"), [
    ("/api/designs", r'{"name": "s", "spec": "", "layout": {"k": "\ud800"}}', "layout.k"),
    ("/api/designs", r'{"name": "s", "spec": "", "layout": {"\udc00": 1}}', "layout: a key"),
    ("/api/designs", r'{"name": "ok", "spec": "\udc80"}', "spec"),
    ("/api/designs", r'{"name": "\ud800", "spec": ""}', "name"),
    ("/api/validate", r'{"spec": "a: \ud800"}', "spec"),
    ("/api/runs", r'{"spec": "\udc00"}', "spec"),
    ("/api/generate", r'{"spec": "x", "targets": ["k8s"], "namespace": "a\udfff"}', "namespace"),
    ("/api/templates/circuit-breaker/spec", r'{"params": {"rps": "\ud800"}}', "params.rps"),
    ("/api/designs", '{"name": "nan", "spec": "", "layout": {"x": NaN}}', "layout.x: NaN"),
    ("/api/designs", '{"name": "i", "spec": "", "layout": {"a": [1, -Infinity]}}',
     "layout.a.1: -Infinity"),
    ("/api/designs", '{"name": "big", "spec": "", "layout": {"x": 1e400}}', "layout.x: 1e400"),
    ("/api/runs", '{"spec": "x", "seed": Infinity}', "seed: Infinity"),
])
def test_text_and_numbers_json_cannot_carry_are_400_naming_the_field(
        lenient: TestClient, route: str, body: str, field: str) -> None:
    response = raw(lenient, "POST", route, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(f"bad request: {field}"), error
    assert "surrogate" in error or "JSON" in error or "too large" in error
    assert lenient.get("/api/designs").json() == [], "nothing is stored"


@pytest.mark.parametrize("route", ["/api/validate", "/api/runs", "/api/generate"])
def test_a_spec_whose_yaml_spells_a_lone_surrogate_is_a_located_error(
        lenient: TestClient, route: str) -> None:
    """The spec's text is UTF-8, but its YAML escape "\\ud800" was read as a lone surrogate,
    which the validation passed and generating then failed on (a 500)."""
    text = 'scalesim: 1\nname: s\ndescription: "a\\ud800"\ncomponents:\n  api:\n' \
           '    operations: {get: {work: 1ms}}\nworkloads: [{name: w, to: api.get, rate: 1/s}]\n'
    response = lenient.post(route, json={"spec": text, "targets": ["k8s"]})
    errors = response.json()["errors"]
    assert response.status_code == (200 if route == "/api/validate" else 400), response.text
    assert errors == [{"line": 3, "column": 1, "path": "description", "message":
                       "not valid Unicode text: a lone UTF-16 surrogate (\\ud800) at "
                       "character 1"}]


def test_a_save_with_a_lone_surrogate_adds_no_version(lenient: TestClient) -> None:
    design = lenient.post("/api/designs", json={"name": "d", "spec": "a: 1"}).json()
    route = f"/api/designs/{design['id']}"
    for body in (r'{"layout": {"k": "\ud800"}}', r'{"spec": "a: \ud800"}',
                 '{"layout": {"x": NaN}}', r'{"name": "x\udbff"}'):
        assert raw(lenient, "PUT", route, body).status_code == 400
    again = lenient.get(route).json()
    assert again["version"] == 1 and again["name"] == "d" and again["layout"] == {}
    assert lenient.post(f"{route}/duplicate").status_code == 201


def test_the_store_refuses_what_it_could_not_send_back(tmp_path: Path) -> None:
    """Behind the HTTP guard: a write whose answer could not be serialised is refused before
    its commit (no design is half-written), and a layout stored by an older studio that did
    not refuse them is sent empty instead of failing every read."""
    store = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    for layout in ({"k": "\ud800"}, {"x": float("nan")}, {"x": float("inf")}):
        with pytest.raises(ValueError, match="layout"):
            store.create_design("d", "", layout)
    with pytest.raises(ValueError, match="spec: not valid Unicode"):
        store.create_design("d", "\udc00", {})
    assert store.list_designs() == []
    design = store.create_design("old", "a: 1", {})
    with store.session() as s:  # what a studio without the checks stored
        s.add(Version(design_id=design["id"], number=2, spec="a: 2",
                      layout=json.dumps({"k": "\ud800", "x": float("nan")})))
    assert store.get_design(design["id"])["layout"] == {}
    assert store.get_version(design["id"], 2)["layout"] == {}
    assert json.dumps(store.duplicate_design(design["id"])).encode()


# -- 12: messages for bodies that are not JSON, names that are blank ----------------------------

def test_bodies_that_are_not_json_say_why_and_where(client: TestClient) -> None:
    not_utf8 = raw(client, "POST", "/api/validate", b'{"spec": "\xff\xfe"}')
    assert not_utf8.status_code == 400
    assert not_utf8.json()["error"] == ("bad request: the body is not UTF-8 text: byte 0xff at "
                                        "byte offset 10 (JSON is sent as UTF-8)")
    malformed = raw(client, "POST", "/api/validate", '{"spec": "x" "y"}')
    assert malformed.status_code == 400
    assert malformed.json()["error"] == ("bad request: the body is not valid JSON: Expecting ',' "
                                         "delimiter at line 1, column 14 (character 13 of the "
                                         "body)")
    deep = raw(client, "POST", "/api/designs",
               '{"name": "d", "spec": "", "layout": ' + "[" * 5000 + "]" * 5000 + "}")
    assert deep.status_code == 400 and "nested too deeply" in deep.json()["error"]
    digits = raw(client, "POST", "/api/runs", '{"spec": "x", "seed": ' + "9" * 5000 + "}")
    assert digits.status_code == 400 and digits.json()["error"].startswith("bad request: ")
    with_bom = raw(client, "POST", "/api/validate", b"\xef\xbb\xbf" + b'{"spec": "a: 1"}')
    assert with_bom.status_code == 200


@pytest.mark.parametrize("name", ["   ", "\t\n", "\u3000"])
def test_blank_design_names_are_refused(client: TestClient, name: str) -> None:
    created = client.post("/api/designs", json={"name": name, "spec": ""})
    assert created.status_code == 400 and created.json()["error"].startswith("bad request: name")
    design = client.post("/api/designs", json={"name": "d", "spec": ""}).json()
    renamed = client.put(f"/api/designs/{design['id']}", json={"name": name})
    assert renamed.status_code == 400
    assert client.get(f"/api/designs/{design['id']}").json()["name"] == "d"


# A seed may come as its digits ("7": test_api, for seeds past JavaScript's 2^53), not as
# any other text
@pytest.mark.parametrize("body", [{"seed": "7.0"}, {"seed": True}, {"seed": 1.5},
                                  {"force": "yes"}, {"version": True, "design_id": "x"}])
def test_run_numbers_and_flags_are_not_coerced(client: TestClient, breaker_spec: str,
                                               body: dict[str, Any]) -> None:
    response = client.post("/api/runs", json={"spec": breaker_spec, **body})
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"bad request: {next(iter(body))}")


# -- 4: integers SQL cannot store -------------------------------------------------------------

def test_integers_too_large_for_sql_are_400_naming_the_field(client: TestClient,
                                                             breaker_spec: str) -> None:
    design = client.post("/api/designs", json={"name": "d", "spec": breaker_spec}).json()
    for number in ("99999999999999999999999", str(2**63), "0"):
        response = client.get(f"/api/designs/{design['id']}/versions/{number}")
        assert response.status_code == 400, number
        assert response.json()["error"].startswith("bad request: number: Input should be")
    assert client.get(f"/api/designs/{design['id']}/versions/{2**63 - 1}").status_code == 404
    run = client.post("/api/runs", json={"spec": breaker_spec, "design_id": design["id"],
                                         "version": 2**70})
    assert run.status_code == 400 and run.json()["error"].startswith("bad request: version")
    put = client.put(f"/api/designs/{design['id']}", json={"spec": "a: 1", "base_version": 2**64})
    assert put.status_code == 400 and "base_version" in put.json()["error"]


# -- 8: runs of versions that do not exist --------------------------------------------------------

def test_runs_name_a_design_version_that_exists(client: TestClient, breaker_spec: str) -> None:
    design = client.post("/api/designs", json={"name": "d", "spec": breaker_spec}).json()
    missing = client.post("/api/runs", json={"spec": breaker_spec, "design_id": design["id"],
                                             "version": 999})
    assert missing.status_code == 404
    assert missing.json()["error"] == f"design {design['id']!r} has no version 999"
    alone = client.post("/api/runs", json={"spec": breaker_spec, "version": 5})
    assert alone.status_code == 400 and alone.json()["error"].startswith("bad request: version")
    assert client.get("/api/runs").json() == []
    ok = client.post("/api/runs", json={"spec": breaker_spec, "design_id": design["id"],
                                        "version": 1})
    assert ok.status_code == 202
    wait(client, ok.json()["id"], finished)


# -- 5 and 6: runs over the budget, results too large to keep --------------------------------------

def _longer(template: str, **simulation: str) -> str:
    head, _, _ = get_template(template).build().text.partition("simulation:")
    return head + "simulation:\n" + "".join(f"  {k}: {v}\n" for k, v in simulation.items())


def test_a_run_over_the_budget_is_refused_with_the_clis_estimate(
        studio: Callable[..., TestClient]) -> None:
    """Over the 10 min budget (about 14 min) and within a studio's 1 h limit: the command
    line's refusal, word for word."""
    client = studio(run_time_limit_s=3600.0)
    spec = _longer("load-balanced-service", duration="4000s")
    expected = estimate(load_spec_text(spec, "spec.yaml"))
    assert expected.over and 600 < expected.wall_s < 3600
    refused = client.post("/api/runs", json={"spec": spec})
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "refused: " + expected.refusal(FORCE)
    assert body["error"].startswith("refused: this run is estimated at ")
    assert "over the 10 min budget" in body["error"] and body["cost"]["over_budget"]
    assert "wall-clock limit" not in body["error"] and not body["cost"]["over_time_limit"]
    assert body["can_force"] is True
    assert body["cost"]["wall_s"] > body["cost"]["budget_s"] == 600
    assert client.get("/api/runs").json() == [], "nothing is queued"
    checked = client.post("/api/validate", json={"spec": spec}).json()
    assert checked["valid"] and checked["cost"]["over_budget"]
    [finding] = [f for f in checked["findings"] if f["rule"] == "RUN"]
    assert finding["name"] == "over-budget" and finding["severity"] == "warning"
    assert finding["message"] == "a run would be refused: " + expected.refusal(FORCE)
    assert finding["path"] == "simulation.duration" and finding["line"] > 1
    forced = client.post("/api/runs", json={"spec": spec, "force": True})
    assert forced.status_code == 202
    assert client.delete(f"/api/runs/{forced.json()['id']}").json()["status"] == "cancelled"


@pytest.mark.parametrize(("simulation", "budget_says", "budget_fix"), [
    ({"duration": "4000s"}, ", over the 10 min budget;",
     "For the wall time: shorten simulation.duration or simulation.warmup, or lower the rate."),
    ({"duration": "2000s", "limits": "{max_events: 1000}"},
     "past simulation.limits.max_events (1,000), where it would stop",
     "For max_events: raise simulation.limits.max_events above 409,600,000, "),
], ids=["wall-time", "max-events"])
def test_a_run_over_the_budget_and_past_the_wall_clock_limit_names_both(
        client: TestClient, simulation: dict[str, str], budget_says: str, budget_fix: str
        ) -> None:
    """Over the budget (on wall time, or on max_events alone) and past the studio's 300 s
    limit: the refusal says both and what moves each, so that following the budget's advice
    alone is not refused again, nor a forced run stopped unannounced; one "force" lifts both
    (QA: the studio said only the budget's)."""
    spec = _longer("load-balanced-service", **simulation)
    refused = client.post("/api/runs", json={"spec": spec})
    assert refused.status_code == 422 and refused.json()["can_force"] is True
    error, cost = refused.json()["error"], refused.json()["cost"]
    assert cost["over_budget"] and cost["over_time_limit"]
    assert budget_says in error and budget_fix in error
    assert "past the studio's wall-clock limit of 300 s, where the run would be stopped " \
           "with no result" in error
    assert "For the studio's wall-clock limit: shorten simulation.duration to 1400s or " \
           "less." in error
    assert error.endswith(f" Or {FORCE}.") and error.count(FORCE) == 1
    assert client.get("/api/runs").json() == [], "nothing is queued"
    [finding] = [f for f in client.post("/api/validate", json={"spec": spec}).json()["findings"]
                 if f["rule"] == "RUN"]
    assert finding["name"] == "over-budget" and finding["path"] == "simulation.duration"
    assert finding["message"] == "a run would be refused: " + error.removeprefix("refused: ")
    forced = client.post("/api/runs", json={"spec": spec, "force": True})
    assert forced.status_code == 202
    client.delete(f"/api/runs/{forced.json()['id']}")


def test_a_run_the_wall_clock_limit_would_stop_asks_first(client: TestClient) -> None:
    """Within the 10 min budget but past the studio's 300 s limit (QA: 2000 s of the
    load-balanced service, about 410 s): refused up front with the estimate, the limit and
    the longest duration within it, which itself runs without a warning."""
    spec = _longer("load-balanced-service", duration="2000s")
    expected = estimate(load_spec_text(spec, "spec.yaml"))
    assert not expected.over and expected.wall_s > 300
    refused = client.post("/api/runs", json={"spec": spec})
    assert refused.status_code == 422 and refused.json()["can_force"] is True
    error = refused.json()["error"]
    assert error.startswith(f"refused: {expected.summary}: about 7 min "
                            f"({expected.wall_s:,.0f} s), past the studio's wall-clock limit "
                            "of 300 s, where the run would be stopped with no result. ")
    assert error.endswith("Shorten simulation.duration to 1400s or less, or " + FORCE + ".")
    cost = refused.json()["cost"]
    assert cost["time_limit_s"] == 300 and cost["over_time_limit"] and not cost["over_budget"]
    assert client.get("/api/runs").json() == [], "nothing is queued"
    [finding] = [f for f in client.post("/api/validate", json={"spec": spec}).json()["findings"]
                 if f["rule"] == "RUN"]
    assert finding["name"] == "over-time-limit" and finding["path"] == "simulation.duration"
    assert finding["message"] == "a run would be refused: " + error.removeprefix("refused: ")
    within = client.post("/api/validate", json={"spec": _longer(
        "load-balanced-service", duration="1400s")}).json()
    assert not any(f["rule"] == "RUN" for f in within["findings"])
    assert not within["cost"]["over_time_limit"]
    forced = client.post("/api/runs", json={"spec": spec, "force": True})
    assert forced.status_code == 202
    assert client.delete(f"/api/runs/{forced.json()['id']}").json()["status"] == "cancelled"


def test_a_result_too_large_names_the_budget_it_is_over_too(client: TestClient) -> None:
    """Too large to keep and over max_events: both, so that raising the interval does not
    meet a second refusal; forcing lifts the budget's, never the size's."""
    spec = _longer("circuit-breaker", duration="20000s", interval="0.1s", warmup="5s",
                   limits="{max_events: 1000}")
    refused = client.post("/api/runs", json={"spec": spec})
    assert refused.status_code == 422 and refused.json()["can_force"] is False
    error = refused.json()["error"]
    assert error.startswith("refused: this run's time series would have 200,000 intervals")
    assert ". Even with a result the studio keeps, " in error
    assert "past simulation.limits.max_events (1,000), where it would stop" in error
    forced = client.post("/api/runs", json={"spec": spec, "force": True}).json()["error"]
    assert "Even with a result" not in forced and "max_events" not in forced


def test_within_the_budget_validate_gives_the_estimate_and_no_finding(
        client: TestClient, breaker_spec: str) -> None:
    checked = client.post("/api/validate", json={"spec": breaker_spec}).json()
    assert not any(f["rule"] == "RUN" for f in checked["findings"])
    cost = checked["cost"]
    assert not cost["over_budget"] and cost["series_points"] == 150 and cost["events"] > 0


def test_a_run_whose_series_the_studio_would_not_keep_is_refused(client: TestClient) -> None:
    spec = _longer("circuit-breaker", duration="20000s", interval="0.1s", warmup="5s")
    for force in (False, True):  # force overrides the budget, not the studio's storage
        refused = client.post("/api/runs", json={"spec": spec, "force": force})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error.startswith("refused: this run's time series would have 200,000 intervals "
                                "× 5 series = 1,000,000 points, about 60 MB of result")
        assert f"at most {MAX_SERIES_POINTS:,} points" in error
        assert "Raise simulation.interval to at least 1s" in error
        assert refused.json()["can_force"] is False
    assert client.get("/api/runs").json() == []
    finding = [f for f in client.post("/api/validate", json={"spec": spec}).json()["findings"]
               if f["rule"] == "RUN"]
    assert [f["name"] for f in finding] == ["result-too-large"]
    at_limit = _longer("circuit-breaker", duration="2000s", interval="0.1s", warmup="5s")
    started = client.post("/api/runs", json={"spec": at_limit})  # 20,000 × 5: kept
    assert started.status_code == 202
    client.delete(f"/api/runs/{started.json()['id']}")


# -- 9: runs stopped by the server ---------------------------------------------------------------

def test_runs_stopped_by_the_server_say_so(breaker_spec: str) -> None:
    client = make_client(max_concurrent_runs=1)
    with client:
        running = client.post("/api/runs", json={"spec": slow_spec(breaker_spec)}).json()["id"]
        queued = client.post("/api/runs", json={"spec": breaker_spec}).json()["id"]
        wait(client, running, lambda s: s["status"] == "running")
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    for run_id in (running, queued):
        run = store.get_run(run_id, with_result=False)
        assert run is not None
        assert (run["status"], run["error"]) == ("cancelled", "the studio stopped")


# -- 7: a 500 leaves the connection usable -------------------------------------------------------

@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A real server on a free loopback port, whose /api/validate fails unexpectedly."""
    import scalesim.studio.specs as specs

    def broken(_: str) -> None:
        raise RuntimeError("an unexpected failure")

    monkeypatch.setattr(specs, "validate", broken)
    server = uvicorn.Server(uvicorn.Config(create_app(StudioConfig()), host="127.0.0.1",
                                           port=0, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=20)


def test_after_a_500_the_next_request_on_the_connection_is_answered(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=20)
    try:
        connection.request("POST", "/api/validate", body=b'{"spec": "x"}', headers=JSON)
        failed = connection.getresponse()
        assert failed.status == 500
        assert json.loads(failed.read())["error"].startswith("internal error")
        connection.request("GET", "/api/health")  # the same connection, kept alive
        health = connection.getresponse()
        assert health.status == 200 and json.loads(health.read())["status"] == "ok"
    finally:
        connection.close()


# -- 2 and 3: saves and deletes at the same moment -------------------------------------------------

@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[TestClient]:
    """A studio on an SQLite file, so that another connection can change the database in the
    middle of a request, as a request on another thread would."""
    with make_client(db_url=f"sqlite:///{tmp_path / 'studio.db'}") as client:
        yield client


def _store(client: TestClient) -> Store:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    return store


def meanwhile(store: Store, sql: str, when: str = "before_flush",
              only: Callable[[ORMExecuteState], bool] | None = None) -> list[int]:
    """Run `sql` on another connection once, inside the next request's transaction: just
    before it writes (`before_flush`) or just before a query `only` picks (`do_orm_execute`).
    Returns a list that gets a 1 when it ran."""
    ran: list[int] = []

    def interfere(*args: Any) -> None:
        if ran or (only is not None and not only(args[0])):
            return
        ran.append(1)
        with store.engine.connect() as other:
            other.execute(text(sql))
            other.commit()

    event.listen(store._sessions, when, interfere)
    return ran


def test_two_saves_at_once_get_two_version_numbers(on_disk: TestClient) -> None:
    design = on_disk.post("/api/designs", json={"name": "d", "spec": "a: 1"}).json()
    store = _store(on_disk)
    # another save takes version 2 between this one reading the latest version and writing
    ran = meanwhile(store, "INSERT INTO versions (design_id, number, spec, layout, created_at) "
                           f"VALUES ('{design['id']}', 2, 'a: other', '{{}}', "
                           "'2026-01-01 00:00:00')")
    saved = on_disk.put(f"/api/designs/{design['id']}", json={"spec": "a: 2"})
    assert ran and saved.status_code == 200
    assert saved.json()["version"] == 3 and saved.json()["spec"] == "a: 2"
    assert [v["number"] for v in saved.json()["versions"]] == [1, 2, 3]
    assert on_disk.get(f"/api/designs/{design['id']}/versions/2").json()["spec"] == "a: other"


def test_a_save_from_an_older_version_is_a_conflict(on_disk: TestClient) -> None:
    design = on_disk.post("/api/designs", json={"name": "d", "spec": "a: 1"}).json()
    route = f"/api/designs/{design['id']}"
    assert on_disk.put(route, json={"spec": "a: 2", "base_version": 1}).json()["version"] == 2
    stale = on_disk.put(route, json={"spec": "a: mine", "base_version": 1})
    assert stale.status_code == 409
    assert stale.json() == {"error": "design 'd' was changed by another save: it is at version "
                                     "2, and this save started from version 1", "version": 2}
    assert on_disk.put(route, json={"spec": "a: 2", "base_version": 1}).status_code == 200, \
        "a save that changes nothing is no conflict"
    assert on_disk.put(route, json={"spec": "a: mine", "base_version": 2}).json()["version"] == 3
    assert on_disk.put(route, json={"spec": "a: 4"}).json()["version"] == 4, \
        "without base_version a save is added after the latest"
    # the other save lands between this one's read and its write
    ran = meanwhile(_store(on_disk), "INSERT INTO versions (design_id, number, spec, layout, "
                    f"created_at) VALUES ('{design['id']}', 5, 'a: 5', '{{}}', "
                    "'2026-01-01 00:00:00')")
    raced = on_disk.put(route, json={"spec": "a: late", "base_version": 4})
    assert ran and raced.status_code == 409 and raced.json()["version"] == 5


def test_concurrent_saves_never_share_a_number(on_disk: TestClient) -> None:
    design = on_disk.post("/api/designs", json={"name": "d", "spec": "a: 0"}).json()
    route = f"/api/designs/{design['id']}"
    answers: list[int] = []

    def save(tag: str, barrier: threading.Barrier) -> None:
        barrier.wait(timeout=10)
        answers.append(on_disk.put(route, json={"spec": f"a: {tag}"}).status_code)

    for round_ in range(4):
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=save, args=(f"{round_}-{i}", barrier))
                   for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    numbers = [v["number"] for v in on_disk.get(route).json()["versions"]]
    assert answers == [200] * 12 and numbers == list(range(1, 14))


def test_a_database_with_versions_saved_twice_is_renumbered(tmp_path: Path) -> None:
    """A database from a studio without UNIQUE(design_id, number), where two saves at once
    both made version 2: the next start renumbers them in the order they were saved, moves
    the runs with them, and adds the constraint."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    design = store.create_design("d", "a: 1", {})
    store.engine.dispose()
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("DROP INDEX ux_versions_design_number")
        for number, spec in ((2, "a: 2"), (2, "a: 2 too"), (3, "a: 3")):
            db.execute("INSERT INTO versions (design_id, number, spec, layout, created_at) "
                       "VALUES (?, ?, ?, '{}', '2026-01-01 00:00:00')",
                       (design["id"], number, spec))
        for run_id, version in (("r2", 2), ("r3", 3)):
            db.execute("INSERT INTO runs (id, design_id, version, system, spec, status, "
                       "created_at) VALUES (?, ?, ?, 's', 'x', 'done', '2026-01-01 00:00:00')",
                       (run_id, design["id"], version))
    again = Store(url)
    reopened = again.get_design(design["id"])
    assert reopened is not None
    assert [v["number"] for v in reopened["versions"]] == [1, 2, 3, 4]
    assert reopened["spec"] == "a: 3" and reopened["version"] == 4
    assert [again.get_version(design["id"], n)["spec"] for n in (2, 3)] == ["a: 2", "a: 2 too"]
    assert {r["id"]: r["version"] for r in again.list_runs(design["id"], 10)} == \
        {"r2": 2, "r3": 4}
    with pytest.raises(IntegrityError), again.session() as s:
        s.add(Version(design_id=design["id"], number=4, spec="x", layout="{}"))


def _versions_query(state: ORMExecuteState) -> bool:
    return state.is_select and state.bind_mapper is not None and \
        state.bind_mapper.class_ is Version


@pytest.mark.parametrize("request_", ["duplicate", "save", "run", "delete", "read"])
def test_a_design_deleted_meanwhile_is_404(on_disk: TestClient, breaker_spec: str,
                                          request_: str) -> None:
    design = on_disk.post("/api/designs", json={"name": "d", "spec": breaker_spec}).json()
    route = f"/api/designs/{design['id']}"
    gone = f"DELETE FROM designs WHERE id = '{design['id']}'"
    store = _store(on_disk)
    if request_ in ("duplicate", "read"):  # after the design is read, before its versions
        ran = meanwhile(store, gone, "do_orm_execute", _versions_query)
    elif request_ == "delete":  # two deletes at once: the other one commits first
        ran = meanwhile(store, gone, "do_orm_execute", lambda state: state.is_update)
    else:  # just before the request writes
        ran = meanwhile(store, gone)
    response = {
        "duplicate": lambda: on_disk.post(f"{route}/duplicate"),
        "save": lambda: on_disk.put(route, json={"spec": breaker_spec + "# edit\n"}),
        "run": lambda: on_disk.post("/api/runs", json={"spec": breaker_spec,
                                                       "design_id": design["id"],
                                                       "version": 1}),
        "delete": lambda: on_disk.delete(route),
        "read": lambda: on_disk.get(route),
    }[request_]()
    assert ran and response.status_code == 404, response.text
    assert response.json()["error"] == f"no design {design['id']!r}"
    assert on_disk.get("/api/designs").json() == []
    assert on_disk.get("/api/runs").json() == []


def test_sql_errors_do_not_carry_the_spec(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    with pytest.raises(IntegrityError) as raised, store.session() as s:
        s.add(Version(design_id="none", number=1, spec="secret: spec text", layout="{}"))
    assert "secret" not in str(raised.value) and "hidden" in str(raised.value)
    with store.session() as s:
        assert s.query(Design).count() == 0


def test_validate_warns_of_a_run_too_short_for_a_busy_queue(client: TestClient) -> None:
    """The warning `scalesim simulate` prints before the run, as a finding at
    simulation.duration: M/M/1 at ρ = 0.95 for 10 s pins the mean down to about ±79 %."""
    spec = """scalesim: 1
name: mm1
components:
  s: {operations: {x: {work: {dist: exponential, mean: 1ms}}}}
workloads: [{name: w, to: s.x, rate: RATE/s}]
simulation:
  duration: 10s
"""
    checked = client.post("/api/validate", json={"spec": spec.replace("RATE", "950")}).json()
    [finding] = [f for f in checked["findings"] if f["name"] == "too-short"]
    assert finding["severity"] == "warning" and finding["path"] == "simulation.duration"
    assert finding["line"] == 7
    assert finding["message"].startswith("this run pins its mean latency down to about ±79% ")
    assert "simulation.replications: 64" in finding["message"]
    quiet = client.post("/api/validate", json={"spec": spec.replace("RATE", "500")}).json()
    assert not any(f["name"] == "too-short" for f in quiet["findings"])


def test_a_short_estimate_past_a_small_limit_is_said_once() -> None:
    """Under two minutes the estimate is already in seconds: 'about 6 s', not 'about 6 s
    (6 s)' (QA: the shop example for 600 s against a 2 s limit)."""
    system = load_spec_text(_longer("load-balanced-service", duration="30s"), "spec.yaml")
    found = estimate(system)
    assert 2 < found.wall_s < 120
    said = specs.past_time_limit(system, found, 1.0)
    assert said is not None and said.says.startswith(f"about {found.wall_s:.0f} s, past")
