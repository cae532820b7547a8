"""Bounding the points a chart draws, whatever the run length: a two-hour run at one row a
second still gives at most `limit` points per series."""

from __future__ import annotations

from itertools import pairwise

MAX_POINTS = 2000


def _buckets(count: int, buckets: int) -> list[range]:
    edges = [round(i * count / buckets) for i in range(buckets + 1)]
    return [range(a, b) for a, b in pairwise(edges) if b > a]


def min_max(xs: list[float], ys: list[float | None],
            limit: int = MAX_POINTS) -> tuple[list[float], list[float | None]]:
    """At most `limit` points: per bucket the lowest and the highest point in time order, so
    spikes and dips survive (an average would hide them). Gaps (None) stay gaps."""
    if len(xs) <= limit:
        return xs, ys
    out_x: list[float] = []
    out_y: list[float | None] = []
    for bucket in _buckets(len(xs), max(1, limit // 2)):
        known = [i for i in bucket if ys[i] is not None]
        if not known:
            out_x.append(xs[bucket[-1]])
            out_y.append(None)
            continue
        low = min(known, key=lambda i: ys[i])  # type: ignore[arg-type,return-value]
        high = max(known, key=lambda i: ys[i])  # type: ignore[arg-type,return-value]
        for i in sorted({low, high}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    return out_x, out_y


def means(xs: list[float], columns: list[list[float]],
          limit: int = MAX_POINTS) -> tuple[list[float], list[list[float]]]:
    """At most `limit` buckets of shares (e.g. the time a breaker was open): the mean of each
    column per bucket, at the bucket's last time; means keep the total time right."""
    if len(xs) <= limit:
        return xs, columns
    buckets = _buckets(len(xs), limit)
    return ([xs[b[-1]] for b in buckets],
            [[sum(column[i] for i in b) / len(b) for b in buckets] for column in columns])
