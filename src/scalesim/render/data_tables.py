"""Terminal tables for the data sections of a result: queues (delivery, redelivery, dead
letters, lag), sagas, outboxes and event stores with their projections' staleness."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def _queue_row(name: str, queue: dict[str, Any]) -> list[str]:
    lag_s = queue.get("lag_s", {}).get("max")
    return [name, queue.get("guarantee", "").replace("_", " "), f"{queue['delivered']:,}",
            f"{queue['delivered_rps']:,.1f}", f"{queue.get('redelivered', 0):,}",
            f"{queue.get('duplicates', 0):,}", f"{queue.get('dead_lettered', 0):,}",
            f"{queue.get('lost', 0):,}", f"{queue['backlog_end']:,}",
            _ms(queue["lag_ms"].get("p50")), _ms(queue["lag_ms"].get("p99")),
            "—" if lag_s is None else f"{lag_s:,.1f}"]


QUEUE_COLUMNS = ("subscription", "guarantee", "delivered", "rps", "redelivered", "dup",
                 "dead", "lost", "backlog", "lag p50 ms", "lag p99 ms", "oldest max s")


def data_tables(result: dict[str, Any]) -> list[Table]:
    tables = []
    if "queues" in result:
        queues = _table("Queues", QUEUE_COLUMNS)
        for name, queue in result["queues"].items():
            queues.add_row(*_queue_row(name, queue))
        tables.append(queues)
    if "sagas" in result:
        sagas = _table("Sagas", ("saga", "started", "ok", "compensated", "aborted", "stuck",
                                 "unfinished", "p50 ms", "p99 ms", "inconsistent p99 ms"))
        for name, saga in result["sagas"].items():
            sagas.add_row(f"{name} ({saga['coordination']})", f"{saga['started']:,}",
                          f"{saga['succeeded']:,}", f"{saga['compensated']:,}",
                          f"{saga['aborted']:,}", f"{saga['stuck']:,}",
                          f"{saga['unfinished']:,}", _ms(saga["duration_ms"].get("p50")),
                          _ms(saga["duration_ms"].get("p99")),
                          _ms(saga["inconsistency_ms"].get("p99")))
        tables.append(sagas)
    if "outboxes" in result:
        boxes = _table("Outboxes", ("outbox", "relay", "published", "duplicates",
                                    "delay p50 ms", "delay p99 ms", "backlog"))
        for name, box in result["outboxes"].items():
            boxes.add_row(name, box["relay"].replace("_", " "), f"{box['published']:,}",
                          f"{box['duplicates']:,}", _ms(box["delay_ms"].get("p50")),
                          _ms(box["delay_ms"].get("p99")), f"{box['backlog_end']:,}")
        tables.append(boxes)
    if "event_stores" in result:
        stores = _table("Event stores", ("store", "appends/s", "conflicts", "snapshots",
                                         "events per load", "without snapshots"))
        views = _table("Read models (CQRS)", ("projection", "lag p50 ms", "lag p99 ms",
                                              "visible after 10ms", "after 100ms",
                                              "after 1s"))
        for name, store in result["event_stores"].items():
            per_load = store["events_per_load"]
            without = store["events_per_load_without_snapshots"]
            stores.add_row(name, f"{store['appends_rps'] or 0:,.1f}",
                           _share(store["conflict_rate"]), f"{store['snapshots']:,}",
                           "—" if per_load is None else f"{per_load:,.1f}",
                           "—" if without is None else f"{without:,.1f}")
            for target, view in store["projections"].items():
                visible = view["p_visible"]
                views.add_row(f"{name} -> {target}", _ms(view["lag_ms"].get("p50")),
                              _ms(view["lag_ms"].get("p99")), _share(visible["10ms"]),
                              _share(visible["100ms"]), _share(visible["1s"]))
        tables.append(stores)
        if views.row_count:
            tables.append(views)
    return tables
