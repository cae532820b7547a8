"""Hand-written SVG charts for the report: line charts over simulated time (with fault windows
shaded), horizontal bars, and stacked state strips. No JavaScript and nothing fetched, so a
report opens offline; every data mark carries `data-points` or `data-value` (tests count them).

Text goes through markupsafe's escape; numbers are formatted here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from scalesim.render.downsample import MAX_POINTS, min_max

PALETTE = ("#3366cc", "#dc6b19", "#2a9d58", "#b8336a", "#7a5195", "#d4a72c", "#1f9aa8",
           "#8c564b", "#555555", "#e377c2")
FAULT_FILL = "#f4b6ae"
WIDTH, HEIGHT = 560, 210
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 30, 26


@dataclass(frozen=True)
class Series:
    name: str
    xs: list[float]
    ys: list[float | None]
    colour: str


@dataclass(frozen=True)
class Window:
    """A marked time span and what it was: a fault (shaded), a breaker open (a band along
    the top), no full answer (hatched grey: latency there is of fallbacks or nothing), a
    rollout (shaded blue) or a failed rollout analysis (a red line). `short` is written on
    the chart; `label` is the full text, shown on hover."""

    start_s: float
    end_s: float
    label: str
    kind: str = "fault"  # fault, breaker, empty, rollout or check
    short: str = ""


WINDOW_STYLE = {"fault": (FAULT_FILL, 0.45), "breaker": ("#b42318", 1.0),
                "empty": ("#9aa0a6", 0.16), "rollout": ("#8fb4e8", 0.3),
                "check": ("#c62828", 1.0)}
BOTTOM_LABELLED = ("empty", "rollout")  # kinds whose label sits at the bottom of the span
HATCH_STEP = 6.0  # px between the diagonal lines of a hatched span
BAND = 11  # height of a breaker band, px
CHAR_W_BAND = 4.9  # mean width of a character of a band's label, px

@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    colour: str = PALETTE[0]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10ⁿ steps) covering [low, high]."""
    span = high - low if high > low else abs(high) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


# The least span of an axis of error rates in per cent: 0–1 %, so that a run without errors
# is a flat line at the bottom and a 2 % error rate is not drawn as an outage.
ERROR_RATE_SPAN_PCT = 1.0


def value_ticks(highest: float, at_least: float = 0.0, count: int = 4) -> list[float]:
    """The ticks of a value axis from 0: round steps whose last is at or above both the
    data's `highest` and `at_least` (the least span the axis shows), so the top of the frame
    is a labelled tick and small values are not stretched to fill the chart."""
    top = max(highest if math.isfinite(highest) else 0.0, at_least)
    top = top if top > 0 else 1.0

    def covering(steps: int) -> list[float]:
        ticks = nice_ticks(0.0, top, steps)
        if ticks[-1] < top:  # one more step, so the highest point is inside the frame
            ticks.append(round(ticks[-1] + (ticks[1] - ticks[0] if len(ticks) > 1 else top),
                               10))
        return ticks

    # of up to two more steps, the one wasting the least room above the data (2.1: 0–2.5)
    return min((covering(steps) for steps in (count, count + 1, count + 2)),
               key=lambda ticks: (ticks[-1], len(ticks)))


def y_grid(ticks: list[float], y_of: Callable[[float], float], left: float,
           right: float) -> list[str]:
    """A value axis: a light rule and a label per tick."""
    return [f'<line x1="{left}" x2="{right}" y1="{y_of(tick):.1f}" y2="{y_of(tick):.1f}" '
            f'stroke="#e3e3e3"/><text x="{left - 5}" y="{y_of(tick) + 3.5:.1f}" '
            f'text-anchor="end" class="tick">{fmt(tick)}</text>' for tick in ticks]


CHAR_W_TICK = 6.4  # widest mean width of a character of a tick label (digits), px


def x_tick_label(x: float, y: float, text: str, width: float) -> str:
    """A label centred under its tick, unless that would run past the chart's right edge
    (the last tick of a 600 s run lost 2 px of '600 s'): then it ends at the edge."""
    if x + CHAR_W_TICK * len(text) / 2 <= width - 1:
        return (f'<text x="{x:.1f}" y="{y}" text-anchor="middle" class="tick">'
                f'{escape(text)}</text>')
    return f'<text x="{width - 1}" y="{y}" text-anchor="end" class="tick">{escape(text)}</text>'


