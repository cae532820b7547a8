"""A value a union field refuses is reported once, as the member the user meant: the one
that takes its type (a mapping is not the integer shorthand) and, among strings, the
pattern it starts as (p42 is a percentile, not a duration)."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text

SPEC = """\
scalesim: 1
name: x
components:
  api:
    operations: {get: {work: 1ms, calls: [{to: db.get, hedge: {after: AFTER}}]}}
  db:
    operations: {get: {work: 1ms}}
workloads: [{name: w, to: api.get, rate: 1/s, keys: KEYS}]
"""
HEDGE = "s.yaml:5:64: components.api.operations.get.calls[0].hedge.after: "


def issues_of(after: str = "p95", keys: str = "{count: 10}") -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.replace("AFTER", after).replace("KEYS", keys), "s.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_a_percentile_hedge_delay_out_of_the_list_is_one_percentile_problem() -> None:
    assert issues_of(after="p42") == [
        HEDGE + "String should match pattern '^p(50|75|90|95|99|999)$'"]


@pytest.mark.parametrize(("after", "message"), [
    ("5sec", "not a duration: '5sec'"),
    ("0s", "Input should be greater than 0"),
])
def test_a_duration_hedge_delay_is_one_duration_problem(after: str, message: str) -> None:
    [issue] = issues_of(after=after)
    assert issue.startswith(HEDGE + message), issue


def test_a_key_mapping_is_judged_as_a_mapping_only() -> None:
    """Not also "Input should be a valid integer" for the `keys: N` shorthand."""
    assert issues_of(keys="{count: 10, skew: -1}") == [
        "s.yaml:8:65: workloads[0].keys.skew: Input should be greater than or equal to 0"]


def test_a_value_no_member_takes_still_names_every_member() -> None:
    """A word where a count or a mapping belongs: neither member took it, so both say
    what they take."""
    messages = [issue.split(": ", 2)[2] for issue in issues_of(keys="many")]
    assert len(messages) == 2 and any("valid integer" in m for m in messages)
