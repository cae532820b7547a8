"""The HTML report of a sweep: the numbers people compare plotted against the varied
parameter (latency percentiles, throughput and goodput, error rate), 95 % confidence bands
across replications where there are several, and the knee marked. One self-contained file:
inline SVG and CSS, no scripts, nothing fetched."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from scalesim.render.charts import (
    ERROR_RATE_SPAN_PCT,
    HEIGHT,
    WIDTH,
    colour,
    fmt,
    nice_ticks,
    svg,
    value_ticks,
    x_tick_label,
    y_grid,
)
from scalesim.render.html import render_page
from scalesim.spec.units import parse_duration, parse_rate
from scalesim.sweep.grid import quantity
from scalesim.sweep.table import KNEE_LABEL

LEFT, RIGHT, TOP, BOTTOM = 58, 14, 32, 40
MAX_GROUPS = 8


@dataclass(frozen=True)
class Curve:
    name: str
    ys: list[float | None]
    lows: list[float | None]
    highs: list[float | None]
    colour: str


@dataclass(frozen=True)
class Axis:
    """The x axis: numbers (linear or log) in `unit`, or the values' order when they are not
    numbers."""

    values: list[str]
    xs: list[float]
    log: bool
    label: str
    unit: str = ""

    def position(self, x: float, width: float) -> float:
        low, high = self.span
        if self.log:
            x, low, high = math.log10(x), math.log10(low), math.log10(high)
        return LEFT + (x - low) / ((high - low) or 1.0) * width

    @property
    def span(self) -> tuple[float, float]:
        return min(self.xs), max(self.xs)

    @property
    def title(self) -> str:
        """The swept parameter with its unit, as written under the axis."""
        notes = [note for note in (self.unit, "log scale" if self.log else "") if note]
        return f"{self.label} ({', '.join(notes)})" if notes else self.label


def _kind(value: str) -> str:
    """What a swept value measures, as `quantity` reads it: a rate, a duration, a percentage
    or a plain number."""
    text = value.strip()
    for kind, parse in (("rate", parse_rate), ("duration", parse_duration)):
        try:
            parse(text)
        except ValueError:
            continue
        return kind
    return "percent" if text.endswith("%") else "number"


def x_unit(values: list[str], numbers: list[float]) -> tuple[str, float]:
    """The unit the axis is drawn in and the factor from `quantity`'s numbers (rates per
    second, durations in seconds, percentages as fractions) to it: durations of at most a
    second in ms, percentages in %; none for plain numbers (replicas, workers) or a mix."""
    kinds = {_kind(v) for v in values}
    if kinds == {"rate"}:
        return "per second", 1.0
    if kinds == {"duration"}:
        return ("ms", 1e3) if max(numbers) <= 1.0 else ("s", 1.0)
    if kinds == {"percent"}:
        return "%", 100.0
    return "", 1.0


def x_axis(path: str, values: list[str]) -> Axis:
    numbers = [quantity(v) for v in values]
    if all(n is not None for n in numbers) and len(set(numbers)) == len(numbers):
        plain = [float(n) for n in numbers if n is not None]
        unit, scale = x_unit(values, plain)
        xs = [x * scale for x in plain]
        log = min(xs) > 0.0 and max(xs) / min(xs) >= 50.0
        return Axis(values, xs, log, path, unit)
    return Axis(values, [float(i) for i in range(len(values))], False, path)


def _ticks(axis: Axis) -> list[tuple[float, str]]:
    if axis.xs == [float(i) for i in range(len(axis.values))] and \
            any(quantity(v) is None for v in axis.values):
        return list(zip(axis.xs, axis.values, strict=True))
    low, high = axis.span
    if axis.log:
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        return [(10.0**d, fmt(10.0**d)) for d in decades if low <= 10.0**d <= high]
    return [(t, fmt(t)) for t in nice_ticks(low, high, 6)]


def chart(title: str, unit: str, axis: Axis, curves: list[Curve],
          knees: list[tuple[float, str]], y_span: float = 0.0) -> Markup:
    """Lines with optional confidence bands against the swept parameter; dashed knees, each
    (x, label). The value axis runs from 0 to the highest point, and at least to `y_span`."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    finite = [v for c in curves for v in (*c.ys, *c.highs) if v is not None and math.isfinite(v)]
    ticks = value_ticks(max(finite, default=0.0), y_span)
    top = ticks[-1]
    base = TOP + plot_h

    def y_of(value: float) -> float:
        return base - min(value, top) / top * plot_h

    body = y_grid(ticks, y_of, LEFT, WIDTH - RIGHT)
    for x, label in _ticks(axis):
        px = axis.position(x, plot_w)
        body.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{base}" y2="{base + 4}" '
                    f'stroke="#999"/>' + x_tick_label(px, base + 15, label, WIDTH))
    body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" '
                f'stroke="#999"/><text x="4" y="{TOP - 12}" class="unit">{escape(unit)}</text>'
                f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
                f'class="unit axis-title">{escape(axis.title)}</text>')
    at_unit = f" {escape(axis.unit)}" if axis.unit else ""
    for x, label in knees:
        px = axis.position(x, plot_w)
        body.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{base}" stroke="#b8336a"'
                    f' stroke-dasharray="4 3" data-knee="{x:g}"><title>{label} at {fmt(x)}'
                    f'{at_unit}</title></line><text x="{px + 3:.1f}" y="{TOP + 10}" '
                    f'class="legend" fill="#b8336a">{label}</text>')
    legend_x = LEFT + 40.0
    for curve in curves:
        band = [(axis.position(x, plot_w), lo, hi) for x, lo, hi in
                zip(axis.xs, curve.lows, curve.highs, strict=True)
                if lo is not None and hi is not None]
        if len(band) >= 2:
            outline = [f"{px:.1f},{y_of(hi):.1f}" for px, _, hi in band] + \
                [f"{px:.1f},{y_of(lo):.1f}" for px, lo, _ in reversed(band)]
            body.append(f'<polygon points="{" ".join(outline)}" fill="{curve.colour}" '
                        f'fill-opacity="0.15" stroke="none" data-band="{len(band)}"/>')
        marks = [(axis.position(x, plot_w), y) for x, y in zip(axis.xs, curve.ys, strict=True)
                 if y is not None and math.isfinite(y)]
        if marks:
            path = "".join(f"{'M' if i == 0 else 'L'}{px:.1f},{y_of(y):.1f}"
                           for i, (px, y) in enumerate(marks))
            body.append(f'<path d="{path}" fill="none" stroke="{curve.colour}" '
                        f'stroke-width="1.6" data-points="{len(marks)}" '
                        f'data-series="{escape(curve.name)}"><title>{escape(curve.name)}'
                        "</title></path>")
            body.extend(f'<circle cx="{px:.1f}" cy="{y_of(y):.1f}" r="2.2" '
                        f'fill="{curve.colour}"><title>{escape(curve.name)}: {fmt(y)}</title>'
                        "</circle>" for px, y in marks)
        body.append(f'<rect x="{legend_x}" y="{TOP - 17}" width="10" height="3" '
                    f'fill="{curve.colour}"/><text x="{legend_x + 13}" y="{TOP - 13}" '
                    f'class="legend">{escape(curve.name)}</text>')
        legend_x += 24 + 6.2 * len(curve.name)
    return svg(WIDTH, HEIGHT, title, body)


