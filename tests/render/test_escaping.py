"""User-controlled text (names, operations, descriptions) cannot inject markup or syntax
into DOT, Mermaid, SVG or HTML. Spec names are restricted, so hostile text goes through the
functions that take arbitrary strings, through a result with hostile names, and through
`description`, which is free text."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from tests.render.helpers import EXAMPLES, HOSTILE, run

from scalesim.render.charts import Bar, Series, bar_chart, line_chart
from scalesim.render.dot import to_dot
from scalesim.render.escape import dot_string, mermaid_text
from scalesim.render.graph import Architecture, Edge, Node, architecture_from_result
from scalesim.render.graphviz import inline_svg
from scalesim.render.mermaid import breaker_states, flowchart, sequence
from scalesim.render.report import render_report
from scalesim.render.waterfall import waterfall
from scalesim.spec import load_spec

ARCH = Architecture(HOSTILE, HOSTILE, (
    Node(HOSTILE, HOSTILE, "service", HOSTILE + "\\N\\l\n"),
    Node("b", "b", "database", "database")),
    (Edge(HOSTILE, "b", HOSTILE, "b.x", (HOSTILE, "sync")),))


def _hostile_result() -> dict:
    """The contained run with a component, workload and operation renamed to HOSTILE."""
    _, result = run("contained", "simulation.duration=45s")
    text = json.dumps(result)
    for name in ("recs", "browsing", "get"):
        text = re.sub(rf'\b{name}\b', HOSTILE.replace("\\", "\\\\").replace('"', '\\"'), text)
    return json.loads(text)


def test_dot_strings_cannot_end_early_or_inject_escapes() -> None:
    assert dot_string('a"b\\N') == '"a\\"b\\\\N"'
    dot = to_dot(ARCH)
    for line in dot.splitlines():  # every quote inside a string is escaped
        assert len(re.findall(r'(?<!\\)"', line.replace("\\\\", ""))) % 2 == 0, line


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_graphviz_svg_shows_the_names_as_text() -> None:
    root = ET.fromstring(inline_svg(to_dot(ARCH)))
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert HOSTILE in texts
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))


def _no_raw(text: str) -> None:
    assert "<script" not in text and '"x"' not in text and "'&" not in text


def test_mermaid_labels_carry_no_markup_or_quotes() -> None:
    assert mermaid_text('a"b<c>;#') == "a#34;b#60;c#62;#59;#35;"
    _no_raw(flowchart(ARCH))
    trace = {"trace_id": HOSTILE, "workload": HOSTILE, "kind": "typical", "status": HOSTILE,
             "start_s": 0.0, "duration_ms": 1.0, "spans": [
                 {"span_id": "a", "parent_span_id": None, "component": HOSTILE,
                  "operation": HOSTILE, "replica": 0, "sent_s": 0.0, "start_s": 0.0,
                  "end_s": 0.001, "status": HOSTILE, "attempt": 1, "kind": "entry"}]}
    _no_raw(sequence(trace))
    _no_raw(breaker_states([{"from": HOSTILE, "to": HOSTILE, "circuit_breaker": {
        "not_permitted": 0, "transitions": []}}]))
    svg = waterfall(trace)
    ET.fromstring(svg)
    assert "<script" not in svg


def test_svg_charts_escape_series_and_bar_names() -> None:
    for chart in (line_chart(HOSTILE, HOSTILE, [Series(HOSTILE, [0.0, 1.0], [1.0, 2.0],
                                                      "#000")], (0.0, 1.0)),
                  bar_chart(HOSTILE, [Bar(HOSTILE, 1.0, HOSTILE)])):
        root = ET.fromstring(chart)
        assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
        assert HOSTILE in "".join(root.itertext())


def test_report_escapes_hostile_names_and_description() -> None:
    system = load_spec(EXAMPLES / "contained.yaml").model_copy(update={
        "description": HOSTILE})
    result = _hostile_result()
    html = render_report(result, system)
    assert "<script" not in html
    assert "&lt;script&gt;alert(" in html
    bare = render_report(result, None)
    assert "<script" not in bare
    _no_raw(flowchart(architecture_from_result(result)))
