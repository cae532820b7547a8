"""Tables for replication, elections and caches: what a read sees and what a write waits for,
how long the system went without a leader (or had two), and how a cache's hits, staleness and
stampedes came out (`data_tables` draws them with the other data tables)."""

from __future__ import annotations

from typing import Any

from scalesim.render.layout import Cell, Column


def _num(value: float | None, digits: str = ",.1f") -> str:
    return "—" if value is None else format(value, digits)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _columns(first: str, *numbers: str) -> list[Column]:
    return [Column(first, right=False), *(Column(name) for name in numbers)]


def _replication_row(name: str, entry: dict[str, Any]) -> list[Cell]:
    mode = entry["mode"].replace("_", "-")
    if entry["mode"] == "quorum":
        mode += f" N={entry['n']} W={entry['w']} R={entry['r']}"
    else:
        mode += f", reads {entry['read_from']}"
    visible = entry["p_consistent"]
    return [name, mode, _num(entry["commit_wait_ms"].get("p50"), ",.2f"),
            _num(entry["commit_wait_ms"].get("p99"), ",.2f"),
            _num(entry["lag_ms"].get("p99"), ",.2f"), _share(visible["0ms"]),
            _share(visible["10ms"]), _num(entry["t_visibility_ms"]["p999"], ",.2f"),
            _share(entry["stale_read_share"]), f"{entry['unavailable']:,}",
            f"{entry['lost_on_failover']:,}"]


def _election_row(name: str, entry: dict[str, Any]) -> list[Cell]:
    failover = entry["failover_ms"]
    return [name, entry["type"], f"{entry['failovers']:,}",
            _num(None if failover.get("p50") is None else failover["p50"] / 1e3, ",.2f"),
            _num(None if failover.get("max") is None else failover["max"] / 1e3, ",.2f"),
            _num(entry["leaderless_s"], ",.2f"), f"{entry['refused_no_leader']:,}",
            f"{entry.get('split_votes', 0):,}", _num(entry.get("split_brain_s"), ",.2f")]


def _cache_row(name: str, entry: dict[str, Any]) -> list[Cell]:
    ttl = entry["ttl_s"]
    return [name, "none" if ttl is None else f"{ttl:g} s",
            _writes(entry), entry["stampede"], _share(entry["hit_ratio"]),
            f"{entry['misses']:,}",
            "/".join(f"{entry[key]:,}" for key in ("coalesced", "early_refreshes", "refreshes")),
            _num(entry["loads_per_burst"]["mean"], ",.2f"),
            f"{entry['loads_per_burst']['max']:,}", _share(entry["stale_read_share"]),
            _num(entry["staleness_ms"].get("p99")), f"{entry['lost_writes']:,}"]


def _writes(entry: dict[str, Any]) -> str:
    """A cache's write policy, when it had writes: a read-only cache has none to show."""
    return entry["write_policy"].replace("_", "-") if entry["writes"] else "no writes"


def consistency_views(result: dict[str, Any]) -> list[tuple[str, list[Column], list[list[Cell]]]]:
    """The replication, election and cache tables a result has, as (title, columns, rows)."""
    views: list[tuple[str, list[Column], list[list[Cell]]]] = []
    if "replication" in result:
        views.append(("Replication (commit wait, follower lag, reads that see a write)",
                      _columns("store", "mode", "commit p50 ms", "commit p99 ms",
                               "lag p99 ms", "fresh at 0ms", "at 10ms", "99.9% fresh after ms",
                               "stale reads", "no quorum", "lost on failover"),
                      [_replication_row(n, e) for n, e in result["replication"].items()]))
    if "elections" in result:
        views.append(("Leader elections", _columns(
            "component", "type", "failovers", "failover p50 s", "failover max s",
            "leaderless s", "refused, no leader", "split votes", "two leaders s"),
            [_election_row(n, e) for n, e in result["elections"].items()]))
    if "caches" in result:
        views.append(("Caches", [
            *_columns("cache", "ttl"), Column("writes", right=False),
            Column("stampede", right=False), *(Column(name) for name in (
                "hit ratio", "misses", "coalesced/early/refresh", "loads per expiry", "max",
                "stale reads", "staleness p99 ms", "lost writes"))],
            [_cache_row(n, e) for n, e in result["caches"].items()]))
    return views
