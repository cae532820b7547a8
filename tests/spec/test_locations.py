"""Validation errors name the place in the file once: the path a person follows to the
field, without parts that only pydantic's union tags add."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text

SAGA_TWO_PIVOTS = """\
scalesim: 1
name: saga
components:
  orders:
    workers: unlimited
    operations:
      place:
        work: 1ms
        calls:
          - saga:
              policy: none
              steps:
                - {name: charge, to: payments.charge, compensate: payments.refund}
                - {name: ship, to: shipping.schedule, pivot: true}
                - {name: again, to: shipping.schedule, pivot: true}
  payments: {workers: unlimited, operations: {charge: {work: 20ms}, refund: {work: 4ms}}}
  shipping: {workers: unlimited, operations: {schedule: {work: 30ms}}}
workloads:
  - {name: w, to: orders.place, rate: 10/s}
simulation: {duration: 1s}
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "s.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_a_saga_error_names_the_saga_once() -> None:
    assert issues_of(SAGA_TWO_PIVOTS) == [
        "s.yaml:10:13: components.orders.operations.place.calls[0].saga: "
        "a saga has at most one pivot step"]


def test_a_missing_saga_field_is_still_named() -> None:
    text = SAGA_TWO_PIVOTS.replace("              steps:", "              stages:")
    assert "components.orders.operations.place.calls[0].saga.steps: required field is " \
        "missing" in "\n".join(issues_of(text))


def test_a_missing_top_level_field_is_still_named() -> None:
    text = SAGA_TWO_PIVOTS.replace("name: saga\n", "")
    assert "s.yaml:1:1: name: required field is missing" in issues_of(text)


def test_each_saga_step_problem_is_at_its_field() -> None:
    """Every offending field of every step, at its own line, and the saga's own problems
    at the saga: before, only the first step's was reported, at the saga's line."""
    text = SAGA_TWO_PIVOTS.replace(
        "compensate: payments.refund}", "compensate: payments.refund, async: true}").replace(
        "{name: ship, to: shipping.schedule, pivot: true}",
        "{name: ship, to: shipping.schedule, pivot: true,\n"
        "                   probability: 0.5, on_failure: continue}")
    saga = "components.orders.operations.place.calls[0].saga"
    plain = "a saga step is a plain call: remove '{}' (a step takes no 'async', " \
        "'probability', 'on_failure' or 'outbox')"
    assert issues_of(text) == [
        f"s.yaml:10:13: {saga}: a saga has at most one pivot step",
        f"s.yaml:13:84: {saga}.steps[0].async: step 0 (charge): " + plain.format("async"),
        f"s.yaml:15:20: {saga}.steps[1].probability: step 1 (ship): "
        + plain.format("probability"),
        f"s.yaml:15:38: {saga}.steps[1].on_failure: step 1 (ship): "
        + plain.format("on_failure")]


PARALLEL = SAGA_TWO_PIVOTS.split("        calls:\n")[0] + """\
        calls:
          - {parallel: {calls: [{to: payments.charge}]}, timeout: 1s}
  payments: {workers: unlimited, operations: {charge: {work: 20ms}}}
workloads:
  - {name: w, to: orders.place, rate: 10/s}
simulation: {duration: 1s}
"""


def test_a_call_field_beside_parallel_is_named_with_where_it_goes() -> None:
    """The field at fault was not named: the location's union tag `parallel` was taken for
    the key beside it ("unknown field 'parallel' (did you mean 'parallel'?)")."""
    assert issues_of(PARALLEL) == [
        "s.yaml:10:58: components.orders.operations.place.calls[0].timeout: unknown field "
        "'timeout': a parallel step has only 'parallel'; a call's 'timeout' goes inside it, "
        "on each of its calls (parallel.calls[N].timeout)"]


def _beside_saga(field: str) -> list[str]:
    return issues_of(SAGA_TWO_PIVOTS.replace("          - saga:\n", f"          - {field}\n"
                                             "            saga:\n"))


def test_a_call_field_beside_saga_is_named_with_where_it_goes() -> None:
    assert "s.yaml:10:13: components.orders.operations.place.calls[0].timeout: unknown " \
        "field 'timeout': a saga step has only 'saga'; a call's 'timeout' goes inside it, on " \
        "each of its steps (saga.steps[N].timeout)" in _beside_saga("timeout: 1s")


def test_a_field_a_saga_step_refuses_is_not_sent_inside_it() -> None:
    """A saga's steps are plain calls: sending `async` into them only moved the refusal."""
    assert "s.yaml:10:13: components.orders.operations.place.calls[0].async: unknown field " \
        "'async': a saga step has only 'saga', and its steps are plain calls: a saga takes " \
        "no 'async'" in _beside_saga("async: true")


def test_a_sagas_own_field_beside_it_is_sent_into_it() -> None:
    assert "s.yaml:10:13: components.orders.operations.place.calls[0].via: unknown field " \
        "'via': a saga step has only 'saga'; 'via' is the saga's own, inside it (saga.via)" \
        in _beside_saga("via: events")



def test_a_field_missing_below_a_call_is_not_taken_for_the_calls_own() -> None:
    """`to` missing in a step's `compensate` is there, not at the step's own `to`."""
    text = SAGA_TWO_PIVOTS.replace("compensate: payments.refund", "compensate: {timeout: 1s}")
    assert "s.yaml:13:55: components.orders.operations.place.calls[0].saga.steps[0]." \
        "compensate.to: required field is missing" in issues_of(text)
