"""Decisions the generator makes from the spec, stated as the simulator makes them."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim.generate.code import views
from scalesim.generate.code.views import env_var, identifier, services
from scalesim.generate.topology import edges as topology_edges
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
    # An async call inherits nothing from the defaults, as in the simulator.
    assert "bulkhead=Bulkhead(3, max_wait=0.0)" in calls["CALL_IMPORT_USER_DB_GET_3"]
    assert "timeout" not in calls["CALL_IMPORT_USER_DB_GET_4"]
    assert "bulkhead" not in calls["CALL_IMPORT_USER_DB_GET_4"]
    assert web.downstreams == (("user-db", "USER_DB_URL", 8002),)
    assert (web.port, db.port) == (8001, 8002)
    assert "WORKERS" not in {constant.name for constant in db.constants}  # unlimited



def test_calls_are_listed_in_the_order_of_the_settings_files_effective_calls() -> None:
    (web, _) = services(load_spec_text(SPEC))
    edges = [edge.callee for edge in topology_edges(load_spec_text(SPEC))]
    app = web.app.text
    listed = app[app.index("calls=("):].split("(", 1)[1].split(")")[0]
    names = [name.strip() for name in listed.split(",") if name.strip()]
    assert names == ["CALL_IMPORT_USER_DB_GET", "CALL_IMPORT_USER_DB_SCAN",
                     "CALL_IMPORT_USER_DB_GET_2", "CALL_IMPORT_USER_DB_GET_3",
                     "CALL_IMPORT_USER_DB_GET_4"]
    assert len(names) == len(edges)


class _CountingSet(set[str]):
    """A set that counts the looks into it."""

    looks = 0

    def __contains__(self, item: object) -> bool:
        _CountingSet.looks += 1
        return super().__contains__(item)


def test_a_thousand_calls_to_one_callee_are_named_in_linear_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each name is the first free of NAME, NAME_2, …, found from where the last one of its
    stem ended: 1,000 identical branches cost a look or two each (from 2 every time, they
    cost 500,000 looks), and keep the names they had."""
    made = views._Builder.__init__

    def counting(self: Any, *args: Any) -> None:
        made(self, *args)
        self.taken = _CountingSet()

    monkeypatch.setattr(views._Builder, "__init__", counting)
    monkeypatch.setattr(_CountingSet, "looks", 0)
    branches = ", ".join(["{to: db}"] * 1000)
    web, _ = services(load_spec_text(f"""
scalesim: 1
name: wide
components:
  web: {{operations: {{op: {{calls: [{{parallel: {{calls: [{branches}]}}}}]}}}}}}
  db: {{operations: {{get: {{work: 1ms}}}}}}
workloads: [{{name: w, to: web, rate: 1/s}}]
"""))
    names = [c.name for c in web.constants if c.name.startswith("CALL_")]
    assert names == ["CALL_OP_DB_GET", *(f"CALL_OP_DB_GET_{n}" for n in range(2, 1001))]
    assert _CountingSet.looks <= 3 * 1000
