"""Every `--set` a diagnosis proposes is a change the spec accepts: applied to the spec it
came from, it validates. The QA pass pasted the work-queue (keda=true) fix and got "give
either 'concurrency' or 'prefetch', not both", exit 2; the Studio's Apply used the same
set. Checked over every template at its defaults, the problem-making variants the QA pass
ran, and the examples, each simulated as `scalesim simulate` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.diagnosis.advice import run_as_cli

from scalesim.spec import load_spec_text
from scalesim.spec.errors import SpecError
from scalesim.templates import TEMPLATES
from scalesim.templates.registry import get_template

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))

# Parameters that make a problem (the QA pass's variants, tests/diagnosis is where their
# findings are checked one by one).
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("ambassador", {"failover": False}),
    ("api-gateway", {"client_limit_rps": 500}),
    ("autoscaling", {"cpu_target": 90}),
    ("autoscaling", {"startup_s": 120}),
    ("banking-transfer", {"fraud_timeout_ms": 2000}),
    ("bulkhead", {"with_bulkhead": False}),
    ("cache-aside", {"hit_ratio": 0.5}),
    ("caching-strategies", {"stampede": "none", "ttl_s": 1}),
    ("canary", {"failure_limit": 5}),
    ("circuit-breaker", {"with_breaker": False}),
    ("cqrs", {"slowdown": 50}),
    ("database-per-service", {"slowdown": 100}),
    ("dead-letter-queue", {"with_dlq": False}),
    ("dead-letter-queue", {"with_dlq": False, "poison": 0.03}),
    ("distributed-state-machine", {"nodes": 5, "persist_ms": 20}),
    ("e-commerce", {"hit_ratio": 0.1}),
    ("event-driven-batch", {"workers": 2}),
    ("health-check", {"with_probes": False}),
    ("iot-ingestion", {"processors": 1}),
    ("leader-election", {"lease_duration_s": 15, "renew_deadline_s": 10,
                         "retry_period_s": 2}),
    ("leader-election", {"fault": "partition"}),
    ("leader-election", {"method": "raft"}),
    ("load-balanced-service", {"autoscale": True}),
    ("load-balanced-service", {"rps": 70000, "balancer": "round_robin"}),
    ("outbox", {"interval_ms": 5000}),
    ("replicated-database", {"consistency": "all"}),
    ("retry-backoff", {"error_rate": 0.5, "attempts": 8, "jitter": "none"}),
    ("saga-orchestration", {"shipping_errors": 0.5}),
    ("scatter-gather", {"timeout_ms": 2000}),
    ("service-mesh", {"attempts": 1}),
    ("sharded-service", {"skew": 1.3}),
    ("social-feed", {"hit_ratio": 0.5}),
    ("timeout", {"timeout_ms": 15}),
    ("work-queue", {"keda": True}),
    ("work-queue", {"keda": True, "job_ms": 30}),
    ("work-queue", {"worker_replicas": 2}),
]

CASES = [(t.id, t.id, {}) for t in TEMPLATES] + \
    [(f"{t}-{'-'.join(f'{k}={v}' for k, v in p.items())}", t, p) for t, p in VARIANTS]


def _sets_refused(text: str, name: str) -> list[str]:
    """Each finding's `set` that the spec refuses, with why; the run's seed is the spec's."""
    _, found = run_as_cli(load_spec_text(text, name))
    refused = []
    for finding in found:
        overrides = tuple((finding["fix"] or {}).get("set") or ())
        if not overrides:
            continue
        try:
            load_spec_text(text, name, overrides)
        except SpecError as error:  # what `--set` would print, with exit 2
            refused.append(f"{finding['kind']} {finding['subject']} {overrides}: {error}")
    return refused


@pytest.mark.slow
@pytest.mark.parametrize(("case", "template", "params"), CASES, ids=[c[0] for c in CASES])
def test_every_template_s_fixes_validate(case: str, template: str,
                                         params: dict[str, Any]) -> None:
    text = get_template(template).build(params).text
    assert _sets_refused(text, f"{case}.yaml") == []


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_s_fixes_validate(example: Path) -> None:
    assert _sets_refused(example.read_text(), example.name) == []
