"""The HTML report: sections from the result, nothing fetched, bounded size for long runs,
and downsampling that keeps extremes."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from tests.render.helpers import EXAMPLES, app, run
from typer.testing import CliRunner

from scalesim.render.downsample import means, min_max
from scalesim.render.report import render_report, write_report
from scalesim.render.waterfall import overlap
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

LONG = """\
scalesim: 1
name: long
components:
  api:
    replicas: 2
    workers: 4
    operations:
      get: {work: {dist: exponential, mean: 5ms}, calls: [{to: db.read, timeout: 50ms,
            retry: {attempts: 2}, circuit_breaker: {min_calls: 10, window: 20}}]}
  db:
    workers: 4
    operations:
      read: {work: {dist: exponential, mean: 2ms}}
workloads:
  - {name: users, to: api.get, rate: 2/s}
faults:
  - {target: db, at: 1800s, for: 600s, error_rate: 50%}
simulation: {duration: 2h, seed: 7}
"""


def _points(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-points="(\d+)"', html)]


def test_report_shows_every_section_with_the_results_numbers() -> None:
    system, result = run("contained", "simulation.duration=45s")
    html = render_report(result, system)
    for anchor in ("summary", "time", "architecture", "components", "resilience", "traces"):
        assert f'id="{anchor}"' in html
    assert f"{result['throughput_rps']:,.1f} rps" in html
    assert "SLO met" in html or "SLO missed" in html
    assert "gateway.browse → recs.get" in html  # the breaker dashboard
    assert html.count('class="chart waterfall"') <= 3 * 3 * len(result["workloads"])
    assert 'class="fault"' in html  # the recs slowdown is shaded
    assert all(n > 0 for n in _points(html))


def test_report_tells_what_happened_degraded_answers_diagnosis_and_marks() -> None:
    from scalesim.diagnosis import diagnose

    system, result = run("contained", "simulation.duration=45s")
    html = render_report({**result, "diagnosis": diagnose(system, result)}, system)
    degraded = result["requests"]["degraded"]
    assert degraded > 0
    assert f"degraded ({degraded:,} answered by a fallback)" in html  # a KPI card
    assert "Diagnosis: what is wrong and what to change" in html
    assert "answered degraded" in html and "--set 'faults=[]'" in unescape(html)
    assert 'class="mark breaker"' in html and 'class="mark fault"' in html
    assert 'class="mark empty"' in html  # browsing answered only by the fallback
    assert "error rate: failed answers / answers in each interval" in html


def test_report_of_a_queue_charts_its_backlog_and_lag() -> None:
    system, result = run("shop", "simulation.duration=20s")
    html = render_report(result, system)
    assert "queue backlog: messages not yet settled at the end of each interval" in html
    assert "queue lag: how long the oldest unsettled message has waited" in html


def test_report_shows_the_data_tables_of_the_terminal_and_election_events() -> None:
    """A Raft leader cut off without CheckQuorum: the report's data section has the same
    elections row as the terminal table, and the events in time order; a spec with queues
    has the terminal's queue table there; one without data has no section."""
    from scalesim.render.data_tables import data_views

    system = load_spec_text(Path("frontend/tests/results/raft-cut.yaml").read_text())
    result = simulate(system)
    html = render_report(result, system)
    assert 'id="data"' in html and 'href="#data"' in html
    ((title, _, rows),) = data_views(result)
    assert title == "Leader elections"
    left = ' class="l"'
    cells = "".join(f"<td{left if i == 0 else ''}>{cell}</td>" for i, cell in enumerate(rows[0]))
    assert cells in html.replace("\n", "")
    assert rows[0][-1] == f"{result['elections']['etcd']['split_brain_s']:,.2f}"
    events = [e["event"].replace("_", " ") for e in result["elections"]["etcd"]["events"]]
    assert events == ["elected", "election", "partitioned", "elected", "second leader",
                      "stepped down"]
    positions = [html.index(f'<td class="l">{event}</td>', html.index('id="data"'))
                 for event in ("partitioned", "second leader", "stepped down")]
    assert positions == sorted(positions)
    assert 'id="data"' not in render_report(*reversed(run("contained", "simulation.duration=5s")))
    system, result = run("shop", "simulation.duration=20s")
    shop = render_report(result, system)
    (queues, *_), *_ = data_views(result)
    assert queues.startswith("Queues")
    assert str(escape(queues)) in shop[shop.index('id="data"'):]


