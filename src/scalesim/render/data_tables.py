"""Tables for the data sections of a result: queues (rates, backlog at the window's start and
end, delivery, redelivery, duplicates processed and skipped, dead letters, lag), sagas,
outboxes and event stores with their projections' staleness, then replication, elections
and caches. The terminal lays them out with `layout.fitted` (no name is ever cut); the HTML
report draws the same rows."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from scalesim.render.consistency_tables import consistency_views
from scalesim.render.layout import Cell, Column, fitted


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _rps(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _columns(first: str, *numbers: str) -> list[Column]:
    return [Column(first, right=False), *(Column(name) for name in numbers)]


def _queue_row(name: str, queue: dict[str, Any]) -> list[Cell]:
    lag_s = queue.get("lag_s", {}).get("max")
    return [name, queue.get("guarantee", "").replace("_", " "),
            _rps(queue.get("published_rps")), _rps(queue["delivered_rps"]),
            f"{queue['failed']:,}", f"{queue.get('redelivered', 0):,}",
            f"{queue.get('duplicates', 0):,}", f"{queue.get('deduplicated', 0):,}",
            f"{queue.get('dead_lettered', 0):,}",
            f"{queue.get('lost', 0):,}", f"{queue.get('backlog_start', 0):,}",
            f"{queue['backlog_end']:,}", _ms(queue["lag_ms"].get("p50")),
            _ms(queue["lag_ms"].get("p99")), "—" if lag_s is None else f"{lag_s:,.1f}"]


QUEUE_COLUMNS = [Column("subscription", right=False), Column("guarantee", right=False),
                 Column("published rps"), Column("delivered rps"), Column("failed"),
                 Column("redelivered"), Column("duplicates"), Column("deduplicated"),
                 Column("dead"), Column("lost"),
                 Column("backlog start"), Column("backlog end"), Column("lag p50 ms"),
                 Column("lag p99 ms"), Column("oldest max s")]


View = tuple[str, list[Column], list[list[Cell]]]


def data_views(result: dict[str, Any]) -> list[View]:
    """The data tables a result has, as (title, columns, rows): queues, sagas, outboxes,
    event stores and read models, then replication, elections and caches. The terminal
    (`data_tables`) and the HTML report draw the same ones."""
    views: list[View] = []
    if "queues" in result:
        views.append(("Queues (backlog at the window's start and end)", QUEUE_COLUMNS,
                      [_queue_row(n, q) for n, q in result["queues"].items()]))
    if "sagas" in result:
        rows: list[list[Cell]] = [
            [f"{name} ({saga['coordination']})", f"{saga['started']:,}",
             f"{saga['succeeded']:,}", f"{saga['compensated']:,}", f"{saga['aborted']:,}",
             f"{saga['stuck']:,}", f"{saga['unfinished']:,}",
             _ms(saga["duration_ms"].get("p50")), _ms(saga["duration_ms"].get("p99")),
             _ms(saga["inconsistency_ms"].get("p99"))]
            for name, saga in result["sagas"].items()]
        views.append(("Sagas", _columns(
            "saga", "started", "ok", "compensated", "aborted", "stuck", "unfinished", "p50 ms",
            "p99 ms", "inconsistent p99 ms"), rows))
    if "outboxes" in result:
        rows = [[name, box["relay"].replace("_", " "), f"{box['published']:,}",
                 f"{box['duplicates']:,}", _ms(box["delay_ms"].get("p50")),
                 _ms(box["delay_ms"].get("p99")), f"{box['backlog_end']:,}"]
                for name, box in result["outboxes"].items()]
        views.append(("Outboxes", [Column("outbox", right=False), Column("relay", right=False),
                                   *(Column(c) for c in (
                                       "published", "duplicates", "delay p50 ms",
                                       "delay p99 ms", "backlog"))], rows))
    if "event_stores" in result:
        stores: list[list[Cell]] = []
        projections: list[list[Cell]] = []
        for name, store in result["event_stores"].items():
            per_load = store["events_per_load"]
            without = store["events_per_load_without_snapshots"]
            stores.append([name, _rps(store["appends_rps"] or 0.0),
                           _share(store["conflict_rate"]), f"{store['snapshots']:,}",
                           "—" if per_load is None else f"{per_load:,.1f}",
                           "—" if without is None else f"{without:,.1f}"])
            for target, view in store["projections"].items():
                visible = view["p_visible"]
                projections.append([f"{name} -> {target}", _ms(view["lag_ms"].get("p50")),
                                    _ms(view["lag_ms"].get("p99")), _share(visible["10ms"]),
                                    _share(visible["100ms"]), _share(visible["1s"])])
        views.append(("Event stores", _columns(
            "store", "appends/s", "conflicts", "snapshots", "events per load",
            "without snapshots"), stores))
        if projections:
            views.append(("Read models (CQRS)", _columns(
                "projection", "lag p50 ms", "lag p99 ms", "visible after 10ms", "after 100ms",
                "after 1s"), projections))
    return views + consistency_views(result)


def data_tables(result: dict[str, Any], width: int) -> list[RenderableType]:
    return [fitted(title, columns, rows, width) for title, columns, rows in data_views(result)]
