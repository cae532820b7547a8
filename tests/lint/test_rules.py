"""Each rule: a spec that triggers it, and a minimal change to that spec that does not;
then the numbers the messages quote, checked against hand-computed answers."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.lint.helpers import LintYaml, only, rules
from tests.lint.specs import CLEAN

from scalesim.lint import RULES, lint_file, lint_system
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.templates import get_template, load_built

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lint.md"
_SECTION = re.compile(r"^### (SS\d{3}) [a-z-]+ \((\w+)\)$", re.M)
_EXAMPLE = re.compile(r"```yaml\n(.*?)```", re.S)
_FIX = re.compile(r"^Fix: change `([^`]+)` to `([^`]+)`\.$", re.M)
# The lines the page says to put above an example to run it.
_HEADER = re.compile(r"put `(scalesim: \d+)` and `(name: [\w-]+)` above it")


def documented_header(text: str) -> str:
    header = _HEADER.search(text)
    assert header, "docs/lint.md does not say which lines to add to run an example"
    return f"{header.group(1)}\n{header.group(2)}\n"


def documented() -> dict[str, tuple[str, str, tuple[str, str] | None]]:
    """Each rule's section in docs/lint.md: severity, example spec (with the lines the page
    says to add, so it runs as a reader runs it, not with the fixtures' own), and its fix
    (if any)."""
    text = DOCS.read_text(encoding="utf-8")
    header = documented_header(text)
    found = {}
    heads = list(_SECTION.finditer(text))
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        body = text[head.end():nxt.start() if nxt else len(text)]
        example = _EXAMPLE.search(body)
        assert example, f"{head.group(1)} has no example in docs/lint.md"
        fix = _FIX.search(body)
        found[head.group(1)] = (head.group(2), header + example.group(1),
                                (fix.group(1), fix.group(2)) if fix else None)
    return found


DOCUMENTED = documented()
# (rule, spec that triggers it, (text to replace, replacement) that makes it pass)
CASES: list[tuple[str, str, tuple[str, str]]] = [
    (rule, example, fix) for rule, (_, example, fix) in DOCUMENTED.items() if fix]
BAD = {rule: example for rule, (_, example, _) in DOCUMENTED.items()}


def test_every_rule_is_documented_with_its_severity_and_an_example() -> None:
    assert {r.id: str(r.severity) for r in RULES} == {
        rule: severity for rule, (severity, _, _) in DOCUMENTED.items()}


def test_every_rule_has_a_fix() -> None:
    assert {rule.id for rule in RULES} - {case[0] for case in CASES} == set()


@pytest.mark.parametrize(("rule", "bad", "change"), CASES, ids=[c[0] for c in CASES])
def test_rule_triggers_and_a_minimal_change_clears_it(
        lint_yaml: LintYaml, rule: str, bad: str, change: tuple[str, str]) -> None:
    old, new = change
    assert bad.count(old) == 1, "the change must be unambiguous"
    assert rule in rules(lint_yaml(bad))
    assert rule not in rules(lint_yaml(bad.replace(old, new)))


def test_a_careful_design_has_no_findings(lint_yaml: LintYaml) -> None:
    assert lint_yaml(CLEAN) == []


def test_a_queue_without_delivery_settings_loses_failed_messages(lint_yaml: LintYaml) -> None:
    with_queue = BAD["SS402"]
    assert "lost" in only(lint_yaml(with_queue), "SS403").message
    assert only(lint_yaml(with_queue), "SS403").path == "components.q"
    assert "SS403" not in rules(lint_yaml(CLEAN))


DEAD_LETTERED = """
components:
  q:
    kind: queue
    delivery: DELIVERY
    consumers: [{to: d.y, idempotent: true}]
  dlq: {kind: queue, consumers: [d.y]}
  d: {operations: {y: {work: 1ms, error_rate: 0.1}}}
workloads: [{name: w, to: q.publish, rate: 10/s}]
"""


@pytest.mark.parametrize(("delivery", "path", "message"), [
    ("{guarantee: at_least_once, dead_letter: dlq}", "components.q.delivery",
     "queue 'q' redelivers a failed message without limit, so its dead_letter 'dlq' never "
     "receives one: a poison message comes back forever, wasting a delivery each time; set "
     "'max_deliveries' (SQS maxReceiveCount)"),
    ("{guarantee: at_most_once, max_deliveries: 3, dead_letter: dlq}", "components.q",
     "queue 'q' acknowledges on delivery (at most once): a message its consumer fails on is "
     "lost, and nobody sees it (its dead_letter 'dlq' receives nothing); deliver at least "
     "once with 'max_deliveries'"),
    ("{guarantee: at_least_once}", "components.q.delivery",
     "queue 'q' redelivers a failed message without limit: a poison message comes back "
     "forever, wasting a delivery each time; set 'max_deliveries' (SQS maxReceiveCount) and "
     "a 'dead_letter' queue"),
])
def test_a_dead_letter_queue_nothing_reaches_is_named_and_not_asked_for(
        lint_yaml: LintYaml, delivery: str, path: str, message: str) -> None:
    """Only a message past max_deliveries, delivered at least once, is dead-lettered
    (docs/data.md: max_deliveries defaults to unlimited): SS403 says the dead_letter set
    receives nothing, and asks only for what is missing."""
    findings = lint_yaml(DEAD_LETTERED.replace("DELIVERY", delivery))
    on_q = [(f.path, f.message) for f in findings
            if f.rule == "SS403" and f.path.startswith("components.q")]
    assert on_q == [(path, message)]


def test_a_reachable_dead_letter_queue_is_not_flagged(lint_yaml: LintYaml) -> None:
    spec = DEAD_LETTERED.replace(
        "DELIVERY", "{guarantee: at_least_once, max_deliveries: 3, dead_letter: dlq}")
    assert not [f for f in lint_yaml(spec) if f.rule == "SS403"]


def test_deep_chain_quotes_availability_and_latency(lint_yaml: LintYaml) -> None:
    finding = only(lint_yaml(BAD["SS101"]), "SS101")
    assert "4 hops (limit 3)" in finding.message
    assert "a.x -> b.x -> c.x -> d.x -> e.x" in finding.message
    assert "95.099%" in finding.message  # 0.99 ** 5
    assert "9 ms" in finding.message  # 5 x 1 ms work + 4 hops x 2 x 0.5 ms network


def test_max_depth_and_max_calls_move_the_thresholds(lint_yaml: LintYaml) -> None:
    assert "SS101" not in rules(lint_yaml(BAD["SS101"], max_depth=4))
    assert "SS101" in rules(lint_yaml(BAD["SS101"], max_depth=2))
    chatty = BAD["SS104"]
    assert "3 times per request" in only(lint_yaml(chatty), "SS104").message
    assert "SS104" not in rules(lint_yaml(chatty, max_calls=4))


def test_ignore_skips_rules_by_id_or_name(lint_yaml: LintYaml) -> None:
    bad = BAD["SS201"]
    assert "SS201" not in rules(lint_yaml(bad, ignore=frozenset({"SS201"})))
    assert "SS201" not in rules(lint_yaml(bad, ignore=frozenset({"missing-timeout"})))
    with pytest.raises(ValueError, match=r"^1 unknown rule to ignore: SS999$"):
        lint_yaml(bad, ignore=frozenset({"SS999"}))
    with pytest.raises(ValueError, match=r"^2 unknown rules to ignore: SS998, SS999$"):
        lint_yaml(bad, ignore=frozenset({"SS999", "SS998"}))


def test_a_hung_target_ties_up_the_callers_only_worker(lint_yaml: LintYaml) -> None:
    """SS201 counts the caller's workers: one of 2 × 4, or the only one."""
    message = only(lint_yaml(BAD["SS201"]), "SS201").message
    assert re.search(r"every call holds one of its \d+ workers until", message), message
    alone = BAD["SS201"].replace("a: {replicas: 2,", "a: {replicas: 1, workers: 1,")
    assert alone != BAD["SS201"]
    assert "every call holds its only worker until" in only(lint_yaml(alone), "SS201").message


