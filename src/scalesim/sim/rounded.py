"""Numbers as the result writes them: rounded to 4 decimals for stable, readable JSON, with
NaN and infinity as null, and a latency summary that always has its keys (null when nothing
was measured, as docs/results.md promises: `r["latency_ms"]["p99"]` never raises)."""

from __future__ import annotations

import math

from scalesim.sim.metrics import PERCENTILES, Histogram

SUMMARY_KEYS = ("mean", *PERCENTILES, "max")


def clean(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


def latency_summary(hist: Histogram) -> dict[str, float | None]:
    """mean, p50 … p999 and max in milliseconds, each null when the histogram is empty."""
    summary = hist.summary_ms()
    return {key: clean(summary.get(key)) for key in SUMMARY_KEYS}
