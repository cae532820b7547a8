"""Rules about the control loops: progressive delivery (`rollout`) analyses that cannot
measure anything, and autoscaling policies and targets whose numbers cannot be what was
meant."""

from __future__ import annotations

from collections.abc import Iterator

from scalesim.lint.context import Context
from scalesim.lint.finding import Hit
from scalesim.spec.control import ERROR_RETRY, whole_percent


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
