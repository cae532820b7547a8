"""Event-store projections and dead-letter routes are edges of the architecture, drawn apart
from calls in every format: a CQRS design's write and read sides are joined by the
projection, and a dead-letter queue is reached by its queue's failure path."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from tests.render.helpers import app
from tests.render.test_diagrams import needs_dot
from typer.testing import CliRunner

from scalesim.render.dot import to_dot
from scalesim.render.graph import (
    ROUTE_COLOURS,
    ColorBy,
    Route,
    architecture,
    architecture_from_result,
    overlay,
)
from scalesim.render.graphviz import inline_svg
from scalesim.render.mermaid import flowchart
from scalesim.sim import simulate
from scalesim.sim.result_schema import check_result
from scalesim.spec import System, load_spec_text
from scalesim.templates import TEMPLATES, get_template


@cache
def template_system(template_id: str, *overrides: str) -> System:
    return load_spec_text(get_template(template_id).build({}).text, overrides=list(overrides))


@cache
def template_run(template_id: str, *overrides: str) -> tuple[System, dict[str, Any]]:
    system = template_system(template_id, "simulation.duration=12s", "simulation.warmup=2s",
                             *overrides)
    return system, simulate(system, 1)


def routes(system: System) -> list[tuple[str, str, Route]]:
    """(source, target component, route) of every projection and dead-letter route the spec
    states."""
    found: list[tuple[str, str, Route]] = []
    for name, comp in system.components.items():
        if comp.event_store is not None:
            found += [(name, system.resolve(p.to)[0], Route.PROJECTION)
                      for p in comp.event_store.projections]
        if comp.delivery is not None and comp.delivery.dead_letter is not None:
            found.append((name, comp.delivery.dead_letter, Route.DEAD_LETTER))
    return found


@pytest.mark.parametrize("template", [t.id for t in TEMPLATES])
def test_every_projection_and_dead_letter_route_is_drawn_in_dot_and_mermaid(template: str):
    system = template_system(template)
    arch = architecture(system)
    drawn = [(e.source, e.target, e.route) for e in arch.edges if e.route is not Route.CALL]
    assert drawn == routes(system)
    dot = to_dot(arch)
    for source, target, route in drawn:
        assert re.search(rf'"{re.escape(source)}" -> "{re.escape(target)}" \[.*style=dashed, '
                         rf'color="{ROUTE_COLOURS[route]}"', dot), (source, target)
    mermaid = flowchart(arch)
    styled = {int(n) for n in re.findall(r"linkStyle (\d+) stroke:#", mermaid)}
    assert styled == {i for i, e in enumerate(arch.edges) if e.route is not Route.CALL}
    links = [line for line in mermaid.splitlines() if "|" in line and "-" in line]
    assert all("-.->" in links[i] for i in styled)


def test_cqrs_joins_its_write_and_read_sides_by_the_projection() -> None:
    arch = architecture(template_system("cqrs"))
    projection = next(e for e in arch.edges if e.route is Route.PROJECTION)
    assert (projection.source, projection.callee) == ("orders-log", "projector.apply")
    assert projection.lines == ("project → apply", "projection · async · concurrency 8")


def test_the_dead_letter_route_says_when_a_message_takes_it() -> None:
    arch = architecture(template_system("dead-letter-queue"))
    route = next(e for e in arch.edges if e.route is Route.DEAD_LETTER)
    assert (route.source, route.target) == ("orders", "orders-dlq")
    assert route.lines == ("dead letter", "failure path · after 5 deliveries")
    never = architecture(template_system(
        "dead-letter-queue", "components.orders.delivery.max_deliveries=null"))
    assert next(e for e in never.edges if e.route is Route.DEAD_LETTER).lines[1] == \
        "never: no max_deliveries"


def test_a_result_weights_projections_and_dead_letters_by_their_traffic() -> None:
    system, result = template_run("dead-letter-queue")
    runs = result["simulated_s"] * result["replications"]
    dead = sum(q["dead_lettered"] for name, q in result["queues"].items()
               if name.startswith("orders->"))
    assert dead > 0
    route = next(e for e in overlay(architecture(system), result, ColorBy.UTILIZATION).edges
                 if e.route is Route.DEAD_LETTER)
    assert route.rps == pytest.approx(dead / runs)
    system, result = template_run("cqrs")
    projection = next(e for e in overlay(architecture(system), result,
                                         ColorBy.UTILIZATION).edges
                      if e.route is Route.PROJECTION)
    delivered = result["event_stores"]["orders-log"]["projections"]["projector.apply"]
    assert projection.rps == delivered["delivered_rps"] > 0


def test_a_result_alone_draws_the_projection() -> None:
    _, result = template_run("cqrs")
    arch = architecture_from_result(result)
    assert [(e.source, e.callee, e.route) for e in arch.edges if e.route is not Route.CALL] \
        == [("orders-log", "projector.apply", Route.PROJECTION)]


NEVER_DEAD_LETTERED = [("dead-letter-queue", f"components.orders.delivery.{setting}")
                      for setting in ("max_deliveries=null", "guarantee=at_most_once")]


@pytest.mark.parametrize("template, overrides", [
    *(pytest.param(t.id, (), id=t.id) for t in TEMPLATES
      if any(route is Route.DEAD_LETTER for *_, route in routes(template_system(t.id)))),
    *(pytest.param(template, (override,), id=override.rsplit(".", 1)[1])
      for template, override in NEVER_DEAD_LETTERED)])
def test_a_result_alone_draws_the_dead_letter_route_as_the_spec_does(
        template: str, overrides: tuple[str, ...]) -> None:
    """The result names each subscription's dead-letter queue and `max_deliveries`, so the
    route, its label and its traffic need no spec (its width is against the busiest edge,
    and only the spec has the workloads' entry edges)."""
    system, result = template_run(template, *overrides)
    assert check_result(result) == []
    spec_routes, result_routes = (
        [replace(e, width=0.0) for e in overlay(arch, result, ColorBy.UTILIZATION).edges
         if e.route is Route.DEAD_LETTER]
        for arch in (architecture(system), architecture_from_result(result)))
    assert result_routes == spec_routes != []


def test_a_dead_letter_queue_the_result_does_not_list_makes_it_invalid() -> None:
    _, result = template_run("dead-letter-queue")
    edited = copy.deepcopy(result)
    edited["queues"]["orders->fulfilment.process"]["dead_letter"] = "ghost"
    assert check_result(edited) == ["(top level): queues.orders->fulfilment.process."
                                    "dead_letter: no component 'ghost' in components"]


@needs_dot
def test_the_svg_draws_the_routes_in_their_colours() -> None:
    svg = inline_svg(to_dot(architecture(template_system("banking-transfer"))))
    ET.fromstring(svg)
    assert 'stroke="#c0392b"' in svg and "dead letter" in svg


def test_the_cli_draws_the_projection_in_every_text_format(tmp_path: Path) -> None:
    spec = tmp_path / "cqrs.yaml"
    spec.write_text(get_template("cqrs").build({}).text, encoding="utf-8")
    for suffix, edge in (("dot", '"orders-log" -> "projector"'), ("mmd", "n3 -.->|")):
        out = tmp_path / f"cqrs.{suffix}"
        done = CliRunner().invoke(app, ["diagram", str(spec), "-o", str(out)])
        assert done.exit_code == 0, done.output
        assert edge in out.read_text(encoding="utf-8")