def test_report_fetches_nothing() -> None:
    system, result = run("shop", "simulation.duration=20s")
    html = render_report(result, system)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "url(" not in html


def test_without_series_or_spec_the_report_says_what_is_missing() -> None:
    _, result = run("contained", "simulation.duration=45s")
    bare = {k: v for k, v in result.items() if k != "timeseries"}
    html = render_report(bare, None)
    assert "has no time series" in html and "Built from the result alone" in html


def test_a_two_hour_run_gives_a_bounded_report(tmp_path: Path) -> None:
    system = load_spec_text(LONG)
    result = simulate(system, 7, with_series=True)
    assert len(result["timeseries"]["workloads"]["rows"]) == 7200
    path = tmp_path / "long.html"
    write_report(result, system, path)
    html = path.read_text()
    assert path.stat().st_size < 2_000_000
    for chart in re.findall(r'<svg class="chart".*?</svg>', html, flags=re.S):
        assert sum(_points(chart)) <= 2000 + 2 * 50  # per-series floor of 50 points
    assert len(re.findall(r'data-value="', html)) < 20_000


def test_min_max_keeps_extremes_and_the_limit() -> None:
    xs = [float(i) for i in range(10_000)]
    ys: list[float | None] = [float(i % 97) for i in range(10_000)]
    ys[5000], ys[7000] = 1e6, -5.0
    out_x, out_y = min_max(xs, ys, 2000)
    assert len(out_x) <= 2000 and out_x == sorted(out_x)
    assert 1e6 in out_y and -5.0 in out_y
    assert min_max(xs[:10], ys[:10], 2000) == (xs[:10], ys[:10])
    gaps = min_max(xs, [None] * 10_000, 100)[1]
    assert set(gaps) == {None}


def test_means_keep_the_time_average() -> None:
    xs = [float(i) for i in range(1, 7201)]
    share = [1.0 if 1800 <= i < 2400 else 0.0 for i in range(7200)]
    out_x, (out,) = means(xs, [share], 2000)
    assert len(out_x) <= 2000
    weights = [b - a for a, b in zip([0.0, *out_x], out_x, strict=False)]
    assert sum(w * s for w, s in zip(weights, out, strict=True)) == 600.0


def test_cli_report_from_a_result_and_from_a_spec(tmp_path: Path) -> None:
    _, result = run("contained", "simulation.duration=45s")
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    runner = CliRunner()
    done = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "a.html"), "--spec",
                               str(EXAMPLES / "contained.yaml")])
    assert done.exit_code == 0, done.output
    assert "browsing" in (tmp_path / "a.html").read_text()
    done = runner.invoke(app, ["report", str(EXAMPLES / "contained.yaml"), "-o",
                               str(tmp_path / "b.html"), "--set", "simulation.duration=10s"])
    assert done.exit_code == 0, done.output
    bad = runner.invoke(app, ["report", str(EXAMPLES / "contained.yaml"), "-o",
                              str(tmp_path / "c.html"), "--set", "simulation.duration=fast"])
    assert bad.exit_code == 2
    path.write_text("{}")
    assert runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "d.html")]
                         ).exit_code == 2


def test_a_call_still_running_at_the_end_counts_until_its_caller_stopped_waiting() -> None:
    """circuit-breaker's slowest trace: checkout waited 1 s on a payments call that was
    still running when the run ended, then fell back; the caption said 0.0 ms in calls."""
    def span(span_id: str, parent: str | None, sent: float, end: float | None) -> dict[str, Any]:
        return {"span_id": span_id, "parent_span_id": parent, "kind": "call" if parent
                else "entry", "sent_s": sent, "end_s": end}

    trace = {"spans": [span("root", None, 0.0, 1.0075), span("pay", "root", 0.002, None),
                       span("late", "root", 0.5, 2.0)]}
    found = overlap(trace)
    assert found.call_ms == pytest.approx((1.0075 - 0.002 + 1.0075 - 0.5) * 1e3)
    assert found.wall_ms == pytest.approx((1.0075 - 0.002) * 1e3)


