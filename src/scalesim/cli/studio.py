"""`scalesim studio`: the web app on this machine (docs/studio.md)."""

from __future__ import annotations

from typing import Annotated

import typer


def studio_command(
    host: Annotated[str, typer.Option(
        help="Interface to bind. Anything but loopback requires a token, printed once.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")]
    = False,
    db: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of the store (default: SQLite in your data directory; "
             "postgresql://… for a team server).")] = None,
    max_runs: Annotated[int, typer.Option(min=1, max=64, help="Simulations run at once; "
                                          "more wait in a queue.")] = 2,
    time_limit: Annotated[float, typer.Option(min=1, help="Wall-clock seconds a run may "
                                              "take before it is stopped.")] = 300.0,
) -> None:
    """Start ScaleSim Studio: gallery, canvas editor, simulation with replay, compare,
    generate and history in the browser."""
    from scalesim.studio.server import config_for, serve  # the web stack loads only here

    serve(host, port, not no_browser, config_for(host, db, max_runs, time_limit))
