"""What the advice tests share: a spec loaded with `--set` overrides, simulated and
diagnosed, the findings of one kind and subject, what failed, and the slow-replica spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from scalesim.diagnosis import diagnose
from scalesim.diagnosis.components import reads_series
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text
from scalesim.templates.registry import get_template

HEAD = "scalesim: 1\nname: t\n"

# api: 3 × 16 workers of 15 ms at 600/s (ρ ≈ 0.19); api[0] slowed ×8 for 15 s of the 25 s
# window: 200/s × 120 ms = 24 erlangs for its 16 workers.
SLOW_REPLICA = """
scalesim: 1
name: slow-replica-probe
components:
  gw:
    kind: gateway
    replicas: 2
    workers: unlimited
    operations:
      get:
        calls:
          - {to: api.get, timeout: 300ms}
  api:
    replicas: 3
    workers: 16
    queue: 100
    operations:
      get: {work: {dist: exponential, mean: 15ms}}
workloads:
  - {name: users, to: gw.get, rate: 600/s}
faults:
  - {target: "api[0]", at: 6s, for: 15s, latency: x8}
simulation: {duration: 25s, warmup: 2s}
"""
SLOW_CALL = "components.gw.operations.get.calls.0"
SLOW_RETRY = f"{SLOW_CALL}.retry={{attempts: 3}}"


def load(spec: str | Mapping[str, Any], *overrides: str) -> System:
    """A spec given as text or as a mapping (dumped to YAML), with `--set` overrides."""
    text = spec if isinstance(spec, str) else yaml.safe_dump(dict(spec), sort_keys=False)
    return load_spec_text(text, "t.yaml", overrides)


def run(system: System) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The result of one simulation and its diagnosis."""
    result = simulate(system)
    return result, diagnose(system, result)


def from_template(template: str, params: Mapping[str, Any] | None = None,
                  *overrides: str) -> System:
    """A template's spec built with `params`, with `--set` overrides."""
    built = get_template(template).build(dict(params or {}))
    return load_spec_text(built.text, f"{template}.yaml", overrides)


def run_as_cli(system: System, seed: int | None = None
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`run` as `scalesim simulate` does it: with the time series the diagnosis reads for
    an autoscaled component (`reads_series`), with the spec's seed or `seed`."""
    result = simulate(system, seed, with_series=reads_series(system))
    return result, diagnose(system, result)


def findings(found: list[dict[str, Any]], kind: str,
             subject: str | None = None) -> list[dict[str, Any]]:
    """The findings of a kind (and of a subject, if given)."""
    return [f for f in found if f["kind"] == kind and subject in (None, f["subject"])]


def one(found: list[dict[str, Any]], kind: str, subject: str) -> dict[str, Any]:
    """The only finding of a kind about a subject (an assertion fails on none or more)."""
    [finding] = findings(found, kind, subject)
    return finding


def failed_requests(result: dict[str, Any], workload: str) -> int:
    """How many of a workload's requests failed."""
    return int(result["workloads"][workload]["requests"]["failed"])


def missed(result: dict[str, Any]) -> set[tuple[str, str]]:
    """The SLO checks the run missed, as (scope, name)."""
    return {(c["scope"], c["name"]) for c in result["slo"]["checks"] if not c["met"]}
