"""An autoscaler's `max` that a run never reached: raising it runs the same simulation again.

The HPA clamps its proposal to `autoscale.max` and nothing else in a run reads the max
(sim/control/autoscaler.py). A run in which it never asked for `max` replicas never had its
proposal clamped, so with any max above the most it asked for, every sync proposes the same
and the run is the same, draw for draw (common random numbers). A plan that walks such an
axis upward after a miss only repeats the miss; what limits the fleet is how fast the
autoscaler reacts (its min, its syncs and policies, the replicas' start-up), which the run's
diagnosis sizes.
"""

from __future__ import annotations

import re
from typing import Any

from scalesim.diagnosis.diagnose import findings
from scalesim.sim.control.fleet import MAX_EVENTS
from scalesim.sim.control.results import fleet_of
from scalesim.sim.partial import Partial
from scalesim.sim.result import build_result
from scalesim.spec.model import System
from scalesim.sweep.grid import within

_MAX_PATH = re.compile(r"^components\.([^.]+)\.autoscale\.max$")


def ceiling_of(path: str) -> str | None:
    """The component whose autoscaler's max `path` is, else None."""
    match = _MAX_PATH.match(path)
    return None if match is None else match.group(1)


def asked_for(system: System, part: Partial) -> dict[str, int]:
    """Per autoscaled component, the most replicas its autoscaler asked for (the
    Deployment's spec.replicas, from where it started) in the one replication `part`; a
    component whose scale events were cut off at MAX_EVENTS is left out (not known)."""
    out = {}
    for name, component in system.components.items():
        fleet = fleet_of(part.control, name)
        if component.autoscale is None or fleet is None or len(fleet.events.value) >= MAX_EVENTS:
            continue
        out[name] = max([component.replicas, *(to for _, _, to, _ in fleet.events.value)])
    return out


def most_asked(before: dict[str, int] | None, part: dict[str, int]) -> dict[str, int]:
    """`asked_for` over replications: the most of each component known in all of them
    (`before`: the replications so far, None before the first)."""
    if before is None:
        return dict(part)
    return {name: max(most, part[name]) for name, most in before.items() if name in part}


def under_max(system: System, asked: dict[str, int]) -> list[str]:
    """The autoscaled components whose autoscaler never asked for its max (`asked`:
    `most_asked`): a higher max changes nothing in the run."""
    return [name for name, most in asked.items()
            if (scale := system.components[name].autoscale) is not None and most < scale.max]


def scaling_fixes(system: System, seed: int, pooled: Partial, names: list[str]
                  ) -> dict[str, dict[str, Any] | None]:
    """Per component of `names`, the fix the run's diagnosis proposes for it (`{summary,
    set}`, the first finding whose fix sets a field of it), None where it proposes none."""
    found = findings(system, build_result(system, seed, pooled))
    out: dict[str, dict[str, Any] | None] = {}
    for name in names:
        fix = next((f.fix for f in found if f.fix is not None and any(
            within(text.partition("=")[0], f"components.{name}") for text in f.fix.set)), None)
        out[name] = None if fix is None else fix.to_json()
    return out
