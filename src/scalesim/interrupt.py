"""Ctrl-C and SIGTERM end a command with one line and exit 128 + the signal's number.

A signal is raised as `Interrupted` in the main thread, not as KeyboardInterrupt (which
Typer turns into a silent exit 130, and which SIGTERM never was: it killed the command,
and the worker pool's semaphores were reported leaked). Waiting on a worker pool defers
the signals (`deferred`): raised inside concurrent.futures' locks, one hung the command.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The command was asked to stop by `signum` (SIGINT or SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, _: FrameType | None) -> None:
    raise Interrupted(signum)


def install() -> None:
    """Raise Interrupted on SIGINT and SIGTERM from now on (the command line's main)."""
    for number in SIGNALS:
        signal.signal(number, _raise)


@contextmanager
def deferred() -> Iterator[list[int]]:
    """Note SIGINT and SIGTERM in the list yielded instead of raising them, for a loop that
    checks it between waits; outside the main thread, where no handler can be set, the list
    stays empty."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = {number: signal.signal(number, lambda signum, _: noted.append(signum))
                for number in SIGNALS}
    try:
        yield noted
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def ignore_sigint() -> None:
    """In a worker process: Ctrl-C reaches the whole process group, and the command that
    started the worker stops it (a worker's own KeyboardInterrupt broke the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