def fmt(value: float) -> str:
    """A tick or value label: short, no float noise."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.4g}"


def svg(width: int, height: int, title: str, body: Iterable[str],
        classes: str = "chart") -> Markup:
    """The <svg> element around chart parts, titled for tooltips and screen readers."""
    return Markup(f'<svg class="{classes}" xmlns="http://www.w3.org/2000/svg" '
                  f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
                  + "".join(body) + "</svg>")


LONE_TICK = 3.0  # half-width of the short level stroke drawn for a point without neighbours


def _path(xs: list[float], ys: list[float | None], sx: float, x0: float, sy: float,
          y_base: float) -> tuple[str, int]:
    """The path through the points, lifting the pen at gaps (None). A point with a gap on
    both sides is drawn as a short level stroke: a bare move-to would draw nothing, hiding
    e.g. a p99 spike measured only in the odd interval of a fault window."""
    parts: list[str] = []
    points = 0
    for index, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if y is None:
            continue
        px, py = LEFT + (x - x0) * sx, y_base - y * sy
        joined = index > 0 and ys[index - 1] is not None
        if joined:
            parts.append(f"L{px:.1f},{py:.1f}")
        elif index + 1 < len(ys) and ys[index + 1] is not None:
            parts.append(f"M{px:.1f},{py:.1f}")
        else:
            parts.append(f"M{px - LONE_TICK:.1f},{py:.1f}h{2 * LONE_TICK:g}")
        points += 1
    return "".join(parts), points


def line_chart(title: str, unit: str, series: list[Series], x_span: tuple[float, float],
               windows: list[Window] | None = None, y_max: float | None = None,
               limit: int = MAX_POINTS, y_span: float = 0.0) -> Markup:
    """Lines over time, drawn from at most `limit` points in all (min–max buckets). The
    value axis runs from 0 to `y_max` when given (a fixed scale, e.g. a share of 100 %),
    else to the data's highest point, and at least to `y_span`."""
    x0, x1 = x_span
    per_series = max(50, limit // max(1, len(series)))
    sampled = [(s, *min_max(s.xs, s.ys, per_series)) for s in series]
    ticks = value_ticks(y_max, 0.0) if y_max is not None else value_ticks(
        max((y for _, _, ys in sampled for y in ys if y is not None), default=0.0), y_span)
    top = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    sx = plot_w / ((x1 - x0) or 1.0)
    sy = plot_h / top
    base = TOP + plot_h
    body = _windows(windows or [], x0, x1, sx, plot_h)
    body += y_grid(ticks, lambda value: base - value * sy, LEFT, WIDTH - RIGHT)
    for tick in nice_ticks(x0, x1, 6):
        x = LEFT + (tick - x0) * sx
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" '
                    f'stroke="#999"/>' + x_tick_label(x, base + 15, f"{fmt(tick)} s", WIDTH))
    body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" '
                f'stroke="#999"/><text x="4" y="{TOP - 8}" class="unit">{escape(unit)}</text>')
    for s, xs, ys in sampled:  # every line, whether or not the legend has room for it
        d, points = _path(xs, ys, sx, x0, sy, base)
        if points:
            body.append(f'<path d="{d}" fill="none" stroke="{s.colour}" stroke-width="1.5" '
                        f'stroke-linejoin="round" stroke-linecap="round" data-points="{points}" '
                        f'data-series="{escape(s.name)}"><title>{escape(s.name)}</title></path>')
    body += _legend([(s.name, s.colour, _weight(ys)) for s, _, ys in sampled])
    return svg(WIDTH, HEIGHT, title, body)


CHAR_W_LEGEND = 6.2  # mean width of a character of a legend entry, px
# room kept for "+N more (hover a line)": the gap after the last name, then the text
MORE_WIDTH = 9 + CHAR_W_LEGEND * len("+99 more (hover a line)")


def _weight(ys: list[float | None]) -> tuple[float, float]:
    """How much a line stands out: its peak, then its mean (0 for a line of no values)."""
    values = [y for y in ys if y is not None]
    return (max(values), sum(values) / len(values)) if values else (0.0, 0.0)


def _fits(names: list[str]) -> bool:
    """Whether every name has room along the top, with no '+N more' kept room for."""
    width = sum(22 + CHAR_W_LEGEND * len(name) for name in names) - 9
    return LEFT + 60.0 + width <= WIDTH - RIGHT


MIN_SHOWN = 12  # characters an elided legend name keeps, its start and end


