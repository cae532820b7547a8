"""The generated saga coordinator: clean code, and compensations in reverse order (run on
stand-in dependencies that record the calls)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.generate.code._support import generate

BIN = Path(sys.executable).parent
SPEC = """
scalesim: 1
name: saga
components:
  orders:
    operations:
      place:
        calls:
          - saga:
              policy: step_functions
              steps:
                - {name: reserve, to: stock.reserve, compensate: stock.release, timeout: 1s}
                - {name: charge, to: payments.charge, pivot: true, timeout: 2s,
                   retry: {attempts: 2, on: [timeout]}}
                - {name: ship, to: shipping.book}
  stock: {operations: {reserve: {work: 1ms}, release: {work: 1ms}}}
  payments: {operations: {charge: {work: 1ms}}}
  shipping: {operations: {book: {work: 1ms}}}
workloads: [{name: w, to: orders.place, rate: 1/s}]
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(SPEC, tmp_path_factory.mktemp("saga"))


def test_the_coordinator_runs_the_steps_with_their_policies(code: Path) -> None:
    app = (code / "orders" / "app.py").read_text(encoding="utf-8")
    assert "from saga import Saga, Step" in app
    assert 'Step("reserve", CALL_PLACE_STOCK_RESERVE, compensation=CALL_PLACE_STOCK_RELEASE)' \
        in app
    assert "await SAGA_PLACE.run()" in app
    assert (code / "orders" / "saga.py").is_file() and not (code / "stock" / "saga.py").exists()
    # Step Functions' retrier for the steps without their own: 3 retries after 1, 2, 4 s.
    assert 'Backoff("exponential", "none", base=0.5, cap=3600.0)' in app


def test_the_coordinator_passes_ruff_and_mypy(code: Path, tmp_path: Path) -> None:
    folder = code / "orders"
    for args in ([str(BIN / "ruff"), "check", "--select", "E,F,W,I,UP,B,SIM,RUF",
                  "--line-length", "100", "."],
                 [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir",
                  str(tmp_path), "."]):
        result = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=120,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr


# Run in the service's folder, as the service runs: stand-in dependencies record their
# calls and answer with a fixed cause.
RECORD = """
import asyncio, json, sys
from downstream import DependencyFailed
from saga import Saga, Step

failing, log = sys.argv[1], []

class Recorder:
    def __init__(self, name):
        self.target = name

    async def call(self):
        log.append(self.target)
        return "error" if self.target == failing else None

steps = (Step("a", Recorder("a"), Recorder("a-undo")), Step("b", Recorder("b"), Recorder("b-undo")),
         Step("c", Recorder("c")), Step("d", Recorder("d")))
try:
    asyncio.run(Saga("t", steps, pivot=2).run())
    failed = False
except DependencyFailed:
    failed = True
print(json.dumps({"log": log, "failed": failed}))
"""


@pytest.mark.parametrize(("failing", "expected", "failed"), [
    ("none", ["a", "b", "c", "d"], False),
    ("c", ["a", "b", "c", "b-undo", "a-undo"], True),  # the pivot fails: undo in reverse
    ("d", ["a", "b", "c", "d"], True),  # past the pivot: stuck, nothing undone
    ("b-undo", ["a", "b", "c", "b-undo"], True),  # a compensation fails: stuck
])
def test_compensations_run_in_reverse_order(code: Path, failing: str, expected: list[str],
                                            failed: bool) -> None:
    if failing == "b-undo":
        script = RECORD.replace('return "error" if self.target == failing else None',
                                'return "error" if self.target in (failing, "c") else None')
    else:
        script = RECORD
    result = subprocess.run([sys.executable, "-c", script, failing], cwd=code / "orders",
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout) == {"log": expected, "failed": failed}
