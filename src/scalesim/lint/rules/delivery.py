"""Rules about the control loops: progressive delivery (`rollout`) analyses that cannot
measure anything, and autoscaling policies and targets whose numbers cannot be what was
meant."""

from __future__ import annotations

from collections.abc import Iterator

from scalesim.lint.context import Context
from scalesim.lint.estimates import ms, per_s
from scalesim.lint.finding import Hit
from scalesim.spec.control import ERROR_RETRY, whole_percent
from scalesim.spec.demand import cpu_per_visit_s
from scalesim.spec.errors import counted


def preview_analysis_without_traffic(ctx: Context) -> Iterator[Hit]:
    """SS701: a blue-green `pre_promotion_analysis` with no `preview: true` workload. Every
    analysis metric (error rate, latency) is measured on the new version's own requests, and
    only a preview client reaches it before the switch, so each measurement has no data: an
    error, as in Argo."""
    previewed = ctx.system.preview_targets()
    for name, component in ctx.system.components.items():
        rollout = component.rollout
        if rollout is None or rollout.pre_promotion_analysis is None or name in previewed:
            continue
        analysis = rollout.pre_promotion_analysis
        errors = analysis.consecutive_error_limit + 1
        after = analysis.initial_delay + (errors - 1) * ERROR_RETRY  # the first at once
        metrics = ", ".join(metric for metric, _ in analysis.checks)
        yield Hit(("components", name, "rollout", "pre_promotion_analysis"),
                  f"pre_promotion_analysis of '{name}' measures {metrics} on the preview "
                  f"'{rollout.to}', but no workload sends requests to the preview: every "
                  f"measurement has no data (an error), and after {errors} in a row "
                  f"({after:g} s after the preview is ready) the analysis ends in Error and "
                  "the rollout aborts; add a smoke-test workload with 'preview: true', or "
                  "move these checks to post_promotion_analysis, which measures the new "
                  "version once it takes the traffic")


# A scaling policy's `percent` is a ratio: a bare number is a multiple (50 is 5000 %). Past
# 1000 % a step is no longer a rate limit; such a number is far likelier a percent written
# without its '%' than meant. The spec's text is not what lint reads, so the value decides.
MOST_LIKELY_PERCENT = 10.0


def percent_read_as_multiple(ctx: Context) -> Iterator[Hit]:
    """SS702: a scaling policy's `percent` above 1000 %, as `percent: 50` reads."""
    for name, component in ctx.system.components.items():
        autoscale = component.autoscale
        if autoscale is None:
            continue
        for direction, rules in (("scale_up", autoscale.scale_up),
                                 ("scale_down", autoscale.scale_down)):
            for index, policy in enumerate(rules.policies):
                ratio = policy.percent
                if ratio is None or ratio <= MOST_LIKELY_PERCENT:
                    continue
                yield Hit(("components", name, "autoscale", direction, "policies", index,
                           "percent"),
                          f"'{name}' {direction} policy {index} allows {whole_percent(ratio)}% "
                          f"of the replicas per {policy.period:g} s: a bare number is a "
                          f"multiple, so 'percent: {ratio:g}' means {whole_percent(ratio)}% "
                          f"(HPA and KEDA get value {whole_percent(ratio)}); write "
                          f"'{ratio:g}%' for {ratio:g} percent")


def cpu_target_out_of_reach(ctx: Context) -> Iterator[Hit]:
    """SS703: a CPU target the HPA can never scale up from. A replica uses at most its CPU
    request (a saturated one reports 100 %), and the HPA acts only when usage / target
    leaves 1 ± tolerance: at a target of 1 / (1 + tolerance) or more (91 % with the default
    10 %) even a saturated fleet reads inside the band."""
    for name, component in ctx.system.components.items():
        autoscale = component.autoscale
        found = None if autoscale is None else autoscale.cpu_out_of_reach
        if autoscale is None or found is None:
            continue
        index, target = found
        yield Hit(("components", name, "autoscale", "metrics", index, "cpu"),
                  f"'{name}' scales on {whole_percent(target)}% CPU, but a replica uses at "
                  f"most 100% of its request, and 100/{whole_percent(target)} is within the "
                  f"{whole_percent(autoscale.tolerance)}% tolerance: the CPU metric never "
                  "asks for more replicas, however loaded the fleet; give a target below "
                  f"{autoscale.highest_reachable_cpu}%")