def _series(rows: list[dict[str, Any]], column: str, scale: float = 1.0
            ) -> tuple[list[float | None], list[float | None], list[float | None]]:
    def get(r: dict[str, Any], key: str) -> float | None:
        value = r.get(key)
        return None if value is None else float(value) * scale

    return ([get(r, column) for r in rows], [get(r, f"{column}_low") for r in rows],
            [get(r, f"{column}_high") for r in rows])


def charts(doc: dict[str, Any]) -> list[tuple[str, Markup]]:
    """The report's charts: per group of the other axes' values, against the first axis."""
    axes = doc["axes"]
    first = axes[0]["path"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in doc["points"]:
        label = ", ".join(f"{a['path'].rsplit('.', 1)[-1]}={r[a['path']]}" for a in axes[1:])
        groups.setdefault(label, []).append(r)
    out = []
    for label, rows in list(groups.items())[:MAX_GROUPS]:
        axis = x_axis(first, [r[first] for r in rows])
        points = [r["point"] for r in rows]
        knees = [(axis.xs[points.index(k["point"])], KNEE_LABEL[k["bend"]])
                 for k in doc["knees"] if k["point"] in points]
        suffix = f" ({label})" if label else ""
        latency = [Curve(name, *_series(rows, f"latency_{name}_ms"), colour(i))
                   for i, name in enumerate(("p50", "p90", "p99"))]
        out.append((f"Latency{suffix}", chart(f"latency percentiles{suffix}", "ms", axis,
                                              latency, knees)))
        rates = [Curve("throughput", *_series(rows, "throughput_rps"), colour(0)),
                 Curve("goodput", *_series(rows, "goodput_rps"), colour(2))]
        out.append((f"Throughput and goodput{suffix}", chart(
            f"throughput and goodput{suffix}", "rps", axis, rates, knees)))
        errors = [Curve("error rate", *_series(rows, "error_rate", 100.0), colour(3))]
        out.append((f"Errors{suffix}", chart(f"error rate{suffix}", "% of requests", axis,
                                             errors, knees, ERROR_RATE_SPAN_PCT)))
    return out


def render_sweep_report(doc: dict[str, Any]) -> str:
    return render_page("sweep.html.j2", doc=doc, charts=charts(doc),
                       paths=[a["path"] for a in doc["axes"]],
                       knee_points={k["point"] for k in doc["knees"]})
