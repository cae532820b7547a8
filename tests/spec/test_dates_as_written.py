"""A YAML 1.1 date or time is read as the text written (docs/spec.md): no field takes a
date, and a message about one showed Python's `datetime.date(2001, 12, 14)`."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text

SPEC = """\
scalesim: 1
name: demo
description: {description}
components:
  api:
    operations: {{get: {{work: 1ms}}}}
workloads: [{{name: w, to: api.get, rate: 10/s}}]
faults: [{{target: api, at: {at}, for: 1s, crash: true}}]
"""


@pytest.mark.parametrize("written", ["2001-12-14", "2001-12-14 21:59:43.10 -5",
                                     "2001-12-14t21:59:43.10-05:00"])
def test_a_date_where_a_duration_goes_is_shown_as_written(written: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.format(description="d", at=written), "s.yaml")
    [issue] = caught.value.issues
    assert (issue.line, issue.path) == (8, "faults[0].at")
    assert issue.message.startswith(f"not a duration: '{written}'; use a number and a unit")


def test_a_date_is_text_where_text_goes() -> None:
    system = load_spec_text(SPEC.format(description="2001-12-14", at="1s"))
    assert system.description == "2001-12-14"


def test_an_override_reads_a_date_as_written_too() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.format(description="d", at="1s"), "s.yaml",
                       ["faults.0.at=2001-12-14"])
    [issue] = caught.value.issues
    assert issue.file == "--set #1" and "'2001-12-14'" in issue.message
