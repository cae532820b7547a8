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
    max_runs: Annotated[int, typer.Option(min=1, max=32, help="Simulations run at once; "
                                          "more wait in a queue.")] = 2,
    time_limit: Annotated[float, typer.Option(min=1, help="Wall-clock seconds a run may "
                                              "take before it is stopped.")] = 300.0,
) -> None:
    """Start ScaleSim Studio: gallery, canvas editor, simulation with replay, compare,
    generate and history in the browser."""
    from scalesim.studio.server import config_for, serve  # the web stack loads only here

    _check_host(host, port)
    if db is not None:
        _check_db(db)
    serve(host, port, not no_browser, config_for(host, db, max_runs, time_limit))


def _check_host(host: str, port: int) -> None:
    """An interface that resolves; an empty one would bind every interface unasked."""
    import socket

    if not host.strip():
        raise typer.BadParameter("give an interface, e.g. 127.0.0.1", param_hint="--host")
    try:
        socket.getaddrinfo(host.strip("[]"), port)
    except (OSError, UnicodeError) as error:
        raise typer.BadParameter(f"{host!r}: {getattr(error, 'strerror', None) or error}",
                                 param_hint="--host") from None


def _check_db(url: str) -> None:
    """A SQLAlchemy URL whose driver is installed, and for SQLite a folder that exists,
    checked before the server starts (each was a traceback)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise typer.BadParameter(f"{url!r}: {error}", param_hint="--db") from None
    except ImportError as error:
        raise typer.BadParameter(f"{url!r}: its driver is not installed ({error})",
                                 param_hint="--db") from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not Path(database).parent.is_dir():
        raise typer.BadParameter(f"{url!r}: the folder {Path(database).parent} does not "
                                 "exist", param_hint="--db")
