"""A caller's calls to one callee that need different routes (timeouts, retries) get one
route each, told apart by the operation's path (the generated service serves
`POST /<operation>`); calls that agree share one route per caller, as before."""

from __future__ import annotations

from typing import Any

from tests.generate.helpers import OPTIONS, documents

from scalesim.generate import Target, render
from scalesim.generate.istio import route_names
from scalesim.spec import System, load_spec_text

SPEC = """
scalesim: 1
name: sites
components:
  front:
    operations:
      a:
        work: 1ms
        calls:
          - {to: back.x, timeout: 100ms, deadline: 250ms, retry: {attempts: 3}}
          - {to: back.w, timeout: 2500ms}
          - {to: back.x, timeout: 5ms}
  side:
    operations:
      b:
        calls:
          - {to: back.x, timeout: 40ms}
          - {to: back.w, timeout: 40ms}
  back:
    operations:
      x: {work: 1ms}
      w: {work: 1ms}
workloads:
  - {name: u, to: front.a, rate: 10/s}
  - {name: v, to: side.b, rate: 10/s}
"""


def _system() -> System:
    return load_spec_text(SPEC)


def _back_routes() -> dict[str, dict[str, Any]]:
    service = next(d for d in documents(render(_system(), Target.ISTIO, OPTIONS))
                   if d["kind"] == "VirtualService" and d["metadata"]["name"] == "back")
    return {route["name"]: route for route in service["spec"]["http"]}


def test_each_operation_gets_its_own_route_when_the_calls_differ() -> None:
    routes = _back_routes()
    x, w = routes["from-front-x"], routes["from-front-w"]
    assert x["match"] == [{"sourceLabels": {"app.kubernetes.io/name": "front"},
                           "uri": {"exact": "/x"}}]
    assert (x["timeout"], x["retries"]["attempts"], x["retries"]["perTryTimeout"]) == \
        ("250ms", 2, "100ms")
    assert w["match"][0]["uri"] == {"exact": "/w"}
    assert (w["timeout"], w["retries"]) == ("2500ms", {"attempts": 0})


def test_calls_that_agree_share_one_route() -> None:
    side = _back_routes()["from-side"]
    assert side["match"] == [{"sourceLabels": {"app.kubernetes.io/name": "side"}}]
    assert (side["timeout"], side["retries"]) == ("40ms", {"attempts": 0})


def test_a_second_call_to_the_same_operation_is_noted() -> None:
    service = next(d for d in documents(render(_system(), Target.ISTIO, OPTIONS))
                   if d["kind"] == "VirtualService")
    note = service["metadata"]["annotations"]["scalesim.io/not-mapped"]
    assert note.startswith("front.a -> back: one route per caller and operation; front's "
                           "first call to back.x sets it; ")


def test_the_route_names_are_the_virtual_services() -> None:
    assert route_names(_system(), "back") == list(_back_routes())
    assert list(_back_routes()) == ["from-front-x", "from-front-w", "from-side", "default"]


def test_the_generated_service_serves_each_operation_at_its_path() -> None:
    app = next(f.content for f in render(_system(), Target.CODE, OPTIONS)
               if f.path == "code/back/app.py")
    for operation in ("x", "w"):
        assert f'@app.post("/{operation}")' in app
