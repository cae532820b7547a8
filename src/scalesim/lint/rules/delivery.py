"""Rules about progressive delivery (`rollout`): analyses that cannot measure anything."""

from __future__ import annotations

from collections.abc import Iterator

from scalesim.lint.context import Context
from scalesim.lint.finding import Hit


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
        after = analysis.initial_delay + errors * analysis.interval
        metrics = ", ".join(metric for metric, _ in analysis.checks)
        yield Hit(("components", name, "rollout", "pre_promotion_analysis"),
                  f"pre_promotion_analysis of '{name}' measures {metrics} on the preview "
                  f"'{rollout.to}', but no workload sends requests to the preview: every "
                  f"measurement has no data (an error), and after {errors} in a row "
                  f"({after:g} s after the preview is ready) the analysis ends in Error and "
                  "the rollout aborts; add a smoke-test workload with 'preview: true', or "
                  "move these checks to post_promotion_analysis, which measures the new "
                  "version once it takes the traffic")
