"""The generated code is clean: ruff with its default rules on the whole tree and `ruff format`
leaving every file as it is (for the golden spec, the examples, every template and a spec of
the longest names the spec allows; the generated code/ruff.toml only says which modules are
the services' own), the house rules and mypy --strict inside each service folder (as a
developer of that service runs them), and requirements pinned at versions this venv has, so
what the tests run is what the Dockerfile installs."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from tests.generate.code._support import generate
from tests.generate.code.test_golden import SPEC

from scalesim.templates import TEMPLATES

BIN = Path(sys.executable).parent
LOCK = Path(__file__).parents[3] / "requirements" / "dev.lock"
HOUSE_RULES = ["--select", "E,F,W,I,UP,B,SIM,RUF", "--ignore", "RUF001,RUF002,RUF003",
               "--line-length", "100", "--target-version", "py311"]


EXAMPLES = Path(__file__).parents[3] / "examples"

# Names as long as the spec allows (63), every retry cause, nested distributions, a
# connection pool, parallel steps and many subscriptions: every layout rule is exercised.
LONG_NAMES_SPEC = """
scalesim: 1
name: long
defaults:
  calls:
    retry: {attempts: 3, on: [timeout, rejected, error, crashed, overflow, unavailable,
                              rate_limited, shed, bulkhead_full, circuit_open]}
components:
  a-very-long-gateway-name-that-keeps-going-and-going-for-sixtyxx:
    kind: gateway
    workers: 8
    operations:
      an-operation-name-which-is-also-quite-long-indeed-yes-reallyyy:
        work:
          dist: mixture
          of:
            - {weight: 0.5, dist: {dist: lognormal, median: 1ms, p99: 10ms}}
            - weight: 0.5
              dist: {dist: empirical, percentiles: {p10: 1ms, p25: 2ms, p50: 3ms, p75: 4ms,
                                                    p90: 5ms, p99: 9ms, p999: 30ms}}
        calls:
          - parallel:
              wait_for: any
              calls:
                - {to: a-second-component-with-a-name-as-long-as-the-rules-permit-xyz.get}
                - {to: short.get, bulkhead: {type: threadpool, size: 8, queue: 16}}
          - parallel:
              wait_for: 2
              calls: [{to: short.get}, {to: short.get}, {to: short.get}]
          - to: a-second-component-with-a-name-as-long-as-the-rules-permit-xyz.get
            deadline: 1s
            circuit_breaker: {window: 10}
          - {to: qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq, async: true}
  a-second-component-with-a-name-as-long-as-the-rules-permit-xyz:
    kind: cache
    hit_ratio: 50%
    backend: short.get
    connection_pool: {max_connections: 10}
    operations: {get: {work: 1ms}}
  short: {operations: {get: {work: 1ms}}}
  qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq:
    kind: queue
    consumers:
      - {to: a-second-component-with-a-name-as-long-as-the-rules-permit-xyz.get,
         concurrency: 2}
      - {to: short.get, concurrency: 3}
      - {to: a-very-long-gateway-name-that-keeps-going-and-going-for-sixtyxx, concurrency: 3}
workloads:
  - {name: w, to: a-very-long-gateway-name-that-keeps-going-and-going-for-sixtyxx, rate: 1/s}
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(SPEC, tmp_path_factory.mktemp("quality"))


def _spec_texts() -> dict[str, str]:
    """The golden spec, the longest names, the examples and every template (`scalesim new`
    with its defaults): a queue without consumers, sagas and outboxes included."""
    texts = {"golden": SPEC, "long-names": LONG_NAMES_SPEC}
    texts.update({path.stem: path.read_text() for path in sorted(EXAMPLES.glob("*.yaml"))})
    texts.update({f"template-{template.id}": template.build().text for template in TEMPLATES})
    return texts


@pytest.mark.parametrize("spec", sorted(_spec_texts()))
def test_ruff_check_and_format_pass_on_the_generated_code(spec: str, tmp_path: Path) -> None:
    """docs/generate.md: `ruff check` and `ruff format` inside code/ (its own ruff.toml);
    a queue stand-in without consumers imported broker.Subscription unused (F401), and
    saga.py was not formatted."""
    tree = generate(_spec_texts()[spec], tmp_path)
    checked = run([str(BIN / "ruff"), "check", "."], tree)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = run([str(BIN / "ruff"), "format", "--check", "--diff", "."], tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already formatted" in result.stdout + result.stderr


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("service", ["api-gw", "catalog", "db", "jobs"])
def test_house_rules_pass_in_each_service(code: Path, service: str) -> None:
    result = run([str(BIN / "ruff"), "check", *HOUSE_RULES, "."], code / service)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", ["api-gw", "jobs"])  # every module, broker too
def test_mypy_strict_passes(code: Path, service: str, tmp_path: Path) -> None:
    result = run([str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir",
                  str(tmp_path), "."], code / service)
    assert result.returncode == 0, result.stdout + result.stderr


def _locked() -> dict[str, str]:
    """Exact versions from the dev/test lock (lines like `httpx==0.29.0` or with a marker)."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")) and ";" not in line:
            name, pinned = line.split("==")
            pins[name.strip().lower()] = pinned.strip()
    return pins


def test_requirements_are_pinned_at_the_locked_and_installed_versions(code: Path) -> None:
    pins = dict(line.split("==") for line in
                (code / "db" / "requirements.txt").read_text().splitlines())
    assert set(pins) == {"fastapi", "httpx", "opentelemetry-api", "opentelemetry-sdk",
                         "prometheus-client", "uvicorn"}
    locked = _locked()
    for package, pinned in pins.items():
        # Exactly what the end-to-end tests ran against: the lock, and this venv.
        assert locked[package] == pinned, (package, "lock", locked[package], "generated", pinned)
        assert version(package) == pinned, (package, "installed", version(package))


def test_the_readmes_venv_and_the_dockerfile_name_one_python(code: Path) -> None:
    # The fixes hold on newer Pythons too, but the services are tested on one: say which.
    (image,) = re.findall(r"^FROM python:(\d+\.\d+)-slim$",
                          (code / "db" / "Dockerfile").read_text(), re.MULTILINE)
    for readme in (code / "README.md", code / "db" / "README.md"):
        assert f"python{image} -m venv .venv" in readme.read_text()
        assert "python -m venv" not in readme.read_text()
