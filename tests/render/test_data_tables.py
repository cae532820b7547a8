"""The queue table names duplicates processed and duplicates skipped apart: a run in which an
effectively-once consumer skipped 1,094 copies showed 'dup 0' and nothing of them."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from scalesim.render.data_tables import data_tables, data_views


def _queue(duplicates: int, deduplicated: int) -> dict[str, Any]:
    return {"guarantee": "effectively_once", "published_rps": 100.0, "delivered_rps": 99.0,
            "failed": 0, "redelivered": 1094, "duplicates": duplicates,
            "deduplicated": deduplicated, "dead_lettered": 0, "lost": 0, "backlog_start": 0,
            "backlog_end": 2, "lag_ms": {"p50": 3.0, "p99": 40.0}, "lag_s": {"max": 0.1}}


def test_the_queue_row_shows_duplicates_and_deduplicated() -> None:
    (title, columns, rows), *_ = data_views({"queues": {"orders->ship": _queue(0, 1094)}})
    assert title.startswith("Queues")
    row = dict(zip((c.header for c in columns), rows[0], strict=True))
    assert (row["duplicates"], row["deduplicated"]) == ("0", "1,094")


def test_the_terminal_prints_both() -> None:
    console = Console(width=80, record=True)
    for table in data_tables({"queues": {"orders->ship": _queue(3, 1094)}}, 80):
        console.print(table)
    text = console.export_text()
    assert "duplicates 3" in text and "deduplicated 1,094" in text
