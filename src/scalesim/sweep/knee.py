"""The knee of a curve: where latency stops creeping and starts climbing.

Kneedle (Satopää et al., 2011): scale x and y to [0, 1], draw the straight line between the
first and the last point, and take the point furthest below it. For latency against load (a
convex, increasing curve) that is the last load before latency takes off; against capacity
(convex, decreasing) the point past which more capacity stops helping. A curve with no point
below its chord (straight or concave) has no knee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def knee(xs: Sequence[float], ys: Sequence[float | None]) -> int | None:
    """The index of the knee among the points with a finite y (None: no knee)."""
    points = [(i, x, y) for i, (x, y) in enumerate(zip(xs, ys, strict=True))
              if y is not None and math.isfinite(y)]
    if len(points) < 3:
        return None
    x0, x1 = points[0][1], points[-1][1]
    ylo = min(y for _, _, y in points)
    yhi = max(y for _, _, y in points)
    if x1 == x0 or yhi == ylo:
        return None
    first, last = (points[0][2] - ylo) / (yhi - ylo), (points[-1][2] - ylo) / (yhi - ylo)
    best, where = 0.0, None
    for index, x, y in points[1:-1]:
        t = (x - x0) / (x1 - x0)
        chord = first + (last - first) * t
        gap = chord - (y - ylo) / (yhi - ylo)
        if gap > best:
            best, where = gap, index
    return where