def cpu_blind_to_waits(ctx: Context) -> Iterator[Hit]:
    """SS704: a CPU target above what the replica's CPU utilization reaches with every worker
    busy. The HPA's utilization is CPU used over the CPU request, and a worker that waits on
    its calls or `wait` is busy without computing: a service whose visits mostly wait
    saturates its workers at a low utilization, so the CPU metric never asks for more
    replicas while requests queue. Reported where CPU is the only metric (another one is
    taken when it proposes more) and the workers, not the cores, are what saturates."""
    for name, component in ctx.system.components.items():
        autoscale = component.autoscale
        if autoscale is None or any(m.cpu is None for m in autoscale.metrics):
            continue
        index, target = next((i, m.cpu) for i, m in enumerate(autoscale.metrics)
                             if m.cpu is not None)
        saturation = cpu_at_saturation(ctx, name)
        if saturation is None:
            continue
        usage, cpu_s, hold_s = saturation
        if usage >= 1.0 or usage / target > 1.0 + autoscale.tolerance:
            continue
        workers = component.worker_limit or 1
        serves = workers / hold_s
        cores = component.core_limit
        request = "1 core per worker (no cores)" if cores is None else counted(cores, "core")
        busy = ctx.sustained[name].busy if name in ctx.sustained else 0.0
        at_min = busy / (autoscale.min * workers)  # min ≥ 1 without a queue metric
        yield Hit(("components", name, "autoscale", "metrics", index, "cpu"),
                  f"'{name}' scales on {whole_percent(target)}% CPU, but a request holds a "
                  f"worker {ms(hold_s)} and computes for {ms(cpu_s)} of it (the rest waits "
                  f"on calls and 'wait'): with all {workers} workers busy a replica uses "
                  f"{usage * 100:.3g}% of its CPU request ({request}), and the HPA scales up "
                  f"only above {whole_percent(target * (1.0 + autoscale.tolerance))}% "
                  f"({whole_percent(target)}% + {whole_percent(autoscale.tolerance)}% "
                  "tolerance): the CPU metric never adds replicas while requests queue, and "
                  f"scales the fleet down to autoscale.min ({autoscale.min}, ρ {at_min:.2f} "
                  "at the sustained load); scale on the requests instead: "
                  f"{{rps: {per_s(ctx.config.utilization * serves)}}} per replica "
                  f"({whole_percent(ctx.config.utilization)}% of the {per_s(serves)} a "
                  f"replica's {workers} workers serve), or on a queue's backlog (KEDA)")


def cpu_at_saturation(ctx: Context, name: str) -> tuple[float, float, float] | None:
    """The CPU utilization a replica of `name` reports with every worker busy (capped at
    100 %, as metrics-server reports it), its mean CPU seconds per visit and a visit's
    worker time, at the mix of operations of the sustained load (the peak's without one);
    None without a worker limit or traffic, or where only the leader serves. With `cores`
    the request is the replica's cores, else one core per worker (sim/control/usage.py)."""
    load = ctx.sustained.get(name) or ctx.peak.get(name)
    component = ctx.system.components[name]
    workers = component.worker_limit
    if load is None or workers is None or load.leader or load.hold_s <= 0.0:
        return None
    admits = ctx.admits if name in ctx.sustained else ctx.peak_admits
    visits = {op: admits.get(f"{name}.{op}", 0.0) for op in component.effective_operations}
    cpu_s = cpu_per_visit_s(ctx.system, name, visits)
    cores = component.core_limit
    request = float(workers) if cores is None else cores
    return min(1.0, workers * cpu_s / (load.hold_s * request)), cpu_s, load.hold_s
