"""The rules that judge a rate (SS402's publish rate, SS208's breaker window, SS204's retry
budget) read the load model the capacity rules read (`Context.rates`): behind a subscription
that drains X/s, what it feeds receives X/s, not what the workloads send the queue. The
simulator agrees (numbers from `scalesim simulate` of these specs, 60 s, quoted below)."""

from __future__ import annotations

from string import Template

from tests.lint.helpers import LintYaml, only, rules

# d takes q1's messages 8 at once, 100 ms each: it drains 80/s of the 100/s published, and
# publishes those 80/s to q2. e takes q2's 9 at once, 100 ms each: 90/s. Simulated: q1 gets
# 98.5/s and delivers 79.8/s (backlog 0 -> 1121); q2 gets 79.8/s, backlog 0 -> 8.
SECOND_QUEUE = """
components:
  a: {replicas: 2, health: {readiness: {}}, operations: {x: {calls: [{to: q1, async: true}]}}}
  q1: {kind: queue, replicas: 2, capacity: 100000, consumers: [{to: d.y, concurrency: 8}]}
  d: {replicas: 2, workers: 4, health: {readiness: {}},
      operations: {y: {work: 100ms, calls: [{to: q2, async: true}]}}}
  q2: {kind: queue, replicas: 2, capacity: 100000, consumers: [{to: e.z, concurrency: 9}]}
  e: {replicas: 3, workers: 4, health: {readiness: {}}, operations: {z: {work: 100ms}}}
workloads: [{name: w, to: a.x, rate: 100/s}]
"""


def test_a_queue_behind_a_capped_consumer_receives_what_it_drains(
        lint_yaml: LintYaml) -> None:
    """q2 receives d's 80/s, under e's 90/s: only q1 falls behind (SS402 said q2 received
    100/s and fell behind by 10/s)."""
    findings = [f for f in lint_yaml(SECOND_QUEUE) if f.rule == "SS402"]
    assert [f.path for f in findings] == ["components.q1.consumers[0]"]
    assert "queue 'q1' receives 100/s but consumer 'd.y' takes at most 80/s" \
        in findings[0].message


def test_a_slow_second_queue_quotes_the_rate_it_receives(lint_yaml: LintYaml) -> None:
    """e at 7 at once takes 70/s of q2's 80/s: behind by 10/s; 80/s × 100 ms / 0.8 = 10 in
    flight, which e's 3 × 4 workers hold (SS402 said 100/s, behind by 30/s, 13 at once)."""
    spec = SECOND_QUEUE.replace("concurrency: 9", "concurrency: 7")
    finding = next(f for f in lint_yaml(spec)
                   if f.rule == "SS402" and f.path == "components.q2.consumers[0]")
    assert finding.message == (
        "queue 'q2' receives 80/s but consumer 'e.z' takes at most 70/s (7 at once, 100 ms "
        "each with no queueing): the backlog grows by 10/s; 10 at once keep it 80% busy: "
        "concurrency 10")


# a publishes 100/s to q, whose consumer d takes one message at a time with operation y.
BEHIND_A_QUEUE = Template("""
components:
  a: {replicas: 2, health: {readiness: {}}, operations: {x: {calls: [{to: q, async: true}]}}}
  q: {kind: queue, replicas: 2, capacity: 100000, consumers: [{to: d.y, concurrency: 1}]}
  d:
    replicas: 2
    health: {readiness: {}}
    operations:
      y:
$y
$called
workloads: [{name: w, to: a.x, rate: 100/s}]
""")


def behind_a_queue(y: str, called: str) -> str:
    """The spec above with y's body (`y`, lines indented under it) and the components d
    calls (`called`, lines indented as components): the rate rules judged behind a queue."""
    return BEHIND_A_QUEUE.substitute(y=y, called=called)


