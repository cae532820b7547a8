"""Requests that failed `crashed` at their entry component: a crash fault took some of its
replicas down while the balancer still sent them their share, until the readiness probe
took them out (or, without one, until they came back). A workload's requests are not
retried, so only a probe that notices sooner keeps them off a dead replica."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scalesim.diagnosis.context import NOTABLE, Run, fault_text
from scalesim.diagnosis.finding import Fix, duration, share
from scalesim.spec.model import Fault
from scalesim.spec.resilience import Probe

LEAST_PERIOD_S = 1  # Kubernetes' periodSeconds: whole seconds, at least 1


@dataclass(frozen=True)
class Readiness:
    """A readiness probe's period and the failures in a row that take a replica out."""

    period: float
    threshold: int

    @classmethod
    def of(cls, probe: Probe) -> Readiness:
        return cls(probe.period, probe.failure_threshold)

    @property
    def mean_s(self) -> float:
        """The mean time from a crash to its replica leaving rotation: the first failed probe
        comes anywhere in the period after the crash and threshold − 1 follow, so between
        (k − 1)·p and k·p, (k − ½)·p on average."""
        return (self.threshold - 0.5) * self.period

    def text(self) -> str:
        return (f"a probe every {self.period:g} s that takes a replica out after "
                f"{self.threshold} failure{'s' if self.threshold > 1 else ''} in a row notices "
                f"a crash after {(self.threshold - 1) * self.period:g} to "
                f"{self.threshold * self.period:g} s")


def probe_fix(run: Run, workload: str, evidence: list[str],
              numbers: dict[str, float | None]) -> Fix | None:
    """For a workload whose requests failed `crashed` at its entry component, where crash
    faults took down some of its replicas: the faults and how long each dead replica stayed
    in rotation (to `evidence`), and the readiness probe `_choose` picks, the failures
    scaled from the measured ones by the time in rotation. None when none applies, or no
    probe can be faster."""
    system = run.system
    entry = system.resolve(next(w for w in system.workloads if w.name == workload).to)[0]
    requests = run.result["workloads"][workload]["requests"]
    crashed, failed = int(requests["failed_by_cause"].get("crashed", 0)), int(requests["failed"])
    total = int(requests["total"])
    faults = [f for f in run.faults_on(entry) if f.crash and f.replica is not None]
    kept = [_left_rotation(run, f) - f.at for f in faults]
    if not crashed or sum(kept) <= 0.0:
        return None  # no crash, or out of rotation at once: the failures are not the probe's
    health = system.components[entry].health
    probe = health.readiness if health is not None else None
    now = Readiness.of(probe or Probe())
    evidence += [f"fault: {fault_text(f, run.end_s)}" for f in faults]
    evidence += [_kept_text(run, entry, f, s, now if probe else None)
                 for f, s in zip(faults, kept, strict=True)]
    evidence.append(f"the requests of {workload} enter at {entry}: nothing retries them "
                    "on another replica, so only readiness keeps them off a dead one")
    lengths = [_down_until(run, f) - f.at for f in faults]

    def expected(candidate: Readiness) -> float:
        """The failed share with `candidate`: the crashed share scaled by the time in
        rotation, and the other failures as measured."""
        again = sum(min(candidate.mean_s, n) for n in lengths)
        return (failed - crashed) / total + crashed / total * again / sum(kept)

    aim = _aim(run, workload)
    if aim < NOTABLE:
        evidence.append(f"the error-rate SLO lets {share(aim)} of the requests fail: the probe "
                        "is sized for that")
    chosen = _choose(now, probe is None, expected, aim)
    if chosen is None:
        return None
    numbers.update(in_rotation_s=sum(kept), expected_failed_share=expected(chosen[0]))
    return _fix(entry, probe, chosen[0], expected(chosen[0]), failed / total,
                sum(kept) / len(kept), None if chosen[1] else aim)


def _aim(run: Run, workload: str) -> float:
    """The failed share a probe is sized to stay under: NOTABLE (where a finding starts), or
    the error-rate SLO over the workload's requests (its own, or all requests') when that
    is stricter."""
    checks = [run.error_check(scope) for scope in (workload, "all")]
    return min([NOTABLE, *(float(c["target"]) for c in checks if c is not None)])


