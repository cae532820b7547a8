"""The hostile cases of issue 19 end with their documented exit code within 60 s of wall
time under a 3 GB address-space limit, with no traceback: each runs `scalesim` in its own
process with RLIMIT_AS set, as a user's shell would."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCALESIM = str(Path(sys.executable).with_name("scalesim"))
MEMORY = 3 * 1024**3
WALL_S = 60.0

BASE = """\
scalesim: 1
name: t
components:
  api:
    operations:
      get: {work: 1ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
simulation: {duration: 2s}
"""
ORPHANS = """\
scalesim: 1
name: orphans
components:
  a:
    workers: unlimited
    operations:
      x: {calls: [{to: b.y, timeout: 1ms}]}
  b:
    workers: unlimited
    operations:
      y: {work: 1h}
workloads:
  - {name: w, to: a.x, rate: 200k/s}
simulation: {duration: 90s}
"""
FAN_OUT = f"""\
scalesim: 1
name: fanout
components:
  a:
    workers: unlimited
    operations:
      x:
        calls:
          - parallel:
              calls: [{", ".join(["{to: b.y}"] * 100)}]
  b:
    workers: unlimited
    operations:
      y: {{work: 100s}}
workloads:
  - {{name: w, to: a.x, rate: 2k/s}}
simulation: {{duration: 60s}}
"""
ZERO_TIME_QUEUE = """\
scalesim: 1
name: handoffs
components:
  a:
    operations:
      slow: {work: 2s}
      fast: {work: 0s}
workloads:
  - {name: s, to: a.slow, rate: 1/s}
  - {name: f, to: a.fast, rate: 20k/s}
simulation: {duration: 3s}
"""
IMPATIENT_USERS = """\
scalesim: 1
name: impatient
components:
  a:
    workers: unlimited
    operations:
      x: {}
workloads:
  - {name: w, to: a.x, users: 3}
simulation: {duration: 2s}
"""
ASYNC_LOOP = """\
scalesim: 1
name: loop
components:
  a:
    workers: unlimited
    operations:
      x: {calls: [{to: a.x, async: true}]}
workloads:
  - {name: w, to: a.x, rate: 10/s}
simulation: {duration: 2s}
"""


def chain(length: int) -> str:
    lines = ["scalesim: 1", "name: chain", "components:"]
    for i in range(length):
        call = f", calls: [{{to: c{i + 1}.op}}]" if i < length - 1 else ""
        lines += [f"  c{i}:", "    operations:", f"      op: {{work: 1ms{call}}}"]
    return "\n".join([*lines, "workloads:", "  - {name: w, to: c0.op, rate: 5/s}",
                      "simulation: {duration: 2s}"]) + "\n"


def alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


HAND_EDITED = json.dumps({"system": "x", "seed": 1, "components": {}, "calls": [],
                          "workloads": {"a": 1}, "requests": {}})

# (id, spec text, arguments after the spec ({out} is a fresh path), documented exit code)
CASES = [
    ("alias-bomb", alias_bomb(), ["validate"], 2),
    ("deep-nesting", "[" * 10_000 + "]" * 10_000 + "\n", ["validate"], 2),
    ("orphaned-callees", ORPHANS, ["simulate", "-q"], 3),
    ("wide-fan-out", FAN_OUT, ["simulate", "-q"], 3),
    ("chain-300-simulate", chain(300), ["simulate", "-q"], 0),
    ("chain-1000-validate", chain(1000), ["validate"], 0),
    ("chain-1000-lint", chain(1000), ["lint", "--fail-on", "error"], 1),  # ρ ≈ 5 up the chain
    ("rate-1e400", BASE, ["simulate", "--set", "workloads.0.rate=1e400/s"], 2),
    ("duration-1e400", BASE, ["simulate", "--set", "simulation.duration=1e400s"], 2),
    ("work-1e400-generate", BASE, ["generate", "-o", "{out}", "--set",
                                   "components.api.operations.get.work=1e400ms"], 2),
    ("keys-1e12", BASE, ["simulate", "--set", "workloads.0.keys=1000000000000"], 2),
    ("seed-negative", BASE, ["simulate", "--seed", "-1"], 2),
    ("no-success-report", BASE, ["report", "-o", "{out}.html", "--set",
                                 "components.api.operations.get.error_rate=1"], 0),
    ("kong-new-folder", BASE, ["generate", "--target", "kong", "-o", "{out}"], 0),
    ("report-missing-folder", BASE, ["simulate", "--report", "{out}/missing/r.html"], 2),
    ("duration-1e9", BASE, ["simulate", "--set", "simulation.duration=1e9s"], 2),
    ("warmup-1e9", BASE, ["simulate", "--set", "simulation.warmup=1e9s"], 3),
    ("zero-time-queue", ZERO_TIME_QUEUE, ["simulate", "-q"], 0),
    ("zero-time-async-loop", ASYNC_LOOP, ["simulate", "-q"], 2),
    ("zero-time-users", IMPATIENT_USERS, ["simulate", "-q"], 3),
]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "args", "code"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_hostile_case_ends_with_its_exit_code_in_bounded_memory_and_time(
        tmp_path: Path, spec: str, args: list[str], code: int) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(spec)
    command = [SCALESIM, args[0], str(path),
               *(a.replace("{out}", str(tmp_path / "out")) for a in args[1:])]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=WALL_S,
                          preexec_fn=_limit_memory, check=False)
    assert done.returncode == code, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and time.monotonic() - started < WALL_S


UNREADABLE = [
    ("validate-dev-zero", ["validate", "/dev/zero"]),
    ("hand-edited-result", ["diagram", "{result}", "-o", "{out}.dot"]),
    ("import-compose-dev-zero", ["import", "compose", "/dev/zero", "-o", "{out}.yaml"]),
    ("import-k8s-dev-zero", ["import", "k8s", "/dev/zero", "-o", "{out}.yaml"]),
    ("import-k8s-stdin-dev-zero", ["import", "k8s", "-", "-o", "{out}.yaml"]),
    ("calibrate-traces-dev-zero", ["calibrate", "{spec}", "--traces", "/dev/zero",
                                   "-o", "{out}.yaml"]),
    ("calibrate-load-test-dev-zero", ["calibrate", "{spec}", "--load-test", "/dev/zero",
                                      "-o", "{out}.yaml"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("args", [c[1] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_unreadable_inputs_end_with_exit_2_and_nothing_written(tmp_path: Path,
                                                               args: list[str]) -> None:
    (tmp_path / "result.json").write_text(HAND_EDITED)
    (tmp_path / "spec.yaml").write_text(BASE)
    places = {"{result}": tmp_path / "result.json", "{spec}": tmp_path / "spec.yaml",
              "{out}": tmp_path / "out"}
    command = [SCALESIM, *(str(places[a]) if a in places else
                           a.replace("{out}", str(tmp_path / "out")) for a in args)]
    with open("/dev/zero", "rb") as endless:
        done = subprocess.run(command, capture_output=True, stdin=endless, timeout=WALL_S,
                              preexec_fn=_limit_memory, check=False)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2 and "Traceback" not in stderr, stderr[-3000:]
    assert not list(tmp_path.glob("out*")), "nothing is written"
