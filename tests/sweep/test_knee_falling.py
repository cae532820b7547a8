"""Where a falling p99 curve levels off does not depend on an overloaded point before it."""

from __future__ import annotations

from scalesim.sweep.grid import parse_axis
from scalesim.sweep.table import knees

AXIS = "components.s.workers=3..8"

# M/M/c at 350/s of 10 ms work, 3 to 8 workers, 3 replications of 60 s: 3 workers are
# overloaded (ρ 1.17, the busiest 100 %, p99 about 10 s); p99 still falls from 83 to 50 ms
# from 4 to 5 workers, then hardly moves.
P99 = [10226.75, 83.32, 50.54, 47.12, 46.19, 46.19]
LOW = [9974.12, 75.02, 48.31, 44.60, 44.15, 43.72]
HIGH = [10485.51, 107.52, 53.39, 49.78, 48.80, 49.29]
BUSIEST = [1.0, 0.87, 0.70, 0.58, 0.50, 0.43]


def _rows() -> list[dict[str, object]]:
    axis = parse_axis(AXIS)
    return [{"point": i, axis.path: v, "status": "ok", "latency_p99_ms": y,
             "latency_p99_ms_low": lo, "latency_p99_ms_high": hi, "bottleneck_utilization": b}
            for i, (v, y, lo, hi, b) in enumerate(zip(axis.values, P99, LOW, HIGH, BUSIEST,
                                                      strict=True))]


def test_an_overloaded_point_does_not_pull_the_levelling_off() -> None:
    axes = [parse_axis(AXIS)]
    rows = _rows()
    (found,) = knees(axes, rows)
    assert (found["value"], found["bend"]) == ("5", "levels_off")
    (without,) = knees([parse_axis("components.s.workers=4..8")], rows[1:])
    assert without["value"] == found["value"]
