"""CPU requests for operations whose times have no finite mean (a Pareto tail with α ≤ 1,
which the spec allows and the simulator runs): the share of a busy worker's time spent
computing is its limit, 1 for an infinite CPU demand and 0 beside an infinite wait, so every
target generates (docs/generate.md, Resource formula) instead of converting NaN to an int."""

from __future__ import annotations

import yaml
from tests.generate.helpers import OPTIONS, by_kind, documents

from scalesim.generate import Target, render
from scalesim.generate.resources import resources_for
from scalesim.spec import load_spec_text

SPEC = """
scalesim: 1
name: tails
components:
  gw:
    workers: 64
    operations:
      get:
        calls: [{to: api.get}, {to: slow.get}, {to: cache.get}]
  api:
    workers: 16
    autoscale: {min: 1, max: 4, metrics: [{cpu: 60%}]}
    operations:
      get: {work: {dist: pareto, min: 1ms, alpha: 0.5}}
  slow:
    workers: 8
    operations:
      get: {work: 2ms, wait: {dist: pareto, min: 1ms, alpha: 1}}
  cache:
    kind: cache
    workers: 4
    hit_ratio: 100%
    backend: db.get
    operations:
      get: {work: 1ms}
  db:
    kind: database
    workers: 4
    operations:
      get: {work: {dist: mixture, of: [{weight: 0.99, dist: 1ms},
                                       {weight: 0.01, dist: {dist: pareto, min: 1ms,
                                                             alpha: 0.9}}]}}
workloads:
  - {name: w, to: gw.get, rate: 10/s}
"""


def test_an_infinite_cpu_demand_requests_a_core_per_worker() -> None:
    system = load_spec_text(SPEC)
    assert resources_for(system, "api").cpu_m == 16 * 1000
    assert resources_for(system, "db").cpu_m == 4 * 1000  # a mixture with such a tail
    # finite CPU beside an infinite wait on a callee or on `wait`: the share tends to 0
    assert resources_for(system, "gw").cpu_m == 50
    assert resources_for(system, "slow").cpu_m == 50
    # a cache that never misses only computes: its backend's infinite mean counts 0 times
    # (it was 0 × ∞, NaN)
    assert resources_for(system, "cache").cpu_m == 4 * 1000


def test_every_target_generates_for_infinite_means() -> None:
    system = load_spec_text(SPEC)
    files = render(system, Target.ALL, OPTIONS)
    docs = documents(files)
    hpa = by_kind(docs, "HorizontalPodAutoscaler")["api"]
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    # the placeholder requests say they are placeholders; the others carry no note
    notes = {name: (doc["metadata"].get("annotations") or {}).get("scalesim.io/note")
             for kind in ("Deployment", "StatefulSet")
             for name, doc in by_kind(docs, kind).items()}
    assert "api.get has an infinite mean" in (notes["api"] or "")
    assert "db.get has an infinite mean" in (notes["db"] or "")
    assert notes["gw"] is None and notes["slow"] is None and notes["cache"] is None
    assert all(yaml.safe_load_all(f.content) for f in files if f.path.endswith(".yaml")
               and "/templates/" not in f.path)
