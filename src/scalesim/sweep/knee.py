"""The knee of a curve: where latency stops creeping and starts climbing.

Kneedle (Satopää et al., 2011): scale x and y to [0, 1], draw the straight line between the
first and the last point, and take the point furthest below it. For latency against load (a
convex, increasing curve) that is the last load before latency takes off; against capacity
(convex, decreasing) the point past which more capacity stops helping. A curve with no point
below its chord (straight or concave) has no knee. `knee_depth` also says how deep the knee
is, so that a bend within the points' noise is not named (scalesim.sweep.table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def knee(xs: Sequence[float], ys: Sequence[float | None]) -> int | None:
    """The index of the knee among the points with a finite y (None: no knee)."""
    found = knee_depth(xs, ys)
    return None if found is None else found[0]


def knee_depth(xs: Sequence[float], ys: Sequence[float | None]) -> tuple[int, float] | None:
    """The knee's index and how far it lies below the chord, in y's unit (None: no point is
    below it). Scaling y to [0, 1] does not move the furthest point, so the distance is
    measured unscaled: the size of the bend, to set against the points' noise."""
    points = [(i, x, y) for i, (x, y) in enumerate(zip(xs, ys, strict=True))
              if y is not None and math.isfinite(y)]
    if len(points) < 3:
        return None
    (_, x0, y0), (_, x1, y1) = points[0], points[-1]
    if x1 == x0:
        return None
    best, where = 0.0, None
    for index, x, y in points[1:-1]:
        gap = y0 + (y1 - y0) * (x - x0) / (x1 - x0) - y
        if gap > best:
            best, where = gap, index
    return None if where is None else (where, best)