# d takes q's messages one at a time, 200 ms each (190 ms + b's 10 ms): 5/s, so the breaker
# on d -> b sees 5/s × 10 s = 50 calls of the 100 it needs. Simulated with b failing every
# call: d made 299 calls in 60 s (5/s), all failed, and the breaker never left closed.
BREAKER = behind_a_queue(y="""\
        work: 190ms
        calls:
          - to: b.z
            timeout: 1s
            circuit_breaker: {window_type: time, window: 10, min_calls: 100, scope: service}
""", called="""\
  b: {replicas: 2, health: {readiness: {}}, operations: {z: {work: 10ms}}}
""")


def test_a_breaker_behind_a_queue_is_judged_at_what_the_queue_lets_through(
        lint_yaml: LintYaml) -> None:
    """SS208 judged the window at the 100/s published (1000 calls) and said nothing."""
    message = only(lint_yaml(BREAKER), "SS208").message
    assert "needs 100 calls in its 10 s window, but at the offered 5/s the breaker sees " \
        "about 50:" in message
    # 2 at once drain 10/s: 100 calls in the window, enough to decide
    assert "SS208" not in rules(lint_yaml(BREAKER.replace("concurrency: 1", "concurrency: 2")))


def test_a_closed_loop_breaker_is_judged_at_its_throughput(lint_yaml: LintYaml) -> None:
    """One user, 90 ms think, 10 ms answers: 10/s, 100 calls in the 10 s window of the 200
    needed (closed loops were left out of the rate: 0/s, no finding)."""
    spec = """
components:
  a:
    replicas: 2
    health: {readiness: {}}
    operations:
      x:
        work: 5ms
        calls:
          - to: b.y
            timeout: 1s
            circuit_breaker: {window_type: time, window: 10, min_calls: 200, scope: service}
  b: {replicas: 2, health: {readiness: {}}, operations: {y: {work: 5ms}}}
workloads: [{name: w, to: a.x, users: 1, think: 90ms}]
"""
    message = only(lint_yaml(spec), "SS208").message
    assert "at the offered 10/s the breaker sees about 100:" in message


# d takes q's messages one at a time, 100 ms each: 10/s. Its budget's floor is 2 replicas ×
# 5/s = 10 retries/s, so d -> b may make 1 + 10% + 10/10 = 2.1 calls per call, and b -> c
# 3: 6.3 calls reach c. At the 100/s published the floor was 10% of the calls: 1.2, no
# second layer. Simulated with c failing every call: 3.0 attempts per d -> b call and 3.0
# per b -> c (the budget's floor covers every retry), 9 calls to c for each message.
BUDGET = behind_a_queue(y="""\
        work: 90ms
        calls: [{to: b.z, timeout: 1s, retry: {attempts: 3, budget: {ratio: 10%, min_per_s: 5}}}]
""", called="""\
  b:
    replicas: 2
    health: {readiness: {}}
    operations: {z: {work: 10ms, calls: [{to: c.w, timeout: 500ms, retry: {attempts: 3}}]}}
  c: {replicas: 2, health: {readiness: {}}, operations: {w: {}}}
""")


def test_a_retry_budget_behind_a_queue_is_judged_at_what_the_queue_lets_through(
        lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(BUDGET), "SS204").message
    assert message == (
        "retries at 2 layers of one chain from consumer of queue 'q' multiply: d.y -> b.z "
        "(2.1 attempts) x b.z -> c.w (3 attempts) = up to 6.3 calls reach 'c.w' for one "
        "request")
    # 10 at once drain 100/s: 1 + 10% + 10/100 = 1.2 calls per call, one layer multiplies
    assert "SS204" not in rules(lint_yaml(BUDGET.replace("concurrency: 1", "concurrency: 10")))


def test_rates_that_never_settle_are_not_judged(lint_yaml: LintYaml) -> None:
    """a's messages come back to a: no steady rate (SS501 says so), nothing for SS402."""
    spec = """
components:
  a: {replicas: 2, operations: {x: {work: 1ms, calls: [{to: q, async: true}]}}}
  q: {kind: queue, replicas: 2, capacity: 1000, consumers: [{to: a.x, concurrency: 1}]}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
    assert "SS402" not in rules(lint_yaml(spec))
