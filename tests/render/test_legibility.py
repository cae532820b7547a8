"""What a review of the HTML report found hard to read: a large diagram's labels shrunk to a
few pixels, edge labels drawn on their lines, error rates on a fixed 0–1 axis (2 % a flat
line at the bottom), and a sweep's x axis without its unit."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
from tests.render.helpers import e_commerce

from scalesim.render.charts import ERROR_RATE_SPAN_PCT, value_ticks
from scalesim.render.graph import ColorBy
from scalesim.render.graphviz import MIN_FONT_PX, legible, natural_width_px, smallest_font_px
from scalesim.render.html import render_page
from scalesim.render.report import base_architecture, diagram
from scalesim.render.sweep import charts as sweep_charts
from scalesim.render.timecharts import workload_charts

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def _svg_head(html: str) -> str:
    found = re.search(r"<svg\b[^>]*>", html)
    assert found is not None
    return found.group(0)


# 1. A large diagram keeps its labels legible.

@needs_dot
def test_a_wide_diagram_shrinks_no_further_than_its_smallest_text_stays_legible() -> None:
    system, result = e_commerce()
    svg = str(diagram(base_architecture(result, system), result, ColorBy.UTILIZATION))
    natural, smallest = natural_width_px(svg), smallest_font_px(svg)
    assert natural is not None and smallest is not None
    assert natural > 1400  # wider than the page: it used to be scaled down to fit
    floor = re.search(r'style="min-width: (\d+)px"', _svg_head(svg))
    assert floor is not None, "the diagram may be shrunk to any width"
    drawn = smallest * int(floor.group(1)) / natural  # its smallest text at the least width
    assert MIN_FONT_PX - 0.1 <= drawn <= MIN_FONT_PX + 0.1
    assert int(floor.group(1)) < natural  # still allowed to shrink a little, not at all more


def test_text_already_small_is_never_shrunk_and_odd_svg_is_left_alone() -> None:
    small = ('<svg width="300pt" height="100pt" viewBox="0.00 0.00 300.00 100.00">'
             '<text font-size="6.00">tiny</text></svg>')
    assert 'style="min-width: 400px"' in legible(small)  # 300 pt, the natural width
    assert legible("<svg><text>no sizes</text></svg>") == "<svg><text>no sizes</text></svg>"


def test_the_diagram_box_scrolls_rather_than_shrinking_the_svg_further() -> None:
    css = render_page("style.css")
    box = re.search(r"\.diagram \{([^}]*)\}", css)
    assert box is not None and "overflow-x: auto" in box.group(1)


# 2. Edge labels are readable over their lines.

def _rule(css: str, selector: str) -> dict[str, str]:
    found = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
    assert found is not None, f"no rule for {selector}"
    return dict((part.split(":", 1)[0].strip(), part.split(":", 1)[1].strip())
                for part in found.group(1).split(";") if ":" in part)


@needs_dot
def test_edge_labels_have_a_halo_of_the_background_under_their_text() -> None:
    system, result = e_commerce()
    svg = str(diagram(base_architecture(result, system), result, ColorBy.UTILIZATION))
    edges = re.findall(r'<g id="edge\d+" class="edge">(.*?)</g>', svg, flags=re.S)
    assert edges and all("<text" in edge for edge in edges)  # the labels the rule styles
    halo = _rule(render_page("style.css"), ".diagram g.edge text")
    assert halo["paint-order"].startswith("stroke")  # the stroke under the fill
    assert halo["stroke"].lower() in ("#fff", "#ffffff", "white")  # dot's background
    assert float(halo["stroke-width"].removesuffix("px")) >= 3


# 3. Error rates on an axis scaled to them, in per cent like the rest of the report.

def test_value_ticks_follow_the_data_with_a_least_span() -> None:
    assert value_ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert value_ticks(2.0, 1.0)[-1] == 2.0
    assert 2.1 <= value_ticks(2.1, 1.0)[-1] <= 2.5
    assert value_ticks(0.02, 1.0)[-1] == 1.0  # a tiny rate is not blown up to the top
    assert value_ticks(430.0)[-1] == 500.0
    assert value_ticks(float("nan"))[-1] == 1.0


def _workloads(error_share: float) -> dict[str, Any]:
    columns = ["t_s", "workload", "throughput_rps", "goodput_rps", "errors_rps", "p50_ms",
               "p95_ms", "p99_ms", "in_flight", "degraded_rps"]
    rows = [[float(t), "users", 100.0, 100.0 * (1 - error_share), 100.0 * error_share, 5.0,
             9.0, 12.0, 3, 0.0] for t in range(1, 31)]
    return {"timeseries": {"workloads": {"columns": columns, "rows": rows}}}


def _error_chart(error_share: float) -> str:
    found = [chart for chart in workload_charts(_workloads(error_share))
             if chart.title.startswith("error rate")]
    assert len(found) == 1
    return str(found[0].svg)


def _y_ticks(svg: str) -> list[float]:
    return [float(t) for t in re.findall(r'text-anchor="end" class="tick">([\d.]+)</text>', svg)]


def test_a_two_percent_error_rate_fills_its_chart_in_per_cent() -> None:
    svg = _error_chart(0.02)
    assert 'class="unit">% of answers</text>' in svg
    assert max(_y_ticks(svg)) == 2.0  # the axis ends at the data, not at 1 (100 %)
    path = re.search(r'<path d="([^"]+)"[^>]*data-series="users"', svg)
    assert path is not None
    ys = [float(y) for y in re.findall(r"[ML][\d.]+,([\d.]+)", path.group(1))]
    assert ys and max(ys) < 40  # drawn at the top of the frame (TOP = 30), not the bottom


def test_an_error_free_run_keeps_the_least_span_and_stays_at_the_bottom() -> None:
    svg = _error_chart(0.0)
    assert max(_y_ticks(svg)) == ERROR_RATE_SPAN_PCT


# 4. The sweep's x axis names the swept parameter and its unit.

def _sweep_doc(path: str, values: list[str], error_rate: float = 0.02) -> dict[str, Any]:
    return {"axes": [{"path": path, "values": values}], "knees": [],
            "points": [{"point": i, path: value, "latency_p50_ms": 5.0 + i,
                        "latency_p90_ms": 8.0 + i, "latency_p99_ms": 12.0 + i,
                        "throughput_rps": 100.0 * (i + 1), "goodput_rps": 90.0 * (i + 1),
                        "error_rate": error_rate} for i, value in enumerate(values)]}


def _axis_titles(doc: dict[str, Any]) -> set[str]:
    return {title for _, svg in sweep_charts(doc)
            for title in re.findall(r'class="unit axis-title">([^<]*)</text>', str(svg))}


@pytest.mark.parametrize(("path", "values", "title"), [
    ("workloads.0.rate", ["100/s", "200/s", "400/s"], "workloads.0.rate (per second)"),
    ("components.db.operations.read.work.mean", ["5ms", "10ms", "20ms"],
     "components.db.operations.read.work.mean (ms)"),
    ("components.api.operations.get.calls.0.timeout", ["1ms", "10ms", "100ms"],
     "components.api.operations.get.calls.0.timeout (ms, log scale)"),
    ("faults.0.for", ["10s", "20s", "30s"], "faults.0.for (s)"),
    ("components.db.operations.read.error_rate", ["1%", "5%", "10%"],
     "components.db.operations.read.error_rate (%)"),
    ("components.api.replicas", ["2", "4", "8"], "components.api.replicas"),
    ("components.api.balancer", ["random", "p2c"], "components.api.balancer"),
])
def test_the_sweep_axis_is_titled_with_the_parameter_and_its_unit(
        path: str, values: list[str], title: str) -> None:
    assert _axis_titles(_sweep_doc(path, values)) == {title}


def test_the_sweep_axis_ticks_are_in_its_unit() -> None:
    _, svg = sweep_charts(_sweep_doc("components.db.operations.read.work.mean",
                                     ["5ms", "10ms", "20ms"]))[0]
    ticks = re.findall(r'text-anchor="middle" class="tick">([^<]*)</text>', str(svg))
    assert "20" in ticks and not any(t.startswith("0.0") for t in ticks)  # ms, not seconds


def test_the_sweep_error_axis_follows_the_data_with_its_least_span() -> None:
    def top(rate: float) -> float:
        svg = str(sweep_charts(_sweep_doc("workloads.0.rate", ["1/s", "2/s"], rate))[2][1])
        assert 'class="unit">% of requests</text>' in svg
        return max(_y_ticks(svg))

    assert top(0.02) == 2.0
    assert top(0.0002) == ERROR_RATE_SPAN_PCT  # 0.02 % is not drawn as a wall of errors
