"""A `rate_limit`'s refusals make no calls: what a rate-limited component calls is loaded
with what the limit admits, not with what reaches the limit (docs/lint.md, *Offered load*).
The simulator agrees: `scalesim simulate` of GATEWAY (20 s, seed 1) has `api` at 100/s and
50.0 % utilization, and `scalesim estimate` at 100/s and 0.5; lint said 300/s, ρ ≈ 1.50
(SS501)."""

from __future__ import annotations

import pytest
from tests.lint.helpers import LintYaml, only, rules

from scalesim.lint import LintConfig
from scalesim.lint.context import Context
from scalesim.spec import load_spec_text

# gw admits 100/s of the 300/s sent; api (2 replicas × 1 worker, 10 ms a request) keeps up
# with 100/s (ρ 0.5) and not with 300/s (ρ 1.5).
GATEWAY = """
components:
  gw:
    kind: gateway
    replicas: 2
    workers: 64
    health: {readiness: {}}
    rate_limit: {rate: 100/s$limit}
    operations:
      route:
        work: 1ms
        calls: [{to: api.read, timeout: 500ms}]
  api:
    replicas: 2
    workers: 1
    health: {readiness: {}}
    operations:
      read: {work: 10ms}
workloads:
$workloads
"""

ONE_CLIENT = "  - {name: users, to: gw.route, rate: 300/s}"
# each client has its own 100/s: a gets 100 of its 300/s in, b all of its 50/s
TWO_CLIENTS = ONE_CLIENT.replace("users", "a") + \
    "\n  - {name: b, to: gw.route, rate: 50/s}"


def _spec(workloads: str = ONE_CLIENT, limit: str = "") -> str:
    """GATEWAY with `workloads` and more fields of the rate limit."""
    return GATEWAY.replace("$limit", limit).replace("$workloads", workloads)


def _context(text: str) -> Context:
    """The lint context of a spec body (the header added)."""
    return Context.of(load_spec_text("scalesim: 1\nname: t\n" + text), LintConfig())


@pytest.mark.parametrize(("text", "admitted"), [
    (_spec(), 100.0),
    (_spec(TWO_CLIENTS, ", per_workload: true"), 150.0),
    (_spec(limit=", burst: 1000"), 100.0),  # the long run: a burst adds nothing
])
def test_the_callee_is_loaded_with_what_the_limit_admits(text: str, admitted: float) -> None:
    """ρ = admitted rate × 10 ms / (2 replicas × 1 worker), at the peak and sustained."""
    ctx = _context(text)
    for loads in (ctx.sustained, ctx.peak):
        assert loads["gw"].rate == pytest.approx(admitted, rel=1e-12)
        assert loads["api"].rate == pytest.approx(admitted, rel=1e-12)
        assert loads["api"].rho == pytest.approx(admitted * 0.010 / 2, rel=1e-12)
    assert ctx.rates["api.read"] == pytest.approx(admitted, rel=1e-12)


def test_no_saturation_downstream_of_the_limit(lint_yaml: LintYaml) -> None:
    assert not rules(lint_yaml(_spec())) & {"SS501", "SS502"}


def test_the_callee_cores_get_what_the_limit_admits(lint_yaml: LintYaml) -> None:
    """With 1 core a replica and unlimited workers, api's CPU is 100/s × 10 ms over 2 cores:
    ρ 0.5 (it was 300/s, ρ 1.5, SS501 on `cores`)."""
    text = _spec().replace("workers: 1\n", "workers: unlimited\n    cores: 1\n") \
        .replace("read: {work: 10ms}", "read: {cpu: 10ms}")
    assert _context(text).cpu["api"].rho == pytest.approx(0.5, rel=1e-12)
    assert not rules(lint_yaml(text)) & {"SS501", "SS502"}


def test_a_queue_behind_the_limit_receives_what_it_admits(lint_yaml: LintYaml) -> None:
    """gw publishes what it admits, 100/s, to q, whose consumer takes 2 at once, 10 ms each:
    200/s. SS402 said q received 300/s and fell behind by 100/s."""
    text = _spec().replace("calls: [{to: api.read, timeout: 500ms}]",
                           "calls: [{to: q, async: true}]").replace(
        "  api:\n", "  q: {kind: queue, replicas: 2, capacity: 1000, "
        "consumers: [{to: api.read, concurrency: 2}]}\n  api:\n")
    assert _context(text).rates["q.publish"] == pytest.approx(100.0, rel=1e-12)
    assert "SS402" not in rules(lint_yaml(text))


# q itself admits 100/s (`rate`) of the 300/s producer publishes; api (2 replicas × 1
# blocking worker, 10 ms a message) takes 2 at once off q: 200/s at most.
LIMITED_QUEUE = """
components:
  producer:
    replicas: 2
    workers: 64
    health: {readiness: {}}
    operations:
      send:
        work: 1ms
        calls: [{to: q, async: true}]
  q:
    kind: queue
    replicas: 2
    capacity: 1000
    rate_limit: {rate: $rate/s}
    consumers: [{to: api.read, concurrency: 4}]
  api:
    replicas: 2
    workers: 1
    health: {readiness: {}}
    operations:
      read: {work: 10ms}
workloads:
  - {name: users, to: producer.send, rate: 300/s}
"""


def test_a_rate_limited_queue_passes_on_what_it_admits(lint_yaml: LintYaml) -> None:
    """The queue's own limit refuses publishes as a service's refuses requests: its
    consumer gets 100/s, ρ = 100/s × 10 ms / 2 = 0.5 (the simulator, 20 s seed 1: api
    104.9/s, 52.5 % busy). Lint delivered all 300/s, capped at the 200/s api drains
    (ρ 1), and SS402 said q fell behind by 100/s."""
    ctx = _context(LIMITED_QUEUE.replace("$rate", "100"))
    for loads in (ctx.sustained, ctx.peak):
        assert loads["api"].rate == pytest.approx(100.0, rel=1e-12)
        assert loads["api"].rho == pytest.approx(0.5, rel=1e-12)
        assert not loads["api"].drained
    assert ctx.rates["q.publish"] == pytest.approx(300.0, rel=1e-12)
    assert ctx.admits["q.publish"] == pytest.approx(100.0, rel=1e-12)
    assert not rules(lint_yaml(LIMITED_QUEUE.replace("$rate", "100"))) & \
        {"SS402", "SS501", "SS502"}


def test_a_rate_limited_queue_falls_behind_by_what_it_admits(lint_yaml: LintYaml) -> None:
    """At a 250/s limit q admits 250/s, 50/s more than api's 200/s; 250/s × 10 ms / 0.8
    = 3.1, so 4 at once."""
    message = only(lint_yaml(LIMITED_QUEUE.replace("$rate", "250")), "SS402").message
    assert "admits 250/s of the 300/s published (its rate_limit)" in message
    assert "backlog grows by 50/s; 4 at once" in message
