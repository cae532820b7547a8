"""Architecture diagrams: deterministic DOT and Mermaid (golden files), SVG from Graphviz,
colours and traffic from a result, sequence and breaker state diagrams."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.render.helpers import EXAMPLES, app, check_golden, run
from typer.testing import CliRunner

from scalesim.render.dot import SHAPES, to_dot
from scalesim.render.graph import (
    Cluster,
    ColorBy,
    architecture,
    derive_groups,
    heat,
    overlay,
    percent,
)
from scalesim.render.graphviz import inline_svg
from scalesim.render.mermaid import breaker_states, flowchart, sequence
from scalesim.spec import load_spec

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

TRACE = {"trace_id": "ab" * 16, "workload": "shoppers", "kind": "slowest", "status": "ok",
         "start_s": 10.0, "duration_ms": 30.0, "spans": [
             {"span_id": "01" * 8, "parent_span_id": None, "component": "gateway",
              "operation": "checkout", "replica": 0, "sent_s": 10.0, "start_s": 10.001,
              "end_s": 10.029, "status": "ok", "attempt": 1, "kind": "entry"},
             {"span_id": "02" * 8, "parent_span_id": "01" * 8, "component": "orders",
              "operation": "create", "replica": 1, "sent_s": 10.002, "start_s": 10.003,
              "end_s": 10.012, "status": "timeout", "attempt": 1, "kind": "call"},
             {"span_id": "03" * 8, "parent_span_id": "01" * 8, "component": "orders",
              "operation": "create", "replica": 0, "sent_s": 10.015, "start_s": 10.016,
              "end_s": 10.027, "status": "ok", "attempt": 2, "kind": "retry"},
             {"span_id": "04" * 8, "parent_span_id": "01" * 8, "component": "events",
              "operation": "publish", "replica": None, "sent_s": 10.029, "start_s": 10.03,
              "end_s": 10.03, "status": "ok", "attempt": 1, "kind": "async"}]}


@pytest.mark.parametrize("example", ["shop", "contained"])
def test_dot_and_mermaid_match_their_golden_files(example: str) -> None:
    system = load_spec(EXAMPLES / f"{example}.yaml")
    arch = architecture(system, Cluster.KIND if example == "shop" else Cluster.GROUP)
    check_golden(f"{example}.dot", to_dot(arch))
    check_golden(f"{example}.mmd", flowchart(arch))
    assert to_dot(architecture(system)) == to_dot(architecture(system))  # deterministic


def test_sequence_and_breaker_diagrams_match_their_golden_files() -> None:
    check_golden("trace.mmd", sequence(TRACE))
    calls = [{"from": "gateway.browse", "to": "recs.get", "circuit_breaker": {
        "not_permitted": 12, "transitions": [
            {"t_s": 1.0, "replica": 0, "from": "closed", "to": "open"},
            {"t_s": 6.0, "replica": 0, "from": "open", "to": "half_open"},
            {"t_s": 6.1, "replica": 0, "from": "half_open", "to": "closed"}]}},
             {"from": "gateway.checkout", "to": "orders.create"}]
    check_golden("breakers.mmd", breaker_states(calls))


def test_sequence_orders_messages_by_time_and_pairs_each_sync_call_with_an_answer() -> None:
    lines = sequence(TRACE).splitlines()
    messages = [line for line in lines if "->>" in line or "-->>" in line or "--x" in line
                or "-)" in line]
    assert len(messages) == 4 + 3  # four visits sent, three sync answers (async: none)
    assert any("--x" in line and "timeout" in line for line in messages)
    assert messages[-1].strip().startswith("p0-)p2")  # the publish after the answer


def test_every_kind_has_its_own_shape_and_every_call_an_edge() -> None:
    system = load_spec(EXAMPLES / "shop.yaml")
    dot = to_dot(architecture(system))
    for name, component in system.components.items():
        assert re.search(rf'"{name}" \[{re.escape(SHAPES[component.kind.value])}', dot)
    calls = sum(len(step.parallel.calls) if hasattr(step, "parallel") else 1
                for c in system.components.values() for op in c.operations.values()
                for step in op.calls)
    consumers = sum(len(c.consumers) for c in system.components.values())
    misses = sum(1 for c in system.components.values() if c.backend)
    assert dot.count(" -> ") == calls + consumers + misses + len(system.workloads)
    assert 'timeout 800ms · retry ×2' in dot and "parallel, wait all" in dot
    assert "style=dashed" in dot  # the async publish


def test_groups_come_from_shared_name_prefixes_only() -> None:
    groups = derive_groups(["orders-api", "orders-db", "users-api", "gateway"])
    assert groups == {"orders-api": "orders", "orders-db": "orders"}


def test_heat_runs_from_green_to_red() -> None:
    assert heat(0.1, 0.5, 0.95) == "#d9f2d9"
    assert heat(1.0, 0.5, 0.95) == "#f49a8f"
    assert heat(0.725, 0.5, 0.95) == "#ffe08a"


def test_overlay_weights_edges_by_attempts_sent_and_colours_by_utilization() -> None:
    """contained's bulkhead refuses calls to recs inside the gateway: those never reach
    recs, so the edge carries the attempts sent and names the refused ones apart."""
    system, result = run("contained", "simulation.duration=45s")
    arch = overlay(architecture(system), result, ColorBy.UTILIZATION)
    recs = next(e for e in arch.edges if e.callee == "recs.get")
    call = next(c for c in result["calls"] if c["to"] == "recs.get")
    local = sum(call["attempt_failures_by_cause"][cause]
                for cause in ("circuit_open", "bulkhead_full", "overflow"))
    assert local > 0
    assert recs.rps == pytest.approx((call["attempts"] - local) / result["simulated_s"])
    assert recs.lines[-2:] == (f"{recs.rps:,.1f} rps", f"{local / result['simulated_s']:,.1f}/s "
                               "refused in the caller")
    gateway = next(n for n in arch.nodes if n.name == "gateway")
    assert gateway.fill == heat(result["components"]["gateway"]["utilization"], 0.5, 0.95)
    by_errors = overlay(architecture(system), result, ColorBy.ERRORS)
    assert next(n for n in by_errors.nodes if n.name == "recs").fill == heat(0.0, 0.001, 0.1)


@pytest.mark.parametrize(("share", "text"), [
    (1.0, "100%"), (0.125, "12.5%"), (0.0004, "0.04%"), (0.0, "0%"), (0.5, "50%"),
    (0.9996, "99.9%"), (1e-7, "0.00001%")])
def test_percentages_are_written_plainly(share: float, text: str) -> None:
    """A 100 % error rate was written 'err 1e+02%'; a share just short of 100 % or above
    0 % is not rounded onto either."""
    assert percent(share) == text


def test_a_component_whose_every_request_failed_reads_err_100_percent() -> None:
    system, result = run("contained", "simulation.duration=5s")
    for op in result["components"]["recs"]["operations"].values():
        op["requests"]["failed"] = op["requests"]["total"]
    recs = next(n for n in overlay(architecture(system), result, ColorBy.ERRORS).nodes
                if n.name == "recs")
    assert recs.metric.endswith(" · err 100%")


@needs_dot
def test_svg_parses_and_names_every_component() -> None:
    system = load_spec(EXAMPLES / "shop.yaml")
    svg = inline_svg(to_dot(architecture(system)))
    root = ET.fromstring(svg)
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for name in system.components:
        assert name in texts
    for workload in system.workloads:
        assert workload.name in texts


@needs_dot
def test_cli_writes_svg_png_dot_and_mermaid(tmp_path: Path) -> None:
    runner = CliRunner()
    spec = str(EXAMPLES / "contained.yaml")
    for suffix in ("svg", "png", "dot", "mmd"):
        out = tmp_path / f"arch.{suffix}"
        done = runner.invoke(app, ["diagram", spec, "-o", str(out)])
        assert done.exit_code == 0, done.output
        assert out.stat().st_size > 100
    assert (tmp_path / "arch.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ET.fromstring((tmp_path / "arch.svg").read_text())


def test_cli_without_dot_says_how_to_get_it(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    done = CliRunner().invoke(app, ["diagram", str(EXAMPLES / "shop.yaml"), "-o",
                                    str(tmp_path / "a.svg")])
    assert done.exit_code == 2
    assert "Graphviz" in done.output and not (tmp_path / "a.svg").exists()


def test_cli_sequence_and_breakers_from_a_result(tmp_path: Path) -> None:
    import json
    _, result = run("contained", "simulation.duration=45s")
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    runner = CliRunner()
    trace = result["traces"][0]
    done = runner.invoke(app, ["diagram", str(path), "--trace", trace["trace_id"], "-o",
                               str(tmp_path / "seq.mmd")])
    assert done.exit_code == 0, done.output
    text = (tmp_path / "seq.mmd").read_text()
    assert text.startswith("sequenceDiagram") and trace["trace_id"] in text
    done = runner.invoke(app, ["diagram", str(path), "--breakers", "-o",
                               str(tmp_path / "cb.mmd")])
    assert done.exit_code == 0, done.output
    opened = sum(1 for t in result["calls"][0]["circuit_breaker"]["transitions"]
                 if t["from"] == "closed" and t["to"] == "open")
    assert f"b0_closed --> b0_open: {opened}×" in (tmp_path / "cb.mmd").read_text()
    missing = runner.invoke(app, ["diagram", str(path), "--trace", "nope", "-o",
                                  str(tmp_path / "x.mmd")])
    assert missing.exit_code == 2 and "no trace" in missing.output
    bad = runner.invoke(app, ["diagram", str(EXAMPLES / "nope.yaml"), "-o",
                              str(tmp_path / "x.dot")])
    assert bad.exit_code == 2