def _elided(name: str, cap: int) -> str:
    """`name` in at most `cap` characters: its middle replaced by '…', since its start and
    its end tell lines apart (a queue's 'published' and 'delivered', a run's file)."""
    if len(name) <= cap:
        return name
    head = (cap - 1) // 2
    return name[:head] + "…" + name[len(name) - (cap - 1 - head):]


def _all_named(names: list[str]) -> list[str] | None:
    """Every name along the top, the longest elided as little as lets them all fit while
    they stay distinct; None when they cannot all fit (then '+N more' counts the rest)."""
    longest = max(map(len, names), default=0)
    for cap in range(longest, min(longest, MIN_SHOWN) - 1, -1):
        shown = [_elided(name, cap) for name in names]
        if _fits(shown) and len(set(shown)) == len(set(names)):
            return shown
    return None


def _legend(entries: list[tuple[str, str, tuple[float, float]]]) -> list[str]:
    """A name and colour per line along the top. All of them when they fit, long names
    elided in the middle (the full name on hover); otherwise as many as fit and the rest
    counted in a '+N more' that always has its room (the lines themselves are all drawn),
    the lines with the highest peak (then mean) named first, so the ones left to the hover
    are the least prominent, not the last in alphabetical order."""
    names = [name for name, _, _ in entries]
    shown = _all_named(names)
    if shown is None:
        entries = sorted(entries, key=lambda entry: entry[2], reverse=True)
    out: list[str] = []
    legend_x = LEFT + 60.0
    for index, (name, colour, _) in enumerate(entries):
        label = name if shown is None else shown[index]
        room = 0.0 if shown is not None else MORE_WIDTH
        if legend_x + 13 + CHAR_W_LEGEND * len(label) + room > WIDTH - RIGHT:
            out.append(f'<text x="{legend_x}" y="{TOP - 12}" class="legend">'
                       f'+{len(entries) - index} more (hover a line)</text>')
            break
        full = "" if label == name else f"<title>{escape(name)}</title>"
        out.append(f'<rect x="{legend_x}" y="{TOP - 16}" width="10" height="3" '
                   f'fill="{colour}"/><text x="{legend_x + 13}" y="{TOP - 12}" '
                   f'class="legend">{escape(label)}{full}</text>')
        legend_x += 22 + CHAR_W_LEGEND * len(label)
    return out


def _windows(windows: list[Window], x0: float, x1: float, sx: float,
             plot_h: int) -> list[str]:
    """The marked spans, each with its short label written on the chart once per run of
    adjacent spans of the same label (where there is room for it)."""
    body: list[str] = []
    bands: dict[str, int] = {}  # breaker label -> its row of bands along the top
    labelled: set[tuple[str, str]] = set()
    for window in sorted(windows, key=lambda w: (w.kind, w.start_s)):
        a, b = max(window.start_s, x0), min(window.end_s, x1)
        if b <= a:
            continue
        fill, opacity = WINDOW_STYLE.get(window.kind, WINDOW_STYLE["fault"])
        x, width = LEFT + (a - x0) * sx, max((b - a) * sx, 1.0)
        y, height = TOP, plot_h
        if window.kind == "breaker":
            row = bands.setdefault(window.short, len(bands))
            y, height = TOP + row * (BAND + 1), BAND
        body.append(f'<rect class="{window.kind}" x="{x:.1f}" y="{y}" width="{width:.1f}" '
                    f'height="{height}" fill="{fill}" fill-opacity="{opacity}"'
                    + (' stroke="#6e7781" stroke-dasharray="2,2" stroke-width="0.6"'
                       if window.kind == "empty" else "")
                    + f'><title>{escape(window.label)}</title></rect>')
        if window.kind == "empty":
            body.append(_hatch(x, y, width, height))
        key = (window.kind, window.short)
        if not window.short or key in labelled:
            continue
        text = window.short
        if window.kind == "breaker":  # written in the band, shortened to fit, else on hover
            text = next((t for t in (text, "breaker open", "open")
                         if len(t) * CHAR_W_BAND + 4 <= width), "")
            if not text:
                continue
        labelled.add(key)
        if window.kind == "breaker":
            text_y, anchor_x = y + BAND - 2.5, x + 2
        elif window.kind in BOTTOM_LABELLED:
            text_y, anchor_x = TOP + plot_h - 4, x + 2
        else:
            text_y, anchor_x = TOP + 10 + BAND * len(bands), x + 2
        body.append(f'<text class="mark {window.kind}" x="{anchor_x:.1f}" y="{text_y:.1f}">'
                    f'{escape(text)}</text>')
    return body