def test_refusals_for_want_of_a_leader_and_of_a_quorum_have_their_own_names() -> None:
    """distributed-state-machine's tables said 'unavailable 0' for its replication next to
    3,899 visits refused unavailable: the first counts requests that found no quorum, the
    second those that found no leader. The columns now say which."""
    from scalesim.render.consistency_tables import consistency_views

    replication = {"mode": "raft", "read_from": "leader", "commit_wait_ms": {}, "lag_ms": {},
                   "p_consistent": {"0ms": 1.0, "10ms": 1.0}, "t_visibility_ms": {"p999": 0.0},
                   "stale_read_share": 0.0, "unavailable": 7, "lost_on_failover": 0}
    election = {"type": "raft", "failovers": 1, "failover_ms": {"p50": 1.0, "max": 1.0},
                "leaderless_s": 1.0, "refused_no_leader": 3899, "split_votes": 0,
                "split_brain_s": 0.0}
    views = {title.split(" (")[0]: ([c.header for c in columns], rows[0]) for title, columns, rows
             in consistency_views({"replication": {"kv": replication},
                                   "elections": {"kv": election}})}
    headers, row = views["Replication"]
    assert row[headers.index("no quorum")] == "7"
    headers, row = views["Leader elections"]
    assert row[headers.index("refused, no leader")] == "3,899"


def test_a_cache_without_writes_shows_no_write_policy() -> None:
    """A read-only cache printed 'invalidate', the default of a write policy it never used;
    a cache that had writes still shows its policy."""
    from scalesim.render.consistency_tables import consistency_views

    cache = {"ttl_s": 1.0, "write_policy": "invalidate", "stampede": "none", "hit_ratio": 0.9,
             "misses": 10, "coalesced": 0, "early_refreshes": 0, "refreshes": 0,
             "loads_per_burst": {"mean": 1.0, "max": 1}, "stale_read_share": 0.0,
             "staleness_ms": {}, "lost_writes": 0, "writes": 0}

    def cell(entry: dict[str, Any]) -> Any:
        (view,) = consistency_views({"caches": {"c": entry}})
        _, columns, rows = view
        return rows[0][[c.header for c in columns].index("writes")]

    assert cell(cache) == "no writes"
    assert cell({**cache, "writes": 5, "write_policy": "write_behind"}) == "write-behind"


def test_report_charts_each_busy_calls_attempts_over_time() -> None:
    """The retry storm's edge: its attempts and the retries among them per interval, from
    the result's calls series (the report showed only the run's ×2.7 bar); an edge that only
    called gets no chart."""
    system, result = run("retry-storm")
    html = render_report(result, system)
    assert "<h3>Calls over time</h3>" in html
    chart = html[html.index("<h3>Calls over time</h3>"):]
    chart = chart[:chart.index("</div>")]
    assert 'data-series="attempts"' in chart and 'data-series="retries"' in chart
    assert "clients.send → api.handle: attempts per second" in chart
    _, shop = run("shop")
    html = render_report(shop, None)
    for call in shop["calls"]:
        title = f"{call['from']} → {call['to']}: attempts per second"
        causes = call["attempt_failures_by_cause"]
        busy = call["retries"] or call["fallbacks"] or call["timeouts"] or any(
            causes[c] for c in ("circuit_open", "bulkhead_full", "overflow"))
        assert (title in html) == bool(busy), title


ALONE = """\
scalesim: 1
name: alone
components:
  web:
    workers: 2
    operations:
      get: {work: {dist: exponential, mean: 5ms}}
workloads:
  - {name: users, to: web.get, rate: 20/s}
simulation: {duration: 3s, seed: 1}
"""


def test_a_run_without_calls_says_so_instead_of_an_empty_calls_table() -> None:
    """autoscaling and canary showed the Calls heading over a table of headers only."""
    system = load_spec_text(ALONE)
    html = render_report(simulate(system, with_series=True), system)
    start = html.index("<h3>Calls</h3>")
    calls = html[start:html.index("</section>", start)]
    assert "<table" not in calls
    assert "No calls between components" in calls
