"""Rules about `parallel` fan-outs: how long they wait and whether they can return less."""

from __future__ import annotations

import math
from collections.abc import Iterator

from scalesim.lint.context import Context
from scalesim.lint.estimates import pct
from scalesim.lint.finding import Hit
from scalesim.spec.errors import Path, counted
from scalesim.spec.model import Parallel, ParallelStep


def _fan_outs(ctx: Context) -> Iterator[tuple[str, Path, Parallel]]:
    """Every parallel step: (operation, path of its `parallel` key, the step)."""
    for cname, component in ctx.system.components.items():
        for oname, operation in component.effective_operations.items():
            for index, step in enumerate(operation.calls):
                if isinstance(step, ParallelStep):
                    path = ("components", cname, "operations", oname, "calls", index, "parallel")
                    yield f"{cname}.{oname}", path, step.parallel


def fan_out_without_timeout(ctx: Context) -> Iterator[Hit]:
    """SS301: synchronous branches with no timeout."""
    for op, path, parallel in _fan_outs(ctx):
        open_ended = [call.to for call in map(ctx.system.effective, parallel.calls)
                      if not call.async_ and not call.timeout]
        if open_ended:
            yield Hit(path,
                      f"fan-out in '{op}' (wait_for: {parallel.wait_for}) waits on "
                      f"{len(open_ended)} of "
                      f"{counted(len(parallel.calls), 'branch', 'branches')} with no timeout "
                      f"({', '.join(open_ended)}): the slowest of them sets the latency of "
                      "every request, a hung one holds it forever")


def fan_out_all_or_nothing(ctx: Context) -> Iterator[Hit]:
    """SS302: `wait_for: all` where no branch may fail without failing the request."""
    system = ctx.system
    for op, path, parallel in _fan_outs(ctx):
        branches = [call for call in parallel.calls if not call.async_]
        if parallel.wait_for != "all" or len(branches) < 2 or any(
                call.on_failure != "fail" for call in branches):
            continue
        success = math.prod(
            1.0 - ctx.operation(".".join(system.resolve(call.to))).error_rate
            for call in branches)
        odds = f" (with their error rates all succeed {pct(success)} of the time)" \
            if success < 1.0 else ""
        yield Hit((*path, "wait_for"),
                  f"fan-out in '{op}' needs all {counted(len(branches), 'branch', 'branches')} and "
                  "none has "
                  f"on_failure continue or a fallback: one failed branch fails the request{odds}")
