"""The CPU model's rules that are not queueing results: what `cores` leaves unchanged, what
the spec refuses, the per-call overhead, and the HPA measured against cores."""

from __future__ import annotations

import json
import math

import pytest

from scalesim.sim import simulate
from scalesim.spec import SpecError, load_spec_text

BASE = """
scalesim: 1
name: t
defaults: {network: {dist: exponential, mean: 0.5ms}}
components:
  a:
    workers: 4
    operations:
      op: {work: {dist: exponential, mean: 2ms}, post_work: 1ms, calls: [{to: b.op}]}
  b:
    workers: 2
    operations: {op: {work: {dist: gamma, mean: 1ms, cv: 2}}}
workloads: [{name: w, to: a.op, rate: 300/s}]
simulation: {duration: 20s, seed: 4}
"""


def result(text: str, *overrides: str) -> str:
    return json.dumps(simulate(load_spec_text(text, overrides=overrides)), sort_keys=True)


def test_cpu_is_work_without_cores_and_unlimited_cores_change_nothing() -> None:
    # `cpu` draws from the stream `work` did, so the results are byte-identical; `cores:
    # unlimited` and `overhead: {}` are the model without a CPU.
    plain = result(BASE)
    assert result(BASE.replace("op: {work: {dist: exp", "op: {cpu: {dist: exp")) == plain
    assert result(BASE, "components.a.cores=unlimited", "defaults.overhead={}") == plain


@pytest.mark.parametrize(("change", "message"), [
    ("components.a.operations.op.cpu=1ms", "give 'cpu' or its shorthand 'work', not both"),
    ("components.a.event_loop=true", None),
    ("components.a.cores=2", None),
    ("components.a.cores=0", "greater than 0"),
])
def test_what_the_spec_accepts(change: str, message: str | None) -> None:
    if message is None:
        load_spec_text(BASE, overrides=(change,))
        return
    with pytest.raises(SpecError, match=message):
        load_spec_text(BASE, overrides=(change,))


def test_an_event_loop_has_at_most_one_core() -> None:
    with pytest.raises(SpecError, match="an event loop computes on one core"):
        load_spec_text(BASE, overrides=("components.a.event_loop=true",
                                        "components.a.cores=2"))


def test_call_overhead_is_cpu_the_caller_spends_before_each_call() -> None:
    """a (1 core shared) makes one sync call and a 3-branch parallel step, 0.5 ms of client
    overhead each: 2 ms of CPU per request and no other work; at 200/s cores_used is 0.4
    and, without network or callee work, the latency is that of the bursts: each a PS
    station — the first step's burst (0.5 ms), then the parallel step's (1.5 ms)."""
    spec = """
scalesim: 1
name: t
components:
  a:
    workers: unlimited
    cores: 1
    overhead: {call: 0.5ms}
    operations:
      op:
        calls:
          - {to: b.op}
          - parallel: {calls: [{to: b.op}, {to: b.op}, {to: b.op}]}
  b:
    workers: unlimited
    operations: {op: {wait: 0s}}
workloads: [{name: w, to: a.op, rate: 200/s, arrivals: constant}]
simulation: {duration: 10s, seed: 1}
"""
    found = simulate(load_spec_text(spec))
    assert found["components"]["a"]["cores_used"] == pytest.approx(0.4, rel=1e-3)
    # Evenly spaced arrivals, 5 ms apart, never meet: every request takes exactly 2 ms.
    assert found["latency_ms"]["mean"] == pytest.approx(2.0, abs=1e-6)
    assert found["latency_ms"]["max"] == pytest.approx(2.0, abs=0.011)  # histogram bucket


STEP = """\
scalesim: 1
name: hpa-cores
components:
  api:
    replicas: 1
    workers: unlimited
    cores: 2
    operations:
      get: {cpu: {dist: exponential, mean: 2.5ms}}
    autoscale: {min: 1, max: 20, metrics: [{cpu: 50%}]}
workloads:
  - name: users
    to: api.get
    profile: [{at: 0s, rate: 200/s}, {at: 60s, rate: 2000/s}]
simulation: {duration: 150s, seed: 3}
"""


def test_the_hpa_measures_cpu_against_the_cores() -> None:
    """One replica of 2 cores serves 800/s of 2.5 ms demands. After the step to 2000/s the
    syncs see min(1, 2000 / (replicas · 800)) against the 50 % target: 1 → 2 → 4 → 5
    (1.25 × 4 rounded up), then 2000 / 4000 = 50 %: done."""
    found = simulate(load_spec_text(STEP))
    events = found["components"]["api"]["scaling"]["events"]
    path, replicas = [], 1
    while True:
        ratio = min(1.0, 2000.0 / (replicas * 800.0)) / 0.5
        if abs(ratio - 1.0) <= 0.1:
            break
        replicas = math.ceil(ratio * replicas)
        path.append(replicas)
    assert path == [2, 4, 5]
    assert [e["to"] for e in events] == path
    assert found["components"]["api"]["cores_used"] > 2.0  # more than one replica's worth


def test_a_cpu_bound_component_is_diagnosed_with_the_replicas_that_fix_it() -> None:
    # 2 ms of CPU at 480/s on one core: 96 % busy; at 85 % it needs ceil(0.96/0.85) = 2.
    from scalesim.diagnosis import diagnose
    spec = """
scalesim: 1
name: t
components:
  api:
    workers: unlimited
    cores: 1
    operations: {get: {cpu: 2ms}}
workloads: [{name: w, to: api.get, rate: 480/s}]
simulation: {duration: 30s, seed: 2}
"""
    system = load_spec_text(spec)
    found = [f for f in diagnose(system, simulate(system)) if f["limit"] == "cores"]
    assert len(found) == 1 and found[0]["subject"] == "api"
    assert found[0]["fix"]["set"] == ["components.api.replicas=2"]
