"""What the API promises about runs of saved designs, run reads, layouts and validation:
a run is recorded under a design's version only when it ran that version's spec; a run can be
read without its result (which is then not even read from the database); a layout is canvas
positions with bounds of their own; and validate parses a spec once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.studio.conftest import finished, wait

from scalesim.spec import yamlpos
from scalesim.studio.routes.designs import MAX_LAYOUT_ENTRIES

# -- a run of a design is a run of one of its versions ------------------------------------------


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_a_run_is_recorded_under_a_version_only_with_that_versions_spec(
        client: TestClient, breaker_spec: str) -> None:
    design = client.post("/api/designs", json={"name": "shop", "spec": breaker_spec}).json()
    changed = breaker_spec.replace("replicas: 2", "replicas: 3", 1)
    assert client.put(f"/api/designs/{design['id']}", json={"spec": changed}).json()[
        "version"] == 2
    line = next(i for i, (a, b) in enumerate(zip(_lines(breaker_spec), _lines(changed),
                                                 strict=True)) if a != b) + 1
    other = client.post("/api/runs", json={"spec": changed, "design_id": design["id"],
                                           "version": 1})
    assert other.status_code == 409
    body = other.json()
    assert body["version"] == 1 and body["line"] == line
    was, now = _lines(breaker_spec)[line - 1], _lines(changed)[line - 1]
    assert len(was) < 60 and was.index("2") == now.index("3")
    assert body["error"] == (
        f"the spec is not the one design 'shop' saved as version 1: line {line}, column "
        f"{was.index('2') + 1}, is {was!r} in the version and {now!r} in this spec. Send that "
        "version's spec to run it, or no design_id and version to run this spec on its own")
    longer = client.post("/api/runs", json={"spec": changed + "# more\n",
                                            "design_id": design["id"], "version": 2})
    assert longer.status_code == 409
    assert f"this spec goes on at line {len(_lines(changed)) + 1}, where the version ends" in \
        longer.json()["error"]
    # Without a version: the latest, checked alike and recorded with its number.
    stale = client.post("/api/runs", json={"spec": breaker_spec, "design_id": design["id"]})
    assert stale.status_code == 409 and stale.json()["version"] == 2
    assert "saved as version 2 (its latest)" in stale.json()["error"]
    assert client.get("/api/runs").json() == [], "a refused run is not recorded"
    ran = [client.post("/api/runs", json=body).json()["id"] for body in (
        {"spec": breaker_spec, "design_id": design["id"], "version": 1},
        {"spec": changed, "design_id": design["id"]},
        {"spec": changed + "# more\n"})]
    states = [wait(client, run, finished) for run in ran]
    assert [(s["design_id"], s["version"]) for s in states] == \
        [(design["id"], 1), (design["id"], 2), (None, None)]
    for state in states[:2]:
        version = client.get(f"/api/designs/{design['id']}/versions/{state['version']}").json()
        assert state["spec"] == version["spec"]


def test_a_mismatch_names_a_version_that_ends_first_and_shows_line_ends(
        client: TestClient, breaker_spec: str) -> None:
    design = client.post("/api/designs", json={"name": "d", "spec": breaker_spec}).json()
    shorter = "".join(_lines(breaker_spec)[:5])
    cut = client.post("/api/runs", json={"spec": shorter, "design_id": design["id"],
                                         "version": 1})
    assert cut.status_code in (400, 409)  # five lines may not be a valid spec: then 400
    crlf = breaker_spec.replace("\n", "\r\n")
    windows = client.post("/api/runs", json={"spec": crlf, "design_id": design["id"],
                                             "version": 1})
    assert windows.status_code == 409 and windows.json()["line"] == 1
    assert "\\r\\n" in windows.json()["error"], "the line ends that differ are shown"


def test_store_mismatch_message_for_a_version_that_goes_on(breaker_spec: str) -> None:
    from scalesim.studio.store import _mismatch

    error = _mismatch("d", 4, False, "a: 1\nb: 2\n", "a: 1\n")
    assert str(error).startswith("the spec is not the one design 'd' saved as version 4: the "
                                 "version goes on at line 2, where this spec ends.")
    assert (error.version, error.line) == (4, 2)
    long = _mismatch("d", 1, False, "x" * 100 + "\n", "x" * 100 + "\r\n")
    assert "column 101, is '…" + "x" * 20 + "\\n' in the version and '…" + "x" * 20 + \
        "\\r\\n' in this spec" in str(long)
    start = _mismatch("d", 1, False, "a" * 100, "b")
    assert "column 1, is '" + "a" * 60 + "…' in the version and 'b' in this spec" in str(start)


# -- a run read without its result ----------------------------------------------------------------

def test_a_run_can_be_read_without_its_result(client: TestClient, breaker_spec: str) -> None:
    run = client.post("/api/runs", json={"spec": breaker_spec, "seed": 2}).json()
    whole = wait(client, run["id"], finished)
    assert whole["status"] == "done" and "result" in whole
    statements: list[str] = []
    engine = client.app.state.store.engine  # type: ignore[attr-defined]

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        brief = client.get(f"/api/runs/{run['id']}", params={"result": "false"}).json()
        listed = client.get("/api/runs").json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert "result" not in brief
    assert brief == {k: v for k, v in whole.items() if k != "result"}
    assert brief["summary"]["p99_ms"] == whole["result"]["latency_ms"]["p99"]
    assert [r["id"] for r in listed] == [run["id"]]
    assert statements and not any("runs.result" in s for s in statements), \
        "the result's column is not read when it is not sent"
    assert client.get(f"/api/runs/{run['id']}", params={"result": "true"}).json() == whole
    bad = client.get(f"/api/runs/{run['id']}", params={"result": "maybe"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("bad request: result")


# -- layouts --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("layout", "error"), [
    ({"api": {"x": "1", "y": 2}}, "layout.api.x: Input should be a valid number"),
    ({"api": {"x": True, "y": 2}}, "layout.api.x: Input should be a valid number"),
    ({"api": {"x": 1e8, "y": 2}}, "layout.api.x: Input should be less than or equal to 10000000"),
    ({"api": {"x": 0, "y": -2e7}},
     "layout.api.y: Input should be greater than or equal to -10000000"),
    ({"api": {"x": 1}}, "layout.api.y: Field required"),
    ({"api": {"x": 1, "y": 2, "w": 3}}, "layout.api.w: Extra inputs are not permitted"),
    ({"api": [1, 2]}, "layout.api: Input should be a valid dictionary"),
    ([], "layout: Input should be a valid dictionary"),
    ({"a" * 201: {"x": 1, "y": 2}},
     f"layout: Value error, node id '{'a' * 40}…' has 201 characters; an id has 1 to 200"),
    ({"": {"x": 1, "y": 2}}, "layout: Value error, node id '' has 0 characters"),
    ({f"s{i}": {"x": i, "y": 0} for i in range(MAX_LAYOUT_ENTRIES + 1)},
     f"layout: Value error, {MAX_LAYOUT_ENTRIES + 1:,} positions; a layout holds at most "
     f"{MAX_LAYOUT_ENTRIES:,}"),
])
def test_a_layout_out_of_its_schema_is_400_naming_the_place(
        client: TestClient, layout: Any, error: str) -> None:
    created = client.post("/api/designs", json={"name": "d", "spec": "", "layout": layout})
    assert created.status_code == 400
    assert created.json()["error"].startswith(f"bad request: {error}"), created.json()
    design = client.post("/api/designs", json={"name": "d", "spec": ""}).json()
    saved = client.put(f"/api/designs/{design['id']}", json={"layout": layout})
    assert saved.status_code == 400
    assert saved.json()["error"].startswith(f"bad request: {error}")
    assert client.get(f"/api/designs/{design['id']}").json()["version"] == 1


def test_a_layout_within_its_schema_is_kept_as_sent(client: TestClient) -> None:
    most = {f"workload:w{i}" if i % 2 else f"s{i}": {"x": i * 0.5, "y": -1e7}
            for i in range(MAX_LAYOUT_ENTRIES)}
    design = client.post("/api/designs", json={"name": "d", "spec": "", "layout": most})
    assert design.status_code == 201 and design.json()["layout"] == most
    layout = {"api": {"x": 12, "y": 40.5}}
    route = f"/api/designs/{design.json()['id']}"
    saved = client.put(route, json={"layout": layout}).json()
    assert saved["version"] == 2 and saved["layout"] == layout
    assert isinstance(saved["layout"]["api"]["x"], int), "whole numbers stay as sent"
    assert client.put(route, json={"layout": layout}).json()["version"] == 2, \
        "the same layout again adds no version"


# -- validate parses once -------------------------------------------------------------------------

def test_validate_parses_the_spec_once(client: TestClient, breaker_spec: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[int] = []
    compose = yamlpos._compose

    def counted(text: str, loader_type: Any) -> Any:
        parses.append(1)
        return compose(text, loader_type)

    monkeypatch.setattr(yamlpos, "_compose", counted)
    answer = client.post("/api/validate", json={"spec": breaker_spec}).json()
    assert answer["valid"] and answer["findings"] and len(parses) == 1
    parses.clear()
    bad = client.post("/api/validate", json={"spec": breaker_spec.replace("replicas: 2",
                                                                          "replicas: -2")})
    assert not bad.json()["valid"] and bad.json()["errors"][0]["path"].endswith("replicas")


def _chain(length: int) -> str:
    lines = ["scalesim: 1", "name: chain", "components:"]
    for i in range(length):
        call = f", calls: [{{to: s{i + 1}}}]" if i + 1 < length else ""
        lines.append(f"  s{i}: {{workers: 8, operations: {{op: {{work: 1ms{call}}}}}}}")
    lines += ["workloads:", "  - {name: w, to: s0.op, rate: 10/s}", "simulation: {duration: 10s}"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_a_chain_of_999_components_validates(client: TestClient) -> None:
    """The analytic model behind the run-length warning follows the chain without recursing
    (a chain this deep was past Python's stack: a 500)."""
    answer = client.post("/api/validate", json={"spec": _chain(999)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] and answer.json()["cost"]["series"] > 999
