"""Line charts draw every series: a legend that runs out of room counts the rest, and
never hides their lines (e-commerce's component charts showed 7 of 11 components, its two
busiest among the missing, on an axis scaled to them)."""

from __future__ import annotations

import re

import pytest

from scalesim.render.charts import Series, Window, line_chart


@pytest.mark.parametrize("count", [1, 3, 11, 30])
def test_every_series_is_drawn_and_the_legend_counts_what_it_leaves_out(count: int) -> None:
    series = [Series(f"component-number-{i}", [0.0, 1.0, 2.0], [float(i), float(i), float(i)],
                     "#333333") for i in range(count)]
    chart = str(line_chart("busy", "workers", series, (0.0, 2.0)))
    drawn = re.findall(r'data-series="([^"]+)"', chart)
    assert drawn == [s.name for s in series]
    named = len(re.findall(r'class="legend">component-number-', chart))
    more = re.search(r"\+(\d+) more", chart)
    assert named + (int(more.group(1)) if more else 0) == count
    assert named >= 1


def test_a_point_between_gaps_is_drawn_not_just_moved_to() -> None:
    """Cascade's browsing p99 was measured only every other interval of its fault window
    (2–6 s between empty intervals): each lone point was a bare move-to, drawing nothing."""
    ys: list[float | None] = [1.0, 1.0, None, 6000.0, None, 2000.0, None, 1.0, 1.0]
    chart = str(line_chart("p99", "ms", [Series("p99", [float(i) for i in range(9)], ys,
                                                "#333333")], (0.0, 8.0)))
    d = re.search(r'<path d="([^"]+)"', chart)
    assert d is not None
    subpaths = re.findall(r"M[^M]+", d.group(1))
    assert len(subpaths) == 4
    assert all(re.search(r"[Lh]", sub) for sub in subpaths), subpaths
    tops = [float(m) for m in re.findall(r"M[\d.]+,([\d.]+)h", d.group(1))]
    assert len(tops) == 2 and tops[0] < tops[1]  # 6,000 ms drawn higher than 2,000 ms


def test_a_legend_short_of_room_names_the_busiest_lines() -> None:
    """e-commerce's component charts named the first five alphabetically and left the
    dominant lines to '+4 more'; the lines left unnamed are now the lowest."""
    series = [Series(f"component-{chr(ord('a') + i)}", [0.0, 1.0], [1.0, float(i)], "#333333")
              for i in range(11)]
    chart = str(line_chart("busy", "workers", series, (0.0, 1.0)))
    named = re.findall(r'class="legend">(component-\w)<', chart)
    assert 1 <= len(named) < len(series)
    assert named == [s.name for s in reversed(series)][:len(named)]


def test_a_legend_with_room_for_all_keeps_their_order() -> None:
    series = [Series(name, [0.0, 1.0], [1.0, peak], "#333333")
              for name, peak in (("p50", 1.0), ("p95", 5.0), ("p99", 9.0))]
    chart = str(line_chart("latency", "ms", series, (0.0, 1.0)))
    assert re.findall(r'class="legend">(p\d+)<', chart) == ["p50", "p95", "p99"]
    assert "more" not in chart


def test_spans_without_a_full_answer_are_hatched_inside_their_rect() -> None:
    """The report and docs call them hatched grey; they were flat grey rects."""
    chart = str(line_chart("p99", "ms", [Series("p99", [0.0, 10.0], [1.0, 2.0], "#333333")],
                           (0.0, 10.0), [Window(2.0, 5.0, "no full answer", "empty")]))
    rect = re.search(r'<rect class="empty" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
                     r'height="([\d.]+)"', chart)
    hatch = re.search(r'<path class="hatch" d="([^"]+)"', chart)
    assert rect is not None and hatch is not None
    x, y, w, h = (float(v) for v in rect.groups())
    lines = re.findall(r"M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)", hatch.group(1))
    assert len(lines) >= (w + h) / 6 - 1
    for x0, y0, x1, y1 in ((float(v) for v in line) for line in lines):
        assert x - 0.1 <= min(x0, x1) and max(x0, x1) <= x + w + 0.1
        assert y - 0.1 <= min(y0, y1) and max(y0, y1) <= y + h + 0.1
        assert abs((x0 - x1) - (y1 - y0)) < 0.2  # diagonal, down to the left


@pytest.mark.parametrize("end", [60.0, 600.0, 3600.0])
def test_the_last_time_label_stays_inside_the_chart(end: float) -> None:
    """autoscaling's 600 s run cut 2 px off every chart's last label, '600 s' (10 px digits
    are about 6.4 px wide)."""
    chart = str(line_chart("load", "rps", [Series("rps", [0.0, end], [1.0, 2.0], "#333333")],
                           (0.0, end)))
    width = float(re.search(r'viewBox="0 0 (\d+)', chart).group(1))  # type: ignore[union-attr]
    for x, anchor, text in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)" '
                                      r'class="tick">([^<]+ s)</text>', chart):
        right = float(x) + (6.4 * len(text) / 2 if anchor == "middle" else 0.0)
        assert right <= width, (text, x, anchor)
