"""A throwaway PostgreSQL server for the studio's PostgreSQL tests: a new cluster in a
temporary directory, listening only on a Unix socket in that directory (no TCP port), with
fsync off, stopped and deleted at the end. It needs the server's programs (`initdb`,
`pg_ctl`: Debian's `postgresql` package, which .ci/run installs) and the psycopg driver;
as root it runs them as the `postgres` user, since PostgreSQL refuses to run as root."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_S = 60
USER = "scalesim"


def _server_bin() -> Path | None:
    """The directory of initdb and pg_ctl: on PATH, or Debian's newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = [Path(path) for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")
                if Path(path).parts[-3].isdigit()]
    return max(versions, key=lambda path: int(path.parts[-3])).parent if versions else None


def unavailable() -> str | None:
    """Why no throwaway server can be started here, or None when one can."""
    if importlib.util.find_spec("psycopg") is None:
        return "the psycopg driver is not installed"
    if _server_bin() is None:
        return "no PostgreSQL server programs (initdb, pg_ctl): apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no `postgres` user to run the server as"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a server and yield a SQLAlchemy URL of its `postgres` database."""
    bin_dir = _server_bin()
    assert bin_dir is not None, unavailable()
    home = Path(tempfile.mkdtemp(prefix="scalesim-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        os.chown(home, server_user.pw_uid, server_user.pw_gid)

    def run(program: str, *args: str) -> None:
        subprocess.run(_as_server_user([str(bin_dir / program), *args]), check=True,
                       capture_output=True, text=True, timeout=START_TIMEOUT_S)

    try:
        run("initdb", "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-k {home} -c listen_addresses= -c fsync=off"
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(home / "server.log"), "-w",
            "-t", str(START_TIMEOUT_S), "start")
        try:
            yield f"postgresql+psycopg://{USER}@/postgres?host={home}"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)
