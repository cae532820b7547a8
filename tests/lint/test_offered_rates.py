"""Lint's offered rates (lint/estimates.py) come from one pass in call order when calls,
async calls and queue deliveries make no loop, the same numbers, in the same order, as the
rounds of substitution that still serve graphs with a loop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scalesim.lint import estimates
from scalesim.lint.config import LintConfig
from scalesim.lint.context import Context
from scalesim.spec import System, load_spec
from scalesim.templates import TEMPLATES
from scalesim.templates.run import load_built

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
SPECS = [(p.stem, lambda p=p: load_spec(p)) for p in EXAMPLES] + \
    [(t.id, lambda t=t: load_built(t.build(None))) for t in TEMPLATES]


@pytest.mark.parametrize(("name", "make"), SPECS, ids=[name for name, _ in SPECS])
def test_one_pass_gives_the_rounds_rates_to_the_bit(name: str, make: Callable[[], System],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    context = Context.of(make(), LintConfig())
    one_pass = estimates._offered_rates(context, 1000)
    monkeypatch.setattr(estimates, "_in_call_order", lambda *_: None)
    rounds = estimates._offered_rates(context, 1000)
    assert one_pass is not None and rounds is not None
    assert list(one_pass.items()) == list(rounds.items())


def test_a_loop_is_left_to_the_rounds() -> None:
    """a.x calls b.y asynchronously and b.y calls a.x back: no order, so no one pass."""
    assert estimates._in_call_order({"a.x": 1.0}, [("a.x", "b.y", 0.5), ("b.y", "a.x", 0.5)]) \
        is None


def test_a_chain_is_summed_level_by_level() -> None:
    flows = [(f"s{i}.op", f"s{i + 1}.op", 0.5) for i in range(999)]
    rates = estimates._in_call_order({"s0.op": 8.0}, flows)
    assert rates is not None and rates["s3.op"] == 1.0 and rates["s999.op"] == 8.0 * 0.5**999
