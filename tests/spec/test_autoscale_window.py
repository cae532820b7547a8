"""An autoscaler's metrics window must fit its syncs; when the user never wrote `window`,
the error says it kept its default and which window fits."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text

SPEC = """\
scalesim: 1
name: x
components:
  api:
    autoscale: {max: 4, AUTOSCALE}
    operations: {get: {work: 1ms}}
workloads: [{name: w, to: api.get, rate: 1/s}]
"""


def issues_of(autoscale: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.replace("AUTOSCALE", autoscale), "s.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_a_sync_period_alone_names_the_default_window_and_the_fix() -> None:
    """15 s (the default window) is neither at most 10 s nor a multiple of it."""
    assert issues_of("sync_period: 10s") == [
        "s.yaml:5:25: components.api.autoscale.sync_period: 'window' (15s) must be at most "
        "'sync_period' (10s) or a whole multiple of it, and 'window' was left at its default "
        "(metrics-server's resolution): set window: 10s (or a whole multiple of it)"]


def test_a_window_written_is_reported_at_itself() -> None:
    assert issues_of("window: 20s") == [
        "s.yaml:5:25: components.api.autoscale.window: 'window' (20s) must be at most "
        "'sync_period' (15s) or a whole multiple of it"]


@pytest.mark.parametrize("fits", ["sync_period: 10s, window: 10s",
                                  "sync_period: 10s, window: 20s", "sync_period: 5s"])
def test_the_suggested_windows_load(fits: str) -> None:
    """The fix the message suggests, a multiple, and a sync_period the default divides."""
    autoscale = load_spec_text(SPEC.replace("AUTOSCALE", fits)).components["api"].autoscale
    assert autoscale is not None
    assert autoscale.window <= autoscale.sync_period or \
        (autoscale.window / autoscale.sync_period).is_integer()
