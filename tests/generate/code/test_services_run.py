"""The generated pair of services, run as real processes on localhost.

front calls back.get with a count-window breaker (window 4, min 4, 50 %, open 1 s, one
half-open probe) and 2 attempts. Chaos is injected with `POST /chaos {"error_rate": 1.0}`,
which back serves because it is started with SCALESIM_CHAOS=1. Known answers: request 1
succeeds (1 call recorded); request 2 fails twice (3 recorded, 2 failed, below the minimum);
request 3's first attempt makes 3 of 4 failed, so the breaker opens and refuses the retry;
after the open wait, one successful probe closes it again.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.generate.code._support import PAIR_SPEC, generate

STARTUP_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(folder: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port",
             str(port)], cwd=folder, env={**os.environ, **env}, stdout=out,
            stderr=subprocess.STDOUT)


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
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


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(front URL, back URL) of the running services; both are stopped afterwards."""
    code = generate(PAIR_SPEC, tmp_path)
    front_port, back_port = free_port(), free_port()
    back_url, front_url = f"http://127.0.0.1:{back_port}", f"http://127.0.0.1:{front_port}"
    processes: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        processes.append((start(code / "back", back_port, {"SCALESIM_CHAOS": "1"},
                                tmp_path / "back.log"), back_url, tmp_path / "back.log"))
        processes.append((start(code / "front", front_port, {"BACK_URL": back_url},
                                tmp_path / "front.log"), front_url, tmp_path / "front.log"))
        for process, url, log in processes:
            wait_ready(process, url, log)
        yield front_url, back_url
    finally:
        for process, _, _ in processes:
            process.terminate()
        for process, _, _ in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def metric(metrics_text: str, name: str) -> float:
    match = re.search(rf"^{name}\{{[^}}]*\}} (\S+)$", metrics_text, re.MULTILINE)
    assert match is not None, f"{name} not in /metrics"
    return float(match.group(1))


def test_breaker_opens_on_failures_and_closes_after_a_good_probe(
        pair: tuple[str, str]) -> None:
    front, back = pair
    with httpx.Client(timeout=10.0) as client:
        first = client.post(f"{front}/order")
        assert first.status_code == 200
        assert first.json() == {"operation": "order", "outcome": "ok"}

        assert client.post(f"{back}/chaos", json={"error_rate": 1.0}).status_code == 200
        answers = [client.post(f"{front}/order") for _ in range(2)]
        assert [a.status_code for a in answers] == [502, 502]
        assert [a.json()["cause"] for a in answers] == ["error", "circuit_open"]

        metrics = client.get(f"{front}/metrics").text
        assert metric(metrics, "scalesim_circuit_breaker_state") == 1.0  # open
        assert metric(metrics, "scalesim_circuit_breaker_not_permitted_calls_total") == 1.0
        assert metric(metrics, "scalesim_dependency_retries_total") == 2.0

        assert client.post(f"{back}/chaos", json={"error_rate": 0.0}).status_code == 200
        assert client.post(f"{front}/order").json()["cause"] == "circuit_open"  # still open
        time.sleep(1.1)  # open_for 1 s
        assert client.post(f"{front}/order").status_code == 200  # the half-open probe
        metrics = client.get(f"{front}/metrics").text
        assert metric(metrics, "scalesim_circuit_breaker_state") == 0.0  # closed again


def test_chaos_endpoint_exists_only_when_enabled(pair: tuple[str, str]) -> None:
    front, _ = pair
    with httpx.Client(timeout=10.0) as client:
        assert client.post(f"{front}/chaos", json={"error_rate": 1.0}).status_code == 404
        assert client.get(f"{front}/health").json() == {"status": "ok"}
