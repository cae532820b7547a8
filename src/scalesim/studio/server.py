"""Starting the studio: pick the database, make a token when others could connect, print
the address once, open the browser, serve with uvicorn until Ctrl-C or SIGTERM."""

from __future__ import annotations

import secrets
import signal
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from scalesim.interrupt import SIGNALS, Interrupted
from scalesim.studio.app import create_app
from scalesim.studio.config import LOOPBACK_HOSTS, StudioConfig, default_db_url, is_loopback


def studio_url(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"  # reachable from this machine; other machines use its address
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def config_for(host: str, db: str | None, max_runs: int, time_limit_s: float) -> StudioConfig:
    """Loopback: no token, only local Host headers (DNS-rebinding guard). Anything else:
    a fresh token on every API call."""
    local = is_loopback(host)
    return StudioConfig(db_url=db or default_db_url(),
                        token=None if local else secrets.token_urlsafe(24),
                        allowed_hosts=LOOPBACK_HOSTS if local else None,
                        max_concurrent_runs=max_runs, run_time_limit_s=time_limit_s)


def serve(host: str, port: int, open_browser: bool, config: StudioConfig) -> None:
    """Print the address, then serve until SIGINT or SIGTERM, which end it as Interrupted
    once the server has stopped, whichever instant they come."""
    with _stop_signals() as stop:
        server = uvicorn.Server(uvicorn.Config(create_app(config), host=host.strip("[]"),
                                               port=port, log_level="warning"))
        stop.attach(server)
        url = _announce(host, port, config)
        browser = threading.Timer(1.0, webbrowser.open, args=(url,))
        if open_browser:
            browser.start()
        try:
            server.run()
        finally:
            browser.cancel()  # a studio stopped within the second opens no page
    if stop.signals:
        raise Interrupted(stop.signals[0])


class _Stop:
    """The handler of SIGINT and SIGTERM while the studio starts and serves: it notes the
    signal and tells the server, once there is one, to exit."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self._server: uvicorn.Server | None = None

    def __call__(self, signum: int, _: FrameType | None) -> None:
        self.signals.append(signum)
        self._tell()

    def attach(self, server: uvicorn.Server) -> None:
        self._server = server
        self._tell()  # a signal that came before the server was made

    def _tell(self) -> None:
        if self.signals and self._server is not None:
            self._server.should_exit = True


@contextmanager
def _stop_signals() -> Iterator[_Stop]:
    """Signals stop the server instead of raising wherever they land: raised while uvicorn
    set up its logging, they left it broken; while it started its loop, the server's
    coroutine never awaited (Python's RuntimeWarning). uvicorn sets its own handlers while
    it serves and hands the signals it caught back here once it has stopped."""
    stop = _Stop()
    previous = {number: signal.signal(number, stop) for number in SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _announce(host: str, port: int, config: StudioConfig) -> str:
    """Print the studio's address (once: its token is not shown again) and its store."""
    url = studio_url(host, port, config.token)
    print(f"ScaleSim Studio: {url}", flush=True)
    if config.token:
        print("Bound to a non-loopback interface: every API call needs this token "
              "(it is in the link above and is not shown again).", flush=True)
    print(f"Designs and runs are stored in {config.db_url}. Ctrl-C stops the studio.",
          flush=True)
    return url
