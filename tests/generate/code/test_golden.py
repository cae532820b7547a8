"""The code target's output for a small spec, file by file, against tests/generate/code/golden.

After an intended change, regenerate with SCALESIM_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.code import render
from scalesim.spec import load_spec_text

GOLDEN = Path(__file__).parent / "golden"

# A gateway with every kind of step and setting, a cache in front of a database, and a
# queue feeding the database; every distribution family appears once.
SPEC = """
scalesim: 1
name: golden
defaults:
  calls:
    timeout: 300ms
    retry: {attempts: 3, backoff: exponential, base: 20ms, max: 200ms, jitter: decorrelated}
components:
  api-gw:
    kind: gateway
    workers: 16
    queue: 32
    io: nonblocking
    operations:
      checkout:
        work: {dist: lognormal, median: 2ms, p99: 20ms}
        post_work: {dist: uniform, min: 1ms, max: 3ms}
        error_rate: 0.1%
        calls:
          - parallel:
              wait_for: 1
              calls:
                - to: catalog.get
                  bulkhead: {max_concurrent: 4, max_wait: 10ms}
                - to: db.read
                  probability: 50%
                  on_failure: continue
          - to: db
            deadline: 1s
            propagate_deadline: true
            retry: {attempts: 2, jitter: equal, budget: {ratio: 10%}, max_concurrent: 5}
            circuit_breaker: {window_type: time, window: 10, min_calls: 20, open_for: 5s,
                              open_for_multiplier: 2, open_for_max: 1m}
            bulkhead: {type: threadpool, size: 8, queue: 16}
            on_failure: {fallback: {dist: exponential, mean: 1ms}}
          - {to: jobs, async: true}
      status:
        work: {dist: empirical, percentiles: {p50: 1ms, p99: 5ms}}
  catalog:
    kind: cache
    workers: unlimited
    hit_ratio: 80%
    backend: db.read
    operations:
      get: {work: {dist: normal, mean: 1ms, sd: 0.5ms}}
  db:
    kind: database
    tech: postgres
    workers: 4
    operations:
      read: {work: {dist: gamma, mean: 2ms, cv: 0.5}}
      write:
        work:
          dist: mixture
          of:
            - {weight: 0.9, dist: 2ms}
            - {weight: 0.1, dist: {dist: pareto, min: 5ms, alpha: 2.5}}
  jobs:
    kind: queue
    capacity: 100
    consumers: [{to: db.write, concurrency: 2}]
workloads: [{name: users, to: api-gw.checkout, rate: 10/s}]
"""


# The runtime modules every service carries, identical by construction: stored once.
SHARED = {"dists.py", "resilience.py", "downstream.py", "server.py", "settings.py", "service.py",
          "telemetry.py"}


def _stored_path(path: str) -> str:
    """Where a generated file is kept: a shared runtime module under code/_shared/."""
    parts = path.split("/")
    return f"code/_shared/{parts[-1]}" if len(parts) == 3 and parts[-1] in SHARED else path


def golden_files() -> set[str]:
    """Stored paths; caches (ruff's, Python's) are not part of the output."""
    return {path.relative_to(GOLDEN).as_posix() for path in GOLDEN.rglob("*")
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                          for part in path.relative_to(GOLDEN).parts)}


def generated() -> list[GeneratedFile]:
    return render(load_spec_text(SPEC), GenerateOptions())


def test_output_matches_golden_files() -> None:
    files: dict[str, str] = {}
    for file in generated():
        stored = _stored_path(file.path)
        assert files.setdefault(stored, file.content) == file.content, \
            f"{file.path} differs from the other services' copy"
    if os.environ.get("SCALESIM_UPDATE_GOLDEN") == "1":
        for old in golden_files() - set(files):
            (GOLDEN / old).unlink()
        for path, content in files.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(content, encoding="utf-8")
    assert golden_files() == set(files), "regenerate with SCALESIM_UPDATE_GOLDEN=1"
    for path, content in files.items():
        assert (GOLDEN / path).read_text(encoding="utf-8") == content, path


def test_generation_is_deterministic() -> None:
    assert generated() == generated()


def test_every_component_gets_a_service_with_its_files() -> None:
    paths = {file.path for file in generated()}
    common = SHARED | {"app.py", "requirements.txt", "Dockerfile", "README.md"}
    for component in ("api-gw", "catalog", "db"):
        assert {p.split("/", 2)[2] for p in paths if p.startswith(f"code/{component}/")} \
            == common
    assert {p.split("/", 2)[2] for p in paths if p.startswith("code/jobs/")} == \
        common | {"broker.py"}
    assert {"code/README.md", "code/ruff.toml"} <= paths
