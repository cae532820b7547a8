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
