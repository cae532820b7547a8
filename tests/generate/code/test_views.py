"""Decisions the generator makes from the spec, stated as the simulator makes them."""

from __future__ import annotations

from scalesim.generate.code.views import env_var, identifier, services
from scalesim.spec import load_spec_text

SPEC = """
scalesim: 1
name: views
defaults:
  calls: {timeout: 250ms, bulkhead: {max_concurrent: 3}}
components:
  web:
    operations:
      import:
        calls:
          - parallel: {wait_for: any, calls: [{to: user-db}, {to: user-db.scan}]}
          - parallel: {wait_for: all, calls: [{to: user-db}, {to: user-db}]}
          - {to: user-db, async: true}
  user-db:
    kind: database
    workers: unlimited
    operations: {get: {work: 1ms}, scan: {work: 5ms}}
workloads: [{name: w, to: web, rate: 1/s}]
"""


def test_names() -> None:
    assert env_var("user-db") == "USER_DB_URL"
    assert identifier("calls", "check-out") == "calls_check_out"
    assert identifier("import") == "op_import"  # a keyword
    assert identifier("3ds") == "op_3ds"


def test_steps_need_and_inherited_settings() -> None:
    web, db = services(load_spec_text(SPEC))
    op = web.operations[0]
    assert op.handler == "serve_import" and op.calls_function == "calls_import"
    assert op.steps == (
        "await parallel(1, CALL_IMPORT_USER_DB_GET, CALL_IMPORT_USER_DB_SCAN)  # wait_for: any",
        "await parallel(2, CALL_IMPORT_USER_DB_GET_2, CALL_IMPORT_USER_DB_GET_3)"
        "  # wait_for: all",
        "await CALL_IMPORT_USER_DB_GET_4.run()",
    )
    calls = {constant.name: constant.text for constant in web.constants}
    assert "timeout=0.25" in calls["CALL_IMPORT_USER_DB_GET"]
    # An async call inherits only the bulkhead from the defaults, as in the simulator.
    assert "timeout" not in calls["CALL_IMPORT_USER_DB_GET_4"]
    assert "bulkhead=Bulkhead(3, max_wait=0.0)" in calls["CALL_IMPORT_USER_DB_GET_4"]
    assert web.downstreams == (("user-db", "USER_DB_URL", 8002),)
    assert (web.port, db.port) == (8001, 8002)
    assert "WORKERS" not in {constant.name for constant in db.constants}  # unlimited


POOL_SPEC = """
scalesim: 1
name: pools
components:
  front:
    workers: 150
    operations:
      go:
        calls:
          - to: back.get
          - {to: back.get, bulkhead: {max_concurrent: 10}}
          - {to: side.get, async: true, bulkhead: {type: threadpool, size: 6}}
          - {to: capped.get}
          - {to: multiplexed.get}
  loop:
    io: nonblocking
    workers: 4
    operations:
      go:
        calls:
          - to: back.get
          - {to: side.get, bulkhead: {max_concurrent: 9}}
  back: {workers: unlimited, operations: {get: {work: 1ms}}}
  side: {operations: {get: {work: 1ms}}}
  capped:
    connection_pool: {max_connections: 50, max_requests: 30, max_pending_requests: 5}
    operations: {get: {work: 1ms}}
  multiplexed:
    connection_pool: {http2: true, max_requests: 40}
    operations: {get: {work: 1ms}}
  jobs:
    kind: queue
    consumers: [{to: capped.get, concurrency: 7}, {to: capped.get, concurrency: 5}]
workloads: [{name: w, to: front.go, rate: 1/s}]
"""


def test_connection_pools_hold_every_call_the_spec_allows_at_once() -> None:
    views = {view.name: view for view in services(load_spec_text(POOL_SPEC))}

    def pools(name: str) -> dict[str, str]:
        return {pool.component: pool.expr.render() for pool in views[name].pools}

    # Blocking workers hold a call each (150), a bulkhead fewer (10); an async call is bounded
    # only by its bulkhead; a connection_pool is Envoy's limits: min(connections, requests)
    # with the pending queue on HTTP/1.1, max_requests and no queue on HTTP/2.
    assert pools("front") == {"back": "Pool(160)", "side": "Pool(6)",
                              "capped": "Pool(30, pending=5)",
                              "multiplexed": "Pool(40, pending=0)"}
    # Nonblocking io lets go of the worker while calling: only a bulkhead bounds a call.
    assert pools("loop") == {"back": "Pool(None)", "side": "Pool(9)"}
    # A queue's deliveries are not calls (no connection_pool): one per subscription worker.
    assert pools("jobs") == {"capped": "Pool(12)"}
