"""The generated serving side (server.py) in a service's own process, through FastAPI's test
client: what a request's headers may and may not do."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from tests.generate.code._support import PAIR_SPEC, generate, run_in_service


@pytest.fixture(scope="module")
def back(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(PAIR_SPEC, tmp_path_factory.mktemp("server")) / "back"


def answers(back: Path, deadlines: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(status, body) of POST /get with each x-scalesim-deadline-ms value."""
    script = f"""
        import json

        from fastapi.testclient import TestClient

        from app import app

        with TestClient(app) as client:
            for value in {deadlines!r}:
                answer = client.post("/get", headers={{"x-scalesim-deadline-ms": value}})
                print(json.dumps([answer.status_code, answer.json()]))
        """
    return [tuple(json.loads(line)) for line in run_in_service(back, textwrap.dedent(script))]




def test_a_deadline_header_must_be_finite_non_negative_milliseconds(back: Path) -> None:
    # A malformed header is the caller's error (400, naming the header), never a 500; a
    # well-formed one, 0 included (no time left), is taken.
    malformed = ["soon", "nan", "inf", "-5", "", "1e400"]
    results = answers(back, [*malformed, "250", "0.5", "0"])
    for (status, body), value in zip(results, malformed, strict=False):
        assert status == 400, value
        assert body["outcome"] == "bad_request"
        assert "x-scalesim-deadline-ms" in body["detail"], body
    assert [status for status, _ in results[len(malformed):]] == [200, 200, 200]


CPU_SPEC = """
scalesim: 1
name: cpu
components:
  front:
    workers: unlimited
    operations:
      spend: {cpu: 60ms, wait: 80ms}
      think: {work: 60ms}
  back:
    workers: unlimited
    cores: 1
    operations:
      spend: {work: 60ms, post_work: 20ms, calls: [{to: front.think}]}
workloads: [{name: w, to: front.spend, rate: 1/s}]
"""


def test_cpu_computes_and_wait_sleeps(tmp_path: Path) -> None:
    # The process's own CPU clock: `cpu` uses 60 ms of it, `wait` none; `work` sleeps on a
    # component without cores and computes (with post_work) on one with cores.
    code = generate(CPU_SPEC, tmp_path)
    script = """
        import asyncio
        import time

        from app import app

        async def main() -> None:
            operations = app.state.settings.operations
            for name, operation in operations.items():
                cpu, wall = time.process_time(), time.monotonic()
                await operation._run(None)
                print(name, round((time.process_time() - cpu) * 1e3),
                      round((time.monotonic() - wall) * 1e3))

        asyncio.run(main())
        """
    front = {line.split()[0]: line.split()[1:] for line in
             run_in_service(code / "front", textwrap.dedent(script))}
    cpu_ms, wall_ms = map(int, front["spend"])
    assert 60 <= cpu_ms <= 75 and wall_ms >= 140
    cpu_ms, wall_ms = map(int, front["think"])
    assert cpu_ms < 10 and wall_ms >= 60
    back = script.replace("await operation._run(None)", "burn = operation.computes\n"
                          "                await operation._run(None)")
    (line,) = run_in_service(code / "back", textwrap.dedent(back))
    name, cpu_ms, _ = line.split()
    assert name == "spend" and 80 <= int(cpu_ms) <= 95
