"""Starting the studio: pick the database, make a token when others could connect, print
the address once, open the browser, serve with uvicorn until Ctrl-C."""

from __future__ import annotations

import secrets
import threading
import webbrowser

import uvicorn

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
    app = create_app(config)
    url = studio_url(host, port, config.token)
    print(f"ScaleSim Studio: {url}", flush=True)
    if config.token:
        print("Bound to a non-loopback interface: every API call needs this token "
              "(it is in the link above and is not shown again).", flush=True)
    print(f"Designs and runs are stored in {config.db_url}. Ctrl-C stops the studio.",
          flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host.strip("[]"), port=port, log_level="warning")
