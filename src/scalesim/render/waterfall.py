"""A sampled request as a Gantt timeline: one row per visit, nested under its caller, so
parallel calls show as overlapping bars and sequential ones as a staircase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from scalesim.render.charts import CHAR_W_LEGEND, fmt, nice_ticks, svg

MAX_ROWS = 60
ROW, LABEL_W, WIDTH, TOP = 18, 250, 900, 22
# How each part of a bar is drawn (SVG attributes) and named in the legend below it. A visit
# still running when the run ended is an open outline: its end is unknown, not grey (grey
# is the way there).
STYLES = {
    "wait": ('fill="#d7dde8"', "the way there (network, queue)"),
    "ok": ('fill="#3366cc"', "visit, ok"),
    "failed": ('fill="#d9534f"', "failed"),
    "late": ('fill="#9db5e0"', "answered after the caller stopped waiting"),
    "unfinished": ('fill="#ffffff" stroke="#3366cc" stroke-width="1.2" stroke-dasharray="3,2"',
                   "unfinished when the run ended"),
}
LEGEND_H = 18


@dataclass(frozen=True)
class Overlap:
    """Time a request spent in calls, summed over calls and as wall-clock time: the
    difference ran in parallel."""

    call_ms: float
    wall_ms: float
    calls: int  # synchronous calls waited for; none: nothing to say about parallelism

    @property
    def parallel_ms(self) -> float:
        return self.call_ms - self.wall_ms


def _union(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def overlap(trace: dict[str, Any]) -> Overlap:
    """Over each visit's own synchronous calls (async ones are not waited for), each up to
    when its caller finished at the latest (a late answer is not waited for; a call still
    running when the run ended was waited for until then: its caller's timeout)."""
    ends = {span["span_id"]: span["end_s"] for span in trace["spans"]}
    children: dict[str, list[tuple[float, float]]] = {}
    for span in trace["spans"]:
        parent_end = ends.get(span["parent_span_id"] or "")
        if parent_end is not None and span["kind"] != "async":
            end = parent_end if span["end_s"] is None else min(span["end_s"], parent_end)
            children.setdefault(span["parent_span_id"], []).append((span["sent_s"], end))
    call = sum(end - start for spans in children.values() for start, end in spans)
    wall = sum(_union(spans) for spans in children.values())
    return Overlap(call * 1e3, wall * 1e3, sum(map(len, children.values())))


def ordered(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Depth-first, callers before callees, siblings by the time they were sent."""
    kids: dict[str | None, list[dict[str, Any]]] = {}
    known = {span["span_id"] for span in spans}
    for span in spans:
        parent = span["parent_span_id"] if span["parent_span_id"] in known else None
        kids.setdefault(parent, []).append(span)
    out: list[tuple[int, dict[str, Any]]] = []

    def visit(parent: str | None, depth: int) -> None:
        for span in sorted(kids.get(parent, []), key=lambda s: (s["sent_s"], s["span_id"])):
            out.append((depth, span))
            visit(span["span_id"], depth + 1)

    visit(None, 0)
    return out


def waterfall(trace: dict[str, Any]) -> Markup:
    """The SVG timeline: the grey part of a bar is the way there (network and queue), the
    coloured part the visit; red failed, light blue answered after the caller stopped
    waiting (timed out or lost a hedge), a dashed outline still running when the run ended.
    A legend below names the styles the trace uses."""
    rows = ordered(trace["spans"])
    hidden = len(rows) - MAX_ROWS
    rows = rows[:MAX_ROWS]
    by_id = {span["span_id"]: span for span in trace["spans"]}
    origin = trace["start_s"]
    end = max([s["end_s"] or s["sent_s"] for _, s in rows] + [origin + 1e-3])
    span_ms = (end - origin) * 1e3
    plot_w = WIDTH - LABEL_W - 60
    scale = plot_w / span_ms
    rows_h = TOP + ROW * len(rows) + (18 if hidden > 0 else 6)
    height = rows_h + LEGEND_H
    body: list[str] = []
    used: set[str] = set()
    for tick in nice_ticks(0.0, span_ms, 6):
        x = LABEL_W + tick * scale
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 4}" y2="{rows_h - 4}" '
                    f'stroke="#eeeeee"/><text x="{x:.1f}" y="{TOP - 8}" text-anchor="middle" '
                    f'class="tick">{fmt(tick)} ms</text>')
    for index, (depth, span) in enumerate(rows):
        y = TOP + index * ROW
        notes = [span["kind"]] if span["kind"] not in ("entry", "call") else []
        notes += [f"attempt {span['attempt']}"] if span["attempt"] > 1 else []
        replica = "" if span["replica"] is None else f"[{span['replica']}]"
        label = f"{span['component']}{replica}.{span['operation']}" + (
            f" ({', '.join(notes)})" if notes else "")
        body.append(f'<text x="{6 + depth * 12}" y="{y + 13}" class="label">'
                    f'{escape(label)}</text>')
        sent = (span["sent_s"] - origin) * 1e3
        start = ((span["start_s"] if span["start_s"] is not None else span["sent_s"])
                 - origin) * 1e3
        finish = ((span["end_s"] if span["end_s"] is not None else end) - origin) * 1e3
        parent = by_id.get(span["parent_span_id"] or "")
        late = (parent is not None and span["kind"] != "async" and parent["end_s"] is not None
                and span["end_s"] is not None and span["end_s"] > parent["end_s"])
        style = _style(span, late)
        unfinished = style == "unfinished"
        tip = (f"{label}: sent {sent:.2f} ms, started {start:.2f} ms, "
               + (f"still running at the end of the run ({finish:.2f} ms)" if unfinished
                  else f"ended {finish:.2f} ms, {span['status']}")
               + (", answer no longer awaited" if late else ""))
        if start > sent:
            used.add("wait")
            body.append(f'<rect x="{LABEL_W + sent * scale:.1f}" y="{y + 4}" '
                        f'width="{(start - sent) * scale:.1f}" height="10" '
                        f'{STYLES["wait"][0]}/>')
        used.add(style)
        body.append(f'<rect class="{style}" x="{LABEL_W + start * scale:.1f}" y="{y + 3}" '
                    f'width="{max((finish - start) * scale, 1.0):.1f}" height="12" rx="2" '
                    f'{STYLES[style][0]} data-value="{finish - start:.4g}">'
                    f'<title>{escape(tip)}</title></rect>'
                    f'<text x="{LABEL_W + finish * scale + 4:.1f}" y="{y + 13}" '
                    f'class="tick">{"≥" if unfinished else ""}{finish - sent:.1f}</text>')
    if hidden > 0:
        body.append(f'<text x="6" y="{rows_h - 4}" class="tick">… {hidden} more spans '
                    f'not drawn</text>')
    body += _legend([key for key in STYLES if key in used], height - 5)
    return svg(WIDTH, height, f"trace {trace['trace_id']}", body, "chart waterfall")


def _style(span: dict[str, Any], late: bool) -> str:
    """Which of STYLES a visit's bar takes: late over its status; any status but ok and
    unfinished is a failure (timeout, error, refused…)."""
    if late:
        return "late"
    return span["status"] if span["status"] in ("ok", "unfinished") else "failed"


def _legend(keys: list[str], baseline: float) -> list[str]:
    """A swatch and a name per style the trace uses, along the bottom."""
    out: list[str] = []
    x = 6.0
    for key in keys:
        attributes, name = STYLES[key]
        out.append(f'<rect class="key {key}" x="{x:.1f}" y="{baseline - 9}" width="16" '
                   f'height="10" rx="2" {attributes}/><text x="{x + 20:.1f}" y="{baseline}" '
                   f'class="legend">{escape(name)}</text>')
        x += 34 + CHAR_W_LEGEND * len(name)
    return out
