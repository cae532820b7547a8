"""`advise --spec` sizes a lightly loaded fleet down, but never to the one replica SS105
then reports: a component some workload waits on keeps 2 replicas if it has them (the QA
applied the proposed '1 replica' and lint flagged gateway and ledger)."""

from __future__ import annotations

from scalesim.lint import lint_system
from scalesim.lint.review import review
from scalesim.spec import load_spec_text

# 10/s × 1 ms = 0.01 busy workers: capacity alone asks for one replica of each.
LIGHT = """scalesim: 1
name: light
components:
  gateway: {replicas: 3, workers: 8, health: {readiness: {}},
            operations: {x: {work: 1ms, calls: [{to: jobs.put, async: true}]}}}
  jobs: {kind: queue, replicas: 2, operations: {put: {}},
         consumers: [{to: worker.run, concurrency: 2}]}
  worker: {replicas: 3, workers: 8, health: {readiness: {}}, operations: {run: {work: 1ms}}}
  single: {replicas: 1, workers: 8, operations: {y: {work: 1ms}}}
workloads:
  - {name: w, to: gateway.x, rate: 10/s}
  - {name: v, to: single.y, rate: 10/s}
"""


def test_a_waited_on_fleet_is_sized_down_to_two_replicas_not_one() -> None:
    system = load_spec_text(LIGHT)
    loads = review(system, lint_system(system), lambda overrides: True).loads
    assert [sized.change for sized in loads["gateway"]] == ["2 replicas", "2 replicas"]
    # no workload waits on a queue's consumer: one replica carries it, and SS105 is silent
    assert [sized.change for sized in loads["worker"]] == ["1 replica", "1 replica"]
    # a component at one replica is not grown for availability here: SS105 says so
    assert [sized.change for sized in loads["single"]] == ["1 replica", "1 replica"]


def test_the_sizes_proposed_add_no_single_replica_finding() -> None:
    system = load_spec_text(LIGHT)
    loads = review(system, lint_system(system), lambda overrides: True).loads
    sized = LIGHT.replace("gateway: {replicas: 3", "gateway: {replicas: 2").replace(
        "worker: {replicas: 3", "worker: {replicas: 1")
    flagged = {f.path for f in lint_system(load_spec_text(sized)) if f.rule == "SS105"}
    assert loads["gateway"][0].change == "2 replicas"
    assert flagged == {"components.single.replicas"}
