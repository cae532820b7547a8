"""Waterfalls tell a visit still running at the end of the run from the way there: the
circuit-breaker template's slowest trace drew payments' unfinished 1,005 ms visit as a grey
bar, the colour of network and queue time."""

from __future__ import annotations

import re
from typing import Any

from scalesim.render.waterfall import STYLES, waterfall


def _span(span_id: str, parent: str | None, component: str, start: float,
          end: float | None, status: str) -> dict[str, Any]:
    return {"span_id": span_id, "parent_span_id": parent, "component": component,
            "operation": "op", "replica": 0, "sent_s": start, "start_s": start + 0.001,
            "end_s": end, "status": status, "attempt": 1,
            "kind": "entry" if parent is None else "call"}


def _trace(*spans: dict[str, Any]) -> dict[str, Any]:
    return {"trace_id": "ab" * 16, "workload": "w", "kind": "slowest", "status": "ok",
            "start_s": 10.0, "duration_ms": 1007.0, "spans": list(spans)}


def _legend(svg: str) -> list[str]:
    return re.findall(r'<rect class="key (\w+)"', svg)


def test_an_unfinished_visit_has_its_own_style_and_legend_entry() -> None:
    svg = str(waterfall(_trace(_span("01", None, "checkout", 10.0, 11.007, "ok"),
                               _span("02", "01", "payments", 10.002, None, "unfinished"))))
    bar = re.search(r'<rect class="unfinished"[^>]*>', svg)
    assert bar is not None
    assert STYLES["unfinished"][0] in bar.group(0)
    assert STYLES["wait"][0] not in bar.group(0)
    assert _legend(svg) == ["wait", "ok", "unfinished"]
    assert "≥1005.0" in svg


def test_the_legend_names_only_the_styles_drawn() -> None:
    svg = str(waterfall(_trace(_span("01", None, "checkout", 10.0, 10.02, "ok"),
                               _span("02", "01", "payments", 10.002, 10.01, "timeout"))))
    assert _legend(svg) == ["wait", "ok", "failed"]
    assert 'class="unfinished"' not in svg
