"""Each rule: a spec that triggers it, and a minimal change to that spec that does not;
then the numbers the messages quote, checked against hand-computed answers."""

from __future__ import annotations

import pytest
from tests.lint.helpers import LintYaml, only, rules
from tests.lint.specs import CLEAN

from scalesim.lint import RULES

# (rule, spec that triggers it, (text to replace, replacement) that makes it pass)
CASES: list[tuple[str, str, tuple[str, str]]] = [
    ("SS101", """
defaults: {network: 0.5ms}
components:
  a: {replicas: 2, operations: {x: {work: 1ms, error_rate: 1%, calls: [{to: b.x, timeout: 1s}]}}}
  b: {replicas: 2, operations: {x: {work: 1ms, error_rate: 1%, calls: [{to: c.x, timeout: 1s}]}}}
  c: {replicas: 2, operations: {x: {work: 1ms, error_rate: 1%, calls: [{to: d.x, timeout: 1s}]}}}
  d: {replicas: 2, operations: {x: {work: 1ms, error_rate: 1%, calls: [{to: e.x, timeout: 1s}]}}}
  e: {replicas: 2, operations: {x: {work: 1ms, error_rate: 1%}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{to: e.x, timeout: 1s}", "{to: e.x, async: true}")),
    ("SS102", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y, timeout: 1s}]}, w: {}}}
  b: {replicas: 2, operations: {y: {}, z: {calls: [{to: a.w, timeout: 1s}]}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{to: a.w, timeout: 1s}", "{to: a.w, async: true}")),
    ("SS103", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: db.q, timeout: 1s}, {to: b.y, timeout: 1s}]}}}
  b: {replicas: 2, operations: {y: {calls: [{to: db.q, timeout: 1s}]}}}
  db: {kind: database, replicas: 2, operations: {q: {}}}
  db2: {kind: database, replicas: 2, operations: {q: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("y: {calls: [{to: db.q", "y: {calls: [{to: db2.q")),
    ("SS104", """
components:
  a:
    replicas: 2
    operations:
      x:
        calls:
          - {to: b.y, timeout: 1s}
          - {to: b.z, timeout: 1s, probability: 100%}
          - parallel:
              wait_for: any
              calls:
                - {to: b.y, timeout: 1s}
                - {to: c.y, timeout: 1s}
  b: {replicas: 2, operations: {y: {}, z: {}}}
  c: {replicas: 2, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("probability: 100%", "probability: 50%")),
    ("SS105", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y, timeout: 1s}, {to: c.y, async: true}]}}}
  b: {replicas: 1, operations: {y: {}}}
  c: {replicas: 1, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("b: {replicas: 1", "b: {replicas: 3")),
    ("SS201", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y}]}}}
  b: {replicas: 2, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{to: b.y}", "{to: b.y, timeout: 1s}")),
    ("SS202", """
components:
  a: {replicas: 2, operations: {x: {calls: [
      {to: b.y, timeout: 1s, retry: {attempts: 3, backoff: none}}]}}}
  b: {replicas: 2, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("backoff: none", "backoff: constant")),
    ("SS203", """
components:
  a: {replicas: 2, operations: {x: {calls: [
      {to: b.y, timeout: 1s, retry: {attempts: 3, jitter: none}}]}}}
  b: {replicas: 2, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("jitter: none", "jitter: equal")),
    ("SS204", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: b.y, timeout: 1s, retry: {attempts: 3}}]}}}
  b: {replicas: 2, operations: {y: {calls: [{to: c.z, timeout: 1s, retry: {attempts: 2}}]}}}
  c: {replicas: 2, operations: {z: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{attempts: 2}", "{attempts: 1}")),
    ("SS205", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: bank.pay, timeout: 2s}]}}}
  bank: {kind: external, operations: {pay: {work: 20ms}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("timeout: 2s}", "timeout: 2s, circuit_breaker: {}}")),
    ("SS301", """
components:
  a:
    replicas: 2
    operations:
      x:
        calls:
          - parallel:
              wait_for: any
              calls:
                - {to: b.y, timeout: 1s}
                - {to: c.y}
  b: {replicas: 2, operations: {y: {}}}
  c: {replicas: 2, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{to: c.y}", "{to: c.y, timeout: 1s}")),
    ("SS302", """
components:
  a:
    replicas: 2
    operations:
      x:
        calls:
          - parallel:
              calls:
                - {to: b.y, timeout: 1s}
                - {to: c.y, timeout: 1s}
  b: {replicas: 2, operations: {y: {error_rate: 1%}}}
  c: {replicas: 2, operations: {y: {error_rate: 2%}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{to: c.y, timeout: 1s}", "{to: c.y, timeout: 1s, on_failure: continue}")),
    ("SS401", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: q, async: true}]}}}
  q: {kind: queue, replicas: 2, consumers: [{to: d.y, concurrency: 10}]}
  d: {replicas: 2, workers: 10, operations: {y: {work: 1ms}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{kind: queue,", "{kind: queue, capacity: 1000,")),
    ("SS402", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: q, async: true}]}}}
  q: {kind: queue, replicas: 2, capacity: 1000, consumers: [{to: d.y, concurrency: 2}]}
  d: {replicas: 2, workers: 16, operations: {y: {work: 100ms}}}
workloads: [{name: w, to: a.x, rate: 100/s}]
""", ("concurrency: 2}", "concurrency: 20}")),
    ("SS403", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: q, async: true}]}}}
  q:
    kind: queue
    replicas: 2
    capacity: 1000
    delivery: {guarantee: at_least_once, max_deliveries: 5}
    consumers: [{to: d.y, concurrency: 10, idempotent: true}]
  q-dlq: {kind: queue, replicas: 2, capacity: 1000, consumers: [{to: d.z}]}
  d: {replicas: 2, workers: 10, operations: {y: {work: 1ms}, z: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("max_deliveries: 5}", "max_deliveries: 5, dead_letter: q-dlq}")),
    ("SS404", """
components:
  a: {replicas: 2, operations: {x: {calls: [{to: q, async: true}]}}}
  q:
    kind: queue
    replicas: 2
    capacity: 1000
    delivery: {guarantee: at_least_once, max_deliveries: 5, dead_letter: q-dlq}
    consumers: [{to: d.y, concurrency: 10}]
  q-dlq: {kind: queue, replicas: 2, capacity: 1000}
  d: {replicas: 2, workers: 10, operations: {y: {work: 1ms}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("concurrency: 10}", "concurrency: 10, idempotent: true}")),
    ("SS501", """
components:
  a:
    replicas: 2
    operations:
      x:
        calls:
          - saga:
              steps:
                - {to: b.reserve, timeout: 1s}
                - {to: c.charge, timeout: 1s, pivot: true}
  b: {replicas: 2, operations: {reserve: {}, release: {}}}
  c: {replicas: 2, operations: {charge: {}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
""", ("{to: b.reserve, timeout: 1s}", "{to: b.reserve, timeout: 1s, compensate: b.release}")),
]
BAD = {rule: spec for rule, spec, _ in CASES}


def test_every_rule_has_a_case() -> None:
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
    with pytest.raises(ValueError, match="SS999"):
        lint_yaml(bad, ignore=frozenset({"SS999"}))


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
    assert "workload(s) w" in finding.message


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
