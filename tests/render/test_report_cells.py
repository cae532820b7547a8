"""Cells of the report and the terminal that read as what they are (QA pass): a queue has
no latency of its own, means of thousands are separated like the counts beside them, a trace
with no calls says nothing about calls, and each cache column holds what its header names."""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console

from scalesim.render.consistency_tables import consistency_views
from scalesim.render.report import render_report
from scalesim.render.terminal import print_summary
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

# a queue whose publishes take no time, and a workload straight to a service with no calls
SPEC = """\
scalesim: 1
name: cells
components:
  api:
    operations:
      submit: {work: 1ms, calls: [{to: orders.publish}]}
  orders:
    kind: queue
    consumers:
      - {to: worker.process, concurrency: 4}
  worker:
    operations:
      process: {work: 2ms}
workloads:
  - {name: submit, to: api.submit, rate: 50/s}
  - {name: direct, to: worker.process, rate: 20/s}
simulation:
  duration: 5s
"""


def _run() -> dict[str, Any]:
    return simulate(load_spec_text(SPEC), with_series=True)


def _components_table(html: str) -> str:
    section = html[html.index('<section id="components">'):]
    return section[:section.index("</section>")]


def _row(table: str, name: str) -> list[str]:
    row = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", table, re.S)
    assert row is not None, name
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)


def _queued() -> dict[str, Any]:
    """A result whose queue publishes take no time, with a backlog in the thousands."""
    result = _run()
    orders = result["components"]["orders"]
    assert orders["latency_ms"].get("max") == 0
    return {**result, "components": {**result["components"], "big": {
        **orders, "kind": "service", "queue_mean": 38458.81, "concurrency_mean": 1024.0}}}


def test_a_queue_shows_no_latency_and_big_means_are_separated() -> None:
    result = _queued()
    table = _components_table(render_report(result, None))
    queue = "orders"
    assert _row(table, queue)[-3:] == ["—", "—", "—"]
    big = _row(table, "big")
    assert "38,458.81" in big and "1,024.00" in big and big[-1] == "0.00 ms"
    console = Console(file=io.StringIO(), width=250)
    print_summary(result, console)
    printed = console.file.getvalue()
    line = next(x for x in printed.splitlines() if f" {queue} " in x and "queue" in x)
    assert line.split("│")[-3].strip() == "—"  # p99 ms
    assert "38,458.81" in printed


def test_a_trace_without_calls_has_no_calls_caption() -> None:
    result = _run()
    trace = next(t for t in result["traces"] if t["workload"] == "direct")
    assert len(trace["spans"]) == 1
    html = render_report({**result, "traces": [trace]}, None)
    waterfalls = html[html.index('<section id="traces">'):]
    assert "<figcaption>" in waterfalls and "ms in calls" not in waterfalls


def test_each_cache_column_holds_what_its_header_names() -> None:
    cache = {"ttl_s": 0.2, "write_policy": "invalidate", "stampede": "coalesce",
             "hit_ratio": 0.48, "misses": 23039, "coalesced": 2902, "early_refreshes": 3,
             "refreshes": 0, "loads_per_burst": {"mean": 1.0, "max": 1},
             "stale_read_share": 0.0084, "staleness_ms": {"p99": 215.3}, "lost_writes": 0,
             "writes": 10}
    (view,) = consistency_views({"caches": {"catalog": cache}})
    _, columns, rows = view
    cells = dict(zip([c.header for c in columns], rows[0], strict=True))
    assert cells["writes"] == "invalidate" and cells["stampede"] == "coalesce"
    assert cells["coalesced/early/refresh"] == "2,902/3/0"
