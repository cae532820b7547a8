"""Parsing `--vary` axes into grids, and the knee of a curve."""

from __future__ import annotations

import math

import pytest

from scalesim.sweep.grid import Axis, GridError, grid, parse_axis, quantity, set_where_varied
from scalesim.sweep.knee import knee
from scalesim.sweep.table import knees


def test_lists_ranges_and_log_ranges() -> None:
    assert parse_axis("components.a.replicas=1,2,4").values == ("1", "2", "4")
    assert parse_axis("components.a.replicas=1..5").values == ("1", "2", "3", "4", "5")
    rates = parse_axis("workloads.0.rate=100/s..2000/s:10").values
    assert len(rates) == 10 and rates[0] == "100/s" and rates[-1] == "2000/s"
    assert quantity(rates[1]) == pytest.approx(100 + 1900 / 9, rel=1e-6)
    logs = parse_axis("components.a.operations.op.work=1ms..1000ms:4:log").values
    assert logs == ("1ms", "10ms", "100ms", "1000ms")
    assert parse_axis("x=8..64:3").values == ("8", "36", "64")
    assert parse_axis("x=1..100:4:log").values == ("1", "5", "22", "100")


@pytest.mark.parametrize("text", ["x", "=1,2", "x=1..2ms:3", "x=1ms..1s", "x=0..10:3:log",
                                  "x=1..2:1", "x=1,,2", "x=a..b:3"])
def test_bad_axes_say_what_is_wrong(text: str) -> None:
    with pytest.raises(GridError):
        parse_axis(text)


@pytest.mark.parametrize(("text", "message"), [
    # past the float range: the points were nan/s and inf/s, and 1e400/s named nowhere
    ("workloads.0.rate=1/s..1e400/s:5", "the range's end: '1e400/s' is more than "
     "1,000,000,000/s, the highest rate a spec may give"),
    ("simulation.duration=1s..1e400s:3", "the range's end: '1e400s' is longer than "
     "1,000,000,000s"),
    ("x=1..1e400", "the range's end: '1e400' is not a finite number"),
    ("x=1e400%..1%:3", "the range's end: '1e400%' is not a finite number"),
    # finite, but past what any rate or duration may be, or negative (docs/spec.md, Bounds)
    ("workloads.0.rate=1/s..2e6/s:3", None),
    ("workloads.0.rate=1k/s..2e6k/s:3", "'2e6k/s' is more than 1,000,000,000/s"),
    ("x=2e9s..1s:3", "'2e9s' is longer than 1,000,000,000s"),
    ("workloads.0.rate=-5/s..10/s:3", "the range's end: a rate is not negative: '-5/s'"),
    ("x=-1e308..1e308:3", "the range from -1e308 to 1e308 is wider than a number can hold"),
])
def test_a_range_end_no_point_could_take_is_refused_naming_it(text: str,
                                                              message: str | None) -> None:
    if message is None:  # within the bounds: every point is a finite value of the unit
        values = parse_axis(text).values
        assert values == ("1/s", "1e+06/s", "2e+06/s")
        return
    with pytest.raises(GridError) as caught:
        parse_axis(text)
    assert str(caught.value).startswith(f"--vary {text.partition('=')[0]}: ")
    assert message in str(caught.value)


def test_a_repeated_value_is_kept_once_where_it_first_appears() -> None:
    """A repeat would simulate the same point twice: the same text or the same quantity
    written twice (1 s is 1000 ms) is one value; rounding an integer range is no repeat."""
    assert parse_axis("x=4,5,4").values == ("4", "5")
    assert parse_axis("x=1s,1000ms,2s").values == ("1s", "2s")
    assert parse_axis("w=1k/s,1000/s").values == ("1k/s",)
    assert parse_axis("x=1..2:5").values == ("1", "2")


@pytest.mark.parametrize(("text", "only"), [("workloads.0.rate=100/s..100/s:3", "100/s"),
                                            ("x=5..5:3", "5"), ("x=1..1.0000001:3", "1")])
def test_a_range_that_gives_one_value_is_refused(text: str, only: str) -> None:
    """As `5..5` is: a range of one value is no range (it ran three identical points)."""
    with pytest.raises(GridError, match=f"a range needs at least 2 values, and .* gives only "
                                        f"{only}$"):
        parse_axis(text)


@pytest.mark.parametrize("text", ["components.s.workers=2", "components.s.workers.x=2",
                                  " components.s.workers =2"])
def test_a_set_at_or_inside_a_varied_path_is_refused(text: str) -> None:
    """Each point applies its value after the --set, which would change nothing."""
    axes = [Axis("components.s.workers", ("4", "5"))]
    with pytest.raises(GridError, match=r"components\.s\.workers is varied .* this --set "
                                        r"would change nothing"):
        set_where_varied([text], axes)


def test_a_set_beside_or_around_a_varied_path_holds() -> None:
    """Another field, one whose name only starts alike, or the mapping holding the varied
    field (whose other fields it still sets) are no conflict."""
    axes = [Axis("components.s.workers", ("4", "5"))]
    set_where_varied(["components.s.queue=5", "components.s.workers_x=1",
                      "components.s={replicas: 2}"], axes)


def test_grid_is_the_product_first_axis_slowest() -> None:
    points = grid([parse_axis("a=1,2"), parse_axis("b=x,y,z")])
    assert [p.overrides for p in points[:2]] == [["a=1", "b=x"], ["a=1", "b=y"]]
    assert len(points) == 6 and points[-1].index == 5
    with pytest.raises(GridError):
        grid([parse_axis("a=1,2"), parse_axis("a=3,4")])


