"""The result's time-series tables ({columns, rows}) split per workload, component or call,
as columns of numbers a chart can draw."""

from __future__ import annotations

from typing import Any

Columns = dict[str, list[Any]]


def split(table: dict[str, Any] | None, key: str) -> dict[str, Columns]:
    """{name: {column: values}} in the order names first appear; `key` names the column that
    says whose row it is (workload, component, call)."""
    if not table:
        return {}
    columns: list[str] = table["columns"]
    at = columns.index(key)
    out: dict[str, Columns] = {}
    for row in table["rows"]:
        entry = out.setdefault(str(row[at]), {c: [] for c in columns if c != key})
        for column, value in zip(columns, row, strict=True):
            if column != key:
                entry[column].append(value)
    return out


def time_span(result: dict[str, Any]) -> tuple[float, float] | None:
    """[start, end] of the measured window in simulated seconds, from the series (rows carry
    the end of their interval)."""
    table = result.get("timeseries", {}).get("workloads")
    if not table or not table["rows"]:
        return None
    times = sorted({float(row[0]) for row in table["rows"]})
    interval = times[1] - times[0] if len(times) > 1 else times[0]
    return times[0] - interval, times[-1]