def _hatch(x: float, y: float, width: float, height: float) -> str:
    """Diagonal lines across a rect, drawn as one path rather than an SVG pattern: a
    pattern needs an id, and an id shared by many charts on a page resolves to the first,
    which draws nothing while it sits in a closed <details>."""
    segments: list[str] = []
    # lines where x + y is a multiple of the step, so adjacent spans' lines meet
    k = math.floor((x + y) / HATCH_STEP + 1) * HATCH_STEP - x - y
    while k < width + height:  # the line from (x + k, y) down and to the left
        t0, t1 = max(0.0, k - width), min(height, k)
        segments.append(f"M{x + k - t0:.1f},{y + t0:.1f}L{x + k - t1:.1f},{y + t1:.1f}")
        k += HATCH_STEP
    return (f'<path class="hatch" d="{"".join(segments)}" stroke="#6e7781" '
            f'stroke-opacity="0.55" stroke-width="0.8" fill="none" pointer-events="none"/>')


def bar_chart(title: str, bars: list[Bar], width: int = 820) -> Markup:
    """Horizontal bars, one per row, value text at the end of each."""
    label_w, row = 260, 22
    height = TOP + row * len(bars) + 8
    top = max((b.value for b in bars), default=0.0) or 1.0
    plot_w = width - label_w - 270
    body = [f'<text x="4" y="{TOP - 12}" class="unit">{escape(title)}</text>']
    for index, bar in enumerate(bars):
        y = TOP + index * row
        length = max(bar.value / top * plot_w, 1.0 if bar.value else 0.0)
        body.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" '
                    f'class="label">{escape(bar.label)}</text>'
                    f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
                    f'fill="{bar.colour}" data-value="{bar.value:g}">'
                    f'<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
                    f'<text x="{label_w + length + 5:.1f}" y="{y + 14}" '
                    f'class="label">{escape(bar.text)}</text>')
    return svg(width, height, title, body)


MAX_TICKS = 400  # transition marks per strip; beyond that every n-th is drawn
STATE_COLOURS = {"closed": "#cfe8cf", "half_open": "#f6c453", "open": "#e0685a"}


def state_strip(title: str, xs: list[float], open_share: list[float],
                half_open_share: list[float], x_span: tuple[float, float],
                transitions: list[tuple[float, str]], interval_s: float) -> Markup:
    """A breaker's state over time: per interval the share of its breakers open (red) and
    half-open (amber) stacked on closed (green), transition ticks below."""
    x0, x1 = x_span
    height, strip = 78, 34
    plot_w = WIDTH - LEFT - RIGHT
    sx = plot_w / ((x1 - x0) or 1.0)
    body: list[str] = []
    widths = [interval_s] + [b - a for a, b in pairwise(xs)]
    for x, width, opened, half in zip(xs, widths, open_share, half_open_share, strict=True):
        left = LEFT + (x - width - x0) * sx
        w = max(width * sx, 0.6)
        shares = (("closed", 1.0 - opened - half), ("half_open", half), ("open", opened))
        y = float(TOP + strip)
        for state, share in shares:
            if share <= 0:
                continue
            h = share * strip
            y -= h
            body.append(f'<rect x="{left:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                        f'fill="{STATE_COLOURS[state]}" data-value="{share:.3g}"/>')
    for t, state in transitions[::max(1, len(transitions) // MAX_TICKS)]:
        x = LEFT + (t - x0) * sx
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + strip + 2}" '
                    f'y2="{TOP + strip + 9}" stroke="{STATE_COLOURS.get(state, "#333")}" '
                    f'stroke-width="1.5"><title>→ {escape(state)} at {t:g} s</title></line>')
    for tick in nice_ticks(x0, x1, 6):
        x = LEFT + (tick - x0) * sx
        body.append(x_tick_label(x, height - 4, fmt(tick), WIDTH))
    legend_x = float(LEFT)
    for state, fill in STATE_COLOURS.items():
        body.append(f'<rect x="{legend_x}" y="{TOP - 18}" width="10" height="10" '
                    f'fill="{fill}"/><text x="{legend_x + 13}" y="{TOP - 9}" '
                    f'class="legend">{state.replace("_", "-")}</text>')
        legend_x += 80
    return svg(WIDTH, height, title, body)
