"""Bad control settings are clear errors naming the field; good ones take the real systems'
defaults."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from tests.spec.located import assert_located_error

from scalesim.spec import load_spec_text


def spec(api: dict[str, Any] | None = None, top: dict[str, Any] | None = None,
         worker: dict[str, Any] | None = None) -> str:
    data: dict[str, Any] = {
        "scalesim": 1, "name": "x",
        "components": {
            "api": {"workers": 4, "operations": {"get": {"work": "1ms",
                                                         "calls": [{"to": "jobs"}]}},
                    **(api or {})},
            "jobs": {"kind": "queue", "consumers": [{"to": "worker.run", "prefetch": 2}]},
            "worker": {"workers": 2, "operations": {"run": {"work": "5ms"}}, **(worker or {})},
        },
        "workloads": [{"name": "w", "to": "api", "rate": "10/s"}], **(top or {})}
    return yaml.safe_dump(data, sort_keys=False)


BAD = [
    ({"api": {"autoscale": {"min": 5, "max": 2}}}, "autoscale", "is more than 'max'"),
    ({"api": {"autoscale": {"min": 0, "max": 2}}}, "autoscale", "needs a 'queue' metric"),
    ({"api": {"autoscale": {"max": 2, "metrics": [{"cpu": "50%", "rps": "10/s"}]}}},
     "metrics[0]", "exactly one of"),
    ({"api": {"autoscale": {"max": 2, "metrics": [{"cpu": "50.5%"}]}}}, "metrics[0]",
     "whole percent"),
    ({"api": {"workers": "unlimited", "autoscale": {"max": 2}}}, "metrics[0].cpu",
     "finite 'workers'"),
    ({"api": {"autoscale": {"max": 2, "metrics": [{"queue": {"of": "jobs", "backlog": 5}}]}}},
     "queue.of", "does not consume 'jobs'"),
    ({"api": {"autoscale": {"max": 2, "metrics": [{"queue": {"of": "job", "backlog": 5}}]}}},
     "queue.of", "did you mean 'jobs'"),
    ({"api": {"autoscale": {"max": 2, "scale_up": {"policies": [{"pods": 1, "percent": 1}]}}}},
     "policies[0]", "exactly one of"),
    ({"api": {"autoscale": {"max": 2, "scale_up": {"policies": [{"pods": 1,
                                                                 "period": "1h"}]}}}},
     "policies[0]", "at most 1800s"),
    ({"api": {"autoscale": {"max": 2, "scale_down": {"stabilization": "2.5s"}}}},
     "scale_down", "whole seconds"),
    ({"api": {"autoscale": {"max": 2, "window": "20s"}}}, "autoscale", "multiple of it"),
    ({"api": {"replicas": 0}}, "api.replicas", "'replicas: 0' needs"),
    ({"api": {"rollout": {"to": "v3"}, "versions": {"v2": {}}}}, "api", "rollout to 'v3'"),
    ({"api": {"versions": {"base": {}}}}, "api", "'base' names"),
    ({"api": {"versions": {"v2": {"operations": {"put": {"work": "1ms"}}}}}},
     "versions.v2.operations.put", "no operation 'put'"),
    ({"api": {"versions": {"v2": {}}, "rollout": {"to": "v2", "strategy": "rolling",
                                                  "steps": [{"pause": "1s"}]}}},
     "rollout.steps", "'steps' does not apply to strategy 'rolling'"),
    ({"api": {"versions": {"v2": {}}, "rollout": {"to": "v2", "max_surge": 0,
                                                  "max_unavailable": "0%"}}},
     "rollout", "cannot both be 0"),
    ({"api": {"versions": {"v2": {}}, "rollout": {
        "to": "v2", "strategy": "canary", "steps": [{"set_weight": "10%", "pause": "1s"}]}}},
     "steps[0]", "exactly one of"),
    # Argo truncates a pause to int32 seconds (RolloutPause.DurationSeconds): 1.5s is 1 s
    ({"api": {"versions": {"v2": {}}, "rollout": {
        "to": "v2", "strategy": "canary", "steps": [{"set_weight": "10%"}, {"pause": "1.5s"}]}}},
     "steps[1]", "'pause' must be whole seconds (Argo Rollouts truncates a pause to whole "
                 "seconds), got 1.5s"),
    ({"api": {"versions": {"v2": {}}, "rollout": {
        "to": "v2", "strategy": "canary", "steps": [{"pause": "500ms"}]}}},
     "steps[0]", "'pause' must be whole seconds (Argo Rollouts truncates a pause to whole "
                 "seconds), got 0.5s"),
    ({"api": {"versions": {"v2": {}}, "rollout": {
        "to": "v2", "strategy": "canary", "analysis": {"interval": "10s"}}}},
     "analysis", "at least one of"),
    ({"top": {"workloads": [{"name": "w", "to": "api", "rate": "10/s", "preview": True}]}},
     "workloads[0].preview", "'api' has no rollout: only a blue-green rollout"),
    ({"api": {"versions": {"v2": {}}, "rollout": {"to": "v2", "strategy": "canary",
                                                  "steps": [{"set_weight": "10%"}]}},
      "top": {"workloads": [{"name": "w", "to": "api", "rate": "10/s", "preview": True}]}},
     "workloads[0].preview", "'api' has a canary rollout"),
    ({"top": {"cluster": {"nodes": 1, "pods_per_node": 2}}}, "cluster", "hold 2"),
    ({"top": {"cluster": {"nodes": 3, "pods_per_node": 2, "max_nodes": 2}}}, "cluster",
     "min_nodes ≤ nodes ≤ max_nodes"),
]


@pytest.mark.parametrize(("parts", "path", "message"), BAD, ids=[b[1] + ":" + b[2][:12]
                                                                  for b in BAD])
def test_bad_control_settings_are_located_errors(parts: dict[str, Any], path: str,
                                                 message: str) -> None:
    assert_located_error(spec(**parts), path, message)


def test_defaults_are_kubernetes_and_keda_and_argo() -> None:
    system = load_spec_text(spec(
        api={"autoscale": {"max": 4}, "versions": {"v2": {}}, "rollout": {"to": "v2"}},
        worker={"replicas": 0, "autoscale": {"min": 0, "max": 3, "metrics": [
            {"queue": {"of": "jobs", "backlog": 10}}]}}))
    api = system.components["api"]
    assert api.autoscale is not None and api.rollout is not None
    auto = api.autoscale
    assert (auto.min, auto.sync_period, auto.tolerance, auto.window) == (1, 15.0, 0.1, 15.0)
    assert [m.cpu for m in auto.metrics] == [0.8]  # the HPA's default target
    assert auto.scale_up.stabilization == 0.0 and auto.scale_down.stabilization == 300.0
    assert [(p.pods, p.percent, p.period) for p in auto.scale_up.policies] == [
        (4, None, 15.0), (None, 1.0, 15.0)]
    assert [(p.pods, p.percent, p.period) for p in auto.scale_down.policies] == [
        (None, 1.0, 15.0)]
    assert (auto.polling, auto.cooldown, auto.cpu_initialization,
            auto.initial_readiness_delay) == (30.0, 300.0, 300.0, 30.0)
    rollout = api.rollout
    assert (rollout.strategy, rollout.max_surge, rollout.max_unavailable) == (
        "rolling", "25%", "25%")
    assert (rollout.scale_down_delay, rollout.abort_scale_down_delay) == (30.0, 30.0)
    assert api.startup.mean_s == 0.0