def test_cycle_names_the_components_and_edges(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(BAD["SS102"]), "SS102").message
    assert "components a, b" in message
    assert "a.x -> b.y" in message and "b.z -> a.w" in message


def test_a_cache_in_front_of_a_database_does_not_share_it(lint_yaml: LintYaml) -> None:
    spec = """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: cache.get, timeout: 1s},
                                            {to: db.q, timeout: 1s}]}}}
  cache: {kind: cache, replicas: 2, hit_ratio: 90%, backend: db.q, operations: {get: {}}}
  db: {kind: database, replicas: 2, operations: {q: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
    assert "SS103" not in rules(lint_yaml(spec))


def test_single_replica_off_the_sync_path_is_not_reported(lint_yaml: LintYaml) -> None:
    finding = only(lint_yaml(BAD["SS105"]), "SS105")
    assert finding.path == "components.b.replicas"
    assert "'b' has 1 replica on the path of 1 workload (w): one crash" in finding.message


def test_retry_amplification_is_the_product_of_attempts(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(BAD["SS204"]), "SS204").message
    assert "2 layers" in message
    assert "up to 6 calls reach 'c.z'" in message


def test_all_or_nothing_fan_out_quotes_joint_success(lint_yaml: LintYaml) -> None:
    assert "97.02%" in only(lint_yaml(BAD["SS302"]), "SS302").message  # 0.99 x 0.98


def test_slow_consumer_quotes_inflow_and_capacity(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(BAD["SS402"]), "SS402").message
    assert "receives 100/s" in message
    assert "at most 20/s (2 at once, 100 ms each" in message
    assert "grows by 80/s" in message


def test_consumer_capacity_is_capped_by_its_workers(lint_yaml: LintYaml) -> None:
    few_workers = BAD["SS402"].replace("concurrency: 2}", "concurrency: 20}").replace(
        "workers: 16", "workers: 2")
    assert "at most 40/s (4 at once" in only(lint_yaml(few_workers), "SS402").message


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_retry_storm_example_is_overloaded_and_amplified() -> None:
    findings = lint_file(EXAMPLES / "retry-storm.yaml")
    overload = only(findings, "SS501")
    assert overload.path == "components.api.replicas"
    # 420/s x 10 ms = 4.2 busy workers over 4: rho 1.05; 4.2 / (0.8 x 4) -> 2 replicas
    assert "ρ ≈ 1.05" in overload.message and "2 replicas" in overload.message
    storm = only(findings, "SS204")
    assert "up to 3 attempts" in storm.message and "ρ ≈ 3.15" in storm.message


def test_a_retry_budget_bounds_the_amplification(lint_yaml: LintYaml) -> None:
    storm = "\n".join(line for line in (EXAMPLES / "retry-storm.yaml").read_text(
        encoding="utf-8").splitlines() if not line.startswith("#"))
    budgeted = storm.replace("on: [timeout, rejected]}",
                             "on: [timeout, rejected], budget: {ratio: 10%, min_per_s: 0}}")
    assert budgeted != storm
    assert "SS204" not in rules(lint_yaml(budgeted))
    assert "SS501" in rules(lint_yaml(budgeted))  # still overloaded: retries were not the cause


NESTED = """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y, timeout: 1s, retry: {attempts: 3}}]}}}
  b: {replicas: 2, operations: {y: {calls: [{to: c.z, timeout: 300ms, retry: {attempts: 2}}]}}}
  c: {replicas: 2, operations: {z: {}}}
workloads: [{name: w, to: a.x, rate: 100/s}]
"""


def test_budgeted_nested_retries_are_not_reported_as_multiplying(lint_yaml: LintYaml) -> None:
    assert "SS204" in rules(lint_yaml(NESTED))
    budgeted = NESTED.replace("{attempts: 3}", "{attempts: 3, budget: {ratio: 10%}}").replace(
        "{attempts: 2}", "{attempts: 2, budget: {ratio: 10%}}")
    # each layer: 1 + 10% + 2 replicas x 10/s floor / 100/s = 1.3 calls per call at most
    assert "SS204" not in rules(lint_yaml(budgeted))
    # at 5/s the 10/s floor allows every retry: the budget bounds nothing
    assert "SS204" in rules(lint_yaml(budgeted.replace("rate: 100/s", "rate: 5/s")))


def test_single_replica_fixes_match_the_component_kind(lint_yaml: LintYaml) -> None:
    spec = """
