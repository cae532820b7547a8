"""`scalesim studio`: the web app on this machine (docs/studio.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


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
    from scalesim.interrupt import Interrupted
    from scalesim.studio.server import config_for, serve  # the web stack loads only here

    _check_host(host, port)
    if db is not None:
        _check_db(db)
    try:
        serve(host, port, not no_browser, config_for(host, db, max_runs, time_limit))
    except Interrupted as interrupt:  # its normal end: what it stored stays in the store
        typer.echo(f"scalesim: studio stopped ({interrupt})", err=True)
        raise SystemExit(128 + interrupt.signum) from None


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
    """A SQLAlchemy URL that parses, whose driver is installed and whose server answers,
    and for SQLite a folder that exists, checked before the server starts (each was a
    traceback). Errors show the URL with its password masked."""
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise typer.BadParameter(f"{_shown(url)}: {error}", param_hint="--db") from None
    except ImportError as error:
        raise typer.BadParameter(f"{_shown(url)}: its driver is not installed ({error})",
                                 param_hint="--db") from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not Path(database).parent.is_dir():
        raise typer.BadParameter(f"{_shown(url)}: the folder {Path(database).parent} "
                                 "does not exist", param_hint="--db")
    problem = _connection_problem(parsed)
    if problem:
        raise typer.BadParameter(f"{_shown(url)}: {problem}", param_hint="--db")


DB_CONNECT_TIMEOUT_S = 10.0
"""How long the store's server may take to accept a first connection before the studio
gives up on it: a host that drops packets would otherwise hang for minutes."""


def _shown(url: str) -> str:
    """The URL as given, quoted, its password (from `user:` to the host's `@`) replaced by ***."""
    import re

    return repr(re.sub(r"^([^:/]*://[^:/@]*:)[^/]*@", r"\1***@", url))


def _connection_problem(url: URL) -> str | None:
    """Why a first connection (and reading its list of tables, which a file that is not a
    database fails) fails, or None when it works; run in a
    daemon thread so an unanswering server costs at most DB_CONNECT_TIMEOUT_S."""
    import threading

    from sqlalchemy import create_engine, inspect

    problems: list[str] = []

    def connect() -> None:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                inspect(connection).get_table_names()
        except Exception as error:  # any driver's failure becomes one line
            problems.append(_first_line(error))
        finally:
            engine.dispose()

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(DB_CONNECT_TIMEOUT_S)
    if worker.is_alive():
        return f"cannot connect: no answer within {DB_CONNECT_TIMEOUT_S:g} s"
    return f"cannot connect: {problems[0]}" if problems else None


def _first_line(error: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's wrapper, SQL and background link."""
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