def test_quantities_have_base_units() -> None:
    assert quantity("2k/s") == 2000.0
    assert quantity("250ms") == 0.25
    assert quantity("5%") == 0.05
    assert quantity("7") == 7.0
    assert quantity("least_requests") is None


def test_knee_of_mm1_latency_and_of_a_straight_line() -> None:
    """Latency 1/(μ − λ) against λ bends where the curve leaves its chord the most."""
    xs = [10.0 * i for i in range(1, 10)]
    ys: list[float | None] = [1.0 / (100.0 - x) for x in xs]
    index = knee(xs, ys)
    assert index is not None and 60.0 <= xs[index] <= 80.0
    assert knee(xs, [2.0 * x for x in xs]) is None
    assert knee([1.0, 2.0], [1.0, 5.0]) is None
    assert knee(xs, [*ys[:-1], math.inf]) is not None  # a saturated point is left out


def _rows(axis: str, p99_ms: list[float]) -> list[dict[str, object]]:
    values = parse_axis(axis)
    return [{"point": i, values.path: v, "latency_p99_ms": y}
            for i, (v, y) in enumerate(zip(values.values, p99_ms, strict=True))]


def test_a_rising_curve_turns_up_and_a_falling_one_levels_off() -> None:
    """M/M/1 p99 (ln 100 / (μ − λ)) rises with λ: the knee is where it turns up. Against
    the servers c of an M/M/c at a fixed load it falls: there the knee is where more servers
    stop helping, and it must not read as saturation."""
    mu = 100.0
    rising = [1e3 * math.log(100.0) / (mu - lam) for lam in range(10, 100, 10)]
    up = knees([parse_axis("workloads.0.rate=10/s..90/s:9")],
               _rows("workloads.0.rate=10/s..90/s:9", rising))
    assert [(k["value"], k["bend"]) for k in up] == [("70/s", "turns_up")]
    falling = [1e3 * math.log(100.0) / (c * mu - 90.0) for c in range(1, 9)]
    down = knees([parse_axis("components.a.workers=1..8")],
                 _rows("components.a.workers=1..8", falling))
    assert [k["bend"] for k in down] == ["levels_off"]
    assert down[0]["value"] in ("2", "3")


def _measured(p99: list[float], busiest: list[float], low: list[float], high: list[float]
              ) -> list[dict[str, object]]:
    rows = _rows("workloads.0.rate=4000/s..44000/s:11", p99)
    for r, b, lo, hi in zip(rows, busiest, low, high, strict=True):
        r.update({"status": "ok", "bottleneck_utilization": b, "latency_p99_ms_low": lo,
                  "latency_p99_ms_high": hi})
    return rows


def test_the_knee_is_never_a_saturated_or_unresolved_point() -> None:
    """A cache-aside sweep, 4,000 to 44,000/s: p99 about 21 ms up to 36,000/s (db 90 %
    busy), then 65 ms with an interval of 0 to 135 ms at 40,000/s (db 99.8 %), 509 ms at
    44,000/s. Kneedle alone picks 40,000/s, the saturated point; the knee is the last load
    before latency takes off, 36,000/s, and the JSON keeps Kneedle's pick."""
    p99 = [21.4, 21.2, 21.4, 21.2, 21.0, 21.2, 21.2, 21.4, 22.7, 64.9, 509.1]
    busiest = [0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.998, 1.0]
    low = [y - 1.5 for y in p99[:9]] + [0.0, 410.1]
    high = [y + 1.5 for y in p99[:9]] + [135.3, 603.2]
    rows = _measured(p99, busiest, low, high)
    assert knee([float(i) for i in range(11)], p99) == 9  # Kneedle's own pick
    (found,) = knees([parse_axis("workloads.0.rate=4000/s..44000/s:11")], rows)
    assert found["value"] == "36000/s" and found["point"] == 8
    assert found["kneedle_point"] == 9 and found["bend"] == "turns_up"
    wide = _measured(p99, [0.1 * i for i in range(11)], low, high)  # only the CI is wide
    assert knees([parse_axis("workloads.0.rate=4000/s..44000/s:11")], wide)[0]["point"] == 8


RETRY_STORM_RATES = "workloads.0.rate=5/s..500/s:6:log"


def test_a_flat_noisy_p99_has_no_knee() -> None:
    """retry-storm with 8 api workers, 5 to 500/s for 10 s: p99 45-52 ms, flat but for the
    noise of short runs, was marked '◀ levels off' at 31.5/s. With 4 workers p99 takes off
    to 199 ms at 500/s: that knee stays, at 199/s."""
    axes = [parse_axis(RETRY_STORM_RATES)]
    flat = [52.41, 46.19, 45.73, 45.73, 44.82, 45.27]
    assert knee([quantity(v) or 0.0 for v in axes[0].values], flat) is not None  # Kneedle's
    assert knees(axes, _rows(RETRY_STORM_RATES, flat)) == []
    rising = [52.41, 46.19, 45.73, 45.73, 44.82, 198.89]
    (found,) = knees(axes, _rows(RETRY_STORM_RATES, rising))
    assert (found["value"], found["bend"]) == ("199.054/s", "turns_up")


def test_a_bend_inside_the_points_intervals_is_no_knee() -> None:
    """A bend 27.5 ms below the chord is a knee when the p99s are known to ±2 ms, not to
    ±40 ms."""
    axes = [parse_axis("components.a.workers=1..5")]
    p99 = [100.0, 60.0, 55.0, 52.0, 50.0]
    for half, named in ((2.0, True), (40.0, False)):
        rows = _rows("components.a.workers=1..5", p99)
        for r, y in zip(rows, p99, strict=True):
            r.update({"latency_p99_ms_low": y - half, "latency_p99_ms_high": y + half})
        assert bool(knees(axes, rows)) is named, half