components:
  a: {replicas: 2, health: {readiness: {}}, operations: {x: {calls: [
      {to: db.q, timeout: 1s}, {to: c.g, timeout: 1s}]}}}
  db: {kind: database, operations: {q: {}}}
  c: {kind: cache, hit_ratio: 90%, backend: db.q, operations: {g: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
    fixes = {f.path: f.fixes for f in lint_yaml(spec) if f.rule == "SS105"}
    assert "load-balancing" not in fixes["components.db.replicas"]
    assert "leader-and-followers" in fixes["components.db.replicas"]
    assert "leader-and-followers" in fixes["components.c.replicas"]
    overloaded = spec.replace("rate: 10/s", "rate: 10000/s").replace(
        "operations: {q: {}}", "operations: {q: {work: 1ms}}")
    db = next(f for f in lint_yaml(overloaded) if f.rule == "SS501"
              and f.path == "components.db.replicas")
    assert "read-replicas" in db.fixes and "load-balancing" not in db.fixes


def test_overload_quotes_rho_and_the_replicas_it_needs(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(BAD["SS501"]), "SS501").message
    assert "900/s × 10 ms" in message and "9 busy workers" in message
    assert "ρ ≈ 1.12" in message and "3 replicas (ρ ≤ 0.8)" in message  # 9 / (0.8 x 4) = 2.8
    assert "SS502" not in rules(lint_yaml(BAD["SS501"]))
    assert "SS502" not in rules(lint_yaml(BAD["SS502"], utilization=0.9))  # rho 0.875


MM1K = """
scalesim: 1
name: mm1k
components:
  api:
    workers: 1
    queue: 4
    operations: {get: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: api.get, rate: 100/s}]
"""


@pytest.mark.parametrize("rate", [100, 150])
def test_a_bounded_queue_refuses_rather_than_grows(lint_yaml: LintYaml, rate: int) -> None:
    """One worker and 4 queue places hold K = 5: an M/M/1/K at ρ = 1 refuses 1 / (K + 1) =
    17% of arrivals, at ρ = 1.5 (1 - ρ)ρ^K / (1 - ρ^(K+1)) = 37%; it cannot grow past its
    bound. Without the bound the queue grows."""
    rho, places = rate * 0.010, 5
    loss = 1 / (places + 1) if rate == 100 else (1 - rho) * rho**places / (1 - rho ** (places + 1))
    spec = MM1K.replace("rate: 100/s", f"rate: {rate}/s")
    message = only(lint_yaml(spec), "SS501").message
    assert f"its queue is bounded (4 per replica), so it refuses about {loss:.0%} of " \
        "requests (M/M/c/K)" in message
    assert "grows" not in message
    unbounded = only(lint_yaml(spec.replace("    queue: 4\n", "")), "SS501").message
    assert "its queue grows for as long as this load lasts" in unbounded


CLOSED_LOOP = """
scalesim: 1
name: closed
components:
  srv: {workers: 1, operations: {op: {work: {dist: exponential, mean: 8ms}}}}
workloads: [{name: w, to: srv.op, users: 10, think: {dist: exponential, mean: 50ms}}]
"""


def test_a_closed_loop_offers_what_it_gets_through(lint_yaml: LintYaml) -> None:
    """10 users thinking 50 ms on one 8 ms server: at most 10 / 58 ms = 172/s if nothing
    queued (ρ 1.38), but a loop's users wait for their answers, so it runs at Mean Value
    Analysis' 118.6/s (ρ 0.949, computed here): near capacity, not overloaded."""
    think, service, users = 0.050, 0.008, 10
    queue = 0.0
    for n in range(1, users + 1):  # exact MVA for one queueing station and a delay
        response = service * (1 + queue)
        throughput = n / (think + response)
        queue = throughput * response
    findings = lint_yaml(CLOSED_LOOP)
    assert "SS501" not in rules(findings)
    message = only(findings, "SS502").message
    assert f"ρ ≈ {throughput * service:.2f}" in message and "ρ ≈ 0.95" in message


def test_a_saturated_closed_loop_is_near_capacity_not_overloaded(lint_yaml: LintYaml) -> None:
    """1,000 users with no think time on 4 workers of 10 ms: MVA's throughput reaches the
    4 / 10 ms = 400/s capacity (ρ ≈ 1.00), but the users wait for their answers, so the
    queue holds at most their requests: SS502, never SS501 (docs/lint.md); an open
    workload of 500/s on top is an overload."""
    spec = """
components:
  a: {replicas: 1, workers: 4, operations: {x: {work: 10ms}}}
workloads: [{name: w, to: a.x, users: 1000, think: 0s}]
"""
    findings = lint_yaml(spec)
    assert "SS501" not in rules(findings)
    assert "ρ ≈ 1.00" in only(findings, "SS502").message
    opened = spec.replace("think: 0s}]", "think: 0s}, {name: o, to: a.x, rate: 500/s}]")
    assert "SS501" in rules(lint_yaml(opened))


TIMED_HANG = """
defaults: {network: 0ms}
components:
  caller:
    replicas: 1
    workers: 16
    operations: {call: {work: 1ms, calls: [{to: dep.get, timeout: 100ms}]}}
  dep:
    workers: unlimited
    operations:
      get: {work: {dist: mixture, of: [{weight: 0.98, dist: 10ms}, {weight: 0.02, dist: 3s}]}}
workloads: [{name: w, to: caller.call, rate: 500/s}]
"""


def test_a_timeout_bounds_the_hold_of_a_call_that_can_hang(lint_yaml: LintYaml) -> None:
    """The caller waits 10 ms 98% of the time and gives up at 100 ms otherwise: it holds a
    worker 1 + 0.98 × 10 + 0.02 × 100 = 12.8 ms a request, ρ = 500/s × 12.8 ms / 16 = 0.40
    (no finding); the dependency's mean (69.8 ms) would make it ρ 2.2. Retried once on
    timeout (no back-off), 2% of calls wait a second attempt: 12.8 + 0.02 × 11.8 ms."""
    assert not {"SS501", "SS502"} & rules(lint_yaml(TIMED_HANG))
    hold = 1 + 0.98 * 10 + 0.02 * 100
    faster = TIMED_HANG.replace("rate: 500/s", "rate: 1500/s")
    assert f"× {hold:.4g} ms held per request" in only(lint_yaml(faster), "SS501").message
    retried = faster.replace(
        "timeout: 100ms}", "timeout: 100ms, retry: {attempts: 2, on: [timeout], backoff: "
        "none}}")
    again = hold + 0.02 * (0.98 * 10 + 0.02 * 100)
    assert f"× {again:.4g} ms held per request" in only(lint_yaml(retried), "SS501").message


CPU_BOUND = """
scalesim: 1
name: cpu
components:
  a: {workers: 8, cores: 1, operations: {op: {cpu: {dist: exponential, mean: 1ms}}}}
workloads: [{name: w, to: a.op, rate: 1500/s}]
"""


def test_cores_that_cannot_serve_the_cpu_demand_are_an_overload(lint_yaml: LintYaml) -> None:
    """1,500/s × 1 ms of CPU is 1.5 cores on one: ρ 1.5 on the cores (the 8 workers are at
    0.19). The change: ceil(1.5 / 0.8) = 2 replicas, or 1.5 / 0.8 = 1.9 cores."""
    finding = only(lint_yaml(CPU_BOUND), "SS501")
    assert finding.path == "components.a.cores"
    assert "1.5 cores against 1 replica × 1 core: ρ ≈ 1.50" in finding.message
    assert "2 replicas or 1.9 cores each (ρ ≤ 0.8)" in finding.message
    assert not {"SS501", "SS502"} & rules(lint_yaml(CPU_BOUND.replace("cores: 1,", "cores: 2,")))
    assert "SS502" in rules(lint_yaml(CPU_BOUND.replace("cores: 1,", "cores: 1.75,")))


def test_an_autoscaled_component_counts_its_max_replicas(lint_yaml: LintYaml) -> None:
    """900/s × 10 ms is 9 busy workers: on 2 fixed replicas of 4, ρ ≈ 1.12 (SS501). With an
    autoscaler whose max is 10 the same load is ρ ≈ 0.23 and nothing is said; with a max
    of 2 the max is what binds, and the change quoted is to it (9 / (0.8 × 4) → 3)."""
    scaled = BAD["SS501"].replace("{replicas: 2, workers: 4,",
                                  "{replicas: 2, workers: 4, autoscale: {max: 10},")
    assert scaled != BAD["SS501"]
    assert not {"SS501", "SS502"} & rules(lint_yaml(scaled))
    capped = lint_yaml(scaled.replace("{max: 10}", "{max: 2}"))
    finding = only(capped, "SS501")
    assert finding.path == "components.a.autoscale.max"
    assert "against autoscale.max 2 replicas × 4 workers" in finding.message
    assert "the smallest change is autoscale.max 3 (ρ ≤ 0.8)" in finding.message


def test_breaker_count_window_caps_min_calls(lint_yaml: LintYaml) -> None:
    spec = BAD["SS208"].replace("window_type: time, window: 10, min_calls: 100",
                                "window: 10, min_calls: 50")
    message = only(lint_yaml(spec), "SS208").message
    assert "min_calls 50 over a window of 10 calls" in message
    assert "decides after 10 calls" in message
    pooled = BAD["SS208"].replace("min_calls: 100}", "min_calls: 100, scope: service}")
    assert "SS208" not in rules(lint_yaml(pooled))  # one breaker sees 10/s x 10 s = 100
    assert "SS208" in rules(lint_yaml(pooled.replace("rate: 10/s", "rate: 9/s")))


def test_retries_cut_off_by_their_own_deadline(lint_yaml: LintYaml) -> None:
    spec = """
components:
  a: {replicas: 2, operations: {x: {calls: [
      {to: b.y, timeout: 400ms, deadline: 1s, retry: {attempts: 3}}]}}}
  b: {replicas: 2, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
    finding = only(lint_yaml(spec), "SS207")
    assert finding.path.endswith("calls[0].deadline")
    assert "it holds only 2 timed-out attempts, so the retries" in finding.message


@pytest.mark.parametrize(("timeout", "deadline", "attempts", "fit"), [
    ("100ms", "1s", 11, "10 timed-out attempts"),  # 1.0 // 0.1 == 9.0 in binary floating point
    ("100ms", "1s", 10, None),
    ("200ms", "600ms", 4, "3 timed-out attempts"),  # 0.6 // 0.2 == 2.0
    ("200ms", "600ms", 3, None),  # 3 × 0.2 > 0.6
    ("600ms", "1s", 2, "1 timed-out attempt"),
])
def test_attempts_that_fit_in_a_deadline_count_exact_multiples(
        lint_yaml: LintYaml, timeout: str, deadline: str, attempts: int, fit: str | None) -> None:
    spec = f"""
components:
  a: {{replicas: 2, operations: {{x: {{calls: [{{to: b.y, timeout: {timeout},
      deadline: {deadline}, retry: {{attempts: {attempts}, backoff: none}}}}]}}}}}}
  b: {{replicas: 2, operations: {{y: {{}}}}}}
workloads: [{{name: w, to: a.x, rate: 10/s}}]
"""
    found = [f for f in lint_yaml(spec) if f.rule == "SS207"]
    if fit is None:
        assert found == []
    else:
        assert len(found) == 1 and f"it holds only {fit}," in found[0].message


def test_retries_exactly_as_long_as_the_caller_waits_do_not_outlast_it(
        lint_yaml: LintYaml) -> None:
    """3 × 200 ms is 600 ms, not more, however the floats round; 4 × 200 ms is more."""
    spec = """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y, timeout: 600ms}]}}}
  b: {replicas: 2, operations: {y: {calls: [{to: c.z, timeout: 200ms, retry: {attempts: 3}}]}}}
  c: {replicas: 2, operations: {z: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
    assert "SS207" not in rules(lint_yaml(spec))
    message = only(lint_yaml(spec.replace("attempts: 3", "attempts: 4")), "SS207").message
    assert "up to 4 × 200 ms = at least 800 ms" in message


def test_a_deadline_counts_as_the_callers_bound(lint_yaml: LintYaml) -> None:
    spec = BAD["SS206"].replace("{to: b.y, timeout: 1s}", "{to: b.y, deadline: 1s}")
    assert "SS206" in rules(lint_yaml(spec))
    assert "SS206" not in rules(lint_yaml(spec.replace("deadline: 1s", "deadline: 3s")))


def test_hedging_a_non_idempotent_operation_is_an_error(lint_yaml: LintYaml) -> None:
    hedged = BAD["SS210"].replace("retry: {attempts: 3}", "hedge: {after: 50ms}")
    finding = only(lint_yaml(hedged), "SS210")
    assert finding.severity == "error" and "hedges it" in finding.message
    assert "SS210" not in rules(lint_yaml(hedged.replace("idempotent: false", "idempotent: true")))


def test_preview_analysis_says_when_it_gives_up_and_what_to_use(lint_yaml: LintYaml) -> None:
    """consecutive_error_limit 4 (default): the first empty measurement when the preview is
    ready, then one every 10 s (Argo's retry after an error): the fifth, 40 s after it, ends
    the analysis in Error."""
    finding = only(lint_yaml(BAD["SS701"]), "SS701")
    assert finding.path == "components.api.rollout.pre_promotion_analysis"
    assert "measures error_rate on the preview 'v2'" in finding.message
    assert "after 5 in a row (40 s after the preview is ready)" in finding.message
    assert "post_promotion_analysis" in finding.message
    assert "preview: true" in finding.message


def test_a_preview_client_gives_the_preview_analysis_its_data(lint_yaml: LintYaml) -> None:
    smoke = "  - {name: smoke, to: api.get, rate: 5/s, preview: true}\n"
    spec = BAD["SS701"].replace("workloads: [{name: w, to: api.get, rate: 10/s}]\n",
                                "workloads:\n  - {name: w, to: api.get, rate: 10/s}\n" + smoke)
    assert "preview: true" in spec
    assert "SS701" not in rules(lint_yaml(spec))


def test_a_lease_shorter_than_renewal_quotes_the_overlap(lint_yaml: LintYaml) -> None:
    """3 s lease, 2.5 s renew deadline, 1 s retry period: the holder gives up 3.5 s after its
    last renewal, 0.5 s after a candidate may take over; 2 s (3 − 1) is the longest deadline
    that keeps the order, and Kubernetes' defaults (15 ≥ 10 + 2) keep it."""
    message = only(lint_yaml(BAD["SS606"]), "SS606").message
    assert "up to 3.5 s after its last renewal" in message
    assert "for up to 500 ms two replicas act as leader" in message
    assert "at most 2 s" in message
    defaults = BAD["SS606"].replace(
        "lease_duration: 3s, renew_deadline: 2500ms, retry_period: 1s", "")
    assert "SS606" not in rules(lint_yaml(defaults))



BYPASSED_CACHE = """\
scalesim: 1
name: bypassed
components:
  app:
    replicas: 2
    operations:
      read: {calls: [{to: cache.get, timeout: 1s}]}
      update: {calls: [{to: db.u, timeout: 1s}]}
  cache:
    kind: cache
    replicas: 2
    backend: db.q
    caching: {}
    operations: {get: {}}
  db:
    kind: database
    replicas: 2
    replication: {mode: async, writes: [u]}
    operations: {q: {work: 2ms}, u: {work: 2ms}}
workloads:
  - {name: r, to: app.read, rate: 100/s, keys: 1000}
  - {name: u, to: app.update, rate: 10/s, keys: 1000}
"""


def test_a_cache_without_ttl_that_writes_bypass_is_stale_forever(lint_yaml: LintYaml) -> None:
    """The application writes the database past a cache with no TTL and no writes of its own
    (the simulation counts every later hit of such a key stale, docs/data.md): SS603 names
    the writer; a TTL, or no declared write, leaves nothing to report."""
    message = only(lint_yaml(BYPASSED_CACHE), "SS603").message
    assert "app.update writes db.u past the cache" in message
    assert "stale from the first write on, forever" in message
    assert "SS603" not in rules(lint_yaml(BYPASSED_CACHE.replace("caching: {}",
                                                                 "caching: {ttl: 30s}")))
    undeclared = BYPASSED_CACHE.replace("    replication: {mode: async, writes: [u]}\n", "")
    assert "SS603" not in rules(lint_yaml(undeclared))


SAME_TIMEOUTS = "election_timeout: 150ms, election_timeout_max: 150ms"


def test_identical_election_timeouts_split_votes_and_double_the_range(
        lint_yaml: LintYaml) -> None:
    """QA's le3.yaml: 150–150 ms (no network delay here: identical timers fire at the same
    instant anyway): the fix is twice election_timeout. Over a 10 ms network a 150–200 ms
    range is under 10 vote round trips (200 ms): the fix is 150 + 200 = 350 ms. The default
    range (150 ms to 300 ms) clears it, and 2 replicas (one follower, nobody to split with)
    never trigger it."""
    finding = only(lint_yaml(BAD["SS609"]), "SS609")
    assert finding.path == "components.s.leader_election.election_timeout_max"
    assert "followers all wait the same 150 ms" in finding.message
    assert finding.message.endswith(
        "set 'election_timeout_max: 300ms' (a range of 150 ms)")
    slow = (BAD["SS609"].replace(SAME_TIMEOUTS, "election_timeout: 150ms, "
                                 "election_timeout_max: 200ms")
            + "defaults: {network: 10ms}\n")
    message = only(lint_yaml(slow), "SS609").message
    assert "from 150 ms to 200 ms, a range of 50 ms" in message
    assert "(200 ms here;" in message
    assert message.endswith("set 'election_timeout_max: 350ms' (a range of 200 ms)")
    assert "SS609" not in rules(lint_yaml(
        BAD["SS609"].replace(SAME_TIMEOUTS, "election_timeout: 150ms")))
    assert "SS609" not in rules(lint_yaml(
        BAD["SS609"].replace("    replicas: 3\n", "    replicas: 2\n")))


def test_bounds_that_the_rules_used_to_miss(lint_yaml: LintYaml) -> None:
    """A deadline bounds a call as a timeout does (SS201); a caller that propagates its
    deadline cuts the calls below at what is left of it (SS206, SS207: the simulator does,
    as gRPC does); at exactly --utilization the load is where SS502's fix would put it."""
    assert "SS201" not in rules(lint_yaml(BAD["SS201"].replace(
        "{to: b.y}", "{to: b.y, deadline: 300ms}")))
    for rule in ("SS206", "SS207"):
        assert rule in rules(lint_yaml(BAD[rule]))
        propagated = BAD[rule].replace("{to: b.y, timeout: 1s}",
                                       "{to: b.y, timeout: 1s, propagate_deadline: true}")
        assert propagated != BAD[rule] and rule not in rules(lint_yaml(propagated))
    at_target = BAD["SS502"].replace("rate: 700/s", "rate: 640/s")  # 6.4 / 8 = 0.8
    assert at_target != BAD["SS502"] and "SS502" not in rules(lint_yaml(at_target))
    assert "SS502" in rules(lint_yaml(BAD["SS502"].replace("rate: 700/s", "rate: 648/s")))


def test_a_choreographed_step_is_judged_by_its_own_timeout_and_retry(tmp_path: Path) -> None:
    """In choreography a step's timeout and retry time out and redeliver its event
    (docs/data.md): saga-choreography's payment step (timeout 2 s, jitter: none) gets the
    SS205 and SS203 findings saga-orchestration's identical step gets, at the same paths."""
    def findings(template: str) -> dict[str, str]:
        spec = tmp_path / f"{template}.yaml"
        spec.write_text(get_template(template).build().text)
        return {f"{f.rule} {f.path}": f.message for f in lint_file(spec)
                if f.rule in ("SS203", "SS205") and "saga" in f.path}

    choreographed, orchestrated = findings("saga-choreography"), findings("saga-orchestration")
    external = "SS205 components.orders.operations.place.calls[0].saga.steps[2]"
    assert choreographed[external].endswith("waits its full timeout (2 s)")
    assert f"SS203 {external[6:]}.retry.jitter" in choreographed
    assert choreographed.keys() == orchestrated.keys()


def test_saga_steps_and_managed_queues_are_not_flagged(lint_yaml: LintYaml,
                                                      tmp_path: Path) -> None:
    """A saga's compensations and post-pivot steps are retried until they succeed, whatever
    the request that started the saga still waits for (SS207 told banking-transfer to trim
    its refund's retries); a managed store (DynamoDB, SQS) is replicated by its provider (SS105)."""
    spec = tmp_path / "banking.yaml"
    spec.write_text(get_template("banking-transfer").build().text)
    found = lint_file(spec)
    assert not [f for f in found if f.rule in ("SS206", "SS207") and "saga" in f.path]
    def flagged(text: str) -> list[str]:
        return [f.path for f in lint_yaml(text) if f.rule == "SS105"]

    managed = BAD["SS105"].replace("b: {replicas: 1,",
                                   "b: {replicas: 1, kind: database, tech: dynamodb,")
    assert flagged(BAD["SS105"]) == ["components.b.replicas"] and flagged(managed) == []


def test_partitions_on_a_queue_without_tech_or_another_broker_are_flagged(
        lint_yaml: LintYaml) -> None:
    """A queue without tech runs RabbitMQ when generated; neither it nor SQS has partitions
    or consumer groups. Kafka (in any case) is not flagged, nor a queue without partitions."""
    bad = BAD["SS406"]
    techless = bad.replace("    tech: rabbitmq\n", "")
    finding = only(lint_yaml(techless), "SS406")
    assert finding.path == "components.q.partitions"
    assert "it has no tech (generate runs RabbitMQ)" in finding.message
    assert "Kafka topic of 6 partitions" in finding.message
    grouped = bad.replace("tech: rabbitmq", "tech: sqs").replace(
        "partitions: 6", "partitions: 6\n    group: {rebalance: cooperative}")
    assert "sets 'partitions' and 'group' but its tech is sqs" in \
        only(lint_yaml(grouped), "SS406").message
    assert "SS406" not in rules(lint_yaml(bad.replace("tech: rabbitmq", "tech: Kafka")))
    assert "SS406" not in rules(lint_yaml(bad.replace("    partitions: 6\n", "")))


def test_a_leaders_load_is_sized_on_the_leader(lint_yaml: LintYaml) -> None:
    """5,000 inserts/s at 10 ms on a replicated database: writes (and, by default, reads) go
    to the leader, so 50 busy workers meet the leader's 20 (ρ = 2.5), not 2 × 20. The fix
    is the leader's workers, 50 / 0.8 → 63, after which nothing is said; more replicas (the
    fix quoted before) left the simulation just as overloaded."""
    spec = """
components:
  api:
    replicas: 3
    workers: 100
    operations: {ingest: {work: 1ms, calls: [{to: db.insert, timeout: 1s}]}}
  db: {kind: database, replicas: 2, workers: 20, operations: {insert: {work: 10ms}},
       replication: {mode: async, writes: [insert]}}
workloads: [{name: w, to: api.ingest, rate: 5000/s}]
"""
    finding = only(lint_yaml(spec), "SS501")
    assert finding.path == "components.db.workers" and "ρ ≈ 2.50" in finding.message
    assert "the leader's workers 63" in finding.message and "read-replicas" in finding.fixes
    fixed = lint_yaml(spec.replace("replicas: 2, workers: 20", "replicas: 2, workers: 63"))
    assert not {"SS501", "SS502"} & rules(fixed)
    more = lint_yaml(spec.replace("replicas: 2, workers: 20", "replicas: 4, workers: 20"))
    assert "SS501" in rules(more)


def test_a_backoff_without_jitter_quotes_its_first_wait(lint_yaml: LintYaml) -> None:
    """The first retry waits min(max, base·2) as the simulator draws it: 50 ms with the
    defaults (25 ms, 250 ms), 1 s for a saga's Step Functions policy (base 500 ms), which
    the message used to quote as its base."""
    assert "(first wait 50 ms)" in only(lint_yaml(BAD["SS203"]), "SS203").message
    slower = BAD["SS203"].replace("jitter: none}", "jitter: none, base: 500ms, max: 10s}")
    assert "(first wait 1 s)" in only(lint_yaml(slower), "SS203").message


AUTOSCALED_CALLER = """
components:
  a: {replicas: 1, autoscale: {min: 1, max: 10, metrics: [{cpu: 60%}]},
      operations: {x: {calls: [{to: b.y, timeout: 1s, GUARD}]}}}
  b: {replicas: 2, workers: 8, operations: {y: {work: 5ms}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""


def test_an_autoscaled_callers_bulkheads_add_up_at_autoscale_max(lint_yaml: LintYaml) -> None:
    """One replica's bulkhead of 16 fits b's 2 × 8 workers; ten of them (autoscale.max)
    admit 160. Judged at 'replicas: 1', SS209 said nothing."""
    spec = AUTOSCALED_CALLER.replace("GUARD", "bulkhead: {max_concurrent: 16}")
    message = only(lint_yaml(spec), "SS209").message
    assert "admits 10 caller replicas × 16 = 160 calls at once at autoscale.max 10" in message
    assert "serves only 16 (2 × 8 workers)" in message and "at most 1 per caller" in message
    assert "SS209" not in rules(lint_yaml(spec.replace("max: 10", "max: 1")))


def test_an_autoscaled_callers_breakers_are_judged_at_autoscale_max(
        lint_yaml: LintYaml) -> None:
    """10/s over up to 10 replicas: each replica's breaker sees 1/s × 10 s = 10 calls at
    most scale, below min_calls 20 (at 'replicas: 1' it saw 100, and SS208 said nothing);
    at most 5 replicas it sees 20 and can open."""
    spec = AUTOSCALED_CALLER.replace(
        "GUARD", "circuit_breaker: {window_type: time, window: 10, min_calls: 20}")
    message = only(lint_yaml(spec), "SS208").message
    assert "each of the 10 calling replicas' breakers sees about 10 at autoscale.max 10" \
        in message
    assert "SS208" not in rules(lint_yaml(spec.replace("max: 10", "max: 5")))


@pytest.mark.parametrize(("template", "queue", "dead_letters"), [
    ("dead-letter-queue", "orders", "orders-dlq"),
    ("event-driven-batch", "batch-items", "batch-items-dlq"),
    ("banking-transfer", "transfer-events", "transfer-events-dlq"),
])
def test_a_dead_letter_queue_is_not_asked_for_a_capacity(
        tmp_path: Path, template: str, queue: str, dead_letters: str) -> None:
    """Capping a dead-letter queue drops exactly the messages it keeps, and it has no
    consumers to fall behind: SS401 spoke of them on every template with one."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(get_template(template).build().text)
    unbounded = {f.path for f in lint_file(spec) if f.rule == "SS401"}
    assert f"components.{dead_letters}" not in unbounded
    assert unbounded == {f"components.{queue}"}  # the queue it keeps them for still is


def test_an_oversized_bulkhead_is_not_said_to_isolate_nothing(lint_yaml: LintYaml) -> None:
    """A bulkhead still caps the caller's threads held by the callee however large it is
    (simulated: the unrelated operation's p99 stayed 5 ms with it, 17 s without); what an
    oversized one lets through queues at the callee, ahead of its other callers."""
    message = only(lint_yaml(BAD["SS209"]), "SS209").message
    assert "isolates nothing" not in message
    assert "it still caps" in message and "queue" in message


def test_an_infinite_mean_is_not_called_a_loop(lint_yaml: LintYaml) -> None:
    """Pareto work with alpha ≤ 1 has an infinite mean: SS501 said 'its calls loop back on
    it' and told the user to break a loop there was not."""
    spec = """
scalesim: 1
name: t
components:
  api: {operations: {get: {work: {dist: pareto, min: 1ms, alpha: 0.5}}}}
workloads: [{name: w, to: api.get, rate: 10/s}]
"""
    found = [f for f in lint_yaml(spec) if f.rule == "SS501"]
    assert len(found) == 1 and "infinite mean time" in found[0].message
    assert "loop" not in found[0].message


def test_metastable_retries_quote_both_steady_states(lint_yaml: LintYaml) -> None:
    """b serves 1,000/s (10 workers of 10 ms): 400/s keep it calm, the 3 tries of every call
    (1,200/s) keep it overloaded; a budget of 10 % (and 2 × 10/s over 400/s) sends at most
    1.15 attempts a call, 460/s, and leaves no second state."""
    finding = only(lint_yaml(BAD["SS211"]), "SS211")
    assert finding.path == "components.a.operations.x.calls[0].retry"
    assert "up to 3 attempts a call" in finding.message
    assert "gets 400/s (ρ ≈ 0.40)" in finding.message
    assert "at 1,200/s (ρ ≈ 1.20), every request failing" in finding.message
    budgeted = BAD["SS211"].replace("{attempts: 3}", "{attempts: 3, budget: {ratio: 10%}}")
    assert "SS211" not in rules(lint_yaml(budgeted))


def test_metastable_retries_load_a_leader_as_the_overload_rule_does(lint_yaml: LintYaml) -> None:
    """The documented example with b's operations served by its leader alone (raft): each
    state's ρ is its rate × 10 ms over the leader's 5 workers (not over 2 replicas' 10):
    3 tries of every call 1200/s, ρ 2.40; calm, about 400/s, ρ ≈ 0.8, as SS502 says (warning
    from 0.7)."""
    spec = BAD["SS211"].replace("b: {replicas: 2, workers: 5,",
                                "b: {replicas: 2, workers: 5, leader_election: {type: raft},")
    assert spec != BAD["SS211"]
    findings = lint_yaml(spec, utilization=0.7)
    message = only(findings, "SS211").message
    assert "at 1,200/s (ρ ≈ 2.40)" in message
    calm = re.search(r"gets ([0-9.]+)/s \(ρ ≈ ([0-9.]+)\)", message)
    assert calm is not None
    assert float(calm[2]) == pytest.approx(float(calm[1]) * 0.010 / 5, abs=0.005)
    assert float(calm[2]) == pytest.approx(0.8, abs=0.02)
    assert "ρ ≈ 0.80" in only(findings, "SS502").message


def test_deliveries_that_outlive_their_visibility_timeout_come_again(lint_yaml: LintYaml) -> None:
    """The docs' example: exponential work of mean 200 ms against a 300 ms visibility
    timeout; each delivery outlives it with e^(−1.5) ≈ 22 %, which the message quotes and
    the kernel does: up to 5 deliveries, 1 + p + … + p⁴ = 1.2865 a message (simulated
    over 20,000 messages: within 3 standard errors)."""
    finding = only(lint_yaml(BAD["SS407"]), "SS407")
    assert finding.path == "components.q.delivery.visibility_timeout"
    assert "takes about 200 ms" in finding.message and "(about 22% of them" in finding.message
    system = load_spec_text(BAD["SS407"] + "simulation: {duration: 2000s, seed: 1}\n")
    found = simulate(system)["queues"]["q->d.y"]
    late = math.exp(-1.5)
    tries = np.array([1.0, late, late**2, late**3, late**4])
    mean = tries.sum()
    # deliveries of one message: k with P(k) = p^(k−1)(1 − p), 5 with p^4
    counts = np.arange(1, 6)
    chances = np.array([late**(k - 1) * (1 - late) for k in range(1, 5)] + [late**4])
    sd = math.sqrt(float((chances * (counts - mean) ** 2).sum()) / found["published"])
    assert found["deliveries_per_message"] == pytest.approx(mean, abs=3 * sd)


LATE = """
defaults: {network: HOP}
components:
  q:
    kind: queue
    delivery:
      {guarantee: at_least_once, visibility_timeout: VISIBLE, max_deliveries: 5, dead_letter: dlq}
    consumers: [{to: d.y, idempotent: true}]
  dlq: {kind: queue}
  d: {operations: {y: {work: WORK}}}
workloads: [{name: w, to: q.publish, rate: 1/s}]
"""


@pytest.mark.parametrize(("work", "network", "visible", "late"), [
    ("5s", "0ms", "1s", 1.0),                                      # every delivery is late
    ("{dist: exponential, mean: 1s}", "0ms", "2s", math.exp(-2.0)),
    # the hops there and back (100 ms) leave 500 ms of the 600 ms for the work: e^(−1.25)
    ("{dist: exponential, mean: 400ms}", "50ms", "600ms", math.exp(-500 / 400)),
])
def test_the_late_share_follows_the_work_distribution(
        lint_yaml: LintYaml, work: str, network: str, visible: str, late: float) -> None:
    """SS407 quotes P(work + the rest > visibility_timeout) from the work's distribution:
    a constant 5 s against 1 s is late every time (an exponential guess said 82 %), an
    exponential one with e^(−t/mean) of the time t the work has."""
    spec = LATE.replace("WORK", work).replace("HOP", network).replace("VISIBLE", visible)
    message = only(lint_yaml(spec), "SS407").message
    assert f"(about {late:.0%} of them by the work's distribution" in message
    assert ("more once the consumer queues" in message) == (late < 1.0)


QUORUM = """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: kv.get, timeout: 1s}]}}}
  kv:
    kind: database
    replicas: 5
    operations: {get: {}, put: {}}
    replication:
      {mode: quorum, writes: [put], n: N, w: W, r: R, write: {dist: exponential, mean: 10ms}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
_STALE = re.compile(r"misses it (\d+)% of the time, and 99\.9% of reads see it ([\d.]+) ms after")


@pytest.mark.parametrize(("n", "w", "r"), [(3, 1, 1), (5, 2, 2), (4, 2, 2)])
def test_a_partial_quorum_quotes_its_pbs_staleness(
        lint_yaml: LintYaml, n: int, w: int, r: int) -> None:
    """R + W ≤ N. With A, R and S all 0 (no network) a read takes r replicas at random, and
    right after the commit only the w fastest writes are in: it misses them with probability
    C(n − w, r) / C(n, r). For n = 3, w = r = 1 the wait after the commit is 0 with 1/3,
    else Exp(10 ms) (memoryless past the fastest write): its 99.9th percentile is
    10 ms · ln(2000/3) = 65 ms. The figure comes from 20,000 draws: within 3 standard
    errors (and 0.5 points of rounding)."""
    spec = QUORUM.replace("N", str(n)).replace("W", str(w)).replace("R", str(r))
    finding = only(lint_yaml(spec), "SS608")
    assert finding.path == "components.kv.replication"
    assert finding.message.startswith(
        f"'kv' writes to {w} and reads from {r} of the {n} replicas of a key: R + W = "
        f"{w + r} ≤ N = {n}, so a read's replicas need not include one that has the latest "
        "write and it can return an older value (PBS, W exponential of mean 10 ms and A, R, "
        "S of 0 ms: ")
    assert finding.message.endswith(f"; make R + W > N (e.g. 'r: {n - w + 1}') if reads must "
                                    "see the latest write")
    found = _STALE.search(finding.message)
    assert found is not None
    stale = math.comb(n - w, r) / math.comb(n, r)
    sd = math.sqrt(stale * (1 - stale) / 20_000)
    assert abs(int(found.group(1)) / 100 - stale) <= 3 * sd + 0.005
    if (n, w, r) == (3, 1, 1):
        assert float(found.group(2)) == pytest.approx(10 * math.log(2000 / 3), abs=7.0)


def test_an_overlapping_quorum_is_not_flagged(lint_yaml: LintYaml) -> None:
    spec = QUORUM.replace("N", "5").replace("W", "3").replace("R", "3")
    assert "SS608" not in rules(lint_yaml(spec))


def test_a_partial_quorum_without_delays_has_no_pbs_figure(lint_yaml: LintYaml) -> None:
    """No network and no replica delays: the WARS model has nothing to be late by, so the
    message keeps to the overlap argument."""
    spec = QUORUM.replace(", write: {dist: exponential, mean: 10ms}", "").replace(
        "N", "3").replace("W", "1").replace("R", "1")
    assert only(lint_yaml(spec), "SS608").message.endswith(
        "it can return an older value; make R + W > N (e.g. 'r: 3') if reads must see the "
        "latest write")


def autoscaled_api(autoscale: str) -> str:
    """A spec of one healthy 2-replica api with `autoscale` (a YAML flow mapping)."""
    return f"""
components:
  api:
    replicas: 2
    workers: 8
    health: {{readiness: {{}}}}
    operations: {{get: {{work: 5ms}}}}
    autoscale: {autoscale}
workloads: [{{name: w, to: api.get, rate: 100/s}}]
"""


@pytest.mark.parametrize(("written", "flagged"), [
    ("50", True), ("10.01", True), ("'5000%'", True),     # 5000 %, 1001 %: no rate limit
    ("10", False), ("'50%'", False), ("0.5", False), ("2", False)])
def test_a_scaling_percent_above_1000_is_read_as_a_multiple(
        lint_yaml: LintYaml, written: str, flagged: bool) -> None:
    """A policy's percent is a ratio: a bare 50 is 5000 % (the HPA gets value 5000)."""
    spec = autoscaled_api(
        f"{{max: 10, scale_down: {{policies: [{{pods: 1}}, {{percent: {written}, "
        "period: 30s}]}}")
    findings = lint_yaml(spec)
    assert ("SS702" in rules(findings)) is flagged
    if written == "50":
        finding = only(findings, "SS702")
        assert finding.path == "components.api.autoscale.scale_down.policies[1].percent"
        assert finding.message == (
            "'api' scale_down policy 1 allows 5000% of the replicas per 30 s: a bare number "
            "is a multiple, so 'percent: 50' means 5000% (HPA and KEDA get value 5000); "
            "write '50%' for 50 percent")


@pytest.mark.parametrize(("target", "tolerance", "flagged"), [
    ("90%", "10%", False), ("91%", "10%", True), ("95%", "10%", True),
    ("83%", "20%", False), ("84%", "20%", True)])
def test_a_cpu_target_the_hpa_cannot_scale_up_from_is_named(
        lint_yaml: LintYaml, target: str, tolerance: str, flagged: bool) -> None:
    """A saturated replica reads 100 % of its CPU request, and the HPA moves only when 100 /
    target leaves 1 ± tolerance: 100/91 = 1.099 ≤ 1.1 never does, 100/90 = 1.111 does; with
    a 20 % tolerance, 100/84 = 1.190 ≤ 1.2 and 100/83 = 1.205."""
    spec = autoscaled_api(f"{{max: 10, tolerance: {tolerance}, metrics: [{{cpu: {target}}}]}}")
    findings = lint_yaml(spec)
    assert ("SS703" in rules(findings)) is flagged
    if flagged:
        assert only(findings, "SS703").path == "components.api.autoscale.metrics[0].cpu"


def io_bound_api(metrics: str, cores: str = "cores: 1", cpu: str = "1ms") -> str:
    """The QA's I/O-bound api: 2 replicas × 16 workers, each request computing `cpu` and
    waiting 150 ms on the database (no network: a worker is held 151 ms), 300/s."""
    return f"""
components:
  api:
    replicas: 2
    workers: 16
    {cores}
    health: {{readiness: {{}}}}
    autoscale: {{min: 2, max: 10, metrics: {metrics}}}
    operations: {{get: {{cpu: {cpu}, calls: [{{to: db.q, timeout: 1s}}]}}}}
  db:
    kind: database
    replicas: 3
    workers: 200
    health: {{readiness: {{}}}}
    operations: {{q: {{wait: 150ms}}}}
workloads: [{{name: w, to: api.get, rate: 300/s}}]
"""


@pytest.mark.parametrize(("metrics", "cores", "flagged"), [
    ("[{cpu: 60%}]", "cores: 1", True),
    ("[{cpu: 10%}]", "cores: 1", True),     # 16 × 1/151 = 10.6 %: 1.06 ≤ 1.1
    ("[{cpu: 9%}]", "cores: 1", False),     # 10.6 / 9 = 1.18: it scales up
    ("[{cpu: 60%}, {rps: 80/s}]", "cores: 1", False),  # the HPA takes the rps proposal
    ("[{cpu: 2%}]", "", True),              # one core per worker: 1/151 = 0.66 %
])
def test_a_cpu_target_an_io_bound_replica_never_reaches_is_named(
        lint_yaml: LintYaml, metrics: str, cores: str, flagged: bool) -> None:
    """With every worker busy a replica computes workers × cpu / hold = 16 × 1 ms / 151 ms
    of a core, 10.6 % of a 1-core request; without `cores` the request is a core per worker,
    so 0.66 %. The HPA scales up only above target × (1 + tolerance)."""
    findings = lint_yaml(io_bound_api(metrics, cores))
    assert ("SS704" in rules(findings)) is flagged
    if metrics == "[{cpu: 60%}]":
        finding = only(findings, "SS704")
        assert finding.path == "components.api.autoscale.metrics[0].cpu"
        assert finding.message == (
            "'api' scales on 60% CPU, but a request holds a worker 151 ms and computes for "
            "1 ms of it (the rest waits on calls and 'wait'): with all 16 workers busy a "
            "replica uses 10.6% of its CPU request (1 core), and the HPA scales up only above "
            "66% (60% + 10% tolerance): the CPU metric never adds replicas while requests "
            "queue, and scales the fleet down to autoscale.min (2, ρ 1.42 at the sustained "
            "load); scale on the requests instead: {rps: 84.8/s} per replica (80% of the "
            "106/s a replica's 16 workers serve), or on a queue's backlog (KEDA)")


def test_a_cpu_bound_replica_is_left_to_ss703(lint_yaml: LintYaml) -> None:
    """Computing all of its 151 ms, a replica saturates its core before its workers: its
    CPU reads 100 %, which a 60 % target reaches."""
    assert "SS704" not in rules(lint_yaml(io_bound_api("[{cpu: 60%}]", cpu="151ms")))


def test_the_io_bound_hpa_never_grows_on_cpu_and_grows_on_the_rps_quoted() -> None:
    """The simulator agrees: on 60 % CPU the fleet reads about 10 % and never scales up,
    however long requests queue; on the {rps: 84.8/s} SS704 quotes it grows past 2 (to 4
    within 60 s, 300/s over 84.8 per replica)."""
    def scaling(metrics: str) -> dict[str, Any]:
        spec = io_bound_api(metrics).replace("    health: {readiness: {}}\n", "")
        system = load_spec_text(f"scalesim: 1\nname: io\n{spec}"
                                "simulation: {duration: 60s, seed: 1}\n")
        return simulate(system)["components"]["api"]["scaling"]

    on_cpu = scaling("[{cpu: 60%}]")
    assert all(event["to"] < event["from"] for event in on_cpu["events"])
    assert on_cpu["replicas"]["max"] == 2
    assert scaling("[{rps: 84.8/s}]")["replicas"]["final"] == 4


def database(settings: str) -> str:
    """An api reading a database `db` with `settings` (a YAML flow mapping's inside)."""
    return f"""
components:
  a:
    replicas: 2
    health: {{readiness: {{}}}}
    operations: {{x: {{calls: [{{to: db.q, timeout: 1s}}]}}}}
  db: {{kind: database, health: {{readiness: {{}}}}, operations: {{q: {{}}, u: {{}}}}, {settings}}}
workloads: [{{name: w, to: a.x, rate: 10/s}}]
"""


@pytest.mark.parametrize(("settings", "flagged"), [
    ("replicas: 3", True),
    ("replicas: 2, tech: mysql, balancer: least_requests", True),
    ("replicas: 2, autoscale: {min: 2, max: 4}", True),
    ("replicas: 3, replication: {writes: [u]}", False),      # a leader and followers
    ("replicas: 3, balancer: hash", False),                  # each key on one replica: shards
    ("replicas: 3, tech: cassandra", False),                 # one cluster places the data
    ("replicas: 3, tech: dynamodb", False),                  # managed behind one endpoint
    ("replicas: 1", False),                                  # SS105's
])
def test_database_replicas_without_replication_are_named(
        lint_yaml: LintYaml, settings: str, flagged: bool) -> None:
    """Several standalone database servers behind a balancer keep their own writes: the
    replicas that clear SS105 are no copies of each other."""
    findings = lint_yaml(database(settings))
    assert ("SS107" in rules(findings)) is flagged
    if settings == "replicas: 3":
        finding = only(findings, "SS107")
        assert finding.path == "components.db.replicas"
        assert finding.fixes == ("leader-and-followers", "majority-quorum", "sharding")
        assert finding.message == (
            "database 'db' has 3 replicas but no replication: each is a server with its own "
            "data, and the balancer (round_robin) sends each read and write to any of them, "
            "so a read sees a write only where it lands on the replica that took it (1 in 3) "
            "and the copies diverge; a replica's crash loses the writes only it holds (the "
            "simulation serves them as one store, and generate deploys 3 independent "
            "servers); add replication: {writes: [...]} (leader and followers, or mode: "
            "quorum), or balancer: hash to give each key one replica (shards)")


@pytest.mark.parametrize(("attempts", "other", "replicas", "said"), [
    (2, "true", 2, None),                       # failover: the failed replica is not retried
    (2, "false", 2, "a struggling target gets 2x the load at once"),
    (2, "true", 1, "a struggling target gets 2x the load at once"),  # nowhere else to go
    (3, "true", 2, "each retry avoids only the replica that just failed, so the third "
                   "attempt can go back at once to the first, and when 'b' as a whole "
                   "struggles it gets 3x the load at once"),
])
def test_an_immediate_retry_to_another_replica_is_failover(
        lint_yaml: LintYaml, attempts: int, other: str, replicas: int,
        said: str | None) -> None:
    """A retry steered away from the replica that failed does not hit it again: one such
    retry is failover (the ambassador template's), while a third attempt may return to the
    first, since only the replica that just failed is avoided."""
    findings = lint_yaml(f"""
components:
  a: {{replicas: 2, operations: {{x: {{calls: [{{to: b.y, timeout: 1s, retry: {{
      attempts: {attempts}, backoff: none, other_replica: {other}}}}}]}}}}}}
  b: {{replicas: {replicas}, operations: {{y: {{}}}}}}
workloads: [{{name: w, to: a.x, rate: 10/s}}]
""")
    if said is None:
        assert "SS202" not in rules(findings)
    else:
        assert only(findings, "SS202").message == (
            f"'a.x' -> 'b.y' makes up to {attempts} attempts with no wait between them: "
            f"{said}")


def test_the_ambassadors_provider_failover_is_no_retry_storm() -> None:
    findings = lint_system(load_built(get_template("ambassador").build()))
    assert "SS202" not in rules(findings)
