"""Run every check over a result, problems first."""

from __future__ import annotations

from typing import Any

from scalesim.diagnosis.components import (
    bulkheads,
    connection_pools,
    cpu_bound,
    rate_limits,
    saturated,
)
from scalesim.diagnosis.context import Run
from scalesim.diagnosis.dead_letters import crashed_deliveries
from scalesim.diagnosis.degradation import degraded, failures, short_timeouts
from scalesim.diagnosis.elections import failovers, split_brains
from scalesim.diagnosis.finding import Finding
from scalesim.diagnosis.lags import lagging
from scalesim.diagnosis.overload import overload
from scalesim.diagnosis.queues import backlogs
from scalesim.diagnosis.rollouts import rollouts
from scalesim.diagnosis.sagas import stuck_sagas
from scalesim.diagnosis.slo import missed_slos
from scalesim.diagnosis.staleness import stale_caches
from scalesim.spec.model import System

# In order: queue checks first, so a consumer they explain is not diagnosed twice; rollouts
# and failovers before failures, which point at a new version's or take a failover's fix.
CHECKS = (backlogs, crashed_deliveries, lagging, saturated, cpu_bound, connection_pools,
          bulkheads, rate_limits, overload, rollouts, split_brains, failovers, failures,
          missed_slos, degraded, short_timeouts, stuck_sagas, stale_caches)


def findings(system: System, result: dict[str, Any]) -> list[Finding]:
    run = Run(system, result)
    for check in CHECKS:  # a later check may read an earlier one's findings (`run.found`)
        run.found.extend(check(run))
    return sorted(run.found, key=lambda f: f.severity != "problem")


def diagnose(system: System, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The `diagnosis` list of a result (docs/results.md): what is wrong, the limit that
    binds, the evidence, and the smallest change that fixes it."""
    return [finding.to_json() for finding in findings(system, result)]
