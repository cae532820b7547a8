"""The rollout timeline shows what its caption says: the canary report's caption spoke of a
shaded rollout span the chart did not have, and its failed measurements were faint
unlabelled marks."""

from __future__ import annotations

import re
from typing import Any

from scalesim.render.control import rollouts


def _result() -> dict[str, Any]:
    analysis = [{"metric": "error_rate", "passed": phase == "successful", "phase": phase,
                 "run": "background", "t_s": t, "unit": "share", "value": value}
                for t, phase, value in ((65.0, "successful", 0.01), (70.0, "failed", 0.21),
                                        (80.0, "failed", 0.2))]
    return {"timeseries": {"workloads": {"columns": ["t_s", "workload"],
                                         "rows": [[float(t), "users"] for t in range(1, 121)]}},
            "rollouts": [{"component": "api", "to": "v2", "strategy": "canary",
                          "started_s": 60.0, "ended_s": 80.0, "outcome": "aborted",
                          "steps": [{"t_s": 60.0, "weight": 10}, {"t_s": 80.0, "weight": 0}],
                          "analysis": analysis}]}


def test_the_rollout_span_is_shaded_and_failed_measurements_are_labelled_lines() -> None:
    (view,) = rollouts(_result())
    chart = str(view.chart)
    spans = re.findall(r'<rect class="rollout" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', chart)
    assert len(spans) == 1
    checks = re.findall(r'<rect class="check" x="([\d.]+)"', chart)
    assert len(checks) == view.failures == 2
    start, width = (float(v) for v in spans[0])
    assert all(start < float(x) <= start + width for x in checks)
    assert chart.count(">failed analysis</text>") == 1
    assert ">rollout</text>" in chart
