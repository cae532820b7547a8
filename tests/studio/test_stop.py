"""Stopping the studio at any instant of its start: SIGINT or SIGTERM end `serve` as
Interrupted once the server has stopped, with nothing else said. A signal between the URL
line and uvicorn's loop printed Python's "coroutine 'Server.serve' was never awaited"
RuntimeWarning; one while uvicorn set up its logging left the logging broken."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from scalesim import interrupt
from scalesim.studio.server import config_for, serve

INSTANTS = 24
"""Signals sent at as many instants, evenly spread from the start of `serve` to the
serving loop."""

STOP_S = 10.0
"""The studio stops within this after a signal (it takes a tenth of a second)."""


@pytest.fixture
def command_line_signals() -> Iterator[dict[int, object]]:
    """SIGINT and SIGTERM raise Interrupted, as under `scalesim` (its main installs them);
    yields those handlers."""
    previous = {number: signal.getsignal(number) for number in interrupt.SIGNALS}
    interrupt.install()
    yield {number: signal.getsignal(number) for number in interrupt.SIGNALS}
    for number, handler in previous.items():
        signal.signal(number, handler)


def _stop(db: Path, sent: signal.Signals, after: int | None) -> int:
    """Serve on a free port and send `sent` at the `after`-th Python call from the start of
    `serve` (None: once uvicorn's serving loop runs); return how many calls that was.
    The studio must end as Interrupted by `sent`, without a second signal."""
    calls = -1  # -1 until serve starts
    resent: list[bool] = []

    def again() -> None:  # the studio went on serving: stop it for good, and fail
        resent.append(True)
        os.kill(os.getpid(), sent)

    watchdog = threading.Timer(STOP_S, again)

    def at_call(frame: FrameType, event: str, _: Any) -> None:
        nonlocal calls
        if event != "call":
            return
        if frame.f_code is serve.__code__:
            calls = 0
        if calls >= 0:
            calls += 1
            if calls == after or (after is None and frame.f_code.co_name == "main_loop"):
                sys.setprofile(None)
                watchdog.start()
                signal.raise_signal(sent)

    sys.setprofile(at_call)
    try:
        with pytest.raises(interrupt.Interrupted) as stopped:
            serve("127.0.0.1", 0, False, config_for("127.0.0.1", f"sqlite:///{db}", 1, 60))
    finally:
        sys.setprofile(None)
        watchdog.cancel()
    assert not resent, f"still serving {STOP_S} s after the signal at call {after}"
    assert stopped.value.signum == sent
    return calls


def test_a_signal_at_any_instant_of_the_start_stops_the_studio_cleanly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        command_line_signals: dict[int, object]) -> None:
    db = tmp_path / "studio.db"
    signals = [signal.SIGTERM, signal.SIGINT]
    gc.collect()  # what earlier tests in this process left (a database connection) warns here
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        _stop(db, signal.SIGTERM, None)  # the first start imports and creates the store
        start = _stop(db, signal.SIGINT, None)
        assert start > INSTANTS
        for i, after in enumerate(range(1, start, start // INSTANTS)):
            _stop(db, signals[i % 2], after)
        gc.collect()  # an unawaited coroutine warns when it is collected
    assert [str(w.message) for w in warned] == []
    assert capsys.readouterr().err == ""
    assert {number: signal.getsignal(number) for number in interrupt.SIGNALS} \
        == command_line_signals  # the command's own handlers are back
