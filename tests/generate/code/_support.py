"""Shared by the code-target tests: generating a spec's services into a folder, loading a
generated module from there (never from the test process's own packages), running a script
in a service's folder, and running services as real processes on localhost."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx

from scalesim.generate.base import GenerateOptions
from scalesim.generate.code import render
from scalesim.spec import load_spec_text

PAIR_SPEC = """
scalesim: 1
name: pair
components:
  front:
    operations:
      order:
        work: 1ms
        calls:
          - to: back.get
            timeout: 2s
            retry: {attempts: 2, backoff: constant, base: 10ms, max: 10ms, jitter: none}
            circuit_breaker: {window: 4, min_calls: 4, failure_rate: 50%, open_for: 1s,
                              half_open_calls: 1}
  back:
    operations:
      get: {work: 1ms}
workloads: [{name: shoppers, to: front.order, rate: 1/s}]
"""


def generate(spec_text: str, dest: Path) -> Path:
    """Write the code target of a spec under `dest`; returns dest/code."""
    for file in render(load_spec_text(spec_text), GenerateOptions()):
        path = dest / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content, encoding="utf-8")
    return dest / "code"


def load_generated(folder: Path, module: str) -> ModuleType:
    """Import `folder/module.py` (a module without generated imports) under a private name."""
    name = f"generated_{module}_{abs(hash(folder))}"
    spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def run_in_service(folder: Path, script: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Run `script` with `folder` (a generated service) as its working directory and first
    import path, as the service itself runs; returns its printed lines."""
    result = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True,
                            text=True, timeout=60, check=False,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


STARTUP_S = 30.0


def listener() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, held open until the service that will
    listen on it stops. A port number alone is not enough: closed again, the port is free
    for any other test (or outgoing connection) to take before the service binds it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass(frozen=True)
class Process:
    """A generated service to run: its folder, the bound socket it listens on (see
    `listener`), its environment."""

    name: str
    folder: Path
    sock: socket.socket
    env: Mapping[str, str]

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready within {STARTUP_S} s:\n{log.read_text()}")


@contextmanager
def running(services: list[Process], logs: Path) -> Iterator[dict[str, str]]:
    """Start every service as `uvicorn app:app` (as its Dockerfile does) on its socket, handed
    over as an open file descriptor (`--fd`), wait until all are ready and yield name -> URL;
    all are stopped and their sockets closed afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for service in services:
            log = logs / f"{service.name}.log"
            with log.open("wb") as out:
                started.append(subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "app:app", "--fd",
                     str(service.sock.fileno())], cwd=service.folder,
                    pass_fds=(service.sock.fileno(),), env={**os.environ, **service.env},
                    stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + STARTUP_S
        for process, service in zip(started, services, strict=True):
            _wait_ready(process, service.url, logs / f"{service.name}.log", deadline)
        yield {service.name: service.url for service in services}
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for service in services:
            service.sock.close()
