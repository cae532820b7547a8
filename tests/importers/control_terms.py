"""What a control block says in the files, for comparing an import with its original."""

from __future__ import annotations

from typing import Any

from scalesim.spec.control import Rollout


def rollout_terms(rollout: Rollout) -> dict[str, Any]:
    """A rollout but for `to` and `at`, which no file says; an analysis that measures once
    by default (a step's, pre- or post-promotion) with its count filled in."""
    data = rollout.model_dump(exclude={"to", "at"})
    once = [step["analysis"] for step in data["steps"] if step["analysis"]] + \
        [data[name] for name in ("pre_promotion_analysis", "post_promotion_analysis")
         if data[name]]
    for analysis in once:
        analysis["count"] = analysis["count"] or 1
    return data
