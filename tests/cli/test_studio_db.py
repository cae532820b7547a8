"""`scalesim studio --db`: a missing driver, a file that is not a database and a server that
refuses or does not answer are bad input (exit 2) before the server starts, with the URL's
password masked (each was a traceback). Only localhost is contacted."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scalesim.cli import studio as studio_cli

SECRET = "s3cret-pw"
SCALESIM = str(Path(sys.executable).with_name("scalesim"))


@pytest.fixture(autouse=True)
def _never_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any of these reaching the server is itself a failure; a wide terminal keeps each
    message on one line of the error box."""
    monkeypatch.setenv("COLUMNS", "400")
    def refuse(*_: object) -> None:
        raise AssertionError("the server started despite a bad --db")

    monkeypatch.setattr("scalesim.studio.server.serve", refuse)


def _refused(run_cli, url: str) -> str:
    result = run_cli("studio", "--no-browser", "--port", "18765", "--db", url)
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2, result.output
    assert "Invalid value for --db" in shown and SECRET not in shown
    assert isinstance(result.exception, SystemExit), result.exception
    return shown


@pytest.fixture
def closed_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A localhost port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield listener.getsockname()[1]


@pytest.mark.skipif(importlib.util.find_spec("MySQLdb") is not None,
                    reason="the MySQL driver is installed here")
def test_a_driver_that_is_not_installed_is_named(run_cli) -> None:
    shown = _refused(run_cli, f"mysql://user:{SECRET}@127.0.0.1/db")
    assert "'mysql://user:***@127.0.0.1/db': its driver is not installed" in shown
    assert "MySQLdb" in shown


def test_a_refused_connection_is_one_error(run_cli, closed_port: int) -> None:
    pytest.importorskip("psycopg")
    shown = _refused(run_cli, f"postgresql+psycopg://user:{SECRET}@127.0.0.1:{closed_port}/db")
    assert f"'postgresql+psycopg://user:***@127.0.0.1:{closed_port}/db': cannot connect" \
        in shown
    assert "refused" in shown


def test_a_server_that_never_answers_is_given_up_on(
        run_cli, silent_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.setattr(studio_cli, "DB_CONNECT_TIMEOUT_S", 0.5)
    started = time.monotonic()
    shown = _refused(run_cli, f"postgresql+psycopg://u:{SECRET}@127.0.0.1:{silent_server}/d")
    assert "cannot connect: no answer within 0.5 s" in shown
    assert time.monotonic() - started < 5


def test_a_file_that_is_not_a_database_is_refused(run_cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database\n" * 10)
    shown = _refused(run_cli, f"sqlite:///{notes}")
    assert "cannot connect: file is not a database" in shown
    assert notes.read_text() == "not a database\n" * 10


def _wait_until_it_answers(port: int, seconds: float = 20.0) -> None:
    """Return once the studio accepts a connection on `port` (localhost), within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopping_the_studio_says_it_stopped(tmp_path: Path, closed_port: int,
                                             sent: signal.Signals, code: int) -> None:
    """Its normal end printed 'interrupted (SIGTERM): nothing written', though the designs
    and runs stay stored: now 'studio stopped', with the documented exit code."""
    process = subprocess.Popen(
        [SCALESIM, "studio", "--no-browser", "--port", str(closed_port), "--db",
         f"sqlite:///{tmp_path / 'studio.db'}"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("ScaleSim Studio: http://127.0.0.1:")
        _wait_until_it_answers(closed_port)  # a signal before the server loop runs is
        process.send_signal(sent)  # Python's warning of a coroutine never awaited
        _, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:  # hung: leave no process behind
            os.killpg(process.pid, signal.SIGKILL)
    assert (process.returncode, errors) == (code, f"scalesim: studio stopped ({sent.name})\n")