def _choose(now: Readiness, new: bool, expected: Callable[[Readiness], float], aim: float
            ) -> tuple[Readiness, bool] | None:
    """Of the probes with a period in whole seconds from LEAST_PERIOD_S and a threshold from
    1, up to `now`'s (the current probe, or Kubernetes' defaults for a `new` one), the one
    with the longest mean detection (the larger threshold on a tie) whose `expected` failed
    share is under `aim`, and True; else the fastest, and False. None when there is none
    to choose from."""
    every = [Readiness(p, k) for p in range(LEAST_PERIOD_S, math.floor(now.period) + 1)
             for k in range(1, now.threshold + 1)]
    faster = [c for c in every if new or c != now]
    if not faster:
        return None
    fits = [c for c in faster if expected(c) < aim]
    if fits:
        return max(fits, key=lambda c: (c.mean_s, c.threshold)), True
    return min(faster, key=lambda c: c.mean_s), False


def _fix(entry: str, probe: Probe | None, chosen: Readiness, expected: float,
         measured: float, kept_s: float, missed: float | None) -> Fix:
    """The probe advice and its `--set` overrides (only the fields that change); `missed` is
    the share the fastest probe still does not get under (None when `chosen` does)."""
    where = f"components.{entry}.health.readiness"
    now = Readiness.of(probe) if probe is not None else None
    sets = [f"{where}.period={chosen.period:g}s"] \
        if now is None or chosen.period != now.period else []
    if now is None or chosen.threshold != now.threshold:
        sets.append(f"{where}.failure_threshold={chosen.threshold}")
    what = f"add a readiness probe to {entry}" if probe is None \
        else f"a readiness probe on {entry} that notices a crash sooner"
    text = (f"{what}: {chosen.text()} ({duration(chosen.mean_s)} on average, against "
            f"{duration(kept_s)} here), so about {share(expected)} of the requests fail "
            f"instead of {share(measured)}")
    if chosen.period == LEAST_PERIOD_S:
        text += "; Kubernetes probes at most once a second"
    if chosen.threshold == 1:
        text += ("; with one failure to go on, a replica too busy to answer a probe within "
                 "its timeout leaves rotation too")
    if missed is not None:
        text += (f"; that is still not under {share(missed)}: more replicas of {entry} "
                 "shrink the share a crashed one gets")
    return Fix(text, tuple(sets))


def _down_until(run: Run, fault: Fault) -> float:
    """When the crashed replica came back (or the window ended)."""
    return min(run.end_s, math.inf if fault.for_ is None else fault.at + fault.for_)


def _left_rotation(run: Run, fault: Fault) -> float:
    """When the balancer stopped sending the crashed replica requests: its first `not_ready`
    event while it was down (first replication), else when it came back."""
    back = _down_until(run, fault)
    return min((float(e["t_s"]) for e in run.result.get("events") or []
                if e["component"] == fault.component and e["replica"] == fault.replica
                and e["event"] == "not_ready" and fault.at <= e["t_s"] < back), default=back)


def _kept_text(run: Run, entry: str, fault: Fault, kept_s: float,
               probe: Readiness | None) -> str:
    """How long the balancer kept sending the crashed replica its share, and why."""
    replica = f"{entry}[{fault.replica}]"
    if probe is None:
        return (f"{entry} has no readiness probe: the balancer kept sending {replica} its "
                f"share the {duration(kept_s)} it was down (from {fault.at:g} s)")
    back = _down_until(run, fault)
    if fault.at + kept_s < back:
        return (f"the balancer kept sending {replica} its share for {duration(kept_s)} after "
                f"it crashed at {fault.at:g} s, until its readiness probe took it out at "
                f"{fault.at + kept_s:g} s: {probe.text()}")
    return (f"the balancer kept sending {replica} its share the {duration(kept_s)} it was "
            f"down (from {fault.at:g} s): {probe.text()}")
