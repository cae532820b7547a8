"""What a studio server is configured with, and the limits it enforces (docs/studio.md)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_path

MAX_SPEC_BYTES = 256 * 1024
"""A spec (YAML, UTF-8) larger than this is refused with 413: the largest shipped template is
under 4 KiB, a hand-written system of 200 components under 100 KiB."""

MAX_BODY_BYTES = 4 * MAX_SPEC_BYTES
"""Any API request body larger than this is refused with 413 before it is parsed (a spec is
sent as a JSON string, which escaping can make longer than the YAML)."""

MAX_SERIES_POINTS = 100_000
"""A run whose time series would have more points than this (intervals × series: components,
workloads, calls and breakers, as the spec's own bound of 1,000,000 counts them) is refused
with 422 before it starts: its result is stored and sent whole, about 60 bytes of JSON a
point, so this keeps one result near 6 MB. The largest template keeps 6,000."""

BYTES_PER_POINT = 60
"""About what a time-series point costs in a stored result (measured: 53 to 66)."""

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def default_db_url() -> str:
    """SQLite in the user's data directory, e.g. ~/.local/share/scalesim/studio.db."""
    folder = user_data_path("scalesim", appauthor=False)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studio.db'}"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: nobody else can reach the server."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class StudioConfig:
    db_url: str = "sqlite://"
    token: str | None = None
    """Required on every API call when set: `scalesim studio` sets one when it binds to an
    interface other than loopback."""
    allowed_hosts: tuple[str, ...] | None = None
    """Host headers accepted (DNS-rebinding guard when serving on loopback); None = any."""
    max_concurrent_runs: int = 2
    max_queued_runs: int = 32
    run_time_limit_s: float = 300.0
    """Wall-clock seconds a run may take before it is stopped (on top of the engine's
    `simulation.limits`)."""
    static_dir: Path = field(default=STATIC_DIR)
